/**
 * planWarmTargets: decision table on small hand-built worlds (test/diagnose/world.ts), figures
 * checked by hand with the ipamd model's rules, and the demo snapshot's payments-prod.
 */
import path from 'node:path';
import { planWarmTargets, podsEstimate } from '../../lib/plan/warm-targets';
import { networkCapacityOf } from '../../lib/capacity/instance-type';
import { instanceTypes } from '../measure/builders';
import { kubeNode, kubeView as kubeViewOf } from '../support/kube-view';
import type { PlanContext, ProposedAction } from '../../lib/plan/types';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import { diagnose } from '../../lib/diagnose/diagnose';
import { collectInventory } from '../../lib/inventory/collect';
import type { CniInstall } from '../../lib/inventory/types';
import { readSnapshot } from '../../lib/inventory/snapshot';
import { measure, measureCluster } from '../../lib/measure/measure';
import { DEFAULT_LEAKED_ENIS_POLICY, type ActionsPolicy, type EffectivePolicy } from '../../lib/policy/types';
import type { KubeClusterView } from '../../lib/inventory/kube-types';
import { AZ_A, managedCni, nodegroup, run, TYPES, World } from '../diagnose/world';

/** The Kubernetes view of a cluster whose aws-node (self-managed) has `env`. */
function kubeView(env: Record<string, string>): KubeClusterView {
  return { readAt: '2026-11-26T09:59:00Z', access: { ok: true }, awsNode: { env, version: '1.19.2' }, eniConfigs: [], unread: [] };
}

const NOW = new Date('2026-11-26T10:00:00Z');

function policyFor(cluster: string, actions: Partial<{ [K in keyof ActionsPolicy]: Partial<ActionsPolicy[K]> }> = {}): EffectivePolicy {
  return {
    cluster,
    mode: 'apply',
    thresholds: DEFAULT_THRESHOLDS,
    actions: {
      warmTargets: { allowed: true, cooldownMinutes: 60, warmIpTarget: { min: 2, max: 10 }, minimumIpTarget: { min: 0, max: 64 }, ...actions.warmTargets },
      prefixDelegation: { allowed: true, cooldownMinutes: 60, warmPrefixTarget: { min: 1, max: 2 }, maxPods: { min: 0, max: 250 }, ...actions.prefixDelegation },
      cniSubnets: { allowed: false, cooldownMinutes: 60, spareSubnets: [], maxSubnetsPerAction: 1, ...actions.cniSubnets },
      instanceTypes: { allowed: false, cooldownMinutes: 60, allowedTypes: [], maxInstanceTypes: 1, ...actions.instanceTypes },
      leakedEnis: { ...DEFAULT_LEAKED_ENIS_POLICY },
    },
  };
}

/**
 * Three m5.large nodes (3 ENIs × 10 IPs: 9 pod IPs per ENI) in a /24, each with two full ENIs
 * (18 secondary IPs), or in a /23 with five /28 prefixes on the primary ENI; the subnet filled to
 * `free` free addresses.
 */
function world(o: { cni?: CniInstall; free?: number; prefixes?: boolean } = {}): PlanContext {
  const w = new World().addSubnet('subnet-a', o.prefixes ? '10.0.0.0/23' : '10.0.0.0/24', AZ_A);
  for (let i = 0; i < 3; i++) {
    if (o.prefixes) w.node({ cluster: 'prod', nodegroup: 'ng', type: 'm5.large', subnetId: 'subnet-a', enis: [1], prefixes: [5] });
    else w.node({ cluster: 'prod', nodegroup: 'ng', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10] });
  }
  w.fillTo('subnet-a', o.free ?? 20);
  const inventory = w.inventory({
    name: 'prod',
    subnets: [['subnet-a', ['node']]],
    nodegroups: [nodegroup('prod', 'ng', ['m5.large'], ['subnet-a'], 3)],
    cni: o.cni ?? managedCni(),
  });
  const { usage, findings } = run(inventory);
  return { usage, inventory, instanceTypes: TYPES, findings, policy: policyFor('prod'), now: NOW };
}

const only = (out: ProposedAction[]): ProposedAction => {
  expect(out).toHaveLength(1);
  return out[0] as ProposedAction;
};

