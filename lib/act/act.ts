/**
 * Act: applies at most one planned change per cluster per cycle, or follows the one in flight.
 * A state machine that can be killed between any two calls and carries on in a later cycle:
 * a change holds its cluster's lock (with a lease) from its start to its last message, is
 * re-gated once it holds the lock, records every write as an intent before making it, is checked
 * before each step (quarantined or paused otherwise), and its last outcome is notified before the
 * lock is released.
 *
 * Design: docs/remediation.md#libactactts-the-act-loop
 */
import { isRetryableError, messageOf } from '../errors';
import { clientRequestTokenFor } from '../keys';
import { parseIpv4Cidr } from '../measure/cidr';
import { CNI_CLUSTER_TAG_PREFIX } from '../names';
import { DEFAULT_SUBNET_RESERVATIONS_POLICY, type SubnetReservationsPolicy } from '../policy/types';
import { leakedEniMinAge } from '../plan/leaked-enis';
import type { ActionChange, ActionHistory, ActionKind, PlannedAction } from '../plan/types';
import { actionRecordSk, ActionRecordInvalidError, type ActionLedger, type ActionLock, type LedgerHistory } from './ledger';
import type { ActionExecutor, ActionOutcome, ActionRecord, ExecuteDeps, WriteIntent } from './types';

/** A lease outlives any invocation: Lambda stops a function after at most 15 minutes. */
export const DEFAULT_LEASE_MS = 15 * 60_000 + 60_000;

/** A change not finished after this long is failed: its updates are not followed for ever. */
export const MAX_FOLLOW_MS = 24 * 3_600_000;

export interface ActDeps {
  actions: ActionLedger;
  executors: Partial<Record<ActionKind, ActionExecutor>>;
  exec: ExecuteDeps;
  /** This invocation (its Lambda request id, or a random id): it owns the leases it takes. */
  owner: string;
  /** How long a lease lasts; default {@link DEFAULT_LEASE_MS}. */
  leaseMs?: number;
  /**
   * Sends the message of an outcome. Final outcomes are marked in the record once this
   * resolves; if it throws, the lock is kept and the next cycle sends it again.
   */
  notify?: (record: ActionRecord, outcome: ActionOutcome) => Promise<void>;
  /** The policy this invocation acts under (lib/policy/central.ts PolicySourceInfo): put in every record it starts or steps. */
  policy?: ActionRecord['policy'];
}

/** What the act loop needs to know of the cluster and its policy in this cycle. */
export interface ActContext {
  /** When this cycle began reading the cluster: a change since then makes its plan stale. */
  dataAt: Date;
  /** The action kinds the cluster's policy allows now. */
  allowedKinds: ReadonlySet<ActionKind>;
  /** Subnet ids the policy lets `cni-subnets` tag on this cluster (its spare subnets). */
  allowedSubnets: ReadonlySet<string>;
  /** Subnet ids the policy lets `cni-subnets` steer this cluster away from (`excludableSubnets`); absent = none. */
  excludableSubnets?: ReadonlySet<string>;
  /** Subnet ids the policy lets `subnet-reservations` reserve in (absent: none). */
  reservationSubnets?: ReadonlySet<string>;
  /** The policy's bounds on one `subnet-reservations` action (absent: the default policy's). */
  reservationBounds?: Pick<SubnetReservationsPolicy, 'maxReservationsPerAction' | 'minBlocks'>;
  /** The policy's `actions.leakedEnis` limits now; absent: a delete-enis record is quarantined. */
  leakedEnis?: { minAgeMinutes: number; maxEnisPerAction: number };
  /** The policy's `actions.karpenterSubnets` allow lists now (node classes, subnets); absent: a karpenter-subnet-terms record is quarantined. */
  karpenterSubnets?: { nodeClasses: ReadonlySet<string>; subnets: ReadonlySet<string> };
  /** The policy's `actions.karpenterInstanceTypes` now (NodePools, the capacity bound); absent: a karpenter-requirements record is quarantined. */
  karpenterInstanceTypes?: { nodePools: ReadonlySet<string>; maxCapacityIncreasePercent: number };
  /** Subnet ids the policy lets `eni-configs` name in an ENIConfig (absent: none). */
  eniConfigSubnets?: ReadonlySet<string>;
  /** Security groups an ENIConfig may give pod ENIs: actions.eniConfigs.securityGroups, else the cluster security group (absent: none). */
  eniConfigSecurityGroups?: ReadonlySet<string>;
  /** Re-runs the gates of an action against a history read after taking the lock. */
  regate: (action: PlannedAction, history: ActionHistory) => PlannedAction;
}

