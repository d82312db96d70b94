/**
 * The report's notes (`Note:` lines of a cluster) on the actions that do not apply to it: the VPC CNI actions on
 * an EKS Auto Mode or IPv6 cluster, and the instance-type replacement on nodes a NodePool launches
 * (Karpenter, Auto Mode). Pure; the planners refuse on the same rules (lib/inventory/cluster-network.ts).
 */
import { cniActionsExclusion } from '../inventory/cluster-network';
import type { ClusterUsage } from '../measure/types';

/** The plan notes of a cluster's network and node launchers; empty for a VPC CNI IPv4 cluster of managed nodegroups. */
export function networkPlanNotes(usage: ClusterUsage): string[] {
  const notes: string[] = [];
  const excluded = cniActionsExclusion(usage.network);
  if (excluded !== undefined) notes.push(excluded);
  const pools = usage.nodegroups.filter((g) => g.kind === 'karpenter' || g.kind === 'auto-mode');
  if (pools.length > 0) {
    notes.push(
      `${pools.map((g) => g.name).join(', ')}: ${pools.length === 1 ? 'nodes' : 'nodes of each'} launched from a NodePool (${[...new Set(pools.map((g) => (g.kind === 'auto-mode' ? 'EKS Auto Mode' : 'Karpenter')))].join(', ')}); the instance-type replacement acts on managed nodegroups only: change the NodePool's requirements to give them types with more IP capacity`,
    );
  }
  return notes;
}
