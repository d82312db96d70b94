/**
 * The act loop when an answer is lost, the ledger throttles, the policy is withdrawn mid-change,
 * or the record moved on under a stale read: on the emulated account (lib/act/remediate's real
 * executors) and a real local DynamoDB. Each case was a defect found in review: a change reported
 * done whose update was never followed, a lock whose lease stayed taken, a half-made replacement
 * released unfollowed, a cooldown spent on a write never sent.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { actOnCluster, type ActContext, type ActDeps } from '../../lib/act/act';
import { EXECUTORS } from '../../lib/act/executors';
import type { ActionKind, PlannedAction } from '../../lib/plan/types';
import { createActionLedger } from '../../lib/aws/action-ledger';
import { createLedgerDocumentClient } from '../../lib/aws/ledger';
import { createLedgerTable, dynaliteClient } from '../../tools/dynalite';
import { emulateAccount } from '../../tools/mock-aws';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';
import { useTestHarness } from '../support/harness';

const harness = useTestHarness();
let tables = 0;
const CLUSTER = 'payments-prod';
const T0 = new Date('2026-11-26T12:00:00Z');
const base = { cluster: CLUSTER, reason: 'r', findingIds: [], predicted: { text: 'p' }, blockers: [], state: 'apply' as const, blockedBy: [] };
const REPLACE: PlannedAction = {
  ...base,
  id: `${CLUSTER}/instance-types/api-m5l`,
  kind: 'instance-types',
  subject: 'api-m5l',
  change: {
    type: 'replace-nodegroup',
    nodegroup: 'api-m5l',
    newNodegroup: 'api-m5l-ipr-0a1b2c3d',
    fromInstanceTypes: ['m5.large'],
    toInstanceTypes: ['m5.xlarge'],
    ranking: [],
    scaling: { minSize: 1, maxSize: 20, desiredSize: 10 },
  },
};
const WARM: PlannedAction = {
  ...base,
  id: `${CLUSTER}/warm-targets/vpc-cni`,
  kind: 'warm-targets',
  subject: 'vpc-cni',
  change: { type: 'addon-env', set: { WARM_IP_TARGET: '1' }, previous: { WARM_IP_TARGET: '5' } },
};

async function world(kind: ActionKind) {
  const account = accountFromSnapshot(DEMO_SNAPSHOT);
  const aws = emulateAccount(account);
  harness.track(aws);
  const raw: DynamoDBClient = dynaliteClient(harness.db.endpoint);
  const table = `uncertain-${++tables}`;
  await createLedgerTable(raw, table);
  const doc = createLedgerDocumentClient(raw);
  const actions = createActionLedger(doc, table);
  let now = T0;
  const sent: string[] = [];
  const deps = (owner: string): ActDeps => ({
    actions,
    executors: EXECUTORS,
    owner,
    exec: { eks: aws.eks, ec2: aws.ec2, now: () => now, sleep: async () => {}, followForMs: 0 },
    notify: async (_r, o) => {
      sent.push(`${o.status}: ${o.detail}`);
    },
  });
  let allowed = new Set<ActionKind>([kind]);
  const ctx = (): ActContext => ({ dataAt: now, allowedKinds: allowed, allowedSubnets: new Set(), regate: (a) => a });
  const tick = async (owner: string, planned: PlannedAction[] = []) => actOnCluster(deps(owner), CLUSTER, planned, await actions.getActionHistory(CLUSTER), ctx());
  return {
    account,
    aws,
    actions,
    doc,
    table,
    sent,
    deps,
    ctx,
    tick,
    allow: (kinds: ActionKind[]) => (allowed = new Set(kinds)),
    later: (minutes: number) => (now = new Date(now.getTime() + minutes * 60_000)),
    lock: async () => (await doc.send(new GetCommand({ TableName: table, Key: { pk: `ACTIONS#${CLUSTER}`, sk: 'INFLIGHT' }, ConsistentRead: true }))).Item,
    nodegroups: () => (account.nodegroups[CLUSTER] ?? []).map((n) => `${n.nodegroupName}:${n.status}:${n.scalingConfig?.desiredSize}`),
  };
}

/** The next call of `command` is applied, then answered with a timeout (the answer lost). */
function loseAnswerOnce(client: { send: (c: never) => Promise<unknown> }, command: string, after?: () => void) {
  const original = client.send.bind(client) as (c: unknown) => Promise<unknown>;
  let done = false;
  (client as { send: unknown }).send = async (c: { constructor: { name: string } }) => {
    if (!done && c.constructor.name === command) {
      done = true;
      await original(c);
      after?.();
      throw Object.assign(new Error('socket timeout'), { name: 'TimeoutError' });
    }
    return original(c);
  };
}

