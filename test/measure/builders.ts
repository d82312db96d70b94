/**
 * Small hand-built inventories in the shapes `aws ec2 describe-*` and `aws eks describe-*` print,
 * for the measure, publish and report tests. Only the fields the AWS answers really carry; every
 * value is spelled out by the test that uses it, so a figure in an assertion can be checked by hand.
 */
import type { InstanceTypeInfo, NetworkInterfaceType } from '@aws-sdk/client-ec2';
import { knownInstanceTypes } from '../../lib/capacity/known-instance-types';
import type {
  ClusterInventory,
  CniInstall,
  Instance,
  NetworkInterface,
  Nodegroup,
  Subnet,
  SubnetRole,
} from '../../lib/inventory/types';

export const REGION = 'eu-west-1';
export const ACCOUNT = '111122223333';
/** The account EKS's control-plane ENIs are attached from (InstanceOwnerId of `Amazon EKS <cluster>` ENIs). */
const EKS_OWNER = '602401143452';
export const VPC = 'vpc-05cb6340ff1bbcd88';

let eniSeq = 0;
const nextEniId = (): string => `eni-0${(0x1000000 + ++eniSeq).toString(16)}a1b2c3d4`;

/** A subnet as DescribeSubnets returns it. */
export function subnet(id: string, cidr: string, az: string, available: number): Subnet {
  return {
    SubnetId: id,
    VpcId: VPC,
    CidrBlock: cidr,
    AvailabilityZone: az,
    AvailabilityZoneId: `euw1-az${az.endsWith('a') ? 1 : az.endsWith('b') ? 2 : 3}`,
    AvailableIpAddressCount: available,
    State: 'available',
    OwnerId: ACCOUNT,
    MapPublicIpOnLaunch: false,
    DefaultForAz: false,
  };
}

/** `count` addresses of a /24 from host number `from`: `10.0.1.{from}`, ... */
export function addresses(base: string, from: number, count: number): string[] {
  const prefix = base.split('.').slice(0, 3).join('.');
  return Array.from({ length: count }, (_, i) => `${prefix}.${from + i}`);
}

interface EniOptions {
  subnetId: string;
  az: string;
  description?: string;
  interfaceType?: string;
  /** The ENI's addresses, the first being its primary. */
  ips: string[];
  prefixes?: string[];
  instanceId?: string;
  deviceIndex?: number;
  networkCardIndex?: number;
  requesterManaged?: boolean;
  requesterId?: string;
  instanceOwnerId?: string;
  tags?: { Key: string; Value: string }[];
  status?: 'in-use' | 'available';
}

/** An ENI as DescribeNetworkInterfaces returns it. */
export function eni(o: EniOptions): NetworkInterface {
  const id = nextEniId();
  const [primary] = o.ips;
  const attached = o.instanceId !== undefined || o.instanceOwnerId !== undefined;
  return {
    AvailabilityZone: o.az,
    Description: o.description ?? '',
    Groups: [],
    InterfaceType: (o.interfaceType ?? 'interface') as NetworkInterfaceType,
    Ipv6Addresses: [],
    NetworkInterfaceId: id,
    OwnerId: ACCOUNT,
    PrivateIpAddress: primary,
    RequesterManaged: o.requesterManaged ?? false,
    ...(o.requesterId ? { RequesterId: o.requesterId } : {}),
    SourceDestCheck: true,
    Status: o.status ?? 'in-use',
    SubnetId: o.subnetId,
    TagSet: o.tags ?? [],
    VpcId: VPC,
    ...(attached
      ? {
          Attachment: {
            AttachmentId: `eni-attach-${id.slice(4)}`,
            DeleteOnTermination: o.instanceId !== undefined,
            DeviceIndex: o.deviceIndex ?? 1,
            NetworkCardIndex: o.networkCardIndex ?? 0,
            Status: 'attached',
            ...(o.instanceId ? { InstanceId: o.instanceId } : {}),
            InstanceOwnerId: o.instanceOwnerId ?? ACCOUNT,
          },
        }
      : {}),
    PrivateIpAddresses: o.ips.map((ip, i) => ({ Primary: i === 0, PrivateIpAddress: ip })),
    ...(o.prefixes ? { Ipv4Prefixes: o.prefixes.map((p) => ({ Ipv4Prefix: p })) } : {}),
  };
}

/** A node's primary ENI (device 0, no description). */
export function nodePrimaryEni(instanceId: string, subnetId: string, az: string, ips: string[], prefixes?: string[]): NetworkInterface {
  return eni({ subnetId, az, instanceId, deviceIndex: 0, ips, prefixes });
}

/** An ENI the VPC CNI created and attached: described `aws-K8S-<instance-id>` and tagged with it. */
export function cniEni(
  instanceId: string,
  subnetId: string,
  az: string,
  ips: string[],
  opts: { deviceIndex?: number; networkCardIndex?: number; prefixes?: string[]; attached?: boolean } = {},
): NetworkInterface {
  return eni({
    subnetId,
    az,
    description: `aws-K8S-${instanceId}`,
    instanceId: opts.attached === false ? undefined : instanceId,
    deviceIndex: opts.deviceIndex ?? 1,
    networkCardIndex: opts.networkCardIndex,
    ips,
    prefixes: opts.prefixes,
    status: opts.attached === false ? 'available' : 'in-use',
    tags: [
      { Key: 'node.k8s.amazonaws.com/instance_id', Value: instanceId },
      { Key: 'node.k8s.amazonaws.com/createdAt', Value: '2026-11-01T00:00:00.000Z' },
    ],
  });
}

