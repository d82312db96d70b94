/**
 * A small streaming XML reader that builds only what a shape asks for, straight from a body's
 * bytes: elements, text, the five entities and numeric references, CDATA, comments and the
 * declaration; attributes are read past (EC2 answers carry only xmlns). Tags are matched as bytes
 * and only the text of a leaf the shape reads is decoded; anything not in the shape is skipped
 * without being built. Malformed or truncated XML throws an XmlStreamError: a partial page is
 * never returned as if complete. Design: docs/architecture.md "Ultra scale: streaming EC2 parse".
 */

/**
 * A leaf's type: string, number or boolean (as the SDK reads them: Number(text), text.toLowerCase() === 'true');
 * 'S': a string whose values repeat (the ids of subnets, VPCs and instances, zones, states, tag
 * keys): one string per value, shared by the records that hold it, instead of one each.
 */
export type Leaf = 's' | 'S' | 'n' | 'b';

/** An element with children: which child elements to read, under which key, and what it becomes once closed. */
export interface Shape {
  readonly fields: ReadonlyMap<string, Field>;
  /** What the element's record becomes once closed (e.g. trimNetworkInterface); by default the record. */
  readonly finish?: (record: Record<string, unknown>) => unknown;
  /**
   * The record holds every field's key from the start (undefined until read), in the rows' order:
   * one hidden class for all of them, and a record that can be kept as it is. Without, the record
   * has the keys of the fields read.
   */
  readonly complete?: boolean;
}

/** A child element: a leaf, a structure, or a list of `<item>` structures. */
export type Field = { key: string; leaf: Leaf } | { key: string; struct: Shape } | { key: string; list: Shape };

/** The XML was malformed, truncated or not the expected answer. */
export class XmlStreamError extends Error {
  override readonly name = 'XmlStreamError';
}

/** A shape from `[element, key, leaf | shape | [shape]]` rows. */
export function shape(rows: [string, string, Leaf | Shape | [Shape]][], finish?: Shape['finish'], options?: { complete?: boolean }): Shape {
  const fields = new Map<string, Field>();
  for (const [element, key, type] of rows) {
    fields.set(element, typeof type === 'string' ? { key, leaf: type } : Array.isArray(type) ? { key, list: type[0] } : { key, struct: type });
  }
  return { fields, ...(finish ? { finish } : {}), ...(options?.complete ? { complete: true } : {}) };
}

const STRUCT = 0;
const LIST = 1;
const LEAF = 2;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the entities and character references of a text run; an unknown or unterminated one throws. */
function decode(text: string): string {
  let out = '';
  let from = 0;
  for (let amp = text.indexOf('&'); amp !== -1; amp = text.indexOf('&', from)) {
    const semi = text.indexOf(';', amp);
    const ref = semi === -1 ? '' : text.slice(amp + 1, semi);
    let ch: string | undefined;
    if (ref.startsWith('#x')) ch = /^#x[0-9a-fA-F]{1,6}$/.test(ref) ? String.fromCodePoint(parseInt(ref.slice(2), 16)) : undefined;
    else if (ref.startsWith('#')) ch = /^#[0-9]{1,7}$/.test(ref) ? String.fromCodePoint(parseInt(ref.slice(1), 10)) : undefined;
    else ch = Object.hasOwn(ENTITIES, ref) ? ENTITIES[ref] : undefined;
    if (ch === undefined) throw new XmlStreamError(`unknown or unterminated entity "${text.slice(amp, Math.min(text.length, amp + 12))}"`);
    out += text.slice(from, amp) + ch;
    from = semi + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** A text run as the SDK reads it (@aws-sdk/xml-builder parseXML): line ends normalised, then entities decoded. */
function prepared(raw: string): string {
  const t = raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw;
  return t.includes('&') ? decode(t) : t;
}

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;
const allSpace = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (!isSpace(s.charCodeAt(i))) return false;
  return true;
};
const allSpaceBytes = (b: Uint8Array, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) if (!isSpace(b[i]!)) return false;
  return true;
};

