import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AwsCallError } from '../../lib/errors';
import { RecordingSource, writeSnapshot } from '../../lib/inventory/capture';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import type { Cluster, InventorySource } from '../../lib/inventory/types';
import { buildAccount, writeSyntheticSnapshot } from '../../tools/synthetic-account';

const DEMO = path.join(__dirname, '..', '..', 'events', 'demo-snapshot');
const META = { region: 'eu-west-1', capturedAt: '2026-11-27T08:30:00Z' };
/**
 * A snapshot's Kubernetes views are read at its capturedAt; the demo standing in for the live
 * account here was captured earlier than META says, so the recorded views are moved to META's.
 */
const readAtCapture = <T extends { clusters: { kube?: { readAt: string } }[] }>(inv: T): T => ({
  ...inv,
  clusters: inv.clusters.map((c) => (c.kube ? { ...c, kube: { ...c.kube, readAt: META.capturedAt } } : c)),
});

const tmpDirs: string[] = [];
async function tmpDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capture-test-'));
  tmpDirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(tmpDirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

/** Every call the collector makes, in its order; the answers, keyed by call. */
async function everyAnswer(source: InventorySource): Promise<Record<string, unknown>> {
  const answers: Record<string, unknown> = { region: source.region };
  const names = await source.listClusters();
  answers.listClusters = names;
  const types = new Set<string>();
  for (const name of names) {
    const cluster = await source.describeCluster(name);
    const nodegroups = await source.describeNodegroups(name);
    const instances = await source.describeClusterInstances(name);
    const subnetIds = [
      ...new Set([
        ...(cluster.resourcesVpcConfig?.subnetIds ?? []),
        ...nodegroups.flatMap((n) => n.subnets ?? []),
        ...instances.flatMap((i) => (i.NetworkInterfaces ?? []).map((ni) => ni.SubnetId ?? '')),
      ]),
    ].sort();
    const vpcId = cluster.resourcesVpcConfig?.vpcId ?? '';
    const cniSubnets = await source.describeSubnetsByTagKey(vpcId, 'kubernetes.io/role/cni');
    const allSubnetIds = [...subnetIds, ...cniSubnets.map((s) => s.SubnetId ?? '')];
    for (const i of instances) types.add(i.InstanceType ?? '');
    answers[name] = {
      cluster,
      nodegroups,
      addon: await source.describeVpcCniAddon(name),
      instances,
      subnets: await source.describeSubnetsById(allSubnetIds),
      cniSubnets,
      enis: await source.describeNetworkInterfaces(allSubnetIds),
    };
  }
  answers.instanceTypes = await source.describeInstanceTypes([...types].sort());
  return answers;
}

describe('RecordingSource and writeSnapshot', () => {
  it('round-trips the demo snapshot: the replay answers every call as the original did', async () => {
    const original = await readSnapshot(DEMO);
    const recording = new RecordingSource(original);
    const recorded = await everyAnswer(recording);
    // Forwarding changes nothing.
    expect(recorded).toEqual(await everyAnswer(await readSnapshot(DEMO)));

    const dir = path.join(await tmpDir(), 'new', 'capture');
    const files = await writeSnapshot(dir, recording, META);
    expect(files).toEqual(
      expect.arrayContaining([
        'meta.json',
        'eks/list-clusters.json',
        'eks/clusters/payments-prod/describe-cluster.json',
        'eks/clusters/payments-prod/nodegroups/api-m5l.json',
        'eks/clusters/batch-dev/addon-vpc-cni.json',
        'ec2/describe-subnets.json',
        'ec2/describe-network-interfaces.json',
        'ec2/describe-instances.json',
        'ec2/describe-instance-types.json',
      ]),
    );
    for (const f of files) await expect(fs.access(path.join(dir, f))).resolves.toBeUndefined();

    const replay = await readSnapshot(dir);
    expect(replay.capturedAt).toBe(META.capturedAt);
    expect(await everyAnswer(replay)).toEqual(recorded);
  });

  it('writes each subnet, ENI and instance once although several calls returned it', async () => {
    const recording = new RecordingSource(await readSnapshot(DEMO));
    const names = await recording.listClusters();
    for (const name of names) {
      const cluster = await recording.describeCluster(name);
      const ids = cluster.resourcesVpcConfig?.subnetIds ?? [];
      await recording.describeSubnetsById(ids);
      await recording.describeSubnetsById(ids);
      await recording.describeNetworkInterfaces(ids);
      await recording.describeNetworkInterfaces(ids);
      await recording.describeClusterInstances(name);
      await recording.describeClusterInstances(name);
    }
    const dir = await tmpDir();
    await writeSnapshot(dir, recording, META);
    const read = async (f: string) => JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')) as Record<string, { [k: string]: unknown }[]>;
    const subnetIds = (await read('ec2/describe-subnets.json')).Subnets?.map((s) => s.SubnetId) ?? [];
    expect(new Set(subnetIds).size).toBe(subnetIds.length);
    // The cluster subnets of the six demo clusters (4 + 2 + 2 + 2 + 2; events-consumers' two are
    // events-karpenter's).
    expect(subnetIds.length).toBe(12);
    const eniIds = (await read('ec2/describe-network-interfaces.json')).NetworkInterfaces?.map((e) => e.NetworkInterfaceId) ?? [];
    expect(new Set(eniIds).size).toBe(eniIds.length);
    const reservations = (await read('ec2/describe-instances.json')).Reservations as unknown as { Instances: unknown[] }[];
    // 38 + events-karpenter's 6 + ml-ipv6's 4 + events-consumers' 2; search-auto's 5 Auto Mode nodes
    // are read only with `autoMode`.
    expect(reservations.flatMap((r) => r.Instances)).toHaveLength(50);
    // Nothing asked for instance types: no file, so a reader falls back to the bundled data.
    await expect(fs.access(path.join(dir, 'ec2/describe-instance-types.json'))).rejects.toThrow();
  });

  it('replays a cluster that could not be described as the same failure of that cluster only', async () => {
    const demo = await readSnapshot(DEMO);
    const failing: InventorySource = Object.assign(Object.create(demo) as InventorySource, {
      listClusters: async () => ['payments-prod', 'gone'],
      describeCluster: async (name: string): Promise<Cluster> => {
        if (name === 'gone') throw new Error('ResourceNotFoundException: No cluster found for name: gone.');
        return demo.describeCluster(name);
      },
    });
    const recording = new RecordingSource(failing);
    await recording.listClusters();
    await recording.describeCluster('payments-prod');
    await expect(recording.describeCluster('gone')).rejects.toThrow('ResourceNotFoundException');
    await recording.describeVpcCniAddon('payments-prod');
    const dir = await tmpDir();
    const files = await writeSnapshot(dir, recording, META);
    expect(files).not.toContain('eks/clusters/gone/describe-cluster.json');

    expect(files).toContain('failed-reads.json');

    const replay = await readSnapshot(dir);
    expect(await replay.listClusters()).toEqual(['payments-prod', 'gone']);
    const err = await replay.describeCluster('gone').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect(err).toMatchObject({ operation: 'eks:DescribeCluster', message: 'ResourceNotFoundException: No cluster found for name: gone.' });
    expect((await replay.describeCluster('payments-prod')).name).toBe('payments-prod');
  });

  it('records a failed DescribeAddon, so that the replay reads "unknown, incomplete" as live did, not "self-managed"', async () => {
    const demo = await readSnapshot(DEMO);
    const denied = new AwsCallError('eks:DescribeAddon', 'AccessDeniedException', 'eks:DescribeAddon vpc-cni for cluster batch-dev: AccessDeniedException: denied');
    const failing: InventorySource = Object.assign(Object.create(demo) as InventorySource, {
      describeVpcCniAddon: async (name: string) => {
        if (name === 'batch-dev') throw denied;
        return demo.describeVpcCniAddon(name);
      },
    });
    const recording = new RecordingSource(failing);
    const options = { clusterNames: [], concurrency: 4, now: new Date(META.capturedAt) };
    const live = await collectInventory(recording, options);
    const dir = await tmpDir();
    await writeSnapshot(dir, recording, META);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'failed-reads.json'), 'utf8'))).toEqual({
      failedReads: [
        {
          call: 'eks:DescribeAddon',
          request: { clusterName: 'batch-dev' },
          error: { operation: 'eks:DescribeAddon', code: 'AccessDeniedException', message: denied.message },
        },
      ],
    });
    const replayed = await collectInventory(await readSnapshot(dir), options);
    expect(replayed).toEqual(readAtCapture(live));
    const dev = replayed.clusters.find((c) => c.name === 'batch-dev');
    expect(dev?.cni).toEqual({ kind: 'unknown', reason: denied.message });
    expect(dev?.problems).toEqual([{ source: 'eks:DescribeAddon', message: denied.message, code: 'AccessDeniedException', unread: { part: 'cni' } }]);
  });

  it('records an answer in part with what it read, and replays it in part', async () => {
    const dir0 = await tmpDir();
    await fs.cp(DEMO, dir0, { recursive: true });
    const file = path.join(dir0, 'ec2/describe-subnets.json');
    const body = JSON.parse(await fs.readFile(file, 'utf8')) as { Subnets: Record<string, unknown>[] };
    body.Subnets[2]!.AvailableIpAddressCount = '916';
    await fs.writeFile(file, JSON.stringify(body));
    const recording = new RecordingSource(await readSnapshot(dir0));
    const options = { clusterNames: [], concurrency: 4, now: new Date(META.capturedAt) };
    const first = await collectInventory(recording, options);
    const dir = await tmpDir();
    await writeSnapshot(dir, recording, META);
    expect(await collectInventory(await readSnapshot(dir), options)).toEqual(readAtCapture(first));
    expect(first.clusters.find((c) => c.name === 'payments-prod')?.problems[0]).toMatchObject({ source: 'ec2:DescribeSubnets', code: 'SnapshotError', unread: { part: 'subnets', ids: [body.Subnets[2]!.SubnetId] } });
  });

  it('writes no failed-reads.json when nothing failed: such a snapshot (and an older one) replays as complete', async () => {
    const recording = new RecordingSource(await readSnapshot(DEMO));
    const options = { clusterNames: [], concurrency: 4, now: new Date(META.capturedAt) };
    const first = await collectInventory(recording, options);
    const dir = await tmpDir();
    const files = await writeSnapshot(dir, recording, META);
    expect(files).not.toContain('failed-reads.json');
    expect(first.clusters.every((c) => c.problems.length === 0)).toBe(true);
    expect(await collectInventory(await readSnapshot(dir), options)).toEqual(readAtCapture(first));
  });

  it('writes no add-on file for a self-managed CNI, so the replay answers undefined', async () => {
    const demo = await readSnapshot(DEMO);
    const selfManaged: InventorySource = Object.assign(Object.create(demo) as InventorySource, {
      describeVpcCniAddon: async () => undefined,
    });
    const recording = new RecordingSource(selfManaged);
    await recording.listClusters();
    await recording.describeCluster('batch-dev');
    expect(await recording.describeVpcCniAddon('batch-dev')).toBeUndefined();
    const dir = await tmpDir();
    const files = await writeSnapshot(dir, recording, META);
    expect(files.some((f) => f.endsWith('addon-vpc-cni.json'))).toBe(false);
    expect(await (await readSnapshot(dir)).describeVpcCniAddon('batch-dev')).toBeUndefined();
  });

  it('serialises Dates as ISO strings', async () => {
    const account = buildAccount({
      seed: 1,
      clusters: [
        {
          name: 'c1',
          version: '1.31',
          mode: 'secondary',
          subnets: [{ name: 'a', az: 0, prefixLength: 24 }],
          nodegroups: [{ name: 'ng', instanceTypes: ['m5.large'], nodes: 2, subnets: ['a'] }],
        },
      ],
    });
    expect(account.clusters[0]?.createdAt).toBeInstanceOf(Date);
    const dir = await tmpDir();
    await writeSyntheticSnapshot(account, dir);
    const cluster = await (await readSnapshot(dir)).describeCluster('c1');
    expect(cluster.createdAt).toBe(account.clusters[0]?.createdAt?.toISOString());
  });

  it('refuses to write into a directory that already holds files', async () => {
    const dir = await tmpDir();
    await fs.writeFile(path.join(dir, 'old.json'), '{}');
    const recording = new RecordingSource(await readSnapshot(DEMO));
    await expect(writeSnapshot(dir, recording, META)).rejects.toThrow(/is not empty/);
  });
});
