/** The measured usage of an inventory: what `measure` returns and everything after it reads. */
import type { ClusterNetwork } from '../inventory/cluster-network';
import type { KubeAccess, KubeIpFailure } from '../inventory/kube-types';
import type { CollectionProblem, FailedCluster, SubnetRole } from '../inventory/types';
import type { CniDiscovery } from './cni-discovery';
import type { CniSettings } from './cni-settings';
import type { Holder } from './eni';
import type { RegionLimitsUsage } from './region-limits';
import type { SubnetReservations } from './reservations';

/** One subnet: how many addresses it has, and who holds them. */
export interface SubnetUsage {
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  cidrBlock: string;
  roles: SubnetRole[];
  /** 2^(32 − prefix length) − 5: AWS reserves the first four and the last address of every subnet. */
  usable: number;
  /** AvailableIpAddressCount, as EC2 reports it. */
  available: number;
  /** usable − available. */
  used: number;
  /** used / usable, 0..1. */
  utilization: number;
  /**
   * Addresses by holder; `Reserved` = the reservations' unused addresses, as far as the used count
   * leaves room for them; `Unaccounted` = used − what the visible ENIs hold − Reserved (never below 0).
   */
  held: Record<Holder, number>;
  /** The subnet's CIDR reservations (GetSubnetCidrReservations); absent when it has none. */
  reservations?: SubnetReservations;
  /** What the `Other` addresses are, grouped by kind, largest first. */
  others: { label: string; enis: number; ips: number }[];
  /** Control-plane ENIs here, by the cluster their description names. */
  controlPlaneClusters: string[];
  enis: number;
  /**
   * The visible ENIs hold more than EC2 says is used: the ENI list and the subnet were read at
   * different moments (addresses were allocated in between). Unaccounted is then 0.
   */
  overcounted: number;
  /** Leaked ENIs here (lib/measure/leaked-enis.ts): how many, and the addresses they hold. Absent = none. */
  leaked?: { enis: number; ips: number };
  /** The used addresses split by cluster (lib/measure/cluster-share.ts). Absent when not measured. */
  clusterShare?: SubnetClusterShare;
}

/**
 * A subnet's used addresses by cluster: what this cluster holds, what each other cluster holds, and
 * the rest. An ENI is a cluster's by, in order: the control plane's description `Amazon EKS <name>`,
 * the CNI's tag `cluster.k8s.amazonaws.com/name`, the instance it is attached to (or the CNI made it
 * for) being a node of a collected cluster (tagged `kubernetes.io/cluster/<name>`), or the ENI's own
 * `kubernetes.io/cluster/<name>` tag.
 */
export interface SubnetClusterShare {
  /** Addresses held by this cluster's ENIs. */
  own: number;
  ownEnis: number;
  /** Addresses held by each other cluster's ENIs, largest first. */
  others: { cluster: string; ips: number; enis: number }[];
  /** used − own − the others' (never below 0): ENIs of no cluster (load balancers, NAT, endpoints), and addresses no visible ENI holds. */
  unattributed: number;
}

/**
 * An `available` ENI the VPC CNI created (description `aws-K8S-`, tag node.k8s.amazonaws.com/instance_id)
 * for an instance EC2 says is terminated or no longer knows: it holds addresses for nothing.
 */
export interface LeakedEni {
  networkInterfaceId: string;
  subnetId: string;
  availabilityZone: string;
  /** The instance the CNI created it for (its node.k8s.amazonaws.com/instance_id tag). */
  instanceId: string;
  /** 'terminated': EC2 answered it so; 'missing': EC2 no longer answers it (terminated over an hour ago). */
  instanceState: 'terminated' | 'missing';
  /** Its cluster.k8s.amazonaws.com/name tag; absent when the CNI ran without CLUSTER_NAME. */
  clusterTag?: string;
  /** Its node.k8s.amazonaws.com/createdAt tag (RFC 3339), as tagged. */
  createdAt?: string;
  /** Whole minutes from `createdAt` to the sample; absent when the tag is absent or not a time. */
  ageMinutes?: number;
  /** Addresses it holds: its private IPv4 addresses and 16 per /28 prefix. */
  ips: number;
}

