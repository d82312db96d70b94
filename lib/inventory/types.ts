/**
 * The inventory: plain data in the AWS APIs' own shapes, one entry per cluster.
 *
 * Both sources fill it the same way (see `collect.ts`): the live account through the
 * adapters in `lib/aws/`, and a snapshot directory of JSON files shaped like the AWS CLI's
 * output (`lib/inventory/snapshot.ts`). Everything downstream (measure, report, publish) reads
 * only this.
 */
import type { Addon, Cluster, Nodegroup } from '@aws-sdk/client-eks';
import type { Instance, InstanceTypeInfo, NetworkInterface, Subnet, SubnetCidrReservation } from '@aws-sdk/client-ec2';
import type { DhcpOptions, RouteTable, SecurityGroup, Vpc, VpcEndpoint } from '@aws-sdk/client-ec2';

export type { Addon, Cluster, Nodegroup, Instance, InstanceTypeInfo, NetworkInterface, Subnet, SubnetCidrReservation };
export type { DhcpOptions, RouteTable, SecurityGroup, Vpc, VpcEndpoint };
import type { KubeClusterView, KubernetesReader } from './kube-types';

/** Why a subnet is part of a cluster's inventory. A subnet may have several roles. */
export type SubnetRole =
  /** In the cluster's `resourcesVpcConfig.subnetIds`: EKS places control-plane ENIs here. */
  | 'cluster'
  /** In a managed nodegroup's `subnets`, or the subnet of a node that belongs to the cluster. */
  | 'node'
  /** Tagged `kubernetes.io/role/cni` in the cluster's VPC: the VPC CNI (1.18+) may place pod ENIs here. */
  | 'cni-discovery';

/** How the VPC CNI is installed on the cluster. */
export type CniInstall =
  /** The managed `vpc-cni` add-on; `configurationValues` is its parsed JSON document (`{}` when unset). */
  | { kind: 'managed'; addon: Addon; configurationValues: Record<string, unknown> }
  /** DescribeAddon answered ResourceNotFoundException: aws-node is self-managed, its env is not visible to the AWS API. */
  | { kind: 'self-managed' }
  /** The add-on could not be read (AccessDenied, a malformed configurationValues document, ...). */
  | { kind: 'unknown'; reason: string };

/**
 * The part of a cluster's inventory a read fills, and so the figures that rest on it:
 * - `subnets`: DescribeSubnets (free addresses, usable, the control plane's headroom);
 * - `cni-discovery`: DescribeSubnets by the `kubernetes.io/role/cni` tag (which subnets the CNI may use);
 * - `network-interfaces`: DescribeNetworkInterfaces (who holds the used addresses, node ENIs and pod IPs);
 * - `instances`: DescribeInstances (the nodes, and which ENIs are theirs);
 * - `instance-types`: DescribeInstanceTypes (node limits, max pods);
 * - `nodegroups`: ListNodegroups / DescribeNodegroup (the managed nodegroups);
 * - `cni`: DescribeAddon vpc-cni (the CNI's settings);
 * - `cidr-reservations`: GetSubnetCidrReservations (the subnets' reserved ranges: who holds the
 *   reserved-but-unused addresses, and which /28 blocks prefixes come from).
 * - `eni-instances`: DescribeInstances by instance id (whether the instances named by `available` CNI ENIs are gone).
 */
export type InventoryPart =
  | 'subnets'
  | 'cni-discovery'
  | 'network-interfaces'
  | 'instances'
  | 'instance-types'
  | 'nodegroups'
  | 'cni'
  /**
   * The cluster VPC's network (DescribeVpcs, DescribeVpcAttribute, DescribeDhcpOptions,
   * DescribeRouteTables, DescribeVpcEndpoints, DescribeSecurityGroups): `ids` name the pieces of
   * {@link VpcNetwork} not read (`routeTables`, `endpoints`, ...), all of them when absent.
   */
  | 'vpc-network'
  | 'cidr-reservations'
  | 'eni-instances';

