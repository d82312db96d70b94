/**
 * Hand-built Kubernetes views (lib/inventory/kube-types.ts KubeClusterView) for the measure and
 * diagnose tests: what the snapshot reader and lib/kube hand the core, trimmed.
 */
import type { KubeClusterView, KubeIpFailure, KubeNode, KubeNodePods } from '../../lib/inventory/kube-types';

export const READ_AT = '2026-11-26T10:00:00.000Z';

/** A Node naming an EC2 instance (spec.providerID `aws:///<az>/<id>`), by the instance id. */
export function kubeNode(instanceId: string, o: Partial<KubeNode> = {}): KubeNode {
  return { name: `ip-${instanceId.slice(2, 10)}.eu-west-1.compute.internal`, instanceId, ready: true, ...o };
}

/** A view with access, the given Nodes, pods by node name (unlisted nodes run none) and failures. */
export function kubeView(o: {
  nodes?: KubeNode[];
  pods?: Record<string, Partial<KubeNodePods>> | null;
  ipFailures?: KubeIpFailure[] | null;
  readAt?: string;
} = {}): KubeClusterView {
  const pods =
    o.pods === null
      ? undefined
      : Object.fromEntries(Object.entries(o.pods ?? {}).map(([k, v]) => [k, { assignedIpv4: 0, awaitingIp: 0, hostNetwork: 0, ...v }]));
  return {
    readAt: o.readAt ?? READ_AT,
    access: { ok: true },
    nodes: o.nodes ?? [],
    ...(pods ? { pods } : {}),
    ...(o.ipFailures === null ? {} : { ipFailures: o.ipFailures ?? [] }),
    unread: [],
  };
}

/** A view of a cluster whose API could not be read. */
export function kubeDenied(reason: 'authentication-mode' | 'no-access-entry' = 'authentication-mode'): KubeClusterView {
  return {
    readAt: READ_AT,
    access: { ok: false, reason, detail: 'accessConfig.authenticationMode is CONFIG_MAP', fix: 'switch to API_AND_CONFIG_MAP' },
    unread: [],
  };
}

/** One group of failure events. `minutesAgo` before READ_AT. */
export function ipFailure(node: string | undefined, pods: string[], minutesAgo: number, cause: KubeIpFailure['cause'] = 'no-free-address'): KubeIpFailure {
  return {
    ...(node ? { node } : {}),
    cause,
    count: pods.length * 3,
    pods,
    lastSeen: new Date(Date.parse(READ_AT) - minutesAgo * 60_000).toISOString(),
    message:
      'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "0f3c": plugin type="aws-cni" name="aws-cni" failed (add): add cmd: failed to assign an IP address to container',
  };
}
