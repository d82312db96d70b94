/**
 * The deadline of a cycle's collection. A Lambda function that runs out of time is killed
 * before it publishes anything, so a cycle stops reading AWS a margin before its timeout and
 * publishes what it has read completely: the live source (lib/aws/live-source.ts) starts no read
 * once the deadline has passed and aborts a read still in flight when it passes. Such a read
 * fails with a {@link CycleDeadlineError}, like any failed read: the cluster it was for is
 * incomplete, and the figures resting on it are withheld (lib/output/publish/metrics.ts).
 */
import { AwsCallError } from './errors';

/** The error code of a read cut by the deadline (CollectionProblem.code). */
export const CYCLE_DEADLINE_CODE = 'CycleDeadlineExceeded';

/** A read the deadline cut: never started, or aborted in flight. */
export class CycleDeadlineError extends AwsCallError {
  constructor(operation: string, message: string) {
    super(operation, CYCLE_DEADLINE_CODE, message);
    this.name = 'CycleDeadlineError';
  }
}

/**
 * When a cycle stops collecting. The deadline is checked on the caller's clock (the runtime's,
 * which tests drive) before every read and every further page; a timer of the same length (real
 * time) aborts the reads still in flight when it passes.
 */
export class CycleDeadline {
  /** The deadline on `clock` (epoch ms). */
  readonly at: number;
  /** Aborted when the budget has run out in real time; passed to every SDK call as `abortSignal`. */
  readonly signal: AbortSignal;
  private readonly cuts: string[] = [];

  /**
   * @param budgetMs how long from now reads may go on (0 or less: none may start).
   * @param clock epoch ms now.
   * @param why what the deadline is, for the messages: "the invocation's time less 20 s to publish".
   */
  constructor(
    readonly budgetMs: number,
    private readonly clock: () => number,
    readonly why: string,
  ) {
    this.at = clock() + budgetMs;
    // AbortSignal.timeout's timer does not keep the process alive (Node.js 17.3+).
    this.signal = AbortSignal.timeout(Math.max(0, Math.ceil(budgetMs)));
  }

  /** Whether collection must stop. */
  passed(): boolean {
    return this.signal.aborted || this.clock() >= this.at;
  }

  /** The reads cut so far, each "<operation> <subject> (<how>)", in the order they were cut. */
  get cutReads(): readonly string[] {
    return this.cuts;
  }

  /** Records a cut read and returns the error its caller throws. */
  cut(operation: string, subject: string, how: string): CycleDeadlineError {
    this.cuts.push(`${operation} ${subject} (${how})`);
    return new CycleDeadlineError(operation, `${operation} ${subject}: ${how}: ${this.why}`);
  }
}

/**
 * What a cycle keeps back from the invocation's remaining time for what follows collection:
 * the history read, PutMetricData (one call per 1,000 metrics), SNS notifications and the
 * ledger's DynamoDB writes. Each normally takes well under a second; 20 s leaves room for a few
 * slow or retried calls. Never more than {@link CYCLE_MARGIN_SHARE} of the remaining time, so
 * that a function given a short timeout still collects.
 */
export const CYCLE_MARGIN_MS = 20_000;
export const CYCLE_MARGIN_SHARE = 0.25;

/**
 * The deadline of a cycle run by an invocation with `remainingMs` left
 * (`context.getRemainingTimeInMillis()`), on the runtime's clock.
 */
export function cycleDeadline(rt: { now: () => Date }, remainingMs: number): CycleDeadline {
  const margin = Math.min(CYCLE_MARGIN_MS, Math.max(0, remainingMs) * CYCLE_MARGIN_SHARE);
  return new CycleDeadline(
    remainingMs - margin,
    () => rt.now().getTime(),
    `the invocation's time: collection stops ${Math.round(margin / 1000)} s before the Lambda timeout to publish what is complete`,
  );
}
