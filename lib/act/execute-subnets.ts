/**
 * Applies a `cni-subnets` action: tags the planned spare subnets `kubernetes.io/role/cni=1`, then
 * (steering) removes this cluster's cluster tag from shared subnets. It reads the subnets first and
 * changes nothing already as wanted; it refuses a subnet that vanished, moved or was tagged `0`
 * since the plan. After a DeleteTags it reads the subnets again and puts the key back, failing, on
 * one left with no cluster tag (another cluster steered away at once). AWS errors come back as a
 * 'failed' outcome naming the operation. Contract: docs/remediation.md, "The cni-subnets executor".
 */
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { AwsCallError, isRetryableError, withAwsCall } from '../errors';
import { tagSubnetsForCni, untagSubnets } from '../aws/subnet-tags';
import { Ec2SubnetProvider } from '../aws/subnets';
import { list } from '../diagnose/context';
import { CLUSTER_TAG_PREFIX, CNI_CLUSTER_TAG_PREFIX, CNI_ROLE_TAG_EXCLUDED, CNI_ROLE_TAG_KEY, EKS_CLUSTER_NAME_TAG_KEY } from '../names';
import { cniSubnetsScope, tagValue } from '../plan/cni-subnets';
import type { ActionChange } from '../plan/types';
import type { Subnet } from '../inventory/types';
import type { ActionExecutor, ActionOutcome, ExecuteDeps } from './types';
import { intendWrite } from './write-intent';

