/**
 * The managed `vpc-cni` add-on: read its configuration, change env keys of it, follow the update.
 * The only code that calls EKS's add-on API (`.send()`): the collector's DescribeAddon
 * (lib/aws/live-source.ts) goes through {@link describeVpcCniAddon} too. lib/act/execute-addon.ts
 * decides, this file acts. Sources are cited where they are used, as [tag].
 */
import {
  DescribeAddonCommand,
  DescribeUpdateCommand,
  UpdateAddonCommand,
  type Addon,
  type DescribeAddonCommandOutput,
  type EKSClient,
  type Update,
} from '@aws-sdk/client-eks';
import { AwsCallError, awsErrorCode, messageOf } from '../errors';
import { AddonConfigurationError, mergeConfigurationValues, parseConfigurationValues } from '../inventory/configuration-values';

export const VPC_CNI_ADDON_NAME = 'vpc-cni';

/** The add-on as DescribeAddon answers it, with its configurationValues parsed (`{}` when unset). */
export interface VpcCniAddon {
  addon: Addon;
  configurationValues: Record<string, unknown>;
}

/** An add-on update as DescribeUpdate answers it, in the core's terms. */
export interface AddonUpdateStatus {
  updateId: string;
  status: 'InProgress' | 'Failed' | 'Cancelled' | 'Successful';
  /** EKS's errors of a Failed update: `errorCode: errorMessage`, as EKS words them. */
  errors: { code?: string; message?: string; resourceIds?: string[] }[];
}

/** Runs `fn` and rethrows any AWS failure as an AwsCallError naming the operation and its subject (the add-on and cluster). */
async function call<T>(operation: string, subject: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AwsCallError || err instanceof AddonConfigurationError) throw err;
    const code = awsErrorCode(err);
    const meaning =
      code === 'ResourceInUseException'
        ? ' (another update of the add-on is in flight)'
        : code === 'InvalidParameterException'
          ? ' (EKS refused the request, e.g. the configuration document)'
          : '';
    throw new AwsCallError(
      operation,
      code,
      `${operation} ${subject}: ${code ? `${code}${meaning}: ` : ''}${messageOf(err)}`,
      { cause: err },
    );
  }
}

/**
 * DescribeAddon `vpc-cni`, the one place it is sent: EKS's answer, or undefined when the cluster
 * has no such add-on. Without the managed add-on, aws-node is self-managed: DescribeAddon answers
 * ResourceNotFoundException (EKS API reference, DescribeAddon errors). Any other failure is thrown
 * as the SDK's: the caller names it.
 */
