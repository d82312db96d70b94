/**
 * The bench's page arithmetic (scripts/bench/ultra-shape.ts) against the live source's real reads:
 * the "reads <= pages + a constant per cluster" target of `npm run bench -- --ultra` is only as
 * good as these pages.
 */
import { LiveSource } from '../../lib/aws/live-source';
import { collectInventory } from '../../lib/inventory/collect';
import { expectedPages, maxInWindow } from '../../scripts/bench/ultra-shape';
import { emulateAccount } from '../../tools/mock-aws';
import { generateAccount } from '../../tools/synthetic-account';
import { useTestHarness } from '../support/harness';

const harness = useTestHarness();

describe('expectedPages', () => {
  it("counts the pages the live source reads: ENIs by subnet batch, instances by cluster tag, one reservation read a subnet", async () => {
    // 2 clusters of 225 subnets (2 filter batches of 200 each), ~3,000 ENIs each.
    const account = generateAccount({ clusters: 2, nodes: 2000, subnetsPerCluster: 225, seed: 7, enisPerNode: 4, instanceTypes: ['m5.xlarge', 'c6g.2xlarge'] });
    const e = expectedPages(account);
    const aws = emulateAccount(account, { instancesOnly: true });
    harness.track(aws);
    const now = new Date(account.capturedAt);
    await collectInventory(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, account.region, 'measured'), { clusterNames: [], concurrency: 4, now });
    expect(aws.calls['DescribeInstances']).toBe(e.instancePages);
    expect(aws.calls['GetSubnetCidrReservations']).toBe(e.reservationPages);
    expect(e.reservationPages).toBe(450);
    // An upper bound whatever the grouping of subnets into batches, and not a loose one.
    expect(aws.calls['DescribeNetworkInterfaces']).toBeLessThanOrEqual(e.clusterEniPages);
    expect(aws.calls['DescribeNetworkInterfaces']).toBeGreaterThanOrEqual(e.clusterEniPages - 2 * e.clusters);
    expect(e.enis).toBe(account.networkInterfaces.length);
    expect(e.regionEniPages).toBe(1 + Math.ceil(account.networkInterfaces.length / 1000) + e.regionEniLanes! - 1);
    expect(e.regionEniLanes).toBe(4);
  });

  it("counts the region's ENI read too: its first page, then its subnets in lanes", async () => {
    // One cluster of 12 subnets and ~8,000 ENIs: lanes for the cluster and for the region.
    const account = { ...generateAccount({ clusters: 1, nodes: 2000, subnetsPerCluster: 12, seed: 9, enisPerNode: 4, instanceTypes: ['m5.xlarge', 'c6g.2xlarge'] }), quotas: { 'vpc/L-DF5E4CA3': { awsDefault: 100_000 } } };
    const e = expectedPages(account);
    const aws = emulateAccount(account, { instancesOnly: true });
    harness.track(aws);
    const source = new LiveSource({ ec2: aws.ec2, eks: aws.eks, serviceQuotas: aws.serviceQuotas, cloudwatch: aws.cloudwatch }, account.region, 'measured');
    const inventory = await collectInventory(source, { clusterNames: [], concurrency: 4, now: new Date(account.capturedAt) });
    expect(inventory.regionLimits?.networkInterfaces).toHaveLength(account.networkInterfaces.length);
    expect(e.clusterEniLanes).toEqual([4]);
    expect(e.regionEniLanes).toBe(4);
    const dni = aws.calls['DescribeNetworkInterfaces']!;
    expect(dni).toBeLessThanOrEqual(e.clusterEniPages + e.regionEniPages);
    expect(dni).toBeGreaterThanOrEqual(e.clusterEniPages + e.regionEniPages - e.clusterEniLanes![0]! - e.regionEniLanes!);
  });
});

describe('maxInWindow', () => {
  it('finds the most arrivals in any window of one second, whatever their order', () => {
    expect(maxInWindow([])).toBe(0);
    expect(maxInWindow([1500, 0, 999, 100, 1000])).toBe(3);
    expect(maxInWindow([0, 1000, 2000])).toBe(1);
    expect(maxInWindow([0, 999.9, 999.95])).toBe(3);
  });
});
