/**
 * The demo snapshot's Kubernetes part (scripts/make-demo-snapshot.ts `demoKubernetes`), read with a
 * minimal local parse of its RAW files (this test only: the real reader is lib/inventory/kube-trim.ts
 * and the snapshot source), then measured and diagnosed as the pipeline does: the demo shows exact
 * warm vs assigned, max-pods-mismatch and pods-failing-ip, and its numbers are consistent.
 */
import { readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import type { KubeClusterView, KubeIpFailure, KubeNodePods, KubeRequirement } from '../../lib/inventory/kube-types';
import type { Inventory } from '../../lib/inventory/types';
import { measure } from '../../lib/measure/measure';
import type { Usage } from '../../lib/measure/types';
import { diagnose } from '../../lib/diagnose/diagnose';
import { DEFAULT_THRESHOLDS, type Finding } from '../../lib/diagnose/types';
import { buildMetricData, METRIC } from '../../lib/output/publish/metrics';
import { podIpUseLine } from '../../lib/output/report/text';

const DEMO = path.join(__dirname, '..', '..', 'events', 'demo-snapshot');

/** A field of raw JSON by its path; undefined when any step is missing. */
function at(o: unknown, ...keys: string[]): unknown {
  let x = o;
  for (const k of keys) x = x !== null && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined;
  return x;
}
const str = (o: unknown, ...keys: string[]): string => String(at(o, ...keys) ?? '');
const items = (o: unknown): unknown[] => (at(o, 'items') as unknown[] | undefined) ?? [];

function read(cluster: string, file: string): unknown {
  const p = path.join(DEMO, 'kubernetes', cluster, file);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as unknown) : undefined;
}

/** Just enough of the trim for this test: Nodes, pods per node, the IP failures, Karpenter. */
function localView(cluster: string): KubeClusterView | undefined {
  if (!existsSync(path.join(DEMO, 'kubernetes', cluster))) return undefined;
  const access = read(cluster, 'access.json');
  if (access) return { readAt: '2026-11-26T10:00:00Z', access: access as KubeClusterView['access'], unread: [] };
  const nodes = items(read(cluster, 'nodes.json')).map((n) => ({
    name: str(n, 'metadata', 'name'),
    instanceId: str(n, 'spec', 'providerID').split('/').pop(),
    nodegroup: at(n, 'metadata', 'labels', 'eks.amazonaws.com/nodegroup') as string | undefined,
    nodePool: at(n, 'metadata', 'labels', 'karpenter.sh/nodepool') as string | undefined,
    maxPods: Number(str(n, 'status', 'capacity', 'pods')),
  }));
  const pods: Record<string, KubeNodePods> = {};
  for (const p of items(read(cluster, 'pods.json'))) {
    const on = (pods[str(p, 'spec', 'nodeName')] ??= { assignedIpv4: 0, awaitingIp: 0, hostNetwork: 0 });
    if (at(p, 'spec', 'hostNetwork') === true) on.hostNetwork++;
    else if (at(p, 'status', 'podIP')) on.assignedIpv4++;
    else on.awaitingIp++;
  }
  const failures = new Map<string, KubeIpFailure>();
  for (const e of items(read(cluster, 'events.json'))) {
    if (str(e, 'reason') !== 'FailedCreatePodSandBox' || !str(e, 'message').includes('failed to assign an IP address to container')) continue;
    const node = str(e, 'source', 'host');
    const f = failures.get(node) ?? { node, cause: 'no-free-address', count: 0, pods: [], lastSeen: '', message: str(e, 'message') };
    f.count += Number(at(e, 'count'));
    f.pods.push(`${str(e, 'involvedObject', 'namespace')}/${str(e, 'involvedObject', 'name')}`);
    if (str(e, 'lastTimestamp') > f.lastSeen) f.lastSeen = str(e, 'lastTimestamp');
    failures.set(node, f);
  }
  const pools = read(cluster, 'nodepools.json');
  const classes = read(cluster, 'ec2nodeclasses.json');
  return {
    readAt: '2026-11-26T10:00:00Z',
    access: { ok: true },
    nodes,
    pods,
    ipFailures: [...failures.values()],
    karpenter:
      str(pools, 'kind') === 'Status'
        ? null
        : {
            nodePools: items(pools).map((p) => ({
              name: str(p, 'metadata', 'name'),
              nodeClassRef: at(p, 'spec', 'template', 'spec', 'nodeClassRef') as { name: string },
              requirements: at(p, 'spec', 'template', 'spec', 'requirements') as KubeRequirement[],
            })),
            nodeClasses: items(classes).map((c) => ({
              name: str(c, 'metadata', 'name'),
              subnetSelectorTerms: at(c, 'spec', 'subnetSelectorTerms') as { id?: string }[],
              resolvedSubnets: at(c, 'status', 'subnets') as { id: string }[],
              kubeletMaxPods: at(c, 'spec', 'kubelet', 'maxPods') as number | undefined,
            })),
          },
    unread: [],
  };
}

