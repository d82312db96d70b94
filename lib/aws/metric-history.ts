/**
 * CloudWatch adapter: the history of the free-address metrics the stack publishes
 * (`SubnetAvailableIps` {ClusterName, SubnetId} and `ClusterAvailableIps` {ClusterName}, see
 * lib/output/publish/metrics.ts), read back with GetMetricData for the forecast.
 *
 * One MetricDataQuery per series, up to 500 queries per request, each request paginated with
 * NextToken: the number of calls grows with series / 500 and with pages, never per subnet.
 */
import {
  paginateGetMetricData,
  type CloudWatchClient,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { awsCallError } from '../errors';
import type { HistoryReader } from '../forecast/forecast';
import type { RegionHistoryReader } from '../forecast/region-limits';
import type { Point } from '../forecast/trend';
import { subnetKey } from '../keys';
import { chunk } from './chunk';

/**
 * GetMetricData accepts at most 500 MetricDataQuery structures per request (CloudWatch API
 * reference, MetricDataQuery: "A single GetMetricData call can include up to 500
 * MetricDataQuery structures", https://docs.amazonaws.cn/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html;
 * the same in the GetMetricDataInput.MetricDataQueries doc of @aws-sdk/client-cloudwatch). A
 * request returns "as many as 100,800 data points" (AWS CLI reference, get-metric-data,
 * https://docs.aws.amazon.com/cli/latest/reference/cloudwatch/get-metric-data.html; the
 * MaxDatapoints default); beyond that CloudWatch answers NextToken and the paginator asks again. 500 series × a week of 5-minute points (2,016) is
 * about ten pages.
 */
export const METRIC_DATA_QUERIES_PER_CALL_MAX = 500;

/** The metric names read here, as lib/output/publish/metrics.ts publishes them. */
export const SUBNET_AVAILABLE_IPS = 'SubnetAvailableIps';
export const CLUSTER_AVAILABLE_IPS = 'ClusterAvailableIps';

/** The series of one cluster to read. */
export interface AvailableIpSeries {
  clusterName: string;
  subnetIds: string[];
}

export interface HistoryWindow {
  start: Date;
  end: Date;
  /** Period of the returned points; 300 matches the sampler's 5-minute schedule. */
  periodSeconds: number;
}

/** Free-address history, oldest point first. Every requested series has an entry, empty when CloudWatch has no data. */
export interface AvailableIpHistory {
  /** Keyed `${clusterName}/${subnetId}` (lib/keys.ts `subnetKey`). */
  subnets: Map<string, Point[]>;
  /** Keyed by cluster name. */
  clusters: Map<string, Point[]>;
  /**
   * Keys (subnet or cluster) whose last answer was not `Complete` after all pages were read
   * (`InternalError`, `Forbidden`, or `PartialData` without a NextToken), with CloudWatch's
   * messages. Their points are what came back; the rest of the history is unaffected.
   */
  incomplete: Map<string, string>;
}

/** A GetMetricData query id: ^[a-z][a-zA-Z0-9_]*$ and unique within a request (MetricDataQuery.Id). */
const queryId = (i: number): string => `q${i}`;

interface Query {
  kind: 'subnet' | 'cluster';
  key: string;
  query: MetricDataQuery;
}

/** The forecast's {@link HistoryReader} over the stack's metrics in `namespace`, read with `client`. */
export function availableIpHistoryReader(client: CloudWatchClient, namespace: string): HistoryReader {
  return (series, window) => readAvailableIpHistory(client, namespace, series, window);
}

/**
 * Reads the `SubnetAvailableIps` and `ClusterAvailableIps` history of the given clusters, with
 * the Minimum statistic (the worst moment of each period is the one that matters for running
 * out) and ScanBy TimestampAscending.
 *
 * @throws AwsCallError naming `cloudwatch:GetMetricData` and the namespace when a request fails.
 */
export async function readAvailableIpHistory(
  client: CloudWatchClient,
  namespace: string,
  series: AvailableIpSeries[],
  window: HistoryWindow,
): Promise<AvailableIpHistory> {
  const queries = buildQueries(namespace, series, window.periodSeconds);
  const history: AvailableIpHistory = { subnets: new Map(), clusters: new Map(), incomplete: new Map() };
  for (const q of queries) (q.kind === 'subnet' ? history.subnets : history.clusters).set(q.key, []);

  const batches = chunk(queries, METRIC_DATA_QUERIES_PER_CALL_MAX);
  for (const [b, batch] of batches.entries()) {
    const byId = new Map(batch.map((q) => [q.query.Id!, q]));
    const status = new Map<string, MetricDataResult>();
    let page = 0;
    try {
      // stopOnSameToken: a token repeated by the service ends the loop instead of spinning on it.
      const pages = paginateGetMetricData(
        { client, stopOnSameToken: true },
        {
          MetricDataQueries: batch.map((q) => q.query),
          StartTime: window.start,
          EndTime: window.end,
          ScanBy: 'TimestampAscending',
        },
      );
      for await (const out of pages) {
        page++;
        for (const r of out.MetricDataResults ?? []) {
          const q = r.Id === undefined ? undefined : byId.get(r.Id);
          if (!q) continue;
          const points = (q.kind === 'subnet' ? history.subnets : history.clusters).get(q.key)!;
          points.push(...toPoints(r));
          status.set(r.Id!, r);
        }
      }
    } catch (err) {
      throw awsCallError('cloudwatch:GetMetricData', `in ${namespace}, request ${b + 1} of ${batches.length} (${batch.length} series), page ${page + 1}`, err);
    }
    for (const [id, r] of status) {
      if (r.StatusCode === undefined || r.StatusCode === 'Complete') continue;
      const messages = (r.Messages ?? []).map((m) => `${m.Code ?? ''}${m.Value ? `: ${m.Value}` : ''}`).join('; ');
      history.incomplete.set(byId.get(id)!.key, `${r.StatusCode}${messages ? ` (${messages})` : ''}`);
    }
  }

  for (const map of [history.subnets, history.clusters]) {
    for (const [key, points] of map) map.set(key, sortUnique(points));
  }
  return history;
}

function buildQueries(namespace: string, series: AvailableIpSeries[], period: number): Query[] {
  const out: Query[] = [];
  const seen = new Set<string>();
  const add = (kind: Query['kind'], key: string, metricName: string, dims: Record<string, string>): void => {
    if (seen.has(`${kind}:${key}`)) return;
    seen.add(`${kind}:${key}`);
    out.push({
      kind,
      key,
      query: {
        Id: queryId(out.length),
        Label: key,
        MetricStat: {
          Metric: {
            Namespace: namespace,
            MetricName: metricName,
            Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })),
          },
          Period: period,
          Stat: 'Minimum',
        },
        ReturnData: true,
      },
    });
  };
  for (const s of series) {
    add('cluster', s.clusterName, CLUSTER_AVAILABLE_IPS, { ClusterName: s.clusterName });
    for (const subnetId of s.subnetIds) {
      add('subnet', subnetKey(s.clusterName, subnetId), SUBNET_AVAILABLE_IPS, { ClusterName: s.clusterName, SubnetId: subnetId });
    }
  }
  return out;
}

