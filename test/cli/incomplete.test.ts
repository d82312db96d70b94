/**
 * Incomplete data through the CLI: a damaged snapshot, a cluster that is not there, a live run
 * with failed reads captured and replayed. Each ends in an INCOMPLETE mark (or a one-line error)
 * and a non-zero exit, never a stack trace or a silent 0.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LiveSource } from '../../lib/aws/live-source';
import { EXIT_INCOMPLETE, main } from '../../lib/cli/main';
import { ec2Error, eksError, emulateAccount } from '../../tools/mock-aws';
import { generateAccount } from '../../tools/synthetic-account';
import { captureIo } from '../support/cli-io';

const DEMO = path.join(__dirname, '..', '..', 'events', 'demo-snapshot');
const POLICY = path.join(__dirname, '..', '..', 'policy.yml');
/** In payments-prod (eu-west-1c): its only record in ec2/describe-subnets.json is Subnets[2]. */
const BAD_SUBNET = 'subnet-02a477941daa66d13';

const io = captureIo;

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});
async function tmp(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A copy of the demo snapshot with `damage` done to it. */
async function damagedDemo(damage: (dir: string) => Promise<void>): Promise<string> {
  const dir = path.join(await tmp('damaged-'), 'snap');
  await fs.cp(DEMO, dir, { recursive: true });
  await damage(dir);
  return dir;
}

async function editJson(dir: string, file: string, edit: (body: Record<string, unknown>) => void): Promise<void> {
  const p = path.join(dir, file);
  const body = JSON.parse(await fs.readFile(p, 'utf8')) as Record<string, unknown>;
  edit(body);
  await fs.writeFile(p, JSON.stringify(body, null, 2));
}

const stringCount = (dir: string) =>
  editJson(dir, 'ec2/describe-subnets.json', (b) => {
    const subnets = b['Subnets'] as Record<string, unknown>[];
    expect(subnets[2]?.['SubnetId']).toBe(BAD_SUBNET);
    subnets[2]!['AvailableIpAddressCount'] = '916';
  });

/** The section of one cluster in the text report. */
function section(text: string, cluster: string): string {
  const start = text.indexOf(`Cluster ${cluster} `);
  const next = text.indexOf('\nCluster ', start + 1);
  return text.slice(start, next < 0 ? undefined : next);
}

describe('a snapshot with one subnet whose AvailableIpAddressCount is a string', () => {
  it('spoils only that subnet: INCOMPLETE on the cluster, the others as before, exit 3', async () => {
    const dir = await damagedDemo(stringCount);
    const t = io();
    expect(await main(['report', '--snapshot', dir], t.cli)).toBe(EXIT_INCOMPLETE);
    const text = t.out();
    expect(text.split('\n')[1]).toBe('6 cluster(s) sampled, 0 failed, 1 INCOMPLETE (payments-prod)');
    const prod = section(text, 'payments-prod');
    expect(prod.split('\n')[0]).toMatch(/^Cluster payments-prod .*INCOMPLETE$/);
    // The other subnets of the cluster are still measured, and so are its findings.
    expect(prod).toContain('CRITICAL: Subnet subnet-0e59dfd0c9e3779b1 (eu-west-1a): 7 of 251 IPs free');
    expect(prod).toMatch(/subnet-0af8d12343c6ef362 +eu-west-1b +10\.20\.2\.0\/23 +cluster,node +307 /);
    // What rests on the bad record is unknown, never 0.
    expect(prod).toContain(`Pod subnets: free IPs unknown (${BAD_SUBNET} not read)`);
    expect(prod).toContain(`Control plane: free IPs in the cluster subnets unknown (${BAD_SUBNET} not read)`);
    expect(prod).toContain(`- ec2:DescribeSubnets: ec2/describe-subnets.json: Subnets[2].AvailableIpAddressCount: expected number, received string`);
    expect(prod).not.toMatch(/Pod subnets: 0 free/);
    // The other cluster does not rest on it.
    expect(section(text, 'batch-dev')).not.toContain('INCOMPLETE');
    expect(t.err()).not.toMatch(/\n\s+at /);
  });

  it('prints the unknown figures as null in --json, and lists them', async () => {
    const dir = await damagedDemo(stringCount);
    const t = io();
    expect(await main(['report', '--snapshot', dir, '--json'], t.cli)).toBe(EXIT_INCOMPLETE);
    const { usage } = JSON.parse(t.out());
    const prod = usage.clusters.find((c: { name: string }) => c.name === 'payments-prod');
    expect(prod.complete).toBe(false);
    expect(prod.totals.availableIps).toBeNull();
    expect(prod.controlPlane.minAvailable).toBeNull();
    expect(prod.unknown).toEqual(expect.arrayContaining(['totals.availableIps', 'controlPlane']));
    expect(prod.problems).toContainEqual(expect.objectContaining({ source: 'ec2:DescribeSubnets', unread: { part: 'subnets', ids: [BAD_SUBNET] } }));
    const dev = usage.clusters.find((c: { name: string }) => c.name === 'batch-dev');
    expect(dev.unknown).toEqual([]);
    expect(typeof dev.totals.availableIps).toBe('number');
  });

  it('plan keeps the incomplete-data blocker and exits 3', async () => {
    const dir = await damagedDemo(stringCount);
    const t = io();
    expect(await main(['plan', '--snapshot', dir, '--policy', POLICY], t.cli)).toBe(EXIT_INCOMPLETE);
    expect(t.out()).toMatch(/Cluster payments-prod: mode dry-run {2}INCOMPLETE/);
    expect(t.out()).toMatch(/blocked by: data incomplete: ec2\/describe-subnets\.json: Subnets\[2\]/);
  });
});

describe('a snapshot whose ec2/describe-subnets.json is truncated', () => {
  const truncate = async (dir: string) => {
    const file = path.join(dir, 'ec2/describe-subnets.json');
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).slice(0, 3000));
  };

  it('marks every cluster INCOMPLETE, prints the subnet figures as unknown, and exits 3', async () => {
    const dir = await damagedDemo(truncate);
    const t = io();
    expect(await main(['report', '--snapshot', dir], t.cli)).toBe(EXIT_INCOMPLETE);
    const text = t.out();
    expect(text).toMatch(/\n6 cluster\(s\) sampled, 0 failed, 6 INCOMPLETE \(payments-prod, batch-dev, search-auto,\s+events-karpenter, ml-ipv6 and 1 more\)\n/);
    for (const c of ['payments-prod', 'batch-dev']) {
      const s = section(text, c);
      expect(s.split('\n')[0]).toMatch(/INCOMPLETE$/);
      expect(s).toContain('Findings');
      expect(s).not.toContain('Findings: none\n');
      expect(s).toMatch(/Pod subnets: free IPs unknown \(/);
      expect(s).not.toMatch(/Pod subnets: 0 free/);
      expect(s).toMatch(/- ec2:DescribeSubnets: ec2\/describe-subnets\.json: malformed JSON: .* \(2 reads\)/);
      // The nodes' figures do not rest on the subnet records: still known.
      expect(s).toMatch(/Nodes: [\d,]+, [\d,]+ pod IPs held, max pods [\d,]+;/);
    }
    expect(t.err()).not.toMatch(/\n\s+at /);
  });

  it('plan says for each action kind why it is absent', async () => {
    const dir = await damagedDemo(truncate);
    const t = io();
    expect(await main(['plan', '--snapshot', dir, '--policy', POLICY, '--json'], t.cli)).toBe(EXIT_INCOMPLETE);
    const out = JSON.parse(t.out());
    for (const c of out.clusters) {
      expect(c.complete).toBe(false);
      const kinds = [...c.planned.map((a: { kind: string }) => a.kind), ...Object.keys(c.absent)];
      expect(new Set(kinds)).toEqual(new Set(['warm-targets', 'cni-subnets', 'prefix-delegation', 'prefix-rollout', 'instance-types', 'subnet-reservations', 'leaked-enis', 'eni-configs', 'karpenter-subnets', 'karpenter-instance-types']));
    }
    const prod = out.clusters.find((c: { cluster: string }) => c.cluster === 'payments-prod');
    expect(prod.absent['warm-targets']).toMatch(/^no pod subnet short of addresses .* in the data that could be read; the data is incomplete, so one may be missing/);
    const text = io();
    await main(['plan', '--snapshot', dir, '--policy', POLICY], text.cli);
    expect(text.out()).toMatch(/Cluster payments-prod: mode dry-run {2}INCOMPLETE[\s\S]*not planned:\n {4}warm-targets: no pod subnet short of addresses/);
    expect(text.out()).not.toMatch(/^ {2}no action$/m);
  });
});

