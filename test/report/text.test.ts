import { measure } from '../../lib/measure/measure';
import type { Usage } from '../../lib/measure/types';
import type { ClusterInventory } from '../../lib/inventory/types';
import { renderReport } from '../../lib/report/text';
import {
  addresses,
  clusterInventory,
  cniEni,
  controlPlaneEni,
  instance,
  instanceTypes,
  managedCni,
  managedTags,
  natGatewayEni,
  nodegroup,
  nodePrimaryEni,
  REGION,
  subnet,
} from '../measure/builders';

const A = 'subnet-0a1a1a1a1a1a1a1a1';
const B = 'subnet-0b2b2b2b2b2b2b2b2';
const STRAY = 'subnet-0fffffffffffffff9';

/**
 * prod: A (10.0.1.0/24, eu-west-1a) holds a node's 1 + 9 addresses, a control-plane ENI and a NAT
 * gateway, 12 visible, with 7 free: 232 used, 220 unaccounted. B (10.0.2.0/28, eu-west-1b) holds
 * nothing visible, 11 free. One node of an unknown type, one ENI in a subnet not collected.
 */
function prod(): ClusterInventory {
  return clusterInventory({
    name: 'prod',
    subnets: [
      [subnet(A, '10.0.1.0/24', 'eu-west-1a', 7), ['cluster', 'node']],
      [subnet(B, '10.0.2.0/28', 'eu-west-1b', 11), ['cluster', 'node']],
    ],
    networkInterfaces: [
      nodePrimaryEni('i-0aaa', A, 'eu-west-1a', addresses('10.0.1.0', 10, 10)),
      controlPlaneEni('prod', A, 'eu-west-1a', '10.0.1.4'),
      natGatewayEni(A, 'eu-west-1a', '10.0.1.5'),
      cniEni('i-0aaa', STRAY, 'eu-west-1c', addresses('10.0.9.0', 10, 2)),
    ],
    instances: [
      instance('i-0aaa', 'm5.large', A, 'eu-west-1a', managedTags('prod', 'general')),
      instance('i-0bbb', 'x9.mega', A, 'eu-west-1a', { 'aws:autoscaling:groupName': 'legacy-workers' }),
    ],
    nodegroups: [nodegroup('prod', 'general', ['m5.large'], [A, B], 1)],
    cni: managedCni({ WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '12' }),
  });
}

function usage(): Usage {
  return measure({
    region: REGION,
    collectedAt: '2026-12-01T10:00:00.000Z',
    clusters: [prod()],
    failedClusters: [{ name: 'batch-dev', problem: { source: 'eks:DescribeCluster', message: 'AccessDeniedException: not authorized', code: 'AccessDeniedException' } }],
    instanceTypes: instanceTypes('m5.large'),
    unknownInstanceTypes: ['x9.mega'],
  });
}

