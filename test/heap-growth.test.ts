import { execFileSync } from 'node:child_process';
import {
  HEAP_GROWTH_PEAK_SHARE,
  HeapGrowthControl,
  heapGrowthFor,
  V8_HIGH_GROWTH_HEAP_BYTES,
  type HeapGrowthFacts,
  type HeapGrowthProcess,
} from '../lib/heap-growth';
import { lambdaHeapFlags } from '../scripts/bench/lambda-memory';

const MB = 2 ** 20;
/** A 256 MB function's second invocation after a first that peaked at 170 MB. */
const ROOM: HeapGrowthFacts = { percent: 100, invocation: 2, peakRssBytes: 170 * MB, memoryMB: 256, heapLimitBytes: 280 * MB };

describe('heapGrowthFor', () => {
  it('sets the growth from the second invocation while the peak is within its share of the memory', () => {
    expect(heapGrowthFor(ROOM)).toEqual({ percent: 100, why: "the container's peak memory (170 MB) is within 75 % of 256 MB" });
    expect(heapGrowthFor({ ...ROOM, peakRssBytes: HEAP_GROWTH_PEAK_SHARE * 256 * MB }).percent).toBe(100);
  });

  it("leaves V8's own in a container's first invocation: nothing is known of the cycle's size", () => {
    expect(heapGrowthFor({ ...ROOM, invocation: 1, peakRssBytes: 60 * MB })).toEqual({ percent: 0, why: "the container's first invocation" });
  });

  it("leaves V8's own once the container's peak is past its share of the memory", () => {
    expect(heapGrowthFor({ ...ROOM, peakRssBytes: 200 * MB })).toEqual({ percent: 0, why: "the container's peak memory (200 MB) is past 75 % of 256 MB" });
  });

  it("leaves V8's own from a 2 GB heap limit (V8 grows up to 4x there), outside Lambda, and at 0", () => {
    expect(heapGrowthFor({ ...ROOM, heapLimitBytes: V8_HIGH_GROWTH_HEAP_BYTES, memoryMB: 3008, peakRssBytes: 400 * MB }).why).toMatch(/2 GB or more/);
    expect(heapGrowthFor({ ...ROOM, memoryMB: undefined }).why).toMatch(/not in a Lambda function/);
    expect(heapGrowthFor({ ...ROOM, percent: 0 }).why).toBe('HEAP_GROWING_PERCENT is 0');
  });
});

describe('HeapGrowthControl', () => {
  function fakeProcess(peakMB: number[]): HeapGrowthProcess & { flags: string[] } {
    const flags: string[] = [];
    let i = 0;
    return { flags, heapLimitBytes: () => 280 * MB, peakRssBytes: () => (peakMB[Math.min(i++, peakMB.length - 1)] ?? 0) * MB, setFlags: (f) => flags.push(f) };
  }

  it('sets the flag only when the decision changes, and gives V8 its own back when the peak grows past the share', () => {
    // Peaks before invocations 1..5: small at first, past 192 MB (75 % of 256) from the fourth.
    const proc = fakeProcess([60, 170, 185, 200, 210]);
    const control = new HeapGrowthControl(100, 256, proc);
    const decisions = [1, 2, 3, 4, 5].map(() => control.beforeInvocation()?.percent);
    expect(decisions).toEqual([undefined, 100, undefined, 0, undefined]);
    expect(proc.flags).toEqual(['--heap-growing-percent=100', '--heap-growing-percent=0']);
  });

  it('never sets a flag outside Lambda', () => {
    const proc = fakeProcess([60]);
    const control = new HeapGrowthControl(100, undefined, proc);
    for (let k = 0; k < 3; k++) control.beforeInvocation();
    expect(proc.flags).toEqual([]);
  });

  it('refuses a growth that is not a whole number of at least 0', () => {
    expect(() => new HeapGrowthControl(-1, 256)).toThrow(/heap growing percent -1/);
    expect(() => new HeapGrowthControl(1.5, 256)).toThrow(/heap growing percent 1.5/);
  });
});

describe('the flag in a running process', () => {
  /**
   * A child under a 256 MB function's heap limits (scripts/bench/lambda-memory.ts lambdaHeapFlags)
   * holds ~45 MB of records and runs a full collection, after which V8 computes the next one's
   * trigger (its `--trace-gc-verbose` line "[HeapController] Limit: old size: … KB, new limit: …
   * KB"). With `tuned`, HeapGrowthControl runs first, as the handlers run it before a container's
   * second invocation; with `restored`, a third invocation then finds the peak past its share.
   * If setting the flag in a running process had no effect, the three triggers would be alike.
   */
  const child = `
    const { HeapGrowthControl } = require(process.argv[1]);
    const mode = process.argv[2];
    const peaks = mode === 'restored' ? [0, 0, 250 * 2 ** 20] : [0, 0];
    let k = 0;
    const control = new HeapGrowthControl(100, 256, {
      heapLimitBytes: () => 280 * 2 ** 20,
      peakRssBytes: () => peaks[k++],
      setFlags: require('node:v8').setFlagsFromString,
    });
    if (mode !== 'own') for (let i = 0; i < peaks.length; i++) control.beforeInvocation();
    globalThis.held = [];
    for (let i = 0; i < 600000; i++) globalThis.held.push({ i, s: 'eni-' + i });
    gc();
  `;
  /** The next full collection's trigger over the old generation's size after it. */
  const growth = (mode: string): number => {
    const out = execFileSync(
      process.execPath,
      [...lambdaHeapFlags(256), '--trace-gc-verbose', '-r', require.resolve('tsx/cjs'), '-e', child, require.resolve('../lib/heap-growth'), mode],
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * MB },
    );
    const limits = [...out.matchAll(/\[HeapController\] Limit: old size: (\d+) KB, new limit: (\d+) KB/g)];
    const last = limits[limits.length - 1];
    if (!last) throw new Error(`no heap limit line in the child's trace:\n${out.slice(-2000)}`);
    return Number(last[2]) / Number(last[1]);
  };

  it("takes effect when set after start, and V8's own comes back when it is set to 0", () => {
    const own = growth('own');
    const tuned = growth('tuned');
    const restored = growth('restored');
    // V8's own at 231 MB of old space: 1.3 (plus the new space's capacity, added to every trigger).
    expect(own).toBeLessThan(1.8);
    expect(tuned).toBeGreaterThanOrEqual(2);
    expect(restored).toBeLessThan(1.8);
  });
});
