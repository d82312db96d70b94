/**
 * eni-limit: a nodegroup's nodes at their instance type's IP limit (every ENI slot used, every
 * address slot taken): their pods are capped by max pods, not by the subnet.
 *
 * Design: docs/models.md#libdiagnoseeni-limitts-nodes-at-their-ip-limit
 */
import {
  cniMaxEnis,
  InstanceTypeDataError,
  maxPods,
  networkCapacityOf,
  nodeadmDefaultMaxPods,
  podIpSlots,
  type NetworkCapacity,
} from '../capacity/instance-type';
import { knownInstanceTypes } from '../capacity/known-instance-types';
import type { NodegroupUsage, NodeUsage } from '../measure/types';
import { cniWhere, finding, isScarce, list, n, pct, plural, round3, type ClusterContext } from './context';
import type { Finding } from './types';

export function diagnoseEniLimit(ctx: ClusterContext): Finding[] {
  // IPv6 clusters: a node's pods take IPv6 addresses from one /80 prefix on its primary ENI
  // (aws/amazon-vpc-cni-k8s@b5218838 pkg/awsutils/awsutils.go AllocIPv6Prefixes: "We only need to
  // allocate one IPv6 prefix per ENI"), so its IPv4 ENI and address slots cap no pod.
  if (ctx.usage.network?.ipFamily === 'ipv6') return [];
  const out: Finding[] = [];
  for (const ng of ctx.usage.nodegroups) {
    const f = nodegroupFinding(ctx, ng);
    if (f) out.push(f);
  }
  return out;
}

/** Max pods from lib/capacity/instance-type.ts (the EKS max-pods calculator). */
function nodegroupFinding(ctx: ClusterContext, ng: NodegroupUsage): Finding | undefined {
  const t = ctx.thresholds;
  // Nodes of an unknown type, or whose ENIs were not read, are never "at limit": the share is over
  // the nodes that can be judged.
  const unread = ng.nodesEnisUnread ?? 0;
  const judged = ng.nodes - ng.nodesOfUnknownType - unread;
  if (judged <= 0) return undefined;
  const share = ng.nodesAtIpLimit / judged;
  if (share < t.nodesAtIpLimitWarningShare) return undefined;
  const severity = share >= t.nodesAtIpLimitCriticalShare ? 'critical' : 'warning';

  const nodes = ctx.usage.nodes.filter((x) => x.nodegroup === ng.name);
  const atLimit = nodes.filter((x) => x.atIpLimit);
  const types = [...new Set([...ng.instanceTypes, ...nodes.map((x) => x.instanceType)])].sort();
  const modes = [...new Set(atLimit.map((x) => x.mode))].sort();

  const evidence: Record<string, number | string> = {
    nodegroup: ng.name,
    nodes: ng.nodes,
    nodesAtEniLimit: ng.nodesAtEniLimit,
    nodesAtIpLimit: ng.nodesAtIpLimit,
    nodesOfUnknownType: ng.nodesOfUnknownType,
    shareAtIpLimit: round3(share),
    mode: modes.join(','),
    instanceTypes: types.join(','),
  };
  const perType: string[] = [];
  for (const type of types) {
    const sample = nodes.find((x) => x.instanceType === type && x.limits);
    const cap = ctx.capacityOf(type);
    if (sample?.limits) {
      evidence[`maxPods:${type}`] = sample.limits.maxPods;
      evidence[`maxEnis:${type}`] = sample.limits.maxEnis;
      evidence[`ipv4PerEni:${type}`] = sample.limits.ipv4PerEni;
      const capped = atLimit.filter((x) => x.instanceType === type && x.limits);
      const fewer = capped.find((x) => x.limits?.podEnis !== undefined && x.limits.podEnis < enisWithoutReserve(ctx, x));
      const enisText = fewer?.limits?.podEnis !== undefined ? `, ${fewer.limits.podEnis} of them for pods (${whyFewer(ctx, fewer)}): ${fewer.limits.podIpSlots} pod IPs` : '';
      if (fewer?.limits?.podEnis !== undefined) {
        evidence[`podEnis:${type}`] = fewer.limits.podEnis;
        evidence[`podIpSlots:${type}`] = fewer.limits.podIpSlots;
      }
      perType.push(`${type}: ${sample.limits.maxEnis} ENIs × ${sample.limits.ipv4PerEni} IPs${enisText}, max ${sample.limits.maxPods} pods (${sample.mode})`);
    } else if (cap) {
      perType.push(`${type}: ${cap.maxEnis} ENIs × ${cap.ipv4PerEni} IPs (no node now)`);
    } else {
      perType.push(`${type}: limits unknown`);
    }
  }

  // Is the subnet the cap too? The subnets where the capped nodes are.
  const subnetIds = [...new Set(atLimit.map((x) => x.subnetId).filter((id): id is string => id !== undefined))].sort();
  const subnets = subnetIds.map((id) => ctx.subnetsById.get(id)).filter((s) => s !== undefined);
  const scarce = subnets.filter((s) => isScarce(s, t));
  const room = scarce.length === 0 ? 'yes' : scarce.length === subnets.length ? 'no' : 'partly';
  evidence['subnetHasRoom'] = subnets.length === 0 ? 'unknown' : room;
  const roomText =
    subnets.length === 0
      ? 'Their subnets are not known.'
      : room === 'yes'
        ? `Their subnets still have room (${subnets.map((s) => `${s.subnetId} ${n(s.available)} free`).join(', ')}): the cap is the instance type, not the subnet.`
        : `Their subnets: ${subnets.map((s) => `${s.subnetId} ${n(s.available)} free${isScarce(s, t) ? ' (scarce too)' : ''}`).join(', ')}: ${room === 'no' ? 'the subnets are a cap as well' : 'the instance type is the cap where the subnet has room'}.`;

  const typeOfCapped = mostCommon(atLimit.map((x) => x.instanceType)) ?? types[0] ?? '?';
  const cappedPods = atLimit.find((x) => x.instanceType === typeOfCapped)?.limits?.maxPods;
  const evidenceText = [
    `${n(ng.nodesAtIpLimit)} of ${plural(judged, 'node')} at their IP limit (${pct(share)}), ${n(ng.nodesAtEniLimit)} with every ENI attached.`,
    ...perType.map((x) => `${x}.`),
    roomText,
  ];
  if (ng.nodesOfUnknownType > 0) {
    evidenceText.push(`${plural(ng.nodesOfUnknownType, 'node')} of an unknown instance type not judged.`);
  }
  if (unread > 0) {
    evidence['nodesEnisUnread'] = unread;
    evidenceText.push(`${plural(unread, 'node')} whose ENIs were not read not judged.`);
  }
  return finding(ctx, {
    kind: 'eni-limit',
    severity,
    subject: { type: 'nodegroup', id: ng.name },
    title: `Nodegroup ${ng.name}: ${n(ng.nodesAtIpLimit)} of ${plural(judged, 'node')} at their IP limit (${typeOfCapped}${cappedPods !== undefined ? `, max ${cappedPods} pods` : ''})`,
    evidence,
    evidenceText,
    fixes: eniLimitFixes(ctx, ng, nodes, types),
  });
}

