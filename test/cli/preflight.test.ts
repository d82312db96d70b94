/** The preflight command on the demo snapshot: its table, its JSON, its exit statuses. */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LiveSource } from '../../lib/aws/live-source';
import { EXIT_INCOMPLETE, main } from '../../lib/cli/main';
import { emulateAccount } from '../../tools/mock-aws';
import type { PreflightCheck } from '../../lib/diagnose/headroom-preflight';
import { captureIo } from '../support/cli-io';
import { accountFromSnapshot } from '../support/snapshot-account';

const DEMO = path.join(__dirname, '..', '..', 'events', 'demo-snapshot');
const FULL = 'subnet-0e59dfd0c9e3779b1';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await main(['preflight', ...args], io.cli);
  return { code, out: io.out(), err: io.err() };
}

describe('preflight', () => {
  it('exits 1 on the demo snapshot: the full subnet cannot take api-m5l\'s surge', async () => {
    const { code, out } = await run(['--snapshot', DEMO]);
    expect(code).toBe(1);
    expect(out).toMatch(/payments-prod +rolling-update +api-m5l +DOES NOT FIT +4 +12 +subnet-0e59dfd0c9e3779b1 7\/24/);
    expect(out).toMatch(/payments-prod +version-upgrade +- +fits/);
    expect(out).toContain(`SHORT eu-west-1a ${FULL}: 7 free, 2 new node(s), 24 IPs`);
  });

  it('exits 0 when every check of the nodegroup asked for fits, and prints only its checks', async () => {
    const { code, out } = await run(['--snapshot', DEMO, '--cluster', 'batch-dev', '--nodegroup', 'batch-r6i']);
    expect(code).toBe(0);
    expect(out).not.toContain('version-upgrade');
    expect(out.match(/^batch-dev +(rolling-update|scale-to-max) +batch-r6i +fits/gm)).toHaveLength(2);
    // Its own subnets' network only (legacy-m4's subnet without egress is not among them).
    expect(out.match(/^ {2}ok {6}subnet-/gm)).toHaveLength(2);
    expect(out).not.toContain('subnet-009e3b40cfec38505');
  });

  it('prints the checks as JSON with their places', async () => {
    const { code, out } = await run(['--snapshot', DEMO, '--cluster', 'payments-prod', '--json']);
    expect(code).toBe(1);
    const body = JSON.parse(out) as { checks: PreflightCheck[]; problems: string[]; failedClusters: unknown[] };
    expect(body.problems).toEqual([]);
    const update = body.checks.find((c) => c.check === 'rolling-update' && c.nodegroup === 'api-m5l');
    expect(update).toMatchObject({ verdict: 'does-not-fit', newNodes: 4, ipsPerNode: 12, instanceType: 'm5.large' });
    expect(update?.places.find((p) => p.subnetId === FULL)).toMatchObject({ free: 7, nodes: 2, needIps: 24, fits: false });
  });

  it('exits 1 for the nodegroup whose subnet has no way out, though its headroom fits', async () => {
    const { code, out } = await run(['--snapshot', DEMO, '--cluster', 'batch-dev', '--nodegroup', 'legacy-m4', '--json']);
    expect(code).toBe(1);
    const body = JSON.parse(out) as { checks: PreflightCheck[]; network: { subnets: { subnetId: string; verdict: string }[] }[] };
    expect(body.checks.find((c) => c.check === 'rolling-update')?.verdict).toBe('fits');
    expect(body.network[0]?.subnets).toEqual([expect.objectContaining({ subnetId: 'subnet-009e3b40cfec38505', verdict: 'missing' })]);
  });

  it('exits 3 when a check rests on a read that failed, and says which', async () => {
    const dir = path.join(await fs.mkdtemp(path.join(tmpdir(), 'preflight-')), 'snap');
    dirs.push(path.dirname(dir));
    await fs.cp(DEMO, dir, { recursive: true });
    await fs.writeFile(
      path.join(dir, 'failed-reads.json'),
      JSON.stringify({ failedReads: [{ call: 'eks:DescribeAddon', request: { clusterName: 'batch-dev' }, error: { code: 'AccessDeniedException', message: 'not authorized' } }] }),
    );
    const { code, out, err } = await run(['--snapshot', dir, '--cluster', 'batch-dev', '--nodegroup', 'batch-r6i']);
    expect(code).toBe(EXIT_INCOMPLETE);
    expect(out).toMatch(/batch-dev +rolling-update +batch-r6i +unknown/);
    expect(err).toContain('not authorized');
  });

  it('exits 3 for a cluster the snapshot does not hold', async () => {
    const { code, err } = await run(['--snapshot', DEMO, '--cluster', 'nosuch']);
    expect(code).toBe(EXIT_INCOMPLETE);
    expect(err).toContain('nosuch');
  });

  it('names the network pieces the demo lacks: DNS hostnames, and a subnet without egress nor ecr.dkr endpoint', async () => {
    const { code, out } = await run(['--snapshot', DEMO]);
    expect(code).toBe(1);
    expect(out).toContain('network of payments-prod (vpc-05cb6340ff1bbcd88):\n  MISSING DNS: vpc-05cb6340ff1bbcd88 has enableDnsHostnames off\n');
    expect(out).toMatch(
      /MISSING subnet-009e3b40cfec38505: subnet-009e3b40cfec38505 route table rtb-\w+ has no default route \(0\.0\.0\.0\/0\) to a NAT or internet gateway and the VPC has no com\.amazonaws\.eu-west-1\.ecr\.dkr endpoint/,
    );
    expect(out).toMatch(/ok {6}subnet-0e13cd509b54cda26: default route to nat-\w+/);
    const json = await run(['--snapshot', DEMO, '--cluster', 'batch-dev', '--json']);
    const body = JSON.parse(json.out) as { network: { cluster: string; dns: { verdict: string }; subnets: { subnetId: string; verdict: string; endpoints: { service: string; verdict: string }[] }[] }[] };
    const [net] = body.network;
    expect(net?.dns.verdict).toBe('ok');
    const short = net?.subnets.find((x) => x.verdict === 'missing');
    expect(short?.subnetId).toBe('subnet-009e3b40cfec38505');
    expect(short?.endpoints.map((e) => [e.service, e.verdict])).toEqual([
      ['ec2', 'ok'],
      ['ecr.api', 'ok'],
      ['ecr.dkr', 'missing'],
      ['s3', 'ok'],
      ['sts', 'ok'],
    ]);
  });

  it('answers live (the emulated demo account) as it answers from the snapshot', async () => {
    const account = accountFromSnapshot(DEMO);
    const aws = emulateAccount(account);
    try {
      const live = captureIo({ env: { AWS_REGION: 'eu-west-1' }, now: () => new Date('2026-11-26T10:00:00Z'), liveSource: (r) => new LiveSource({ ec2: aws.ec2, eks: aws.eks }, r) });
      expect(await main(['preflight', '--json'], live.cli)).toBe(1);
      const replay = await run(['--snapshot', DEMO, '--json']);
      expect(live.out()).toBe(replay.out);
      // Each cluster VPC read once (the demo's clusters have a VPC each), its two attributes one call each.
      const vpcs = new Set(account.clusters.map((c) => c.resourcesVpcConfig?.vpcId)).size;
      expect(vpcs).toBeGreaterThan(1);
      expect(aws.calls['DescribeRouteTables']).toBe(vpcs);
      expect(aws.calls['DescribeVpcAttribute']).toBe(2 * vpcs);
    } finally {
      aws.restore();
    }
  });

  it('is a usage error to ask for a nodegroup without its cluster', async () => {
    const { code, err } = await run(['--snapshot', DEMO, '--nodegroup', 'api-m5l']);
    expect(code).toBe(2);
    expect(err).toContain('--nodegroup needs --cluster');
  });
});
