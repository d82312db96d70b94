/**
 * Executor of the actions that set env keys on the managed vpc-cni add-on (warm-targets,
 * prefix-delegation): read the add-on, change nothing that is already as wanted, otherwise
 * UpdateAddon with the merged document (lib/aws/addon.ts) and follow the update with
 * DescribeUpdate. UpdateAddon is announced (`intendWrite`) before it is sent; transient errors
 * are marked `retryable`. A change with `target: 'aws-node'` (a self-managed install) goes to
 * lib/act/execute-aws-node.ts instead.
 *
 * Design: docs/remediation.md#libactexecute-addonts-the-vpc-cni-add-on-executor
 */
import { describeUpdate, readVpcCniAddon, updateVpcCniEnv, type AddonUpdateStatus } from '../aws/addon';
import { awsErrorCode, isRetryableError, messageOf } from '../errors';
import { envOf } from '../inventory/configuration-values';
import { clientRequestTokenFor } from '../keys';
import type { AddonEnvChange, PlannedAction } from '../plan/types';
import { selfManagedCommand } from '../plan/warm-targets';
import { followAwsNodeEnv, runAwsNodeEnv } from './execute-aws-node';
import type { ActionExecutor, ActionOutcome, ActionRecord, ExecuteDeps } from './types';
import { intendWrite } from './write-intent';

/** Between two DescribeUpdate calls. */
export const POLL_INTERVAL_MS = 5_000;
/** The step every outcome of this executor reports. */
export const ADDON_UPDATE_STEP = 'update-addon';

/** Add-on statuses in which EKS is already changing it. */
const BUSY_STATUSES = new Set(['UPDATING', 'CREATING', 'DELETING']);

function addonChangeOf(change: PlannedAction['change'], actionId: string): AddonEnvChange {
  if (change.type !== 'addon-env') {
    throw new Error(`action ${actionId}: the add-on executor takes an addon-env change, not ${change.type}`);
  }
  return change;
}

const pairs = (set: Record<string, string>): string =>
  Object.entries(set)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/** The reminder that prefix delegation needs new nodes, from nodeChanges. */
function nodesReminder(change: AddonEnvChange): string {
  if (change.set['ENABLE_PREFIX_DELEGATION'] !== 'true') return '';
  const groups = change.nodeChanges ?? [];
  const which =
    groups.length > 0 ? groups.map((g) => `${g.nodegroup} (max pods ${g.maxPods})`).join(', ') : 'the affected nodegroups';
  return ` Nodes get /28 prefixes and the new max pods only when replaced: roll ${which} (see nodeChanges).`;
}

function failedOf(actionId: string, err: unknown, change: AddonEnvChange, reference?: string, afterWrite = false): ActionOutcome {
  const code = awsErrorCode(err);
  return {
    actionId,
    status: 'failed',
    retryable: afterWrite || isRetryableError(err),
    step: ADDON_UPDATE_STEP,
    ...(reference ? { reference } : {}),
    // The add-on calls' errors already say what ResourceInUse means (lib/aws/addon.ts).
    detail: `${messageOf(err)}${code === 'ResourceInUseException' ? ' Not retried.' : ''}${nodesReminder(change)}`,
  };
}

/** The outcome of a DescribeUpdate answer. */
function outcomeOfUpdate(actionId: string, cluster: string, u: AddonUpdateStatus, change: AddonEnvChange): ActionOutcome {
  const base = { actionId, reference: u.updateId, step: ADDON_UPDATE_STEP };
  switch (u.status) {
    case 'Successful':
      return {
        ...base,
        status: 'succeeded',
        detail: `vpc-cni add-on of ${cluster} updated: ${pairs(change.set)} (update ${u.updateId}).${nodesReminder(change)}`,
      };
    case 'Failed':
    case 'Cancelled': {
      const errors = u.errors.map((e) => `${e.code ?? 'Unknown'}: ${e.message ?? '(no message)'}${e.resourceIds ? ` [${e.resourceIds.join(', ')}]` : ''}`);
      return {
        ...base,
        status: 'failed',
        detail: `vpc-cni update ${u.updateId} of ${cluster} ${u.status}${errors.length > 0 ? `: ${errors.join('; ')}` : ' (EKS gave no error)'}.`,
      };
    }
    default:
      return {
        ...base,
        status: 'in-progress',
        detail: `vpc-cni update ${u.updateId} of ${cluster} (${pairs(change.set)}) still in progress.${nodesReminder(change)}`,
      };
  }
}

/**
 * Follows an update: DescribeUpdate now when `describeFirst`, then every POLL_INTERVAL_MS while it
 * is InProgress, at most `followForMs` in all (counted in polls, so a test's clock need not move).
 */
