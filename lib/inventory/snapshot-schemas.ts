/**
 * What a snapshot directory holds: the files' paths, the zod schemas of the fields the core reads
 * (loose objects: everything else AWS prints passes through), `failed-reads.json`, and the
 * {@link SnapshotError} that names a file and field lacking them. Layout and error rules:
 * docs/snapshots.md, "The snapshot files".
 */
import * as z from 'zod';
import { problemList, zodProblems } from '../errors';
import { EKS_NAME_PATTERN, READ_OPERATION } from '../names';

/** Paths of the snapshot files, relative to the snapshot directory (always with `/`). */
export const snapshotPaths = {
  meta: 'meta.json',
  listClusters: 'eks/list-clusters.json',
  describeCluster: (cluster: string): string => `eks/clusters/${cluster}/describe-cluster.json`,
  nodegroupsDir: (cluster: string): string => `eks/clusters/${cluster}/nodegroups`,
  nodegroup: (cluster: string, nodegroup: string): string => `eks/clusters/${cluster}/nodegroups/${nodegroup}.json`,
  vpcCniAddon: (cluster: string): string => `eks/clusters/${cluster}/addon-vpc-cni.json`,
  subnets: 'ec2/describe-subnets.json',
  networkInterfaces: 'ec2/describe-network-interfaces.json',
  instances: 'ec2/describe-instances.json',
  instanceTypes: 'ec2/describe-instance-types.json',
  /**
   * Optional: `aws ec2 get-subnet-cidr-reservations --subnet-id <id>` answers, one page or an array
   * of pages (one per subnet). Absent (a snapshot made before it was read): no reservations.
   */
  subnetCidrReservations: 'ec2/get-subnet-cidr-reservations.json',
  failedReads: 'failed-reads.json',
  // The network preflight's reads (each file optional: a piece the snapshot lacks is not known).
  vpcs: 'ec2/describe-vpcs.json',
  vpcAttribute: (vpcId: string, attribute: 'enableDnsSupport' | 'enableDnsHostnames'): string => `ec2/vpcs/${vpcId}/describe-vpc-attribute-${attribute}.json`,
  dhcpOptions: 'ec2/describe-dhcp-options.json',
  routeTables: 'ec2/describe-route-tables.json',
  vpcEndpoints: 'ec2/describe-vpc-endpoints.json',
  securityGroups: 'ec2/describe-security-groups.json',
} as const;

/** One thing wrong in a snapshot file. */
export interface SnapshotIssue {
  /** The field, as a path from the top of the file (`Subnets[3].AvailableIpAddressCount`); absent when the whole file is at fault. */
  field?: string;
  /** What is wrong with it. */
  detail: string;
}

/** A snapshot file is missing, is not JSON, or does not have the shape the AWS CLI prints. */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
  /** The file, relative to the snapshot directory (`ec2/describe-subnets.json`). */
  readonly file: string;
  /** Everything found wrong in the file (the message shows the first few). */
  readonly issues: SnapshotIssue[];

  constructor(file: string, issues: SnapshotIssue | SnapshotIssue[], options?: { cause?: unknown }) {
    const list = Array.isArray(issues) ? issues : [issues];
    super(`${file}: ${problemList(list.map((i) => ({ field: i.field, problem: i.detail })))}`, options);
    this.file = file;
    this.issues = list;
  }

  /** The first offending field, if the error is about a field. */
  get field(): string | undefined {
    return this.issues[0]?.field;
  }
}

/** A zod error's issues as the issues of a snapshot file, the fields under `prefix`. */
export function snapshotIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): SnapshotIssue[] {
  return zodProblems(error, { prefix }).map((p) => ({ field: p.field, detail: p.problem }));
}

// ---------------------------------------------------------------------------------------------
// Schemas: the fields the core reads. Loose objects, so that everything else AWS prints passes
// through untouched and the core sees the full AWS shape.

