/**
 * A small streaming XML reader that builds only what a shape asks for, straight from a body's
 * chunks: elements, text, the five entities and numeric references, CDATA, comments and the
 * declaration; attributes are read past (EC2 answers carry only xmlns). Anything not in the shape
 * is skipped without being built. Malformed or truncated XML throws an XmlStreamError: a partial
 * page is never returned as if complete. Design: docs/architecture.md "Ultra scale: streaming EC2 parse".
 */
import { StringDecoder } from 'node:string_decoder';

/** A leaf's type: string, number or boolean (as the SDK reads them: Number(text), text.toLowerCase() === 'true'). */
export type Leaf = 's' | 'n' | 'b';

/** An element with children: which child elements to read, under which key, and what it becomes once closed. */
export interface Shape {
  readonly fields: ReadonlyMap<string, Field>;
  /** What the element's record becomes once closed (e.g. trimNetworkInterface); by default the record. */
  readonly finish?: (record: Record<string, unknown>) => unknown;
}

/** A child element: a leaf, a structure, or a list of `<item>` structures. */
export type Field = { key: string; leaf: Leaf } | { key: string; struct: Shape } | { key: string; list: Shape };

/** The XML was malformed, truncated or not the expected answer. */
export class XmlStreamError extends Error {
  override readonly name = 'XmlStreamError';
}

