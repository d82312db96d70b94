/**
 * planPrefixDelegation: decision table on small hand-built worlds (test/diagnose/world.ts) and the
 * demo snapshot's payments-prod (api-m5l at its ENI limit).
 */
import path from 'node:path';
import { planPrefixDelegation } from '../../lib/plan/prefix-delegation';
import type { AddonEnvChange, PlanContext, ProposedAction } from '../../lib/plan/types';
import { diagnose } from '../../lib/diagnose/diagnose';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import { collectInventory } from '../../lib/inventory/collect';
import type { CniInstall, Nodegroup } from '../../lib/inventory/types';
import { DEFAULT_LEAKED_ENIS_POLICY, type EffectivePolicy, type PrefixDelegationPolicy } from '../../lib/policy/types';
import { readSnapshot } from '../../lib/inventory/snapshot';
import { measure } from '../../lib/measure/measure';
import { instanceTypes } from '../measure/builders';
import { AZ_A, managedCni, nodegroup, run, TYPES, World } from '../diagnose/world';

const NOW = new Date('2026-11-26T10:00:00Z');

function policyFor(cluster: string, actions: { prefixDelegation?: Partial<PrefixDelegationPolicy> } = {}): EffectivePolicy {
  return {
    cluster,
    mode: 'apply',
    thresholds: DEFAULT_THRESHOLDS,
    actions: {
      warmTargets: { allowed: false, cooldownMinutes: 60, warmIpTarget: { min: 2, max: 10 }, minimumIpTarget: { min: 0, max: 64 } },
      prefixDelegation: { allowed: true, cooldownMinutes: 60, warmPrefixTarget: { min: 1, max: 2 }, maxPods: { min: 0, max: 250 }, ...actions.prefixDelegation },
      cniSubnets: { allowed: false, cooldownMinutes: 60, spareSubnets: [], maxSubnetsPerAction: 1 },
      instanceTypes: { allowed: false, cooldownMinutes: 60, allowedTypes: [], maxInstanceTypes: 1 },
      leakedEnis: { ...DEFAULT_LEAKED_ENIS_POLICY },
    },
  };
}
const ALL_TYPES = { ...TYPES, ...instanceTypes('m4.xlarge') };

/**
 * Two nodes of nodegroup `ng` at their IP limit in a /24 with room: m5.large with 3 full ENIs
 * (27 secondaries, max pods 29), or t2.medium with 3 × 6.
 */
function world(
  o: { cni?: CniInstall; type?: string; declared?: string[]; ng?: Partial<Nodegroup>; fragmented?: boolean } = {},
): PlanContext {
  const type = o.type ?? 'm5.large';
  const per = type === 't2.medium' ? 6 : 10;
  const w = new World().addSubnet('subnet-a', '10.0.0.0/24', AZ_A);
  for (let i = 0; i < 2; i++) w.node({ cluster: 'prod', nodegroup: 'ng', type, subnetId: 'subnet-a', enis: [per, per, per] });
  if (o.fragmented) {
    // One address in every /28 above the nodes' addresses: no aligned block is left whole.
    w.other('subnet-a', 0, Array.from({ length: 12 }, (_, k) => `10.0.0.${16 * (k + 4) + 14}`));
  }
  const inventory = w.inventory({
    name: 'prod',
    subnets: [['subnet-a', ['node']]],
    nodegroups: [{ ...nodegroup('prod', 'ng', o.declared ?? [type], ['subnet-a'], 2), ...o.ng }],
    cni: o.cni ?? managedCni(),
  });
  const { usage, findings } = run(inventory, {}, ALL_TYPES);
  return { usage, inventory, instanceTypes: ALL_TYPES, findings, policy: policyFor('prod'), now: NOW };
}

const only = (out: ProposedAction[]): ProposedAction & { change: AddonEnvChange } => {
  expect(out).toHaveLength(1);
  const a = out[0] as ProposedAction;
  if (a.change.type !== 'addon-env') throw new Error('not an addon-env change');
  return a as ProposedAction & { change: AddonEnvChange };
};

