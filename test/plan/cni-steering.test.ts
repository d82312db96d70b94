/**
 * Steering in the cni-subnets planner: a scarce shared subnet is excluded for this cluster (its
 * cni.networking.k8s.aws/cluster/<name> tag removed) only where the CNI honours it, never the last
 * usable subnet of the AZ, never a node subnet, within the bounds; incomplete data blocks it.
 */
import { gateActions } from '../../lib/plan/gates';
import { planCniSubnets, planCniSubnetsWith } from '../../lib/plan/cni-subnets';
import type { CniSubnetsChange, PlanContext, ProposedAction } from '../../lib/plan/types';
import type { ClusterInventory, CniInstall, Subnet } from '../../lib/inventory/types';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import type { CniSubnetsPolicy, EffectivePolicy } from '../../lib/policy/types';
import { subnet, VPC } from '../measure/builders';
import { AZ_A, AZ_B, managedCni, nodegroup, run, TYPES, World } from '../diagnose/world';
import { DEFAULT_LEAKED_ENIS_POLICY } from '../../lib/policy/types';

const NOW = new Date('2026-12-03T10:00:00Z');
const KEY = 'cni.networking.k8s.aws/cluster/prod';
const V = 'v1.22.4-eksbuild.1';

function policy(cni: Partial<CniSubnetsPolicy> = {}): EffectivePolicy {
  return {
    cluster: 'prod',
    mode: 'apply',
    thresholds: DEFAULT_THRESHOLDS,
    actions: {
      warmTargets: { allowed: false, cooldownMinutes: 60, warmIpTarget: { min: 1, max: 16 }, minimumIpTarget: { min: 0, max: 64 } },
      prefixDelegation: { allowed: false, cooldownMinutes: 60, warmPrefixTarget: { min: 0, max: 2 }, maxPods: { min: 10, max: 110 } },
      cniSubnets: { allowed: true, cooldownMinutes: 60, spareSubnets: [], maxSubnetsPerAction: 2, excludableSubnets: ['shared-a', 'shared-a2'], ...cni },
      instanceTypes: { allowed: false, cooldownMinutes: 60, allowedTypes: [], maxInstanceTypes: 3 },
      leakedEnis: { ...DEFAULT_LEAKED_ENIS_POLICY },
    },
  };
}

const tags = (s: Subnet, t: Record<string, string>): Subnet => ({ ...s, Tags: Object.entries(t).map(([Key, Value]) => ({ Key, Value })) });
const SHARED = { 'kubernetes.io/role/cni': '1', [KEY]: 'shared', 'cni.networking.k8s.aws/cluster/staging': 'shared' };

/**
 * Cluster `prod`: a node of nodegroup web in subnet-a (eu-west-1a) whose second ENI is in the
 * shared subnet shared-a (20 free: scarce), another node in subnet-b (eu-west-1b). subnet-a has
 * `nodeFree` addresses free.
 */
function world(o: { nodeFree?: number; cni?: CniInstall; sharedTags?: Record<string, string>; second?: boolean; problems?: ClusterInventory['problems'] } = {}): PlanContext & { withPolicy: (p: EffectivePolicy) => PlanContext } {
  const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A).addSubnet('subnet-b', '10.0.2.0/24', AZ_B).addSubnet('shared-a', '10.0.8.0/24', AZ_A);
  if (o.second) w.addSubnet('shared-a2', '10.0.9.0/24', AZ_A);
  w.node({ cluster: 'prod', nodegroup: 'web', type: 'm5.large', subnetId: 'subnet-a', enis: [5, 10], eniSubnets: ['subnet-a', 'shared-a'] });
  w.node({ cluster: 'prod', nodegroup: 'web', type: 'm5.large', subnetId: 'subnet-b', enis: [5] });
  w.fillTo('subnet-a', o.nodeFree ?? 200).fillTo('shared-a', 20);
  if (o.second) w.fillTo('shared-a2', 30);
  const base = w.inventory({
    name: 'prod',
    subnets: [
      ['subnet-a', ['node']],
      ['subnet-b', ['node']],
      ['shared-a', ['cni-discovery']],
      ...(o.second ? ([['shared-a2', ['cni-discovery']]] as [string, ['cni-discovery']][]) : []),
    ],
    nodegroups: [nodegroup('prod', 'web', ['m5.large'], ['subnet-a', 'subnet-b'], 2)],
    cni: o.cni ?? managedCni({ CLUSTER_NAME: 'prod' }, V),
    problems: o.problems,
  });
  const inventory: ClusterInventory = {
    ...base,
    subnets: base.subnets.map((s) => (s.SubnetId?.startsWith('shared-') ? tags(s, o.sharedTags ?? SHARED) : s)),
  };
  const { usage, findings } = run(inventory);
  const ctx = { usage, inventory, instanceTypes: TYPES, findings, policy: policy(), now: NOW };
  return { ...ctx, withPolicy: (p) => ({ ...ctx, policy: p }) };
}

const SPARE = { ...subnet('subnet-0aaa1111aaaa11111', '100.64.0.0/22', AZ_A, 1019), VpcId: VPC };
const changeOf = (p: ProposedAction | undefined): CniSubnetsChange => {
  if (p?.change.type !== 'tag-subnets') throw new Error('no cni-subnets proposal');
  return p.change;
};

