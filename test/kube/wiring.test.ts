/**
 * Kubernetes in the pipeline: the runtime builds the reader and connector only for the clusters of
 * KUBERNETES_CLUSTERS, the collector attaches each cluster's view (a throw is the view's access
 * error, never a collection problem), and the live source binds the reads to the cycle's deadline.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Cluster } from '@aws-sdk/client-eks';
import { Logger } from '@aws-lambda-powertools/logger';
import { parseRuntimeConfig } from '../../lib/config';
import { CycleDeadline } from '../../lib/deadline';
import { collectInventory } from '../../lib/inventory/collect';
import type { KubernetesReader } from '../../lib/inventory/kube-types';
import { LiveSource } from '../../lib/aws/live-source';
import { assembleRuntime, type Runtime } from '../../lib/runtime';
import { TOKEN_PREFIX } from '../../lib/kube/token';
import { emulateAccount } from '../../tools/mock-aws';
import { generateAccount, type SyntheticAccount } from '../../tools/synthetic-account';
import { node } from '../support/kube-objects';
import { KUBE_TEST_CA, startKubeServer, type KubeTestServer } from '../support/kube-server';

const NOW = new Date('2026-11-26T12:00:00Z');
let server: KubeTestServer;
let acc: SyntheticAccount;

function runtime(env: Record<string, string>): Runtime {
  const aws = emulateAccount(acc);
  return assembleRuntime({
    config: parseRuntimeConfig({ ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:a', LEDGER_TABLE: 'ledger', POLICY_JSON: process.env.POLICY_JSON ?? '', ...env }),
    clients: aws,
    region: acc.region,
    dynamo: new DynamoDBClient({}),
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    now: () => NOW,
  });
}

const clusterName = (): string => acc.clusters[0]?.name ?? '';

beforeEach(async () => {
  server = await startKubeServer();
  server.put('/api/v1/nodes/n1', node('n1', { instanceId: 'i-01' }));
  acc = generateAccount({ clusters: 1, nodes: 2, subnetsPerCluster: 1, seed: 3 });
  const c = acc.clusters[0] as Cluster;
  c.endpoint = server.endpoint;
  c.certificateAuthority = { data: Buffer.from(KUBE_TEST_CA).toString('base64') };
});
afterEach(async () => {
  await server.stop();
});

describe('Kubernetes in the pipeline', () => {
  it('reads a listed cluster with a token made from the SDK credentials, and attaches its view', async () => {
    const rt = runtime({ KUBERNETES_CLUSTERS: '*' });
    expect(rt.kube).toBeDefined();
    const inv = await collectInventory(rt.source, { clusterNames: [clusterName()], concurrency: 1, now: NOW });
    const kube = inv.clusters[0]?.kube;
    expect(kube?.access).toEqual({ ok: true });
    expect(kube?.nodes?.map((n) => n.instanceId)).toEqual(['i-01']);
    const auth = String(server.requests[0]?.headers['authorization']);
    expect(auth.startsWith(`Bearer ${TOKEN_PREFIX}`)).toBe(true);
    const url = new URL(Buffer.from(auth.slice(`Bearer ${TOKEN_PREFIX}`.length), 'base64url').toString('utf8'));
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDTESTTESTTESTTEST\/\d{8}\/eu-west-1\/sts\/aws4_request$/);
  });

  it('says not-enabled, without a request, for a cluster not listed', async () => {
    const rt = runtime({ KUBERNETES_CLUSTERS: 'some-other-cluster' });
    const inv = await collectInventory(rt.source, { clusterNames: [clusterName()], concurrency: 1, now: NOW });
    expect(inv.clusters[0]?.kube?.access).toMatchObject({ ok: false, reason: 'not-enabled' });
    expect(server.requests).toHaveLength(0);
    await expect(rt.kube?.(acc.clusters[0] as Cluster)).rejects.toThrow(/not enabled/);
  });

  it('reads no Kubernetes without KUBERNETES_CLUSTERS', async () => {
    const rt = runtime({});
    expect(rt.kube).toBeUndefined();
    expect(rt.source.kubernetes).toBeUndefined();
    const inv = await collectInventory(rt.source, { clusterNames: [clusterName()], concurrency: 1, now: NOW });
    expect(inv.clusters[0]?.kube).toBeUndefined();
    expect(server.requests).toHaveLength(0);
  });

  it('turns a reader that throws into the view\'s access error, adding no collection problem', async () => {
    const aws = emulateAccount(acc);
    const throwing: KubernetesReader = { read: async () => Promise.reject(new Error('boom\nsecond line')) };
    const withKube = new LiveSource(aws, acc.region, 'measured', {}, undefined, throwing);
    const without = new LiveSource(aws, acc.region, 'measured');
    const a = await collectInventory(withKube, { clusterNames: [clusterName()], concurrency: 1, now: NOW });
    const b = await collectInventory(without, { clusterNames: [clusterName()], concurrency: 1, now: NOW });
    expect(a.clusters[0]?.kube).toEqual({
      readAt: NOW.toISOString(),
      access: { ok: false, reason: 'error', detail: expect.stringContaining('boom second line'), fix: expect.any(String) },
      unread: [],
    });
    expect(a.clusters[0]?.problems).toEqual(b.clusters[0]?.problems);
    expect(a.failedClusters).toEqual([]);
  });

  it('binds the reads of a cycle view to its deadline', async () => {
    const aws = emulateAccount(acc);
    const seen: (number | undefined)[] = [];
    const spy: KubernetesReader = {
      read: async (c, o) => {
        seen.push(o?.deadlineAt);
        return { readAt: NOW.toISOString(), access: { ok: true }, unread: [] };
      },
    };
    const source = new LiveSource(aws, acc.region, 'measured', {}, undefined, spy);
    const deadline = new CycleDeadline(60_000, () => NOW.getTime(), 'test');
    await collectInventory(source.forCycle({ deadline }), { clusterNames: [clusterName()], concurrency: 1, now: NOW });
    await collectInventory(source, { clusterNames: [clusterName()], concurrency: 1, now: NOW });
    expect(seen).toEqual([NOW.getTime() + 60_000, undefined]);
  });
});
