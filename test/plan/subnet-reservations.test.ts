/**
 * The subnet-reservations planner: which subnets, which CIDRs (aligned, inside the subnet, free,
 * checked with lib/measure/cidr.ts), the policy's bounds, and nothing on incomplete data.
 */
import * as path from 'node:path';
import type { SubnetCidrReservation } from '@aws-sdk/client-ec2';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import type { CollectionProblem } from '../../lib/inventory/types';
import { parseIpv4, parseIpv4Cidr } from '../../lib/measure/cidr';
import { planCluster } from '../../lib/plan/gates';
import { chooseReservations, MAX_RESERVED_SHARE, MAX_TOTAL_PREFIX_RESERVED_SHARE, planSubnetReservations } from '../../lib/plan/subnet-reservations';
import { absentReason } from '../../lib/output/report/plan';
import { cniEni } from '../measure/builders';
import type { PlanContext } from '../../lib/plan/types';
import type { EffectivePolicy, SubnetReservationsPolicy } from '../../lib/policy/types';
import { AZ_A, managedCni, run, TYPES, World } from '../diagnose/world';
import { DEFAULT_LEAKED_ENIS_POLICY } from '../../lib/policy/types';

const CLUSTER = 'prod';
const NOW = new Date('2026-11-26T10:00:00Z');

function policy(r: Partial<SubnetReservationsPolicy> | null = {}, mode: EffectivePolicy['mode'] = 'apply'): EffectivePolicy {
  return {
    cluster: CLUSTER,
    mode,
    thresholds: DEFAULT_THRESHOLDS,
    actions: {
      warmTargets: { allowed: false, cooldownMinutes: 60, warmIpTarget: { min: 1, max: 16 }, minimumIpTarget: { min: 0, max: 64 } },
      prefixDelegation: { allowed: false, cooldownMinutes: 60, warmPrefixTarget: { min: 0, max: 2 }, maxPods: { min: 10, max: 110 } },
      cniSubnets: { allowed: false, cooldownMinutes: 60, spareSubnets: [], maxSubnetsPerAction: 2 },
      instanceTypes: { allowed: false, cooldownMinutes: 60, allowedTypes: [], maxInstanceTypes: 3 },
      leakedEnis: { ...DEFAULT_LEAKED_ENIS_POLICY },
      ...(r === null
        ? {}
        : { subnetReservations: { allowed: true, cooldownMinutes: 1440, subnets: ['subnet-a'], maxReservationsPerAction: 2, minBlocks: 2, ...r } }),
    },
  };
}

/**
 * subnet-a, a /24: a prefix-mode node (its primary ENI at .4, prefixes .224/28 and .208/28) and
 * two Lambda-like ENIs at .21 and .37 breaking blocks 1 and 2. Free blocks: 3..12 (10 of them):
 * aligned runs .48/28, .64/26, .128/26, .192/28.
 */
function context(
  o: { prefixDelegation?: boolean; reservations?: SubnetCidrReservation[]; problems?: CollectionProblem[]; p?: EffectivePolicy; prefixes?: number; otherCluster?: boolean } = {},
): PlanContext {
  const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A, {
    // EC2 leaves the unused reserved addresses out of AvailableIpAddressCount.
    unaccounted: (o.reservations ?? []).reduce((sum, r) => sum + parseIpv4Cidr(r.Cidr ?? '').size, 0),
  });
  w.node({ cluster: CLUSTER, nodegroup: 'web', type: 'm5.large', subnetId: 'subnet-a', enis: [1], prefixes: [o.prefixes ?? 2] });
  w.other('subnet-a', 0, ['10.0.1.21', '10.0.1.37']);
  if (o.otherCluster) {
    // A node of another cluster in secondary-IP mode: an ENI the CNI tagged with its cluster, in block 0.
    const e = cniEni('i-0000000000000aaaa', 'subnet-a', AZ_A, w.ips('subnet-a', 3));
    w.enis.push({ ...e, TagSet: [...(e.TagSet ?? []), { Key: 'cluster.k8s.amazonaws.com/name', Value: 'other' }] });
  }
  const inventory = {
    ...w.inventory({
      name: CLUSTER,
      subnets: [['subnet-a', ['node']]],
      cni: managedCni(o.prefixDelegation === false ? {} : { ENABLE_PREFIX_DELEGATION: 'true' }),
      problems: o.problems ?? [],
    }),
    subnetCidrReservations: o.reservations ?? [],
  };
  const { usage, findings } = run(inventory);
  return { usage, inventory, instanceTypes: TYPES, findings, policy: o.p ?? policy(), now: NOW };
}

