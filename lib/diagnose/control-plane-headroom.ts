/**
 * control-plane-headroom: the cluster subnets (`resourcesVpcConfig.subnetIds`) against EKS's
 * requirement of free addresses for the control-plane ENIs.
 *
 * Design: docs/models.md#libdiagnosecontrol-plane-headroomts-the-control-planes-subnets
 */
import { EKS_CONTROL_PLANE_MIN_FREE_IPS, EKS_CONTROL_PLANE_RECOMMENDED_FREE_IPS, EKS_UPGRADE_MIN_AZS as UPGRADE_MIN_AZS, isPodSubnet } from '../measure/measure';
import { finding, list, n, type ClusterContext } from './context';
import type { Finding, Severity } from './types';

/**
 * At least 6 free addresses in each cluster subnet (16 recommended), and free addresses in two AZs
 * for a version upgrade (EKS user guide, "View Amazon EKS networking requirements for VPC and
 * subnets", https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html).
 */
export function diagnoseControlPlaneHeadroom(ctx: ClusterContext): Finding[] {
  const { usage } = ctx;
  const subnets = usage.subnets.filter((s) => s.roles.includes('cluster'));
  // No cluster subnet measured: nothing to judge (the collection problem says why).
  if (subnets.length === 0) return [];
  // measureControlPlane judged the same subnets: read its verdicts.
  const { meetsMinimum, meetsRecommended, upgradeReady, azsWithMinimum } = usage.controlPlane;
  if (meetsRecommended && upgradeReady) return [];
  const belowRecommended = subnets.filter((s) => s.available < EKS_CONTROL_PLANE_RECOMMENDED_FREE_IPS);

  const severity: Severity = !meetsMinimum || !upgradeReady ? 'critical' : 'warning';
  const worst = [...subnets].sort((a, b) => a.available - b.available || a.subnetId.localeCompare(b.subnetId))[0];
  if (!worst) return [];

  const title = !upgradeReady
    ? `Control plane of ${usage.name}: ${azsWithMinimum} AZ${azsWithMinimum === 1 ? '' : 's'} with ${EKS_CONTROL_PLANE_MIN_FREE_IPS}+ free IPs, a version upgrade needs ${UPGRADE_MIN_AZS}`
    : !meetsMinimum
      ? `Control plane of ${usage.name}: subnet ${worst.subnetId} has ${n(worst.available)} free IPs (EKS needs ${EKS_CONTROL_PLANE_MIN_FREE_IPS})`
      : `Control plane of ${usage.name}: subnet ${worst.subnetId} has ${n(worst.available)} free IPs (EKS recommends ${EKS_CONTROL_PLANE_RECOMMENDED_FREE_IPS})`;

  const evidenceText = [
    `Cluster subnets: ${subnets.map((s) => `${s.subnetId} (${s.availabilityZone}) ${n(s.available)} free`).join(', ')}.`,
    `EKS needs ${EKS_CONTROL_PLANE_MIN_FREE_IPS} free IPs per cluster subnet (recommends ${EKS_CONTROL_PLANE_RECOMMENDED_FREE_IPS}) and free IPs in ${UPGRADE_MIN_AZS} AZs for a version upgrade: ${azsWithMinimum} AZ${azsWithMinimum === 1 ? '' : 's'} qualify.`,
  ];

  const fixes: string[] = [];
  const short = belowRecommended.length > 0 ? belowRecommended : subnets;
  const podShared = short.filter(isPodSubnet);
  const also = podShared.length === 0 ? '' : podShared.length === short.length ? (short.length === 1 ? ' (also a pod subnet)' : ' (also pod subnets)') : ` (${list(podShared.map((s) => s.subnetId))} also pod)`;
  fixes.push(
    podShared.length > 0
      ? `Free IPs in ${list(short.map((s) => s.subnetId))}${also}: shrink warm pools, move pods or other ENIs out (see the subnet findings).`
      : `Free IPs in ${list(short.map((s) => s.subnetId))}: move other ENIs (load balancers, endpoints) out of ${short.length === 1 ? 'it' : 'them'}.`,
  );
  // Candidates for UpdateClusterConfig: cluster or node subnets of the cluster's VPC with the
  // recommended room, the roomiest per AZ (CNI-discovery subnets are left out: often a secondary
  // CIDR meant for pods). UpdateClusterConfig with `resourcesVpcConfig.subnetIds` (EKS API reference,
  // UpdateClusterConfig, https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateClusterConfig.html;
  // What's new, 2023-10-24, https://aws.amazon.com/about-aws/whats-new/2023/10/amazon-eks-modification-cluster-subnets-security/).
  const byAz = new Map<string, string>();
  for (const s of [...usage.subnets].sort((a, b) => b.available - a.available || a.subnetId.localeCompare(b.subnetId))) {
    const eligible = s.roles.includes('cluster') || s.roles.includes('node');
    if (eligible && s.available >= EKS_CONTROL_PLANE_RECOMMENDED_FREE_IPS && (!usage.vpcId || s.vpcId === usage.vpcId) && !byAz.has(s.availabilityZone)) {
      byAz.set(s.availabilityZone, s.subnetId);
    }
  }
  const candidates = [...byAz.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([, id]) => id);
  fixes.push(
    candidates.length >= UPGRADE_MIN_AZS
      ? `Give the control plane subnets with room (EKS allows it since 2023): aws eks update-cluster-config --name ${usage.name} --resources-vpc-config subnetIds=${candidates.join(',')}`
      : `Give the control plane subnets with room, in ${UPGRADE_MIN_AZS}+ AZs of ${usage.vpcId ?? 'its VPC'} (aws eks update-cluster-config --name ${usage.name} --resources-vpc-config subnetIds=…; EKS allows it since 2023). No known subnet has ${EKS_CONTROL_PLANE_RECOMMENDED_FREE_IPS}+ free in 2 AZs: create small ones (a /28 each).`,
  );

  return [
    finding(ctx, {
      kind: 'control-plane-headroom',
      severity,
      subject: { type: 'cluster', id: usage.name },
      title,
      evidence: {
        clusterSubnets: subnets.length,
        minFree: worst.available,
        minFreeSubnetId: worst.subnetId,
        subnetsBelowMinimum: subnets.filter((s) => s.available < EKS_CONTROL_PLANE_MIN_FREE_IPS).length,
        subnetsBelowRecommended: belowRecommended.length,
        azsWithMinimum,
        upgradeReady: upgradeReady ? 'yes' : 'no',
      },
      evidenceText,
      fixes,
    }),
  ];
}
