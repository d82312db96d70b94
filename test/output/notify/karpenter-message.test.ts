/** The Karpenter changes in one line: what is set, and the previous value to apply back (the revert). */
import { describeChange } from '../../../lib/output/notify/action-message';

it('a subnet-terms change names the new terms, the subnets left and added, and the previous terms', () => {
  const line = describeChange({
    type: 'karpenter-subnet-terms',
    nodeClass: 'default',
    previousTerms: [{ tags: { 'karpenter.sh/discovery': 'prod' } }],
    terms: [{ id: 'subnet-0b' }, { id: 'subnet-0c' }],
    removed: ['subnet-0a'],
    added: ['subnet-0c'],
  });
  expect(line).toBe(
    'EC2NodeClass default: spec.subnetSelectorTerms = [{"id":"subnet-0b"},{"id":"subnet-0c"}] (leaves subnet-0a; adds subnet-0c); was [{"tags":{"karpenter.sh/discovery":"prod"}}]: apply that back to revert',
  );
});

it('a requirements change names the widened key, the types it allows, and the previous list', () => {
  const line = describeChange({
    type: 'karpenter-requirements',
    nodePool: 'default',
    previous: [{ key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large'] }],
    requirements: [{ key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large', '4xlarge'] }],
    widened: { key: 'karpenter.k8s.aws/instance-size', added: ['4xlarge'] },
    addedTypes: [{ instanceType: 'm5.4xlarge', pods: 234, vcpus: 16, memoryMiB: 65536 }],
    increasePercent: 100,
  });
  expect(line).toBe(
    'NodePool default: requirement karpenter.k8s.aws/instance-size widened by 4xlarge (allows m5.4xlarge 234 pods); previous spec.template.spec.requirements [{"key":"karpenter.k8s.aws/instance-size","operator":"In","values":["large"]}]: apply that back to revert',
  );
});
