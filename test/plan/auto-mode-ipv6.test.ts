/**
 * EKS Auto Mode, Karpenter and IPv6 clusters (issue 13, items 7 and 10), end to end on the emulated
 * account: collected through the live source, measured, diagnosed, planned and reported. Each
 * refusal is checked against the same cluster without the feature, where the action is proposed.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { remediate } from '../../lib/act/remediate';
import { RecordingSource, writeSnapshot } from '../../lib/inventory/capture';
import { readSnapshot } from '../../lib/inventory/snapshot';
import { LiveSource } from '../../lib/aws/live-source';
import { diagnose } from '../../lib/diagnose/diagnose';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import { clusterNetworkOf, cniActionsExclusion } from '../../lib/inventory/cluster-network';
import { collectInventory } from '../../lib/inventory/collect';
import type { Inventory } from '../../lib/inventory/types';
import { measure } from '../../lib/measure/measure';
import type { ClusterUsage } from '../../lib/measure/types';
import { renderPlan } from '../../lib/output/report/plan';
import { renderReport } from '../../lib/output/report/text';
import { planInstanceTypes } from '../../lib/plan/instance-types';
import { planPrefixDelegation } from '../../lib/plan/prefix-delegation';
import { planPrefixRollout } from '../../lib/plan/prefix-rollout';
import type { PlanContext } from '../../lib/plan/types';
import { planWarmTargets } from '../../lib/plan/warm-targets';
import { effectivePolicy } from '../../lib/policy/load';
import { readPolicyFile } from '../../lib/policy/yaml';
import { emulateAccount } from '../../tools/mock-aws';
import { buildAccount, type ClusterSpec } from '../../tools/synthetic-account';

const NOW = new Date('2026-11-26T12:00:00Z');
const ADDON = { version: 'v1.19.2-eksbuild.1' };

/**
 * A scarce pod subnet (a /25 with `unaccounted` addresses taken outside the account: 7 free with two
 * m5.large at their limit, 30 addresses each) and a nodegroup whose nodes are all at their ENI limit.
 */
function cluster(name: string, extra: Partial<ClusterSpec> = {}, launcher: 'managed' | 'karpenter' | 'auto-mode' = 'managed', unaccounted = 55): ClusterSpec {
  return {
    name,
    version: '1.31',
    mode: 'secondary',
    addon: ADDON,
    subnets: [
      { name: 'a', az: 0, prefixLength: 25, unaccounted, controlPlaneEnis: 1 },
      { name: 'b', az: 1, prefixLength: 22, controlPlaneEnis: 1 },
    ],
    nodegroups: [{ name: 'workers', instanceTypes: ['m5.large'], nodes: 4, subnets: ['a', 'b'], atEniLimit: 4, launcher }],
    ...extra,
  };
}

