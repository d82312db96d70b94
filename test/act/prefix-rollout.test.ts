import path from 'node:path';
import { planPrefixRollout } from '../../lib/act/prefix-rollout';
import type { NodegroupReplacementChange, PlanContext } from '../../lib/act/types';
import { diagnose } from '../../lib/diagnose/diagnose';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import { measure } from '../../lib/measure/measure';
import { effectivePolicy, readPolicyFile } from '../../lib/policy/load';

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
      /0 free \/28 block\(s\)/,
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
