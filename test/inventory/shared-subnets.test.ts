/**
 * Issue 13, shared subnets: a synthetic account where three clusters of one VPC use one subnet
 * (one owns it; the others' nodes and control-plane ENIs are in it). Collected live from the
 * emulator and from its snapshot, each cluster sees its own share, the others' by name, and the
 * rest; and publishes its own share's series.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LiveSource } from '../../lib/aws/live-source';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import { measure } from '../../lib/measure/measure';
import { buildMetricData, METRIC } from '../../lib/output/publish/metrics';
import { emulateAccount } from '../../tools/mock-aws';
import { buildAccount, writeSyntheticSnapshot, type AccountSpec } from '../../tools/synthetic-account';
import { useTestHarness } from '../support/harness';

const harness = useTestHarness();
const NOW = new Date('2026-11-26T10:00:00Z');

const SPEC: AccountSpec = {
  seed: 13,
  capturedAt: NOW.toISOString(),
  enisPerNode: 2,
  clusters: [
    {
      name: 'shop',
      version: '1.31',
      mode: 'secondary',
      addon: { version: 'v1.19.2-eksbuild.1' },
      subnets: [
        { name: 'shared', az: 0, cidr: '10.40.0.0/22', controlPlaneEnis: 2, others: ['nat-gateway', 'load-balancer'] },
        { name: 'b', az: 1, cidr: '10.40.4.0/24', controlPlaneEnis: 2 },
      ],
      nodegroups: [{ name: 'shop-ng', instanceTypes: ['m5.large'], nodes: 4, subnets: ['shared', 'b'] }],
    },
    {
      name: 'search',
      version: '1.31',
      mode: 'secondary',
      addon: { version: 'v1.19.2-eksbuild.1' },
      stream: 5,
      subnets: [],
      sharedSubnets: [{ cluster: 'shop', subnet: 'shared', inCluster: true, controlPlaneEnis: 2 }, { cluster: 'shop', subnet: 'b', inCluster: true }],
      nodegroups: [{ name: 'search-ng', instanceTypes: ['m5.xlarge'], nodes: 3, subnets: ['shop/shared'] }],
    },
    {
      name: 'batch',
      version: '1.31',
      mode: 'secondary',
      addon: { version: 'v1.19.2-eksbuild.1' },
      stream: 6,
      subnets: [],
      sharedSubnets: [{ cluster: 'shop', subnet: 'shared', inCluster: true }, { cluster: 'shop', subnet: 'b', inCluster: true, controlPlaneEnis: 2 }],
      nodegroups: [{ name: 'batch-ng', instanceTypes: ['m5.large'], nodes: 2, subnets: ['shop/shared'] }],
    },
  ],
};

describe('a subnet shared by three clusters', () => {
  it('gives each cluster its own share, the same live and from the snapshot', async () => {
    const account = buildAccount(SPEC);
    const shared = account.subnets.find((s) => s.Tags?.some((t) => t.Key === 'Name' && t.Value === 'shop-shared'));
    expect(new Set(account.clusters.map((c) => c.resourcesVpcConfig?.vpcId)).size).toBe(1);
    const aws = emulateAccount(account);
    harness.track(aws);
    const liveUsage = measure(await collectInventory(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1', 'measured'), { clusterNames: [], concurrency: 1, now: NOW }));
    const dir = await mkdtemp(path.join(tmpdir(), 'shared-'));
    try {
      await writeSyntheticSnapshot(account, dir);
      const snapUsage = measure(await collectInventory(await readSnapshot(dir), { clusterNames: [], concurrency: 1, now: NOW }));
      const shareOf = (u: typeof liveUsage, cluster: string) => u.clusters.find((c) => c.name === cluster)?.subnets.find((s) => s.subnetId === shared?.SubnetId);
      for (const cluster of ['shop', 'search', 'batch']) expect(shareOf(snapUsage, cluster)?.clusterShare).toEqual(shareOf(liveUsage, cluster)?.clusterShare);

      const shop = shareOf(liveUsage, 'shop');
      const search = shareOf(liveUsage, 'search');
      const batch = shareOf(liveUsage, 'batch');
      // Each sees the same subnet, split the same way from its own side.
      expect(shop?.used).toBe(search?.used);
      const owners = (s: typeof shop) => Object.fromEntries([[`self`, s?.clusterShare?.own], ...(s?.clusterShare?.others ?? []).map((o) => [o.cluster, o.ips])]);
      expect(owners(shop)['search']).toBe(search?.clusterShare?.own);
      expect(owners(shop)['batch']).toBe(batch?.clusterShare?.own);
      expect(owners(search)['shop']).toBe(shop?.clusterShare?.own);
      // The NAT gateway and the load balancer are nobody's; nothing is invisible here.
      expect(shop?.clusterShare?.unattributed).toBe(2);
      for (const s of [shop, search, batch]) {
        const c = s?.clusterShare;
        expect((c?.own ?? 0) + (c?.others ?? []).reduce((x, o) => x + o.ips, 0) + (c?.unattributed ?? 0)).toBe(s?.used);
      }
      // search's nodes (3, 1 + 2 ENIs' addresses each) and its 2 control-plane ENIs.
      expect(search?.clusterShare?.ownEnis).toBe(3 * 2 + 2);

      const data = buildMetricData(liveUsage);
      const own = data.filter((d) => d.MetricName === METRIC.SubnetClusterIps && d.Dimensions?.some((x) => x.Value === shared?.SubnetId));
      expect(own.map((d) => [d.Dimensions?.find((x) => x.Name === 'ClusterName')?.Value, d.Value]).sort()).toEqual(
        [['batch', batch?.clusterShare?.own], ['search', search?.clusterShare?.own], ['shop', shop?.clusterShare?.own]].sort(),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
