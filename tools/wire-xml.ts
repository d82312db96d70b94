/**
 * A fast writer of query-protocol XML bodies for the wire emulator: the rules of @aws-sdk/core's
 * XmlShapeSerializer (element names, list wrappers and items, empty elements, escaping, date-time
 * timestamps), compiled once per output schema into plain string building, without the SDK's
 * XmlNode tree (which made the emulator ~10x slower than the function it serves at 100,000 nodes).
 * A schema using anything else (maps, attributes, namespaces, blobs, unions…) is not compiled: the
 * caller falls back to the SDK's serializer. test/wire/wire.test.ts checks both write the same bytes.
 */
import { NormalizedSchema } from '@smithy/core/schema';

/** Writes the members of a structure (the body inside its root element). */
export type MembersWriter = (value: Record<string, unknown>) => string;

class Unsupported extends Error {}

/** XmlText's escaping (@aws-sdk/xml-builder escapeElement): the same characters, the same entities. */
const ESCAPE_RE = /[&"'<>\r\n\u0085\u2028]/g;
const ESCAPES: Record<string, string> = { '&': '&amp;', '"': '&quot;', "'": '&apos;', '<': '&lt;', '>': '&gt;', '\r': '&#x0D;', '\n': '&#x0A;', '\u0085': '&#x85;', '\u2028': '&#x2028;' };
const escape = (s: string): string => s.replace(ESCAPE_RE, (ch) => ESCAPES[ch] ?? ch);

/** A timestamp as the emulator holds it (Date, epoch seconds or ISO text), as a Date. */
const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(typeof v === 'number' ? v * 1000 : String(v)));

type ValueWriter = (v: unknown) => string;

function simpleText(ns: NormalizedSchema): ValueWriter {
  const traits = ns.getMergedTraits() as Record<string, unknown>;
  if (traits['xmlNamespace'] || ns.isIdempotencyToken()) throw new Unsupported();
  if (ns.isTimestampSchema()) {
    // Date-time (5) unless the schema says otherwise (XmlShapeSerializer with { useTrait: true, default: 5 }).
    const format = ns.getSchema() === 7 ? 7 : ns.getSchema() === 6 ? 6 : 5;
    if (format === 6) throw new Unsupported();
    return format === 7 ? (v) => String(toDate(v).getTime() / 1000) : (v) => toDate(v).toISOString().replace('.000Z', 'Z');
  }
  if (ns.isBlobSchema() || ns.isBigDecimalSchema() || ns.isBigIntegerSchema() || ns.isDocumentSchema()) throw new Unsupported();
  if (ns.isBooleanSchema() || ns.isNumericSchema() || ns.isStringSchema()) return (v) => escape(String(v));
  throw new Unsupported();
}

function compileMembers(ns: NormalizedSchema, cache: Map<unknown, MembersWriter>): MembersWriter {
  const key = ns.getSchema();
  const known = cache.get(key);
  if (known) return known;
  if (!ns.isStructSchema() || ns.isUnionSchema()) throw new Unsupported();
  const parts: { name: string; write: (v: unknown) => string }[] = [];
  // Set before compiling the members: a recursive shape reuses it.
  const writer: MembersWriter = (value) => {
    let out = '';
    for (const p of parts) {
      const v = value[p.name];
      if (v != null) out += p.write(v);
    }
    return out;
  };
  cache.set(key, writer);
  for (const [memberName, member] of ns.structIterator()) {
    const traits = member.getMergedTraits() as Record<string, unknown>;
    if (traits['xmlAttribute'] || traits['xmlNamespace'] || member.isIdempotencyToken() || member.isMapSchema()) throw new Unsupported();
    if (member.isListSchema()) {
      const item = member.getValueSchema();
      const itemTraits = item.getMergedTraits() as Record<string, unknown>;
      if (item.isListSchema() || item.isMapSchema() || itemTraits['xmlNamespace']) throw new Unsupported();
      const flat = !!traits['xmlFlattened'];
      const sparse = !!itemTraits['sparse'];
      const listTag = (traits['xmlName'] as string | undefined) ?? memberName;
      const itemTag = flat ? listTag : ((itemTraits['xmlName'] as string | undefined) ?? 'member');
      let writeItem: (v: unknown) => string;
      if (item.isStructSchema()) {
        const inner = compileMembers(item, cache);
        writeItem = (v) => {
          const body = inner(v as Record<string, unknown>);
          return body ? `<${itemTag}>${body}</${itemTag}>` : `<${itemTag}/>`;
        };
      } else {
        const text = simpleText(item);
        writeItem = (v) => `<${itemTag}>${text(v)}</${itemTag}>`;
      }
      const items = (list: unknown[]): string => {
        let out = '';
        for (const v of list) if (sparse || v != null) out += writeItem(v);
        return out;
      };
      parts.push({
        name: memberName,
        write: flat
          ? (v) => items(v as unknown[])
          : (v) => {
              const body = items(v as unknown[]);
              return body ? `<${listTag}>${body}</${listTag}>` : `<${listTag}/>`;
            },
      });
    } else if (member.isStructSchema()) {
      const tag = ((member.getMemberTraits() as Record<string, unknown>)['xmlName'] as string | undefined) ?? memberName;
      const inner = compileMembers(member, cache);
      parts.push({
        name: memberName,
        write: (v) => {
          const body = inner(v as Record<string, unknown>);
          return body ? `<${tag}>${body}</${tag}>` : `<${tag}/>`;
        },
      });
    } else {
      const tag = (traits['xmlName'] as string | undefined) ?? memberName;
      const text = simpleText(member);
      parts.push({ name: memberName, write: (v) => `<${tag}>${text(v)}</${tag}>` });
    }
  }
  return writer;
}

/** The members writer of an output schema, or undefined when it uses what this writer does not do. */
export function compileXmlMembers(outputSchema: unknown): MembersWriter | undefined {
  try {
    return compileMembers(NormalizedSchema.of(outputSchema as never), new Map());
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}
