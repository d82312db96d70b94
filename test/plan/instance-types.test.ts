import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import type { Nodegroup } from '@aws-sdk/client-eks';
import {
  isValidNodegroupName,
  planInstanceTypes,
  policyAllows,
  replacementBlockers,
  replacementName,
} from '../../lib/plan/instance-types';
import { REPLACES_TAG_KEY } from '../../lib/names';
import type { NodegroupReplacementChange, PlanContext, ProposedAction } from '../../lib/plan/types';
import { networkCapacityOf } from '../../lib/capacity/instance-type';
import { knownInstanceTypes } from '../../lib/capacity/known-instance-types';
import { DEFAULT_THRESHOLDS, type Finding } from '../../lib/diagnose/types';
import path from 'node:path';
import { diagnose } from '../../lib/diagnose/diagnose';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import type { ClusterInventory } from '../../lib/inventory/types';
import type { CniSettings } from '../../lib/measure/cni-settings';
import { measure } from '../../lib/measure/measure';
import type { ClusterUsage, NodegroupUsage, NodeUsage, SubnetUsage } from '../../lib/measure/types';
import { effectivePolicy } from '../../lib/policy/load';
import { readPolicyFile } from '../../lib/policy/yaml';
import type { EffectivePolicy, InstanceTypesPolicy } from '../../lib/policy/types';

const CLUSTER = 'payments-prod';
const SUBNET = 'subnet-0a1b2c3d4e5f60718';
const SUBNET_B = 'subnet-0b1b2c3d4e5f60718';
const SUBNET_A2 = 'subnet-0c1b2c3d4e5f60718';

function known(name: string): InstanceTypeInfo {
  const info = knownInstanceTypes().get(name);
  if (!info) throw new Error(`${name} is not in the bundled data`);
  return info;
}

interface Setup {
  name?: string;
  kind?: NodegroupUsage['kind'];
  instanceType?: string;
  declaredTypes?: string[];
  nodes?: number;
  desiredSize?: number;
  status?: string;
  capacityType?: 'ON_DEMAND' | 'SPOT';
  allowedTypes?: string[];
  maxInstanceTypes?: number;
  allowed?: boolean;
  subnetAvailable?: number;
  /** The nodegroup's subnets (default: SUBNET in eu-west-1a with `subnetAvailable` free); nodes go round-robin. */
  subnets?: { id: string; az: string; available: number }[];
  /** CNI settings over the defaults (WARM_ENI_TARGET=1). */
  cni?: Partial<CniSettings>;
  overlapMarginIps?: number;
  maxCapacityIncreasePercent?: number;
  instanceTypes?: Record<string, InstanceTypeInfo>;
  nodegroupOver?: Partial<Nodegroup>;
  otherNodegroups?: Nodegroup[];
}

/** The fixture's subnet: only what the planners read, addresses held all by node primaries and pods. */
function subnetUsage(id: string, az: string, available: number): SubnetUsage {
  const usable = 1019;
  return {
    subnetId: id,
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZone: az,
    cidrBlock: '10.0.0.0/22',
    roles: ['node'],
    usable,
    available,
    used: usable - available,
    utilization: (usable - available) / usable,
    held: { NodePrimary: 0, CniSecondary: usable - available, CniPrefix: 0, ControlPlane: 0, Other: 0, Unaccounted: 0 },
  } as SubnetUsage;
}