const ec2Tag = z.looseObject({ Key: z.string().optional(), Value: z.string().optional() });

export const subnetSchema = z.looseObject({
  SubnetId: z.string(),
  VpcId: z.string(),
  AvailabilityZone: z.string(),
  AvailabilityZoneId: z.string().optional(),
  CidrBlock: z.string(),
  AvailableIpAddressCount: z.number().int().nonnegative(),
  Tags: z.array(ec2Tag).optional(),
});

export const networkInterfaceSchema = z.looseObject({
  NetworkInterfaceId: z.string(),
  SubnetId: z.string(),
  VpcId: z.string().optional(),
  Description: z.string().optional(),
  InterfaceType: z.string().optional(),
  RequesterId: z.string().optional(),
  RequesterManaged: z.boolean().optional(),
  Status: z.string().optional(),
  PrivateIpAddresses: z.array(z.looseObject({ PrivateIpAddress: z.string(), Primary: z.boolean() })),
  Ipv4Prefixes: z.array(z.looseObject({ Ipv4Prefix: z.string() })).optional(),
  Attachment: z
    .looseObject({
      InstanceId: z.string().optional(),
      DeviceIndex: z.number().int().optional(),
      NetworkCardIndex: z.number().int().optional(),
      InstanceOwnerId: z.string().optional(),
    })
    .optional(),
  TagSet: z.array(ec2Tag).optional(),
});

export const instanceSchema = z.looseObject({
  InstanceId: z.string(),
  InstanceType: z.string(),
  // Optional because AWS omits it on terminated instances, which describe-instances still lists
  // for about an hour; a pending or running instance without one is rejected below.
  SubnetId: z.string().optional(),
  PrivateIpAddress: z.string().optional(),
  State: z.looseObject({ Name: z.string() }),
  Tags: z.array(ec2Tag).optional(),
  // The collector learns the subnets of every node ENI from here.
  NetworkInterfaces: z
    .array(
      z.looseObject({
        NetworkInterfaceId: z.string(),
        SubnetId: z.string(),
        Attachment: z
          .looseObject({ DeviceIndex: z.number().int().optional(), NetworkCardIndex: z.number().int().optional() })
          .optional(),
      }),
    )
    .optional(),
});

/** A subnet CIDR reservation as GetSubnetCidrReservations prints it (SubnetIpv4CidrReservations[]). */
export const subnetCidrReservationSchema = z.looseObject({
  SubnetCidrReservationId: z.string(),
  SubnetId: z.string(),
  Cidr: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'expected an IPv4 CIDR block'),
  ReservationType: z.enum(['prefix', 'explicit']),
  Description: z.string().optional(),
  Tags: z.array(ec2Tag).optional(),
});

export const instanceTypeInfoSchema = z.looseObject({
  InstanceType: z.string(),
  NetworkInfo: z.looseObject({
    MaximumNetworkInterfaces: z.number().int().positive(),
    Ipv4AddressesPerInterface: z.number().int().positive(),
  }),
});

const clusterSchema = z.looseObject({
  name: z.string(),
  arn: z.string().optional(),
  version: z.string().optional(),
  status: z.string().optional(),
  resourcesVpcConfig: z.looseObject({
    subnetIds: z.array(z.string()),
    // Optional as the SDK types say: the collector then takes the VPC from the cluster subnets and
    // reports the cluster incomplete, live and in replay alike.
    vpcId: z.string().optional(),
    endpointPublicAccess: z.boolean().optional(),
    endpointPrivateAccess: z.boolean().optional(),
  }),
  tags: z.record(z.string(), z.string()).optional(),
});