// Bytes: < > / ? ! & \r - ]
const LT = 60;
const GT = 62;
const SLASH = 47;
const QUESTION = 63;
const BANG = 33;
const AMP = 38;
const CR = 13;
const DASH = 45;
const CDATA_OPEN = Buffer.from('<![CDATA[');

/**
 * An element name met in a document: its bytes, its string, and the id of the shapes' field of
 * that name (-1: no shape reads it). Names are few (an answer has a few dozen), so they are kept
 * from one document to the next, looked up by a hash of their bytes: no string per tag.
 */
interface Name {
  readonly bytes: Uint8Array;
  /** Its bytes as little-endian 32-bit words (the whole words of it), compared four bytes at a time. */
  readonly words: Int32Array;
  readonly str: string;
  readonly hash: number;
  id: number;
  readonly next: Name | undefined;
  /** `<name` and `</name>`, for skipping an element read past (made when first needed). */
  skip: [Buffer, Buffer] | undefined;
  /** The names that came last after this one's start tag and after its end tag: the likely next start tag, checked first. */
  afterOpen: Name | undefined;
  afterClose: Name | undefined;
}
const NAME_BITS = 10;
const names: (Name | undefined)[] = new Array<Name | undefined>(1 << NAME_BITS).fill(undefined);
let namesKept = 0;
/** Beyond this many names (an answer with ever new element names), a name is looked up but not kept. */
const MAX_NAMES = 4096;
/** The ids of the element names the shapes read. */
const fieldIds = new Map<string, number>();

function fieldId(element: string): number {
  let id = fieldIds.get(element);
  if (id === undefined) {
    fieldIds.set(element, (id = fieldIds.size));
    for (let n of names) for (; n; n = n.next) if (n.str === element) n.id = id;
  }
  return id;
}
const ITEM = fieldId('item');

function nameOf(b: Buffer, from: number, to: number, hash: number): Name {
  const len = to - from;
  const slot = hash & ((1 << NAME_BITS) - 1);
  for (let n = names[slot]; n; n = n.next) {
    if (n.hash !== hash || n.bytes.length !== len) continue;
    const nb = n.bytes;
    let k = 0;
    while (k < len && nb[k] === b[from + k]) k++;
    if (k === len) return n;
  }
  const str = b.toString('utf8', from, to);
  const bytes = new Uint8Array(b.subarray(from, to));
  const words = new Int32Array(len >> 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let w = 0; w < words.length; w++) words[w] = view.getInt32(w * 4, true);
  const name: Name = {
    bytes,
    words,
    str,
    hash,
    id: fieldIds.get(str) ?? -1,
    next: names[slot],
    skip: undefined,
    afterOpen: undefined,
    afterClose: undefined,
  };
  if (namesKept < MAX_NAMES) {
    names[slot] = name;
    namesKept++;
  }
  return name;
}

/** Whether `name` is at b[at…] (its whole length within b). */
function isNameAt(b: Buffer, view: DataView, at: number, name: Name): boolean {
  const words = name.words;
  for (let w = 0; w < words.length; w++) if (view.getInt32(at + w * 4, true) !== words[w]) return false;
  const bytes = name.bytes;
  for (let k = words.length * 4; k < bytes.length; k++) if (b[at + k] !== bytes[k]) return false;
  return true;
}

/** A shape as the reader walks it: its fields by name id, and the record it starts from. */
interface Walk {
  readonly byId: (WalkField | undefined)[];
  readonly template: Record<string, unknown> | undefined;
  readonly finish: Shape['finish'];
}
interface WalkField {
  readonly key: string;
  readonly kind: number;
  readonly leaf: Leaf;
  readonly walk: Walk | undefined;
}
const walks = new WeakMap<Shape, Walk>();

