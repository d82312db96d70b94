/**
 * The number of AWS calls of one cycle grows with result pages, never with nodes or ENIs.
 * One full cycle runs against an emulated account that answers in real page sizes. And every
 * DescribeSubnets of a cycle and of the action after it goes through the one subnet provider.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { makeHandler as makeSample } from '../../handlers/sample';
import { cniSubnetsExecutor } from '../../lib/act/execute-subnets';
import { LiveSource } from '../../lib/aws/live-source';
import { READ_LANES } from '../../lib/aws/read-lanes';
import { collectInventory } from '../../lib/inventory/collect';
import { cycleDeps } from '../../lib/runtime';
import { emulateAccount } from '../../tools/mock-aws';
import { generateAccount } from '../../tools/synthetic-account';
import { useTestHarness } from '../support/harness';
import { testRuntime } from '../support/runtime';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';

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
    const subnets = inventory.clusters.reduce((s, c) => s + c.subnets.length, 0);
    return { calls: { ...aws.calls }, total: aws.totalReadCalls(), enisByCluster, nodesByCluster, nodegroups, subnets, enis: account.networkInterfaces.length };
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
      // ENIs: a large cluster's read in up to READ_LANES filters side by side (lib/aws/read-lanes.ts),
      // each filter's last page a partial one: at most READ_LANES - 1 calls more a cluster.
      expect(r.calls['DescribeNetworkInterfaces']).toBeGreaterThanOrEqual(pages(r.enisByCluster));
      expect(r.calls['DescribeNetworkInterfaces']).toBeLessThanOrEqual(pages(r.enisByCluster) + (READ_LANES - 1) * r.enisByCluster.length);
      expect(r.calls['DescribeInstances']).toBe(pages(r.nodesByCluster));
      // Instance types: one call for the whole account (fewer than 100 types).
      expect(r.calls['DescribeInstanceTypes']).toBe(1);
      // Subnet CIDR reservations: one call per subnet (the API takes one SubnetId), never per node.
      expect(r.calls['GetSubnetCidrReservations']).toBe(r.subnets);
    }
    // 15x the nodes costs only the extra pages.
    const extraPages =
      large.calls['DescribeNetworkInterfaces']! - small.calls['DescribeNetworkInterfaces']! +
      (large.calls['DescribeInstances']! - small.calls['DescribeInstances']!);
    expect(large.total - small.total).toBe(extraPages + (large.nodegroups - small.nodegroups));
    expect(large.total).toBeLessThan(60);
  });
});

describe('DescribeSubnets over a cycle and the action after it', () => {
  const harness = useTestHarness();
  const SPARE = 'subnet-0c55317ef17156075';
  const VPC = 'vpc-05cb6340ff1bbcd88';

  it("goes through the runtime's one subnet provider: the collector's reads, the planner's spare-subnet read, the executor's read", async () => {
    const doc = parseYaml(readFileSync(path.join(__dirname, '..', '..', 'policy.yml'), 'utf8')) as { clusters: Record<string, { actions?: { cniSubnets?: { spareSubnets?: string[] } } }> };
    const spare = doc.clusters['payments-prod']?.actions?.cniSubnets?.spareSubnets ?? [];
    expect(spare).toContain(SPARE);
    const t = await testRuntime(accountFromSnapshot(DEMO_SNAPSHOT), harness.db, { POLICY_JSON: JSON.stringify(doc) }, new Date('2026-11-26T10:00:00Z'));
    harness.track(t.aws);
    const subnets = t.rt.source.providers.subnets;
    const byId = jest.spyOn(subnets, 'byId');
    const byTagKey = jest.spyOn(subnets, 'byTagKey');

    await makeSample(t.rt)({ clusterNames: ['payments-prod'] });
    const idsOfCycle = byId.mock.calls.map((c) => [...c[0]].sort().join());
    const exec = cycleDeps(t.rt, false, true).remediation?.act?.exec;
    if (!exec) throw new Error('an acting cycle has executor dependencies');
    const outcome = await cniSubnetsExecutor.start(
      {
        id: `payments-prod/cni-subnets/${VPC}/eu-west-1a`,
        cluster: 'payments-prod',
        kind: 'cni-subnets',
        subject: `${VPC}/eu-west-1a`,
        reason: 'the test',
        findingIds: [],
        predicted: { text: 'frees addresses' },
        blockers: [],
        state: 'apply',
        blockedBy: [],
        change: { type: 'tag-subnets', subnetIds: [SPARE], tag: { key: 'kubernetes.io/role/cni', value: '1' } },
      },
      exec,
    );
    expect(outcome.status).toBe('succeeded');

    // The collector: by id (the cluster's subnets) and by the CNI-discovery tag.
    expect(byTagKey.mock.calls.map((c) => c.slice(0, 2))).toEqual([[VPC, 'kubernetes.io/role/cni']]);
    expect(idsOfCycle.length).toBeGreaterThanOrEqual(2);
    // The planner's read of the spare subnets, once in the cycle; then the executor's, before it tags.
    expect(idsOfCycle.filter((ids) => ids === [...spare].sort().join())).toHaveLength(1);
    expect(byId.mock.calls.slice(idsOfCycle.length).map((c) => c[0])).toEqual([[SPARE]]);
    // Nothing else sends DescribeSubnets: each provider read here is one request (fewer than 200
    // ids and 1,000 subnets), and the account answered exactly that many.
    expect(t.aws.calls['DescribeSubnets']).toBe(byId.mock.calls.length + byTagKey.mock.calls.length);
  });
});
