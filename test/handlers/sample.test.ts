import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import scheduledEvent from '../../events/scheduled.json';
import { InvalidEventError, makeHandler } from '../../handlers/sample';
import { eksError, ec2Error, type EmulatedAccount } from '../../tools/mock-aws';
import { testRuntime } from '../support/runtime';
import { generateAccount } from '../../tools/synthetic-account';
import { useTestHarness } from '../support/harness';

const NOW = new Date('2026-11-26T12:00:00Z');
const harness = useTestHarness();

async function setup(env: Record<string, string> = {}, opts = { clusters: 3, nodes: 60, subnetsPerCluster: 3, seed: 7 }) {
  const account = generateAccount(opts);
  const t = await testRuntime(account, harness.db, env, NOW);
  harness.track(t.aws);
  return { account, ...t, handler: makeHandler(t.rt) };
}

function sent(aws: EmulatedAccount): MetricDatum[] {
  return aws.putMetricData.flatMap((r) => r.MetricData ?? []);
}

function find(data: MetricDatum[], name: string, dims: Record<string, string>): MetricDatum[] {
  return data.filter(
    (d) =>
      d.MetricName === name &&
      (d.Dimensions ?? []).length === Object.keys(dims).length &&
      Object.entries(dims).every(([k, v]) => d.Dimensions?.some((x) => x.Name === k && x.Value === v)),
  );
}

