/**
 * The demo snapshot's Kubernetes part (scripts/make-demo-snapshot.ts `demoKubernetes`), read by the
 * snapshot source (lib/inventory/snapshot-kube.ts, kube-trim.ts) and measured and diagnosed as the
 * pipeline does: the demo shows exact warm vs assigned, max-pods-mismatch and pods-failing-ip, and
 * its numbers are consistent.
 */
import * as path from 'node:path';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import type { Inventory } from '../../lib/inventory/types';
import { measure } from '../../lib/measure/measure';
import type { Usage } from '../../lib/measure/types';
import { diagnose } from '../../lib/diagnose/diagnose';
import { DEFAULT_THRESHOLDS, type Finding } from '../../lib/diagnose/types';
import { buildMetricData, METRIC } from '../../lib/output/publish/metrics';
import { podIpUseLine } from '../../lib/output/report/text';

const DEMO = path.join(__dirname, '..', '..', 'events', 'demo-snapshot');

let inv: Inventory;
let usage: Usage;
let findings: Finding[];
beforeAll(async () => {
  const source = await readSnapshot(DEMO);
  const collected: Inventory = await collectInventory(source, { clusterNames: [], concurrency: 2, now: new Date('2026-11-26T10:00:00Z'), network: true });
  inv = collected;
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
