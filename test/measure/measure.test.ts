import type { NetworkInterface } from '@aws-sdk/client-ec2';
import { HOLDERS } from '../../lib/measure/eni';
import {
  EKS_CONTROL_PLANE_MIN_FREE_IPS,
  EKS_CONTROL_PLANE_RECOMMENDED_FREE_IPS,
  measure,
  measureCluster,
  measureControlPlane,
  nodegroupOf,
  usableAddresses,
} from '../../lib/measure/measure';
import type { SubnetUsage } from '../../lib/measure/types';
import type { Instance } from '../../lib/inventory/types';
import {
  addresses,
  branchEni,
  clusterInventory,
  cniEni,
  controlPlaneEni,
  eni,
  instance,
  instanceTypes,
  loadBalancerEni,
  managedCni,
  managedTags,
  natGatewayEni,
  nodegroup,
  nodePrimaryEni,
  REGION,
  subnet,
} from './builders';

const sum = (held: Record<string, number>): number => Object.values(held).reduce((a, b) => a + b, 0);

describe('usableAddresses', () => {
  // VPC user guide, "Subnet CIDR blocks": the first four and the last address are reserved.
  it.each([
    ['10.0.0.0/16', 65531],
    ['10.0.1.0/24', 251],
    ['10.0.1.0/28', 11],
    ['100.64.0.0/19', 8187],
    [' 10.0.1.0/24 ', 251],
    ['10.0.1.7/32', 0],
  ])('%s has %i usable addresses', (cidr, usable) => {
    expect(usableAddresses(cidr)).toBe(usable);
  });

  it.each(['10.0.1.0', '10.0.1.0/33', '300.0.1.0/24', '10.0.256.0/24', '2600:1f18::/64', '', 'subnet-0123', '10.0.1.0/2x'])(
    'throws for "%s", naming it',
    (cidr) => {
      expect(() => usableAddresses(cidr)).toThrow(`"${cidr}" is not an IPv4 CIDR block`);
    },
  );
});

describe('nodegroupOf', () => {
  const cases: [string, Record<string, string>, { name: string; kind: string }][] = [
    ['a managed nodegroup (its ASG tag notwithstanding)', managedTags('prod', 'general'), { name: 'general', kind: 'managed' }],
    ['a Karpenter NodePool', { 'karpenter.sh/nodepool': 'default', 'kubernetes.io/cluster/prod': 'owned' }, { name: 'karpenter:default', kind: 'karpenter' }],
    ['a Karpenter v1alpha5 Provisioner', { 'karpenter.sh/provisioner-name': 'batch' }, { name: 'karpenter:batch', kind: 'karpenter' }],
    ['a self-managed Auto Scaling group', { 'aws:autoscaling:groupName': 'legacy-workers', 'kubernetes.io/cluster/prod': 'owned' }, { name: 'asg:legacy-workers', kind: 'self-managed' }],
    ['a lone instance', { 'kubernetes.io/cluster/prod': 'owned' }, { name: 'self-managed', kind: 'self-managed' }],
  ];
  it.each(cases)('%s', (_, tags, expected) => {
    expect(nodegroupOf(instance('i-0123', 'm5.large', 'subnet-1', 'eu-west-1a', tags))).toEqual(expected);
  });
});

