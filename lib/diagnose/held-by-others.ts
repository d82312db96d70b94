/**
 * ips-held-by-others: in a scarce pod subnet, a large share of the used addresses is not serving
 * this cluster's pods: idle in the nodes' warm pools (ipamd keeps them ready), or held by other
 * clusters' control planes and nodes, other workloads (`Other`), or invisible ENIs (`Unaccounted`).
 *
 * The warm pool per node is the ipamd model's estimate (lib/ipamd/model.ts, `estimateWarm`) from
 * what the node holds and the CNI settings; a node's warm addresses are counted in a subnet in
 * proportion to the pod addresses its ENIs hold there (a node's ENIs may be in several subnets with
 * custom networking or subnet discovery). Fixes in DESIGN.md's order: warm-target tuning, moving
 * noisy tenants, subnet CIDR reservations (VPC user guide, "Subnet CIDR reservations").
 */
import { cniActionsExclusion } from '../inventory/cluster-network';
import { CNI_DEFAULT_IPAMD_CONFIG, estimateWarm, ipamdConfigOf } from '../ipamd/model';
import type { IpamdConfig } from '../ipamd/types';
import { ipTargetsSet } from '../measure/cni-settings';
import { holdersUnknown } from '../measure/trusted';
import type { NodeUsage, SubnetUsage } from '../measure/types';
import { cniWhere, finding, isScarce, list, n, pct, plural, round3, subnetSeverity, type ClusterContext } from './context';
import { reservationsText, unaccountedText } from './subnet-exhaustion';
import type { Finding } from './types';

/** The VPC CNI's defaults, assumed when the settings cannot be read (lib/ipamd/model.ts). */
export const CNI_DEFAULT_CONFIG: IpamdConfig = CNI_DEFAULT_IPAMD_CONFIG;

/** Warm-pool estimate of the cluster's nodes in one subnet. */
export interface WarmInSubnet {
  warmMin: number;
  warmMax: number;
  /** Nodes whose warm pool is counted. */
  nodes: number;
  /** Nodes with addresses here whose instance type is unknown: not estimated. */
  nodesNotEstimated: number;
  /**
   * Nodes with addresses here whose ENIs elsewhere were not read: what they hold in all, and so
   * their warm pool, is unknown; not estimated (the warm pool's lower bound stays one).
   */
  nodesEnisUnread: number;
  /** Nodes whose holding fits no state ipamd rests in under the settings: their range is 0..slots. */
  nodesInconsistent: number;
  /** True when the CNI settings are unknown and the CNI defaults were assumed. */
  assumedDefaults: boolean;
  /** Of `nodes`: those whose warm pool is exact, held − the pods Kubernetes says they run (lib/measure/kube-pods.ts). */
  nodesKubernetes: number;
}

/** The ipamd settings a node runs with: the cluster's, in the mode the node is actually in. */
function configFor(ctx: ClusterContext, node: NodeUsage): { config: IpamdConfig; assumedDefaults: boolean } {
  const read = ipamdConfigOf(ctx.usage.cni); // undefined for unknown settings
  const base = read ?? CNI_DEFAULT_CONFIG;
  // A node launched before prefix delegation was turned on keeps secondary IPs (and the reverse):
  // what it holds is what its ipamd manages.
  // ipamd stops growing at the kubelet's max pods (IpamdConfig.maxPods).
  return {
    // The node's trunk and unmanaged ENIs take ENI slots but no pod address (ipamd hasRoomForEni).
    config: {
      ...base,
      prefixDelegation: node.mode === 'prefix',
      maxPods: node.limits?.maxPods,
      trunkEnis: node.trunkEnis ?? 0,
      unmanagedEnis: node.unmanagedEnis ?? 0,
    },
    assumedDefaults: read === undefined,
  };
}

export function warmInSubnet(ctx: ClusterContext, subnetId: string): WarmInSubnet {
  let warmMin = 0;
  let warmMax = 0;
  let nodes = 0;
  let nodesNotEstimated = 0;
  let nodesEnisUnread = 0;
  let nodesInconsistent = 0;
  let assumedDefaults = false;
  let nodesKubernetes = 0;
  for (const { node, podIps } of ctx.nodesBySubnet.get(subnetId) ?? []) {
    const use = node.podIpUse;
    if (use?.source === 'kubernetes' && use.warm !== undefined) {
      // Exact: what the node holds less the pods Kubernetes says hold an address, shared out as below.
      const exact = node.podIps > 0 ? (use.warm * podIps) / node.podIps : 0;
      warmMin += exact;
      warmMax += exact;
      nodes++;
      nodesKubernetes++;
      continue;
    }
    if (node.enisUnread) {
      nodesEnisUnread++;
      continue;
    }
    const cap = ctx.capacityOf(node.instanceType);
    if (!cap) {
      nodesNotEstimated++;
      continue;
    }
    const { config, assumedDefaults: assumed } = configFor(ctx, node);
    assumedDefaults ||= assumed;
    const est = estimateWarm(cap, { enis: node.enis, secondaryIps: node.secondaryIps, prefixes: node.prefixes }, config);
    if (!est.consistent) nodesInconsistent++;
    const share = node.podIps > 0 ? podIps / node.podIps : 0;
    warmMin += est.warmMin * share;
    warmMax += est.warmMax * share;
    nodes++;
  }
  return { warmMin: Math.floor(warmMin), warmMax: Math.ceil(warmMax), nodes, nodesNotEstimated, nodesEnisUnread, nodesInconsistent, assumedDefaults, nodesKubernetes };
}