/** An outcome together with the record it concerns (for metrics and notifications). */
export interface ActResult {
  outcome: ActionOutcome;
  record?: ActionRecord;
}

/** What acting on a cluster did, and what limited it. */
export interface ActReport {
  results: ActResult[];
  notes: string[];
}

const TERMINAL: ReadonlySet<ActionRecord['status']> = new Set(['succeeded', 'failed', 'skipped', 'quarantined']);

/** The change each kind carries. */
const CHANGE_TYPE: Record<ActionKind, ActionChange['type']> = {
  'warm-targets': 'addon-env',
  'prefix-delegation': 'addon-env',
  'prefix-rollout': 'replace-nodegroup',
  'cni-subnets': 'tag-subnets',
  'instance-types': 'replace-nodegroup',
  'subnet-reservations': 'reserve-prefixes',
  'leaked-enis': 'delete-enis',
  'karpenter-subnets': 'karpenter-subnet-terms',
  'karpenter-instance-types': 'karpenter-requirements',
  'eni-configs': 'eni-configs',
};

function recordStatus(outcome: ActionOutcome): ActionRecord['status'] {
  if (outcome.status === 'started' || outcome.status === 'in-progress') return 'in-progress';
  return outcome.status;
}

/**
 * A transient failure is not the change's: before any write it is `skipped` (nothing changed, no
 * cooldown); after one, `in-progress` (the next cycle follows).
 */
function settle(outcome: ActionOutcome, wrote: boolean): ActionOutcome {
  if (outcome.status !== 'failed' || !outcome.retryable) return outcome;
  return wrote
    ? { ...outcome, status: 'in-progress', detail: `${outcome.detail} (transient; followed in the next cycle)` }
    : { ...outcome, status: 'skipped', detail: `${outcome.detail} (transient, before any change; planned again in the next cycle)` };
}

/**
 * The record after an outcome. The intent of the step's write is dropped once the outcome says
 * how the write went; `keepIntent` (the step ended not knowing, e.g. the write's answer was lost)
 * keeps it, so that the next cycle sends the same write again with the same token and learns its
 * update instead of taking the change as already made.
 */
function advance(record: ActionRecord, outcome: ActionOutcome, now: Date, keepIntent = false, policyVersion?: string): ActionRecord {
  const at = now.toISOString();
  const { intent, ...rest } = record;
  return {
    ...rest,
    ...(keepIntent && intent ? { intent } : {}),
    status: recordStatus(outcome),
    step: outcome.step ?? record.step,
    ...(outcome.reference ? { reference: outcome.reference } : {}),
    updatedAt: at,
    history: [
      ...record.history,
      { at, status: outcome.status, ...(outcome.step ? { step: outcome.step } : {}), detail: outcome.detail, ...(policyVersion ? { policyVersion } : {}) },
    ],
    version: record.version + 1,
  };
}

/**
 * What is wrong with a record itself, before it is followed: it must be the lock's, of this
 * cluster, with the change its kind carries. A record that fails is never executed.
 */
export function recordProblems(cluster: string, lock: ActionLock, record: ActionRecord): string[] {
  const problems: string[] = [];
  if (record.cluster !== cluster) problems.push(`it names cluster ${record.cluster}, but is in the ledger of cluster ${cluster}`);
  if (record.actionId !== lock.actionId) problems.push(`it is action ${record.actionId}, but the lock is held by ${lock.actionId}`);
  if (record.kind !== lock.kind) problems.push(`it is a ${record.kind} action, but the lock says ${lock.kind}`);
  if (!record.actionId.startsWith(`${cluster}/${record.kind}/`)) problems.push(`its id ${record.actionId} is not of a ${record.kind} action of cluster ${cluster}`);
  if (record.change.type !== CHANGE_TYPE[record.kind]) problems.push(`a ${record.kind} action cannot carry a ${record.change.type} change`);
  const change = record.change;
  if (change.type === 'replace-nodegroup' && change.newNodegroup === change.nodegroup) {
    problems.push(`its new nodegroup ${change.newNodegroup} is the nodegroup it replaces`);
  }
  return problems;
}