/** A cluster with one nodegroup whose nodes are all at their IP limit, and its eni-limit finding. */
function context(s: Setup = {}): PlanContext {
  const name = s.name ?? 'api';
  const kind = s.kind ?? 'managed';
  const type = s.instanceType ?? 'm5.large';
  const cap = networkCapacityOf(known(type));
  const slots = cap.maxEnis * (cap.ipv4PerEni - 1);
  const pods = Math.min(slots + 2, cap.vcpus > 30 ? 250 : 110);
  const count = s.nodes ?? 3;
  const subnetList = s.subnets ?? [{ id: SUBNET, az: 'eu-west-1a', available: s.subnetAvailable ?? 600 }];
  const nodes: NodeUsage[] = Array.from({ length: count }, (_, i) => ({
    instanceId: `i-0000000000000000${i}`,
    instanceType: type,
    nodegroup: name,
    subnetId: subnetList[i % subnetList.length]!.id,
    availabilityZone: subnetList[i % subnetList.length]!.az,
    mode: 'secondary-ip',
    enis: cap.maxEnis,
    secondaryIps: slots,
    prefixes: 0,
    podIps: slots,
    limits: { maxEnis: cap.maxEnis, ipv4PerEni: cap.ipv4PerEni, podIpSlots: slots, maxPods: pods, maxPodsUncapped: slots + 2 },
    atEniLimit: true,
    atIpLimit: true,
  }));
  const ng: NodegroupUsage = {
    name,
    kind,
    instanceTypes: s.declaredTypes ?? [type],
    status: s.status ?? 'ACTIVE',
    subnetIds: subnetList.map((x) => x.id),
    desiredSize: s.desiredSize ?? count,
    nodes: count,
    enis: count * cap.maxEnis,
    maxEnis: count * cap.maxEnis,
    podIps: count * slots,
    podIpSlots: count * slots,
    podCapacity: count * pods,
    nodesAtEniLimit: count,
    nodesAtIpLimit: count,
    nodesOfUnknownType: 0,
  };
  const usage = {
    name: CLUSTER,
    version: '1.30',
    cni: { source: 'defaults', install: 'managed', prefixDelegation: false, customNetworking: false, warmEniTarget: 1, invalid: [], ...s.cni },
    subnets: subnetList.map((x) => subnetUsage(x.id, x.az, x.available)),
    nodes,
    nodegroups: [ng],
    complete: true,
    problems: [],
  } as unknown as ClusterUsage;
  const managed: Nodegroup[] =
    kind === 'managed'
      ? [
          {
            nodegroupName: name,
            clusterName: CLUSTER,
            status: (s.status ?? 'ACTIVE') as Nodegroup['status'],
            capacityType: s.capacityType ?? 'ON_DEMAND',
            instanceTypes: s.declaredTypes ?? [type],
            scalingConfig: { minSize: 1, maxSize: 6, desiredSize: s.desiredSize ?? count },
            subnets: subnetList.map((x) => x.id),
            amiType: cap.architectures.includes('arm64') ? 'AL2023_ARM_64_STANDARD' : 'AL2023_x86_64_STANDARD',
            nodeRole: 'arn:aws:iam::111122223333:role/node',
            ...s.nodegroupOver,
          },
        ]
      : [];
  const inventory = { name: CLUSTER, nodegroups: [...managed, ...(s.otherNodegroups ?? [])], networkInterfaces: [] } as unknown as ClusterInventory;
  const finding: Finding = {
    id: `${CLUSTER}/eni-limit/${name}`,
    cluster: CLUSTER,
    kind: 'eni-limit',
    severity: 'critical',
    subject: { type: 'nodegroup', id: name },
    title: `Nodegroup ${name}: ${count} of ${count} nodes at their IP limit (${type}, max ${pods} pods)`,
    evidence: {},
    evidenceText: [],
    fixes: [],
  };
  const instanceTypes: InstanceTypesPolicy = {
    allowed: s.allowed ?? true,
    cooldownMinutes: 60,
    allowedTypes: s.allowedTypes ?? ['m5', 'm6i', 'm7i'],
    maxInstanceTypes: s.maxInstanceTypes ?? 3,
    overlapMarginIps: s.overlapMarginIps ?? 16,
    // The fixture lets a replacement double the nodegroup (m5.large → m5.xlarge is +100 %) so that
    // the candidate and ranking tests see what they test; the policy's default (25) has its own tests.
    maxCapacityIncreasePercent: s.maxCapacityIncreasePercent ?? 100,
  };
  const policy = { cluster: CLUSTER, mode: 'apply', thresholds: DEFAULT_THRESHOLDS, actions: { instanceTypes } } as unknown as EffectivePolicy;
  return {
    usage,
    inventory,
    instanceTypes: s.instanceTypes ?? { [type]: known(type) },
    findings: [finding],
    policy,
    now: new Date('2026-11-20T10:00:00.000Z'),
  };
}

