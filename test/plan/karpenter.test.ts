/**
 * The karpenter-subnets and karpenter-instance-types planners over a cluster with Karpenter
 * (test/support/karpenter-cluster.ts), and their gates.
 */
import { minSpareFree } from '../../lib/plan/cni-subnets';
import { gateActions } from '../../lib/plan/gates';
import { planKarpenterInstanceTypes } from '../../lib/plan/karpenter-instance-types';
import { planKarpenterSubnets, planKarpenterSubnetsWith } from '../../lib/plan/karpenter-subnets';
import type { KarpenterRequirementsChange, KarpenterSubnetsChange } from '../../lib/plan/types';
import { CLUSTER, karpenterCluster, karpenterPolicy, SPARE_A, SUB_A, SUB_B } from '../support/karpenter-cluster';

describe('karpenter-subnets planner', () => {
  it('replaces the terms by ids: the scarce subnet out, the allow-listed one with room in its zone in; the previous terms kept for the revert', () => {
    const { ctx, spare } = karpenterCluster();
    const [p, ...rest] = planKarpenterSubnetsWith(ctx(karpenterPolicy()), [spare]);
    expect(rest).toEqual([]);
    const change = p?.change as KarpenterSubnetsChange;
    expect(change).toEqual({
      type: 'karpenter-subnet-terms',
      nodeClass: 'default',
      previousTerms: [{ tags: { 'karpenter.sh/discovery': CLUSTER } }],
      terms: [{ id: SPARE_A }, { id: SUB_B }].sort((a, b) => a.id.localeCompare(b.id)),
      removed: [SUB_A],
      added: [SPARE_A],
    });
    expect(p?.id).toBe(`${CLUSTER}/karpenter-subnets/default`);
    expect(p?.blockers).toEqual([]);
    // The pool's two nodes in SUB_A: 3 ENIs and 27 pod addresses (10 + 10 + 10, less the 3 primaries).
    expect(p?.predicted.ipsFreedBySubnet).toEqual({ [SUB_A]: 30, [SPARE_A]: -30 });
    expect(p?.predicted.text).toContain('SubnetDrift');
    expect(p?.predicted.text).toContain('2 nodes');
  });

  it('never leaves a zone of the current set without a subnet: without an allow-listed subnet there, nothing is proposed', () => {
    const { ctx } = karpenterCluster();
    expect(planKarpenterSubnets(ctx(karpenterPolicy()))).toEqual([]);
    expect(planKarpenterSubnetsWith(ctx(karpenterPolicy({ subnets: { subnets: [] } })), [])).toEqual([]);
  });

  it('an allow-listed subnet with too little room, or in another VPC, is no candidate', () => {
    const { ctx, spare } = karpenterCluster();
    expect(planKarpenterSubnetsWith(ctx(karpenterPolicy()), [{ ...spare, AvailableIpAddressCount: 100 }])).toEqual([]);
    expect(planKarpenterSubnetsWith(ctx(karpenterPolicy()), [{ ...spare, VpcId: 'vpc-0ffffffffffffffff' }])).toEqual([]);
  });

  it('blocked when the subnets left in the zone lack room for the addresses of the nodes it moves', () => {
    const { ctx, spare } = karpenterCluster();
    const policy = ctx(karpenterPolicy());
    const need = planKarpenterSubnetsWith(policy, [spare])[0]?.predicted.ipsFreedBySubnet?.[SUB_A] ?? 0;
    expect(need).toBeGreaterThan(0);
    const keep = minSpareFree(policy.policy);
    const just = planKarpenterSubnetsWith(policy, [{ ...spare, AvailableIpAddressCount: need + keep }]);
    expect(just[0]?.blockers).toEqual([]);
    const short = planKarpenterSubnetsWith(policy, [{ ...spare, AvailableIpAddressCount: need + keep - 1 }]);
    expect(short[0]?.blockers.join()).toContain(`hold about ${need} addresses`);
  });

  it('only allow-listed node classes (empty = none)', () => {
    const { ctx, spare } = karpenterCluster();
    expect(planKarpenterSubnetsWith(ctx(karpenterPolicy({ subnets: { nodeClasses: [] } })), [spare])).toEqual([]);
    expect(planKarpenterSubnetsWith(ctx(karpenterPolicy({ subnets: { nodeClasses: ['other'] } })), [spare])).toEqual([]);
  });

  it("blocked when Karpenter's status.subnets is empty (the terms' subnets are not known for sure)", () => {
    const { ctx, spare } = karpenterCluster({ nodeClass: { resolvedSubnets: [] } });
    const [p] = planKarpenterSubnetsWith(ctx(karpenterPolicy()), [spare]);
    expect(p?.blockers.join()).toContain('status.subnets');
  });

  it('never planned without the Kubernetes view of Karpenter', () => {
    const { ctx, spare } = karpenterCluster({ kube: { access: { ok: false, reason: 'no-access-entry', detail: '401', fix: 'x' } } });
    expect(planKarpenterSubnetsWith(ctx(karpenterPolicy()), [spare])).toEqual([]);
  });

  it('gated like every action: dry-run mode plans without applying; not allowed blocks', () => {
    const { ctx, spare } = karpenterCluster();
    const dry = ctx(karpenterPolicy({ mode: 'dry-run' }));
    expect(gateActions(dry, planKarpenterSubnetsWith(dry, [spare]), { lastStartedByKind: {} }).map((a) => a.state)).toEqual(['dry-run']);
    const off = ctx(karpenterPolicy({ subnets: { allowed: false } }));
    const [blocked] = gateActions(off, planKarpenterSubnetsWith(off, [spare]), { lastStartedByKind: {} });
    expect(blocked?.blockedBy[0]).toContain('actions.karpenterSubnets.allowed is false');
  });
});

