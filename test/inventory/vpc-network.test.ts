/**
 * The network preflight's reads: through the emulated account (live source), the capture and its
 * replay (snapshot source); once per VPC however many clusters share it; a failed read a problem
 * that names what it leaves unknown, and no finding built on it.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LiveSource } from '../../lib/aws/live-source';
import { diagnose } from '../../lib/diagnose/diagnose';
import { networkChecks } from '../../lib/diagnose/network-preflight';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import { RecordingSource, writeSnapshot } from '../../lib/inventory/capture';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import { measure } from '../../lib/measure/measure';
import { ec2Error, emulateAccount } from '../../tools/mock-aws';
import { buildAccount, type ClusterSpec } from '../../tools/synthetic-account';

const NOW = new Date('2026-11-26T12:00:00Z');
const cluster = (name: string, network?: ClusterSpec['network'], stream = 0): ClusterSpec => ({
  name,
  version: '1.31',
  mode: 'secondary',
  addon: { version: 'v1.19.2-eksbuild.1' },
  stream,
  ...(network ? { network } : {}),
  subnets: [
    { name: 'private-a', az: 0, cidr: stream === 0 ? '10.40.0.0/22' : '10.41.0.0/22' },
    { name: 'private-b', az: 1, cidr: stream === 0 ? '10.40.4.0/22' : '10.41.4.0/22' },
  ],
  nodegroups: [{ name: 'web', instanceTypes: ['m5.large'], nodes: 2, subnets: ['private-a', 'private-b'] }],
});
const account = () =>
  buildAccount({ seed: 7, clusters: [cluster('prod', { noEgress: ['private-b'], endpoints: ['ec2', 'ecr.api', 's3'], dnsHostnames: false }), cluster('dev', undefined, 1)] });

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true }))));

describe('the VPC network read', () => {
  it('is 7 calls per VPC, and none without CollectOptions.network', async () => {
    const aws = emulateAccount(account());
    try {
      const source = new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1');
      await collectInventory(source, { clusterNames: [], concurrency: 2, now: NOW });
      for (const op of ['DescribeVpcs', 'DescribeVpcAttribute', 'DescribeDhcpOptions', 'DescribeRouteTables', 'DescribeVpcEndpoints', 'DescribeSecurityGroups']) {
        expect(aws.calls[op]).toBeUndefined();
      }
      const inv = await collectInventory(source, { clusterNames: [], concurrency: 2, now: NOW, network: true });
      expect(inv.clusters.map((c) => c.problems)).toEqual([[], []]);
      // Two VPCs: DescribeVpcs, DescribeVpcAttribute ×2, DescribeDhcpOptions, DescribeRouteTables and
      // DescribeVpcEndpoints each; DescribeSecurityGroups only where an interface endpoint has groups.
      expect(aws.calls).toMatchObject({ DescribeVpcs: 2, DescribeVpcAttribute: 4, DescribeDhcpOptions: 2, DescribeRouteTables: 2, DescribeVpcEndpoints: 2, DescribeSecurityGroups: 1 });
      const prod = inv.clusters.find((c) => c.name === 'prod');
      const checks = networkChecks(measure(inv).clusters.find((c) => c.name === 'prod')!, prod!, 'eu-west-1');
      expect(checks.dns?.missing).toEqual([`${prod?.network?.vpcId ?? ''} has enableDnsHostnames off`]);
      // private-b: no default route, no ecr.dkr endpoint, and no sts (the add-on has a service account role).
      const missing = checks.subnets.filter((s) => s.verdict === 'missing');
      expect(missing).toHaveLength(1);
      expect(missing[0]?.endpoints.filter((e) => e.verdict === 'missing').map((e) => e.service)).toEqual(['ecr.dkr', 'sts']);
    } finally {
      aws.restore();
    }
  });

  it('is made once per VPC when clusters share it', async () => {
    const a = account();
    // dev moves into prod's VPC: its DescribeCluster names prod's VPC.
    const prodVpc = a.clusters[0]?.resourcesVpcConfig?.vpcId;
    a.clusters[1] = { ...a.clusters[1], resourcesVpcConfig: { ...a.clusters[1]?.resourcesVpcConfig, vpcId: prodVpc } };
    const aws = emulateAccount(a);
    try {
      const inv = await collectInventory(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1'), { clusterNames: [], concurrency: 2, now: NOW, network: true });
      expect(aws.calls['DescribeRouteTables']).toBe(1);
      expect(aws.calls['DescribeVpcAttribute']).toBe(2);
      expect(inv.clusters.map((c) => c.network?.vpcId)).toEqual([prodVpc, prodVpc]);
    } finally {
      aws.restore();
    }
  });

  it('keeps what it read when one call fails, names the piece, and no finding claims a missing endpoint', async () => {
    const aws = emulateAccount(account());
    aws.faults['DescribeVpcEndpoints'] = () => ec2Error('UnauthorizedOperation', 'You are not authorized to perform: ec2:DescribeVpcEndpoints');
    try {
      const inv = await collectInventory(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1'), { clusterNames: ['prod'], concurrency: 1, now: NOW, network: true });
      const [prod] = inv.clusters;
      expect(prod?.problems).toEqual([
        expect.objectContaining({ source: 'ec2:DescribeVpcEndpoints', code: 'UnauthorizedOperation', unread: { part: 'vpc-network', ids: ['endpoints', 'securityGroups'] } }),
      ]);
      expect(prod?.network?.routeTables?.length).toBeGreaterThan(0);
      expect(prod?.network?.endpoints).toBeUndefined();
      const usage = measure(inv);
      expect(usage.clusters[0]?.complete).toBe(false);
      const kinds = diagnose(usage, inv, DEFAULT_THRESHOLDS).map((f) => f.kind);
      expect(kinds).not.toContain('node-egress');
      // What was read still speaks: the DNS hostnames off.
      expect(kinds).toContain('vpc-dns');
    } finally {
      aws.restore();
    }
  });

  it('replays from a capture as it was read live, the failure included', async () => {
    const aws = emulateAccount(account());
    aws.faults['DescribeRouteTables'] = () => ec2Error('UnauthorizedOperation', 'not authorized: ec2:DescribeRouteTables');
    const dir = path.join(await fs.mkdtemp(path.join(tmpdir(), 'vpc-network-')), 'snap');
    dirs.push(path.dirname(dir));
    try {
      const recording = new RecordingSource(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1'));
      const live = await collectInventory(recording, { clusterNames: [], concurrency: 2, now: NOW, network: true });
      const files = await writeSnapshot(dir, recording, { region: 'eu-west-1', capturedAt: NOW.toISOString() });
      expect(files).toEqual(expect.arrayContaining(['ec2/describe-vpcs.json', 'ec2/describe-vpc-endpoints.json', 'failed-reads.json']));
      // No route tables were read: the replay must not know them either.
      expect(files).not.toContain('ec2/describe-route-tables.json');
      const replay = await collectInventory(await readSnapshot(dir), { clusterNames: [], concurrency: 2, now: NOW, network: true });
      const strip = (i: typeof live) => i.clusters.map((c) => ({ name: c.name, network: c.network, problems: c.problems.map((p) => ({ ...p })) }));
      expect(strip(replay)).toEqual(strip(live));
    } finally {
      aws.restore();
    }
  });

  it('makes a malformed network file a problem of the clusters in that VPC, naming the file, and nothing known of it', async () => {
    const dir = path.join(await fs.mkdtemp(path.join(tmpdir(), 'bad-net-')), 'snap');
    dirs.push(path.dirname(dir));
    await fs.cp(path.join(__dirname, '..', '..', 'events', 'demo-snapshot'), dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'ec2', 'describe-route-tables.json'), JSON.stringify({ RouteTables: [{ RouteTableId: 7 }] }));
    const inv = await collectInventory(await readSnapshot(dir), { clusterNames: ['batch-dev'], concurrency: 1, now: NOW, network: true });
    const [c] = inv.clusters;
    expect(c?.problems).toEqual([expect.objectContaining({ source: 'ec2:DescribeVpcNetwork', unread: { part: 'vpc-network' } })]);
    expect(c?.problems[0]?.message).toContain('ec2/describe-route-tables.json: RouteTables[0].RouteTableId');
    expect(c?.network).toBeUndefined();
    expect(diagnose(measure(inv), inv, DEFAULT_THRESHOLDS).map((f) => f.kind)).not.toContain('node-egress');
  });

  it('is not known from a snapshot without the network files: unknown, no problem', async () => {
    const inv = await collectInventory(await readSnapshot(path.join(__dirname, '..', 'fixtures', '..', '..', 'events', 'demo-snapshot')), {
      clusterNames: ['batch-dev'],
      concurrency: 1,
      now: NOW,
      network: true,
    });
    expect(inv.clusters[0]?.network?.routeTables?.length).toBeGreaterThan(0);
    const bare = path.join(await fs.mkdtemp(path.join(tmpdir(), 'bare-')), 'snap');
    dirs.push(path.dirname(bare));
    await fs.cp(path.join(__dirname, '..', '..', 'events', 'demo-snapshot'), bare, { recursive: true });
    for (const f of ['describe-vpcs.json', 'describe-dhcp-options.json', 'describe-route-tables.json', 'describe-vpc-endpoints.json', 'describe-security-groups.json']) {
      await fs.rm(path.join(bare, 'ec2', f));
    }
    await fs.rm(path.join(bare, 'ec2', 'vpcs'), { recursive: true });
    const old = await collectInventory(await readSnapshot(bare), { clusterNames: ['batch-dev'], concurrency: 1, now: NOW, network: true });
    const [c] = old.clusters;
    expect(c?.problems).toEqual([]);
    const checks = networkChecks(measure(old).clusters[0]!, c!, 'eu-west-1');
    expect(checks.dns?.verdict).toBe('unknown');
    expect(checks.subnets.every((s) => s.verdict === 'unknown')).toBe(true);
  });
});
