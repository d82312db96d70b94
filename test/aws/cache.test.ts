/**
 * The providers' TTL cache on a clock the test moves: an entry lives its TTL (the cache's or its
 * own), the least recently used goes first when full, and reset forgets everything.
 */
import { TtlCache } from '../../lib/aws/cache';

function cache(ttlMs: number, maxEntries = 10) {
  const clock = { t: 0 };
  return { clock, cache: new TtlCache<string, string | null>({ ttlMs, maxEntries, now: () => clock.t }) };
}

describe('TtlCache', () => {
  it('answers an entry until its TTL has passed, then forgets it', () => {
    const { clock, cache: c } = cache(1000);
    c.set('a', 'A');
    clock.t = 999;
    expect(c.get('a')).toBe('A');
    clock.t = 1000;
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it("keeps an entry for its own TTL, and tells a null value from an absent one", () => {
    const { clock, cache: c } = cache(Number.POSITIVE_INFINITY);
    c.set('known', 'K');
    c.set('unknown', null, 600_000);
    clock.t = 599_999;
    expect(c.get('unknown')).toBeNull();
    clock.t = 600_000;
    expect(c.get('unknown')).toBeUndefined();
    clock.t = 10 * 365 * 86_400_000;
    expect(c.get('known')).toBe('K');
  });

  it('drops the least recently used entry when full', () => {
    const { cache: c } = cache(Number.POSITIVE_INFINITY, 2);
    c.set('a', 'A');
    c.set('b', 'B');
    expect(c.get('a')).toBe('A'); // a is now the most recently used
    c.set('c', 'C');
    expect(c.size).toBe(2);
    expect(c.get('b')).toBeUndefined();
    expect([c.get('a'), c.get('c')]).toEqual(['A', 'C']);
  });

  it('sets a key again in place, not as one more entry', () => {
    const { cache: c } = cache(1000, 2);
    c.set('a', 'A');
    c.set('b', 'B');
    c.set('a', 'A2');
    expect(c.size).toBe(2);
    expect([c.get('a'), c.get('b')]).toEqual(['A2', 'B']);
  });

  it('forgets everything on reset', () => {
    const { cache: c } = cache(1000);
    c.set('a', 'A');
    c.reset();
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('refuses a bound below one entry', () => {
    expect(() => new TtlCache({ ttlMs: 1000, maxEntries: 0 })).toThrow(RangeError);
  });
});
