/**
 * The Karpenter executors against the in-memory KubeApi (server-side apply with field ownership):
 * GET first, the dry run, the apply of the one atomic list, the status check; a target changed
 * since the plan is skipped, a field another manager owns fails naming it and is never forced.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand as EksDescribeCluster, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { ec2NodeClassRef, karpenterInstanceTypesExecutor, karpenterSubnetsExecutor, nodePoolRef } from '../../lib/act/execute-karpenter';
import type { ActionRecord, ExecuteDeps } from '../../lib/act/types';
import { KubeApiError } from '../../lib/inventory/kube-types';
import type { ActionChange, PlannedAction } from '../../lib/plan/types';
import { FakeKubeApi } from '../support/fake-kube-api';

const eksMock = mockClient(EKSClient);
beforeEach(() => {
  eksMock.reset();
  eksMock.on(EksDescribeCluster).resolves({ cluster: { name: 'prod', endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', certificateAuthority: { data: 'LS0t' } } });
});
afterAll(() => eksMock.restore());

const S_A = 'subnet-0a0a0a0a0a0a0a0a1';
const S_B = 'subnet-0b0b0b0b0b0b0b0b1';
const S_SPARE = 'subnet-0c0c0c0c0c0c0c0c1';
const OLD_TERMS = [{ tags: { 'karpenter.sh/discovery': 'prod' } }];

function deps(api: FakeKubeApi | undefined, o: Partial<ExecuteDeps> = {}): ExecuteDeps & { intents: string[] } {
  const intents: string[] = [];
  return {
    ec2: new EC2Client({}),
    eks: new EKSClient({}),
    now: () => new Date('2026-12-03T10:00:00Z'),
    sleep: () => Promise.resolve(),
    followForMs: 0,
    ...(api ? { kube: () => Promise.resolve(api) } : {}),
    intend: (i) => {
      intents.push(`${i.operation} ${i.target}`);
      return Promise.resolve('token');
    },
    intents,
    ...o,
  };
}

const subnetsChange: ActionChange = { type: 'karpenter-subnet-terms', nodeClass: 'default', previousTerms: OLD_TERMS, terms: [{ id: S_B }, { id: S_SPARE }], removed: [S_A], added: [S_SPARE] };
const requirementsChange: ActionChange = {
  type: 'karpenter-requirements',
  nodePool: 'default',
  previous: [
    { key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large', 'xlarge', '2xlarge'] },
    { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
  ],
  requirements: [
    { key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large', 'xlarge', '2xlarge', '4xlarge'] },
    { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
  ],
  widened: { key: 'karpenter.k8s.aws/instance-size', added: ['4xlarge'] },
  addedTypes: [{ instanceType: 'm5.4xlarge', pods: 234, vcpus: 16, memoryMiB: 65536 }],
  increasePercent: 100,
};

function action(change: ActionChange): PlannedAction {
  const kind = change.type === 'karpenter-subnet-terms' ? 'karpenter-subnets' : 'karpenter-instance-types';
  const subject = change.type === 'karpenter-subnet-terms' ? change.nodeClass : change.type === 'karpenter-requirements' ? change.nodePool : '';
  return { id: `prod/${kind}/${subject}`, cluster: 'prod', kind, subject, reason: 'r', findingIds: [], change, predicted: { text: 'p' }, blockers: [], state: 'apply', blockedBy: [] };
}

function record(change: ActionChange, step = 'start'): ActionRecord {
  const a = action(change);
  return { actionId: a.id, cluster: 'prod', kind: a.kind, change, predicted: a.predicted, reason: a.reason, startedAt: '2026-12-03T09:00:00Z', updatedAt: '2026-12-03T09:00:00Z', status: 'in-progress', step, history: [], version: 2, wrote: step !== 'start' };
}

/**
 * An EC2NodeClass created by `kubectl apply`, status.subnets as Karpenter resolved the old terms;
 * spec.subnetSelectorTerms handed over to this responder's manager, or still owned by `owner`.
 */