/** The env keys (and their values' form) each addon-env kind may set. */
const ADDON_ENV_KEYS: Partial<Record<ActionKind, Record<string, RegExp>>> = {
  'warm-targets': { WARM_IP_TARGET: /^\d+$/, MINIMUM_IP_TARGET: /^\d+$/ },
  'prefix-delegation': { ENABLE_PREFIX_DELEGATION: /^true$/, WARM_PREFIX_TARGET: /^\d+$/ },
};

/** Whether a requirements change is its previous list with one `In` requirement of `widened.key` gaining `widened.added`, and nothing else. */
function onlyWidened(change: Extract<ActionChange, { type: 'karpenter-requirements' }>): boolean {
  const norm = (r: Record<string, unknown>): string => JSON.stringify(Object.keys(r).sort().map((k) => [k, r[k]]));
  let widened = 0;
  return change.previous.every((p, i) => {
    const r = change.requirements[i] as unknown as Record<string, unknown> | undefined;
    if (!r) return false;
    if (norm(r) === norm(p as unknown as Record<string, unknown>)) return true;
    widened += 1;
    const wider = { ...p, values: [...(p.values ?? []), ...change.widened.added] };
    return widened === 1 && p.key === change.widened.key && p.operator === 'In' && norm(r) === norm(wider as unknown as Record<string, unknown>);
  });
}