/** An EKS control-plane ENI: `Amazon EKS <cluster>`, requester-managed, attached from EKS's account. */
export function controlPlaneEni(cluster: string, subnetId: string, az: string, ip: string): NetworkInterface {
  return eni({
    subnetId,
    az,
    description: `Amazon EKS ${cluster}`,
    ips: [ip],
    requesterManaged: true,
    requesterId: EKS_OWNER,
    instanceOwnerId: EKS_OWNER,
  });
}

export function natGatewayEni(subnetId: string, az: string, ip: string): NetworkInterface {
  return eni({
    subnetId,
    az,
    description: 'Interface for NAT Gateway nat-06670060078125a54',
    interfaceType: 'nat_gateway',
    ips: [ip],
    requesterManaged: true,
    requesterId: 'AROAEXAMPLENATGATEWAY',
    instanceOwnerId: 'amazon-aws',
  });
}

export function loadBalancerEni(subnetId: string, az: string, ip: string): NetworkInterface {
  return eni({
    subnetId,
    az,
    description: 'ELB app/k8s-payments-ingress-2027d3f7fa/403c69f4ebeb70df',
    ips: [ip],
    requesterManaged: true,
    requesterId: 'amazon-elb',
    instanceOwnerId: 'amazon-elb',
  });
}

/** A branch ENI of security groups for pods: the VPC resource controller's, not attached in EC2's sense. */
export function branchEni(subnetId: string, az: string, ip: string): NetworkInterface {
  return eni({
    subnetId,
    az,
    description: 'aws-k8s-branch-eni',
    interfaceType: 'branch',
    ips: [ip],
    tags: [
      { Key: 'eks:eni:owner', Value: 'eks-vpc-resource-controller' },
      { Key: 'vpcresources.k8s.aws/trunk-eni-id', Value: 'eni-0trunk000000000001' },
    ],
  });
}

/** A running node as DescribeInstances returns it. */
export function instance(
  instanceId: string,
  instanceType: string,
  subnetId: string,
  az: string,
  tags: Record<string, string>,
): Instance {
  return {
    InstanceId: instanceId,
    InstanceType: instanceType as Instance['InstanceType'],
    SubnetId: subnetId,
    VpcId: VPC,
    Placement: { AvailabilityZone: az, Tenancy: 'default' },
    State: { Code: 16, Name: 'running' },
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  };
}

/** The tags a managed nodegroup puts on its instances. */
export const managedTags = (cluster: string, nodegroup: string): Record<string, string> => ({
  'eks:cluster-name': cluster,
  'eks:nodegroup-name': nodegroup,
  [`kubernetes.io/cluster/${cluster}`]: 'owned',
  'aws:autoscaling:groupName': `eks-${nodegroup}-28c5a1b2-0000-0000-0000-000000000000`,
});

/** A managed nodegroup as DescribeNodegroup returns it. */
export function nodegroup(cluster: string, name: string, instanceTypes: string[], subnets: string[], desiredSize: number): Nodegroup {
  return {
    nodegroupName: name,
    clusterName: cluster,
    status: 'ACTIVE',
    capacityType: 'ON_DEMAND',
    instanceTypes,
    subnets,
    scalingConfig: { minSize: 0, maxSize: 10, desiredSize },
  };
}

/** The managed vpc-cni add-on with a configurationValues document. */
export function managedCni(env?: Record<string, unknown>, addonVersion = 'v1.19.2-eksbuild.1'): Extract<CniInstall, { kind: 'managed' }> {
  const configurationValues = env ? { env } : {};
  return {
    kind: 'managed',
    addon: {
      addonName: 'vpc-cni',
      clusterName: 'prod',
      status: 'ACTIVE',
      addonVersion,
      ...(env ? { configurationValues: JSON.stringify(configurationValues) } : {}),
    },
    configurationValues,
  };
}

/** A cluster inventory; `subnets` pairs each subnet with its roles. */
export function clusterInventory(o: {
  name: string;
  subnets: [Subnet, SubnetRole[]][];
  clusterSubnetIds?: string[];
  networkInterfaces?: NetworkInterface[];
  instances?: Instance[];
  nodegroups?: Nodegroup[];
  cni?: CniInstall;
}): ClusterInventory {
  const clusterSubnetIds =
    o.clusterSubnetIds ?? o.subnets.filter(([, roles]) => roles.includes('cluster')).map(([s]) => s.SubnetId ?? '');
  return {
    name: o.name,
    cluster: {
      name: o.name,
      arn: `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${o.name}`,
      version: '1.31',
      status: 'ACTIVE',
      resourcesVpcConfig: { vpcId: VPC, subnetIds: clusterSubnetIds, endpointPrivateAccess: true, endpointPublicAccess: false },
      kubernetesNetworkConfig: { ipFamily: 'ipv4', serviceIpv4Cidr: '172.20.0.0/16' },
    },
    nodegroups: o.nodegroups ?? [],
    cni: o.cni ?? managedCni(),
    subnets: o.subnets.map(([s]) => s),
    subnetRoles: Object.fromEntries(o.subnets.map(([s, roles]) => [s.SubnetId ?? '', roles])),
    networkInterfaces: o.networkInterfaces ?? [],
    instances: o.instances ?? [],
    problems: [],
  };
}

/** InstanceTypeInfo of the named types, from the bundled DescribeInstanceTypes data. */
export function instanceTypes(...names: string[]): Record<string, InstanceTypeInfo> {
  const out: Record<string, InstanceTypeInfo> = {};
  for (const name of names) {
    const info = knownInstanceTypes().get(name);
    if (!info) throw new Error(`${name} is not in the bundled instance-type data`);
    out[name] = info;
  }
  return out;
}