function nodeClassApi(owner?: string): FakeKubeApi {
  const api = new FakeKubeApi();
  api.put(
    ec2NodeClassRef('default'),
    {
      apiVersion: 'karpenter.k8s.aws/v1',
      kind: 'EC2NodeClass',
      metadata: { name: 'default', resourceVersion: '7' },
      spec: { role: 'KarpenterNodeRole-prod', amiSelectorTerms: [{ alias: 'al2023@latest' }], subnetSelectorTerms: OLD_TERMS },
      status: { subnets: [{ id: S_A, zone: 'eu-west-1a' }, { id: S_B, zone: 'eu-west-1b' }] },
    },
    owner ?? 'kubectl-client-side-apply',
  );
  if (!owner) api.handOver(ec2NodeClassRef('default'), 'spec.subnetSelectorTerms');
  return api;
}

/** Karpenter's nodeclass controller, as a test drives it: status.subnets from the id terms. */
function resolve(api: FakeKubeApi): void {
  const terms = (api.object(ec2NodeClassRef('default'))?.['spec'] as { subnetSelectorTerms: { id?: string }[] }).subnetSelectorTerms;
  api.set(ec2NodeClassRef('default'), 'status.subnets', terms.map((t) => ({ id: t.id, zone: 'eu-west-1x' })));
}