describe('report --clusters nosuch', () => {
  it('names the cluster in one line and exits 3, on a snapshot', async () => {
    const t = io();
    expect(await main(['report', '--snapshot', DEMO, '--clusters', 'nosuch'], t.cli)).toBe(EXIT_INCOMPLETE);
    expect(t.out().split('\n')[1]).toBe('0 cluster(s) sampled, 1 failed (nosuch)');
    expect(t.out()).toContain('  - nosuch: eks/list-clusters.json: no cluster "nosuch" in this snapshot (it holds "payments-prod", "batch-dev", "search-auto", "events-karpenter", "ml-ipv6", "events-consumers")');
    expect(t.err().trim().split('\n')).toEqual([expect.stringMatching(/^note: nosuch: could not be sampled: /)]);
  });

  it('and live (DescribeCluster answers ResourceNotFoundException)', async () => {
    const aws = emulateAccount(generateAccount({ clusters: 1, nodes: 4, subnetsPerCluster: 2, seed: 3 }));
    try {
      const t = io({ env: { AWS_REGION: 'eu-west-1' }, liveSource: (r) => new LiveSource({ ec2: aws.ec2, eks: aws.eks }, r) });
      expect(await main(['report', '--clusters', 'nosuch', '--no-forecast'], t.cli)).toBe(EXIT_INCOMPLETE);
      expect(t.out()).toMatch(/ {2}- nosuch: eks:DescribeCluster for cluster nosuch: ResourceNotFoundException/);
      const plan = io({ env: { AWS_REGION: 'eu-west-1' }, liveSource: (r) => new LiveSource({ ec2: aws.ec2, eks: aws.eks }, r) });
      expect(await main(['plan', '--clusters', 'nosuch', '--policy', POLICY], plan.cli)).toBe(EXIT_INCOMPLETE);
      expect(plan.out()).toMatch(/Cluster nosuch: FAILED: could not be sampled, nothing is planned/);
    } finally {
      aws.restore();
    }
  });
});

