/**
 * The `leaked-enis` planner: delete the available ENIs the VPC CNI created for this cluster's
 * instances that are gone (lib/measure/leaked-enis.ts), oldest first, at most the policy's count,
 * only those tagged with this cluster and old enough. Pure. Design: docs/leaked-enis.md.
 */
import { list, n, plural } from '../diagnose/context';
import type { LeakedEni } from '../measure/types';
import { LEAKED_ENI_MIN_AGE_FLOOR_MINUTES } from '../policy/types';
import type { ActionPlanner, ProposedAction } from './types';

/** The policy's minimum age, never below the floor (a policy built in code may say less). */
export function leakedEniMinAge(minAgeMinutes: number): number {
  return Math.max(LEAKED_ENI_MIN_AGE_FLOOR_MINUTES, minAgeMinutes);
}

export const planLeakedEnis: ActionPlanner = (ctx) => {
  const policy = ctx.policy.actions.leakedEnis;
  if (!policy.allowed) return [];
  const cluster = ctx.usage.name;
  const own = (ctx.usage.leakedEnis ?? []).filter((e) => e.clusterTag === cluster);
  if (own.length === 0) return [];
  const minAge = leakedEniMinAge(policy.minAgeMinutes);
  const noAge = own.filter((e) => e.ageMinutes === undefined);
  const young = own.filter((e) => e.ageMinutes !== undefined && e.ageMinutes < minAge);
  const old = own
    .filter((e): e is LeakedEni & { ageMinutes: number } => e.ageMinutes !== undefined && e.ageMinutes >= minAge)
    .sort((a, b) => b.ageMinutes - a.ageMinutes || a.networkInterfaceId.localeCompare(b.networkInterfaceId));
  const chosen = old.slice(0, Math.max(0, policy.maxEnisPerAction));
  const ipsFreedBySubnet: Record<string, number> = {};
  for (const e of chosen) ipsFreedBySubnet[e.subnetId] = (ipsFreedBySubnet[e.subnetId] ?? 0) + e.ips;
  const ipsFreed = chosen.reduce((sum, e) => sum + e.ips, 0);
  const subnets = new Set(own.map((e) => e.subnetId));
  const findingIds = ctx.findings.filter((f) => f.kind === 'leaked-enis' && subnets.has(f.subject.id)).map((f) => f.id);

  const left: string[] = [];
  if (young.length > 0) left.push(`${plural(young.length, 'ENI')} younger than ${n(minAge)} minutes (policy actions.leakedEnis.minAgeMinutes)`);
  if (noAge.length > 0) left.push(`${plural(noAge.length, 'ENI')} without a readable createdAt tag (the CNI's own cleanup tags it first)`);
  if (old.length > chosen.length) left.push(`${plural(old.length - chosen.length, 'more ENI')} for a later action (policy actions.leakedEnis.maxEnisPerAction ${n(policy.maxEnisPerAction)})`);
  const others = (ctx.usage.leakedEnis ?? []).length - own.length;
  if (others > 0) left.push(`${plural(others, 'ENI')} not tagged with ${cluster} (another cluster's, or untagged): never deleted by ${cluster}'s action`);

  const blockers: string[] = [];
  if (chosen.length === 0) blockers.push(`no leaked ENI of ${cluster} is old enough to delete: ${left.join('; ')}`);
  const vpc = ctx.usage.vpcId ?? ctx.inventory.cluster.resourcesVpcConfig?.vpcId ?? cluster;
  const action: ProposedAction = {
    id: `${cluster}/leaked-enis/${vpc}`,
    cluster,
    kind: 'leaked-enis',
    subject: vpc,
    reason: `${plural(own.length, 'available ENI')} the VPC CNI created for ${cluster}'s instances that are gone hold ${plural(own.reduce((s, e) => s + e.ips, 0), 'address', 'addresses')} for nothing.`,
    findingIds,
    change: {
      type: 'delete-enis',
      clusterTag: cluster,
      minAgeMinutes: minAge,
      enis: chosen.map((e) => ({ networkInterfaceId: e.networkInterfaceId, subnetId: e.subnetId, instanceId: e.instanceId, ips: e.ips })),
    },
    predicted: {
      ipsFreed,
      ipsFreedBySubnet,
      text:
        chosen.length > 0
          ? `Deleting ${list(chosen.map((e) => e.networkInterfaceId))} frees ${plural(ipsFreed, 'address', 'addresses')} (${Object.entries(ipsFreedBySubnet)
              .map(([id, ips]) => `${id} ${n(ips)}`)
              .join(', ')}); each is re-read first and left alone if it is attached, retagged or gone.${left.length > 0 ? ` Left: ${left.join('; ')}.` : ''}`
          : `Nothing to delete now: ${left.join('; ')}.`,
    },
    blockers,
  };
  return [action];
};
