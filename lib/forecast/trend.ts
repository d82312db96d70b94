/**
 * When does a subnet or a cluster run out of free addresses? Pure: a time series of a
 * free-address metric (`SubnetAvailableIps`, `ClusterAvailableIps`) in, a `Forecast` out.
 *
 * The method, and why:
 *
 * - **Is there a trend at all?** The Mann–Kendall test (Mann 1945; Kendall 1975): S is the sum
 *   of sign(vⱼ − vᵢ) over all pairs i < j in time order; under "no trend" S has mean 0 and
 *   variance [n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18, where t runs over the sizes of groups of
 *   equal values (the tie correction matters: address counts are integers and repeat a lot).
 *   Z = (S ∓ 1)/√Var(S) (continuity correction); the trend is significant when the two-sided
 *   p-value is below `alpha` (default 0.05, i.e. |Z| > 1.96). It uses only ranks, so one spike
 *   moves S by at most n − 1 of its n(n−1)/2 terms, and white noise around a flat level is
 *   "no trend" — the method says so rather than inventing a slope.
 * - **How fast?** The Theil–Sen estimator (Theil 1950; Sen 1968): the median of the pairwise
 *   slopes (vⱼ − vᵢ)/(tⱼ − tᵢ). Up to 29 % of the points can be outliers before it breaks down,
 *   and it uses real timestamps, so gaps in the series are handled. Above `MAX_PAIRS` pairs
 *   (n ≈ 317; a day of 5-minute samples is 288, a week 2,016) every k-th pair in a fixed order is
 *   used: deterministic, evenly spread over all lags, and O(n²) cheap comparisons, no sort of
 *   two million slopes.
 * - **From what level?** The median of the latest `LEVEL_SAMPLES` (5) points, robust to a spike
 *   in the newest sample, projected from the median of their times to `now` (a stale series
 *   shortens the forecast rather than pretending the data is fresh).
 * - **Step changes.** A node group scaling up once takes many addresses in one step, and both
 *   tests above read a single step as a strong trend (Theil–Sen would extrapolate the step over
 *   the whole window: a 200-address step in 24 h becomes "−8 IPs/h"). So when the trend is
 *   significant, the series is also fitted with a single level shift (the split that minimises
 *   the squared error of two constant levels); if that step model explains the data much better
 *   than the line (its mean absolute residual under `STEP_FIT_RATIO` × the line's), the step is
 *   taken as an event, not a trend, and the forecast is made again from the points after it
 *   only — which usually says "no trend since", or "not enough history since" when the step is
 *   recent. A real decline, even one that moves in ENI-sized stairs of three or more steps, fits
 *   a line better than one step and is forecast as a trend.
 *
 * Limits: Mann–Kendall assumes independent samples; 5-minute address counts are
 * autocorrelated, which makes the test liberal (a slow random walk can read as a trend). The
 * horizon cap bounds the harm: a weak trend gives "not within N days". A large step in the last
 * few samples is reported as a step with "not enough history since", not as a trend.
 */

import type { Forecast } from '../diagnose/types';

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

/** Theil–Sen uses at most this many pairwise slopes (all of them up to n ≈ 141; a day of 5-minute samples, 289, uses every 5th pair: the benchmark showed the full 41,616 per series cost more than the rest of the cycle, and a deterministic fifth of the pairs moves the median slope by far less than the noise). */
export const MAX_PAIRS = 10_000;
/** The current level is the median of this many latest samples: robust to two spikes. */
export const LEVEL_SAMPLES = 5;
/** A single level shift is a step, not a trend, when it fits with under this share of the line's mean absolute residual. */
export const STEP_FIT_RATIO = 0.5;

const HOUR_MS = 3_600_000;

/**
 * Hours until a free-address series reaches zero, at its current trend.
 *
 * 'decreasing' only when the Mann–Kendall test finds a significant trend and the Theil–Sen
 * slope is negative; then `hoursToExhaustion` = current level / −slope, less the time since
 * that level was measured, capped at the horizon (a value equal to `horizonHours` means "not
 * within the horizon", which the summary says in words). See the module comment for the
 * method, the handling of steps, and its limits.
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

interface Step {
  ms: number;
  change: number;
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

/**
 * Two-sided p-value of the Mann–Kendall trend test with the tie-corrected variance
 * (Kendall 1975; as in Hipel & McLeod, "Time Series Modelling of Water Resources", 1994, §23.3).
 */
