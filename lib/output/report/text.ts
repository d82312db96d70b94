/**
 * The text report of a sample, as the CLI prints it. Pure: Usage in, string out.
 *
 * Design: docs/cli.md#liboutputreporttextts-the-text-report
 */
import { networkPlanNotes } from '../../plan/network-notes';
import type { Finding } from '../../diagnose/types';
import type { ClusterInventory, Inventory } from '../../inventory/types';
import type { ClusterUsage, Usage } from '../../measure/types';
import { capacityUnknown, gapsOf, holdersUnknown, nodeEnisUnknown, type ClusterGaps } from './gaps';
import { n, pct } from '../../diagnose/context';
import { kubeAccessLine } from '../../diagnose/kube-access';
import { EKS_CONTROL_PLANE_MIN_FREE_IPS, EKS_CONTROL_PLANE_RECOMMENDED_FREE_IPS } from '../../measure/measure';
import { groupFindings, sectionLines } from './findings';
import { colourReport, REPORT_WIDTH, wrapLines } from './format';
import { table } from './table';

/** `1 IP`, `2 IPs`; `1,024 ENIs`. */
const count = (value: number, word: string): string => `${n(value)} ${word}${value === 1 ? '' : 's'}`;

function cniLine(c: ClusterUsage): string {
  const cni = c.cni;
  // Auto Mode answers DescribeAddon vpc-cni with ResourceNotFound: EKS runs the networking itself.
  if (c.network?.autoMode && cni.install === 'self-managed') return 'managed by EKS Auto Mode (no vpc-cni add-on)';
  if (cni.install === 'self-managed') return 'self-managed aws-node (its settings are not visible to the AWS API)';
  if (cni.install === 'unknown') return 'unknown (the vpc-cni add-on could not be read)';
  const settings: string[] = [];
  if (cni.prefixDelegation) settings.push('ENABLE_PREFIX_DELEGATION=true');
  if (cni.customNetworking) settings.push('AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true');
  if (cni.warmEniTarget !== undefined) settings.push(`WARM_ENI_TARGET=${cni.warmEniTarget}`);
  if (cni.warmIpTarget !== undefined) settings.push(`WARM_IP_TARGET=${cni.warmIpTarget}`);
  if (cni.minimumIpTarget !== undefined) settings.push(`MINIMUM_IP_TARGET=${cni.minimumIpTarget}`);
  if (cni.warmPrefixTarget !== undefined) settings.push(`WARM_PREFIX_TARGET=${cni.warmPrefixTarget}`);
  const origin = cni.source === 'defaults' ? ' (CNI defaults)' : '';
  return `managed vpc-cni ${cni.addonVersion ?? ''}${origin}: ${settings.join(' ')}`.replace(/\s+:/, ':');
}

/**
 * The cluster's network when it is not the VPC CNI's IPv4 (EKS Auto Mode, IPv6) and who launches its
 * nodes when a NodePool does (Karpenter, Auto Mode): lib/plan/network-notes.ts words it as the plan does.
 */
function networkLines(c: ClusterUsage): string[] {
  const lines: string[] = [];
  const net = c.network;
  if (net?.autoMode) {
    const also = [net.autoModeBlockStorage ? 'block storage' : '', net.autoModeLoadBalancing ? 'load balancing' : ''].filter((x) => x !== '');
    const pools = net.autoModeNodePools.length > 0 ? `; NodePools ${net.autoModeNodePools.join(', ')}` : '';
    lines.push(`Auto Mode: compute${also.length > 0 ? `, ${also.join(', ')}` : ''}${pools}`);
  }
  if (net?.ipFamily === 'ipv6') lines.push('IP family: ipv6 (pods take IPv6; nodes still take IPv4 for their primary ENI)');
  lines.push(...networkPlanNotes(c).map((note) => `Note: ${note}.`));
  return lines;
}