function only(ctx: PlanContext): ProposedAction & { change: NodegroupReplacementChange } {
  const actions = planInstanceTypes(ctx);
  expect(actions).toHaveLength(1);
  const a = actions[0];
  if (!a || a.change.type !== 'replace-nodegroup') throw new Error('expected one replace-nodegroup action');
  return a as ProposedAction & { change: NodegroupReplacementChange };
}

describe('policyAllows', () => {
  it.each([
    [['m6i'], 'm6i.xlarge', true],
    [['m6i'], 'm6id.xlarge', false],
    [['m6i.xlarge'], 'm6i.xlarge', true],
    [['m6i.xlarge'], 'm6i.2xlarge', false],
    [[], 'm6i.xlarge', false],
  ])('%j allows %s: %s', (allowed, type, expected) => {
    expect(policyAllows(allowed, type)).toBe(expected);
  });
});

describe('planInstanceTypes: candidates', () => {
  it('m5.large → allowed families m5/m6i/m7i, x86_64, ≥ 2 vCPU and 8 GiB, more max pods', () => {
    const a = only(context());
    expect(a.blockers).toEqual([]);
    expect(a.change.ranking.length).toBeGreaterThan(0);
    for (const r of a.change.ranking) {
      const info = known(r.instanceType);
      expect(['m5', 'm6i', 'm7i']).toContain(r.instanceType.split('.')[0]);
      expect(info.ProcessorInfo?.SupportedArchitectures).toContain('x86_64');
      expect(info.VCpuInfo?.DefaultVCpus).toBeGreaterThanOrEqual(2);
      expect(info.VCpuInfo?.DefaultVCpus).toBeLessThanOrEqual(4);
      expect(info.MemoryInfo?.SizeInMiB).toBeGreaterThanOrEqual(8192);
      expect(r.maxPods).toBeGreaterThan(29);
    }
    // The .large sizes have m5.large's 29 max pods and gain nothing; the .xlarge sizes of the three
    // families (4 ENIs × 15 IPs: 58) tie, and all three go on the nodegroup.
    expect([...a.change.toInstanceTypes].sort()).toEqual(['m5.xlarge', 'm6i.xlarge', 'm7i.xlarge']);
    expect(a.change.fromInstanceTypes).toEqual(['m5.large']);
    expect(a.change.ranking[0]).toMatchObject({ maxPods: 58 });
    expect(a.predicted.podHeadroomGained).toBe((58 - 29) * 3);
    expect(a.id).toBe('payments-prod/instance-types/api');
    expect(a.findingIds).toEqual(['payments-prod/eni-limit/api']);
  });

  it('takes live instance-type data over the bundled data', () => {
    // A region where m6i.xlarge had more ENIs would rank it first with its live limits.
    const bundled = known('m6i.xlarge');
    const live = { ...bundled, NetworkInfo: { ...bundled.NetworkInfo, MaximumNetworkInterfaces: 8, NetworkCards: [{ NetworkCardIndex: 0, MaximumNetworkInterfaces: 8 }] } };
    const a = only(context({ instanceTypes: { 'm5.large': known('m5.large'), 'm6i.xlarge': live } }));
    expect(a.change.ranking[0]).toMatchObject({ instanceType: 'm6i.xlarge', maxPods: 110 });
    expect(a.change.toInstanceTypes[0]).toBe('m6i.xlarge');
  });

  it('keeps an arm64 nodegroup on arm64', () => {
    const a = only(context({ instanceType: 'c6g.2xlarge', allowedTypes: ['c6g', 'c7g', 'c6i', 'm6i', 'c7i'] }));
    expect(a.change.ranking.length).toBeGreaterThan(0);
    for (const r of a.change.ranking) {
      expect(known(r.instanceType).ProcessorInfo?.SupportedArchitectures).toEqual(['arm64']);
    }
    // 8 → 16 vCPUs: 8 ENIs × 30 IPs, 234 uncapped, 110 with the kubelet cap.
    expect(a.change.toInstanceTypes).toEqual(['c6g.4xlarge', 'c7g.4xlarge']);
    expect(a.change.ranking[0]).toMatchObject({ maxPods: 110 });
  });

  it('proposes nothing when the policy allows no instance types', () => {
    const a = only(context({ allowedTypes: [] }));
    expect(a.change.toInstanceTypes).toEqual([]);
    expect(a.change.ranking).toEqual([]);
    expect(a.blockers).toContainEqual(expect.stringContaining('policy allows no instance types'));
  });

  it('blocks when no allowed type gains, or gains with less memory or another architecture', () => {
    // m7i.large: 29 max pods like m5.large; c8i.large: 59 max pods but 4 GiB; m7g: arm64.
    const a = only(context({ allowedTypes: ['m7i.large', 'c8i.large', 'm7g'] }));
    expect(a.change.toInstanceTypes).toEqual([]);
    expect(a.blockers).toContainEqual(expect.stringMatching(/^no instance type allowed by the policy/));
  });

  it('plans nothing when the policy does not allow the action', () => {
    expect(planInstanceTypes(context({ allowed: false }))).toEqual([]);
  });

  it('keeps Spot and offers several types of the same vCPUs and memory', () => {
    const a = only(
      context({ capacityType: 'SPOT', declaredTypes: ['m5.large', 'm5a.large'], allowedTypes: ['m5a', 'm6a', 'm7a', 'm7i'], maxInstanceTypes: 3 }),
    );
    expect(a.change.toInstanceTypes).toHaveLength(3);
    for (const t of a.change.toInstanceTypes) {
      expect(known(t).VCpuInfo?.DefaultVCpus).toBe(4);
      expect(known(t).MemoryInfo?.SizeInMiB).toBe(16384);
    }
    expect(a.reason).not.toMatch(/single instance type/);
  });

  it('says so when Spot gets a single type', () => {
    const a = only(context({ capacityType: 'SPOT', maxInstanceTypes: 1 }));
    expect(a.change.toInstanceTypes).toHaveLength(1);
    expect(a.reason).toMatch(/Spot with a single instance type/);
  });
});