describe('a DescribeCluster without resourcesVpcConfig.vpcId', () => {
  it('replays as live treats it: the VPC from the cluster subnets, CNI discovery done, INCOMPLETE', async () => {
    const dir = await damagedDemo(async (d) => {
      await editJson(d, 'eks/clusters/payments-prod/describe-cluster.json', (b) => {
        delete (b['cluster'] as { resourcesVpcConfig: Record<string, unknown> }).resourcesVpcConfig['vpcId'];
      });
      // The emulated account below answers the AWS API only: without the Kubernetes part, the
      // snapshot reads as the live account without Kubernetes access does.
      await fs.rm(path.join(d, 'kubernetes'), { recursive: true });
    });
    const t = io();
    expect(await main(['report', '--snapshot', dir], t.cli)).toBe(EXIT_INCOMPLETE);
    const prod = section(t.out(), 'payments-prod');
    expect(prod.split('\n')[0]).toBe('Cluster payments-prod  (Kubernetes 1.31, vpc-05cb6340ff1bbcd88)  INCOMPLETE');
    // The CNI-discovery subnet was found in that VPC.
    expect(prod).toMatch(/subnet-0c55317ef17156075 +eu-west-1a +100\.64\.0\.0\/19 +cni-discovery /);
    expect(prod).toContain('DescribeCluster gave no resourcesVpcConfig.vpcId; the VPC vpc-05cb6340ff1bbcd88 is taken from the cluster subnets');

    // Live, the same account with the same DescribeCluster answer says the same.
    const { accountFromSnapshot } = await import('../support/snapshot-account');
    // With the region-level files (issue 13): live reads the same quota, ENIs and NAU metrics.
    const account = accountFromSnapshot(dir, undefined, { regionLimits: true });
    const aws = emulateAccount(account);
    try {
      const live = io({
        env: { AWS_REGION: 'eu-west-1' },
        now: () => new Date('2026-11-26T10:00:00Z'),
        liveSource: (r) => new LiveSource({ ec2: aws.ec2, eks: aws.eks, serviceQuotas: aws.serviceQuotas, cloudwatch: aws.cloudwatch }, r),
      });
      expect(await main(['report', '--json', '--no-forecast'], live.cli)).toBe(EXIT_INCOMPLETE);
      const replay = io();
      expect(await main(['report', '--snapshot', dir, '--json', '--no-forecast'], replay.cli)).toBe(EXIT_INCOMPLETE);
      expect(replay.out()).toBe(live.out());
    } finally {
      aws.restore();
    }
  });
});

