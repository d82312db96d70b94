/**
 * How complex EventBridge finds an event pattern, so that a test can keep every pattern the stack
 * deploys under the limit at which PutRule fails with InvalidEventPatternException "Rule is too
 * complex".
 *
 * This file ports, from aws/event-ruler at commit 337e8d99026d3f6687f783535f157be8bf4ebbb7
 * (src/main/software/amazon/event/ruler/), the Java files each section below names.
 *
 * Design: docs/responder.md#libeventspattern-complexityts-event-pattern-complexity
 */
import type { EventPattern } from './patterns';

/**
 * The highest complexity a deployed pattern may have. EventBridge does not publish its limit.
 * The issue this responds to collected public reports: a rule scoring 9 under this evaluator was
 * accepted and one scoring 12 was rejected with "Rule is too complex", so the limit is at least 9
 * and below 12. 9 is the highest score known to deploy.
 */
export const MAX_EVENT_PATTERN_COMPLEXITY = 9;

/** The evaluator caps its walk at a maximum; event-ruler's own tests use 100. */
const DEFAULT_EVALUATION_CAP = 100;

/** A pattern cannot be scored: it is invalid for EventBridge, or it uses what this port does not model. */
export class EventPatternComplexityError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventPatternComplexityError';
  }
}

// ---------------------------------------------------------------------------------------------
// Patterns (Patterns.java, ValuePatterns.java, AnythingBut.java, AnythingButValuesSet.java)

/** event-ruler's MatchType, the members this port models. */
export type MatchType =
  | 'EXACT'
  | 'PREFIX'
  | 'PREFIX_EQUALS_IGNORE_CASE'
  | 'SUFFIX'
  | 'SUFFIX_EQUALS_IGNORE_CASE'
  | 'EQUALS_IGNORE_CASE'
  | 'WILDCARD'
  | 'EXISTS'
  | 'ABSENT'
  | 'ANYTHING_BUT'
  | 'ANYTHING_BUT_IGNORE_CASE'
  | 'ANYTHING_BUT_PREFIX'
  | 'ANYTHING_BUT_SUFFIX'
  | 'ANYTHING_BUT_WILDCARD';

/**
 * One compiled pattern of a field, as event-ruler holds it: the value already in its byte-machine
 * form (JSON strings keep their quotes; suffixes are stored reversed). `values` has one element
 * except for the anything-but types, where it is the set in Java's iteration order.
 */
export interface RulerPattern {
  readonly type: MatchType;
  readonly values: readonly string[];
  /** Equality as Java's `equals`: type and value (or value set). */
  readonly key: string;
}

const COMPLEXITY_MATCH_TYPES: ReadonlySet<MatchType> = new Set(['WILDCARD', 'ANYTHING_BUT_WILDCARD']);

function valuePattern(type: MatchType, value: string): RulerPattern {
  return { type, values: [value], key: `${type}\u0000${value}` };
}

function valuesSetPattern(type: MatchType, values: readonly string[]): RulerPattern {
  const ordered = javaHashSetOrder(values);
  return { type, values: ordered, key: `${type}\u0000${[...ordered].sort().join('\u0000')}` };
}

/** `new StringBuilder(s).reverse()`: reverses code points, so surrogate pairs stay pairs. */
function javaReverse(s: string): string {
  return Array.from(s).reverse().join('');
}

/**
 * The factories of Patterns.java, taking values as Java does (with the JSON quotes where the JSON
 * compiler adds them). For tests that build a byte machine the way event-ruler's tests do.
 */
export const rulerPattern = {
  exact: (value: string): RulerPattern => valuePattern('EXACT', value),
  prefix: (value: string): RulerPattern => valuePattern('PREFIX', value),
  prefixEqualsIgnoreCase: (value: string): RulerPattern => valuePattern('PREFIX_EQUALS_IGNORE_CASE', value),
  suffix: (value: string): RulerPattern => valuePattern('SUFFIX', javaReverse(value)),
  suffixEqualsIgnoreCase: (value: string): RulerPattern => valuePattern('SUFFIX_EQUALS_IGNORE_CASE', javaReverse(value)),
  equalsIgnoreCase: (value: string): RulerPattern => valuePattern('EQUALS_IGNORE_CASE', value),
  wildcard: (value: string): RulerPattern => valuePattern('WILDCARD', value),
  exists: (): RulerPattern => ({ type: 'EXISTS', values: [], key: 'EXISTS' }),
  absent: (): RulerPattern => ({ type: 'ABSENT', values: [], key: 'ABSENT' }),
  anythingBut: (values: readonly string[]): RulerPattern => valuesSetPattern('ANYTHING_BUT', values),
  anythingButIgnoreCase: (values: readonly string[]): RulerPattern => valuesSetPattern('ANYTHING_BUT_IGNORE_CASE', values),
  anythingButPrefix: (values: readonly string[]): RulerPattern => valuesSetPattern('ANYTHING_BUT_PREFIX', values),
  // Patterns.anythingButSuffix reverses each value of the given set into a new set, in the
  // given set's order.
  anythingButSuffix: (values: readonly string[]): RulerPattern => valuesSetPattern('ANYTHING_BUT_SUFFIX', javaHashSetOrder(values).map(javaReverse)),
  anythingButWildcard: (values: readonly string[]): RulerPattern => valuesSetPattern('ANYTHING_BUT_WILDCARD', values),
} as const;

/** `String.hashCode()`. */
function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The iteration order of a `java.util.HashSet<String>` filled one value at a time (as
 * JsonRuleCompiler fills anything-but sets): by bucket of the final table (16 doubled while more
 * than 3/4 full; bucket = `(h ^ h >>> 16) & (capacity - 1)`), then by insertion, since resizing
 * keeps the order within a bucket. Assumes no bucket of 8 or more colliding values (treeified).
 */
function javaHashSetOrder(values: readonly string[]): string[] {
  const unique = [...new Set(values)];
  let capacity = 16;
  while (unique.length > capacity * 0.75) capacity *= 2;
  const bucket = (s: string): number => {
    const h = javaStringHash(s);
    return (h ^ (h >>> 16)) & (capacity - 1);
  };
  return unique
    .map((value, index) => ({ value, index, bucket: bucket(value) }))
    .sort((a, b) => a.bucket - b.bucket || a.index - b.index)
    .map((e) => e.value);
}

// ---------------------------------------------------------------------------------------------
// Input characters (input/*.java)
// - input/DefaultParser.java, WildcardParser.java, EqualsIgnoreCaseParser.java, SuffixParser.java,
//   SuffixEqualsIgnoreCaseParser.java (how a value becomes bytes, wildcards and case sets).

type InputCharacter =
  | { readonly kind: 'byte'; readonly byte: number }
  | { readonly kind: 'wildcard' }
  | { readonly kind: 'multiByteSet'; readonly multiBytes: readonly (readonly number[])[] };

const ASTERISK_BYTE = 0x2a;
const BACKSLASH_BYTE = 0x5c;
const QUESTION_MARK_BYTE = 0x3f;

/** `String.getBytes(UTF_8)`: an unpaired surrogate becomes `?`, as Java's encoder replaces it. */
function javaUtf8(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp >= 0xd800 && cp <= 0xdfff) out.push(QUESTION_MARK_BYTE);
    else if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return out;
}

const inputByte = (byte: number): InputCharacter => ({ kind: 'byte', byte });
const INPUT_WILDCARD: InputCharacter = { kind: 'wildcard' };

