/** Forecasts of the region-level limits (issue 13): the headroom to the ENI quota and to a VPC's NAU quota. */
import { regionLimitsHistoryReader } from '../../lib/aws/metric-history';
import type { Finding } from '../../lib/diagnose/types';
import { forecastRegionLimits, type RegionHistory } from '../../lib/forecast/region-limits';
import type { Point } from '../../lib/forecast/trend';
import type { Usage } from '../../lib/measure/types';
import { emulateAccount } from '../../tools/mock-aws';
import { generateAccount } from '../../tools/synthetic-account';

const NOW = new Date('2026-11-26T12:00:00Z');
const HOUR = 3_600_000;

/** Hourly points over the last `hours`, rising by `perHour` to `last`. */
const rising = (hours: number, last: number, perHour: number): Point[] =>
  Array.from({ length: hours }, (_, i) => ({ t: new Date(NOW.getTime() - (hours - i) * HOUR), value: last - perHour * (hours - i) }));

const usage = {
  region: 'eu-west-1',
  collectedAt: NOW.toISOString(),
  clusters: [{ name: 'a' }],
  failedClusters: [],
  unknownInstanceTypes: [],
  regionLimits: {
    eniQuota: { serviceCode: 'vpc', quotaCode: 'L-DF5E4CA3', value: 5000, source: 'applied' },
    eniCount: 4600,
    vpcs: [{ vpcId: 'vpc-1', clusters: ['a'], used: 56000, quota: 64000, peeredQuota: 128000 }],
    problems: [],
  },
} as unknown as Usage;

const finding = (kind: Finding['kind'], id: string): Finding =>
  ({ id: `a/${kind}/${id}`, cluster: 'a', kind, severity: 'critical', subject: { type: kind === 'eni-quota' ? 'region' : 'vpc', id }, title: '', evidence: {}, evidenceText: [], fixes: [] }) as Finding;

describe('forecastRegionLimits', () => {
  it('forecasts the hours until the region reaches the ENI quota and the VPC its NAU quota', async () => {
    const history: RegionHistory = { regionEnis: rising(24, 4590, 20), vpcs: new Map([['vpc-1', rising(24, 55900, 100)]]) };
    const out = await forecastRegionLimits(async () => history, usage, [finding('eni-quota', 'eu-west-1'), finding('network-address-usage', 'vpc-1')], { now: NOW });
    const [eni, nau] = out.findings;
    expect(eni?.forecast?.trend).toBe('decreasing');
    // 400 ENIs left at about 20 an hour: about 20 hours.
    expect(eni?.forecast?.hoursToExhaustion).toBeGreaterThan(15);
    expect(eni?.forecast?.hoursToExhaustion).toBeLessThan(25);
    expect(eni?.forecast?.summary).toMatch(/ENIs\/h/);
    expect(nau?.forecast?.trend).toBe('decreasing');
    expect(nau?.forecast?.summary).toMatch(/units\/h/);
    expect(out.problems).toEqual([]);
  });

  it('reads nothing without a quota finding, and names a failed read as a problem', async () => {
    let calls = 0;
    const reader = async (): Promise<RegionHistory> => {
      calls++;
      throw new Error('AccessDenied');
    };
    expect(await forecastRegionLimits(reader, usage, [], { now: NOW })).toEqual({ findings: [], problems: [] });
    expect(calls).toBe(0);
    const failed = await forecastRegionLimits(reader, usage, [finding('eni-quota', 'eu-west-1')], { now: NOW });
    expect(failed.problems).toEqual(['no region-level forecast: AccessDenied']);
    expect(failed.findings[0]?.forecast).toBeUndefined();
  });

  it('reads the published RegionEniCount and VpcNetworkAddressUsage history from CloudWatch in one call', async () => {
    const aws = emulateAccount(generateAccount({ clusters: 1, nodes: 2, subnetsPerCluster: 1, seed: 1 }));
    try {
      aws.history.set('RegionEniCount', rising(3, 100, 1));
      aws.history.set('VpcNetworkAddressUsage/vpc-1', rising(3, 900, 10));
      const read = regionLimitsHistoryReader(aws.cloudwatch, 'Test/IP');
      const h = await read(['vpc-1', 'vpc-2'], { start: new Date(NOW.getTime() - 24 * HOUR), end: NOW, periodSeconds: 300 });
      expect(h.regionEnis.map((p) => p.value)).toEqual([97, 98, 99]);
      expect(h.vpcs.get('vpc-1')?.map((p) => p.value)).toEqual([870, 880, 890]);
      expect(h.vpcs.get('vpc-2')).toEqual([]);
      expect(aws.calls['GetMetricData']).toBe(1);
    } finally {
      aws.restore();
    }
  });
});
