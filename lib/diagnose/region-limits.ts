/**
 * eni-quota and network-address-usage: the region-level limits, judged once per
 * sample and told to every cluster they stop (each cluster's CNI and nodes meet the limit, and each
 * cluster's owner is notified). Pure. Design: docs/models.md, "Region-level limits".
 */
import { ENI_QUOTA } from '../inventory/region-limits';
import type { Inventory } from '../inventory/types';
import type { RegionLimitsUsage, VpcAddressUsage } from '../measure/region-limits';
import type { Usage } from '../measure/types';
import { n } from './context';
import type { Finding, Severity } from './types';

/**
 * Shares of a limit from which a finding is a warning and critical: this project's choice, a
 * warning while a quota increase (a support request, not instant) can still land, critical where
 * one scale-out or rolling update (each new node attaches its ENIs at once) can meet the limit.
 */
export const REGION_LIMIT_WARNING_SHARE = 0.8;
export const REGION_LIMIT_CRITICAL_SHARE = 0.9;

const severityOf = (share: number): Severity | undefined =>
  share >= REGION_LIMIT_CRITICAL_SHARE ? 'critical' : share >= REGION_LIMIT_WARNING_SHARE ? 'warning' : undefined;
const pct = (share: number): string => `${Math.round(share * 1000) / 10}%`;

const QUOTA_SOURCE_TEXT = {
  applied: 'the applied value (Service Quotas GetServiceQuota)',
  'aws-default': 'the AWS default (GetAWSDefaultServiceQuota: no applied value)',
  'documented-default': 'the documented default (the quota could not be read)',
} as const;

/** The region-level findings of a sample, one per cluster of the region (eni-quota) or of the VPC (network-address-usage). */
export function diagnoseRegionLimits(usage: Usage, inventory: Inventory): Finding[] {
  const rl = usage.regionLimits;
  if (!rl) return [];
  const clusters = usage.clusters.map((c) => c.name);
  return [...diagnoseEniQuota(rl, inventory.region, clusters), ...rl.vpcs.flatMap((v) => diagnoseNetworkAddressUsage(v))];
}

function diagnoseEniQuota(rl: RegionLimitsUsage, region: string, clusters: string[]): Finding[] {
  const quota = rl.eniQuota;
  if (rl.eniCount === undefined || !quota || quota.value <= 0) return [];
  const share = rl.eniCount / quota.value;
  const severity = severityOf(share);
  if (!severity) return [];
  const left = Math.max(0, quota.value - rl.eniCount);
  const title = `Region ${region}: ${n(rl.eniCount)} of ${n(quota.value)} network interfaces (${pct(share)} of the ENIs-per-Region quota), ${n(left)} left`;
  const evidenceText = [
    `The account has ${n(rl.eniCount)} ENIs in ${region}; the "${ENI_QUOTA.name}" quota (${ENI_QUOTA.serviceCode}/${ENI_QUOTA.quotaCode}) is ${n(quota.value)}, ${QUOTA_SOURCE_TEXT[quota.source]}.`,
    'At the quota, CreateNetworkInterface and the launch of nodes with more than one ENI fail with NetworkInterfaceLimitExceeded: the VPC CNI cannot add an ENI to any node of any cluster in the region, whatever the subnets have free.',
  ];
  const fixes = [
    `Request an increase of ${ENI_QUOTA.serviceCode}/${ENI_QUOTA.quotaCode}: aws service-quotas request-service-quota-increase --service-code ${ENI_QUOTA.serviceCode} --quota-code ${ENI_QUOTA.quotaCode} --desired-value ${Math.ceil((quota.value * 1.5) / 1000) * 1000} --region ${region}`,
    'Use fewer ENIs per pod: prefix delegation (ENABLE_PREFIX_DELEGATION) puts 16 addresses on an ENI slot instead of one, so nodes attach fewer ENIs; a lower WARM_ENI_TARGET (or WARM_IP_TARGET instead of it) stops whole spare ENIs per node.',
    'Delete ENIs that are `available` and hold nothing (leaked CNI ENIs of terminated nodes, see the runbook).',
  ];
  return clusters.map((cluster) => ({
    id: `${cluster}/eni-quota/${region}`,
    cluster,
    kind: 'eni-quota' as const,
    severity,
    subject: { type: 'region' as const, id: region },
    title,
    evidence: {
      regionEnis: rl.eniCount ?? 0,
      eniQuota: quota.value,
      eniQuotaSource: quota.source,
      eniQuotaCode: `${quota.serviceCode}/${quota.quotaCode}`,
      eniQuotaUtilization: Math.round(share * 10000) / 100,
      enisLeft: left,
    },
    evidenceText,
    fixes,
  }));
}

