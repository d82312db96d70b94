import type { Forecast } from '../../lib/diagnose/types';
import { forecastsFor, type Forecasts } from '../../lib/forecast/forecast';
import { parseSubnetKey, subnetKey } from '../../lib/keys';
import { forecastMetricData } from '../../lib/output/publish/metrics';
import type { Point } from '../../lib/forecast/trend';

const NOW = new Date('2026-11-26T12:00:00Z');
const HOUR = 3_600_000;

/** A day of 5-minute samples ending at NOW. */
function day(f: (h: number) => number): Point[] {
  return Array.from({ length: 289 }, (_, i) => ({ t: new Date(NOW.getTime() - 24 * HOUR + i * 5 * 60_000), value: f(i / 12) }));
}

const forecast = (over: Partial<Forecast>): Forecast => ({ trend: 'none', samples: 289, spanHours: 24, summary: 'no trend over the last 24 h', ...over });

describe('forecastsFor', () => {
  it('forecasts every subnet and cluster series under its own key', () => {
    const history = {
      subnets: new Map([
        [subnetKey('prod', 'subnet-0a1b2c3d4e5f60718'), day((h) => 400 - 12 * h)],
        [subnetKey('prod', 'subnet-0fedcba9876543210'), day(() => 250)],
        [subnetKey('dev', 'subnet-0a1b2c3d4e5f60718'), []],
      ]),
      clusters: new Map([['prod', day((h) => 650 - 12 * h)]]),
    };

    const f = forecastsFor(history, NOW);

    expect([...f.subnets.keys()]).toEqual([...history.subnets.keys()]);
    expect(f.subnets.get('prod/subnet-0a1b2c3d4e5f60718')).toMatchObject({ trend: 'decreasing', summary: 'runs out in about 9 h (\u221212 IPs/h over the last 24 h)' });
    expect(f.subnets.get('prod/subnet-0fedcba9876543210')).toMatchObject({ trend: 'none' });
    expect(f.subnets.get('dev/subnet-0a1b2c3d4e5f60718')).toMatchObject({ trend: 'none', summary: 'not enough history (0 samples over 0 h)' });
    expect(f.clusters.get('prod')).toMatchObject({ trend: 'decreasing' });
    expect(f.clusters.get('prod')?.hoursToExhaustion).toBeCloseTo(362 / 12, 5); // 362 free at the end, at −12 IPs/h
  });

  it('passes the options on', () => {
    const history = { subnets: new Map(), clusters: new Map([['prod', day((h) => 650 - 12 * h)]]) };
    expect(forecastsFor(history, NOW, { minSamples: 1000 }).clusters.get('prod')?.trend).toBe('none');
  });
});

describe('forecastMetricData', () => {
  it('publishes hours to exhaustion for decreasing forecasts only, in hours with unit None', () => {
    const forecasts: Forecasts = {
      subnets: new Map([
        ['prod/subnet-0a1b2c3d4e5f60718', forecast({ trend: 'decreasing', hoursToExhaustion: 9.3333, slopePerHour: -12 })],
        ['prod/subnet-0fedcba9876543210', forecast({ trend: 'none' })],
        ['prod/subnet-0123456789abcdef0', forecast({ trend: 'increasing', slopePerHour: 3 })],
      ]),
      clusters: new Map([
        ['prod', forecast({ trend: 'decreasing', hoursToExhaustion: 168, slopePerHour: -0.5 })],
        ['dev', forecast({ trend: 'none' })],
      ]),
    };

    expect(forecastMetricData(forecasts, NOW)).toEqual([
      {
        MetricName: 'SubnetHoursToExhaustion',
        Value: 9.3,
        Unit: 'None',
        Timestamp: NOW,
        Dimensions: [
          { Name: 'ClusterName', Value: 'prod' },
          { Name: 'SubnetId', Value: 'subnet-0a1b2c3d4e5f60718' },
        ],
      },
      {
        MetricName: 'ClusterHoursToExhaustion',
        Value: 168,
        Unit: 'None',
        Timestamp: NOW,
        Dimensions: [{ Name: 'ClusterName', Value: 'prod' }],
      },
    ]);
  });

  it('publishes 0 hours for a subnet already out', () => {
    const forecasts: Forecasts = {
      subnets: new Map([['prod/subnet-0a1b2c3d4e5f60718', forecast({ trend: 'decreasing', hoursToExhaustion: 0, slopePerHour: -12 })]]),
      clusters: new Map(),
    };
    expect(forecastMetricData(forecasts, NOW).map((d) => d.Value)).toEqual([0]);
  });

  it('publishes nothing without a decline', () => {
    expect(forecastMetricData({ subnets: new Map(), clusters: new Map([['prod', forecast({})]]) }, NOW)).toEqual([]);
  });
});

describe('subnet keys', () => {
  it('round-trips cluster name and subnet id', () => {
    expect(parseSubnetKey(subnetKey('prod-eu_1', 'subnet-0a1b2c3d4e5f60718'))).toEqual({ clusterName: 'prod-eu_1', subnetId: 'subnet-0a1b2c3d4e5f60718' });
  });

  it.each(['prod', '/subnet-1', 'prod/'])('rejects %p', (key) => {
    expect(() => parseSubnetKey(key)).toThrow(/not a subnet key/);
  });
});