/** Which subnets the CNI would use for new pod ENIs, per AZ, and why each subnet is in or out. */
function cniDiscoveryLines(c: ClusterUsage, unknown: boolean, say: (...text: string[]) => void): void {
  const d = c.cniDiscovery;
  if (!d) return;
  say('', `  Subnets for new pod ENIs: ${d.why}${unknown ? ' (the tagged subnets were not read: the list may be short)' : ''}`);
  for (const z of d.byAz) {
    const free = (id: string): string => n(d.subnets.find((s) => s.subnetId === id)?.available ?? 0);
    say(`    ${z.availabilityZone}: ${z.order.length > 0 ? z.order.map((id) => `${id} (${free(id)} free)`).join(', then ') : d.mode === 'discovery' || d.mode === 'primary-only' ? 'none: no ENI can be created here' : 'not known'}`);
  }
  for (const s of d.subnets) say(`      ${s.subnetId}: ${s.used === true ? 'in' : s.used === false ? 'out' : '?'}, ${s.reason}`);
}

function findingsSection(findings: Finding[], complete: boolean): string[] {
  if (findings.length === 0) {
    return [complete ? '  Findings: none' : '  Findings: none in the data that could be read (it is incomplete: a finding may be missing)'];
  }
  const sections = groupFindings(findings);
  const lines = [`  Findings (${sections.length})`];
  for (const section of sections) {
    for (const l of sectionLines(section)) lines.push(l === '' ? '' : `    ${l}`);
    lines.push('');
  }
  while (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** A figure, or `?` when it rests on a read that failed. */
const cell = (value: number | string, unknown: boolean): string => (unknown ? '?' : typeof value === 'number' ? n(value) : value);

/** At most a few ids, then how many more. */
function someIds(ids: readonly string[], max = 3): string {
  return ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')} and ${ids.length - max} more`;
}

/** Why the subnet figures are unknown, in a few words. */
function unreadSubnetsText(g: ClusterGaps): string {
  const parts: string[] = [];
  if (g.unreadSubnets === 'all') parts.push('DescribeSubnets could not be read');
  else if (g.unreadSubnets.length > 0) parts.push(`${someIds(g.unreadSubnets)} not read`);
  if (g.discoveryUnknown) parts.push('the subnets tagged kubernetes.io/role/cni are not known');
  return parts.join('; ');
}

/** A count, or `n/a` when there is none (no subnet to take the least of). */
const fmt = (value: number | undefined): string => (value === undefined ? 'n/a' : n(value));

/** The summary of a cluster's pod subnets, then of its nodes (two lines), with what is unknown said so. */
function podSubnetsLine(c: ClusterUsage, g: ClusterGaps): string {
  const t = c.totals;
  let free: string;
  if (g.podSubnetsUnknown) {
    const read = c.subnets.filter((s) => s.roles.includes('node') || s.roles.includes('cni-discovery'));
    free =
      `free IPs unknown (${unreadSubnetsText(g)})` +
      (read.length > 0 ? `, ${n(t.availableIps)} free in the ${read.length} read, least in one of them ${fmt(t.minSubnetAvailable)}` : '');
  } else {
    free = `${n(t.availableIps)} free IPs, least in one subnet ${fmt(t.minSubnetAvailable)}`;
  }
  const enis = nodeEnisUnknown(g);
  const capacity = capacityUnknown(g, c);
  const nodes = g.instances ? 'unknown (DescribeInstances failed)' : n(t.nodes);
  const podIps = enis ? 'pod IPs held unknown' : `${n(t.podIps)} pod IPs held`;
  const maxPods = capacity ? 'max pods unknown' : `max pods ${n(t.podCapacity)}`;
  const limits =
    enis || capacity
      ? 'at their ENI or IP limit unknown'
      : `${n(t.nodesAtEniLimit)} at their ENI limit, ${n(t.nodesAtIpLimit)} with no IP slot left`;
  const use = podIpUseLine(c, enis);
  return `  Pod subnets: ${free}\n  Nodes: ${nodes}, ${podIps}, ${maxPods}; ${limits}${use ? `\n  ${use}` : ''}`;
}

/** `a` or `a–b`. */
const range = (min: number, max: number): string => (min === max ? n(min) : `${n(min)}–${n(max)}`);

/**
 * Warm vs assigned pod IPs: exact where Kubernetes said (held − pods), the ipamd model's range
 * elsewhere, and which is which (lib/measure/kube-pods.ts).
 */
export function podIpUseLine(c: ClusterUsage, enisUnknown = false): string | undefined {
  const u = c.podIpUse;
  // IPv6 pods take IPv6 addresses: the nodes' IPv4 pod figures say nothing of them.
  if (!u || c.network?.ipFamily === 'ipv6') return undefined;
  const e = u.estimated;
  const warm = range(u.warm + e.warmMin, u.warm + e.warmMax);
  const assigned = range(u.assigned + e.assignedMin, u.assigned + e.assignedMax);
  const measured = u.nodesKubernetes + u.nodesEstimated;
  let source: string;
  if (u.nodesEstimated === 0) source = `exact, from Kubernetes: ${n(u.nodesKubernetes)} of ${n(measured)} nodes`;
  else if (u.nodesKubernetes > 0) source = `Kubernetes: ${n(u.nodesKubernetes)} of ${n(measured)} nodes; ${n(u.nodesEstimated)} estimated`;
  else source = `estimated by the ipamd model: ${kubeMissingText(c)}`;
  const unmeasured = u.nodesUnmeasured > 0 ? `; ${n(u.nodesUnmeasured)} node(s) not measured` : '';
  return `Pod IPs: warm ${enisUnknown ? '?' : warm} / assigned ${assigned} (${source}${unmeasured})`;
}

/** Why a cluster's pods were not read from Kubernetes, in a few words. */
function kubeMissingText(c: ClusterUsage): string {
  const k = c.kube;
  if (!k) return 'Kubernetes not read';
  if (!k.access.ok) return `Kubernetes not readable (${k.access.reason}: ${k.access.detail})`;
  if (!k.podsRead) return 'Kubernetes pods not read';
  return 'no Kubernetes Node names these instances';
}

function clusterSection(c: ClusterUsage, findings: Finding[] | undefined, inv: ClusterInventory | undefined, width: number): string {
  const g = gapsOf(c, inv);
  const lines: string[] = [];
  // Text is wrapped at 100 columns; a table is pushed as it is (a wrapped row would not read).
  const say = (...text: string[]): void => {
    lines.push(...wrapLines(text, width));
  };
  say(`Cluster ${c.name}  (Kubernetes ${c.version ?? '?'}, ${c.vpcId ?? 'VPC unknown'})${c.complete ? '' : '  INCOMPLETE'}`);
  if (!c.complete) {
    say(
      `  INCOMPLETE: ${c.problems.length} problem(s), listed under "Incomplete data" below; figures that rest on them are unknown ("?"), and no action will be taken on this cluster`,
    );
  }
  say(`  CNI: ${cniLine(c)}`);
  for (const line of networkLines(c)) say(`  ${line}`);
  // Whether the cluster's Kubernetes API was read, and if not why and the fix (lib/diagnose/kube-access.ts).
  const kubeLine = inv ? kubeAccessLine(inv) : undefined;
  if (kubeLine) say(`  ${kubeLine}`);
  if (findings) {
    say('', ...findingsSection(findings.filter((f) => f.cluster === c.name), c.complete));
  }
  say(podSubnetsLine(c, g));
  say('', '  Subnets');
  // Two tables of the same rows: in one, the 13 columns would be 160 wide.
  lines.push(
    table(
      ['SUBNET', 'AZ', 'CIDR', 'ROLES', 'FREE', 'USABLE', 'USED'],
      c.subnets.map((s) => [s.subnetId, s.availabilityZone, s.cidrBlock, s.roles.join(','), n(s.available), n(s.usable), pct(s.utilization)]),
      '    ',
    ),
  );
  say('', '  Who holds the used IPs');
  lines.push(
    table(
      ['SUBNET', 'NODE-PRIMARY', 'POD-IPS', 'PREFIX-IPS', 'CONTROL-PLANE', 'OTHER', 'UNACCOUNTED'],
      c.subnets.map((s) => {
        const u = holdersUnknown(g, s.subnetId);
        return [
          s.subnetId,
          cell(s.held.NodePrimary, u),
          cell(s.held.CniSecondary, u),
          cell(s.held.CniPrefix, u),
          cell(s.held.ControlPlane, u),
          cell(s.held.Other, u),
          cell(s.held.Unaccounted, u),
        ];
      }),
      '    ',
    ),
  );
  if (g.unreadSubnets === 'all' || g.unreadSubnets.length > 0) {
    const which = g.unreadSubnets === 'all' ? 'the cluster\'s subnets' : someIds(g.unreadSubnets, 10);
    say(`    Not in the tables: ${which} (DescribeSubnets gave no record that could be read).`);
  }
  if (g.discoveryUnknown) say('    Not known: the subnets tagged kubernetes.io/role/cni (CNI subnet discovery).');
  cniDiscoveryLines(c, g.discoveryUnknown, say);
  const known = c.subnets.filter((s) => !holdersUnknown(g, s.subnetId));
  const others = known.filter((s) => s.others.length > 0);
  if (others.length > 0) {
    say('    Other holders:');
    for (const s of others) {
      say(`      ${s.subnetId}: ${s.others.map((o) => `${o.label} ${count(o.ips, 'IP')} on ${count(o.enis, 'ENI')}`).join('; ')}`);
    }
  }
  const unaccounted = known.filter((s) => s.held.Unaccounted > 0);
  if (unaccounted.length > 0) {
    say(
      `    Unaccounted: ${unaccounted.map((s) => `${s.subnetId} ${n(s.held.Unaccounted)}`).join(', ')} — IPs in use that no ENI visible to this account holds ` +
        '(in a VPC shared through AWS RAM, other accounts\' ENIs; or ENIs created between the two reads).',
    );
  }
  const reserved = c.subnets.filter((s) => s.reservations);
  if (reserved.length > 0) {
    say('    Reserved (subnet CIDR reservations; their unused IPs count as used, held by no ENI):');
    for (const s of reserved) {
      const r = s.reservations!;
      const kinds = [
        r.prefix.count > 0 ? `prefix ${r.prefix.count} over ${n(r.prefix.addresses)} IPs, ${n(r.prefix.unused)} unused` : '',
        r.explicit.count > 0 ? `explicit ${r.explicit.count} over ${n(r.explicit.addresses)} IPs, ${n(r.explicit.unused)} unused` : '',
      ].filter((k) => k !== '');
      say(`      ${s.subnetId}: ${kinds.join('; ')} (${r.ranges.map((x) => `${x.cidr} ${x.type}`).join(', ')})`);
    }
  }
  const over = known.filter((s) => s.overcounted > 0);
  if (over.length > 0) {
    say(
      `    Overcounted: ${over.map((s) => `${s.subnetId} ${n(s.overcounted)}`).join(', ')} — the ENIs hold more IPs than EC2 counts as used ` +
        '(IPs were allocated between the subnet read and the ENI read); Unaccounted is 0 there.',
    );
  }
  if (known.length < c.subnets.length) {
    say('    Holders "?": the ENIs (or the nodes) there could not all be read.');
  }
  // Each cluster's share of the subnets this cluster shares, and the leaked ENIs.
  const sharedWith = known.filter((s) => (s.clusterShare?.others.length ?? 0) > 0);
  if (sharedWith.length > 0) say('    Shared with other clusters (IPs each holds; "no cluster": other ENIs, unaccounted):');
  for (const s of sharedWith) {
    const share = s.clusterShare;
    if (!share) continue;
    say(`      ${s.subnetId}: ${c.name} ${n(share.own)}, ${share.others.map((o) => `${o.cluster} ${n(o.ips)}`).join(', ')}, no cluster ${n(share.unattributed)}`);
  }
  const leaky = known.filter((s) => s.leaked !== undefined);
  if (leaky.length > 0) {
    say(
      `    Leaked ENIs: ${leaky.map((s) => `${s.subnetId} ${count(s.leaked?.enis ?? 0, 'ENI')} holding ${count(s.leaked?.ips ?? 0, 'IP')}`).join(', ')} — ` +
        'available ENIs of the VPC CNI whose instance is gone (the leaked-enis finding).',
    );
  }
  if ((c.leakedEnisUnconfirmed ?? 0) > 0) {
    say(`    Not confirmed: ${count(c.leakedEnisUnconfirmed ?? 0, 'available ENI')} of the VPC CNI whose instance could not be looked up: not counted as leaked.`);
  }
  const cp = c.controlPlane;
  if (g.controlPlaneUnknown) {
    say(`  Control plane: free IPs in the cluster subnets unknown (${unreadSubnetsText(g)}); EKS needs ${EKS_CONTROL_PLANE_MIN_FREE_IPS}, recommends ${EKS_CONTROL_PLANE_RECOMMENDED_FREE_IPS}`);
  } else {
    say(
      `  Control plane: least free in a cluster subnet ${n(cp.minAvailable)} (EKS needs ${EKS_CONTROL_PLANE_MIN_FREE_IPS}, recommends ${EKS_CONTROL_PLANE_RECOMMENDED_FREE_IPS}); ` +
        `${cp.azsWithMinimum} AZ(s) with the minimum free${cp.upgradeReady ? '' : ' — a version upgrade needs two'}`,
    );
  }
  say('', '  Nodegroups');
  if (g.nodegroups) say('    (the managed nodegroups could not be read: the rows group the nodes by their tags)');
  const enis = nodeEnisUnknown(g);
  // Used/limit pairs keep the table within 100 columns; the line under it says what they are.
  lines.push(
    table(
      ['NODEGROUP', 'KIND', 'INSTANCE TYPES', 'NODES', 'ENIS', 'POD-IPS', 'MAX-PODS', 'ENI-LIMIT', 'IP-LIMIT'],
      c.nodegroups.map((ng) => {
        const cap = capacityUnknown(g, c, ng);
        // A NodePool's row: its name without the `karpenter:` / `auto-mode:` label, which KIND says
        // (the table stays within 100 columns with Auto Mode's `general-purpose`).
        const pool = ng.kind === 'karpenter' || ng.kind === 'auto-mode';
        return [
          pool ? ng.name.slice(ng.name.indexOf(':') + 1) : ng.name,
          ng.kind === 'auto-mode' ? 'auto' : ng.kind,
          ng.instanceTypes.join(',') || '-',
          cell(ng.nodes, g.instances),
          `${cell(ng.enis, enis)}/${cell(ng.maxEnis, cap)}`,
          `${cell(ng.podIps, enis)}/${cell(ng.podIpSlots, cap)}`,
          cell(ng.podCapacity, cap),
          cell(ng.nodesAtEniLimit, enis || cap),
          cell(ng.nodesAtIpLimit, enis || cap),
        ];
      }),
      '    ',
    ),
  );
  if (c.nodegroups.length > 0) {
    say(
      '    ENIS attached/max, POD-IPS held/slots; ENI-LIMIT, IP-LIMIT: nodes with no ENI, no IP slot left.',
    );
    if (c.nodegroups.some((ng) => ng.kind === 'karpenter' || ng.kind === 'auto-mode')) {
      say('    KIND karpenter, auto: NodePools of Karpenter and of EKS Auto Mode.');
    }
  }
  if (c.problems.length > 0) {
    say('', '  Incomplete data (no action will be taken on this cluster):');
    // The same failure of two reads (subnets by id and by tag, from one bad file) is listed once.
    const seen = new Map<string, number>();
    for (const p of c.problems) {
      const line = `    - ${p.source}: ${p.message}`;
      seen.set(line, (seen.get(line) ?? 0) + 1);
    }
    // Not wrapped: a problem quotes AWS's or the parser's message, one line to search for.
    for (const [line, times] of seen) lines.push(times > 1 ? `${line} (${times} reads)` : line);
  }
  return lines.join('\n');
}

/** What {@link renderReport} may say besides the usage and findings. */
export interface ReportOptions {
  /** The inventory measured: it knows every subnet a cluster uses, also those that could not be read. */
  inventory?: Inventory;
  /** Why there are no forecasts, when there are none (a snapshot holds no metric history). */
  forecastsUnavailable?: string;
  /**
   * Severity labels and INCOMPLETE in colour: only for a terminal that wants it (the CLI asks
   * `format.ts` `colourWanted`: stdout a TTY, `NO_COLOR` not set). Off by default.
   */
  colour?: boolean;
  /** Where text lines wrap, in columns ({@link REPORT_WIDTH}; `Infinity` for none). */
  width?: number;
}

/** The report's first summary line: how many clusters were sampled, and which failed or are incomplete. */
export function summaryLine(usage: Usage): string {
  const failed = usage.failedClusters.map((f) => f.name);
  const incomplete = usage.clusters.filter((c) => !c.complete).map((c) => c.name);
  return (
    `${usage.clusters.length} cluster(s) sampled, ${failed.length} failed` +
    (failed.length > 0 ? ` (${someIds(failed, 5)})` : '') +
    (incomplete.length > 0 ? `, ${incomplete.length} INCOMPLETE (${someIds(incomplete, 5)})` : '')
  );
}

/** Renders the whole report; with findings, each cluster's come first, in the notifications' words. */
export function renderReport(usage: Usage, findings?: Finding[], options: ReportOptions = {}): string {
  const width = options.width ?? REPORT_WIDTH;
  const parts: string[] = [];
  parts.push(`eks-ip-responder report: ${usage.region}, sampled ${usage.collectedAt}`);
  parts.push(...wrapLines([summaryLine(usage)], width));
  if (options.forecastsUnavailable !== undefined) parts.push(...wrapLines([`Forecasts: none: ${options.forecastsUnavailable}`], width));
  parts.push(...wrapLines(regionLimitsLines(usage), width));
  for (const c of usage.clusters) {
    parts.push('', clusterSection(c, findings, options.inventory?.clusters.find((x) => x.name === c.name), width));
  }
  if (usage.failedClusters.length > 0) {
    parts.push('', 'Clusters that could not be sampled:');
    // Not wrapped, as "Incomplete data": AWS's message, one line to search for.
    for (const f of usage.failedClusters) parts.push(`  - ${f.name}: ${f.problem.message}`);
  }
  if (usage.unknownInstanceTypes.length > 0) {
    parts.push('', ...wrapLines([`Instance types unknown to DescribeInstanceTypes: ${usage.unknownInstanceTypes.join(', ')}`], width));
  }
  const text = parts.join('\n') + '\n';
  return options.colour ? colourReport(text) : text;
}

/**
 * The region-level limits, one line each: the ENIs against the ENIs-per-Region quota,
 * each cluster VPC's Network Address Usage, and the reads that failed. None without the section.
 */
export function regionLimitsLines(usage: Usage): string[] {
  const rl = usage.regionLimits;
  if (!rl) return [];
  const n = (x: number): string => x.toLocaleString('en-US');
  const pct = (a: number, b: number): string => `${Math.round((1000 * a) / b) / 10}%`;
  const quota = rl.eniQuota;
  const source = quota ? { applied: 'applied', 'aws-default': 'AWS default', 'documented-default': 'documented default, not read' }[quota.source] : '';
  const lines = [
    quota && rl.eniCount !== undefined
      ? `ENIs in the region: ${n(rl.eniCount)} of ${n(quota.value)} (${pct(rl.eniCount, quota.value)} of the ENIs-per-Region quota, ${source})`
      : `ENIs in the region: not known${quota ? ` (quota ${n(quota.value)}, ${source})` : ''}`,
  ];
  for (const v of rl.vpcs) {
    const metric = v.metric !== undefined ? `metric ${n(v.metric)}${v.metricPeered !== undefined ? `, with peered VPCs ${n(v.metricPeered)} of ${n(v.peeredQuota)}` : ''}` : 'no NAU metrics';
    const counted = v.counted !== undefined ? `counted ${n(v.counted)}` : 'not counted';
    lines.push(
      `Network Address Usage of ${v.vpcId}: ${v.used !== undefined ? `${n(v.used)} of ${n(v.quota)} (${pct(v.used, v.quota)})` : 'not known'} (${counted}, ${metric})`,
    );
  }
  for (const p of rl.problems) lines.push(`Region-level read failed: ${p}`);
  return lines;
}

