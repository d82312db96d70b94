/**
 * The executor of the instance-types action: replaces a managed nodegroup by a new one of other
 * instance types, in steps recorded through `ActionOutcome.step`, one step per call (`start`,
 * `creating`, `scaling-down-old`, `done`). The old nodegroup is scaled to 0 only once the new one
 * is ACTIVE, and kept at 0 nodes, not deleted: the operator deletes it after checking.
 *
 * Design: docs/remediation.md#libactexecute-nodegroupts-the-nodegroup-replacement-executor
 */
import type { Nodegroup } from '@aws-sdk/client-eks';
import { createReplacementNodegroup, describeNodegroup, describeUpdate, scaleNodegroupTo } from '../aws/nodegroup';
import { AwsCallError, isRetryableError } from '../errors';
import { clientRequestTokenFor } from '../keys';
import { REPLACES_TAG_KEY } from '../names';
import type { ActionChange, NodegroupReplacementChange, PlannedAction } from '../plan/types';
import type { ActionExecutor, ActionOutcome, ActionRecord, ExecuteDeps } from './types';
import { intendWrite } from './write-intent';

export const STEP_CREATING = 'creating';
export const STEP_SCALING_DOWN_OLD = 'scaling-down-old';
export const STEP_DONE = 'done';

function replacementOf(change: ActionChange, actionId: string): NodegroupReplacementChange {
  if (change.type !== 'replace-nodegroup') {
    throw new TypeError(`action ${actionId}: the instance-types executor takes a replace-nodegroup change, not ${change.type}`);
  }
  return change;
}

/**
 * Runs an AWS step; an AwsCallError becomes a `failed` outcome at `step` (retryable when transient,
 * or when `afterWrite`: the write's end is then unknown, not failed), anything else is thrown.
 */
async function guarded(actionId: string, step: string, fn: () => Promise<ActionOutcome>, afterWrite = false): Promise<ActionOutcome> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AwsCallError) {
      return { actionId, status: 'failed', step, retryable: afterWrite || isRetryableError(err), detail: `${err.message}` };
    }
    throw err;
  }
}

/**
 * Why a nodegroup found under the planned name is not this replacement: it must carry
 * `eks-ip-responder/replaces=<old>` and not be the old nodegroup itself. Undefined when it is ours.
 */
export function notOurReplacement(found: Nodegroup, change: NodegroupReplacementChange): string | undefined {
  if (change.newNodegroup === change.nodegroup || found.nodegroupName === change.nodegroup) {
    return `the replacement's name ${change.newNodegroup} is the nodegroup it replaces`;
  }
  const tag = found.tags?.[REPLACES_TAG_KEY];
  if (tag !== change.nodegroup) {
    return `nodegroup ${change.newNodegroup} exists but is not this replacement: it carries ${REPLACES_TAG_KEY}=${tag ?? '(absent)'}, not ${change.nodegroup}; neither nodegroup was touched`;
  }
  return undefined;
}

const quarantined = (actionId: string, detail: string): ActionOutcome => ({ actionId, status: 'quarantined', step: STEP_CREATING, detail });

async function start(action: Pick<PlannedAction, 'id' | 'cluster' | 'change'>, deps: ExecuteDeps): Promise<ActionOutcome> {
  const change = replacementOf(action.change, action.id);
  const cluster = action.cluster;
  // Errors of the start leave the record at step `start`: the next cycle runs it again, which finds
  // what an unanswered CreateNodegroup created or sends it again with the same token.
  return guarded(action.id, 'start', async () => {
    const existing = await describeNodegroup(deps.eks, cluster, change.newNodegroup);
    if (existing) {
      const foreign = notOurReplacement(existing, change);
      if (foreign) return quarantined(action.id, foreign);
      // Idempotent: created by an earlier call (or an earlier attempt of this one); not created again.
      return followCreating(action.id, cluster, change, existing, deps, `nodegroup ${change.newNodegroup} exists already`);
    }
    const old = await describeNodegroup(deps.eks, cluster, change.nodegroup);
    if (!old) {
      return { actionId: action.id, status: 'failed', step: STEP_CREATING, detail: `nodegroup ${change.nodegroup} of cluster ${cluster} no longer exists; nothing created` };
    }
    if (old.status !== 'ACTIVE') {
      return {
        actionId: action.id,
        status: 'skipped',
        detail: `nodegroup ${change.nodegroup} is ${old.status ?? 'of unknown status'}, not ACTIVE; nothing created`,
      };
    }
    // Never below the capacity running now: the old nodegroup may have grown since the plan.
    const oldDesired = old.scalingConfig?.desiredSize ?? 0;
    const desiredSize = Math.max(change.scaling.desiredSize, oldDesired);
    const scaling = { minSize: change.scaling.minSize, desiredSize, maxSize: Math.max(change.scaling.maxSize, desiredSize, 1) };
    const token = await intendWrite(
      deps,
      { step: 'start', operation: 'eks:CreateNodegroup', target: `nodegroup ${change.newNodegroup} of ${cluster}` },
      clientRequestTokenFor(action.id, 'create'),
    );
    try {
      await createReplacementNodegroup(deps.eks, cluster, old, change, { actionId: action.id, scaling, clientRequestToken: token });
    } catch (err) {
      // The name is taken: a concurrent attempt of this action created it between the check and the call.
      if (err instanceof AwsCallError && err.code === 'ResourceInUseException') {
        const raced = await describeNodegroup(deps.eks, cluster, change.newNodegroup);
        if (raced) {
          const foreign = notOurReplacement(raced, change);
          if (foreign) return quarantined(action.id, foreign);
          return { actionId: action.id, status: 'in-progress', step: STEP_CREATING, reference: change.newNodegroup, detail: `nodegroup ${change.newNodegroup} exists already (${raced.status ?? '?'})` };
        }
      }
      // A transient error leaves it unknown whether EKS created it: retryable, at step `start`,
      // so that the next cycle looks and, if it is not there, sends it again with the same token.
      // Any other answer (invalid parameters, access denied) means nothing was created: failed.
      if (err instanceof AwsCallError) {
        return { actionId: action.id, status: 'failed', step: 'start', retryable: isRetryableError(err), detail: err.message };
      }
      throw err;
    }
    return {
      actionId: action.id,
      status: 'in-progress',
      step: STEP_CREATING,
      reference: change.newNodegroup,
      detail: `creating nodegroup ${change.newNodegroup} (${change.toInstanceTypes.join(', ')}, desired ${desiredSize}) to replace ${change.nodegroup}; ${change.nodegroup} is scaled down only once it is ACTIVE`,
    };
  });
}