const nodegroupSchema = z.looseObject({
  nodegroupName: z.string(),
  clusterName: z.string(),
  status: z.string().optional(),
  subnets: z.array(z.string()),
  instanceTypes: z.array(z.string()).optional(),
  scalingConfig: z
    .looseObject({
      minSize: z.number().int().optional(),
      maxSize: z.number().int().optional(),
      desiredSize: z.number().int().optional(),
    })
    .optional(),
  amiType: z.string().optional(),
  capacityType: z.string().optional(),
  launchTemplate: z
    .looseObject({ name: z.string().optional(), version: z.string().optional(), id: z.string().optional() })
    .optional(),
  labels: z.record(z.string(), z.string()).optional(),
  taints: z
    .array(z.looseObject({ key: z.string().optional(), value: z.string().optional(), effect: z.string().optional() }))
    .optional(),
  nodeRole: z.string().optional(),
  resources: z
    .looseObject({ autoScalingGroups: z.array(z.looseObject({ name: z.string().optional() })).optional() })
    .optional(),
});

const addonSchema = z.looseObject({
  addonName: z.string(),
  addonVersion: z.string().optional(),
  status: z.string().optional(),
  // A JSON document in a string, as EKS returns it; the collector parses it.
  configurationValues: z.string().optional(),
});

export const metaSchema = z.looseObject({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region name such as eu-west-1').optional(),
  capturedAt: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO-8601 date-time')
    .optional(),
});

export const listClustersSchema = z.looseObject({
  clusters: z.array(z.string().regex(EKS_NAME_PATTERN, 'expected an EKS cluster name')),
});
export const describeClusterSchema = z.looseObject({ cluster: clusterSchema });
export const describeNodegroupSchema = z.looseObject({ nodegroup: nodegroupSchema });
export const describeAddonSchema = z.looseObject({ addon: addonSchema });
// The pages of the ec2 files are checked for their structure only; each record is checked on its
// own (`recordsOf`), so that one bad record spoils only the reads that need it.
export const subnetsPageSchema = z.looseObject({ Subnets: z.array(z.unknown()) });
export const networkInterfacesPageSchema = z.looseObject({ NetworkInterfaces: z.array(z.unknown()) });
export const instancesPageSchema = z.looseObject({
  Reservations: z.array(z.looseObject({ Instances: z.array(z.unknown()) })),
});
export const instanceTypesPageSchema = z.looseObject({ InstanceTypes: z.array(z.unknown()) });
export const subnetCidrReservationsPageSchema = z.looseObject({ SubnetIpv4CidrReservations: z.array(z.unknown()) });

// The network preflight's files: the fields network-preflight.ts reads, everything else passes through.
const vpcIdPattern = /^vpc-[0-9a-f]+$/;
export const vpcsPageSchema = z.looseObject({ Vpcs: z.array(z.looseObject({ VpcId: z.string(), DhcpOptionsId: z.string().optional() })) });
export const vpcAttributeSchema = z.looseObject({
  VpcId: z.string(),
  EnableDnsSupport: z.looseObject({ Value: z.boolean() }).optional(),
  EnableDnsHostnames: z.looseObject({ Value: z.boolean() }).optional(),
});
export const dhcpOptionsPageSchema = z.looseObject({
  DhcpOptions: z.array(
    z.looseObject({
      DhcpOptionsId: z.string(),
      DhcpConfigurations: z.array(z.looseObject({ Key: z.string(), Values: z.array(z.looseObject({ Value: z.string() })) })).optional(),
    }),
  ),
});
export const routeTablesPageSchema = z.looseObject({
  RouteTables: z.array(
    z.looseObject({
      RouteTableId: z.string(),
      VpcId: z.string(),
      Associations: z.array(z.looseObject({ Main: z.boolean().optional(), SubnetId: z.string().optional() })).optional(),
      Routes: z.array(z.looseObject({ DestinationCidrBlock: z.string().optional(), State: z.string().optional() })).optional(),
    }),
  ),
});
export const vpcEndpointsPageSchema = z.looseObject({
  VpcEndpoints: z.array(
    z.looseObject({
      VpcEndpointId: z.string(),
      VpcId: z.string(),
      ServiceName: z.string(),
      VpcEndpointType: z.string().optional(),
      State: z.string().optional(),
      PrivateDnsEnabled: z.boolean().optional(),
      RouteTableIds: z.array(z.string()).optional(),
      Groups: z.array(z.looseObject({ GroupId: z.string() })).optional(),
    }),
  ),
});
export const securityGroupsPageSchema = z.looseObject({
  SecurityGroups: z.array(z.looseObject({ GroupId: z.string(), VpcId: z.string().optional(), IpPermissions: z.array(z.looseObject({ IpProtocol: z.string() })).optional() })),
});
/** A VPC id that may be part of a snapshot path (`ec2/vpcs/<vpcId>/…`). */
export const VPC_ID_PATTERN = vpcIdPattern;

