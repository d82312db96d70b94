/**
 * Which ENIs may have leaked: `available` ENIs the VPC CNI created (its description prefix and its
 * instance tag, as its own cleanup selects them), whose instance is not a running or pending node
 * of the cluster. The collector asks EC2 about those instances once; lib/measure/leaked-enis.ts
 * decides. Pure. Design: docs/leaked-enis.md.
 */
import { CNI_ENI_DESCRIPTION_PREFIX, CNI_ENI_INSTANCE_TAG_KEY } from '../names';
import type { Instance, NetworkInterface } from './types';

/**
 * The instance a CNI-created, unattached ENI was made for, or undefined when the ENI is not one.
 * The selection of the CNI's own cleanup (aws/amazon-vpc-cni-k8s@b52188387f2e pkg/awsutils/awsutils.go
 * `getLeakedENIs`: filters `tag-key` = node.k8s.amazonaws.com/instance_id and `status` = available,
 * then keeps the descriptions that start `aws-K8S-`).
 */
export function cniEniInstanceOf(eni: NetworkInterface): string | undefined {
  if (eni.Status !== 'available') return undefined;
  if (!(eni.Description ?? '').startsWith(CNI_ENI_DESCRIPTION_PREFIX)) return undefined;
  const id = eni.TagSet?.find((t) => t.Key === CNI_ENI_INSTANCE_TAG_KEY)?.Value;
  return id && id !== '' ? id : undefined;
}

/**
 * The instance ids to confirm with one DescribeInstances: those named by an available CNI ENI
 * and not among the cluster's running or pending nodes, sorted.
 */
export function eniInstanceIdsToConfirm(enis: readonly NetworkInterface[], nodes: readonly Instance[]): string[] {
  const live = new Set(nodes.map((i) => i.InstanceId ?? ''));
  const ids = new Set<string>();
  for (const eni of enis) {
    const id = cniEniInstanceOf(eni);
    if (id && !live.has(id)) ids.add(id);
  }
  return [...ids].sort();
}
