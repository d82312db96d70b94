/**
 * The CloudWatch metrics of one sample. Pure: turns Usage into MetricDatum values.
 *
 * Dimensions keep the number of metrics bounded by subnets, nodegroups and clusters (never
 * one per node, pod or ENI). The README's "Metrics" table lists every name below.
 */
import type { MetricDatum, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { HOLDERS } from '../measure/eni';
import type { ClusterUsage, Usage } from '../measure/types';

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
 * Which figures of a cluster rest on complete reads. A figure measured from a read that failed
 * (no ENIs: every used address would look Unaccounted and every node empty) is not published,
 * rather than published wrong; DataIncomplete=1 says why it is missing. Each subnet's free
 * addresses come from its own DescribeSubnets record and stay; the cluster's totals and minimums
 * over its subnets (`subnets`) need every subnet read: a sum over the subnets that were read
 * would be published as a drop in free addresses (or as 0 when none was), and alarm on it.
 */
export function trustedFigures(c: ClusterUsage): { subnets: boolean; holders: boolean; nodes: boolean; capacity: boolean } {
  const failed = new Set(c.problems.filter((p) => p.code !== undefined || /failed|denied/i.test(p.message)).map((p) => p.source));
  const subnets = !failed.has('ec2:DescribeSubnets') && !c.problems.some((p) => p.unread?.part === 'subnets');
  const enis = !failed.has('ec2:DescribeNetworkInterfaces') && !failed.has('ec2:DescribeSubnets');
  const instances = !failed.has('ec2:DescribeInstances');
  const types = !failed.has('ec2:DescribeInstanceTypes');
  return { subnets, holders: enis && instances, nodes: enis && instances, capacity: enis && instances && types };
}

/** The metrics of one cluster. */
export function clusterMetrics(c: ClusterUsage, timestamp: Date): MetricDatum[] {
  const out: MetricDatum[] = [];
  const cluster = { ClusterName: c.name };
  const trusted = trustedFigures(c);
  for (const s of c.subnets) {
    const dims = { ClusterName: c.name, SubnetId: s.subnetId };
    out.push(datum(METRIC.SubnetAvailableIps, s.available, 'Count', dims, timestamp));
    out.push(datum(METRIC.SubnetUtilization, pct(s.used, s.usable), 'Percent', dims, timestamp));
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
  out.push(datum(METRIC.DataIncomplete, c.complete ? 0 : 1, 'Count', cluster, timestamp));
  out.push(datum(METRIC.SamplingFailed, 0, 'Count', cluster, timestamp));
  if (!trusted.nodes) return out;
  out.push(datum(METRIC.Nodes, c.totals.nodes, 'Count', cluster, timestamp));
  out.push(datum(METRIC.PodIps, c.totals.podIps, 'Count', cluster, timestamp));
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

/** Every metric of a sample: per cluster, per failed cluster, and the account-wide counts. */
export function buildMetricData(usage: Usage): MetricDatum[] {
  const timestamp = new Date(usage.collectedAt);
  const out = usage.clusters.flatMap((c) => clusterMetrics(c, timestamp));
  for (const f of usage.failedClusters) {
    out.push(datum(METRIC.SamplingFailed, 1, 'Count', { ClusterName: f.name }, timestamp));
  }
  out.push(datum(METRIC.ClustersSampled, usage.clusters.length, 'Count', {}, timestamp));
  out.push(datum(METRIC.ClustersFailed, usage.failedClusters.length, 'Count', {}, timestamp));
  return out;
}