function eniLimitFixes(ctx: ClusterContext, ng: NodegroupUsage, nodes: NodeUsage[], types: string[]): string[] {
  if (ng.kind === 'auto-mode' || ng.kind === 'karpenter') return nodePoolEniLimitFixes(ctx, ng, types);
  const fixes: string[] = [];
  const caps = types.map((type) => ({ type, cap: ctx.capacityOf(type) }));
  const unknown = caps.filter((c) => !c.cap).map((c) => c.type);
  const notNitro = caps.filter((c) => c.cap && !c.cap.nitro).map((c) => c.type);
  const secondaryNodes = nodes.filter((x) => x.mode === 'secondary-ip');
  const customNetworking = ctx.usage.cni.customNetworking === true;

  // 0. MAX_ENI below what the types can attach: raising or removing it is a setting, not new nodes.
  const maxEni = ctx.usage.cni.maxEni;
  if (maxEni !== undefined) {
    const gains = caps
      .filter((c): c is { type: string; cap: NetworkCapacity } => c.cap !== undefined && cniMaxEnis(c.cap, { maxEni }) < c.cap.maxEnis)
      .map(({ type, cap }) => {
        const opts = { customNetworking, prefixDelegation: ctx.usage.cni.prefixDelegation === true };
        return `${type} ${podIpSlots(cap, { ...opts, maxEni })} → ${podIpSlots(cap, opts)} pod IPs`;
      });
    if (gains.length > 0) {
      fixes.push(
        `Raise or remove MAX_ENI=${maxEni} on ${cniWhere(ctx)} (pkg/ipamd getMaxENI caps the ENIs per node at it): ${list(gains)}, on the running nodes too, if the subnets have the room.`,
      );
    }
  }

  // 1. Prefix delegation (Nitro only: EKS user guide, "Assign more IP
  // addresses to Amazon EKS nodes with prefixes").
  if (secondaryNodes.length > 0) {
    const gains = caps
      .filter((c): c is { type: string; cap: NetworkCapacity } => c.cap !== undefined && c.cap.nitro)
      .map(({ type, cap }) => {
        const opts = { customNetworking, applyKubeletCap: true };
        return `${type} ${maxPods(cap, opts)} → ${maxPods(cap, { ...opts, prefixDelegation: true })}`;
      });
    if (notNitro.length > 0 || unknown.length > 0) {
      const reasons = [
        ...(notNitro.length > 0 ? [`${list(notNitro)} ${notNitro.length === 1 ? 'is' : 'are'} not Nitro`] : []),
        ...(unknown.length > 0 ? [`${list(unknown)}: limits unknown`] : []),
      ];
      fixes.push(
        `Prefix delegation needs Nitro instance types: ${reasons.join('; ')}. Move ${ng.name} to Nitro types first, then set ENABLE_PREFIX_DELEGATION=true on ${cniWhere(ctx)}.`,
      );
    } else if (ctx.usage.cni.prefixDelegation === true) {
      fixes.push(
        `Prefix delegation is on, but ${plural(secondaryNodes.length, 'node')} of ${ng.name} still use secondary IPs (launched before): replace them; new nodes get /28 prefixes (max pods ${list(gains)}).`,
      );
    } else {
      fixes.push(
        `Turn on prefix delegation (ENABLE_PREFIX_DELEGATION=true on ${cniWhere(ctx)}; ${list(types)} ${types.length === 1 ? 'is' : 'are'} Nitro): max pods ${list(gains)} for nodes launched after it; needs free /28 blocks in the subnets.`,
      );
    }
    // AL2023's nodeadm sets `ENIs × (IPv4 − 1) + 2` whatever the mode, lib/capacity/instance-type.ts
    // `nodeadmDefaultMaxPods`.
    const bootstrapped = nodes.some((x) => x.limits?.maxPodsSource === 'nodeadm-default');
    if (bootstrapped && notNitro.length === 0 && unknown.length === 0) {
      const defaults = caps
        .filter((c): c is { type: string; cap: NetworkCapacity } => c.cap !== undefined)
        .map(({ type, cap }) => `${type} ${nodeadmDefaultMaxPods(cap)}`);
      fixes.push(
        `${ng.name}'s nodes get max pods from their AMI's bootstrap (self-managed or custom AMI): AL2023's nodeadm sets ENIs × (IPv4 per ENI − 1) + 2 (${list(defaults)}) whatever the CNI's mode, so with prefix delegation they stay there unless the NodeConfig sets spec.kubelet.config.maxPods (AL2: bootstrap.sh --use-max-pods false --kubelet-extra-args '--max-pods=N').`,
      );
    }
  }

  // 2. More IP capacity per node / 3. fewer, larger nodes.
  const bigger = caps
    .map((c) => (c.cap ? nextSizeUp(c.type, c.cap, customNetworking) : undefined))
    .filter((x) => x !== undefined);
  fixes.push(
    `Instance types with more IP capacity (more ENIs or more IPs per ENI) for ${ng.name}: create a new nodegroup, then scale this one down (instance types cannot change in place).`,
  );
  fixes.push(
    bigger.length > 0
      ? `Fewer, larger nodes: ${bigger.map((b) => `${b.from} → ${b.to} (${b.enis} ENIs × ${b.ips} IPs, max ${b.maxPods} pods)`).join('; ')}.`
      : `Fewer, larger nodes: a larger size of the same family has more ENIs and more IPs per ENI.`,
  );
  return fixes;
}

