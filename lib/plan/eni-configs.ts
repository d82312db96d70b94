/**
 * Planner of the eni-configs action (VPC CNI custom networking): when pod subnets are exhausted
 * and the policy allow-lists subnets of a secondary VPC CIDR, one ENIConfig per Availability Zone
 * of the nodes, named after the zone, over the roomiest allow-listed subnet there; then the CNI env
 * that makes new nodes use them (through the add-on, or a self-managed aws-node's DaemonSet). Pure.
 * Design: docs/remediation.md#custom-networking-eniconfigs
 */
import type { Subnet } from '@aws-sdk/client-ec2';
import { maxPods } from '../capacity/instance-type';
import { buildContext, list, n } from '../diagnose/context';
import { karpenterOf, nodeClassOf } from '../diagnose/karpenter-pool';
import { cniActionsExclusion } from '../inventory/cluster-network';
import type { KubeEniConfig } from '../inventory/kube-types';
import { DEFAULT_ENI_CONFIGS_POLICY } from '../policy/types';
import type { ActionPlanner, AddonEnvChange, EniConfigsChange, PlanContext, ProposedAction } from './types';
import { addonEnvChangeOf, effectiveCniOf, previousEnv, selfManagedParts, selfManagedTargetOf } from './warm-targets';

/**
 * The env of custom networking with one ENIConfig per zone, named after it.
 * - [eks-cn] https://docs.aws.amazon.com/eks/latest/userguide/cni-custom-network-tutorial.html:
 *   AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true; ENI_CONFIG_LABEL_DEF=topology.kubernetes.io/zone picks,
 *   on each node, the ENIConfig named after its zone.
 * - [cni-readme] aws/amazon-vpc-cni-k8s README.md `AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG`,
 *   `ENI_CONFIG_LABEL_DEF` (default `k8s.amazonaws.com/eniConfig`).
 */
export const CUSTOM_NETWORKING_ENV: Readonly<Record<string, string>> = {
  AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true',
  ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone',
};

/**
 * The fewest free addresses an ENIConfig's subnet must have: EKS asks for at least 16 free in each
 * subnet it places ENIs in (EKS user guide, network-reqs.html).
 */
export const ENI_CONFIG_MIN_FREE = 16;

/** Whether a finding of the cluster could use custom networking: a pod subnet running out. */
export function needsEniConfigs(pc: Pick<PlanContext, 'findings' | 'usage'>): boolean {
  return pc.findings.some((f) => f.cluster === pc.usage.name && f.kind === 'subnet-exhaustion');
}

/** The policy's allow-listed ENIConfig subnets (read through the source, as the spare subnets are). */
export function eniConfigSubnetIds(policy: PlanContext['policy']): string[] {
  return [...(policy.actions.eniConfigs ?? DEFAULT_ENI_CONFIGS_POLICY).subnets];
}

const sameSpec = (a: KubeEniConfig, b: { subnet: string; securityGroups: string[] }): boolean =>
  a.subnet === b.subnet && [...(a.securityGroups ?? [])].sort().join() === [...b.securityGroups].sort().join();

/** Without the allow-listed subnets read: nothing (remediate.ts reads them, then calls {@link planEniConfigsWith}). */
export const planEniConfigs: ActionPlanner = (pc) => planEniConfigsWith(pc, undefined);

/**
 * Proposes custom networking for a cluster whose pod subnets are exhausted, over `subnets` (the
 * policy's allow-listed subnets as DescribeSubnets gives them). At most one proposal, subject the VPC.
 */
