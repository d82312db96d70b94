// The act loop (lib/act/act.ts) against a real local DynamoDB (dynalite), with scripted executors:
// locks and leases, re-gating after the lock, quarantine of records that fail their checks,
// transient errors, and the final message sent once before the lock goes.
import { actOnCluster, DEFAULT_LEASE_MS, type ActContext, type ActDeps } from '../../lib/act/act';
import type { ActionKind, EniConfigsChange, PlannedAction } from '../../lib/plan/types';
import type { ActionExecutor, ActionOutcome, ActionRecord } from '../../lib/act/types';
import { actionRecordSk, type ActionLedger } from '../../lib/act/ledger';
import { createActionLedger } from '../../lib/aws/action-ledger';
import { createLedgerDocumentClient } from '../../lib/aws/ledger';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createLedgerTable, dynaliteClient } from '../../tools/dynalite';
import { useTestHarness } from '../support/harness';
import { FakeKubeApi } from '../support/fake-kube-api';
import { eniConfigsExecutor } from '../../lib/act/execute-eni-configs';

const testHarness = useTestHarness();
let tables = 0;

const T0 = new Date('2026-11-26T12:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

async function ledger(): Promise<{ actions: ActionLedger; doc: DynamoDBDocumentClient; table: string }> {
  const raw = dynaliteClient(testHarness.db.endpoint);
  const table = `act-${++tables}`;
  await createLedgerTable(raw, table);
  const doc = createLedgerDocumentClient(raw);
  return { actions: createActionLedger(doc, table), doc, table };
}

const action = (id = 'prod/warm-targets/vpc-cni', state: PlannedAction['state'] = 'apply'): PlannedAction => ({
  id,
  cluster: 'prod',
  kind: 'warm-targets',
  subject: 'vpc-cni',
  reason: 'subnet-a is full',
  findingIds: ['prod/subnet-exhaustion/subnet-a'],
  change: { type: 'addon-env', set: { WARM_IP_TARGET: '2' }, previous: { WARM_IP_TARGET: '5' } },
  predicted: { ipsFreed: 40, text: 'frees about 40 addresses' },
  blockers: [],
  state,
  blockedBy: [],
});

/** An executor that answers from scripts, counts its calls, and announces a write when told to. */
function executor(start: Partial<ActionOutcome>[], follow: Partial<ActionOutcome>[] = [], writes = false) {
  const calls = { start: 0, follow: 0 };
  const answer = async (id: string, o: Partial<ActionOutcome> | undefined, deps: Parameters<ActionExecutor['start']>[1]): Promise<ActionOutcome> => {
    if (writes && deps.intend) await deps.intend({ step: 'update-addon', operation: 'eks:UpdateAddon', target: 'vpc-cni' });
    const status = o?.status ?? 'succeeded';
    return { actionId: id, status, step: status === 'succeeded' ? 'done' : 'updating', reference: 'upd-1', detail: `${status}`, ...o };
  };
  const ex: ActionExecutor = {
    kind: 'warm-targets',
    start: (a, deps) => answer(a.id, start[calls.start++], deps),
    follow: (r, deps) => answer(r.actionId, follow[calls.follow++], deps),
  };
  return { ex, calls };
}

interface Harness {
  deps: ActDeps;
  sent: { subject: string; record: ActionRecord; outcome: ActionOutcome }[];
  setNow(d: Date): void;
}

function harness(actions: ActionLedger, ex: ActionExecutor, owner = 'invocation-1', now = T0): Harness {
  let current = now;
  const sent: Harness['sent'] = [];
  return {
    sent,
    setNow: (d) => (current = d),
    deps: {
      actions,
      executors: { 'warm-targets': ex },
      exec: { eks: {} as never, ec2: {} as never, now: () => current, sleep: async () => {}, followForMs: 0 },
      owner,
      notify: async (record, outcome) => {
        sent.push({ subject: `${outcome.status} ${record.actionId}`, record, outcome });
      },
    },
  };
}

/** A delete-enis change's ENIs: `count` distinct ones. */
const ENIS = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ networkInterfaceId: `eni-0${i.toString(16).padStart(4, '0')}`, subnetId: 'subnet-0aaa', instanceId: `i-0${i}`, ips: 3 }));