export function mannKendallP(values: number[]): number {
  const n = values.length;
  if (n < 3) return 1;
  let s = 0;
  for (let i = 0; i < n - 1; i++) {
    const vi = values[i]!;
    for (let j = i + 1; j < n; j++) {
      const d = values[j]! - vi;
      s += d > 0 ? 1 : d < 0 ? -1 : 0;
    }
  }
  const ties = new Map<number, number>();
  for (const v of values) ties.set(v, (ties.get(v) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of ties.values()) tieTerm += t * (t - 1) * (2 * t + 5);
  const variance = (n * (n - 1) * (2 * n + 5) - tieTerm) / 18;
  if (variance <= 0 || s === 0) return 1;
  const z = (s > 0 ? s - 1 : s + 1) / Math.sqrt(variance);
  return 2 * (1 - normalCdf(Math.abs(z)));
}

/**
 * Theil–Sen slope: the median of pairwise slopes. Above MAX_PAIRS pairs, every k-th pair in
 * row order (i ascending, then j) is used, which is deterministic and covers every lag.
 */
export function theilSenSlope(x: number[], y: number[]): number {
  const n = x.length;
  const pairs = (n * (n - 1)) / 2;
  const stride = Math.max(1, Math.ceil(pairs / MAX_PAIRS));
  // One preallocated buffer for every series of a cycle (hundreds of series × ~40,000 slopes
  // each): no per-series arrays for the garbage collector, and a median in linear time.
  const slopes = slopeBuffer(Math.ceil(pairs / stride));
  let count = 0;
  let k = 0;
  for (let i = 0; i < n - 1; i++) {
    const xi = x[i]!;
    const yi = y[i]!;
    for (let j = i + 1; j < n; j++, k++) {
      if (k % stride !== 0) continue;
      const dx = x[j]! - xi;
      if (dx > 0) slopes[count++] = (y[j]! - yi) / dx;
    }
  }
  return count > 0 ? medianInPlace(slopes, count) : 0;
}

let buffer = new Float64Array(0);
function slopeBuffer(size: number): Float64Array {
  if (buffer.length < size) buffer = new Float64Array(Math.max(size, MAX_PAIRS + 1));
  return buffer;
}

/** The k-th smallest of a[0..n) (0-based), by quickselect (Hoare partition, median-of-three pivot); reorders a. */
function selectInPlace(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    // Median of three as the pivot keeps sorted and reversed inputs linear.
    const p = Math.max(Math.min(a[lo]!, a[mid]!), Math.min(Math.max(a[lo]!, a[mid]!), a[hi]!));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < p) i++;
      while (a[j]! > p) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** The median of a[0..n), in O(n); reorders a. */
function medianInPlace(a: Float64Array, n: number): number {
  const mid = n >> 1;
  const upper = selectInPlace(a, n, mid);
  if (n % 2) return upper;
  // The lower middle is the largest of the elements left of mid after partitioning.
  let lower = -Infinity;
  for (let i = 0; i < mid; i++) if (a[i]! > lower) lower = a[i]!;
  return (lower + upper) / 2;
}

/**
 * The index where a single level shift starts, when one step explains the series much better
 * than the Theil–Sen line; undefined otherwise. Each side keeps at least two samples.
 */
function singleStep(x: number[], y: number[], slope: number): number | undefined {
  const n = y.length;
  if (n < 4) return undefined;
  // Best split by squared error of two constant levels, in O(n) with prefix sums.
  const sum = [0];
  const sq = [0];
  for (const v of y) {
    sum.push(sum[sum.length - 1]! + v);
    sq.push(sq[sq.length - 1]! + v * v);
  }
  const sse = (a: number, b: number): number => {
    const len = b - a;
    const s = sum[b]! - sum[a]!;
    return sq[b]! - sq[a]! - (s * s) / len;
  };
  let best = -1;
  let bestErr = Infinity;
  for (let k = 2; k <= n - 2; k++) {
    const err = sse(0, k) + sse(k, n);
    if (err < bestErr) {
      bestErr = err;
      best = k;
    }
  }
  const left = y.slice(0, best);
  const right = y.slice(best);
  const ml = median(left);
  const mr = median(right);
  const stepErr = (left.reduce((a, v) => a + Math.abs(v - ml), 0) + right.reduce((a, v) => a + Math.abs(v - mr), 0)) / n;
  const intercept = median(y.map((v, i) => v - slope * x[i]!));
  const lineErr = y.reduce((a, v, i) => a + Math.abs(v - (intercept + slope * x[i]!)), 0) / n;
  return stepErr < STEP_FIT_RATIO * lineErr ? best : undefined;
}

function median(values: number[]): number {
  return values.length === 0 ? NaN : medianInPlace(Float64Array.from(values), values.length);
}

/** Standard normal CDF; erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

function fmtNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 10 || Number.isInteger(v)) return String(Math.round(v));
  return String(Number(v.toPrecision(2)));
}

/** "−12", "+3", "−0.4": the sign spelled out, with a real minus sign. */
function fmtSlope(v: number): string {
  return `${v < 0 ? '\u2212' : '+'}${fmtNumber(Math.abs(v))}`;
}

function fmtDuration(h: number): string {
  return h >= 48 ? `${fmtNumber(h / 24)} days` : `${fmtNumber(h)} h`;
}

function fmtEta(h: number): string {
  if (h < 1) return 'less than an hour';
  return `about ${h >= 48 ? `${Math.round(h / 24)} days` : `${Math.round(h)} h`}`;
}

function stepText(step: Step): string {
  const when = new Date(step.ms).toISOString().slice(0, 16).replace('T', ' ');
  return `free addresses ${step.change < 0 ? 'fell' : 'rose'} by ${fmtNumber(Math.abs(step.change))} in one step at ${when} UTC`;
}
