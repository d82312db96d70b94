/**
 * What notifying needs of the ledger: the finding states of a cluster, saved conditionally so
 * that of two concurrent invocations only one notifies a transition. Declared here, in the notify
 * stage, and implemented on DynamoDB by the adapter lib/aws/ledger.ts, so that notifying depends
 * on this interface and not on the adapter (docs/architecture.md).
 */
import type { FindingState } from './transitions';

/** The finding states of the ledger. */
export interface FindingLedger {
  /** The finding states of a cluster, every page, strongly consistent; [] for a cluster never seen. */
  getFindingStates(cluster: string): Promise<FindingState[]>;
  /**
   * Saves a finding state if nobody else did since it was read: for a new item
   * (`expectedVersion` undefined) only if none exists, otherwise only if its version is still
   * `expectedVersion`. `state.version` must be `expectedVersion + 1` (1 for a new item).
   * @throws LedgerConflictError when the condition fails; AwsCallError for any other failure of
   *   the call; Error, before any call, when `state.version` is not `expectedVersion + 1`.
   */
  saveFindingState(state: FindingState, expectedVersion: number | undefined): Promise<void>;
}

/**
 * Another invocation saved the finding state first (its version moved on, or it created the
 * item). The loser must not notify: the winner owns the transition.
 */
export class LedgerConflictError extends Error {
  constructor(
    readonly cluster: string,
    readonly findingId: string,
    readonly expectedVersion: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LedgerConflictError';
  }
}