describe('karpenter-instance-types planner', () => {
  it('widens instance-size by the next size whose types are not IP-capped, keeping every other requirement', () => {
    const { ctx } = karpenterCluster({ free: 200 });
    const [p, ...rest] = planKarpenterInstanceTypes(ctx(karpenterPolicy()));
    expect(rest).toEqual([]);
    const change = p?.change as KarpenterRequirementsChange;
    expect(change.widened).toEqual({ key: 'karpenter.k8s.aws/instance-size', added: ['4xlarge'] });
    expect(change.requirements).toEqual([
      { key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: ['m5'] },
      { key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large', 'xlarge', '2xlarge', '4xlarge'] },
      { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
    ]);
    expect(change.previous).toEqual([
      { key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: ['m5'] },
      { key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large', 'xlarge', '2xlarge'] },
      { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
    ]);
    expect(change.addedTypes).toEqual([{ instanceType: 'm5.4xlarge', pods: 234, vcpus: 16, memoryMiB: 65536 }]);
    expect(change.increasePercent).toBe(100);
    expect(p?.predicted.text).toContain('does not mark them drifted');
    expect(p?.blockers).toEqual([]);
  });

  it('no size within maxCapacityIncreasePercent lifts the cap: nothing proposed', () => {
    const { ctx } = karpenterCluster({ free: 200 });
    expect(planKarpenterInstanceTypes(ctx(karpenterPolicy({ types: { maxCapacityIncreasePercent: 50 } })))).toEqual([]);
  });

  it('only allow-listed NodePools', () => {
    const { ctx } = karpenterCluster({ free: 200 });
    expect(planKarpenterInstanceTypes(ctx(karpenterPolicy({ types: { nodePools: [] } })))).toEqual([]);
  });

  it('an instance-type In list gains the smallest uncapped type the other requirements allow', () => {
    const { ctx } = karpenterCluster({
      free: 200,
      requirements: [
        { key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['m5.large', 'm5.2xlarge'] },
        { key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: ['m5'] },
      ],
    });
    const [p] = planKarpenterInstanceTypes(ctx(karpenterPolicy()));
    expect((p?.change as KarpenterRequirementsChange).widened).toEqual({ key: 'node.kubernetes.io/instance-type', added: ['m5.4xlarge'] });
  });
});
