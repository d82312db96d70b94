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

/** Holders of subnet addresses, as published in the `Holder` metric dimension. */
export const HOLDERS = ['NodePrimary', 'CniSecondary', 'CniPrefix', 'ControlPlane', 'Other', 'Unaccounted'] as const;
export type Holder = (typeof HOLDERS)[number];

/** Addresses in a delegated /28 IPv4 prefix. */
export const IPS_PER_PREFIX = IPV4_ADDRESSES_PER_PREFIX;

export const CNI_ENI_DESCRIPTION_PREFIX = 'aws-K8S-';
export const CONTROL_PLANE_DESCRIPTION_PREFIX = 'Amazon EKS ';
/** amazon-vpc-resource-controller-k8s pkg/provider/branch: branch ENIs are described `aws-k8s-branch-eni`. */
export const BRANCH_ENI_DESCRIPTION = 'aws-k8s-branch-eni';

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
