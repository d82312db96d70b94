/**
 * Notifying findings: for each cluster sampled, plan the transitions against the ledger, save
 * each state conditionally, and publish only what appeared, worsened or cleared.
 *
 * Order per transition that notifies: save first (the conditional write decides which of two
 * concurrent invocations notifies), then publish; if the publish fails, the notification is
 * taken back in the ledger (the state is saved as not notified) so that the next sample
 * notifies again. Nothing is lost and nothing is sent twice.
 */
import type { Finding } from '../../diagnose/types';
import { messageOf } from '../../errors';
import type { Usage } from '../../measure/types';
import type { CentralFeed } from './central';
import { LedgerConflictError, type FindingLedger } from './ledger';
import { buildNotification, type Notification, type NotificationContext, type TransitionKind } from './message';
import { planTransitions, type FindingState, type Transition } from './transitions';

export interface NotifyDeps {
  /** The finding states (lib/aws/ledger.ts implements it). */
  ledger: FindingLedger;
  /** Publishes one notification and answers its message id (lib/aws/sns.ts `publishNotification` to the stack's topic). */
  publish: (notification: Notification) => Promise<string>;
  context: NotificationContext;
  renotifyAfterHours?: number;
  /** The organisation's central topic, if any: each notification sent locally is also sent there (best effort). */
  central?: CentralFeed;
}

export interface NotifyResult {
  /** Finding ids notified, with the transition. */
  notified: { findingId: string; transition: TransitionKind; messageId: string }[];
  /** Transitions another invocation saved first (it notifies, not this one). */
  conflicts: string[];
  /** What failed, named; the rest went on. */
  failures: { cluster: string; findingId?: string; message: string }[];
}

/** A finding rebuilt from its saved state, for the message of a finding that cleared. */
function findingOfState(state: FindingState): Finding {
  return {
    id: state.findingId,
    cluster: state.cluster,
    kind: state.kind,
    severity: state.severity,
    subject: state.subject,
    title: state.title,
    evidence: {},
    evidenceText: [],
    fixes: [],
  };
}

function messageKind(t: Transition): TransitionKind {
  if (t.kind === 'cleared') return 'cleared';
  if (t.kind === 'worsened') return 'worsened';
  if (t.kind === 'appeared') return 'appeared';
  return 'still-open';
}

/** Plans, records and publishes the notifications of one sample's findings. */
export async function notifyFindings(
  deps: NotifyDeps,
  usage: Usage,
  findings: Finding[],
  now: Date,
  /** Remediation plan lines by finding id, put into the finding's message. */
  plans: Map<string, string[]> = new Map(),
): Promise<NotifyResult> {
  const result: NotifyResult = { notified: [], conflicts: [], failures: [] };
  for (const cluster of usage.clusters) {
    let previous: FindingState[];
    try {
      previous = await deps.ledger.getFindingStates(cluster.name);
    } catch (err) {
      result.failures.push({ cluster: cluster.name, message: messageOf(err) });
      continue;
    }
    const transitions = planTransitions(
      cluster.name,
      findings.filter((f) => f.cluster === cluster.name),
      previous,
      now,
      { dataComplete: cluster.complete, ...(deps.renotifyAfterHours !== undefined ? { renotifyAfterHours: deps.renotifyAfterHours } : {}) },
    );
    for (const t of transitions) {
      const findingId = t.next.findingId;
      try {
        await deps.ledger.saveFindingState(t.next, t.expectedVersion);
      } catch (err) {
        if (err instanceof LedgerConflictError) {
          result.conflicts.push(findingId);
          continue;
        }
        result.failures.push({ cluster: cluster.name, findingId, message: messageOf(err) });
        continue;
      }
      if (!t.notify) continue;
      const finding = t.finding ?? findingOfState(t.previous ?? t.next);
      const notification = buildNotification(finding, messageKind(t), deps.context, now, plans.get(finding.id) ?? []);
      try {
        const messageId = await deps.publish(notification);
        result.notified.push({ findingId, transition: messageKind(t), messageId });
        // After the local one, and only when it was sent: a failed local notification is taken
        // back and sent again by the next sample, and the central copy with it (never twice).
        if (deps.central) await deps.central.send(notification);
      } catch (err) {
        result.failures.push({ cluster: cluster.name, findingId, message: messageOf(err) });
        await takeBack(deps.ledger, t, result);
      }
    }
  }
  return result;
}

/** Saves the state as it was before the failed notification, so the next sample notifies. */
async function takeBack(ledger: FindingLedger, t: Transition, result: NotifyResult): Promise<void> {
  const { lastNotifiedAt: _at, lastNotifiedSeverity: _sev, ...rest } = t.next;
  const undone: FindingState = {
    ...rest,
    ...(t.previous?.lastNotifiedAt !== undefined ? { lastNotifiedAt: t.previous.lastNotifiedAt } : {}),
    ...(t.previous?.lastNotifiedSeverity !== undefined ? { lastNotifiedSeverity: t.previous.lastNotifiedSeverity } : {}),
    // A clearing that could not be told is still open for the operator.
    ...(t.kind === 'cleared' && t.previous ? { status: 'open' as const, clearedAt: undefined } : {}),
    version: t.next.version + 1,
  };
  if (undone.clearedAt === undefined) delete undone.clearedAt;
  try {
    await ledger.saveFindingState(undone, t.next.version);
  } catch (err) {
    result.failures.push({ cluster: t.next.cluster, findingId: t.next.findingId, message: `could not take back the notification: ${messageOf(err)}` });
  }
}