async function followUpdate(
  deps: ExecuteDeps,
  actionId: string,
  cluster: string,
  updateId: string,
  change: AddonEnvChange,
  describeFirst: boolean,
): Promise<ActionOutcome> {
  const polls = Math.max(0, Math.floor(deps.followForMs / POLL_INTERVAL_MS));
  let last: AddonUpdateStatus = { updateId, status: 'InProgress', errors: [] };
  try {
    if (describeFirst) last = await describeUpdate(deps.eks, cluster, updateId);
    for (let i = 0; i < polls && last.status === 'InProgress'; i++) {
      await deps.sleep(POLL_INTERVAL_MS);
      last = await describeUpdate(deps.eks, cluster, updateId);
    }
  } catch (err) {
    // The update was started: not knowing how it ends is not its failure.
    return failedOf(actionId, err, change, updateId, true);
  }
  return outcomeOfUpdate(actionId, cluster, last, change);
}

/** The start of an add-on env change: look, then (only if needed and possible) UpdateAddon, then follow it a while. */
export async function startAddonEnv(action: Pick<PlannedAction, 'id' | 'cluster' | 'change'>, deps: ExecuteDeps, resend = false): Promise<ActionOutcome> {
  const change = addonChangeOf(action.change, action.id);
  const skipped = (detail: string): ActionOutcome => ({ actionId: action.id, status: 'skipped', step: ADDON_UPDATE_STEP, detail });
  if (change.selfManagedCommand) {
    return skipped(`aws-node is self-managed on ${action.cluster}: nothing is applied through the API; run: ${change.selfManagedCommand}`);
  }
  let current;
  try {
    current = await readVpcCniAddon(deps.eks, action.cluster);
  } catch (err) {
    return failedOf(action.id, err, change);
  }
  if (!current) {
    return {
      actionId: action.id,
      status: 'failed',
      step: ADDON_UPDATE_STEP,
      detail: `cluster ${action.cluster} has no managed vpc-cni add-on (DescribeAddon: ResourceNotFoundException): aws-node is self-managed; run: ${selfManagedCommand(change.set)}`,
    };
  }
  let env: Record<string, unknown>;
  try {
    env = envOf(current.configurationValues);
  } catch (err) {
    return failedOf(action.id, err, change);
  }
  const missing = Object.entries(change.set).filter(([k, v]) => env[k] === undefined || String(env[k]) !== v);
  // `resend`: an UpdateAddon of this action was announced and its answer never recorded. The
  // keys may show as set, or the add-on as UPDATING, because of it: sent again with the same
  // token, EKS answers with the update it started, which is then followed to its end.
  if (!resend && missing.length === 0) {
    return {
      actionId: action.id,
      status: 'succeeded',
      step: ADDON_UPDATE_STEP,
      detail: `already set on the vpc-cni add-on of ${action.cluster}: ${pairs(change.set)}; nothing changed.${nodesReminder(change)}`,
    };
  }
  const status = current.addon.status ?? '';
  if (!resend && BUSY_STATUSES.has(status)) {
    return skipped(`an add-on update is in flight: the vpc-cni add-on of ${action.cluster} is ${status}; nothing changed, the next cycle looks again.`);
  }
  // Write-ahead: recorded before it is sent; an unanswered call may still have been applied.
  const token = await intendWrite(
    deps,
    { step: ADDON_UPDATE_STEP, operation: 'eks:UpdateAddon', target: `vpc-cni of ${action.cluster}` },
    clientRequestTokenFor(action.id, ADDON_UPDATE_STEP),
  );
  let started;
  try {
    started = await updateVpcCniEnv(deps.eks, action.cluster, change.set, { current, clientRequestToken: token });
  } catch (err) {
    return failedOf(action.id, err, change);
  }
  if (started.status !== 'InProgress') {
    return outcomeOfUpdate(action.id, action.cluster, { updateId: started.updateId, status: started.status, errors: [] }, change);
  }
  return followUpdate(deps, action.id, action.cluster, started.updateId, change, false);
}

/** Follows a record of an add-on env change (its update, or the start again when its id was not recorded). */
export async function followAddonEnv(record: Pick<ActionRecord, 'actionId' | 'cluster' | 'change' | 'reference' | 'intent'>, deps: ExecuteDeps): Promise<ActionOutcome> {
  const change = addonChangeOf(record.change, record.actionId);
  if (!record.reference) {
    // Stopped around UpdateAddon, before its update id was recorded: run the start again.
    // With the write announced (the intent kept), it is sent again with the same token and
    // its update followed; without, the start looks first as ever.
    const announced = record.intent?.operation === 'eks:UpdateAddon';
    return startAddonEnv({ id: record.actionId, cluster: record.cluster, change }, deps, announced);
  }
  return followUpdate(deps, record.actionId, record.cluster, record.reference, change, true);
}

/** The executor of one addon-env action kind. */
export function addonEnvExecutor(kind: 'warm-targets' | 'prefix-delegation'): ActionExecutor {
  return {
    kind,
    // A self-managed aws-node (target aws-node): server-side apply of the DaemonSet (lib/act/execute-aws-node.ts).
    start: (action, deps) => (addonChangeOf(action.change, action.id).target === 'aws-node' ? runAwsNodeEnv(action, deps) : startAddonEnv(action, deps)),
    follow: (record, deps) => (addonChangeOf(record.change, record.actionId).target === 'aws-node' ? followAwsNodeEnv(record, deps) : followAddonEnv(record, deps)),
  };
}
