/**
 * What a cluster's figures cannot say: the reads that failed or answered in part (the problems'
 * `unread`), and the figures that rest on them, so that the report prints those as unknown, never
 * as the 0 that measuring nothing gives. Pure.
 *
 * Design: docs/cli.md#liboutputreportgapsts-what-rests-on-what
 */
import type { ClusterInventory, Inventory } from '../../inventory/types';
import { holdersUnknown, nodeEnisUnknown, readGapsOf, type ReadGaps } from '../../measure/trusted';
import type { ClusterUsage, NodegroupUsage, SubnetUsage, Usage } from '../../measure/types';

export { holdersUnknown, nodeEnisUnknown };

/**
 * The gaps of one cluster: what its failed reads leave unknown (lib/measure/trusted.ts, the rule
 * measure, diagnose and the metrics follow too), and what that means for its totals.
 */
export interface ClusterGaps extends ReadGaps {
  /** Pod subnets (node or CNI discovery) among the unread ones: the pod-subnet totals are unknown. */
  podSubnetsUnknown: boolean;
  /** Cluster subnets among the unread ones: the control plane's headroom is unknown. */
  controlPlaneUnknown: boolean;
}

const NONE: ClusterGaps = {
  ...readGapsOf([]),
  podSubnetsUnknown: false,
  controlPlaneUnknown: false,
};

/**
 * The gaps of a cluster from its problems and, when given, its inventory (which knows every
 * subnet the cluster uses, with its roles, including those that could not be read or measured).
 */
export function gapsOf(c: ClusterUsage, inv?: ClusterInventory): ClusterGaps {
  if (c.problems.length === 0) return NONE;
  const read = readGapsOf(c.problems);
  const { discoveryUnknown } = read;
  let unreadSubnets = read.unreadSubnets;
  const measured = new Set(c.subnets.map((s) => s.subnetId));
  // With the inventory, exactly the subnets the cluster uses that were not measured (not read, or
  // their record not understood); without, what the failed reads name.
  if (inv) unreadSubnets = Object.keys(inv.subnetRoles).filter((id) => !measured.has(id)).sort();
  const unreadList = unreadSubnets === 'all' ? undefined : unreadSubnets.filter((id) => !measured.has(id));
  const roleOf = (id: string): string[] => inv?.subnetRoles[id] ?? [];
  const clusterSubnets = new Set(inv?.cluster.resourcesVpcConfig?.subnetIds ?? []);
  const podSubnetsUnknown =
    discoveryUnknown ||
    unreadList === undefined ||
    unreadList.some((id) => !inv || roleOf(id).includes('node') || roleOf(id).includes('cni-discovery'));
  const controlPlaneUnknown = unreadList === undefined || unreadList.some((id) => !inv || clusterSubnets.has(id));
  return {
    ...read,
    unreadSubnets: unreadList ?? 'all',
    podSubnetsUnknown,
    controlPlaneUnknown,
  };
}

/**
 * Whether a nodegroup's (or, without one, the cluster's) limits and max pods are unknown: nodes
 * of an unknown type, or whose ENIs were not read (measure leaves their limits out).
 */
export function capacityUnknown(g: ClusterGaps, c: ClusterUsage, ng?: NodegroupUsage): boolean {
  if (g.instances) return true;
  return ng ? ng.nodesOfUnknownType > 0 || (ng.nodesEnisUnread ?? 0) > 0 : c.nodes.some((n) => n.limits === undefined);
}

/** The figures of a measured usage as JSON, with those that rest on failed reads as null. */
export interface UsageJson extends Omit<Usage, 'clusters'> {
  clusters: Record<string, unknown>[];
}

const nulls = <K extends string>(keys: readonly K[]): Record<K, null> => Object.fromEntries(keys.map((k) => [k, null])) as Record<K, null>;

/**
 * The usage for `--json`: the same shape, but a figure that rests on a failed read is null (not
 * the 0 of measuring nothing), and each cluster lists in `unknown` the paths of those figures.
 * A complete cluster is as measured, with `unknown: []`.
 */
export function usageJson(usage: Usage, inventory?: Inventory): UsageJson {
  return {
    ...usage,
    clusters: usage.clusters.map((c) => {
      const g = gapsOf(c, inventory?.clusters.find((x) => x.name === c.name));
      const unknown: string[] = [];
      const totals: Record<string, unknown> = { ...c.totals };
      if (g.podSubnetsUnknown) {
        Object.assign(totals, nulls(['availableIps', 'minSubnetAvailable']));
        unknown.push('totals.availableIps', 'totals.minSubnetAvailable');
      }
      if (g.instances) {
        totals['nodes'] = null;
        unknown.push('totals.nodes');
      }
      if (nodeEnisUnknown(g)) {
        Object.assign(totals, nulls(['podIps', 'nodesAtEniLimit', 'nodesAtIpLimit']));
        unknown.push('totals.podIps', 'totals.nodesAtEniLimit', 'totals.nodesAtIpLimit');
      }
      if (capacityUnknown(g, c)) {
        Object.assign(totals, nulls(['podCapacity', 'nodesAtEniLimit', 'nodesAtIpLimit']));
        unknown.push('totals.podCapacity', 'totals.nodesAtEniLimit', 'totals.nodesAtIpLimit');
      }
      let controlPlane: Record<string, unknown> = { ...c.controlPlane };
      if (g.controlPlaneUnknown) {
        controlPlane = { subnetIds: c.controlPlane.subnetIds, ...nulls(['minAvailable', 'azsWithMinimum', 'meetsMinimum', 'meetsRecommended', 'upgradeReady']) };
        unknown.push('controlPlane');
      }
      const subnets = c.subnets.map((s: SubnetUsage) => {
        if (!holdersUnknown(g, s.subnetId)) return s;
        unknown.push(`subnets[${s.subnetId}].held`);
        return { ...s, ...nulls(['held', 'others', 'enis', 'overcounted']) };
      });
      const nodegroups = c.nodegroups.map((ng) => {
        const out: Record<string, unknown> = { ...ng };
        const fields: string[] = [];
        if (g.instances) fields.push('nodes');
        if (nodeEnisUnknown(g)) fields.push('enis', 'podIps', 'nodesAtEniLimit', 'nodesAtIpLimit');
        if (capacityUnknown(g, c, ng)) fields.push('maxEnis', 'podIpSlots', 'podCapacity', 'nodesAtEniLimit', 'nodesAtIpLimit');
        for (const f of new Set(fields)) {
          out[f] = null;
          unknown.push(`nodegroups[${ng.name}].${f}`);
        }
        return out;
      });
      const nodes = nodeEnisUnknown(g)
        ? c.nodes.map((n) => ({
            ...n,
            ...nulls(['enis', 'secondaryIps', 'prefixes', 'podIps', 'atEniLimit', 'atIpLimit']),
            // Measure leaves the mode and limits out of a node whose ENIs were not read.
            ...(n.enisUnread ? nulls(['mode', 'limits']) : {}),
          }))
        : c.nodes;
      if (nodeEnisUnknown(g) && c.nodes.length > 0) unknown.push('nodes[].enis', 'nodes[].podIps');
      if (c.nodes.some((n) => n.enisUnread)) unknown.push('nodes[].mode', 'nodes[].limits');
      return { ...c, subnets, nodes, nodegroups, controlPlane, totals, unknown: [...new Set(unknown)] };
    }),
  };
}
