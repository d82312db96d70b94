/**
 * A Karpenter record is checked against the policy in force before each step (lib/act/act.ts
 * policyProblems): a node class, NodePool or added subnet the policy does not list, a growth above
 * the bound, or a requirements list that does not keep every requirement it had.
 */
import { policyProblems, type ActContext } from '../../lib/act/act';
import type { ActionRecord } from '../../lib/act/types';
import type { ActionChange } from '../../lib/plan/types';

const SPARE = 'subnet-0c0c0c0c0c0c0c0c1';
const ctx = (o: Partial<ActContext> = {}): ActContext => ({
  dataAt: new Date(),
  allowedKinds: new Set(['karpenter-subnets', 'karpenter-instance-types']),
  allowedSubnets: new Set(),
  karpenterSubnets: { nodeClasses: new Set(['default']), subnets: new Set([SPARE]) },
  karpenterInstanceTypes: { nodePools: new Set(['default']), maxCapacityIncreasePercent: 100 },
  regate: (a) => a,
  ...o,
});
const record = (change: ActionChange): ActionRecord => ({
  actionId: `prod/${change.type === 'karpenter-subnet-terms' ? 'karpenter-subnets' : 'karpenter-instance-types'}/default`,
  cluster: 'prod',
  kind: change.type === 'karpenter-subnet-terms' ? 'karpenter-subnets' : 'karpenter-instance-types',
  change,
  predicted: { text: '' },
  reason: '',
  startedAt: '2026-12-03T10:00:00Z',
  updatedAt: '2026-12-03T10:00:00Z',
  status: 'in-progress',
  step: 'start',
  history: [],
  version: 1,
});
const terms = (o: Partial<Extract<ActionChange, { type: 'karpenter-subnet-terms' }>> = {}): ActionChange => ({
  type: 'karpenter-subnet-terms',
  nodeClass: 'default',
  previousTerms: [{ tags: { a: 'b' } }],
  terms: [{ id: SPARE }],
  removed: ['subnet-0a0a0a0a0a0a0a0a1'],
  added: [SPARE],
  ...o,
});
const reqs = (o: Partial<Extract<ActionChange, { type: 'karpenter-requirements' }>> = {}): ActionChange => ({
  type: 'karpenter-requirements',
  nodePool: 'default',
  previous: [{ key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large'] }, { key: 'x', operator: 'Exists' }],
  requirements: [{ key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large', '4xlarge'] }, { key: 'x', operator: 'Exists' }],
  widened: { key: 'karpenter.k8s.aws/instance-size', added: ['4xlarge'] },
  addedTypes: [],
  increasePercent: 100,
  ...o,
});

it.each<[string, ActionChange, Partial<ActContext>, string | undefined]>([
  ['allowed subnets change', terms(), {}, undefined],
  ['a node class not listed', terms({ nodeClass: 'gpu' }), {}, 'does not list under actions.karpenterSubnets.nodeClasses'],
  ['an added subnet not listed', terms({ added: ['subnet-0ddddddddddddddd1'], terms: [{ id: 'subnet-0ddddddddddddddd1' }] }), {}, 'actions.karpenterSubnets.subnets'],
  ['no terms', terms({ terms: [], added: [] }), {}, 'no subnet selector term'],
  ['policy unknown', terms(), { karpenterSubnets: undefined }, 'is not known'],
  ['allowed widening', reqs(), {}, undefined],
  ['a NodePool not listed', reqs({ nodePool: 'batch' }), {}, 'actions.karpenterInstanceTypes.nodePools'],
  ['growth above the bound', reqs({ increasePercent: 300 }), {}, 'maxCapacityIncreasePercent'],
  ['a requirement dropped', reqs({ requirements: [{ key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large', '4xlarge'] }] }), {}, 'does not keep every requirement'],
  ['a value removed (narrowing drifts nodes)', reqs({ requirements: [{ key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['4xlarge'] }, { key: 'x', operator: 'Exists' }] }), {}, 'does not keep every requirement'],
  // The record's own figures (widened, increasePercent) bound it only if its requirements are the previous ones plus widened.added.
  ['values added beyond widened.added', reqs({ requirements: [{ key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large', '4xlarge', 'metal'] }, { key: 'x', operator: 'Exists' }] }), {}, 'changes more than'],
  [
    'another requirement widened (capacity type: spot to on-demand)',
    reqs({
      previous: [{ key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large'] }, { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] }],
      requirements: [{ key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large', '4xlarge'] }, { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot', 'on-demand'] }],
    }),
    {},
    'changes more than',
  ],
  ['minValues added to a kept requirement', reqs({ requirements: [{ key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large', '4xlarge'] }, { key: 'x', operator: 'Exists', minValues: 50 }] }), {}, 'changes more than'],
])('%s', (_, change, o, problem) => {
  const problems = policyProblems('prod', record(change), ctx(o));
  if (problem === undefined) expect(problems).toEqual([]);
  else expect(problems.join('; ')).toContain(problem);
});
