/**
 * Applies a `leaked-enis` action: one DescribeNetworkInterfaces of all planned ENIs, then the
 * deletes one by one, each only if its ENI was then still `available`, in the record's subnet, the
 * VPC CNI's for the planned instance, tagged with the cluster and old enough (the larger of the
 * record's age and the floor). Each delete is announced first (write-ahead); an attach since the
 * read is refused by EC2 (InUse). An ENI gone already is done (idempotent after a crash).
 * `follow` is the same pass. Design: docs/leaked-enis.md, "The executor".
 */
import { deleteNetworkInterface, describeNetworkInterfacesById } from '../aws/network-interfaces';
import { list } from '../diagnose/context';
import { AwsCallError, isRetryableError } from '../errors';
import { cniEniInstanceOf } from '../inventory/leaked';
import { CNI_ENI_CLUSTER_TAG_KEY, CNI_ENI_CREATED_AT_TAG_KEY } from '../names';
import { leakedEniMinAge } from '../plan/leaked-enis';
import type { ActionChange } from '../plan/types';
import type { ActionExecutor, ActionOutcome, ExecuteDeps } from './types';
import { intendWrite } from './write-intent';

/** The step a succeeded action ends at. */
export const DELETED_STEP = 'deleted';

/** Why a planned ENI, read again, may no longer be deleted; undefined when it may. */
function refusal(
  eni: import('@aws-sdk/client-ec2').NetworkInterface,
  planned: { instanceId: string; subnetId: string },
  clusterTag: string,
  minAgeMinutes: number,
  now: Date,
): string | undefined {
  if (eni.Status !== 'available' || eni.Attachment?.InstanceId) return `is ${eni.Status ?? 'in an unknown state'}${eni.Attachment?.InstanceId ? `, attached to ${eni.Attachment.InstanceId}` : ''}`;
  if (eni.SubnetId !== planned.subnetId) return `is in ${eni.SubnetId ?? 'an unknown subnet'}, not ${planned.subnetId} as the record says`;
  const instance = cniEniInstanceOf(eni);
  if (instance !== planned.instanceId) return `is no longer the VPC CNI's ENI of ${planned.instanceId}`;
  const tag = eni.TagSet?.find((t) => t.Key === CNI_ENI_CLUSTER_TAG_KEY)?.Value;
  if (tag !== clusterTag) return `is tagged ${CNI_ENI_CLUSTER_TAG_KEY}=${tag ?? '(none)'}, not ${clusterTag}`;
  const created = Date.parse(eni.TagSet?.find((t) => t.Key === CNI_ENI_CREATED_AT_TAG_KEY)?.Value ?? '');
  const minAge = leakedEniMinAge(minAgeMinutes);
  if (!Number.isFinite(created) || now.getTime() - created < minAge * 60_000) return `is not known to be ${minAge} minutes old (its createdAt tag)`;
  return undefined;
}

async function apply(actionId: string, change: ActionChange, deps: ExecuteDeps, following: boolean): Promise<ActionOutcome> {
  const failed = (detail: string): ActionOutcome => ({ actionId, status: 'failed', detail });
  if (change.type !== 'delete-enis') return failed(`not a delete-enis change (${change.type}): nothing deleted`);
  const planned = [...new Map(change.enis.map((e) => [e.networkInterfaceId, e])).values()];
  if (planned.length === 0) return failed('no ENI to delete: nothing deleted');
  const reference = planned.map((e) => e.networkInterfaceId).join(',');
  const deleted: string[] = [];
  const gone: string[] = [];
  const skipped: string[] = [];
  const done = (): string =>
    [
      deleted.length > 0 ? `deleted ${list(deleted)}` : '',
      gone.length > 0 ? `gone already ${list(gone)}` : '',
      skipped.length > 0 ? `left alone: ${skipped.join('; ')}` : '',
    ]
      .filter((x) => x)
      .join('; ');
  try {
    const found = new Map((await describeNetworkInterfacesById(deps.ec2, planned.map((e) => e.networkInterfaceId))).map((e) => [e.NetworkInterfaceId ?? '', e]));
    for (const p of planned) {
      const eni = found.get(p.networkInterfaceId);
      if (!eni) {
        gone.push(p.networkInterfaceId);
        continue;
      }
      const why = refusal(eni, p, change.clusterTag, change.minAgeMinutes, deps.now());
      if (why) {
        skipped.push(`${p.networkInterfaceId} ${why}`);
        continue;
      }
      // DeleteNetworkInterface takes no token: deleting a deleted ENI answers NotFound, taken as done.
      await intendWrite(deps, { step: DELETED_STEP, operation: 'ec2:DeleteNetworkInterface', target: p.networkInterfaceId }, '');
      const result = await deleteNetworkInterface(deps.ec2, p.networkInterfaceId);
      if (result === 'deleted') deleted.push(p.networkInterfaceId);
      else if (result === 'gone') gone.push(p.networkInterfaceId);
      else skipped.push(`${p.networkInterfaceId} was attached since it was read`);
    }
  } catch (err) {
    if (err instanceof AwsCallError) {
      return { actionId, status: 'failed', retryable: isRetryableError(err), reference, detail: `${err.message}${done() ? ` (before it: ${done()})` : ''}` };
    }
    throw err;
  }
  const changed = deleted.length + gone.length > 0;
  return {
    actionId,
    status: changed ? 'succeeded' : 'skipped',
    step: DELETED_STEP,
    reference,
    detail: `${following ? 'followed: ' : ''}${done()}`,
  };
}

/** The executor of `leaked-enis` actions. */
export const leakedEnisExecutor: ActionExecutor = {
  kind: 'leaked-enis',
  start: (action, deps) => apply(action.id, action.change, deps, false),
  follow: (record, deps) => apply(record.actionId, record.change, deps, true),
};
