/**
 * Notification transitions: which findings to tell the operator about, and the state the ledger
 * keeps so that a finding is notified when it changes, not on every sample. Pure.
 *
 * Design: docs/responder.md#liboutputnotifytransitionsts-notification-transitions
 */
import { SEVERITY_RANK, type Finding, type FindingKind, type FindingSubject, type Severity } from '../../diagnose/types';

/**
 * What the ledger remembers about one finding of one cluster (item `CLUSTER#<cluster>` /
 * `FINDING#<findingId>`, see lib/aws/ledger.ts). Times are ISO 8601 strings in UTC.
 */
export interface FindingState {
  cluster: string;
  /** `Finding.id`: stable across samples. */
  findingId: string;
  kind: FindingKind;
  /** Severity at the last sample that saw the finding. */
  severity: Severity;
  subject: FindingSubject;
  title: string;
  /** When this occurrence was first seen (reset when a cleared finding appears again). */
  firstSeen: string;
  /** The last sample that saw the finding. */
  lastSeen: string;
  /** When the operator was last told about it (appeared, worsened, re-notify, cleared). */
  lastNotifiedAt?: string;
  /** The severity the operator was last told about; unchanged by the clearing message. */
  lastNotifiedSeverity?: Severity;
  status: 'open' | 'cleared';
  /** When it was cleared; only with status 'cleared'. */
  clearedAt?: string;
  /** Incremented by every save; the ledger's conditional write compares it (optimistic locking). */
  version: number;
  /** DynamoDB TTL, epoch seconds: FINDING_STATE_TTL_DAYS after the last sample that wrote it. */
  expiresAt: number;
}

export type TransitionKind = 'appeared' | 'worsened' | 'improved' | 'cleared' | 'unchanged';

/** One finding's change between the previous state and this sample. */
export interface Transition {
  kind: TransitionKind;
  /** The finding of this sample; absent for 'cleared' and for an open finding this sample did not see. */
  finding?: Finding;
  /** The saved state, when there was one. */
  previous?: FindingState;
  /**
   * Whether to tell the operator. 'unchanged' with `notify` true is the re-notify of a finding
   * still critical after `renotifyAfterHours`.
   */
  notify: boolean;
  /** The state to save; it already records the notification when `notify` is true. */
  next: FindingState;
  /** The version to save against: undefined for a new item (`attribute_not_exists`). */
  expectedVersion?: number;
}

export interface PlanTransitionsOptions {
  /**
   * True when this sample read everything it needed. An open finding that the sample did not
   * produce is cleared only then: a failed read is not good news.
   */
  dataComplete: boolean;
  /**
   * Hours after the last notification at which a finding still critical is notified again.
   * Default DEFAULT_RENOTIFY_AFTER_HOURS; 0 = never.
   */
  renotifyAfterHours?: number;
}

export const DEFAULT_RENOTIFY_AFTER_HOURS = 24;

/**
 * Days a finding state lives after the last sample that wrote it (DynamoDB TTL). Open findings
 * are rewritten at every sample, so only a cluster that is no longer sampled lets one expire;
 * cleared findings are kept this long for the record.
 */
export const FINDING_STATE_TTL_DAYS = 30;

const HOUR_MS = 3_600_000;
const DAY_SECONDS = 86_400;

/**
 * Compares this sample's findings of one cluster with the saved states and says, per finding,
 * what changed, whether to notify and what to save.
 *
 * Rules:
 * - appeared (no state, or a cleared one): notify.
 * - worsened (severity rank up from the saved severity): notify when the new severity is above
 *   the one last notified. A finding that went critical → warning → critical is not notified a
 *   second time (the operator's last message already says critical): the re-notify rule covers
 *   it, which keeps a subnet hovering at a threshold from paging on every crossing.
 * - improved (severity rank down, e.g. critical → warning): state only, no notification. The
 *   finding is still open and still needs the fix; a message saying "less bad" would be noise,
 *   and the clearing message tells the operator when it is over.
 * - unchanged: no notification, except the re-notify of a finding still critical
 *   `renotifyAfterHours` (default 24, 0 = never) after its last notification (at exactly that
 *   age included).
 * - cleared (an open state this sample did not produce): notify, only when `dataComplete`.
 *   Without complete data the open state is kept ('unchanged', not notified, lastSeen untouched).
 * - A cleared state that is still absent yields no transition: nothing to save.
 *
 * Transitions come in the order of `findings`, then the states absent from them in the order of
 * `previous`. Throws for inputs that would make two writes race for one item (a finding or state
 * of another cluster, a finding id twice) and for a negative or non-finite `renotifyAfterHours`.
 */
