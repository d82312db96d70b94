/**
 * The cni-subnets planner: pure decision tables over inventories built from AWS response shapes
 * (test/diagnose/world.ts), then the demo snapshot.
 */
import * as path from 'node:path';
import {
  CNI_ROLE_TAG_KEY,
  cniSubnetsScope,
  parseCniVersion,
  planCniSubnets,
  planCniSubnetsWith,
  spareSubnetIds,
} from '../../lib/plan/cni-subnets';
import type { PlanContext, ProposedAction } from '../../lib/plan/types';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import type { ClusterInventory, CniInstall, Subnet } from '../../lib/inventory/types';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import { DEFAULT_LEAKED_ENIS_POLICY, type CniSubnetsPolicy, type EffectivePolicy } from '../../lib/policy/types';
import { subnet, VPC } from '../measure/builders';
import { AZ_A, AZ_B, managedCni, nodegroup, run, TYPES, World } from '../diagnose/world';

const CLUSTER = 'prod';
const NOW = new Date('2026-11-26T10:00:00Z');

function policy(cni: Partial<CniSubnetsPolicy> = {}): EffectivePolicy {
  return {
    cluster: CLUSTER,
    mode: 'apply',
    thresholds: DEFAULT_THRESHOLDS,
    actions: {
      warmTargets: { allowed: true, cooldownMinutes: 60, warmIpTarget: { min: 1, max: 16 }, minimumIpTarget: { min: 0, max: 64 } },
      prefixDelegation: { allowed: false, cooldownMinutes: 60, warmPrefixTarget: { min: 0, max: 2 }, maxPods: { min: 10, max: 110 } },
      cniSubnets: { allowed: true, cooldownMinutes: 60, spareSubnets: [], maxSubnetsPerAction: 2, ...cni },
      instanceTypes: { allowed: false, cooldownMinutes: 60, allowedTypes: [], maxInstanceTypes: 3 },
      leakedEnis: { ...DEFAULT_LEAKED_ENIS_POLICY },
    },
  };
}

/** A spare subnet as DescribeSubnets returns it, with tags. */
function spare(id: string, cidr: string, az: string, free: number, tags: Record<string, string> = {}, vpcId = VPC): Subnet {
  const s = { ...subnet(id, cidr, az, free), VpcId: vpcId };
  const list = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  return list.length > 0 ? { ...s, Tags: list } : s;
}

/**
 * Cluster `prod`: nodegroup `web` with 2 m5.large nodes in subnet-a (eu-west-1a), filled to
 * `free` addresses (10: critical), and a roomy subnet-b in eu-west-1b. `extra` subnets are added
 * to the inventory with their roles (a tagged discovery subnet the collector saw).
 */
function cluster(o: { free?: number; cni?: CniInstall; extra?: [Subnet, ('node' | 'cni-discovery')[]][] } = {}): {
  inventory: ClusterInventory;
  ctx: (p: EffectivePolicy) => PlanContext;
} {
  const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A).addSubnet('subnet-b', '10.0.2.0/24', AZ_B);
  w.node({ cluster: CLUSTER, nodegroup: 'web', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10] });
  w.node({ cluster: CLUSTER, nodegroup: 'web', type: 'm5.large', subnetId: 'subnet-a', enis: [10] });
  w.fillTo('subnet-a', o.free ?? 10);
  const base = w.inventory({
    name: CLUSTER,
    subnets: [
      ['subnet-a', ['node']],
      ['subnet-b', ['node']],
    ],
    nodegroups: [nodegroup(CLUSTER, 'web', ['m5.large'], ['subnet-a', 'subnet-b'], 2)],
    cni: o.cni ?? managedCni({ WARM_IP_TARGET: '5' }),
  });
  const inventory: ClusterInventory = {
    ...base,
    subnets: [...base.subnets, ...(o.extra ?? []).map(([s]) => s)],
    subnetRoles: { ...base.subnetRoles, ...Object.fromEntries((o.extra ?? []).map(([s, r]) => [s.SubnetId ?? '', r])) },
  };
  const { usage, findings } = run(inventory);
  return { inventory, ctx: (p) => ({ usage, inventory, instanceTypes: TYPES, findings, policy: p, now: NOW }) };
}