describe('karpenter-subnets executor', () => {
  it('dry run, then one apply of spec.subnetSelectorTerms alone (the rest of the object kept), announced first; succeeded once status.subnets lists the new subnets', async () => {
    const api = nodeClassApi();
    api.onApplied = () => resolve(api);
    const d = deps(api);
    const out = await karpenterSubnetsExecutor.start(action(subnetsChange), d);
    expect(out.status).toBe('succeeded');
    expect(api.applies.map((a) => [a.dryRun, a.body])).toEqual([
      [true, { spec: { subnetSelectorTerms: [{ id: S_B }, { id: S_SPARE }] } }],
      [false, { spec: { subnetSelectorTerms: [{ id: S_B }, { id: S_SPARE }] } }],
    ]);
    expect(d.intents).toEqual(['kubernetes:apply ec2nodeclasses/default']);
    const spec = api.object(ec2NodeClassRef('default'))?.['spec'];
    expect(spec).toEqual({ role: 'KarpenterNodeRole-prod', amiSelectorTerms: [{ alias: 'al2023@latest' }], subnetSelectorTerms: [{ id: S_B }, { id: S_SPARE }] });
  });

  it('applied but not yet resolved by Karpenter: in progress; the follow finds it resolved and applies nothing again', async () => {
    const api = nodeClassApi();
    const first = await karpenterSubnetsExecutor.start(action(subnetsChange), deps(api));
    expect([first.status, first.step]).toEqual(['in-progress', 'applied']);
    expect(first.detail).toContain('waiting for Karpenter');
    resolve(api);
    const next = await karpenterSubnetsExecutor.follow(record(subnetsChange, 'applied'), deps(api));
    expect(next.status).toBe('succeeded');
    expect(api.writes).toHaveLength(1);
  });

  it('a record left before its apply (killed between the dry run and the apply) is applied once by the follow', async () => {
    const api = nodeClassApi();
    api.onApplied = () => resolve(api);
    const out = await karpenterSubnetsExecutor.follow(record(subnetsChange, 'start'), deps(api));
    expect(out.status).toBe('succeeded');
    expect(api.writes).toHaveLength(1);
    const again = await karpenterSubnetsExecutor.follow(record(subnetsChange, 'start'), deps(api));
    expect(again.status).toBe('succeeded');
    expect(api.writes).toHaveLength(1);
  });

  it('terms changed since the plan: skipped with the reason, nothing applied (not even a dry run)', async () => {
    const api = nodeClassApi();
    api.set(ec2NodeClassRef('default'), 'spec.subnetSelectorTerms', [{ tags: { team: 'x' } }]);
    const out = await karpenterSubnetsExecutor.start(action(subnetsChange), deps(api));
    expect(out.status).toBe('skipped');
    expect(out.detail).toContain('changed since the plan');
    expect(api.applies).toEqual([]);
  });

  it('created by kubectl apply and never handed over: the 409 names kubectl-client-side-apply', async () => {
    const out = await karpenterSubnetsExecutor.start(action(subnetsChange), deps(nodeClassApi('kubectl-client-side-apply')));
    expect(out.detail).toContain('"kubectl-client-side-apply"');
  });

  it('the field owned by another manager (helm): 409 on the dry run, failed naming the manager and the fix, no apply, never forced', async () => {
    const api = nodeClassApi('helm');
    const d = deps(api);
    const out = await karpenterSubnetsExecutor.start(action(subnetsChange), d);
    expect(out.status).toBe('failed');
    expect(out.retryable).toBeUndefined();
    expect(out.detail).toContain('"helm"');
    expect(out.detail).toContain('never forces');
    expect(out.detail).toContain('GitOps');
    expect(api.writes).toEqual([]);
    expect(d.intents).toEqual([]);
  });

  it('reverted by another manager after the apply: failed, not applied a second time', async () => {
    const api = nodeClassApi();
    const out = await karpenterSubnetsExecutor.follow(record(subnetsChange, 'applied'), deps(api));
    expect(out.status).toBe('failed');
    expect(out.detail).toContain('reverted');
    expect(api.applies).toEqual([]);
  });

  it('refuses a kept term Karpenter does not resolve to now (a planted or stale record)', async () => {
    const api = nodeClassApi();
    const planted: ActionChange = { ...subnetsChange, terms: [{ id: 'subnet-0dddddddddddddddd' }], added: [] } as ActionChange;
    const out = await karpenterSubnetsExecutor.start(action(planted), deps(api));
    expect([out.status, api.applies.length]).toEqual(['failed', 0]);
    expect(out.detail).toContain('does not resolve to now');
  });

  it.each([
    ['403', new KubeApiError(403, 'Forbidden', 'ec2nodeclasses.karpenter.k8s.aws "default" is forbidden'), 'failed', undefined],
    ['503', new KubeApiError(503, 'ServiceUnavailable', 'try again'), 'failed', true],
    ['no answer', new Error('socket hang up'), 'failed', true],
  ])('a GET that fails (%s) changes nothing', async (_, err, status, retryable) => {
    const api = nodeClassApi();
    api.failNext('get', err);
    const out = await karpenterSubnetsExecutor.start(action(subnetsChange), deps(api));
    expect([out.status, out.retryable, api.applies.length]).toEqual([status, retryable, 0]);
  });

  it('a transient failure of the apply itself says the apply may have been made', async () => {
    const api = nodeClassApi();
    api.failNext('apply', new KubeApiError(500, 'InternalError', 'etcd'));
    const out = await karpenterSubnetsExecutor.start(action(subnetsChange), deps(api));
    expect([out.status, out.retryable]).toEqual(['failed', true]);
    expect(out.detail).toContain('may have been made');
  });

  it('a refusal of the apply itself (a 409 after the dry run passed) says nothing was applied', async () => {
    const api = nodeClassApi();
    api.failNext('apply', new KubeApiError(409, 'Conflict', 'Apply failed with 1 conflict: conflict with "argocd"', [{ reason: 'FieldManagerConflict', message: 'conflict with "argocd"', field: '.spec.subnetSelectorTerms' }]));
    const out = await karpenterSubnetsExecutor.start(action(subnetsChange), deps(api));
    expect(out.status).toBe('failed');
    expect(out.detail).toContain('"argocd"');
    expect(out.detail).toContain('nothing was applied');
    expect(out.detail).not.toContain('may have been made');
  });

  it('the API not reachable while following an applied change: retryable (followed again), never "nothing changed"', async () => {
    const unreachable = deps(undefined, { kube: () => Promise.reject(new Error('connect ETIMEDOUT 10.0.0.1:443')) });
    const out = await karpenterSubnetsExecutor.follow(record(subnetsChange, 'applied'), unreachable);
    expect([out.status, out.retryable]).toEqual(['failed', true]);
    expect(out.detail).toContain('ETIMEDOUT');
    expect(out.detail).not.toContain('nothing changed');
    // Before any write it is retryable too: the act loop then skips it (planned again), no cooldown.
    expect((await karpenterSubnetsExecutor.start(action(subnetsChange), unreachable)).retryable).toBe(true);
  });

  it('without Kubernetes access, or with the node class gone: failed, nothing changed', async () => {
    expect((await karpenterSubnetsExecutor.start(action(subnetsChange), deps(undefined))).detail).toContain('no Kubernetes access');
    const empty = new FakeKubeApi();
    expect((await karpenterSubnetsExecutor.start(action(subnetsChange), deps(empty))).detail).toContain('no longer exists');
  });
});

