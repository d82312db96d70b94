/**
 * The node rollout that prefix delegation needs: once the add-on has prefix delegation on, a
 * managed nodegroup still in secondary-IP mode and capped by its ENI slots is replaced by a copy
 * of it (created, then the old one scaled down). Pure planner.
 * Design (why, what it costs): docs/remediation.md#libplanprefix-rolloutts-rolling-nodes-into-prefix-mode
 */
import { cniActionsExclusion } from '../inventory/cluster-network';
import { HOST_NETWORK_PODS, maxPods, networkCapacityOf, podIpSlots, type NetworkCapacity } from '../capacity/instance-type';
import type { Finding } from '../diagnose/types';
import { holdingFor, ipamdConfigOf } from '../ipamd/model';
import type { IpamdConfig } from '../ipamd/types';
import type { NodegroupUsage } from '../measure/types';
import { DEFAULT_OVERLAP_MARGIN_IPS } from '../policy/types';
import { infoOf, replacementBlockers, replacementName, scalingOf } from './instance-types';
import {
  capacityChange,
  capacityText,
  checkOverlapRoom,
  newNodeDemand,
  nodegroupCapacity,
  nodeSubnetIps,
  overlapText,
  steadyStateBySubnet,
  type NewNodeType,
} from './replacement';
import type { ActionPlanner, NodegroupReplacementChange, PlanContext, ProposedAction } from './types';
import { newNodeTrunkEnis, nodeEnisOf } from './warm-targets';

/**
 * Existing nodes keep their secondary IPs and max pods; only new nodes get /28 prefixes (EKS
 * user guide, "Assign more IP addresses to Amazon EKS nodes with prefixes":
 * cni-increase-ip-addresses-procedure.html; EKS recommends new node groups rather than mixing
 * modes): hence a rollout.
 */
export const planPrefixRollout: ActionPlanner = (ctx: PlanContext): ProposedAction[] => {
  // Auto Mode and IPv6 clusters: the VPC CNI settings this action changes do not give their pods addresses (the plan's notes say why).
  if (cniActionsExclusion(ctx.usage.network) !== undefined) return [];
  if (!ctx.policy.actions.prefixDelegation.allowed) return [];
  // Until the add-on has prefix delegation on, the prefix-delegation action comes first.
  if (ctx.usage.cni.prefixDelegation !== true) return [];
  // Known whenever prefix delegation is known to be on (the managed add-on's settings).
  const config = ipamdConfigOf(ctx.usage.cni);
  if (!config) return [];
  const out: ProposedAction[] = [];
  for (const ng of ctx.usage.nodegroups) {
    if (ng.kind !== 'managed') continue;
    const finding = ctx.findings.find((f) => f.kind === 'eni-limit' && f.subject.type === 'nodegroup' && f.subject.id === ng.name);
    if (!finding) continue;
    const nodes = ctx.usage.nodes.filter((n) => n.nodegroup === ng.name);
    const secondary = nodes.filter((n) => n.mode === 'secondary-ip');
    if (secondary.length === 0) continue;
    out.push(planNodegroup(ctx, config, ng, finding, secondary.length));
  }
  return out;
};

