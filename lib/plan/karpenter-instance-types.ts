/**
 * The `karpenter-instance-types` planner: an allow-listed NodePool whose requirements allow only
 * IP-capped types (karpenter-pool finding) gets one `In` requirement widened (instance-size,
 * instance-type or instance-cpu) by the smallest value that brings in uncapped types within
 * `maxCapacityIncreasePercent`; every other requirement is kept. Pure; the executor is
 * lib/act/execute-karpenter.ts. Design and sources: docs/remediation.md, "Karpenter".
 */
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { instanceTypeLabels, isUncomputedTypeLabel, KARPENTER_LABEL, karpenterTypePods, satisfies } from '../capacity/karpenter-requirements';
import { list, plural } from '../diagnose/context';
import { candidateTypes, karpenterOf, nodeClassOf, poolTypes } from '../diagnose/karpenter-pool';
import type { KubeRequirement } from '../inventory/kube-types';
import { DEFAULT_KARPENTER_INSTANCE_TYPES_POLICY, type EffectivePolicy, type KarpenterInstanceTypesPolicy } from '../policy/types';
import type { ActionPlanner, KarpenterRequirementsChange, ProposedAction } from './types';

export function karpenterInstanceTypesPolicy(policy: EffectivePolicy): KarpenterInstanceTypesPolicy {
  return policy.actions.karpenterInstanceTypes ?? DEFAULT_KARPENTER_INSTANCE_TYPES_POLICY;
}

/** The requirement keys the planner widens, in this order. */
const WIDENABLE = [KARPENTER_LABEL.size, KARPENTER_LABEL.instanceType, KARPENTER_LABEL.cpu] as const;

const pct = (after: number, before: number): number => (before > 0 ? Math.round(((after - before) / before) * 1000) / 10 : 0);

function copy(r: KubeRequirement): KubeRequirement {
  return { key: r.key, operator: r.operator, ...(r.values ? { values: [...r.values] } : {}), ...(r.minValues !== undefined ? { minValues: r.minValues } : {}) };
}

