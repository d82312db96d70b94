/**
 * Findings: a cause from DESIGN.md's table ("Why clusters run out of IPs"), with its severity,
 * the numbers that prove it, and the fix to try first. Produced by `diagnose` (pure),
 * completed with a forecast, reported by the CLI and notified through SNS.
 */

/** The causes, as an EKS operator names them. */
export type FindingKind =
  /** A subnet, or all of a nodegroup's subnets in one AZ, is close to full. */
  | 'subnet-exhaustion'
  /** Nodes at their instance type's ENI / IP limit: pods are capped by max pods, not by the subnet. */
  | 'eni-limit'
  /** Addresses held by warm pools or by non-cluster ENIs while the subnet is scarce. */
  | 'ips-held-by-others'
  /** Prefix delegation in a subnet whose free space is too fragmented or too small for /28 blocks. */
  | 'prefix-fragmentation'
  /** Control-plane (cluster) subnets below EKS's free-address requirement: blocks upgrades. */
  | 'control-plane-headroom'
  /** A managed nodegroup's max size, or its update in progress, would not find the free addresses its new nodes need. */
  | 'nodegroup-headroom'
  /** The cluster VPC lacks DNS support or hostnames, or AmazonProvidedDNS for the private endpoint. */
  | 'vpc-dns'
  /** A node subnet with no default route to a NAT or internet gateway and without the VPC endpoints nodes need. */
  | 'node-egress'
  /** The VPC CNI's subnet selection works against the cluster (no subnet in an AZ, a `0` it ignores, other clusters' subnets used). */
  | 'cni-discovery'
  /** The region's ENIs close to the account's ENIs-per-Region quota (vpc/L-DF5E4CA3). */
  | 'eni-quota'
  /** A cluster VPC's Network Address Usage close to its quota (64,000; 128,000 with peered VPCs). */
  | 'network-address-usage'
  /** Available ENIs the VPC CNI created for instances that are gone: addresses held for nothing. */
  | 'leaked-enis'
  /** The kubelet's max pods (Kubernetes) above what the node's IPs serve, or far below what they allow. */
  | 'max-pods-mismatch'
  /** Pods failing IP assignment now (FailedCreatePodSandBox events of the VPC CNI), by nodegroup and cause. */
  | 'pods-failing-ip'
  /** A Karpenter NodePool whose EC2NodeClass resolves to scarce subnets, or whose requirements allow only IP-capped instance types. */
  | 'karpenter-pool'
  /** The cluster's Kubernetes API could not be read (authentication mode, access entry, RBAC, private endpoint...). */
  | 'kube-access';

export type Severity = 'warning' | 'critical';

/** Ordering for "worsened": a higher rank is worse. */
export const SEVERITY_RANK: Record<Severity, number> = { warning: 1, critical: 2 };

/** What a finding is about. */
export interface FindingSubject {
  type: 'subnet' | 'nodegroup' | 'availability-zone' | 'cluster' | 'region' | 'vpc';
  /** Subnet id, nodegroup name, AZ name, or cluster name. */
  id: string;
  availabilityZone?: string;
}

/** Hours until a subnet or cluster runs out, from the history of its free-address metric. */
export interface Forecast {
  /** 'decreasing' only when the trend is significant; otherwise 'none' (or 'increasing'). */
  trend: 'decreasing' | 'none' | 'increasing';
  /** Hours until zero free addresses at the current trend; only with trend 'decreasing'. */
  hoursToExhaustion?: number;
  /** Change of free addresses per hour (negative = being used up). */
  slopePerHour?: number;
  /** How many samples the estimate used, and over how many hours. */
  samples: number;
  spanHours: number;
  /** One sentence a person reads: "runs out in about 9 hours (−12 IPs/hour over 24 h)" or "no trend". */
  summary: string;
}

export interface Finding {
  /** Stable across samples: `<cluster>/<kind>/<subject id>`. The ledger keys notification state on it. */
  id: string;
  cluster: string;
  kind: FindingKind;
  severity: Severity;
  subject: FindingSubject;
  /** One line a person reads on a phone: what is wrong, with the key number. */
  title: string;
  /** The numbers that prove it, by name (for the JSON form and the metric). */
  evidence: Record<string, number | string>;
  /** The evidence in words, one line each. */
  evidenceText: string[];
  /** The fix to try first, then the next ones (least disruptive first). */
  fixes: string[];
  /** Filled when history allows. */
  forecast?: Forecast;
}

/** Thresholds of the diagnosis; from configuration. */
export interface DiagnoseThresholds {
  /** A pod subnet with fewer free addresses than this is a warning... */
  subnetFreeIpsWarning: number;
  /** ...and below this, critical. */
  subnetFreeIpsCritical: number;
  /** A pod subnet used above this fraction (0..1) is a warning even with free addresses above the warning count. */
  subnetUtilizationWarning: number;
  /** Share (0..1) of a nodegroup's nodes at their IP limit from which eni-limit is a warning... */
  nodesAtIpLimitWarningShare: number;
  /** ...and critical. */
  nodesAtIpLimitCriticalShare: number;
  /** Share (0..1) of a scarce subnet's used addresses held by warm pools or others that makes ips-held-by-others a finding. */
  heldByOthersShare: number;
  /** Free /28 blocks below which a prefix-mode subnet is a warning (critical at 0). */
  prefixBlocksWarning: number;
  /**
   * A kubelet max pods under this share (0..1) of what the max-pods calculator gives for the node's
   * type and mode is a max-pods-mismatch warning (waste).
   */
  maxPodsWasteShare: number;
}

export const DEFAULT_THRESHOLDS: DiagnoseThresholds = {
  subnetFreeIpsWarning: 64,
  subnetFreeIpsCritical: 16,
  subnetUtilizationWarning: 0.9,
  nodesAtIpLimitWarningShare: 0.25,
  nodesAtIpLimitCriticalShare: 0.75,
  heldByOthersShare: 0.3,
  prefixBlocksWarning: 4,
  maxPodsWasteShare: 0.5,
};
