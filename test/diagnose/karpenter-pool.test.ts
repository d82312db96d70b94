/**
 * The karpenter-pool finding: scarce resolved subnets (status.subnets, else the selector terms over
 * the subnets read), IP-capped requirements, and nothing without the Kubernetes view of Karpenter.
 */
import { diagnoseCluster } from '../../lib/diagnose/diagnose';
import { resolvedSubnetsOf } from '../../lib/diagnose/karpenter-pool';
import { DEFAULT_THRESHOLDS, type Finding } from '../../lib/diagnose/types';
import { karpenterCluster, karpenterPolicy, SUB_A, SUB_B, TYPES } from '../support/karpenter-cluster';

const pools = (findings: Finding[]) => findings.filter((f) => f.kind === 'karpenter-pool');

describe('karpenter-pool', () => {
  it('names the scarce subnet Karpenter resolved, the pool nodes in it, and the IP-capped requirements', () => {
    const { ctx } = karpenterCluster();
    const [f, ...rest] = pools(ctx(karpenterPolicy()).findings);
    expect(rest).toEqual([]);
    expect(f?.id).toBe('prod/karpenter-pool/karpenter:default');
    expect(f?.severity).toBe('critical');
    expect(f?.evidence).toMatchObject({ nodePool: 'default', nodeClass: 'default', cause: 'subnets+instance-types', scarceSubnetIds: SUB_A, resolvedBy: 'status', scarceFreeIps: 10, allowedTypes: 3, ipCappedTypes: 3 });
    expect(f?.evidenceText.join('\n')).toContain(`2 nodes of the pool in ${SUB_A}`);
    expect(f?.evidenceText.join('\n')).toContain('no other resolved subnet of the zone has room');
    expect(f?.fixes.join('\n')).toContain('SubnetDrift');
  });

  it('a roomy pool of large sizes: no finding', () => {
    const { ctx } = karpenterCluster({ free: 200, requirements: [{ key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large', '4xlarge'] }] });
    expect(pools(ctx(karpenterPolicy()).findings)).toEqual([]);
  });

  it('only the types cause: warning, and in prefix mode the fix is kubelet.maxPods (Karpenter counts ENI-limited pods)', () => {
    const { ctx } = karpenterCluster({ free: 200, prefixDelegation: true });
    const [f] = pools(ctx(karpenterPolicy()).findings);
    expect([f?.severity, f?.evidence['cause']]).toEqual(['warning', 'instance-types']);
    expect(f?.fixes[0]).toContain('spec.kubelet.maxPods');
  });

  it('kubelet.maxPods set on the node class: the addresses do not cap, no types cause', () => {
    const { ctx } = karpenterCluster({ free: 200, nodeClass: { kubeletMaxPods: 20 } });
    expect(pools(ctx(karpenterPolicy()).findings)).toEqual([]);
  });

  it.each([
    ['access failed', { access: { ok: false as const, reason: 'forbidden' as const, detail: '403', fix: 'bind' } }],
    ['Karpenter not installed', { karpenter: null }],
    ['NodePools unread', { unread: [{ part: 'nodepools' as const, message: '403', status: 403 }] }],
  ])('nothing when %s', (_, kube) => {
    const { ctx } = karpenterCluster({ kube });
    expect(pools(ctx(karpenterPolicy()).findings)).toEqual([]);
  });

  it('status.subnets empty: the tag terms are matched against the subnets read (ORed terms, ANDed tags, * any value)', () => {
    const { inventory } = karpenterCluster();
    const nc = { name: 'x', subnetSelectorTerms: [{ tags: { 'karpenter.sh/discovery': '*', Name: 'nope' } }, { id: SUB_B }] };
    expect(resolvedSubnetsOf(nc, inventory.subnets)).toEqual({ subnets: [{ id: SUB_B, zone: 'eu-west-1b' }], by: 'selector' });
    expect(resolvedSubnetsOf({ name: 'y', subnetSelectorTerms: [{ tags: { 'karpenter.sh/discovery': '*' } }] }, inventory.subnets).subnets.map((s) => s.id)).toEqual([SUB_A, SUB_B]);
    const { ctx } = karpenterCluster({ nodeClass: { resolvedSubnets: [] } });
    expect(pools(ctx(karpenterPolicy()).findings)[0]?.evidence['resolvedBy']).toBe('selector');
  });
});

it('a critical subnet beside a roomy resolved one in the same zone is a warning: Karpenter launches in the roomy one', () => {
  const { ctx } = karpenterCluster({ nodeClass: { resolvedSubnets: [{ id: SUB_A, zone: 'eu-west-1a' }, { id: SUB_B, zone: 'eu-west-1b' }] } });
  // Move SUB_B's zone to SUB_A's in the usage: a roomy resolved subnet in the same zone.
  const pc = ctx(karpenterPolicy());
  const usage = { ...pc.usage, subnets: pc.usage.subnets.map((s) => (s.subnetId === SUB_B ? { ...s, availabilityZone: 'eu-west-1a' } : s)) };
  const findings = diagnoseCluster(usage, pc.inventory, DEFAULT_THRESHOLDS, TYPES).filter((f) => f.kind === 'karpenter-pool');
  expect(findings[0]?.severity).toBe('warning');
  expect(findings[0]?.evidenceText.join('\n')).toContain(`Karpenter launches new nodes in ${SUB_B}`);
});
