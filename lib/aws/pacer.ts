/**
 * Paces the EC2 client's Describe* requests, per API, so that one cycle never takes more than a
 * set share of an account's request buckets, which every node's ipamd, Karpenter and the load
 * balancer controller draw on too. EC2 evaluates "each API individually": a non-mutating action's
 * bucket holds 100 tokens and refills 20 a second (EC2 developer guide, "Request throttling for
 * the Amazon EC2 API", https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html).
 * Design and figures: docs/performance.md, "Ultra scale".
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { FinalizeRequestMiddleware, MetadataBearer } from '@smithy/types';
import type { PaceLimits } from '../config';

/** The clock a pacer waits on (tests pass a virtual one). */
export interface PaceClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: PaceClock = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

/**
 * One bucket per key (the API), as the generic cell rate algorithm: each request is given the
 * next slot of its key in arrival order, so waiting requests go out in the order they came.
 */
export class Pacer {
  private readonly next = new Map<string, number>();
  private readonly intervalMs: number;

  constructor(
    readonly limits: PaceLimits,
    private readonly clock: PaceClock = realClock,
  ) {
    if (!(limits.perSecond > 0) || !(limits.burst >= 1)) throw new Error(`a pace needs perSecond > 0 and burst >= 1, got ${limits.perSecond}/s, burst ${limits.burst}`);
    this.intervalMs = 1000 / limits.perSecond;
  }

  /** How long the request for `key` waits, reserving its slot (no wait while the bucket holds a token). */
  reserve(key: string): number {
    const now = this.clock.now();
    const tat = Math.max(this.next.get(key) ?? now, now);
    this.next.set(key, tat + this.intervalMs);
    return Math.max(0, tat - (this.limits.burst - 1) * this.intervalMs - now);
  }

  /** Resolves when a request for `key` may go. */
  async take(key: string): Promise<void> {
    const wait = this.reserve(key);
    if (wait > 0) await this.clock.sleep(wait);
  }
}

/** The SDK's name of a command (`DescribeSubnetsCommand`) as the API's (`DescribeSubnets`). */
const apiOf = (commandName: unknown): string => String(commandName ?? '').replace(/Command$/, '');

/**
 * Every attempt of every Describe* request of `client` (retries included: the step runs after the
 * retry middleware) waits for its API's token; other requests go at once. Before signing, so a
 * request is signed when it leaves.
 */
export function paceDescribes(client: EC2Client, pacer: Pacer): void {
  const middleware: FinalizeRequestMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
    const api = apiOf(context.commandName);
    if (api.startsWith('Describe')) await pacer.take(api);
    return next(args);
  };
  client.middlewareStack.addRelativeTo(
    middleware,
    { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'ec2DescribePacer', override: true },
  );
}
