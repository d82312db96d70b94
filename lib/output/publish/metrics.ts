/**
 * The CloudWatch metrics of one cycle. Pure: turns Usage, the forecasts and the remediation into
 * MetricDatum values (lib/output/output.ts publishes them).
 *
 * Dimensions keep the number of metrics bounded by subnets, nodegroups and clusters (never
 * one per node, pod or ENI). docs/metrics.md's table lists every name below.
 */
import type { MetricDatum, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { HOLDERS } from '../../measure/eni';
import { trustedFigures } from '../../measure/trusted';
import type { ClusterUsage, Usage } from '../../measure/types';
import type { ClusterRemediation } from '../../act/remediate';
import type { Forecasts } from '../../forecast/forecast';
import { parseSubnetKey } from '../../keys';

/** Metric names, as published. */
export const METRIC = {
  SubnetAvailableIps: 'SubnetAvailableIps',
  SubnetUtilization: 'SubnetUtilization',
  SubnetIpsHeld: 'SubnetIpsHeld',
  ClusterAvailableIps: 'ClusterAvailableIps',
  ClusterMinSubnetAvailableIps: 'ClusterMinSubnetAvailableIps',
  ControlPlaneMinAvailableIps: 'ControlPlaneMinAvailableIps',
  ControlPlaneAzsWithMinimumFree: 'ControlPlaneAzsWithMinimumFree',
  Nodes: 'Nodes',
  PodCapacity: 'PodCapacity',
  PodIps: 'PodIps',
  NodesAtEniLimit: 'NodesAtEniLimit',
  NodesAtIpLimit: 'NodesAtIpLimit',
  DataIncomplete: 'DataIncomplete',
  SamplingFailed: 'SamplingFailed',
  NodegroupNodes: 'NodegroupNodes',
  NodegroupPodCapacity: 'NodegroupPodCapacity',
  NodegroupEniUtilization: 'NodegroupEniUtilization',
  NodegroupIpUtilization: 'NodegroupIpUtilization',
  NodegroupNodesAtEniLimit: 'NodegroupNodesAtEniLimit',
  ClustersSampled: 'ClustersSampled',
  ClustersFailed: 'ClustersFailed',
  RegionEniCount: 'RegionEniCount',
  RegionEniQuota: 'RegionEniQuota',
  RegionEniQuotaUtilization: 'RegionEniQuotaUtilization',
  VpcNetworkAddressUsage: 'VpcNetworkAddressUsage',
  VpcNetworkAddressUsageUtilization: 'VpcNetworkAddressUsageUtilization',
  SubnetReservedIps: 'SubnetReservedIps',
  /** Addresses held by leaked ENIs in a subnet {ClusterName, SubnetId}, and their count per cluster {ClusterName}. */
  SubnetLeakedEniIps: 'SubnetLeakedEniIps',
  ClusterLeakedEnis: 'ClusterLeakedEnis',
  /** A subnet's addresses held by this cluster, and by all other clusters together {ClusterName, SubnetId}. */
  SubnetClusterIps: 'SubnetClusterIps',
  SubnetOtherClustersIps: 'SubnetOtherClustersIps',
  /** Kubernetes: distinct pods failing IP assignment in the last 15 minutes {ClusterName}; published for every cluster whose events were read. */
  PodsFailingIpAssignment: 'PodsFailingIpAssignment',
  /** Pod addresses assigned to pods and idle in warm pools {ClusterName}, exact from Kubernetes; only when every node's are. */
  PodIpsAssigned: 'PodIpsAssigned',
  WarmIps: 'WarmIps',
} as const;

/** The central policy's health, published by the sampler with CENTRAL_POLICY set (lib/runtime.ts); no dimension. */
export const CENTRAL_POLICY_METRIC = {
  /** It could not be read or validated: 1, every cluster in dry-run; 0 when it was used. */
  CentralPolicyUnavailable: 'CentralPolicyUnavailable',
  /** Parts of it refused as beyond the packaged policy (the IAM ceiling). */
  CentralPolicyRefused: 'CentralPolicyRefused',
} as const;

type Dims = Record<string, string>;

/** One metric datum with named dimensions. */
export function datum(name: string, value: number, unit: StandardUnit, dims: Dims, timestamp: Date): MetricDatum {
  return {
    MetricName: name,
    Value: value,
    Unit: unit,
    Timestamp: timestamp,
    Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })),
  };
}

