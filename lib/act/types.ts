/**
 * Remediation: planned actions, each with its reason, its predicted effect and its state
 * (will apply, dry-run, or blocked with the reason), and what applying it did.
 *
 * Planners (pure, one per action kind) propose; `lib/act/plan.ts` gates each proposal through
 * the safety rules (mode, opt-in, complete data, one change in flight per cluster, cooldown,
 * bounds); executors (`lib/act/execute-*.ts`, the only code here that calls AWS) apply and
 * follow them, recording every step in the ledger.
 */
import type { Finding } from '../diagnose/types';
import type { ClusterInventory, InstanceTypeInfo } from '../inventory/types';
import type { ClusterUsage } from '../measure/types';
import type { EffectivePolicy } from '../policy/types';

export type ActionKind = 'warm-targets' | 'prefix-delegation' | 'prefix-rollout' | 'cni-subnets' | 'instance-types';

/** Set env keys of the managed vpc-cni add-on: only these keys change; every other key is kept. */
export interface AddonEnvChange {
  type: 'addon-env';
  /** The add-on version the change is for (UpdateAddon keeps it). */
  addonVersion?: string;
  /** Keys to set, values as strings (the add-on's schema takes strings). */
  set: Record<string, string>;
  /** The current values of those keys ('' when unset), for the record and the notification. */
  previous: Record<string, string>;
  /** For a self-managed aws-node: the exact command an operator runs instead (nothing is applied). */
  selfManagedCommand?: string;
  /** Prefix delegation only: what the nodes need to use it (max pods per managed nodegroup, node rollout). */
  nodeChanges?: { nodegroup: string; maxPods: number; note: string }[];
}

/** Tag spare subnets `kubernetes.io/role/cni` so that the VPC CNI (1.18+) discovers them. */
export interface CniSubnetsChange {
  type: 'tag-subnets';
  subnetIds: string[];
  tag: { key: string; value: string };
}

/**
 * Replace a managed nodegroup by one of instance types with more IP capacity: step 1 creates
 * the new nodegroup (a copy of everything else); step 2, in a later cycle once it is ACTIVE,
 * scales the old one down. Never both steps at once, never below the capacity that was running.
 */
export interface NodegroupReplacementChange {
  type: 'replace-nodegroup';
  nodegroup: string;
  newNodegroup: string;
  fromInstanceTypes: string[];
  toInstanceTypes: string[];
  /** The candidates considered, best first, with why each ranks where it does. */
  ranking: { instanceType: string; maxPods: number; subnetIpsPerPod: number; note: string }[];
  /** desired/min/max of the old nodegroup when planned: the new one starts at these. */
  scaling: { minSize: number; maxSize: number; desiredSize: number };
  /**
   * vCPU, memory and node count before and after (lib/act/replacement.ts `capacityChange`).
   * Absent in records written before it existed.
   */
  capacity?: CapacityChange;
}

/** What a nodegroup runs: node count and the sum of its nodes' vCPUs and memory. */
export interface NodegroupCapacity {
  nodes: number;
  /** The instance types counted (a mixed nodegroup lists each). */
  instanceTypes: string[];
  vcpus: number;
  memoryMiB: number;
}

/** A replacement's capacity change; percentages are rounded to 0.1, growth positive. */
export interface CapacityChange {
  before: NodegroupCapacity;
  after: NodegroupCapacity;
  vcpuIncreasePercent: number;
  memoryIncreasePercent: number;
  /** The larger of the two: what `actions.instanceTypes.maxCapacityIncreasePercent` bounds. */
  increasePercent: number;
}

export type ActionChange = AddonEnvChange | CniSubnetsChange | NodegroupReplacementChange;

/** What an action is predicted to do, from the ipamd and capacity models. */
export interface PredictedEffect {
  /**
   * Subnet addresses freed (positive) or taken (negative), by subnet id, once the change has
   * settled (for a nodegroup replacement: after the old nodes are gone).
   */
  ipsFreedBySubnet?: Record<string, number>;
  /**
   * A nodegroup replacement only: addresses taken (negative) at the peak, while the new nodes run
   * beside the old ones, by subnet (the worst case the room check uses: lib/act/replacement.ts).
   */
  overlapIpsBySubnet?: Record<string, number>;
  ipsFreed?: number;
  /** Pods of headroom gained on the affected nodes. */
  podHeadroomGained?: number;
  /** One sentence a person reads. */
  text: string;
}

/** A planner's proposal, before the safety gates. */
export interface ProposedAction {
  /** Stable across cycles: `<cluster>/<kind>/<subject>`; the ledger keys cooldowns and idempotency on it. */
  id: string;
  cluster: string;
  kind: ActionKind;
  /** What it changes: `vpc-cni`, a subnet list, a nodegroup name. */
  subject: string;
  /** Why: in words, naming the findings. */
  reason: string;
  findingIds: string[];
  change: ActionChange;
  predicted: PredictedEffect;
  /** Reasons the planner itself found that block it (a value out of the policy's bounds, a non-Nitro type, ...). */
  blockers: string[];
}

export type ActionState = 'apply' | 'dry-run' | 'blocked';

/** A proposal with its state after the gates. */
export interface PlannedAction extends ProposedAction {
  state: ActionState;
  /** Why it is blocked or only dry-run; empty when it will apply. */
  blockedBy: string[];
}

/** Everything a planner reads. Pure data. */
export interface PlanContext {
  usage: ClusterUsage;
  inventory: ClusterInventory;
  instanceTypes: Record<string, InstanceTypeInfo>;
  findings: Finding[];
  policy: EffectivePolicy;
  now: Date;
}

/** A planner: proposes actions of one kind for one cluster. Pure. */
export type ActionPlanner = (ctx: PlanContext) => ProposedAction[];

/** What the ledger knows of past actions of a cluster, for the gates. */
export interface ActionHistory {
  /** The last time each action kind was started on the cluster (ISO). */
  lastStartedByKind: Partial<Record<ActionKind, string>>;
  /** An action of this responder still in flight on the cluster (an update not finished, a replacement between steps). */
  inFlight?: { actionId: string; kind: ActionKind; since: string; step: string };
}

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
  history: { at: string; status: ActionOutcome['status']; step?: string; detail: string }[];
  version: number;
}

/** The AWS clients and timing an executor uses. */
export interface ExecuteDeps {
  eks: import('@aws-sdk/client-eks').EKSClient;
  ec2: import('@aws-sdk/client-ec2').EC2Client;
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
