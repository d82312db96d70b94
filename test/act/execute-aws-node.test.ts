/**
 * The self-managed aws-node executor (warm-targets / prefix-delegation with target aws-node)
 * against the in-memory Kubernetes API (test/support/fake-kube-api.ts): server-side apply of
 * only the env entries, a dry run first, conflicts named and never forced, the rollout followed,
 * idempotent re-runs.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { addonEnvExecutor } from '../../lib/act/execute-addon';
import { AWS_NODE_STEP, awsNodeViewOf, daemonSetRollout, KUBE_APPLY_OPERATION } from '../../lib/act/execute-aws-node';
import { applyConflictsOf } from '../../lib/act/kube-write';
import type { ActionRecord, ExecuteDeps, WriteIntent } from '../../lib/act/types';
import { KubeApiError } from '../../lib/inventory/kube-types';
import type { AddonEnvChange, PlannedAction } from '../../lib/plan/types';
import { FakeKubeApi } from '../support/fake-kube-api';

const CLUSTER = 'payments-prod';
const eksMock = mockClient(EKSClient);
beforeEach(() => {
  eksMock.reset();
  eksMock.on(DescribeClusterCommand).resolves({ cluster: { name: CLUSTER, endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', certificateAuthority: { data: 'LS0t' } } });
});
afterAll(() => eksMock.restore());

function deps(kube: FakeKubeApi | undefined, followForMs = 0): ExecuteDeps & { intents: Omit<WriteIntent, 'at' | 'token'>[]; sleeps: number[] } {
  const intents: Omit<WriteIntent, 'at' | 'token'>[] = [];
  const sleeps: number[] = [];
  return {
    eks: new EKSClient({}),
    ec2: new EC2Client({}),
    now: () => new Date('2026-11-26T10:00:00Z'),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    followForMs,
    ...(kube ? { kube: kube.connector() } : {}),
    intend: async (i) => {
      intents.push(i);
      return 'token';
    },
    intents,
    sleeps,
  };
}

function action(set: Record<string, string> = { WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '10' }, kind: PlannedAction['kind'] = 'warm-targets'): PlannedAction {
  const change: AddonEnvChange = { type: 'addon-env', set, previous: {}, target: 'aws-node' };
  return { id: `${CLUSTER}/${kind}/vpc-cni`, cluster: CLUSTER, kind, subject: 'vpc-cni', reason: 'test', findingIds: [], change, predicted: { text: 'test' }, blockers: [], state: 'apply', blockedBy: [] };
}

const record = (a: PlannedAction, extra: Partial<ActionRecord> = {}): ActionRecord => ({
  actionId: a.id,
  cluster: a.cluster,
  kind: a.kind,
  change: a.change,
  predicted: a.predicted,
  reason: a.reason,
  startedAt: '2026-11-26T09:00:00Z',
  updatedAt: '2026-11-26T09:00:00Z',
  status: 'in-progress',
  step: 'start',
  history: [],
  version: 2,
  ...extra,
});

const warm = addonEnvExecutor('warm-targets');
const prefix = addonEnvExecutor('prefix-delegation');

describe('aws-node executor', () => {
  it('applies only the env entries by server-side apply, a dry run first, and keeps every other entry and container', async () => {
    const kube = new FakeKubeApi();
    kube.seedAwsNode({ WARM_ENI_TARGET: '1', AWS_VPC_K8S_CNI_LOGLEVEL: 'DEBUG' });
    const d = deps(kube);
    const out = await warm.start(action(), d);
    expect(out).toMatchObject({ status: 'succeeded', step: AWS_NODE_STEP, reference: 'generation 2' });
    expect(out.detail).toMatch(/WARM_IP_TARGET=2, MINIMUM_IP_TARGET=10 applied and rolled out to all 3 nodes/);
    expect(kube.calls.map((c) => `${c.op}${c.dryRun ? ' (dry run)' : ''}`)).toEqual(['get', 'apply (dry run)', 'apply']);
    // Only the aws-node container's env entries: the apply configuration names nothing else.
    expect(kube.calls[2]?.body).toEqual({
      spec: { template: { spec: { containers: [{ name: 'aws-node', env: [{ name: 'MINIMUM_IP_TARGET', value: '10' }, { name: 'WARM_IP_TARGET', value: '2' }] }] } } },
    });
    expect(kube.env()).toEqual({ WARM_ENI_TARGET: '1', AWS_VPC_K8S_CNI_LOGLEVEL: 'DEBUG', WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '10' });
    const obj = kube.object({ plural: 'daemonsets', namespace: 'kube-system', name: 'aws-node' }) as { spec: { template: { spec: { containers: { name: string; env?: { name: string; valueFrom?: unknown }[] }[]; initContainers: unknown[] } } } };
    expect(obj.spec.template.spec.containers.map((c) => c.name)).toEqual(['aws-node', 'aws-eks-nodeagent']);
    expect(obj.spec.template.spec.containers[0]?.env?.find((e) => e.name === 'MY_NODE_NAME')?.valueFrom).toBeDefined();
    expect(obj.spec.template.spec.initContainers).toHaveLength(1);
    // Announced before it was sent, the dry run not (it writes nothing).
    expect(d.intents).toEqual([{ step: AWS_NODE_STEP, operation: KUBE_APPLY_OPERATION, target: `kube-system/aws-node of ${CLUSTER}` }]);
    expect(kube.changes).toEqual(['daemonsets/aws-node']);
  });

  it('changes nothing when the keys are already set', async () => {
    const kube = new FakeKubeApi();
    kube.seedAwsNode({ WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '10' });
    const d = deps(kube);
    const out = await warm.start(action(), d);
    expect(out).toMatchObject({ status: 'succeeded' });
    expect(out.detail).toMatch(/already set.*nothing changed/);
    expect(kube.calls.map((c) => c.op)).toEqual(['get']);
    expect(d.intents).toEqual([]);
  });

  it('fails on a field another manager owns, naming it and the fix, and never forces', async () => {
    const kube = new FakeKubeApi();
    kube.seedAwsNode({ WARM_IP_TARGET: '5' }, { WARM_IP_TARGET: 'helm' });
    const d = deps(kube);
    const out = await warm.start(action(), d);
    expect(out).toMatchObject({ status: 'failed', step: AWS_NODE_STEP });
    expect(out.retryable).toBeFalsy();
    expect(out.detail).toContain('.spec.template.spec.containers[name="aws-node"].env[name="WARM_IP_TARGET"].value is owned by "helm"');
    expect(out.detail).toMatch(/never forces.*Helm chart: its env values, then helm upgrade.*--force-conflicts/);
    // Stopped at the dry run: nothing announced, nothing written.
    expect(kube.calls.map((c) => `${c.op}${c.dryRun ? ' (dry run)' : ''}`)).toEqual(['get', 'apply (dry run)']);
    expect(d.intents).toEqual([]);
    expect(kube.env()['WARM_IP_TARGET']).toBe('5');
  });

  it('keeps the entries it applied before: a later change of other keys names them too', async () => {
    const kube = new FakeKubeApi();
    kube.seedAwsNode({});
    await warm.start(action(), deps(kube));
    await prefix.start(action({ ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' }, 'prefix-delegation'), deps(kube));
    // Server-side apply removes a field its manager applied before and leaves out: the body keeps them.
    expect(kube.env()).toEqual({ WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '10', ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' });
    const view = awsNodeViewOf(kube.object({ plural: 'daemonsets', namespace: 'kube-system', name: 'aws-node' }) ?? {});
    expect(view?.ours).toEqual(['ENABLE_PREFIX_DELEGATION', 'MINIMUM_IP_TARGET', 'WARM_IP_TARGET', 'WARM_PREFIX_TARGET']);
  });

  it('follows the rollout: in progress until every node runs the new pod, then succeeded', async () => {
    const kube = new FakeKubeApi();
    kube.seedAwsNode({});
    kube.rollout = 'manual';
    const a = action();
    const started = await warm.start(a, deps(kube, 10_000));
    expect(started).toMatchObject({ status: 'in-progress', reference: 'generation 2' });
    expect(started.detail).toMatch(/has not yet seen generation 2/);
    const still = await warm.follow(record(a, { reference: 'generation 2', step: AWS_NODE_STEP }), deps(kube));
    expect(still.status).toBe('in-progress');
    kube.completeRollout({ plural: 'daemonsets', namespace: 'kube-system', name: 'aws-node' });
    const done = await warm.follow(record(a, { reference: 'generation 2', step: AWS_NODE_STEP }), deps(kube));
    expect(done).toMatchObject({ status: 'succeeded' });
    expect(kube.changes).toEqual(['daemonsets/aws-node']);
  });

  it('waits while another rollout of aws-node is in flight', async () => {
    const kube = new FakeKubeApi();
    kube.seedAwsNode({});
    kube.rollout = 'manual';
    await kube.apply({ apiVersion: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets', namespace: 'kube-system', name: 'aws-node' }, { spec: { template: { spec: { containers: [{ name: 'aws-node', image: 'new' }] } } } });
    const before = kube.changes.length;
    const out = await warm.start(action(), deps(kube));
    expect(out).toMatchObject({ status: 'skipped' });
    expect(out.detail).toMatch(/rollout of aws-node is in flight/);
    expect(kube.changes.length).toBe(before);
  });

  it('a re-run after an apply whose answer was lost changes nothing more and follows the rollout', async () => {
    const kube = new FakeKubeApi();
    kube.seedAwsNode({});
    const a = action();
    await warm.start(a, deps(kube));
    const calls = kube.calls.length;
    const intent = { step: AWS_NODE_STEP, operation: KUBE_APPLY_OPERATION, target: 'x', at: '2026-11-26T09:00:00Z' };
    const out = await warm.follow(record(a, { intent, wrote: true }), deps(kube));
    expect(out).toMatchObject({ status: 'succeeded', reference: 'generation 2' });
    expect(kube.calls.slice(calls).map((c) => c.op)).toEqual(['get']);
    expect(kube.changes).toEqual(['daemonsets/aws-node']);
  });

  it('fails the follow when another manager changed a key since', async () => {
    const kube = new FakeKubeApi();
    kube.seedAwsNode({});
    const a = action();
    await warm.start(a, deps(kube));
    kube.seedAwsNode({ WARM_IP_TARGET: '7', MINIMUM_IP_TARGET: '10' }, { WARM_IP_TARGET: 'kubectl-set' });
    const out = await warm.follow(record(a, { reference: 'generation 2', step: AWS_NODE_STEP }), deps(kube));
    expect(out).toMatchObject({ status: 'failed' });
    expect(out.detail).toMatch(/no longer has WARM_IP_TARGET=2 \(now WARM_IP_TARGET=7\)/);
  });

  it.each<[string, (k: FakeKubeApi) => void, RegExp, boolean]>([
    ['no Kubernetes access is configured', () => undefined, /no Kubernetes access is configured/, true],
    ['aws-node does not exist', (k) => k.delete({ plural: 'daemonsets', namespace: 'kube-system', name: 'aws-node' }), /no kube-system\/aws-node DaemonSet/, false],
    ['the API answers 500 on the apply', (k) => k.failNext('apply', new KubeApiError(500, 'InternalError', 'etcdserver: request timed out')), /apply of kube-system\/aws-node \(DaemonSet\): 500 InternalError/, true],
    ['RBAC refuses the dry run', (k) => k.failNext('dry-run', new KubeApiError(403, 'Forbidden', 'daemonsets.apps "aws-node" is forbidden')), /403 Forbidden.*resources \[daemonsets\], verbs \[get, patch\] in kube-system/, false],
  ])('fails when %s', async (name, setup, detail, retryable) => {
    const kube = new FakeKubeApi();
    kube.seedAwsNode({});
    setup(kube);
    const out = await warm.start(action(), deps(name.startsWith('no Kubernetes') ? undefined : kube));
    expect(out.status).toBe('failed');
    expect(out.detail).toMatch(detail);
    expect(out.retryable === true).toBe(retryable);
    expect(kube.changes).toEqual([]);
  });
});

describe('daemonSetRollout (as kubectl rollout status judges a DaemonSet)', () => {
  const ds = (generation: number, status: Record<string, number>) => ({ metadata: { generation }, status });
  it.each<[string, ReturnType<typeof ds>, boolean, RegExp]>([
    ['the controller has not seen the spec', ds(3, { observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 }), false, /not yet seen generation 3 \(observed 2\)/],
    ['nodes still run the old pod', ds(3, { observedGeneration: 3, desiredNumberScheduled: 3, updatedNumberScheduled: 1, numberAvailable: 3 }), false, /1 of 3 nodes run the new aws-node pod/],
    ['updated pods not yet available', ds(3, { observedGeneration: 3, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 }), false, /2 of 3 updated aws-node pods are available/],
    ['every node runs it, available', ds(3, { observedGeneration: 3, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 }), true, /rolled out to all 3 nodes \(generation 3\)/],
  ])('%s', (_case, obj, done, text) => {
    const r = daemonSetRollout(obj);
    expect(r.done).toBe(done);
    expect(r.text).toMatch(text);
  });
});

describe('applyConflictsOf', () => {
  it("reads the manager and field of each cause, as the API server words them", () => {
    const err = new KubeApiError(409, 'Conflict', 'Apply failed with 2 conflicts', [
      { reason: 'FieldManagerConflict', message: 'conflict with "helm" using apps/v1', field: '.spec.template.spec.containers[name="aws-node"].env[name="WARM_IP_TARGET"].value' },
      { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-set" using apps/v1 at 2026-11-26T09:00:00Z', field: '.spec.template.spec.containers[name="aws-node"].env[name="MINIMUM_IP_TARGET"].value' },
    ]);
    expect(applyConflictsOf(err)).toEqual([
      { manager: 'helm', field: '.spec.template.spec.containers[name="aws-node"].env[name="WARM_IP_TARGET"].value' },
      { manager: 'kubectl-set', field: '.spec.template.spec.containers[name="aws-node"].env[name="MINIMUM_IP_TARGET"].value' },
    ]);
    expect(applyConflictsOf(new KubeApiError(409, 'AlreadyExists', 'x'))).toBeUndefined();
    expect(applyConflictsOf(new Error('x'))).toBeUndefined();
  });
});
