/**
 * A shared subnet's used addresses by cluster, so that each of several clusters in one subnet sees
 * its own share and its trend. Pure. Design: docs/shared-subnets.md.
 */
import type { Instance, NetworkInterface } from '../inventory/types';
import { CLUSTER_TAG_PREFIX, CNI_ENI_CLUSTER_TAG_KEY, CNI_ENI_INSTANCE_TAG_KEY } from '../names';
import { CONTROL_PLANE_DESCRIPTION_PREFIX, eniAddressCount, IPS_PER_PREFIX } from './eni';
import type { SubnetClusterShare } from './types';

/**
 * The cluster of each instance of the sample: every collected cluster's nodes (DescribeInstances by
 * the tag `kubernetes.io/cluster/<name>`). An instance listed by two clusters is the first's.
 */
export function clusterOfInstances(clusters: readonly { name: string; instances: readonly Instance[] }[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of clusters) for (const i of c.instances) if (i.InstanceId && !out.has(i.InstanceId)) out.set(i.InstanceId, c.name);
  return out;
}

/**
 * The cluster an ENI's addresses serve, or undefined for none known:
 * 1. `Amazon EKS <cluster>`: a control-plane ENI, by the description EKS gives it (cited in
 *    lib/measure/eni.ts);
 * 2. the CNI's tag `cluster.k8s.amazonaws.com/name` (aws/amazon-vpc-cni-k8s@b52188387f2e
 *    pkg/awsutils/awsutils.go `buildENITags`, set when CLUSTER_NAME is, as EKS's add-on sets it);
 * 3. the instance it is attached to, or the CNI's tag `node.k8s.amazonaws.com/instance_id`, being a
 *    node of a collected cluster (`ownNodes` are this cluster's; `clusterOfInstance` all clusters');
 * 4. the ENI's own tag `kubernetes.io/cluster/<name>`, when it has exactly one (a launch template's
 *    TagSpecifications may tag the network interfaces of the instances it launches: EC2 API
 *    reference, LaunchTemplateTagSpecificationRequest, ResourceType `network-interface`).
 */
export function clusterOfEni(
  eni: NetworkInterface,
  self: string,
  ownNodes: ReadonlySet<string>,
  clusterOfInstance: ReadonlyMap<string, string>,
): string | undefined {
  const description = eni.Description ?? '';
  if (description.startsWith(CONTROL_PLANE_DESCRIPTION_PREFIX)) {
    const name = description.slice(CONTROL_PLANE_DESCRIPTION_PREFIX.length).trim();
    if (name !== '') return name;
  }
  const tag = eni.TagSet?.find((t) => t.Key === CNI_ENI_CLUSTER_TAG_KEY)?.Value;
  if (tag) return tag;
  for (const id of [eni.Attachment?.InstanceId, eni.TagSet?.find((t) => t.Key === CNI_ENI_INSTANCE_TAG_KEY)?.Value]) {
    if (!id) continue;
    if (ownNodes.has(id)) return self;
    const other = clusterOfInstance.get(id);
    if (other) return other;
  }
  const keys = (eni.TagSet ?? []).map((t) => t.Key ?? '').filter((k) => k.startsWith(CLUSTER_TAG_PREFIX));
  if (keys.length === 1) return (keys[0] as string).slice(CLUSTER_TAG_PREFIX.length) || undefined;
  return undefined;
}

/** Accumulates one subnet's addresses by cluster. */
export class ClusterShareAccumulator {
  private own = 0;
  private ownEnis = 0;
  private readonly others = new Map<string, { ips: number; enis: number }>();

  constructor(private readonly self: string) {}

  add(cluster: string | undefined, eni: NetworkInterface): void {
    if (cluster === undefined) return;
    const { primary, secondary, prefixes } = eniAddressCount(eni);
    const ips = primary + secondary + prefixes * IPS_PER_PREFIX;
    if (cluster === this.self) {
      this.own += ips;
      this.ownEnis++;
      return;
    }
    const o = this.others.get(cluster) ?? { ips: 0, enis: 0 };
    o.ips += ips;
    o.enis++;
    this.others.set(cluster, o);
  }

  /** The share of a subnet with `used` addresses (usable − AvailableIpAddressCount). */
  share(used: number): SubnetClusterShare {
    const others = [...this.others.entries()]
      .map(([cluster, v]) => ({ cluster, ...v }))
      .sort((a, b) => b.ips - a.ips || a.cluster.localeCompare(b.cluster));
    const attributed = this.own + others.reduce((sum, o) => sum + o.ips, 0);
    return { own: this.own, ownEnis: this.ownEnis, others, unattributed: Math.max(0, used - attributed) };
  }
}
