/**
 * A small typed client of one cluster's API server: GET, server-side apply PATCH, and lists read
 * in pages of `limit` with `continue`, bounded by a deadline. And what a failure says about access
 * (KubeAccess: the reason and its fix), from the error and the DescribeCluster answer.
 */
import type { Cluster } from '@aws-sdk/client-eks';
import { KubeApiError, type KubeAccess } from '../inventory/kube-types';
import { KubeConnectionError, kubeRequest, type KubeEndpoint, type KubeRequest } from './http';

/** Items per list page: large enough that pages grow with thousands of objects, small enough to parse one at a time. */
export const KUBE_PAGE_LIMIT = 500;

/** The deadline passed before a request could start. */
export class KubeDeadlineError extends Error {
  override readonly name = 'KubeDeadlineError';
}

/** A Kubernetes list answer, as far as paging reads it. */
export interface KubeList {
  apiVersion?: string;
  kind?: string;
  metadata?: { continue?: string; resourceVersion?: string };
  items?: unknown[];
}

export interface ListOptions {
  deadlineAt?: number;
  /** Called before a list restarts from scratch (its pages so far are void). */
  onRestart?: () => void;
  now?: () => number;
}

/** Requests to one cluster. */
export class KubeClient {
  constructor(
    readonly endpoint: KubeEndpoint,
    private readonly now: () => number = Date.now,
  ) {}

  /** One request; with `deadlineAt`, none starts once it has passed and the timeout is cut to it. */
  async request(req: KubeRequest, deadlineAt?: number): Promise<unknown> {
    if (deadlineAt !== undefined) {
      const left = deadlineAt - this.now();
      if (left <= 0) throw new KubeDeadlineError(`${req.method} ${req.path}: the cycle's deadline passed before it started`);
      req = { ...req, timeoutMs: Math.min(req.timeoutMs ?? this.endpoint.timeoutMs, left) };
    }
    try {
      return await kubeRequest(this.endpoint, req);
    } catch (err) {
      // Cut by the deadline, not by the server's silence: the part is unread, access is not at fault.
      if (deadlineAt !== undefined && err instanceof KubeConnectionError && err.code === 'TIMEOUT' && this.now() >= deadlineAt) {
        throw new KubeDeadlineError(`${req.method} ${req.path}: the cycle's deadline passed while it ran`, { cause: err });
      }
      throw err;
    }
  }

  /**
   * Reads a list page by page (`limit`, then `continue`), handing each page to `onPage` and
   * keeping none. A continue token that expired answers 410 Gone (reason Expired): the list is
   * restarted once from scratch, as the API concepts page says a client must
   * (https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks);
   * a second 410 is thrown.
   */
  async list(path: string, query: Record<string, string | undefined>, onPage: (page: KubeList) => void, options: ListOptions = {}): Promise<void> {
    let restarted = false;
    let token: string | undefined;
    for (;;) {
      let page: KubeList;
      try {
        page = (await this.request({ method: 'GET', path, query: { ...query, limit: String(KUBE_PAGE_LIMIT), continue: token } }, options.deadlineAt)) as KubeList;
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 410 && !restarted) {
          restarted = true;
          token = undefined;
          options.onRestart?.();
          continue;
        }
        throw err;
      }
      onPage(page);
      token = page.metadata?.continue || undefined;
      if (!token) return;
    }
  }
}

/** The endpoint of a described cluster, or why it has none. */
export function kubeEndpointOf(cluster: Cluster, token: () => Promise<string>, timeoutMs: number): KubeEndpoint | { problem: string } {
  if (!cluster.endpoint) return { problem: `cluster ${cluster.name}: DescribeCluster gave no endpoint (status ${cluster.status ?? 'unknown'})` };
  const data = cluster.certificateAuthority?.data;
  if (!data) return { problem: `cluster ${cluster.name}: DescribeCluster gave no certificateAuthority.data` };
  return { url: cluster.endpoint, ca: Buffer.from(data, 'base64').toString('utf8'), token, timeoutMs };
}

