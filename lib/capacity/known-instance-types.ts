/**
 * The bundled offline copy of EC2 instance-type limits (`data/instance-types.json`, made by
 * `scripts/import-instance-types.ts` from `aws ec2 describe-instance-types`). Used where the live
 * API is not at hand: the CLI's `max-pods` for all known types, and tests.
 */
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';

let known: ReadonlyMap<string, InstanceTypeInfo> | undefined;

/**
 * Every instance type in the bundled data, by name (`m5.large` → its `InstanceTypeInfo`, trimmed to
 * the fields lib/capacity/instance-type.ts reads). Loaded on first call, then the same map is
 * returned: a cold start that never needs it does not pay for parsing 0.6 MB of JSON.
 */
export function knownInstanceTypes(): ReadonlyMap<string, InstanceTypeInfo> {
  if (!known) {
    // A require (not an import) keeps the load lazy; esbuild still bundles the JSON file.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const data = require('./data/instance-types.json') as { InstanceTypes?: InstanceTypeInfo[] };
    if (!Array.isArray(data.InstanceTypes)) {
      throw new Error('lib/capacity/data/instance-types.json has no InstanceTypes array');
    }
    const byName = new Map<string, InstanceTypeInfo>();
    for (const info of data.InstanceTypes) {
      if (info.InstanceType) byName.set(info.InstanceType, info);
    }
    known = byName;
  }
  return known;
}