/** The reads a failed read of `failed-reads.json` may name, and the request each takes. */
const failedReadSchema = z.discriminatedUnion('call', [
  z.looseObject({ call: z.literal(READ_OPERATION.describeCluster), request: z.looseObject({ name: z.string() }) }),
  z.looseObject({
    call: z.enum([READ_OPERATION.describeNodegroups, READ_OPERATION.describeVpcCniAddon, READ_OPERATION.describeClusterInstances]),
    request: z.looseObject({ clusterName: z.string() }),
  }),
  z.looseObject({
    call: z.literal(READ_OPERATION.describeSubnetsById),
    request: z.union([z.looseObject({ subnetIds: z.array(z.string()) }), z.looseObject({ vpcId: z.string(), tagKey: z.string() })]),
  }),
  z.looseObject({ call: z.literal(READ_OPERATION.describeNetworkInterfaces), request: z.looseObject({ subnetIds: z.array(z.string()) }) }),
  z.looseObject({ call: z.literal(READ_OPERATION.describeInstanceTypes), request: z.looseObject({ instanceTypes: z.array(z.string()) }) }),
  z.looseObject({ call: z.literal(READ_OPERATION.describeVpcNetwork), request: z.looseObject({ vpcId: z.string() }) }),
  z.looseObject({ call: z.literal(READ_OPERATION.getSubnetCidrReservations), request: z.looseObject({ subnetIds: z.array(z.string()) }) }),
]);
const failedReadErrorSchema = z.looseObject({
  operation: z.string().optional(),
  code: z.string().optional(),
  message: z.string(),
  unread: z.array(z.string()).optional(),
});
export const failedReadsSchema = z.looseObject({
  failedReads: z.array(z.intersection(failedReadSchema, z.looseObject({ error: failedReadErrorSchema }))).optional(),
  unknownInstanceTypes: z.array(z.string()).optional(),
});

/**
 * A read that failed when the snapshot was captured, as `failed-reads.json` holds it: the read
 * (`call`, the AWS operation; `request`, what it asked for) and the error it got. Replaying the
 * snapshot, the same read fails with the same error; with `error.unread`, it answered in part
 * (the answer is in the other files) and `unread` names what it could not read.
 */
export interface FailedRead {
  call: string;
  request: Record<string, string | string[]>;
  error: { operation?: string; code?: string; message: string; unread?: string[] };
}

/** `failed-reads.json`: the failed reads, and the instance types DescribeInstanceTypes did not know. */
export interface FailedReadsFile {
  failedReads?: FailedRead[];
  /** DescribeInstanceTypes answered InvalidInstanceType for these: unknown in replay too, not taken from the bundled data. */
  unknownInstanceTypes?: string[];
}

/** A request with its arrays sorted and deduplicated, as one string: two equal requests give the same key. */
export function requestKey(call: string, request: Record<string, unknown>): string {
  const canonical = Object.keys(request)
    .sort()
    .map((k) => {
      const v = request[k];
      return [k, Array.isArray(v) ? [...new Set(v.map(String))].sort() : v];
    });
  return JSON.stringify([call, canonical]);
}