/** An eni-configs change over one subnet (issue 14). */
const eniChange = (subnet: string): EniConfigsChange => ({
  type: 'eni-configs',
  vpcId: 'vpc-0aaa1111',
  eniConfigs: [{ name: 'eu-west-1a', subnet, securityGroups: ['sg-0aaa1111'] }],
  env: { type: 'addon-env', set: { AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true', ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone' }, previous: {}, target: 'aws-node' },
  maxPods: [],
});

/** The context the act loop gets from remediate: this one lets warm targets apply unless a cooldown blocks it. */
function context(dataAt: Date, over: Partial<ActContext> = {}): ActContext {
  return {
    dataAt,
    allowedKinds: new Set<ActionKind>(['warm-targets', 'cni-subnets']),
    allowedSubnets: new Set(['subnet-0aaa']),
    regate: (a, history) => {
      const last = history.lastStartedByKind[a.kind];
      return last && Date.parse(last) + 60 * 60_000 > dataAt.getTime() ? { ...a, state: 'blocked', blockedBy: [`cooldown since ${last}`] } : a;
    },
    ...over,
  };
}

async function act(h: Harness, planned: PlannedAction[], ctx = context(h.deps.exec.now())) {
  return actOnCluster(h.deps, 'prod', planned, await h.deps.actions.getActionHistory('prod'), ctx);
}

describe('actOnCluster: starting and following', () => {
  it('starts the action that will apply, records it, notifies it once and frees the lock when it is done', async () => {
    const { actions } = await ledger();
    const { ex, calls } = executor([{ status: 'succeeded' }]);
    const h = harness(actions, ex);
    const { results } = await act(h, [action('prod/x/blocked', 'blocked'), action()]);
    expect(calls.start).toBe(1);
    expect(results[0]?.outcome.status).toBe('succeeded');
    expect(results[0]?.record).toMatchObject({ actionId: 'prod/warm-targets/vpc-cni', status: 'succeeded', step: 'done', reference: 'upd-1', notified: 'succeeded', version: 3 });
    expect(h.sent.map((m) => m.subject)).toEqual(['succeeded prod/warm-targets/vpc-cni']);
    const history = await actions.getActionHistory('prod');
    expect(history.lock).toBeUndefined();
    expect(history.lastStartedByKind['warm-targets']).toBe(T0.toISOString());
  });

  it('keeps the lock while the change is in progress, and follows it (not a second start) next time', async () => {
    const { actions } = await ledger();
    const { ex, calls } = executor([{ status: 'in-progress' }], [{ status: 'in-progress' }, { status: 'succeeded' }]);
    const h = harness(actions, ex);
    await act(h, [action()]);
    let history = await actions.getActionHistory('prod');
    expect(history.inFlight).toMatchObject({ actionId: 'prod/warm-targets/vpc-cni', step: 'updating' });
    // The lease is given back after each step: the next cycle need not wait for it.
    expect(history.lock?.leaseUntil).toBe(0);
    expect(history.lockRecord).toMatchObject({ actionId: 'prod/warm-targets/vpc-cni', status: 'in-progress' });
    h.setNow(at(5));
    const second = await actOnCluster(h.deps, 'prod', [action('prod/warm-targets/other')], history, context(at(5)));
    expect(second.results[0]?.outcome.status).toBe('in-progress');
    history = await actions.getActionHistory('prod');
    h.setNow(at(10));
    const third = await actOnCluster(h.deps, 'prod', [action()], history, context(at(10)));
    expect(third.results[0]?.record).toMatchObject({ status: 'succeeded', notified: 'succeeded' });
    expect(third.results[0]?.record?.history.map((x) => x.status)).toEqual(['in-progress', 'in-progress', 'succeeded']);
    expect(calls).toEqual({ start: 1, follow: 2 });
    expect((await actions.getActionHistory('prod')).lock).toBeUndefined();
    // One message per outcome; the final one once.
    expect(h.sent.map((m) => m.outcome.status)).toEqual(['in-progress', 'in-progress', 'succeeded']);
  });

  it('records a thrown error as a failure, frees the lock, and does not retry', async () => {
    const { actions } = await ledger();
    const ex: ActionExecutor = {
      kind: 'warm-targets',
      start: async () => {
        throw new Error('boom');
      },
      follow: async () => {
        throw new Error('not called');
      },
    };
    const { results } = await act(harness(actions, ex), [action()]);
    expect(results[0]?.outcome).toMatchObject({ status: 'failed', detail: 'unexpected error: boom' });
    expect(results[0]?.record?.status).toBe('failed');
    expect((await actions.getActionHistory('prod')).lock).toBeUndefined();
  });

  it('starts no cooldown for a start that changed nothing', async () => {
    const { actions } = await ledger();
    await act(harness(actions, executor([{ status: 'skipped' }]).ex), [action()]);
    expect((await actions.getActionHistory('prod')).lastStartedByKind).toEqual({});
  });

  it('does nothing without an action that will apply', async () => {
    const { actions } = await ledger();
    const { ex, calls } = executor([]);
    expect(await act(harness(actions, ex), [action('a', 'dry-run')])).toEqual({ results: [], notes: [] });
    expect(calls.start).toBe(0);
  });
});