/** What the policy in force no longer lets a record do: its kind, or the subnets it tags. */
export function policyProblems(cluster: string, record: ActionRecord, ctx: ActContext): string[] {
  const problems: string[] = [];
  if (!ctx.allowedKinds.has(record.kind)) problems.push(`the policy no longer allows ${record.kind} actions on ${cluster}`);
  const change = record.change;
  if (change.type === 'tag-subnets') {
    const outside = change.subnetIds.filter((id) => !ctx.allowedSubnets.has(id));
    if (outside.length > 0) problems.push(`it tags ${outside.join(', ')}, which the policy does not list as spare subnets of ${cluster}`);
    const notListed = (change.exclude ?? []).map((e) => e.subnetId).filter((id) => !(ctx.excludableSubnets?.has(id) ?? false));
    if (notListed.length > 0) problems.push(`it excludes ${cluster} from ${notListed.join(', ')}, which the policy does not list as excludable subnets of ${cluster}`);
    const foreign = (change.exclude ?? []).filter((e) => e.key !== `${CNI_CLUSTER_TAG_PREFIX}${cluster}`).map((e) => e.key);
    if (foreign.length > 0) problems.push(`it removes ${foreign.join(', ')}, which is not ${cluster}'s cluster tag`);
  }
  if (change.type === 'reserve-prefixes' && !(ctx.reservationSubnets?.has(change.subnetId) ?? false)) {
    problems.push(`it reserves in ${change.subnetId}, which the policy does not list under actions.subnetReservations.subnets of ${cluster}`);
  }
  if (change.type === 'reserve-prefixes') {
    // The policy's bounds, as the planner applies them: a planted or stale record gets no more.
    const bounds = ctx.reservationBounds ?? DEFAULT_SUBNET_RESERVATIONS_POLICY;
    if (change.cidrs.length > bounds.maxReservationsPerAction) {
      problems.push(`it makes ${change.cidrs.length} reservations, more than actions.subnetReservations.maxReservationsPerAction (${bounds.maxReservationsPerAction}) of ${cluster}`);
    }
    const small = change.cidrs.filter((c) => {
      try {
        return parseIpv4Cidr(c).size / 16 < bounds.minBlocks;
      } catch {
        return true;
      }
    });
    if (small.length > 0) problems.push(`it reserves ${small.join(', ')}: not an IPv4 CIDR of at least actions.subnetReservations.minBlocks (${bounds.minBlocks}) /28 blocks`);
  }
  if (change.type === 'karpenter-subnet-terms') {
    const k = ctx.karpenterSubnets;
    if (!k) problems.push(`the policy's actions.karpenterSubnets of ${cluster} is not known`);
    else {
      if (!k.nodeClasses.has(change.nodeClass)) problems.push(`it changes EC2NodeClass ${change.nodeClass}, which the policy does not list under actions.karpenterSubnets.nodeClasses of ${cluster}`);
      const outside = change.added.filter((id) => !k.subnets.has(id));
      if (outside.length > 0) problems.push(`it adds ${outside.join(', ')}, which the policy does not list under actions.karpenterSubnets.subnets of ${cluster}`);
      // The kept terms are subnets Karpenter had resolved (not provable from the record); the added ones must be allow-listed (above).
      if (change.terms.length === 0) problems.push('it leaves the node class with no subnet selector term');
    }
  }
  if (change.type === 'karpenter-requirements') {
    const k = ctx.karpenterInstanceTypes;
    if (!k) problems.push(`the policy's actions.karpenterInstanceTypes of ${cluster} is not known`);
    else {
      if (!k.nodePools.has(change.nodePool)) problems.push(`it changes NodePool ${change.nodePool}, which the policy does not list under actions.karpenterInstanceTypes.nodePools of ${cluster}`);
      if (change.increasePercent > k.maxCapacityIncreasePercent) {
        problems.push(`it grows a node's vCPUs or memory by ${change.increasePercent}%, above actions.karpenterInstanceTypes.maxCapacityIncreasePercent (${k.maxCapacityIncreasePercent}) of ${cluster}`);
      }
      // It only widens: every requirement it had is kept, the widened one with all its values.
      const kept = change.previous.every((p) => change.requirements.some((r) => r.key === p.key && r.operator === p.operator && (p.values ?? []).every((v) => (r.values ?? []).includes(v))));
      if (!kept || change.requirements.length !== change.previous.length) problems.push('it does not keep every requirement the NodePool had (the action only widens one)');
      // Its bound (increasePercent) and what it adds (widened) describe it only if nothing else changes.
      else if (!onlyWidened(change)) problems.push(`it changes more than ${change.widened.key} In gaining ${change.widened.added.join(', ') || 'nothing'} (the action only widens one requirement by the values it records)`);
    }
  }
  if (change.type === 'eni-configs') {
    // A planted or stale record may name subnets the policy no longer lists, or set other env keys.
    const outside = change.eniConfigs.map((e) => e.subnet).filter((id) => !(ctx.eniConfigSubnets?.has(id) ?? false));
    if (outside.length > 0) problems.push(`its ENIConfigs name ${outside.join(', ')}, which the policy does not list under actions.eniConfigs.subnets of ${cluster}`);
    // The pods' ENIs get these groups: only the policy's (or the cluster security group the planner defaults to).
    const groups = [...new Set(change.eniConfigs.flatMap((e) => e.securityGroups))].filter((g) => !(ctx.eniConfigSecurityGroups?.has(g) ?? false));
    if (groups.length > 0) problems.push(`its ENIConfigs give pods ${groups.join(', ')}, neither in actions.eniConfigs.securityGroups nor the cluster security group of ${cluster}`);
    const keys = Object.keys(change.env.set).sort().join();
    if (keys !== 'AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG,ENI_CONFIG_LABEL_DEF') problems.push(`it sets ${keys}, not the custom networking env (AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG, ENI_CONFIG_LABEL_DEF)`);
    const names = change.eniConfigs.map((e) => e.name);
    if (new Set(names).size !== names.length) problems.push(`it names an ENIConfig twice (${names.join(', ')})`);
  }
  // The env keys each addon-env kind's planner sets (lib/plan/warm-targets.ts, prefix-delegation.ts):
  // a stale or planted record sets no other key on the add-on or on aws-node.
  const envKeys = ADDON_ENV_KEYS[record.kind];
  if (change.type === 'addon-env' && envKeys) {
    const other = Object.entries(change.set).filter(([k, v]) => !envKeys[k]?.test(v));
    if (other.length > 0) problems.push(`it sets ${other.map(([k, v]) => `${k}=${v}`).join(', ')}, which a ${record.kind} action does not set`);
  }
  // A record may delete only ENIs tagged with its own cluster (IAM holds it to that too).
  if (change.type === 'delete-enis') {
    if (change.clusterTag !== cluster) problems.push(`it deletes ENIs tagged with cluster ${change.clusterTag}, not ${cluster}`);
    // A planted or stale record may ask for more, or younger, ENIs than the policy allows now.
    const limits = ctx.leakedEnis;
    const count = new Set(change.enis.map((e) => e.networkInterfaceId)).size;
    if (!limits) problems.push(`the policy's actions.leakedEnis limits of ${cluster} are not known`);
    else {
      if (count > limits.maxEnisPerAction) problems.push(`it deletes ${count} ENIs, more than the policy's actions.leakedEnis.maxEnisPerAction ${limits.maxEnisPerAction}`);
      const minAge = leakedEniMinAge(limits.minAgeMinutes);
      if (change.minAgeMinutes < minAge) problems.push(`its minimum age ${change.minAgeMinutes} minutes is below the policy's actions.leakedEnis.minAgeMinutes ${minAge}`);
    }
  }
  return problems;
}

