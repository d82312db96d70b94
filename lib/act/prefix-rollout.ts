/**
 * The node rollout that prefix delegation needs. Turning ENABLE_PREFIX_DELEGATION on changes
 * nothing for the nodes already running: they keep their secondary IPs and the max pods they
 * were launched with; only new nodes get /28 prefixes and, on a managed nodegroup without a
 * custom AMI, the max pods EKS computes from the add-on's setting (EKS user guide, "Assign more
 * IP addresses to Amazon EKS nodes with prefixes": cni-increase-ip-addresses-procedure.html;
 * EKS recommends new node groups rather than mixing modes). So, once the add-on has prefix
 * delegation on, a managed nodegroup whose nodes still run in secondary-IP mode and are capped by
 * their ENI slots is rolled: a copy of it (same instance types and everything else) is created,
 * and once ACTIVE the old one is scaled down — the same two steps, one per cycle, as the
 * instance-type replacement (lib/act/execute-nodegroup.ts). Pure planner.
 */
import { maxPods, networkCapacityOf } from '../capacity/instance-type';
import { prefixBlocksOf } from '../diagnose/prefix-fragmentation';
import type { Finding } from '../diagnose/types';
import type { NodegroupUsage } from '../measure/types';
import { infoOf, replacementBlockers, replacementName, scalingOf } from './instance-types';
import type { ActionPlanner, NodegroupReplacementChange, PlanContext, ProposedAction } from './types';

export const planPrefixRollout: ActionPlanner = (ctx: PlanContext): ProposedAction[] => {
  if (!ctx.policy.actions.prefixDelegation.allowed) return [];
  // Until the add-on has prefix delegation on, the prefix-delegation action comes first.
  if (ctx.usage.cni.prefixDelegation !== true) return [];
  const out: ProposedAction[] = [];
  for (const ng of ctx.usage.nodegroups) {
    if (ng.kind !== 'managed') continue;
    const finding = ctx.findings.find((f) => f.kind === 'eni-limit' && f.subject.type === 'nodegroup' && f.subject.id === ng.name);
    if (!finding) continue;
    const nodes = ctx.usage.nodes.filter((n) => n.nodegroup === ng.name);
    const secondary = nodes.filter((n) => n.mode === 'secondary-ip');
    if (secondary.length === 0) continue;
    out.push(planNodegroup(ctx, ng, finding, secondary.length));
  }
  return out;
};

function planNodegroup(ctx: PlanContext, ng: NodegroupUsage, finding: Finding, secondaryNodes: number): ProposedAction {
  const cluster = ctx.usage.name;
  const managed = ctx.inventory.nodegroups.find((x) => x.nodegroupName === ng.name);
  const blockers: string[] = [];
  const types = managed?.instanceTypes?.length ? [...managed.instanceTypes] : [...ng.instanceTypes];
  let gained = 0;
  for (const t of types) {
    const info = infoOf(t, ctx.instanceTypes);
    if (!info) {
      blockers.push(`the limits of instance type ${t} are not known`);
      continue;
    }
    const cap = networkCapacityOf(info);
    // Prefix delegation needs Nitro (VPC CNI isConfigValid): a non-Nitro node stays in secondary mode.
    if (!cap.nitro) blockers.push(`${t} is not a Nitro type: its nodes cannot use prefixes (replace the type instead: actions.instanceTypes)`);
  }
  const perNode = (() => {
    const info = types[0] ? infoOf(types[0], ctx.instanceTypes) : undefined;
    if (!info) return 0;
    const cap = networkCapacityOf(info);
    const custom = ctx.usage.cni.customNetworking === true;
    return (
      maxPods(cap, { prefixDelegation: true, customNetworking: custom, applyKubeletCap: true }) -
      maxPods(cap, { prefixDelegation: false, customNetworking: custom, applyKubeletCap: true })
    );
  })();
  gained = Math.max(0, perNode) * secondaryNodes;

  // The new nodes need free /28 blocks in the nodegroup's subnets, at least one each, per AZ
  // (EC2 answers InsufficientCidrBlocks otherwise). Unaccounted addresses may sit anywhere.
  const nodesByAz = new Map<string, number>();
  for (const node of ctx.usage.nodes.filter((x) => x.nodegroup === ng.name)) {
    if (node.availabilityZone) nodesByAz.set(node.availabilityZone, (nodesByAz.get(node.availabilityZone) ?? 0) + 1);
  }
  for (const [az, count] of nodesByAz) {
    const subnets = ctx.usage.subnets.filter((x) => ng.subnetIds.includes(x.subnetId) && x.availabilityZone === az);
    const free = subnets.reduce((sum, x) => sum + Math.max(0, prefixBlocksOf(x, ctx.inventory.networkInterfaces).freeBlocks - x.held.Unaccounted), 0);
    if (free < count) {
      blockers.push(`nodegroup ${ng.name} in ${az}: ${free} free /28 block(s) in ${subnets.map((x) => x.subnetId).join(', ') || 'its subnets'} for ${count} node(s) (at least one each)`);
    }
  }
  if (!managed) blockers.push(`nodegroup ${ng.name} is not in the inventory`);
  const scaling = managed ? scalingOf(managed, ng) : { minSize: 0, maxSize: Math.max(1, ng.nodes), desiredSize: ng.nodes };
  const newNodegroup = replacementName(ng.name, types);
  if (managed) {
    if (managed.status !== 'ACTIVE') blockers.push(`nodegroup ${ng.name} is ${managed.status ?? 'of unknown status'}, not ACTIVE`);
    if (managed.amiType === 'CUSTOM') {
      // With an AMI in the launch template EKS does not set max pods: the user data must.
      blockers.push(
        `nodegroup ${ng.name} runs a custom AMI (launch template ${managed.launchTemplate?.name ?? managed.launchTemplate?.id ?? '?'}): set max pods for prefix mode in its user data first (AL2023 nodeadm NodeConfig spec.kubelet.config.maxPods; AL2 bootstrap.sh --use-max-pods false --kubelet-extra-args '--max-pods=N'), then roll it`,
      );
    }
    if (managed.launchTemplate && (managed.instanceTypes ?? []).length === 0) {
      blockers.push(`nodegroup ${ng.name} takes its instance type from its launch template: roll it with a new launch template version instead`);
    }
    blockers.push(...replacementBlockers(ctx.inventory.nodegroups, ng.name, newNodegroup));
  }

  const change: NodegroupReplacementChange = {
    type: 'replace-nodegroup',
    nodegroup: ng.name,
    newNodegroup,
    fromInstanceTypes: types,
    toInstanceTypes: types,
    ranking: [],
    scaling,
  };
  return {
    id: `${cluster}/prefix-rollout/${ng.name}`,
    cluster,
    kind: 'prefix-rollout',
    subject: ng.name,
    reason: `Prefix delegation is on, but ${secondaryNodes} of ${ng.nodes} nodes of ${ng.name} still run in secondary-IP mode at their old max pods (${finding.id}): new nodes get /28 prefixes and the prefix-mode max pods.`,
    findingIds: [finding.id],
    change,
    predicted: {
      podHeadroomGained: gained,
      text: `Rolling ${ng.name} onto new nodes (${types.join(', ')}, same settings) gives about +${gained} pods of headroom (${perNode} per node); the new nodes take their addresses as /28 prefixes.`,
    },
    blockers,
  };
}