describe('planInstanceTypes: ranking', () => {
  // m8i.xlarge: 4 ENIs × 30 IPs, 110 max pods (capped), but with WARM_ENI_TARGET=1 a node carrying
  // today's 27 pods holds 2 ENIs + 58 IPs = 60 (2.22 per pod); m7i.xlarge: 58 max pods, 3 ENIs + 42
  // IPs = 45 (1.67 per pod).
  it('ranks by max pods when the subnet has room', () => {
    const a = only(context({ allowedTypes: ['m7i', 'm8i'], maxInstanceTypes: 1 }));
    expect(a.change.ranking.map((r) => r.instanceType)).toEqual(['m8i.xlarge', 'm8i.large', 'm7i.xlarge']);
    expect(a.change.ranking.map((r) => [r.maxPods, r.subnetIpsPerPod])).toEqual([
      [110, 2.22],
      [59, 2.22],
      [58, 1.67],
    ]);
    expect(a.change.toInstanceTypes).toEqual(['m8i.xlarge']);
  });

  it('ranks by subnet addresses per pod first when the subnet is scarce', () => {
    const a = only(context({ allowedTypes: ['m7i', 'm8i'], maxInstanceTypes: 1, subnetAvailable: 40 }));
    expect(a.change.ranking.map((r) => r.instanceType)).toEqual(['m7i.xlarge', 'm8i.xlarge', 'm8i.large']);
    expect(a.change.toInstanceTypes).toEqual(['m7i.xlarge']);
    expect(a.predicted.text).toContain('1.11 → 1.67');
  });

  it('never proposes more than twice the current vCPUs when a smaller type gains', () => {
    const a = only(context({ allowedTypes: ['m7i'] }));
    expect(a.change.ranking.map((r) => r.instanceType)).toEqual(['m7i.xlarge']);
  });
});