describe('actOnCluster: concurrency and stale plans', () => {
  it('starts one change when two invocations plan it at the same time', async () => {
    const { actions } = await ledger();
    const a = executor([{ status: 'in-progress' }]);
    const b = executor([{ status: 'in-progress' }]);
    const history = await actions.getActionHistory('prod');
    const reports = await Promise.all([
      actOnCluster(harness(actions, a.ex, 'a').deps, 'prod', [action()], history, context(T0)),
      actOnCluster(harness(actions, b.ex, 'b').deps, 'prod', [action()], history, context(T0)),
    ]);
    expect(a.calls.start + b.calls.start).toBe(1);
    expect(reports.flatMap((r) => r.results).map((r) => r.outcome.status).sort()).toEqual(['in-progress', 'skipped']);
  });

  it('custom networking on a self-managed aws-node: two invocations at the same time make each change once (the real executor)', async () => {
    const { actions } = await ledger();
    const kube = new FakeKubeApi();
    kube.seedAwsNode({});
    const planned: PlannedAction = { ...action('prod/eni-configs/vpc-0aaa1111'), kind: 'eni-configs', subject: 'vpc-0aaa1111', change: eniChange('subnet-0aaa') };
    const ctx = context(T0, { allowedKinds: new Set<ActionKind>(['eni-configs']), eniConfigSubnets: new Set(['subnet-0aaa']), eniConfigSecurityGroups: new Set(['sg-0aaa1111']) });
    const real = (owner: string): ActDeps => {
      const h = harness(actions, eniConfigsExecutor, owner);
      // DescribeCluster (the connector's input) answered; no other AWS call is made on this path.
      const eks = { send: async () => ({ cluster: { name: 'prod', endpoint: 'https://x.eks.amazonaws.com' } }) } as never;
      return { ...h.deps, executors: { 'eni-configs': eniConfigsExecutor }, exec: { ...h.deps.exec, eks, kube: kube.connector() } };
    };
    const history = await actions.getActionHistory('prod');
    const reports = await Promise.all([actOnCluster(real('a'), 'prod', [planned], history, ctx), actOnCluster(real('b'), 'prod', [planned], history, ctx)]);
    expect(reports.flatMap((r) => r.results).map((r) => r.outcome.status).sort()).toEqual(['skipped', 'succeeded']);
    expect(kube.changes).toEqual(['eniconfigs/eu-west-1a', 'daemonsets/aws-node']);
  });

  it('skips a stale plan: another invocation changed the cluster after this one read it, and has released the lock since', async () => {
    const { actions } = await ledger();
    const first = executor([{ status: 'succeeded' }]);
    const late = executor([{ status: 'succeeded' }]);
    // Both read the cluster at T0; the second takes the lock only after the first is done.
    const staleHistory = await actions.getActionHistory('prod');
    await actOnCluster(harness(actions, first.ex, 'first').deps, 'prod', [action()], staleHistory, context(T0));
    const h = harness(actions, late.ex, 'late', at(0.5));
    const { results } = await actOnCluster(h.deps, 'prod', [action('prod/cni-subnets/subnet-0aaa')], staleHistory, context(T0));
    expect(late.calls.start).toBe(0);
    expect(results[0]?.outcome).toMatchObject({ status: 'skipped', detail: expect.stringContaining('the plan is stale') });
    expect((await actions.getActionHistory('prod')).lock).toBeUndefined();
  });

  it('re-runs the gates after taking the lock: a cooldown that began after the plan blocks the start', async () => {
    const { actions, doc, table } = await ledger();
    // A warm-targets change recorded 10 minutes before this cycle read the cluster, but after the history this plan used.
    const earlier: ActionRecord = {
      actionId: 'prod/warm-targets/vpc-cni',
      cluster: 'prod',
      kind: 'warm-targets',
      change: action().change,
      predicted: action().predicted,
      reason: 'r',
      startedAt: at(-10).toISOString(),
      updatedAt: at(-10).toISOString(),
      status: 'succeeded',
      step: 'done',
      history: [],
      version: 1,
    };
    const emptyHistory = await actions.getActionHistory('prod');
    await doc.send(new PutCommand({ TableName: table, Item: { pk: 'ACTIONS#prod', sk: actionRecordSk(earlier), type: 'action', ...earlier } }));
    const { ex, calls } = executor([{ status: 'succeeded' }]);
    const { results } = await actOnCluster(harness(actions, ex).deps, 'prod', [action()], emptyHistory, context(T0));
    expect(calls.start).toBe(0);
    expect(results[0]?.outcome.detail).toMatch(/^no longer passes the gates: cooldown since /);
  });

  it('leaves a change whose lease is live to its owner, and takes it over once the lease has passed', async () => {
    const { actions } = await ledger();
    const owner = executor([{ status: 'in-progress' }]);
    const h1 = harness(actions, owner.ex, 'owner');
    // The owner started the change and then died holding the lease (simulated by taking it again).
    await act(h1, [action()]);
    const lock = (await actions.getActionHistory('prod')).lock!;
    expect(await actions.takeLease('prod', lock, 'owner', T0.getTime() + DEFAULT_LEASE_MS, T0)).toBe(true);

    const other = executor([], [{ status: 'succeeded' }]);
    const h2 = harness(actions, other.ex, 'other', at(5));
    const live = await act(h2, [], context(at(5)));
    expect(live.results).toEqual([]);
    expect(live.notes[0]).toMatch(/is being worked on by another invocation/);
    expect(other.calls.follow).toBe(0);

    h2.setNow(at(17));
    const taken = await act(h2, [], context(at(17)));
    expect(other.calls.follow).toBe(1);
    expect(taken.results[0]?.record).toMatchObject({ status: 'succeeded' });
  });
});

