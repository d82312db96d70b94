/**
 * The `karpenter-subnets` planner: an allow-listed EC2NodeClass whose resolved subnets include a
 * scarce one gets explicit `id` subnet selector terms without the scarce subnets and with
 * allow-listed subnets that have room in the same zones. Pure; the executor is
 * lib/act/execute-karpenter.ts. Design and sources: docs/remediation.md, "Karpenter".
 */
import { list, n, plural } from '../diagnose/context';
import { karpenterOf, nodeClassOf, poolSubnets } from '../diagnose/karpenter-pool';
import type { Subnet } from '../inventory/types';
import { DEFAULT_KARPENTER_SUBNETS_POLICY, type EffectivePolicy, type KarpenterSubnetsPolicy } from '../policy/types';
import { minSpareFree } from './cni-subnets';
import type { ActionPlanner, KarpenterSubnetsChange, PlanContext, ProposedAction } from './types';

export function karpenterSubnetsPolicy(policy: EffectivePolicy): KarpenterSubnetsPolicy {
  return policy.actions.karpenterSubnets ?? DEFAULT_KARPENTER_SUBNETS_POLICY;
}

/** The allow-listed subnet ids a cycle reads fresh (DescribeSubnets by id) for {@link planKarpenterSubnetsWith}. */
export function karpenterSubnetIds(policy: EffectivePolicy): string[] {
  return [...new Set(karpenterSubnetsPolicy(policy).subnets)];
}

/** Whether any allow-listed node class backs a pool with a scarce subnet (else the allow-listed subnets need not be read). */
export function needsKarpenterSubnets(ctx: PlanContext): boolean {
  return nodeClassesToSteer(ctx).length > 0;
}