/** The step a succeeded action ends at. */
export const TAGGED_STEP = 'tagged';
/** The step of a steering action's exclusions (after the spare subnets are tagged). */
export const EXCLUDED_STEP = 'excluded';

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
  const exclude = change.exclude ?? [];
  if (ids.length === 0 && exclude.length === 0) return failed('no subnet to tag: nothing tagged');
  const scope = cniSubnetsScope(subjectOrId);
  if (!scope) return failed(`cannot tell the VPC and AZ of ${subjectOrId}: nothing tagged`);
  const { key, value } = change.tag;
  const reference = ids.join(',');

  try {
    const subnets = deps.subnets ?? new Ec2SubnetProvider(deps.ec2);
    const found = new Map((await subnets.byId([...ids, ...exclude.map((e) => e.subnetId)])).map((s) => [s.SubnetId ?? '', s]));
    // Following a record: a subnet it steered from that names no cluster now was left open (a crash
    // before the put-back below): put this cluster's key back first.
    const leftOpen = following ? exclude.filter((e) => isOpen(found.get(e.subnetId))) : [];
    if (leftOpen.length > 0) return await putBack(actionId, leftOpen, deps, reference);
    const problems: string[] = exclusionProblems(exclude, found, scope);
    if (problems.length === 0) problems.push(...(await nodeSubnets(deps, exclude.filter((e) => tagValue(found.get(e.subnetId) ?? {}, e.key) !== undefined))));
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
    // Steering: after the spare subnets, so that the AZ has them before it loses the shared one.
    const toUntag = exclude.filter((e) => {
      const s = found.get(e.subnetId);
      return s !== undefined && tagValue(s, e.key) !== undefined;
    });
    if (exclude.length > 0) {
      if (toTag.length > 0) {
        await intendWrite(deps, { step: TAGGED_STEP, operation: 'ec2:CreateTags', target: toTag.join(',') }, '');
        await tagSubnetsForCni(deps.ec2, toTag, { key, value });
      }
      // One DeleteTags per key; every key is this cluster's (the planner sets one), so one call.
      for (const k of [...new Set(toUntag.map((e) => e.key))]) {
        const batch = toUntag.filter((e) => e.key === k).map((e) => e.subnetId);
        await intendWrite(deps, { step: EXCLUDED_STEP, operation: 'ec2:DeleteTags', target: batch.join(',') }, '');
        await untagSubnets(deps.ec2, batch, k);
      }
      // The read above does not serialize with another cluster steering away from the same subnet
      // at once: read again, and put this cluster's key back where no cluster tag is left.
      if (toUntag.length > 0) {
        const after = new Map((await new Ec2SubnetProvider(deps.ec2).byId(toUntag.map((e) => e.subnetId))).map((s) => [s.SubnetId ?? '', s]));
        const open = toUntag.filter((e) => isOpen(after.get(e.subnetId)));
        if (open.length > 0) return await putBack(actionId, open, deps, reference);
      }
      const set = toTag.length > 0 ? `tagged ${list(toTag)} ${key}=${value}; ` : ids.length > 0 ? `${list(ids)} already tagged ${key}=${value}; ` : '';
      const removed =
        toUntag.length > 0
          ? `removed ${toUntag.map((e) => `${e.key}=${e.value} from ${e.subnetId}`).join(', ')} (to undo: CreateTags with the same key and value)`
          : `${list(exclude.map((e) => e.subnetId))} already without ${list([...new Set(exclude.map((e) => e.key))])}`;
      return {
        actionId,
        status: 'succeeded',
        step: EXCLUDED_STEP,
        reference: [...ids, ...exclude.map((e) => e.subnetId)].join(','),
        detail: `${following && (toTag.length > 0 || toUntag.length > 0) ? 'finished: ' : ''}${set}${removed}: new pod ENIs in ${scope.availabilityZone} go elsewhere`,
      };
    }
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

/**
 * The planner never steers from a node subnet of the cluster; a stale record may: one read per
 * cluster tag of its nodes (kubernetes.io/cluster/<name>, and eks:eks-cluster-name as Auto Mode's)
 * of pending or running instances in the subnets to steer from. Any instance found is a problem.
 */
async function nodeSubnets(deps: ExecuteDeps, exclude: readonly { subnetId: string; key: string }[]): Promise<string[]> {
  const problems: string[] = [];
  for (const k of [...new Set(exclude.map((e) => e.key))]) {
    const cluster = k.slice(CNI_CLUSTER_TAG_PREFIX.length);
    const subnetIds = [...new Set(exclude.filter((e) => e.key === k).map((e) => e.subnetId))];
    const common = [{ Name: 'subnet-id', Values: subnetIds }, { Name: 'instance-state-name', Values: ['pending', 'running'] }];
    for (const tag of [{ Name: 'tag-key', Values: [`${CLUSTER_TAG_PREFIX}${cluster}`] }, { Name: `tag:${EKS_CLUSTER_NAME_TAG_KEY}`, Values: [cluster] }]) {
      const page = await withAwsCall('ec2:DescribeInstances', `nodes of ${cluster} in ${subnetIds.join(', ')}`, () =>
        deps.ec2.send(new DescribeInstancesCommand({ Filters: [tag, ...common] })),
      );
      const nodes = (page.Reservations ?? []).flatMap((r) => r.Instances ?? []);
      for (const id of subnetIds.filter((s) => nodes.some((i) => i.SubnetId === s))) {
        const ids = nodes.filter((i) => i.SubnetId === id).map((i) => i.InstanceId ?? '?');
        if (!problems.some((p) => p.startsWith(`${id} `))) problems.push(`${id} is a node subnet of ${cluster} now (${list(ids)}): steering never removes a node subnet's tag`);
      }
    }
  }
  return problems;
}

/** A subnet found that has no cni.networking.k8s.aws/cluster/ tag: open to every cluster. */
function isOpen(s: Subnet | undefined): boolean {
  return s !== undefined && !(s.Tags ?? []).some((t) => (t.Key ?? '').startsWith(CNI_CLUSTER_TAG_PREFIX));
}

/** Puts this cluster's key back (with its recorded value) on subnets left with no cluster tag; the action fails. */
async function putBack(actionId: string, open: readonly { subnetId: string; key: string; value: string }[], deps: ExecuteDeps, reference: string): Promise<ActionOutcome> {
  for (const e of open) {
    await intendWrite(deps, { step: EXCLUDED_STEP, operation: 'ec2:CreateTags', target: e.subnetId }, '');
    await tagSubnetsForCni(deps.ec2, [e.subnetId], { key: e.key, value: e.value });
  }
  return {
    actionId,
    status: 'failed',
    reference,
    detail: `${open.map((e) => `${e.subnetId} named no cluster after ${e.key} was removed (another cluster steered away from it at the same time), which opens it to every cluster: put ${e.key}=${e.value} back`).join('; ')}; not steered`,
  };
}

/**
 * Why an exclusion may not be made now: the subnet vanished or moved, its key is not a cluster tag,
 * or removing it would leave the subnet with no cluster tag, which opens it to every cluster
 * (aws/amazon-vpc-cni-k8s pkg/awsutils/awsutils.go `ValidSubnetTagsMatchingClusterName`).
 */
function exclusionProblems(
  exclude: readonly { subnetId: string; key: string }[],
  found: ReadonlyMap<string, Subnet>,
  scope: { vpcId: string; availabilityZone: string },
): string[] {
  const problems: string[] = [];
  for (const e of exclude) {
    const s = found.get(e.subnetId);
    if (!e.key.startsWith(CNI_CLUSTER_TAG_PREFIX)) {
      problems.push(`${e.key} is not a ${CNI_CLUSTER_TAG_PREFIX}<name> tag`);
    } else if (!s) {
      problems.push(`${e.subnetId} no longer exists (DescribeSubnets does not find it)`);
    } else if (s.VpcId !== scope.vpcId || s.AvailabilityZone !== scope.availabilityZone) {
      problems.push(`${e.subnetId} is in ${s.VpcId ?? '?'}/${s.AvailabilityZone ?? '?'}, not ${scope.vpcId}/${scope.availabilityZone}`);
    } else if (!(s.Tags ?? []).some((t) => (t.Key ?? '').startsWith(CNI_CLUSTER_TAG_PREFIX) && t.Key !== e.key)) {
      problems.push(`${e.subnetId} names no other cluster than ${e.key.slice(CNI_CLUSTER_TAG_PREFIX.length)} now: removing ${e.key} would open it to every cluster`);
    }
  }
  return problems;
}

/** The executor of `cni-subnets` actions. */
export const cniSubnetsExecutor: ActionExecutor = {
  kind: 'cni-subnets',
  start: (action, deps) => apply(action.id, action.subject, action.change, deps, false),
  follow: (record, deps) => apply(record.actionId, record.actionId, record.change, deps, true),
};