async function collect(clusters: ClusterSpec[]): Promise<{ inventory: Inventory; calls: Record<string, number> }> {
  const account = buildAccount({ seed: 7, clusters });
  const aws = emulateAccount(account);
  try {
    const inventory = await collectInventory(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1'), { clusterNames: [], concurrency: 2, now: NOW });
    return { inventory, calls: { ...aws.calls } };
  } finally {
    aws.restore();
  }
}

const policy = readPolicyFile('policy.yml');

async function run(clusters: ClusterSpec[]) {
  const { inventory, calls } = await collect(clusters);
  const usage = measure(inventory);
  const findings = diagnose(usage, inventory, DEFAULT_THRESHOLDS);
  const source = { describeSubnetsById: () => Promise.resolve([]) } as unknown as LiveSource;
  const plans = await remediate({ policy, baseThresholds: DEFAULT_THRESHOLDS, source }, usage, inventory, findings, NOW);
  return { inventory, usage, findings, plans, calls };
}

function planContext(r: Awaited<ReturnType<typeof run>>, name: string, network?: Partial<NonNullable<ClusterUsage['network']>>): PlanContext {
  const usage = r.usage.clusters.find((c) => c.name === name);
  const inv = r.inventory.clusters.find((c) => c.name === name);
  if (!usage || !inv) throw new Error(`no cluster ${name}`);
  return {
    usage: network ? { ...usage, network: { ...clusterNetworkOf(inv.cluster), ...network } } : usage,
    inventory: inv,
    instanceTypes: r.inventory.instanceTypes,
    findings: r.findings.filter((f) => f.cluster === name),
    policy: effectivePolicy(policy, name, DEFAULT_THRESHOLDS),
    now: NOW,
  };
}

describe('recognising the cluster network from DescribeCluster', () => {
  it('reads Auto Mode from computeConfig.enabled, with its storage and load balancing capabilities', () => {
    expect(
      clusterNetworkOf({
        computeConfig: { enabled: true, nodePools: ['general-purpose', 'system'] },
        storageConfig: { blockStorage: { enabled: true } },
        kubernetesNetworkConfig: { ipFamily: 'ipv4', elasticLoadBalancing: { enabled: true } },
      }),
    ).toEqual({ autoMode: true, autoModeBlockStorage: true, autoModeLoadBalancing: true, autoModeNodePools: ['general-purpose', 'system'], ipFamily: 'ipv4' });
    expect(clusterNetworkOf({ computeConfig: { enabled: false } }).autoMode).toBe(false);
    expect(clusterNetworkOf({}).autoMode).toBe(false);
  });

  it('reads the IP family, ipv4 unless DescribeCluster says ipv6', () => {
    expect(clusterNetworkOf({ kubernetesNetworkConfig: { ipFamily: 'ipv6' } }).ipFamily).toBe('ipv6');
    expect(clusterNetworkOf({ kubernetesNetworkConfig: {} }).ipFamily).toBe('ipv4');
  });

  it('says why the VPC CNI actions do not apply, and nothing for a VPC CNI IPv4 cluster', () => {
    expect(cniActionsExclusion(clusterNetworkOf({ computeConfig: { enabled: true } }))).toMatch(/^Auto Mode cluster: the CNI is managed by EKS/);
    expect(cniActionsExclusion(clusterNetworkOf({ kubernetesNetworkConfig: { ipFamily: 'ipv6' } }))).toMatch(/^IPv6 cluster: pods take IPv6/);
    expect(cniActionsExclusion(clusterNetworkOf({}))).toBeUndefined();
    expect(cniActionsExclusion(undefined)).toBeUndefined();
  });
});

describe('an EKS Auto Mode cluster', () => {
  let r: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    r = await run([cluster('auto-prod', { autoMode: true, addon: undefined, stream: 1 }, 'auto-mode'), cluster('cni-prod', { stream: 2 })]);
  });

  it('finds its nodes by eks:eks-cluster-name (they carry no kubernetes.io/cluster tag), with one more DescribeInstances for it alone', () => {
    const auto = r.inventory.clusters.find((c) => c.name === 'auto-prod');
    expect(auto?.problems).toEqual([]);
    expect(auto?.instances).toHaveLength(4);
    // cni-prod: one read by kubernetes.io/cluster; auto-prod: that one and one by eks:eks-cluster-name.
    expect(r.calls['DescribeInstances']).toBe(3);
  });

  it('groups its nodes by NodePool', () => {
    const usage = r.usage.clusters.find((c) => c.name === 'auto-prod');
    expect(usage?.network?.autoMode).toBe(true);
    expect(usage?.nodegroups.map((g) => [g.name, g.kind, g.nodes])).toEqual([['auto-mode:workers', 'auto-mode', 4]]);
  });

  it('proposes no warm targets, prefix delegation or rollout, and the plan says why; the VPC CNI cluster beside it gets them', () => {
    const auto = r.plans.find((p) => p.cluster === 'auto-prod');
    const cni = r.plans.find((p) => p.cluster === 'cni-prod');
    expect(cni?.planned.map((a) => a.kind)).toEqual(expect.arrayContaining(['warm-targets', 'prefix-delegation']));
    expect(auto?.planned.map((a) => a.kind).filter((k) => k === 'warm-targets' || k === 'prefix-delegation' || k === 'prefix-rollout')).toEqual([]);
    const plan = renderPlan(r.plans, 'policy.yml', { usage: r.usage, findings: r.findings });
    expect(plan).toMatch(/warm-targets[^\n]*Auto Mode cluster: the CNI is managed by EKS/);
  });

  it('each CNI planner refuses the Auto Mode network of a cluster it plans for otherwise', () => {
    for (const planner of [planWarmTargets, planPrefixDelegation]) {
      expect(planner(planContext(r, 'cni-prod')).length).toBeGreaterThan(0);
      expect(planner(planContext(r, 'cni-prod', { autoMode: true }))).toEqual([]);
    }
  });

  it('points the eni-limit fixes and the instance-type replacement at the NodePool', () => {
    const f = r.findings.find((x) => x.cluster === 'auto-prod' && x.kind === 'eni-limit');
    expect(f?.subject.id).toBe('auto-mode:workers');
    expect(f?.fixes[0]).toMatch(/EKS Auto Mode picks the instance types of NodePool workers/);
    const replacement = planInstanceTypes(planContext(r, 'auto-prod'))[0];
    expect(replacement?.blockers.join(' ')).toMatch(/EKS Auto Mode NodePool, not a managed nodegroup: EKS picks its instance types/);
  });

  it('words its subnet fixes for Auto Mode (no warm pool settings), and reports the cluster as Auto Mode', () => {
    const f = r.findings.find((x) => x.cluster === 'auto-prod' && x.kind === 'subnet-exhaustion' && x.subject.type === 'subnet');
    expect(f?.fixes[0]).toMatch(/^Auto Mode cluster: the CNI is managed by EKS \(no warm pool settings/);
    expect(f?.fixes.join(' ')).not.toMatch(/WARM_IP_TARGET/);
    const report = renderReport(r.usage, r.findings);
    expect(report).toContain('Auto Mode: compute, block storage, load balancing; NodePools general-purpose, system');
    expect(report).toMatch(/Note: Auto Mode cluster: the CNI is managed by EKS/);
  });
});

