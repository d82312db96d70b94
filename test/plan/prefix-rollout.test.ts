import path from 'node:path';
import { planPrefixRollout } from '../../lib/plan/prefix-rollout';
import type { NodegroupReplacementChange, PlanContext } from '../../lib/plan/types';
import { diagnose } from '../../lib/diagnose/diagnose';
import { prefixBlocksOf } from '../../lib/diagnose/prefix-fragmentation';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import { measure } from '../../lib/measure/measure';
import { effectivePolicy } from '../../lib/policy/load';
import { readPolicyFile } from '../../lib/policy/yaml';

const NOW = new Date('2026-11-26T10:00:00Z');
let base: PlanContext;

beforeAll(async () => {
  const source = await readSnapshot(path.join(__dirname, '..', '..', 'events', 'demo-snapshot'));
  const inv = await collectInventory(source, { clusterNames: ['batch-dev'], concurrency: 1, now: NOW });
  const usage = measure(inv);
  base = {
    usage: usage.clusters[0]!,
    inventory: inv.clusters[0]!,
    instanceTypes: inv.instanceTypes,
    findings: diagnose(usage, inv, DEFAULT_THRESHOLDS),
    policy: effectivePolicy(readPolicyFile(path.join(__dirname, '..', '..', 'policy.yml')), 'batch-dev'),
    now: NOW,
  };
});

const variant = (f: (ctx: PlanContext) => void): PlanContext => {
  const ctx = structuredClone(base);
  f(ctx);
  return ctx;
};

describe('planPrefixRollout', () => {
  it('rolls legacy-t3, whose nodes predate prefix delegation, onto new t3.medium nodes', () => {
    const [a, ...rest] = planPrefixRollout(base);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ id: 'batch-dev/prefix-rollout/legacy-t3', kind: 'prefix-rollout', subject: 'legacy-t3', blockers: [] });
    const change = a!.change as NodegroupReplacementChange;
    expect(change.fromInstanceTypes).toEqual(['t3.medium']);
    expect(change.toInstanceTypes).toEqual(['t3.medium']);
    expect(change.scaling.desiredSize).toBeGreaterThanOrEqual(4);
    // t3.medium: 17 max pods with secondary IPs, 110 (capped) with prefixes.
    expect(a!.predicted.podHeadroomGained).toBe((110 - 17) * 4);
  });

  it.each<[string, (ctx: PlanContext) => void, RegExp | 'none']>([
    ['nothing while prefix delegation is off (the add-on change comes first)', (c) => (c.usage.cni.prefixDelegation = false), 'none'],
    ['nothing when the policy does not allow prefix delegation', (c) => (c.policy.actions.prefixDelegation.allowed = false), 'none'],
    ['nothing when the nodes already use prefixes', (c) => c.usage.nodes.forEach((n) => (n.mode = 'prefix')), 'none'],
    ['nothing without an eni-limit finding', (c) => (c.findings = c.findings.filter((f) => f.kind !== 'eni-limit')), 'none'],
    ['blocked on a custom AMI (max pods is in the user data)', (c) => (c.inventory.nodegroups.find((n) => n.nodegroupName === 'legacy-t3')!.amiType = 'CUSTOM'), /custom AMI/],
    ['blocked while the nodegroup is updating', (c) => (c.inventory.nodegroups.find((n) => n.nodegroupName === 'legacy-t3')!.status = 'UPDATING'), /is UPDATING, not ACTIVE/],
    ['blocked when a replacement exists already', (c) => c.inventory.nodegroups.push({ nodegroupName: 'legacy-t3-ipr-00000000', tags: { 'eks-ip-responder/replaces': 'legacy-t3' } }), /replacement of legacy-t3 exists already/],
    [
      'blocked without free /28 blocks for the new nodes',
      (c) => c.usage.subnets.forEach((s) => (s.held.Unaccounted = 10_000)),
      /^eu-west-1a: subnet-0e13cd509b54cda26 has 0 free aligned \/28 blocks/m,
    ],
  ])('%s', (_name, change, expected) => {
    const planned = planPrefixRollout(variant(change));
    if (expected === 'none') {
      expect(planned).toEqual([]);
    } else {
      expect(planned).toHaveLength(1);
      expect(planned[0]!.blockers.join('\n')).toMatch(expected);
    }
  });
});