describe('planWarmTargets', () => {
  it('replaces WARM_ENI_TARGET=1 with small IP targets and predicts the addresses freed', () => {
    // Each node: 2 ENIs, 18 secondaries. Under WARM_ENI_TARGET=1 ipamd rests there for 1..9 pods
    // (a 9-IP spare ENI, and the second ENI kept by a pod): the middle is 5. With WARM_IP_TARGET=2,
    // MINIMUM_IP_TARGET=5 a node holds max(5 + 2, 5) = 7 secondaries on its primary ENI: 8 addresses
    // instead of 2 + 18 = 20, so 12 freed per node, 36 for three.
    const a = only(planWarmTargets(world()));
    expect(a).toMatchObject({
      id: 'prod/warm-targets/vpc-cni',
      kind: 'warm-targets',
      subject: 'vpc-cni',
      change: { type: 'addon-env', set: { WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '5' }, previous: { WARM_IP_TARGET: '', MINIMUM_IP_TARGET: '' } },
      predicted: { ipsFreedBySubnet: { 'subnet-a': 36 }, ipsFreed: 36 },
      blockers: [],
    });
    expect(a.findingIds).toContain('prod/subnet-exhaustion/subnet-a');
    expect(a.reason).toMatch(/WARM_ENI_TARGET=1/);
    expect(a.change.type === 'addon-env' && a.change.selfManagedCommand).toBeFalsy();
  });

  it('counts IP targets in prefix mode in addresses rounded up to /28s', () => {
    // Each node holds 5 /28s on its primary ENI under WARM_PREFIX_TARGET=4 (4 spare /28s): 1..16
    // pods, 9 in the middle (rounded). With WARM_IP_TARGET=2, MINIMUM_IP_TARGET=9: ceil(11 / 16) = 1
    // prefix, so 4 × 16 = 64 addresses freed per node.
    const cni = managedCni({ ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '4' });
    const a = only(planWarmTargets(world({ cni, prefixes: true })));
    expect(a.change).toMatchObject({ set: { WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '9' } });
    expect(a.predicted).toMatchObject({ ipsFreedBySubnet: { 'subnet-a': 192 }, ipsFreed: 192 });
  });

  it('clamps MINIMUM_IP_TARGET into the policy bounds and still proposes when it frees addresses', () => {
    const ctx = world();
    ctx.policy = policyFor('prod', { warmTargets: { minimumIpTarget: { min: 0, max: 3 } } });
    // max(5 + 2, 3) = 7: the same holding, the same gain.
    const a = only(planWarmTargets(ctx));
    expect(a.change).toMatchObject({ set: { WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '3' } });
    expect(a.predicted.ipsFreed).toBe(36);
    expect(a.blockers).toEqual([]);
  });

  it('blocks, naming the bound, when the bounds leave no gain', () => {
    const ctx = world();
    ctx.policy = policyFor('prod', { warmTargets: { minimumIpTarget: { min: 30, max: 40 } } });
    // MINIMUM_IP_TARGET=30 fills all three ENIs (27 secondaries): 30 addresses, 10 more per node.
    const a = only(planWarmTargets(ctx));
    expect(a.change).toMatchObject({ set: { MINIMUM_IP_TARGET: '30' } });
    expect(a.predicted.ipsFreedBySubnet).toEqual({ 'subnet-a': -30 });
    expect(a.blockers).toHaveLength(1);
    expect(a.blockers[0]).toMatch(/warmTargets\.minimumIpTarget 30\.\.40 makes MINIMUM_IP_TARGET=30 \(wanted 5\)/);
  });

  it('gives the kubectl command and a blocker for a self-managed aws-node', () => {
    const a = only(planWarmTargets(world({ cni: { kind: 'self-managed' } })));
    expect(a.change).toMatchObject({
      selfManagedCommand: 'kubectl -n kube-system set env daemonset/aws-node WARM_IP_TARGET=2 MINIMUM_IP_TARGET=5',
    });
    expect(a.blockers).toEqual([expect.stringMatching(/^self-managed aws-node: run the command; the cluster's Kubernetes API is not read \(it is not among the stack's kubernetesClusters/)]);
    expect(a.predicted.text).toMatch(/WARM_IP_TARGET=2, MINIMUM_IP_TARGET=5 frees 36 IPs/);
  });

  it('targets the aws-node DaemonSet when the Kubernetes API read it: its env as previous, no command, no blocker', () => {
    const ctx = world({ cni: { kind: 'self-managed' } });
    ctx.inventory = { ...ctx.inventory, kube: kubeView({ WARM_ENI_TARGET: '1', AWS_VPC_K8S_CNI_LOGLEVEL: 'DEBUG' }) };
    const a = only(planWarmTargets(ctx));
    expect(a.change).toEqual({ type: 'addon-env', set: { WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '5' }, previous: { WARM_IP_TARGET: '', MINIMUM_IP_TARGET: '' }, target: 'aws-node' });
    expect(a.blockers).toEqual([]);
    expect(a.reason).toMatch(/now WARM_IP_TARGET=unset, MINIMUM_IP_TARGET=unset, WARM_ENI_TARGET=1 \(self-managed aws-node, read through the Kubernetes API\)/);
  });

  it("proposes nothing for an aws-node whose env already holds the values (read through the Kubernetes API)", () => {
    const ctx = world({ cni: { kind: 'self-managed' } });
    ctx.inventory = { ...ctx.inventory, kube: kubeView({ WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '5' }) };
    expect(planWarmTargets(ctx)).toEqual([]);
  });

  it.each<[string, KubeClusterView]>([
    ['access is denied', { ...kubeView({}), access: { ok: false, reason: 'no-access-entry', detail: '401 Unauthorized', fix: 'run make grant' } }],
    ['aws-node does not exist', { ...kubeView({}), awsNode: null }],
    ['aws-node could not be read', { ...kubeView({}), awsNode: undefined, unread: [{ part: 'aws-node', status: 403, message: 'forbidden' }] }],
  ])('keeps the command and says why when %s', (_case, kube) => {
    const ctx = world({ cni: { kind: 'self-managed' } });
    ctx.inventory = { ...ctx.inventory, kube };
    const a = only(planWarmTargets(ctx));
    expect(a.change.type === 'addon-env' && a.change.selfManagedCommand).toBeTruthy();
    expect(a.change.type === 'addon-env' && a.change.target).toBeFalsy();
    expect(a.blockers).toEqual([expect.stringMatching(/^self-managed aws-node: run the command; (the cluster's Kubernetes API cannot be reached \(no-access-entry: 401 Unauthorized\); fix: run make grant|kube-system\/aws-node does not exist|kube-system\/aws-node could not be read \(403: forbidden\))/)]);
  });

  it.each<[string, (ctx: PlanContext) => PlanContext]>([
    ['the settings are unknown', () => world({ cni: { kind: 'unknown', reason: 'AccessDenied' } })],
    ['the values are already set', () => world({ cni: managedCni({ WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '5' }) })],
    ['no pod subnet is scarce', () => world({ free: 150 })],
    ['the policy does not allow it', (ctx) => ({ ...ctx, policy: policyFor('prod', { warmTargets: { allowed: false } }) })],
    // WARM_IP_TARGET=1: 18 secondaries rest there for 17..18 pods; WARM_IP_TARGET=2 (the policy's
    // minimum) would take more, and even 1 gains nothing.
    ['the gain is below one address', () => world({ cni: managedCni({ WARM_IP_TARGET: '1', MINIMUM_IP_TARGET: '4' }) })],
  ])('proposes nothing when %s', (_case, make) => {
    expect(planWarmTargets(make(world()))).toEqual([]);
  });

  describe('on the demo snapshot', () => {
    let ctx: PlanContext;
    beforeAll(async () => {
      const source = await readSnapshot(path.join(__dirname, '..', '..', 'events', 'demo-snapshot'));
      const inv = await collectInventory(source, { clusterNames: ['payments-prod'], concurrency: 1, now: NOW });
      const usage = measure(inv);
      const cluster = usage.clusters[0];
      const inventory = inv.clusters[0];
      if (!cluster || !inventory) throw new Error('payments-prod not in the demo snapshot');
      ctx = {
        usage: cluster,
        inventory,
        instanceTypes: inv.instanceTypes,
        findings: diagnose(usage, inv, DEFAULT_THRESHOLDS),
        policy: policyFor('payments-prod'),
        now: NOW,
      };
    });

    it('lowers payments-prod’s WARM_IP_TARGET 5 → 2 and keeps MINIMUM_IP_TARGET=10', () => {
      // Median estimated pods is 20: MINIMUM_IP_TARGET is not raised above the 10 already set.
      // In subnet-0e59dfd0c9e3779b1 (7 free) the two m5.xlarge nodes each hold 42 secondaries for 37
      // pods (37 + 5): 39 with WARM_IP_TARGET=2, 3 freed each; the five capped m5.large nodes are
      // full either way (pods 22..27, middle 25: 27 slots with WARM_IP_TARGET 5 or 2).
      const a = only(planWarmTargets(ctx));
      expect(a.change).toMatchObject({
        set: { WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '10' },
        previous: { WARM_IP_TARGET: '5', MINIMUM_IP_TARGET: '10' },
        addonVersion: 'v1.19.2-eksbuild.1',
      });
      expect(a.predicted.ipsFreedBySubnet?.['subnet-0e59dfd0c9e3779b1']).toBe(6);
      expect(a.blockers).toEqual([]);
      expect(a.findingIds).toContain('payments-prod/subnet-exhaustion/subnet-0e59dfd0c9e3779b1');
    });
  });
});

describe('planWarmTargets: the ipamd EC2 API budget (issue 13)', () => {
  const withBudget = (warmTargets: Partial<ActionsPolicy['warmTargets']>): PlanContext => {
    const pc = world();
    return { ...pc, policy: policyFor('prod', { warmTargets }) };
  };

  it('says in the prediction how many EC2 calls a minute ipamd would make, and lets a proposal within the budget through', () => {
    const a = only(planWarmTargets(withBudget({ ipamdCallsPerMinuteMax: 60, podStartsPerNodePerMinute: 1 })));
    expect(a.blockers).toEqual([]);
    expect(a.predicted.text).toMatch(/ipamd would make about [\d.]+ EC2 calls a minute .*3 of 3 nodes churning at an assumed 1 pod starts per node a minute; budget 60\./);
  });

  it('blocks a proposal whose modelled rate is above the policy budget, and names the floor that would fit', () => {
    // 3 nodes at 5 pods, WARM_IP_TARGET=2, MINIMUM_IP_TARGET=5: every node churns. At 6 starts a
    // minute each node makes 12(1-e^-0.5) + 2(1-e^-3) ≈ 6.6 calls: about 20, above a budget of 10.
    const a = only(planWarmTargets(withBudget({ ipamdCallsPerMinuteMax: 10, podStartsPerNodePerMinute: 6 })));
    expect(a.blockers).toEqual([
      expect.stringMatching(/^ipamd's modelled EC2 rate, 19\.\d calls a minute, is above the policy's budget of 10 \(warmTargets.ipamdCallsPerMinuteMax\).*MINIMUM_IP_TARGET=8 would fit the budget$/),
    ]);
  });

  it('says when the floor that would fit is above the policy bound', () => {
    const a = only(planWarmTargets(withBudget({ ipamdCallsPerMinuteMax: 10, podStartsPerNodePerMinute: 6, minimumIpTarget: { min: 0, max: 6 } })));
    expect(a.blockers.join('\n')).toMatch(/a MINIMUM_IP_TARGET of 8 would fit, above the policy's bound of 6/);
  });

  it('without the policy fields, takes the defaults (60 calls a minute, 0.5 starts per node a minute)', () => {
    const a = only(planWarmTargets(world()));
    expect(a.predicted.text).toMatch(/assumed 0\.5 pod starts per node a minute; budget 60\./);
  });
});

describe('issue 14: the pods a node runs, for the warm-target prediction', () => {
  const cap = networkCapacityOf(instanceTypes('m5.large')['m5.large']!);
  const base = { prefixDelegation: false, warmEniTarget: 1 };
  // A full m5.large: 27 secondary IPs; the ipamd model allows 2..27 pods (the middle: 15).

  it('takes Kubernetes\' exact count where the node has it, the model\'s middle elsewhere', () => {
    const w = new World().addSubnet('subnet-a', '10.0.0.0/24', AZ_A);
    const id = w.node({ cluster: 'c', nodegroup: 'g', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10, 10] });
    const inv = w.inventory({ name: 'c', subnets: [['subnet-a', ['node']]] });
    const types = instanceTypes('m5.large');
    const estimated = measureCluster(inv, types).nodes[0]!;
    expect(podsEstimate(cap, estimated, base)).toEqual({ pods: 15, consistent: true });
    const k = kubeNode(id);
    const exact = measureCluster({ ...inv, kube: kubeViewOf({ nodes: [k], pods: { [k.name]: { assignedIpv4: 21 } } }) }, types).nodes[0]!;
    expect(podsEstimate(cap, exact, base)).toEqual({ pods: 21, consistent: true });
  });
});
