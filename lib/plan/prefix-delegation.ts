/**
 * Planner of the prefix-delegation action: when nodes are capped by their instance type's ENI /
 * address slots (an eni-limit finding), turn on ENABLE_PREFIX_DELEGATION on the vpc-cni add-on
 * (with WARM_PREFIX_TARGET), and say what the nodes need to use it. Pure.
 * Design (conditions, what the nodes need, the prediction):
 * docs/remediation.md#libplanprefix-delegationts-turning-on-prefix-delegation
 */
import { cniActionsExclusion } from '../inventory/cluster-network';
import { maxPods, nodeadmDefaultMaxPods, type NetworkCapacity } from '../capacity/instance-type';
import { buildContext, n, type ClusterContext } from '../diagnose/context';
import { prefixBlocksOf } from '../diagnose/prefix-fragmentation';
import type { Nodegroup } from '../inventory/types';
import { holdingFor } from '../ipamd/model';
import type { NodegroupUsage, NodeUsage } from '../measure/types';
import type { ActionPlanner, AddonEnvChange, PlanContext, ProposedAction } from './types';
import {
  clamp,
  currentSettingsOf,
  nodeConfig,
  podsEstimate,
  effectiveCniOf,
  addonEnvChangeOf,
  roundedBySubnet,
  selfManagedParts,
  selfManagedTargetOf,
  spreadBySubnet,
  subnetSharesOf,
  VPC_CNI_SUBJECT,
} from './warm-targets';


/**
 * The user-data setting of max pods for a launch template, by the nodegroup's AMI type.
 * Sources:
 * - [nodeadm] https://awslabs.github.io/amazon-eks-ami/nodeadm/doc/api/ (NodeConfig, kubelet config)
 */
function userDataHint(ng: Nodegroup | undefined, cluster: string, pods: number): string {
  const al2 = `AL2: /etc/eks/bootstrap.sh ${cluster} --use-max-pods false --kubelet-extra-args '--max-pods=${pods}'`;
  const al2023 = `AL2023: nodeadm NodeConfig spec.kubelet.config.maxPods: ${pods}`;
  const ami = ng?.amiType ?? '';
  if (ami.startsWith('AL2023')) return al2023;
  if (ami.startsWith('AL2_')) return al2;
  if (ami.startsWith('BOTTLEROCKET')) return `Bottlerocket: settings.kubernetes.max-pods = ${pods}`;
  return `${al2}; ${al2023}`;
}

/**
 * What a managed nodegroup's nodes need to use prefix delegation (docs/remediation.md).
 * Sources ([eks-proc], [eks-prefix]: see planNodegroup):
 * - [nodeadm-src] awslabs/amazon-eks-ami `nodeadm/internal/kubelet/config.go`
 *   `withDefaultReservedResources`, `eni_max_pods.go` `calculateStandardMaxPods`
 */
function nodeNote(ng: Nodegroup | undefined, cluster: string, name: string, pods: number, bootstrapDefault: string): string {
  const replace =
    'Existing nodes keep secondary IPs and their max pods until replaced: replace them all (EKS recommends new nodes, e.g. a new nodegroup then scaling this one down, rather than a mix of modes).';
  const lt = ng?.launchTemplate;
  if (!lt) {
    return `No custom launch template: EKS sets max pods (${pods}) from the add-on's prefix delegation when nodes are created. ${replace}`;
  }
  const which = `${lt.name ?? lt.id ?? 'its launch template'}${lt.version ? ` version ${lt.version}` : ''}`;
  return (
    `Launch template ${which}: if it names an AMI ID, set max pods in its user data (${userDataHint(ng, cluster, pods)}) and move ${name} to the new version ` +
    `(otherwise AL2023's nodeadm sets ${bootstrapDefault}, the secondary-IP figure, prefix delegation or not); ` +
    `without an AMI ID EKS sets max pods itself. ${replace}`
  );
}

interface NodegroupPlan {
  ng: NodegroupUsage;
  findingId: string;
  maxPods?: number;
  headroom: number;
  blockers: string[];
  note?: string;
  /** What the AMI's bootstrap sets without a maxPods setting (nodeadm), per type: `m5.large 29`. */
  bootstrapDefault: string;
}

/**
 * One nodegroup's conditions (Nitro only, a free aligned /28 per node in its AZ) and max pods.
 * Sources:
 * - [eks-proc] https://docs.aws.amazon.com/eks/latest/userguide/cni-increase-ip-addresses-procedure.html
 * - [eks-prefix] https://docs.aws.amazon.com/eks/latest/userguide/cni-increase-ip-addresses.html
 *   (considerations)
 */
