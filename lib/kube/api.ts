/**
 * The writes of the executors on one cluster (KubeApi): GET, and server-side apply as PATCH
 * `application/apply-patch+yaml` with fieldManager eks-ip-responder and force=false, so a field
 * another manager owns answers 409 with its name (https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts).
 * JSON is YAML, so the body is sent as JSON. And the KubeConnector that opens a cluster for them.
 */
import type { Cluster } from '@aws-sdk/client-eks';
import { KUBE_FIELD_MANAGER, KubeApiError, type KubeApi, type KubeConnector, type KubeObjectRef } from '../inventory/kube-types';
import { authenticationModeAccess, KubeClient, kubeEndpointOf } from './client';

/** `/api/v1/...` for the core group, `/apis/<group>/<version>/...` otherwise. */
export function objectPath(ref: KubeObjectRef): string {
  const base = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  const ns = ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
  return `${base}${ns}/${ref.plural}/${encodeURIComponent(ref.name)}`;
}

export class KubeWriteApi implements KubeApi {
  constructor(private readonly client: KubeClient) {}

  async get(ref: KubeObjectRef): Promise<Record<string, unknown> | undefined> {
    try {
      return (await this.client.request({ method: 'GET', path: objectPath(ref) })) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async apply(ref: KubeObjectRef, body: Record<string, unknown>, options: { dryRun?: boolean } = {}): Promise<Record<string, unknown>> {
    const metadata = { ...((body['metadata'] as Record<string, unknown> | undefined) ?? {}), name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) };
    return (await this.client.request({
      method: 'PATCH',
      path: objectPath(ref),
      query: { fieldManager: KUBE_FIELD_MANAGER, force: 'false', dryRun: options.dryRun ? 'All' : undefined },
      contentType: 'application/apply-patch+yaml',
      body: { ...body, apiVersion: ref.apiVersion, kind: ref.kind, metadata },
    })) as Record<string, unknown>;
  }
}

/** Opens clusters for writes with the functions' own token; rejects naming the access problem. */
export function kubeConnector(options: { token: (clusterName: string) => Promise<string>; timeoutMs: number; enabled?: (clusterName: string) => boolean }): KubeConnector {
  return async (cluster: Cluster) => {
    const name = cluster.name ?? '';
    if (options.enabled && !options.enabled(name)) throw new Error(`cluster ${name}: Kubernetes access is not enabled (stage parameter kubernetesClusters)`);
    const mode = authenticationModeAccess(cluster);
    if (mode && !mode.ok) throw new Error(`${mode.detail}; fix: ${mode.fix}`);
    const endpoint = kubeEndpointOf(cluster, () => options.token(name), options.timeoutMs);
    if ('problem' in endpoint) throw new Error(endpoint.problem);
    return new KubeWriteApi(new KubeClient(endpoint));
  };
}
