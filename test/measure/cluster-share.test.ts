import type { NetworkInterface } from '@aws-sdk/client-ec2';
import { measure } from '../../lib/measure/measure';
import { clusterOfEni } from '../../lib/measure/cluster-share';
import type { Inventory } from '../../lib/inventory/types';
import { addresses, clusterInventory, cniEni, controlPlaneEni, eni, instance, instanceTypes, loadBalancerEni, managedTags, nodePrimaryEni, subnet } from './builders';

const AZ = 'eu-west-1a';
const SHARED = 'subnet-shared';

describe('clusterOfEni', () => {
  const own = new Set(['i-0own']);
  const owners = new Map([['i-0b', 'b']]);
  const at = (o: Partial<Parameters<typeof eni>[0]>): NetworkInterface => eni({ subnetId: SHARED, az: AZ, ips: ['10.0.1.10'], ...o });
  it.each<[string, NetworkInterface, string | undefined]>([
    ['a control-plane ENI names its cluster', controlPlaneEni('c', SHARED, AZ, '10.0.1.10'), 'c'],
    ['the CNI cluster tag', at({ status: 'available', description: 'aws-K8S-i-0x', tags: [{ Key: 'cluster.k8s.amazonaws.com/name', Value: 'd' }] }), 'd'],
    ['attached to a node of this cluster', nodePrimaryEni('i-0own', SHARED, AZ, ['10.0.1.10']), 'a'],
    ["attached to another collected cluster's node", nodePrimaryEni('i-0b', SHARED, AZ, ['10.0.1.10']), 'b'],
    ["the CNI's instance tag of another cluster's node", cniEni('i-0b', SHARED, AZ, ['10.0.1.10'], { attached: false }), 'b'],
    ['its own kubernetes.io/cluster tag', at({ tags: [{ Key: 'kubernetes.io/cluster/e', Value: 'owned' }] }), 'e'],
    ['a load balancer: none', loadBalancerEni(SHARED, AZ, '10.0.1.10'), undefined],
    ['an instance of no collected cluster: none', nodePrimaryEni('i-0stranger', SHARED, AZ, ['10.0.1.10']), undefined],
  ])('%s', (_name, e, expected) => {
    expect(clusterOfEni(e, 'a', own, owners)).toBe(expected);
  });
});

describe('a subnet shared by three clusters', () => {
  // 10.0.1.0/24: 251 usable. a: node (1 + 9), control plane 1; b: node (1 + 19); c: control plane 2 (not collected).
  // A load balancer 3. Used = 251 - 200 = 51: 36 visible + 15 no visible ENI holds.
  function sample(): Inventory {
    const nodeA = instance('i-0a', 'm5.large', SHARED, AZ, managedTags('a', 'ng'));
    const nodeB = instance('i-0b', 'm5.large', SHARED, AZ, managedTags('b', 'ng'));
    const enis = [
      nodePrimaryEni('i-0a', SHARED, AZ, addresses('10.0.1.0', 10, 1)),
      cniEni('i-0a', SHARED, AZ, addresses('10.0.1.0', 11, 9)),
      controlPlaneEni('a', SHARED, AZ, '10.0.1.30'),
      nodePrimaryEni('i-0b', SHARED, AZ, addresses('10.0.1.0', 40, 1)),
      cniEni('i-0b', SHARED, AZ, addresses('10.0.1.0', 41, 19)),
      controlPlaneEni('c', SHARED, AZ, '10.0.1.70'),
      controlPlaneEni('c', SHARED, AZ, '10.0.1.71'),
      loadBalancerEni(SHARED, AZ, '10.0.1.80'),
      eni({ subnetId: SHARED, az: AZ, ips: addresses('10.0.1.0', 81, 2), description: 'ELB app/x/y' }),
    ];
    const s = subnet(SHARED, '10.0.1.0/24', AZ, 200);
    const a = clusterInventory({ name: 'a', subnets: [[s, ['node', 'cluster']]], networkInterfaces: enis, instances: [nodeA] });
    const b = clusterInventory({ name: 'b', subnets: [[s, ['node']]], networkInterfaces: enis, instances: [nodeB] });
    return { region: 'eu-west-1', collectedAt: '2026-11-26T10:00:00Z', clusters: [a, b], failedClusters: [], instanceTypes: instanceTypes('m5.large'), unknownInstanceTypes: [] };
  }

  it('gives each cluster its own share, the others by name, and the rest unattributed', () => {
    const usage = measure(sample());
    const [a, b] = usage.clusters;
    expect(a?.subnets[0]?.clusterShare).toEqual({ own: 11, ownEnis: 3, others: [{ cluster: 'b', ips: 20, enis: 2 }, { cluster: 'c', ips: 2, enis: 2 }], unattributed: 18 });
    expect(b?.subnets[0]?.clusterShare).toEqual({ own: 20, ownEnis: 2, others: [{ cluster: 'a', ips: 11, enis: 3 }, { cluster: 'c', ips: 2, enis: 2 }], unattributed: 18 });
    // Each share plus the others plus the rest is the subnet's used count.
    for (const c of usage.clusters) {
      const s = c.subnets[0];
      const share = s?.clusterShare;
      expect((share?.own ?? 0) + (share?.others ?? []).reduce((x, o) => x + o.ips, 0) + (share?.unattributed ?? 0)).toBe(s?.used);
    }
  });

  it("without the other cluster collected, its nodes' addresses are unattributed", () => {
    const inv = sample();
    const usage = measure({ ...inv, clusters: [inv.clusters[0] as Inventory['clusters'][number]] });
    expect(usage.clusters[0]?.subnets[0]?.clusterShare).toEqual({ own: 11, ownEnis: 3, others: [{ cluster: 'c', ips: 2, enis: 2 }], unattributed: 38 });
  });
});
