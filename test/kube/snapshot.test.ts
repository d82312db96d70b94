/**
 * The Kubernetes part of a snapshot: capture writes the raw answers the live reader got
 * (kubernetes/<cluster>/*.json), and the snapshot source replays them into the same view; a
 * malformed file leaves its part unread, naming it; access.json replays an access failure.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Cluster } from '@aws-sdk/client-eks';
import { LiveSource } from '../../lib/aws/live-source';
import { RecordingSource, writeSnapshot } from '../../lib/inventory/capture';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import { KubeReader, KUBE_PATHS } from '../../lib/kube/reader';
import { emulateAccount } from '../../tools/mock-aws';
import { generateAccount, type SyntheticAccount } from '../../tools/synthetic-account';
import { awsNodeDaemonSet, NO_ADDRESS, node, nodePool, ec2NodeClass, pod, sandboxEvent } from '../support/kube-objects';
import { KUBE_TEST_CA, startKubeServer, type KubeTestServer } from '../support/kube-server';

const NOW = new Date('2026-11-26T12:00:00Z');
let server: KubeTestServer;
let acc: SyntheticAccount;
const dirs: string[] = [];
const tmp = async (): Promise<string> => {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'kube-snap-'));
  dirs.push(d);
  return d;
};
const name = (): string => acc.clusters[0]?.name ?? '';

beforeEach(async () => {
  server = await startKubeServer();
  server.put('/api/v1/nodes/n1', node('n1', { instanceId: 'i-01', pods: 17 }));
  for (let i = 0; i < 3; i++) server.put(`/api/v1/namespaces/web/pods/p${i}`, pod('web', `p${i}`, { node: 'n1', ip: `10.0.0.${i + 10}` }));
  server.put('/api/v1/namespaces/default/pods/w', pod('default', 'w', { node: 'n1', phase: 'Pending' }));
  server.put('/api/v1/namespaces/default/events/e1', sandboxEvent('e1', 'w', NO_ADDRESS, { host: 'n1', count: 9 }));
  server.put('/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node', awsNodeDaemonSet({ WARM_IP_TARGET: '3' }), 'helm');
  server.put('/apis/karpenter.sh/v1/nodepools/default', nodePool('default', [{ key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: ['m5'] }]));
  server.put('/apis/karpenter.k8s.aws/v1/ec2nodeclasses/default', ec2NodeClass('default', [{ id: 'subnet-0b' }], [{ id: 'subnet-0b', zone: 'eu-west-1b', zoneID: 'euw1-az2' }]));
  server.absent.add(KUBE_PATHS.eniconfigs);
  server.forbidden.add(KUBE_PATHS.events);
  acc = generateAccount({ clusters: 1, nodes: 2, subnetsPerCluster: 1, seed: 5 });
  const c = acc.clusters[0] as Cluster;
  c.endpoint = server.endpoint;
  c.certificateAuthority = { data: Buffer.from(KUBE_TEST_CA).toString('base64') };
});
afterEach(async () => {
  await server.stop();
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

async function capture(): Promise<{ dir: string; live: unknown }> {
  const reader = new KubeReader({ token: async () => 'k8s-aws-v1.x', timeoutMs: 2000 });
  const recording = new RecordingSource(new LiveSource(emulateAccount(acc), acc.region, 'all', {}, undefined, reader));
  const inv = await collectInventory(recording, { clusterNames: [name()], concurrency: 1, now: NOW });
  const dir = await tmp();
  await writeSnapshot(dir, recording, { region: acc.region, capturedAt: NOW.toISOString() });
  return { dir, live: inv.clusters[0]?.kube };
}

describe('the Kubernetes part of a snapshot', () => {
  it('replays what capture wrote into the view the live read gave', async () => {
    const { dir, live } = await capture();
    const files = (await fs.readdir(path.join(dir, 'kubernetes', name()))).sort();
    expect(files).toEqual(['aws-node.json', 'ec2nodeclasses.json', 'eniconfigs.json', 'events.json', 'nodepools.json', 'nodes.json', 'pods.json']);
    const events = JSON.parse(await fs.readFile(path.join(dir, 'kubernetes', name(), 'events.json'), 'utf8')) as Record<string, unknown>;
    expect(events).toMatchObject({ kind: 'Status', code: 403 });
    const replay = await collectInventory(await readSnapshot(dir), { clusterNames: [name()], concurrency: 1, now: NOW });
    const view = replay.clusters[0]?.kube;
    const { readAt: _a, unread: liveUnread, ...liveRest } = live as { readAt: string; unread: { part: string; status?: number }[] };
    const { readAt: _b, unread, ...rest } = view ?? { readAt: '', unread: [] };
    expect(rest).toEqual(liveRest);
    expect(rest).toMatchObject({ eniConfigs: null, pods: { n1: { assignedIpv4: 3, awaitingIp: 1, hostNetwork: 0 } } });
    expect(unread.map((u) => [u.part, u.status])).toEqual(liveUnread.map((u) => [u.part, u.status]));
    expect(unread).toEqual([expect.objectContaining({ part: 'events', status: 403 })]);
  });

  it('leaves a malformed file\'s part unread, naming the file', async () => {
    const { dir } = await capture();
    await fs.writeFile(path.join(dir, 'kubernetes', name(), 'nodes.json'), '{"kind": "NodeList", "items": [', 'utf8');
    await fs.writeFile(path.join(dir, 'kubernetes', name(), 'nodepools.json'), '{"kind": "NodePoolList"}', 'utf8');
    const view = (await collectInventory(await readSnapshot(dir), { clusterNames: [name()], concurrency: 1, now: NOW })).clusters[0]?.kube;
    expect(view?.nodes).toBeUndefined();
    expect(view?.karpenter).toBeUndefined();
    expect(view?.pods?.['n1']?.assignedIpv4).toBe(3);
    expect(view?.unread.find((u) => u.part === 'nodes')?.message).toMatch(new RegExp(`^kubernetes/${name()}/nodes.json: malformed JSON`));
    expect(view?.unread.find((u) => u.part === 'nodepools')?.message).toBe(`kubernetes/${name()}/nodepools.json: not a NodePoolList (kubectl get -o json)`);
  });

  it('replays access.json as the access failure, and writes it at capture', async () => {
    server.forbidden.clear();
    for (const p of Object.values(KUBE_PATHS)) server.forbidden.add(p);
    const { dir } = await capture();
    const access = JSON.parse(await fs.readFile(path.join(dir, 'kubernetes', name(), 'access.json'), 'utf8')) as Record<string, unknown>;
    expect(access).toMatchObject({ ok: false, reason: 'forbidden' });
    const view = (await collectInventory(await readSnapshot(dir), { clusterNames: [name()], concurrency: 1, now: NOW })).clusters[0]?.kube;
    expect(view?.access).toMatchObject({ ok: false, reason: 'forbidden' });
  });

  it('has no Kubernetes view without kubernetes/, and a not-enabled one for a cluster missing there', async () => {
    const { dir } = await capture();
    await fs.rename(path.join(dir, 'kubernetes', name()), path.join(dir, 'kubernetes', 'another-cluster'));
    const src = await readSnapshot(dir);
    expect((await collectInventory(src, { clusterNames: [name()], concurrency: 1, now: NOW })).clusters[0]?.kube?.access).toMatchObject({ ok: false, reason: 'not-enabled' });
    await fs.rm(path.join(dir, 'kubernetes'), { recursive: true });
    const none = await collectInventory(await readSnapshot(dir), { clusterNames: [name()], concurrency: 1, now: NOW });
    expect(none.clusters[0]?.kube).toBeUndefined();
  });
});
