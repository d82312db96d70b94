/**
 * What applying a planned action does: its outcome, the ledger's record of it with the write in
 * flight (write-ahead), and the executors that apply and follow it (`lib/act/execute-*.ts`, the
 * only act code that calls AWS), recording every step in the ledger (lib/act/ledger.ts).
 */
import type { SubnetProvider } from '../aws/subnets';
import type { ActionChange, ActionKind, PlannedAction, PredictedEffect } from '../plan/types';

/** The outcome of executing or following an action. */
export interface ActionOutcome {
  actionId: string;
  /**
   * `quarantined`: the record failed a check of what it claims (its cluster, the policy, the
   * resources it names) and was set aside without executing anything (lib/act/act.ts).
   */
  status: 'started' | 'in-progress' | 'succeeded' | 'failed' | 'skipped' | 'quarantined';
  /**
   * A `failed` outcome whose cause is transient (throttling, a 5xx, a timeout): the act loop
   * makes it `skipped` when nothing was written yet (no cooldown, the next cycle plans again) and
   * `in-progress` once a write has happened (the next cycle follows it).
   */
  retryable?: boolean;
  /** The AWS update or resource that tracks it (EKS update id, nodegroup name). */
  reference?: string;
  /** For multi-step actions: the step now reached. */
  step?: string;
  detail: string;
}

/**
 * A write about to be made, recorded before it is made (write-ahead): a cycle that finds it in a
 * record knows that the write may have happened, and re-runs its step idempotently (the same
 * token, or a look at the resource first) instead of calling the step unknown or failed.
 */
export interface WriteIntent {
  /** The step the write belongs to. */
  step: string;
  /** `eks:UpdateAddon`, `eks:CreateNodegroup`, `eks:UpdateNodegroupConfig`, `ec2:CreateTags`. */
  operation: string;
  /** What it writes: the add-on, the nodegroup, the subnets. */
  target: string;
  /** The idempotency token sent with it (EKS clientRequestToken), when the API takes one. */
  token?: string;
  at: string;
}

/** The ledger's record of an action that was started (item `ACTIONS#<name>` / `ACTION#<started ISO>#<id>`). */
export interface ActionRecord {
  actionId: string;
  cluster: string;
  kind: ActionKind;
  change: ActionChange;
  predicted: PredictedEffect;
  reason: string;
  startedAt: string;
  updatedAt: string;
  /**
   * in-progress until the last step succeeds or a step fails; skipped when nothing needed changing
   * or could start; quarantined when the record failed a check and nothing was executed.
   */
  status: 'in-progress' | 'succeeded' | 'failed' | 'skipped' | 'quarantined';
  step: string;
  reference?: string;
  /** The write in flight, recorded before it is made; cleared when its outcome is recorded. */
  intent?: WriteIntent;
  /** True once any AWS write of the action has been attempted. */
  wrote?: boolean;
  /** The terminal status whose notification has been sent (at most one [ACTION DONE|FAILED] per action). */
  notified?: ActionRecord['status'];
  /** Every outcome so far, oldest first. */
  history: { at: string; status: ActionOutcome['status']; step?: string; detail: string; policyVersion?: string }[];
  version: number;
  /**
   * The policy the action was started under: its version (lib/policy/load.ts policyVersion), where
   * it came from (bundle, POLICY_JSON, central) and a central policy's location and revision.
   * Each history entry names the version of the policy in force at that step (`policyVersion`).
   */
  policy?: { from: string; version: string; location?: string; revision?: string };
}

/** The AWS clients and timing an executor uses. */
export interface ExecuteDeps {
  eks: import('@aws-sdk/client-eks').EKSClient;
  ec2: import('@aws-sdk/client-ec2').EC2Client;
  /**
   * The subnet reads (DescribeSubnets): the composition root passes the live source's provider, so
   * that every subnet read goes through one. Absent (executor unit tests): one over `ec2`.
   */
  subnets?: SubnetProvider;
  now: () => Date;
  /** Waits between polls; tests pass one that does not wait. */
  sleep: (ms: number) => Promise<void>;
  /** How long `start` follows an update before leaving it to the next cycle (ms). */
  followForMs: number;
  /**
   * Records a write before it is made (write-ahead; lib/act/act.ts saves it in the action's
   * record) and answers the idempotency token to send with it: the same for a repeat of the same
   * step of the same record, another for any other step or record. Executors call it before
   * every AWS write and make the write only once it resolved; it throws when the record cannot
   * be saved, and then nothing is written. Absent outside the act loop (executor unit tests):
   * nothing is recorded (see `intendWrite`).
   */
  intend?: (intent: Omit<WriteIntent, 'at' | 'token'>) => Promise<string>;
  /**
   * Opens a cluster's Kubernetes API for server-side apply (lib/kube). Absent: no Kubernetes
   * access is configured, and the actions that need it fail with that named.
   */
  kube?: import('../inventory/kube-types').KubeConnector;
}

/**
 * Applies and follows one kind of action. The only code that changes the account.
 * - `start` checks the current state first and changes nothing that is already as wanted
 *   (idempotent: a retried event or a second cycle never changes twice), then makes the change
 *   and follows it for up to `followForMs`.
 * - `follow` takes a record left in progress by an earlier cycle to its end or next step.
 * AWS errors (ResourceInUseException, InvalidParameterException, AccessDenied...) come back as
 * an outcome with status 'failed' and the error named, never as a retry loop.
 */
export interface ActionExecutor {
  kind: ActionKind;
  start(action: PlannedAction, deps: ExecuteDeps): Promise<ActionOutcome>;
  follow(record: ActionRecord, deps: ExecuteDeps): Promise<ActionOutcome>;
}
