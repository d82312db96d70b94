/**
 * The text report of a sample, as the CLI prints it. Pure: Usage in, string out.
 */
import type { Finding } from '../diagnose/types';
import type { ClusterUsage, Usage } from '../measure/types';
import { findingDetails } from '../notify/message';
import { EKS_CONTROL_PLANE_MIN_FREE_IPS, EKS_CONTROL_PLANE_RECOMMENDED_FREE_IPS } from '../measure/measure';
import { table } from './table';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

function cniLine(c: ClusterUsage): string {
  const cni = c.cni;
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

function findingsSection(findings: Finding[]): string[] {
  if (findings.length === 0) return ['  Findings: none'];
  const lines = [`  Findings (${findings.length})`];
  for (const f of findings) {
    lines.push(`    ${f.severity.toUpperCase()}: ${f.title}`);
    for (const l of findingDetails(f)) lines.push(l === '' ? '' : `      ${l}`);
    lines.push('');
  }
  while (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function clusterSection(c: ClusterUsage, findings: Finding[] | undefined): string {
  const lines: string[] = [];
  lines.push(`Cluster ${c.name}  (Kubernetes ${c.version ?? '?'}, ${c.vpcId ?? 'VPC unknown'})`);
  lines.push(`  CNI: ${cniLine(c)}`);
  if (findings) {
    lines.push('');
    lines.push(...findingsSection(findings.filter((f) => f.cluster === c.name)));
  }
  lines.push(
    `  Pod subnets: ${c.totals.availableIps} free addresses, least in one subnet ${c.totals.minSubnetAvailable ?? 'n/a'}; ` +
      `${c.totals.nodes} nodes, ${c.totals.podIps} pod IPs held, max pods ${c.totals.podCapacity}; ` +
      `${c.totals.nodesAtEniLimit} node(s) at their ENI limit, ${c.totals.nodesAtIpLimit} with no IP slot left`,
  );
  lines.push('');
  lines.push('  Subnets');
  lines.push(
    table(
      ['SUBNET', 'AZ', 'CIDR', 'ROLES', 'FREE', 'USABLE', 'USED', 'NODE-PRIMARY', 'POD-IPS', 'PREFIX-IPS', 'CONTROL-PLANE', 'OTHER', 'UNACCOUNTED'],
      c.subnets.map((s) => [
        s.subnetId,
        s.availabilityZone,
        s.cidrBlock,
        s.roles.join(','),
        s.available,
        s.usable,
        pct(s.utilization),
        s.held.NodePrimary,
        s.held.CniSecondary,
        s.held.CniPrefix,
        s.held.ControlPlane,
        s.held.Other,
        s.held.Unaccounted,
      ]),
      '    ',
    ),
  );
  const others = c.subnets.filter((s) => s.others.length > 0);
  if (others.length > 0) {
    lines.push('    Other holders:');
    for (const s of others) {
      lines.push(`      ${s.subnetId}: ${s.others.map((o) => `${o.label} ${o.ips} IP(s) on ${o.enis} ENI(s)`).join('; ')}`);
    }
  }
  const unaccounted = c.subnets.filter((s) => s.held.Unaccounted > 0);
  if (unaccounted.length > 0) {
    lines.push(
      `    Unaccounted: ${unaccounted.map((s) => `${s.subnetId} ${s.held.Unaccounted}`).join(', ')} — addresses in use that no ENI visible to this account holds ` +
        '(in a VPC shared through AWS RAM, other accounts\' ENIs; or ENIs created between the two reads).',
    );
  }
  const over = c.subnets.filter((s) => s.overcounted > 0);
  if (over.length > 0) {
    lines.push(
      `    Overcounted: ${over.map((s) => `${s.subnetId} ${s.overcounted}`).join(', ')} — the ENIs hold more addresses than EC2 counts as used ` +
        '(addresses were allocated between the subnet read and the ENI read); Unaccounted is 0 there.',
    );
  }
  const cp = c.controlPlane;
  lines.push(
    `  Control plane: least free in a cluster subnet ${cp.minAvailable} (EKS needs ${EKS_CONTROL_PLANE_MIN_FREE_IPS}, recommends ${EKS_CONTROL_PLANE_RECOMMENDED_FREE_IPS}); ` +
      `${cp.azsWithMinimum} AZ(s) with the minimum free${cp.upgradeReady ? '' : ' — a version upgrade needs two'}`,
  );
  lines.push('');
  lines.push('  Nodegroups');
  lines.push(
    table(
      ['NODEGROUP', 'KIND', 'INSTANCE TYPES', 'NODES', 'ENIS', 'ENI-MAX', 'POD-IPS', 'IP-SLOTS', 'MAX-PODS', 'AT-ENI-LIMIT', 'NO-IP-LEFT'],
      c.nodegroups.map((g) => [
        g.name,
        g.kind,
        g.instanceTypes.join(',') || '-',
        g.nodes,
        g.enis,
        g.maxEnis,
        g.podIps,
        g.podIpSlots,
        g.podCapacity,
        g.nodesAtEniLimit,
        g.nodesAtIpLimit,
      ]),
      '    ',
    ),
  );
  if (c.problems.length > 0) {
    lines.push('');
    lines.push('  Incomplete data (no action will be taken on this cluster):');
    for (const p of c.problems) lines.push(`    - ${p.source}: ${p.message}`);
  }
  return lines.join('\n');
}

/** Renders the whole report; with findings, each cluster's come first, in the notifications' words. */
export function renderReport(usage: Usage, findings?: Finding[]): string {
  const parts: string[] = [];
  parts.push(`eks-ip-responder report: ${usage.region}, sampled ${usage.collectedAt}`);
  parts.push(`${usage.clusters.length} cluster(s) sampled, ${usage.failedClusters.length} failed`);
  for (const c of usage.clusters) parts.push('', clusterSection(c, findings));
  if (usage.failedClusters.length > 0) {
    parts.push('', 'Clusters that could not be sampled:');
    for (const f of usage.failedClusters) parts.push(`  - ${f.name}: ${f.problem.message}`);
  }
  if (usage.unknownInstanceTypes.length > 0) {
    parts.push('', `Instance types unknown to DescribeInstanceTypes: ${usage.unknownInstanceTypes.join(', ')}`);
  }
  return parts.join('\n') + '\n';
}