/**
 * Something the collector could not see. A cluster with problems is still reported, but
 * nothing downstream may act on it (the data is incomplete).
 */
export interface CollectionProblem {
  /** The AWS operation or snapshot file that failed, e.g. `ec2:DescribeNetworkInterfaces` or `eks/clusters/prod/addon-vpc-cni.json`. */
  source: string;
  /** What went wrong, in words that name the resource. */
  message: string;
  /** The AWS error name when there is one (AccessDeniedException, UnauthorizedOperation, ...). */
  code?: string;
  /**
   * Set when a read failed or answered only in part: what it leaves unknown, so that the figures
   * resting on it are reported as unknown rather than as 0. `ids` are the resources of that part
   * that are not known (subnet ids for `subnets` and `network-interfaces`, instance type names
   * for `instance-types`); absent when the read says nothing of which (all of them may be).
   * Problems about data that was read but is odd (an ENI outside the cluster's subnets) have none.
   */
  unread?: { part: InventoryPart; ids?: string[] };
  /**
   * The error the problem was made from, whole (its message may have had several lines, and its
   * own `cause` the SDK's error), for logs. Not enumerable: no JSON output (`--json`, a capture's
   * failed-reads.json) carries it, and a copy made by spreading the problem drops it.
   */
  readonly cause?: unknown;
}

/** Everything known about one cluster. */
export interface ClusterInventory {
  /** The cluster name (also `cluster.name`). */
  name: string;
  cluster: Cluster;
  nodegroups: Nodegroup[];
  cni: CniInstall;
  /** The subnets that matter to this cluster, keyed by SubnetId in `subnetRoles`. */
  subnets: Subnet[];
  subnetRoles: Record<string, SubnetRole[]>;
  /** Every ENI in `subnets`, whoever owns it. */
  networkInterfaces: NetworkInterface[];
  /** Running or pending EC2 instances that are nodes of this cluster (tagged `kubernetes.io/cluster/<name>`). */
  instances: Instance[];
  /** What could not be collected. Empty when the data is complete. */
  problems: CollectionProblem[];
  /**
   * The network of the cluster's VPC (the network preflight); absent when it was not collected
   * (`CollectOptions.network` off, or a source that cannot read it).
   */
  network?: VpcNetwork;
  /**
   * The IPv4 subnet CIDR reservations of `subnets` (GetSubnetCidrReservations), explicit and prefix.
   * Absent: not read (an inventory built before they were collected): measured as none.
   */
  subnetCidrReservations?: SubnetCidrReservation[];
  /**
   * The instances named by the `node.k8s.amazonaws.com/instance_id` tag of `available` ENIs the VPC
   * CNI created in these subnets, where that instance is not one of `instances` (lib/inventory/leaked.ts
   * `eniInstanceIdsToConfirm`): one DescribeInstances by `instance-id` filter, any state. `asked` are
   * the ids asked for, `found` what EC2 answered (an id asked but not found is gone: terminated over
   * an hour ago, or never this account's). Absent when nothing was asked, or the read failed (a
   * problem with part `eni-instances` says so).
   */
  eniInstances?: { asked: string[]; found: Instance[] };
  /**
   * What the cluster's Kubernetes API says (lib/inventory/kube-types.ts). Absent when the source
   * cannot read Kubernetes (a snapshot without a `kubernetes/` part, the CLI without access). Its
   * problems never make the AWS data incomplete; the actions that rest on it check it themselves.
   */
  kube?: KubeClusterView;
  /**
   * DescribeSecurityGroups of the cluster's security groups (`resourcesVpcConfig.clusterSecurityGroupId`
   * and `securityGroupIds`, the groups EKS puts on the control plane's ENIs): their 443 ingress says
   * whether a function placed in the VPC reaches the private endpoint (lib/diagnose/kube-access.ts).
   * Read with the network preflight and only when the functions are placed in a VPC; absent otherwise.
   */
  clusterSecurityGroups?: SecurityGroup[];
}

