/** Server-side apply and GET through KubeWriteApi against the test API server's field ownership. */
import { KubeApiError, KUBE_FIELD_MANAGER, type KubeObjectRef } from '../../lib/inventory/kube-types';
import { trimAwsNode } from '../../lib/inventory/kube-trim';
import { kubeConnector, objectPath } from '../../lib/kube/api';
import { clusterAt } from '../support/kube-cluster';
import { awsNodeDaemonSet, ec2NodeClass } from '../support/kube-objects';
import { startKubeServer, type KubeTestServer } from '../support/kube-server';

let server: KubeTestServer;
const connect = kubeConnector({ token: async () => 'k8s-aws-v1.dGVzdA', timeoutMs: 2000 });
const AWS_NODE: KubeObjectRef = { apiVersion: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets', namespace: 'kube-system', name: 'aws-node' };
const NODE_CLASS: KubeObjectRef = { apiVersion: 'karpenter.k8s.aws/v1', kind: 'EC2NodeClass', plural: 'ec2nodeclasses', name: 'default' };
const ENI_A: KubeObjectRef = { apiVersion: 'crd.k8s.amazonaws.com/v1alpha1', kind: 'ENIConfig', plural: 'eniconfigs', name: 'eu-west-1a' };
const envPatch = (env: Record<string, string>) => ({
  spec: { template: { spec: { containers: [{ name: 'aws-node', env: Object.entries(env).map(([name, value]) => ({ name, value })) }] } } },
});

beforeEach(async () => {
  server = await startKubeServer();
  server.put(objectPath(AWS_NODE), awsNodeDaemonSet({ WARM_IP_TARGET: '5', ENABLE_PREFIX_DELEGATION: 'false' }), 'helm');
  server.put(objectPath(NODE_CLASS), ec2NodeClass('default', [{ tags: { 'karpenter.sh/discovery': 'demo' } }], []), 'helm');
});
afterEach(async () => {
  await server.stop();
});

describe('KubeWriteApi', () => {
  it('builds the object paths of core, grouped, namespaced and cluster-scoped resources', () => {
    expect(objectPath(AWS_NODE)).toBe('/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node');
    expect(objectPath({ apiVersion: 'v1', kind: 'Node', plural: 'nodes', name: 'n1' })).toBe('/api/v1/nodes/n1');
    expect(objectPath(ENI_A)).toBe('/apis/crd.k8s.amazonaws.com/v1alpha1/eniconfigs/eu-west-1a');
  });

  it('applies with fieldManager eks-ip-responder, force=false, apply-patch+yaml, adding apiVersion, kind and metadata', async () => {
    const api = await connect(clusterAt(server.endpoint));
    const out = await api.apply(ENI_A, { spec: { subnet: 'subnet-0a', securityGroups: ['sg-1'] } });
    expect(out).toMatchObject({ kind: 'ENIConfig', metadata: { name: 'eu-west-1a' }, spec: { subnet: 'subnet-0a' } });
    const [req] = server.requests;
    expect(req).toMatchObject({ method: 'PATCH', path: objectPath(ENI_A), query: { fieldManager: KUBE_FIELD_MANAGER, force: 'false' } });
    expect(req?.query['dryRun']).toBeUndefined();
    expect(req?.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(req?.body).toEqual({ apiVersion: ENI_A.apiVersion, kind: 'ENIConfig', metadata: { name: 'eu-west-1a' }, spec: { subnet: 'subnet-0a', securityGroups: ['sg-1'] } });
    expect(await api.get(ENI_A)).toMatchObject({ spec: { subnet: 'subnet-0a' } });
  });

  it('fails with a 409 KubeApiError naming the field and its manager when another manager owns it', async () => {
    const api = await connect(clusterAt(server.endpoint));
    const err = await api.apply(AWS_NODE, envPatch({ WARM_IP_TARGET: '2' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    const e = err as KubeApiError;
    expect(e.status).toBe(409);
    expect(e.reason).toBe('Conflict');
    expect(e.causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "helm" using apps/v1', field: '.spec.template.spec.containers[name="aws-node"].env[name="WARM_IP_TARGET"].value' },
    ]);
    expect(e.message).toContain('Apply failed with 1 conflict: conflict with "helm" using apps/v1');
    // Nothing changed.
    expect(trimAwsNode(await api.get(AWS_NODE)).env['WARM_IP_TARGET']).toBe('5');
  });

  it('adds an env entry no one owns and keeps every other field, the entry owned by eks-ip-responder', async () => {
    const api = await connect(clusterAt(server.endpoint));
    await api.apply(AWS_NODE, envPatch({ MINIMUM_IP_TARGET: '10' }));
    const ds = trimAwsNode(await api.get(AWS_NODE));
    expect(ds.env).toEqual({ WARM_IP_TARGET: '5', ENABLE_PREFIX_DELEGATION: 'false', MINIMUM_IP_TARGET: '10' });
    expect(ds.image).toContain('amazon-k8s-cni:v1.19.2');
    expect(ds.envManagers).toMatchObject({ WARM_IP_TARGET: 'helm', MINIMUM_IP_TARGET: KUBE_FIELD_MANAGER });
  });

  it('removes a field this manager applied before and leaves out now, keeping the others\' fields', async () => {
    const api = await connect(clusterAt(server.endpoint));
    await api.apply(AWS_NODE, envPatch({ MINIMUM_IP_TARGET: '10', WARM_PREFIX_TARGET: '1' }));
    await api.apply(AWS_NODE, envPatch({ WARM_PREFIX_TARGET: '1' }));
    expect(trimAwsNode(await api.get(AWS_NODE)).env).toEqual({ WARM_IP_TARGET: '5', ENABLE_PREFIX_DELEGATION: 'false', WARM_PREFIX_TARGET: '1' });
  });

  it('stores nothing on a dry run', async () => {
    const api = await connect(clusterAt(server.endpoint));
    const out = await api.apply(AWS_NODE, envPatch({ MINIMUM_IP_TARGET: '10' }), { dryRun: true });
    expect(server.requests[0]?.query['dryRun']).toBe('All');
    expect(trimAwsNode(out).env['MINIMUM_IP_TARGET']).toBe('10');
    expect(trimAwsNode(await api.get(AWS_NODE)).env['MINIMUM_IP_TARGET']).toBeUndefined();
  });

  it('treats subnetSelectorTerms as one atomic field: another value conflicts, the same value is shared', async () => {
    const api = await connect(clusterAt(server.endpoint));
    const err = (await api.apply(NODE_CLASS, { spec: { subnetSelectorTerms: [{ id: 'subnet-0b' }] } }).catch((e: unknown) => e)) as KubeApiError;
    expect(err.status).toBe(409);
    expect(err.causes.map((c) => c.field)).toEqual(['.spec.subnetSelectorTerms']);
    await api.apply(NODE_CLASS, { spec: { subnetSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'demo' } }] } });
    const got = await api.get(NODE_CLASS);
    const managers = (got?.['metadata'] as { managedFields: { manager: string; fieldsV1: Record<string, unknown> }[] }).managedFields;
    expect(managers.filter((m) => JSON.stringify(m.fieldsV1).includes('f:subnetSelectorTerms')).map((m) => m.manager).sort()).toEqual([KUBE_FIELD_MANAGER, 'helm']);
  });

  it('answers undefined for an object that does not exist', async () => {
    const api = await connect(clusterAt(server.endpoint));
    expect(await api.get({ ...ENI_A, name: 'eu-west-1c' })).toBeUndefined();
  });

  it('refuses to open a cluster in CONFIG_MAP mode, saying the fix', async () => {
    await expect(connect(clusterAt(server.endpoint, { mode: 'CONFIG_MAP' }))).rejects.toThrow(/update-cluster-config/);
  });
});
