/**
 * Subnet discovery from the AWS reads to the usage: the demo snapshot, and the same account live
 * on the emulator with the tags and the add-on changed. The cluster tags come with the subnets the
 * `kubernetes.io/role/cni` tag-key read returns (every tag of each), so knowing them costs no call:
 * ipamd consults them only on subnets that carry that key (aws/amazon-vpc-cni-k8s
 * pkg/awsutils/awsutils.go `isSubnetValidForENICreation`, Rule 3 after Rule 2).
 */
import { LiveSource } from '../../lib/aws/live-source';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import { measure } from '../../lib/measure/measure';
import type { Usage } from '../../lib/measure/types';
import { emulateAccount } from '../../tools/mock-aws';
import { useTestHarness } from '../support/harness';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';

const NOW = new Date('2026-11-26T10:00:00Z');
const CNI_A = 'subnet-0c55317ef17156075';
const PRIVATE_A = 'subnet-0e59dfd0c9e3779b1';
const BATCH_D = 'subnet-009e3b40cfec38505';

const discovery = (u: Usage, cluster: string) => {
  const d = u.clusters.find((c) => c.name === cluster)?.cniDiscovery;
  if (!d) throw new Error(`no discovery for ${cluster}`);
  return d;
};

describe('CNI subnet discovery, collected', () => {
  const harness = useTestHarness();

  it('from the demo snapshot: per cluster, which subnets and why', async () => {
    const inv = await collectInventory(await readSnapshot(DEMO_SNAPSHOT), { clusterNames: [], concurrency: 2, now: NOW });
    const u = measure(inv);
    const prod = discovery(u, 'payments-prod');
    expect(prod).toMatchObject({ mode: 'discovery', rules: 'key-only', addonVersion: 'v1.19.2-eksbuild.1' });
    expect(prod.byAz.find((z) => z.availabilityZone === 'eu-west-1a')?.order).toEqual([CNI_A, PRIVATE_A]);
    expect(prod.subnets.find((s) => s.subnetId === CNI_A)).toMatchObject({ used: true, clusterTags: ['payments-prod'], cniTag: '1' });
    const batch = discovery(u, 'batch-dev');
    expect(batch.subnets.find((s) => s.subnetId === BATCH_D)).toMatchObject({ used: true, primary: true, cniTag: '0' });
    expect(batch.subnets.find((s) => s.subnetId === BATCH_D)?.reason).toContain('excludes nothing before 1.22');
  });

  it('live on the emulator: a 1.22.1+ CNI with CLUSTER_NAME skips a subnet reserved to another cluster, and honours 0 on the node subnet; no extra call', async () => {
    const account = accountFromSnapshot(DEMO_SNAPSHOT);
    const addon = account.addons['payments-prod'];
    if (!addon) throw new Error('no add-on');
    addon.addonVersion = 'v1.22.4-eksbuild.1';
    addon.configurationValues = JSON.stringify({ env: { WARM_IP_TARGET: '5', MINIMUM_IP_TARGET: '10', CLUSTER_NAME: 'payments-prod' } });
    for (const s of account.subnets) {
      if (s.SubnetId === CNI_A) s.Tags = [{ Key: 'kubernetes.io/role/cni', Value: '1' }, { Key: 'cni.networking.k8s.aws/cluster/batch-dev', Value: 'shared' }];
      if (s.SubnetId === PRIVATE_A) s.Tags = [...(s.Tags ?? []), { Key: 'kubernetes.io/role/cni', Value: '0' }];
    }
    const aws = emulateAccount(account);
    harness.track(aws);
    const inv = await collectInventory(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1'), { clusterNames: ['payments-prod'], concurrency: 1, now: NOW });
    const prod = discovery(measure(inv), 'payments-prod');
    expect(prod).toMatchObject({ mode: 'discovery', rules: 'cluster-scoped', cniClusterName: 'payments-prod' });
    expect(prod.subnets.find((s) => s.subnetId === CNI_A)).toMatchObject({ used: false, reason: expect.stringContaining('not payments-prod') });
    expect(prod.subnets.find((s) => s.subnetId === PRIVATE_A)).toMatchObject({ used: false, primary: true });
    // eu-west-1a: no subnet at all for new ENIs.
    expect(prod.byAz.find((z) => z.availabilityZone === 'eu-west-1a')?.order).toEqual([]);
    // One DescribeSubnets by tag key and one by id per cluster: the cluster tags cost nothing more.
    expect(aws.calls['DescribeSubnets']).toBe(2);
  });
});