function planNodegroup(ctx: PlanContext, base: IpamdConfig, ng: NodegroupUsage, finding: Finding, secondaryNodes: number): ProposedAction {
  const cluster = ctx.usage.name;
  const managed = ctx.inventory.nodegroups.find((x) => x.nodegroupName === ng.name);
  const blockers: string[] = [];
  const types = managed?.instanceTypes?.length ? [...managed.instanceTypes] : [...ng.instanceTypes];
  const customNetworking = ctx.usage.cni.customNetworking === true;
  const caps: NetworkCapacity[] = [];
  for (const t of types) {
    const info = infoOf(t, ctx.instanceTypes);
    if (!info) {
      blockers.push(`the limits of instance type ${t} are not known`);
      continue;
    }
    const cap = networkCapacityOf(info);
    caps.push(cap);
    // Prefix delegation needs Nitro (VPC CNI isConfigValid): a non-Nitro node stays in secondary mode.
    if (!cap.nitro) blockers.push(`${t} is not a Nitro type: its nodes cannot use prefixes (replace the type instead: actions.instanceTypes)`);
  }
  const secondaryOpts = { prefixDelegation: false, customNetworking, applyKubeletCap: true };
  const prefixOpts = { prefixDelegation: true, customNetworking, applyKubeletCap: true };
  const first = caps[0];
  const perNode = first ? maxPods(first, prefixOpts) - maxPods(first, secondaryOpts) : 0;
  const gained = Math.max(0, perNode) * secondaryNodes;

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

  // Capacity: the same types, the same node count.
  const nodes = ctx.usage.nodes.filter((x) => x.nodegroup === ng.name);
  const capOf = (type: string): NetworkCapacity | undefined => caps.find((c) => c.instanceType === type);
  const same = first ? nodegroupCapacity(nodes.map((x) => x.instanceType), scaling.desiredSize, first, capOf) : undefined;
  const capacity = same ? capacityChange(same, same) : undefined;

  // Room during the overlap: the new nodes in prefix mode, at the pods a capped node carries today.
  const [firstType, ...otherTypes]: NewNodeType[] = caps.map((cap) => ({ cap, maxPods: maxPods(cap, prefixOpts) }));
  // A new node has the trunk ENI the old ones have (security groups for pods): one ENI slot less for pods.
  const trunkEnis = newNodeTrunkEnis(ctx.usage, nodes);
  // Several types: the largest of their loads, each new node at most its own max pods (the worst case).
  // The slots a capped node has are those MAX_ENI and its trunk ENI leave (ipamd hasRoomForEni).
  const slotOpts = { ...secondaryOpts, maxEni: ctx.usage.cni.maxEni };
  const load = Math.max(1, ...caps.map((cap) => Math.min(podIpSlots(cap, slotOpts, { trunkEnis }), maxPods(cap, secondaryOpts) - HOST_NETWORK_PODS)));
  const demand = firstType ? newNodeDemand([firstType, ...otherTypes], load, { ...base, prefixDelegation: true, trunkEnis }) : undefined;
  let predictedAddresses: Pick<ProposedAction['predicted'], 'ipsFreed' | 'ipsFreedBySubnet' | 'overlapIpsBySubnet'> = {};
  let addressText = '';
  if (demand) {
    const room = checkOverlapRoom({
      nodegroup: ng.name,
      // The copy is created in the old nodegroup's declared subnets (lib/aws/nodegroup.ts);
      // NodegroupUsage.subnetIds also lists subnets its nodes are in.
      subnetIds: managed?.subnets?.length ? managed.subnets : ng.subnetIds,
      subnets: ctx.usage.subnets,
      networkInterfaces: ctx.inventory.networkInterfaces,
      newNodes: scaling.desiredSize,
      demand,
      marginIps: ctx.policy.actions.prefixDelegation.overlapMarginIps ?? DEFAULT_OVERLAP_MARGIN_IPS,
      marginKey: 'actions.prefixDelegation.overlapMarginIps',
    });
    blockers.push(...room.blockers);
    // The old nodes at the same pods, each in its own mode, give back what they hold once gone.
    const oldBySubnet = new Map<string, number>();
    let oldTotal = 0;
    for (const node of nodes) {
      const cap = capOf(node.instanceType) ?? first;
      if (!cap) continue;
      const prefixDelegation = node.mode === 'prefix';
      const pods = node.limits?.maxPods ?? maxPods(cap, prefixDelegation ? prefixOpts : secondaryOpts);
      const holding = holdingFor(cap, Math.min(load, pods), { ...base, prefixDelegation, maxPods: pods, ...nodeEnisOf(node) });
      oldTotal += holding.subnetIps;
      if (node.subnetId) oldBySubnet.set(node.subnetId, (oldBySubnet.get(node.subnetId) ?? 0) + nodeSubnetIps(holding, customNetworking));
    }
    const steady = steadyStateBySubnet(oldBySubnet, room, demand.subnetIps);
    predictedAddresses = {
      ipsFreed: oldTotal - scaling.desiredSize * demand.holding.subnetIps,
      ipsFreedBySubnet: steady,
      overlapIpsBySubnet: room.overlapBySubnet,
    };
    const after = Object.entries(steady)
      .map(([id, v]) => `${v < 0 ? `${-v} more` : `${v} fewer`} in ${id}`)
      .join(', ');
    addressText =
      `; at ${demand.pods} pods a new node holds ${demand.holding.prefixes} /28 prefix${demand.holding.prefixes === 1 ? '' : 'es'} and ${demand.holding.enis} ENI${demand.holding.enis === 1 ? '' : 's'} (${demand.subnetIps} addresses): ` +
      `while the new nodes run beside the old ones they take up to ${overlapText(room) || 'nothing'}; once the old nodes are gone the nodes hold ${after || 'the same addresses as now'}`;
  }

  const change: NodegroupReplacementChange = {
    type: 'replace-nodegroup',
    nodegroup: ng.name,
    newNodegroup,
    fromInstanceTypes: types,
    toInstanceTypes: types,
    ranking: [],
    scaling,
    ...(capacity ? { capacity } : {}),
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
      ...predictedAddresses,
      text:
        `Rolling ${ng.name} onto new nodes (${types.join(', ')}, same settings) gives about +${gained} pods of headroom (${perNode} per node); ` +
        `${capacity ? capacityText(capacity) : 'capacity unchanged (same instance types, same node count)'}${addressText}.`,
    },
    blockers,
  };
}
