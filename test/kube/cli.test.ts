/** `report --kubernetes` and `capture --kubernetes`: the user's own credentials, off by default. */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Cluster } from '@aws-sdk/client-eks';
import { LiveSource } from '../../lib/aws/live-source';
import { main } from '../../lib/cli/main';
import { TOKEN_PREFIX } from '../../lib/kube/token';
import { emulateAccount, type EmulatedAccount } from '../../tools/mock-aws';
import { generateAccount } from '../../tools/synthetic-account';
import { captureIo } from '../support/cli-io';
import { node } from '../support/kube-objects';
import { KUBE_TEST_CA, startKubeServer, type KubeTestServer } from '../support/kube-server';

let server: KubeTestServer;
let aws: EmulatedAccount;
let cluster: string;

beforeEach(async () => {
  server = await startKubeServer();
  server.put('/api/v1/nodes/n1', node('n1'));
  const acc = generateAccount({ clusters: 1, nodes: 2, subnetsPerCluster: 1, seed: 9 });
  const c = acc.clusters[0] as Cluster;
  c.endpoint = server.endpoint;
  c.certificateAuthority = { data: Buffer.from(KUBE_TEST_CA).toString('base64') };
  cluster = c.name ?? '';
  aws = emulateAccount(acc);
});
afterEach(async () => {
  aws.restore();
  await server.stop();
});

const io = () => captureIo({ env: { AWS_REGION: 'eu-west-1' }, liveSource: (r, options) => new LiveSource({ ec2: aws.ec2, eks: aws.eks }, r, 'all', options) });

describe('--kubernetes', () => {
  it('is off by default: report reads no Kubernetes', async () => {
    await main(['report', '--no-forecast', '--json'], io().cli);
    expect(server.requests).toHaveLength(0);
  });

  it('report reads each cluster with a token signed from the default credentials', async () => {
    await main(['report', '--no-forecast', '--json', '--kubernetes'], io().cli);
    expect(server.requestsTo('/api/v1/nodes')).toHaveLength(1);
    expect(String(server.requests[0]?.headers['authorization'])).toMatch(new RegExp(`^Bearer ${TOKEN_PREFIX.replace('.', '\\.')}`));
  });

  it('capture writes the Kubernetes answers under kubernetes/<cluster>/', async () => {
    const out = await fs.mkdtemp(path.join(tmpdir(), 'kube-cli-'));
    try {
      const dir = path.join(out, 'snap');
      await main(['capture', '--out', dir, '--kubernetes'], io().cli);
      const nodes = JSON.parse(await fs.readFile(path.join(dir, 'kubernetes', cluster, 'nodes.json'), 'utf8')) as { kind: string; items: unknown[] };
      expect(nodes).toMatchObject({ kind: 'NodeList', items: [expect.objectContaining({ metadata: expect.objectContaining({ name: 'n1' }) })] });
    } finally {
      await fs.rm(out, { recursive: true, force: true });
    }
  });
});
