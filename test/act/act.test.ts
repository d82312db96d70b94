import { actOnCluster, type ActDeps } from '../../lib/act/act';
import type { ActionExecutor, ActionOutcome, PlannedAction } from '../../lib/act/types';
import { createActionLedger, type ActionLedger } from '../../lib/aws/action-ledger';
import { createLedgerDocumentClient } from '../../lib/aws/ledger';
import { createLedgerTable, dynaliteClient, startDynalite, type RunningDynalite } from '../support/dynalite';

let db: RunningDynalite;
let tables = 0;
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.stop();
});

async function ledger(): Promise<ActionLedger> {
  const raw = dynaliteClient(db.endpoint);
  const name = `act-${++tables}`;
  await createLedgerTable(raw, name);
  return createActionLedger(createLedgerDocumentClient(raw), name);
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

/** An executor that answers from scripts and counts its calls. */
function executor(start: ActionOutcome['status'][], follow: ActionOutcome['status'][] = []) {
  const calls = { start: 0, follow: 0 };
  const ex: ActionExecutor = {
    kind: 'warm-targets',
    async start(a) {
      const status = start[calls.start++] ?? 'succeeded';
      return { actionId: a.id, status, step: status === 'succeeded' ? 'done' : 'updating', reference: 'upd-1', detail: `start ${status}` };
    },
    async follow(r) {
      const status = follow[calls.follow++] ?? 'succeeded';
      return { actionId: r.actionId, status, step: status === 'succeeded' ? 'done' : 'updating', detail: `follow ${status}` };
    },
  };
  return { ex, calls };
}

function deps(actions: ActionLedger, ex: ActionExecutor, now = new Date('2026-11-26T12:00:00Z')): ActDeps {
  return { actions, executors: { 'warm-targets': ex }, exec: { eks: {} as never, ec2: {} as never, now: () => now, sleep: async () => {}, followForMs: 0 } };
}

describe('actOnCluster', () => {
  it('starts the action that will apply, records it, and frees the lock when it is done', async () => {
    const actions = await ledger();
    const { ex, calls } = executor(['succeeded']);
    const [r] = await actOnCluster(deps(actions, ex), 'prod', [action('prod/x/blocked', 'blocked'), action()], await actions.getActionHistory('prod'));
    expect(calls.start).toBe(1);
    expect(r?.outcome.status).toBe('succeeded');
    expect(r?.record).toMatchObject({ actionId: 'prod/warm-targets/vpc-cni', status: 'succeeded', step: 'done', reference: 'upd-1', version: 2 });
    const history = await actions.getActionHistory('prod');
    expect(history.lock).toBeUndefined();
    expect(history.lastStartedByKind['warm-targets']).toBe('2026-11-26T12:00:00.000Z');
  });

  it('keeps the lock while the change is in progress, and follows it (not a second start) next time', async () => {
    const actions = await ledger();
    const { ex, calls } = executor(['in-progress'], ['in-progress', 'succeeded']);
    await actOnCluster(deps(actions, ex), 'prod', [action()], await actions.getActionHistory('prod'));
    let history = await actions.getActionHistory('prod');
    expect(history.inFlight).toMatchObject({ actionId: 'prod/warm-targets/vpc-cni', step: 'updating' });
    // The history carries the record its lock points to: following it reads the ledger no more.
    expect(history.lockRecord).toMatchObject({ actionId: 'prod/warm-targets/vpc-cni', status: 'in-progress' });
    const reads = jest.spyOn(actions, 'getActionRecord');
    const [second] = await actOnCluster(deps(actions, ex), 'prod', [action('prod/warm-targets/other')], history);
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
    expect(second?.outcome.status).toBe('in-progress');
    history = await actions.getActionHistory('prod');
    const [third] = await actOnCluster(deps(actions, ex), 'prod', [action()], history);
    expect(third?.record).toMatchObject({ status: 'succeeded', version: 4 });
    expect(third?.record?.history.map((h) => h.status)).toEqual(['in-progress', 'in-progress', 'succeeded']);
    expect(calls).toEqual({ start: 1, follow: 2 });
    expect((await actions.getActionHistory('prod')).lock).toBeUndefined();
  });

  it('starts one change when two invocations plan it at the same time', async () => {
    const actions = await ledger();
    const a = executor(['in-progress']);
    const b = executor(['in-progress']);
    const history = await actions.getActionHistory('prod');
    const results = await Promise.all([
      actOnCluster(deps(actions, a.ex), 'prod', [action()], history),
      actOnCluster(deps(actions, b.ex), 'prod', [action()], history),
    ]);
    expect(a.calls.start + b.calls.start).toBe(1);
    expect(results.flat().map((r) => r.outcome.status).sort()).toEqual(['in-progress', 'skipped']);
  });

  it('records a thrown error as a failure, frees the lock, and does not retry', async () => {
    const actions = await ledger();
    const ex: ActionExecutor = {
      kind: 'warm-targets',
      start: async () => {
        throw new Error('boom');
      },
      follow: async () => {
        throw new Error('not called');
      },
    };
    const [r] = await actOnCluster(deps(actions, ex), 'prod', [action()], await actions.getActionHistory('prod'));
    expect(r?.outcome).toMatchObject({ status: 'failed', detail: 'unexpected error: boom' });
    expect(r?.record?.status).toBe('failed');
    expect((await actions.getActionHistory('prod')).lock).toBeUndefined();
  });

  it('starts no cooldown for a start that changed nothing', async () => {
    const actions = await ledger();
    const { ex } = executor(['skipped']);
    await actOnCluster(deps(actions, ex), 'prod', [action()], await actions.getActionHistory('prod'));
    expect((await actions.getActionHistory('prod')).lastStartedByKind).toEqual({});
  });

  it('does nothing without an action that will apply', async () => {
    const actions = await ledger();
    const { ex, calls } = executor([]);
    expect(await actOnCluster(deps(actions, ex), 'prod', [action('a', 'dry-run')], await actions.getActionHistory('prod'))).toEqual([]);
    expect(calls.start).toBe(0);
  });
});

describe('claimCycle', () => {
  it('allows one targeted cycle per cluster per interval', async () => {
    const actions = await ledger();
    const t0 = new Date('2026-11-26T12:00:00Z');
    expect(await actions.claimCycle('prod', 'respond', t0, 60)).toBe(true);
    expect(await actions.claimCycle('prod', 'respond', new Date(t0.getTime() + 30_000), 60)).toBe(false);
    expect(await actions.claimCycle('dev', 'respond', new Date(t0.getTime() + 30_000), 60)).toBe(true);
    expect(await actions.claimCycle('prod', 'respond', new Date(t0.getTime() + 61_000), 60)).toBe(true);
  });
});