/** Follows the change in flight, or starts the first planned action that will apply. */
export async function actOnCluster(
  deps: ActDeps,
  cluster: string,
  planned: PlannedAction[],
  history: LedgerHistory,
  ctx: ActContext,
): Promise<ActReport> {
  return history.lock ? follow(deps, cluster, history, ctx) : start(deps, cluster, planned, ctx);
}

/** The lease this invocation takes, until when. */
function leaseUntil(deps: ActDeps): number {
  return deps.exec.now().getTime() + (deps.leaseMs ?? DEFAULT_LEASE_MS);
}

/**
 * Runs one step of an executor with write-ahead intents saved in the record, then records its
 * outcome, notifies it, and releases the lock (a final outcome) or the lease.
 */
async function step(
  deps: ActDeps,
  cluster: string,
  lock: ActionLock,
  initial: ActionRecord,
  run: (exec: ExecuteDeps) => Promise<ActionOutcome>,
): Promise<ActResult> {
  let current = initial;
  const intend = async (intent: Omit<WriteIntent, 'at' | 'token'>): Promise<string> => {
    const at = deps.exec.now().toISOString();
    // Unique per record and step: an action id recurs (the same kind on the same subject, days
    // later), and EKS would answer a reused token with the old update.
    const token = clientRequestTokenFor(`${current.actionId}@${current.startedAt}`, `${intent.step}#${intent.operation}`);
    const next: ActionRecord = { ...current, intent: { ...intent, token, at }, wrote: true, updatedAt: at, version: current.version + 1 };
    await deps.actions.saveActionRecord(cluster, next, current.version, lock.recordSk);
    current = next;
    return token;
  };
  let outcome: ActionOutcome;
  let threw = false;
  try {
    outcome = await run({ ...deps.exec, intend });
  } catch (err) {
    // Executors report AWS errors as outcomes; anything thrown is a bug or an unexpected error
    // (the ledger throttled or unreachable while recording an intent included): nothing more
    // is written now. A transient one is not the change's failure (settle below).
    threw = true;
    outcome = { actionId: current.actionId, status: 'failed', retryable: isRetryableError(err), detail: `unexpected error: ${messageOf(err)}` };
    if (current.intent || current.wrote) {
      // A write may have happened: follow it next cycle rather than call it failed.
      outcome = { ...outcome, status: 'in-progress', detail: `${outcome.detail}; a write may have been made, followed in the next cycle` };
    }
  }
  const now = deps.exec.now();
  let settled = settle(outcome, current.wrote === true);
  // Ended without knowing how its write went: the intent stays for the next cycle to resend.
  const uncertain = settled.status === 'in-progress' && (threw || outcome.status === 'failed');
  if (settled.status === 'in-progress' && now.getTime() - Date.parse(current.startedAt) > MAX_FOLLOW_MS) {
    settled = { ...settled, status: 'failed', detail: `${settled.detail}; not finished ${MAX_FOLLOW_MS / 3_600_000} h after it started: no longer followed` };
  }
  const next = advance(current, settled, now, uncertain, deps.policy?.version);
  try {
    await deps.actions.saveActionRecord(cluster, next, current.version, lock.recordSk);
  } catch (err) {
    // Not recorded (the ledger failed, or another invocation changed the record: its version
    // moved): give the lease back, so that the next cycle need not wait for it, and stop.
    await deps.actions.releaseLease(cluster, lock, deps.owner).catch(() => undefined);
    throw err;
  }
  return finish(deps, cluster, lock, next, settled);
}