/** Asserts a CIDR is aligned to its size, inside the subnet, and touches no address the subnet's ENIs hold. */
function expectFreeAligned(ctx: PlanContext, cidr: string): void {
  const c = parseIpv4Cidr(cidr);
  const s = parseIpv4Cidr('10.0.1.0/24');
  expect(c.base % c.size).toBe(0);
  expect(cidr).toBe(`10.0.1.${c.base - s.base}/${c.prefixLength}`);
  expect(c.prefixLength).toBeLessThanOrEqual(28);
  expect(c.base >= s.base + 4 && c.base + c.size <= s.base + s.size - 1).toBe(true);
  for (const e of ctx.inventory.networkInterfaces) {
    for (const a of e.PrivateIpAddresses ?? []) {
      const ip = parseIpv4(a.PrivateIpAddress ?? '');
      expect(ip >= c.base && ip < c.base + c.size).toBe(false);
    }
    for (const p of e.Ipv4Prefixes ?? []) {
      const q = parseIpv4Cidr(p.Ipv4Prefix ?? '');
      expect(q.base < c.base + c.size && c.base < q.base + q.size).toBe(false);
    }
  }
}

describe('planSubnetReservations', () => {
  it('proposes the largest free aligned run of an allow-listed prefix-mode subnet, within half its free blocks', () => {
    const ctx = context();
    const [a, ...rest] = planSubnetReservations(ctx);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      id: 'prod/subnet-reservations/subnet-a',
      kind: 'subnet-reservations',
      subject: 'subnet-a',
      change: { type: 'reserve-prefixes', subnetId: 'subnet-a', subnetCidr: '10.0.1.0/24', cidrs: ['10.0.1.64/26'] },
      blockers: [],
    });
    // The two /26s are 8 blocks: more than half of the 10 free; the second is left.
    expect(a?.predicted.text).toContain('6 of the subnet\'s 10 free blocks stay unreserved');
    for (const cidr of a?.change.type === 'reserve-prefixes' ? a.change.cidrs : []) expectFreeAligned(ctx, cidr);
  });

  it.each<[string, Parameters<typeof context>[0]]>([
    ['the policy leaves the action out (not allowed by default)', { p: policy(null) }],
    ['the policy does not allow it', { p: policy({ allowed: false }) }],
    ['the subnet is not on the allow list', { p: policy({ subnets: ['subnet-0aaaaaaaaaaaaaaaa'] }) }],
    ['the allow list is empty', { p: policy({ subnets: [] }) }],
    ['no run is as large as minBlocks', { p: policy({ minBlocks: 8 }) }],
  ])('proposes nothing when %s', (_name, o) => {
    expect(planSubnetReservations(context(o))).toEqual([]);
  });

  it('proposes nothing for a subnet in secondary-IP mode (prefix delegation off, no prefix node, no finding)', () => {
    const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A);
    w.node({ cluster: CLUSTER, nodegroup: 'web', type: 'm5.large', subnetId: 'subnet-a', enis: [10] });
    const inventory = w.inventory({ name: CLUSTER, subnets: [['subnet-a', ['node']]], cni: managedCni({}) });
    const { usage, findings } = run(inventory);
    expect(planSubnetReservations({ usage, inventory, instanceTypes: TYPES, findings, policy: policy(), now: NOW })).toEqual([]);
  });

  it.each<[string, CollectionProblem]>([
    ['the subnet\'s ENIs', { source: 'ec2:DescribeNetworkInterfaces', message: 'denied', unread: { part: 'network-interfaces', ids: ['subnet-a'] } }],
    ['its reservations', { source: 'ec2:GetSubnetCidrReservations', message: 'denied', unread: { part: 'cidr-reservations', ids: ['subnet-a'] } }],
    ['the nodes', { source: 'ec2:DescribeInstances', message: 'denied', unread: { part: 'instances' } }],
  ])('proposes nothing when %s were not read (a used or reserved block would look free)', (_name, problem) => {
    expect(planSubnetReservations(context({ problems: [problem] }))).toEqual([]);
  });

  it('goes around an explicit reservation, and counts it as neither free nor prefix room', () => {
    const explicit: SubnetCidrReservation = { SubnetCidrReservationId: 'scr-1', SubnetId: 'subnet-a', Cidr: '10.0.1.64/26', ReservationType: 'explicit' };
    // Free now: blocks 3 and 8..12 (6); half is 3: the /26 at .128 no longer fits, two /28s do.
    const [a] = planSubnetReservations(context({ reservations: [explicit], p: policy({ minBlocks: 1 }) }));
    expect(a?.change).toMatchObject({ cidrs: ['10.0.1.48/28', '10.0.1.192/28'] });
    expect(a?.predicted.text).toContain("of the subnet's 6 free blocks");
  });

  it('proposes nothing once a prefix reservation holds minBlocks free blocks (the next cycle after the action)', () => {
    const made: SubnetCidrReservation = { SubnetCidrReservationId: 'scr-2', SubnetId: 'subnet-a', Cidr: '10.0.1.64/26', ReservationType: 'prefix' };
    expect(planSubnetReservations(context({ reservations: [made] }))).toEqual([]);
  });

  it('proposes again when the prefix reservation is full (fewer than minBlocks free in it)', () => {
    const full: SubnetCidrReservation = { SubnetCidrReservationId: 'scr-3', SubnetId: 'subnet-a', Cidr: '10.0.1.208/28', ReservationType: 'prefix' };
    expect(planSubnetReservations(context({ reservations: [full] })).map((a) => a.change)).toEqual([
      expect.objectContaining({ cidrs: ['10.0.1.64/26'] }),
    ]);
  });

  it('proposes nothing on an IPv6 cluster (its prefixes are IPv6 /80s), and the plan report says why', () => {
    const ctx = context();
    const v6 = { ...ctx, usage: { ...ctx.usage, network: { autoMode: false, autoModeBlockStorage: false, autoModeLoadBalancing: false, autoModeNodePools: [], ipFamily: 'ipv6' as const } } };
    expect(planSubnetReservations(ctx)).toHaveLength(1);
    expect(planSubnetReservations(v6)).toEqual([]);
    const why = absentReason('subnet-reservations', { cluster: CLUSTER, mode: 'apply', planned: [], results: [], notes: [] }, v6.usage, v6.findings, true);
    expect(why).toMatch(/^IPv6 cluster: .*no IPv4 \/28 prefix/);
  });

  it('keeps all prefix reservations of a subnet within half its usable /28 blocks (repeated actions do not shrink the rest)', () => {
    // Five prefixes (.160 to .224) fill three earlier prefix reservations (.160/27, .192/27,
    // .224/28: 5 blocks, none free). Free: blocks 3..9 (7); the per-action share allows 3, the
    // total cap 7 (half of the 14 usable) − 5 = 2: only the /27 at .128.
    const earlier: SubnetCidrReservation[] = ['10.0.1.160/27', '10.0.1.192/27', '10.0.1.224/28'].map((Cidr, i) => ({
      SubnetCidrReservationId: `scr-${i}`,
      SubnetId: 'subnet-a',
      Cidr,
      ReservationType: 'prefix',
    }));
    const [a] = planSubnetReservations(context({ prefixes: 5, reservations: earlier, p: policy({ minBlocks: 1 }) }));
    expect(a?.change).toMatchObject({ cidrs: ['10.0.1.128/27'] });
    expect(5 + 2).toBeLessThanOrEqual(14 * MAX_TOTAL_PREFIX_RESERVED_SHARE);
    // At the cap: nothing more.
    const more = [...earlier, { SubnetCidrReservationId: 'scr-9', SubnetId: 'subnet-a', Cidr: '10.0.1.128/27', ReservationType: 'prefix' as const }];
    const full = context({ prefixes: 7, reservations: more, p: policy({ minBlocks: 1 }) });
    expect(planSubnetReservations(full)).toEqual([]);
  });

  it('blocks, with the reason, a subnet another cluster holds addresses in (its mode is not known here)', () => {
    const [a] = planSubnetReservations(context({ otherCluster: true }));
    expect(a?.change).toMatchObject({ cidrs: ['10.0.1.64/26'] });
    expect(a?.blockers).toEqual([expect.stringMatching(/subnet-a is shared with other \(3 addresses\): whether its nodes there run in secondary-IP mode .* is not known to this cluster's plan/)]);
    const [gated] = planCluster(context({ otherCluster: true }), [planSubnetReservations], { lastStartedByKind: {} });
    expect(gated?.state).toBe('blocked');
  });

  it('goes through the gates: dry-run in a dry-run policy, blocked on incomplete data', () => {
    const dry = planCluster(context({ p: policy({}, 'dry-run') }), [planSubnetReservations], { lastStartedByKind: {} });
    expect(dry.map((a) => a.state)).toEqual(['dry-run']);
    const ctx = context();
    const incomplete = { ...ctx, usage: { ...ctx.usage, complete: false, problems: [{ source: 'ledger', message: 'the action history could not be read' }] } };
    const [blocked] = planCluster(incomplete, [planSubnetReservations], { lastStartedByKind: {} });
    expect(blocked?.state).toBe('blocked');
    expect(blocked?.blockedBy.join(' ')).toContain('data incomplete');
    const cooled = planCluster(ctx, [planSubnetReservations], { lastStartedByKind: { 'subnet-reservations': '2026-11-26T09:00:00Z' } });
    expect(cooled[0]?.blockedBy.join(' ')).toContain('cooldown');
  });
});

describe('chooseReservations', () => {
  const empty = { cidrBlock: '10.0.1.0/24' };
  const none = { addresses: [], prefixes: [] };

  it('never reserves more than half the free blocks, largest runs first, at most maxReservationsPerAction', () => {
    // An empty /24: blocks 1..14 free (14); runs /28 .16, /27 .32, /26 .64, /26 .128, /27 .192, /28 .224.
    expect(chooseReservations(empty, none, { maxReservationsPerAction: 5, minBlocks: 1 })).toEqual({
      cidrs: ['10.0.1.64/26', '10.0.1.32/27', '10.0.1.16/28'],
      blocks: 7,
      freeBlocks: 14,
    });
    expect(7).toBeLessThanOrEqual(14 * MAX_RESERVED_SHARE);
    expect(chooseReservations(empty, none, { maxReservationsPerAction: 1, minBlocks: 1 }).cidrs).toEqual(['10.0.1.64/26']);
  });

  it('gives only CIDRs aligned to their size and inside the subnet, for any subnet', () => {
    for (const cidr of ['10.0.0.0/20', '10.0.16.0/22', '10.0.1.128/25', '10.0.1.0/27']) {
      const s = parseIpv4Cidr(cidr);
      for (const c of chooseReservations({ cidrBlock: cidr }, none, { maxReservationsPerAction: 5, minBlocks: 1 }).cidrs) {
        const r = parseIpv4Cidr(c);
        expect(r.base % r.size).toBe(0);
        expect(r.base >= s.base && r.base + r.size <= s.base + s.size).toBe(true);
      }
    }
  });

  it('counts existing prefix reservations against the total cap', () => {
    // An empty /24 whose .128/26 is a full prefix reservation: free blocks 1..7 and 12..14 (10);
    // per action 5, but the total cap 7 − 4 = 3: the /27 at .32 and the /28 at .16, not the /26.
    const s = { cidrBlock: '10.0.1.0/24', reservations: { explicit: { count: 0, addresses: 0, unused: 0 }, prefix: { count: 1, addresses: 64, unused: 0 }, ranges: [{ id: 'scr-1', cidr: '10.0.1.128/26', type: 'prefix' as const }] } };
    const held = { addresses: [], prefixes: ['10.0.1.128/28', '10.0.1.144/28', '10.0.1.160/28', '10.0.1.176/28'] };
    expect(chooseReservations(s, held, { maxReservationsPerAction: 5, minBlocks: 1 })).toEqual({ cidrs: ['10.0.1.32/27', '10.0.1.16/28'], blocks: 3, freeBlocks: 10 });
  });

  it('a /28 subnet has no free block (its only block holds the addresses AWS reserves)', () => {
    expect(chooseReservations({ cidrBlock: '10.0.1.0/28' }, none, { maxReservationsPerAction: 5, minBlocks: 1 })).toEqual({ cidrs: [], blocks: 0, freeBlocks: 0 });
  });
});

describe('on the demo snapshot (batch-dev, prefix delegation on)', () => {
  const B = 'subnet-017ef4df2538453d7'; // batch-dev-private-b, 10.30.16.0/20
  const E = 'subnet-05c95c4d622e09cf7'; // batch-dev-pods-e, 10.30.36.0/23, a prefix /25 reserved and unused

  it('proposes reservations in the /20 and none in the subnet whose prefix reservation still has room', async () => {
    const source = await readSnapshot(path.join(__dirname, '..', '..', 'events', 'demo-snapshot'));
    const all = await collectInventory(source, { clusterNames: ['batch-dev'], concurrency: 1, now: NOW });
    const inv = all.clusters[0]!;
    const { usage, findings } = run(inv, {}, all.instanceTypes);
    const ctx: PlanContext = { usage, inventory: inv, instanceTypes: all.instanceTypes, findings, policy: { ...policy({ subnets: [B, E] }), cluster: 'batch-dev' }, now: NOW };
    const planned = planSubnetReservations(ctx);
    expect(planned.map((a) => a.subject)).toEqual([B]);
    const change = planned[0]!.change;
    if (change.type !== 'reserve-prefixes') throw new Error('not a reserve-prefixes change');
    expect(change.cidrs).toEqual(['10.30.20.0/22', '10.30.18.0/23']);
    for (const cidr of change.cidrs) {
      const c = parseIpv4Cidr(cidr);
      expect(c.base % c.size).toBe(0);
    }
    // The subnet with the reservations is measured with them: Reserved, not Unaccounted.
    expect(usage.subnets.find((s) => s.subnetId === E)?.held).toMatchObject({ Reserved: 160, Unaccounted: 0 });
  });
});
