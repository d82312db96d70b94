/**
 * The emulated account (mock-aws.ts accountApi) served over HTTP in the services' own wire
 * formats (EC2 ec2Query, SNS awsQuery, EKS restJson1, CloudWatch awsJson1_0, Service Quotas
 * awsJson1_1), so that an
 * unmodified client — the deployed bundle, with AWS_ENDPOINT_URL pointing here — runs its real
 * serialisers, HTTP stack and deserialisers. test/wire/wire.test.ts proves the round trip.
 *
 * Design: docs/development.md#toolswirets-the-emulated-account-over-http
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { JsonCodec2, XmlShapeSerializer } from '@aws-sdk/core/protocols';
import { NormalizedSchema } from '@smithy/core/schema';
import { listenLocal, type LocalServer } from './local-server';
import { compileXmlMembers, type MembersWriter } from './wire-xml';
import type { AccountApi, ClientKind, EmulatedOperation } from './mock-aws';

/** What a command instance carries: [9, namespace, name, traits, input schema, output schema]. */
type OperationTuple = [number, string, string, { http?: [string, string, number] }, unknown, unknown];

const SERVICE_OF_SCOPE: Record<string, ClientKind> = { ec2: 'ec2', eks: 'eks', monitoring: 'cloudwatch', sns: 'sns', servicequotas: 'servicequotas' };
const XMLNS: Record<string, string> = {
  ec2: 'http://ec2.amazonaws.com/doc/2016-11-15/',
  sns: 'http://sns.amazonaws.com/doc/2010-03-31/',
};

function operationSchema(op: EmulatedOperation): OperationTuple {
  const Command = op.command as unknown as new (input: object) => { schema: OperationTuple };
  return new Command({}).schema;
}

/** A serialiser's output as text (JsonCodec2 flushes bytes). */
const text = (flushed: string | Uint8Array): string =>
  typeof flushed === 'string' ? flushed : Buffer.from(flushed.buffer, flushed.byteOffset, flushed.byteLength).toString('utf8');

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Decodes a query-protocol request (`Filter.1.Name=…&Filter.1.Value.1=…`) into the operation's
 * input, walking its schema with the key rules of @aws-sdk/core's QueryShapeSerializer
 * (ec2: ec2QueryName, else the capitalised member name, every list flattened; awsQuery: the
 * member name, lists under `.member.N`, maps under `.entry.N.key|value`).
 */
export function decodeQuery(inputSchema: unknown, params: URLSearchParams, ec2: boolean): Record<string, unknown> {
  const values = new Map<string, string>();
  const prefixes = new Set<string>();
  for (const [k, v] of params) {
    values.set(k, v);
    const parts = k.split('.');
    for (let i = 1; i <= parts.length; i++) prefixes.add(parts.slice(0, i).join('.'));
  }
  const keyOf = (memberName: string, traits: Record<string, unknown>, struct: boolean): string => {
    if (ec2 && typeof traits['ec2QueryName'] === 'string') return traits['ec2QueryName'];
    const key = typeof traits['xmlName'] === 'string' ? traits['xmlName'] : memberName;
    return ec2 && struct ? capitalize(key) : key;
  };
  const join = (prefix: string, key: string): string => (prefix ? `${prefix}.${key}` : key);
  const read = (ns: NormalizedSchema, at: string): unknown => {
    if (ns.isStructSchema()) {
      const out: Record<string, unknown> = {};
      for (const [name, member] of ns.structIterator()) {
        const key = join(at, keyOf(name, member.getMergedTraits() as Record<string, unknown>, true));
        if (prefixes.has(key)) out[name] = read(member, key);
      }
      return out;
    }
    if (ns.isListSchema()) {
      const item = ns.getValueSchema();
      const flat = ec2 || !!ns.getMergedTraits().xmlFlattened;
      const base = flat ? at : join(at, keyOf('member', item.getMergedTraits() as Record<string, unknown>, false));
      const out: unknown[] = [];
      for (let i = 1; prefixes.has(`${base}.${i}`); i++) out.push(read(item, `${base}.${i}`));
      return out;
    }
    if (ns.isMapSchema()) {
      const flat = !!ns.getMergedTraits().xmlFlattened;
      const keyName = keyOf('key', ns.getKeySchema().getMergedTraits() as Record<string, unknown>, false);
      const valueName = keyOf('value', ns.getValueSchema().getMergedTraits() as Record<string, unknown>, false);
      const out: Record<string, unknown> = {};
      for (let i = 1; ; i++) {
        const entry = flat ? `${at}.${i}` : `${at}.entry.${i}`;
        if (!prefixes.has(entry)) break;
        out[String(values.get(`${entry}.${keyName}`))] = read(ns.getValueSchema(), `${entry}.${valueName}`);
      }
      return out;
    }
    const raw = values.get(at) ?? '';
    if (ns.isBooleanSchema()) return raw === 'true';
    if (ns.isNumericSchema()) return Number(raw);
    if (ns.isTimestampSchema()) return ns.getSchema() === 7 ? new Date(Number(raw) * 1000) : new Date(raw);
    if (ns.isBlobSchema()) return Buffer.from(raw, 'base64');
    return raw;
  };
  return read(NormalizedSchema.of(inputSchema as never), '') as Record<string, unknown>;
}

