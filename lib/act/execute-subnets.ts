/**
 * Applies a `cni-subnets` action: tags the planned spare subnets `kubernetes.io/role/cni=1`.
 * `start` reads the subnets first (through the subnet provider) and changes nothing already as
 * wanted; it refuses, tagging nothing, a subnet that vanished, moved out of the planned VPC and AZ
 * or was tagged `0` since the plan; `follow` confirms a record left in progress. AWS errors come
 * back as a 'failed' outcome naming the operation, the code and the subnets. The whole contract:
 * docs/remediation.md, "The cni-subnets executor".
 */
import { AwsCallError, isRetryableError } from '../errors';
import { tagSubnetsForCni } from '../aws/subnet-tags';
import { Ec2SubnetProvider } from '../aws/subnets';
import { list } from '../diagnose/context';
import { CNI_ROLE_TAG_EXCLUDED, CNI_ROLE_TAG_KEY } from '../names';
import { cniSubnetsScope, tagValue } from '../plan/cni-subnets';
import type { ActionChange } from '../plan/types';
import type { ActionExecutor, ActionOutcome, ExecuteDeps } from './types';
import { intendWrite } from './write-intent';

/** The step a succeeded action ends at. */
export const TAGGED_STEP = 'tagged';

async function apply(
  actionId: string,
  subjectOrId: string,
  change: ActionChange,
  deps: ExecuteDeps,
  following: boolean,
): Promise<ActionOutcome> {
  const failed = (detail: string): ActionOutcome => ({ actionId, status: 'failed', detail });
  if (change.type !== 'tag-subnets') return failed(`not a tag-subnets change (${change.type}): nothing tagged`);
  const ids = [...new Set(change.subnetIds)];
  if (ids.length === 0) return failed('no subnet to tag: nothing tagged');
  const scope = cniSubnetsScope(subjectOrId);
  if (!scope) return failed(`cannot tell the VPC and AZ of ${subjectOrId}: nothing tagged`);
  const { key, value } = change.tag;
  const reference = ids.join(',');

  try {
    const subnets = deps.subnets ?? new Ec2SubnetProvider(deps.ec2);
    const found = new Map((await subnets.byId(ids)).map((s) => [s.SubnetId ?? '', s]));
    const problems: string[] = [];
    for (const id of ids) {
      const s = found.get(id);
      if (!s) {
        problems.push(`${id} no longer exists (DescribeSubnets does not find it)`);
      } else if (s.VpcId !== scope.vpcId || s.AvailabilityZone !== scope.availabilityZone) {
        problems.push(
          `${id} is in ${s.VpcId ?? '?'}/${s.AvailabilityZone ?? '?'}, not ${scope.vpcId}/${scope.availabilityZone} where the pods need room`,
        );
      } else if (key === CNI_ROLE_TAG_KEY && tagValue(s, key) === CNI_ROLE_TAG_EXCLUDED && value !== CNI_ROLE_TAG_EXCLUDED) {
        problems.push(`${id} has been tagged ${key}=${CNI_ROLE_TAG_EXCLUDED} (excluded on purpose) since the plan`);
      }
    }
    if (problems.length > 0) return failed(`${problems.join('; ')}: nothing tagged`);

    const already = ids.filter((id) => {
      const s = found.get(id);
      return s !== undefined && tagValue(s, key) === value;
    });
    const toTag = ids.filter((id) => !already.includes(id));
    if (toTag.length === 0) {
      return {
        actionId,
        status: 'succeeded',
        step: TAGGED_STEP,
        reference,
        detail: following
          ? `confirmed: ${list(ids)} tagged ${key}=${value}`
          : `already tagged ${key}=${value}: ${list(ids)}; nothing changed`,
      };
    }
    // CreateTags takes no token, and needs none: setting a tag twice is setting it once.
    await intendWrite(deps, { step: TAGGED_STEP, operation: 'ec2:CreateTags', target: toTag.join(',') }, '');
    await tagSubnetsForCni(deps.ec2, toTag, { key, value });
    const skipped = already.length > 0 ? ` (${list(already)} already tagged)` : '';
    return {
      actionId,
      status: 'succeeded',
      step: TAGGED_STEP,
      reference,
      detail: `${following ? 'tag still missing, set: ' : ''}tagged ${list(toTag)} ${key}=${value}${skipped}: new pod ENIs in ${scope.availabilityZone} may go there`,
    };
  } catch (err) {
    if (err instanceof AwsCallError) return { actionId, status: 'failed', retryable: isRetryableError(err), reference, detail: err.message };
    throw err;
  }
}

/** The executor of `cni-subnets` actions. */
export const cniSubnetsExecutor: ActionExecutor = {
  kind: 'cni-subnets',
  start: (action, deps) => apply(action.id, action.subject, action.change, deps, false),
  follow: (record, deps) => apply(record.actionId, record.actionId, record.change, deps, true),
};