function planNodegroup(
  pc: PlanContext,
  ctx: ClusterContext,
  ng: NodegroupUsage,
  findingId: string,
  nodes: NodeUsage[],
): NodegroupPlan {
  const rules = pc.policy.actions.prefixDelegation;
  const customNetworking = effectiveCniOf(pc.usage, selfManagedTargetOf(pc)).customNetworking === true;
  const blockers: string[] = [];
  const types = [...new Set([...ng.instanceTypes, ...nodes.map((x) => x.instanceType)])].sort();
  const caps = types.map((type) => ({ type, cap: ctx.capacityOf(type) }));
  const unknown = caps.filter((c) => !c.cap).map((c) => c.type);
  const notNitro = caps.filter((c) => c.cap && !c.cap.nitro).map((c) => c.type);
  if (notNitro.length > 0) {
    blockers.push(`nodegroup ${ng.name}: ${notNitro.join(', ')} ${notNitro.length === 1 ? 'is' : 'are'} not Nitro (prefix delegation needs Nitro instance types)`);
  }
  if (unknown.length > 0) blockers.push(`nodegroup ${ng.name}: limits of ${unknown.join(', ')} unknown`);

  // The smallest max pods of the types applies to the whole nodegroup [eks-prefix].
  const nitro = caps.filter((c): c is { type: string; cap: NetworkCapacity } => c.cap !== undefined && c.cap.nitro);
  let value: number | undefined;
  if (nitro.length > 0) {
    const computed = Math.min(...nitro.map((c) => maxPods(c.cap, { prefixDelegation: true, customNetworking, applyKubeletCap: true })));
    value = Math.min(computed, rules.maxPods.max);
    if (value < rules.maxPods.min) {
      blockers.push(`nodegroup ${ng.name}: max pods ${value} with prefixes is below the policy's prefixDelegation.maxPods.min = ${rules.maxPods.min}`);
    }
  }

  let headroom = 0;
  const secondary = nodes.filter((x) => x.mode === 'secondary-ip');
  if (value !== undefined) {
    for (const node of secondary) headroom += Math.max(0, value - (node.limits?.maxPods ?? value));
    if (headroom <= 0 && secondary.length > 0) {
      blockers.push(
        `nodegroup ${ng.name}: prefixDelegation.maxPods.max = ${rules.maxPods.max} gives no more pods than its nodes have now`,
      );
    }
  }

  // Free /28 blocks per AZ: at least one for each node there.
  const byAz = new Map<string, { blocks: number; subnets: string[] }>();
  for (const id of ng.subnetIds) {
    const s = ctx.subnetsById.get(id);
    if (!s) continue;
    const free = Math.max(0, prefixBlocksOf(s, ctx.inventory.networkInterfaces).freeBlocks - s.held.Unaccounted);
    const az = byAz.get(s.availabilityZone) ?? { blocks: 0, subnets: [] };
    az.blocks += free;
    az.subnets.push(id);
    byAz.set(s.availabilityZone, az);
  }
  for (const [az, room] of [...byAz.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const here = nodes.filter((x) => x.availabilityZone === az).length;
    if (here > 0 && room.blocks < here) {
      blockers.push(
        `nodegroup ${ng.name} in ${az}: ${n(room.blocks)} free /28 block${room.blocks === 1 ? '' : 's'} in ${room.subnets.join(', ')} for ${n(here)} node${here === 1 ? '' : 's'} (at least one each; EC2 answers InsufficientCidrBlocks)`,
      );
    }
  }

  const raw = pc.inventory.nodegroups.find((x) => x.nodegroupName === ng.name);
  const bootstrapDefault = nitro.map((c) => `${c.type} ${nodeadmDefaultMaxPods(c.cap)}`).join(', ');
  const note = value !== undefined && ng.kind === 'managed' ? nodeNote(raw, pc.usage.name, ng.name, value, bootstrapDefault) : undefined;
  return { ng, findingId, maxPods: value, headroom, blockers, note, bootstrapDefault };
}

/**
 * Proposes ENABLE_PREFIX_DELEGATION=true and WARM_PREFIX_TARGET on the vpc-cni add-on for a
 * cluster with eni-limit findings (see the module comment). At most one proposal, subject `vpc-cni`.
 */
export const planPrefixDelegation: ActionPlanner = (pc: PlanContext): ProposedAction[] => {
  // Auto Mode and IPv6 clusters: the VPC CNI settings this action changes do not give their pods addresses (the plan's notes say why).
  if (cniActionsExclusion(pc.usage.network) !== undefined) return [];
  const { usage, inventory, policy } = pc;
  const rules = policy.actions.prefixDelegation;
  if (!rules.allowed) return [];
  const awsNode = selfManagedTargetOf(pc);
  const current = currentSettingsOf(usage, awsNode);
  if (!current) return [];
  // A self-managed aws-node whose env is not visible may have it on: proposed with the command.
  const visible = usage.cni.install !== 'self-managed' || awsNode?.writable === true;
  if (visible && effectiveCniOf(usage, awsNode).prefixDelegation === true) return [];

  const limited = pc.findings.filter((f) => f.cluster === usage.name && f.kind === 'eni-limit' && f.subject.type === 'nodegroup');
  if (limited.length === 0) return [];
  const ctx = buildContext(usage, inventory, pc.instanceTypes, policy.thresholds);
  const shares = subnetSharesOf(ctx);

  const warmPrefixTarget = clamp(1, rules.warmPrefixTarget);
  const plans: NodegroupPlan[] = [];
  const taken = new Map<string, number>();
  for (const f of limited) {
    const ng = usage.nodegroups.find((g) => g.name === f.subject.id);
    if (!ng) continue;
    const nodes = usage.nodes.filter((x) => x.nodegroup === ng.name);
    const plan = planNodegroup(pc, ctx, ng, f.id, nodes);
    plans.push(plan);
    if (plan.maxPods === undefined) continue;
    for (const node of nodes) {
      if (node.mode !== 'secondary-ip') continue;
      const cap = ctx.capacityOf(node.instanceType);
      if (!cap || !cap.nitro) continue;
      const before = nodeConfig(current.config, node);
      const { pods } = podsEstimate(cap, node, before);
      const now = holdingFor(cap, pods, before).subnetIps;
      const after = holdingFor(cap, pods, {
        ...current.config,
        prefixDelegation: true,
        warmPrefixTarget,
        maxPods: plan.maxPods,
      }).subnetIps;
      spreadBySubnet(shares, node, now - after, taken);
    }
  }
  if (plans.length === 0) return [];

  const set = { ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: String(warmPrefixTarget) };
  const blockers = plans.flatMap((p) => p.blockers);
  const target = selfManagedParts(awsNode, set);
  blockers.push(...target.blockers);
  const nodeChanges: NonNullable<AddonEnvChange['nodeChanges']> = plans
    .filter((p): p is NodegroupPlan & { maxPods: number; note: string } => p.maxPods !== undefined && p.note !== undefined)
    .map((p) => ({ nodegroup: p.ng.name, maxPods: p.maxPods, note: p.note }));
  const others = plans.filter((p) => p.ng.kind !== 'managed' && p.maxPods !== undefined);
  const ipsFreedBySubnet = roundedBySubnet(taken);
  const ipsFreed = Object.values(ipsFreedBySubnet).reduce((a, b) => a + b, 0);
  const podHeadroomGained = plans.reduce((s, p) => s + p.headroom, 0);
  const names = plans.map((p) => p.ng.name).sort();
  const takenText = Object.entries(ipsFreedBySubnet)
    .map(([id, v]) => `${v < 0 ? `${n(-v)} more` : `${n(v)} fewer`} in ${id}`)
    .join(', ');
  const text =
    `Prefix delegation gives ${names.join(', ')} ${n(podHeadroomGained)} more pods of headroom once their nodes are replaced ` +
    `(max pods ${plans.filter((p) => p.maxPods !== undefined).map((p) => `${p.ng.name} ${p.maxPods}`).join(', ')})` +
    `${takenText ? `; at today's pods the nodes hold ${takenText} (16 IPs per /28)` : ''}` +
    `${
      others.length > 0
        ? `; ${others.map((p) => p.ng.name).join(', ')} (not managed): set max pods on their nodes and replace them ` +
          `(AL2023's nodeadm otherwise sets ENIs × (IPv4 per ENI − 1) + 2, ${others.map((p) => p.bootstrapDefault).join(', ')}, whatever the mode: ` +
          `NodeConfig spec.kubelet.config.maxPods)`
        : ''
    }.`;

  return [
    {
      id: `${usage.name}/prefix-delegation/${VPC_CNI_SUBJECT}`,
      cluster: usage.name,
      kind: 'prefix-delegation',
      subject: VPC_CNI_SUBJECT,
      reason: `Nodes of ${names.join(', ')} are capped by their instance type's ENI and address slots (${plans
        .map((p) => p.findingId)
        .sort()
        .join(', ')}); /28 prefixes give each slot 16 addresses.`,
      findingIds: plans.map((p) => p.findingId).sort(),
      change: { ...addonEnvChangeOf(usage, inventory, set, target), nodeChanges },
      predicted: { ipsFreedBySubnet, ipsFreed, podHeadroomGained, text },
      blockers,
    },
  ];
};