/** Step `creating`: wait for the new nodegroup; when ACTIVE, scale the old one down. */
async function followCreating(
  actionId: string,
  cluster: string,
  change: NodegroupReplacementChange,
  created: Nodegroup,
  deps: ExecuteDeps,
  prefix = '',
  resumeScaleDown = false,
): Promise<ActionOutcome> {
  const lead = prefix ? `${prefix}: ` : '';
  const name = change.newNodegroup;
  const status = created.status;
  if (status === 'CREATING' || status === 'UPDATING') {
    return { actionId, status: 'in-progress', step: STEP_CREATING, reference: name, detail: `${lead}nodegroup ${name} is ${status}` };
  }
  if (status !== 'ACTIVE') {
    const issues = (created.health?.issues ?? []).map((i) => `${i.code ?? '?'}: ${i.message ?? ''}${i.resourceIds?.length ? ` (${i.resourceIds.join(', ')})` : ''}`);
    return {
      actionId,
      status: 'failed',
      step: STEP_CREATING,
      reference: name,
      detail: `${lead}nodegroup ${name} is ${status ?? 'of unknown status'}${issues.length > 0 ? `: ${issues.join('; ')}` : ''}; ${change.nodegroup} was not scaled down`,
    };
  }
  const old = await describeNodegroup(deps.eks, cluster, change.nodegroup);
  if (!old) {
    return { actionId, status: 'failed', step: STEP_CREATING, reference: name, detail: `${lead}nodegroup ${name} is ACTIVE but ${change.nodegroup} no longer exists` };
  }
  const oldScaling = old.scalingConfig ?? {};
  // At 0 already, and not by a scale-down of ours whose update id is not recorded (that one is
  // sent again below, with the same token, to learn its update and follow the drain).
  if (!resumeScaleDown && (oldScaling.desiredSize ?? 0) === 0 && (oldScaling.minSize ?? 0) === 0) {
    return { actionId, status: 'succeeded', step: STEP_DONE, reference: name, detail: `${lead}${change.nodegroup} is at 0 nodes already; ${keptText(cluster, change)}` };
  }
  // Re-check: the new nodegroup must cover what ran on the old one (at plan time and now).
  const running = Math.max(change.scaling.desiredSize, oldScaling.desiredSize ?? 0);
  const newDesired = created.scalingConfig?.desiredSize ?? 0;
  if (newDesired < running) {
    return {
      actionId,
      status: 'failed',
      step: STEP_CREATING,
      reference: name,
      detail: `${lead}new nodegroup smaller than the capacity that was running: ${name} desired ${newDesired} < ${running} of ${change.nodegroup}; ${change.nodegroup} was not scaled down`,
    };
  }
  const token = await intendWrite(
    deps,
    { step: STEP_SCALING_DOWN_OLD, operation: 'eks:UpdateNodegroupConfig', target: `nodegroup ${change.nodegroup} of ${cluster} to 0` },
    clientRequestTokenFor(actionId, STEP_SCALING_DOWN_OLD),
  );
  let updateId: string;
  try {
    // Scaling in, EKS drains each node before terminating it: "Before each instance is terminated,
    // Amazon EKS sends a signal to drain that node ... If the node hasn't been drained after 5 minutes,
    // Amazon EKS lets Auto Scaling continue the forced termination"
    // (https://docs.aws.amazon.com/eks/latest/userguide/delete-managed-node-group.html, which describes
    // the same scale-in to zero that a delete starts with), and desiredSize below the running count
    // terminates nodes (https://docs.aws.amazon.com/eks/latest/APIReference/API_NodegroupScalingConfig.html).
    updateId = await scaleNodegroupTo(
      deps.eks,
      cluster,
      change.nodegroup,
      { minSize: 0, desiredSize: 0, maxSize: Math.max(1, oldScaling.maxSize ?? 1) },
      { clientRequestToken: token },
    );
  } catch (err) {
    if (!(err instanceof AwsCallError)) throw err;
    // Sent: a transient error leaves it unknown whether EKS took it; the next cycle sends the
    // same request with the same token (EKS answers it with the update it started, if any).
    // Still at step `creating`: the record's intent says a scale-down may have been sent.
    return { actionId, status: 'failed', step: STEP_CREATING, retryable: isRetryableError(err), detail: `${lead}${err.message}` };
  }
  return {
    actionId,
    status: 'in-progress',
    step: STEP_SCALING_DOWN_OLD,
    reference: updateId,
    detail: `${lead}nodegroup ${name} is ACTIVE (desired ${newDesired}); scaling ${change.nodegroup} to 0 (EKS drains its nodes), update ${updateId}`,
  };
}