/** One node: its ENIs and addresses against its instance type's limits. */
export interface NodeUsage {
  instanceId: string;
  instanceType: string;
  /** Nodegroup label: the managed nodegroup name, `karpenter:<nodepool>`, `auto-mode:<nodepool>`, `asg:<name>` or `self-managed`. */
  nodegroup: string;
  subnetId?: string;
  availabilityZone?: string;
  /**
   * 'prefix' when the node's ENIs carry /28 prefixes; 'secondary-ip' when they carry secondary
   * IPs; for a node with neither, what the add-on is set to. Undefined when the node's ENIs were
   * not all read (`enisUnread`): what it holds, and so its mode, is not known (a node launched
   * before the add-on's mode changed keeps its own).
   */
  mode?: 'secondary-ip' | 'prefix';
  /**
   * True when the ENIs of a subnet the node has ENIs in were not read (lib/measure/trusted.ts): its
   * `enis`, addresses and mode are not known, nor therefore its `limits`, and it is never at a limit.
   * Absent = false.
   */
  enisUnread?: boolean;
  /** ENIs attached on the default network card (the trunk and unmanaged ENIs included). */
  enis: number;
  /**
   * Of `enis`: the trunk ENI of security groups for pods (InterfaceType `trunk`), 0 or 1. It counts
   * against the ENI limit but ipamd gives no pod address from it (lib/measure/eni.ts `nodeEniRole`).
   * Absent = 0.
   */
  trunkEnis?: number;
  /**
   * Of `enis`: ENIs ipamd leaves alone (tagged `node.k8s.amazonaws.com/no_manage=true`, or EFA-only).
   * Their addresses are not in `secondaryIps` / `prefixes`. Absent = 0.
   */
  unmanagedEnis?: number;
  /** Secondary IPs on the ENIs ipamd manages. */
  secondaryIps: number;
  /** /28 prefixes on the ENIs ipamd manages. */
  prefixes: number;
  /** Pod addresses the node has taken from its subnets: secondary IPs + 16 per prefix. */
  podIps: number;
  /** Undefined when the instance type is unknown, or the node's ENIs were not read (`enisUnread`). */
  limits?: {
    maxEnis: number;
    ipv4PerEni: number;
    /**
     * ENIs ipamd may hold pod addresses on: MAX_ENI or the default card's maximum, less the trunk and
     * unmanaged ENIs, less the primary under custom networking (pkg/ipamd/ipamd.go `hasRoomForEni`).
     * Absent = maxEnis (less the primary under custom networking).
     */
    podEnis?: number;
    /** Pod addresses the node could hold with every ENI ipamd may attach, in its mode (`podEnis` × slots per ENI). */
    podIpSlots: number;
    /** The kubelet max pods of the node, as `maxPodsSource` says its launcher sets it. */
    maxPods: number;
    /** Max pods by the EKS max-pods calculator, uncapped, in its mode (eni-max-pods in secondary-IP mode). */
    maxPodsUncapped: number;
    /**
     * Who sets the node's kubelet max pods, as far as the inventory tells: `calculator` for managed
     * nodegroups on an EKS AMI (EKS computes it for the add-on's mode, capped at 110/250) and
     * Karpenter; `nodeadm-default` for self-managed nodes and managed nodegroups with a custom AMI,
     * whose user data decides: unless it sets maxPods, AL2023's nodeadm (and AL2's bootstrap.sh) sets
     * `ENIs × (IPv4 − 1) + 2` on the default card, whatever the mode, uncapped
     * (lib/capacity/instance-type.ts `nodeadmDefaultMaxPods`). Absent = `calculator`.
     */
    maxPodsSource?: 'calculator' | 'nodeadm-default';
  };
  /**
   * ipamd can attach no further ENI: every ENI slot on the default card is used, or the ENIs ipamd
   * manages have reached MAX_ENI less the trunk and unmanaged ENIs (`hasRoomForEni` is false).
   */
  atEniLimit: boolean;
  /** No further ENI and every address slot on ipamd's ENIs is taken: the node can get no more pod IPs. */
  atIpLimit: boolean;
  /**
   * Where the node's assigned and warm pod addresses come from (lib/measure/kube-pods.ts): `kubernetes`
   * when the cluster's pods were read and a Node names this instance; `estimated` otherwise (the
   * ipamd model's range from what the node holds). Absent = not measured (no Kubernetes part and
   * no estimate: type unknown or ENIs not read).
   */
  podIpsSource?: 'kubernetes' | 'estimated';
  /** The node's pod addresses in use and idle, as `podIpsSource` says. */
  podIpUse?: NodePodIpUse;
  /** The Kubernetes Node's name, when one names this instance (spec.providerID). */
  kubeNodeName?: string;
  /**
   * The kubelet's max pods as the Node reports it (status.capacity.pods), next to the computed
   * `limits.maxPods` (what the launcher is expected to set). Absent: the Node was not read.
   */
  kubeletMaxPods?: number;
}

/**
 * A node's pod addresses: exact from the Kubernetes API (assigned = its Pending/Running pods not on
 * the host network that have an IPv4 pod IP; warm = held − assigned), or the ipamd model's range.
 */
export type NodePodIpUse =
  | {
      source: 'kubernetes';
      assigned: number;
      /** `podIps` − `assigned`, never below 0; absent when the node's ENIs were not read. */
      warm?: number;
      /** Pods still without an address (sandbox not created yet). */
      awaitingIp: number;
      hostNetwork: number;
    }
  | {
      source: 'estimated';
      assignedMin: number;
      assignedMax: number;
      warmMin: number;
      warmMax: number;
      /** false: no pod count makes the holding a state ipamd rests in (the range is 0..slots). */
      consistent: boolean;
    };