describe('planPrefixDelegation', () => {
  it('turns prefix delegation on for a Nitro nodegroup at its ENI limit, with max pods and what the nodes need', () => {
    const a = only(planPrefixDelegation(world()));
    expect(a).toMatchObject({
      id: 'prod/prefix-delegation/vpc-cni',
      kind: 'prefix-delegation',
      subject: 'vpc-cni',
      findingIds: ['prod/eni-limit/ng'],
      blockers: [],
    });
    expect(a.change.set).toEqual({ ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' });
    expect(a.change.previous).toEqual({ ENABLE_PREFIX_DELEGATION: '', WARM_PREFIX_TARGET: '' });
    // m5.large: 3 × (10 − 1) × 16 + 2 = 434, capped at 110 (2 vCPUs); today 29: 81 more per node.
    expect(a.change.nodeChanges).toEqual([{ nodegroup: 'ng', maxPods: 110, note: expect.stringMatching(/^No custom launch template: EKS sets max pods \(110\)/) }]);
    expect(a.change.nodeChanges?.[0]?.note).toMatch(/replace them all/);
    expect(a.predicted.podHeadroomGained).toBe(162);
    // Pods per node: 2..27 rest at 3 full ENIs under WARM_ENI_TARGET=1, 15 in the middle. Today
    // 3 ENIs + 27 = 30 addresses; with prefixes 15 pods + WARM_PREFIX_TARGET=1 take 2 /28s on the
    // primary ENI: 1 + 32 = 33, 3 more per node.
    expect(a.predicted).toMatchObject({ ipsFreedBySubnet: { 'subnet-a': -6 }, ipsFreed: -6 });
  });

  it.each([
    ['AL2023_x86_64_STANDARD', /nodeadm NodeConfig spec\.kubelet\.config\.maxPods: 110/],
    ['AL2_x86_64', /\/etc\/eks\/bootstrap\.sh prod --use-max-pods false --kubelet-extra-args '--max-pods=110'/],
  ])('with a custom launch template (%s) names the user-data setting', (amiType, expected) => {
    const a = only(planPrefixDelegation(world({ ng: { amiType: amiType as Nodegroup['amiType'], launchTemplate: { name: 'ng-lt', version: '3', id: 'lt-0abc' } } })));
    const note = a.change.nodeChanges?.[0]?.note ?? '';
    expect(note).toMatch(/^Launch template ng-lt version 3: if it names an AMI ID/);
    expect(note).toMatch(expected);
  });

  it('with a custom AMI, says what nodeadm sets without maxPods: the secondary-IP figure (AL2023 is not prefix-aware)', () => {
    const a = only(planPrefixDelegation(world({ ng: { amiType: 'CUSTOM', launchTemplate: { name: 'ng-lt', version: '3', id: 'lt-0abc' } } })));
    expect(a.change.nodeChanges?.[0]?.note).toContain("(otherwise AL2023's nodeadm sets m5.large 29, the secondary-IP figure, prefix delegation or not)");
  });

  it('self-managed nodes: the plan text says nodeadm keeps them at ENIs × (IPv4 − 1) + 2 unless maxPods is set', () => {
    const pc = world();
    // The same nodes, launched by an Auto Scaling group of the operator's rather than a managed nodegroup.
    for (const i of pc.inventory.instances) {
      i.Tags = [
        { Key: 'aws:autoscaling:groupName', Value: 'al2023-workers' },
        { Key: 'kubernetes.io/cluster/prod', Value: 'owned' },
      ];
    }
    const inventory = { ...pc.inventory, nodegroups: [] };
    const { usage, findings } = run(inventory, {}, ALL_TYPES);
    const a = only(planPrefixDelegation({ ...pc, inventory, usage, findings }));
    expect(a.predicted.text).toContain(
      "asg:al2023-workers (not managed): set max pods on their nodes and replace them (AL2023's nodeadm otherwise sets ENIs × (IPv4 per ENI − 1) + 2, m5.large 29, whatever the mode: NodeConfig spec.kubelet.config.maxPods)",
    );
  });

  it.each<[string, Parameters<typeof world>[0], RegExp]>([
    ['a type that is not Nitro (declared)', { declared: ['m5.large', 'm4.xlarge'] }, /^nodegroup ng: m4\.xlarge is not Nitro/],
    ['nodes that are not Nitro', { type: 't2.medium' }, /^nodegroup ng: t2\.medium is not Nitro/],
    ['no free /28 block', { fragmented: true }, /^nodegroup ng in eu-west-1a: 0 free \/28 blocks in subnet-a for 2 nodes/],
  ])('blocks for %s', (_case, o, expected) => {
    const a = only(planPrefixDelegation(world(o)));
    expect(a.blockers).toHaveLength(1);
    expect(a.blockers[0]).toMatch(expected);
  });

  it('blocks when the policy’s max pods leave no gain', () => {
    const ctx = world();
    ctx.policy = policyFor('prod', { prefixDelegation: { maxPods: { min: 0, max: 29 } } });
    const a = only(planPrefixDelegation(ctx));
    expect(a.change.nodeChanges?.[0]?.maxPods).toBe(29);
    expect(a.predicted.podHeadroomGained).toBe(0);
    expect(a.blockers).toEqual(['nodegroup ng: prefixDelegation.maxPods.max = 29 gives no more pods than its nodes have now']);
  });

  it('bounds max pods by the policy', () => {
    const ctx = world();
    ctx.policy = policyFor('prod', { prefixDelegation: { maxPods: { min: 0, max: 60 }, warmPrefixTarget: { min: 2, max: 4 } } });
    const a = only(planPrefixDelegation(ctx));
    expect(a.change.nodeChanges?.[0]?.maxPods).toBe(60);
    expect(a.change.set['WARM_PREFIX_TARGET']).toBe('2');
    expect(a.predicted.podHeadroomGained).toBe(62);
  });

  it('gives the kubectl command and a blocker for a self-managed aws-node', () => {
    const a = only(planPrefixDelegation(world({ cni: { kind: 'self-managed' } })));
    expect(a.change.selfManagedCommand).toBe('kubectl -n kube-system set env daemonset/aws-node ENABLE_PREFIX_DELEGATION=true WARM_PREFIX_TARGET=1');
    expect(a.blockers).toEqual([expect.stringMatching(/^self-managed aws-node: run the command; the cluster's Kubernetes API is not read/)]);
  });

  it('targets the aws-node DaemonSet when the Kubernetes API read it, and proposes nothing once its env has prefix delegation on', () => {
    const ctx = world({ cni: { kind: 'self-managed' } });
    ctx.inventory = { ...ctx.inventory, kube: { readAt: '2026-11-26T09:59:00Z', access: { ok: true }, awsNode: { env: { WARM_PREFIX_TARGET: '2' } }, unread: [] } };
    const a = only(planPrefixDelegation(ctx));
    expect(a.change).toMatchObject({ target: 'aws-node', set: { ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' }, previous: { ENABLE_PREFIX_DELEGATION: '', WARM_PREFIX_TARGET: '2' } });
    expect(a.change.selfManagedCommand).toBeUndefined();
    expect(a.blockers).toEqual([]);
    ctx.inventory = { ...ctx.inventory, kube: { readAt: '2026-11-26T09:59:00Z', access: { ok: true }, awsNode: { env: { ENABLE_PREFIX_DELEGATION: 'true' } }, unread: [] } };
    expect(planPrefixDelegation(ctx)).toEqual([]);
  });

  it("blocks on an aws-node env value the CNI does not accept", () => {
    const ctx = world({ cni: { kind: 'self-managed' } });
    ctx.inventory = { ...ctx.inventory, kube: { readAt: '2026-11-26T09:59:00Z', access: { ok: true }, awsNode: { env: { ENABLE_POD_ENI: 'yes' } }, unread: [] } };
    expect(only(planPrefixDelegation(ctx)).blockers).toEqual([expect.stringMatching(/^aws-node's env has values the CNI does not accept: ENABLE_POD_ENI="yes"/)]);
  });

  it.each<[string, () => PlanContext]>([
    ['prefix delegation is already on', () => world({ cni: managedCni({ ENABLE_PREFIX_DELEGATION: 'true' }) })],
    ['the settings are unknown', () => world({ cni: { kind: 'unknown', reason: 'AccessDenied' } })],
    ['the policy does not allow it', () => ({ ...world(), policy: policyFor('prod', { prefixDelegation: { allowed: false } }) })],
    ['there is no eni-limit finding', () => ({ ...world(), findings: [] })],
  ])('proposes nothing when %s', (_case, make) => {
    expect(planPrefixDelegation(make())).toEqual([]);
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
      ctx = { usage: cluster, inventory, instanceTypes: inv.instanceTypes, findings: diagnose(usage, inv, DEFAULT_THRESHOLDS), policy: policyFor('payments-prod'), now: NOW };
    });

    it('proposes it for api-m5l, blocked by the full subnet in eu-west-1a', () => {
      const a = only(planPrefixDelegation(ctx));
      expect(a.findingIds).toEqual(['payments-prod/eni-limit/api-m5l']);
      expect(a.change.nodeChanges).toEqual([expect.objectContaining({ nodegroup: 'api-m5l', maxPods: 110 })]);
      // Ten m5.large nodes, 29 → 110 each.
      expect(a.predicted.podHeadroomGained).toBe(810);
      // subnet-0e59dfd0c9e3779b1 (7 free) has no whole /28 left for its five api-m5l nodes.
      expect(a.blockers).toEqual([
        expect.stringMatching(/^nodegroup api-m5l in eu-west-1a: 0 free \/28 blocks in subnet-0e59dfd0c9e3779b1 for 5 nodes/),
      ]);
      expect(a.predicted.ipsFreedBySubnet?.['subnet-0e59dfd0c9e3779b1']).toBeLessThan(0);
    });
  });
});
