import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LiveSource } from '../../lib/aws/live-source';
import { main } from '../../lib/cli/main';
import { readSnapshot } from '../../lib/inventory/snapshot';
import { emulateAccount, eksError } from '../../tools/mock-aws';
import { generateAccount } from '../../tools/synthetic-account';
import { captureIo } from '../support/cli-io';

const DEMO = path.join(__dirname, '..', '..', 'events', 'demo-snapshot');

const io = captureIo;

describe('cli report', () => {
  it('prints the demo report: every cluster, subnet and nodegroup of the snapshot', async () => {
    const t = io();
    expect(await main(['report', '--snapshot', DEMO], t.cli)).toBe(0);
    const text = t.out();
    const source = await readSnapshot(DEMO);
    const clusters = await source.listClusters();
    expect(clusters.length).toBe(6);
    for (const name of clusters) {
      expect(text).toContain(`Cluster ${name}`);
      const cluster = await source.describeCluster(name);
      for (const id of cluster.resourcesVpcConfig?.subnetIds ?? []) expect(text).toContain(id);
      for (const ng of await source.describeNodegroups(name)) expect(text).toContain(ng.nodegroupName ?? '');
    }
    expect(text).toMatch(/Control plane: least free in a cluster subnet \d+/);
    expect(t.err()).toBe('');
  });

  it('prints the measured usage as JSON with --json', async () => {
    const t = io();
    expect(await main(['report', '--snapshot', DEMO, '--json'], t.cli)).toBe(0);
    const { usage, findings } = JSON.parse(t.out());
    expect(findings.length).toBeGreaterThan(0);
    expect(usage.region).toBe('eu-west-1');
    expect(usage.clusters).toHaveLength(6);
    for (const c of usage.clusters) {
      for (const s of c.subnets) {
        expect(s.usable - s.available).toBe(s.used);
      }
    }
  });

  it('reports only the clusters asked for', async () => {
    const source = await readSnapshot(DEMO);
    const [first] = await source.listClusters();
    const t = io();
    expect(await main(['report', '--snapshot', DEMO, '--clusters', first ?? '', '--json'], t.cli)).toBe(0);
    expect(JSON.parse(t.out()).usage.clusters.map((c: { name: string }) => c.name)).toEqual([first]);
  });

  it('names a snapshot directory that does not exist', async () => {
    const t = io();
    expect(await main(['report', '--snapshot', '/nonexistent/snap'], t.cli)).toBe(1);
    expect(t.err()).toMatch(/nonexistent\/snap|list-clusters\.json/);
  });

  it('reports a live account through the adapters, with a failing cluster named', async () => {
    const account = generateAccount({ clusters: 2, nodes: 20, subnetsPerCluster: 3, seed: 5 });
    const aws = emulateAccount(account);
    try {
      const broken = account.clusters[0]?.name ?? '';
      aws.faults['DescribeCluster'] = (input) => (input['name'] === broken ? eksError('AccessDeniedException', 'denied') : undefined);
      const t = io({
        env: { AWS_REGION: 'eu-west-1' },
        liveSource: (r) => new LiveSource({ ec2: aws.ec2, eks: aws.eks }, r),
        cloudwatch: () => aws.cloudwatch,
      });
      // Done, but a cluster failed: the exit status for incomplete or failed clusters.
      expect(await main(['report'], t.cli)).toBe(3);
      expect(t.out()).toContain(`Cluster ${account.clusters[1]?.name}`);
      expect(t.out()).toMatch(new RegExp(`Clusters that could not be sampled:\\n  - ${broken}: eks:DescribeCluster .*AccessDeniedException`));
    } finally {
      aws.restore();
    }
  });

  it('captures a live account into a snapshot that reports the same', async () => {
    const account = generateAccount({ clusters: 2, nodes: 20, subnetsPerCluster: 3, seed: 9 });
    const aws = emulateAccount(account);
    const dir = await mkdtemp(path.join(tmpdir(), 'capture-'));
    try {
      const live = (r: string) => new LiveSource({ ec2: aws.ec2, eks: aws.eks }, r);
      const cap = io({ env: { AWS_REGION: 'eu-west-1' }, liveSource: live });
      expect(await main(['capture', '--out', dir], cap.cli)).toBe(0);
      expect(cap.out()).toMatch(/captured eu-west-1 into .*: 2 cluster\(s\) sampled, 0 failed\n/);
      const fromLive = io({ env: { AWS_REGION: 'eu-west-1' }, liveSource: live });
      await main(['report', '--json', '--no-forecast'], fromLive.cli);
      const fromSnapshot = io();
      await main(['report', '--snapshot', dir, '--json', '--no-forecast'], fromSnapshot.cli);
      expect(JSON.parse(fromSnapshot.out())).toEqual(JSON.parse(fromLive.out()));
    } finally {
      aws.restore();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('needs a region for a live report', async () => {
    const t = io();
    expect(await main(['report'], t.cli)).toBe(2);
    expect(t.err()).toMatch(/no region: pass --region or set AWS_REGION/);
  });
});

describe('cli max-pods', () => {
  it('prints max pods for the types asked for', async () => {
    const t = io();
    expect(await main(['max-pods', 'm5.large', 'c5.18xlarge', '--json'], t.cli)).toBe(0);
    const out = JSON.parse(t.out());
    expect(out.instanceTypes.map((r: { instanceType: string; maxPods: number; eniMaxPods: number }) => [r.instanceType, r.maxPods, r.eniMaxPods])).toEqual([
      ['m5.large', 29, 29],
      ['c5.18xlarge', 250, 737],
    ]);
  });

  it('applies prefix delegation, custom networking and the cap options', async () => {
    const t = io();
    await main(['max-pods', 'm5.large', '--prefix-delegation', '--no-cap', '--json'], t.cli);
    expect(JSON.parse(t.out()).instanceTypes[0].maxPods).toBe(434);
    const c = io();
    await main(['max-pods', 'm5.large', '--custom-networking', '--json'], c.cli);
    expect(JSON.parse(c.out()).instanceTypes[0].maxPods).toBe(20);
  });

  it('lists every known type with --all', async () => {
    const t = io();
    expect(await main(['max-pods', '--all', '--json'], t.cli)).toBe(0);
    expect(JSON.parse(t.out()).instanceTypes).toHaveLength(1373);
  });

  it('names an unknown type and still prints the others', async () => {
    const t = io();
    expect(await main(['max-pods', 'm5.large', 'x9.huge'], t.cli)).toBe(1);
    expect(t.out()).toContain('m5.large');
    expect(t.err()).toContain('unknown instance type: x9.huge');
  });

  it('rejects a call without types', async () => {
    const t = io();
    expect(await main(['max-pods'], t.cli)).toBe(2);
    expect(t.err()).toContain('max-pods needs instance types, or --all');
  });
});

describe('cli usage', () => {
  it.each([[['frobnicate']], [['report', '--bogus']]])('rejects %j with the usage', async (argv) => {
    const t = io();
    expect(await main(argv, t.cli)).toBe(2);
    expect(t.err()).toContain('Usage:');
  });
});

describe('cli report findings', () => {
  it('shows the findings in the words of the notifications', async () => {
    const t = io();
    await main(['report', '--snapshot', DEMO], t.cli);
    const text = t.out();
    expect(text).toMatch(/Findings \(\d+\)/);
    expect(text).toContain('CRITICAL: Subnet subnet-0e59dfd0c9e3779b1 (eu-west-1a): 7 of 251 IPs free');
    expect(text).toContain('Cause: subnet close to full');
    expect(text).toContain('First fix to try:');
  });

  it('reads the history the stack published and prints the forecast', async () => {
    const account = generateAccount({ clusters: 1, nodes: 20, subnetsPerCluster: 3, seed: 5 });
    const aws = emulateAccount(account);
    try {
      const cluster = account.clusters[0]?.name ?? '';
      const subnetId = account.clusters[0]?.resourcesVpcConfig?.subnetIds?.[0] ?? '';
      const now = new Date('2026-11-26T12:00:00Z');
      const free = account.subnets.find((s) => s.SubnetId === subnetId)?.AvailableIpAddressCount ?? 0;
      // 24 h of 5-minute samples, losing 4 addresses an hour until now.
      aws.history.set(
        `SubnetAvailableIps/${cluster}/${subnetId}`,
        Array.from({ length: 288 }, (_, i) => ({ t: new Date(now.getTime() - (288 - i) * 300_000), value: free + Math.round(((288 - i) * 4) / 12) })),
      );
      const t = io({
        env: { AWS_REGION: 'eu-west-1' },
        now: () => now,
        liveSource: (r) => new LiveSource({ ec2: aws.ec2, eks: aws.eks }, r),
        cloudwatch: () => aws.cloudwatch,
      });
      expect(await main(['report', '--json'], t.cli)).toBe(0);
      expect(aws.calls['GetMetricData']).toBeGreaterThanOrEqual(1);
      expect(aws.calls['PutMetricData']).toBeUndefined();
      const out = JSON.parse(t.out());
      expect(out.problems).toEqual([]);
      const forecast = out.forecasts.subnets[`${cluster}/${subnetId}`];
      expect(forecast.trend).toBe('decreasing');
      expect(forecast.slopePerHour).toBeCloseTo(-4, 0);
      expect(forecast.hoursToExhaustion).toBeCloseTo(free / 4, -1);
      expect(forecast.summary).toMatch(/runs out in about/);
    } finally {
      aws.restore();
    }
  });
});

describe('cli plan and policy', () => {
  it('prints the plan of the demo under the repository policy, and changes nothing', async () => {
    const t = io();
    expect(await main(['plan', '--snapshot', DEMO, '--policy', path.join(__dirname, '..', '..', 'policy.yml')], t.cli)).toBe(0);
    const text = t.out();
    expect(text).toContain('nothing is changed by this command');
    expect(text).toMatch(/Cluster payments-prod: mode dry-run/);
    expect(text).toMatch(/DRY-RUN: vpc-cni add-on: WARM_IP_TARGET=\d+/);
    expect(text).toMatch(/predicted: .*frees \d+ IPs in subnet-0e59dfd0c9e3779b1/);
    expect(text).toMatch(/BLOCKED: vpc-cni add-on: ENABLE_PREFIX_DELEGATION=true[\s\S]*blocked by: .*0 free \/28 blocks/);
  });

  it('prints the plan as JSON', async () => {
    const t = io();
    await main(['plan', '--snapshot', DEMO, '--policy', path.join(__dirname, '..', '..', 'policy.yml'), '--json'], t.cli);
    const out = JSON.parse(t.out());
    const prod = out.clusters.find((c: { cluster: string }) => c.cluster === 'payments-prod');
    expect(prod.planned.map((a: { kind: string; state: string }) => `${a.kind}:${a.state}`)).toContain('warm-targets:dry-run');
    expect(prod.results).toEqual([]);
  });

  it('checks a policy and names every problem', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const dir = await mkdtemp(path.join(tmpdir(), 'policy-'));
    const bad = path.join(dir, 'policy.yml');
    await writeFile(bad, 'version: 1\ndefault:\n  mode: aply\n');
    const t = io();
    expect(await main(['policy', 'check', '--policy', bad], t.cli)).toBe(1);
    expect(t.err()).toMatch(/default\.mode: must be one of observe, dry-run, apply, not "aply"/);
    const ok = io();
    expect(await main(['policy', 'check', '--policy', path.join(__dirname, '..', '..', 'policy.yml')], ok.cli)).toBe(0);
    expect(ok.out()).toMatch(/valid/);
    await rm(dir, { recursive: true, force: true });
  });

  it('shows the policy in force for a cluster', async () => {
    const t = io();
    expect(await main(['policy', 'show', '--cluster', 'payments-prod', '--policy', path.join(__dirname, '..', '..', 'policy.yml')], t.cli)).toBe(0);
    expect(JSON.parse(t.out())).toMatchObject({ cluster: 'payments-prod', mode: 'dry-run', actions: { cniSubnets: { spareSubnets: ['subnet-0c55317ef17156075'] } } });
  });
});
