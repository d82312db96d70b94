import type { Instance, NetworkInterface } from '@aws-sdk/client-ec2';
import { diagnoseCluster } from '../../lib/diagnose/diagnose';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import type { ClusterInventory } from '../../lib/inventory/types';
import { measureCluster } from '../../lib/measure/measure';
import { addresses, clusterInventory, eni, instance, instanceTypes, managedTags, subnet } from '../measure/builders';

const AZ = 'eu-west-1a';
const NOW = '2026-11-26T10:00:00.000Z';

function left(instanceId: string, subnetId: string, ips: string[], cluster?: string, createdAt = '2026-11-25T10:00:00Z'): NetworkInterface {
  const tags = [
    { Key: 'node.k8s.amazonaws.com/instance_id', Value: instanceId },
    { Key: 'node.k8s.amazonaws.com/createdAt', Value: createdAt },
    ...(cluster ? [{ Key: 'cluster.k8s.amazonaws.com/name', Value: cluster }] : []),
  ];
  return eni({ subnetId, az: AZ, ips, status: 'available', description: `aws-K8S-${instanceId}`, tags });
}
const gone = (id: string): Instance => ({ ...instance(id, 'm5.large', 'subnet-a', AZ, managedTags('prod', 'ng')), State: { Code: 48, Name: 'terminated' } });

function findings(available: number, enis: NetworkInterface[], eniInstances?: ClusterInventory['eniInstances'], problems: ClusterInventory['problems'] = []) {
  const inv: ClusterInventory = {
    ...clusterInventory({ name: 'prod', subnets: [[subnet('subnet-a', '10.0.1.0/24', AZ, available), ['node']]], networkInterfaces: enis }),
    ...(eniInstances ? { eniInstances } : {}),
    problems,
  };
  const usage = measureCluster(inv, instanceTypes('m5.large'), new Map(), NOW);
  return diagnoseCluster(usage, inv, DEFAULT_THRESHOLDS).filter((f) => f.kind === 'leaked-enis');
}

describe('leaked-enis', () => {
  const enis = [
    left('i-0a', 'subnet-a', addresses('10.0.1.0', 10, 10), 'prod'),
    left('i-0b', 'subnet-a', addresses('10.0.1.0', 30, 4), 'old-cluster', 'garbage'),
    left('i-0c', 'subnet-a', addresses('10.0.1.0', 40, 1)),
  ];
  const asked = { asked: ['i-0a', 'i-0b', 'i-0c'], found: [gone('i-0a')] };

  it('is one finding per subnet with the count, addresses, cluster tags and ages', () => {
    const [f, ...rest] = findings(200, enis, asked);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({
      id: 'prod/leaked-enis/subnet-a',
      severity: 'warning',
      subject: { type: 'subnet', id: 'subnet-a', availabilityZone: AZ },
      title: '3 leaked ENIs hold 15 IPs in subnet-a (eu-west-1a): their instances are gone',
      evidence: { leakedEnis: 3, leakedIps: 15, subnetFree: 200, taggedThisCluster: 1, taggedOtherClusters: 1, untagged: 1, instancesTerminated: 1, instancesMissing: 2, minAgeMinutes: 1440, maxAgeMinutes: 1440 },
    });
    expect(f?.evidenceText.join('\n')).toContain("The CNI's own hourly cleanup");
    expect(f?.evidenceText.join('\n')).toContain('1 without a readable tag');
    expect(f?.fixes[0]).toContain('actions.leakedEnis.allowed: true');
    expect(f?.fixes[1]).toContain('aws ec2 delete-network-interface');
  });

  it('is critical when the subnet is critically short', () => {
    expect(findings(10, enis, asked).map((f) => f.severity)).toEqual(['critical']);
  });

  it('says the responder cannot delete ENIs that are not tagged with this cluster', () => {
    const [f] = findings(200, [enis[1] as NetworkInterface], { asked: ['i-0b'], found: [] });
    expect(f?.fixes[0]).toBe('These are not tagged with prod: the responder of old-cluster may delete them, or delete them by hand.');
  });

  it('finds nothing when the instances could not be confirmed gone', () => {
    const problem = { source: 'ec2:DescribeInstances', message: 'denied', code: 'UnauthorizedOperation', unread: { part: 'eni-instances' as const, ids: ['i-0a'] } };
    expect(findings(200, enis, undefined, [problem])).toEqual([]);
  });
});