/** The members of the output as XmlShapeSerializer writes them (date-time timestamps), without the root element. */
function sdkXmlMembers(outputSchema: unknown, output: unknown, kind: 'ec2' | 'sns'): string {
  const serializer = new XmlShapeSerializer({ serviceNamespace: kind, timestampFormat: { useTrait: true, default: 5 }, xmlNamespace: XMLNS[kind] ?? '' });
  serializer.write(outputSchema as never, output);
  // The serializer names the root after the output structure; the services name it after the operation.
  const whole = text(serializer.flush());
  return /^<[^>]*\/>$/.test(whole) ? '' : whole.replace(/^<[^\s>]+[^>]*>/, '').replace(/<\/[^>]+>$/, '');
}

/** The output as the service writes it: `<root xmlns=…>members…</root>`. */
function xmlBody(inner: string, kind: 'ec2' | 'sns', op: string, requestId: string): string {
  return kind === 'ec2'
    ? `<?xml version="1.0" encoding="UTF-8"?>\n<${op}Response xmlns="${XMLNS.ec2}"><requestId>${requestId}</requestId>${inner}</${op}Response>`
    : `<${op}Response xmlns="${XMLNS.sns}"><${op}Result>${inner}</${op}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${op}Response>`;
}

/**
 * The emulator's answer with every timestamp a Date, as the serialisers require (accounts
 * loaded from AWS CLI JSON hold ISO strings where the SDK gives Dates).
 */
function withDates(ns: NormalizedSchema, value: unknown): unknown {
  if (value == null) return value;
  if (ns.isTimestampSchema()) return value instanceof Date ? value : new Date(typeof value === 'number' ? value * 1000 : String(value));
  if (ns.isListSchema() && Array.isArray(value)) return value.map((v) => withDates(ns.getValueSchema(), v));
  if (ns.isMapSchema() && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withDates(ns.getValueSchema(), v)]));
  }
  if (ns.isStructSchema() && typeof value === 'object') {
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const [name, member] of ns.structIterator()) if (out[name] != null) out[name] = withDates(member, out[name]);
    return out;
  }
  return value;
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Decoded {
  op: EmulatedOperation;
  name: string;
  input: Record<string, unknown>;
}

/** The server: its endpoint is the clients' (AWS_ENDPOINT_URL). */
export interface WireServer extends LocalServer {
  /** Requests served (of which gzip-encoded), and the request and response bytes (after gunzip for requests), in all and by service. */
  stats: {
    requests: number;
    gzipped: number;
    requestBytes: number;
    responseBytes: number;
    responseBytesBy: Partial<Record<ClientKind, number>>;
    /** XML answers written by tools/wire-xml.ts's compiled writers (the others by the SDK's serializer). */
    fastXml: number;
    /** With verifyXml: the operations whose fast and SDK bodies differed. */
    xmlMismatches: string[];
  };
}

/** A response as sent: its service, operation (empty when unknown), status and body. */
export interface WireResponse {
  kind: ClientKind | undefined;
  op: string;
  status: number;
  body: Buffer;
  /** When the request's body had arrived and how long the answer took to build (ms, performance.now()). */
  receivedAt?: number;
  serveMs?: number;
}

export interface WireServerOptions {
  /** Called with every response body as sent (the bench records the cycle's EC2 XML to measure its parse floor). */
  onResponse?: (r: WireResponse) => void;
  /**
   * Also writes every XML answer with the SDK's XmlShapeSerializer and counts in `stats.xmlMismatches`
   * each one tools/wire-xml.ts wrote differently (the tests; slow).
   */
  verifyXml?: boolean;
}