function diagnoseNetworkAddressUsage(v: VpcAddressUsage): Finding[] {
  const own = v.used === undefined ? undefined : v.used / v.quota;
  const peered = v.metricPeered === undefined ? undefined : v.metricPeered / v.peeredQuota;
  const ownSev = own === undefined ? undefined : severityOf(own);
  const peeredSev = peered === undefined ? undefined : severityOf(peered);
  const severity: Severity | undefined = ownSev === 'critical' || peeredSev === 'critical' ? 'critical' : (ownSev ?? peeredSev);
  if (!severity) return [];
  const peeredWorse = peered !== undefined && (own === undefined || peered > own);
  const title = peeredWorse
    ? `VPC ${v.vpcId}: ${n(v.metricPeered ?? 0)} of ${n(v.peeredQuota)} Network Address Usage units with its peered VPCs (${pct(peered ?? 0)})`
    : `VPC ${v.vpcId}: ${n(v.used ?? 0)} of ${n(v.quota)} Network Address Usage units (${pct(own ?? 0)})`;
  const b = v.breakdown;
  const evidenceText = [
    ...(v.counted !== undefined && b
      ? [
          `Counted from the VPC's ${n(v.enis ?? 0)} ENIs: ${n(v.counted)} units (${n(b.addresses)} addresses, ${n(b.prefixes)} prefixes, ${n(b.additionalEnis)} additional instance ENIs, ${n(b.managedResources)} for load balancer, endpoint, NAT, transit gateway and Lambda ENIs at 6 each).`,
        ]
      : []),
    v.metric !== undefined
      ? `The NetworkAddressUsage metric says ${n(v.metric)}${v.metricPeered !== undefined ? `, NetworkAddressUsagePeered ${n(v.metricPeered)}` : ''} (${v.metricAt ?? 'time unknown'}; reported daily).`
      : 'The VPC does not report the NetworkAddressUsage metrics (enableNetworkAddressUsageMetrics is off), so the peered total is not known and ENIs of other accounts in a shared VPC are not counted.',
    `Quotas: ${n(v.quota)} units per VPC, ${n(v.peeredQuota)} with peered VPCs in the Region (defaults). Past them, RunInstances, AttachNetworkInterface and AssignPrivateIpAddresses fail with NetworkAddressUsageLimitExceeded (or NetworkAddressUsagePeeredLimitExceeded).`,
  ];
  const fixes = [
    `Request an increase of the Network Address Usage quota (vpc/L-BB24F6E5, up to 256,000) or the peered one (vpc/L-CD17FD4B, up to 512,000) in Service Quotas.`,
    'Use prefix delegation: a /28 prefix is one NAU unit where 16 secondary IPs are 16.',
    ...(v.metric === undefined ? [`Turn on the metrics to see the whole figure: aws ec2 modify-vpc-attribute --vpc-id ${v.vpcId} --enable-network-address-usage-metrics`] : []),
    'Move workloads to another VPC, or remove peerings that are not needed.',
  ];
  return v.clusters.map((cluster) => ({
    id: `${cluster}/network-address-usage/${v.vpcId}`,
    cluster,
    kind: 'network-address-usage' as const,
    severity,
    subject: { type: 'vpc' as const, id: v.vpcId },
    title,
    evidence: {
      vpcId: v.vpcId,
      ...(v.used !== undefined ? { nauUsed: v.used, nauUsedFrom: v.usedFrom ?? 'count', nauUtilization: Math.round((own ?? 0) * 10000) / 100 } : {}),
      ...(v.counted !== undefined ? { nauCounted: v.counted } : {}),
      ...(v.metric !== undefined ? { nauMetric: v.metric } : {}),
      ...(v.metricPeered !== undefined ? { nauPeeredMetric: v.metricPeered, nauPeeredUtilization: Math.round((peered ?? 0) * 10000) / 100 } : {}),
      nauQuota: v.quota,
      nauPeeredQuota: v.peeredQuota,
    },
    evidenceText,
    fixes,
  }));
}
