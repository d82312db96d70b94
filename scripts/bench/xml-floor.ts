/**
 * The floor of the deployed cycle's EC2 reads: the XML bodies the wire server sent during one
 * cycle (recorded by scripts/bench/lambda-memory.ts), tokenised once by fast streaming parsers
 * (saxes; htmlparser2 in xmlMode), each counting elements and text so the work stays. For
 * information, the SDK's own XML parse (@aws-sdk/xml-builder parseXML) and its whole EC2
 * deserialiser (AwsEc2QueryProtocol's XmlShapeDeserializer: parse and schema walk into objects)
 * of the same bodies. Each in a child `node --expose-gc`, fastest of 5 rounds (CPU ms), as the
 * JSON.parse floor (scripts/bench/cycle-child.ts).
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './build';
import type { ResponseRecording } from './lambda-memory';

export interface XmlFloorFigures {
  /** Bytes and pages by API ("ec2 DescribeNetworkInterfaces"…), every response of the cycle. */
  byApi: { api: string; kind: string; pages: number; bytes: number }[];
  /** The EC2 XML measured: pages and bytes. */
  xmlPages: number;
  xmlBytes: number;
  /** CPU ms of each round, by parser; `elements` is what the parser counted (the same in every round). */
  parsers: { name: string; roundsMs: number[]; elements: number }[];
  /** JSON.parse of the JSON answers (EKS, CloudWatch) of the same cycle, fastest of 5 (information). */
  json: { pages: number; bytes: number; roundsMs: number[] };
}

/** The child: plain JS, resolving packages from the project (ROOT). */
const CHILD = String.raw`
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const [root, file, indexFile] = process.argv.slice(2);
const req = createRequire(root + '/package.json');
const { SaxesParser } = req('saxes');
const { parseXML } = req('@aws-sdk/xml-builder');
const { AwsEc2QueryProtocol } = req('@aws-sdk/core/protocols');
const ec2 = req('@aws-sdk/client-ec2');
const all = readFileSync(file);
const index = JSON.parse(readFileSync(indexFile, 'utf8'));
const xml = index.filter((e) => e.kind === 'ec2' && e.status < 300);
const texts = xml.map((e) => all.toString('utf8', e.offset, e.offset + e.length));
const bytes = xml.map((e) => new Uint8Array(all.buffer, all.byteOffset + e.offset, e.length));
const jsonTexts = index.filter((e) => e.kind === 'eks' || e.kind === 'cloudwatch').filter((e) => e.length > 0)
  .map((e) => all.toString('utf8', e.offset, e.offset + e.length));
const cpu = (f) => { global.gc(); global.gc(); const c0 = process.cpuUsage(); const n = f(); const c = process.cpuUsage(c0); return [(c.user + c.system) / 1000, n]; };
const rounds = (f) => { const ms = []; let n = 0; for (let r = 0; r < 5; r++) { const [m, k] = cpu(f); ms.push(m); n = k; } return { roundsMs: ms, elements: n }; };
(async () => {
  const { Parser } = await import(req.resolve('htmlparser2'));
  // The EC2 client's protocol, as its runtime config builds it (client-ec2 dist-cjs).
  const protocol = new AwsEc2QueryProtocol({ defaultNamespace: 'com.amazonaws.ec2', xmlNamespace: 'http://ec2.amazonaws.com/doc/2016-11-15/', version: '2016-11-15' });
  const schemas = xml.map((e) => new ec2[e.op + 'Command']({}).schema[5]);
  const parsers = [
    ['saxes (streaming, tokenise)', () => {
      let n = 0, t = 0;
      for (const s of texts) {
        const p = new SaxesParser();
        p.on('opentag', () => n++);
        p.on('text', (x) => (t += x.length));
        p.write(s).close();
      }
      globalThis.textChars = t;
      return n;
    }],
    ['htmlparser2 xmlMode (streaming, tokenise)', () => {
      let n = 0, t = 0;
      for (const s of texts) {
        const p = new Parser({ onopentagname: () => n++, ontext: (x) => (t += x.length) }, { xmlMode: true });
        p.write(s);
        p.end();
      }
      globalThis.textChars = t;
      return n;
    }],
    ['SDK parseXML (@aws-sdk/xml-builder, to a tree)', () => {
      let n = 0;
      for (const s of texts) n += Object.keys(parseXML(s)).length;
      return n;
    }],
    ['SDK EC2 deserialise (parse + schema to objects)', () => {
      let n = 0;
      for (let i = 0; i < bytes.length; i++) n += Object.keys(protocol.deserializer.read(schemas[i], bytes[i])).length;
      return n;
    }],
  ];
  const out = parsers.map(([name, f]) => ({ name, ...rounds(f) }));
  const json = rounds(() => { let n = 0; for (const s of jsonTexts) n += JSON.parse(s) ? 1 : 0; return n; });
  process.send({ parsers: out, json: { pages: jsonTexts.length, bytes: jsonTexts.reduce((s, x) => s + Buffer.byteLength(x), 0), roundsMs: json.roundsMs } }, () => process.exit(0));
})().catch((err) => process.send({ error: String(err && err.stack || err) }, () => process.exit(1)));
`;

/** Measures the floor of the bodies in `recording` in a fresh `node --expose-gc`. */
export async function measureXmlFloor(recording: ResponseRecording, workDir: string): Promise<XmlFloorFigures> {
  const byApi = new Map<string, { api: string; kind: string; pages: number; bytes: number }>();
  for (const e of recording.entries) {
    const api = `${e.kind || '?'} ${e.op || '?'}${e.status >= 300 ? ` (${e.status})` : ''}`;
    const row = byApi.get(api) ?? { api, kind: e.kind, pages: 0, bytes: 0 };
    row.pages++;
    row.bytes += e.length;
    byApi.set(api, row);
  }
  const xml = recording.entries.filter((e) => e.kind === 'ec2' && e.status < 300);
  const child = path.join(workDir, 'xml-floor-child.js');
  const indexFile = `${recording.file}.json`;
  writeFileSync(child, CHILD);
  writeFileSync(indexFile, JSON.stringify(recording.entries));
  const msg = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const p = fork(child, [ROOT, recording.file, indexFile], { execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let got: Record<string, unknown> | undefined;
    p.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    p.on('message', (m) => (got = m as Record<string, unknown>));
    p.on('exit', (code) => (got && typeof got['error'] !== 'string' ? resolve(got) : reject(new Error(`xml floor child exited ${code}: ${String(got?.['error'] ?? stderr)}`))));
  });
  return {
    byApi: [...byApi.values()].sort((a, b) => b.bytes - a.bytes),
    xmlPages: xml.length,
    xmlBytes: xml.reduce((s, e) => s + e.length, 0),
    parsers: msg['parsers'] as XmlFloorFigures['parsers'],
    json: msg['json'] as XmlFloorFigures['json'],
  };
}

/** The floor: the fastest round of the fastest streaming tokeniser (the least the XML can cost to read). */
export function xmlFloorMs(f: XmlFloorFigures): number {
  return Math.min(...f.parsers.filter((p) => p.name.includes('streaming')).flatMap((p) => p.roundsMs));
}