/** WildcardParser.parse: `*` is a wildcard, `\*` and `\\` are the literal characters. */
function parseWildcard(value: string): InputCharacter[] {
  const bytes = javaUtf8(value);
  const out: InputCharacter[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b === ASTERISK_BYTE) {
      if (bytes[i + 1] === ASTERISK_BYTE) throw new EventPatternComplexityError(`wildcard ${JSON.stringify(value)}: consecutive wildcard characters at pos ${i}`);
      out.push(INPUT_WILDCARD);
    } else if (b === BACKSLASH_BYTE) {
      const next = bytes[i + 1];
      if (next !== ASTERISK_BYTE && next !== BACKSLASH_BYTE) throw new EventPatternComplexityError(`wildcard ${JSON.stringify(value)}: invalid escape character at pos ${i}`);
      out.push(inputByte(next));
      i++;
    } else out.push(inputByte(b));
  }
  return out;
}

/** EqualsIgnoreCaseParser.parse: per UTF-16 char, its bytes, or the set of its lower- and upper-case bytes. */
function parseEqualsIgnoreCase(value: string, reverseCharBytes: boolean): InputCharacter[] {
  const out: InputCharacter[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charAt(i);
    const bytesOf = (s: string): number[] => (reverseCharBytes ? javaUtf8(s).reverse() : javaUtf8(s));
    const lower = bytesOf(c.toLowerCase());
    const upper = bytesOf(c.toUpperCase());
    if (sameBytes(lower, upper)) out.push(...lower.map(inputByte));
    else out.push({ kind: 'multiByteSet', multiBytes: [lower, upper] });
  }
  return out;
}

