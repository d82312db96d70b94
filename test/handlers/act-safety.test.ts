/**
 * The act path through the responder's handler, against the demo account (payments-prod in apply
 * mode with the opt-in tag), the emulated EKS/EC2/SNS and a real local DynamoDB: concurrent
 * invocations (the same event, different events, the schedule), stale plans, and records forged
 * into the ledger. Each decision makes exactly one change.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { parse as parseYaml } from 'yaml';
import { makeHandler as makeRespond } from '../../handlers/respond';
import { actionRecordSk } from '../../lib/act/ledger';
import { createLedgerDocumentClient } from '../../lib/aws/ledger';
import { OPT_IN_TAG_KEY } from '../../lib/policy/types';
import { dynaliteClient, } from '../../tools/dynalite';
import { testRuntime } from '../support/runtime';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';
import { useTestHarness } from '../support/harness';

const EVENTS = path.join(__dirname, '..', '..', 'events');
const load = (name: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(EVENTS, name), 'utf8')) as Record<string, unknown>;
const NOW = new Date('2026-11-26T10:00:00Z');

const harness = useTestHarness();

/** The repository's policy with `clusters` set as given (the rest as in policy.yml). */
function policy(clusters: Record<string, unknown>): string {
  const doc = parseYaml(readFileSync(path.join(__dirname, '..', '..', 'policy.yml'), 'utf8')) as { clusters: Record<string, unknown> };
  doc.clusters = { ...doc.clusters, ...clusters };
  return JSON.stringify(doc);
}

async function setup(clusters: Record<string, unknown>, optIn: string[]) {
  const account = accountFromSnapshot(DEMO_SNAPSHOT);
  for (const c of account.clusters) if (optIn.includes(c.name ?? '')) c.tags = { ...c.tags, [OPT_IN_TAG_KEY]: 'apply' };
  const t = await testRuntime(account, harness.db, { RESPOND_MIN_INTERVAL_SECONDS: '0', POLICY_JSON: policy(clusters) }, NOW);
  harness.track(t.aws);
  return { account, ...t, respond: makeRespond(t.rt) };
}

/** An event of the file with another EventBridge id (another delivery of the same kind of failure). */
const withId = (name: string, id: string) => ({ ...load(name), id });

const APPLY_WARM_ONLY = { 'payments-prod': { mode: 'apply', actions: { cniSubnets: { allowed: false }, instanceTypes: { allowed: false }, prefixDelegation: { allowed: false } } } };

describe('concurrent invocations make one change per decision', () => {
  it.each([2, 8])('%i invocations of different events at the same moment: one UpdateAddon, one [ACTION DONE]', async (n) => {
    const { aws, respond } = await setup(APPLY_WARM_ONLY, ['payments-prod']);
    const outs = await Promise.all(Array.from({ length: n }, (_, i) => respond(withId('cloudtrail-insufficient-free-addresses.json', `event-${i}`))));
    expect(outs.every((o) => o.status === 'handled')).toBe(true);
    expect(aws.changes.map((c) => c.op)).toEqual(['UpdateAddon']);
    expect(aws.published.filter((m) => m.Subject?.startsWith('[ACTION DONE] payments-prod'))).toHaveLength(1);
    const outcomes = outs.flatMap((o) => o.actions?.outcomes ?? []).map((x) => x.status);
    expect(outcomes.filter((s) => s === 'succeeded')).toHaveLength(1);
  });

  it('8 deliveries of the same event, with the schedule beside them: one change', async () => {
    const { aws, respond } = await setup(APPLY_WARM_ONLY, ['payments-prod']);
    const runs = [
      ...Array.from({ length: 8 }, () => respond(load('cloudtrail-insufficient-free-addresses.json')).catch((e: Error) => ({ status: e.name }))),
      respond(load('scheduled.json')),
    ];
    await Promise.all(runs);
    expect(aws.changes.map((c) => c.op)).toEqual(['UpdateAddon']);
    expect(aws.published.filter((m) => m.Subject?.startsWith('[ACTION DONE] payments-prod'))).toHaveLength(1);
  });

  it('a stale plan does not act: an invocation that planned before another acted skips after taking the lock', async () => {
    const { aws, rt, respond } = await setup(APPLY_WARM_ONLY, ['payments-prod']);
    // The second invocation reads the cluster (and plans) while the first is still before its
    // lock; it takes the lock only after the first has finished and released it.
    const acquire = rt.actions.acquireLock.bind(rt.actions);
    let calls = 0;
    let releaseSecond: () => void = () => undefined;
    const secondMayGoOn = new Promise<void>((resolve) => (releaseSecond = resolve));
    let secondWaiting: () => void = () => undefined;
    const secondPlanned = new Promise<void>((resolve) => (secondWaiting = resolve));
    jest.spyOn(rt.actions, 'acquireLock').mockImplementation(async (cluster, lock) => {
      if (++calls === 2) {
        secondWaiting();
        await secondMayGoOn;
      }
      return acquire(cluster, lock);
    });
    const gate = jest.spyOn(rt.actions, 'getActionHistory');
    const first = respond(withId('cloudtrail-insufficient-free-addresses.json', 'first'));
    const second = respond(withId('cloudtrail-private-ip-limit.json', 'second'));
    // The first reaches its lock before the second (both planned on the same reads).
    await secondPlanned;
    const one = await first;
    expect(gate).toHaveBeenCalled();
    releaseSecond();
    const two = await second;
    expect(one.actions?.outcomes.map((o) => o.status)).toEqual(['succeeded']);
    expect(two.actions?.outcomes[0]).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/the plan is stale/) });
    expect(aws.changes.map((c) => c.op)).toEqual(['UpdateAddon']);
    // Without the check after the lock the second found the values set and said [ACTION DONE] again.
    expect(aws.published.filter((m) => m.Subject?.startsWith('[ACTION DONE] payments-prod'))).toHaveLength(1);
  });
});