/**
 * The network of one VPC, read once per VPC per cycle (clusters that share a VPC share it). Each
 * piece is absent when it was not read: its read failed (a problem with `unread.part`
 * `vpc-network` says so) or a snapshot does not hold it. Nothing is inferred from an absent piece.
 */
export interface VpcNetwork {
  vpcId: string;
  /** DescribeVpcs: the CIDR blocks and the DHCP options set. */
  vpc?: Vpc;
  /** DescribeVpcAttribute enableDnsSupport / enableDnsHostnames. */
  enableDnsSupport?: boolean;
  enableDnsHostnames?: boolean;
  /** DescribeDhcpOptions of the VPC's set (`vpc.DhcpOptionsId`); absent too when the VPC has none (`default` is a set). */
  dhcpOptions?: DhcpOptions;
  /** DescribeRouteTables by vpc-id: every route table of the VPC, the main one included. */
  routeTables?: RouteTable[];
  /** DescribeVpcEndpoints by vpc-id. */
  endpoints?: VpcEndpoint[];
  /** DescribeSecurityGroups of the interface endpoints' groups. */
  securityGroups?: SecurityGroup[];
}

/** The pieces of a {@link VpcNetwork}, as `unread.ids` of a `vpc-network` problem names them. */
export type VpcNetworkPiece = Exclude<keyof VpcNetwork, 'vpcId'>;

/** A cluster that could not be sampled at all. */
export interface FailedCluster {
  name: string;
  problem: CollectionProblem;
}

/** One sample of an account and region. */
export interface Inventory {
  region: string;
  /** ISO-8601 time the sample was taken. */
  collectedAt: string;
  clusters: ClusterInventory[];
  failedClusters: FailedCluster[];
  /** Network limits of every instance type seen, keyed by instance type name. */
  instanceTypes: Record<string, InstanceTypeInfo>;
  /** Instance types that DescribeInstanceTypes (or the snapshot) did not know. */
  unknownInstanceTypes: string[];
  /** The account's region-level limits (ENIs per Region, Network Address Usage); absent when the source has none. */
  regionLimits?: RegionLimitsInventory;
  /**
   * Where the functions that read the clusters run (stage params vpcSubnetIds / vpcSecurityGroupIds,
   * FUNCTION_SUBNET_IDS / FUNCTION_SECURITY_GROUP_IDS): `subnetIds` empty = not in a VPC. Absent:
   * unknown (the CLI, a snapshot), and the kube-access diagnosis says nothing about placement.
   */
  functionPlacement?: FunctionPlacement;
}

/** The functions' VPC placement, and its subnets as DescribeSubnets answered (VpcId, CidrBlock). */
export interface FunctionPlacement {
  subnetIds: string[];
  securityGroupIds: string[];
  /** DescribeSubnets of `subnetIds`; absent when not read (its failure is not a cluster's problem). */
  subnets?: Subnet[];
}

/**
 * Where inventory data comes from: the live account (`lib/aws/`) or a snapshot
 * (`lib/inventory/snapshot.ts`). Each method is one logical AWS read, already paginated;
 * the number of underlying calls grows with result pages, never per node or per ENI.
 */