describe('a cluster with Karpenter nodes', () => {
  let r: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    r = await run([cluster('karp-prod', { stream: 3 }, 'karpenter')]);
  });

  it('groups them by NodePool from karpenter.sh/nodepool, read with the cluster tag alone', () => {
    const usage = r.usage.clusters[0];
    expect(usage?.nodegroups.map((g) => [g.name, g.kind, g.nodes])).toEqual([['karpenter:workers', 'karpenter', 4]]);
    expect(r.calls['DescribeInstances']).toBe(1);
  });

  it('names the NodePool in the eni-limit finding and its fixes, and blocks the replacement with the NodePool reason', () => {
    const f = r.findings.find((x) => x.kind === 'eni-limit');
    expect(f?.title).toContain('karpenter:workers');
    expect(f?.fixes[0]).toMatch(/^Karpenter picks the instance types of NodePool workers: change its requirements/);
    const replacement = r.plans[0]?.planned.find((a) => a.kind === 'instance-types');
    expect(replacement?.blockers.join(' ')).toMatch(/is a Karpenter NodePool, not a managed nodegroup/);
    expect(renderReport(r.usage, r.findings)).toMatch(/Note: karpenter:workers: nodes launched from a NodePool \(Karpenter\)/);
  });
});

describe('an IPv6 cluster', () => {
  let r: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    // IPv6 nodes hold one IPv4 each: 110 taken outside the account leave the /25 as scarce as the IPv4 cluster's.
    r = await run([cluster('v6-prod', { ipFamily: 'ipv6', stream: 4 }, 'managed', 110), cluster('v4-prod', { stream: 5 })]);
  });

  it('counts node IPv4 (one per node) and no pod IPv4', () => {
    const v6 = r.usage.clusters.find((c) => c.name === 'v6-prod');
    expect(v6?.network?.ipFamily).toBe('ipv6');
    expect(v6?.totals.podIps).toBe(0);
    const held = v6?.subnets.reduce((sum, s) => sum + s.held.NodePrimary, 0);
    expect(held).toBe(4);
  });

  it('gives no eni-limit or ips-held-by-others finding (the IPv4 cluster beside it has both), and words the subnet fixes for IPv6', () => {
    for (const kind of ['eni-limit', 'ips-held-by-others']) {
      expect(r.findings.filter((f) => f.cluster === 'v4-prod' && f.kind === kind)).not.toEqual([]);
      expect(r.findings.filter((f) => f.cluster === 'v6-prod' && f.kind === kind)).toEqual([]);
    }
    const f = r.findings.find((x) => x.cluster === 'v6-prod' && x.kind === 'subnet-exhaustion' && x.subject.type === 'subnet');
    expect(f?.fixes[0]).toMatch(/^IPv6 cluster: pods take IPv6 addresses/);
  });

  it('plans no CNI action, and the planners refuse the IPv6 network of a cluster they plan for otherwise', () => {
    const v6 = r.plans.find((p) => p.cluster === 'v6-prod');
    expect(v6?.planned.filter((a) => a.kind !== 'cni-subnets')).toEqual([]);
    expect(renderPlan(r.plans, 'policy.yml', { usage: r.usage, findings: r.findings })).toMatch(/prefix-delegation[^\n]*IPv6 cluster: pods take IPv6/);
    for (const planner of [planWarmTargets, planPrefixDelegation]) {
      expect(planner(planContext(r, 'v4-prod')).length).toBeGreaterThan(0);
      expect(planner(planContext(r, 'v4-prod', { ipFamily: 'ipv6' }))).toEqual([]);
    }
    expect(renderReport(r.usage, r.findings)).toContain('IP family: ipv6 (pods take IPv6; nodes still take IPv4 for their primary ENI)');
  });

  it('the prefix rollout refuses Auto Mode and IPv6 networks of a cluster it rolls otherwise', async () => {
    const pd = await run([cluster('pd-prod', { stream: 6, addon: { ...ADDON, configurationValues: { env: { ENABLE_PREFIX_DELEGATION: 'true' } } } })]);
    expect(planPrefixRollout(planContext(pd, 'pd-prod')).length).toBeGreaterThan(0);
    expect(planPrefixRollout(planContext(pd, 'pd-prod', { autoMode: true }))).toEqual([]);
    expect(planPrefixRollout(planContext(pd, 'pd-prod', { ipFamily: 'ipv6' }))).toEqual([]);
  });
});