describe('planInstanceTypes: the change', () => {
  it('names the new nodegroup <old>-ipr-<hash of the types> and copies the scaling', () => {
    const a = only(context());
    expect(a.change.newNodegroup).toBe(replacementName('api', a.change.toInstanceTypes));
    expect(replacementName('api', ['m7i.xlarge'])).not.toBe(a.change.newNodegroup);
    expect(a.change.newNodegroup).toMatch(/^api-ipr-[0-9a-f]{8}$/);
    expect(a.change.scaling).toEqual({ minSize: 1, maxSize: 6, desiredSize: 3 });
  });

  it('starts the new nodegroup at the running node count when it is above desired', () => {
    const a = only(context({ nodes: 7, desiredSize: 5 }));
    expect(a.change.scaling).toEqual({ minSize: 1, maxSize: 7, desiredSize: 7 });
  });

  it('keeps the name within 63 characters', () => {
    const long = 'a'.repeat(60);
    const a = only(context({ name: long }));
    expect(a.change.newNodegroup).toHaveLength(63);
    expect(isValidNodegroupName(a.change.newNodegroup)).toBe(true);
    expect(replacementName(long, ['m7i.xlarge'])).not.toBe(replacementName(long, ['m6i.xlarge']));
  });

  it('notes a custom AMI without blocking', () => {
    const a = only(context({ nodegroupOver: { amiType: 'CUSTOM', launchTemplate: { id: 'lt-0f1e2d3c4b5a69788', version: '3' } } }));
    expect(a.blockers).toEqual([]);
    expect(a.reason).toMatch(/custom AMI/);
  });
});

describe('planInstanceTypes: blockers', () => {
  it('blocks a Karpenter NodePool and says to change its requirements', () => {
    const a = only(context({ name: 'karpenter:default', kind: 'karpenter' }));
    expect(a.change.newNodegroup).toBe('');
    expect(a.blockers).toContainEqual(expect.stringContaining("change the NodePool's requirements"));
  });

  it('blocks a self-managed group and says to change its launch template', () => {
    const a = only(context({ name: 'asg:legacy-nodes', kind: 'self-managed' }));
    expect(a.blockers).toContainEqual(expect.stringContaining('launch template (or mixed instances policy) of its Auto Scaling group'));
  });

  it('blocks a nodegroup that is not ACTIVE', () => {
    const a = only(context({ status: 'UPDATING' }));
    expect(a.blockers).toContainEqual('nodegroup api is UPDATING, not ACTIVE');
  });

  it('blocks when a replacement exists already', () => {
    const existing: Nodegroup = { nodegroupName: replacementName('api', ['m7i.xlarge']), status: 'CREATING' };
    const a = only(context({ otherNodegroups: [existing] }));
    expect(a.blockers).toContainEqual(`a replacement of api exists already: nodegroup ${existing.nodegroupName ?? ''}`);
  });

  it('blocks when the launch template sets the instance type', () => {
    const a = only(context({ declaredTypes: [], nodegroupOver: { instanceTypes: undefined, launchTemplate: { id: 'lt-1', version: '1' } } }));
    expect(a.blockers).toContainEqual(expect.stringContaining('takes its instance type from its launch template'));
  });
});

describe('replacementBlockers', () => {
  const long = 'payments-platform-general-purpose-arm64-nodes-eu-west-1a'; // 57 characters: cut in the replacement's name
  const planned = replacementName(long, ['m7g.xlarge']);

  it('nothing stops a first replacement', () => {
    expect(planned.length).toBeLessThanOrEqual(63);
    expect(replacementBlockers([{ nodegroupName: long }], long, planned)).toEqual([]);
  });

  it.each<[string, Nodegroup]>([
    ['the planned name', { nodegroupName: planned }],
    ['an earlier replacement of a long name, for other types (cut prefix, other hash), untagged', { nodegroupName: replacementName(long, ['c7g.xlarge']) }],
    ['any nodegroup tagged as replacing it', { nodegroupName: 'other', tags: { [REPLACES_TAG_KEY]: long } }],
  ])('a replacement that exists already: %s', (_, existing) => {
    expect(replacementBlockers([{ nodegroupName: long }, existing], long, planned)).toEqual([`a replacement of ${long} exists already: nodegroup ${existing.nodegroupName}`]);
  });

  it('a name EKS would refuse', () => {
    expect(replacementBlockers([], 'x', 'bad name')).toEqual(['replacement name bad name is not a valid nodegroup name']);
  });
});

