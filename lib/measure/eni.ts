/**
 * Who holds an ENI's addresses. Pure.
 *
 * The VPC CNI describes the ENIs it creates `aws-K8S-<instance-id>` and tags them
 * `node.k8s.amazonaws.com/instance_id` (amazon-vpc-cni-k8s pkg/awsutils/awsutils.go,
 * eniDescriptionPrefix and eniNodeTagKey). EKS describes its control-plane ENIs
 * `Amazon EKS <cluster-name>` (EKS user guide, "Amazon EKS networking": cross-account ENIs).
 */
import type { NetworkInterface } from '@aws-sdk/client-ec2';
import { IPV4_ADDRESSES_PER_PREFIX } from '../capacity/instance-type';

/**
 * Holders of subnet addresses, as published in the `Holder` metric dimension. `Reserved`: addresses
 * of subnet CIDR reservations no ENI holds, which AvailableIpAddressCount leaves out
 * (lib/measure/reservations.ts).
 */
export const HOLDERS = ['NodePrimary', 'CniSecondary', 'CniPrefix', 'ControlPlane', 'Other', 'Unaccounted', 'Reserved'] as const;
export type Holder = (typeof HOLDERS)[number];

/** Addresses in a delegated /28 IPv4 prefix. */
export const IPS_PER_PREFIX = IPV4_ADDRESSES_PER_PREFIX;

export const CNI_ENI_DESCRIPTION_PREFIX = 'aws-K8S-';
export const CONTROL_PLANE_DESCRIPTION_PREFIX = 'Amazon EKS ';
/** amazon-vpc-resource-controller-k8s pkg/provider/branch: branch ENIs are described `aws-k8s-branch-eni`. */
export const BRANCH_ENI_DESCRIPTION = 'aws-k8s-branch-eni';

/**
 * The VPC resource controller describes the trunk ENI of security groups for pods
 * `aws-k8s-trunk-eni` (EKS user guide, "Security groups for pods": "a special network interface
 * called a trunk network interface with the description aws-k8s-trunk-eni"; "The trunk network
 * interface is included in the maximum number of network interfaces supported by the instance type").
 */
export const TRUNK_ENI_DESCRIPTION = 'aws-k8s-trunk-eni';
/** amazon-vpc-cni-k8s pkg/ipamd/ipamd.go `eniNoManageTagKey`: an ENI ipamd must leave alone. */
export const NO_MANAGE_TAG_KEY = 'node.k8s.amazonaws.com/no_manage';

/**
 * What ipamd does with an ENI attached to a node (aws/amazon-vpc-cni-k8s at commit b52188387f2e):
 * - `trunk`: EC2 InterfaceType `trunk` (pkg/awsutils/awsutils.go `DescribeAllENIs`: `if
 *   interfaceType == "trunk" { trunkENI = eniID }`; the description `aws-k8s-trunk-eni` is taken
 *   too). ipamd counts it against the ENI limit but gives no addresses from it
 *   (pkg/ipamd/datastore/data_store.go `GetAllocatableENIs` skips `eni.IsTrunk`; pkg/ipamd/ipamd.go
 *   `hasRoomForEni` subtracts it).
 * - `efa-only`: InterfaceType `efa-only` (`DescribeAllENIs` records it per network card); ipamd
 *   skips it and counts it as unmanaged (ipamd.go `filterUnmanagedENIs`). It has no IP address.
 * - `unmanaged`: tagged `node.k8s.amazonaws.com/no_manage` = `true`, exactly (ipamd.go
 *   `setUnmanagedENIs`: `if tags[eniNoManageTagKey] != "true" { continue }`), except the primary ENI
 *   ("Ignoring primary ENI ... since it is always managed"). Skipped and counted as unmanaged by
 *   `filterUnmanagedENIs`.
 * - `ipamd`: every other ENI; ipamd manages its secondary IPs or prefixes.
 * (ENABLE_MANAGE_UNTAGGED_MODE=false, which makes untagged ENIs unmanaged, is not read.)
 */
export type NodeEniRole = 'ipamd' | 'trunk' | 'efa-only' | 'unmanaged';