let inv: Inventory;
let usage: Usage;
let findings: Finding[];
beforeAll(async () => {
  const source = await readSnapshot(DEMO);
  const collected = await collectInventory(source, { clusterNames: [], concurrency: 2, now: new Date('2026-11-26T10:00:00Z'), network: true });
  inv = { ...collected, clusters: collected.clusters.map((c) => ({ ...c, kube: localView(c.name) })) };
  usage = measure(inv);
  findings = diagnose(usage, inv, DEFAULT_THRESHOLDS);
});

const cluster = (name: string) => usage.clusters.find((c) => c.name === name)!;

describe('the demo snapshot\'s Kubernetes part', () => {
  it('is consistent with the EC2 part: every Node names a node instance, and no node has more pods with an address than it holds', () => {
    for (const name of ['payments-prod', 'events-karpenter']) {
      const view = inv.clusters.find((c) => c.name === name)!.kube!;
      const ids = new Set(inv.clusters.find((c) => c.name === name)!.instances.map((i) => i.InstanceId));
      for (const n of view.nodes ?? []) expect(ids.has(n.instanceId)).toBe(true);
      for (const node of cluster(name).nodes) {
        if (node.podIpUse?.source !== 'kubernetes') continue;
        expect(node.podIpUse.assigned).toBeLessThanOrEqual(node.podIps);
      }
    }
  });

  it('gives exact warm vs assigned where Kubernetes has the node, the estimate where not, and says which', () => {
    expect(cluster('payments-prod').podIpUse).toMatchObject({ nodesKubernetes: 19, nodesEstimated: 1 });
    expect(podIpUseLine(cluster('payments-prod'))).toMatch(/^Pod IPs: warm \d+(–\d+)? \/ assigned \d+(–\d+)? \(Kubernetes: 19 of 20 nodes; 1 estimated\)$/);
    expect(podIpUseLine(cluster('events-karpenter'))).toMatch(/\(exact, from Kubernetes: 6 of 6 nodes\)$/);
    expect(podIpUseLine(cluster('batch-dev'))).toContain('estimated by the ipamd model: Kubernetes not readable (authentication-mode: ');
  });

  it('shows pods failing IP assignment in the scarce subnet (and leaves out the failure of 50 minutes ago)', () => {
    const f = findings.find((x) => x.id === 'payments-prod/pods-failing-ip/general-m5xl');
    expect(f).toMatchObject({ severity: 'critical', evidence: { podsFailing: 3, relatedSubnets: 'subnet-0e59dfd0c9e3779b1' } });
    expect(findings.filter((x) => x.kind === 'pods-failing-ip').map((x) => x.id).sort()).toEqual([
      'events-karpenter/pods-failing-ip/karpenter:default',
      'payments-prod/pods-failing-ip/general-m5xl',
    ]);
    const metrics = buildMetricData(usage).filter((d) => d.MetricName === METRIC.PodsFailingIpAssignment);
    expect(metrics.map((d) => [d.Dimensions?.[0]?.Value, d.Value])).toEqual([['payments-prod', 3], ['events-karpenter', 2]]);
  });

  it('shows the EC2NodeClass whose kubelet maxPods is above what the NodePool\'s m5.large nodes serve', () => {
    const f = findings.find((x) => x.id === 'events-karpenter/max-pods-mismatch/karpenter:default');
    expect(f?.severity).toBe('critical');
    expect(f?.title).toBe("NodePool default: kubelet max pods 58 above the 29 pods the nodes' IPs serve on 4 nodes: pods will fail to get addresses");
    expect(f?.fixes[0]).toContain('Set EC2NodeClass default spec.kubelet.maxPods (now 58) to at most 29');
    // payments-prod's nodes have the calculator's max pods: no mismatch there.
    expect(findings.filter((x) => x.kind === 'max-pods-mismatch' && x.cluster !== 'events-karpenter')).toEqual([]);
  });
});