/** Serves `api` on a free port of 127.0.0.1. */
export async function startWireServer(api: AccountApi, options: WireServerOptions = {}): Promise<WireServer> {
  const byKind = new Map<ClientKind, Map<string, { name: string; op: EmulatedOperation; schema: OperationTuple }>>();
  const eksRoutes: { method: string; pattern: RegExp; labels: string[]; name: string }[] = [];
  for (const [name, op] of api.operations) {
    const schema = operationSchema(op);
    const list = byKind.get(op.kind) ?? new Map<string, { name: string; op: EmulatedOperation; schema: OperationTuple }>();
    list.set(name, { name, op, schema });
    byKind.set(op.kind, list);
    const http = schema[3].http;
    if (op.kind === 'eks' && http) {
      const labels: string[] = [];
      const path = http[1].split('?')[0] ?? '';
      const pattern = new RegExp(`^${path.replace(/\{(\w+)\+?\}/g, (_, label: string) => (labels.push(label), '([^/]+)'))}$`);
      eksRoutes.push({ method: http[0], pattern, labels, name });
    }
  }
  const json = (jsonName: boolean) => new JsonCodec2({ timestampFormat: { useTrait: true, default: 7 }, jsonName });
  const restJson = json(true);
  const awsJson = json(false);
  const stats: WireServer['stats'] = { requests: 0, gzipped: 0, requestBytes: 0, responseBytes: 0, responseBytesBy: {}, fastXml: 0, xmlMismatches: [] };
  const xmlWriters = new Map<string, MembersWriter | undefined>();
  const xmlWriterOf = (name: string, outputSchema: unknown): MembersWriter | undefined => {
    if (!xmlWriters.has(name)) xmlWriters.set(name, compileXmlMembers(outputSchema));
    return xmlWriters.get(name);
  };
  let requestIds = 0;

  const find = (kind: ClientKind, name: string) => {
    const found = byKind.get(kind)?.get(name);
    if (!found) throw Object.assign(new Error(`the emulator does not answer ${kind} ${name}`), { name: 'UnknownOperationException' });
    return found;
  };

  async function decode(kind: ClientKind, req: IncomingMessage, url: URL, body: string): Promise<Decoded & { schema: OperationTuple }> {
    if (kind === 'ec2' || kind === 'sns') {
      const params = new URLSearchParams(body);
      const name = params.get('Action') ?? '';
      const found = find(kind, name);
      return { ...found, input: decodeQuery(found.schema[4], params, kind === 'ec2') };
    }
    // awsJson1_0 (CloudWatch) and awsJson1_1 (Service Quotas: X-Amz-Target
    // ServiceQuotasV20190624.<Operation>, @aws-sdk/client-service-quotas): the operation is the target's suffix.
    if (kind === 'cloudwatch' || kind === 'servicequotas') {
      const name = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
      const found = find(kind, name);
      const deserializer = awsJson.createDeserializer();
      const input = body ? ((await deserializer.read(found.schema[4] as never, body)) as Record<string, unknown>) : {};
      return { ...found, input };
    }
    for (const route of eksRoutes) {
      const m = route.method === req.method ? route.pattern.exec(url.pathname) : null;
      if (!m) continue;
      const found = find('eks', route.name);
      const input: Record<string, unknown> = body ? ((await restJson.createDeserializer().read(found.schema[4] as never, body)) as Record<string, unknown>) : {};
      route.labels.forEach((label, i) => (input[label] = decodeURIComponent(m[i + 1] ?? '')));
      for (const [member, ns] of NormalizedSchema.of(found.schema[4] as never).structIterator()) {
        const q = ns.getMergedTraits().httpQuery;
        if (typeof q !== 'string' || !url.searchParams.has(q)) continue;
        input[member] = ns.isListSchema() ? url.searchParams.getAll(q) : ns.isNumericSchema() ? Number(url.searchParams.get(q)) : url.searchParams.get(q);
      }
      return { ...found, input };
    }
    throw Object.assign(new Error(`no EKS operation for ${req.method} ${url.pathname}`), { name: 'UnknownOperationException' });
  }

  function encode(kind: ClientKind, d: Decoded & { schema: OperationTuple }, output: unknown, requestId: string): { status: number; headers: Record<string, string>; body: string } {
    const { $metadata: _ignored, ...answer } = (output ?? {}) as Record<string, unknown>;
    if (kind === 'ec2' || kind === 'sns') {
      const fast = xmlWriterOf(`${kind} ${d.name}`, d.schema[5]);
      let inner: string;
      if (fast) {
        // The compiled writer takes timestamps as Dates, epoch seconds or ISO text (no withDates copy).
        inner = fast(answer);
        stats.fastXml++;
        if (options.verifyXml && inner !== sdkXmlMembers(d.schema[5], withDates(NormalizedSchema.of(d.schema[5] as never), answer), kind)) stats.xmlMismatches.push(`${kind} ${d.name}`);
      } else {
        inner = sdkXmlMembers(d.schema[5], withDates(NormalizedSchema.of(d.schema[5] as never), answer), kind);
      }
      return { status: 200, headers: { 'content-type': 'text/xml;charset=UTF-8' }, body: xmlBody(inner, kind, d.name, requestId) };
    }
    const data = withDates(NormalizedSchema.of(d.schema[5] as never), answer);
    const codec = kind === 'eks' ? restJson : awsJson;
    const serializer = codec.createSerializer();
    serializer.write(d.schema[5] as never, data);
    const contentType = kind === 'eks' ? 'application/json' : kind === 'servicequotas' ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0';
    return { status: d.schema[3].http?.[2] ?? 200, headers: { 'content-type': contentType }, body: text(serializer.flush()) };
  }

  function encodeError(kind: ClientKind, err: unknown, requestId: string): { status: number; headers: Record<string, string>; body: string } {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $fault?: string };
    const code = e.name ?? 'InternalFailure';
    const message = e.message ?? String(err);
    // An error without a status is the caller's (400): the SDK would retry a 5xx, and the wire
    // run would then make more calls than the same fault through the mocks.
    const status = e.$metadata?.httpStatusCode ?? (e.$fault === 'server' ? 500 : 400);
    if (kind === 'ec2') {
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
      return { status, headers: { 'content-type': 'text/xml;charset=UTF-8' }, body };
    }
    if (kind === 'sns') {
      const type = e.$fault === 'server' ? 'Receiver' : 'Sender';
      const body = `<ErrorResponse xmlns="${XMLNS.sns}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      return { status, headers: { 'content-type': 'text/xml' }, body };
    }
    if (kind === 'eks') {
      return { status, headers: { 'content-type': 'application/json', 'x-amzn-errortype': code }, body: JSON.stringify({ message }) };
    }
    return { status, headers: { 'content-type': kind === 'servicequotas' ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0' }, body: JSON.stringify({ __type: code, message }) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let raw = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') {
      raw = gunzipSync(raw);
      stats.gzipped++;
    }
    const body = raw.toString('utf8');
    const receivedAt = performance.now();
    stats.requests++;
    stats.requestBytes += raw.length;
    const requestId = `00000000-0000-4000-8000-${String(++requestIds).padStart(12, '0')}`;
    const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization ?? ''));
    const kind = SERVICE_OF_SCOPE[scope?.[1] ?? ''];
    let reply: { status: number; headers: Record<string, string>; body: string };
    // For the recording: the operation, or for an unknown service its credential scope.
    let op = kind ? '' : `(credential scope ${scope?.[1] ?? 'unsigned'})`;
    if (!kind) {
      reply = { status: 400, headers: { 'content-type': 'text/plain' }, body: `no emulated service for credential scope ${scope?.[1] ?? '(unsigned)'}` };
    } else {
      try {
        const d = await decode(kind, req, new URL(req.url ?? '/', 'http://localhost'), body);
        op = d.name;
        reply = encode(kind, d, await d.op.answer(d.input), requestId);
      } catch (err) {
        reply = encodeError(kind, err, requestId);
      }
    }
    const bytes = Buffer.from(reply.body, 'utf8');
    stats.responseBytes += bytes.length;
    if (kind) stats.responseBytesBy[kind] = (stats.responseBytesBy[kind] ?? 0) + bytes.length;
    options.onResponse?.({ kind, op, status: reply.status, body: bytes, receivedAt, serveMs: performance.now() - receivedAt });
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(bytes.length), 'x-amzn-requestid': requestId });
    res.end(bytes);
  }

  const server: Server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`wire server: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  return { ...(await listenLocal(server)), stats };
}
