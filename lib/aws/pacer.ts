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
 * GetSubnetCidrReservations takes one subnet a call (lib/aws/subnet-cidr-reservations.ts): a
 * cycle asks it once per subnet, thousands of times at 100,000 nodes. No node or controller calls
 * it (the VPC CNI, Karpenter and the load balancer controller do not), so it is paced at three
 * times the Describe* pace (15 a second by default: three quarters of its bucket's refill), which
 * keeps it out of RequestLimitExceeded without making it the cycle's longest wait.
 */
export const RESERVATION_PACE_FACTOR = 3;

/** Which requests wait, and at what pace: Describe* at `describe`, GetSubnetCidrReservations at {@link RESERVATION_PACE_FACTOR} times its rate. */
export function ec2ReadPace(describe: PaceLimits): (api: string) => PaceLimits | undefined {
  const reservations = { perSecond: describe.perSecond * RESERVATION_PACE_FACTOR, burst: describe.burst };
  return (api) => (api.startsWith('Describe') ? describe : api === 'GetSubnetCidrReservations' ? reservations : undefined);
}

/** Scales a client's pace for the invocation at hand (a fan-out item's share of it). */
export interface PaceControl {
  /** From now on, this fraction (0 to 1] of each paced API's rate and burst (at least 0.05 a second and 1 at once); 1 is the whole pace. */
  share(fraction: number): void;
}

/**
 * Every attempt of every paced request of `client` (retries included: the step runs after the
 * retry middleware) waits for its API's token; other requests (writes) go at once. Before signing,
 * so a request is signed when it leaves.
 */
export function paceReads(client: EC2Client, paceOf: (api: string) => PaceLimits | undefined, clock?: PaceClock): PaceControl {
  const pacers = new Map<string, Pacer>();
  let fraction = 1;
  const pacerOf = (api: string): Pacer | undefined => {
    const whole = paceOf(api);
    if (!whole) return undefined;
    const limits = fraction === 1 ? whole : { perSecond: Math.max(0.05, whole.perSecond * fraction), burst: Math.max(1, Math.floor(whole.burst * fraction)) };
    const key = `${limits.perSecond}/${limits.burst}`;
    let p = pacers.get(key);
    if (!p) pacers.set(key, (p = new Pacer(limits, clock)));
    return p;
  };
  const middleware: FinalizeRequestMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
    const api = apiOf(context.commandName);
    await pacerOf(api)?.take(api);
    return next(args);
  };
  client.middlewareStack.addRelativeTo(middleware, { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'ec2ReadPacer', override: true });
  return {
    share: (f) => {
      if (!(f > 0 && f <= 1)) throw new Error(`a pace share is above 0 and at most 1, got ${f}`);
      fraction = f;
    },
  };
}
