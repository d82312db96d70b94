/**
 * The inventory: plain data in the AWS APIs' own shapes, one entry per cluster.
 *
 * Both sources fill it the same way (see `collect.ts`): the live account through the
 * adapters in `lib/aws/`, and a snapshot directory of JSON files shaped like the AWS CLI's
 * output (`lib/inventory/snapshot.ts`). Everything downstream (measure, report, publish) reads
 * only this.
 */
import type { Addon, Cluster, Nodegroup } from '@aws-sdk/client-eks';
import type { Instance, InstanceTypeInfo, NetworkInterface, Subnet } from '@aws-sdk/client-ec2';

export type { Addon, Cluster, Nodegroup, Instance, InstanceTypeInfo, NetworkInterface, Subnet };

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
   * The instances named by the `node.k8s.amazonaws.com/instance_id` tag of `available` ENIs the VPC
   * CNI created in these subnets, where that instance is not one of `instances` (lib/inventory/leaked.ts
   * `eniInstanceIdsToConfirm`): one DescribeInstances by `instance-id` filter, any state. `asked` are
   * the ids asked for, `found` what EC2 answered (an id asked but not found is gone: terminated over
   * an hour ago, or never this account's). Absent when nothing was asked, or the read failed (a
   * problem with part `eni-instances` says so).
   */
  eniInstances?: { asked: string[]; found: Instance[] };
}

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
  describeNetworkInterfaces(subnetIds: string[]): Promise<NetworkInterface[]>;
  /**
   * EC2 DescribeInstances, pending or running, tagged `kubernetes.io/cluster/<clusterName>`:
   * the tag that managed nodegroups, Karpenter and self-managed node templates all put on
   * nodes. Each Instance carries its NetworkInterfaces, so the subnets of every node ENI are
   * known before the ENIs themselves are described.
   */
  describeClusterInstances(clusterName: string): Promise<Instance[]>;
  /** EC2 DescribeInstanceTypes; types the API does not know are returned in `unknown`. */
  describeInstanceTypes(instanceTypes: string[]): Promise<{ found: InstanceTypeInfo[]; unknown: string[] }>;
  /**
   * EC2 DescribeInstances by the `instance-id` filter, in any state: the filter leaves an unknown id
   * out of the answer where the InstanceIds parameter fails the whole call. Optional: a source
   * without it leaves leaked ENIs unconfirmed.
   */
  describeInstancesById?(instanceIds: string[]): Promise<Instance[]>;
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