describe('Auto Mode nodes in a capture and a snapshot', () => {
  const mixed = (): ClusterSpec => ({
    ...cluster('mixed-prod', { autoMode: true, stream: 7 }, 'auto-mode'),
    // Karpenter beside Auto Mode (a migration): its nodes carry both tags and are read by both reads.
    nodegroups: [
      { name: 'general-purpose', instanceTypes: ['m5.large'], nodes: 3, subnets: ['b'], launcher: 'auto-mode' },
      { name: 'legacy', instanceTypes: ['m5.large'], nodes: 2, subnets: ['b'], launcher: 'karpenter' },
    ],
  });

  it('reads each node once although both reads return the Karpenter ones', async () => {
    const { inventory } = await collect([mixed()]);
    const ids = inventory.clusters[0]?.instances.map((i) => i.InstanceId) ?? [];
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
  });

  it('captures them, and the snapshot replays them for the Auto Mode cluster only when asked as one', async () => {
    const account = buildAccount({ seed: 7, clusters: [mixed()] });
    const aws = emulateAccount(account);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'automode-'));
    try {
      const recording = new RecordingSource(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1'));
      const live = await collectInventory(recording, { clusterNames: [], concurrency: 1, now: NOW });
      await writeSnapshot(dir, recording, { region: 'eu-west-1', capturedAt: NOW.toISOString() });
      const replayed = await collectInventory(await readSnapshot(dir), { clusterNames: [], concurrency: 1, now: NOW });
      const idsOf = (inv: Inventory) => (inv.clusters[0]?.instances.map((i) => i.InstanceId ?? '') ?? []).sort();
      expect(idsOf(replayed)).toEqual(idsOf(live));
      expect(idsOf(live)).toHaveLength(5);
      expect(measure(replayed).clusters[0]?.nodegroups.map((g) => g.name)).toEqual(['auto-mode:general-purpose', 'karpenter:legacy']);
      // By the cluster tag alone, the Auto Mode nodes are not there.
      expect(await (await readSnapshot(dir)).describeClusterInstances('mixed-prod')).toHaveLength(2);
    } finally {
      aws.restore();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
