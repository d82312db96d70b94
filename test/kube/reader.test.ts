/** The Kubernetes reader against a local API server in the real shapes (test/support/kube-server.ts). */
import { createServer } from 'node:net';
import { KubeReader, KUBE_PATHS } from '../../lib/kube/reader';
import { KUBE_PAGE_LIMIT } from '../../lib/kube/client';
import type { KubePart } from '../../lib/inventory/kube-types';
import { clusterAt } from '../support/kube-cluster';
import { awsNodeDaemonSet, ec2NodeClass, eniConfig, NO_ADDRESS, node, nodePool, pod, sandboxEvent } from '../support/kube-objects';
import { KUBE_OTHER_CA, startKubeServer, type KubeTestServer } from '../support/kube-server';

let server: KubeTestServer;
const TOKEN = 'k8s-aws-v1.dGVzdA';
const reader = (o: Partial<ConstructorParameters<typeof KubeReader>[0]> = {}): KubeReader => new KubeReader({ token: async () => TOKEN, timeoutMs: 2000, ...o });

function seed(s: KubeTestServer, pods = 3): void {
  s.put('/api/v1/nodes/n1', node('n1', { instanceId: 'i-01', nodegroup: 'ng-a' }));
  s.put('/api/v1/nodes/n2', node('n2', { instanceId: 'i-02', nodePool: 'default' }));
  for (let i = 0; i < pods; i++) s.put(`/api/v1/namespaces/web/pods/p${i}`, pod('web', `p${i}`, { node: 'n1', ip: `10.0.${Math.floor(i / 250)}.${i % 250}` }));
  s.put('/api/v1/namespaces/web/pods/done', pod('web', 'done', { node: 'n1', ip: '10.9.9.9', phase: 'Succeeded' }));
  s.put('/api/v1/namespaces/default/pods/waiting', pod('default', 'waiting', { node: 'n2', phase: 'Pending' }));
  s.put('/api/v1/namespaces/default/events/e1', sandboxEvent('e1', 'waiting', NO_ADDRESS, { count: 4 }));
  s.put('/api/v1/namespaces/default/events/e2', sandboxEvent('e2', 'x', 'Back-off pulling image', { reason: 'BackOff', host: 'n1' }));
  s.put('/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node', awsNodeDaemonSet({ WARM_IP_TARGET: '5' }), 'helm');
  s.put('/apis/crd.k8s.amazonaws.com/v1alpha1/eniconfigs/eu-west-1a', eniConfig('eu-west-1a', 'subnet-0a'));
  s.put('/apis/karpenter.sh/v1/nodepools/default', nodePool('default', [{ key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: ['c', 'm'] }]));
  s.put('/apis/karpenter.k8s.aws/v1/ec2nodeclasses/default', ec2NodeClass('default', [{ id: 'subnet-0b' }], [{ id: 'subnet-0b', zone: 'eu-west-1b', zoneID: 'euw1-az2' }], { maxPods: 110 }));
}

beforeEach(async () => {
  server = await startKubeServer();
});
afterEach(async () => {
  await server.stop();
});

