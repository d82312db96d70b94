/**
 * Diagnose: from measured usage (and the inventory it was measured from) to findings, each a cause
 * from DESIGN.md's table "Why clusters run out of IPs" with its severity, evidence and fixes.
 * Pure: no AWS, no environment, no clock, no logging. One file per finding kind (eni-quota and
 * network-address-usage share region-limits.ts); `FindingKind` in types.ts says what each is.
 */
import type { ClusterInventory, Inventory } from '../inventory/types';
import type { ClusterUsage, Usage } from '../measure/types';
import { buildContext } from './context';
import { diagnoseCniDiscovery } from './cni-discovery';
import { diagnoseControlPlaneHeadroom } from './control-plane-headroom';
import { diagnoseEniLimit } from './eni-limit';
import { diagnoseHeldByOthers } from './held-by-others';
import { diagnoseNodegroupHeadroom } from './nodegroup-headroom';
import { diagnoseNodeEgress } from './node-egress';
import { diagnoseVpcDns } from './vpc-dns';
import { diagnoseLeakedEnis } from './leaked-enis';
import { diagnoseKarpenterPools } from './karpenter-pool';
import { diagnoseKubeAccess } from './kube-access';
import { diagnosePrefixFragmentation } from './prefix-fragmentation';
import { diagnoseRegionLimits } from './region-limits';
import { diagnoseSubnetExhaustion } from './subnet-exhaustion';
import { diagnoseMaxPodsMismatch } from './max-pods-mismatch';
import { diagnosePodsFailingIp } from './pods-failing-ip';
import { SEVERITY_RANK, type DiagnoseThresholds, type Finding, type FindingKind } from './types';

/** The order findings of equal severity are listed in: DESIGN.md's table, then the control plane. */
export const FINDING_KIND_ORDER: readonly FindingKind[] = [
  'subnet-exhaustion',
  'eni-limit',
  'ips-held-by-others',
  'prefix-fragmentation',
  'control-plane-headroom',
  'nodegroup-headroom',
  'vpc-dns',
  'node-egress',
  'cni-discovery',
  'eni-quota',
  'network-address-usage',
  'leaked-enis',
  'max-pods-mismatch',
  'pods-failing-ip',
  'karpenter-pool',
  'kube-access',
];

/** Severity (worst first), cluster, kind (FINDING_KIND_ORDER), subject id. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    a.cluster.localeCompare(b.cluster) ||
    FINDING_KIND_ORDER.indexOf(a.kind) - FINDING_KIND_ORDER.indexOf(b.kind) ||
    a.subject.id.localeCompare(b.subject.id)
  );
}

/**
 * The findings of one cluster, in {@link compareFindings} order. A cluster with incomplete data is
 * still diagnosed; each of its findings says so in its evidence (`dataComplete: 'no'`).
 *
 * @param instanceTypes the inventory's instance-type limits (for the warm-pool estimate and the
 *   prefix-delegation advice); defaults to none known.
 * @param placement where the functions run (Inventory.functionPlacement), for kube-access; unknown by default.
 */
export function diagnoseCluster(
  usage: ClusterUsage,
  inventory: ClusterInventory,
  thresholds: DiagnoseThresholds,
  instanceTypes: Inventory['instanceTypes'] = {},
  placement?: Inventory['functionPlacement'],
): Finding[] {
  const ctx = buildContext(usage, inventory, instanceTypes, thresholds);
  return [
    ...diagnoseSubnetExhaustion(ctx),
    ...diagnoseEniLimit(ctx),
    ...diagnoseHeldByOthers(ctx),
    ...diagnosePrefixFragmentation(ctx),
    ...diagnoseControlPlaneHeadroom(ctx),
    ...diagnoseNodegroupHeadroom(ctx, instanceTypes),
    ...diagnoseVpcDns(ctx),
    ...diagnoseNodeEgress(ctx),
    ...diagnoseCniDiscovery(ctx),
    ...diagnoseLeakedEnis(ctx),
    ...diagnoseMaxPodsMismatch(ctx),
    ...diagnosePodsFailingIp(ctx),
    ...diagnoseKarpenterPools(ctx, instanceTypes),
    ...diagnoseKubeAccess(ctx, placement),
  ].sort(compareFindings);
}

/**
 * The findings of every cluster of a sample, worst first (see {@link compareFindings}).
 * @param thresholds the same for every cluster, or each cluster's own (its policy's).
 * @throws Error when a measured cluster has no inventory: `usage` must be `measure(inventory)`.
 */
export function diagnose(
  usage: Usage,
  inventory: Inventory,
  thresholds: DiagnoseThresholds | ((cluster: string) => DiagnoseThresholds),
): Finding[] {
  const thresholdsOf = typeof thresholds === 'function' ? thresholds : () => thresholds;
  const byName = new Map(inventory.clusters.map((c) => [c.name, c]));
  const findings: Finding[] = [];
  for (const cluster of usage.clusters) {
    const inv = byName.get(cluster.name);
    if (!inv) throw new Error(`diagnosing cluster ${cluster.name}: it is in the usage but not in the inventory it was measured from`);
    findings.push(...diagnoseCluster(cluster, inv, thresholdsOf(cluster.name), inventory.instanceTypes, inventory.functionPlacement));
  }
  // The region-level limits: judged once, told to each cluster they stop.
  findings.push(...diagnoseRegionLimits(usage, inventory));
  return findings.sort(compareFindings);
}
