/**
 * The forecast stage: forecasts for every subnet and cluster of a free-address history, put on
 * the findings they concern. The arithmetic (`forecastsFor`, lib/forecast/trend.ts) is pure; the
 * stage reads the history through a {@link HistoryReader} it is given (lib/aws/metric-history.ts
 * on CloudWatch, bound by the composition root), so that this module imports no adapter.
 */
import type { CycleDeadline } from '../deadline';
import type { Finding, Forecast } from '../diagnose/types';
import { messageOf } from '../errors';
import type { Usage } from '../measure/types';
import { subnetKey } from '../keys';
import { forecastExhaustion, type Point, type TrendOptions } from './trend';

/** Free-address history: `SubnetAvailableIps` by subnet key (lib/keys.ts `subnetKey`), `ClusterAvailableIps` by cluster name. */
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

/** Puts each forecast on the findings it concerns: a subnet's own, else the cluster's. */
export function attachForecasts(findings: Finding[], forecasts: Forecasts): Finding[] {
  return findings.map((f) => {
    if (f.kind !== 'subnet-exhaustion' && f.kind !== 'control-plane-headroom' && f.kind !== 'ips-held-by-others' && f.kind !== 'prefix-fragmentation') {
      return f;
    }
    let forecast: Forecast | undefined;
    if (f.subject.type === 'subnet') forecast = forecasts.subnets.get(subnetKey(f.cluster, f.subject.id));
    forecast ??= forecasts.clusters.get(f.cluster);
    return forecast ? { ...f, forecast } : f;
  });
}

/**
 * Reads the free-address history of the given clusters' subnets and of the clusters themselves
 * (lib/aws/metric-history.ts `readAvailableIpHistory` implements it on CloudWatch). `incomplete`
 * names the series whose history came back incomplete, and why.
 */
export type HistoryReader = (
  series: { clusterName: string; subnetIds: string[] }[],
  window: { start: Date; end: Date; periodSeconds: number },
) => Promise<History & { incomplete: Map<string, string> }>;

export interface ForecastOptions {
  now: Date;
  /** History the forecast looks at (hours); 24 by default. */
  windowHours?: number;
  /** The metric period (seconds); 300 by default (the sampler's 5-minute schedule). */
  periodSeconds?: number;
  /** Once it has passed, the history is not read: the time left is for publishing and recording. */
  deadline?: CycleDeadline;
}

export interface ForecastResult {
  /** The findings, each with its forecast where there is one. */
  findings: Finding[];
  /** Undefined when there was no history to read (no reader, the deadline, a failed read). */
  forecasts?: Forecasts;
  /** Why there is no forecast, or which series' history is incomplete. */
  problems: string[];
}

/**
 * The forecast stage. Without a reader (the CLI on a snapshot) there is no forecast and no
 * problem; a failed read leaves the findings as they were, the failure named in `problems`.
 */
export async function forecastFindings(read: HistoryReader | undefined, usage: Usage, findings: Finding[], options: ForecastOptions): Promise<ForecastResult> {
  if (!read) return { findings, problems: [] };
  if (options.deadline?.passed()) {
    // The margin left is for publishing and recording what was collected.
    return { findings, problems: [`no forecast: the metric history was not read, the deadline had passed (${options.deadline.why})`] };
  }
  const problems: string[] = [];
  const periodSeconds = options.periodSeconds ?? 300;
  const hours = options.windowHours ?? 24;
  const { now } = options;
  try {
    const history = await read(
      usage.clusters.map((c) => ({ clusterName: c.name, subnetIds: c.subnets.map((s) => s.subnetId) })),
      { start: new Date(now.getTime() - hours * 3_600_000), end: now, periodSeconds },
    );
    for (const [key, why] of history.incomplete) problems.push(`history of ${key} is incomplete: ${why}`);
    // This sample is not published yet: it is the newest point of each series.
    const t = new Date(usage.collectedAt);
    for (const c of usage.clusters) {
      for (const s of c.subnets) {
        const key = subnetKey(c.name, s.subnetId);
        history.subnets.set(key, [...(history.subnets.get(key) ?? []), { t, value: s.available }]);
      }
      history.clusters.set(c.name, [...(history.clusters.get(c.name) ?? []), { t, value: c.totals.availableIps }]);
    }
    const forecasts = forecastsFor(history, now);
    return { findings: attachForecasts(findings, forecasts), forecasts, problems };
  } catch (err) {
    problems.push(`no forecast: ${messageOf(err)}`);
    return { findings, problems };
  }
}
