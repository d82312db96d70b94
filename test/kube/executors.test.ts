/**
 * The Kubernetes executors through the real client (lib/kube/api.ts kubeConnector: HTTPS with the
 * cluster CA, server-side apply) against the test API server, which keeps field ownership as the
 * API server does: what the executor unit tests prove on an in-memory fake holds on the wire too.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { eniConfigRef } from '../../lib/act/execute-eni-configs';
import { EXECUTORS } from '../../lib/act/executors';
import type { ExecuteDeps } from '../../lib/act/types';
import { KUBE_FIELD_MANAGER, type KubeObjectRef } from '../../lib/inventory/kube-types';
import { trimAwsNode } from '../../lib/inventory/kube-trim';
import { kubeConnector, objectPath } from '../../lib/kube/api';
import type { ActionChange, PlannedAction } from '../../lib/plan/types';
import { clusterAt } from '../support/kube-cluster';
import { awsNodeDaemonSet, ec2NodeClass, eniConfig } from '../support/kube-objects';
import { startKubeServer, type KubeTestServer } from '../support/kube-server';

const CLUSTER = 'prod-a';
const AWS_NODE: KubeObjectRef = { apiVersion: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets', namespace: 'kube-system', name: 'aws-node' };
const NODE_CLASS: KubeObjectRef = { apiVersion: 'karpenter.k8s.aws/v1', kind: 'EC2NodeClass', plural: 'ec2nodeclasses', name: 'default' };
const SUBNETS = [
  { id: 'subnet-0aaaaaaaaaaaaaaa1', zone: 'eu-west-1a', zoneID: 'euw1-az1' },
  { id: 'subnet-0bbbbbbbbbbbbbbb2', zone: 'eu-west-1b', zoneID: 'euw1-az2' },
];
const SPARE = 'subnet-0ccccccccccccccc3';

const eksMock = mockClient(EKSClient);
let server: KubeTestServer;

beforeEach(async () => {
  server = await startKubeServer();
  eksMock.reset();
  eksMock.on(DescribeClusterCommand).resolves({ cluster: clusterAt(server.endpoint, { name: CLUSTER }) });
});
afterEach(async () => {
  await server.stop();
});
afterAll(() => eksMock.restore());

function deps(): ExecuteDeps {
  return {
    eks: new EKSClient({}),
    ec2: new EC2Client({}),
    now: () => new Date('2026-12-03T10:00:00Z'),
    sleep: async () => {},
    followForMs: 0,
    kube: kubeConnector({ token: async () => 'k8s-aws-v1.dGVzdA', timeoutMs: 2000 }),
  };
}

function action(kind: PlannedAction['kind'], subject: string, change: ActionChange): PlannedAction {
  return { id: `${CLUSTER}/${kind}/${subject}`, cluster: CLUSTER, kind, subject, reason: 'test', findingIds: [], change, predicted: { text: 'test' }, blockers: [], state: 'apply', blockedBy: [] };
}

const patches = (path: string) => server.requestsTo(path).filter((r) => r.method === 'PATCH');

describe('self-managed aws-node env through the real client', () => {
  beforeEach(() => server.put(objectPath(AWS_NODE), awsNodeDaemonSet({ WARM_IP_TARGET: '5' }), 'helm'));

  it('sets a key nobody owns by a dry run then the apply, keeping the entries Helm owns', async () => {
    const outcome = await EXECUTORS['warm-targets'].start(
      action('warm-targets', 'vpc-cni', { type: 'addon-env', target: 'aws-node', set: { MINIMUM_IP_TARGET: '10' }, previous: { MINIMUM_IP_TARGET: '' } }),
      deps(),
    );
    expect(outcome.status).not.toBe('failed');
    const sent = patches(objectPath(AWS_NODE));
    expect(sent.map((r) => [r.query['dryRun'] ?? '-', r.query['fieldManager'], r.query['force']])).toEqual([
      ['All', KUBE_FIELD_MANAGER, 'false'],
      ['-', KUBE_FIELD_MANAGER, 'false'],
    ]);
    expect(trimAwsNode(server.get(objectPath(AWS_NODE))).env).toMatchObject({ WARM_IP_TARGET: '5', MINIMUM_IP_TARGET: '10' });
  });

  it('fails on a key Helm owns, naming Helm, with nothing applied (the dry run already answers 409)', async () => {
    const outcome = await EXECUTORS['warm-targets'].start(
      action('warm-targets', 'vpc-cni', { type: 'addon-env', target: 'aws-node', set: { WARM_IP_TARGET: '2' }, previous: { WARM_IP_TARGET: '5' } }),
      deps(),
    );
    expect(outcome.status).toBe('failed');
    expect(outcome.detail).toContain('helm');
    expect(patches(objectPath(AWS_NODE)).map((r) => r.query['dryRun'])).toEqual(['All']);
    expect(trimAwsNode(server.get(objectPath(AWS_NODE))).env['WARM_IP_TARGET']).toBe('5');
  });
});

describe('self-managed aws-node handed to eks-ip-responder by an apply', () => {
  // The conflict text's fix: "apply it once yourself with --server-side --field-manager=eks-ip-responder
  // --force-conflicts"; an operator does that with the whole aws-node manifest, so this manager then
  // owns every field of it by Apply, and an apply that sends the env alone would delete the rest.
  beforeEach(() => server.put(objectPath(AWS_NODE), awsNodeDaemonSet({ WARM_IP_TARGET: '5' }), KUBE_FIELD_MANAGER, 'Apply'));

  it('keeps every other field it owns: the image, the other container, an env entry from valueFrom, the selector', async () => {
    const before = server.get(objectPath(AWS_NODE)) as Record<string, unknown>;
    const outcome = await EXECUTORS['warm-targets'].start(
      action('warm-targets', 'vpc-cni', { type: 'addon-env', target: 'aws-node', set: { MINIMUM_IP_TARGET: '10' }, previous: { MINIMUM_IP_TARGET: '' } }),
      deps(),
    );
    expect(outcome.status).not.toBe('failed');
    const after = server.get(objectPath(AWS_NODE)) as Record<string, unknown>;
    const spec = after['spec'] as { selector?: unknown; template: { spec: { hostNetwork?: unknown; containers: { name: string; image?: string; env?: unknown[] }[] } } };
    expect(spec.selector).toEqual((before['spec'] as Record<string, unknown>)['selector']);
    expect(spec.template.spec.hostNetwork).toBe(true);
    expect(spec.template.spec.containers.map((c) => [c.name, c.image !== undefined])).toEqual([
      ['aws-node', true],
      ['aws-eks-nodeagent', true],
    ]);
    const env = spec.template.spec.containers[0]?.env ?? [];
    expect(env).toContainEqual({ name: 'MY_NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } });
    expect(trimAwsNode(after).env).toMatchObject({ WARM_IP_TARGET: '5', MINIMUM_IP_TARGET: '10' });
    expect((after['metadata'] as Record<string, unknown>)['labels']).toEqual({ 'k8s-app': 'aws-node' });
  });
});

describe('self-managed aws-node: a second change beside Helm', () => {
  beforeEach(() => server.put(objectPath(AWS_NODE), awsNodeDaemonSet({ WARM_IP_TARGET: '5' }), 'helm'));

  it('keeps the entry it set before and claims none of Helm\'s containers or fields', async () => {
    const set = async (key: string, value: string) =>
      EXECUTORS['warm-targets'].start(action('warm-targets', 'vpc-cni', { type: 'addon-env', target: 'aws-node', set: { [key]: value }, previous: { [key]: '' } }), deps());
    expect((await set('MINIMUM_IP_TARGET', '10')).status).not.toBe('failed');
    expect((await set('WARM_PREFIX_TARGET', '1')).status).not.toBe('failed');
    const after = server.get(objectPath(AWS_NODE)) as Record<string, unknown>;
    expect(trimAwsNode(after).env).toMatchObject({ WARM_IP_TARGET: '5', MINIMUM_IP_TARGET: '10', WARM_PREFIX_TARGET: '1' });
    const mine = ((after['metadata'] as Record<string, unknown>)['managedFields'] as { manager: string; fieldsV1: unknown }[]).find((m) => m.manager === KUBE_FIELD_MANAGER);
    const text = JSON.stringify(mine?.fieldsV1);
    expect(text).toContain('MINIMUM_IP_TARGET');
    expect(text).not.toContain('f:image');
    expect(text).not.toContain('aws-eks-nodeagent');
    expect(text).not.toContain('MY_NODE_NAME');
  });
});

describe('Karpenter subnet selector terms through the real client', () => {
  const previousTerms = [{ tags: { 'karpenter.sh/discovery': CLUSTER } }];
  const change: ActionChange = {
    type: 'karpenter-subnet-terms',
    nodeClass: 'default',
    previousTerms,
    terms: [{ id: SUBNETS[1]!.id }, { id: SPARE }],
    removed: [SUBNETS[0]!.id],
    added: [SPARE],
  };

  it('replaces the whole list (atomic) once the object was handed to eks-ip-responder by an apply, every other field it owns kept', async () => {
    // The operator handed it over with a server-side apply of the whole object under this manager
    // (docs/remediation.md, "Karpenter"): an apply of the terms alone would delete the rest.
    server.put(objectPath(NODE_CLASS), ec2NodeClass('default', previousTerms, SUBNETS), KUBE_FIELD_MANAGER, 'Apply');
    const outcome = await EXECUTORS['karpenter-subnets'].start(action('karpenter-subnets', 'default', change), deps());
    expect(outcome.status).not.toBe('failed');
    const spec = server.get(objectPath(NODE_CLASS))?.['spec'] as Record<string, unknown>;
    expect(spec['subnetSelectorTerms']).toEqual([{ id: SUBNETS[1]!.id }, { id: SPARE }]);
    expect(spec['role']).toBeDefined();
    expect(patches(objectPath(NODE_CLASS)).map((r) => r.query['dryRun'] ?? '-')).toEqual(['All', '-']);
  });

  it('keeps the labels and annotations it owns (a GitOps tracking label, a Helm release annotation) when the object was handed over', async () => {
    const handed = ec2NodeClass('default', previousTerms, SUBNETS);
    handed['metadata'] = { name: 'default', labels: { 'app.kubernetes.io/instance': 'karpenter-classes' }, annotations: { 'meta.helm.sh/release-name': 'karpenter-classes' } };
    server.put(objectPath(NODE_CLASS), handed, KUBE_FIELD_MANAGER, 'Apply');
    const outcome = await EXECUTORS['karpenter-subnets'].start(action('karpenter-subnets', 'default', change), deps());
    expect(outcome.status).not.toBe('failed');
    const meta = server.get(objectPath(NODE_CLASS))?.['metadata'] as Record<string, unknown>;
    expect(meta['labels']).toEqual({ 'app.kubernetes.io/instance': 'karpenter-classes' });
    expect(meta['annotations']).toEqual({ 'meta.helm.sh/release-name': 'karpenter-classes' });
  });

  it('fails naming the manager when Helm owns the terms, and changes nothing', async () => {
    server.put(objectPath(NODE_CLASS), ec2NodeClass('default', previousTerms, SUBNETS), 'helm');
    const outcome = await EXECUTORS['karpenter-subnets'].start(action('karpenter-subnets', 'default', change), deps());
    expect(outcome.status).toBe('failed');
    expect(outcome.detail).toContain('helm');
    expect((server.get(objectPath(NODE_CLASS))?.['spec'] as Record<string, unknown>)['subnetSelectorTerms']).toEqual(previousTerms);
  });
});

describe('custom networking ENIConfigs through the real client', () => {
  const wanted = { name: 'eu-west-1a', subnet: 'subnet-0a64000000000000a', securityGroups: ['sg-0123456789abcdef0'] };
  const change: ActionChange = {
    type: 'eni-configs',
    vpcId: 'vpc-0aaa1111',
    eniConfigs: [wanted],
    env: { type: 'addon-env', set: { AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true', ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone' }, previous: {}, target: 'aws-node' },
    maxPods: [],
  };
  const path = objectPath(eniConfigRef(wanted.name));
  beforeEach(() => server.put(objectPath(AWS_NODE), awsNodeDaemonSet({}), 'helm'));

  it('never overwrites an ENIConfig an operator makes between the GET and the apply: the dry run answers 409 (force=false), nothing written', async () => {
    server.failWith = (req) => {
      if (req.method === 'PATCH' && req.path === path && !server.get(path)) server.put(path, eniConfig(wanted.name, 'subnet-0ffffffffffffffff'), 'kubectl-create');
      return undefined;
    };
    const outcome = await EXECUTORS['eni-configs'].start(action('eni-configs', 'vpc-0aaa1111', change), deps());
    expect(outcome.status).toBe('failed');
    expect(outcome.detail).toContain('kubectl-create');
    expect((server.get(path)?.['spec'] as Record<string, unknown>)['subnet']).toBe('subnet-0ffffffffffffffff');
    expect(patches(path).map((r) => r.query['dryRun'] ?? '-')).toEqual(['All']);
    expect(patches(objectPath(AWS_NODE))).toEqual([]);
  });

  it('makes a missing ENIConfig by a dry run then the apply, then the env on aws-node', async () => {
    const outcome = await EXECUTORS['eni-configs'].start(action('eni-configs', 'vpc-0aaa1111', change), deps());
    expect(outcome.status).not.toBe('failed');
    expect(server.get(path)?.['spec']).toEqual({ subnet: wanted.subnet, securityGroups: wanted.securityGroups });
    expect(patches(path).map((r) => [r.query['dryRun'] ?? '-', r.query['force']])).toEqual([
      ['All', 'false'],
      ['-', 'false'],
    ]);
    expect(trimAwsNode(server.get(objectPath(AWS_NODE))).env).toMatchObject({ AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true', ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone' });
  });
});
