/**
 * The statistics of a forecast, pure arithmetic over numbers: the Mann–Kendall trend test, the
 * Theil–Sen slope, medians in linear time, and the single-step fit. Why these methods, and their
 * limits: docs/models.md, "Forecasts".
 */

/** Theil–Sen uses at most this many pairwise slopes (all of them up to n ≈ 141; a day of 5-minute samples, 289, uses every 5th pair: the benchmark showed the full 41,616 per series cost more than the rest of the cycle, and a deterministic fifth of the pairs moves the median slope by far less than the noise). */
export const MAX_PAIRS = 10_000;
/** A single level shift is a step, not a trend, when it fits with under this share of the line's mean absolute residual. */
export const STEP_FIT_RATIO = 0.5;

/**
 * Two-sided p-value of the Mann–Kendall trend test (Mann 1945) with the tie-corrected variance
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
 * Theil–Sen slope (Theil 1950; Sen 1968): the median of pairwise slopes. Above MAX_PAIRS pairs, every k-th pair in
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
export function singleStep(x: number[], y: number[], slope: number): number | undefined {
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

export function median(values: number[]): number {
  return values.length === 0 ? NaN : medianInPlace(Float64Array.from(values), values.length);
}

/** Standard normal CDF; erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
