/**
 * Act: applies at most one planned change per cluster per cycle, or follows the one in flight,
 * recording every step in the ledger. The per-cluster change lock (a conditional write) makes
 * sure two invocations never start two changes, and executors are idempotent (they look before
 * they change), so a retried event never changes twice.
 */
import type { ActionLedger, ActionLock, LedgerHistory } from '../aws/action-ledger';
import { actionRecordSk } from '../aws/action-ledger';
import { messageOf } from '../errors';
import type { ActionExecutor, ActionKind, ActionOutcome, ActionRecord, ExecuteDeps, PlannedAction } from './types';

export interface ActDeps {
  actions: ActionLedger;
  executors: Partial<Record<ActionKind, ActionExecutor>>;
  exec: ExecuteDeps;
}

/** An outcome together with the record it concerns (for metrics and notifications). */
export interface ActResult {
  outcome: ActionOutcome;
  record?: ActionRecord;
}

const TERMINAL: ReadonlySet<ActionOutcome['status']> = new Set(['succeeded', 'failed', 'skipped']);

function recordStatus(outcome: ActionOutcome): ActionRecord['status'] {
  if (outcome.status === 'started' || outcome.status === 'in-progress') return 'in-progress';
  return outcome.status;
}

function advance(record: ActionRecord, outcome: ActionOutcome, now: Date): ActionRecord {
  const at = now.toISOString();
  return {
    ...record,
    status: recordStatus(outcome),
    step: outcome.step ?? record.step,
    ...(outcome.reference ? { reference: outcome.reference } : {}),
    updatedAt: at,
    history: [...record.history, { at, status: outcome.status, ...(outcome.step ? { step: outcome.step } : {}), detail: outcome.detail }],
    version: record.version + 1,
  };
}

async function run(fn: () => Promise<ActionOutcome>, actionId: string): Promise<ActionOutcome> {
  try {
    return await fn();
  } catch (err) {
    // Executors report AWS errors as outcomes; anything thrown is a bug or an unexpected error:
    // recorded as a failure, never retried in a loop.
    return { actionId, status: 'failed', detail: `unexpected error: ${messageOf(err)}` };
  }
}

/** Follows the change in flight, or starts the first planned action that will apply. */
export async function actOnCluster(
  deps: ActDeps,
  cluster: string,
  planned: PlannedAction[],
  history: LedgerHistory,
): Promise<ActResult[]> {
  const now = deps.exec.now();
  if (history.lock) {
    const lock = history.lock;
    const record = history.lockRecord ?? (await deps.actions.getActionRecord(cluster, lock.recordSk));
    if (!record || record.status !== 'in-progress') {
      await deps.actions.releaseLock(cluster, lock.actionId);
      return [];
    }
    const executor = deps.executors[record.kind];
    const outcome = executor
      ? await run(() => executor.follow(record, deps.exec), record.actionId)
      : { actionId: record.actionId, status: 'failed' as const, detail: `no executor for ${record.kind}` };
    const next = advance(record, outcome, now);
    await deps.actions.saveActionRecord(next, record.version);
    if (TERMINAL.has(outcome.status)) await deps.actions.releaseLock(cluster, record.actionId);
    return [{ outcome, record: next }];
  }

  const action = planned.find((p) => p.state === 'apply');
  if (!action) return [];
  const executor = deps.executors[action.kind];
  if (!executor) {
    return [{ outcome: { actionId: action.id, status: 'skipped', detail: `no executor for ${action.kind}` } }];
  }
  const startedAt = now.toISOString();
  const record: ActionRecord = {
    actionId: action.id,
    cluster,
    kind: action.kind,
    change: action.change,
    predicted: action.predicted,
    reason: action.reason,
    startedAt,
    updatedAt: startedAt,
    status: 'in-progress',
    step: 'start',
    history: [],
    version: 1,
  };
  const lock: ActionLock = { actionId: action.id, kind: action.kind, recordSk: actionRecordSk(record), since: startedAt };
  if (!(await deps.actions.acquireLock(cluster, lock))) {
    return [{ outcome: { actionId: action.id, status: 'skipped', detail: 'another invocation holds the change lock of the cluster' } }];
  }
  await deps.actions.saveActionRecord(record, undefined);
  const outcome = await run(() => executor.start(action, deps.exec), action.id);
  const next = advance(record, outcome, now);
  await deps.actions.saveActionRecord(next, record.version);
  if (TERMINAL.has(outcome.status)) await deps.actions.releaseLock(cluster, action.id);
  return [{ outcome, record: next }];
}