/**
 * The demo's case (issue 10, point 6): 10 × m5.large over two AZs, WARM_IP_TARGET=5 and
 * MINIMUM_IP_TARGET=10, the subnet in eu-west-1a at 7 free. An m5.xlarge at today's 27 pods holds
 * max(27 + 5, 10) = 32 pod and warm addresses on 3 ENIs (14 secondaries each): 35 addresses, 175
 * for the 5 new nodes an AZ gets.
 */
const TWO_AZS = (a: number, b = 307): Setup => ({
  nodes: 10,
  desiredSize: 10,
  subnets: [
    { id: SUBNET, az: 'eu-west-1a', available: a },
    { id: SUBNET_B, az: 'eu-west-1b', available: b },
  ],
  cni: { source: 'add-on', warmIpTarget: 5, minimumIpTarget: 10 },
});

const ROOM_1A = (free: number, margin = 16): string =>
  `eu-west-1a: ${SUBNET} has ${free} free addresses, the 5 new m5.xlarge/m6i.xlarge/m7i.xlarge nodes need 175 during the overlap ` +
  `(+${margin} margin, actions.instanceTypes.overlapMarginIps); 35 each at 27 pods: 3 ENI primary addresses + 32 for pods and the warm pool`;

const DOUBLED =
  'capacity would grow by +100 %, above actions.instanceTypes.maxCapacityIncreasePercent = 25 %: vCPU +100 % (20 → 40), memory +100 % (80 GiB → 160 GiB); ' +
  'no allowed type that gains max pods is within it';

