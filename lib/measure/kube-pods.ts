/**
 * What the cluster's Kubernetes API adds to a node's figures: the pods that hold one of its pod
 * addresses (exact assigned and warm, instead of the ipamd model's range), the kubelet's max pods,
 * and the IP-assignment failures seen lately. Pure.
 *
 * Design: docs/models.md#libmeasurekube-podsts-exact-pod-addresses-from-kubernetes
 */
import type { NetworkCapacity } from '../capacity/instance-type';
import type { KubeClusterView, KubeIpFailure, KubeNode, KubeNodePods } from '../inventory/kube-types';
import { CNI_DEFAULT_IPAMD_CONFIG, estimateWarm, ipamdConfigOf } from '../ipamd/model';
import type { CniSettings } from './cni-settings';
import type { ClusterKubeUsage, ClusterPodIpUse, NodeUsage } from './types';

/**
 * IP-assignment failures count as "now" when last seen within this many minutes of the read: three
 * samples at the default 5-minute schedule. The kubelet retries a failed sandbox on the pod's next
 * sync (never more than `MaxContainerBackOff` = 300 s apart, kubernetes/kubernetes pkg/kubelet), and
 * its event recorder lets an event about an object through at least every 5 minutes even once the
 * spam filter's burst of 25 is spent (kubernetes/client-go tools/record/events_cache.go:
 * `defaultSpamBurst = 25`, `defaultSpamQPS = 1. / 300.`): a pod still failing shows within 15
 * minutes, and one that got its address drops out.
 */
export const IP_FAILURE_WINDOW_MINUTES = 15;

/** The Kubernetes Nodes by the EC2 instance their spec.providerID names; empty when not read. */
export function kubeNodesByInstance(view: KubeClusterView | undefined): Map<string, KubeNode> {
  const out = new Map<string, KubeNode>();
  if (!view?.access.ok) return out;
  for (const node of view.nodes ?? []) if (node.instanceId) out.set(node.instanceId, node);
  return out;
}

/** The pods by node name, when the API was read and answered both Nodes and Pods; else undefined. */
export function kubePodsOf(view: KubeClusterView | undefined): Record<string, KubeNodePods> | undefined {
  if (!view || !view.access.ok || view.pods === undefined || view.nodes === undefined) return undefined;
  return view.pods;
}

/**
 * Sets a node's pod-address use: exact from Kubernetes when its Node and the pods were read
 * (assigned = pods off the host network with an IPv4 pod IP; warm = held − assigned, never below 0:
 * a pod of security groups for pods takes its address from a branch ENI, not from the node's), else
 * the ipamd model's range from what it holds (the cluster's CNI settings, the defaults when they
 * are not visible). The kubelet's max pods is set whenever the Node was read.
 */
export function applyKubeToNode(
  node: NodeUsage,
  pods: Record<string, KubeNodePods> | undefined,
  kubeNode: KubeNode | undefined,
  capacity: NetworkCapacity | undefined,
  cni: CniSettings,
): void {
  if (kubeNode) {
    node.kubeNodeName = kubeNode.name;
    if (kubeNode.maxPods !== undefined) node.kubeletMaxPods = kubeNode.maxPods;
  }
  if (pods && kubeNode) {
    // A node absent from the pods has none that matter for addresses.
    const on = pods[kubeNode.name] ?? { assignedIpv4: 0, awaitingIp: 0, hostNetwork: 0 };
    node.podIpsSource = 'kubernetes';
    node.podIpUse = {
      source: 'kubernetes',
      assigned: on.assignedIpv4,
      ...(node.enisUnread ? {} : { warm: Math.max(0, node.podIps - on.assignedIpv4) }),
      awaitingIp: on.awaitingIp,
      hostNetwork: on.hostNetwork,
    };
    return;
  }
  if (!capacity || node.enisUnread || node.mode === undefined) return;
  const base = ipamdConfigOf(cni) ?? CNI_DEFAULT_IPAMD_CONFIG;
  const est = estimateWarm(
    capacity,
    { enis: node.enis, secondaryIps: node.secondaryIps, prefixes: node.prefixes },
    {
      ...base,
      prefixDelegation: node.mode === 'prefix',
      // ipamd stops growing the pool at the kubelet's max pods: the Node's when read.
      maxPods: node.kubeletMaxPods ?? node.limits?.maxPods,
      trunkEnis: node.trunkEnis ?? 0,
      unmanagedEnis: node.unmanagedEnis ?? 0,
    },
  );
  node.podIpsSource = 'estimated';
  node.podIpUse = {
    source: 'estimated',
    assignedMin: est.podsMin,
    assignedMax: est.podsMax,
    warmMin: est.warmMin,
    warmMax: est.warmMax,
    consistent: est.consistent,
  };
}

/** The nodes' figures summed, with how many nodes each rests on; undefined when no node has any. */
export function clusterPodIpUse(nodes: readonly NodeUsage[]): ClusterPodIpUse | undefined {
  const out: ClusterPodIpUse = {
    nodesKubernetes: 0,
    nodesEstimated: 0,
    nodesUnmeasured: 0,
    assigned: 0,
    warm: 0,
    estimated: { assignedMin: 0, assignedMax: 0, warmMin: 0, warmMax: 0 },
  };
  for (const node of nodes) {
    const use = node.podIpUse;
    if (!use) {
      out.nodesUnmeasured++;
    } else if (use.source === 'kubernetes') {
      out.nodesKubernetes++;
      out.assigned += use.assigned;
      out.warm += use.warm ?? 0;
    } else {
      out.nodesEstimated++;
      out.estimated.assignedMin += use.assignedMin;
      out.estimated.assignedMax += use.assignedMax;
      out.estimated.warmMin += use.warmMin;
      out.estimated.warmMax += use.warmMax;
    }
  }
  return out.nodesKubernetes + out.nodesEstimated > 0 ? out : undefined;
}

/** Failures last seen within the window before `at` (an unparsable time is left out). */
export function recentIpFailures(failures: readonly KubeIpFailure[], at: string, windowMinutes = IP_FAILURE_WINDOW_MINUTES): KubeIpFailure[] {
  const end = Date.parse(at);
  if (Number.isNaN(end)) return [];
  const start = end - windowMinutes * 60_000;
  return failures.filter((f) => {
    const t = Date.parse(f.lastSeen);
    return !Number.isNaN(t) && t >= start;
  });
}

/** The Kubernetes part of a cluster's usage; undefined without one. */
export function measureKube(view: KubeClusterView | undefined): ClusterKubeUsage | undefined {
  if (!view) return undefined;
  const eventsRead = view.access.ok && view.ipFailures !== undefined;
  const recent = eventsRead ? recentIpFailures(view.ipFailures ?? [], view.readAt) : [];
  return {
    readAt: view.readAt,
    access: view.access,
    podsRead: kubePodsOf(view) !== undefined,
    eventsRead,
    recentIpFailures: recent,
    podsFailingIp: new Set(recent.flatMap((f) => f.pods)).size,
    failureWindowMinutes: IP_FAILURE_WINDOW_MINUTES,
  };
}