describe('report --snapshot --json', () => {
  it('has the forecasts key of the live report, empty, with the reason', async () => {
    const t = io();
    expect(await main(['report', '--snapshot', DEMO, '--json'], t.cli)).toBe(0);
    const out = JSON.parse(t.out());
    expect(Object.keys(out)).toEqual(['usage', 'findings', 'forecasts', 'problems']);
    expect(out.forecasts).toEqual({ subnets: {}, clusters: {}, unavailable: expect.stringMatching(/^a snapshot holds no metric history/) });
    const text = io();
    await main(['report', '--snapshot', DEMO], text.cli);
    expect(text.out().split('\n')[2]).toMatch(/^Forecasts: none: a snapshot holds no metric history/);
  });
});

describe('capture of a live run with failed reads, and its replay', () => {
  it('replays to the same report, byte for byte in --json, problems included; capture exits like report', async () => {
    const account = generateAccount({ clusters: 4, nodes: 24, subnetsPerCluster: 3, seed: 11 });
    const [c1, c2, c3, c4] = account.clusters.map((c) => c.name ?? '') as [string, string, string, string];
    // One failed read of each kind the collector makes per cluster, each on its own cluster.
    const aws = emulateAccount(account);
    aws.faults['DescribeAddon'] = (input) => (input['clusterName'] === c1 ? eksError('AccessDeniedException', 'User is not authorized to perform eks:DescribeAddon') : undefined);
    aws.faults['DescribeCluster'] = (input) => (input['name'] === c2 ? eksError('AccessDeniedException', 'User is not authorized to perform eks:DescribeCluster') : undefined);
    const c3Subnets = new Set(account.clusters[2]?.resourcesVpcConfig?.subnetIds ?? []);
    aws.faults['DescribeNetworkInterfaces'] = (input) => {
      const values = (input['Filters'] as { Values?: string[] }[] | undefined)?.flatMap((f) => f.Values ?? []) ?? [];
      return values.some((v) => c3Subnets.has(v)) ? ec2Error('RequestLimitExceeded', 'Request limit exceeded.') : undefined;
    };
    aws.faults['DescribeInstances'] = (input) => {
      const values = (input['Filters'] as { Values?: string[] }[] | undefined)?.flatMap((f) => f.Values ?? []) ?? [];
      return values.includes(`kubernetes.io/cluster/${c4}`) ? ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.') : undefined;
    };
    const dir = path.join(await tmp('capture-faults-'), 'snap');
    try {
      const live = (r: string) => new LiveSource({ ec2: aws.ec2, eks: aws.eks }, r);
      const cap = io({ env: { AWS_REGION: 'eu-west-1' }, liveSource: live });
      expect(await main(['capture', '--out', dir], cap.cli)).toBe(EXIT_INCOMPLETE);
      expect(cap.out()).toContain(`: 3 cluster(s) sampled, 1 failed (${c2}), 3 INCOMPLETE (${c1}, ${c3}, ${c4})\n`);
      expect(cap.out()).toMatch(/4 failed read\(s\) recorded in failed-reads\.json/);
      expect(cap.err()).toMatch(new RegExp(`note: ${c1}: data incomplete .*AccessDeniedException`));
      expect(cap.err()).toMatch(new RegExp(`note: ${c2}: could not be sampled: .*AccessDeniedException`));

      const fromLive = io({ env: { AWS_REGION: 'eu-west-1' }, liveSource: live });
      expect(await main(['report', '--json', '--no-forecast'], fromLive.cli)).toBe(EXIT_INCOMPLETE);
      const fromSnapshot = io();
      expect(await main(['report', '--snapshot', dir, '--json', '--no-forecast'], fromSnapshot.cli)).toBe(EXIT_INCOMPLETE);
      expect(fromSnapshot.out()).toBe(fromLive.out());

      const report = JSON.parse(fromLive.out());
      const byName = (n: string) => report.usage.clusters.find((c: { name: string }) => c.name === n);
      // Live said "unknown, incomplete" for the add-on: so does the replay (not "self-managed, complete").
      expect(byName(c1)).toMatchObject({ complete: false, cni: { install: 'unknown' } });
      expect(byName(c3).problems).toContainEqual(expect.objectContaining({ source: 'ec2:DescribeNetworkInterfaces', code: 'RequestLimitExceeded' }));
      expect(byName(c4).totals.nodes).toBeNull();
      expect(report.usage.failedClusters).toEqual([expect.objectContaining({ name: c2, problem: expect.objectContaining({ code: 'AccessDeniedException' }) })]);

      // The text report and the plan are the same too (the plan keeps its incomplete-data blockers).
      const textLive = io({ env: { AWS_REGION: 'eu-west-1' }, liveSource: live });
      await main(['report', '--no-forecast'], textLive.cli);
      const textSnapshot = io();
      await main(['report', '--snapshot', dir, '--no-forecast'], textSnapshot.cli);
      expect(textSnapshot.out()).toBe(textLive.out());
      const planLive = io({ env: { AWS_REGION: 'eu-west-1' }, liveSource: live });
      expect(await main(['plan', '--policy', POLICY, '--json'], planLive.cli)).toBe(EXIT_INCOMPLETE);
      const planSnapshot = io();
      expect(await main(['plan', '--snapshot', dir, '--policy', POLICY, '--json'], planSnapshot.cli)).toBe(EXIT_INCOMPLETE);
      expect(planSnapshot.out()).toBe(planLive.out());
    } finally {
      aws.restore();
    }
  });
});