describe('measureControlPlane', () => {
  const cp = (id: string, az: string, available: number, roles: SubnetUsage['roles'] = ['cluster']): SubnetUsage => ({
    subnetId: id,
    vpcId: 'vpc-1',
    availabilityZone: az,
    cidrBlock: '10.0.0.0/28',
    roles,
    usable: 11,
    available,
    used: 11 - available,
    utilization: (11 - available) / 11,
    held: { NodePrimary: 0, CniSecondary: 0, CniPrefix: 0, ControlPlane: 0, Other: 0, Unaccounted: 0, Reserved: 0 },
    others: [],
    controlPlaneClusters: [],
    enis: 0,
    overcounted: 0,
  });

  it('cites EKS\'s figures: 6 free at least, 16 recommended', () => {
    expect([EKS_CONTROL_PLANE_MIN_FREE_IPS, EKS_CONTROL_PLANE_RECOMMENDED_FREE_IPS]).toEqual([6, 16]);
  });

  const cases: [string, SubnetUsage[], { minAvailable: number; azsWithMinimum: number; meetsMinimum: boolean; meetsRecommended: boolean; upgradeReady: boolean }][] = [
    ['5 free in two AZs: below the minimum', [cp('a', 'eu-west-1a', 5), cp('b', 'eu-west-1b', 5)], { minAvailable: 5, azsWithMinimum: 0, meetsMinimum: false, meetsRecommended: false, upgradeReady: false }],
    ['6 free in two AZs: the minimum, upgrade-ready', [cp('a', 'eu-west-1a', 6), cp('b', 'eu-west-1b', 6)], { minAvailable: 6, azsWithMinimum: 2, meetsMinimum: true, meetsRecommended: false, upgradeReady: true }],
    ['6 and 5: one AZ short', [cp('a', 'eu-west-1a', 6), cp('b', 'eu-west-1b', 5)], { minAvailable: 5, azsWithMinimum: 1, meetsMinimum: false, meetsRecommended: false, upgradeReady: false }],
    ['15 free in two AZs: not the recommended 16', [cp('a', 'eu-west-1a', 15), cp('b', 'eu-west-1b', 200)], { minAvailable: 15, azsWithMinimum: 2, meetsMinimum: true, meetsRecommended: false, upgradeReady: true }],
    ['16 free in two AZs: recommended', [cp('a', 'eu-west-1a', 16), cp('b', 'eu-west-1b', 16)], { minAvailable: 16, azsWithMinimum: 2, meetsMinimum: true, meetsRecommended: true, upgradeReady: true }],
    ['plenty free but one AZ: no upgrade', [cp('a', 'eu-west-1a', 100), cp('a2', 'eu-west-1a', 100)], { minAvailable: 100, azsWithMinimum: 1, meetsMinimum: true, meetsRecommended: true, upgradeReady: false }],
    [
      'node-only subnets do not count',
      [cp('a', 'eu-west-1a', 16), cp('b', 'eu-west-1b', 16), cp('n', 'eu-west-1c', 0, ['node'])],
      { minAvailable: 16, azsWithMinimum: 2, meetsMinimum: true, meetsRecommended: true, upgradeReady: true },
    ],
    ['no cluster subnet at all', [cp('n', 'eu-west-1c', 100, ['node'])], { minAvailable: 0, azsWithMinimum: 0, meetsMinimum: false, meetsRecommended: false, upgradeReady: false }],
  ];
  it.each(cases)('%s', (_, subnets, expected) => {
    expect(measureControlPlane(subnets)).toMatchObject(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// One cluster, two /24 subnets, every kind of holder.
//
// subnet A (10.0.1.0/24, eu-west-1a), 251 usable:
//   i-0aaa (m5.large, nodegroup general): primary ENI + 2 CNI ENIs, 1 + 9 addresses each: at its
//     ENI limit (3) and its IP limit (3 × 9 = 27 pod IPs)              NodePrimary 3, CniSecondary 27
//   i-0bbb (m5.large, nodegroup general): primary ENI with two /28s     NodePrimary 1, CniPrefix 32
//   Amazon EKS prod                                                     ControlPlane 1
//   NAT gateway, load balancer                                          Other 2
//   branch ENI (security groups for pods)                               CniSecondary 1
//   visible 67; AvailableIpAddressCount 174, so used 77 and 10 unaccounted.
// subnet B (10.0.2.0/24, eu-west-1b):
//   i-0ccc (c6in.32xlarge, Karpenter default): primary ENI 1 + 4, CNI ENI 1 + 4 on card 0, and an
//     ENI of 1 + 2 on network card 1 (not the CNI's card: not the node's, but the subnet's)
//                                                                       NodePrimary 3, CniSecondary 10
//   Amazon EKS prod                                                     ControlPlane 1
//   visible 14; AvailableIpAddressCount 237.
// nodegroup spare (t3.medium, desired 0): no nodes, kept.
// ---------------------------------------------------------------------------------------------
const A = 'subnet-0a1a1a1a1a1a1a1a1';
const B = 'subnet-0b2b2b2b2b2b2b2b2';
const AZ_A = 'eu-west-1a';
const AZ_B = 'eu-west-1b';
const FULL = 'i-0aaa1111aaaa1111a';
const PREFIX = 'i-0bbb2222bbbb2222b';
const KARPENTER = 'i-0ccc3333cccc3333c';

function twoSubnetCluster(): Parameters<typeof measureCluster> {
  const enis: NetworkInterface[] = [
    nodePrimaryEni(FULL, A, AZ_A, addresses('10.0.1.0', 10, 10)),
    cniEni(FULL, A, AZ_A, addresses('10.0.1.0', 20, 10), { deviceIndex: 1 }),
    cniEni(FULL, A, AZ_A, addresses('10.0.1.0', 30, 10), { deviceIndex: 2 }),
    nodePrimaryEni(PREFIX, A, AZ_A, ['10.0.1.40'], ['10.0.1.224/28', '10.0.1.208/28']),
    controlPlaneEni('prod', A, AZ_A, '10.0.1.4'),
    natGatewayEni(A, AZ_A, '10.0.1.5'),
    loadBalancerEni(A, AZ_A, '10.0.1.6'),
    branchEni(A, AZ_A, '10.0.1.41'),
    nodePrimaryEni(KARPENTER, B, AZ_B, addresses('10.0.2.0', 10, 5)),
    cniEni(KARPENTER, B, AZ_B, addresses('10.0.2.0', 20, 5), { deviceIndex: 1 }),
    cniEni(KARPENTER, B, AZ_B, addresses('10.0.2.0', 30, 3), { deviceIndex: 0, networkCardIndex: 1 }),
    controlPlaneEni('prod', B, AZ_B, '10.0.2.4'),
  ];
  const inv = clusterInventory({
    name: 'prod',
    subnets: [
      [subnet(A, '10.0.1.0/24', AZ_A, 174), ['cluster', 'node']],
      [subnet(B, '10.0.2.0/24', AZ_B, 237), ['cluster', 'node']],
    ],
    networkInterfaces: enis,
    instances: [
      instance(FULL, 'm5.large', A, AZ_A, managedTags('prod', 'general')),
      instance(PREFIX, 'm5.large', A, AZ_A, managedTags('prod', 'general')),
      instance(KARPENTER, 'c6in.32xlarge', B, AZ_B, { 'karpenter.sh/nodepool': 'default', 'kubernetes.io/cluster/prod': 'owned' }),
    ],
    nodegroups: [nodegroup('prod', 'general', ['m5.large'], [A, B], 2), nodegroup('prod', 'spare', ['t3.medium'], [A, B], 0)],
  });
  return [inv, instanceTypes('m5.large', 'c6in.32xlarge', 't3.medium')];
}

describe('measureCluster: subnets', () => {
  const usage = measureCluster(...twoSubnetCluster());
  const a = usage.subnets.find((s) => s.subnetId === A)!;
  const b = usage.subnets.find((s) => s.subnetId === B)!;

  it('measures subnet A holder by holder', () => {
    expect(a).toMatchObject({
      vpcId: 'vpc-05cb6340ff1bbcd88',
      availabilityZone: AZ_A,
      cidrBlock: '10.0.1.0/24',
      roles: ['cluster', 'node'],
      usable: 251,
      available: 174,
      used: 77,
      enis: 8,
      held: { NodePrimary: 4, CniSecondary: 28, CniPrefix: 32, ControlPlane: 1, Other: 2, Unaccounted: 10 },
      controlPlaneClusters: ['prod'],
      overcounted: 0,
    });
    expect(a.utilization).toBeCloseTo(77 / 251, 10);
    expect(a.others).toEqual([
      // Equal counts: by label, as people read them (localeCompare).
      { label: 'load balancer', enis: 1, ips: 1 },
      { label: 'NAT gateway', enis: 1, ips: 1 },
    ]);
  });

  it('counts an ENI on network card 1 in its subnet', () => {
    expect(b).toMatchObject({ used: 14, enis: 4, held: { NodePrimary: 3, CniSecondary: 10, CniPrefix: 0, ControlPlane: 1, Other: 0, Unaccounted: 0 } });
  });

  it.each([A, B])('the holders of %s add up to what EC2 says is used', (id) => {
    const s = usage.subnets.find((x) => x.subnetId === id)!;
    expect(sum(s.held)).toBe(s.used);
    expect(Object.keys(s.held).sort()).toEqual([...HOLDERS].sort());
  });

  it('sorts subnets by AZ', () => {
    expect(usage.subnets.map((s) => s.subnetId)).toEqual([A, B]);
  });
});

describe('measureCluster: nodes', () => {
  const usage = measureCluster(...twoSubnetCluster());
  const node = (id: string) => usage.nodes.find((n) => n.instanceId === id)!;

  it('a node at its ENI limit and its IP limit (m5.large: 3 ENIs × 10 IPv4 → 27 pod slots, max pods 29)', () => {
    expect(node(FULL)).toEqual({
      instanceId: FULL,
      instanceType: 'm5.large',
      nodegroup: 'general',
      subnetId: A,
      availabilityZone: AZ_A,
      mode: 'secondary-ip',
      enis: 3,
      trunkEnis: 0,
      unmanagedEnis: 0,
      secondaryIps: 27,
      prefixes: 0,
      podIps: 27,
      limits: { maxEnis: 3, ipv4PerEni: 10, podEnis: 3, podIpSlots: 27, maxPods: 29, maxPodsUncapped: 29, maxPodsSource: 'calculator' },
      atEniLimit: true,
      atIpLimit: true,
      // No Kubernetes part: the ipamd model's range (WARM_ENI_TARGET=1 keeps a third full ENI from 2 pods up).
      podIpsSource: 'estimated',
      podIpUse: { source: 'estimated', assignedMin: 2, assignedMax: 27, warmMin: 0, warmMax: 25, consistent: true },
    });
  });

  it('a node with /28 prefixes is in prefix mode: 16 addresses a prefix, max pods capped at 110', () => {
    expect(node(PREFIX)).toMatchObject({
      mode: 'prefix',
      enis: 1,
      secondaryIps: 0,
      prefixes: 2,
      podIps: 32,
      // 3 ENIs × (10 − 1) × 16 = 432 slots; + 2 = 434, above the kubelet cap of 110 (2 vCPUs).
      limits: { maxEnis: 3, ipv4PerEni: 10, podIpSlots: 432, maxPods: 110, maxPodsUncapped: 434 },
      atEniLimit: false,
      atIpLimit: false,
    });
  });

  it('an ENI on network card 1 is not counted against the node (limits are the default card\'s)', () => {
    expect(node(KARPENTER)).toMatchObject({
      nodegroup: 'karpenter:default',
      enis: 2,
      secondaryIps: 8,
      podIps: 8,
      // c6in.32xlarge: 8 ENIs on card 0 × 49 = 392; 394 capped at 250 (128 vCPUs).
      limits: { maxEnis: 8, ipv4PerEni: 50, podIpSlots: 392, maxPods: 250, maxPodsUncapped: 394 },
    });
  });
});

describe('measureCluster: nodegroups and totals', () => {
  const usage = measureCluster(...twoSubnetCluster());

  it('rolls nodes up by nodegroup, keeping a managed nodegroup with no nodes', () => {
    expect(usage.nodegroups).toEqual([
      {
        name: 'general',
        kind: 'managed',
        instanceTypes: ['m5.large'],
        status: 'ACTIVE',
        subnetIds: [A, B],
        desiredSize: 2,
        nodes: 2,
        enis: 4,
        maxEnis: 6,
        podIps: 59,
        podIpSlots: 27 + 432,
        podCapacity: 29 + 110,
        nodesAtEniLimit: 1,
        nodesAtIpLimit: 1,
        nodesOfUnknownType: 0,
        nodesEnisUnread: 0,
      },
      {
        name: 'karpenter:default',
        kind: 'karpenter',
        instanceTypes: ['c6in.32xlarge'],
        subnetIds: [B],
        nodes: 1,
        enis: 2,
        maxEnis: 8,
        podIps: 8,
        podIpSlots: 392,
        podCapacity: 250,
        nodesAtEniLimit: 0,
        nodesAtIpLimit: 0,
        nodesOfUnknownType: 0,
        nodesEnisUnread: 0,
      },
      {
        name: 'spare',
        kind: 'managed',
        instanceTypes: ['t3.medium'],
        status: 'ACTIVE',
        subnetIds: [A, B],
        desiredSize: 0,
        nodes: 0,
        enis: 0,
        maxEnis: 0,
        podIps: 0,
        podIpSlots: 0,
        podCapacity: 0,
        nodesAtEniLimit: 0,
        nodesAtIpLimit: 0,
        nodesOfUnknownType: 0,
        nodesEnisUnread: 0,
      },
    ]);
  });

  it('totals the pod subnets and the nodes', () => {
    expect(usage.totals).toEqual({
      availableIps: 174 + 237,
      minSubnetAvailable: 174,
      nodes: 3,
      podCapacity: 29 + 110 + 250,
      podIps: 27 + 32 + 8,
      nodesAtEniLimit: 1,
      nodesAtIpLimit: 1,
    });
  });

  it('checks the control plane against EKS\'s requirements', () => {
    expect(usage.controlPlane).toEqual({
      subnetIds: [A, B],
      minAvailable: 174,
      azsWithMinimum: 2,
      meetsMinimum: true,
      meetsRecommended: true,
      upgradeReady: true,
    });
  });

  it('is complete, with the cluster\'s identity and CNI', () => {
    expect(usage).toMatchObject({
      name: 'prod',
      vpcId: 'vpc-05cb6340ff1bbcd88',
      version: '1.31',
      cni: { install: 'managed', source: 'defaults', warmEniTarget: 1 },
      complete: true,
      problems: [],
    });
  });
});

describe('measureCluster: Unaccounted and overcounted', () => {
  const S = 'subnet-0c3c3c3c3c3c3c3c3';
  // A /28: 11 usable. One node's primary ENI with 1 + 5 addresses and a control-plane ENI: 7 visible.
  const build = (available: number) =>
    measureCluster(
      clusterInventory({
        name: 'prod',
        subnets: [[subnet(S, '10.0.3.0/28', AZ_A, available), ['cluster', 'node']]],
        networkInterfaces: [nodePrimaryEni('i-0n', S, AZ_A, addresses('10.0.3.0', 5, 6)), controlPlaneEni('prod', S, AZ_A, '10.0.3.4')],
        instances: [instance('i-0n', 'm5.large', S, AZ_A, managedTags('prod', 'general'))],
      }),
      instanceTypes('m5.large'),
    ).subnets[0]!;

  it.each([
    // available, used, Unaccounted, overcounted
    [4, 7, 0, 0],
    [1, 10, 3, 0],
    [0, 11, 4, 0],
    [6, 5, 0, 2],
    [11, 0, 0, 7],
  ])('AvailableIpAddressCount %i: used %i, Unaccounted %i, overcounted %i', (available, used, unaccounted, overcounted) => {
    const s = build(available);
    expect({ used: s.used, unaccounted: s.held.Unaccounted, overcounted: s.overcounted }).toEqual({ used, unaccounted, overcounted });
    // Visible holders − overcounted + Unaccounted is always what EC2 says is used.
    expect(sum(s.held) - s.overcounted).toBe(s.used);
  });
});

describe('measureCluster: node limits', () => {
  const S = 'subnet-0d4d4d4d4d4d4d4d4';
  const ID = 'i-0d4d4d4d4d4d4d4d4';
  /** One m5.large whose ENIs carry these counts of secondary addresses. */
  const nodeWith = (secondaries: number[]) => {
    const enis = secondaries.map((n, i) => {
      const ips = addresses('10.0.4.0', 10 + i * 10, n + 1);
      return i === 0 ? nodePrimaryEni(ID, S, AZ_A, ips) : cniEni(ID, S, AZ_A, ips, { deviceIndex: i });
    });
    return measureCluster(
      clusterInventory({
        name: 'prod',
        subnets: [[subnet(S, '10.0.4.0/24', AZ_A, 200), ['node']]],
        networkInterfaces: enis,
        instances: [instance(ID, 'm5.large', S, AZ_A, managedTags('prod', 'general'))],
      }),
      instanceTypes('m5.large'),
    ).nodes[0]!;
  };

  it.each([
    ['one ENI, full', [9], 1, false, false],
    ['two ENIs, full', [9, 9], 2, false, false],
    ['three ENIs, one address slot free', [9, 9, 8], 3, true, false],
    ['three ENIs, every slot taken', [9, 9, 9], 3, true, true],
  ])('%s', (_, secondaries, enis, atEniLimit, atIpLimit) => {
    expect(nodeWith(secondaries)).toMatchObject({ enis, atEniLimit, atIpLimit });
  });
});

describe('measureCluster: ENIs ipamd does not fill, and MAX_ENI (pkg/ipamd/ipamd.go hasRoomForEni, getMaxENI)', () => {
  const S = 'subnet-0f6f6f6f6f6f6f6f6';
  const ID = 'i-0f6f6f6f6f6f6f6f6';
  type Extra = 'trunk' | 'no-manage' | 'no-manage-false' | 'efa-only';
  /** An m5.large (3 ENIs × 10 IPv4) with ipamd's ENIs carrying `secondaries`, then `extra` ENIs. */
  const measureNode = (secondaries: number[], extra: Extra[] = [], env?: Record<string, unknown>, prefixes?: number[]) => {
    let next = 10;
    const ips = (n: number): string[] => {
      const out = addresses('10.0.6.0', next, n);
      next += n;
      return out;
    };
    const enis: NetworkInterface[] = secondaries.map((n, i) => {
      const own = ips(n + 1);
      const pfx = prefixes?.[i] ? Array.from({ length: prefixes[i] ?? 0 }, (_, k) => `10.0.${60 + i}.${16 * k}/28`) : undefined;
      return i === 0 ? nodePrimaryEni(ID, S, AZ_A, own, pfx) : cniEni(ID, S, AZ_A, own, { deviceIndex: i, prefixes: pfx });
    });
    extra.forEach((kind, k) => {
      const deviceIndex = secondaries.length + k;
      if (kind === 'trunk') {
        // As the VPC resource controller attaches it: InterfaceType trunk, its own address only.
        enis.push(eni({ subnetId: S, az: AZ_A, description: 'aws-k8s-trunk-eni', interfaceType: 'trunk', instanceId: ID, deviceIndex, ips: ips(1) }));
      } else if (kind === 'efa-only') {
        enis.push(eni({ subnetId: S, az: AZ_A, interfaceType: 'efa-only', instanceId: ID, deviceIndex, ips: [] }));
      } else {
        const value = kind === 'no-manage' ? 'true' : 'false';
        enis.push(eni({ subnetId: S, az: AZ_A, instanceId: ID, deviceIndex, ips: ips(6), tags: [{ Key: 'node.k8s.amazonaws.com/no_manage', Value: value }] }));
      }
    });
    return measureCluster(
      clusterInventory({
        name: 'prod',
        subnets: [[subnet(S, '10.0.6.0/24', AZ_A, 150), ['node']]],
        networkInterfaces: enis,
        instances: [instance(ID, 'm5.large', S, AZ_A, managedTags('prod', 'general'))],
        cni: managedCni(env),
      }),
      instanceTypes('m5.large'),
    );
  };

  it('an m5.large with a trunk ENI serves 18 pod IPs, not 27, and reaches its IP limit with 2 full ENIs', () => {
    const usage = measureNode([9, 9], ['trunk']);
    expect(usage.nodes[0]).toMatchObject({
      enis: 3,
      trunkEnis: 1,
      unmanagedEnis: 0,
      secondaryIps: 18,
      podIps: 18,
      limits: { maxEnis: 3, podEnis: 2, podIpSlots: 18, maxPods: 29 },
      atEniLimit: true,
      atIpLimit: true,
    });
    expect(usage.totals.nodesAtIpLimit).toBe(1);
    expect(usage.nodegroups[0]).toMatchObject({ podIpSlots: 18, nodesAtIpLimit: 1 });
  });

  it('a trunk ENI with one free address slot left: at the ENI limit, not the IP limit', () => {
    expect(measureNode([9, 8], ['trunk']).nodes[0]).toMatchObject({ podIps: 17, atEniLimit: true, atIpLimit: false });
  });

  it('in prefix mode the trunk leaves 2 × 9 × 16 = 288 slots', () => {
    expect(measureNode([0, 0], ['trunk'], undefined, [9, 9]).nodes[0]).toMatchObject({
      mode: 'prefix',
      prefixes: 18,
      limits: { podEnis: 2, podIpSlots: 288 },
      atIpLimit: true,
    });
  });

  it('an ENI tagged no_manage=true is not counted: its addresses are not pod IPs and it takes an ENI slot', () => {
    const usage = measureNode([9], ['no-manage']);
    expect(usage.nodes[0]).toMatchObject({
      enis: 2,
      unmanagedEnis: 1,
      secondaryIps: 9,
      podIps: 9,
      limits: { podEnis: 2, podIpSlots: 18 },
      atEniLimit: false,
    });
    // Its own address is the node's; its 5 secondaries are not the CNI's.
    const s = usage.subnets[0]!;
    expect(s.held).toMatchObject({ NodePrimary: 2, CniSecondary: 9, Other: 5 });
    expect(s.others).toEqual([{ label: 'node ENI the VPC CNI does not manage', enis: 1, ips: 5 }]);
  });

  it('no_manage=false leaves the ENI to ipamd (setUnmanagedENIs compares with "true")', () => {
    expect(measureNode([9], ['no-manage-false']).nodes[0]).toMatchObject({ unmanagedEnis: 0, secondaryIps: 14, limits: { podIpSlots: 27 } });
  });

  it('an EFA-only ENI takes a slot and carries no pods', () => {
    expect(measureNode([9, 9], ['efa-only']).nodes[0]).toMatchObject({
      enis: 3,
      unmanagedEnis: 1,
      limits: { podEnis: 2, podIpSlots: 18 },
      atEniLimit: true,
      atIpLimit: true,
    });
  });

  it('MAX_ENI=2: two full ENIs are the IP limit, though EC2 would attach a third', () => {
    const usage = measureNode([9, 9], [], { MAX_ENI: '2' });
    expect(usage.cni.maxEni).toBe(2);
    expect(usage.nodes[0]).toMatchObject({ enis: 2, limits: { maxEnis: 3, podEnis: 2, podIpSlots: 18, maxPods: 29 }, atEniLimit: true, atIpLimit: true });
  });

  it('MAX_ENI=2 and a trunk ENI: one ENI for pods', () => {
    expect(measureNode([9], ['trunk'], { MAX_ENI: '2' }).nodes[0]).toMatchObject({ limits: { podEnis: 1, podIpSlots: 9 }, atIpLimit: true });
  });

  it('MAX_ENI above the type\'s maximum changes nothing', () => {
    expect(measureNode([9, 9], [], { MAX_ENI: '8' }).nodes[0]).toMatchObject({ limits: { podEnis: 3, podIpSlots: 27 }, atEniLimit: false });
  });
});

describe('measureCluster: who sets a node\'s max pods (AL2023 nodeadm is not prefix-aware)', () => {
  const S = 'subnet-0a7a7a7a7a7a7a7a7';
  const ID = 'i-0a7a7a7a7a7a7a7a7';
  const prefixNode = (tags: Record<string, string>, nodegroups: ReturnType<typeof nodegroup>[] = []) =>
    measureCluster(
      clusterInventory({
        name: 'prod',
        subnets: [[subnet(S, '10.0.7.0/24', AZ_A, 200), ['node']]],
        networkInterfaces: [nodePrimaryEni(ID, S, AZ_A, addresses('10.0.7.0', 10, 1), ['10.0.7.128/28', '10.0.7.144/28'])],
        instances: [instance(ID, 'm5.large', S, AZ_A, tags)],
        nodegroups,
        cni: managedCni({ ENABLE_PREFIX_DELEGATION: 'true' }),
      }),
      instanceTypes('m5.large'),
    ).nodes[0]!;

  it('a managed nodegroup on an EKS AMI: EKS sets the prefix-mode value, capped (110)', () => {
    const ng = nodegroup('prod', 'general', ['m5.large'], [S], 1);
    expect(prefixNode(managedTags('prod', 'general'), [{ ...ng, amiType: 'AL2023_x86_64_STANDARD' }]).limits).toMatchObject({
      maxPods: 110,
      maxPodsSource: 'calculator',
    });
  });

  it('a self-managed node in prefix mode: nodeadm\'s ENIs × (IPv4 − 1) + 2 = 29, not 110', () => {
    const node = prefixNode({ 'aws:autoscaling:groupName': 'al2023-workers', 'kubernetes.io/cluster/prod': 'owned' });
    expect(node).toMatchObject({ mode: 'prefix', limits: { maxPods: 29, maxPodsUncapped: 434, podIpSlots: 432, maxPodsSource: 'nodeadm-default' } });
  });

  it('a managed nodegroup with a custom AMI: the user data decides, nodeadm\'s default assumed', () => {
    const ng = { ...nodegroup('prod', 'custom', ['m5.large'], [S], 1), amiType: 'CUSTOM' as const };
    expect(prefixNode(managedTags('prod', 'custom'), [ng]).limits).toMatchObject({ maxPods: 29, maxPodsSource: 'nodeadm-default' });
  });
});

describe('measureCluster: problems', () => {
  const S = 'subnet-0e5e5e5e5e5e5e5e5';

  it('a node of an unknown instance type: a problem naming the type and the cluster, and incomplete', () => {
    const usage = measureCluster(
      clusterInventory({
        name: 'legacy',
        subnets: [[subnet(S, '10.0.5.0/24', AZ_A, 240), ['cluster', 'node']]],
        networkInterfaces: [nodePrimaryEni('i-0x9', S, AZ_A, addresses('10.0.5.0', 10, 4))],
        instances: [instance('i-0x9', 'x9.mega', S, AZ_A, { 'aws:autoscaling:groupName': 'legacy-workers', 'kubernetes.io/cluster/legacy': 'owned' })],
      }),
      instanceTypes('m5.large'),
    );
    expect(usage.complete).toBe(false);
    expect(usage.problems).toHaveLength(1);
    expect(usage.problems[0]!.source).toBe('ec2:DescribeInstanceTypes');
    expect(usage.problems[0]!.message).toContain('x9.mega');
    expect(usage.problems[0]!.message).toContain('cluster legacy');
    expect(usage.nodes[0]).toMatchObject({ instanceType: 'x9.mega', enis: 1, podIps: 3, atEniLimit: false, atIpLimit: false });
    expect(usage.nodes[0]!.limits).toBeUndefined();
    expect(usage.nodegroups).toEqual([
      expect.objectContaining({ name: 'asg:legacy-workers', kind: 'self-managed', nodes: 1, nodesOfUnknownType: 1, podCapacity: 0, maxEnis: 0 }),
    ]);
    expect(usage.totals.podCapacity).toBe(0);
  });

  it('names an unknown instance type once, however many nodes run it', () => {
    const usage = measureCluster(
      clusterInventory({
        name: 'legacy',
        subnets: [[subnet(S, '10.0.5.0/24', AZ_A, 240), ['node']]],
        instances: ['i-01', 'i-02', 'i-03'].map((id) => instance(id, 'x9.mega', S, AZ_A, {})),
      }),
      {},
    );
    expect(usage.problems).toHaveLength(1);
  });

  it('an ENI in a subnet not in the inventory: a problem naming the subnet, left out of the figures', () => {
    const elsewhere = 'subnet-0fffffffffffffff9';
    const usage = measureCluster(
      clusterInventory({
        name: 'prod',
        subnets: [[subnet(S, '10.0.5.0/24', AZ_A, 250), ['cluster', 'node']]],
        networkInterfaces: [controlPlaneEni('prod', S, AZ_A, '10.0.5.4'), cniEni('i-0n', elsewhere, AZ_A, addresses('10.9.0.0', 10, 3))],
        instances: [instance('i-0n', 'm5.large', S, AZ_A, managedTags('prod', 'general'))],
      }),
      instanceTypes('m5.large'),
    );
    expect(usage.complete).toBe(false);
    expect(usage.problems).toEqual([
      expect.objectContaining({ source: 'ec2:DescribeNetworkInterfaces', message: expect.stringContaining(elsewhere) as string }),
    ]);
    expect(usage.problems[0]!.message).toContain('cluster prod');
    expect(usage.subnets[0]!.held).toMatchObject({ ControlPlane: 1, NodePrimary: 0, CniSecondary: 0 });
    // The node still owns the ENI: its limits are about the node, wherever the ENI is.
    expect(usage.nodes[0]).toMatchObject({ enis: 1, secondaryIps: 2 });
  });

  it('a subnet whose CIDR cannot be read: a problem naming the subnet, and the subnet left out', () => {
    const usage = measureCluster(
      clusterInventory({ name: 'prod', subnets: [[subnet(S, '10.0.5.0', AZ_A, 250), ['cluster']]] }),
      {},
    );
    expect(usage.subnets).toEqual([]);
    expect(usage.complete).toBe(false);
    expect(usage.problems[0]!.message).toContain(S);
  });

  it('invalid CNI settings: a problem naming each value and the cluster', () => {
    const usage = measureCluster(
      clusterInventory({
        name: 'prod',
        subnets: [[subnet(S, '10.0.5.0/24', AZ_A, 250), ['cluster']]],
        cni: managedCni({ WARM_IP_TARGET: 'lots' }),
      }),
      {},
    );
    expect(usage.complete).toBe(false);
    expect(usage.problems).toEqual([
      {
        source: 'eks:DescribeAddon vpc-cni configurationValues',
        message: expect.stringMatching(/cluster prod: .*WARM_IP_TARGET="lots"/) as string,
      },
    ]);
  });

  it('keeps the collector\'s problems', () => {
    const inv = clusterInventory({ name: 'prod', subnets: [[subnet(S, '10.0.5.0/24', AZ_A, 250), ['cluster']]] });
    inv.problems.push({ source: 'ec2:DescribeInstances', message: 'cluster prod: AccessDenied', code: 'UnauthorizedOperation' });
    const usage = measureCluster(inv, {});
    expect(usage.complete).toBe(false);
    expect(usage.problems).toEqual(inv.problems);
  });

  it('a self-managed CNI is measured with unknown settings', () => {
    const usage = measureCluster(
      clusterInventory({ name: 'prod', subnets: [[subnet(S, '10.0.5.0/24', AZ_A, 250), ['cluster']]], cni: { kind: 'self-managed' } }),
      {},
    );
    expect(usage.cni).toEqual({ source: 'unknown', invalid: [], install: 'self-managed' });
  });
});

describe('measureCluster: a subnet shared by two clusters', () => {
  const S = 'subnet-0f6f6f6f6f6f6f6f6';
  const PROD_NODE = 'i-0prod000000000001';
  const STAGE_NODE = 'i-0stage00000000001';
  // Both clusters see every ENI of the shared subnet; each has its own nodes.
  const enis = [
    controlPlaneEni('prod', S, AZ_A, '10.0.6.4'),
    controlPlaneEni('stage', S, AZ_A, '10.0.6.5'),
    nodePrimaryEni(PROD_NODE, S, AZ_A, addresses('10.0.6.0', 10, 4)),
    nodePrimaryEni(STAGE_NODE, S, AZ_A, addresses('10.0.6.0', 20, 3)),
    cniEni(STAGE_NODE, S, AZ_A, addresses('10.0.6.0', 30, 5)),
  ];
  const shared = subnet(S, '10.0.6.0/24', AZ_A, 251 - 14);
  const measureAs = (name: string, node: Instance) =>
    measureCluster(
      clusterInventory({ name, subnets: [[shared, ['cluster', 'node']]], networkInterfaces: enis, instances: [node] }),
      instanceTypes('m5.large'),
    );
  const prod = measureAs('prod', instance(PROD_NODE, 'm5.large', S, AZ_A, managedTags('prod', 'general')));
  const stage = measureAs('stage', instance(STAGE_NODE, 'm5.large', S, AZ_A, managedTags('stage', 'general')));

  it.each([
    ['prod', prod],
    ['stage', stage],
  ])('%s sees both clusters\' control-plane ENIs as ControlPlane', (_, usage) => {
    const s = usage.subnets[0]!;
    expect(s.controlPlaneClusters).toEqual(['prod', 'stage']);
    expect(s.held.ControlPlane).toBe(2);
    expect(sum(s.held)).toBe(14);
    expect(s.held.Unaccounted).toBe(0);
  });

  it('counts only its own nodes\' ENIs against its nodes', () => {
    expect(prod.nodes.map((n) => [n.instanceId, n.enis, n.podIps])).toEqual([[PROD_NODE, 1, 3]]);
    expect(stage.nodes.map((n) => [n.instanceId, n.enis, n.podIps])).toEqual([[STAGE_NODE, 2, 6]]);
  });

  it("labels the other cluster's node primary ENI as an instance that is not a node", () => {
    expect(prod.subnets[0]!.others).toEqual([{ label: 'EC2 instance (not a node of this cluster)', enis: 1, ips: 3 }]);
    expect(stage.subnets[0]!.others).toEqual([{ label: 'EC2 instance (not a node of this cluster)', enis: 1, ips: 4 }]);
  });
});

describe('measure', () => {
  it('measures every cluster and passes the failed ones and unknown types through', () => {
    const [inv, types] = twoSubnetCluster();
    const usage = measure({
      region: REGION,
      collectedAt: '2026-12-01T10:00:00.000Z',
      clusters: [inv],
      failedClusters: [{ name: 'broken', problem: { source: 'eks:DescribeCluster', message: 'AccessDenied' } }],
      instanceTypes: types,
      unknownInstanceTypes: ['x9.mega'],
    });
    expect(usage).toMatchObject({
      region: REGION,
      collectedAt: '2026-12-01T10:00:00.000Z',
      failedClusters: [{ name: 'broken' }],
      unknownInstanceTypes: ['x9.mega'],
    });
    expect(usage.clusters.map((c) => c.name)).toEqual(['prod']);
  });

  it('an unattached ENI with no description is Other, by status', () => {
    const S = 'subnet-0a7a7a7a7a7a7a7a7';
    const usage = measureCluster(
      clusterInventory({
        name: 'prod',
        subnets: [[subnet(S, '10.0.7.0/24', AZ_A, 249), ['node']]],
        networkInterfaces: [eni({ subnetId: S, az: AZ_A, ips: ['10.0.7.9', '10.0.7.10'], status: 'available' })],
      }),
      {},
    );
    expect(usage.subnets[0]).toMatchObject({ held: { Other: 2 }, others: [{ label: 'unattached ENI', enis: 1, ips: 2 }] });
  });
});