/** Timestamps[x] goes with Values[x] (MetricDataResult); a length mismatch keeps the common prefix. */
function toPoints(r: MetricDataResult): Point[] {
  const ts = r.Timestamps ?? [];
  const vs = r.Values ?? [];
  const n = Math.min(ts.length, vs.length);
  const out: Point[] = [];
  for (let i = 0; i < n; i++) out.push({ t: new Date(ts[i]!), value: vs[i]! });
  return out;
}

/** Oldest first, one point per timestamp (pages can overlap when CloudWatch repeats a boundary point). */
function sortUnique(points: Point[]): Point[] {
  const byTime = new Map<number, Point>();
  for (const p of points) byTime.set(p.t.getTime(), p);
  return [...byTime.values()].sort((a, b) => a.t.getTime() - b.t.getTime());
}

/**
 * The region-level history for lib/forecast/region-limits.ts: `RegionEniCount` (no
 * dimension) and `VpcNetworkAddressUsage` {VpcId}, the Maximum of each period (the worst moment
 * for a limit), in one GetMetricData per 500 series.
 */
export function regionLimitsHistoryReader(client: CloudWatchClient, namespace: string): RegionHistoryReader {
  return async (vpcIds, window) => {
    const queries: MetricDataQuery[] = [
      { Id: 'r0', MetricStat: { Metric: { Namespace: namespace, MetricName: 'RegionEniCount', Dimensions: [] }, Period: window.periodSeconds, Stat: 'Maximum' }, ReturnData: true },
      ...vpcIds.map((vpcId, i) => ({
        Id: `v${i}`,
        MetricStat: { Metric: { Namespace: namespace, MetricName: 'VpcNetworkAddressUsage', Dimensions: [{ Name: 'VpcId', Value: vpcId }] }, Period: window.periodSeconds, Stat: 'Maximum' },
        ReturnData: true,
      })),
    ];
    const byId = new Map<string, Point[]>();
    try {
      for (const batch of chunk(queries, METRIC_DATA_QUERIES_PER_CALL_MAX)) {
        for await (const out of paginateGetMetricData(
          { client, stopOnSameToken: true },
          { MetricDataQueries: batch, StartTime: window.start, EndTime: window.end, ScanBy: 'TimestampAscending' },
        )) {
          for (const r of out.MetricDataResults ?? []) if (r.Id) byId.set(r.Id, [...(byId.get(r.Id) ?? []), ...toPoints(r)]);
        }
      }
    } catch (err) {
      throw awsCallError('cloudwatch:GetMetricData', `in ${namespace}, the region-level history`, err);
    }
    return {
      regionEnis: sortUnique(byId.get('r0') ?? []),
      vpcs: new Map(vpcIds.map((vpcId, i) => [vpcId, sortUnique(byId.get(`v${i}`) ?? [])])),
    };
  };
}
