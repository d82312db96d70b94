/**
 * The Karpenter executors on objects as `kubectl get -o json` prints them
 * (test/fixtures/kubernetes/karpenter): the field's manager taken from metadata.managedFields,
 * as the API server holds it. Helm owns the node class's terms, Argo CD the NodePool's
 * requirements: both 409, naming them; handed over, the same objects are changed in place.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { ec2NodeClassRef, karpenterInstanceTypesExecutor, karpenterSubnetsExecutor, nodePoolRef } from '../../lib/act/execute-karpenter';
import type { ExecuteDeps } from '../../lib/act/types';
import type { ActionChange, PlannedAction } from '../../lib/plan/types';
import { FakeKubeApi } from '../support/fake-kube-api';

const eksMock = mockClient(EKSClient);
beforeEach(() => eksMock.reset().on(DescribeClusterCommand).resolves({ cluster: { name: 'payments-prod', endpoint: 'https://x.eks.amazonaws.com' } }));
afterAll(() => eksMock.restore());

type Obj = Record<string, unknown>;
const DIR = join(__dirname, '..', 'fixtures', 'kubernetes', 'karpenter');
const item = (file: string): Obj => (JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { items: Obj[] }).items[0] ?? {};

/** The manager whose managedFields entry (not the status subresource) holds the field path `f:a.f:b`. */
function managerOf(obj: Obj, path: string[]): string | undefined {
  const entries = ((obj['metadata'] as Obj)['managedFields'] ?? []) as { manager: string; subresource?: string; fieldsV1: Obj }[];
  return entries.find((e) => !e.subresource && path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Obj)[`f:${k}`] : undefined), e.fieldsV1) !== undefined)?.manager;
}

function load(file: string, ref: ReturnType<typeof ec2NodeClassRef>, field: string[]): { api: FakeKubeApi; owner: string | undefined } {
  const obj = item(file);
  const owner = managerOf(obj, field);
  const api = new FakeKubeApi();
  api.put(ref, obj, 'kubectl-client-side-apply');
  if (owner) api.handOver(ref, field.join('.'), owner);
  return { api, owner };
}

const deps = (api: FakeKubeApi): ExecuteDeps => ({ ec2: new EC2Client({}), eks: new EKSClient({}), now: () => new Date('2026-12-03T10:00:00Z'), sleep: async () => {}, followForMs: 0, kube: async () => api });
const planned = (kind: PlannedAction['kind'], change: ActionChange): PlannedAction => ({ id: `payments-prod/${kind}/default`, cluster: 'payments-prod', kind, subject: 'default', reason: '', findingIds: [], change, predicted: { text: '' }, blockers: [], state: 'apply', blockedBy: [] });

const TERMS: ActionChange = {
  type: 'karpenter-subnet-terms',
  nodeClass: 'default',
  previousTerms: [{ tags: { 'karpenter.sh/discovery': 'payments-prod' } }],
  terms: [{ id: 'subnet-02a477941daa66d13' }, { id: 'subnet-0c55317ef17156075' }],
  removed: ['subnet-0e59dfd0c9e3779b1'],
  added: ['subnet-0c55317ef17156075'],
};
const before = ((item('nodepools.json')['spec'] as Obj)['template'] as { spec: { requirements: { key: string; operator: string; values?: string[] }[] } }).spec.requirements;
const REQS: ActionChange = {
  type: 'karpenter-requirements',
  nodePool: 'default',
  previous: before,
  requirements: before.map((r) => (r.key === 'karpenter.k8s.aws/instance-size' ? { ...r, values: [...(r.values ?? []), '4xlarge'] } : r)),
  widened: { key: 'karpenter.k8s.aws/instance-size', added: ['4xlarge'] },
  addedTypes: [],
  increasePercent: 100,
};

it('the node class Helm installed: its terms are helm\'s (managedFields), the apply fails naming helm, nothing written', async () => {
  const { api, owner } = load('ec2nodeclasses.json', ec2NodeClassRef('default'), ['spec', 'subnetSelectorTerms']);
  expect(owner).toBe('helm');
  const out = await karpenterSubnetsExecutor.start(planned('karpenter-subnets', TERMS), deps(api));
  expect([out.status, api.writes.length]).toEqual(['failed', 0]);
  expect(out.detail).toContain('"helm"');
});

it('the NodePool Argo CD applies: the requirements are argocd-controller\'s, the apply fails naming it', async () => {
  const { api, owner } = load('nodepools.json', nodePoolRef('default'), ['spec', 'template', 'spec', 'requirements']);
  expect(owner).toBe('argocd-controller');
  const out = await karpenterInstanceTypesExecutor.start(planned('karpenter-instance-types', REQS), deps(api));
  expect([out.status, api.writes.length]).toEqual(['failed', 0]);
  expect(out.detail).toContain('"argocd-controller"');
});

it('handed over: the terms change, the rest of the node class (kubelet.maxPods, role, AMIs) is kept', async () => {
  const { api } = load('ec2nodeclasses.json', ec2NodeClassRef('default'), ['spec', 'subnetSelectorTerms']);
  api.handOver(ec2NodeClassRef('default'), 'spec.subnetSelectorTerms');
  const out = await karpenterSubnetsExecutor.start(planned('karpenter-subnets', TERMS), deps(api));
  expect([out.status, api.writes.length]).toEqual(['in-progress', 1]);
  const spec = api.object(ec2NodeClassRef('default'))?.['spec'] as Obj;
  expect(spec['subnetSelectorTerms']).toEqual([{ id: 'subnet-02a477941daa66d13' }, { id: 'subnet-0c55317ef17156075' }]);
  expect([spec['kubelet'], spec['role'], spec['amiSelectorTerms']]).toEqual([{ maxPods: 110 }, 'KarpenterNodeRole-payments-prod', [{ alias: 'al2023@latest' }]]);
});