describe('actOnCluster: transient errors', () => {
  it('ends a start that failed transiently before any write as skipped: no cooldown, lock free', async () => {
    const { actions } = await ledger();
    const { ex } = executor([{ status: 'failed', retryable: true, detail: 'eks:DescribeAddon: ThrottlingException' }]);
    const { results } = await act(harness(actions, ex), [action()]);
    expect(results[0]?.outcome.status).toBe('skipped');
    const history = await actions.getActionHistory('prod');
    expect(history.lastStartedByKind).toEqual({});
    expect(history.lock).toBeUndefined();
  });

  it('keeps following a change that failed transiently after a write, instead of calling it failed', async () => {
    const { actions } = await ledger();
    const { ex } = executor([{ status: 'failed', retryable: true, detail: 'eks:DescribeUpdate: ThrottlingException' }], [{ status: 'succeeded' }], true);
    const h = harness(actions, ex);
    const first = await act(h, [action()]);
    expect(first.results[0]?.outcome.status).toBe('in-progress');
    expect(first.results[0]?.record).toMatchObject({ status: 'in-progress', wrote: true });
    h.setNow(at(5));
    const second = await act(h, [], context(at(5)));
    expect(second.results[0]?.record?.status).toBe('succeeded');
  });
});

describe('actOnCluster: checked before executed', () => {
  /** A lock and record of `record` planted directly in the table, as a forger with PutItem would. */
  async function plant(doc: DynamoDBDocumentClient, table: string, partition: string, record: Record<string, unknown>, sk = actionRecordSk(record as unknown as ActionRecord)) {
    await doc.send(new PutCommand({ TableName: table, Item: { pk: `ACTIONS#${partition}`, sk, type: 'action', ...record } }));
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: { pk: `ACTIONS#${partition}`, sk: 'INFLIGHT', type: 'lock', actionId: record.actionId, kind: record.kind, recordSk: sk, since: T0.toISOString(), owner: 'forger', leaseUntil: 0 },
      }),
    );
  }
  const record = (over: Partial<ActionRecord> = {}): ActionRecord => ({
    actionId: 'prod/warm-targets/vpc-cni',
    cluster: 'prod',
    kind: 'warm-targets',
    change: action().change,
    predicted: action().predicted,
    reason: 'r',
    startedAt: T0.toISOString(),
    updatedAt: T0.toISOString(),
    status: 'in-progress',
    step: 'update-addon',
    reference: 'upd-9',
    history: [],
    version: 1,
    ...over,
  });

  const reserve = (cidrs: string[]): ActionRecord['change'] => ({
    type: 'reserve-prefixes',
    subnetId: 'subnet-0aaa',
    vpcId: 'vpc-0aaa',
    subnetCidr: '10.0.0.0/22',
    cidrs,
    description: 'eks-ip-responder: /28 prefixes',
  });
  /** A policy that allows reservations in subnet-0aaa, at most 2 per action, each of at least 2 /28s. */
  const reserving: Partial<ActContext> = {
    allowedKinds: new Set<ActionKind>(['subnet-reservations']),
    reservationSubnets: new Set(['subnet-0aaa']),
    reservationBounds: { maxReservationsPerAction: 2, minBlocks: 2 },
  };

  it.each<[string, Partial<ActionRecord>, Partial<ActContext>, RegExp]>([
    ['a record naming another cluster than its partition', { cluster: 'other', actionId: 'prod/warm-targets/vpc-cni' }, {}, /names cluster other, but is in the ledger of cluster prod/],
    ['a kind the policy no longer allows', {}, { allowedKinds: new Set<ActionKind>(['cni-subnets']) }, /the policy no longer allows warm-targets/],
    ['a change its kind cannot carry', { change: { type: 'tag-subnets', subnetIds: ['subnet-0aaa'], tag: { key: 'k', value: 'v' } } }, {}, /a warm-targets action cannot carry a tag-subnets change/],
    [
      'subnets outside the policy’s spare subnets',
      { actionId: 'prod/cni-subnets/vpc-1/eu-west-1a', kind: 'cni-subnets', change: { type: 'tag-subnets', subnetIds: ['subnet-0bbb'], tag: { key: 'kubernetes.io/role/cni', value: '1' } } },
      {},
      /it tags subnet-0bbb, which the policy does not list/,
    ],
    [
      'a replacement whose new nodegroup is the old one',
      {
        actionId: 'prod/instance-types/ng-a',
        kind: 'instance-types',
        change: { type: 'replace-nodegroup', nodegroup: 'ng-a', newNodegroup: 'ng-a', fromInstanceTypes: ['m5.large'], toInstanceTypes: ['m5.xlarge'], ranking: [], scaling: { minSize: 1, maxSize: 3, desiredSize: 2 } },
      },
      { allowedKinds: new Set<ActionKind>(['instance-types']) },
      /its new nodegroup ng-a is the nodegroup it replaces/,
    ],
    [
      'a reservation record with more CIDRs than the policy’s maxReservationsPerAction',
      { actionId: 'prod/subnet-reservations/subnet-0aaa', kind: 'subnet-reservations', change: reserve(['10.0.0.0/25', '10.0.0.128/25', '10.0.1.0/25']) },
      reserving,
      /it makes 3 reservations, more than actions.subnetReservations.maxReservationsPerAction \(2\) of prod/,
    ],
    [
      'a reservation record with a CIDR smaller than the policy’s minBlocks /28s',
      { actionId: 'prod/subnet-reservations/subnet-0aaa', kind: 'subnet-reservations', change: reserve(['10.0.0.0/25', '10.0.1.0/28']) },
      reserving,
      /it reserves 10\.0\.1\.0\/28: not an IPv4 CIDR of at least actions.subnetReservations.minBlocks \(2\) \/28 blocks/,
    ],
    ...(
      [
        ['another cluster’s ENIs (its clusterTag)', 'other', 60, 60, 2, /it deletes ENIs tagged with cluster other, not prod/],
        ['more ENIs than the policy’s maxEnisPerAction', 'prod', 60, 60, 6, /it deletes 6 ENIs, more than the policy's actions.leakedEnis.maxEnisPerAction 5/],
        ['a minimum age below the policy’s minAgeMinutes', 'prod', 60, 120, 2, /its minimum age 60 minutes is below the policy's actions.leakedEnis.minAgeMinutes 120/],
      ] as const
    ).map(([name, clusterTag, minAgeMinutes, policyMinAge, count, problem]): [string, Partial<ActionRecord>, Partial<ActContext>, RegExp] => [
      `a leaked-enis record with ${name}`,
      {
        actionId: 'prod/leaked-enis/vpc-1',
        kind: 'leaked-enis',
        change: { type: 'delete-enis', clusterTag, minAgeMinutes, enis: ENIS(count) },
      },
      { allowedKinds: new Set<ActionKind>(['leaked-enis']), leakedEnis: { minAgeMinutes: policyMinAge, maxEnisPerAction: 5 } },
      problem,
    ]),
    // Issue 14: an eni-configs record naming a subnet the policy no longer lists, or setting other env keys.
    [
      'an eni-configs record naming a subnet outside actions.eniConfigs.subnets',
      { actionId: 'prod/eni-configs/vpc-1', kind: 'eni-configs', change: eniChange('subnet-0bbb') },
      { allowedKinds: new Set<ActionKind>(['eni-configs']), eniConfigSubnets: new Set(['subnet-0aaa']) },
      /its ENIConfigs name subnet-0bbb, which the policy does not list under actions.eniConfigs.subnets of prod/,
    ],
    [
      'an eni-configs record setting env keys other than custom networking’s',
      { actionId: 'prod/eni-configs/vpc-1', kind: 'eni-configs', change: { ...eniChange('subnet-0aaa'), env: { type: 'addon-env', set: { WARM_IP_TARGET: '1', ENI_CONFIG_LABEL_DEF: 'x' }, previous: {} } } },
      { allowedKinds: new Set<ActionKind>(['eni-configs']), eniConfigSubnets: new Set(['subnet-0aaa']) },
      /it sets ENI_CONFIG_LABEL_DEF,WARM_IP_TARGET, not the custom networking env/,
    ],
    [
      'a warm-targets record setting a key its planner never sets (on a self-managed aws-node)',
      { change: { type: 'addon-env', set: { WARM_IP_TARGET: '2', AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' }, previous: {}, target: 'aws-node' } },
      {},
      /it sets AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true, which a warm-targets action does not set/,
    ],
    [
      'an eni-configs record giving pods a security group the policy does not name',
      { actionId: 'prod/eni-configs/vpc-1', kind: 'eni-configs', change: eniChange('subnet-0aaa') },
      { allowedKinds: new Set<ActionKind>(['eni-configs']), eniConfigSubnets: new Set(['subnet-0aaa']), eniConfigSecurityGroups: new Set(['sg-0bbb2222']) },
      /its ENIConfigs give pods sg-0aaa1111, neither in actions.eniConfigs.securityGroups nor the cluster security group of prod/,
    ],
  ])('quarantines %s: recorded, notified, lock released, nothing executed', async (_name, over, ctxOver, problem) => {
    const { actions, doc, table } = await ledger();
    const r = record(over);
    await plant(doc, table, 'prod', r as unknown as Record<string, unknown>);
    const { ex, calls } = executor([], [{ status: 'succeeded' }]);
    const h = harness(actions, ex);
    const all: Partial<Record<ActionKind, ActionExecutor>> = { 'warm-targets': ex, 'cni-subnets': ex, 'instance-types': ex, 'subnet-reservations': ex, 'leaked-enis': ex, 'eni-configs': ex };
    h.deps.executors = all;
    const { results } = await act(h, [], context(T0, ctxOver));
    expect(calls.follow).toBe(0);
    expect(results[0]?.outcome).toMatchObject({ status: 'quarantined', detail: expect.stringMatching(problem) });
    expect(h.sent.map((m) => m.outcome.status)).toEqual(['quarantined']);
    const after = await actions.getActionHistory('prod');
    expect(after.lock).toBeUndefined();
    await expect(actions.getActionRecord('prod', actionRecordSk(r))).resolves.toMatchObject({ status: 'quarantined' });
  });

  it('quarantines an item that is not a valid record (a forged one without a version), without executing it', async () => {
    const { actions, doc, table } = await ledger();
    const { version: _v, ...forged } = record();
    await plant(doc, table, 'prod', { ...forged, change: { type: 'replace-nodegroup', nodegroup: 'ng-a' } });
    const { ex, calls } = executor([], [{ status: 'succeeded' }]);
    const h = harness(actions, ex);
    const { results } = await act(h, []);
    expect(calls.follow).toBe(0);
    expect(results[0]?.outcome.status).toBe('quarantined');
    expect(results[0]?.outcome.detail).toMatch(/version: /);
    expect((await actions.getActionHistory('prod')).lock).toBeUndefined();
  });

  it('quarantines a reservation record with more CIDRs than any policy allows (the record schema), without executing it', async () => {
    const { actions, doc, table } = await ledger();
    const six = ['10.0.0.0/26', '10.0.0.64/26', '10.0.0.128/26', '10.0.0.192/26', '10.0.1.0/26', '10.0.1.64/26'];
    await plant(doc, table, 'prod', { ...record({ actionId: 'prod/subnet-reservations/subnet-0aaa', kind: 'subnet-reservations' }), change: reserve(six) });
    const { ex, calls } = executor([], [{ status: 'succeeded' }]);
    const h = harness(actions, ex);
    h.deps.executors = { 'subnet-reservations': ex };
    const { results } = await act(h, [], context(T0, { ...reserving, reservationBounds: { maxReservationsPerAction: 5, minBlocks: 1 } }));
    expect(calls.follow).toBe(0);
    expect(results[0]?.outcome).toMatchObject({ status: 'quarantined', detail: expect.stringMatching(/change\.cidrs: Too big: expected array to have <=5 items/) });
    expect((await actions.getActionHistory('prod')).lock).toBeUndefined();
  });

  it('releases a lock whose record was never written, once its lease has passed', async () => {
    const { actions } = await ledger();
    expect(
      await actions.acquireLock('prod', { actionId: 'prod/warm-targets/vpc-cni', kind: 'warm-targets', recordSk: 'ACTION#x#y', since: T0.toISOString(), owner: 'dead', leaseUntil: T0.getTime() + DEFAULT_LEASE_MS }),
    ).toBe(true);
    const { ex, calls } = executor([], []);
    const h = harness(actions, ex, 'next', at(5));
    expect((await act(h, [], context(at(5)))).notes[0]).toMatch(/being worked on by another invocation/);
    h.setNow(at(20));
    expect((await act(h, [], context(at(20)))).notes[0]).toMatch(/its record was never written/);
    expect(calls).toEqual({ start: 0, follow: 0 });
    expect((await actions.getActionHistory('prod')).lock).toBeUndefined();
  });
});

describe('actOnCluster: the final message', () => {
  it('keeps the lock while the final message cannot be sent, and sends it (once) in the next cycle', async () => {
    const { actions } = await ledger();
    const { ex, calls } = executor([{ status: 'succeeded' }]);
    const h = harness(actions, ex);
    const sent = h.sent;
    let down = true;
    h.deps.notify = async (record, outcome) => {
      if (down) throw new Error('sns:Publish: KMS.AccessDeniedException');
      sent.push({ subject: `${outcome.status} ${record.actionId}`, record, outcome });
    };
    await expect(act(h, [action()])).rejects.toThrow(/KMS.AccessDeniedException/);
    let history = await actions.getActionHistory('prod');
    expect(history.lock).toBeDefined();
    expect(history.lockRecord).toMatchObject({ status: 'succeeded' });
    expect(history.lockRecord?.notified).toBeUndefined();
    down = false;
    h.setNow(at(5));
    const next = await act(h, [action()], context(at(5)));
    expect(next.results.map((r) => r.outcome.status)).toEqual(['succeeded']);
    expect(sent.map((m) => m.subject)).toEqual(['succeeded prod/warm-targets/vpc-cni']);
    history = await actions.getActionHistory('prod');
    expect(history.lock).toBeUndefined();
    // Not started again: the message of the first start was what was missing.
    expect(calls.start).toBe(1);
    h.setNow(at(10));
    expect((await act(h, [], context(at(10)))).results).toEqual([]);
    expect(sent).toHaveLength(1);
  });
});

describe('claimCycle', () => {
  it('allows one targeted cycle per cluster per interval', async () => {
    const { actions } = await ledger();
    expect(await actions.claimCycle('prod', 'respond', T0, 60)).toBe(true);
    expect(await actions.claimCycle('prod', 'respond', new Date(T0.getTime() + 30_000), 60)).toBe(false);
    expect(await actions.claimCycle('dev', 'respond', new Date(T0.getTime() + 30_000), 60)).toBe(true);
    expect(await actions.claimCycle('prod', 'respond', new Date(T0.getTime() + 61_000), 60)).toBe(true);
  });
});
