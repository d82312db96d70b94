/** eni-quota and network-address-usage: thresholds, severity, evidence of where the quota came from. */
import { diagnoseRegionLimits } from '../../lib/diagnose/region-limits';
import type { Inventory } from '../../lib/inventory/types';
import type { RegionLimitsUsage, VpcAddressUsage } from '../../lib/measure/region-limits';
import type { Usage } from '../../lib/measure/types';

const inv = { region: 'eu-west-1' } as Inventory;
const usageOf = (rl: RegionLimitsUsage, clusters = ['a', 'b']): Usage =>
  ({ region: 'eu-west-1', collectedAt: '', clusters: clusters.map((name) => ({ name })), failedClusters: [], unknownInstanceTypes: [], regionLimits: rl }) as unknown as Usage;
const quota = (value: number, source: 'applied' | 'aws-default' | 'documented-default' = 'applied') => ({ serviceCode: 'vpc', quotaCode: 'L-DF5E4CA3', value, source });
const vpc = (over: Partial<VpcAddressUsage>): VpcAddressUsage => ({ vpcId: 'vpc-1', clusters: ['a'], quota: 64000, peeredQuota: 128000, ...over });

describe('eni-quota', () => {
  it.each([
    [3999, undefined],
    [4000, 'warning'],
    [4499, 'warning'],
    [4500, 'critical'],
    [5200, 'critical'],
  ])('%i of 5,000 ENIs: %s', (eniCount, severity) => {
    const found = diagnoseRegionLimits(usageOf({ eniQuota: quota(5000), eniCount, vpcs: [], problems: [] }), inv);
    expect(found.map((f) => f.severity)).toEqual(severity ? [severity, severity] : []);
  });

  it('one finding per cluster of the region, saying where the quota value came from', () => {
    const found = diagnoseRegionLimits(usageOf({ eniQuota: quota(5000, 'documented-default'), eniCount: 4800, vpcs: [], problems: [] }), inv);
    expect(found.map((f) => f.id)).toEqual(['a/eni-quota/eu-west-1', 'b/eni-quota/eu-west-1']);
    expect(found[0]?.evidence).toMatchObject({ eniQuotaSource: 'documented-default', regionEnis: 4800, enisLeft: 200 });
    expect(found[0]?.evidenceText[0]).toContain('the documented default (the quota could not be read)');
    expect(found[0]?.fixes[0]).toContain('--quota-code L-DF5E4CA3');
  });

  it('no finding when the region count is unknown', () => {
    expect(diagnoseRegionLimits(usageOf({ eniQuota: quota(10), vpcs: [], problems: [] }), inv)).toEqual([]);
  });
});

describe('network-address-usage', () => {
  it.each([
    [50000, undefined, undefined],
    [52000, undefined, 'warning'],
    [58000, undefined, 'critical'],
    [10000, 104000, 'warning'],
    [10000, 120000, 'critical'],
  ])('used %i, peered %s: %s', (used, metricPeered, severity) => {
    const v = vpc({ used, usedFrom: 'count', counted: used, ...(metricPeered !== undefined ? { metricPeered, metric: used } : {}) });
    const found = diagnoseRegionLimits(usageOf({ vpcs: [v], problems: [] }), inv);
    expect(found.map((f) => f.severity)).toEqual(severity ? [severity] : []);
  });

  it('names the clusters of the VPC only, and tells to turn the metrics on when they are off', () => {
    const found = diagnoseRegionLimits(usageOf({ vpcs: [vpc({ clusters: ['b'], used: 60000, counted: 60000, usedFrom: 'count' })], problems: [] }), inv);
    expect(found.map((f) => f.cluster)).toEqual(['b']);
    expect(found[0]?.subject).toEqual({ type: 'vpc', id: 'vpc-1' });
    expect(found[0]?.fixes.join('\n')).toContain('--enable-network-address-usage-metrics');
  });
});
