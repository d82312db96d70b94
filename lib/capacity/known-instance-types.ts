/**
 * The bundled offline copy of EC2 instance-type limits (`data/instance-types.compact.json`, made by
 * `scripts/import-instance-types.ts` from `aws ec2 describe-instance-types`). Used where the live
 * API is not at hand: the CLI's `max-pods` for all known types, and tests.
 */
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { decodeInstanceType, type CompactType } from './compact';

let known: ReadonlyMap<string, InstanceTypeInfo> | undefined;

/**
 * Every instance type in the bundled data, by name (`m5.large` → its `InstanceTypeInfo`, trimmed to
 * the fields lib/capacity/instance-type.ts reads). Loaded on first call, then the same map is
 * returned: a cold start that never needs it does not pay for decoding it.
 */
export function knownInstanceTypes(): ReadonlyMap<string, InstanceTypeInfo> {
  if (!known) {
    // A require (not an import) keeps the load lazy; esbuild still bundles the JSON file.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const data = require('./data/instance-types.compact.json') as { types?: CompactType[] };
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
