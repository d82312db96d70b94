/**
 * The number of AWS calls of one cycle grows with result pages, never with nodes or ENIs.
 * One full cycle runs against an emulated account that answers in real page sizes.
 */
import { LiveSource } from '../../lib/aws/live-source';
import { collectInventory } from '../../lib/inventory/collect';
import { emulateAccount } from '../../tools/mock-aws';
import { generateAccount } from '../../tools/synthetic-account';

async function cycleCalls(nodes: number) {
  const account = generateAccount({ clusters: 3, nodes, subnetsPerCluster: 6, seed: 11 });
  const aws = emulateAccount(account);
  try {
    const inventory = await collectInventory(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1'), {
      clusterNames: [],
      concurrency: 4,
      now: new Date('2026-11-26T12:00:00Z'),
    });
    expect(inventory.failedClusters).toEqual([]);
    expect(inventory.clusters.every((c) => c.problems.length === 0)).toBe(true);
    const enisByCluster = inventory.clusters.map((c) => c.networkInterfaces.length);
    const nodesByCluster = inventory.clusters.map((c) => c.instances.length);
    const nodegroups = Object.values(account.nodegroups).reduce((s, n) => s + n.length, 0);
    return { calls: { ...aws.calls }, total: aws.totalReadCalls(), enisByCluster, nodesByCluster, nodegroups, enis: account.networkInterfaces.length };
  } finally {
    aws.restore();
  }
}

describe('calls per cycle', () => {
  it('grows with pages of 1,000, not with nodes or ENIs', async () => {
    const small = await cycleCalls(300);
    const large = await cycleCalls(4500);
    expect(large.enis).toBeGreaterThan(10000);

    for (const r of [small, large]) {
      // Per cluster: DescribeCluster, ListNodegroups, DescribeAddon, and the CNI-discovery DescribeSubnets.
      expect(r.calls['DescribeCluster']).toBe(3);
      expect(r.calls['ListNodegroups']).toBe(3);
      expect(r.calls['DescribeAddon']).toBe(3);
      expect(r.calls['ListClusters']).toBe(1);
      // One DescribeNodegroup per nodegroup (EKS has no batch describe), never per node.
      expect(r.calls['DescribeNodegroup']).toBe(r.nodegroups);
      // Pages of at most 1,000: ceil(items / 1000) per cluster (at least one call each).
      const pages = (counts: number[]) => counts.reduce((s, n) => s + Math.max(1, Math.ceil(n / 1000)), 0);
      expect(r.calls['DescribeNetworkInterfaces']).toBe(pages(r.enisByCluster));
      expect(r.calls['DescribeInstances']).toBe(pages(r.nodesByCluster));
      // Instance types: one call for the whole account (fewer than 100 types).
      expect(r.calls['DescribeInstanceTypes']).toBe(1);
    }
    // 15x the nodes costs only the extra pages.
    const extraPages =
      large.calls['DescribeNetworkInterfaces']! - small.calls['DescribeNetworkInterfaces']! +
      (large.calls['DescribeInstances']! - small.calls['DescribeInstances']!);
    expect(large.total - small.total).toBe(extraPages + (large.nodegroups - small.nodegroups));
    expect(large.total).toBeLessThan(60);
  });
});