/**
 * Room during the overlap. legacy-t3: 4 × t3.medium over eu-west-1a (subnet-0e13cd509b54cda26) and
 * eu-west-1b (subnet-017ef4df2538453d7), 2 new nodes each. A t3.medium capped today carries 15
 * pods (3 ENIs × 5); in prefix mode with WARM_PREFIX_TARGET=1 a new node holds ceil(15/16) = 1
 * prefix + 1 warm = 2 /28s on its primary ENI: 33 addresses, 2 blocks and 1 single address (which
 * may break a block), so an AZ needs 6 free aligned blocks and 66 + 16 free addresses.
 */
describe('planPrefixRollout: room for the new nodes during the overlap', () => {
  const B = 'subnet-017ef4df2538453d7';
  const A = 'subnet-0e13cd509b54cda26';
  /** eu-west-1b's subnet with `usable` free aligned /28 blocks left once Unaccounted addresses are counted against them. */
  const blocksLeft = (usable: number) => (c: PlanContext): void => {
    const s = c.usage.subnets.find((x) => x.subnetId === B)!;
    const unaccounted = prefixBlocksOf(s, c.inventory.networkInterfaces).freeBlocks - usable;
    s.held.Unaccounted = unaccounted;
    s.available -= unaccounted;
  };

  it('plans it with room, stating the overlap, the steady state and the unchanged capacity', () => {
    const [a] = planPrefixRollout(base);
    expect(a!.blockers).toEqual([]);
    expect(a!.predicted.overlapIpsBySubnet).toEqual({ [A]: -66, [B]: -66 });
    // Once the old nodes are gone: 18 each (3 ENIs + 15 secondary IPs) against 33.
    expect(a!.predicted.ipsFreedBySubnet).toEqual({ [A]: -30, [B]: -30 });
    expect(a!.predicted.ipsFreed).toBe(-60);
    const change = a!.change as NodegroupReplacementChange;
    expect(change.capacity).toMatchObject({ before: { nodes: 4, vcpus: 8, memoryMiB: 16384 }, after: { nodes: 4, vcpus: 8, memoryMiB: 16384 }, increasePercent: 0 });
    expect(a!.predicted.text).toContain('capacity unchanged: 4 × t3.medium (8 vCPU, 16 GiB), same node count (4)');
  });

  it.each<[string, (c: PlanContext) => void, string | undefined]>([
    ['6 free aligned /28 blocks: room for 2 nodes', blocksLeft(6), undefined],
    [
      '5 free aligned /28 blocks: blocked with the numbers',
      blocksLeft(5),
      `eu-west-1b: ${B} has 5 free aligned /28 blocks (236 unaccounted addresses counted against them) and 3,644 free addresses, ` +
        'the 2 new t3.medium nodes need 6 blocks and 66 addresses during the overlap (+16 margin, actions.prefixDelegation.overlapMarginIps); ' +
        '33 addresses each at 15 pods: 2 /28 prefixes + 1 ENI primary address, and each primary address may break a free block',
    ],
    ['a margin that leaves exactly room (3,787 free in eu-west-1a: 66 + 3,721)', (c) => (c.policy.actions.prefixDelegation.overlapMarginIps = 3721), undefined],
    [
      'a margin one address larger: blocked with the numbers',
      (c) => (c.policy.actions.prefixDelegation.overlapMarginIps = 3722),
      `eu-west-1a: ${A} has 235 free aligned /28 blocks and 3,787 free addresses, ` +
        'the 2 new t3.medium nodes need 6 blocks and 66 addresses during the overlap (+3,722 margin, actions.prefixDelegation.overlapMarginIps); ' +
        '33 addresses each at 15 pods: 2 /28 prefixes + 1 ENI primary address, and each primary address may break a free block',
    ],
  ])('%s', (_name, change, blocker) => {
    const [a, ...rest] = planPrefixRollout(variant(change));
    expect(rest).toEqual([]);
    expect(a!.blockers).toEqual(blocker ? [blocker] : []);
  });
});