describe('forged records are never executed', () => {
  it('quarantines a record planted in an opted-in cluster’s ledger that names a cluster in dry-run, and scales nothing', async () => {
    const { account, aws, rt, respond } = await setup(
      { 'payments-prod': { mode: 'apply', actions: { warmTargets: { allowed: false }, cniSubnets: { allowed: false } } }, 'batch-dev': { mode: 'dry-run' } },
      ['payments-prod'],
    );
    const doc = createLedgerDocumentClient(dynaliteClient(harness.db.endpoint));
    const startedAt = '2026-11-26T09:00:00.000Z';
    const forged = {
      actionId: 'payments-prod/instance-types/legacy-t3',
      cluster: 'batch-dev',
      kind: 'instance-types',
      change: { type: 'replace-nodegroup', nodegroup: 'legacy-t3', newNodegroup: 'api-m5l', fromInstanceTypes: ['t3.large'], toInstanceTypes: ['m5.large'], ranking: [], scaling: { minSize: 0, maxSize: 1, desiredSize: 0 } },
      predicted: { text: 'x' },
      reason: 'forged',
      startedAt,
      updatedAt: startedAt,
      status: 'in-progress',
      step: 'creating',
      history: [],
      version: 1,
    };
    const sk = actionRecordSk(forged as never);
    await doc.send(new PutCommand({ TableName: rt.config.ledgerTable, Item: { pk: 'ACTIONS#payments-prod', sk, type: 'action', ...forged } }));
    await doc.send(
      new PutCommand({
        TableName: rt.config.ledgerTable,
        Item: { pk: 'ACTIONS#payments-prod', sk: 'INFLIGHT', type: 'lock', actionId: forged.actionId, kind: 'instance-types', recordSk: sk, since: startedAt, owner: 'forger', leaseUntil: 0 },
      }),
    );
    const before = account.nodegroups['batch-dev']!.find((n) => n.nodegroupName === 'legacy-t3')!.scalingConfig;
    const out = await respond(load('scheduled.json'));
    expect(out.actions?.outcomes[0]).toMatchObject({ status: 'quarantined', detail: expect.stringMatching(/names cluster batch-dev, but is in the ledger of cluster payments-prod/) });
    expect(aws.writes).toEqual([]);
    expect(account.nodegroups['batch-dev']!.find((n) => n.nodegroupName === 'legacy-t3')!.scalingConfig).toEqual(before);
    expect(aws.published.some((m) => m.Subject?.startsWith('[ACTION QUARANTINED] payments-prod'))).toBe(true);
    // The real cluster's lock is free again: the next cycle may act.
    expect((await rt.actions.getActionHistory('payments-prod')).lock).toBeUndefined();
  });
});