export function planEniConfigsWith(pc: PlanContext, subnets: readonly Subnet[] | undefined): ProposedAction[] {
  const { usage, inventory, policy } = pc;
  const rules = policy.actions.eniConfigs ?? DEFAULT_ENI_CONFIGS_POLICY;
  if (!rules.allowed || !subnets || rules.subnets.length === 0) return [];
  // IPv6 and Auto Mode: the VPC CNI's env does not give their pods addresses (the plan's notes say why).
  if (cniActionsExclusion(usage.network) !== undefined) return [];
  if (usage.cni.install === 'unknown') return [];
  const exhausted = pc.findings.filter((f) => f.cluster === usage.name && f.kind === 'subnet-exhaustion');
  if (exhausted.length === 0) return [];
  const vpcId = usage.vpcId ?? inventory.cluster.resourcesVpcConfig?.vpcId;
  if (!vpcId) return [];

  const awsNode = selfManagedTargetOf(pc);
  const cni = effectiveCniOf(usage, awsNode);
  const blockers: string[] = [];
  const kube = inventory.kube;
  const existing = kube?.access.ok ? kube.eniConfigs : undefined;
  if (!kube) blockers.push("the cluster's Kubernetes API is not read (not among the stack's kubernetesClusters): ENIConfigs can be neither read nor applied");
  else if (!kube.access.ok) blockers.push(`the cluster's Kubernetes API cannot be reached (${kube.access.reason}: ${kube.access.detail}); fix: ${kube.access.fix}`);
  else if (kube.eniConfigs === null) blockers.push('the ENIConfig CRD (eniconfigs.crd.k8s.amazonaws.com) is not installed: install it with the VPC CNI (the aws-vpc-cni chart or the add-on installs it)');
  else if (kube.eniConfigs === undefined) {
    const why = kube.unread.find((u) => u.part === 'eniconfigs');
    blockers.push(`the ENIConfigs could not be read${why ? ` (${why.status ? `${why.status}: ` : ''}${why.message})` : ''}`);
  }

  // The zones the nodes run in: each needs an ENIConfig, or custom networking would leave its new
  // nodes with no subnet for pods ("No ENIConfig could be found for this node").
  const ctx = buildContext(usage, inventory, pc.instanceTypes, policy.thresholds);
  const zones = [...new Set(usage.nodes.map((x) => x.availabilityZone).filter((z): z is string => !!z))].sort();
  if (zones.length === 0) return [];
  const securityGroups = rules.securityGroups ?? (inventory.cluster.resourcesVpcConfig?.clusterSecurityGroupId ? [inventory.cluster.resourcesVpcConfig.clusterSecurityGroupId] : []);
  if (securityGroups.length === 0) blockers.push('no security group for the ENIConfigs: the cluster has no cluster security group and actions.eniConfigs.securityGroups is not set');

  const skipped: string[] = [];
  const eniConfigs: EniConfigsChange['eniConfigs'] = [];
  let gained = 0;
  const chosenText: string[] = [];
  for (const zone of zones) {
    // Pod addresses the zone's nodes hold now: what the new subnet must be able to take over as they are replaced.
    const held = usage.nodes.filter((x) => x.availabilityZone === zone).reduce((s, x) => s + x.podIps, 0);
    const need = Math.max(ENI_CONFIG_MIN_FREE, held);
    const candidates = subnets
      .filter((s) => s.AvailabilityZone === zone)
      .filter((s) => {
        if (s.VpcId !== vpcId) {
          skipped.push(`${s.SubnetId} is in ${s.VpcId ?? 'another VPC'}, not the cluster's ${vpcId}`);
          return false;
        }
        if ((s.AvailableIpAddressCount ?? 0) < need) {
          skipped.push(`${s.SubnetId} has ${n(s.AvailableIpAddressCount ?? 0)} free, fewer than the ${n(need)} the nodes of ${zone} hold`);
          return false;
        }
        if (ctx.subnetsById.get(s.SubnetId ?? '')?.roles.includes('node')) {
          skipped.push(`${s.SubnetId} is a node subnet of the cluster already`);
          return false;
        }
        return true;
      })
      .sort((a, b) => (b.AvailableIpAddressCount ?? 0) - (a.AvailableIpAddressCount ?? 0) || (a.SubnetId ?? '').localeCompare(b.SubnetId ?? ''));
    const best = candidates[0];
    if (!best?.SubnetId) {
      blockers.push(`no allow-listed subnet (actions.eniConfigs.subnets) in ${zone}, where nodes run, is usable: new nodes there would find no ENIConfig`);
      continue;
    }
    eniConfigs.push({ name: zone, subnet: best.SubnetId, securityGroups: [...securityGroups] });
    gained += best.AvailableIpAddressCount ?? 0;
    chosenText.push(`${zone} → ${best.SubnetId} (${n(best.AvailableIpAddressCount ?? 0)} free)`);
  }
  for (const s of subnets) if (s.AvailabilityZone && !zones.includes(s.AvailabilityZone)) skipped.push(`${s.SubnetId} is in ${s.AvailabilityZone}, where no node runs`);

  // Never overwrite an operator's ENIConfig: a name taken with another spec, or ENIConfigs of other subnets.
  if (existing) {
    for (const e of existing) {
      const mine = eniConfigs.find((x) => x.name === e.name);
      if (mine && !sameSpec(e, mine)) {
        blockers.push(`ENIConfig ${e.name} exists with subnet ${e.subnet ?? '(none)'} and security groups ${(e.securityGroups ?? []).join(', ') || '(none)'}: it is never overwritten`);
      } else if (!mine && !eniConfigs.some((x) => x.subnet === e.subnet)) {
        blockers.push(`ENIConfig ${e.name} (subnet ${e.subnet ?? '(none)'}) exists already: custom networking is the operator's here, not changed`);
      }
    }
  }

  const set = { ...CUSTOM_NETWORKING_ENV };
  const envDone = cni.customNetworking === true && labelDefOf(pc) === set.ENI_CONFIG_LABEL_DEF;
  const visible = usage.cni.install !== 'self-managed' || awsNode?.writable === true;
  const allPresent = existing !== undefined && existing !== null && eniConfigs.length === zones.length && eniConfigs.every((x) => existing.some((e) => e.name === x.name && sameSpec(e, x)));
  if (visible && allPresent && envDone) return [];

  const target = selfManagedParts(awsNode, set);
  blockers.push(...target.blockers);
  const env: AddonEnvChange = addonEnvChangeOf(usage, inventory, set, target);

  // Max pods: the primary ENI no longer serves pods (lib/capacity maxPods, customNetworking).
  const types = [...new Set(usage.nodes.map((x) => x.instanceType))].sort();
  const maxPodsRows: EniConfigsChange['maxPods'] = [];
  for (const type of types) {
    const cap = ctx.capacityOf(type);
    if (!cap) continue;
    const opts = { prefixDelegation: cni.prefixDelegation === true, maxEni: cni.maxEni, applyKubeletCap: true };
    maxPodsRows.push({ instanceType: type, before: maxPods(cap, { ...opts, customNetworking: false }), after: maxPods(cap, { ...opts, customNetworking: true }) });
  }
  // Karpenter sizes its nodes' pods itself: ENILimitedPods counts every ENI but its `reservedENIs`
  // setting (RESERVED_ENIS, 0 by default), unless the EC2NodeClass sets kubelet.maxPods
  // (aws/karpenter-provider-aws pkg/providers/instancetype/types.go `ENILimitedPods`, `pods`).
  const karpenter = karpenterOf(inventory);
  const karpenterClasses = [
    ...new Set(
      (karpenter?.nodePools ?? []).flatMap((p) => {
        const nc = karpenter ? nodeClassOf(p, karpenter.nodeClasses) : undefined;
        return nc ? (nc.kubeletMaxPods === undefined ? [nc.name] : []) : [p.nodeClassRef?.name ?? p.name];
      }),
    ),
  ].sort();
  const karpenterText =
    karpenterClasses.length > 0
      ? ` Karpenter gives the nodes of EC2NodeClass ${list(karpenterClasses)} max pods from all their ENIs unless its reservedENIs setting is 1 (0 by default): set it, or spec.kubelet.maxPods, before this applies, or Karpenter's new nodes are given more pods than they have addresses for.`
      : '';
  const text =
    `ENIConfigs ${chosenText.join(', ')} give pods ${n(gained)} addresses outside the exhausted subnets, on nodes launched after the change: ` +
    `existing nodes keep their current ENIs until they are replaced (custom networking applies to new nodes only). ` +
    `The primary ENI no longer serves pods, so max pods drops: ${maxPodsRows.map((r) => `${r.instanceType} ${r.before} → ${r.after}`).join(', ') || 'instance types unknown'}` +
    `; nodes whose launcher sets max pods itself (a custom AMI's user data) must be given the new figure.${karpenterText}` +
    `${skipped.length > 0 ? ` Not used: ${skipped.join('; ')}.` : ''}`;

  return [
    {
      id: `${usage.name}/eni-configs/${vpcId}`,
      cluster: usage.name,
      kind: 'eni-configs',
      subject: vpcId,
      reason: `Pod subnets are exhausted (${exhausted.map((f) => f.id).sort().join(', ')}); custom networking gives new nodes' pods addresses from the allow-listed secondary-CIDR subnets instead.`,
      findingIds: exhausted.map((f) => f.id).sort(),
      change: { type: 'eni-configs', vpcId, eniConfigs, env, maxPods: maxPodsRows },
      // The addresses are gained in other subnets, not freed in the exhausted ones: said in the text only.
      predicted: { text },
      blockers,
    },
  ];
}

/** ENI_CONFIG_LABEL_DEF as set now (the add-on's env, or a readable aws-node's); '' when unset. */
function labelDefOf(pc: PlanContext): string {
  const awsNode = selfManagedTargetOf(pc);
  if (awsNode?.writable) return awsNode.env['ENI_CONFIG_LABEL_DEF'] ?? '';
  return previousEnv(pc.inventory, ['ENI_CONFIG_LABEL_DEF'])['ENI_CONFIG_LABEL_DEF'] ?? '';
}
