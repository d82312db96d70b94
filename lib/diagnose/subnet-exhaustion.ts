/**
 * subnet-exhaustion: a pod subnet close to full, and a nodegroup whose every subnet in one AZ is.
 *
 * An ENI lives in one subnet and a node's ENIs are in its AZ, so a nodegroup's nodes in an AZ
 * whose subnets are full get no pod addresses even when other AZs have plenty: the AZ case names
 * the nodegroup and the AZ. Fixes in DESIGN.md's order ("Why clusters run out of IPs"): warm pools,
 * CNI subnet discovery (`kubernetes.io/role/cni`, VPC CNI 1.18+: EKS user guide, "Configure subnet
 * selection for Pod IP addresses", https://docs.aws.amazon.com/eks/latest/userguide/cni-subnet-selection.html),
 * custom networking on a secondary CIDR.
 */
import { HOLDERS } from '../measure/eni';
import { ipTargetsSet } from '../measure/cni-settings';
import { holdersUnknown } from '../measure/trusted';
import type { NodegroupUsage, SubnetUsage } from '../measure/types';
import {
  cniVersion,
  cniWhere,
  finding,
  isScarce,
  list,
  n,
  pct,
  plural,
  round3,
  spareDiscoverySubnets,
  subnetSeverity,
  type ClusterContext,
} from './context';
import type { Finding } from './types';

/** VPC CNI subnet discovery needs 1.18.0 or later (EKS user guide, cni-subnet-selection). */
const SUBNET_DISCOVERY_MIN_VERSION: [number, number] = [1, 18];

export function diagnoseSubnetExhaustion(ctx: ClusterContext): Finding[] {
  const out: Finding[] = [];
  for (const s of ctx.podSubnets) {
    if (isScarce(s, ctx.thresholds)) out.push(subnetFinding(ctx, s));
  }
  for (const ng of ctx.usage.nodegroups) out.push(...azFindings(ctx, ng));
  return out;
}

/**
 * `NodePrimary 21, CniSecondary 219, …` in words, with what the `Other` addresses are; `unknown`
 * when the subnet's ENIs (or the nodes) were not all read (lib/measure/trusted.ts `holdersUnknown`).
 */
export function holdersText(s: SubnetUsage, unknown = false): string {
  if (unknown) return 'Held: unknown (the ENIs here, or the nodes, could not all be read).';
  const parts = [
    `${n(s.held.NodePrimary)} node/ENI primary`,
    `${n(s.held.CniSecondary)} pod secondary`,
    `${n(s.held.CniPrefix)} in /28 prefixes`,
    `${n(s.held.ControlPlane)} EKS control plane`,
    `${n(s.held.Other)} other${s.others.length > 0 ? ` (${s.others.map((o) => `${n(o.ips)} ${o.label}`).join(', ')})` : ''}`,
    `${n(s.held.Unaccounted)} unaccounted`,
  ];
  if (s.reservations) parts.push(`${n(s.held.Reserved)} reserved and unused`);
  return `Held: ${parts.join(', ')}.`;
}

/**
 * What a subnet's CIDR reservations reserve, by type, and that their unused addresses count as
 * used: AvailableIpAddressCount leaves them out (docs/remediation.md, "Subnet CIDR reservations").
 * Undefined for a subnet without reservations.
 */
export function reservationsText(s: SubnetUsage): string | undefined {
  const r = s.reservations;
  if (!r) return undefined;
  const parts: string[] = [];
  if (r.prefix.count > 0) {
    parts.push(`${plural(r.prefix.count, 'prefix reservation')} over ${n(r.prefix.addresses)} IPs (${n(r.prefix.unused)} unused; EC2 takes the /28 prefixes it assigns from them first)`);
  }
  if (r.explicit.count > 0) {
    parts.push(`${plural(r.explicit.count, 'explicit reservation')} over ${n(r.explicit.addresses)} IPs (${n(r.explicit.unused)} unused; only assigned by hand, never to a pod)`);
  }
  return `Subnet CIDR reservations: ${parts.join('; ')}. Their ${n(s.held.Reserved)} unused IPs are counted as used (AvailableIpAddressCount leaves them out), held by no ENI: reserved, not taken by others.`;
}