const id = (s: Subnet): string => s.SubnetId ?? '';
const SPARE_A = spare('subnet-0aaa1111aaaa11111', '100.64.0.0/22', AZ_A, 1019);
const SCOPE_A = `${VPC}/${AZ_A}`;
const NO_SPARE_A = `no allow-listed spare subnet in ${SCOPE_A} (policy actions.cniSubnets.spareSubnets)`;

/** [subnetIds, blockers] of each proposal, for compact tables. */
const decisions = (ps: ProposedAction[]): [string, string[], string[]][] => ps.map((p) => [p.subject, p.change.type === 'tag-subnets' ? p.change.subnetIds : [], p.blockers]);

describe('planCniSubnetsWith: which subnets, and what blocks it', () => {
  it('proposes the untagged spare subnet of the scarce AZ, with the findings, the tag and the addresses it opens', () => {
    const { ctx } = cluster();
    const [p, ...rest] = planCniSubnetsWith(ctx(policy({ spareSubnets: [SPARE_A.SubnetId ?? ''] })), [SPARE_A]);
    expect(rest).toEqual([]);
    expect(p).toMatchObject({
      id: `prod/cni-subnets/${SCOPE_A}`,
      cluster: 'prod',
      kind: 'cni-subnets',
      subject: SCOPE_A,
      findingIds: ['prod/subnet-exhaustion/subnet-a', 'prod/subnet-exhaustion/web@eu-west-1a'],
      change: { type: 'tag-subnets', subnetIds: ['subnet-0aaa1111aaaa11111'], tag: { key: 'kubernetes.io/role/cni', value: '1' } },
      predicted: { ipsFreed: 1019 },
      blockers: [],
    });
    expect(p?.reason).toBe(
      'Pods in eu-west-1a are short of addresses: Subnet subnet-a (eu-west-1a): 10 of 251 IPs free, 96% used; Nodegroup web in eu-west-1a: its subnet has 10 IPs free, 2 nodes there.',
    );
    expect(p?.predicted.text).toMatch(
      /^Tagging subnet-0aaa1111aaaa11111 \(1,019 free\) kubernetes\.io\/role\/cni=1 makes 1,019 more addresses available to pods in eu-west-1a: the VPC CNI creates new pod ENIs in the tagged subnet with the most free addresses; existing ENIs and their pods stay where they are\. The new ENIs get the node's primary ENI security groups/,
    );
    expect(cniSubnetsScope(p?.id ?? '')).toEqual({ vpcId: VPC, availabilityZone: AZ_A });
  });

  const tooOld = managedCni({ WARM_IP_TARGET: '5' }, 'v1.17.1-eksbuild.1');
  const at118 = managedCni({ WARM_IP_TARGET: '5' }, 'v1.18.0-eksbuild.1');
  const custom = managedCni({ AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' });
  const discoveryOff = managedCni({ ENABLE_SUBNET_DISCOVERY: 'false' });
  const inB = spare('subnet-0bbb2222bbbb22222', '100.64.4.0/22', AZ_B, 1019);
  const otherVpc = spare('subnet-0ccc3333cccc33333', '100.65.0.0/22', AZ_A, 1019, {}, 'vpc-0ffff0000ffff0000');
  const small = spare('subnet-0ddd4444dddd44444', '100.64.8.0/25', AZ_A, 127);
  const justEnough = spare('subnet-0ddd4444dddd44444', '100.64.8.0/25', AZ_A, 128);
  const excluded = spare('subnet-0eee5555eeee55555', '100.64.12.0/22', AZ_A, 1019, { [CNI_ROLE_TAG_KEY]: '0' });
  const forOthers = spare('subnet-0fff6666ffff66666', '100.64.16.0/22', AZ_A, 1019, { 'cni.networking.k8s.aws/cluster/batch': 'shared' });
  const forUs = spare('subnet-0fff6666ffff66666', '100.64.16.0/22', AZ_A, 1019, { 'cni.networking.k8s.aws/cluster/prod': 'shared' });
  const pending = { ...spare('subnet-0abc7777abcd77777', '100.64.20.0/22', AZ_A, 1019), State: 'pending' as const };

  it.each<[string, { cni?: CniInstall; list: Subnet[]; read?: Subnet[]; max?: number }, string[], string[]]>([
    ['vpc-cni 1.19: proposed', { list: [SPARE_A] }, [id(SPARE_A)], []],
    ['vpc-cni 1.18.0 exactly: proposed', { cni: at118, list: [SPARE_A] }, [id(SPARE_A)], []],
    ['vpc-cni 1.17: blocked, upgrade first', { cni: tooOld, list: [SPARE_A] }, [id(SPARE_A)], ['vpc-cni v1.17.1-eksbuild.1 has no subnet discovery: upgrade the add-on to 1.18.0 or later first']],
    ['self-managed aws-node: version unknown', { cni: { kind: 'self-managed' }, list: [SPARE_A] }, [id(SPARE_A)], ['cannot tell the VPC CNI version: check it is 1.18+ before tagging']],
    ['add-on unreadable: version unknown', { cni: { kind: 'unknown', reason: 'AccessDeniedException' }, list: [SPARE_A] }, [id(SPARE_A)], ['cannot tell the VPC CNI version: check it is 1.18+ before tagging']],
    ['custom networking on: it takes precedence', { cni: custom, list: [SPARE_A] }, [id(SPARE_A)], ['custom networking is on (AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true) and takes precedence over subnet discovery: a tag changes nothing; give the ENIConfig of eu-west-1a a larger subnet instead']],
    ['ENABLE_SUBNET_DISCOVERY=false', { cni: discoveryOff, list: [SPARE_A] }, [id(SPARE_A)], ['ENABLE_SUBNET_DISCOVERY=false on the vpc-cni add-on: the CNI ignores the tag']],
    ['empty allow list', { list: [] }, [], [NO_SPARE_A]],
    ['spare only in another AZ', { list: [inB] }, [], [NO_SPARE_A]],
    ['spare only in another VPC', { list: [otherVpc] }, [], [NO_SPARE_A]],
    ['spare too small: 127 free, 128 needed (2 × the warning of 64)', { list: [small] }, [], [`${NO_SPARE_A}: subnet-0ddd4444dddd44444 has 127 free (at least 128 needed)`]],
    ['spare at exactly 128 free', { list: [justEnough] }, [id(justEnough)], []],
    ['spare tagged 0 on purpose', { list: [excluded] }, [], [`${NO_SPARE_A}: subnet-0eee5555eeee55555 is tagged kubernetes.io/role/cni=0 (excluded on purpose)`]],
    ['spare reserved to another cluster', { list: [forOthers] }, [], [`${NO_SPARE_A}: subnet-0fff6666ffff66666 is reserved to batch (cni.networking.k8s.aws/cluster/<name>)`]],
    ['spare reserved to this cluster', { list: [forUs] }, [id(forUs)], []],
    ['spare not yet available', { list: [pending] }, [], [`${NO_SPARE_A}: subnet-0abc7777abcd77777 is pending`]],
    ['an allow-listed id EC2 does not find', { list: [SPARE_A], read: [] }, [], [`${NO_SPARE_A}: DescribeSubnets does not find subnet-0aaa1111aaaa11111`]],
    ['maxSubnetsPerAction 0', { list: [SPARE_A], max: 0 }, [], [`${NO_SPARE_A}`, 'policy actions.cniSubnets.maxSubnetsPerAction is 0: no subnet may be tagged']],
    ['the best spare among rejected ones', { list: [small, inB, SPARE_A, excluded] }, [id(SPARE_A)], []],
    ['old version and custom networking and nothing to tag: every reason', { cni: managedCni({ AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' }, 'v1.16.0-eksbuild.1'), list: [] }, [], [
      NO_SPARE_A,
      'vpc-cni v1.16.0-eksbuild.1 has no subnet discovery: upgrade the add-on to 1.18.0 or later first',
      'custom networking is on (AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true) and takes precedence over subnet discovery: a tag changes nothing; give the ENIConfig of eu-west-1a a larger subnet instead',
    ]],
  ])('%s', (_name, o, subnetIds, blockers) => {
    const { ctx } = cluster({ cni: o.cni });
    const p = policy({ spareSubnets: o.list.map(id), ...(o.max !== undefined ? { maxSubnetsPerAction: o.max } : {}) });
    expect(decisions(planCniSubnetsWith(ctx(p), o.read ?? o.list))).toEqual([[SCOPE_A, subnetIds, blockers]]);
  });

  it('tags at most maxSubnetsPerAction, largest free first, and says how many it left', () => {
    const s500 = spare('subnet-0500', '100.64.0.0/23', AZ_A, 500);
    const s2000 = spare('subnet-2000', '100.64.8.0/21', AZ_A, 2000);
    const s1000 = spare('subnet-1000', '100.64.4.0/22', AZ_A, 1000);
    const { ctx } = cluster();
    const [p] = planCniSubnetsWith(ctx(policy({ spareSubnets: ['subnet-0500', 'subnet-2000', 'subnet-1000'], maxSubnetsPerAction: 2 })), [s500, s2000, s1000]);
    expect(p?.change).toMatchObject({ subnetIds: ['subnet-2000', 'subnet-1000'] });
    expect(p?.predicted.ipsFreed).toBe(3000);
    expect(p?.predicted.text).toContain('1 more allow-listed subnet there left untagged (policy actions.cniSubnets.maxSubnetsPerAction 2).');
  });

  it('proposes nothing where a roomy subnet is already tagged kubernetes.io/role/cni=1: another tag would not help', () => {
    const tagged = spare('subnet-0c0c0c0c0c0c0c0c0', '100.64.32.0/22', AZ_A, 1019, { [CNI_ROLE_TAG_KEY]: '1' });
    const { ctx } = cluster({ extra: [[tagged, ['cni-discovery']]] });
    // Even with an untagged spare on the allow list as well.
    expect(planCniSubnetsWith(ctx(policy({ spareSubnets: [id(SPARE_A)] })), [SPARE_A])).toEqual([]);
    // A small tagged subnet does not count: the spare is still proposed.
    const smallTagged = spare('subnet-0c0c0c0c0c0c0c0c0', '100.64.32.0/25', AZ_A, 100, { [CNI_ROLE_TAG_KEY]: '1' });
    const { ctx: ctx2 } = cluster({ extra: [[smallTagged, ['cni-discovery']]] });
    expect(decisions(planCniSubnetsWith(ctx2(policy({ spareSubnets: [id(SPARE_A)] })), [SPARE_A]))).toEqual([[SCOPE_A, [id(SPARE_A)], []]]);
  });

  it('counts the nodes at their ENI limit, which cannot attach an ENI in the new subnet', () => {
    // 2 ENIs of 10 on an m5.large (3 ENIs max) is not at the limit; 3 ENIs is.
    const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A);
    w.node({ cluster: CLUSTER, nodegroup: 'web', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10, 10] });
    w.node({ cluster: CLUSTER, nodegroup: 'web', type: 'm5.large', subnetId: 'subnet-a', enis: [10] });
    w.fillTo('subnet-a', 10);
    const inventory = w.inventory({ name: CLUSTER, subnets: [['subnet-a', ['node']]], nodegroups: [nodegroup(CLUSTER, 'web', ['m5.large'], ['subnet-a'], 2)] });
    const { usage, findings } = run(inventory);
    const [p] = planCniSubnetsWith({ usage, inventory, instanceTypes: TYPES, findings, policy: policy({ spareSubnets: [id(SPARE_A)] }), now: NOW }, [SPARE_A]);
    expect(p?.predicted.text).toContain('1 of 2 nodes in eu-west-1a has every ENI slot used and cannot attach one there; new nodes and the others can.');
  });

  it('plans nothing when the policy does not allow the action, or when no pod subnet is scarce', () => {
    expect(planCniSubnetsWith(cluster().ctx(policy({ allowed: false, spareSubnets: [id(SPARE_A)] })), [SPARE_A])).toEqual([]);
    expect(planCniSubnetsWith(cluster({ free: 100 }).ctx(policy({ spareSubnets: [id(SPARE_A)] })), [SPARE_A])).toEqual([]);
  });

  it('makes one proposal per scarce AZ, each with its own spare', () => {
    const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A).addSubnet('subnet-b', '10.0.2.0/24', AZ_B);
    w.node({ cluster: CLUSTER, nodegroup: 'web', type: 'm5.large', subnetId: 'subnet-a', enis: [10] });
    w.node({ cluster: CLUSTER, nodegroup: 'web', type: 'm5.large', subnetId: 'subnet-b', enis: [10] });
    w.fillTo('subnet-a', 10).fillTo('subnet-b', 20);
    const inventory = w.inventory({ name: CLUSTER, subnets: [['subnet-a', ['node']], ['subnet-b', ['node']]] });
    const { usage, findings } = run(inventory);
    const ctx: PlanContext = { usage, inventory, instanceTypes: TYPES, findings, policy: policy({ spareSubnets: [id(SPARE_A), id(inB)] }), now: NOW };
    expect(decisions(planCniSubnetsWith(ctx, [SPARE_A, inB]))).toEqual([
      [SCOPE_A, [id(SPARE_A)], []],
      [`${VPC}/${AZ_B}`, [id(inB)], []],
    ]);
  });
});

describe('planCniSubnets: the inventory alone', () => {
  it('blocks with "spare subnet data not read" when the allow-listed subnets are not in the inventory', () => {
    const { ctx } = cluster();
    expect(decisions(planCniSubnets(ctx(policy({ spareSubnets: [id(SPARE_A)] }))))).toEqual([
      [SCOPE_A, [], ['spare subnet data not read: subnet-0aaa1111aaaa11111 (allow-listed in policy actions.cniSubnets.spareSubnets) are not in the inventory until tagged; read them with DescribeSubnets']],
    ]);
  });

  it('proposes an allow-listed subnet the inventory already holds (a roomy node subnet of the same AZ)', () => {
    const roomy = spare('subnet-0node0000node00000', '10.0.64.0/20', AZ_A, 4000);
    const { ctx } = cluster({ extra: [[roomy, ['node']]] });
    expect(decisions(planCniSubnets(ctx(policy({ spareSubnets: [id(roomy)] }))))).toEqual([[SCOPE_A, [id(roomy)], []]]);
  });

  it('says there is no spare when the allow list is empty', () => {
    expect(decisions(planCniSubnets(cluster().ctx(policy())))).toEqual([[SCOPE_A, [], [NO_SPARE_A]]]);
  });
});

describe('helpers', () => {
  it('spareSubnetIds: the allow list without duplicates', () => {
    expect(spareSubnetIds(policy({ spareSubnets: ['subnet-1', 'subnet-2', 'subnet-1'] }))).toEqual(['subnet-1', 'subnet-2']);
  });
  it.each<[string | undefined, [number, number, number] | undefined]>([
    ['v1.19.2-eksbuild.1', [1, 19, 2]],
    ['v1.18.0-eksbuild.3', [1, 18, 0]],
    ['1.20', [1, 20, 0]],
    ['latest', undefined],
    [undefined, undefined],
  ])('parseCniVersion(%s)', (v, want) => expect(parseCniVersion(v)).toEqual(want));
  it('cniSubnetsScope reads the subject and the id, and nothing else', () => {
    expect(cniSubnetsScope('vpc-05cb6340ff1bbcd88/eu-west-1a')).toEqual({ vpcId: 'vpc-05cb6340ff1bbcd88', availabilityZone: 'eu-west-1a' });
    expect(cniSubnetsScope('prod/cni-subnets/vpc-05cb6340ff1bbcd88/us-west-2-lax-1a')).toEqual({ vpcId: 'vpc-05cb6340ff1bbcd88', availabilityZone: 'us-west-2-lax-1a' });
    expect(cniSubnetsScope('prod/warm-targets/vpc-cni')).toBeUndefined();
  });
});

describe('on the demo snapshot', () => {
  const SPARE = 'subnet-0c55317ef17156075';
  let inv: ClusterInventory;
  let ctxOf: (i: ClusterInventory, p: EffectivePolicy) => PlanContext;
  beforeAll(async () => {
    const source = await readSnapshot(path.join(__dirname, '..', '..', 'events', 'demo-snapshot'));
    const all = await collectInventory(source, { clusterNames: ['payments-prod'], concurrency: 1, now: NOW });
    const found = all.clusters.find((c) => c.name === 'payments-prod');
    if (!found) throw new Error('payments-prod is not in the demo snapshot');
    inv = found;
    ctxOf = (i, p) => {
      const { usage, findings } = run(i, {}, all.instanceTypes);
      return { usage, inventory: i, instanceTypes: all.instanceTypes, findings, policy: { ...p, cluster: 'payments-prod' }, now: NOW };
    };
  });

  it('proposes nothing for subnet-0e59dfd0c9e3779b1: its AZ already has the tagged 100.64 /19 (8,187 free)', () => {
    const s = inv.subnets.find((x) => x.SubnetId === SPARE);
    expect(s?.Tags).toContainEqual({ Key: CNI_ROLE_TAG_KEY, Value: '1' });
    const ctx = ctxOf(inv, policy({ spareSubnets: [SPARE] }));
    expect(ctx.findings.map((f) => f.id)).toContain('payments-prod/subnet-exhaustion/subnet-0e59dfd0c9e3779b1');
    expect(planCniSubnetsWith(ctx, [s as Subnet])).toEqual([]);
    expect(planCniSubnets(ctx)).toEqual([]);
  });

  it('variant: the same /19 not yet tagged (so not in the inventory) is proposed for eu-west-1a', () => {
    const s = inv.subnets.find((x) => x.SubnetId === SPARE) as Subnet;
    const untagged: Subnet = { ...s, Tags: (s.Tags ?? []).filter((t) => t.Key !== CNI_ROLE_TAG_KEY) };
    const { [SPARE]: _dropped, ...roles } = inv.subnetRoles;
    const without: ClusterInventory = {
      ...inv,
      subnets: inv.subnets.filter((x) => x.SubnetId !== SPARE),
      subnetRoles: roles,
      networkInterfaces: inv.networkInterfaces.filter((e) => e.SubnetId !== SPARE),
    };
    const ctx = ctxOf(without, policy({ spareSubnets: [SPARE] }));
    const [p, ...rest] = planCniSubnetsWith(ctx, [untagged]);
    expect(rest).toEqual([]);
    expect(p).toMatchObject({
      id: 'payments-prod/cni-subnets/vpc-05cb6340ff1bbcd88/eu-west-1a',
      change: { type: 'tag-subnets', subnetIds: [SPARE], tag: { key: 'kubernetes.io/role/cni', value: '1' } },
      predicted: { ipsFreed: 8187 },
      blockers: [],
    });
    expect([...(p?.findingIds ?? [])].sort()).toEqual([
      'payments-prod/subnet-exhaustion/api-m5l@eu-west-1a',
      'payments-prod/subnet-exhaustion/general-m5xl@eu-west-1a',
      'payments-prod/subnet-exhaustion/subnet-0e59dfd0c9e3779b1',
    ]);
    expect(p?.predicted.text).toMatch(/^Tagging subnet-0c55317ef17156075 \(8,187 free\) kubernetes\.io\/role\/cni=1 makes 8,187 more addresses available to pods in eu-west-1a/);
    expect(p?.predicted.text).toMatch(/\d+ of \d+ nodes in eu-west-1a (has|have) every ENI slot used/);
    // The inventory alone cannot see it.
    expect(planCniSubnets(ctx).map((x) => x.blockers[0])).toEqual([expect.stringMatching(/^spare subnet data not read: subnet-0c55317ef17156075/)]);
  });
});