export interface InventorySource {
  /** The region the data belongs to. */
  readonly region: string;
  /** EKS ListClusters, every page. */
  listClusters(): Promise<string[]>;
  /** EKS DescribeCluster. */
  describeCluster(name: string): Promise<Cluster>;
  /** EKS ListNodegroups then DescribeNodegroup for each. */
  describeNodegroups(clusterName: string): Promise<Nodegroup[]>;
  /** EKS DescribeAddon for `vpc-cni`; `undefined` when the add-on is not installed (ResourceNotFoundException). */
  describeVpcCniAddon(clusterName: string): Promise<Addon | undefined>;
  /** EC2 DescribeSubnets by id. Unknown ids are left out of the answer, not thrown. */
  describeSubnetsById(subnetIds: string[]): Promise<Subnet[]>;
  /** EC2 DescribeSubnets in a VPC with a tag key (CNI subnet discovery). */
  describeSubnetsByTagKey(vpcId: string, tagKey: string): Promise<Subnet[]>;
  /** EC2 DescribeNetworkInterfaces in these subnets. */
  describeNetworkInterfaces(subnetIds: string[], options?: EniReadOptions): Promise<NetworkInterface[]>;
  /**
   * EC2 DescribeInstances, pending or running, tagged `kubernetes.io/cluster/<clusterName>`:
   * the tag that managed nodegroups, Karpenter and self-managed node templates all put on
   * nodes. Each Instance carries its NetworkInterfaces, so the subnets of every node ENI are
   * known before the ENIs themselves are described.
   */
  describeClusterInstances(
    clusterName: string,
    /**
     * `autoMode`: the cluster is an EKS Auto Mode cluster; its nodes are read by the tag
     * `eks:eks-cluster-name=<clusterName>` as well (one more paginated read: lib/names.ts says why).
     */
    options?: { autoMode?: boolean },
  ): Promise<Instance[]>;
  /** EC2 DescribeInstanceTypes; types the API does not know are returned in `unknown`. */
  describeInstanceTypes(instanceTypes: string[]): Promise<{ found: InstanceTypeInfo[]; unknown: string[] }>;
  /**
   * The network of a VPC (see {@link VpcNetwork}): a handful of calls per VPC, none per subnet or
   * node. A piece that could not be read is left out and named in a {@link PartialReadError}
   * (`unread`: the pieces). Optional: a source without it leaves `network` uncollected.
   */
  describeVpcNetwork?(vpcId: string): Promise<VpcNetwork>;
  /** The region-level reads, once per cycle; absent when the source has none. */
  readonly regionLimits?: RegionLimitsSource;
  /**
   * EC2 GetSubnetCidrReservations for these subnets: their IPv4 reservations (explicit and prefix).
   * The API takes one SubnetId per call (required), so this is one call per subnet (and page).
   */
  getSubnetCidrReservations(subnetIds: string[]): Promise<SubnetCidrReservation[]>;
  /**
   * EC2 DescribeInstances by the `instance-id` filter, in any state: the filter leaves an unknown id
   * out of the answer where the InstanceIds parameter fails the whole call. Optional: a source
   * without it leaves leaked ENIs unconfirmed.
   */
  describeInstancesById?(instanceIds: string[]): Promise<Instance[]>;
  /** Reads each cluster's Kubernetes API (lib/kube); absent: Kubernetes is not read. */
  readonly kubernetes?: KubernetesReader;
  /**
   * EC2 DescribeSecurityGroups by the `group-id` filter (an unknown id is left out, not thrown):
   * the clusters' security groups for the kube-access diagnosis. Optional: a source without it
   * leaves `clusterSecurityGroups` unread.
   */
  describeSecurityGroups?(groupIds: string[]): Promise<SecurityGroup[]>;
}

/**
 * A read that could answer only in part (a snapshot file with one malformed record): `partial` is
 * what could be read, `unread` the ids of what could not (subnet ids, instance ids, instance type
 * names), or undefined when it cannot tell which. Thrown, like any failed read, so that a caller
 * that ignores it loses nothing silently; the collector takes `partial` and records the problem.
 */
export class PartialReadError<T = unknown> extends Error {
  override readonly name = 'PartialReadError';