describe('steering: excluding a scarce shared subnet for this cluster', () => {
  it('removes the cluster tag of a shared subnet when the node subnet keeps room, and opens nothing', () => {
    const [p, ...rest] = planCniSubnetsWith(world(), []);
    expect(rest).toEqual([]);
    expect(changeOf(p)).toEqual({
      type: 'tag-subnets',
      subnetIds: [],
      tag: { key: 'kubernetes.io/role/cni', value: '1' },
      exclude: [{ subnetId: 'shared-a', key: KEY, value: 'shared' }],
    });
    expect(p?.blockers).toEqual([]);
    expect(p?.predicted.text).toContain('shared-a stops serving prod');
  });

  it('opens the spare subnet first and excludes the shared one in the same action when the node subnet is short too', () => {
    const ctx = world({ nodeFree: 10 }).withPolicy(policy({ spareSubnets: [SPARE.SubnetId ?? ''] }));
    const [p] = planCniSubnetsWith(ctx, [SPARE]);
    expect(changeOf(p)).toMatchObject({ subnetIds: [SPARE.SubnetId], exclude: [{ subnetId: 'shared-a', key: KEY }] });
    expect(p?.blockers).toEqual([]);
  });

  it('never excludes the last usable subnet with room of an AZ', () => {
    const [p] = planCniSubnetsWith(world({ nodeFree: 10 }), []);
    expect(changeOf(p).exclude).toBeUndefined();
    expect(p?.predicted.text).toContain('shared-a not excluded: eu-west-1a would keep no subnet the CNI uses with at least 128 free (subnet-a 10)');
    expect(p?.blockers.join(' ')).toContain('no allow-listed spare subnet');
  });

  it.each<[string, Parameters<typeof world>[0], string]>([
    ['open to every cluster: removing nothing can exclude only prod', { sharedTags: { 'kubernetes.io/role/cni': '1' } }, 'open to every cluster'],
    ['reserved to prod alone: removing it would open it to all', { sharedTags: { 'kubernetes.io/role/cni': '1', [KEY]: '' } }, 'reserved to prod alone'],
    ['vpc-cni 1.22.0 reads another prefix', { cni: managedCni({ CLUSTER_NAME: 'prod' }, 'v1.22.0-eksbuild.1') }, 'not known to honour'],
    ['vpc-cni 1.19 has no cluster tags', { cni: managedCni({ CLUSTER_NAME: 'prod' }, 'v1.19.2-eksbuild.1') }, 'not known to honour'],
    ['custom networking: ENIConfig decides', { cni: managedCni({ CLUSTER_NAME: 'prod', AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' }, V) }, 'not known to honour'],
    ['CLUSTER_NAME not known: the CNI may skip cluster tags', { cni: managedCni(undefined, V) }, 'CLUSTER_NAME is not known'],
  ])('leaves it alone when %s', (_, o, note) => {
    const ps = planCniSubnetsWith(world(o), []);
    for (const p of ps) expect(changeOf(p).exclude).toBeUndefined();
    const steered = planCniSubnetsWith(world({ ...o, nodeFree: 10 }).withPolicy(policy({ spareSubnets: [SPARE.SubnetId ?? ''] })), [SPARE]);
    expect(changeOf(steered[0]).exclude).toBeUndefined();
    expect(steered[0]?.predicted.text).toContain(note);
  });

  it('a self-managed aws-node: nothing excluded, and the version blocks the action (dry-run with the reason)', () => {
    const ctx = world({ nodeFree: 10, cni: { kind: 'self-managed' } }).withPolicy(policy({ spareSubnets: [SPARE.SubnetId ?? ''] }));
    const [p] = planCniSubnetsWith(ctx, [SPARE]);
    expect(changeOf(p).exclude).toBeUndefined();
    expect(p?.blockers).toContain('cannot tell the VPC CNI version: check it is 1.18+ before tagging');
  });

  it('never excludes a node subnet, even listed and scarce', () => {
    const ctx = world({ nodeFree: 10 }).withPolicy(policy({ spareSubnets: [SPARE.SubnetId ?? ''], excludableSubnets: ['subnet-a'] }));
    const [p] = planCniSubnetsWith(ctx, [SPARE]);
    expect(changeOf(p).exclude).toBeUndefined();
    expect(p?.predicted.text).toContain('subnet-a not excluded: a node subnet of prod');
  });

  it('excludes nothing the policy does not list', () => {
    const ps = planCniSubnetsWith(world().withPolicy(policy({ excludableSubnets: [] })), []);
    expect(ps.every((p) => changeOf(p).exclude === undefined)).toBe(true);
  });

  it('excludes at most maxSubnetsPerAction subnets', () => {
    const ctx = world({ second: true }).withPolicy(policy({ maxSubnetsPerAction: 1 }));
    const [p] = planCniSubnetsWith(ctx, []);
    expect(changeOf(p).exclude?.map((e) => e.subnetId)).toEqual(['shared-a']);
    expect(p?.predicted.text).toContain('shared-a2 not excluded: policy actions.cniSubnets.maxSubnetsPerAction 1');
  });

  it('steers from the inventory alone when no spare subnet is listed (the remediation reads none then)', () => {
    const [p] = planCniSubnets(world());
    expect(changeOf(p).exclude).toEqual([{ subnetId: 'shared-a', key: KEY, value: 'shared' }]);
    expect(p?.blockers).toEqual([]);
  });

  it('keeps every AZ with nodes apart: a scarce subnet in one AZ changes nothing in the other', () => {
    const [p, ...rest] = planCniSubnetsWith(world(), []);
    expect(rest).toEqual([]);
    expect(p?.subject).toBe(`${VPC}/${AZ_A}`);
  });

  it('is blocked on incomplete data', () => {
    const ctx = world({ problems: [{ source: 'ec2:DescribeNetworkInterfaces', message: 'throttled', unread: { part: 'network-interfaces' } }] });
    const [p] = planCniSubnetsWith(ctx, []);
    const [gated] = gateActions(ctx, p ? [p] : [], { lastStartedByKind: {} });
    expect(gated?.state).toBe('blocked');
    expect(gated?.blockedBy.join(' ')).toMatch(/incomplete/);
  });
});
