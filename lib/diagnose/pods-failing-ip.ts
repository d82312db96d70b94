/**
 * pods-failing-ip: pods whose sandbox failed with the VPC CNI's IP-assignment error within the last
 * IP_FAILURE_WINDOW_MINUTES (lib/measure/kube-pods.ts), by nodegroup, node and cause, each cause tied to
 * the finding that explains it: the node's subnet scarce (subnet-exhaustion), the node at its ENI /
 * IP limit (eni-limit, max-pods-mismatch), or ipamd unreachable (aws-node not ready). Critical: pods
 * are not starting now. Runbook: docs/runbook.md, pods-failing-ip.
 */
import type { KubeIpFailure } from '../inventory/kube-types';
import type { NodeUsage } from '../measure/types';
import { finding, isScarce, list, n, plural, type ClusterContext } from './context';
import type { Finding } from './types';

/** Why a node's pods got no address, as far as the inventory explains it. */
type Diagnosis =
  | { why: 'subnet'; subnetIds: string[] }
  | { why: 'ip-limit' }
  | { why: 'ipamd' }
  | { why: 'warm-pool' }
  | { why: 'other' }
  | { why: 'unknown-node' };

/** The group a failure's node belongs to: its nodegroup, or `unknown` when no EC2 node matches its Node. */
const UNKNOWN_GROUP = '(node not matched)';

function diagnoseNode(ctx: ClusterContext, node: NodeUsage | undefined, cause: KubeIpFailure['cause']): Diagnosis {
  if (cause === 'ipamd-unreachable') return { why: 'ipamd' };
  if (cause === 'other') return { why: 'other' };
  if (!node) return { why: 'unknown-node' };
  if (node.atIpLimit) return { why: 'ip-limit' };
  // The subnets the node's ENIs are in, and its own: where ipamd would take a new address or ENI.
  const subnets = new Set<string>(node.subnetId ? [node.subnetId] : []);
  for (const [subnetId, held] of ctx.nodesBySubnet) if (held.some((x) => x.node.instanceId === node.instanceId)) subnets.add(subnetId);
  const scarce = [...subnets].filter((id) => {
    const s = ctx.subnetsById.get(id);
    return s !== undefined && isScarce(s, ctx.thresholds);
  });
  if (scarce.length > 0) return { why: 'subnet', subnetIds: scarce.sort() };
  return { why: 'warm-pool' };
}

function whyText(d: Diagnosis): string {
  switch (d.why) {
    case 'subnet':
      return `subnet ${list(d.subnetIds)} scarce: ipamd cannot get more addresses (see subnet-exhaustion)`;
    case 'ip-limit':
      return 'node at its ENI and IP limit: no further address slot (see eni-limit / max-pods-mismatch)';
    case 'ipamd':
      return 'ipamd unreachable: the aws-node pod on the node is not ready';
    case 'warm-pool':
      return 'no warm address when the pod started, though the node and its subnet have room: ipamd was still allocating (warm targets low, or EC2 throttling)';
    case 'other':
      return 'another IP-assignment error (see the message)';
    case 'unknown-node':
      return 'the Node matches no EC2 instance of the cluster';
  }
}

export function diagnosePodsFailingIp(ctx: ClusterContext): Finding[] {
  const kube = ctx.usage.kube;
  if (!kube?.eventsRead || kube.recentIpFailures.length === 0) return [];
  const byKubeName = new Map<string, NodeUsage>();
  for (const node of ctx.usage.nodes) if (node.kubeNodeName) byKubeName.set(node.kubeNodeName, node);
  const groups = new Map<string, { failure: KubeIpFailure; node?: NodeUsage; diagnosis: Diagnosis }[]>();
  for (const failure of kube.recentIpFailures) {
    const node = failure.node ? byKubeName.get(failure.node) : undefined;
    const group = node?.nodegroup ?? UNKNOWN_GROUP;
    groups.set(group, [...(groups.get(group) ?? []), { failure, node, diagnosis: diagnoseNode(ctx, node, failure.cause) }]);
  }
  return [...groups.entries()].map(([group, items]) => groupFinding(ctx, group, items, kube.failureWindowMinutes));
}