function nodeClassesToSteer(ctx: PlanContext): { name: string; pools: string[]; findingIds: string[] }[] {
  const karpenter = karpenterOf(ctx.inventory);
  const allowed = new Set(karpenterSubnetsPolicy(ctx.policy).nodeClasses);
  if (!karpenter || allowed.size === 0) return [];
  const out = new Map<string, { name: string; pools: string[]; findingIds: string[] }>();
  for (const f of ctx.findings) {
    if (f.kind !== 'karpenter-pool' || !String(f.evidence['cause'] ?? '').includes('subnets')) continue;
    const pool = karpenter.nodePools.find((p) => p.name === f.evidence['nodePool']);
    const nc = pool ? nodeClassOf(pool, karpenter.nodeClasses) : undefined;
    if (!pool || !nc || !allowed.has(nc.name)) continue;
    const entry = out.get(nc.name) ?? { name: nc.name, pools: [], findingIds: [] };
    entry.pools.push(pool.name);
    entry.findingIds.push(f.id);
    out.set(nc.name, entry);
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Proposes from the inventory alone: allow-listed subnets it does not hold are not candidates. */
export const planKarpenterSubnets: ActionPlanner = (ctx) => planKarpenterSubnetsWith(ctx, []);

/** Proposes, given the allow-listed subnets as DescribeSubnets returned them now. */
export function planKarpenterSubnetsWith(ctx: PlanContext, fresh: readonly Subnet[]): ProposedAction[] {
  const karpenter = karpenterOf(ctx.inventory);
  if (!karpenter) return [];
  const policy = karpenterSubnetsPolicy(ctx.policy);
  const allowListed = new Set(policy.subnets);
  const vpcId = ctx.usage.vpcId ?? ctx.inventory.cluster.resourcesVpcConfig?.vpcId;
  const byId = new Map<string, Subnet>();
  for (const s of [...ctx.inventory.subnets, ...fresh]) if (s.SubnetId) byId.set(s.SubnetId, s);
  const usageById = new Map(ctx.usage.subnets.map((s) => [s.subnetId, s]));
  const minFree = minSpareFree(ctx.policy);
  const roomy = (id: string): boolean => {
    const s = byId.get(id);
    const u = usageById.get(id);
    const free = u?.available ?? s?.AvailableIpAddressCount ?? 0;
    return s !== undefined && s.VpcId === vpcId && (s.State ?? 'available') === 'available' && free >= minFree;
  };
  const zoneOf = (id: string, given?: string): string | undefined => given ?? usageById.get(id)?.availabilityZone ?? byId.get(id)?.AvailabilityZone;

  const out: ProposedAction[] = [];
  for (const target of nodeClassesToSteer(ctx)) {
    const nc = karpenter.nodeClasses.find((c) => c.name === target.name);
    if (!nc) continue;
    const ps = poolSubnets(nc, ctx.inventory, ctx.usage.subnets, ctx.policy.thresholds);
    if (ps.scarce.length === 0) continue;
    const blockers: string[] = [];
    if (ps.by !== 'status') {
      blockers.push(`Karpenter's status.subnets of EC2NodeClass ${nc.name} is empty: the subnets its terms select are not known for sure, and explicit terms could drop one`);
    }
    const scarceIds = new Set(ps.scarce.map((s) => s.subnetId));
    const resolvedIds = ps.resolved.map((r) => r.id);
    const zones = new Map(ps.resolved.map((r) => [r.id, zoneOf(r.id, r.zone)]));
    const keep = new Set(resolvedIds.filter((id) => !scarceIds.has(id)));
    const added: string[] = [];
    for (const zone of new Set(ps.scarce.map((s) => s.availabilityZone))) {
      for (const id of [...allowListed].sort()) {
        if (keep.has(id) || scarceIds.has(id) || !roomy(id) || zoneOf(id) !== zone) continue;
        keep.add(id);
        added.push(id);
      }
    }
    // Never leave a zone of the current set without a subnet: its scarce subnets stay where nothing replaces them.
    const keptScarce: string[] = [];
    for (const s of ps.scarce) {
      const zone = s.availabilityZone;
      const covered = [...keep].some((id) => (zones.get(id) ?? zoneOf(id)) === zone);
      if (!covered) {
        keep.add(s.subnetId);
        keptScarce.push(s.subnetId);
      }
    }
    const removed = resolvedIds.filter((id) => !keep.has(id));
    if (removed.length === 0 && added.length === 0) continue;
    const terms = [...keep].sort().map((id) => ({ id }));
    if (terms.length === 0) continue;
    const change: KarpenterSubnetsChange = {
      type: 'karpenter-subnet-terms',
      nodeClass: nc.name,
      previousTerms: nc.subnetSelectorTerms.map((t) => ({ ...(t.id ? { id: t.id } : {}), ...(t.tags ? { tags: { ...t.tags } } : {}) })),
      terms,
      removed,
      added,
    };
    // What moves: the pools' nodes in the removed subnets (their primaries and, without custom
    // networking, their pods' addresses) leave them once Karpenter has replaced them.
    const poolLabels = new Set(target.pools.map((p) => `karpenter:${p}`));
    const ipsFreedBySubnet: Record<string, number> = {};
    let moved = 0;
    let nodes = 0;
    for (const id of removed) {
      const here = ctx.usage.nodes.filter((x) => poolLabels.has(x.nodegroup) && x.subnetId === id);
      const ips = here.reduce((a, x) => a + x.enis + (ctx.usage.cni.customNetworking ? 0 : x.podIps), 0);
      ipsFreedBySubnet[id] = ips;
      moved += ips;
      nodes += here.length;
    }
    const landing = [...keep].filter((id) => !removed.includes(id) && removed.some((r) => zones.get(r) === zoneOf(id)));
    for (const id of landing) ipsFreedBySubnet[id] = (ipsFreedBySubnet[id] ?? 0) - Math.ceil(moved / landing.length);
    // The replacements land in the subnets left in the same zone: they must have room for what moves.
    for (const zone of new Set(removed.map((r) => zones.get(r)))) {
      const need = removed.filter((r) => zones.get(r) === zone).reduce((a, r) => a + (ipsFreedBySubnet[r] ?? 0), 0);
      const into = [...keep].filter((id) => !removed.includes(id) && zoneOf(id) === zone);
      const free = into.reduce((a, id) => a + (usageById.get(id)?.available ?? byId.get(id)?.AvailableIpAddressCount ?? 0), 0);
      if (need > free - minFree) {
        blockers.push(
          `the nodes moved out of ${zone ?? 'their zone'} hold about ${n(need)} addresses; the subnets left there (${list(into)}) have ${n(free)} free, and should keep ${n(minFree)}: list a subnet with more room under actions.karpenterSubnets.subnets`,
        );
      }
    }
    const text =
      `EC2NodeClass ${nc.name} selects ${list(terms.map((t) => t.id))} by id` +
      (removed.length > 0
        ? `; Karpenter drops ${list(removed)} from status.subnets (within about a minute), launches no node there, and marks the ${plural(nodes, 'node')} of ${list(target.pools)} in ${removed.length === 1 ? 'it' : 'them'} drifted (SubnetDrift) and replaces them, as the NodePools' disruption budgets allow (default 10% of nodes at a time): about ${n(moved)} addresses freed there${landing.length > 0 ? `, taken in ${list(landing)}` : ''}`
        : '') +
      (added.length > 0 ? `; new subnets ${list(added)} (allow-listed, each with at least ${n(minFree)} free)` : '') +
      (keptScarce.length > 0 ? `; ${list(keptScarce)} kept: no allow-listed subnet with room in ${keptScarce.length === 1 ? 'its zone' : 'their zones'}` : '') +
      '.';
    out.push({
      id: `${ctx.usage.name}/karpenter-subnets/${nc.name}`,
      cluster: ctx.usage.name,
      kind: 'karpenter-subnets',
      subject: nc.name,
      reason: `NodePool${target.pools.length > 1 ? 's' : ''} ${list(target.pools)} launch${target.pools.length > 1 ? '' : 'es'} into scarce ${list([...scarceIds])} (karpenter-pool finding)`,
      findingIds: target.findingIds,
      change,
      predicted: { ipsFreedBySubnet, ipsFreed: moved, text },
      blockers,
    });
  }
  return out;
}