export function nodeEniRole(eni: NetworkInterface): NodeEniRole {
  // EC2 answers InterfaceType as text; the SDK's enum may lack newer values such as efa-only.
  const type: string = eni.InterfaceType ?? 'interface';
  if (type === 'trunk' || (eni.Description ?? '') === TRUNK_ENI_DESCRIPTION) return 'trunk';
  if (type === 'efa-only') return 'efa-only';
  const primary = (eni.Attachment?.DeviceIndex ?? -1) === 0 && (eni.Attachment?.NetworkCardIndex ?? 0) === 0;
  if (!primary && eni.TagSet?.some((t) => t.Key === NO_MANAGE_TAG_KEY && t.Value === 'true')) return 'unmanaged';
  return 'ipamd';
}

/** What an ENI is, from its description, type and attachment. */
export type EniKind =
  /** Attached to a node of the cluster being measured, or created by the VPC CNI (any cluster). */
  | { kind: 'node'; instanceId: string; cni: boolean }
  /**
   * A branch ENI of security groups for pods (VPC resource controller, description
   * `aws-k8s-branch-eni`): its address is a pod's, though no node's ENI carries it.
   */
  | { kind: 'pod' }
  /** An EKS control-plane ENI; `cluster` is the cluster named in its description. */
  | { kind: 'control-plane'; cluster: string }
  /** Anything else: a label that says what it is, for the report. */
  | { kind: 'other'; label: string };

/**
 * Classifies an ENI. `isNode(instanceId)` answers whether an instance is a node of the
 * cluster being measured; ENIs attached to other instances are `other` unless the CNI created them.
 */
export function classifyEni(eni: NetworkInterface, isNode: (instanceId: string) => boolean): EniKind {
  const description = eni.Description ?? '';
  const attachedTo = eni.Attachment?.InstanceId;
  if (description.startsWith(CNI_ENI_DESCRIPTION_PREFIX)) {
    const fromTag = eni.TagSet?.find((t) => t.Key === 'node.k8s.amazonaws.com/instance_id')?.Value;
    return { kind: 'node', instanceId: attachedTo ?? fromTag ?? description.slice(CNI_ENI_DESCRIPTION_PREFIX.length), cni: true };
  }
  if (description.startsWith(BRANCH_ENI_DESCRIPTION)) return { kind: 'pod' };
  if (description.startsWith(CONTROL_PLANE_DESCRIPTION_PREFIX)) {
    return { kind: 'control-plane', cluster: description.slice(CONTROL_PLANE_DESCRIPTION_PREFIX.length).trim() };
  }
  if (attachedTo && isNode(attachedTo)) return { kind: 'node', instanceId: attachedTo, cni: false };
  return { kind: 'other', label: otherLabel(eni) };
}

/** A short label for an ENI that is not the cluster's: what kind of thing holds the addresses. */
export function otherLabel(eni: NetworkInterface): string {
  const description = eni.Description ?? '';
  // EC2 answers `nat_gateway` although the SDK's enum spells it `natGateway`: compare as text.
  const type: string = eni.InterfaceType ?? 'interface';
  if (type === 'nat_gateway' || type === 'natGateway' || description.startsWith('Interface for NAT Gateway')) return 'NAT gateway';
  if (description.startsWith('ELB ')) return 'load balancer';
  if (type === 'vpc_endpoint' || description.startsWith('VPC Endpoint Interface')) return 'VPC endpoint';
  if (type === 'lambda' || description.startsWith('AWS Lambda VPC ENI')) return 'Lambda';
  if (type !== 'interface') return type.replace(/_/g, ' ');
  if (eni.Attachment?.InstanceId) return 'EC2 instance (not a node of this cluster)';
  if (eni.RequesterManaged) return `AWS-managed (${eni.RequesterId ?? 'unknown requester'})`;
  return eni.Status === 'available' ? 'unattached ENI' : 'other ENI';
}

/** Addresses an ENI takes from its subnet: its private IPv4 addresses plus 16 per /28 prefix. */
export function eniAddressCount(eni: NetworkInterface): { primary: number; secondary: number; prefixes: number } {
  let primary = 0;
  let secondary = 0;
  for (const ip of eni.PrivateIpAddresses ?? []) {
    if (ip.Primary) primary++;
    else secondary++;
  }
  // An ENI always has a primary address even if the answer's list was trimmed.
  if (primary === 0 && eni.PrivateIpAddress) primary = 1;
  return { primary, secondary, prefixes: eni.Ipv4Prefixes?.length ?? 0 };
}
