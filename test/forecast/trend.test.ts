import { mannKendallP, theilSenSlope } from '../../lib/forecast/statistics';
import { forecastExhaustion, type Point, type TrendOptions } from '../../lib/forecast/trend';
import { mulberry32 } from '../../tools/synthetic-account';

const NOW = new Date('2026-11-26T12:00:00Z');
const HOUR = 3_600_000;

/** Standard normal noise (Box–Muller) from a seeded PRNG. */
function gaussian(seed: number): () => number {
  const r = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

interface SeriesSpec {
  /** Hours of history ending at `end` (default NOW). */
  hours: number;
  /** Minutes between samples (default 5, the sampler's schedule). */
  everyMinutes?: number;
  /** Free addresses at h hours after the first sample. */
  f: (h: number) => number;
  /** Standard deviation of Gaussian noise, rounded to whole addresses like the real metric. */
  noise?: number;
  seed?: number;
  /** Drop samples with h in [from, to). */
  gap?: [number, number];
  end?: Date;
}

function series(spec: SeriesSpec): Point[] {
  const every = (spec.everyMinutes ?? 5) / 60;
  const end = (spec.end ?? NOW).getTime();
  const start = end - spec.hours * HOUR;
  const noise = gaussian(spec.seed ?? 1);
  const out: Point[] = [];
  const n = Math.round(spec.hours / every);
  for (let i = 0; i <= n; i++) {
    const h = i * every;
    if (spec.gap && h >= spec.gap[0] && h < spec.gap[1]) continue;
    const v = spec.f(h) + (spec.noise ? spec.noise * noise() : 0);
    out.push({ t: new Date(start + h * HOUR), value: spec.noise ? Math.max(0, Math.round(v)) : v });
  }
  return out;
}

interface Case {
  name: string;
  points: Point[];
  opts?: TrendOptions;
  trend: 'decreasing' | 'none' | 'increasing';
  /** [min, max] of hoursToExhaustion; must be absent unless the trend is 'decreasing'. */
  hours?: [number, number];
  /** [min, max] of slopePerHour. */
  slope?: [number, number];
  summary: string | RegExp;
}

const cases: Case[] = [
  {
    name: 'linear decline: −12 IPs/h from 400 to 112 runs out in about 9 h',
    points: series({ hours: 24, f: (h) => 400 - 12 * h }),
    trend: 'decreasing',
    // 112 free at the last sample; the level (median of the last five) is 10 minutes old.
    hours: [9.3, 9.4],
    slope: [-12.001, -11.999],
    summary: 'runs out in about 9 h (\u221212 IPs/h over the last 24 h)',
  },
  {
    name: 'noisy decline (σ = 8 addresses) keeps the slope within 1 IP/h',
    points: series({ hours: 24, f: (h) => 400 - 12 * h, noise: 8, seed: 42 }),
    trend: 'decreasing',
    hours: [8, 10.5],
    slope: [-13, -11],
    summary: /^runs out in about (8|9|10) h \(−1[123] IPs\/h over the last 24 h\)$/,
  },
  ...[1, 2, 3, 4, 5].map(
    (seed): Case => ({
      name: `flat with noise (σ = 5, seed ${seed}) says no trend`,
      points: series({ hours: 24, f: () => 500, noise: 5, seed }),
      trend: 'none',
      summary: 'no trend over the last 24 h',
    }),
  ),
  {
    name: 'exactly flat says no trend',
    points: series({ hours: 24, f: () => 250 }),
    trend: 'none',
    summary: 'no trend over the last 24 h',
  },
  {
    name: 'increasing: +3 IPs/h with noise',
    points: series({ hours: 24, f: (h) => 100 + 3 * h, noise: 2, seed: 7 }),
    trend: 'increasing',
    slope: [2.8, 3.2],
    summary: 'free addresses rising (+3 IPs/h over the last 24 h)',
  },
  {
    name: 'a single spike to 0 on a flat series is no trend',
    points: series({ hours: 24, f: (h) => (Math.abs(h - 12) < 1e-9 ? 0 : 300) }),
    trend: 'none',
    summary: 'no trend over the last 24 h',
  },
  {
    name: 'a spike to 0 in the newest sample does not move the forecast of a decline',
    points: series({ hours: 24, f: (h) => (h >= 24 ? 0 : 400 - 12 * h) }),
    trend: 'decreasing',
    hours: [9.1, 9.4],
    summary: 'runs out in about 9 h (\u221212 IPs/h over the last 24 h)',
  },
  {
    name: 'one step (a node group scaled up once: 500 → 300 at 12 h) is an event, not a trend',
    points: series({ hours: 24, f: (h) => (h < 12 ? 500 : 300) }),
    trend: 'none',
    summary: 'no trend over the last 12 h, since free addresses fell by 200 in one step at 2026-11-26 00:00 UTC',
  },
  {
    name: 'one noisy step is still no trend',
    points: series({ hours: 24, f: (h) => (h < 8 ? 500 : 300), noise: 4, seed: 3 }),
    trend: 'none',
    summary: /^no trend over the last 16 h, since free addresses fell by (19|20)\d in one step at 2026-11-25 20:00 UTC$/,
  },
  {
    name: 'a step 30 minutes ago leaves too little history since',
    points: series({ hours: 24, f: (h) => (h < 23.5 ? 500 : 300) }),
    trend: 'none',
    summary: 'free addresses fell by 200 in one step at 2026-11-26 11:30 UTC; not enough history (7 samples over 0.5 h) since',
  },
  {
    // Theil–Sen is robust to the step (a quarter of the window): the slope is the decline's,
    // and 120 free at the end at −10 IPs/h is 12 h.
    name: 'a step, then a decline: the slope is the decline\'s, not the step\'s',
    points: series({ hours: 24, f: (h) => (h < 6 ? 600 : 300 - 10 * (h - 6)) }),
    trend: 'decreasing',
    hours: [11.5, 12.2],
    slope: [-10.001, -9.999],
    summary: 'runs out in about 12 h (\u221210 IPs/h over the last 24 h)',
  },
  {
    name: 'a step that dominates, then a slow decline: forecast from the decline after the step',
    points: series({ hours: 24, f: (h) => (h < 12 ? 500 : 300 - 2 * (h - 12)) }),
    trend: 'decreasing',
    // 276 free at the end at −2 IPs/h.
    hours: [137, 139],
    slope: [-2.001, -1.999],
    summary: 'runs out in about 6 days (\u22122 IPs/h over the last 12 h, since free addresses fell by 200 in one step at 2026-11-26 00:00 UTC)',
  },
  {
    name: 'a staircase of four ENI-sized steps is a trend, not a step',
    points: series({ hours: 24, f: (h) => 400 - 29 * Math.floor(h / 5) }),
    trend: 'decreasing',
    slope: [-7, -4.5],
    summary: 'runs out in about 2 days (\u22125.5 IPs/h over the last 24 h)',
  },
  {
    name: 'too few points: 10 samples',
    points: series({ hours: 0.75, f: (h) => 100 - 50 * h }),
    trend: 'none',
    summary: 'not enough history (10 samples over 0.75 h)',
  },
  {
    name: 'enough samples over too short a span (31 samples over 1.5 h)',
    points: series({ hours: 1.5, everyMinutes: 3, f: (h) => 100 - 50 * h }),
    trend: 'none',
    summary: 'not enough history (31 samples over 1.5 h)',
  },
  {
    name: 'no points at all',
    points: [],
    trend: 'none',
    summary: 'not enough history (0 samples over 0 h)',
  },
  {
    name: 'already at zero after a decline: hours 0',
    points: series({ hours: 24, f: (h) => Math.max(0, 282 - 12 * h) }),
    trend: 'decreasing',
    hours: [0, 0],
    summary: 'out of free addresses now (\u221212 IPs/h over the last 24 h)',
  },
  {
    name: 'at zero all day: no trend, and says it is out',
    points: series({ hours: 24, f: () => 0 }),
    trend: 'none',
    summary: 'out of free addresses now; no trend over the last 24 h',
  },
  {
    name: 'a 6-hour gap in the series does not change the slope',
    points: series({ hours: 24, f: (h) => 400 - 12 * h, gap: [8, 14] }),
    trend: 'decreasing',
    hours: [9.3, 9.4],
    slope: [-12.001, -11.999],
    summary: 'runs out in about 9 h (\u221212 IPs/h over the last 24 h)',
  },
  {
    name: 'irregular, sparse samples (every 37 minutes, a gap) still give the slope',
    points: series({ hours: 20, everyMinutes: 37, f: (h) => 300 - 8 * h, gap: [3, 9] }),
    trend: 'decreasing',
    slope: [-8.001, -7.999],
    summary: /^runs out in about 1\d h \(−8 IPs\/h over the last 2\d h\)$/,
  },
  {
    name: 'a slow decline beyond the horizon is capped at it and says so',
    points: series({ hours: 24, f: (h) => 500 - 0.5 * h }),
    trend: 'decreasing',
    hours: [168, 168],
    slope: [-0.501, -0.499],
    summary: 'free addresses falling (\u22120.5 IPs/h over the last 24 h) but not running out within 7 days',
  },
  {
    name: 'a custom horizon of 30 days: a decline 40 days away is still beyond it',
    points: series({ hours: 24, f: (h) => 500 - 0.5 * h }),
    opts: { horizonHours: 24 * 30 },
    trend: 'decreasing',
    hours: [720, 720],
    summary: 'free addresses falling (\u22120.5 IPs/h over the last 24 h) but not running out within 30 days',
  },
  {
    name: 'a decline that runs out in 3 days is said in days',
    points: series({ hours: 24, f: (h) => 900 - 12 * h }),
    trend: 'decreasing',
    hours: [50, 51],
    summary: 'runs out in about 2 days (\u221212 IPs/h over the last 24 h)',
  },
  {
    name: 'a stale series (last sample 3 h ago) shortens the forecast by 3 h',
    points: series({ hours: 24, f: (h) => 400 - 12 * h, end: new Date(NOW.getTime() - 3 * HOUR) }),
    trend: 'decreasing',
    hours: [6.3, 6.4],
    summary: 'runs out in about 6 h (\u221212 IPs/h over the last 24 h)',
  },
  {
    name: 'minSamples and minSpanHours are configurable',
    points: series({ hours: 24, f: (h) => 400 - 12 * h }),
    opts: { minSamples: 500 },
    trend: 'none',
    summary: 'not enough history (289 samples over 24 h)',
  },
];

describe('forecastExhaustion', () => {
  it.each(cases)('$name', (c) => {
    const f = forecastExhaustion(c.points, NOW, c.opts);
    expect(f.trend).toBe(c.trend);
    if (c.hours) {
      expect(f.hoursToExhaustion).toBeGreaterThanOrEqual(c.hours[0]);
      expect(f.hoursToExhaustion).toBeLessThanOrEqual(c.hours[1]);
    } else if (c.trend !== 'decreasing') {
      expect(f.hoursToExhaustion).toBeUndefined();
    }
    if (c.slope) {
      expect(f.slopePerHour).toBeGreaterThanOrEqual(c.slope[0]);
      expect(f.slopePerHour).toBeLessThanOrEqual(c.slope[1]);
    }
    if (c.trend === 'none') expect(f.slopePerHour).toBeUndefined();
    if (typeof c.summary === 'string') expect(f.summary).toBe(c.summary);
    else expect(f.summary).toMatch(c.summary);
  });

  it('reports the samples and span it used', () => {
    const f = forecastExhaustion(series({ hours: 24, f: (h) => 400 - 12 * h }), NOW);
    expect(f).toMatchObject({ samples: 289, spanHours: 24 });
  });

  it('ignores samples after now, non-finite values, and keeps one sample per timestamp (the lowest)', () => {
    const base = series({ hours: 24, f: (h) => 400 - 12 * h });
    const noisy = [
      ...base,
      { t: new Date(NOW.getTime() + HOUR), value: 0 },
      { t: new Date(NOW.getTime() - HOUR), value: Number.NaN },
      { t: base[0]!.t, value: 1000 },
    ];
    expect(forecastExhaustion(noisy.reverse(), NOW)).toEqual(forecastExhaustion(base, NOW));
    // In time order (as GetMetricData answers), each of the latest samples repeated with a lower
    // value right after it: the lower values are kept (they set the current level).
    const n = base.length;
    const lower = base.map((p, i) => (i >= n - 3 ? { t: p.t, value: p.value - 40 } : p));
    const repeated = [...base.slice(0, n - 3), ...base.slice(n - 3).flatMap((p) => [p, { t: p.t, value: p.value - 40 }])];
    expect(forecastExhaustion(repeated, NOW)).toEqual(forecastExhaustion(lower, NOW));
    expect(forecastExhaustion(lower, NOW)).not.toEqual(forecastExhaustion(base, NOW));
  });

  it('reads the same series in any order', () => {
    const points = series({ hours: 24, f: (h) => 400 - 12 * h, noise: 8, seed: 9 });
    const shuffled = [...points].sort((a, b) => (a.value % 7) - (b.value % 7) || a.t.getTime() - b.t.getTime());
    expect(forecastExhaustion(shuffled, NOW)).toEqual(forecastExhaustion(points, NOW));
  });

  it('a weak trend significant at alpha 0.05 is no trend at alpha 0.0001', () => {
    // A slope of 0.15 IPs/h under σ = 5 noise over 24 h: about Z = 2.5.
    const points = series({ hours: 24, f: (h) => 500 - 0.15 * h, noise: 5, seed: 11 });
    const p = mannKendallP(points.map((x) => x.value));
    expect(p).toBeLessThan(0.05);
    expect(p).toBeGreaterThan(0.0001);
    expect(forecastExhaustion(points, NOW).trend).toBe('decreasing');
    expect(forecastExhaustion(points, NOW, { alpha: 0.0001 }).trend).toBe('none');
  });

  // How long it takes is a figure of `npm run bench`, not a test.
  it('forecasts a week of 5-minute samples (2,017 points) deterministically', () => {
    const points = series({ hours: 24 * 7, f: (h) => 3000 - 12 * h, noise: 10, seed: 5 });
    expect(points).toHaveLength(2017);
    const f = forecastExhaustion(points, NOW);
    expect(f.trend).toBe('decreasing');
    expect(f.slopePerHour).toBeGreaterThan(-12.2);
    expect(f.slopePerHour).toBeLessThan(-11.8);
    expect(f.summary).toMatch(/over the last 7 days\)$/);
    expect(forecastExhaustion(points, NOW)).toEqual(f);
  });
});