/** After a recorded outcome: a final one is notified (once) and the lock released; otherwise the lease is given back. */
async function finish(deps: ActDeps, cluster: string, lock: ActionLock, record: ActionRecord, outcome: ActionOutcome): Promise<ActResult> {
  if (!TERMINAL.has(record.status)) {
    // Intermediate messages (started, in progress) are best effort: the final one is not.
    if (deps.notify) await deps.notify(record, outcome).catch(() => undefined);
    await deps.actions.releaseLease(cluster, lock, deps.owner);
    return { outcome, record };
  }
  let done = record;
  if (deps.notify && record.notified !== record.status) {
    try {
      await deps.notify(record, outcome);
    } catch (err) {
      // Kept locked, so that no other change starts before this one is told; the next cycle
      // sends it again (the lease is given back so that it need not wait for it).
      await deps.actions.releaseLease(cluster, lock, deps.owner).catch(() => undefined);
      throw err;
    }
    done = { ...record, notified: record.status, version: record.version + 1 };
    await deps.actions.saveActionRecord(cluster, done, record.version, lock.recordSk);
  }
  await deps.actions.releaseLock(cluster, lock.actionId);
  return { outcome, record: done };
}

/** Sets a record aside without executing it: quarantined in the ledger, notified, the lock released. */
async function quarantine(
  deps: ActDeps,
  cluster: string,
  lock: ActionLock,
  record: ActionRecord | undefined,
  problems: string[],
): Promise<ActReport> {
  const now = deps.exec.now();
  // What the record says was already written is not undone: the message says to look at it.
  const written = record?.wrote
    ? `; it had already written (${record.intent ? `${record.intent.operation} on ${record.intent.target}` : `step ${record.step ?? '?'}`}), which is left as it is: check it by hand`
    : '';
  const reason = `quarantined, ${written ? 'not followed' : 'nothing executed'}: ${problems.join('; ')}${written}`;
  const outcome: ActionOutcome = { actionId: lock.actionId, status: 'quarantined', detail: reason };
  await deps.actions.quarantineRecord(cluster, lock.recordSk, reason, now);
  const shown: ActionRecord = record
    ? { ...advance(record, outcome, now), cluster }
    : {
        actionId: lock.actionId,
        cluster,
        kind: lock.kind,
        // What the item claimed is not trusted enough to show: the message names the item.
        change: { type: 'tag-subnets', subnetIds: [], tag: { key: '(invalid record)', value: lock.recordSk } },
        predicted: { text: 'nothing: the record was not executed' },
        reason,
        startedAt: lock.since,
        updatedAt: now.toISOString(),
        status: 'quarantined',
        step: 'quarantined',
        history: [{ at: now.toISOString(), status: 'quarantined', detail: reason }],
        version: 1,
      };
  const notes = [`change ${lock.actionId} ${reason}`];
  if (deps.notify) {
    try {
      await deps.notify(shown, outcome);
    } catch (err) {
      notes.push(`the quarantine of ${lock.actionId} could not be notified: ${messageOf(err)}`);
    }
  }
  await deps.actions.releaseLock(cluster, lock.actionId);
  return { results: [{ outcome, record: shown }], notes };
}

