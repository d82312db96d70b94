import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import type { Nodegroup } from '@aws-sdk/client-eks';
import {
  isValidNodegroupName,
  planInstanceTypes,
  policyAllows,
  replacementBlockers,
  replacementName,
  REPLACES_TAG_KEY,
} from '../../lib/act/instance-types';
import type { NodegroupReplacementChange, PlanContext, ProposedAction } from '../../lib/act/types';
import { networkCapacityOf } from '../../lib/capacity/instance-type';
import { knownInstanceTypes } from '../../lib/capacity/known-instance-types';
import { DEFAULT_THRESHOLDS, type Finding } from '../../lib/diagnose/types';
import type { ClusterInventory } from '../../lib/inventory/types';
import type { ClusterUsage, NodegroupUsage, NodeUsage, SubnetUsage } from '../../lib/measure/types';
import type { EffectivePolicy, InstanceTypesPolicy } from '../../lib/policy/types';

const CLUSTER = 'payments-prod';
const SUBNET = 'subnet-0a1b2c3d4e5f60718';

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
  instanceTypes?: Record<string, InstanceTypeInfo>;
  nodegroupOver?: Partial<Nodegroup>;
  otherNodegroups?: Nodegroup[];
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
  const nodes: NodeUsage[] = Array.from({ length: count }, (_, i) => ({
    instanceId: `i-0000000000000000${i}`,
    instanceType: type,
    nodegroup: name,
    subnetId: SUBNET,
    availabilityZone: 'eu-west-1a',
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
    subnetIds: [SUBNET],
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
  const subnet = {
    subnetId: SUBNET,
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZone: 'eu-west-1a',
    cidrBlock: '10.0.0.0/22',
    roles: ['node'],
    usable: 1019,
    available: s.subnetAvailable ?? 600,
    used: 1019 - (s.subnetAvailable ?? 600),
    utilization: (1019 - (s.subnetAvailable ?? 600)) / 1019,
  } as SubnetUsage;
  const usage = {
    name: CLUSTER,
    version: '1.30',
    cni: { source: 'defaults', install: 'managed', prefixDelegation: false, customNetworking: false, warmEniTarget: 1, invalid: [] },
    subnets: [subnet],
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
            subnets: [SUBNET],
            amiType: cap.architectures.includes('arm64') ? 'AL2023_ARM_64_STANDARD' : 'AL2023_x86_64_STANDARD',
            nodeRole: 'arn:aws:iam::111122223333:role/node',
            ...s.nodegroupOver,
          },
        ]
      : [];
  const inventory = { name: CLUSTER, nodegroups: [...managed, ...(s.otherNodegroups ?? [])] } as unknown as ClusterInventory;
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