export async function describeVpcCniAddon(eks: EKSClient, cluster: string, abortSignal?: AbortSignal): Promise<DescribeAddonCommandOutput | undefined> {
  try {
    return await eks.send(new DescribeAddonCommand({ clusterName: cluster, addonName: VPC_CNI_ADDON_NAME }), ...(abortSignal ? [{ abortSignal }] : []));
  } catch (err) {
    if (awsErrorCode(err) === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

/**
 * DescribeAddon `vpc-cni`: the add-on and its parsed configurationValues; undefined when the
 * cluster has no such add-on (ResourceNotFoundException: aws-node is self-managed).
 * @throws AwsCallError naming eks:DescribeAddon and the cluster; AddonConfigurationError for a document that cannot be read.
 */
export async function readVpcCniAddon(eks: EKSClient, cluster: string): Promise<VpcCniAddon | undefined> {
  const addon = await call('eks:DescribeAddon', `vpc-cni for cluster ${cluster}`, async () => {
    const out = await describeVpcCniAddon(eks, cluster);
    if (out === undefined) return undefined;
    if (!out.addon) throw new Error('the answer has no addon');
    return out.addon;
  });
  if (!addon) return undefined;
  return { addon, configurationValues: parseConfigurationValues(addon.configurationValues, cluster) };
}

export interface UpdateVpcCniEnvOptions {
  /** The add-on as just read (saves a DescribeAddon); read here when absent. */
  current?: VpcCniAddon;
  /** UpdateAddon's idempotency token. */
  clientRequestToken?: string;
}

/** What UpdateAddon started. */
export interface AddonUpdateStarted {
  updateId: string;
  status: AddonUpdateStatus['status'];
  /** The whole document sent as configurationValues. */
  configurationValues: Record<string, unknown>;
}

/**
 * Sets env keys of the vpc-cni add-on: reads the current document, merges (see
 * {@link mergeConfigurationValues}) and sends the WHOLE merged document as JSON (an update
 * replaces the document), with `resolveConflicts: 'PRESERVE'` (keep fields changed on the cluster
 * rather than overwrite them with EKS defaults [update-addon]), the add-on version unchanged and
 * its service account role kept [irsa-kept].
 *
 * Sources:
 * - [update-addon] EKS API reference, UpdateAddon,
 *   https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateAddon.html: `configurationValues`
 *   is validated against DescribeAddonConfiguration's schema (JSON or YAML); `resolveConflicts`
 *   "Preserve – Amazon EKS preserves the value" (None: "doesn't change the value. The update might
 *   fail"; Overwrite: "overwrites the changed value back to the Amazon EKS default value"); errors
 *   ResourceInUseException, InvalidParameterException, InvalidRequestException, ...
 * - [irsa-kept] hashicorp/terraform-provider-aws#19402 / #19403: an UpdateAddon without
 *   `serviceAccountRoleArn` moves the add-on to the node IAM role, so the current role is sent back.
 * - DESIGN.md: "an update replaces the document, so read, merge and write it whole".
 * @throws AwsCallError naming eks:UpdateAddon and the cluster (ResourceInUseException: another update is in flight;
 *   InvalidParameterException: the document was refused, with EKS's message); AddonConfigurationError.
 */
export async function updateVpcCniEnv(
  eks: EKSClient,
  cluster: string,
  set: Record<string, string>,
  opts: UpdateVpcCniEnvOptions = {},
): Promise<AddonUpdateStarted> {
  const current = opts.current ?? (await readVpcCniAddon(eks, cluster));
  if (!current) {
    throw new AwsCallError(
      'eks:DescribeAddon',
      'ResourceNotFoundException',
      `eks:DescribeAddon vpc-cni for cluster ${cluster}: ResourceNotFoundException: no managed vpc-cni add-on (aws-node is self-managed)`,
    );
  }
  const configurationValues = mergeConfigurationValues(current.configurationValues, set);
  const update = await call('eks:UpdateAddon', `vpc-cni for cluster ${cluster}`, async () => {
    const out = await eks.send(
      new UpdateAddonCommand({
        clusterName: cluster,
        addonName: VPC_CNI_ADDON_NAME,
        ...(current.addon.addonVersion ? { addonVersion: current.addon.addonVersion } : {}),
        ...(current.addon.serviceAccountRoleArn ? { serviceAccountRoleArn: current.addon.serviceAccountRoleArn } : {}),
        resolveConflicts: 'PRESERVE',
        configurationValues: JSON.stringify(configurationValues),
        ...(opts.clientRequestToken ? { clientRequestToken: opts.clientRequestToken } : {}),
      }),
    );
    if (!out.update?.id) throw new Error('the answer has no update id');
    return out.update;
  });
  return { updateId: update.id ?? '', status: statusOf(update), configurationValues };
}

/**
 * DescribeUpdate of an add-on update: its status and EKS's errors.
 *
 * Source: [describe-update] EKS API reference, DescribeUpdate,
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeUpdate.html: `addonName` for an
 * add-on's update; Update.status InProgress | Failed | Cancelled | Successful, `errors` for a
 * Failed update.
 * @throws AwsCallError naming eks:DescribeUpdate, the update and the cluster.
 */
export async function describeUpdate(
  eks: EKSClient,
  cluster: string,
  updateId: string,
  addonName: string = VPC_CNI_ADDON_NAME,
): Promise<AddonUpdateStatus> {
  const update = await call('eks:DescribeUpdate', `update ${updateId} of ${addonName} for cluster ${cluster}`, async () => {
    const out = await eks.send(new DescribeUpdateCommand({ name: cluster, updateId, addonName }));
    if (!out.update) throw new Error('the answer has no update');
    return out.update;
  });
  return {
    updateId: update.id ?? updateId,
    status: statusOf(update),
    errors: (update.errors ?? []).map((e) => ({
      ...(e.errorCode ? { code: e.errorCode } : {}),
      ...(e.errorMessage ? { message: e.errorMessage } : {}),
      ...(e.resourceIds && e.resourceIds.length > 0 ? { resourceIds: [...e.resourceIds] } : {}),
    })),
  };
}

function statusOf(update: Update): AddonUpdateStatus['status'] {
  switch (update.status) {
    case 'InProgress':
    case 'Failed':
    case 'Cancelled':
    case 'Successful':
      return update.status;
    default:
      // An unknown status is not a success: follow it again later.
      return 'InProgress';
  }
}