describe('planInstanceTypes: room during the overlap', () => {
  it('blocks the demo case: 5 new m5.xlarge nodes in an AZ whose subnet has 7 free, naming the numbers', () => {
    const a = only(context({ ...TWO_AZS(7), maxCapacityIncreasePercent: 25 }));
    expect(a.change.toInstanceTypes).toEqual(['m5.xlarge', 'm6i.xlarge', 'm7i.xlarge']);
    expect(a.blockers).toEqual([DOUBLED, ROOM_1A(7)]);
    // The overlap's cost is what the check counted; after the old nodes go, 5 more per node (the
    // warm pool a capped m5.large cannot hold: 3 ENIs + 27 = 30 against 35).
    expect(a.predicted.overlapIpsBySubnet).toEqual({ [SUBNET]: -175, [SUBNET_B]: -175 });
    expect(a.predicted.ipsFreedBySubnet).toEqual({ [SUBNET]: -25, [SUBNET_B]: -25 });
    expect(a.predicted.ipsFreed).toBe(-50);
    expect(a.predicted.text).toContain(`they take up to 175 in ${SUBNET} (7 free), 175 in ${SUBNET_B} (307 free)`);
  });

  it('plans it when every AZ has room for its new nodes and the margin', () => {
    const a = only(context(TWO_AZS(400)));
    expect(a.blockers).toEqual([]);
    expect(a.predicted.overlapIpsBySubnet).toEqual({ [SUBNET]: -175, [SUBNET_B]: -175 });
    expect(a.predicted.ipsFreedBySubnet).toEqual({ [SUBNET]: -25, [SUBNET_B]: -25 });
  });

  it.each<[string, Setup, string | undefined]>([
    ['one address short of the need and the margin', TWO_AZS(190), ROOM_1A(190)],
    ['exactly the need and the margin', TWO_AZS(191), undefined],
    ['no margin: exactly the need', { ...TWO_AZS(175), overlapMarginIps: 0 }, undefined],
    ['no margin: one address short', { ...TWO_AZS(174), overlapMarginIps: 0 }, ROOM_1A(174, 0)],
  ])('%s', (_name, setup, blocker) => {
    const a = only(context(setup));
    expect(a.blockers).toEqual(blocker ? [blocker] : []);
  });

  it('checks each AZ for the larger share when the nodes do not divide evenly (Auto Scaling balances, the remainder may go anywhere)', () => {
    // 9 nodes over 2 AZs: 4 or 5 each. 156 free is room for 4 (140 + 16), not for 5 (175 + 16).
    const a = only(context({ ...TWO_AZS(156, 600), nodes: 9, desiredSize: 9 }));
    expect(a.blockers).toEqual([ROOM_1A(156)]);
    expect(a.predicted.overlapIpsBySubnet).toEqual({ [SUBNET]: -175, [SUBNET_B]: -175 });
  });

  it('assumes the AZ\'s new nodes may all land in its subnet with the least room', () => {
    const a = only(
      context({
        ...TWO_AZS(1000, 600),
        subnets: [
          { id: SUBNET, az: 'eu-west-1a', available: 1000 },
          { id: SUBNET_A2, az: 'eu-west-1a', available: 150 },
          { id: SUBNET_B, az: 'eu-west-1b', available: 600 },
        ],
      }),
    );
    expect(a.blockers).toEqual([
      `eu-west-1a: ${SUBNET_A2} has 150 free addresses (Auto Scaling may launch all of eu-west-1a's new nodes in any one of ${SUBNET}, ${SUBNET_A2}), ` +
        'the 5 new m5.xlarge/m6i.xlarge/m7i.xlarge nodes need 175 during the overlap (+16 margin, actions.instanceTypes.overlapMarginIps); ' +
        '35 each at 27 pods: 3 ENI primary addresses + 32 for pods and the warm pool',
    ]);
    expect(a.predicted.overlapIpsBySubnet).toEqual({ [SUBNET_A2]: -175, [SUBNET_B]: -175 });
  });

  it('checks the subnets the new nodegroup is created in (the old one\'s declared subnets), not every subnet its nodes are in', () => {
    const ctx = context(TWO_AZS(400));
    ctx.usage.nodegroups[0]!.subnetIds.push(SUBNET_A2);
    ctx.usage.subnets.push(subnetUsage(SUBNET_A2, 'eu-west-1c', 0));
    const a = only(ctx);
    expect(a.blockers).toEqual([]);
    expect(a.predicted.overlapIpsBySubnet).toEqual({ [SUBNET]: -175, [SUBNET_B]: -175 });
  });

  it('counts only the primary address in the node subnet under custom networking (the pod ENIs are in the ENIConfig subnet)', () => {
    const a = only(context({ ...TWO_AZS(7), cni: { source: 'add-on', customNetworking: true, warmIpTarget: 5, minimumIpTarget: 10 } }));
    expect(a.blockers).toEqual([
      `eu-west-1a: ${SUBNET} has 7 free addresses, the 5 new m5.xlarge/m6i.xlarge/m7i.xlarge nodes need 5 during the overlap ` +
        '(+16 margin, actions.instanceTypes.overlapMarginIps); 1 each: its primary address (custom networking: the pod ENIs are in the ENIConfig subnet)',
    ]);
  });
});

