/**
 * The bundled offline copy of EC2 instance-type limits (`data/instance-types.compact.json`, made by
 * `scripts/import-instance-types.ts` from `aws ec2 describe-instance-types`), bundled packed
 * (`data/instance-types.packed.ts`: 7 KB instead of 84). Used where the live API is not at hand:
 * the CLI's `max-pods` for all known types, and tests.
 */
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { decodeInstanceType, type CompactType } from './compact';
import { unpackText } from './packed';

let known: ReadonlyMap<string, InstanceTypeInfo> | undefined;

/**
 * Every instance type in the bundled data, by name (`m5.large` → its `InstanceTypeInfo`, trimmed to
 * the fields lib/capacity/instance-type.ts reads). Loaded on first call, then the same map is
 * returned: a cold start that never needs it does not pay for decoding it.
 */
export function knownInstanceTypes(): ReadonlyMap<string, InstanceTypeInfo> {
  if (!known) {
    // A require (not an import) keeps the load lazy; esbuild still bundles the packed module.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PACKED_INSTANCE_TYPES } = require('./data/instance-types.packed') as { PACKED_INSTANCE_TYPES: string };
    const data = JSON.parse(unpackText(PACKED_INSTANCE_TYPES)) as { types?: CompactType[] };
    if (!Array.isArray(data.types)) {
      throw new Error('lib/capacity/data/instance-types.compact.json has no types array');
    }
    const byName = new Map<string, InstanceTypeInfo>();
    for (const c of data.types) {
      const info = decodeInstanceType(c);
      if (info.InstanceType) byName.set(info.InstanceType, info);
    }
    known = byName;
  }
  return known;
}

/** Edit distance with adjacent transpositions (optimal string alignment), for name suggestions. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * cols + j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known instance type names closest to `name` (case-insensitive), best first, at most `limit`:
 * those within a few edits (`m5.larg`, `m5.lrage`, `m7.large`), else, when the family is known
 * (`m5.huge`), the family's sizes closest in spelling. Empty when nothing is close.
 */
export function closestInstanceTypes(name: string, limit = 3, known: Iterable<string> = knownInstanceTypes().keys()): string[] {
  const wanted = name.trim().toLowerCase();
  const names = [...known];
  const maxEdits = Math.max(2, Math.ceil(wanted.length / 4));
  // Ties go to the name sharing the longer start with what was typed (`m7.large`: m7a, m7g and m7i
  // before m1 or m3), then alphabetical.
  const shared = (n: string): number => {
    let i = 0;
    while (i < n.length && n[i] === wanted[i]) i++;
    return i;
  };
  const byDistance = (candidates: string[], of: (n: string) => string, target: string): { name: string; d: number }[] =>
    candidates
      .map((n) => ({ name: n, d: editDistance(target, of(n)) }))
      .sort((x, y) => x.d - y.d || shared(y.name) - shared(x.name) || x.name.localeCompare(y.name));
  const close = byDistance(names, (n) => n, wanted).filter((x) => x.d <= maxEdits);
  if (close.length > 0) return close.slice(0, limit).map((x) => x.name);
  const dot = wanted.indexOf('.');
  if (dot <= 0) return [];
  const family = wanted.slice(0, dot + 1);
  const sizes = names.filter((n) => n.startsWith(family));
  return byDistance(sizes, (n) => n.slice(family.length), wanted.slice(family.length))
    .slice(0, limit)
    .map((x) => x.name);
}