describe('a lost answer', () => {
  it('of the scale-down: the next cycle sends it again with the same token and follows its drain, never "at 0 already"', async () => {
    const w = await world('instance-types');
    await w.tick('A', [REPLACE]);
    w.later(5);
    await w.tick('B'); // the new nodegroup: CREATING → ACTIVE in the emulator
    loseAnswerOnce(w.aws.eks as never, 'UpdateNodegroupConfigCommand');
    w.later(5);
    const lost = await w.tick('C');
    expect(lost.results[0]?.outcome).toMatchObject({ status: 'in-progress', step: 'creating' });
    // The intent stays: the scale-down may have been made.
    const between = await w.actions.getActionHistory(CLUSTER);
    expect(between.lockRecord?.intent).toMatchObject({ step: 'scaling-down-old', operation: 'eks:UpdateNodegroupConfig' });
    w.later(5);
    const resumed = await w.tick('D');
    expect(resumed.results[0]?.outcome).toMatchObject({ status: 'in-progress', step: 'scaling-down-old', reference: 'upd-1' });
    // One scale-down: EKS answered the repeated token with the update it had started.
    expect(w.aws.changes.map((c) => c.op)).toEqual(['CreateNodegroup', 'UpdateNodegroupConfig']);
    w.later(5);
    const done = await w.tick('E');
    expect(done.results[0]?.outcome).toMatchObject({ status: 'succeeded', reference: 'upd-1', detail: expect.stringMatching(/scaled to 0, its nodes drained/) });
  });

  it.each([
    ['the new settings already show', false],
    ['the add-on still shows the old ones', true],
  ])('of UpdateAddon (%s, add-on UPDATING): the next cycle learns the update by its token and follows it', async (_name, keepOld) => {
    const w = await world('warm-targets');
    const addon = w.account.addons[CLUSTER]!;
    const before = addon.configurationValues;
    loseAnswerOnce(w.aws.eks as never, 'UpdateAddonCommand', () => {
      addon.status = 'UPDATING';
      if (keepOld) addon.configurationValues = before;
    });
    const first = await w.tick('A', [WARM]);
    expect(first.results[0]?.outcome.status).toBe('in-progress');
    w.later(5);
    const next = await w.tick('B');
    // Neither "already set; nothing changed" nor "an update is in flight; skipped".
    expect(next.results[0]?.outcome).toMatchObject({ status: 'in-progress', reference: 'upd-1', detail: expect.stringMatching(/update upd-1 .* still in progress/) });
    expect(w.aws.changes.map((c) => c.op)).toEqual(['UpdateAddon']);
    expect((await w.lock())?.actionId).toBe(WARM.id);
  });
});

