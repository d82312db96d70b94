/**
 * Forecasts of the region-level limits: hours until the region's ENIs reach the
 * ENIs-per-Region quota, and until a VPC's Network Address Usage reaches its quota, from the
 * history of the metrics the stack publishes (`RegionEniCount`, `VpcNetworkAddressUsage`), read
 * through a {@link RegionHistoryReader} it is given. The arithmetic is the free-address forecast's
 * (lib/forecast/trend.ts) on the headroom: quota − used.
 */
import type { CycleDeadline } from '../deadline';
import type { Finding, Forecast } from '../diagnose/types';
import { messageOf } from '../errors';
import type { Usage } from '../measure/types';
import { forecastExhaustion, type Point } from './trend';

/** The history of the region-level metrics: the region's ENI count, and each VPC's NAU, oldest first. */
export interface RegionHistory {
  regionEnis: Point[];
  vpcs: Map<string, Point[]>;
}

/** Reads the region-level history (lib/aws/metric-history.ts `regionLimitsHistoryReader` on CloudWatch). */
export type RegionHistoryReader = (vpcIds: string[], window: { start: Date; end: Date; periodSeconds: number }) => Promise<RegionHistory>;

/** The headroom series: the limit less each used value. */
const headroom = (points: readonly Point[], limit: number): Point[] => points.map((p) => ({ t: p.t, value: limit - p.value }));

/** The forecast's summary speaks of IPs (the free-address forecast's unit): here it is ENIs or NAU units. */
const inUnits = (f: Forecast, unit: string): Forecast => ({ ...f, summary: f.summary.replace(/\bIPs\b/g, unit) });

/**
 * Puts a forecast on the eni-quota and network-address-usage findings, where history allows.
 * Without a reader, or with no such finding, nothing is read; a failed read is a problem.
 */
export async function forecastRegionLimits(
  read: RegionHistoryReader | undefined,
  usage: Usage,
  findings: Finding[],
  options: { now: Date; windowHours?: number; periodSeconds?: number; deadline?: CycleDeadline },
): Promise<{ findings: Finding[]; problems: string[] }> {
  const rl = usage.regionLimits;
  const concerned = findings.some((f) => f.kind === 'eni-quota' || f.kind === 'network-address-usage');
  if (!read || !rl || !concerned) return { findings, problems: [] };
  if (options.deadline?.passed()) return { findings, problems: ['no region-level forecast: the deadline had passed'] };
  const { now } = options;
  const hours = options.windowHours ?? 24;
  try {
    const history = await read(
      rl.vpcs.map((v) => v.vpcId),
      { start: new Date(now.getTime() - hours * 3_600_000), end: now, periodSeconds: options.periodSeconds ?? 300 },
    );
    // This sample is not published yet: it is the newest point of each series.
    const t = new Date(usage.collectedAt);
    const enis = rl.eniCount === undefined ? history.regionEnis : [...history.regionEnis, { t, value: rl.eniCount }];
    const eniForecast = rl.eniQuota ? inUnits(forecastExhaustion(headroom(enis, rl.eniQuota.value), now), 'ENIs') : undefined;
    const vpcForecasts = new Map<string, Forecast>();
    for (const v of rl.vpcs) {
      const points = [...(history.vpcs.get(v.vpcId) ?? []), ...(v.used === undefined ? [] : [{ t, value: v.used }])];
      vpcForecasts.set(v.vpcId, inUnits(forecastExhaustion(headroom(points, v.quota), now), 'units'));
    }
    return {
      findings: findings.map((f) => {
        const forecast = f.kind === 'eni-quota' ? eniForecast : f.kind === 'network-address-usage' ? vpcForecasts.get(f.subject.id) : undefined;
        return forecast ? { ...f, forecast } : f;
      }),
      problems: [],
    };
  } catch (err) {
    return { findings, problems: [`no region-level forecast: ${messageOf(err)}`] };
  }
}
