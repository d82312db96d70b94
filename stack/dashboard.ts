/**
 * The body of the stack's CloudWatch dashboard, built from the names the sampler publishes.
 * Pure: the params in, the text out.
 *
 * Design: docs/development.md#stackdashboardts-the-dashboard-body
 */
import { HOLDERS } from '../lib/measure/eni';
import { METRIC } from '../lib/output/publish/metrics';

/** A metric name the sampler publishes. */
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** The stage params the dashboard shows (serverless.yml `params:`). */
export interface DashboardParams {
  /** `metricNamespace`: where the sampler publishes. */
  namespace: string;
  /** `alarmPeriodSeconds`: the period of every graph, the alarms' own. */
  periodSeconds: number;
  /** `subnetFreeIpsAlarmThreshold`, drawn on the free-IPs graph. */
  subnetFreeIpsAlarmThreshold: number;
  /** `controlPlaneFreeIpsAlarmThreshold`, drawn on the control-plane graph. */
  controlPlaneFreeIpsAlarmThreshold: number;
}

/**
 * The dimensions each graphed metric is published with (lib/output/publish/metrics.ts clusterMetrics):
 * a Metrics Insights SCHEMA must name exactly them, or the query finds no series.
 */
export const DIMENSIONS = {
  cluster: ['ClusterName'],
  subnet: ['ClusterName', 'SubnetId'],
  subnetHolder: ['ClusterName', 'SubnetId', 'Holder'],
  nodegroup: ['ClusterName', 'NodegroupName'],
} as const;

/**
 * Every alarm of the stack (resources/alarms.yml), by logical id, in the order the alarm widget
 * lists them.
 */
export const DASHBOARD_ALARMS = [
  'SubnetFreeIpsAlarm',
  'ControlPlaneFreeIpsAlarm',
  'SamplingFailuresAlarm',
  'SamplerErrorsAlarm',
  'SamplerNotRunningAlarm',
  'SamplerSlowAlarm',
  'RespondErrorsAlarm',
  'RespondDeadLettersAlarm',
  'EniQuotaAlarm',
  'NetworkAddressUsageAlarm',
  'PodsFailingIpAlarm',
] as const;

/** EKS's minimum of free IPs per cluster subnet (https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html). */
const EKS_MINIMUM_FREE_IPS = 6;

