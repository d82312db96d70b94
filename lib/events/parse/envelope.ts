/**
 * The EventBridge envelope every event comes in, its bounds (so that a poison event is rejected
 * rather than crashing the handler), and what all the sources' parsers share: the zod check that
 * throws a `MalformedEventError`, the head of an event as it may be logged, and the result's
 * common fields.
 */
import * as z from 'zod';
import { formatFieldPath, zodProblems } from '../../errors';
import { CLOUDTRAIL_DETAIL_TYPE } from '../patterns';
import { MalformedEventError, type IgnoredEvent } from './types';

/**
 * Bounds on an event, so that a poison event is rejected instead of crashing the handler.
 * - `maxIdLength`: EventBridge ids are UUIDs (36 characters); the id is the ledger claim's
 *   partition key, which DynamoDB caps at 2,048 bytes
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html), and
 *   256 UTF-16 characters are at most 768 UTF-8 bytes.
 * - `maxBytes`: EventBridge's largest event is 256 KB
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html).
 * - `maxDepth`: nesting levels, the event itself being level 1. A CloudTrail record of RunInstances
 *   nests about a dozen; the bound keeps every walk over the event shallow.
 */
export const EVENT_LIMITS = { maxIdLength: 256, maxBytes: 256 * 1024, maxDepth: 64 } as const;

export const envelopeSchema = z
  .unknown()
  .superRefine((event, ctx) => {
    const problem = boundsProblem(event);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, path: [] });
  })
  // The shape is checked only within the bounds (a pipe stops at the first schema's issues).
  .pipe(
    z.looseObject({
      version: z.string(),
      id: z.string().min(1).max(EVENT_LIMITS.maxIdLength),
      'detail-type': z.string(),
      source: z.string(),
      account: z.string(),
      time: z.string(),
      region: z.string(),
      resources: z.array(z.string()),
      detail: z.looseObject({}),
    }),
  );
export type Envelope = z.infer<typeof envelopeSchema>;

/** A value met by boundsProblem's walk, and where: its parent and its key there. */
interface WalkNode {
  value: unknown;
  depth: number;
  parent: WalkNode | undefined;
  key: PropertyKey;
}

/**
 * Why an event is out of EVENT_LIMITS (nested too deep, too big), or undefined. Walks with an
 * explicit stack, so that an event nested thousands deep is measured without recursion, and stops
 * at the first bound crossed. The size is JSON's without escapes, strings counted in UTF-16
 * units: never more than EventBridge's own count, so no event it delivers is refused for it.
 */
function boundsProblem(event: unknown): string | undefined {
  const stack: WalkNode[] = [{ value: event, depth: 1, parent: undefined, key: '' }];
  let size = 0;
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    const { value, depth } = node;
    if (typeof value === 'string') size += value.length + 2;
    else if (typeof value !== 'object' || value === null) size += String(value).length;
    else {
      if (depth > EVENT_LIMITS.maxDepth) return `nested deeper than ${EVENT_LIMITS.maxDepth} levels (at ${pathOf(node)})`;
      // An array's indexes are not listed: a long one stops the loop at the size bound.
      const keys = Array.isArray(value) ? undefined : Object.keys(value);
      const length = keys === undefined ? (value as unknown[]).length : keys.length;
      size += 2;
      for (let i = 0; i < length && size <= EVENT_LIMITS.maxBytes; i++) {
        const key: PropertyKey = keys === undefined ? i : (keys[i] as string);
        // A comma, and for an object member its quoted key and colon.
        size += 1 + (typeof key === 'string' ? key.length + 3 : 0);
        stack.push({ value: (value as Record<PropertyKey, unknown>)[key], depth: depth + 1, parent: node, key });
      }
    }
    if (size > EVENT_LIMITS.maxBytes) return `larger than ${EVENT_LIMITS.maxBytes} bytes, EventBridge's largest event`;
  }
  return undefined;
}

/** Where a node of boundsProblem's walk is, for a message: its first segments, each clipped. */
function pathOf(node: WalkNode): string {
  const segments: PropertyKey[] = [];
  for (let n: WalkNode | undefined = node; n?.parent !== undefined; n = n.parent) segments.push(n.key);
  segments.reverse();
  const shown = formatFieldPath(segments.slice(0, 8).map((k) => (typeof k === 'string' ? clip(k, 32) : k)));
  return segments.length > 8 ? `${shown}…` : shown;
}

/** A string of the event as it may be put in a message or a log line: at most `max` characters. */
export function clip(text: string, max = 128): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

export function where(envelope: Envelope): { eventId: string; time: string; region: string; account: string } {
  return { eventId: envelope.id, time: envelope.time, region: envelope.region, account: envelope.account };
}

export function ignored(envelope: Envelope, reason: string): IgnoredEvent {
  return { type: 'ignored', eventId: envelope.id, reason };
}

export interface Head {
  detailType: string | undefined;
  id: string | undefined;
}

/** detail-type and id for error messages, read before (and whether or not) the envelope is valid; clipped. */
export function peekHead(event: unknown): Head {
  const { id, 'detail-type': detailType } = eventHead(event);
  return { detailType, id: id === '' ? undefined : id };
}

/** The fields of an event that may be logged: its head, clipped, and nothing it carries besides. */
export interface EventHead {
  id?: string;
  source?: string;
  'detail-type'?: string;
  account?: string;
  region?: string;
  time?: string;
  /** CloudTrail records only. */
  eventName?: string;
  errorCode?: string;
}

/**
 * The head fields of any event, valid or not, for a log line: id, source, detail-type, account,
 * region, time and, for a CloudTrail record, eventName and errorCode — strings only, each
 * clipped. Never the rest: a CloudTrail record carries access key ids and source IPs, and a
 * poison event may be too deep or too big to log.
 */
export function eventHead(event: unknown): EventHead {
  const head: Record<string, string> = {};
  const copy = (from: unknown, keys: readonly string[]): void => {
    if (typeof from !== 'object' || from === null || Array.isArray(from)) return;
    for (const key of keys) {
      const v = (from as Record<string, unknown>)[key];
      if (typeof v === 'string') head[key] = clip(v);
    }
  };
  copy(event, ['id', 'source', 'detail-type', 'account', 'region', 'time']);
  if (head['detail-type'] === CLOUDTRAIL_DETAIL_TYPE) copy((event as { detail?: unknown }).detail, ['eventName', 'errorCode']);
  return head;
}

export function headOf(envelope: Envelope): Head {
  return { detailType: envelope['detail-type'], id: envelope.id };
}

export function check<S extends z.ZodType>(schema: S, value: unknown, at: readonly PropertyKey[], head: Head): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new MalformedEventError(
    head.detailType,
    head.id,
    // A path names keys of the event (a record's): clipped like everything else of it that is shown.
    zodProblems(result.error, { prefix: at }).map((p) => ({ path: clip(p.field, 256), problem: p.problem })),
    { cause: result.error },
  );
}
