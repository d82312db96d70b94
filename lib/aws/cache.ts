/**
 * The providers' cache: bounded in entries and in age, on an injectable clock, with a reset for
 * tests (after Karpenter's providers, which take their go-cache with its TTL from the operator).
 */

/** How long an entry lives and how many are kept. */
export interface TtlCacheOptions {
  /** Age after which an entry is gone, unless `set` gives its own (ms; `Infinity`: never). */
  ttlMs: number;
  /** Entries kept; setting one more drops the least recently used. */
  maxEntries: number;
  /** The clock (ms since the epoch); tests pass one they move. */
  now?: () => number;
}

/** A map whose entries expire and whose size is bounded (least recently used out first). */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();
  private readonly now: () => number;

  constructor(private readonly options: TtlCacheOptions) {
    if (!(options.maxEntries >= 1)) throw new RangeError(`a cache holds at least 1 entry, not ${options.maxEntries}`);
    this.now = options.now ?? Date.now;
  }

  /** The value of `key`, or undefined when it was never set, has expired or was dropped. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() >= entry.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Sets `key` for `ttlMs` (the cache's TTL by default), dropping the least recently used entry when full. */
  set(key: K, value: V, ttlMs: number = this.options.ttlMs): void {
    this.entries.delete(key);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  /** Entries held, the expired ones not yet dropped included. */
  get size(): number {
    return this.entries.size;
  }

  /** Forgets everything (tests; a container never needs it). */
  reset(): void {
    this.entries.clear();
  }
}