function subnetEvidence(s: SubnetUsage, holders: 'known' | 'unknown'): Record<string, number | string> {
  const e: Record<string, number | string> = {
    subnetId: s.subnetId,
    availabilityZone: s.availabilityZone,
    cidrBlock: s.cidrBlock,
    free: s.available,
    usable: s.usable,
    used: s.used,
    utilization: round3(s.utilization),
  };
  for (const h of HOLDERS) e[`held${h}`] = holders === 'known' ? s.held[h] : 'unknown';
  return e;
}

function subnetFinding(ctx: ClusterContext, s: SubnetUsage): Finding {
  // The free count rests on the subnet's own record; who holds the used ones, and which nodes
  // have ENIs here, on its ENIs and the nodes.
  const unknown = holdersUnknown(ctx.gaps, s.subnetId);
  const nodes = ctx.nodesBySubnet.get(s.subnetId) ?? [];
  const byGroup = new Map<string, number>();
  for (const x of nodes) byGroup.set(x.node.nodegroup, (byGroup.get(x.node.nodegroup) ?? 0) + 1);
  const groups = [...byGroup.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const evidenceText = [
    `${n(s.available)} of ${n(s.usable)} usable IPs free (${pct(s.utilization)} used) in ${s.cidrBlock}.`,
    holdersText(s, unknown),
  ];
  if (!unknown && s.held.Unaccounted > 0) evidenceText.push(unaccountedText(s.held.Unaccounted));
  const reserved = unknown ? undefined : reservationsText(s);
  if (reserved) evidenceText.push(reserved);
  if (!unknown && groups.length > 0) {
    evidenceText.push(`Nodes with ENIs here: ${groups.map(([g, c]) => `${g} (${plural(c, 'node')})`).join(', ')}.`);
  }
  return finding(ctx, {
    kind: 'subnet-exhaustion',
    severity: subnetSeverity(s, ctx.thresholds),
    subject: { type: 'subnet', id: s.subnetId, availabilityZone: s.availabilityZone },
    title: `Subnet ${s.subnetId} (${s.availabilityZone}): ${n(s.available)} of ${n(s.usable)} IPs free, ${pct(s.utilization)} used`,
    evidence: { ...subnetEvidence(s, unknown ? 'unknown' : 'known'), nodes: unknown ? 'unknown' : nodes.length },
    evidenceText,
    fixes: [
      ...exhaustionFixes(ctx, s.vpcId, s.availabilityZone, new Set([s.subnetId])),
      // Explicit reservations are never given to pods: what is no longer needed can go back.
      ...(!unknown && (s.reservations?.explicit.unused ?? 0) > 0
        ? [
            `Review the explicit subnet CIDR reservations of ${s.subnetId} (${n(s.reservations?.explicit.unused ?? 0)} unused IPs no pod can take): aws ec2 get-subnet-cidr-reservations --subnet-id ${s.subnetId}; delete what is no longer needed (delete-subnet-cidr-reservation).`,
          ]
        : []),
    ],
  });
}

/** The AZ case: every subnet of a nodegroup in one AZ is scarce. */
function azFindings(ctx: ClusterContext, ng: NodegroupUsage): Finding[] {
  // An empty nodegroup that is not asked to grow starves no pod.
  if (ng.nodes === 0 && (ng.desiredSize ?? 0) === 0) return [];
  const byAz = new Map<string, SubnetUsage[]>();
  for (const id of ng.subnetIds) {
    const s = ctx.subnetsById.get(id);
    if (!s) continue;
    byAz.set(s.availabilityZone, [...(byAz.get(s.availabilityZone) ?? []), s]);
  }
  const out: Finding[] = [];
  for (const [az, subnets] of [...byAz.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    if (!subnets.every((s) => isScarce(s, ctx.thresholds))) continue;
    const free = subnets.reduce((sum, s) => sum + s.available, 0);
    // With DescribeInstances failed, the nodes there are not known (not 0).
    const nodesKnown = !ctx.gaps.instances;
    const nodesHere = ctx.usage.nodes.filter((x) => x.nodegroup === ng.name && x.availabilityZone === az).length;
    const nodesText = nodesKnown ? plural(nodesHere, 'node') : 'an unknown number of nodes';
    const elsewhere = [...byAz.entries()]
      .filter(([other]) => other !== az)
      .map(([other, ss]) => ({ az: other, free: ss.reduce((sum, s) => sum + s.available, 0), subnets: ss }))
      .sort((a, b) => b.free - a.free);
    const severity = subnets.every((s) => subnetSeverity(s, ctx.thresholds) === 'critical') ? 'critical' : 'warning';
    const ids = subnets.map((s) => s.subnetId);
    const which = subnets.length === 1 ? `its only subnet there has ${n(free)} free IPs` : `its ${subnets.length} subnets there have ${n(free)} free IPs in all`;
    const evidenceText = [
      `Nodegroup ${ng.name} has ${nodesText} in ${az}; ${which} (${subnets.map((s) => `${s.subnetId} ${n(s.available)} of ${n(s.usable)}`).join(', ')}).`,
      elsewhere.length > 0
        ? `Its other AZs: ${elsewhere.map((e) => `${e.az} ${n(e.free)} free`).join(', ')}: nodes in ${az} cannot use them (an ENI is in its node's AZ).`
        : `The nodegroup has no subnet in another AZ.`,
    ];
    const fixes = exhaustionFixes(ctx, subnets[0]?.vpcId ?? '', az, new Set(ids));
    const roomy = elsewhere.find((e) => e.free >= ctx.thresholds.subnetFreeIpsWarning);
    if (ng.kind === 'managed' && roomy) {
      fixes.push(
        `Or move capacity out of ${az}: a new nodegroup in subnets with room (${roomy.az}: ${n(roomy.free)} free), then scale ${ng.name} down (a managed nodegroup's subnets cannot change in place).`,
      );
    }
    out.push(
      finding(ctx, {
        kind: 'subnet-exhaustion',
        severity,
        subject: { type: 'availability-zone', id: `${ng.name}@${az}`, availabilityZone: az },
        title: `Nodegroup ${ng.name} in ${az}: ${subnets.length === 1 ? `its subnet has ${n(free)} IPs free` : `${subnets.length} subnets, ${n(free)} IPs free`}, ${nodesKnown ? plural(nodesHere, 'node') : 'nodes unknown'} there`,
        evidence: {
          nodegroup: ng.name,
          availabilityZone: az,
          subnetIds: ids.join(','),
          free,
          usable: subnets.reduce((sum, s) => sum + s.usable, 0),
          nodesInAz: nodesKnown ? nodesHere : 'unknown',
          freeInOtherAzs: elsewhere.reduce((sum, e) => sum + e.free, 0),
        },
        evidenceText,
        fixes,
      }),
    );
  }
  return out;
}

export function unaccountedText(unaccounted: number): string {
  return `${n(unaccounted)} used IPs are on no ENI this account can see: ENIs of other accounts in a shared VPC, or IPs taken between the reads.`;
}

/** The fixes of a full subnet or AZ, least disruptive first (DESIGN.md). */
export function exhaustionFixes(ctx: ClusterContext, vpcId: string, az: string, except: Set<string>): string[] {
  const special = networkExhaustionFixes(ctx, vpcId, az);
  if (special !== undefined) return special;
  const cni = ctx.usage.cni;
  const where = cniWhere(ctx);
  const fixes: string[] = [];

  // 1. Warm pools.
  const nodesHere = ctx.usage.nodes.filter((node) => node.subnetId !== undefined && except.has(node.subnetId));
  if (cni.source === 'unknown') {
    fixes.push(
      `Shrink warm pools: set WARM_IP_TARGET and MINIMUM_IP_TARGET on ${where} instead of WARM_ENI_TARGET (its default, 1, keeps a spare ENI's worth of IPs on every node).`,
    );
  } else if (cni.prefixDelegation && nodesHere.some((node) => node.mode === 'prefix')) {
    // Prefix advice only where nodes use prefixes: nodes launched before prefix delegation, or
    // of a non-Nitro type, keep secondary IPs and the WARM_ENI_TARGET pool.
    fixes.push(
      `Shrink warm pools: in prefix mode each node keeps WARM_PREFIX_TARGET=${cni.warmPrefixTarget ?? 'unset'} spare /28s (16 IPs each); set WARM_IP_TARGET / MINIMUM_IP_TARGET on ${where} to hold fewer.`,
    );
  } else if (ipTargetsSet(cni)) {
    fixes.push(
      `Shrink warm pools: WARM_IP_TARGET=${cni.warmIpTarget ?? 'unset'}, MINIMUM_IP_TARGET=${cni.minimumIpTarget ?? 'unset'} on ${where}: lower them if pods start slower than they churn.`,
    );
  } else if (cni.prefixDelegation && nodesHere.some((node) => node.mode === undefined)) {
    // Whether these nodes hold prefixes or secondary IPs is not known: their ENIs were not read.
    fixes.push(
      `Shrink warm pools: set WARM_IP_TARGET and MINIMUM_IP_TARGET on ${where} (whether the nodes here hold /28 prefixes or secondary IPs is unknown: their ENIs were not read).`,
    );
  } else {
    fixes.push(
      `Shrink warm pools: replace WARM_ENI_TARGET=${cni.warmEniTarget ?? 1} (a spare ENI's worth of IPs on every node) with WARM_IP_TARGET and MINIMUM_IP_TARGET on ${where}.`,
    );
  }

  // 2. Subnets for the CNI to discover.
  const spare = spareDiscoverySubnets(ctx, vpcId, az, except);
  const version = cniVersion(ctx);
  const tooOld =
    version !== undefined &&
    (version[0] < SUBNET_DISCOVERY_MIN_VERSION[0] ||
      (version[0] === SUBNET_DISCOVERY_MIN_VERSION[0] && version[1] < SUBNET_DISCOVERY_MIN_VERSION[1]));
  const upgrade = tooOld ? ` (upgrade the vpc-cni add-on from ${cni.addonVersion ?? '?'} to 1.18+ first)` : '';
  if (spare.length > 0) {
    const named = spare.slice(0, 3).map((x) => `${x.subnetId} (${n(x.available)} free)`);
    fixes.push(
      `Already tagged kubernetes.io/role/cni in ${az}: ${list(named)}. New pod ENIs go there with subnet discovery (VPC CNI 1.18+, ENABLE_SUBNET_DISCOVERY not false)${upgrade}; check it is on.`,
    );
  } else {
    fixes.push(
      `Add a subnet in ${az} (VPC ${vpcId}) tagged kubernetes.io/role/cni: VPC CNI 1.18+ puts new pod ENIs in it${upgrade}.`,
    );
  }

  // 3. Custom networking on a secondary CIDR.
  fixes.push(
    cni.customNetworking
      ? `Custom networking is on: give the ENIConfig of ${az} a larger subnet (a secondary CIDR from 100.64.0.0/10); nodes must be replaced to move.`
      : `Custom networking: pods in a secondary VPC CIDR from 100.64.0.0/10 (AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true + an ENIConfig per AZ); nodes must be replaced, and lose one ENI's worth of pods.`,
  );
  return fixes;
}

/**
 * The fixes of a full subnet on an EKS Auto Mode or IPv6 cluster, where the VPC CNI's settings are
 * not the lever (lib/inventory/cluster-network.ts); undefined on a VPC CNI IPv4 cluster.
 */
function networkExhaustionFixes(ctx: ClusterContext, vpcId: string, az: string): string[] | undefined {
  const network = ctx.usage.network;
  if (network?.ipFamily === 'ipv6') {
    // IPv6 clusters: pods take no IPv4; every node (and Fargate pod's host) takes one IPv4 for its
    // primary ENI (EKS user guide cni-ipv6.html, "IP address assignments": "All nodes are assigned
    // an IPv4 and IPv6 address").
    return [
      `IPv6 cluster: pods take IPv6 addresses, so this subnet's IPv4 goes to nodes (one each for the primary ENI) and to other ENIs: find the largest other holders in the report and move them out.`,
      `Give new nodes a subnet in ${az} (VPC ${vpcId}) with free IPv4 and an IPv6 CIDR (auto-assign IPv6 on), in the nodegroup or NodePool subnets.`,
    ];
  }
  if (network?.autoMode === true) {
    // Auto Mode: EKS manages pod networking from the NodeClass (subnetSelectorTerms, podSubnetSelectorTerms);
    // no warm-pool setting exists (EKS user guide, auto-networking.html).
    return [
      `Auto Mode cluster: the CNI is managed by EKS (no warm pool settings to change): give the NodeClass more subnets in ${az} (VPC ${vpcId}) through its subnetSelectorTerms, or separate pod subnets through podSubnetSelectorTerms.`,
      `Auto Mode uses /28 prefixes where the subnet has free /28 blocks: prefer subnets with contiguous free space, and keep other tenants out of the nodes' subnets.`,
      `For lasting room, an IPv6 cluster (a new cluster: the IP family cannot change): pods then take no IPv4 at all.`,
    ];
  }
  return undefined;
}