const pct = (part: number, whole: number): number => (whole > 0 ? Math.round((10000 * part) / whole) / 100 : 0);

/**
 * The metrics of one cluster. A figure that rests on a read that failed (lib/measure/trusted.ts
 * `trustedFigures`: no ENIs, and every used address would look Unaccounted and every node empty)
 * is not published, rather than published wrong; DataIncomplete=1 says why it is missing. Each
 * subnet's free addresses come from its own DescribeSubnets record and stay; the cluster's totals
 * and minimums over its subnets need every subnet read: a sum over the subnets that were read
 * would be published as a drop in free addresses (or as 0 when none was), and alarm on it.
 */
export function clusterMetrics(c: ClusterUsage, timestamp: Date): MetricDatum[] {
  const out: MetricDatum[] = [];
  const cluster = { ClusterName: c.name };
  const trusted = trustedFigures(c);
  for (const s of c.subnets) {
    const dims = { ClusterName: c.name, SubnetId: s.subnetId };
    out.push(datum(METRIC.SubnetAvailableIps, s.available, 'Count', dims, timestamp));
    out.push(datum(METRIC.SubnetUtilization, pct(s.used, s.usable), 'Percent', dims, timestamp));
    // Addresses set aside by subnet CIDR reservations, by type: published for a subnet that has
    // any (their own read, so not withheld with the holders).
    for (const type of ['prefix', 'explicit'] as const) {
      const r = s.reservations?.[type];
      if (r && r.count > 0) out.push(datum(METRIC.SubnetReservedIps, r.addresses, 'Count', { ...dims, ReservationType: type }, timestamp));
    }
    if (!trusted.holders) continue;
    for (const holder of HOLDERS) {
      out.push(datum(METRIC.SubnetIpsHeld, s.held[holder], 'Count', { ...dims, Holder: holder }, timestamp));
    }
  }
  if (trusted.subnets) {
    out.push(datum(METRIC.ClusterAvailableIps, c.totals.availableIps, 'Count', cluster, timestamp));
    if (c.totals.minSubnetAvailable !== undefined) {
      out.push(datum(METRIC.ClusterMinSubnetAvailableIps, c.totals.minSubnetAvailable, 'Count', cluster, timestamp));
    }
  }
  if (trusted.subnets && c.controlPlane.subnetIds.length > 0) {
    out.push(datum(METRIC.ControlPlaneMinAvailableIps, c.controlPlane.minAvailable, 'Count', cluster, timestamp));
    out.push(datum(METRIC.ControlPlaneAzsWithMinimumFree, c.controlPlane.azsWithMinimum, 'Count', cluster, timestamp));
  }
  if (trusted.holders) out.push(...shareAndLeakMetrics(c, timestamp));
  out.push(datum(METRIC.DataIncomplete, c.complete ? 0 : 1, 'Count', cluster, timestamp));
  out.push(datum(METRIC.SamplingFailed, 0, 'Count', cluster, timestamp));
  // Events read: the count, 0 included, so that the alarm on it sees every cycle (lib/measure/kube-pods.ts).
  if (c.kube?.eventsRead) out.push(datum(METRIC.PodsFailingIpAssignment, c.kube.podsFailingIp, 'Count', cluster, timestamp));
  if (!trusted.nodes) return out;
  out.push(datum(METRIC.Nodes, c.totals.nodes, 'Count', cluster, timestamp));
  out.push(datum(METRIC.PodIps, c.totals.podIps, 'Count', cluster, timestamp));
  // Exact only: a sum with estimated nodes would move with the estimate, not with the pods.
  const use = c.podIpUse;
  if (use && use.nodesKubernetes > 0 && use.nodesEstimated === 0 && use.nodesUnmeasured === 0) {
    out.push(datum(METRIC.PodIpsAssigned, use.assigned, 'Count', cluster, timestamp));
    out.push(datum(METRIC.WarmIps, use.warm, 'Count', cluster, timestamp));
  }
  // Limits need the instance types' network limits.
  if (!trusted.capacity) return out;
  out.push(datum(METRIC.PodCapacity, c.totals.podCapacity, 'Count', cluster, timestamp));
  out.push(datum(METRIC.NodesAtEniLimit, c.totals.nodesAtEniLimit, 'Count', cluster, timestamp));
  out.push(datum(METRIC.NodesAtIpLimit, c.totals.nodesAtIpLimit, 'Count', cluster, timestamp));
  for (const g of c.nodegroups) {
    const dims = { ClusterName: c.name, NodegroupName: g.name };
    out.push(datum(METRIC.NodegroupNodes, g.nodes, 'Count', dims, timestamp));
    out.push(datum(METRIC.NodegroupPodCapacity, g.podCapacity, 'Count', dims, timestamp));
    out.push(datum(METRIC.NodegroupEniUtilization, pct(g.enis, g.maxEnis), 'Percent', dims, timestamp));
    out.push(datum(METRIC.NodegroupIpUtilization, pct(g.podIps, g.podIpSlots), 'Percent', dims, timestamp));
    out.push(datum(METRIC.NodegroupNodesAtEniLimit, g.nodesAtEniLimit, 'Count', dims, timestamp));
  }
  return out;
}

