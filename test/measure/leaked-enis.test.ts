import type { Instance, NetworkInterface } from '@aws-sdk/client-ec2';
import { eniInstanceIdsToConfirm } from '../../lib/inventory/leaked';
import type { ClusterInventory } from '../../lib/inventory/types';
import { measureCluster } from '../../lib/measure/measure';
import { measureLeakedEnis } from '../../lib/measure/leaked-enis';
import { addresses, clusterInventory, cniEni, eni, instance, instanceTypes, managedTags, nodePrimaryEni, subnet } from './builders';

const AZ = 'eu-west-1a';
const NOW = '2026-11-26T10:00:00.000Z';

/** An available ENI as the VPC CNI leaves it: description, instance, cluster and createdAt tags. */
function cniLeft(instanceId: string, subnetId: string, ips: string[], o: { cluster?: string; createdAt?: string; description?: string; status?: 'available' | 'in-use' } = {}): NetworkInterface {
  const tags = [{ Key: 'node.k8s.amazonaws.com/instance_id', Value: instanceId }];
  if (o.cluster) tags.push({ Key: 'cluster.k8s.amazonaws.com/name', Value: o.cluster });
  if (o.createdAt) tags.push({ Key: 'node.k8s.amazonaws.com/createdAt', Value: o.createdAt });
  return eni({ subnetId, az: AZ, ips, status: o.status ?? 'available', description: o.description ?? `aws-K8S-${instanceId}`, tags });
}

const terminated = (id: string): Instance => ({ ...instance(id, 'm5.large', 'subnet-a', AZ, managedTags('prod', 'ng')), State: { Code: 48, Name: 'terminated' } });

function inventory(enis: NetworkInterface[], o: { nodes?: Instance[]; eniInstances?: ClusterInventory['eniInstances'] } = {}): ClusterInventory {
  const inv = clusterInventory({ name: 'prod', subnets: [[subnet('subnet-a', '10.0.1.0/24', AZ, 200), ['node']]], networkInterfaces: enis, instances: o.nodes ?? [] });
  return o.eniInstances ? { ...inv, eniInstances: o.eniInstances } : inv;
}

describe('eniInstanceIdsToConfirm (what the collector asks EC2 about, once)', () => {
  it('asks only for instances of available CNI ENIs that are not running nodes of the cluster', () => {
    const node = instance('i-0node', 'm5.large', 'subnet-a', AZ, managedTags('prod', 'ng'));
    const enis = [
      cniLeft('i-0gone', 'subnet-a', addresses('10.0.1.0', 10, 3)),
      cniLeft('i-0gone', 'subnet-a', addresses('10.0.1.0', 20, 1)), // the same instance: asked once
      cniLeft('i-0node', 'subnet-a', addresses('10.0.1.0', 30, 1)), // a live node's ENI being attached
      cniLeft('i-0used', 'subnet-a', addresses('10.0.1.0', 40, 1), { status: 'in-use' }),
      cniLeft('i-0other', 'subnet-a', addresses('10.0.1.0', 50, 1), { description: 'my own ENI' }),
      eni({ subnetId: 'subnet-a', az: AZ, ips: addresses('10.0.1.0', 60, 1), status: 'available', description: 'aws-K8S-i-0notag' }),
    ];
    expect(eniInstanceIdsToConfirm(enis, [node])).toEqual(['i-0gone']);
  });
});

describe('measureLeakedEnis', () => {
  const enis = [
    cniLeft('i-0term', 'subnet-a', addresses('10.0.1.0', 10, 3), { cluster: 'prod', createdAt: '2026-11-26T08:00:00Z' }),
    cniLeft('i-0miss', 'subnet-a', addresses('10.0.1.0', 20, 2), { cluster: 'old', createdAt: 'not a time' }),
    cniLeft('i-0run', 'subnet-a', addresses('10.0.1.0', 30, 2)),
  ];
  const running = { ...terminated('i-0run'), State: { Code: 16, Name: 'running' as const } };

  it('is leaked when EC2 says terminated or does not answer the id; an instance found running is not', () => {
    const inv = inventory(enis, { eniInstances: { asked: ['i-0miss', 'i-0run', 'i-0term'], found: [terminated('i-0term'), running] } });
    const { leaked, unconfirmed } = measureLeakedEnis(inv, NOW);
    expect(unconfirmed).toBe(0);
    const byInstance = Object.fromEntries(leaked.map((e) => [e.instanceId, [e.instanceState, e.clusterTag, e.ageMinutes, e.ips]]));
    expect(byInstance).toEqual({ 'i-0term': ['terminated', 'prod', 120, 3], 'i-0miss': ['missing', 'old', undefined, 2] });
  });

  it('calls nothing leaked without the confirming read: the candidates are unconfirmed', () => {
    const { leaked, unconfirmed } = measureLeakedEnis(inventory(enis), NOW);
    expect(leaked).toEqual([]);
    expect(unconfirmed).toBe(3);
  });

  it('puts the count and addresses on the subnet, and the list on the cluster', () => {
    const inv = inventory(enis, { eniInstances: { asked: ['i-0miss', 'i-0run', 'i-0term'], found: [terminated('i-0term'), running] } });
    const usage = measureCluster(inv, instanceTypes('m5.large'), new Map(), NOW);
    expect(usage.subnets[0]?.leaked).toEqual({ enis: 2, ips: 5 });
    expect(usage.leakedEnis?.map((e) => e.instanceId).sort()).toEqual(['i-0miss', 'i-0term']);
    expect(usage.leakedEnisUnconfirmed).toBeUndefined();
  });

  it('does not count an attached CNI ENI of a live node', () => {
    const node = instance('i-0node', 'm5.large', 'subnet-a', AZ, managedTags('prod', 'ng'));
    const inv = inventory([nodePrimaryEni('i-0node', 'subnet-a', AZ, addresses('10.0.1.0', 10, 1)), cniEni('i-0node', 'subnet-a', AZ, addresses('10.0.1.0', 11, 5))], { nodes: [node] });
    const usage = measureCluster(inv, instanceTypes('m5.large'), new Map(), NOW);
    expect(usage.leakedEnis).toBeUndefined();
    expect(usage.subnets[0]?.leaked).toBeUndefined();
  });
});