/** Access entries need authentication mode API or API_AND_CONFIG_MAP (EKS user guide, "Grant IAM users access to Kubernetes with EKS access entries"). */
export function authenticationModeAccess(cluster: Cluster): KubeAccess | undefined {
  if (cluster.accessConfig?.authenticationMode !== 'CONFIG_MAP') return undefined;
  return {
    ok: false,
    reason: 'authentication-mode',
    detail: `cluster ${cluster.name}: authentication mode CONFIG_MAP: access entries are not used`,
    fix: `aws eks update-cluster-config --name ${cluster.name} --access-config authenticationMode=API_AND_CONFIG_MAP (keeps the aws-auth ConfigMap working; the change cannot be undone)`,
  };
}

// Node's TLS verification error codes (https://nodejs.org/api/tls.html, X509 error codes from OpenSSL).
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'TIMEOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * What a failed request says about access to the cluster, or undefined when it concerns only the
 * part being read (a 403 on one resource, a 404, a 410, a 5xx).
 */
export function accessOfError(err: unknown, cluster: Cluster): KubeAccess | undefined {
  const name = cluster.name ?? '?';
  const publicOff = cluster.resourcesVpcConfig?.endpointPublicAccess === false;
  if (err instanceof KubeApiError && err.status === 401) {
    return {
      ok: false,
      reason: 'no-access-entry',
      detail: `cluster ${name}: the API server refused the token (401 Unauthorized): the function's role has no access entry`,
      fix: `add ${name} to the stack parameter kubernetesClusters and deploy, or: aws eks create-access-entry --cluster-name ${name} --principal-arn <the function's role ARN> (docs/kubernetes.md)`,
    };
  }
  if (!(err instanceof KubeConnectionError)) return undefined;
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
    return {
      ok: false,
      reason: publicOff ? 'private-endpoint' : 'dns',
      detail: `cluster ${name}: ${err.message}`,
      fix: publicOff
        ? `the endpoint is private only: place the functions in the cluster's VPC (stage params vpcSubnetIds, vpcSecurityGroupIds) with enableDnsHostnames and enableDnsSupport on, or turn public access on`
        : `check that ${cluster.endpoint ?? 'the endpoint'} resolves from the function (VPC DNS resolution, a Route 53 Resolver rule)`,
    };
  }
  if (TLS_CODES.has(err.code)) {
    return {
      ok: false,
      reason: 'tls',
      detail: `cluster ${name}: the server certificate did not verify against the cluster CA (${err.code})`,
      fix: 'a proxy or a network appliance may be intercepting TLS to the endpoint: let the function reach the API server directly',
    };
  }
  if (UNREACHABLE_CODES.has(err.code)) {
    return {
      ok: false,
      reason: publicOff ? 'private-endpoint' : 'unreachable',
      detail: `cluster ${name}: ${err.message}`,
      fix: publicOff
        ? `the endpoint is private only: place the functions in the cluster's VPC and allow TCP 443 from their security group in the cluster security group ${cluster.resourcesVpcConfig?.clusterSecurityGroupId ?? ''}`.trim()
        : `allow TCP 443 to the endpoint from the function: the cluster's publicAccessCidrs (${(cluster.resourcesVpcConfig?.publicAccessCidrs ?? []).join(', ') || 'not set'}) or, in a VPC, the cluster security group's inbound rule and a NAT route`,
    };
  }
  return { ok: false, reason: 'error', detail: `cluster ${name}: ${err.message}`, fix: 'see the detail; the next cycle retries' };
}

/** The access fix when every read was forbidden (403). */
export function forbiddenAccess(cluster: Cluster, detail: string): KubeAccess {
  const name = cluster.name ?? '?';
  return {
    ok: false,
    reason: 'forbidden',
    detail: `cluster ${name}: every read was forbidden (403): ${detail}`,
    fix: `associate a view policy with the access entry: aws eks associate-access-policy --cluster-name ${name} --principal-arn <the function's role ARN> --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy --access-scope type=cluster, or bind the ClusterRole of docs/kubernetes.md to the entry's Kubernetes group`,
  };
}