describe('a snapshot whose ec2/describe-network-interfaces.json is empty', () => {
  const emptyEnis = (dir: string) => fs.writeFile(path.join(dir, 'ec2/describe-network-interfaces.json'), '');
  /** A row of the Nodegroups table, split on its column gaps. */
  const row = (text: string, name: string): string[] =>
    (text.split('\n').find((l) => new RegExp(`^ {4}${name} `).test(l)) ?? '').trim().split(/ {2,}/);

  it('gives no finding and no figure that rests on the ENIs: holders, max pods and IP slots are unknown', async () => {
    const complete = io();
    await main(['report', '--snapshot', DEMO], complete.cli);
    // The complete report, for comparison: the figures below are known there.
    expect(row(complete.out(), 'legacy-t3')).toEqual(['legacy-t3', 'managed', 't3.medium', '4', '9/12', '43/60', '68', '1', '1']);
    expect(section(complete.out(), 'batch-dev')).toContain('max pods 1,452;');

    const t = io();
    expect(await main(['report', '--snapshot', await damagedDemo(emptyEnis)], t.cli)).toBe(EXIT_INCOMPLETE);
    const text = t.out();
    expect(text).not.toContain('idle in warm pools or held by others');
    expect(text).not.toMatch(/Held: 0 node\/ENI primary/);
    expect(text).not.toMatch(/used IPs are on no ENI this account can see/);
    expect(text).toContain('Held: unknown (the ENIs here, or the nodes, could not all be read).');
    for (const c of ['payments-prod', 'batch-dev']) expect(section(text, c)).toMatch(/pod IPs held unknown, max pods unknown;/);
    // NODES stays (DescribeInstances was read); ENIS … MAX-PODS … IP-LIMIT are unknown.
    expect(row(text, 'legacy-t3')).toEqual(['legacy-t3', 'managed', 't3.medium', '4', '?/?', '?/?', '?', '?', '?']);
    expect(t.err()).not.toMatch(/\n\s+at /);
  });

  it('--json: no held-by-others finding, the nodes\' mode and the nodegroups\' capacity null', async () => {
    const t = io();
    expect(await main(['report', '--snapshot', await damagedDemo(emptyEnis), '--json'], t.cli)).toBe(EXIT_INCOMPLETE);
    const out = JSON.parse(t.out());
    expect(out.findings.filter((f: { kind: string }) => f.kind === 'ips-held-by-others')).toEqual([]);
    const dev = out.usage.clusters.find((c: { name: string }) => c.name === 'batch-dev');
    expect(dev.totals.podCapacity).toBeNull();
    expect(dev.nodegroups.find((g: { name: string }) => g.name === 'legacy-t3')).toMatchObject({ podCapacity: null, podIpSlots: null, nodesEnisUnread: 4 });
    expect(dev.nodes.every((n: { mode: unknown; limits: unknown }) => n.mode === null && n.limits === null)).toBe(true);
    expect(dev.unknown).toEqual(expect.arrayContaining(['nodes[].mode', 'nodegroups[legacy-t3].podCapacity']));
    const exhaustion = out.findings.find((f: { id: string }) => f.id === 'batch-dev/subnet-exhaustion/subnet-009e3b40cfec38505');
    expect(exhaustion.evidence).toMatchObject({ heldNodePrimary: 'unknown', heldUnaccounted: 'unknown' });
  });
});
