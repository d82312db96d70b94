/**
 * EKS managed nodegroup writes for the instance-types action: describe, create the replacement,
 * scale, and follow an update. The only code of that action that calls `.send()`. Every failure
 * is rethrown as an `AwsCallError` naming the operation, the cluster and the nodegroup
 * (ResourceInUseException, InvalidParameterException, AccessDeniedException,
 * ResourceLimitExceededException, ...).
 */
import {
  CreateNodegroupCommand,
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  UpdateNodegroupConfigCommand,
  type CreateNodegroupCommandInput,
  type EKSClient,
  type Nodegroup,
  type Update,
} from '@aws-sdk/client-eks';
import { clientRequestTokenFor } from '../keys';
import { REPLACES_TAG_KEY } from '../names';
import type { NodegroupReplacementChange } from '../plan/types';
import { isReservedTagKey } from '../policy/types';
import { awsErrorCode, withAwsCall } from '../errors';

function call<T>(operation: string, cluster: string, nodegroup: string, fn: () => Promise<T>): Promise<T> {
  return withAwsCall(operation, `for nodegroup ${nodegroup} of cluster ${cluster}`, fn);
}

/** DescribeNodegroup; `undefined` when the nodegroup does not exist (ResourceNotFoundException). */
export async function describeNodegroup(eks: EKSClient, cluster: string, nodegroup: string): Promise<Nodegroup | undefined> {
  return call('eks:DescribeNodegroup', cluster, nodegroup, async () => {
    try {
      const out = await eks.send(new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: nodegroup }));
      if (!out.nodegroup) throw new Error('the answer has no nodegroup');
      return out.nodegroup;
    } catch (err) {
      if (awsErrorCode(err) === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  });
}

/** Options of {@link replacementNodegroupInput}. */
export interface ReplacementOptions {
  /** The action id: the clientRequestToken is derived from it unless one is given. */
  actionId: string;
  /** The idempotency token to send (the act loop's, recorded with the write's intent). */
  clientRequestToken?: string;
  /**
   * The cluster's Kubernetes version. Sent as `version` unless the launch template sets the AMI;
   * when absent EKS uses the cluster's version anyway ([create] version: "By default, the
   * Kubernetes version of the cluster is used, and this is the only accepted specified value").
   */
  clusterVersion?: string;
  /** Scaling to create with; defaults to `change.scaling`. */
  scaling?: { minSize: number; maxSize: number; desiredSize: number };
}

/**
 * The CreateNodegroup request for the replacement: the old nodegroup's DescribeNodegroup copied,
 * with the new name, instance types and scaling, and the tag `eks-ip-responder/replaces` ({@link REPLACES_TAG_KEY}).
 *
 * Copied: subnets, nodeRole, labels, taints, tags, capacityType, updateConfig, nodeRepairConfig,
 * warmPoolConfig, launchTemplate. Depending on the launch template ([create]):
 * - launchTemplate: the id (or, without an id, the name) and the version. "You must specify either
 *   the launch template ID or the launch template name in the request, but not both" [lt-spec];
 *   DescribeNodegroup returns both.
 * - amiType: copied, except `CUSTOM` (what DescribeNodegroup reports for "a launch template with a
 *   custom AMI" [nodegroup]): "If you specify launchTemplate, and your launch template uses a custom
 *   AMI, then don't specify amiType, or the node group deployment will fail." Omitting it with a
 *   launch template that does not set the AMI would fall back to the default type, so it is kept.
 * - version: the cluster's when known, omitted for a custom AMI ("don't specify version").
 * - releaseVersion: omitted, so the latest AMI release for the version is used ("By default, the
 *   latest available AMI version for the node group's current Kubernetes version is used").
 * - diskSize and remoteAccess: only without a launch template ("When using this object, don't
 *   directly specify instanceTypes, diskSize, or remoteAccess" — for instanceTypes, [create] allows
 *   them as long as the template itself has no instance type, which the planner checks).
 *
 * Sources:
 * - [create] EKS API reference, CreateNodegroup,
 *   https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html (the same text is
 *   in the SDK's CreateNodegroupRequest documentation, @aws-sdk/client-eks models_0.d.ts).
 * - [nodegroup] EKS API reference, Nodegroup,
 *   https://docs.aws.amazon.com/eks/latest/APIReference/API_Nodegroup.html
 * - [lt-spec] LaunchTemplateSpecification,
 *   https://docs.aws.amazon.com/eks/latest/APIReference/API_LaunchTemplateSpecification.html
 *
 * @throws Error when the old nodegroup lacks subnets or nodeRole (both required by CreateNodegroup).
 */