describe('planInstanceTypes: the capacity change', () => {
  it('states vCPU, memory and node count before and after, in the change and the prediction', () => {
    const a = only(context());
    expect(a.change.capacity).toEqual({
      before: { nodes: 3, instanceTypes: ['m5.large'], vcpus: 6, memoryMiB: 3 * 8192 },
      after: { nodes: 3, instanceTypes: ['m5.xlarge', 'm6i.xlarge', 'm7i.xlarge'], vcpus: 12, memoryMiB: 3 * 16384 },
      vcpuIncreasePercent: 100,
      memoryIncreasePercent: 100,
      increasePercent: 100,
    });
    expect(a.predicted.text).toContain(
      'doubles vCPU and memory: 3 × m5.large (6 vCPU, 24 GiB) → 3 × m5.xlarge/m6i.xlarge/m7i.xlarge (12 vCPU, 48 GiB), +100 %, same node count (3)',
    );
  });

  it.each<[string, number | undefined, boolean]>([
    ['the default bound (25 %) blocks doubling', 25, true],
    ['a bound one short of doubling blocks it', 99, true],
    ['a bound raised to 100 % allows it', 100, false],
  ])('%s', (_name, bound, blocked) => {
    const a = only(context({ maxCapacityIncreasePercent: bound }));
    const over = a.blockers.filter((b) => b.startsWith('capacity would grow'));
    expect(over).toEqual(
      blocked
        ? [
            `capacity would grow by +100 %, above actions.instanceTypes.maxCapacityIncreasePercent = ${bound} %: vCPU +100 % (6 → 12), memory +100 % (24 GiB → 48 GiB); ` +
              'no allowed type that gains max pods is within it',
          ]
        : [],
    );
  });

  it('prefers a candidate within the bound over a larger one that gains more', () => {
    // m8i.large: 59 max pods at m5.large's 2 vCPUs and 8 GiB (+0 %); m8i.xlarge (110) and
    // m7i.xlarge (58) double it. Without the bound m8i.xlarge ranks first (see the ranking tests).
    const a = only(context({ allowedTypes: ['m7i', 'm8i'], maxInstanceTypes: 1, maxCapacityIncreasePercent: 25 }));
    expect(a.change.ranking.map((r) => r.instanceType)).toEqual(['m8i.large', 'm8i.xlarge', 'm7i.xlarge']);
    expect(a.change.toInstanceTypes).toEqual(['m8i.large']);
    expect(a.blockers).toEqual([]);
    expect(a.change.capacity?.increasePercent).toBe(0);
    expect(a.change.ranking[1]?.note).toContain('+100 % vCPU/memory per node, above the 25 % bound');
    expect(a.predicted.text).toContain('keeps vCPU and memory: 3 × m5.large (6 vCPU, 24 GiB) → 3 × m8i.large (6 vCPU, 24 GiB), +0 %, same node count (3)');
  });
});

describe('planInstanceTypes on the demo snapshot (payments-prod, the repository policy)', () => {
  const NOW = new Date('2026-11-26T10:00:00Z');
  let demo: PlanContext;
  beforeAll(async () => {
    const source = await readSnapshot(path.join(__dirname, '..', '..', 'events', 'demo-snapshot'));
    const inv = await collectInventory(source, { clusterNames: ['payments-prod'], concurrency: 1, now: NOW });
    const usage = measure(inv);
    demo = {
      usage: usage.clusters[0]!,
      inventory: inv.clusters[0]!,
      instanceTypes: inv.instanceTypes,
      findings: diagnose(usage, inv, DEFAULT_THRESHOLDS),
      policy: effectivePolicy(readPolicyFile(path.join(__dirname, '..', '..', 'policy.yml')), 'payments-prod'),
      now: NOW,
    };
  });

  it('blocks api-m5l → m5.xlarge: it doubles vCPU and memory, and eu-west-1a has 7 free for 175', () => {
    const a = only(demo);
    expect(a.subject).toBe('api-m5l');
    expect(a.blockers).toEqual([
      DOUBLED,
      'eu-west-1a: subnet-0e59dfd0c9e3779b1 has 7 free addresses, the 5 new m5.xlarge/m6i.xlarge/m7i.xlarge nodes need 175 during the overlap ' +
        '(+16 margin, actions.instanceTypes.overlapMarginIps); 35 each at 27 pods: 3 ENI primary addresses + 32 for pods and the warm pool',
    ]);
    expect(a.predicted.overlapIpsBySubnet).toEqual({ 'subnet-0af8d12343c6ef362': -175, 'subnet-0e59dfd0c9e3779b1': -175 });
    expect(a.predicted.text).toContain(
      'doubles vCPU and memory: 10 × m5.large (20 vCPU, 80 GiB) → 10 × m5.xlarge/m6i.xlarge/m7i.xlarge (40 vCPU, 160 GiB), +100 %, same node count (10)',
    );
  });

  it('still blocks on room when the cluster raises the capacity bound', () => {
    const ctx = structuredClone(demo);
    ctx.policy.actions.instanceTypes.maxCapacityIncreasePercent = 100;
    expect(only(ctx).blockers).toEqual([expect.stringMatching(/^eu-west-1a: subnet-0e59dfd0c9e3779b1 has 7 free addresses/)]);
  });
});