/** A shape from `[element, key, leaf | shape | [shape]]` rows. */
export function shape(rows: [string, string, Leaf | Shape | [Shape]][], finish?: Shape['finish']): Shape {
  const fields = new Map<string, Field>();
  for (const [element, key, type] of rows) {
    fields.set(element, typeof type === 'string' ? { key, leaf: type } : Array.isArray(type) ? { key, list: type[0] } : { key, struct: type });
  }
  return finish ? { fields, finish } : { fields };
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

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;
const allSpace = (s: string, from = 0, to = s.length): boolean => {
  for (let i = from; i < to; i++) if (!isSpace(s.charCodeAt(i))) return false;
  return true;
};

/**
 * Reads one XML document whose root element is `root` into the record `shape` describes, from
 * its chunks (Buffers or strings, UTF-8). Throws an XmlStreamError for malformed, truncated or
 * other XML.
 */
export async function readXml(chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, root: string, rootShape: Shape): Promise<Record<string, unknown>> {
  // Lenient, as the SDK's own read (Buffer.toString): an invalid byte becomes U+FFFD.
  const decoder = new StringDecoder('utf8');
  const out: Record<string, unknown> = {};
  // The open elements: names, and per depth what is built (kind, record or list, shape, key in the parent).
  const names: string[] = [];
  const kinds: number[] = [];
  const targets: unknown[] = [];
  const shapes: (Shape | undefined)[] = [];
  const keys: string[] = [];
  let depth = 0;
  let skip = 0; // > 0: inside an element the shape does not ask for (its depth below it)
  let leafType: Leaf = 's';
  let leafText = '';
  let rootSeen = false;
  let rootClosed = false;
  let rest = '';
  const interned = new Map<number, string>();
  const skipTags = new Map<string, [string, string]>();

  const open = (name: string): void => {
    if (rootClosed) throw new XmlStreamError(`element <${name}> after the root element`);
    names[depth++] = name;
    if (skip > 0) return void skip++;
    if (depth === 1) {
      if (name !== root) throw new XmlStreamError(`expected a <${root}> document, got <${name}>`);
      rootSeen = true;
      kinds[0] = STRUCT;
      targets[0] = out;
      shapes[0] = rootShape;
      return;
    }
    const d = depth - 1;
    const parent = kinds[d - 1];
    if (parent === STRUCT) {
      const field = shapes[d - 1]!.fields.get(name);
      if (!field) return void (skip = 1);
      keys[d] = field.key;
      if ('leaf' in field) {
        kinds[d] = LEAF;
        leafType = field.leaf;
        leafText = '';
      } else if ('struct' in field) {
        kinds[d] = STRUCT;
        targets[d] = {};
        shapes[d] = field.struct;
      } else {
        kinds[d] = LIST;
        targets[d] = [];
        shapes[d] = field.list;
      }
    } else if (parent === LIST && name === 'item') {
      kinds[d] = STRUCT;
      targets[d] = {};
      shapes[d] = shapes[d - 1];
    } else skip = 1;
  };

  /** Closes the innermost open element (its end tag checked by the caller). */
  const close = (): void => {
    const d = --depth;
    if (skip > 0) return void skip--;
    let value: unknown;
    if (kinds[d] === LEAF) {
      const t = leafText;
      const text = t.length > 0 && isSpace(t.charCodeAt(0)) && allSpace(t) && t.includes('\n') ? '' : t;
      value = leafType === 's' ? own(text) : leafType === 'n' ? Number(text) : text === 'true' || (text.length === 4 && text.toLowerCase() === 'true');
    } else {
      value = targets[d];
      const finish = kinds[d] === STRUCT ? shapes[d]!.finish : undefined;
      if (finish) value = finish(value as Record<string, unknown>);
      targets[d] = undefined;
    }
    if (d === 0) return void (rootClosed = true);
    if (kinds[d - 1] === LIST) (targets[d - 1] as unknown[]).push(value);
    else (targets[d - 1] as Record<string, unknown>)[keys[d]!] = value;
  };

  /** The text s[from, to): kept when a leaf the shape reads is open; outside the root, only white space. */
  const text = (s: string, from: number, to: number, raw = false): void => {
    if (skip === 0 && depth > 0 && kinds[depth - 1] === LEAF) leafText += raw ? s.slice(from, to) : prepared(s.slice(from, to));
    else if (depth === 0 && !allSpace(s, from, to)) throw new XmlStreamError(`text outside the root element: "${s.slice(from, Math.min(to, from + 20))}"`);
  };

  /** Reads the complete tokens of `s`; returns where the incomplete one at its end (if any) starts. */
  const scan = (s: string): number => {
    let i = 0;
    for (;;) {
      const lt = s.indexOf('<', i);
      if (lt === -1) return i; // text that may go on in the next chunk
      if (lt > i) text(s, i, lt);
      const c = s.charCodeAt(lt + 1);
      if (c === 47 /* / */) {
        // Most end tags are exactly the open element's: `</name>`.
        const open = depth > 0 ? names[depth - 1]! : '';
        const after = lt + 2 + open.length;
        if (depth > 0 && s.charCodeAt(after) === 62 && s.startsWith(open, lt + 2)) {
          close();
          i = after + 1;
          continue;
        }
        const gt = s.indexOf('>', lt);
        if (gt === -1) return lt;
        if (depth === 0 || !s.startsWith(open, lt + 2) || !allSpace(s, lt + 2 + open.length, gt)) {
          const name = s.slice(lt + 2, gt).trim();
          throw new XmlStreamError(depth === 0 ? `closing tag </${name}> without an open element` : `mismatched tags <${open}> and </${name}>`);
        }
        close();
        i = gt + 1;
      } else if (c === 63 /* ? */) {
        const end = s.indexOf('?>', lt);
        if (end === -1) return lt;
        i = end + 2;
      } else if (c === 33 /* ! */) {
        if (s.startsWith('<!--', lt)) {
          const end = s.indexOf('-->', lt + 4);
          if (end === -1) return lt;
          i = end + 3;
        } else if (s.startsWith('<![CDATA[', lt)) {
          const end = s.indexOf(']]>', lt + 9);
          if (end === -1) return lt;
          text(s, lt + 9, end, true);
          i = end + 3;
        } else if (s.length < lt + 9) return lt;
        else throw new XmlStreamError(`unsupported markup "${s.slice(lt, lt + 12)}"`);
      } else {
        let j = lt + 1;
        let hash = 0;
        let x = c;
        while (x === x && x !== 62 && x !== 47 && !isSpace(x)) {
          hash = (Math.imul(hash, 31) + x) | 0;
          x = s.charCodeAt(++j);
        }
        // Most start tags are `<name>`; else the tag ends at the next `>` (attributes read past).
        const gt = x === 62 ? j : s.indexOf('>', j);
        if (gt === -1) return lt;
        if (j === lt + 1) throw new XmlStreamError(`malformed tag "${s.slice(lt, Math.min(gt + 1, lt + 20))}"`);
        // The few element names of an answer, interned: no string per tag.
        let name = interned.get(hash);
        if (name === undefined || name.length !== j - lt - 1 || !s.startsWith(name, lt + 1)) {
          name = own(s.slice(lt + 1, j));
          if (!interned.has(hash)) interned.set(hash, name);
        }
        open(name);
        i = gt + 1;
        if (s.charCodeAt(gt - 1) === 47) close();
        else if (skip === 1) {
          // An element not read: straight to its end tag when it is in this chunk and holds no
          // element of its own name; else its tokens are read one by one.
          let tags = skipTags.get(name);
          if (!tags) skipTags.set(name, (tags = [`<${name}`, `</${name}>`]));
          const end = s.indexOf(tags[1], i);
          // Backwards from the end tag, the first `<name` is this element's own start tag unless another is nested.
          if (end !== -1 && s.lastIndexOf(tags[0], end) === lt) {
            depth--;
            skip = 0;
            i = end + tags[1].length;
          }
        }
      }
    }
  };

  const feed = (chunk: string): void => {
    let s = chunk;
    if (rest !== '') {
      // The token cut at the boundary, completed up to the chunk's first `>`; the chunk itself is
      // then read without being copied into one string with the rest.
      const q = chunk.indexOf('>') + 1;
      const head = rest + chunk.slice(0, q);
      const done = q > 0 ? scan(head) : 0;
      s = done === head.length ? chunk.slice(q) : head.slice(done) + chunk.slice(q);
    }
    rest = s.slice(scan(s));
  };

  for await (const chunk of chunks) feed(typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
  feed(decoder.end());
  if (!rest.includes('<')) text(rest, 0, rest.length); // trailing text (an unfinished tag is reported below)
  if (!rootSeen) throw new XmlStreamError(`truncated: no <${root}> element`);
  if (!rootClosed || rest.includes('<')) throw new XmlStreamError(`truncated: the answer ends inside <${names[Math.max(0, depth - 1)] ?? root}>`);
  return out;
}

/**
 * A copy of `t` that holds nothing else: V8 makes a slice of 13 characters or more a view that
 * keeps its whole parent (here the body's chunk) alive; slicing a concatenation flattens it
 * into a string of its own first.
 */
function own(t: string): string {
  return t.length < 13 ? t : (t + ' ').slice(0, -1);
}

/** A text run as the SDK reads it (@aws-sdk/xml-builder parseXML): line ends normalised, then entities decoded. */
function prepared(raw: string): string {
  const t = raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw;
  return t.includes('&') ? decode(t) : t;
}