describe('karpenter-instance-types executor', () => {
  function poolApi(owner?: string): FakeKubeApi {
    const api = new FakeKubeApi();
    api.put(
      nodePoolRef('default'),
      {
        apiVersion: 'karpenter.sh/v1',
        kind: 'NodePool',
        metadata: { name: 'default' },
        spec: {
          template: { spec: { nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'default' }, requirements: (requirementsChange as { previous: unknown[] }).previous, expireAfter: '720h' } },
          disruption: { consolidationPolicy: 'WhenEmptyOrUnderutilized', budgets: [{ nodes: '10%' }] },
        },
      },
      owner ?? 'kubectl-client-side-apply',
    );
    if (!owner) api.handOver(nodePoolRef('default'), 'spec.template.spec.requirements');
    return api;
  }

  it('applies spec.template.spec.requirements whole (atomic), keeps nodeClassRef, expireAfter and disruption; succeeded once the GET shows it', async () => {
    const api = poolApi();
    const out = await karpenterInstanceTypesExecutor.start(action(requirementsChange), deps(api));
    expect(out.status).toBe('succeeded');
    expect(api.writes.map((w) => w.body)).toEqual([{ spec: { template: { spec: { requirements: (requirementsChange as { requirements: unknown[] }).requirements } } } }]);
    const spec = api.object(nodePoolRef('default'))?.['spec'] as { template: { spec: Record<string, unknown> }; disruption: unknown };
    expect(spec.template.spec['nodeClassRef']).toEqual({ group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'default' });
    expect(spec.template.spec['expireAfter']).toBe('720h');
    expect(spec.disruption).toEqual({ consolidationPolicy: 'WhenEmptyOrUnderutilized', budgets: [{ nodes: '10%' }] });
  });

  it('re-run after the apply: no second change', async () => {
    const api = poolApi();
    await karpenterInstanceTypesExecutor.start(action(requirementsChange), deps(api));
    const again = await karpenterInstanceTypesExecutor.follow(record(requirementsChange, 'start'), deps(api));
    expect(again.status).toBe('succeeded');
    expect(api.writes).toHaveLength(1);
  });

  it('owned by argocd: failed naming it, nothing written', async () => {
    const api = poolApi('argocd-controller');
    const out = await karpenterInstanceTypesExecutor.start(action(requirementsChange), deps(api));
    expect(out.status).toBe('failed');
    expect(out.detail).toContain('"argocd-controller"');
    expect(api.writes).toEqual([]);
  });

  it('requirements changed since the plan: skipped', async () => {
    const api = poolApi();
    api.set(nodePoolRef('default'), 'spec.template.spec.requirements', [{ key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large'] }]);
    const out = await karpenterInstanceTypesExecutor.start(action(requirementsChange), deps(api));
    expect(out.status).toBe('skipped');
    expect(api.applies).toEqual([]);
  });
});
