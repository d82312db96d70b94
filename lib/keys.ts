/**
 * Keys that several layers compute alike: the key of a subnet's metric series (the forecast, its
 * history read and the metrics), and the idempotency token of one write of a change (the act
 * loop, the executors and the EKS adapter). A leaf: it imports nothing from lib/
 * (docs/architecture.md).
 */
import { createHash } from 'node:crypto';

/** The key of a subnet's series: `${clusterName}/${subnetId}`. EKS cluster names and subnet ids contain no '/'. */
export function subnetKey(clusterName: string, subnetId: string): string {
  return `${clusterName}/${subnetId}`;
}

/** The cluster name and subnet id of a `subnetKey`. */
export function parseSubnetKey(key: string): { clusterName: string; subnetId: string } {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1) throw new Error(`not a subnet key (<cluster>/<subnet id>): ${JSON.stringify(key)}`);
  return { clusterName: key.slice(0, slash), subnetId: key.slice(slash + 1) };
}

/**
 * A deterministic `clientRequestToken` for one step of one action: the hex SHA-256 of
 * `<actionId>#<step>` (64 characters). EKS documents the token as "a unique, case-sensitive
 * identifier that you provide to ensure the idempotency of the request" (EKS API reference,
 * CreateNodegroup, https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html):
 * a retry of the same step sends the same token, a different step or action another.
 */
export function clientRequestTokenFor(actionId: string, step: string): string {
  return createHash('sha256').update(`${actionId}#${step}`).digest('hex');
}
