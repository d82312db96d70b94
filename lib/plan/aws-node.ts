/**
 * A self-managed VPC CNI seen through the cluster's Kubernetes API: whether the planners may set
 * its env on kube-system/aws-node themselves (server-side apply, lib/act/execute-aws-node.ts), and
 * the settings its env holds. Pure.
 * Design: docs/remediation.md#self-managed-aws-node-server-side-apply
 */
import type { ClusterInventory } from '../inventory/types';
import { readCniSettings, type CniSettings } from '../measure/cni-settings';

/** Whether aws-node can be changed through the Kubernetes API, and if not, why. */
export type AwsNodeTarget =
  | { writable: true; env: Record<string, string>; settings: CniSettings }
  | { writable: false; reason: string };

/**
 * The aws-node DaemonSet as a target of env changes. Writable only when the cluster's Kubernetes
 * API could be read (access ok) and kube-system/aws-node was read; otherwise the reason, with the
 * fix where the reader gave one.
 */
export function awsNodeTargetOf(inventory: ClusterInventory): AwsNodeTarget {
  const kube = inventory.kube;
  if (!kube) {
    return {
      writable: false,
      reason: "the cluster's Kubernetes API is not read (it is not among the stack's kubernetesClusters: no access entry), so the responder cannot change aws-node itself",
    };
  }
  if (!kube.access.ok) {
    return { writable: false, reason: `the cluster's Kubernetes API cannot be reached (${kube.access.reason}: ${kube.access.detail}); fix: ${kube.access.fix}` };
  }
  if (kube.awsNode === null) return { writable: false, reason: 'kube-system/aws-node does not exist in the cluster (another CNI, or EKS Auto Mode)' };
  if (kube.awsNode === undefined) {
    const why = kube.unread.find((u) => u.part === 'aws-node');
    return { writable: false, reason: `kube-system/aws-node could not be read${why ? ` (${why.status ? `${why.status}: ` : ''}${why.message})` : ''}` };
  }
  return { writable: true, env: kube.awsNode.env, settings: awsNodeSettingsOf(kube.awsNode.env) };
}

/**
 * The CNI settings of an aws-node env: parsed and defaulted as ipamd does (lib/measure/cni-settings.ts
 * reads the add-on's `env` document the same way: the add-on's env is aws-node's env, EKS writes it
 * into the DaemonSet).
 */
export function awsNodeSettingsOf(env: Record<string, string>): CniSettings {
  return readCniSettings({ kind: 'managed', addon: {}, configurationValues: { env } });
}

/** The current values of env keys of aws-node ('' when unset). */
export function previousAwsNodeEnv(env: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k, env[k] ?? '']));
}
