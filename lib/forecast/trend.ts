/**
 * When does a subnet or a cluster run out of free addresses? Pure: a time series of a
 * free-address metric (`SubnetAvailableIps`, `ClusterAvailableIps`) in, a `Forecast` out.
 * The decision is here; the arithmetic in `statistics.ts`, the summary's words in `wording.ts`.
 * The method, why, and its limits: docs/models.md, "Forecasts".
 */

import type { Forecast } from '../diagnose/types';
import { mannKendallP, median, singleStep, theilSenSlope } from './statistics';
import { fmtDuration, fmtEta, fmtNumber, fmtSlope, stepText, type Step } from './wording';

/** One sample of a free-address metric. */
export interface Point {
  t: Date;
  value: number;
}

export interface TrendOptions {
  /** Fewer samples than this is "not enough history". Default 12 (an hour of 5-minute samples). */
  minSamples?: number;
  /** A span shorter than this (hours, first to last sample) is "not enough history". Default 2. */
  minSpanHours?: number;
  /** Exhaustion further away than this (hours) is "not within …"; hoursToExhaustion is capped at it. Default 168 (7 days). */
  horizonHours?: number;
  /** Two-sided significance level of the Mann–Kendall test. Default 0.05 (|Z| > 1.96). */
  alpha?: number;
}

export const DEFAULT_TREND_OPTIONS: Required<TrendOptions> = {
  minSamples: 12,
  minSpanHours: 2,
  horizonHours: 168,
  alpha: 0.05,
};

/** The current level is the median of this many latest samples: robust to two spikes. */
export const LEVEL_SAMPLES = 5;

const HOUR_MS = 3_600_000;

/**
 * Hours until a free-address series reaches zero, at its current trend.
 *
 * 'decreasing' only when the Mann–Kendall test finds a significant trend and the Theil–Sen
 * slope is negative; then `hoursToExhaustion` = current level / −slope, less the time since
 * that level was measured, capped at the horizon (a value equal to `horizonHours` means "not
 * within the horizon", which the summary says in words). See docs/models.md, "Forecasts", for
 * the method, the handling of steps, and its limits.
 *
 * @param points samples in any order; non-finite values and samples after `now` are ignored,
 *   samples with the same timestamp are kept once (the lowest value, as the Minimum statistic would).
 */
export function forecastExhaustion(points: Point[], now: Date, opts: TrendOptions = {}): Forecast {
  const o = { ...DEFAULT_TREND_OPTIONS, ...opts };
  const series = clean(points, now);
  return analyse(series, now, o, undefined);
}

interface Sample {
  /** Epoch milliseconds. */
  ms: number;
  value: number;
}


/**
 * The usable points in time order, one per timestamp (the lowest value where a timestamp repeats),
 * none from the future. GetMetricData answers in ascending order (metric-history.ts asks
 * ScanBy TimestampAscending): that common case takes one pass; anything else is sorted.
 */
function clean(points: Point[], now: Date): Sample[] {
  const nowMs = now.getTime();
  const out: Sample[] = [];
  let ordered = true;
  for (const p of points) {
    const ms = p.t.getTime();
    if (!Number.isFinite(ms) || !Number.isFinite(p.value) || ms > nowMs) continue;
    const last = out[out.length - 1];
    if (last && ms <= last.ms) ordered = false;
    out.push({ ms, value: p.value });
  }
  if (ordered) return out;
  const byTime = new Map<number, number>();
  for (const { ms, value } of out) {
    const seen = byTime.get(ms);
    byTime.set(ms, seen === undefined ? value : Math.min(seen, value));
  }
  return [...byTime.entries()].map(([ms, value]) => ({ ms, value })).sort((a, b) => a.ms - b.ms);
}

function analyse(s: Sample[], now: Date, o: Required<TrendOptions>, step: Step | undefined): Forecast {
  const samples = s.length;
  const first = s[0];
  const last = s[s.length - 1];
  const spanHours = first && last ? (last.ms - first.ms) / HOUR_MS : 0;
  const since = step ? `, since ${stepText(step)}` : '';

  if (samples < o.minSamples || spanHours < o.minSpanHours) {
    const what = `not enough history (${samples} samples over ${fmtNumber(spanHours)} h)`;
    return { trend: 'none', samples, spanHours, summary: step ? `${stepText(step)}; ${what} since` : what };
  }

  const values = s.map((p) => p.value);
  const hours = s.map((p) => (p.ms - s[0]!.ms) / HOUR_MS);
  const { level, ageHours } = currentLevel(s, now);
  const over = `over the last ${fmtDuration(spanHours)}${since}`;
  const significant = mannKendallP(values) < o.alpha;
  const slope = theilSenSlope(hours, values);

  // A significant trend might be one step (even one too recent to move the median slope):
  // take the step as an event and look at what came after it.
  const split = significant ? singleStep(hours, values, slope) : undefined;
  if (split !== undefined) {
    const after = s.slice(split);
    const before = s.slice(0, split);
    // The size of the step itself: the few samples on each side, not whole segments that may still drift.
    const change = median(after.slice(0, LEVEL_SAMPLES).map((p) => p.value)) - median(before.slice(-LEVEL_SAMPLES).map((p) => p.value));
    return analyse(after, now, o, { ms: after[0]!.ms, change });
  }

  if (!significant || slope === 0) {
    const summary = `no trend ${over}`;
    return { trend: 'none', samples, spanHours, summary: level <= 0 ? `out of free addresses now; ${summary}` : summary };
  }

  const rate = `${fmtSlope(slope)} IPs/h ${over}`;
  if (slope > 0) {
    return { trend: 'increasing', slopePerHour: slope, samples, spanHours, summary: `free addresses rising (${rate})` };
  }
  const raw = Math.max(0, level / -slope - ageHours);
  const hoursToExhaustion = Math.min(raw, o.horizonHours);
  const summary =
    level <= 0
      ? `out of free addresses now (${rate})`
      : raw > o.horizonHours
        ? `free addresses falling (${rate}) but not running out within ${fmtDuration(o.horizonHours)}`
        : `runs out in ${fmtEta(raw)} (${rate})`;
  return { trend: 'decreasing', hoursToExhaustion, slopePerHour: slope, samples, spanHours, summary };
}

/**
 * The free addresses at the end of the series: the median of the latest samples (robust to a
 * spike in them), and how many hours before `now` that level was measured (the median of their times).
 */
function currentLevel(s: Sample[], now: Date): { level: number; ageHours: number } {
  const latest = s.slice(-LEVEL_SAMPLES);
  return {
    level: median(latest.map((p) => p.value)),
    ageHours: (now.getTime() - median(latest.map((p) => p.ms))) / HOUR_MS,
  };
}
