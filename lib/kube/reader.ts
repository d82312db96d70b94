/**
 * The KubernetesReader: reads one cluster's API (nodes, pods, IP-failure events, aws-node,
 * ENIConfigs, Karpenter NodePools and EC2NodeClasses) in pages, trims them (lib/inventory/kube-trim.ts)
 * as they arrive, and says per part what could not be read. Nodes are read first: when they fail
 * for access (401, DNS, TLS, unreachable) nothing else is asked. Design: docs/kubernetes.md.
 */
import type { Cluster } from '@aws-sdk/client-eks';
import { KubeApiError, type KubeAccess, type KubeClusterView, type KubePart, type KubernetesReader, type KubeUnread } from '../inventory/kube-types';
import {
  ipFailuresOf,
  newIpFailureTally,
  newPodTally,
  tallyIpFailureEvents,
  tallyPods,
  trimAwsNode,
  trimEniConfigs,
  trimNodeClasses,
  trimNodePools,
  trimNodes,
  type PodTally,
} from '../inventory/kube-trim';
import { mapLimit } from '../map-limit';
import { accessOfError, authenticationModeAccess, forbiddenAccess, KubeClient, KubeDeadlineError, kubeEndpointOf, type KubeList } from './client';

/** The API paths read, one per part (core/v1, apps/v1, and the CRDs' groups and versions). */
export const KUBE_PATHS: Record<KubePart, string> = {
  nodes: '/api/v1/nodes',
  pods: '/api/v1/pods',
  events: '/api/v1/events',
  'aws-node': '/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node',
  eniconfigs: '/apis/crd.k8s.amazonaws.com/v1alpha1/eniconfigs',
  nodepools: '/apis/karpenter.sh/v1/nodepools',
  ec2nodeclasses: '/apis/karpenter.k8s.aws/v1/ec2nodeclasses',
};

/** Server-side filters: pods that may hold an address; events of failed sandboxes only. */
export const KUBE_FIELD_SELECTORS: Partial<Record<KubePart, string>> = {
  pods: 'status.phase!=Succeeded,status.phase!=Failed',
  events: 'reason=FailedCreatePodSandBox',
};

export interface KubeReaderOptions {
  /** The bearer token of a cluster (lib/kube/token.ts EksTokenCache). */
  token: (clusterName: string) => Promise<string>;
  /** Per request. */
  timeoutMs: number;
  /** Parts read at once after the nodes (default 3). */
  concurrency?: number;
  now?: () => number;
  /**
   * Clusters whose API may be read (the stack's access entries); absent: all. Others answer
   * access `not-enabled` without a call.
   */
  enabled?: (clusterName: string) => boolean;
}

/** A Status object for a captured error answer (the snapshot layout's convention). */
function statusObject(err: KubeApiError): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: err.status, reason: err.reason, message: err.message };
}

export class KubeReader implements KubernetesReader {
  constructor(private readonly options: KubeReaderOptions) {}