/** ENIs that would carry pods on the node without MAX_ENI, a trunk or unmanaged ENIs. */
function enisWithoutReserve(ctx: ClusterContext, node: NodeUsage): number {
  const maxEnis = node.limits?.maxEnis ?? 0;
  return Math.max(0, maxEnis - (ctx.usage.cni.customNetworking === true ? 1 : 0));
}

/**
 * Why a node has fewer ENIs for pods than its type: MAX_ENI, its trunk ENI, unmanaged ENIs
 * (pkg/ipamd/ipamd.go `hasRoomForEni`: MAX_ENI, the trunk ENI of security groups for pods, ENIs
 * tagged no_manage or EFA-only).
 */
function whyFewer(ctx: ClusterContext, node: NodeUsage): string {
  const why: string[] = [];
  const maxEni = ctx.usage.cni.maxEni;
  if (maxEni !== undefined && node.limits && maxEni < node.limits.maxEnis) why.push(`MAX_ENI=${maxEni}`);
  if ((node.trunkEnis ?? 0) > 0) why.push('a trunk ENI for security groups for pods');
  if ((node.unmanagedEnis ?? 0) > 0) why.push(`${plural(node.unmanagedEnis ?? 0, 'ENI')} the CNI does not manage (no_manage, EFA-only)`);
  return why.join(', ');
}