export function diagnoseHeldByOthers(ctx: ClusterContext): Finding[] {
  // IPv6 clusters: no pod holds IPv4, so "used IPs that serve no pod" says nothing; the
  // subnet-exhaustion finding names the other holders of the nodes' IPv4 instead.
  if (ctx.usage.network?.ipFamily === 'ipv6') return [];
  const out: Finding[] = [];
  for (const s of ctx.podSubnets) {
    if (!isScarce(s, ctx.thresholds) || s.used === 0) continue;
    // Who holds the addresses is the whole finding: with the subnet's ENIs (or the nodes) not read,
    // every used address would look Unaccounted and every warm pool empty.
    if (holdersUnknown(ctx.gaps, s.subnetId)) continue;
    const f = subnetFinding(ctx, s);
    if (f) out.push(f);
  }
  return out;
}

function subnetFinding(ctx: ClusterContext, s: SubnetUsage): Finding | undefined {
  const warm = warmInSubnet(ctx, s.subnetId);
  const foreign = ctx.foreign.get(s.subnetId) ?? { otherControlPlanes: new Map<string, number>(), otherClusterNodes: 0 };
  const otherControlPlane = [...foreign.otherControlPlanes.values()].reduce((a, b) => a + b, 0);
  const others = s.held.Other + s.held.Unaccounted + otherControlPlane + foreign.otherClusterNodes;
  // The warm pool's lower bound: the finding holds even if the pods are as many as they could be.
  const held = warm.warmMin + others;
  const share = held / s.used;
  if (share < ctx.thresholds.heldByOthersShare) return undefined;

  const evidence: Record<string, number | string> = {
    subnetId: s.subnetId,
    availabilityZone: s.availabilityZone,
    free: s.available,
    used: s.used,
    heldShare: round3(share),
    warmMin: warm.warmMin,
    warmMax: warm.warmMax,
    warmNodes: warm.nodes,
    other: s.held.Other,
    unaccounted: s.held.Unaccounted,
    ...(s.reservations ? { reserved: s.held.Reserved } : {}),
    otherControlPlanes: otherControlPlane,
    otherClusterNodes: foreign.otherClusterNodes,
    cniSettings: warm.assumedDefaults ? 'assumed CNI defaults' : ctx.usage.cni.source,
    warmNodesKubernetes: warm.nodesKubernetes,
  };
  for (const o of s.others) evidence[`other:${o.label}`] = o.ips;
  if (warm.nodesEnisUnread > 0) evidence['warmNodesEnisUnread'] = warm.nodesEnisUnread;

  const warmRange = warm.warmMin === warm.warmMax ? n(warm.warmMin) : `${n(warm.warmMin)}–${n(warm.warmMax)}`;
  const evidenceText = [
    `${n(s.available)} free; of ${n(s.used)} used, at least ${n(held)} (${pct(share)}) serve no pod of ${ctx.usage.name}.`,
    `Warm pools of ${plural(warm.nodes, 'node')} here: ${warmRange} idle IPs (${warmSourceText(warm)}${warm.assumedDefaults ? ', assuming the CNI defaults WARM_ENI_TARGET=1: the settings of a self-managed aws-node are not visible' : ''}).`,
  ];
  if (warm.nodesNotEstimated > 0) {
    evidenceText.push(`${plural(warm.nodesNotEstimated, 'node')} of an unknown instance type: warm pool not estimated.`);
  }
  if (warm.nodesEnisUnread > 0) {
    evidenceText.push(`${plural(warm.nodesEnisUnread, 'node')} whose ENIs in other subnets were not read: warm pool not estimated.`);
  }
  if (warm.nodesInconsistent > 0) {
    evidenceText.push(
      `${plural(warm.nodesInconsistent, 'node')} hold what ipamd would not settle at under these settings (a change in flight, or settings other than those read, such as ENABLE_MANAGE_UNTAGGED_MODE): their range is wide.`,
    );
  }
  if (s.held.Other > 0) {
    evidenceText.push(`Other ENIs: ${s.others.map((o) => `${n(o.ips)} ${o.label} (${plural(o.enis, 'ENI')})`).join(', ')}.`);
  }
  if (otherControlPlane > 0) {
    evidenceText.push(
      `Control planes of other clusters: ${[...foreign.otherControlPlanes.entries()].sort().map(([c, ips]) => `${c} ${n(ips)}`).join(', ')}.`,
    );
  }
  if (foreign.otherClusterNodes > 0) evidenceText.push(`${n(foreign.otherClusterNodes)} IPs on VPC CNI ENIs of nodes of other clusters.`);
  if (s.held.Unaccounted > 0) evidenceText.push(unaccountedText(s.held.Unaccounted));
  // Reserved addresses are not counted among the others above: they are set aside, not taken.
  const reserved = reservationsText(s);
  if (reserved) evidenceText.push(reserved);

  return finding(ctx, {
    kind: 'ips-held-by-others',
    severity: subnetSeverity(s, ctx.thresholds),
    subject: { type: 'subnet', id: s.subnetId, availabilityZone: s.availabilityZone },
    title: `Subnet ${s.subnetId}: ${n(s.available)} free, ≥${n(held)} of ${n(s.used)} used IPs idle in warm pools or held by others`,
    evidence,
    evidenceText,
    fixes: heldFixes(ctx, s, warm, warmRange, foreign.otherClusterNodes, otherControlPlane),
  });
}