describe('renderReport', () => {
  const text = renderReport(usage());
  const lines = text.split('\n');
  const row = (subnetId: string): string => lines.find((l) => l.trimStart().startsWith(subnetId))!;

  it('opens with the region, the time and the counts', () => {
    expect(lines.slice(0, 2)).toEqual(['eks-ip-responder report: eu-west-1, sampled 2026-12-01T10:00:00.000Z', '1 cluster(s) sampled, 1 failed']);
  });

  it('names the cluster, its version, VPC and CNI settings', () => {
    expect(text).toContain('Cluster prod  (Kubernetes 1.31, vpc-05cb6340ff1bbcd88)');
    expect(text).toContain('CNI: managed vpc-cni v1.19.2-eksbuild.1: WARM_IP_TARGET=2 MINIMUM_IP_TARGET=12');
  });

  it.each([
    // subnet, AZ, CIDR, roles, free, usable, used %, node primary, pod IPs, prefix IPs, control plane, other, unaccounted
    [A, ['eu-west-1a', '10.0.1.0/24', 'cluster,node', '7', '251', '97.2%', '1', '9', '0', '1', '1', '232']],
    [B, ['eu-west-1b', '10.0.2.0/28', 'cluster,node', '11', '11', '0.0%', '0', '0', '0', '0', '0', '0']],
  ])('has a row for %s with its AZ, CIDR, free count and holders', (id, cells) => {
    expect(row(id).trim().split(/\s+/)).toEqual([id, ...cells]);
  });

  it('says what the Other addresses are', () => {
    expect(text).toContain(`${A}: NAT gateway 1 IP(s) on 1 ENI(s)`);
  });

  it('explains Unaccounted addresses', () => {
    const line = lines.find((l) => l.includes('Unaccounted:'))!;
    expect(line).toContain(`${A} 232`);
    expect(line).toContain('AWS RAM');
    expect(line).not.toContain(B);
  });

  it('reports the control plane against EKS\'s 6 and 16, and the upgrade\'s two AZs', () => {
    expect(text).toContain('Control plane: least free in a cluster subnet 7 (EKS needs 6, recommends 16); 2 AZ(s) with the minimum free');
    expect(text).not.toContain('a version upgrade needs two');
  });

  it('lists the nodegroups', () => {
    const general = lines.find((l) => l.trimStart().startsWith('general'))!;
    // NODEGROUP KIND INSTANCE-TYPES NODES ENIS ENI-MAX POD-IPS IP-SLOTS MAX-PODS AT-ENI-LIMIT NO-IP-LEFT
    // (POD-IPS 10: 9 on the primary ENI, 1 on the ENI in the subnet that was not collected)
    expect(general.trim().split(/\s+/)).toEqual(['general', 'managed', 'm5.large', '1', '2', '3', '10', '27', '29', '0', '0']);
    const asg = lines.find((l) => l.trimStart().startsWith('asg:legacy-workers'))!;
    expect(asg.trim().split(/\s+/)).toEqual(['asg:legacy-workers', 'self-managed', 'x9.mega', '1', '0', '0', '0', '0', '0', '0', '0']);
  });

  it('lists the problems under "Incomplete data"', () => {
    const at = lines.findIndex((l) => l.includes('Incomplete data (no action will be taken on this cluster):'));
    expect(at).toBeGreaterThan(0);
    const problems = lines.slice(at + 1).filter((l) => l.startsWith('    - '));
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toContain(STRAY);
    expect(problems.join('\n')).toContain('x9.mega');
  });

  it('names the clusters that could not be sampled, and the unknown instance types', () => {
    expect(text).toContain('Clusters that could not be sampled:\n  - batch-dev: AccessDeniedException: not authorized');
    expect(text).toContain('Instance types unknown to DescribeInstanceTypes: x9.mega');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('says when a version upgrade lacks a second AZ', () => {
    const inv = prod();
    inv.subnets[1]!.AvailableIpAddressCount = 5;
    const u = measure({ region: REGION, collectedAt: '2026-12-01T10:00:00.000Z', clusters: [inv], failedClusters: [], instanceTypes: instanceTypes('m5.large'), unknownInstanceTypes: [] });
    expect(renderReport(u)).toContain('least free in a cluster subnet 5 (EKS needs 6, recommends 16); 1 AZ(s) with the minimum free — a version upgrade needs two');
  });

  it.each([
    [{ kind: 'self-managed' } as const, 'CNI: self-managed aws-node (its settings are not visible to the AWS API)'],
    [{ kind: 'unknown', reason: 'AccessDeniedException' } as const, 'CNI: unknown (the vpc-cni add-on could not be read)'],
    [managedCni(), 'CNI: managed vpc-cni v1.19.2-eksbuild.1 (CNI defaults): WARM_ENI_TARGET=1'],
    [managedCni({ ENABLE_PREFIX_DELEGATION: 'true' }), 'CNI: managed vpc-cni v1.19.2-eksbuild.1: ENABLE_PREFIX_DELEGATION=true WARM_ENI_TARGET=1 WARM_PREFIX_TARGET=1'],
  ])('renders the CNI line for %j', (cni, expected) => {
    const inv = prod();
    inv.cni = cni;
    const u = measure({ region: REGION, collectedAt: '2026-12-01T10:00:00.000Z', clusters: [inv], failedClusters: [], instanceTypes: instanceTypes('m5.large'), unknownInstanceTypes: [] });
    expect(renderReport(u)).toContain(expected);
  });

  it('an empty sample is still a report', () => {
    const u: Usage = { region: REGION, collectedAt: '2026-12-01T10:00:00.000Z', clusters: [], failedClusters: [], unknownInstanceTypes: [] };
    expect(renderReport(u)).toBe('eks-ip-responder report: eu-west-1, sampled 2026-12-01T10:00:00.000Z\n0 cluster(s) sampled, 0 failed\n');
  });
});