/** A literal in the text of an `Fn::Sub`: `${` would start a placeholder, `${!` is its escape. */
export const literal = (text: string): string => text.replace(/\$\{/g, '${!');

/**
 * A Metrics Insights query that returns one series per combination of `dimensions`, the worst
 * first: the lowest for MIN (free addresses), the highest for MAX (utilisation, counts). A
 * query needs GROUP BY and ORDER BY to return more than one series.
 */
function insightsQuery(stat: 'MIN' | 'MAX', metric: MetricName, dimensions: readonly string[], namespace: string): string {
  const dims = dimensions.join(', ');
  const order = stat === 'MIN' ? 'ASC' : 'DESC';
  return `SELECT ${stat}(${metric}) FROM SCHEMA("${literal(namespace)}", ${dims}) GROUP BY ${dims} ORDER BY ${stat}() ${order}`;
}

interface Place {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface GraphOptions {
  stacked?: boolean;
  annotations?: Array<{ label: string; value: number }>;
  yAxis?: { min: number; max?: number };
}

/**
 * The dashboard as a JSON value; `dashboardBody` is its text. Body structure:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
export function dashboard(params: DashboardParams): Record<string, unknown> {
  const { namespace, periodSeconds: period } = params;

  let queries = 0;
  /** A time-series graph of one Metrics Insights query (ids `q1`, `q2`, ... in widget order). */
  const graph = (place: Place, title: string, query: string, options: GraphOptions = {}) => ({
    type: 'metric',
    ...place,
    properties: {
      title,
      region: '${AWS::Region}',
      view: 'timeSeries',
      ...(options.stacked ? { stacked: true } : {}),
      period,
      metrics: [[{ id: `q${++queries}`, expression: query }]],
      ...(options.annotations ? { annotations: { horizontal: options.annotations } } : {}),
      ...(options.yAxis ? { yAxis: { left: options.yAxis } } : {}),
    },
  });
  const percent = { min: 0, max: 100 };
  const ns = literal(namespace);

  return {
    start: '-PT12H',
    periodOverride: 'inherit',
    widgets: [
      {
        type: 'alarm',
        x: 0,
        y: 0,
        width: 24,
        height: 3,
        properties: { title: 'Alarms', alarms: DASHBOARD_ALARMS.map((id) => `\${${id}.Arn}`) },
      },
      graph(
        { x: 0, y: 3, width: 12, height: 6 },
        `Free IPs per subnet (${METRIC.SubnetAvailableIps})`,
        insightsQuery('MIN', METRIC.SubnetAvailableIps, DIMENSIONS.subnet, namespace),
        { annotations: [{ label: 'alarm', value: params.subnetFreeIpsAlarmThreshold }], yAxis: { min: 0 } },
      ),
      graph(
        { x: 12, y: 3, width: 12, height: 6 },
        `Subnet utilisation % (${METRIC.SubnetUtilization})`,
        insightsQuery('MAX', METRIC.SubnetUtilization, DIMENSIONS.subnet, namespace),
        { yAxis: percent },
      ),
      graph(
        { x: 0, y: 9, width: 12, height: 6 },
        `IPs held, by holder (${METRIC.SubnetIpsHeld}: ${HOLDERS.join(', ')})`,
        insightsQuery('MAX', METRIC.SubnetIpsHeld, DIMENSIONS.subnetHolder, namespace),
        { stacked: true, yAxis: { min: 0 } },
      ),
      graph(
        { x: 12, y: 9, width: 12, height: 6 },
        `Control-plane headroom (${METRIC.ControlPlaneMinAvailableIps})`,
        insightsQuery('MIN', METRIC.ControlPlaneMinAvailableIps, DIMENSIONS.cluster, namespace),
        {
          annotations: [
            { label: 'alarm', value: params.controlPlaneFreeIpsAlarmThreshold },
            { label: 'EKS minimum', value: EKS_MINIMUM_FREE_IPS },
          ],
          yAxis: { min: 0 },
        },
      ),
      graph({ x: 0, y: 15, width: 8, height: 6 }, 'Nodes per cluster', insightsQuery('MAX', METRIC.Nodes, DIMENSIONS.cluster, namespace)),
      graph(
        { x: 8, y: 15, width: 8, height: 6 },
        `Pod capacity per cluster (${METRIC.PodCapacity})`,
        insightsQuery('MAX', METRIC.PodCapacity, DIMENSIONS.cluster, namespace),
      ),
      graph(
        { x: 16, y: 15, width: 8, height: 6 },
        `Nodes at their ENI limit (${METRIC.NodesAtEniLimit})`,
        insightsQuery('MAX', METRIC.NodesAtEniLimit, DIMENSIONS.cluster, namespace),
      ),
      graph(
        { x: 0, y: 21, width: 12, height: 6 },
        `Nodegroup ENI utilisation % (${METRIC.NodegroupEniUtilization})`,
        insightsQuery('MAX', METRIC.NodegroupEniUtilization, DIMENSIONS.nodegroup, namespace),
        { yAxis: percent },
      ),
      // ClustersSampled and ClustersFailed are published without dimensions (one per cycle).
      {
        type: 'metric',
        x: 12,
        y: 21,
        width: 12,
        height: 6,
        properties: {
          title: 'Sampling health',
          region: '${AWS::Region}',
          view: 'timeSeries',
          stat: 'Sum',
          period,
          metrics: [
            [ns, METRIC.ClustersSampled, { label: 'clusters sampled' }],
            [ns, METRIC.ClustersFailed, { label: 'clusters failed' }],
            ['AWS/Lambda', 'Errors', 'FunctionName', '${SampleLambdaFunction}', { label: 'sampler errors' }],
            ['AWS/Lambda', 'Throttles', 'FunctionName', '${SampleLambdaFunction}', { label: 'sampler throttles' }],
          ],
        },
      },
    ],
  };
}

/** The dashboard's body: the text of the `Fn::Sub` that resources/dashboard.yml deploys. */
export function dashboardBody(params: DashboardParams): string {
  return JSON.stringify(dashboard(params));
}