export function planTransitions(
  cluster: string,
  findings: Finding[],
  previous: FindingState[],
  now: Date,
  opts: PlanTransitionsOptions,
): Transition[] {
  const renotifyAfterHours = opts.renotifyAfterHours ?? DEFAULT_RENOTIFY_AFTER_HOURS;
  if (!Number.isFinite(renotifyAfterHours) || renotifyAfterHours < 0) {
    throw new RangeError(`renotifyAfterHours must be a number ≥ 0 (0 = never), got ${renotifyAfterHours}`);
  }
  const nowIso = now.toISOString();
  const expiresAt = Math.floor(now.getTime() / 1000) + FINDING_STATE_TTL_DAYS * DAY_SECONDS;

  const previousById = new Map<string, FindingState>();
  for (const state of previous) {
    if (state.cluster !== cluster) {
      throw new Error(`planTransitions for cluster ${cluster} got the state of ${state.findingId} in cluster ${state.cluster}`);
    }
    if (previousById.has(state.findingId)) {
      throw new Error(`planTransitions for cluster ${cluster} got two states for finding ${state.findingId}`);
    }
    previousById.set(state.findingId, state);
  }

  const transitions: Transition[] = [];
  const seen = new Set<string>();
  for (const finding of findings) {
    if (finding.cluster !== cluster) {
      throw new Error(`planTransitions for cluster ${cluster} got finding ${finding.id} of cluster ${finding.cluster}`);
    }
    if (seen.has(finding.id)) {
      throw new Error(`planTransitions for cluster ${cluster} got finding ${finding.id} twice`);
    }
    seen.add(finding.id);
    const prev = previousById.get(finding.id);
    transitions.push(transitionForFinding(finding, prev, now, nowIso, expiresAt, renotifyAfterHours));
  }

  for (const prev of previous) {
    if (seen.has(prev.findingId) || prev.status === 'cleared') continue;
    const bumped = { ...prev, version: prev.version + 1, expiresAt };
    if (opts.dataComplete) {
      transitions.push({
        kind: 'cleared',
        previous: prev,
        notify: true,
        next: { ...bumped, status: 'cleared', clearedAt: nowIso, lastNotifiedAt: nowIso },
        expectedVersion: prev.version,
      });
    } else {
      // Kept open, and kept alive (expiresAt), until a complete sample says otherwise.
      transitions.push({ kind: 'unchanged', previous: prev, notify: false, next: bumped, expectedVersion: prev.version });
    }
  }
  return transitions;
}

function transitionForFinding(
  finding: Finding,
  prev: FindingState | undefined,
  now: Date,
  nowIso: string,
  expiresAt: number,
  renotifyAfterHours: number,
): Transition {
  const observed = {
    cluster: finding.cluster,
    findingId: finding.id,
    kind: finding.kind,
    severity: finding.severity,
    subject: finding.subject,
    title: finding.title,
    lastSeen: nowIso,
    status: 'open' as const,
    expiresAt,
  };
  const notified = { lastNotifiedAt: nowIso, lastNotifiedSeverity: finding.severity };

  if (!prev || prev.status === 'cleared') {
    // A new occurrence: firstSeen restarts; the version continues so the write stays conditional on it.
    const next: FindingState = { ...observed, ...notified, firstSeen: nowIso, version: (prev?.version ?? 0) + 1 };
    return { kind: 'appeared', finding, ...(prev ? { previous: prev } : {}), notify: true, next, ...versionOf(prev) };
  }

  const base: FindingState = {
    ...observed,
    firstSeen: prev.firstSeen,
    ...(prev.lastNotifiedAt !== undefined ? { lastNotifiedAt: prev.lastNotifiedAt } : {}),
    ...(prev.lastNotifiedSeverity !== undefined ? { lastNotifiedSeverity: prev.lastNotifiedSeverity } : {}),
    version: prev.version + 1,
  };
  const rank = SEVERITY_RANK[finding.severity];
  // What the operator was told decides, not the last sample: a state never notified (its
  // publish failed and was rolled back) is notified now as new, and one notified at a lower
  // severity than the current one as worse. So a failed publish is retried by the next sample.
  const neverNotified = prev.lastNotifiedSeverity === undefined;
  const aboveNotified = !neverNotified && rank > SEVERITY_RANK[prev.lastNotifiedSeverity as Severity];
  const kind: TransitionKind = neverNotified
    ? 'appeared'
    : aboveNotified || rank > SEVERITY_RANK[prev.severity]
      ? 'worsened'
      : rank < SEVERITY_RANK[prev.severity]
        ? 'improved'
        : 'unchanged';
  const notify = neverNotified || aboveNotified || renotifyDue(finding, prev, now, renotifyAfterHours);
  const next = notify ? { ...base, ...notified } : base;
  return { kind, finding, previous: prev, notify, next, expectedVersion: prev.version };
}

/** Whether a finding still critical has gone `renotifyAfterHours` without a notification. */
function renotifyDue(finding: Finding, prev: FindingState, now: Date, renotifyAfterHours: number): boolean {
  if (renotifyAfterHours === 0 || finding.severity !== 'critical') return false;
  // Never notified (not written by planTransitions): count from when it was first seen.
  const since = Date.parse(prev.lastNotifiedAt ?? prev.firstSeen);
  if (Number.isNaN(since)) return true;
  return now.getTime() - since >= renotifyAfterHours * HOUR_MS;
}

function versionOf(prev: FindingState | undefined): { expectedVersion?: number } {
  return prev ? { expectedVersion: prev.version } : {};
}