function walkOf(s: Shape): Walk {
  let w = walks.get(s);
  if (w) return w;
  const byId: (WalkField | undefined)[] = [];
  for (const [element, f] of s.fields) {
    byId[fieldId(element)] =
      'leaf' in f
        ? { key: f.key, kind: LEAF, leaf: f.leaf, walk: undefined }
        : { key: f.key, kind: 'struct' in f ? STRUCT : LIST, leaf: 's', walk: walkOf('struct' in f ? f.struct : f.list) };
  }
  let template: Record<string, unknown> | undefined;
  if (s.complete) {
    // From JSON.parse: an object whose keys all sit in the object itself (as a literal's do), which
    // each record's copy keeps; keys added one by one go to a separate, larger property store.
    template = JSON.parse(JSON.stringify(Object.fromEntries([...s.fields.values()].map((f) => [f.key, null])))) as Record<string, unknown>;
    for (const key of Object.keys(template)) template[key] = undefined;
  }
  w = { byId, template, finish: s.finish };
  walks.set(s, w);
  return w;
}

/** A Buffer over a chunk's bytes (no copy); a string chunk as its UTF-8 bytes. */
function bytesOf(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Reads one XML document whose root element is `root` into the record `shape` describes, from
 * its chunks (Buffers or strings, UTF-8). Throws an XmlStreamError for malformed, truncated or
 * other XML.
 */
export async function readXml(chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, root: string, rootShape: Shape): Promise<Record<string, unknown>> {
  const rootWalk = walkOf(rootShape);
  const out: Record<string, unknown> = {};
  // The open elements: names, and per depth what is built (kind, record or list, shape, key in the parent).
  const open: Name[] = [];
  const kinds: number[] = [];
  const targets: unknown[] = [];
  const shapes: Walk[] = [];
  const keys: string[] = [];
  let depth = 0;
  let skip = 0; // > 0: inside an element the shape does not ask for (its depth below it)
  let leafType: Leaf = 's';
  // The open leaf's text: its last run's bytes (not decoded yet) and, when it has more than one
  // run (comments, CDATA, elements in it), the runs before, decoded.
  let runBytes: Buffer | undefined;
  let runFrom = 0;
  let runTo = 0;
  let runPlain = true; // the run has no entity and no \r
  let leafText = '';
  let leafRuns = false;
  let rootSeen = false;
  let rootClosed = false;
  let rest: Buffer = Buffer.alloc(0);
  // The last element opened or closed: its afterOpen or afterClose is the likely next start tag.
  let last: Name | undefined;
  let lastClosed = false;

  const openElement = (name: Name): void => {
    if (rootClosed) throw new XmlStreamError(`element <${name.str}> after the root element`);
    open[depth++] = name;
    if (last) {
      if (lastClosed) last.afterClose = name;
      else last.afterOpen = name;
    }
    last = name;
    lastClosed = false;
    if (skip > 0) return void skip++;
    if (depth === 1) {
      if (name.str !== root) throw new XmlStreamError(`expected a <${root}> document, got <${name.str}>`);
      rootSeen = true;
      kinds[0] = STRUCT;
      targets[0] = out;
      shapes[0] = rootWalk;
      return;
    }
    const d = depth - 1;
    const parent = kinds[d - 1];
    if (parent === STRUCT) {
      const field = name.id >= 0 ? shapes[d - 1]!.byId[name.id] : undefined;
      if (!field) return void (skip = 1);
      keys[d] = field.key;
      kinds[d] = field.kind;
      if (field.kind === LEAF) {
        leafType = field.leaf;
        runBytes = undefined;
        leafText = '';
        leafRuns = false;
      } else if (field.kind === STRUCT) {
        const w = field.walk!;
        targets[d] = w.template ? { ...w.template } : {};
        shapes[d] = w;
      } else {
        targets[d] = [];
        shapes[d] = field.walk!;
      }
    } else if (parent === LIST && name.id === ITEM) {
      const w = shapes[d - 1]!;
      kinds[d] = STRUCT;
      targets[d] = w.template ? { ...w.template } : {};
      shapes[d] = w;
    } else skip = 1;
  };

  /** The open leaf's value, from its text. */
  const leafValue = (): unknown => {
    const b = runBytes;
    runBytes = undefined;
    if (!leafRuns && b && leafType === 'S') return runPlain ? shared(b, runFrom, runTo) : whole(runText(b, runFrom, runTo));
    if (!leafRuns && b && leafType !== 's') {
      // Without entities or line ends, a boolean or a whole number is read from the bytes.
      let plain = true;
      let digits = runTo - runFrom <= 9;
      for (let k = runFrom; k < runTo; k++) {
        const c = b[k]!;
        if (c === AMP || c === CR) plain = false;
        if (c < 48 || c > 57) digits = false;
      }
      if (plain && leafType === 'b') return runTo - runFrom === 4 && (b[runFrom]! | 32) === 116 && (b[runFrom + 1]! | 32) === 114 && (b[runFrom + 2]! | 32) === 117 && (b[runFrom + 3]! | 32) === 101;
      if (digits && runTo > runFrom) {
        let v = 0;
        for (let k = runFrom; k < runTo; k++) v = v * 10 + b[k]! - 48;
        return v;
      }
    }
    const run = b ? (runPlain ? b.toString('utf8', runFrom, runTo) : runText(b, runFrom, runTo)) : '';
    const t = leafRuns ? leafText + run : run;
    const text = t.length > 0 && isSpace(t.charCodeAt(0)) && allSpace(t) && t.includes('\n') ? '' : t;
    return leafType === 's' || leafType === 'S' ? text : leafType === 'n' ? Number(text) : text === 'true' || (text.length === 4 && text.toLowerCase() === 'true');
  };

  /** Closes the innermost open element (its end tag checked by the caller). */
  const close = (): void => {
    const d = --depth;
    last = open[d];
    lastClosed = true;
    if (skip > 0) return void skip--;
    let value: unknown;
    if (kinds[d] === LEAF) value = leafValue();
    else if (kinds[d] === STRUCT) {
      value = targets[d];
      const finish = shapes[d]!.finish;
      if (finish) value = finish(value as Record<string, unknown>);
      targets[d] = undefined;
    } else {
      // A copy of the exact length: an array grown by push keeps up to half as much again spare.
      value = (targets[d] as unknown[]).slice();
      targets[d] = undefined;
    }
    if (d === 0) return void (rootClosed = true);
    if (kinds[d - 1] === LIST) (targets[d - 1] as unknown[]).push(value);
    else (targets[d - 1] as Record<string, unknown>)[keys[d]!] = value;
  };

  /** The text b[from, to) (raw: CDATA): kept when a leaf the shape reads is open; outside the root, only white space. */
  const text = (b: Buffer, from: number, to: number, raw: boolean, plain: boolean): void => {
    if (skip === 0 && depth > 0 && kinds[depth - 1] === LEAF) {
      if (runBytes) {
        leafText += runText(runBytes, runFrom, runTo);
        leafRuns = true;
      }
      if (raw) {
        leafText += b.toString('utf8', from, to);
        leafRuns = true;
        runBytes = undefined;
      } else {
        runBytes = b;
        runFrom = from;
        runTo = to;
        runPlain = plain;
      }
    } else if (depth === 0 && !allSpaceBytes(b, from, to)) {
      throw new XmlStreamError(`text outside the root element: "${b.toString('utf8', from, Math.min(to, from + 20))}"`);
    }
  };

  /** Where the next `target` byte is in b from `from`, or -1. */
  const find = (b: Buffer, target: number, from: number): number => {
    const n = b.length;
    let i = from;
    while (i < n && b[i] !== target) i++;
    return i < n ? i : -1;
  };

  /** Reads the complete tokens of `b`; returns where the incomplete one at its end (if any) starts. */
  const scan = (b: Buffer): number => {
    const n = b.length;
    const view = new DataView(b.buffer, b.byteOffset, n);
    let i = 0;
    for (;;) {
      let lt = i;
      let plain = true;
      for (; lt < n; lt++) {
        const t = b[lt]!;
        if (t === LT) break;
        if (t < 39 && (t === AMP || t === CR)) plain = false;
      }
      if (lt === n) return i; // text that may go on in the next chunk
      if (lt > i) text(b, i, lt, false, plain);
      if (lt + 1 === n) return lt;
      const c = b[lt + 1]!;
      if (c === SLASH) {
        // Most end tags are exactly the open element's: `</name>`.
        const name = depth > 0 ? open[depth - 1]! : undefined;
        const at = lt + 2;
        const len = name ? name.bytes.length : 0;
        const same = name !== undefined && at + len < n && isNameAt(b, view, at, name);
        if (same && b[at + len] === GT) {
          close();
          i = at + len + 1;
          continue;
        }
        const gt = find(b, GT, at);
        if (gt === -1) return lt;
        if (!same || !allSpaceBytes(b, at + len, gt)) {
          const got = b.toString('utf8', at, gt).trim();
          throw new XmlStreamError(name ? `mismatched tags <${open[depth - 1]!.str}> and </${got}>` : `closing tag </${got}> without an open element`);
        }
        close();
        i = gt + 1;
      } else if (c === QUESTION) {
        let end = find(b, GT, lt + 2);
        while (end !== -1 && b[end - 1] !== QUESTION) end = find(b, GT, end + 1);
        if (end === -1) return lt;
        i = end + 1;
      } else if (c === BANG) {
        if (b[lt + 2] === DASH && b[lt + 3] === DASH) {
          let end = find(b, GT, lt + 4);
          while (end !== -1 && (end < lt + 6 || b[end - 1] !== DASH || b[end - 2] !== DASH)) end = find(b, GT, end + 1);
          if (end === -1) return lt;
          i = end + 1;
        } else if (n >= lt + 9 && b.compare(CDATA_OPEN, 0, 9, lt, lt + 9) === 0) {
          let end = find(b, GT, lt + 9);
          while (end !== -1 && (end < lt + 11 || b[end - 1] !== 93 || b[end - 2] !== 93)) end = find(b, GT, end + 1);
          if (end === -1) return lt;
          text(b, lt + 9, end - 2, true, true);
          i = end + 1;
        } else if (n < lt + 9) return lt;
        else throw new XmlStreamError(`unsupported markup "${b.toString('utf8', lt, lt + 12)}"`);
      } else {
        // The likely name first (answers repeat the same sequence of elements), else by its hash.
        let name = last === undefined ? undefined : lastClosed ? last.afterClose : last.afterOpen;
        let j = lt + 1;
        let x = c;
        if (name) {
          const len = name.bytes.length;
          x = j + len < n ? b[j + len]! : 0;
          if ((x === GT || x === SLASH || isSpace(x)) && isNameAt(b, view, j, name)) j += len;
          else {
            name = undefined;
            x = c;
          }
        }
        let hash = 0;
        if (!name) {
          while (x !== GT && x !== SLASH && !isSpace(x)) {
            hash = (Math.imul(hash, 31) + x) | 0;
            if (++j === n) return lt;
            x = b[j]!;
          }
        }
        // Most start tags are `<name>`; else the tag ends at the next `>` (attributes read past).
        const gt = x === GT ? j : find(b, GT, j);
        if (gt === -1) return lt;
        if (j === lt + 1) throw new XmlStreamError(`malformed tag "${b.toString('utf8', lt, Math.min(gt + 1, lt + 20))}"`);
        name ??= nameOf(b, lt + 1, j, hash);
        openElement(name);
        i = gt + 1;
        if (b[gt - 1] === SLASH) close();
        else if (skip === 1) {
          // An element not read. Its text is not looked at; when it holds elements, straight to its
          // end tag when that is in this chunk and the element holds none of its own name; else its
          // tokens are read one by one.
          const next = find(b, LT, i);
          if (next === -1) continue;
          i = next;
          if (b[next + 1] === SLASH) continue;
          const tags = (name.skip ??= [Buffer.from(`<${name.str}`), Buffer.from(`</${name.str}>`)]);
          const end = b.indexOf(tags[1], next);
          // Backwards from the end tag, the first `<name` is this element's own start tag unless another is nested.
          if (end !== -1 && b.lastIndexOf(tags[0], end) === lt) {
            depth--;
            skip = 0;
            lastClosed = true;
            i = end + tags[1].length;
          }
        }
      }
    }
  };

  const feed = (chunk: Buffer): void => {
    let b = chunk;
    if (rest.length > 0) {
      // The token cut at the boundary, completed up to the chunk's first `>`; the chunk itself is
      // then read without being copied into one buffer with the rest.
      const q = find(chunk, GT, 0) + 1;
      if (q > 0) {
        const head = Buffer.concat([rest, chunk.subarray(0, q)]);
        const done = scan(head);
        b = done === head.length ? chunk.subarray(q) : Buffer.concat([head.subarray(done), chunk.subarray(q)]);
      } else b = Buffer.concat([rest, chunk]);
    }
    rest = b.subarray(scan(b));
  };

  // A string chunk that ends inside a surrogate pair: its high half waits for the next chunk.
  let high = '';
  for await (const chunk of chunks) {
    if (typeof chunk !== 'string') {
      if (high) feed(bytesOf(high));
      high = '';
      feed(bytesOf(chunk));
    } else {
      const s = high + chunk;
      const last = s.charCodeAt(s.length - 1);
      high = last >= 0xd800 && last <= 0xdbff ? s.slice(-1) : '';
      feed(bytesOf(high ? s.slice(0, -1) : s));
    }
  }
  if (high) feed(bytesOf(high));
  const cut = find(rest, LT, 0) !== -1;
  if (!cut) text(rest, 0, rest.length, false, false); // trailing text (an unfinished tag is reported below)
  if (!rootSeen) throw new XmlStreamError(`truncated: no <${root}> element`);
  if (!rootClosed || cut) throw new XmlStreamError(`truncated: the answer ends inside <${open[Math.max(0, depth - 1)]?.str ?? root}>`);
  return out;
}

/** The strings of 'S' leaves read lately, by a hash of their bytes (one per slot: a new value takes the slot). */
const SHARED_BITS = 14;
const sharedStrings: string[] = new Array<string>(1 << SHARED_BITS).fill('');

/** A leaf's text as one shared string per value, when it is short ASCII text without entities; else as {@link runText}. */
function shared(b: Buffer, from: number, to: number): string {
  const len = to - from;
  if (len > 64 || len === 0) return whole(runText(b, from, to));
  let hash = len;
  for (let k = from; k < to; k++) {
    const c = b[k]!;
    // Not ASCII, an entity or a line end: read as any text.
    if (c > 127 || c === AMP || c === CR) return whole(runText(b, from, to));
    hash = (Math.imul(hash, 31) + c) | 0;
  }
  const slot = (hash ^ (hash >>> SHARED_BITS)) & ((1 << SHARED_BITS) - 1);
  const known = sharedStrings[slot]!;
  if (known.length === len) {
    let k = 0;
    while (k < len && known.charCodeAt(k) === b[from + k]) k++;
    if (k === len) return known;
  }
  const t = whole(b.toString('latin1', from, to));
  sharedStrings[slot] = t;
  return t;
}

/** A leaf's text as the SDK reads it: white space alone that spans lines is empty. */
function whole(t: string): string {
  return t.length > 0 && isSpace(t.charCodeAt(0)) && allSpace(t) && t.includes('\n') ? '' : t;
}

/** A leaf's text run, decoded from its bytes (lenient, as the SDK's Buffer.toString: an invalid byte becomes U+FFFD). */
function runText(b: Buffer, from: number, to: number): string {
  // Ends at `<`: an ASCII byte, so the run holds whole characters. A fresh flat string, holding nothing else.
  const raw = b.toString('utf8', from, to);
  for (let k = from; k < to; k++) if (b[k] === AMP || b[k] === CR) return prepared(raw);
  return raw;
}