describe('KubeReader', () => {
  it('reads every part in pages of 500 with the field selectors and the bearer token', async () => {
    seed(server, 1201);
    const view = await reader().read(clusterAt(server.endpoint));
    expect(view.access).toEqual({ ok: true });
    expect(view.unread).toEqual([]);
    expect(view.nodes?.map((n) => [n.name, n.instanceId])).toEqual([['n1', 'i-01'], ['n2', 'i-02']]);
    expect(view.pods).toEqual({ n1: { assignedIpv4: 1201, awaitingIp: 0, hostNetwork: 0 }, n2: { assignedIpv4: 0, awaitingIp: 1, hostNetwork: 0 } });
    // The event names no node: the pod's spec.nodeName does.
    expect(view.ipFailures).toEqual([expect.objectContaining({ node: 'n2', cause: 'no-free-address', count: 4, pods: ['default/waiting'] })]);
    expect(view.awsNode?.env).toEqual({ WARM_IP_TARGET: '5' });
    expect(view.awsNode?.envManagers).toEqual({ WARM_IP_TARGET: 'helm', MY_NODE_NAME: 'helm' });
    expect(view.eniConfigs).toEqual([{ name: 'eu-west-1a', subnet: 'subnet-0a', securityGroups: ['sg-0a1b2c3d4e5f60718'] }]);
    expect(view.karpenter?.nodePools.map((p) => p.name)).toEqual(['default']);
    expect(view.karpenter?.nodeClasses[0]?.kubeletMaxPods).toBe(110);

    const podPages = server.requestsTo(KUBE_PATHS.pods);
    expect(podPages).toHaveLength(3); // 1201 + 1 pending, 500 a page
    expect(podPages.every((r) => r.query['limit'] === String(KUBE_PAGE_LIMIT))).toBe(true);
    expect(podPages.every((r) => r.query['fieldSelector'] === 'status.phase!=Succeeded,status.phase!=Failed')).toBe(true);
    expect(podPages[0]?.query['continue']).toBeUndefined();
    expect(podPages[1]?.query['continue']).toBeTruthy();
    expect(server.requestsTo(KUBE_PATHS.events)[0]?.query['fieldSelector']).toBe('reason=FailedCreatePodSandBox');
    expect(server.requests.every((r) => r.headers['authorization'] === `Bearer ${TOKEN}`)).toBe(true);
    expect(server.requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('reads at most `concurrency` parts at once after the nodes', async () => {
    seed(server);
    let inFlight = 0;
    let most = 0;
    const r = reader({
      concurrency: 2,
      token: async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight -= 1;
        return TOKEN;
      },
    });
    const view = await r.read(clusterAt(server.endpoint));
    expect(view.unread).toEqual([]);
    expect(most).toBe(2);
  });

  it('restarts a list once from scratch when its continue token expired (410), counting nothing twice', async () => {
    seed(server, 1100);
    server.expireContinue = 1;
    const view = await reader({ concurrency: 1 }).read(clusterAt(server.endpoint));
    expect(view.unread).toEqual([]);
    expect(view.pods?.['n1']?.assignedIpv4).toBe(1100);
    const pods = server.requestsTo(KUBE_PATHS.pods);
    expect(pods.filter((r) => r.query['continue'] === undefined)).toHaveLength(2);
  });

  it('leaves a part unread when its list expires twice', async () => {
    seed(server, 1100);
    server.expireContinue = 2;
    const view = await reader({ concurrency: 1 }).read(clusterAt(server.endpoint));
    expect(view.access.ok).toBe(true);
    expect(view.pods).toBeUndefined();
    expect(view.unread).toEqual([expect.objectContaining({ part: 'pods', status: 410 })]);
    expect(view.unread[0]?.message).toContain('Expired');
    expect(view.nodes).toHaveLength(2);
  });

  it('gives null for an absent CRD and an absent aws-node, not an unread part', async () => {
    seed(server);
    server.absent.add(KUBE_PATHS.eniconfigs);
    server.absent.add(KUBE_PATHS.nodepools);
    server.absent.add(KUBE_PATHS.ec2nodeclasses);
    server.absent.add(KUBE_PATHS['aws-node']);
    const view = await reader().read(clusterAt(server.endpoint));
    expect(view.unread).toEqual([]);
    expect(view.eniConfigs).toBeNull();
    expect(view.karpenter).toBeNull();
    expect(view.awsNode).toBeNull();
  });

  it('gives null for a DaemonSet that is not there (404 NotFound Status)', async () => {
    server.put('/api/v1/nodes/n1', node('n1'));
    const view = await reader().read(clusterAt(server.endpoint));
    expect(view.awsNode).toBeNull();
    expect(view.eniConfigs).toEqual([]);
  });

  it('leaves a forbidden part unread with its status, the rest read', async () => {
    seed(server);
    server.forbidden.add(KUBE_PATHS.events);
    const view = await reader().read(clusterAt(server.endpoint));
    expect(view.access).toEqual({ ok: true });
    expect(view.ipFailures).toBeUndefined();
    expect(view.unread).toEqual([{ part: 'events', status: 403, message: expect.stringContaining('cannot list resource "events"') }]);
  });

  it('says forbidden when every read is 403', async () => {
    seed(server);
    for (const p of Object.values(KUBE_PATHS)) server.forbidden.add(p);
    const view = await reader().read(clusterAt(server.endpoint));
    expect(view.access).toMatchObject({ ok: false, reason: 'forbidden' });
    expect(view.access.ok === false && view.access.fix).toContain('associate-access-policy');
  });

  it('says no-access-entry on 401 after one request', async () => {
    seed(server);
    const s2 = await startKubeServer({ authorize: () => false });
    try {
      const view = await reader().read(clusterAt(s2.endpoint));
      expect(view.access).toMatchObject({ ok: false, reason: 'no-access-entry' });
      expect(view.access.ok === false && view.access.fix).toContain('aws eks create-access-entry --cluster-name prod-a');
      expect(s2.requests).toHaveLength(1);
      expect(view.nodes).toBeUndefined();
    } finally {
      await s2.stop();
    }
  });

  it('makes no request when the authentication mode is CONFIG_MAP, or the cluster is not enabled', async () => {
    const mode = await reader().read(clusterAt(server.endpoint, { mode: 'CONFIG_MAP' }));
    expect(mode.access).toMatchObject({ ok: false, reason: 'authentication-mode' });
    expect(mode.access.ok === false && mode.access.fix).toContain('authenticationMode=API_AND_CONFIG_MAP');
    const off = await reader({ enabled: (n) => n === 'other' }).read(clusterAt(server.endpoint));
    expect(off.access).toMatchObject({ ok: false, reason: 'not-enabled' });
    expect(server.requests).toHaveLength(0);
  });

  it('says tls when the server certificate does not verify against the cluster CA', async () => {
    const view = await reader().read(clusterAt(server.endpoint, { ca: KUBE_OTHER_CA }));
    expect(view.access).toMatchObject({ ok: false, reason: 'tls' });
  });

  it('says unreachable on a refused connection, private-endpoint when public access is off', async () => {
    const free = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const pub = await reader().read(clusterAt(`https://127.0.0.1:${free}`));
    expect(pub.access).toMatchObject({ ok: false, reason: 'unreachable' });
    const priv = await reader().read(clusterAt(`https://127.0.0.1:${free}`, { publicAccess: false }));
    expect(priv.access).toMatchObject({ ok: false, reason: 'private-endpoint' });
    expect(priv.access.ok === false && priv.access.fix).toContain('sg-0cluster');
  });

  it('says dns when the endpoint does not resolve', async () => {
    const view = await reader().read(clusterAt('https://c0ffee.gr7.eu-west-1.eks.invalid'));
    expect(view.access).toMatchObject({ ok: false, reason: 'dns' });
    // A private-only endpoint's name resolves only inside the VPC.
    const priv = await reader().read(clusterAt('https://c0ffee.gr7.eu-west-1.eks.invalid', { publicAccess: false }));
    expect(priv.access).toMatchObject({ ok: false, reason: 'private-endpoint' });
  });

  it('leaves a part unread, not the cluster unreachable, when the deadline cuts its request in flight', async () => {
    seed(server);
    server.hanging.add(KUBE_PATHS.events);
    let t = 0;
    const r = reader({ now: () => t, concurrency: 1, timeoutMs: 5_000 });
    // The deadline (on the reader's clock) passes while the events request hangs.
    setTimeout(() => (t = 400), 150);
    const view = await r.read(clusterAt(server.endpoint), { deadlineAt: 300 });
    expect(view.access).toEqual({ ok: true });
    expect(view.unread.find((u) => u.part === 'events')?.message).toContain('deadline');
  });

  it('says unreachable when the server does not answer in time', async () => {
    server.hanging.add(KUBE_PATHS.nodes);
    const view = await reader({ timeoutMs: 300 }).read(clusterAt(server.endpoint));
    expect(view.access).toMatchObject({ ok: false, reason: 'unreachable' });
  });

  it('leaves the parts not read by the deadline unread', async () => {
    seed(server);
    // The deadline passes once the nodes have been asked for.
    const now = (): number => (server.requests.length > 0 ? 10_000 : 0);
    const view = await reader({ now, concurrency: 1 }).read(clusterAt(server.endpoint), { deadlineAt: 5_000 });
    expect(view.access).toEqual({ ok: true });
    expect(view.nodes).toHaveLength(2);
    const unread = view.unread.map((u) => u.part).sort();
    expect(unread).toEqual((['pods', 'events', 'aws-node', 'eniconfigs', 'nodepools', 'ec2nodeclasses'] as KubePart[]).sort());
    expect(view.unread[0]?.message).toContain('deadline');
  });

  it('hands each part raw to the capture, pages joined', async () => {
    seed(server, 700);
    server.forbidden.add(KUBE_PATHS.eniconfigs);
    const raw = new Map<string, unknown>();
    await reader().read(clusterAt(server.endpoint), { onRaw: (part, body) => raw.set(`prod-a/${part}`, body) });
    const pods = raw.get('prod-a/pods') as { kind: string; items: unknown[]; metadata: Record<string, unknown> };
    expect(pods.kind).toBe('PodList');
    expect(pods.items).toHaveLength(701);
    expect(pods.metadata['continue']).toBeUndefined();
    expect(raw.get('prod-a/eniconfigs')).toMatchObject({ kind: 'Status', code: 403 });
    expect(raw.get('prod-a/aws-node')).toMatchObject({ kind: 'DaemonSet' });
  });
});