/** The sizes EC2 uses, smallest first; `metal` sizes are left out. */
const SIZES = [
  'nano', 'micro', 'small', 'medium', 'large', 'xlarge', '2xlarge', '3xlarge', '4xlarge', '6xlarge',
  '8xlarge', '9xlarge', '10xlarge', '12xlarge', '16xlarge', '18xlarge', '24xlarge', '32xlarge', '48xlarge',
];

/** The next size of the same family with more max pods (in secondary-IP mode), from the bundled data. */
function nextSizeUp(
  type: string,
  cap: NetworkCapacity,
  customNetworking: boolean,
): { from: string; to: string; enis: number; ips: number; maxPods: number } | undefined {
  const [family, size] = type.split('.');
  const i = SIZES.indexOf(size ?? '');
  if (!family || i < 0) return undefined;
  const opts = { customNetworking, applyKubeletCap: true };
  const current = maxPods(cap, opts);
  for (const next of SIZES.slice(i + 1)) {
    const info = knownInstanceTypes().get(`${family}.${next}`);
    if (!info) continue;
    let bigger: NetworkCapacity;
    try {
      bigger = networkCapacityOf(info);
    } catch (err) {
      if (err instanceof InstanceTypeDataError) continue;
      throw err;
    }
    const pods = maxPods(bigger, opts);
    if (pods > current) return { from: type, to: `${family}.${next}`, enis: bigger.maxEnis, ips: bigger.ipv4PerEni, maxPods: pods };
  }
  return undefined;
}

function mostCommon(values: string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/**
 * A NodePool's nodes (Karpenter, EKS Auto Mode): their launcher picks the instance types among those
 * the NodePool's requirements allow, so the fixes point there. Auto Mode manages the node's
 * networking itself: prefixes by default, no CNI setting to change (EKS user guide, auto-networking.html).
 */
function nodePoolEniLimitFixes(ctx: ClusterContext, ng: NodegroupUsage, types: string[]): string[] {
  const pool = ng.name.slice(ng.name.indexOf(':') + 1);
  const bigger = types
    .map((type) => {
      const cap = ctx.capacityOf(type);
      return cap ? nextSizeUp(type, cap, ctx.usage.cni.customNetworking === true) : undefined;
    })
    .filter((x) => x !== undefined);
  const sizes = bigger.length > 0 ? ` (${bigger.map((b) => `${b.from} → ${b.to}, max ${b.maxPods} pods`).join('; ')})` : '';
  if (ng.kind === 'auto-mode') {
    return [
      `EKS Auto Mode picks the instance types of NodePool ${pool}: change its requirements (eks.amazonaws.com/instance-family, eks.amazonaws.com/instance-cpu, or a minimum size) to exclude ${list(types)} and allow types with more IP capacity${sizes}.`,
      `Auto Mode already uses /28 prefixes where the subnet has free /28 blocks and falls back to secondary IPs: give NodePool ${pool}'s NodeClass subnets with contiguous free space (its subnetSelectorTerms) so that nodes get prefixes.`,
    ];
  }
  return [
    `Karpenter picks the instance types of NodePool ${pool}: change its requirements (node.kubernetes.io/instance-type, karpenter.k8s.aws/instance-family or karpenter.k8s.aws/instance-cpu) to exclude ${list(types)} and allow types with more IP capacity${sizes}.`,
    ctx.usage.cni.prefixDelegation === true
      ? `Prefix delegation is on: nodes Karpenter launches from now get /28 prefixes; expire or drain NodePool ${pool}'s older nodes (spec.template.spec.expireAfter, or kubectl drain) so that they are replaced.`
      : `Turn on prefix delegation (ENABLE_PREFIX_DELEGATION=true on ${cniWhere(ctx)}, Nitro types only): Karpenter sets max pods for the nodes it launches after it; the NodePool's older nodes keep theirs until replaced.`,
  ];
}
