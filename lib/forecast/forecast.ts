/**
 * Forecasts for every subnet and cluster of a free-address history, and the metrics that
 * publish them. Pure: history and `now` in, Forecasts and MetricDatum values out.
 */
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { Forecast } from '../diagnose/types';
import { datum } from '../publish/metrics';
import { forecastExhaustion, type Point, type TrendOptions } from './trend';

/** The key of a subnet's series: `${clusterName}/${subnetId}`. EKS cluster names and subnet ids contain no '/'. */
export function subnetKey(clusterName: string, subnetId: string): string {
  return `${clusterName}/${subnetId}`;
}

/** The cluster name and subnet id of a `subnetKey`. */
export function parseSubnetKey(key: string): { clusterName: string; subnetId: string } {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1) throw new Error(`not a subnet key (<cluster>/<subnet id>): ${JSON.stringify(key)}`);
  return { clusterName: key.slice(0, slash), subnetId: key.slice(slash + 1) };
}

/** Free-address history: `SubnetAvailableIps` by subnet key, `ClusterAvailableIps` by cluster name. */
export interface History {
  subnets: Map<string, Point[]>;
  clusters: Map<string, Point[]>;
}

export interface Forecasts {
  /** By subnet key (`subnetKey`). */
  subnets: Map<string, Forecast>;
  /** By cluster name. */
  clusters: Map<string, Forecast>;
}

/** A forecast for every series of the history (series without points say "not enough history"). */
export function forecastsFor(history: History, now: Date, opts?: TrendOptions): Forecasts {
  const each = (m: Map<string, Point[]>): Map<string, Forecast> =>
    new Map([...m].map(([key, points]) => [key, forecastExhaustion(points, now, opts)]));
  return { subnets: each(history.subnets), clusters: each(history.clusters) };
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
