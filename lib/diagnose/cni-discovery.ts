/**
 * cni-discovery: the VPC CNI's subnet selection (lib/measure/cni-discovery.ts) works against the
 * cluster: an AZ with nodes where it can create no pod ENI at all; a subnet tagged
 * `kubernetes.io/role/cni=0` that the CNI's version reads as an opt-in; subnets reserved to other
 * clusters that this one uses because aws-node runs without CLUSTER_NAME (as far as known).
 * Design: docs/remediation.md#libmeasurecni-discoveryts-which-subnets-the-cni-uses
 */
import { CNI_CLUSTER_TAG_PREFIX, CNI_ROLE_TAG_EXCLUDED, CNI_ROLE_TAG_KEY, CNI_ROLE_TAG_VALUE } from '../names';
import { finding, list, n, type ClusterContext } from './context';
import type { Finding } from './types';

export function diagnoseCniDiscovery(ctx: ClusterContext): Finding[] {
  const { usage } = ctx;
  const d = usage.cniDiscovery;
  if (!d || (d.mode !== 'discovery' && d.mode !== 'primary-only')) return [];
  const out: Finding[] = [];
  const version = d.addonVersion ?? '?';

  // No subnet at all in an AZ with nodes: ipamd answers "no valid subnets available for ENI
  // creation" (aws/amazon-vpc-cni-k8s pkg/awsutils/awsutils.go createENI, v1.22.0+).
  for (const z of d.byAz) {
    if (z.order.length > 0) continue;
    const here = d.subnets.filter((s) => s.availabilityZone === z.availabilityZone);
    const primaries = here.filter((s) => s.primary);
    out.push(
      finding(ctx, {
        kind: 'cni-discovery',
        severity: 'critical',
        subject: { type: 'availability-zone', id: z.availabilityZone, availabilityZone: z.availabilityZone },
        title: `No subnet for new pod ENIs of ${usage.name} in ${z.availabilityZone}: vpc-cni ${version} excludes every one`,
        evidence: { availabilityZone: z.availabilityZone, subnets: here.length, nodeSubnets: primaries.map((s) => s.subnetId).join(',') },
        evidenceText: [`${d.why}.`, ...here.map((s) => `${s.subnetId}: ${s.reason}.`)],
        fixes: [
          `Remove ${CNI_ROLE_TAG_KEY}=${CNI_ROLE_TAG_EXCLUDED} from a node subnet (${list(primaries.map((s) => s.subnetId))}) if it was not meant to keep every pod out: aws ec2 delete-tags --resources <subnet> --tags Key=${CNI_ROLE_TAG_KEY}`,
          `Or tag a subnet of ${z.availabilityZone} with room ${CNI_ROLE_TAG_KEY}=${CNI_ROLE_TAG_VALUE} (and, if it names clusters, ${CNI_CLUSTER_TAG_PREFIX}${usage.name}); the cni-subnets action does it for allow-listed spare subnets.`,
        ],
      }),
    );
  }

  // `0` read as an opt-in: before 1.22 the key alone counts (v1.18.0 awsutils.go `validTag`).
  if (d.rules === 'key-only' && d.mode === 'discovery') {
    for (const s of d.subnets.filter((x) => x.cniTag === CNI_ROLE_TAG_EXCLUDED && x.used === true)) {
      out.push(
        finding(ctx, {
          kind: 'cni-discovery',
          severity: 'warning',
          subject: { type: 'subnet', id: s.subnetId, availabilityZone: s.availabilityZone },
          title: `Subnet ${s.subnetId} is tagged ${CNI_ROLE_TAG_KEY}=0, but vpc-cni ${version} puts pod ENIs there anyway`,
          evidence: { cniTag: CNI_ROLE_TAG_EXCLUDED, addonVersion: version, available: s.available, nodeSubnet: s.primary ? 'yes' : 'no' },
          evidenceText: [
            `${s.subnetId} (${s.availabilityZone}, ${n(s.available)} free): ${s.reason}.`,
            'The VPC CNI reads the value 0 as "excluded" only from v1.22.0; before, the tag key alone opts a subnet in.',
          ],
          fixes: [
            `Upgrade the vpc-cni add-on to v1.22.1 or later, where ${CNI_ROLE_TAG_KEY}=0 excludes the subnet (for a node subnet: new ENIs then go only to other tagged subnets of the AZ).`,
            s.primary ? 'Until then, nothing excludes a node subnet: keep room in it.' : `Until then, remove the key to keep pods out: aws ec2 delete-tags --resources ${s.subnetId} --tags Key=${CNI_ROLE_TAG_KEY}`,
          ],
        }),
      );
    }
  }

  // Reserved to other clusters, used by this one: the CNI skips cluster tags without CLUSTER_NAME
  // (awsutils.go `ValidSubnetTagsMatchingClusterName`, 1.22.1+).
  if (d.rules === 'cluster-scoped' && d.mode === 'discovery' && d.cniClusterName === undefined) {
    const foreign = d.subnets.filter((s) => s.used === true && !s.primary && s.clusterTags.length > 0 && !s.clusterTags.includes(usage.name));
    for (const s of foreign) {
      out.push(
        finding(ctx, {
          kind: 'cni-discovery',
          severity: 'warning',
          subject: { type: 'subnet', id: s.subnetId, availabilityZone: s.availabilityZone },
          title: `Subnet ${s.subnetId} is reserved to ${list(s.clusterTags)}, but ${usage.name}'s CNI may use it (CLUSTER_NAME not known)`,
          evidence: { reservedTo: s.clusterTags.join(','), available: s.available, addonVersion: version },
          evidenceText: [
            `${s.subnetId} (${s.availabilityZone}, ${n(s.available)} free): ${s.reason}.`,
            `Neither the add-on's configurationValues nor the ENIs the CNI created (tag cluster.k8s.amazonaws.com/name) show aws-node's CLUSTER_NAME; without it ipamd ignores ${CNI_CLUSTER_TAG_PREFIX}<name> tags.`,
          ],
          fixes: [`Set CLUSTER_NAME=${usage.name} in the vpc-cni add-on's configurationValues env (aws eks update-addon ... --configuration-values '{"env":{"CLUSTER_NAME":"${usage.name}"}}', merged with the current document).`],
        }),
      );
    }
  }
  return out;
}