describe('errors that are not the change’s', () => {
  it('a throttled ledger write of the intent, before anything was sent: skipped, no cooldown, lock free', async () => {
    const w = await world('warm-targets');
    const original = w.doc.send.bind(w.doc) as (c: unknown) => Promise<unknown>;
    let thrown = false;
    (w.doc as { send: unknown }).send = async (c: { constructor: { name: string }; input: { Item?: { intent?: unknown } } }) => {
      if (!thrown && c.constructor.name === 'PutCommand' && c.input.Item?.intent) {
        thrown = true;
        throw Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } });
      }
      return original(c);
    };
    const out = await w.tick('A', [WARM]);
    expect(out.results[0]?.outcome).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/ProvisionedThroughputExceededException.*before any change/) });
    const history = await w.actions.getActionHistory(CLUSTER);
    expect(history.lastStartedByKind['warm-targets']).toBeUndefined();
    expect(history.lock).toBeUndefined();
    expect(w.aws.changes).toHaveLength(0);
  });

  it('a refused CreateNodegroup (4xx: nothing created) fails at once with EKS’s reason, not "does not exist" a cycle later', async () => {
    const w = await world('instance-types');
    const original = w.aws.eks.send.bind(w.aws.eks) as (c: unknown) => Promise<unknown>;
    (w.aws.eks as { send: unknown }).send = async (c: { constructor: { name: string } }) => {
      if (c.constructor.name === 'CreateNodegroupCommand') {
        throw Object.assign(new Error('Instance type m5.xlarge is not supported'), { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } });
      }
      return original(c);
    };
    const out = await w.tick('A', [REPLACE]);
    expect(out.results[0]?.outcome).toMatchObject({ status: 'failed', detail: expect.stringMatching(/InvalidParameterException: Instance type m5.xlarge is not supported/) });
    expect(w.sent).toEqual([expect.stringMatching(/^failed: .*InvalidParameterException/)]);
    expect(await w.lock()).toBeUndefined();
  });

  it('a throttled CreateNodegroup: the next cycle runs the start again and creates it once, with the same token', async () => {
    const w = await world('instance-types');
    const original = w.aws.eks.send.bind(w.aws.eks) as (c: unknown) => Promise<unknown>;
    let throttled = false;
    (w.aws.eks as { send: unknown }).send = async (c: { constructor: { name: string } }) => {
      if (!throttled && c.constructor.name === 'CreateNodegroupCommand') {
        throttled = true;
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } });
      }
      return original(c);
    };
    const first = await w.tick('A', [REPLACE]);
    expect(first.results[0]?.outcome).toMatchObject({ status: 'in-progress', step: 'start' });
    w.later(5);
    const second = await w.tick('B');
    expect(second.results[0]?.outcome).toMatchObject({ status: 'in-progress', step: 'creating', reference: 'api-m5l-ipr-0a1b2c3d' });
    expect(w.aws.changes.map((c) => c.op)).toEqual(['CreateNodegroup']);
  });
});

describe('a change the policy withdraws half-way', () => {
  it('a replacement whose new nodegroup exists is paused, not released: nothing followed, the lock kept, resumed when allowed again', async () => {
    const w = await world('instance-types');
    await w.tick('A', [REPLACE]);
    w.allow([]);
    w.later(5);
    const paused = await w.tick('B');
    expect(paused.results).toEqual([]);
    expect(paused.notes).toEqual([expect.stringMatching(/paused at step creating: the policy no longer allows instance-types .* keeps the cluster's change lock/)]);
    expect((await w.lock())?.actionId).toBe(REPLACE.id);
    expect(w.nodegroups()).toContain('api-m5l:ACTIVE:10');
    expect(w.aws.changes.map((c) => c.op)).toEqual(['CreateNodegroup']);
    // Another change does not start beside it.
    w.later(5);
    const other = await w.tick('C', [{ ...WARM }]);
    expect(other.results).toEqual([]);
    expect(w.aws.changes.map((c) => c.op)).toEqual(['CreateNodegroup']);
    // Allowed again: it carries on where it stopped.
    w.allow(['instance-types']);
    w.later(5);
    const resumed = await w.tick('D');
    expect(resumed.results[0]?.outcome).toMatchObject({ status: 'in-progress', step: 'creating', reference: 'api-m5l-ipr-0a1b2c3d' });
    w.later(5);
    const scaling = await w.tick('E');
    expect(scaling.results[0]?.outcome).toMatchObject({ status: 'in-progress', step: 'scaling-down-old' });
  });
});

describe('a stale read of the record', () => {
  it('the follow reads the record again after taking the lease: no failed save, no lease left taken', async () => {
    const w = await world('instance-types');
    await w.tick('A', [REPLACE]);
    w.later(5);
    const staleForB = await w.actions.getActionHistory(CLUSTER); // B reads the cluster ...
    await w.tick('A2'); // ... A2 moves the record on and gives the lease back
    const b = await actOnCluster(w.deps('B'), CLUSTER, [], staleForB, w.ctx());
    expect(b.results[0]?.outcome.status).toBe('in-progress');
    const lock = await w.lock();
    expect(lock?.leaseUntil).toBe(0);
    w.later(5);
    const c = await w.tick('C');
    expect(c.notes.filter((n) => /being worked on/.test(n))).toEqual([]);
  });
});