describe('mannKendallP', () => {
  it.each([
    // S = 10, Var = 5·4·15/18, Z = 9/√16.67 = 2.2045: p = 0.02749.
    { values: [1, 2, 3, 4, 5], p: 0.027486 },
    // S = 8; two tied pairs: Var = (300 − 2·18)/18 = 14.67, Z = 7/√14.67 = 1.8278: p = 0.06758.
    { values: [1, 1, 2, 2, 3], p: 0.067577 },
    { values: [5, 4, 3, 2, 1], p: 0.027486 },
    { values: [3, 3, 3, 3, 3], p: 1 },
    { values: [1, 2], p: 1 },
  ])('p of $values is $p', ({ values, p }) => {
    expect(mannKendallP(values)).toBeCloseTo(p, 5);
  });
});

describe('theilSenSlope', () => {
  it('is the median of the pairwise slopes, unmoved by one outlier', () => {
    // Slopes 1, 1, 1, 10, 14, 28: median (1 + 10)/2.
    expect(theilSenSlope([0, 1, 2, 3], [0, 1, 2, 30])).toBe(5.5);
    expect(theilSenSlope([0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 400, 5, 6])).toBe(1);
  });

  it('skips pairs at the same time and says 0 with no usable pair', () => {
    expect(theilSenSlope([0, 0, 1], [5, 7, 8])).toBe(2);
    expect(theilSenSlope([2, 2], [1, 5])).toBe(0);
  });
});

describe('theilSenSlope against a naive median of every pairwise slope', () => {
  // A seeded generator, so the cases are the same every run.
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const naive = (x: number[], y: number[]): number => {
    const s: number[] = [];
    for (let i = 0; i < x.length; i++) for (let j = i + 1; j < x.length; j++) if (x[j]! > x[i]!) s.push((y[j]! - y[i]!) / (x[j]! - x[i]!));
    s.sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  it.each(Array.from({ length: 40 }, (_, i) => i))('case %i: equal slopes, with ties and duplicates', () => {
    const n = 2 + Math.floor(rand() * 60);
    const x = Array.from({ length: n }, (_, i) => i * 300_000);
    // Integer values with many repeats, like free-address counts.
    const y = Array.from({ length: n }, () => Math.floor(rand() * 8));
    expect(theilSenSlope(x, y)).toBeCloseTo(naive(x, y), 12);
  });
});
