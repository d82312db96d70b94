/**
 * leaked-enis: `available` ENIs the VPC CNI created for instances that are gone (terminated, or
 * no longer known to EC2) hold subnet addresses for nothing; one finding per subnet that has any.
 * Why the CNI's own cleanup left them, and the fixes: docs/leaked-enis.md; runbook: docs/runbook.md.
 */
import { isPodSubnet } from '../measure/measure';
import type { LeakedEni } from '../measure/types';
import { finding, isScarce, list, n, plural, subnetSeverity, type ClusterContext } from './context';
import type { Finding } from './types';

/** ENI ids named in a finding's text and commands; the evidence counts them all. */
const NAMED_ENIS = 5;

/**
 * The CNI's own cleanup: every aws-node, once an hour, deletes the available ENIs of its VPC tagged
 * node.k8s.amazonaws.com/instance_id (and, with CLUSTER_NAME set, tagged with its own cluster) whose
 * createdAt tag is over 5 minutes old (aws/amazon-vpc-cni-k8s@b52188387f2e pkg/awsutils/awsutils.go
 * `cleanUpLeakedENIs`, `getLeakedENIs`, `eniDeleteCooldownTime`), unless it is disabled
 * (pkg/ipamd/ipamd.go `disableLeakedENICleanup`: DISABLE_LEAKED_ENI_CLEANUP=true, IPv6, ENI
 * provisioning disabled, IMDS-only mode).
 */
const WHY_LEFT =
  "The CNI's own hourly cleanup deletes such ENIs only from a running aws-node of the cluster in their cluster tag: they stay when that cluster has no node left (deleted or scaled to zero), DISABLE_LEAKED_ENI_CLEANUP=true, the cluster runs IPv6 or with ENI provisioning disabled.";

export function diagnoseLeakedEnis(ctx: ClusterContext): Finding[] {
  const { usage } = ctx;
  const leaked = usage.leakedEnis ?? [];
  if (leaked.length === 0) return [];
  const bySubnet = new Map<string, LeakedEni[]>();
  for (const e of leaked) bySubnet.set(e.subnetId, [...(bySubnet.get(e.subnetId) ?? []), e]);
  const out: Finding[] = [];
  for (const [subnetId, enis] of [...bySubnet.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const s = ctx.subnetsById.get(subnetId);
    const ips = enis.reduce((sum, e) => sum + e.ips, 0);
    const own = enis.filter((e) => e.clusterTag === usage.name);
    const others = enis.filter((e) => e.clusterTag !== undefined && e.clusterTag !== usage.name);
    const untagged = enis.filter((e) => e.clusterTag === undefined);
    const ages = enis.flatMap((e) => (e.ageMinutes === undefined ? [] : [e.ageMinutes]));
    const terminated = enis.filter((e) => e.instanceState === 'terminated').length;
    const scarce = s !== undefined && isPodSubnet(s) && isScarce(s, ctx.thresholds);
    const ids = enis.map((e) => e.networkInterfaceId);
    const named = ids.slice(0, NAMED_ENIS);
    const more = ids.length > named.length ? ` and ${n(ids.length - named.length)} more` : '';
    const otherClusters = [...new Set(others.map((e) => e.clusterTag ?? ''))].sort();

    const evidenceText = [
      `${plural(enis.length, 'available ENI')} the VPC CNI created (description aws-K8S-, tag node.k8s.amazonaws.com/instance_id) hold ${plural(ips, 'address', 'addresses')} of ${subnetId}${s ? ` (${n(s.available)} free of ${n(s.usable)})` : ''}: ${list(named)}${more}.`,
      `Their instances are gone: ${n(terminated)} terminated, ${n(enis.length - terminated)} no longer known to EC2 (one DescribeInstances by instance id).`,
      `Cluster tag: ${n(own.length)} ${usage.name}${otherClusters.length > 0 ? `, ${n(others.length)} other (${list(otherClusters)})` : ''}${untagged.length > 0 ? `, ${n(untagged.length)} untagged` : ''}.`,
      ages.length > 0
        ? `Age (tag node.k8s.amazonaws.com/createdAt): ${n(Math.min(...ages))} to ${n(Math.max(...ages))} minutes${ages.length < enis.length ? `; ${n(enis.length - ages.length)} without a readable tag` : ''}.`
        : 'None carries the createdAt tag: their age is unknown.',
      WHY_LEFT,
    ];
    const fixes = [
      own.length > 0
        ? `Let the responder delete ${usage.name}'s (policy actions.leakedEnis.allowed: true, mode apply, the cluster tagged eks-ip-responder/remediation=apply): it deletes only available CNI ENIs tagged with this cluster whose instance is gone, older than an hour, after reading them again.`
        : `These are not tagged with ${usage.name}: the responder of ${otherClusters.length > 0 ? list(otherClusters) : 'their cluster'} may delete them, or delete them by hand.`,
      `By hand, after checking each is still available: aws ec2 describe-network-interfaces --network-interface-ids ${named.join(' ')} --query 'NetworkInterfaces[].[NetworkInterfaceId,Status]'; then aws ec2 delete-network-interface --network-interface-id <id> for each.`,
      'So they are not left again: keep the CNI\'s cleanup on (DISABLE_LEAKED_ENI_CLEANUP unset) and delete a cluster\'s leftover ENIs when deleting the cluster.',
    ];
    out.push(
      finding(ctx, {
        kind: 'leaked-enis',
        severity: scarce && s ? subnetSeverity(s, ctx.thresholds) : 'warning',
        subject: { type: 'subnet', id: subnetId, ...(s ? { availabilityZone: s.availabilityZone } : {}) },
        title: `${plural(enis.length, 'leaked ENI')} hold ${plural(ips, 'IP')} in ${subnetId}${s ? ` (${s.availabilityZone})` : ''}: their instances are gone`,
        evidence: {
          leakedEnis: enis.length,
          leakedIps: ips,
          ...(s ? { subnetFree: s.available } : {}),
          taggedThisCluster: own.length,
          taggedOtherClusters: others.length,
          untagged: untagged.length,
          instancesTerminated: terminated,
          instancesMissing: enis.length - terminated,
          ...(ages.length > 0 ? { minAgeMinutes: Math.min(...ages), maxAgeMinutes: Math.max(...ages) } : {}),
        },
        evidenceText,
        fixes,
      }),
    );
  }
  return out;
}
