/**
 * max-pods-mismatch: the kubelet's max pods (the Node's status.capacity.pods, from Kubernetes) does
 * not fit the node's IP capacity: above what its pod address slots + the calculator's 2 host-network
 * pods can serve (the scheduler places pods that then fail "failed to assign an IP address"), or
 * far below what the max-pods calculator gives for its mode (nodes run half empty: more nodes, more
 * ENIs, more addresses for the same pods). One finding per nodegroup / NodePool, types listed.
 * Runbook: docs/runbook.md, max-pods-mismatch.
 */
import { HOST_NETWORK_PODS, maxPods, podIpSlots } from '../capacity/instance-type';
import type { NodeUsage } from '../measure/types';
import { finding, list, n, pct, plural, type ClusterContext } from './context';
import type { Finding, Severity } from './types';

/** One node's kubelet max pods against what its type's addresses serve, in its mode. */
interface NodeFit {
  node: NodeUsage;
  kubelet: number;
  /** Pod address slots (its mode, the CNI's MAX_ENI and custom networking, its trunk and unmanaged ENIs) + 2 host-network pods. */
  ipCapacity: number;
  /** What the EKS max-pods calculator gives (its mode, capped 110/250). */
  recommended: number;
  direction: 'over' | 'under' | 'fits';
}

function fitOf(ctx: ClusterContext, node: NodeUsage): NodeFit | undefined {
  const kubelet = node.kubeletMaxPods;
  if (kubelet === undefined || node.mode === undefined || node.enisUnread) return undefined;
  const cap = ctx.capacityOf(node.instanceType);
  if (!cap) return undefined;
  const cni = ctx.usage.cni;
  const opts = { prefixDelegation: node.mode === 'prefix', customNetworking: cni.customNetworking === true, maxEni: cni.maxEni };
  // [calculator] `max pods = slots + 2`: aws-node and kube-proxy use the host network and take no pod
  // address (lib/capacity/instance-type.ts HOST_NETWORK_PODS). With this node's trunk / unmanaged ENIs.
  const ipCapacity = podIpSlots(cap, opts, { trunkEnis: node.trunkEnis ?? 0, unmanagedEnis: node.unmanagedEnis ?? 0 }) + HOST_NETWORK_PODS;
  const recommended = Math.min(maxPods(cap, { ...opts, applyKubeletCap: true }), ipCapacity);
  const direction = kubelet > ipCapacity ? 'over' : kubelet < ctx.thresholds.maxPodsWasteShare * recommended ? 'under' : 'fits';
  return { node, kubelet, ipCapacity, recommended, direction };
}

/** `29` or `29–58`. */
function span(values: number[]): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? n(lo) : `${n(lo)}–${n(hi)}`;
}

export function diagnoseMaxPodsMismatch(ctx: ClusterContext): Finding[] {
  // IPv6 pods take IPv6 addresses: the node's IPv4 slots do not cap them. Auto Mode sets max pods itself.
  if (ctx.usage.network?.ipFamily === 'ipv6') return [];
  const byGroup = new Map<string, NodeFit[]>();
  for (const node of ctx.usage.nodes) {
    const fit = fitOf(ctx, node);
    if (!fit || fit.direction === 'fits') continue;
    if (ctx.usage.nodegroups.find((g) => g.name === node.nodegroup)?.kind === 'auto-mode') continue;
    byGroup.set(node.nodegroup, [...(byGroup.get(node.nodegroup) ?? []), fit]);
  }
  const failingNodes = new Set((ctx.usage.kube?.recentIpFailures ?? []).filter((f) => f.cause === 'no-free-address').map((f) => f.node));
  return [...byGroup.entries()].map(([group, fits]) => groupFinding(ctx, group, fits, failingNodes));
}

function groupFinding(ctx: ClusterContext, group: string, fits: NodeFit[], failingNodes: Set<string | undefined>): Finding {
  const over = fits.filter((f) => f.direction === 'over');
  const under = fits.filter((f) => f.direction === 'under');
  // Critical once it bites: a node over its IP capacity that has no slot left or pods failing for addresses.
  const biting = over.filter((f) => f.node.atIpLimit || failingNodes.has(f.node.kubeNodeName));
  const severity: Severity = biting.length > 0 ? 'critical' : 'warning';
  const ng = ctx.usage.nodegroups.find((g) => g.name === group);
  const label = ng?.kind === 'karpenter' ? `NodePool ${group.slice(group.indexOf(':') + 1)}` : `Nodegroup ${group}`;
  const types = [...new Set(fits.map((f) => f.node.instanceType))].sort();

  const evidence: Record<string, number | string> = {
    nodegroup: group,
    nodesOver: over.length,
    nodesUnder: under.length,
    nodesOverAndBiting: biting.length,
    wasteShare: ctx.thresholds.maxPodsWasteShare,
  };
  const evidenceText: string[] = [];
  for (const type of types) {
    const here = fits.filter((f) => f.node.instanceType === type);
    const mode = here[0]?.node.mode ?? 'secondary-ip';
    evidence[`kubeletMaxPods:${type}`] = span(here.map((f) => f.kubelet));
    evidence[`ipCapacity:${type}`] = span(here.map((f) => f.ipCapacity));
    evidence[`recommended:${type}`] = span(here.map((f) => f.recommended));
    const o = here.filter((f) => f.direction === 'over');
    const u = here.filter((f) => f.direction === 'under');
    if (o.length > 0) {
      evidenceText.push(
        `${plural(o.length, `${type} node`)} (${mode}): kubelet max pods ${span(o.map((f) => f.kubelet))}, but the node's addresses serve ${span(o.map((f) => f.ipCapacity))} pods (pod address slots + ${HOST_NETWORK_PODS} host-network pods): up to ${span(o.map((f) => f.kubelet - f.ipCapacity))} pods per node can be scheduled that will get no address.`,
      );
    }
    if (u.length > 0) {
      evidenceText.push(
        `${plural(u.length, `${type} node`)} (${mode}): kubelet max pods ${span(u.map((f) => f.kubelet))}, under ${pct(ctx.thresholds.maxPodsWasteShare)} of the ${span(u.map((f) => f.recommended))} the EKS max-pods calculator gives for this mode: the nodes' addresses go unused while pods wait for new nodes.`,
      );
    }
  }
  if (biting.length > 0) {
    evidenceText.push(`${plural(biting.length, 'node')} over capacity already at the IP limit or with pods failing IP assignment: ${list(biting.slice(0, 3).map((f) => f.node.kubeNodeName ?? f.node.instanceId))}${biting.length > 3 ? ` and ${biting.length - 3} more` : ''}.`);
  }
  const title =
    over.length > 0
      ? `${label}: kubelet max pods ${span(over.map((f) => f.kubelet))} above the ${span(over.map((f) => f.ipCapacity))} pods the nodes' IPs serve on ${plural(over.length, 'node')}: pods will fail to get addresses`
      : `${label}: kubelet max pods ${span(under.map((f) => f.kubelet))} under ${pct(ctx.thresholds.maxPodsWasteShare)} of the ${span(under.map((f) => f.recommended))} the nodes' IPs allow on ${plural(under.length, 'node')}: capacity wasted`;
  return finding(ctx, {
    kind: 'max-pods-mismatch',
    severity,
    subject: { type: 'nodegroup', id: group },
    title,
    evidence,
    evidenceText,
    fixes: fixesFor(ctx, group, over, under),
  });
}

