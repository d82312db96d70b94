/**
 * The instance-type provider: every EC2 DescribeInstanceTypes goes through it, with a cache passed
 * in (after Karpenter's instancetype provider). See {@link INSTANCE_TYPE_CACHE} for what is kept
 * and for how long. Failures are AwsCallErrors naming ec2:DescribeInstanceTypes and the types.
 */
import { paginateDescribeInstanceTypes, type EC2Client, type InstanceTypeInfo, type _InstanceType } from '@aws-sdk/client-ec2';
import { awsErrorCode, messageOf } from '../errors';
import { TtlCache } from './cache';
import { chunk } from './chunk';
import { INSTANCE_TYPES_PER_CALL_MAX } from './limits';
import { callOptions, failureOf, hasNextPage, type ReadHooks } from './read-hooks';

const OPERATION = 'ec2:DescribeInstanceTypes';

/** What EC2 says of some instance types: those it describes, and those it does not know. */
export interface InstanceTypeAnswer {
  found: InstanceTypeInfo[];
  unknown: string[];
}

/** Instance types as EC2 describes them. */
export interface InstanceTypeProvider {
  /** Each asked type once: described (`found`) or unknown to this region (`unknown`). */
  get(instanceTypes: readonly string[], hooks?: ReadHooks): Promise<InstanceTypeAnswer>;
}

/** The cache of an {@link InstanceTypeProvider}: a type's description, or `null` for a type EC2 does not know. */
export type InstanceTypeCache = TtlCache<string, InstanceTypeInfo | null>;

/**
 * How long the instance-type cache keeps an answer, and how many.
 * - A known type for the container's life: a type's limits (ENIs, addresses per ENI, network
 *   cards) do not change once EC2 offers it; a new size or generation is a new type name.
 * - An unknown type for 10 minutes only: a name EC2 does not know today may be a type launched
 *   in the region since the first ask, and must be picked up without a cold start.
 * - At most 1,000 types: a fleet's nodes use a handful and EC2 offers some hundreds per region,
 *   so known types are not dropped in practice; the bound caps what a stream of names could hold.
 */
export const INSTANCE_TYPE_CACHE = { knownTtlMs: Number.POSITIVE_INFINITY, unknownTtlMs: 10 * 60 * 1000, maxEntries: 1000 } as const;

/** A cache with the {@link INSTANCE_TYPE_CACHE} policy, on `now` (ms since the epoch; tests pass one they move). */
export function createInstanceTypeCache(now?: () => number): InstanceTypeCache {
  return new TtlCache<string, InstanceTypeInfo | null>({
    ttlMs: INSTANCE_TYPE_CACHE.knownTtlMs,
    maxEntries: INSTANCE_TYPE_CACHE.maxEntries,
    ...(now ? { now } : {}),
  });
}

/** {@link InstanceTypeProvider} over EC2, 100 types per request, remembering answers in `cache`. */
export class Ec2InstanceTypeProvider implements InstanceTypeProvider {
  constructor(
    private readonly ec2: EC2Client,
    private readonly cache: InstanceTypeCache = createInstanceTypeCache(),
  ) {}

  /** Forgets every answer (tests). */
  reset(): void {
    this.cache.reset();
  }

  async get(instanceTypes: readonly string[], hooks: ReadHooks = {}): Promise<InstanceTypeAnswer> {
    const wanted = [...new Set(instanceTypes)];
    const answered = new Map<string, InstanceTypeInfo | null>();
    for (const t of wanted) {
      const cached = this.cache.get(t);
      if (cached !== undefined) answered.set(t, cached);
    }
    const missing = wanted.filter((t) => !answered.has(t));
    for (const batch of chunk(missing, INSTANCE_TYPES_PER_CALL_MAX)) {
      await this.fetch(batch, hooks, answered);
    }
    const found: InstanceTypeInfo[] = [];
    const unknown: string[] = [];
    for (const t of wanted) {
      const info = answered.get(t);
      if (info) found.push(info);
      else unknown.push(t);
    }
    return { found, unknown };
  }

  /** Remembers an answer, here (this ask) and in the cache (an unknown type for a short while). */
  private remember(answered: Map<string, InstanceTypeInfo | null>, type: string, info: InstanceTypeInfo | null): void {
    answered.set(type, info);
    if (info) this.cache.set(type, info);
    else this.cache.set(type, null, INSTANCE_TYPE_CACHE.unknownTtlMs);
  }

  /**
   * DescribeInstanceTypes for up to 100 types. EC2 fails the whole request when
   * one type does not exist (InvalidInstanceType, "The following supplied instance types do
   * not exist: [x.y]"), so the unknown ones are remembered and the rest asked again.
   * The answer is paginated like any EC2 describe (MaxResults 5-100, NextToken), so every page
   * is read: a type on a later page must not be taken for unknown.
   */
  private async fetch(batch: string[], hooks: ReadHooks, answered: Map<string, InstanceTypeInfo | null>): Promise<void> {
    let remaining = batch;
    for (let attempt = 0; remaining.length > 0 && attempt < 3; attempt++) {
      const about = `for ${remaining.join(', ')}`;
      hooks.beforeRequest?.(about);
      try {
        const got: InstanceTypeInfo[] = [];
        for await (const page of paginateDescribeInstanceTypes(
          { client: this.ec2, pageSize: INSTANCE_TYPES_PER_CALL_MAX },
          { InstanceTypes: remaining as _InstanceType[] },
          ...callOptions(hooks),
        )) {
          const items = page.InstanceTypes ?? [];
          got.push(...items);
          hooks.onPage?.({ items: items.length, more: hasNextPage(page), about });
        }
        for (const info of got) {
          if (info.InstanceType) this.remember(answered, info.InstanceType, info);
        }
        // Anything asked for and not answered is unknown to this region.
        for (const t of remaining) if (!answered.has(t)) this.remember(answered, t, null);
        return;
      } catch (err) {
        const code = awsErrorCode(err);
        if (code === 'InvalidInstanceType') {
          const named = parseUnknownInstanceTypes(messageOf(err)).filter((t) => remaining.includes(t));
          if (named.length > 0) {
            for (const t of named) this.remember(answered, t, null);
            remaining = remaining.filter((t) => !named.includes(t));
            continue;
          }
        }
        throw failureOf(OPERATION, about, hooks, err);
      }
    }
  }
}

/** The instance types named by an InvalidInstanceType message: "... do not exist: [a.b, c.d]". */
export function parseUnknownInstanceTypes(message: string): string[] {
  const m = /\[([^\]]*)\]/.exec(message);
  if (!m || m[1] === undefined) return [];
  return m[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