describe('sample handler', () => {
  it('samples every cluster from the scheduled event and publishes their metrics', async () => {
    const { account, aws, handler } = await setup();
    const summary = await handler(scheduledEvent as never);
    expect(summary.clustersSampled).toBe(3);
    expect(summary.clustersFailed).toEqual([]);
    const data = sent(aws);
    expect(summary.metricsPublished).toBe(data.length);
    for (const r of aws.putMetricData) expect(r.Namespace).toBe('Test/IP');

    // Every subnet of every cluster: SubnetAvailableIps equals EC2's AvailableIpAddressCount.
    for (const cluster of account.clusters) {
      for (const subnetId of cluster.resourcesVpcConfig?.subnetIds ?? []) {
        const subnet = account.subnets.find((s) => s.SubnetId === subnetId);
        const d = find(data, 'SubnetAvailableIps', { ClusterName: cluster.name ?? '', SubnetId: subnetId });
        expect(d).toHaveLength(1);
        expect(d[0]?.Value).toBe(subnet?.AvailableIpAddressCount);
        expect(d[0]?.Unit).toBe('Count');
        expect(d[0]?.Timestamp).toEqual(NOW);
      }
      // Nodes per cluster = instances tagged for it.
      const nodes = account.instances.filter((i) => i.Tags?.some((t) => t.Key === `kubernetes.io/cluster/${cluster.name}`));
      expect(find(data, 'Nodes', { ClusterName: cluster.name ?? '' })[0]?.Value).toBe(nodes.length);
      expect(find(data, 'SamplingFailed', { ClusterName: cluster.name ?? '' })[0]?.Value).toBe(0);
    }
    expect(find(data, 'ClustersSampled', {})[0]?.Value).toBe(3);
    expect(find(data, 'ClustersFailed', {})[0]?.Value).toBe(0);
    // The holders of a subnet add up to what EC2 says is used.
    const someSubnet = account.clusters[0]?.resourcesVpcConfig?.subnetIds?.[0] ?? '';
    const clusterName = account.clusters[0]?.name ?? '';
    const held = data.filter(
      (d) =>
        d.MetricName === 'SubnetIpsHeld' &&
        d.Dimensions?.some((x) => x.Name === 'SubnetId' && x.Value === someSubnet) &&
        d.Dimensions?.some((x) => x.Name === 'ClusterName' && x.Value === clusterName),
    );
    const holders = new Map(held.map((d) => [d.Dimensions?.find((x) => x.Name === 'Holder')?.Value, d.Value]));
    expect([...holders.keys()].sort()).toEqual(['CniPrefix', 'CniSecondary', 'ControlPlane', 'NodePrimary', 'Other', 'Reserved', 'Unaccounted']);
    const subnet = account.subnets.find((s) => s.SubnetId === someSubnet);
    const cidr = Number(subnet?.CidrBlock?.split('/')[1]);
    const used = 2 ** (32 - cidr) - 5 - (subnet?.AvailableIpAddressCount ?? 0);
    expect([...holders.values()].reduce((a = 0, b = 0) => a + b, 0)).toBe(used);
  });

  it('batches PutMetricData at 1,000 metrics per request', async () => {
    const { aws, handler } = await setup({}, { clusters: 3, nodes: 300, subnetsPerCluster: 40, seed: 3 });
    const summary = await handler({});
    const sizes = aws.putMetricData.map((r) => r.MetricData?.length ?? 0);
    expect(summary.metricsPublished).toBeGreaterThan(1000);
    expect(sizes.every((n) => n <= 1000)).toBe(true);
    expect(sizes.slice(0, -1).every((n) => n === 1000)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(summary.metricsPublished);
    expect(summary.putMetricDataCalls).toBe(Math.ceil(summary.metricsPublished / 1000));
  });

  it('isolates a cluster whose sampling fails and still publishes the others', async () => {
    const { account, aws, handler, logs } = await setup();
    const broken = account.clusters[1]?.name ?? '';
    aws.faults['DescribeCluster'] = (input) =>
      input['name'] === broken
        ? eksError('AccessDeniedException', `User: arn:aws:sts::111122223333:assumed-role/sampler is not authorized to perform: eks:DescribeCluster on resource: ${broken}`)
        : undefined;
    const summary = await handler(scheduledEvent as never);
    expect(summary.clustersFailed).toEqual([broken]);
    expect(summary.clustersSampled).toBe(2);
    const data = sent(aws);
    expect(find(data, 'SamplingFailed', { ClusterName: broken })[0]?.Value).toBe(1);
    expect(find(data, 'ClustersFailed', {})[0]?.Value).toBe(1);
    expect(find(data, 'Nodes', { ClusterName: broken })).toHaveLength(0);
    for (const c of account.clusters.filter((c) => c.name !== broken)) {
      expect(find(data, 'Nodes', { ClusterName: c.name ?? '' })).toHaveLength(1);
    }
    expect(logs.error).toHaveLength(1);
    expect(logs.error[0]?.[0]).toBe('cluster sampling failed');
    expect(logs.error[0]?.[1]).toMatchObject({ cluster: broken, operation: 'eks:DescribeCluster', code: 'AccessDeniedException' });
  });

  it('marks a cluster incomplete when one of its reads is denied, and still publishes it', async () => {
    const { account, aws, handler } = await setup();
    aws.faults['DescribeNetworkInterfaces'] = (_input, n) =>
      n === 1 ? ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.') : undefined;
    const summary = await handler({});
    expect(summary.clustersIncomplete).toHaveLength(1);
    const data = sent(aws);
    const incomplete = summary.clustersIncomplete[0] ?? '';
    expect(find(data, 'DataIncomplete', { ClusterName: incomplete })[0]?.Value).toBe(1);
    for (const c of account.clusters.filter((c) => c.name !== incomplete)) {
      expect(find(data, 'DataIncomplete', { ClusterName: c.name ?? '' })[0]?.Value).toBe(0);
    }
  });

  it('reads each cluster VPC\'s network once (the network preflight), and finds what it lacks', async () => {
    const { account, aws, handler } = await setup();
    // One VPC loses DNS hostnames: its cluster gets a vpc-dns finding.
    const [first] = account.networks ?? [];
    if (!first) throw new Error('the synthetic account has no VPC network');
    first.enableDnsHostnames = false;
    const summary = await handler({});
    expect(summary.clustersIncomplete).toEqual([]);
    expect(aws.calls['DescribeRouteTables']).toBe(3);
    expect(aws.calls['DescribeVpcAttribute']).toBe(6);
    expect(summary.findings).toBeGreaterThan(0);
    const published = aws.published.map((p) => p.Message ?? '').join('\n');
    expect(published).toContain(`${first.vpcId} has enableDnsHostnames off`);
  });

  it('samples only the configured clusters', async () => {
    const { aws, handler } = await setup({ CLUSTER_NAMES: 'nope' });
    const summary = await handler({});
    expect(aws.calls['ListClusters']).toBeUndefined();
    expect(summary.clustersFailed).toEqual(['nope']);
  });

  it('fails the invocation when PutMetricData fails, naming the call', async () => {
    const { aws, handler } = await setup();
    aws.faults['PutMetricData'] = () => ec2Error('AccessDenied', 'not allowed to write to namespace');
    await expect(handler({})).rejects.toThrow(/cloudwatch:PutMetricData to Test\/IP, batch 1 of \d+: AccessDenied/);
  });

  it.each([
    [{ 'detail-type': 'Object Created', source: 'aws.s3' }, /Scheduled Event/],
    [{ clusterNames: 'prod' }, /clusterNames/],
    [[1, 2], /\(event\)/],
  ])('rejects an event it does not understand: %j', async (event, message) => {
    const { aws, handler } = await setup();
    await expect(handler(event as never)).rejects.toThrow(InvalidEventError);
    await expect(handler(event as never)).rejects.toThrow(message);
    expect(aws.totalReadCalls()).toBe(0);
  });
});

describe('sample handler notifications', () => {
  it('notifies a finding when it appears, not on the next sample, and when it clears', async () => {
    const { accountFromSnapshot, DEMO_SNAPSHOT } = await import('../support/snapshot-account');
    const account = accountFromSnapshot(DEMO_SNAPSHOT);
    const t = await testRuntime(account, harness.db, {}, new Date('2026-11-26T10:00:00Z'));
    harness.track(t.aws);
    const handler = makeHandler(t.rt);
    const near = 'subnet-0e59dfd0c9e3779b1';

    const first = await handler({});
    expect(first.notified).toBeGreaterThan(0);
    expect(first.notified).toBe(t.aws.published.length);
    const subjects = t.aws.published.map((m) => m.Subject ?? '');
    expect(subjects.some((s) => s.startsWith('[CRITICAL] payments-prod: Subnet subnet-0e59dfd0c9e3779b1'))).toBe(true);

    t.setNow(new Date('2026-11-26T10:05:00Z'));
    const second = await handler({});
    expect(second.findings).toBe(first.findings);
    expect(second.notified).toBe(0);

    // Someone freed addresses: the subnet finding clears, and only it is notified.
    const subnet = account.subnets.find((s) => s.SubnetId === near);
    subnet!.AvailableIpAddressCount = 200;
    t.setNow(new Date('2026-11-26T10:10:00Z'));
    const before = t.aws.published.length;
    const third = await handler({});
    expect(third.findings).toBeLessThan(first.findings);
    const cleared = t.aws.published.slice(before);
    expect(cleared.length).toBeGreaterThan(0);
    expect(cleared.every((m) => m.Subject?.startsWith('[CLEARED] payments-prod:'))).toBe(true);
    expect(cleared.some((m) => m.Subject?.includes(near))).toBe(true);
  });

  it('clears nothing while a cluster\'s data is incomplete', async () => {
    const { accountFromSnapshot, DEMO_SNAPSHOT } = await import('../support/snapshot-account');
    const account = accountFromSnapshot(DEMO_SNAPSHOT);
    const t = await testRuntime(account, harness.db, {}, new Date('2026-11-26T10:00:00Z'));
    harness.track(t.aws);
    const handler = makeHandler(t.rt);
    await handler({});
    const before = t.aws.published.length;
    t.aws.faults['DescribeNetworkInterfaces'] = () => ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.');
    t.setNow(new Date('2026-11-26T10:05:00Z'));
    const out = await handler({});
    expect(out.clustersIncomplete.length).toBeGreaterThan(0);
    expect(t.aws.published.slice(before).filter((m) => m.Subject?.startsWith('[CLEARED]'))).toEqual([]);
  });
});

describe('sample handler: the functions’ placement (FUNCTION_SUBNET_IDS, FUNCTION_SECURITY_GROUP_IDS)', () => {
  it('reads the placement subnets and the clusters’ security groups once per cycle when in a VPC, nothing more when not', async () => {
    const plain = await setup({ FUNCTION_SUBNET_IDS: '', FUNCTION_SECURITY_GROUP_IDS: '' });
    await plain.handler(scheduledEvent as never);
    const subnetId = plain.account.subnets[0]?.SubnetId ?? '';
    const inVpc = await setup({ FUNCTION_SUBNET_IDS: subnetId, FUNCTION_SECURITY_GROUP_IDS: 'sg-0123456789abcdef0' });
    await inVpc.handler(scheduledEvent as never);
    expect((inVpc.aws.calls['DescribeSubnets'] ?? 0) - (plain.aws.calls['DescribeSubnets'] ?? 0)).toBe(1);
    expect((inVpc.aws.calls['DescribeSecurityGroups'] ?? 0) - (plain.aws.calls['DescribeSecurityGroups'] ?? 0)).toBe(1);
  });
});