export const planKarpenterInstanceTypes: ActionPlanner = (ctx) => {
  const karpenter = karpenterOf(ctx.inventory);
  const policy = karpenterInstanceTypesPolicy(ctx.policy);
  const allowedPools = new Set(policy.nodePools);
  if (!karpenter || allowedPools.size === 0) return [];
  const types = candidateTypes(ctx.instanceTypes);
  const out: ProposedAction[] = [];
  for (const f of ctx.findings) {
    if (f.kind !== 'karpenter-pool' || !String(f.evidence['cause'] ?? '').includes('instance-types')) continue;
    const pool = karpenter.nodePools.find((p) => p.name === f.evidence['nodePool']);
    if (!pool || !allowedPools.has(pool.name)) continue;
    const nodeClass = nodeClassOf(pool, karpenter.nodeClasses);
    const kubelet = { ...(nodeClass?.kubeletMaxPods !== undefined ? { maxPods: nodeClass.kubeletMaxPods } : {}), ...(nodeClass?.podsPerCore !== undefined ? { podsPerCore: nodeClass.podsPerCore } : {}) };
    const now = poolTypes(pool, nodeClass, types);
    if (!now.allCapped) continue;
    const maxVcpus = Math.max(...now.allowed.map((t) => t.cap.vcpus));
    const maxMem = Math.max(...now.allowed.map((t) => t.cap.memoryMiB));
    const limit = 1 + policy.maxCapacityIncreasePercent / 100;
    const nowNames = new Set(now.allowed.map((t) => t.instanceType));

    let best: { index: number; value: string; added: InstanceTypeInfo[]; vcpus: number } | undefined;
    for (const key of WIDENABLE) {
      const index = pool.requirements.findIndex((r) => r.key === key && r.operator === 'In');
      if (index < 0) continue;
      const others = pool.requirements.filter((_, i) => i !== index);
      // Candidate values: those of types every other requirement allows, uncapped, within the bound.
      const byValue = new Map<string, InstanceTypeInfo[]>();
      for (const info of types) {
        const labels = instanceTypeLabels(info);
        if (nowNames.has(info.InstanceType ?? '') || !others.every((r) => satisfies(labels, r))) continue;
        const pods = karpenterTypePods(info, kubelet);
        if (!pods || pods.ipCapped || pods.cap.vcpus > maxVcpus * limit || pods.cap.memoryMiB > maxMem * limit) continue;
        for (const v of labels[key] ?? []) byValue.set(v, [...(byValue.get(v) ?? []), info]);
      }
      for (const [value, added] of byValue) {
        const vcpus = Math.min(...added.map((i) => i.VCpuInfo?.DefaultVCpus ?? Infinity));
        if (!best || vcpus < best.vcpus || (vcpus === best.vcpus && value.localeCompare(best.value) < 0)) best = { index, value, added, vcpus };
      }
      if (best) break;
    }
    if (!best) continue;
    const chosen = best;
    const requirements = pool.requirements.map((r, i) => (i === chosen.index ? { ...copy(r), values: [...(r.values ?? []), chosen.value] } : copy(r)));
    const widenedKey = pool.requirements[chosen.index]?.key ?? '';
    // Everything the new list allows that the old did not (the value may bring in capped types too).
    const after = poolTypes({ ...pool, requirements }, nodeClass, types);
    const addedTypes = after.allowed
      .filter((t) => !nowNames.has(t.instanceType))
      .map((t) => ({ instanceType: t.instanceType, pods: t.karpenterPods, vcpus: t.cap.vcpus, memoryMiB: t.cap.memoryMiB }));
    const increasePercent = Math.max(0, ...addedTypes.map((t) => Math.max(pct(t.vcpus, maxVcpus), pct(t.memoryMiB, maxMem))));
    const blockers: string[] = [];
    if (increasePercent > policy.maxCapacityIncreasePercent) {
      blockers.push(`an added type has ${increasePercent}% more vCPUs or memory than the largest allowed now, above actions.karpenterInstanceTypes.maxCapacityIncreasePercent (${policy.maxCapacityIncreasePercent})`);
    }
    const unknown = pool.requirements.filter((r) => isUncomputedTypeLabel(r.key)).map((r) => r.key);
    const change: KarpenterRequirementsChange = {
      type: 'karpenter-requirements',
      nodePool: pool.name,
      previous: pool.requirements.map(copy),
      requirements,
      widened: { key: widenedKey, added: [chosen.value] },
      addedTypes,
      increasePercent,
    };
    const uncapped = addedTypes.filter((t) => !after.capped.some((c) => c.instanceType === t.instanceType));
    out.push({
      id: `${ctx.usage.name}/karpenter-instance-types/${pool.name}`,
      cluster: ctx.usage.name,
      kind: 'karpenter-instance-types',
      subject: pool.name,
      reason: `NodePool ${pool.name} allows only instance types whose IP capacity caps pods below what their vCPUs carry (karpenter-pool finding)`,
      findingIds: [f.id],
      change,
      predicted: {
        podHeadroomGained: Math.max(0, ...uncapped.map((t) => t.pods)) - Math.max(...now.allowed.map((t) => t.karpenterPods)),
        text:
          `${widenedKey} In gains ${chosen.value}: Karpenter may launch ${list(uncapped.slice(0, 6).map((t) => `${t.instanceType} (${t.pods} pods, ${t.vcpus} vCPUs)`))}` +
          `${uncapped.length > 6 ? ` and ${plural(uncapped.length - 6, 'more type')}` : ''} where it now has at most ${Math.max(...now.allowed.map((t) => t.karpenterPods))} pods per node; ` +
          `at most ${increasePercent}% more vCPUs or memory per node than the largest type allowed now. Existing nodes are not replaced: their labels still satisfy the widened requirement, so Karpenter does not mark them drifted (RequirementsDrifted is only for a NodeClaim no longer compatible); new launches and consolidation may use the added types.` +
          (unknown.length > 0 ? ` Requirements on ${list([...new Set(unknown)])} are not in the bundled data: Karpenter may exclude some of these types.` : ''),
      },
      blockers,
    });
  }
  return out;
};