/**
 * Where a nodegroup's kubelet max pods is set, and to what.
 * - [karpenter] Karpenter v1 sets kubelet settings on the EC2NodeClass, `spec.kubelet.maxPods`
 *   (https://karpenter.sh/v1.9/concepts/nodeclasses/, "spec.kubelet"); without it Karpenter uses the
 *   instance type's ENI-limited max pods (aws/karpenter-provider-aws pkg/providers/instancetype
 *   types.go `pods`: `kc.MaxPods` when set, else `ENILimitedPods` where the AMI family supports it).
 * - [nodeadm] AL2023: NodeConfig `spec.kubelet.config.maxPods`
 *   (https://awslabs.github.io/amazon-eks-ami/nodeadm/doc/api/); AL2: bootstrap.sh
 *   `--use-max-pods false --kubelet-extra-args '--max-pods=N'` (awslabs/amazon-eks-ami
 *   templates/al2/runtime/bootstrap.sh, as lib/plan/prefix-delegation.ts cites).
 * - [lt] a managed nodegroup takes new user data through a new launch template version, then rolls its
 *   nodes (https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html).
 */
function fixesFor(ctx: ClusterContext, group: string, over: NodeFit[], under: NodeFit[]): string[] {
  const ng = ctx.usage.nodegroups.find((g) => g.name === group);
  const fixes: string[] = [];
  const target = over.length > 0 ? Math.min(...over.map((f) => f.ipCapacity)) : Math.min(...under.map((f) => f.recommended));
  const verb = over.length > 0 ? `at most ${n(target)}` : `${n(target)} (the calculator's figure for the mode)`;
  if (ng?.kind === 'karpenter') {
    const poolName = group.slice(group.indexOf(':') + 1);
    const pool = ctx.inventory.kube?.karpenter?.nodePools.find((p) => p.name === poolName);
    const nodeClass = pool?.nodeClassRef?.name;
    const set = ctx.inventory.kube?.karpenter?.nodeClasses.find((c) => c.name === nodeClass)?.kubeletMaxPods;
    fixes.push(
      `Set EC2NodeClass ${nodeClass ?? '<the NodePool\'s nodeClassRef>'} spec.kubelet.maxPods${set !== undefined ? ` (now ${n(set)})` : ''} to ${verb}, or remove it so that Karpenter sizes max pods from each instance type's ENI limits; Karpenter then replaces the drifted nodes.`,
    );
    if (over.length > 0) {
      fixes.push(
        `Or keep the value and restrict NodePool ${poolName}'s requirements to instance types whose IPs serve it (e.g. karpenter.k8s.aws/instance-size NotIn ${list([...new Set(over.map((f) => f.node.instanceType.split('.')[1] ?? ''))])}).`,
      );
    }
  } else {
    const howNodes = ng?.kind === 'managed' ? 'then update the nodegroup to that version (EKS replaces the nodes)' : 'then replace the nodes (an Auto Scaling instance refresh)';
    fixes.push(
      `Set the kubelet max pods to ${verb} in ${ng?.kind === 'managed' ? `nodegroup ${group}'s launch template` : 'the nodes\' launch template'} user data: AL2023 nodeadm NodeConfig spec.kubelet.config.maxPods; AL2 bootstrap.sh --use-max-pods false --kubelet-extra-args '--max-pods=N'; ${howNodes}.`,
    );
  }
  if (over.length > 0 && ctx.usage.cni.prefixDelegation !== true && over.some((f) => f.node.mode === 'secondary-ip' && ctx.capacityOf(f.node.instanceType)?.nitro)) {
    fixes.push('Or give the nodes the addresses instead: prefix delegation (ENABLE_PREFIX_DELEGATION=true, Nitro types) gives each ENI slot 16 addresses, on nodes launched after the change.');
  }
  return fixes;
}