/**
 * Per subnet of the cluster: its own share and the other clusters' (each cluster publishes
 * its own series, so that a subnet shared by eight clusters has eight that trend apart; the others
 * are one sum, not one series per other cluster: clusters × subnets, never clusters² × subnets);
 * and the leaked ENIs, unless some could not be confirmed (the figure would be low, not 0).
 */
function shareAndLeakMetrics(c: ClusterUsage, timestamp: Date): MetricDatum[] {
  const out: MetricDatum[] = [];
  const leakKnown = (c.leakedEnisUnconfirmed ?? 0) === 0 && !c.problems.some((p) => p.unread?.part === 'eni-instances');
  for (const s of c.subnets) {
    const dims = { ClusterName: c.name, SubnetId: s.subnetId };
    if (s.clusterShare) {
      out.push(datum(METRIC.SubnetClusterIps, s.clusterShare.own, 'Count', dims, timestamp));
      out.push(datum(METRIC.SubnetOtherClustersIps, s.clusterShare.others.reduce((sum, o) => sum + o.ips, 0), 'Count', dims, timestamp));
    }
    if (leakKnown) out.push(datum(METRIC.SubnetLeakedEniIps, s.leaked?.ips ?? 0, 'Count', dims, timestamp));
  }
  if (leakKnown) out.push(datum(METRIC.ClusterLeakedEnis, c.leakedEnis?.length ?? 0, 'Count', { ClusterName: c.name }, timestamp));
  return out;
}

/** Every metric of a sample: per cluster, per failed cluster, and the account-wide counts. */
export function buildMetricData(usage: Usage): MetricDatum[] {
  const timestamp = new Date(usage.collectedAt);
  const out = usage.clusters.flatMap((c) => clusterMetrics(c, timestamp));
  for (const f of usage.failedClusters) {
    out.push(datum(METRIC.SamplingFailed, 1, 'Count', { ClusterName: f.name }, timestamp));
  }
  out.push(datum(METRIC.ClustersSampled, usage.clusters.length, 'Count', {}, timestamp));
  out.push(datum(METRIC.ClustersFailed, usage.failedClusters.length, 'Count', {}, timestamp));
  out.push(...regionLimitsMetrics(usage, timestamp));
  return out;
}

/**
 * The region-level limits: `RegionEniCount`, `RegionEniQuota` and
 * `RegionEniQuotaUtilization` (no dimension: the stack is per region), and per cluster VPC
 * `VpcNetworkAddressUsage` and `VpcNetworkAddressUsageUtilization` {VpcId} (the larger of the NAU
 * counted and the metric). A figure whose read failed is not published.
 */
