/**
 * What the act loop (lib/act/act.ts) needs of the ledger: the action history, the cluster's change
 * lock and its lease, the action records, and the responder's cycle throttle. Declared here, in
 * the act layer, and implemented on DynamoDB by the adapter lib/aws/action-ledger.ts, so that the
 * act loop depends on this interface and not on the adapter (docs/architecture.md); tests pass
 * the adapter on dynalite, or a fake.
 */
import type { ActionHistory, ActionKind } from '../plan/types';
import type { ActionRecord } from './types';

/** The change lock of a cluster: which action holds it, and which invocation works on it until when. */
export interface ActionLock {
  actionId: string;
  kind: ActionKind;
  recordSk: string;
  since: string;
  /** The invocation working on the change (its Lambda request id). */
  owner: string;
  /** Epoch ms until which the owner may be working on it; after that another invocation may take over. */
  leaseUntil: number;
}

/**
 * A cluster's action history as the ledger has it: with the change lock, and the record it
 * points to (read once, for the gates and for following the change), or why that record could
 * not be used.
 */
export type LedgerHistory = ActionHistory & {
  lock?: ActionLock;
  lockRecord?: ActionRecord;
  /** The problems of the record the lock points to, when it is not a valid record. */
  lockRecordProblems?: string[];
  /** The latest update (ISO) of a record that changed or may have changed something. */
  lastChangeAt?: string;
};

/** An item in the ledger that is not a valid action record. */
export class ActionRecordInvalidError extends Error {
  constructor(
    readonly sk: string,
    readonly problems: string[],
    readonly raw: Record<string, unknown>,
  ) {
    super(`action record ${sk} is not a valid record: ${problems.join('; ')}`);
    this.name = 'ActionRecordInvalidError';
  }
}

export interface ActionLedger {
  /** The last start per kind, the change in flight and the record it points to: for the plan's gates. Strongly consistent. */
  getActionHistory(cluster: string): Promise<LedgerHistory>;
  /** Takes the cluster's change lock for an action. False when another change holds it. */
  acquireLock(cluster: string, lock: ActionLock): Promise<boolean>;
  /**
   * Takes the lease of the cluster's lock for `owner` until `leaseUntil`: only when the lock is
   * still `lock.actionId`'s and its lease has passed at `now` or is `owner`'s already. False otherwise.
   */
  takeLease(cluster: string, lock: ActionLock, owner: string, leaseUntil: number, now: Date): Promise<boolean>;
  /** Gives the lease back (the lock stays): the next cycle may follow the change at once. */
  releaseLease(cluster: string, lock: ActionLock, owner: string): Promise<void>;
  /** Releases the lock if this action holds it. */
  releaseLock(cluster: string, actionId: string): Promise<void>;
  /**
   * Writes an action record in the cluster's partition at `sk` (the record's own sort key unless
   * given): new (expectedVersion undefined) or moving on from expectedVersion.
   */
  saveActionRecord(cluster: string, record: ActionRecord, expectedVersion: number | undefined, sk?: string): Promise<void>;
  /**
   * Marks the item at `sk` quarantined, whatever it holds (a forged or damaged record included):
   * status 'quarantined', the reason, and the item's other attributes kept for inspection.
   */
  quarantineRecord(cluster: string, sk: string, reason: string, at: Date): Promise<void>;
  /**
   * Reads the record at `recordSk`; undefined when there is none.
   * @throws ActionRecordInvalidError when the item is not a valid action record.
   */
  getActionRecord(cluster: string, recordSk: string): Promise<ActionRecord | undefined>;
  /**
   * Claims a targeted cycle of a cluster unless one ran less than `minIntervalSeconds` ago:
   * during an incident every failed allocation is its own event, and describing the cluster
   * for each would throttle the EC2 API the VPC CNI itself needs.
   */
  claimCycle(cluster: string, name: string, now: Date, minIntervalSeconds: number): Promise<boolean>;
  /**
   * Gives back a cycle claimed at `now` (the cycle failed): deleted only if it is still that
   * claim, so that the retry of the event is answered rather than debounced.
   */
  releaseCycle(cluster: string, name: string, now: Date): Promise<void>;
}

/** The sort keys of action records start with this (the adapter queries a cluster's records by it). */
export const ACTION_SK_PREFIX = 'ACTION#';

/** The sort key of an action record: the lock points at the record by it. */
export function actionRecordSk(record: Pick<ActionRecord, 'startedAt' | 'actionId'>): string {
  return `${ACTION_SK_PREFIX}${record.startedAt}#${record.actionId}`;
}