  async read(cluster: Cluster, opts: { deadlineAt?: number; onRaw?: (part: KubePart, raw: unknown) => void } = {}): Promise<KubeClusterView> {
    const now = this.options.now ?? Date.now;
    const name = cluster.name ?? '';
    const done = (access: KubeAccess, rest: Partial<KubeClusterView> = {}, unread: KubeUnread[] = []): KubeClusterView => ({
      readAt: new Date(now()).toISOString(),
      access,
      ...rest,
      unread,
    });
    if (this.options.enabled && !this.options.enabled(name)) {
      return done({
        ok: false,
        reason: 'not-enabled',
        detail: `cluster ${name} is not among the stack's kubernetesClusters`,
        fix: `add ${name} to the stage parameter kubernetesClusters (or '*') and deploy: the stack makes its access entry`,
      });
    }
    const modeAccess = authenticationModeAccess(cluster);
    if (modeAccess) return done(modeAccess);
    const endpoint = kubeEndpointOf(cluster, () => this.options.token(name), this.options.timeoutMs);
    if ('problem' in endpoint) return done({ ok: false, reason: 'error', detail: endpoint.problem, fix: 'wait for the cluster to be ACTIVE' });
    const client = new KubeClient(endpoint, now);
    const { deadlineAt } = opts;
    // Raw pages are joined only when capturing.
    const raw = opts.onRaw;

    /** Reads a list part page by page into `onPage`; raw pages joined only when capturing. */
    const readList = async (part: KubePart, onPage: (items: unknown[]) => void, onRestart?: () => void): Promise<void> => {
      let joined: KubeList | undefined;
      const selector = KUBE_FIELD_SELECTORS[part];
      await client.list(
        KUBE_PATHS[part],
        selector ? { fieldSelector: selector } : {},
        (page) => {
          const items = page.items ?? [];
          onPage(items);
          if (raw) joined = joined ? { ...joined, items: [...(joined.items ?? []), ...items] } : { ...page, metadata: { ...page.metadata, continue: undefined }, items: [...items] };
        },
        {
          ...(deadlineAt !== undefined ? { deadlineAt } : {}),
          onRestart: () => {
            joined = undefined;
            onRestart?.();
          },
        },
      );
      if (raw && joined) raw(part, { ...joined, metadata: { resourceVersion: joined.metadata?.resourceVersion } });
    };

    const view: Partial<KubeClusterView> = {};
    const unread: KubeUnread[] = [];
    const failures: { part: KubePart; err: unknown }[] = [];
    let answered = 0;
    /** Runs a part; a 404 gives `absent()`, any failure is kept for the verdict below. */
    const attempt = async (part: KubePart, fn: () => Promise<void>, absent?: () => void): Promise<boolean> => {
      try {
        await fn();
        answered += 1;
        return true;
      } catch (err) {
        if (err instanceof KubeApiError && raw) raw(part, statusObject(err));
        if (err instanceof KubeApiError && err.status === 404 && absent) {
          absent();
          return true;
        }
        failures.push({ part, err });
        return false;
      }
    };

    // Nodes first: a cluster that cannot be read at all fails here, after one request.
    await attempt('nodes', async () => {
      const items: unknown[] = [];
      await readList('nodes', (page) => items.push(...trimNodes(page)), () => (items.length = 0));
      view.nodes = items as KubeClusterView['nodes'];
    });
    const first = failures[0];
    const blocked = first && accessOfError(first.err, cluster);
    if (blocked) return done(blocked);

    let pods: PodTally | undefined;
    const failuresTally = newIpFailureTally();
    let eventsRead = false;
    const nodePools: NonNullable<KubeClusterView['karpenter']>['nodePools'] = [];
    const nodeClasses: NonNullable<KubeClusterView['karpenter']>['nodeClasses'] = [];
    let karpenterAbsent = false;
    let nodePoolsRead = false;
    let nodeClassesRead = false;
    const tasks: (() => Promise<unknown>)[] = [
      () =>
        attempt('pods', async () => {
          let tally = newPodTally();
          await readList('pods', (page) => tallyPods(tally, page), () => (tally = newPodTally()));
          pods = tally;
        }),
      () =>
        attempt('events', async () => {
          await readList('events', (page) => tallyIpFailureEvents(failuresTally, page), () => (failuresTally.events.length = 0));
          eventsRead = true;
        }),
      () =>
        attempt(
          'aws-node',
          async () => {
            const ds = await client.request({ method: 'GET', path: KUBE_PATHS['aws-node'] }, deadlineAt);
            raw?.('aws-node', ds);
            view.awsNode = trimAwsNode(ds);
          },
          () => (view.awsNode = null),
        ),
      () =>
        attempt(
          'eniconfigs',
          async () => {
            const items: unknown[] = [];
            await readList('eniconfigs', (page) => items.push(...trimEniConfigs(page)), () => (items.length = 0));
            view.eniConfigs = items as KubeClusterView['eniConfigs'];
          },
          () => (view.eniConfigs = null),
        ),
      () =>
        attempt(
          'nodepools',
          async () => {
            await readList('nodepools', (page) => nodePools.push(...trimNodePools(page)), () => (nodePools.length = 0));
            nodePoolsRead = true;
          },
          () => (karpenterAbsent = true),
        ),
      () =>
        attempt(
          'ec2nodeclasses',
          async () => {
            await readList('ec2nodeclasses', (page) => nodeClasses.push(...trimNodeClasses(page)), () => (nodeClasses.length = 0));
            nodeClassesRead = true;
          },
          // Karpenter on another provider, or its AWS CRD missing: NodePools without classes.
          () => (nodeClassesRead = true),
        ),
    ];
    await mapLimit(tasks, this.options.concurrency ?? 3, (task) => task());

    if (pods) view.pods = pods.byNode;
    if (eventsRead) view.ipFailures = ipFailuresOf(failuresTally, pods?.awaiting);
    if (karpenterAbsent) view.karpenter = null;
    else if (nodePoolsRead && nodeClassesRead) view.karpenter = { nodePools, nodeClasses };

    for (const { part, err } of failures) {
      const access = accessOfError(err, cluster);
      if (access) return done(access);
      unread.push({
        part,
        message: err instanceof KubeDeadlineError ? err.message : err instanceof Error ? err.message : String(err),
        ...(err instanceof KubeApiError ? { status: err.status } : {}),
      });
    }
    // Nothing answered but 403s (a CRD's 404 may come before authorization): the entry has no rights.
    if (answered === 0 && failures.length > 0 && failures.every((f) => f.err instanceof KubeApiError && f.err.status === 403)) {
      return done(forbiddenAccess(cluster, first?.err instanceof Error ? first.err.message : ''), {}, unread);
    }
    return done({ ok: true }, view, unread);
  }
}
