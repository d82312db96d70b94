/**
 * Karpenter's well-known instance-type labels as computeRequirements derives them, the requirement
 * operators, and the pods Karpenter gives a node (ENI-limited unless kubelet.maxPods is set).
 */
import {
  canonicalRequirements,
  instanceTypeLabels,
  karpenterTypePods,
  satisfies,
  typesAllowedBy,
} from '../../lib/capacity/karpenter-requirements';
import { knownInstanceTypes } from '../../lib/capacity/known-instance-types';
import type { KubeRequirement } from '../../lib/inventory/kube-types';

const info = (name: string) => {
  const i = knownInstanceTypes().get(name);
  if (!i) throw new Error(`${name} not bundled`);
  return i;
};

describe('instanceTypeLabels', () => {
  it.each([
    ['m5.large', { category: 'm', family: 'm5', generation: '5', size: 'large', cpu: '2', memory: '8192', arch: ['amd64'] }],
    ['c6gn.xlarge', { category: 'c', family: 'c6gn', generation: '6', size: 'xlarge', cpu: '4', memory: '8192', arch: ['arm64'] }],
    ['m7i-flex.large', { category: 'm', family: 'm7i-flex', generation: '7', size: 'large', cpu: '2', memory: '8192', arch: ['amd64'] }],
  ])('%s', (name, want) => {
    const l = instanceTypeLabels(info(name));
    expect({
      category: l['karpenter.k8s.aws/instance-category']?.[0],
      family: l['karpenter.k8s.aws/instance-family']?.[0],
      generation: l['karpenter.k8s.aws/instance-generation']?.[0],
      size: l['karpenter.k8s.aws/instance-size']?.[0],
      cpu: l['karpenter.k8s.aws/instance-cpu']?.[0],
      memory: l['karpenter.k8s.aws/instance-memory']?.[0],
      arch: l['kubernetes.io/arch'],
    }).toEqual(want);
    expect(l['node.kubernetes.io/instance-type']).toEqual([name]);
  });

  it('reads the generation after a -<n>tb part (u-6tb1.metal: category u, generation 1), as the regex of computeRequirements does', () => {
    const l = instanceTypeLabels({ InstanceType: 'u-6tb1.metal' as never, VCpuInfo: { DefaultVCpus: 448 }, MemoryInfo: { SizeInMiB: 6291456 } });
    expect([l['karpenter.k8s.aws/instance-category'], l['karpenter.k8s.aws/instance-generation'], l['karpenter.k8s.aws/instance-size']]).toEqual([['u'], ['1'], ['metal']]);
  });
});

describe('satisfies', () => {
  const m5 = instanceTypeLabels(info('m5.large'));
  const r = (key: string, operator: string, values?: string[]): KubeRequirement => ({ key, operator: operator as KubeRequirement['operator'], ...(values ? { values } : {}) });
  it.each<[string, KubeRequirement, boolean]>([
    ['In, listed', r('karpenter.k8s.aws/instance-size', 'In', ['large', 'xlarge']), true],
    ['In, not listed', r('karpenter.k8s.aws/instance-size', 'In', ['xlarge']), false],
    ['NotIn, listed', r('karpenter.k8s.aws/instance-family', 'NotIn', ['m5']), false],
    ['NotIn, not listed', r('karpenter.k8s.aws/instance-family', 'NotIn', ['t3']), true],
    ['Exists', r('karpenter.k8s.aws/instance-category', 'Exists'), true],
    ['DoesNotExist on a label the type has', r('karpenter.k8s.aws/instance-category', 'DoesNotExist'), false],
    ['DoesNotExist on the hypervisor of a nitro type', r('karpenter.k8s.aws/instance-hypervisor', 'DoesNotExist'), false],
    ['Gt generation 4', r('karpenter.k8s.aws/instance-generation', 'Gt', ['4']), true],
    ['Gt generation 5', r('karpenter.k8s.aws/instance-generation', 'Gt', ['5']), false],
    ['Lt cpu 3', r('karpenter.k8s.aws/instance-cpu', 'Lt', ['3']), true],
    ['Gte memory 8192', r('karpenter.k8s.aws/instance-memory', 'Gte', ['8192']), true],
    ['Lte memory 8191', r('karpenter.k8s.aws/instance-memory', 'Lte', ['8191']), false],
    ['Gt with a value that is no integer', r('karpenter.k8s.aws/instance-cpu', 'Gt', ['two']), false],
    ['arch In arm64', r('kubernetes.io/arch', 'In', ['arm64']), false],
    ['a key that is not the type (capacity type) constrains nothing', r('karpenter.sh/capacity-type', 'In', ['spot']), true],
    ['an uncomputed type label constrains nothing here', r('karpenter.k8s.aws/instance-gpu-count', 'Exists'), true],
  ])('%s', (_, req, want) => {
    expect(satisfies(m5, req)).toBe(want);
  });

  it('typesAllowedBy ANDs the requirements over the list', () => {
    const allowed = typesAllowedBy(
      [
        { key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: ['m5', 'c5'] },
        { key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large'] },
      ],
      knownInstanceTypes().values(),
    ).map((i) => i.InstanceType);
    expect(allowed).toEqual(['c5.large', 'm5.large']);
  });
});

describe('karpenterTypePods', () => {
  it('is the ENI-limited figure when kubelet.maxPods is unset: m5.large 29 of the 110 its vCPUs carry, capped', () => {
    const p = karpenterTypePods(info('m5.large'));
    expect([p?.karpenterPods, p?.carryPods, p?.ipCapped]).toEqual([29, 110, true]);
  });
  it('m5.4xlarge: 234 ENI-limited pods, above the 110 cap: not capped', () => {
    expect(karpenterTypePods(info('m5.4xlarge'))?.ipCapped).toBe(false);
  });
  it('kubelet.maxPods set: the kubelet, not the addresses, sets it', () => {
    const p = karpenterTypePods(info('m5.large'), { maxPods: 20 });
    expect([p?.karpenterPods, p?.ipCapped]).toEqual([20, false]);
  });
  it('podsPerCore below the ENI figure: not an IP cap', () => {
    const p = karpenterTypePods(info('m5.large'), { podsPerCore: 4 });
    expect([p?.karpenterPods, p?.ipCapped]).toEqual([8, false]);
  });
});

it('canonicalRequirements ignores value order, not the values', () => {
  const a = canonicalRequirements([{ key: 'k', operator: 'In', values: ['b', 'a'] }]);
  expect(a).toBe(canonicalRequirements([{ key: 'k', operator: 'In', values: ['a', 'b'] }]));
  expect(a).not.toBe(canonicalRequirements([{ key: 'k', operator: 'In', values: ['a'] }]));
});