function sameBytes(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** DefaultParser.parse(MatchType, String). */
function parseValue(type: MatchType, value: string): InputCharacter[] {
  switch (type) {
    case 'WILDCARD':
    case 'ANYTHING_BUT_WILDCARD':
      return parseWildcard(value);
    case 'EQUALS_IGNORE_CASE':
    case 'ANYTHING_BUT_IGNORE_CASE':
    case 'PREFIX_EQUALS_IGNORE_CASE':
      return parseEqualsIgnoreCase(value, false);
    case 'SUFFIX':
    case 'ANYTHING_BUT_SUFFIX':
      // SuffixParser: undo the reversal of Patterns.suffixMatch, then reverse the bytes.
      return javaUtf8(javaReverse(value)).reverse().map(inputByte);
    case 'SUFFIX_EQUALS_IGNORE_CASE':
      return parseEqualsIgnoreCase(value, true);
    default:
      return javaUtf8(value).map(inputByte);
  }
}

const isByte = (c: InputCharacter | undefined): c is { kind: 'byte'; byte: number } => c?.kind === 'byte';
const isWildcard = (c: InputCharacter | undefined): boolean => c?.kind === 'wildcard';
const isMultiByteSet = (c: InputCharacter | undefined): c is { kind: 'multiByteSet'; multiBytes: number[][] } => c?.kind === 'multiByteSet';

/** UTF-8 continuation byte (10xxxxxx): MultiByte.MIN_CONTINUATION_BYTE..MAX_CONTINUATION_BYTE. */
const isContinuation = (b: number): boolean => b >= 0x80 && b <= 0xbf;

// ---------------------------------------------------------------------------------------------
// Transitions (SingleByteTransition.java and its subclasses, CompoundByteTransition.java)
// - ByteState.java, ByteMap.java, CompositeByteTransition.java, CompoundByteTransition.java,
//   ByteMatch.java, SingleByteTransition.java (the NFA and its transitions).

let nextTransitionId = 0;

abstract class SingleByteTransition {
  readonly id = nextTransitionId++;
  abstract getNextByteState(): ByteState | null;
  abstract setNextByteState(nextState: ByteState | null): SingleByteTransition | null;
  abstract getTransition(utf8byte: number): ByteTransition | null;
  abstract getTransitionForAllBytes(): ByteTransition | null;
  abstract getTransitions(): ByteTransition[];
  abstract getMatch(): ByteMatch | null;
  abstract setMatch(match: ByteMatch | null): SingleByteTransition | null;
  abstract clone(): SingleByteTransition;

  get key(): string {
    return `s${this.id}`;
  }
  getMatches(): ByteMatch[] {
    const match = this.getMatch();
    return match === null ? [] : [match];
  }
  expand(): ReadonlySet<SingleByteTransition> {
    return new Set([this]);
  }
  getTransitionForNextByteStates(): ByteTransition | null {
    return this.getNextByteState();
  }
  isMatchTrans(): boolean {
    return false;
  }
  hasIndeterminatePrefix(): boolean {
    return false;
  }
  isEmpty(): boolean {
    return this.getMatches().length === 0 && this.getNextByteState() === null;
  }
}

/** ByteMachine.EmptyByteTransition. */
class EmptyByteTransition extends SingleByteTransition {
  static readonly INSTANCE = new EmptyByteTransition();
  getNextByteState(): null {
    return null;
  }
  setNextByteState(nextState: ByteState | null): SingleByteTransition | null {
    return nextState;
  }
  getTransition(): null {
    return null;
  }
  getTransitionForAllBytes(): null {
    return null;
  }
  getTransitions(): ByteTransition[] {
    return [];
  }
  getMatch(): null {
    return null;
  }
  setMatch(match: ByteMatch | null): SingleByteTransition | null {
    return match;
  }
  clone(): SingleByteTransition {
    return this;
  }
}

/** A match of a pattern, leading to the next field's NameState. Java compares these by value. */
class ByteMatch extends SingleByteTransition {
  constructor(
    readonly pattern: RulerPattern,
    readonly nextNameState: NameState,
  ) {
    super();
  }
  getNextByteState(): null {
    return null;
  }
  setNextByteState(nextState: ByteState | null): SingleByteTransition {
    return nextState === null ? this : new CompositeByteTransition(nextState, this);
  }
  getTransition(): null {
    return null;
  }
  getTransitionForAllBytes(): null {
    return null;
  }
  getTransitions(): ByteTransition[] {
    return [];
  }
  getMatch(): ByteMatch {
    return this;
  }
  setMatch(match: ByteMatch | null): SingleByteTransition | null {
    return match;
  }
  // Java's clone is a new object equal to this one; matches are interned, so the clone is this.
  clone(): SingleByteTransition {
    return this;
  }
  override isMatchTrans(): boolean {
    return true;
  }
}

/** A transition with both a next state and a match. */
class CompositeByteTransition extends SingleByteTransition {
  constructor(
    private nextState: ByteState,
    private match: ByteMatch,
  ) {
    super();
  }
  getNextByteState(): ByteState {
    return this.nextState;
  }
  setNextByteState(nextState: ByteState | null): SingleByteTransition {
    if (nextState === null) return this.match;
    this.nextState = nextState;
    return this;
  }
  getTransition(): null {
    return null;
  }
  getTransitionForAllBytes(): null {
    return null;
  }
  getTransitions(): ByteTransition[] {
    return [];
  }
  getMatch(): ByteMatch {
    return this.match;
  }
  setMatch(match: ByteMatch | null): SingleByteTransition {
    if (match === null) return this.nextState;
    this.match = match;
    return this;
  }
  clone(): SingleByteTransition {
    return new CompositeByteTransition(this.nextState, this.match);
  }
  override hasIndeterminatePrefix(): boolean {
    return this.nextState.hasIndeterminatePrefix();
  }
  override isMatchTrans(): boolean {
    return true;
  }
}

/** Several single transitions taken at once (NFA traversal). Equal when the sets are equal. */
class CompoundByteTransition {
  readonly key: string;
  private readonly transitionForNextByteState: ByteTransition | null;

  constructor(private readonly byteTransitions: ReadonlySet<SingleByteTransition>) {
    this.key = `c${[...byteTransitions].map((t) => t.id).sort((a, b) => a - b).join(',')}`;
    const nextByteStates = new Set<SingleByteTransition>();
    for (const t of byteTransitions) {
      const next = t.getNextByteState();
      if (next !== null) nextByteStates.add(next);
    }
    this.transitionForNextByteState = sameSingles(nextByteStates, byteTransitions) ? this : coalesce(nextByteStates);
  }

  /** The first next state, preferring one with a determinate prefix (re-usable when adding). */
  getNextByteState(): ByteState | null {
    let firstNonNull: ByteState | null = null;
    for (const single of this.byteTransitions) {
      const next = single.getNextByteState();
      if (next !== null) {
        if (!next.hasIndeterminatePrefix()) return next;
        firstNonNull ??= next;
      }
    }
    return firstNonNull;
  }
  expand(): ReadonlySet<SingleByteTransition> {
    return this.byteTransitions;
  }
  getTransitionForNextByteStates(): ByteTransition | null {
    return this.transitionForNextByteState;
  }
  getMatches(): ByteMatch[] {
    const matches = new Set<ByteMatch>();
    for (const single of this.byteTransitions) if (single.isMatchTrans()) single.getMatches().forEach((m) => matches.add(m));
    return [...matches];
  }
  getTransition(utf8byte: number): ByteTransition | null {
    const singles = new Set<SingleByteTransition>();
    for (const t of this.byteTransitions) t.getTransition(utf8byte)?.expand().forEach((s) => singles.add(s));
    return coalesce(singles);
  }
  getTransitions(): ByteTransition[] {
    const ceilings = new Set<number>();
    for (const t of this.byteTransitions) t.getNextByteState()?.getCeilings().forEach((c) => ceilings.add(c));
    const result = new Map<string, ByteTransition>();
    for (const ceiling of [...ceilings].sort((a, b) => a - b)) {
      const singles = new Set<SingleByteTransition>();
      for (const t of this.byteTransitions) t.getTransition(ceiling - 1)?.expand().forEach((s) => singles.add(s));
      const coalesced = coalesce(singles);
      if (coalesced !== null) result.set(coalesced.key, coalesced);
    }
    return [...result.values()];
  }
  isEmpty(): boolean {
    return this.getMatches().length === 0 && this.getNextByteState() === null;
  }
}

type ByteTransition = SingleByteTransition | CompoundByteTransition;

/** CompoundByteTransition.coalesce: nothing, the one transition, or a compound of several. */
function coalesce(singles: ReadonlySet<SingleByteTransition>): ByteTransition | null {
  if (singles.size === 0) return null;
  if (singles.size === 1) return singles.values().next().value as SingleByteTransition;
  return new CompoundByteTransition(singles);
}

function sameSingles(a: ReadonlySet<SingleByteTransition>, b: ReadonlySet<SingleByteTransition>): boolean {
  if (a.size !== b.size) return false;
  for (const t of a) if (!b.has(t)) return false;
  return true;
}

function expandOrEmpty(t: ByteTransition | null): ReadonlySet<SingleByteTransition> {
  return t === null ? new Set() : t.expand();
}

// ---------------------------------------------------------------------------------------------
// ByteMap.java: byte ranges (keyed by their exclusive ceiling) to transitions.

interface ByteMapEntry {
  ceiling: number;
  transition: ByteTransition | null;
}

class ByteMap {
  private entries: ByteMapEntry[] = [{ ceiling: 256, transition: null }];

  private higherEntry(index: number): ByteMapEntry {
    return this.entries.find((e) => e.ceiling > index) as ByteMapEntry;
  }
  private put(ceiling: number, transition: ByteTransition | null): void {
    const at = this.entries.findIndex((e) => e.ceiling >= ceiling);
    if (at !== -1 && this.entries[at]?.ceiling === ceiling) (this.entries[at] as ByteMapEntry).transition = transition;
    else if (at === -1) this.entries.push({ ceiling, transition });
    else this.entries.splice(at, 0, { ceiling, transition });
  }

  putTransitionForAllBytes(transition: SingleByteTransition): void {
    this.entries = [{ ceiling: 256, transition }];
  }
  addTransition(utf8byte: number, transition: SingleByteTransition): void {
    this.updateTransition(utf8byte, transition, 'add');
  }
  addTransitionForAllBytes(transition: SingleByteTransition): void {
    this.entries = this.entries.map((e) => {
      const singles = new Set(expandOrEmpty(e.transition));
      singles.add(transition);
      return { ceiling: e.ceiling, transition: coalesce(singles) };
    });
  }
  removeTransition(utf8byte: number, transition: SingleByteTransition): void {
    this.updateTransition(utf8byte, transition, 'remove');
  }
  removeTransitionForAllBytes(transition: SingleByteTransition): void {
    this.entries = this.entries.map((e) => {
      const singles = new Set(expandOrEmpty(e.transition));
      singles.delete(transition);
      return { ceiling: e.ceiling, transition: coalesce(singles) };
    });
  }

  /**
   * Adds or removes a transition on one byte: splits the range holding the byte so that the byte
   * has an entry of its own, updates it, then merges adjacent ranges with the same transitions.
   */
  private updateTransition(utf8byte: number, transition: SingleByteTransition, operation: 'add' | 'remove'): void {
    const index = utf8byte & 0xff;
    const target = this.higherEntry(index).transition;
    let coalesced: ByteTransition | null;
    const existing = expandOrEmpty(target);
    if (existing.size === 0) coalesced = operation === 'add' ? transition : null;
    else {
      const singles = new Set(existing);
      if (operation === 'add') singles.add(transition);
      else singles.delete(transition);
      coalesced = coalesce(singles);
    }
    const atBottom = index === 0 || this.entries.some((e) => e.ceiling === index);
    if (!atBottom) this.put(index, target);
    this.put(index + 1, coalesced);
    // Merge adjacent entries with the same transitions.
    let i = 0;
    while (i < this.entries.length) {
      const next = this.entries[i + 1];
      if (next !== undefined && sameSingles(expandOrEmpty((this.entries[i] as ByteMapEntry).transition), expandOrEmpty(next.transition))) this.entries.splice(i, 1);
      else i++;
    }
  }

  private singleByteTransitions(): Set<SingleByteTransition> {
    const all = new Set<SingleByteTransition>();
    for (const e of this.entries) expandOrEmpty(e.transition).forEach((s) => all.add(s));
    return all;
  }
  isEmpty(): boolean {
    return this.singleByteTransitions().size === 0;
  }
  numberOfTransitions(): number {
    return this.singleByteTransitions().size;
  }
  hasTransition(transition: SingleByteTransition): boolean {
    return this.singleByteTransitions().has(transition);
  }
  getTransition(utf8byte: number): ByteTransition | null {
    return this.higherEntry(utf8byte & 0xff).transition;
  }
  /** The transition that every byte leads to (the intersection over all ranges), or the empty transition. */
  getTransitionForAllBytes(): ByteTransition {
    let candidates: Set<SingleByteTransition> | undefined;
    for (const e of this.entries) {
      if (e.transition === null) return EmptyByteTransition.INSTANCE;
      const singles = e.transition.expand();
      if (candidates === undefined) candidates = new Set(singles);
      else for (const c of [...candidates]) if (!singles.has(c)) candidates.delete(c);
      if (candidates.size === 0) return EmptyByteTransition.INSTANCE;
    }
    return coalesce(candidates ?? new Set()) ?? EmptyByteTransition.INSTANCE;
  }
  getTransitions(): ByteTransition[] {
    const result = new Map<string, ByteTransition>();
    for (const e of this.entries) if (e.transition !== null) result.set(e.transition.key, e.transition);
    return [...result.values()];
  }
  getCeilings(): number[] {
    return this.entries.map((e) => e.ceiling);
  }
}

// ---------------------------------------------------------------------------------------------
// ByteState.java: an NFA state; no transition, one (byte, transition) entry, or a ByteMap.

type TransitionStore = null | { readonly utf8byte: number; transition: SingleByteTransition } | ByteMap;

class ByteState extends SingleByteTransition {
  private transitionStore: TransitionStore = null;
  private indeterminatePrefix = false;

  getNextByteState(): ByteState {
    return this;
  }
  setNextByteState(nextState: ByteState | null): SingleByteTransition | null {
    return nextState;
  }
  getMatch(): null {
    return null;
  }
  setMatch(match: ByteMatch | null): SingleByteTransition {
    return match === null ? this : new CompositeByteTransition(this, match);
  }
  clone(): SingleByteTransition {
    const copy = new ByteState();
    copy.transitionStore = this.transitionStore;
    copy.indeterminatePrefix = this.indeterminatePrefix;
    return copy;
  }
  hasNoTransitions(): boolean {
    return this.transitionStore === null;
  }
  getTransition(utf8byte: number): ByteTransition | null {
    const store = this.transitionStore;
    if (store === null) return null;
    if (!(store instanceof ByteMap)) return (utf8byte & 0xff) === store.utf8byte ? store.transition : null;
    return store.getTransition(utf8byte);
  }
  getTransitionForAllBytes(): ByteTransition {
    const store = this.transitionStore;
    if (!(store instanceof ByteMap)) return EmptyByteTransition.INSTANCE;
    return store.getTransitionForAllBytes();
  }
  getTransitions(): ByteTransition[] {
    const store = this.transitionStore;
    if (store === null) return [];
    if (!(store instanceof ByteMap)) return [store.transition];
    return store.getTransitions();
  }
  putTransitionForAllBytes(transition: SingleByteTransition): void {
    const map = new ByteMap();
    map.putTransitionForAllBytes(transition);
    this.transitionStore = map;
  }
  addTransition(utf8byte: number, transition: SingleByteTransition): void {
    const b = utf8byte & 0xff;
    const store = this.transitionStore;
    if (store === null) this.transitionStore = { utf8byte: b, transition };
    else if (!(store instanceof ByteMap)) {
      const map = new ByteMap();
      map.addTransition(store.utf8byte, store.transition);
      map.addTransition(b, transition);
      this.transitionStore = map;
    } else store.addTransition(b, transition);
  }
  addTransitionForAllBytes(transition: SingleByteTransition): void {
    const store = this.transitionStore;
    const map = store instanceof ByteMap ? store : new ByteMap();
    if (store !== null && !(store instanceof ByteMap)) map.addTransition(store.utf8byte, store.transition);
    map.addTransitionForAllBytes(transition);
    this.transitionStore = map;
  }
  removeTransition(utf8byte: number, transition: SingleByteTransition): void {
    const store = this.transitionStore;
    if (store === null) return;
    if (!(store instanceof ByteMap)) {
      if ((utf8byte & 0xff) === store.utf8byte && transition === store.transition) this.transitionStore = null;
    } else {
      store.removeTransition(utf8byte, transition);
      if (store.isEmpty()) this.transitionStore = null;
    }
  }
  removeTransitionForAllBytes(transition: SingleByteTransition): void {
    const store = this.transitionStore;
    if (store === null) return;
    if (!(store instanceof ByteMap)) {
      if (transition === store.transition) this.transitionStore = null;
    } else {
      store.removeTransitionForAllBytes(transition);
      if (store.isEmpty()) this.transitionStore = null;
    }
  }
  override hasIndeterminatePrefix(): boolean {
    return this.indeterminatePrefix;
  }
  setIndeterminatePrefix(value: boolean): void {
    this.indeterminatePrefix = value;
  }
  hasOnlySelfReferentialTransition(): boolean {
    const store = this.transitionStore;
    if (store === null) return false;
    if (!(store instanceof ByteMap)) return store.transition === this;
    return store.numberOfTransitions() === 1 && store.hasTransition(this);
  }
  getCeilings(): number[] {
    const store = this.transitionStore;
    if (store === null) return [];
    if (!(store instanceof ByteMap)) {
      const index = store.utf8byte;
      if (index === 0) return [index + 1, 256];
      if (index === 255) return [index, index + 1];
      return [index, index + 1, 256];
    }
    return store.getCeilings();
  }
}

// ---------------------------------------------------------------------------------------------
// ByteMachine.java: the add path.
// - ByteMachine.java: the add path (`addPattern`, `addMatchValue`, `canReuseNextByteState`,
//   `doMultipleTransitionsConvergeForInputByte`, `addEndOfMatch`, `findOrMakeNextByteState`,
//   `addTransitionNextState`, `insertMatch`, …) and `evaluateComplexity`.

class ByteMachine {
  readonly startState = new ByteState();
  /** For the wildcard pattern `*` alone, the start state is a match. */
  startStateMatch: ByteMatch | null = null;
  private hasSuffix = 0;
  /** ByteMatch is compared by value (pattern, next NameState) in Java; interned here. */
  private readonly byteMatches = new Map<string, ByteMatch>();

  private byteMatch(pattern: RulerPattern, nameState: NameState): ByteMatch {
    const key = `${pattern.key}\u0001${nameState.id}`;
    let match = this.byteMatches.get(key);
    if (match === undefined) {
      match = new ByteMatch(pattern, nameState);
      this.byteMatches.set(key, match);
    }
    return match;
  }

  addPattern(pattern: RulerPattern, nameState: NameState | null): NameState {
    switch (pattern.type) {
      case 'ANYTHING_BUT':
      case 'ANYTHING_BUT_IGNORE_CASE':
      case 'ANYTHING_BUT_SUFFIX':
      case 'ANYTHING_BUT_PREFIX':
      case 'ANYTHING_BUT_WILDCARD': {
        // All values share the pattern, so they lead to one NameState.
        let toBeReturned = nameState;
        for (const value of pattern.values) toBeReturned = this.addMatchValue(pattern, value, toBeReturned);
        if (toBeReturned === null) throw new EventPatternComplexityError(`${pattern.type} needs at least one value`);
        return toBeReturned;
      }
      case 'EXACT':
      case 'PREFIX':
      case 'PREFIX_EQUALS_IGNORE_CASE':
      case 'SUFFIX':
      case 'SUFFIX_EQUALS_IGNORE_CASE':
      case 'EQUALS_IGNORE_CASE':
      case 'WILDCARD':
        return this.addMatchValue(pattern, pattern.values[0] as string, nameState);
      case 'EXISTS':
        // Patterns.EXISTS_BYTE_STRING
        return this.addMatchValue(pattern, 'N', nameState);
      default:
        throw new EventPatternComplexityError(`${pattern.type} is not a byte-machine pattern`);
    }
  }

  private addMatchValue(pattern: RulerPattern, value: string, nameStateToBeReturned: NameState | null): NameState {
    const characters = parseValue(pattern.type, value);
    if (characters.length === 0) throw new EventPatternComplexityError(`${pattern.type} value ${JSON.stringify(value)} is empty`);
    let byteState = this.startState;
    let prevByteState: ByteState | null = null;
    let i = 0;
    for (; i < characters.length - 1; i++) {
      const trans = getTransitionOn(byteState, characters[i] as InputCharacter);
      if (trans.isEmpty()) break;
      let stateToReuse: ByteState | null = null;
      for (const single of trans.expand()) {
        const next = single.getNextByteState();
        if (this.canReuseNextByteState(byteState, next, characters, i)) {
          stateToReuse = next;
          break;
        }
      }
      if (stateToReuse === null) break;
      prevByteState = byteState;
      byteState = stateToReuse;
    }
    return this.addEndOfMatch(byteState, prevByteState, characters, i, pattern, nameStateToBeReturned);
  }

  private canReuseNextByteState(byteState: ByteState, next: ByteState | null, characters: InputCharacter[], i: number): next is ByteState {
    // Not a missing state, nor a self-reference.
    if (next === null || next === byteState) return false;
    // A determinate prefix is re-usable, except on the second-last character before a final
    // wildcard: that needs a new self-referencing composite state.
    if (!next.hasIndeterminatePrefix()) return !(i === characters.length - 2 && isWildcard(characters[i + 1]));
    // An indeterminate one only if no two transitions from byteState converge on it.
    return !this.doMultipleTransitionsConvergeForInputByte(byteState, characters, i);
  }

  private doMultipleTransitionsConvergeForInputByte(byteState: ByteState, characters: InputCharacter[], i: number): boolean {
    const c = characters[i];
    if (!isByte(c)) return false;
    const forSuffix = this.isNextCharacterFirstContinuationByteForSuffixMatch(characters, i);
    // In the midst of a multi-byte sequence the transitions are single.
    if (isContinuation(c.byte) && !forSuffix) return false;
    // A wildcard leads to a wildcard state that the next character can skip.
    const forAllBytes = byteState.getTransitionForAllBytes();
    if (!forAllBytes.isEmpty() && forAllBytes !== byteState) return true;
    // Lower- and upper-case paths of an equals-ignore-case pattern.
    const value = extractNextJavaCharacter(characters, i);
    const parsed = parseValue(forSuffix ? 'SUFFIX_EQUALS_IGNORE_CASE' : 'EQUALS_IGNORE_CASE', value);
    // getTransition never returns null (it answers the empty transition), so this is whether the
    // character has distinct cases.
    return isMultiByteSet(parsed[0]);
  }

  private isNextCharacterFirstContinuationByteForSuffixMatch(characters: InputCharacter[], i: number): boolean {
    if (this.hasSuffix <= 0) return false;
    return isContinuationByteAt(characters, i) && !isContinuationByteAt(characters, i - 1);
  }

  private addEndOfMatch(
    state: ByteState,
    prevState: ByteState | null,
    characters: InputCharacter[],
    charIndex: number,
    pattern: RulerPattern,
    nameStateCandidate: NameState | null,
  ): NameState {
    const length = characters.length;
    const nameState = nameStateCandidate ?? new NameState();
    if (length === 1 && isWildcard(characters[0])) {
      // Only character is '*': the start state is a match, so the empty value matches.
      this.startStateMatch = this.byteMatch(pattern, nameState);
      return nameState;
    }
    // (No shortcut transitions: see the file comment.)
    let j = charIndex;
    for (; j < length - 1; j++) {
      // Do not re-use a state for the second-last character before a final wildcard.
      if (j === length - 2 && isWildcard(characters[j + 1])) break;
      const trans = getTransitionOn(state, characters[j] as InputCharacter);
      if (trans.isEmpty()) break;
      const next = trans.getNextByteState();
      if (next !== null) {
        // A state with an indeterminate prefix cannot be re-used without unintended matches.
        if (next.hasIndeterminatePrefix()) break;
        prevState = state;
        state = next;
      } else {
        // A match without a next state: give it one.
        const newByteState = new ByteState();
        newByteState.setIndeterminatePrefix(state.hasIndeterminatePrefix());
        const single = trans.expand().values().next().value as SingleByteTransition;
        putTransitionNextState(state, characters[j] as InputCharacter, single, newByteState);
        prevState = state;
        state = newByteState;
      }
    }
    for (; j < length - 1; j++) {
      const next = this.findOrMakeNextByteState(state, prevState, characters, j, pattern, nameState);
      prevState = state;
      state = next;
    }
    return this.insertMatch(characters, length - 1, state, nameState, pattern, prevState);
  }

  private findOrMakeNextByteState(
    state: ByteState,
    prevState: ByteState | null,
    characters: InputCharacter[],
    currentIndex: number,
    pattern: RulerPattern,
    nameState: NameState,
  ): ByteState {
    const character = characters[currentIndex] as InputCharacter;
    const trans = getTransitionOn(state, character);
    let next = trans.getNextByteState();
    // A new state if there is none, if the existing one has an indeterminate prefix, or if the
    // last character is a wildcard (the next state becomes a self-referencing composite).
    if (next === null || next.hasIndeterminatePrefix() || (currentIndex === characters.length - 2 && isWildcard(characters[currentIndex + 1]))) {
      next = new ByteState();
      next.setIndeterminatePrefix(state.hasIndeterminatePrefix());
      this.addTransitionNextState(state, character, characters, currentIndex, prevState, pattern, next, nameState);
    }
    return next;
  }

  private addTransitionNextState(
    state: ByteState,
    character: InputCharacter,
    characters: InputCharacter[],
    currentIndex: number,
    prevState: ByteState | null,
    pattern: RulerPattern,
    nextState: ByteState,
    nameState: NameState,
  ): void {
    if (isWildcard(character)) {
      // A --*--> B, and B loops on every byte.
      nextState.addTransitionForAllBytes(nextState);
      nextState.setIndeterminatePrefix(true);
      state.addTransitionForAllBytes(nextState);
      return;
    }
    let single: SingleByteTransition = nextState;
    if (isWildcard(characters[characters.length - 1]) && currentIndex === characters.length - 2) {
      // Second-last character before a final wildcard: the transition is also a match.
      single = nextState.setMatch(this.byteMatch(pattern, nameState));
      nextState.setIndeterminatePrefix(true);
    } else if (isMultiByteSet(character)) {
      nextState.setIndeterminatePrefix(true);
    }
    addTransition(state, character, single);
    // After a wildcard, the state before it also takes this character (empty wildcard match).
    if (prevState !== null && currentIndex > 0 && isWildcard(characters[currentIndex - 1])) addTransition(prevState, character, single);
  }

  private insertMatch(characters: InputCharacter[], currentIndex: number, state: ByteState, nextNameState: NameState, pattern: RulerPattern, prevState: ByteState | null): NameState {
    const character = characters[currentIndex] as InputCharacter;
    const existing = getTransitionOn(state, character)
      .getMatches()
      .find((m) => m.pattern.key === pattern.key);
    if (existing !== undefined) return existing.nextNameState;

    const match = this.byteMatch(pattern, nextNameState);
    if (pattern.type === 'SUFFIX' || pattern.type === 'SUFFIX_EQUALS_IGNORE_CASE' || pattern.type === 'ANYTHING_BUT_SUFFIX') this.hasSuffix++;

    if (isWildcard(character)) {
      // Rule ends with '*': a composite match state referencing a self-referencing clone of it,
      // two composites "so the count of matching rule prefixes is accurate".
      let composite: SingleByteTransition | null;
      if (prevState !== null) composite = getTransitionHavingNextByteState(prevState, state, characters[currentIndex - 1] as InputCharacter);
      else composite = new ByteState().setMatch(match);
      if (composite === null) throw new Error('pattern-complexity: internal error, the composite before a final wildcard is missing');
      const nextState = composite.getNextByteState() as ByteState;
      nextState.addTransitionForAllBytes(composite.clone());
      nextState.setIndeterminatePrefix(true);
    } else {
      addTransition(state, character, match);
      // After a wildcard, the state before it also matches (empty wildcard match).
      if (prevState !== null && currentIndex === characters.length - 1 && characters.length >= 2 && isWildcard(characters[characters.length - 2])) {
        addTransition(prevState, character, match);
      }
    }
    return nextNameState;
  }
}

function isContinuationByteAt(characters: InputCharacter[], i: number): boolean {
  const c = characters[i];
  return isByte(c) && isContinuation(c.byte);
}

/** The Java character starting (or, for suffix bytes, ending) at `i`, decoded from its UTF-8 bytes. */
function extractNextJavaCharacter(characters: InputCharacter[], i: number): string {
  const byteAt = (k: number): number => {
    const c = characters[k];
    if (!isByte(c)) throw new Error('pattern-complexity: internal error, a multi-byte character is cut by a non-byte');
    return c.byte;
  };
  const first = byteAt(i);
  let bytes: number[];
  if (!isContinuation(first)) {
    if (first <= 0x7f) bytes = [first];
    else if (first >= 0xc2 && first <= 0xdf) bytes = [first, byteAt(i + 1)];
    else bytes = [first, byteAt(i + 1), byteAt(i + 2)];
  } else {
    // Suffix bytes run backwards: continuation bytes, then the first byte of the character.
    const collected: number[] = [];
    for (let k = i; k < characters.length; k++) {
      if (!isByte(characters[k])) break;
      collected.push(byteAt(k));
      if (!isContinuationByteAt(characters, k)) break;
    }
    bytes = collected.reverse();
  }
  return new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
}

/** ByteMachine.getTransition(SingleByteTransition, InputCharacter); never null. */
function getTransitionOn(trans: SingleByteTransition, character: InputCharacter): ByteTransition {
  switch (character.kind) {
    case 'wildcard':
      return trans.getTransitionForAllBytes() ?? EmptyByteTransition.INSTANCE;
    case 'multiByteSet':
      return getTransitionForMultiBytes(trans, character.multiBytes);
    case 'byte':
      return trans.getTransition(character.byte) ?? EmptyByteTransition.INSTANCE;
  }
}

/** The transitions that every variant of a case-insensitive character leads to. */
function getTransitionForMultiBytes(trans: SingleByteTransition, multiBytes: readonly (readonly number[])[]): ByteTransition {
  let candidates: Set<SingleByteTransition> | undefined;
  for (const multiByte of multiBytes) {
    let current: ByteTransition = trans;
    for (const b of multiByte) {
      const next: ByteTransition | null = current.getTransition(b);
      if (next === null) return EmptyByteTransition.INSTANCE;
      current = next;
    }
    if (candidates === undefined || candidates.size === 0) candidates = new Set(current.expand());
    else {
      const keep = current.expand();
      for (const c of [...candidates]) if (!keep.has(c)) candidates.delete(c);
      if (candidates.size === 0) return EmptyByteTransition.INSTANCE;
    }
  }
  return coalesce(candidates ?? new Set()) ?? EmptyByteTransition.INSTANCE;
}

function getTransitionHavingNextByteState(origin: SingleByteTransition, toFind: ByteState, character: InputCharacter): SingleByteTransition | null {
  for (const t of getTransitionOn(origin, character).expand()) if (t.getNextByteState() === toFind) return t;
  return null;
}

function putTransitionNextState(state: ByteState, character: InputCharacter, transition: SingleByteTransition, nextState: ByteState): void {
  const single = transition.clone().setNextByteState(nextState);
  if (single !== null && !single.isEmpty() && single !== transition) addTransition(state, character, single);
  removeTransition(state, character, transition);
}

function addTransition(state: ByteState, character: InputCharacter, transition: SingleByteTransition): void {
  switch (character.kind) {
    case 'wildcard':
      state.putTransitionForAllBytes(transition);
      return;
    case 'multiByteSet':
      for (const multiByte of character.multiBytes) {
        let current = state;
        for (let i = 0; i < multiByte.length - 1; i++) {
          const next = new ByteState();
          next.setIndeterminatePrefix(true);
          current.addTransition(multiByte[i] as number, next);
          current = next;
        }
        current.addTransition(multiByte[multiByte.length - 1] as number, transition);
      }
      return;
    case 'byte':
      state.addTransition(character.byte, transition);
  }
}

function removeTransition(state: ByteState, character: InputCharacter, transition: SingleByteTransition): void {
  switch (character.kind) {
    case 'wildcard':
      state.removeTransitionForAllBytes(transition);
      return;
    case 'multiByteSet':
      for (const multiByte of character.multiBytes) removeTransitionForBytes(state, multiByte, 0, transition);
      return;
    case 'byte':
      state.removeTransition(character.byte, transition);
  }
}

function removeTransitionForBytes(state: ByteState, bytes: readonly number[], index: number, transition: SingleByteTransition): void {
  const b = bytes[index] as number;
  if (index === bytes.length - 1) {
    state.removeTransition(b, transition);
    return;
  }
  for (const single of expandOrEmpty(state.getTransition(b))) {
    const next = single.getNextByteState();
    if (next !== null) {
      removeTransitionForBytes(next, bytes, index + 1, transition);
      if (next.hasNoTransitions() || next.hasOnlySelfReferentialTransition()) state.removeTransition(b, single);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// NameState.java and GenericMachine.java: one byte machine per (state, field), chained by field.
// - the parts of
//   GenericMachine.java (`addPatternRule`, `addStep`) and NameState.java (`evaluateComplexity`)
//   that decide which byte machines exist and how they chain.

let nextNameStateId = 0;

class NameState {
  readonly id = nextNameStateId++;
  readonly valueTransitions = new Map<string, ByteMachine>();
  /** `exists: false` (SingleStateNameMatcher): the next state, which the evaluator never visits. */
  readonly mustNotExistNextStates = new Map<string, NameState>();
}

/** Fields sorted, one NameState per step: GenericMachine.addPatternRule / addStep (default configuration). */
function addPatternRule(start: NameState, rule: ReadonlyMap<string, readonly RulerPattern[]>): void {
  const keys = [...rule.keys()].sort();
  const addStep = (state: NameState, keyIndex: number): void => {
    const key = keys[keyIndex] as string;
    const patterns = rule.get(key) ?? [];
    let byteMachine = state.valueTransitions.get(key);
    if (byteMachine === undefined && patterns.some((p) => p.type !== 'ABSENT')) {
      byteMachine = new ByteMachine();
      state.valueTransitions.set(key, byteMachine);
    }
    let lastNextState: NameState | null = null;
    const nameStates = new Set<NameState>();
    for (const pattern of patterns) {
      if (pattern.type === 'ABSENT') {
        const existing = state.mustNotExistNextStates.get(key);
        lastNextState = existing ?? lastNextState ?? new NameState();
        if (existing === undefined) state.mustNotExistNextStates.set(key, lastNextState);
      } else {
        lastNextState = (byteMachine as ByteMachine).addPattern(pattern, lastNextState);
      }
      nameStates.add(lastNextState);
    }
    if (keyIndex + 1 < keys.length) for (const nameState of nameStates) addStep(nameState, keyIndex + 1);
  };
  if (keys.length > 0) addStep(start, 0);
}

// ---------------------------------------------------------------------------------------------
// MachineComplexityEvaluator.java
// - MachineComplexityEvaluator.java: whole (`evaluate`, `getMatchesAccessibleFromEachTransition`).

function nameStateComplexity(state: NameState, maxComplexity: number): number {
  let complexity = 0;
  for (const byteMachine of state.valueTransitions.values()) {
    complexity = Math.max(complexity, byteMachineEvaluate(byteMachine, maxComplexity));
    if (complexity >= maxComplexity) return maxComplexity;
  }
  return complexity;
}

function byteMachineEvaluate(machine: ByteMachine, maxComplexity: number): number {
  return (machine.startStateMatch !== null ? 1 : 0) + evaluate(machine.startState, maxComplexity);
}

function patternsWithComplexity(matches: ReadonlySet<ByteMatch> | undefined): number {
  if (matches === undefined) throw new Error('pattern-complexity: internal error, a transition was not reached by the match walk');
  const patterns = new Set<string>();
  for (const m of matches) if (COMPLEXITY_MATCH_TYPES.has(m.pattern.type)) patterns.add(m.pattern.key);
  return patterns.size;
}

/**
 * The largest number of wildcard rule prefixes that one input value can match at once in the
 * machine starting at `state` (the sum, over the NFA states a walk can be in together, of the
 * wildcard patterns reachable from each), or in any machine of a later field; at most `maxComplexity`.
 */
function evaluate(state: ByteState, maxComplexity: number): number {
  const matchesAccessible = getMatchesAccessibleFromEachTransition(state);
  const visited = new Set<string>([state.key]);
  let maxSize = 0;
  const queue: ByteTransition[] = [...state.getTransitions()];
  for (let head = 0; head < queue.length; head++) {
    const transition = queue[head] as ByteTransition;
    if (visited.has(transition.key)) continue;
    visited.add(transition.key);
    let size = 0;
    const singles = transition.expand();
    for (const single of singles) {
      size += patternsWithComplexity(matchesAccessible.get(single));
      // An input that matches foo also matches foo*: count the patterns behind the all-bytes
      // (wildcard) transitions of the next state too.
      const next = single.getNextByteState();
      if (next !== null) {
        for (const forAllBytes of next.getTransitionForAllBytes().expand()) {
          if (!(forAllBytes instanceof EmptyByteTransition) && !singles.has(forAllBytes)) size += patternsWithComplexity(matchesAccessible.get(forAllBytes));
        }
      }
    }
    if (size >= maxComplexity) return maxComplexity;
    maxSize = Math.max(maxSize, size);
    const nextTransition = transition.getTransitionForNextByteStates();
    if (nextTransition !== null) queue.push(...nextTransition.getTransitions());
  }

  // The machines of later fields, reached through this machine's matches.
  let maxFromNextNameStates = 0;
  const uniqueMatches = new Set<ByteMatch>();
  for (const matches of matchesAccessible.values()) matches.forEach((m) => uniqueMatches.add(m));
  for (const match of uniqueMatches) maxFromNextNameStates = Math.max(maxFromNextNameStates, nameStateComplexity(match.nextNameState, maxComplexity));
  return Math.max(maxSize, maxFromNextNameStates);
}

/** Every transition reachable from `state`, with the matches reachable from it (iterative depth-first). */
function getMatchesAccessibleFromEachTransition(state: ByteState): Map<SingleByteTransition, Set<ByteMatch>> {
  const result = new Map<SingleByteTransition, Set<ByteMatch>>();
  const visited = new Set<SingleByteTransition>();
  const stack: SingleByteTransition[] = [state];
  const resultOf = (t: SingleByteTransition): Set<ByteMatch> => {
    const matches = result.get(t);
    if (matches === undefined) throw new Error('pattern-complexity: internal error, a deeper transition has no matches yet');
    return matches;
  };
  while (stack.length > 0) {
    const transition = stack[stack.length - 1] as SingleByteTransition;
    if (!result.has(transition)) result.set(transition, new Set());
    const matches = resultOf(transition);
    const next = transition.getNextByteState();
    if (visited.has(transition)) {
      // Deeper transitions are done: take their matches.
      if (next !== null) for (const t of next.getTransitions()) for (const single of t.expand()) resultOf(single).forEach((m) => matches.add(m));
      stack.pop();
      continue;
    }
    visited.add(transition);
    transition.getMatches().forEach((m) => matches.add(m));
    if (next !== null) for (const t of next.getTransitions()) for (const single of t.expand()) if (!visited.has(single)) stack.push(single);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// JsonRuleCompiler.java: an EventBridge pattern to sub-rules (field path → patterns).
// - JsonRuleCompiler.java (flattening, `$or`, the JSON quotes around values).

type SubRule = Map<string, readonly RulerPattern[]>;

const OR_KEYWORD = '$or';
/** Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP. */
const RESERVED_FIELD_NAMES_IN_OR = new Set([
  'exactly', 'equals-ignore-case', 'prefix', 'suffix', 'anything-but', 'exists', 'wildcard', 'numeric', 'cidr',
  '=', '<', '<=', '>', '>=', 'regex', 'not-wildcard', 'not-equals-ignore-case',
  'date-after', 'date-on-or-after', 'date-before', 'date-on-or-before', 'in-date-range',
  'ip-address-in-range', 'ip-address-not-in-range',
]);
/** Constants.IPv4_REGEX / IPv6_REGEX: a string value like these compiles to a CIDR range. */
const IPV4_RE = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6_RE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(where: string, problem: string): EventPatternComplexityError {
  return new EventPatternComplexityError(`event pattern ${where}: ${problem}`);
}

/** The sub-rules of a pattern: one per combination of `$or` branches. */
function compileEventPattern(pattern: EventPattern): SubRule[] {
  const rules: SubRule[] = [];
  parseObject(rules, [], pattern, false);
  return rules;
}

function parseObject(rules: SubRule[], path: readonly string[], object: Record<string, unknown>, insideOr: boolean): void {
  const entries = Object.entries(object);
  const where = path.join('.') || '(top level)';
  if (entries.length === 0) throw invalid(where, 'empty objects are not allowed');
  for (const [step, value] of entries) {
    if (step === OR_KEYWORD) {
      parseIntoOrRelationship(rules, path, value);
      continue;
    }
    if (insideOr && RESERVED_FIELD_NAMES_IN_OR.has(step)) throw invalid(where, `${step} is a reserved field name, not allowed inside $or`);
    if (Array.isArray(value)) writeRules(rules, [...path, step].join('.'), value);
    else if (isObject(value)) parseObject(rules, [...path, step], value, insideOr);
    else throw invalid([...path, step].join('.'), 'must be an object or an array');
  }
}

/** Each branch gets a copy of the sub-rules so far; fields after the `$or` go into every one. */
function parseIntoOrRelationship(rules: SubRule[], path: readonly string[], value: unknown): void {
  const where = [...path, OR_KEYWORD].join('.');
  if (!Array.isArray(value)) throw invalid(where, 'must be an array');
  const current = rules.map((r) => new Map(r));
  rules.length = 0;
  for (const branch of value) {
    if (!isObject(branch)) throw invalid(where, 'only objects are allowed in $or');
    const branchRules = current.map((r) => new Map(r));
    if (branchRules.length === 0) branchRules.push(new Map());
    parseObject(branchRules, path, branch, true);
    rules.push(...branchRules);
  }
  if (value.length < 2) throw invalid(where, 'needs at least 2 objects');
}

function writeRules(rules: SubRule[], name: string, values: readonly unknown[]): void {
  if (values.length === 0) throw invalid(name, 'empty arrays are not allowed');
  const patterns = values.map((v) => compileCondition(name, v));
  if (rules.length === 0) rules.push(new Map());
  for (const rule of rules) rule.set(name, patterns);
}

function compileCondition(where: string, value: unknown): RulerPattern {
  if (typeof value === 'string') {
    if (IPV4_RE.test(value) || IPV6_RE.test(value)) throw invalid(where, `${JSON.stringify(value)} compiles to an IP address range, which is not modelled`);
    return rulerPattern.exact(`"${value}"`);
  }
  if (typeof value === 'number') throw invalid(where, `number ${value} compiles to a numeric match, which is not modelled`);
  if (typeof value === 'boolean' || value === null) return rulerPattern.exact(String(value));
  if (!isObject(value)) throw invalid(where, 'a match value must be a string, number, true, false, null or an operator');
  const ops = Object.keys(value);
  if (ops.length !== 1) throw invalid(where, `a match expression has exactly one operator, got ${JSON.stringify(value)}`);
  const op = ops[0] as string;
  const arg = value[op];
  const text = (label: string): string => {
    if (typeof arg !== 'string') throw invalid(where, `${label} match pattern must be a string`);
    return arg;
  };
  switch (op) {
    case 'exactly':
      return rulerPattern.exact(`"${text('exact')}"`);
    case 'prefix':
      if (isObject(arg)) return rulerPattern.prefixEqualsIgnoreCase(`"${ignoreCaseArgument(where, 'prefix', arg)}`);
      return rulerPattern.prefix(`"${text('prefix')}`);
    case 'suffix':
      if (isObject(arg)) return rulerPattern.suffixEqualsIgnoreCase(`${ignoreCaseArgument(where, 'suffix', arg)}"`);
      return rulerPattern.suffix(`${text('suffix')}"`);
    case 'equals-ignore-case':
      return rulerPattern.equalsIgnoreCase(`"${text('equals-ignore-case')}"`);
    case 'wildcard': {
      const pattern = rulerPattern.wildcard(`"${text('wildcard')}"`);
      parseWildcard(pattern.values[0] as string); // validates, as the compiler does
      return pattern;
    }
    case 'exists':
      if (arg === true) return rulerPattern.exists();
      if (arg === false) return rulerPattern.absent();
      throw invalid(where, 'exists match pattern must be either true or false');
    case 'anything-but':
      return compileAnythingBut(where, arg);
    case 'numeric':
    case 'cidr':
      throw invalid(where, `operator "${op}" is not modelled by the complexity port`);
    default:
      throw invalid(where, `unrecognized match type ${op}`);
  }
}

function ignoreCaseArgument(where: string, op: string, arg: Record<string, unknown>): string {
  const keys = Object.keys(arg);
  const value = arg['equals-ignore-case'];
  if (keys.length !== 1 || typeof value !== 'string') throw invalid(where, `${op} takes a string or { "equals-ignore-case": string }`);
  return value;
}

function compileAnythingBut(where: string, arg: unknown): RulerPattern {
  if (isObject(arg)) {
    const ops = Object.keys(arg);
    if (ops.length !== 1) throw invalid(where, 'anything-but takes one operator');
    const op = ops[0] as string;
    const inner = arg[op];
    const list = Array.isArray(inner) ? inner : [inner];
    if (list.length === 0 || !list.every((v): v is string => typeof v === 'string')) throw invalid(where, `anything-but/${op} takes a string or a list of strings`);
    switch (op) {
      case 'equals-ignore-case':
        return rulerPattern.anythingButIgnoreCase(list.map((v) => `"${v}"`));
      case 'prefix':
        if (list.some((v) => v === '')) throw invalid(where, 'null prefix/suffix not allowed');
        return rulerPattern.anythingButPrefix(list.map((v) => `"${v}`));
      case 'suffix':
        if (list.some((v) => v === '')) throw invalid(where, 'null prefix/suffix not allowed');
        return rulerPattern.anythingButSuffix(list.map((v) => `${v}"`));
      case 'wildcard': {
        const values = list.map((v) => `"${v}"`);
        values.forEach(parseWildcard); // validates, as the compiler does
        return rulerPattern.anythingButWildcard(values);
      }
      default:
        throw invalid(where, `unsupported anything-but pattern: ${op}`);
    }
  }
  const list = Array.isArray(arg) ? arg : [arg];
  if (list.length === 0) throw invalid(where, 'anything-but needs at least one value');
  if (list.some((v) => typeof v === 'number')) throw invalid(where, 'anything-but with numbers compiles to numeric matches, which are not modelled');
  if (!list.every((v): v is string => typeof v === 'string')) throw invalid(where, 'anything-but takes strings or numbers');
  return rulerPattern.anythingBut(list.map((v) => `"${v}"`));
}

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * The complexity EventBridge gives `pattern`, computed as event-ruler's README shows a service
 * validating a pattern: the sub-rules with a wildcard (or anything-but wildcard) in one Machine,
 * scored by MachineComplexityEvaluator. Compare with {@link MAX_EVENT_PATTERN_COMPLEXITY}.
 *
 * EventBridge matches with aws/event-ruler. Its README ("Matching with a Machine", the `Validate`
 * snippet) shows the check a service makes before it accepts a pattern: compile the pattern
 * (`JsonRuleCompiler.compile`, one sub-rule per `$or` branch), add the sub-rules that contain a
 * `wildcard` or `anything-but`/`wildcard` to an empty `Machine`, and reject the pattern if
 * `machine.evaluateComplexity(new MachineComplexityEvaluator(max))` exceeds a limit.
 *
 * @param maxComplexity the evaluator's cap (it stops counting there); event-ruler's tests use 100.
 * @throws EventPatternComplexityError for an invalid pattern or an operator this port does not model.
 */
export function eventPatternComplexity(pattern: EventPattern, maxComplexity: number = DEFAULT_EVALUATION_CAP): number {
  const start = new NameState();
  for (const rule of compileEventPattern(pattern)) {
    const hasWildcard = [...rule.values()].some((patterns) => patterns.some((p) => COMPLEXITY_MATCH_TYPES.has(p.type)));
    if (hasWildcard) addPatternRule(start, rule);
  }
  return nameStateComplexity(start, maxComplexity);
}

/**
 * The complexity of one field's byte machine holding `patterns`, added in this order: what
 * event-ruler's MachineComplexityEvaluatorTest and ByteMachineTest measure.
 */
export function byteMachineComplexity(patterns: readonly RulerPattern[], maxComplexity: number = DEFAULT_EVALUATION_CAP): number {
  const machine = new ByteMachine();
  for (const pattern of patterns) machine.addPattern(pattern, null);
  return byteMachineEvaluate(machine, maxComplexity);
}
