/**
 * How far V8 lets a function's old generation grow between two full collections.
 *
 * V8 sets the next full collection's trigger at the live heap times a growing factor whose
 * ceiling falls with the heap's maximum: 1.3 at or below 256 MB of old space on a 64-bit Node
 * without pointer compression (`kMinSize` 128 MB × `kPointerMultiplier` 2), rising linearly to
 * 2.0 just below 2 GB (`kMaxSize` 1,024 MB × 2), and 4.0 from there (v8 src/heap/heap-controller.cc
 * `MaxGrowingFactor`; src/heap/heap-controller.h `V8HeapTrait`). It is the setting of a memory-
 * constrained device. A 256 MB function has 231 MB of old space (Lambda's Node.js bootstrap:
 * the memory less a tenth for the new space); a 5,000-node cycle, which reads 145 MB of EC2 XML
 * and holds its trimmed inventory, ran a mark-compact at every 30 % of growth: ~18 a cycle, some
 * 40 % of its CPU (docs/performance.md "The heap's growth").
 *
 * `--heap-growing-percent` replaces the factor. V8 reads it each time it computes a trigger
 * (`GrowingFactor`), so setting it in a running process takes effect from the next full
 * collection, and setting it to 0 gives V8's own back. V8 still bounds each trigger at halfway
 * between the live heap and the maximum (`BoundAllocationLimit`), but more garbage is held
 * between collections, and more socket buffers with it: measured at 256 MB, 5,000 nodes peak at
 * 184 MB instead of 167–184, 11,000 nodes at 268 MB instead of 229 (past the function's memory).
 * So the growth is set only where the container has shown room for it:
 * - never in a container's first invocation (nothing is known of the cycle's size yet);
 * - from the second, while the container's peak resident memory so far
 *   (`process.resourceUsage().maxRSS`, which only rises) is at most {@link HEAP_GROWTH_PEAK_SHARE}
 *   of the function's memory; once past it, V8's own for the container's life;
 * - never where the heap limit is 2 GB or more: V8 allows itself up to 4.0 there, and the flag
 *   would only lower it; never outside Lambda (no AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/** From this heap limit (bytes) up, V8's own ceiling is 4.0: the growth is left to it. */
export const V8_HIGH_GROWTH_HEAP_BYTES = 2048 * 2 ** 20;

/** The functions' default: the next full collection once the heap has doubled. */
export const HEAP_GROWING_PERCENT_DEFAULT = 100;

/** The container's peak resident memory, as a share of the function's, up to which the growth is set. */
export const HEAP_GROWTH_PEAK_SHARE = 0.75;

/** What the next invocation runs with: a growth percent, or V8's own (0), and why. */
export interface HeapGrowthDecision {
  percent: number;
  why: string;
}

export interface HeapGrowthFacts {
  /** The configured growth (HEAP_GROWING_PERCENT); 0: V8's own always. */
  percent: number;
  /** The invocation about to start in this container, from 1. */
  invocation: number;
  /** The container's peak resident memory so far, bytes. */
  peakRssBytes: number;
  /** The function's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE); absent outside Lambda. */
  memoryMB: number | undefined;
  /** V8's heap limit, bytes (getHeapStatistics().heap_size_limit). */
  heapLimitBytes: number;
}

const MB = 2 ** 20;

/** The growth an invocation runs with (see the module's comment). */
export function heapGrowthFor(f: HeapGrowthFacts): HeapGrowthDecision {
  const own = (why: string): HeapGrowthDecision => ({ percent: 0, why });
  if (f.percent === 0) return own('HEAP_GROWING_PERCENT is 0');
  if (f.memoryMB === undefined || !(f.memoryMB > 0)) return own('not in a Lambda function (no AWS_LAMBDA_FUNCTION_MEMORY_SIZE)');
  if (f.heapLimitBytes >= V8_HIGH_GROWTH_HEAP_BYTES) return own(`the heap limit (${Math.round(f.heapLimitBytes / MB)} MB) is 2 GB or more: V8 grows it up to 4x itself`);
  if (f.invocation <= 1) return own("the container's first invocation");
  const peakMB = Math.round(f.peakRssBytes / MB);
  const roomMB = Math.floor(HEAP_GROWTH_PEAK_SHARE * f.memoryMB);
  if (peakMB > roomMB) return own(`the container's peak memory (${peakMB} MB) is past ${HEAP_GROWTH_PEAK_SHARE * 100} % of ${f.memoryMB} MB`);
  return { percent: f.percent, why: `the container's peak memory (${peakMB} MB) is within ${HEAP_GROWTH_PEAK_SHARE * 100} % of ${f.memoryMB} MB` };
}

/** What the control reads and sets (the process's, by default). */
export interface HeapGrowthProcess {
  heapLimitBytes(): number;
  peakRssBytes(): number;
  setFlags(flags: string): void;
}

const PROCESS: HeapGrowthProcess = {
  heapLimitBytes: () => getHeapStatistics().heap_size_limit,
  // maxRSS is in kilobytes (Node.js process.resourceUsage, from getrusage(2) ru_maxrss).
  peakRssBytes: () => process.resourceUsage().maxRSS * 1024,
  setFlags: setFlagsFromString,
};

/** A container's heap growth: decided at the start of each invocation, set when it changes. */
export class HeapGrowthControl {
  private invocations = 0;
  private current = 0;

  constructor(
    private readonly percent: number,
    private readonly memoryMB: number | undefined,
    private readonly proc: HeapGrowthProcess = PROCESS,
  ) {
    if (!Number.isInteger(percent) || percent < 0) throw new RangeError(`heap growing percent ${percent} is not a whole number of at least 0`);
  }

  /** Decides the invocation's growth; the decision when it changed what V8 runs with, else undefined. */
  beforeInvocation(): HeapGrowthDecision | undefined {
    const d = heapGrowthFor({
      percent: this.percent,
      invocation: ++this.invocations,
      peakRssBytes: this.proc.peakRssBytes(),
      memoryMB: this.memoryMB,
      heapLimitBytes: this.proc.heapLimitBytes(),
    });
    if (d.percent === this.current) return undefined;
    this.proc.setFlags(`--heap-growing-percent=${d.percent}`);
    this.current = d.percent;
    return d;
  }
}