/** A cluster's pod addresses in use and idle, over its nodes, with how many nodes each figure rests on. */
export interface ClusterPodIpUse {
  /** Nodes whose figures are exact (Kubernetes), and estimated (ipamd model). */
  nodesKubernetes: number;
  nodesEstimated: number;
  /** Nodes with neither (instance type unknown, ENIs not read and no Kubernetes data). */
  nodesUnmeasured: number;
  /** Exact, over the Kubernetes nodes (warm: those whose ENIs were read). */
  assigned: number;
  warm: number;
  /** The estimated nodes' ranges (0 when none). */
  estimated: { assignedMin: number; assignedMax: number; warmMin: number; warmMax: number };
}

/** What the Kubernetes API told of a cluster, as measured (lib/measure/kube-pods.ts). */
export interface ClusterKubeUsage {
  readAt: string;
  access: KubeAccess;
  /** The pods were read: exact per-node figures are possible. */
  podsRead: boolean;
  /** The events were read: `recentIpFailures` and `podsFailingIp` are known. */
  eventsRead: boolean;
  /** IP-assignment failures last seen within {@link IP_FAILURE_WINDOW_MINUTES} of `readAt`. */
  recentIpFailures: KubeIpFailure[];
  /** Distinct pods among them: the `PodsFailingIpAssignment` metric. */
  podsFailingIp: number;
  /** The window, in minutes. */
  failureWindowMinutes: number;
}

export interface NodegroupUsage {
  name: string;
  /** `karpenter` and `auto-mode` group nodes by NodePool (their NodePool's requirements choose the instance types). */
  kind: 'managed' | 'karpenter' | 'auto-mode' | 'self-managed';
  /** Instance types the nodegroup declares (managed) or its nodes run. */
  instanceTypes: string[];
  status?: string;
  /** Subnets the nodegroup declares (managed) or its nodes are in. */
  subnetIds: string[];
  desiredSize?: number;
  nodes: number;
  enis: number;
  maxEnis: number;
  podIps: number;
  podIpSlots: number;
  /** Sum of the nodes' max pods. */
  podCapacity: number;
  nodesAtEniLimit: number;
  nodesAtIpLimit: number;
  /** Nodes of a type whose limits are unknown: their capacity is not in the sums. */
  nodesOfUnknownType: number;
  /**
   * Nodes whose ENIs were not read (NodeUsage `enisUnread`): their limits and max pods are unknown
   * and not in the sums. Absent = 0.
   */
  nodesEnisUnread?: number;
}

export interface ControlPlaneUsage {
  subnetIds: string[];
  /** Least free addresses in any cluster subnet. */
  minAvailable: number;
  /** Distinct AZs with a cluster subnet at or above EKS's minimum of free addresses. */
  azsWithMinimum: number;
  /** At least 6 free in every cluster subnet. */
  meetsMinimum: boolean;
  /** At least 16 free in every cluster subnet. */
  meetsRecommended: boolean;
  /** Free addresses in two AZs, which a version upgrade needs. */
  upgradeReady: boolean;
}

export interface ClusterUsage {
  name: string;
  vpcId?: string;
  version?: string;
  cni: CniSettings & { install: 'managed' | 'self-managed' | 'unknown' };
  subnets: SubnetUsage[];
  nodes: NodeUsage[];
  nodegroups: NodegroupUsage[];
  controlPlane: ControlPlaneUsage;
  totals: {
    /** Free addresses in the subnets nodes and pods use (node and CNI-discovery subnets). */
    availableIps: number;
    /** Least free addresses in any node or CNI-discovery subnet; undefined without such subnets. */
    minSubnetAvailable?: number;
    nodes: number;
    podCapacity: number;
    podIps: number;
    nodesAtEniLimit: number;
    nodesAtIpLimit: number;
  };
  /** Leaked ENIs in the cluster's subnets, any cluster's (lib/measure/leaked-enis.ts). Absent = none. */
  leakedEnis?: LeakedEni[];
  /**
   * Available CNI ENIs whose instance is not a node of this cluster and could not be confirmed gone
   * (the DescribeInstances by id failed, or the source cannot ask): not counted as leaked. Absent = 0.
   */
  leakedEnisUnconfirmed?: number;
  /** False when anything was not collected or not understood: nothing may act on this cluster. */
  complete: boolean;
  problems: CollectionProblem[];
  /** EKS Auto Mode and the IP family, from DescribeCluster (lib/inventory/cluster-network.ts). Absent = a VPC CNI IPv4 cluster. */
  network?: ClusterNetwork;
  /** Which subnets the cluster's VPC CNI would create new pod ENIs in, and why (lib/measure/cni-discovery.ts). */
  cniDiscovery?: CniDiscovery;
  /** Assigned and warm pod addresses over the nodes (lib/measure/kube-pods.ts). Absent when no node has either figure. */
  podIpUse?: ClusterPodIpUse;
  /** The Kubernetes part, when the inventory has one (ClusterInventory.kube). */
  kube?: ClusterKubeUsage;
}

export interface Usage {
  region: string;
  collectedAt: string;
  clusters: ClusterUsage[];
  failedClusters: FailedCluster[];
  unknownInstanceTypes: string[];
  /** The region-level limits (the ENI quota, the clusters' VPCs' NAU); absent when not read. */
  regionLimits?: RegionLimitsUsage;
}
