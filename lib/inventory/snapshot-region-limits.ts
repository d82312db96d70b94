/**
 * The region-level reads of a snapshot, from optional files shaped like the AWS
 * CLI's output (docs/snapshots.md, "Region-level limits"):
 * - `service-quotas/get-service-quota-vpc-L-DF5E4CA3.json` (`aws service-quotas get-service-quota
 *   --service-code vpc --quota-code L-DF5E4CA3`), else `get-aws-default-service-quota-vpc-L-DF5E4CA3.json`;
 * - `ec2/describe-network-interfaces-region.json` (`aws ec2 describe-network-interfaces`, no filter),
 *   else the VPC file's ENIs (the NAU count only: the region count is then unknown);
 * - `cloudwatch/network-address-usage-<vpc>.json` and `network-address-usage-peered-<vpc>.json`
 *   (`aws cloudwatch get-metric-statistics --namespace AWS/EC2 --metric-name NetworkAddressUsage
 *   --dimensions Name="Per-VPC Metrics",Value=<vpc> --statistics Maximum ...`).
 * A snapshot with none of them has no region-level section (it was not captured).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { ENI_QUOTA, regionEniOf } from './region-limits';
import { SnapshotError, snapshotIssues } from './snapshot-schemas';
import type { NauMetricReading, NetworkInterface, QuotaReading, RegionEni, RegionLimitsSource } from './types';

export const regionLimitsPaths = {
  appliedQuota: `service-quotas/get-service-quota-${ENI_QUOTA.serviceCode}-${ENI_QUOTA.quotaCode}.json`,
  defaultQuota: `service-quotas/get-aws-default-service-quota-${ENI_QUOTA.serviceCode}-${ENI_QUOTA.quotaCode}.json`,
  regionNetworkInterfaces: 'ec2/describe-network-interfaces-region.json',
  nau: (vpcId: string): string => `cloudwatch/network-address-usage-${vpcId}.json`,
  nauPeered: (vpcId: string): string => `cloudwatch/network-address-usage-peered-${vpcId}.json`,
} as const;

const quotaSchema = z.looseObject({ Quota: z.looseObject({ Value: z.number() }) });
const enisSchema = z.looseObject({ NetworkInterfaces: z.array(z.looseObject({ NetworkInterfaceId: z.string() })) });
const statisticsSchema = z.looseObject({ Datapoints: z.array(z.looseObject({ Timestamp: z.string(), Maximum: z.number() })) });

async function readOptional<S extends z.ZodType>(dir: string, file: string, schema: S): Promise<z.output<S> | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, ...file.split('/')), 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new SnapshotError(file, { detail: `cannot be read: ${(err as Error).message}` }, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (err) {
    throw new SnapshotError(file, { detail: `malformed JSON: ${(err as Error).message}` }, { cause: err });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new SnapshotError(file, snapshotIssues(parsed.error, []));
  return parsed.data;
}

async function exists(dir: string, file: string): Promise<boolean> {
  try {
    await fs.access(path.join(dir, ...file.split('/')));
    return true;
  } catch {
    return false;
  }
}

/** Whether the snapshot captured the region-level reads (either quota file or the region's ENIs). */
export async function hasRegionLimits(dir: string): Promise<boolean> {
  const files = [regionLimitsPaths.appliedQuota, regionLimitsPaths.defaultQuota, regionLimitsPaths.regionNetworkInterfaces];
  return (await Promise.all(files.map((f) => exists(dir, f)))).some(Boolean);
}

/** The region-level reads over a snapshot directory; `vpcEnis` reads the VPC file's ENIs (the fallback). */
export class SnapshotRegionLimits implements RegionLimitsSource {
  constructor(
    private readonly dir: string,
    private readonly vpcEnis: () => Promise<NetworkInterface[]>,
  ) {}

  async eniQuota(): Promise<QuotaReading> {
    const base = { serviceCode: ENI_QUOTA.serviceCode, quotaCode: ENI_QUOTA.quotaCode };
    const applied = await readOptional(this.dir, regionLimitsPaths.appliedQuota, quotaSchema);
    if (applied) return { ...base, value: applied.Quota.Value, source: 'applied' };
    const byDefault = await readOptional(this.dir, regionLimitsPaths.defaultQuota, quotaSchema);
    if (byDefault) return { ...base, value: byDefault.Quota.Value, source: 'aws-default' };
    throw new SnapshotError(regionLimitsPaths.appliedQuota, {
      detail: `file is missing (make it with: aws service-quotas get-service-quota --service-code ${ENI_QUOTA.serviceCode} --quota-code ${ENI_QUOTA.quotaCode})`,
    });
  }

  async regionNetworkInterfaces(vpcIds: string[]): Promise<{ scope: 'region' | 'vpcs'; enis: RegionEni[] }> {
    const region = await readOptional(this.dir, regionLimitsPaths.regionNetworkInterfaces, enisSchema);
    if (region) return { scope: 'region', enis: region.NetworkInterfaces.map((ni) => regionEniOf(ni as NetworkInterface)) };
    const wanted = new Set(vpcIds);
    return { scope: 'vpcs', enis: (await this.vpcEnis()).filter((ni) => wanted.has(ni.VpcId ?? '')).map(regionEniOf) };
  }

  async networkAddressUsageMetrics(vpcIds: string[]): Promise<NauMetricReading[]> {
    const latest = (file: { Datapoints: { Timestamp: string; Maximum: number }[] } | undefined) =>
      [...(file?.Datapoints ?? [])].sort((a, b) => b.Timestamp.localeCompare(a.Timestamp))[0];
    return Promise.all(
      vpcIds.map(async (vpcId) => {
        const u = latest(await readOptional(this.dir, regionLimitsPaths.nau(vpcId), statisticsSchema));
        const p = latest(await readOptional(this.dir, regionLimitsPaths.nauPeered(vpcId), statisticsSchema));
        const t = [u?.Timestamp, p?.Timestamp].filter((x): x is string => x !== undefined).sort().reverse()[0];
        return {
          vpcId,
          ...(u ? { networkAddressUsage: u.Maximum } : {}),
          ...(p ? { networkAddressUsagePeered: p.Maximum } : {}),
          ...(t ? { timestamp: t } : {}),
        };
      }),
    );
  }
}