export function replacementNodegroupInput(
  cluster: string,
  old: Nodegroup,
  change: NodegroupReplacementChange,
  opts: ReplacementOptions,
): CreateNodegroupCommandInput {
  const oldName = old.nodegroupName ?? change.nodegroup;
  if (!old.subnets || old.subnets.length === 0) throw new Error(`nodegroup ${oldName} of cluster ${cluster} has no subnets`);
  if (!old.nodeRole) throw new Error(`nodegroup ${oldName} of cluster ${cluster} has no nodeRole`);
  const lt = old.launchTemplate;
  const customAmi = old.amiType === 'CUSTOM';
  const scaling = opts.scaling ?? change.scaling;
  const input: CreateNodegroupCommandInput = {
    clusterName: cluster,
    nodegroupName: change.newNodegroup,
    scalingConfig: { minSize: scaling.minSize, maxSize: scaling.maxSize, desiredSize: scaling.desiredSize },
    subnets: [...old.subnets],
    instanceTypes: [...change.toInstanceTypes],
    nodeRole: old.nodeRole,
    // The old nodegroup's tags but the reserved ones (EKS refuses `aws:` keys; the opt-in key is
    // denied to the responder): copying them would make every replacement fail.
    tags: { ...Object.fromEntries(Object.entries(old.tags ?? {}).filter(([k]) => !isReservedTagKey(k))), [REPLACES_TAG_KEY]: oldName },
    clientRequestToken: opts.clientRequestToken ?? clientRequestTokenFor(opts.actionId, 'create'),
  };
  if (old.labels && Object.keys(old.labels).length > 0) input.labels = { ...old.labels };
  if (old.taints && old.taints.length > 0) input.taints = old.taints.map((t) => ({ ...t }));
  if (old.capacityType) input.capacityType = old.capacityType;
  if (old.updateConfig) input.updateConfig = { ...old.updateConfig };
  if (old.nodeRepairConfig) input.nodeRepairConfig = structuredClone(old.nodeRepairConfig);
  if (old.warmPoolConfig) input.warmPoolConfig = { ...old.warmPoolConfig };
  if (old.amiType && !customAmi) input.amiType = old.amiType;
  if (opts.clusterVersion && !customAmi) input.version = opts.clusterVersion;
  if (lt) {
    input.launchTemplate = {
      ...(lt.id ? { id: lt.id } : { name: lt.name }),
      ...(lt.version ? { version: lt.version } : {}),
    };
  } else {
    if (old.diskSize != null) input.diskSize = old.diskSize;
    if (old.remoteAccess) {
      input.remoteAccess = {
        ...(old.remoteAccess.ec2SshKey ? { ec2SshKey: old.remoteAccess.ec2SshKey } : {}),
        ...(old.remoteAccess.sourceSecurityGroups ? { sourceSecurityGroups: [...old.remoteAccess.sourceSecurityGroups] } : {}),
      };
    }
  }
  return input;
}

/** CreateNodegroup for the replacement (see {@link replacementNodegroupInput}); returns the new nodegroup. */
export async function createReplacementNodegroup(
  eks: EKSClient,
  cluster: string,
  old: Nodegroup,
  change: NodegroupReplacementChange,
  opts: ReplacementOptions,
): Promise<Nodegroup> {
  const input = replacementNodegroupInput(cluster, old, change, opts);
  return call('eks:CreateNodegroup', cluster, change.newNodegroup, async () => {
    const out = await eks.send(new CreateNodegroupCommand(input));
    if (!out.nodegroup) throw new Error('the answer has no nodegroup');
    return out.nodegroup;
  });
}

/**
 * UpdateNodegroupConfig with a new scaling configuration; returns the update id for DescribeUpdate.
 * A desiredSize below the running count terminates nodes [scaling]; maxSize must stay ≥ 1 (the API's
 * minimum for maxSize), minSize and desiredSize may be 0.
 *
 * Sources:
 * - [scaling] NodegroupScalingConfig,
 *   https://docs.aws.amazon.com/eks/latest/APIReference/API_NodegroupScalingConfig.html
 * - [update-config] UpdateNodegroupConfig,
 *   https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateNodegroupConfig.html
 */
export async function scaleNodegroupTo(
  eks: EKSClient,
  cluster: string,
  nodegroup: string,
  scaling: { minSize: number; desiredSize: number; maxSize: number },
  opts: { clientRequestToken?: string } = {},
): Promise<string> {
  return call('eks:UpdateNodegroupConfig', cluster, nodegroup, async () => {
    const out = await eks.send(
      new UpdateNodegroupConfigCommand({
        clusterName: cluster,
        nodegroupName: nodegroup,
        scalingConfig: { minSize: scaling.minSize, desiredSize: scaling.desiredSize, maxSize: scaling.maxSize },
        ...(opts.clientRequestToken ? { clientRequestToken: opts.clientRequestToken } : {}),
      }),
    );
    const id = out.update?.id;
    if (!id) throw new Error('the answer has no update id');
    return id;
  });
}

/** DescribeUpdate of a nodegroup update (status InProgress | Failed | Cancelled | Successful, errors). */
export async function describeUpdate(eks: EKSClient, cluster: string, nodegroup: string, updateId: string): Promise<Update> {
  return call('eks:DescribeUpdate', cluster, nodegroup, async () => {
    const out = await eks.send(new DescribeUpdateCommand({ name: cluster, nodegroupName: nodegroup, updateId }));
    if (!out.update) throw new Error(`the answer has no update ${updateId}`);
    return out.update;
  });
}