/** Whether the warm figure is exact (Kubernetes), estimated (ipamd model), or both, and over how many nodes. */
function warmSourceText(warm: WarmInSubnet): string {
  if (warm.nodesKubernetes === 0) return 'ipamd estimate';
  if (warm.nodesKubernetes === warm.nodes) return 'exact: held − pods, from Kubernetes';
  return `Kubernetes: ${warm.nodesKubernetes} of ${plural(warm.nodes, 'node')} exact; ${warm.nodes - warm.nodesKubernetes} ipamd estimate`;
}

function heldFixes(
  ctx: ClusterContext,
  s: SubnetUsage,
  warm: WarmInSubnet,
  warmRange: string,
  otherClusterNodes: number,
  otherControlPlane: number,
): string[] {
  const cni = ctx.usage.cni;
  const where = cniWhere(ctx);
  const fixes: string[] = [];

  // 1. Warm targets (none to set on an Auto Mode or IPv6 cluster: lib/inventory/cluster-network.ts).
  const excluded = cniActionsExclusion(ctx.usage.network);
  if (excluded !== undefined && warm.warmMax > 0) {
    fixes.push(`${excluded.slice(0, excluded.indexOf(';'))}: the warm pool here (${warmRange} IPs) is EKS's to keep, not a setting to tune.`);
  } else if (warm.warmMax > 0) {
    const release = `to release up to ${warmRange} idle IPs here`;
    fixes.push(
      cni.source === 'unknown'
        ? `Tune the warm pool on ${where} (settings not visible; the default is WARM_ENI_TARGET=1): set WARM_IP_TARGET / MINIMUM_IP_TARGET ${release}.`
        : ipTargetsSet(cni)
          ? `Tune the warm pool on ${where}: lower WARM_IP_TARGET=${cni.warmIpTarget ?? 'unset'} / MINIMUM_IP_TARGET=${cni.minimumIpTarget ?? 'unset'} ${release}.`
          : `Tune the warm pool on ${where}: set WARM_IP_TARGET / MINIMUM_IP_TARGET instead of WARM_ENI_TARGET=${cni.warmEniTarget ?? 1}${cni.prefixDelegation ? ` and WARM_PREFIX_TARGET=${cni.warmPrefixTarget ?? 1}` : ''} ${release}.`,
    );
  }

  // 2. Noisy tenants.
  const tenants = [
    ...s.others.map((o) => ({ label: o.label, ips: o.ips })),
    ...(otherClusterNodes > 0 ? [{ label: 'nodes of other clusters', ips: otherClusterNodes }] : []),
    ...(otherControlPlane > 0 ? [{ label: 'other clusters’ control planes', ips: otherControlPlane }] : []),
  ].sort((a, b) => b.ips - a.ips || a.label.localeCompare(b.label));
  if (tenants.length > 0) {
    fixes.push(
      `Move noisy tenants out of ${s.subnetId}: ${list(tenants.slice(0, 3).map((x) => `${plural(x.ips, 'IP')} of ${x.label}`))}.`,
    );
  }
  if (s.held.Unaccounted > 0) {
    fixes.push(
      `Find the ${n(s.held.Unaccounted)} unaccounted IPs: in a VPC shared through AWS RAM, ask the other accounts (describe-network-interfaces --filters Name=subnet-id,Values=${s.subnetId}).`,
    );
  }

  // 3. Reservations. A `prefix` reservation is used only for /28 prefixes; automatic single
  // addresses (other ENIs, and the CNI's secondary IPs) are never taken from a reserved range.
  const prefixMode = cni.prefixDelegation === true || (ctx.nodesBySubnet.get(s.subnetId) ?? []).some((x) => x.node.mode === 'prefix');
  fixes.push(
    prefixMode
      ? `Fence pod space with a subnet CIDR reservation (aws ec2 create-subnet-cidr-reservation --subnet-id ${s.subnetId} --reservation-type prefix --cidr <free range>): only /28 prefixes use it, other ENIs' automatic IPs stay out.`
      : `Subnet CIDR reservations keep a range for /28 prefixes only (--reservation-type prefix): with secondary IPs, give other tenants their own subnets instead.`,
  );
  return fixes;
}