  constructor(
    /** The operation, as in {@link CollectionProblem.source} (`ec2:DescribeSubnets`). */
    readonly operation: string,
    readonly partial: T,
    readonly unread: string[] | undefined,
    message: string,
    /** The error name a problem of it carries (`SnapshotError` for a snapshot's bad record). */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// ---------------------------------------------------------------------------------------------
// The account's region-level limits, read once per cycle (not per cluster).

/**
 * A Service Quotas quota as read. `source` says where the value came from, and the finding's
 * evidence repeats it: `applied` (GetServiceQuota answered the account's value), `aws-default`
 * (GetServiceQuota had no applied value, NoSuchResourceException, and GetAWSDefaultServiceQuota
 * answered), `documented-default` (neither could be read; the default the AWS docs state).
 */
export interface QuotaReading {
  serviceCode: string;
  quotaCode: string;
  value: number;
  source: 'applied' | 'aws-default' | 'documented-default';
}

/**
 * One ENI of the region reduced to what the region-level counts need: its VPC, type and
 * attachment, and how many addresses and prefixes it holds (the NAU rules count these). Made from
 * an EC2 NetworkInterface by `regionEniOf` (lib/inventory/region-limits.ts), page by page, so a
 * region of 5,000 ENIs with 30 addresses each is not held whole.
 */
export interface RegionEni {
  NetworkInterfaceId: string;
  VpcId?: string;
  /** EC2's InterfaceType (`interface`, `branch`, `trunk`, `network_load_balancer`, `vpc_endpoint`, `natGateway`, `lambda`, ...). */
  InterfaceType?: string;
  /** Attachment.DeviceIndex when the ENI is attached to an EC2 instance (absent otherwise). */
  instanceDeviceIndex?: number;
  /** Attachment.NetworkCardIndex when attached to an instance. */
  instanceNetworkCardIndex?: number;
  /** Private IPv4 addresses (PrivateIpAddresses, the primary included). */
  privateIpv4: number;
  /** Public IPv4 addresses associated with them (Association.PublicIp of each private address). */
  publicIpv4: number;
  ipv6: number;
  ipv4Prefixes: number;
  ipv6Prefixes: number;
}

/** The NetworkAddressUsage metrics of one VPC (AWS/EC2, dimension `Per-VPC Metrics`), latest datapoint. */
export interface NauMetricReading {
  vpcId: string;
  networkAddressUsage?: number;
  networkAddressUsagePeered?: number;
  /** ISO-8601 time of the datapoint read (the metrics are reported every 24 hours). */
  timestamp?: string;
}

/** What the region-level reads gave. Its problems never make a cluster incomplete. */
export interface RegionLimitsInventory {
  /** Service Quotas vpc/L-DF5E4CA3 "Network interfaces per Region". */
  eniQuota?: QuotaReading;
  /**
   * The ENIs read: every ENI of the region (`eniScope` 'region'), or only those of the clusters'
   * VPCs ('vpcs', a snapshot without the region-wide file); undefined when the read failed.
   */
  networkInterfaces?: RegionEni[];
  eniScope?: 'region' | 'vpcs';
  /** The VPCs of the collected clusters, whose Network Address Usage is measured. */
  vpcIds: string[];
  /** The NAU metrics of those VPCs that report them (absent: the VPC does not enable them, or the read failed). */
  nauMetrics: Record<string, NauMetricReading>;
  problems: CollectionProblem[];
}

/** The region-level reads a source can make (absent on a source that has none). */
export interface RegionLimitsSource {
  /** Service Quotas GetServiceQuota vpc/L-DF5E4CA3, else GetAWSDefaultServiceQuota when it has no applied value. */
  eniQuota(): Promise<QuotaReading>;
  /** EC2 DescribeNetworkInterfaces of the whole region, every page at MaxResults 1000, reduced per page. */
  regionNetworkInterfaces(vpcIds: string[]): Promise<{ scope: 'region' | 'vpcs'; enis: RegionEni[] }>;
  /**
   * true: regionNetworkInterfaces and eniQuota need no VPC (the live source: the whole region), so
   * the collector starts them with the clusters' reads instead of after them (lib/inventory/collect.ts).
   */
  readonly independentOfClusters?: boolean;
  /** CloudWatch GetMetricData: NetworkAddressUsage and NetworkAddressUsagePeered of these VPCs, one call. */
  networkAddressUsageMetrics(vpcIds: string[], now: Date): Promise<NauMetricReading[]>;
}

/** What a source may use to read a cluster's ENIs faster; the ENIs read are the same without it. */
export interface EniReadOptions {
  /**
   * Per subnet id, the ENIs expected there (the cluster's nodes' attached ENIs), by which a live
   * source splits a large read into lanes read at once (lib/aws/read-lanes.ts).
   */
  enisExpected?: ReadonlyMap<string, number>;
}
