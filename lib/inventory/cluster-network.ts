/**
 * Who gives the cluster's pods their addresses, from DescribeCluster: EKS Auto Mode (EKS manages
 * node and pod networking, no vpc-cni add-on to tune) or the VPC CNI, and in which IP family.
 * Pure. Design and sources: docs/features.md, "EKS Auto Mode, Karpenter and IPv6 clusters".
 */
import type { Cluster } from './types';

export interface ClusterNetwork {
  /**
   * EKS Auto Mode: `computeConfig.enabled` (EKS API reference, Cluster.computeConfig: "If the compute
   * capability is enabled, EKS Auto Mode will create and delete EC2 Managed Instances"). Its networking
   * capability gives the pods their addresses: "Configuration options for the previous AWS VPC CNI will
   * not apply to EKS Auto Mode" (no warm IP / warm prefix / warm ENI / minimum IP targets, no enabling
   * or disabling prefix delegation); it provisions /28 IPv4 prefixes on the node's primary ENI, falls
   * back to secondary IPv4 addresses when the subnet has no prefix left, and provisions a /80 IPv6
   * prefix per node on IPv6 clusters (EKS user guide, "Learn about VPC Networking and Load Balancing
   * in EKS Auto Mode": https://docs.aws.amazon.com/eks/latest/userguide/auto-networking.html).
   */
  autoMode: boolean;
  /** The other two Auto Mode capabilities, as DescribeCluster reports them (reported, not acted on). */
  autoModeBlockStorage: boolean;
  autoModeLoadBalancing: boolean;
  /** Auto Mode's built-in and configured NodePools (`computeConfig.nodePools`). */
  autoModeNodePools: string[];
  /**
   * `kubernetesNetworkConfig.ipFamily`, `ipv4` unless the cluster was created with `ipv6` (it cannot
   * change on an existing cluster: EKS API reference, KubernetesNetworkConfigRequest.ipFamily). In
   * IPv6 clusters pods take IPv6 addresses from a /80 prefix per node and no IPv4 from the subnet;
   * nodes still take IPv4 for their primary ENI (EKS user guide, "Learn about IPv6 addresses to
   * clusters, Pods, and services": https://docs.aws.amazon.com/eks/latest/userguide/cni-ipv6.html).
   */
  ipFamily: 'ipv4' | 'ipv6';
}

/** The network of a cluster as DescribeCluster answered it; fields it did not give read as off / ipv4. */
export function clusterNetworkOf(cluster: Cluster): ClusterNetwork {
  return {
    autoMode: cluster.computeConfig?.enabled === true,
    autoModeBlockStorage: cluster.storageConfig?.blockStorage?.enabled === true,
    autoModeLoadBalancing: cluster.kubernetesNetworkConfig?.elasticLoadBalancing?.enabled === true,
    autoModeNodePools: [...(cluster.computeConfig?.nodePools ?? [])],
    ipFamily: cluster.kubernetesNetworkConfig?.ipFamily === 'ipv6' ? 'ipv6' : 'ipv4',
  };
}

/**
 * Why the VPC CNI actions (warm targets, prefix delegation and its node rollout) do not apply to a
 * cluster, in words; undefined when they may. Shared by the planners, the diagnosis and the report,
 * so that all say the same.
 */
export function cniActionsExclusion(network: ClusterNetwork | undefined): string | undefined {
  if (network === undefined) return undefined;
  if (network.autoMode) {
    return 'Auto Mode cluster: the CNI is managed by EKS (no vpc-cni add-on settings apply: EKS uses /28 prefixes with its own warm pool, falling back to secondary IPs); warm targets, prefix delegation and the prefix rollout do not apply';
  }
  if (network.ipFamily === 'ipv6') {
    return 'IPv6 cluster: pods take IPv6 addresses from a /80 prefix per node and no IPv4 from the subnets (nodes still take one IPv4 each for their primary ENI); warm targets, prefix delegation and the prefix rollout do not apply';
  }
  return undefined;
}

/**
 * Why the `subnet-reservations` action does not apply to a cluster, in words; undefined when it
 * may. Shared by the planner and the report.
 */
export function subnetReservationsExclusion(network: ClusterNetwork | undefined): string | undefined {
  if (network?.ipFamily === 'ipv6') {
    return 'IPv6 cluster: pods take IPv6 addresses from a /80 prefix per node and no IPv4 /28 prefix from the subnets, so a prefix reservation of IPv4 space would serve nothing';
  }
  return undefined;
}