export function regionLimitsMetrics(usage: Usage, timestamp: Date): MetricDatum[] {
  const rl = usage.regionLimits;
  if (!rl) return [];
  const out: MetricDatum[] = [];
  if (rl.eniQuota) out.push(datum(METRIC.RegionEniQuota, rl.eniQuota.value, 'Count', {}, timestamp));
  if (rl.eniCount !== undefined) {
    out.push(datum(METRIC.RegionEniCount, rl.eniCount, 'Count', {}, timestamp));
    if (rl.eniQuota) out.push(datum(METRIC.RegionEniQuotaUtilization, pct(rl.eniCount, rl.eniQuota.value), 'Percent', {}, timestamp));
  }
  for (const v of rl.vpcs) {
    if (v.used === undefined) continue;
    out.push(datum(METRIC.VpcNetworkAddressUsage, v.used, 'Count', { VpcId: v.vpcId }, timestamp));
    out.push(datum(METRIC.VpcNetworkAddressUsageUtilization, pct(v.used, v.quota), 'Percent', { VpcId: v.vpcId }, timestamp));
  }
  return out;
}

export const FORECAST_METRIC = {
  SubnetHoursToExhaustion: 'SubnetHoursToExhaustion',
  ClusterHoursToExhaustion: 'ClusterHoursToExhaustion',
} as const;

/**
 * `SubnetHoursToExhaustion` {ClusterName, SubnetId} and `ClusterHoursToExhaustion`
 * {ClusterName}: hours until no free address is left, published only for a 'decreasing'
 * forecast, so a series without a trend has no datum (alarms on it should treat missing data
 * as not breaching) and a datum's presence means "running out".
 *
 * Unit 'None', value in hours (one decimal), the unit in the name. CloudWatch's StandardUnit
 * has no hour (Seconds, Microseconds, Milliseconds are its only time units; checked against
 * @aws-sdk/client-cloudwatch's StandardUnit); 'Seconds' would make a graph or an alarm
 * threshold read 86,400 for a day and contradict the name. The value is capped at the
 * forecast's horizon (7 days by default): a value at the cap means "not within the horizon".
 */
export function forecastMetricData(forecasts: Forecasts, timestamp: Date): MetricDatum[] {
  const out: MetricDatum[] = [];
  const hoursDatum = (name: string, hours: number, dims: Record<string, string>): MetricDatum => datum(name, Math.round(hours * 10) / 10, 'None', dims, timestamp);
  for (const [key, f] of forecasts.subnets) {
    if (f.trend !== 'decreasing' || f.hoursToExhaustion === undefined) continue;
    const { clusterName, subnetId } = parseSubnetKey(key);
    out.push(hoursDatum(FORECAST_METRIC.SubnetHoursToExhaustion, f.hoursToExhaustion, { ClusterName: clusterName, SubnetId: subnetId }));
  }
  for (const [clusterName, f] of forecasts.clusters) {
    if (f.trend !== 'decreasing' || f.hoursToExhaustion === undefined) continue;
    out.push(hoursDatum(FORECAST_METRIC.ClusterHoursToExhaustion, f.hoursToExhaustion, { ClusterName: clusterName }));
  }
  return out;
}

/**
 * `PlannedActions` {ClusterName, State} (apply / dry-run / blocked) and `ActionOutcomes`
 * {ClusterName, Kind, Status}: bounded by clusters × a few values.
 */
export function remediationMetricData(remediation: ClusterRemediation[], timestamp: Date): MetricDatum[] {
  const out: MetricDatum[] = [];
  for (const r of remediation) {
    for (const state of ['apply', 'dry-run', 'blocked'] as const) {
      out.push(datum('PlannedActions', r.planned.filter((a) => a.state === state).length, 'Count', { ClusterName: r.cluster, State: state }, timestamp));
    }
    for (const { outcome, record } of r.results) {
      out.push(datum('ActionOutcomes', 1, 'Count', { ClusterName: r.cluster, Kind: record?.kind ?? 'unknown', Status: outcome.status }, timestamp));
    }
  }
  return out;
}
