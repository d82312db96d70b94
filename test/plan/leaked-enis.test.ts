import * as path from 'node:path';
import { diagnose } from '../../lib/diagnose/diagnose';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import { measure } from '../../lib/measure/measure';
import { gateActions } from '../../lib/plan/gates';
import { planLeakedEnis } from '../../lib/plan/leaked-enis';
import type { PlanContext } from '../../lib/plan/types';
import { effectivePolicy } from '../../lib/policy/load';
import { readPolicyFile } from '../../lib/policy/yaml';
import type { LeakedEnisPolicy } from '../../lib/policy/types';

const DEMO = path.join(__dirname, '..', '..', 'events', 'demo-snapshot');
const NOW = new Date('2026-11-26T10:00:00Z');

/** The demo's payments-prod (three leaked ENIs of its own: 30 h, 52 h and 15 minutes old; one of payments-old) under a policy. */
async function context(leaked: Partial<LeakedEnisPolicy>, cluster = 'payments-prod'): Promise<PlanContext> {
  const inventory = await collectInventory(await readSnapshot(DEMO), { clusterNames: [], concurrency: 1, now: NOW });
  const usage = measure(inventory);
  const findings = diagnose(usage, inventory, DEFAULT_THRESHOLDS);
  const base = effectivePolicy(readPolicyFile(path.join(__dirname, '..', '..', 'policy.yml')), cluster);
  const policy = { ...base, mode: 'apply' as const, actions: { ...base.actions, leakedEnis: { ...base.actions.leakedEnis, ...leaked } } };
  const c = usage.clusters.find((x) => x.name === cluster);
  const inv = inventory.clusters.find((x) => x.name === cluster);
  if (!c || !inv) throw new Error('no cluster');
  return { usage: c, inventory: inv, instanceTypes: inventory.instanceTypes, findings: findings.filter((f) => f.cluster === cluster), policy, now: NOW };
}

describe('planLeakedEnis', () => {
  it('proposes nothing while the policy does not allow it (the default)', async () => {
    expect(planLeakedEnis(await context({}))).toEqual([]);
  });

  it("deletes this cluster's ENIs old enough, oldest first, and says what it leaves", async () => {
    const [a, ...rest] = planLeakedEnis(await context({ allowed: true }));
    expect(rest).toEqual([]);
    expect(a?.kind).toBe('leaked-enis');
    expect(a?.blockers).toEqual([]);
    if (a?.change.type !== 'delete-enis') throw new Error('not a delete-enis change');
    expect(a.change.clusterTag).toBe('payments-prod');
    expect(a.change.minAgeMinutes).toBe(60);
    // 52 h (6 IPs) then 30 h (10 IPs); not the 15-minute one, not payments-old's.
    expect(a.change.enis.map((e) => e.ips)).toEqual([6, 10]);
    expect(a.predicted.ipsFreed).toBe(16);
    expect(a.predicted.text).toContain('1 ENI younger than 60 minutes');
    expect(a.predicted.text).toContain("1 ENI not tagged with payments-prod (another cluster's, or untagged): never deleted by payments-prod's action");
    expect(a.findingIds).toEqual(['payments-prod/leaked-enis/subnet-02a477941daa66d13']);
  });

  it('takes at most maxEnisPerAction, and never an ENI younger than an hour whatever minAgeMinutes says', async () => {
    const [one] = planLeakedEnis(await context({ allowed: true, maxEnisPerAction: 1, minAgeMinutes: 5 }));
    if (one?.change.type !== 'delete-enis') throw new Error('not a delete-enis change');
    expect(one.change.enis.map((e) => e.ips)).toEqual([6]);
    expect(one.change.minAgeMinutes).toBe(60);
    expect(one.predicted.text).toContain('1 more ENI for a later action');
  });

  it('is blocked when none is old enough', async () => {
    const [a] = planLeakedEnis(await context({ allowed: true, minAgeMinutes: 60 * 24 * 3 }));
    expect(a?.blockers).toEqual([
      'no leaked ENI of payments-prod is old enough to delete: 3 ENIs younger than 4,320 minutes (policy actions.leakedEnis.minAgeMinutes); 1 ENI not tagged with payments-prod (another cluster\'s, or untagged): never deleted by payments-prod\'s action',
    ]);
  });

  it('proposes nothing for a cluster none of whose leaked ENIs carry its tag', async () => {
    const ctx = await context({ allowed: true });
    // The same subnets and ENIs seen by a cluster of another name (a cluster sharing them).
    expect(planLeakedEnis({ ...ctx, usage: { ...ctx.usage, name: 'payments-staging' } })).toEqual([]);
    expect(planLeakedEnis(await context({ allowed: true }, 'batch-dev'))).toEqual([]);
  });

  it('goes through the gates: dry-run, not opted in, incomplete data', async () => {
    const ctx = await context({ allowed: true });
    const proposals = planLeakedEnis(ctx);
    expect(gateActions({ ...ctx, policy: { ...ctx.policy, mode: 'dry-run' } }, proposals, { lastStartedByKind: {} })[0]?.state).toBe('dry-run');
    const notOptedIn = gateActions(ctx, proposals, { lastStartedByKind: {} })[0];
    expect(notOptedIn?.state).toBe('blocked');
    expect(notOptedIn?.blockedBy.join()).toContain('cluster not opted in');
    const tagged = { ...ctx.inventory, cluster: { ...ctx.inventory.cluster, tags: { 'eks-ip-responder/remediation': 'apply' } } };
    expect(gateActions({ ...ctx, inventory: tagged }, proposals, { lastStartedByKind: {} })[0]?.state).toBe('apply');
    const incomplete = { ...ctx.usage, complete: false, problems: [{ source: 'ec2:DescribeInstances', message: 'denied', unread: { part: 'eni-instances' as const } }] };
    expect(gateActions({ ...ctx, inventory: tagged, usage: incomplete }, proposals, { lastStartedByKind: {} })[0]?.state).toBe('blocked');
    const cooling = gateActions({ ...ctx, inventory: tagged }, proposals, { lastStartedByKind: { 'leaked-enis': '2026-11-26T09:30:00Z' } })[0];
    expect(cooling?.blockedBy.join()).toContain('cooldown');
  });
});