function groupFinding(
  ctx: ClusterContext,
  group: string,
  items: { failure: KubeIpFailure; node?: NodeUsage; diagnosis: Diagnosis }[],
  windowMinutes: number,
): Finding {
  const pods = new Set(items.flatMap((x) => x.failure.pods));
  const nodes = [...new Set(items.map((x) => x.failure.node ?? '(no node)'))].sort();
  const events = items.reduce((sum, x) => sum + x.failure.count, 0);
  const byWhy = new Map<string, { pods: Set<string>; nodes: Set<string>; d: Diagnosis }>();
  for (const x of items) {
    const key = x.diagnosis.why === 'subnet' ? `subnet:${x.diagnosis.subnetIds.join(',')}` : x.diagnosis.why;
    const entry = byWhy.get(key) ?? { pods: new Set<string>(), nodes: new Set<string>(), d: x.diagnosis };
    for (const p of x.failure.pods) entry.pods.add(p);
    entry.nodes.add(x.failure.node ?? '(no node)');
    byWhy.set(key, entry);
  }
  const causes = [...byWhy.values()].sort((a, b) => b.pods.size - a.pods.size);
  const evidence: Record<string, number | string> = {
    nodegroup: group,
    podsFailing: pods.size,
    nodes: nodes.length,
    events,
    windowMinutes,
    lastSeen: items.map((x) => x.failure.lastSeen).sort().at(-1) ?? '',
  };
  for (const c of causes) evidence[`cause:${c.d.why === 'subnet' ? `subnet ${c.d.subnetIds.join(',')}` : c.d.why}`] = c.pods.size;
  const scarce = [...new Set(causes.flatMap((c) => (c.d.why === 'subnet' ? c.d.subnetIds : [])))];
  if (scarce.length > 0) evidence['relatedSubnets'] = scarce.join(',');

  const evidenceText = [
    `${plural(pods.size, 'pod')} on ${plural(nodes.length, 'node')} failed to get an address in the last ${windowMinutes} minutes (${plural(events, 'event')} FailedCreatePodSandBox).`,
    ...causes.map((c) => `${plural(c.pods.size, 'pod')} on ${list([...c.nodes].slice(0, 3))}${c.nodes.size > 3 ? ` and ${c.nodes.size - 3} more` : ''}: ${whyText(c.d)}.`),
    `Example: ${items[0]?.failure.message ?? ''}`,
  ];
  const main = causes[0]?.d;
  const label = group === UNKNOWN_GROUP ? 'Nodes not matched to EC2' : `Nodegroup ${group}`;
  return finding(ctx, {
    kind: 'pods-failing-ip',
    severity: 'critical',
    subject: { type: 'nodegroup', id: group },
    title: `${label}: ${plural(pods.size, 'pod')} failing IP assignment on ${plural(nodes.length, 'node')} (last ${windowMinutes} min)${main ? `: ${shortWhy(main)}` : ''}`,
    evidence,
    evidenceText,
    fixes: causes.flatMap((c) => fixFor(ctx, c.d, [...c.nodes])).filter((f, i, all) => all.indexOf(f) === i),
  });
}

function shortWhy(d: Diagnosis): string {
  switch (d.why) {
    case 'subnet':
      return `subnet ${list(d.subnetIds)} scarce`;
    case 'ip-limit':
      return 'nodes at their IP limit';
    case 'ipamd':
      return 'ipamd unreachable';
    case 'warm-pool':
      return 'warm pool empty';
    case 'other':
      return 'CNI error';
    case 'unknown-node':
      return 'node not matched';
  }
}

function fixFor(ctx: ClusterContext, d: Diagnosis, nodes: string[]): string[] {
  switch (d.why) {
    case 'subnet':
      return d.subnetIds.map((id) => `Free or add addresses for subnet ${id} (${n(ctx.subnetsById.get(id)?.available ?? 0)} free): the fixes of the subnet-exhaustion finding ${ctx.usage.name}/subnet-exhaustion/${id}.`);
    case 'ip-limit':
      return [
        'The nodes have no address slot left: lower the kubelet max pods to what their IPs serve, or give them more (prefix delegation, types with more IPs per ENI): the fixes of the eni-limit and max-pods-mismatch findings.',
      ];
    case 'ipamd':
      return [
        `Check aws-node on ${list(nodes.slice(0, 3))}: kubectl -n kube-system get pods -l k8s-app=aws-node -o wide --field-selector spec.nodeName=${nodes[0] ?? '<node>'}, then its logs (ipamd must be ready before pods get addresses).`,
      ];
    case 'warm-pool':
      return ['ipamd had no warm address when the pods started: raise WARM_IP_TARGET / MINIMUM_IP_TARGET for bursts, and look for EC2 API throttling in ipamd\'s log (/var/log/aws-routed-eni/ipamd.log).'];
    case 'other':
      return ['Read the event message and ipamd\'s log on the node (/var/log/aws-routed-eni/ipamd.log) for the cause.'];
    case 'unknown-node':
      return ['The Nodes named by the events match no instance tagged for the cluster: check that the instances carry kubernetes.io/cluster/<name>.'];
  }
}
