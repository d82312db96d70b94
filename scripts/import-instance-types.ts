/**
 * Produces lib/capacity/data/instance-types.compact.json, the bundled offline copy of EC2 instance-type
 * network limits, from the output of `aws ec2 describe-instance-types` (all pages merged into one
 * `{"InstanceTypes":[...]}` document).
 *
 *   npx tsx scripts/import-instance-types.ts <describe-instance-types.json> [<out.json>]
 *
 * The output keeps the API's own shape, trimmed to the fields lib/capacity/instance-type.ts reads,
 * sorted by InstanceType and minified. JSON `null`s (what the AWS CLI prints for an absent
 * Hypervisor on bare metal) are dropped, so the loaded objects look like what the SDK returns.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { encodeInstanceType } from '../lib/capacity/compact';
import { resolve } from 'node:path';

const DEFAULT_OUT = resolve(__dirname, '../lib/capacity/data/instance-types.compact.json');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Which fields to keep: `true` keeps the value as is, an object keeps those sub-fields (of each element, for arrays). */
interface FieldSpec {
  [key: string]: true | FieldSpec;
}

const FIELDS: FieldSpec = {
  InstanceType: true,
  CurrentGeneration: true,
  Hypervisor: true,
  BareMetal: true,
  ProcessorInfo: { SupportedArchitectures: true },
  VCpuInfo: { DefaultVCpus: true },
  MemoryInfo: { SizeInMiB: true },
  NetworkInfo: {
    MaximumNetworkInterfaces: true,
    Ipv4AddressesPerInterface: true,
    MaximumNetworkCards: true,
    DefaultNetworkCardIndex: true,
    NetworkCards: { NetworkCardIndex: true, MaximumNetworkInterfaces: true },
    EfaSupported: true,
  },
};

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pick(source: JsonObject, spec: FieldSpec): JsonObject {
  const out: JsonObject = {};
  for (const [key, sub] of Object.entries(spec)) {
    const value = source[key];
    if (value === undefined || value === null) continue;
    if (sub === true) {
      out[key] = value;
    } else if (Array.isArray(value)) {
      out[key] = value.filter(isObject).map((element) => pick(element, sub));
    } else if (isObject(value)) {
      out[key] = pick(value, sub);
    }
  }
  return out;
}

/** Trims a parsed describe-instance-types document; exported for reuse, the CLI below is the usual entry. */
export function trimInstanceTypes(document: unknown): { InstanceTypes: JsonObject[] } {
  const types = isObject(document as Json) ? (document as JsonObject).InstanceTypes : undefined;
  if (!Array.isArray(types)) {
    throw new Error('expected a describe-instance-types document: {"InstanceTypes":[...]}');
  }
  const trimmed = types.filter(isObject).map((info) => pick(info, FIELDS));
  const names = new Set<string>();
  for (const info of trimmed) {
    const name = info.InstanceType;
    if (typeof name !== 'string') throw new Error('an entry of InstanceTypes has no InstanceType');
    if (names.has(name)) throw new Error(`instance type ${name} appears twice`);
    names.add(name);
  }
  // Byte order, like `sort.Strings` in the generator of eni-max-pods.txt, so diffs stay stable.
  trimmed.sort((a, b) => (String(a.InstanceType) < String(b.InstanceType) ? -1 : 1));
  return { InstanceTypes: trimmed };
}

function main(argv: string[]): void {
  const [input, output = DEFAULT_OUT] = argv;
  if (!input) {
    console.error('usage: npx tsx scripts/import-instance-types.ts <describe-instance-types.json> [<out.json>]');
    process.exit(2);
  }
  const document: unknown = JSON.parse(readFileSync(input, 'utf8'));
  const trimmed = trimInstanceTypes(document);
  // One tuple per type (lib/capacity/compact.ts): the same facts, a fifth of the bundle size.
  const types = trimmed.InstanceTypes.map((t) => encodeInstanceType(t as InstanceTypeInfo));
  writeFileSync(output, `${JSON.stringify({ types })}\n`);
  console.log(`wrote ${trimmed.InstanceTypes.length} instance types to ${output}`);
}

if (require.main === module) {
  main(process.argv.slice(2));
}