async function follow(deps: ActDeps, cluster: string, history: LedgerHistory, ctx: ActContext): Promise<ActReport> {
  const lock = history.lock as ActionLock;
  const now = deps.exec.now();
  if (!(await deps.actions.takeLease(cluster, lock, deps.owner, leaseUntil(deps), now))) {
    return { results: [], notes: [`change ${lock.actionId} is being worked on by another invocation (lease until ${new Date(lock.leaseUntil).toISOString()})`] };
  }
  // Read again now that the lease is this invocation's (strongly consistent): the copy read with
  // the history may be older than the last step of the invocation that held the lease before.
  let record: ActionRecord | undefined;
  try {
    record = await deps.actions.getActionRecord(cluster, lock.recordSk);
  } catch (err) {
    if (err instanceof ActionRecordInvalidError) return quarantine(deps, cluster, lock, undefined, err.problems);
    await deps.actions.releaseLease(cluster, lock, deps.owner).catch(() => undefined);
    throw err;
  }
  if (!record) {
    // The lock was taken but its record never written (the invocation died in between): no
    // write can have happened, since every write is recorded before it is made.
    await deps.actions.releaseLock(cluster, lock.actionId);
    return { results: [], notes: [`released the lock of ${lock.actionId}: its record was never written (the invocation that took it stopped), so nothing was changed`] };
  }
  if (TERMINAL.has(record.status)) {
    // Finished, but its final message or the lock's release did not happen.
    const last = record.history[record.history.length - 1];
    const outcome: ActionOutcome = {
      actionId: record.actionId,
      status: record.status,
      ...(record.step ? { step: record.step } : {}),
      ...(record.reference ? { reference: record.reference } : {}),
      detail: last?.detail ?? record.status,
    };
    const result = await finish(deps, cluster, lock, record, outcome);
    return { results: record.notified === record.status ? [] : [result], notes: [] };
  }
  const problems = recordProblems(cluster, lock, record);
  if (problems.length > 0) return quarantine(deps, cluster, lock, record, problems);
  const disallowed = policyProblems(cluster, record, ctx);
  if (disallowed.length > 0) {
    if (!record.wrote) return quarantine(deps, cluster, lock, record, disallowed);
    // Half made, and the policy has since withdrawn it: paused, as a cluster switched back to
    // dry-run is. Released, it would leave its writes (a replacement nodegroup beside the old
    // one) unfollowed and let another change start beside them.
    await deps.actions.releaseLease(cluster, lock, deps.owner);
    return {
      results: [],
      notes: [
        `change ${record.actionId} is paused at step ${record.step ?? '?'}: ${disallowed.join('; ')}; it has written already, so it keeps the cluster's change lock. ` +
          `Allow it again to finish it, or finish it by hand and delete the lock item (pk ACTIONS#${cluster}, sk INFLIGHT)`,
      ],
    };
  }
  const executor = deps.executors[record.kind];
  if (!executor) return quarantine(deps, cluster, lock, record, [`no executor for ${record.kind}`]);
  const found = record;
  return { results: [await step(deps, cluster, lock, found, (exec) => executor.follow(found, exec))], notes: [] };
}

async function start(deps: ActDeps, cluster: string, planned: PlannedAction[], ctx: ActContext): Promise<ActReport> {
  const action = planned.find((p) => p.state === 'apply');
  if (!action) return { results: [], notes: [] };
  const executor = deps.executors[action.kind];
  if (!executor) return { results: [{ outcome: { actionId: action.id, status: 'skipped', detail: `no executor for ${action.kind}` } }], notes: [] };
  const now = deps.exec.now();
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
    ...(deps.policy ? { policy: deps.policy } : {}),
  };
  const lock: ActionLock = { actionId: action.id, kind: action.kind, recordSk: actionRecordSk(record), since: startedAt, owner: deps.owner, leaseUntil: leaseUntil(deps) };
  const skipped = (detail: string): ActReport => ({ results: [{ outcome: { actionId: action.id, status: 'skipped', detail } }], notes: [] });
  if (!(await deps.actions.acquireLock(cluster, lock))) return skipped('another invocation holds the change lock of the cluster');

  // Holding the lock, look again: what happened since this cycle read the cluster?
  let fresh: LedgerHistory;
  try {
    fresh = await deps.actions.getActionHistory(cluster);
  } catch (err) {
    await deps.actions.releaseLock(cluster, action.id);
    throw err;
  }
  const { lock: _mine, lockRecord: _none, inFlight: _self, ...others } = fresh;
  if (fresh.lastChangeAt && Date.parse(fresh.lastChangeAt) >= ctx.dataAt.getTime()) {
    await deps.actions.releaseLock(cluster, action.id);
    return skipped(`the plan is stale: a change of the cluster was recorded at ${fresh.lastChangeAt}, after this cycle read it at ${ctx.dataAt.toISOString()}; the next cycle plans again`);
  }
  const regated = ctx.regate(action, others);
  if (regated.state !== 'apply') {
    await deps.actions.releaseLock(cluster, action.id);
    return skipped(`no longer passes the gates: ${regated.blockedBy.join('; ')}`);
  }

  try {
    await deps.actions.saveActionRecord(cluster, record, undefined);
  } catch (err) {
    // Nothing written yet: the lock can go (if this fails too, the next cycle releases it once its lease has passed).
    await deps.actions.releaseLock(cluster, action.id).catch(() => undefined);
    throw err;
  }
  return { results: [await step(deps, cluster, lock, record, (exec) => executor.start(action, exec))], notes: [] };
}
