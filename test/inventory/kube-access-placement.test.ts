/**
 * The kube-access diagnosis's reads on the emulated account: the functions' subnets and the
 * clusters' security groups, one call each for all clusters, only when the functions are in a VPC
 * (and the security groups only with the network preflight); then the finding they let it name.
 */
import { LiveSource } from '../../lib/aws/live-source';
import { diagnose } from '../../lib/diagnose/diagnose';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import { collectInventory } from '../../lib/inventory/collect';
import { measure } from '../../lib/measure/measure';
import { emulateAccount } from '../../tools/mock-aws';
import { buildAccount, type ClusterSpec } from '../../tools/synthetic-account';

const NOW = new Date('2026-11-26T12:00:00Z');
const cluster = (name: string, stream: number): ClusterSpec => ({
  name,
  version: '1.31',
  mode: 'secondary',
  addon: { version: 'v1.19.2-eksbuild.1' },
  stream,
  subnets: [
    { name: 'private-a', az: 0, cidr: `10.${40 + stream}.0.0/22` },
    { name: 'private-b', az: 1, cidr: `10.${40 + stream}.4.0/22` },
  ],
  nodegroups: [{ name: 'web', instanceTypes: ['m5.large'], nodes: 1, subnets: ['private-a', 'private-b'] }],
});

/** Two clusters, private endpoints; a function subnet in prod's VPC; each cluster SG admitting 443 from the nodes only. */
function setup() {
  const account = buildAccount({ seed: 11, clusters: [cluster('prod', 0), cluster('dev', 1)] });
  const prod = account.clusters.find((c) => c.name === 'prod')!;
  const vpcId = prod.resourcesVpcConfig!.vpcId!;
  account.subnets.push({ SubnetId: 'subnet-0f0f0f0f0f0f0f0f0', VpcId: vpcId, CidrBlock: '10.40.64.0/24', AvailabilityZone: 'eu-west-1a', AvailableIpAddressCount: 250 });
  for (const c of account.clusters) {
    c.resourcesVpcConfig = { ...c.resourcesVpcConfig, endpointPublicAccess: false };
    const network = account.networks?.find((n) => n.vpcId === c.resourcesVpcConfig?.vpcId);
    (network!.securityGroups ??= []).push({
      GroupId: c.resourcesVpcConfig!.clusterSecurityGroupId!,
      VpcId: c.resourcesVpcConfig!.vpcId!,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: 'sg-0nodes000000000000' }] }],
    });
  }
  return account;
}
const PLACED = { subnetIds: ['subnet-0f0f0f0f0f0f0f0f0'], securityGroupIds: ['sg-0fn00000000000000'] };

describe('the placement reads', () => {
  it('are one DescribeSubnets and one DescribeSecurityGroups for every cluster, only when placed and with the network preflight', async () => {
    const plain = emulateAccount(setup());
    await collectInventory(new LiveSource({ ec2: plain.ec2, eks: plain.eks }, 'eu-west-1'), { clusterNames: [], concurrency: 2, now: NOW, network: true });
    const aws = emulateAccount(setup());
    const inv = await collectInventory(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1'), {
      clusterNames: [],
      concurrency: 2,
      now: NOW,
      network: true,
      functionPlacement: PLACED,
    });
    expect((aws.calls['DescribeSubnets'] ?? 0) - (plain.calls['DescribeSubnets'] ?? 0)).toBe(1);
    expect((aws.calls['DescribeSecurityGroups'] ?? 0) - (plain.calls['DescribeSecurityGroups'] ?? 0)).toBe(1);
    expect(inv.functionPlacement?.subnets?.map((s) => s.SubnetId)).toEqual(['subnet-0f0f0f0f0f0f0f0f0']);
    for (const c of inv.clusters) expect(c.clusterSecurityGroups?.map((g) => g.GroupId)).toEqual([c.cluster.resourcesVpcConfig?.clusterSecurityGroupId]);

    const notPlaced = emulateAccount(setup());
    const none = await collectInventory(new LiveSource({ ec2: notPlaced.ec2, eks: notPlaced.eks }, 'eu-west-1'), {
      clusterNames: [],
      concurrency: 2,
      now: NOW,
      network: true,
      functionPlacement: { subnetIds: [], securityGroupIds: [] },
    });
    expect(notPlaced.calls).toEqual(plain.calls);
    expect(none.functionPlacement).toEqual({ subnetIds: [], securityGroupIds: [] });
    expect(none.clusters.every((c) => c.clusterSecurityGroups === undefined)).toBe(true);
  });

  it('let the diagnosis name the cluster security group for prod (same VPC) and the placement for dev (another VPC)', async () => {
    const aws = emulateAccount(setup());
    const inv = await collectInventory(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1'), {
      clusterNames: [],
      concurrency: 2,
      now: NOW,
      network: true,
      functionPlacement: PLACED,
    });
    // What the reader (lib/kube) reports when the connection times out.
    for (const c of inv.clusters) {
      c.kube = { readAt: NOW.toISOString(), access: { ok: false, reason: 'unreachable', detail: 'connect ETIMEDOUT', fix: 'see docs/kubernetes.md' }, unread: [] };
    }
    const findings = diagnose(measure(inv), inv, DEFAULT_THRESHOLDS).filter((f) => f.kind === 'kube-access');
    const by = Object.fromEntries(findings.map((f) => [f.cluster, f.evidence['blockedBy']]));
    expect(by).toEqual({ prod: 'security-group', dev: 'placement' });
  });
});