function keptText(cluster: string, change: NodegroupReplacementChange): string {
  return (
    `${change.nodegroup} is kept at 0 nodes (min 0, desired 0): check the workloads on ${change.newNodegroup}, then delete it ` +
    `(aws eks delete-nodegroup --cluster-name ${cluster} --nodegroup-name ${change.nodegroup})`
  );
}

async function follow(record: ActionRecord, deps: ExecuteDeps): Promise<ActionOutcome> {
  const change = replacementOf(record.change, record.actionId);
  const { actionId, cluster } = record;
  switch (record.step) {
    case 'start':
      // Stopped around CreateNodegroup: the start again finds what it created, or creates it with the same token.
      return start({ id: actionId, cluster, change }, deps);
    case STEP_CREATING:
      return guarded(actionId, STEP_CREATING, async () => {
        const created = await describeNodegroup(deps.eks, cluster, change.newNodegroup);
        if (!created) {
          return { actionId, status: 'failed', step: STEP_CREATING, reference: change.newNodegroup, detail: `nodegroup ${change.newNodegroup} does not exist (deleted?); ${change.nodegroup} was not scaled down` };
        }
        const foreign = notOurReplacement(created, change);
        if (foreign) return quarantined(actionId, foreign);
        // Stopped around the scale-down, before its update id was recorded: send it again.
        const resume = record.intent?.step === STEP_SCALING_DOWN_OLD;
        return followCreating(actionId, cluster, change, created, deps, '', resume);
      }, record.wrote === true);
    case STEP_SCALING_DOWN_OLD:
      return guarded(actionId, STEP_SCALING_DOWN_OLD, async () => {
        const updateId = record.reference;
        if (!updateId) {
          return { actionId, status: 'failed', step: STEP_SCALING_DOWN_OLD, detail: `no update id recorded for the scale-down of ${change.nodegroup}` };
        }
        const update = await describeUpdate(deps.eks, cluster, change.nodegroup, updateId);
        if (update.status === 'Successful') {
          return { actionId, status: 'succeeded', step: STEP_DONE, reference: updateId, detail: `${change.nodegroup} scaled to 0, its nodes drained; ${keptText(cluster, change)}` };
        }
        if (update.status === 'Failed' || update.status === 'Cancelled') {
          const errors = (update.errors ?? []).map((e) => `${e.errorCode ?? '?'}: ${e.errorMessage ?? ''}`);
          return {
            actionId,
            status: 'failed',
            step: STEP_SCALING_DOWN_OLD,
            reference: updateId,
            detail: `scale-down of ${change.nodegroup} ${update.status}${errors.length > 0 ? `: ${errors.join('; ')}` : ''}; ${change.newNodegroup} is running`,
          };
        }
        return { actionId, status: 'in-progress', step: STEP_SCALING_DOWN_OLD, reference: updateId, detail: `scale-down of ${change.nodegroup} is ${update.status ?? 'in progress'} (update ${updateId})` };
      }, true);
    case STEP_DONE:
      return { actionId, status: 'succeeded', step: STEP_DONE, reference: record.reference, detail: keptText(cluster, change) };
    default:
      return { actionId, status: 'failed', step: record.step, detail: `unknown step ${record.step} of action ${actionId}` };
  }
}

/** The instance-types executor. */
export const nodegroupReplacementExecutor: ActionExecutor = { kind: 'instance-types', start, follow };
