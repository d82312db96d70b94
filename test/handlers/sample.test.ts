import { Logger } from '@aws-lambda-powertools/logger';
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import scheduledEvent from '../../events/scheduled.json';
import { makeHandler, InvalidEventError, type SampleDeps } from '../../handlers/sample';
import { LiveSource } from '../../lib/aws/live-source';
import { parseSamplerConfig } from '../../lib/config';
import { emulateAccount, eksError, ec2Error, type EmulatedAccount } from '../support/mock-aws';
import { generateAccount } from '../support/synthetic-account';

const NOW = new Date('2026-11-26T12:00:00Z');

function setup(env: Record<string, string> = {}) {
  const account = generateAccount({ clusters: 3, nodes: 60, subnetsPerCluster: 3, seed: 7 });
  const aws = emulateAccount(account);
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const errors: unknown[][] = [];
  jest.spyOn(logger, 'error').mockImplementation((...args: unknown[]) => {
    errors.push(args);
  });
  const deps: SampleDeps = {
    config: parseSamplerConfig({ METRIC_NAMESPACE: 'Test/IP', ...env }),
    source: new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1'),
    cloudwatch: aws.cloudwatch,
    logger,
    now: () => NOW,
  };
  return { account, aws, deps, errors, handler: makeHandler(deps) };
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

let current: EmulatedAccount | undefined;
afterEach(() => {
  current?.restore();
  current = undefined;
  jest.restoreAllMocks();
});

describe('sample handler', () => {
  it('samples every cluster from the scheduled event and publishes their metrics', async () => {
    const { account, aws, handler } = setup();
    current = aws;
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
    expect([...holders.keys()].sort()).toEqual(['CniPrefix', 'CniSecondary', 'ControlPlane', 'NodePrimary', 'Other', 'Unaccounted']);
    const subnet = account.subnets.find((s) => s.SubnetId === someSubnet);
    const cidr = Number(subnet?.CidrBlock?.split('/')[1]);
    const used = 2 ** (32 - cidr) - 5 - (subnet?.AvailableIpAddressCount ?? 0);
    expect([...holders.values()].reduce((a = 0, b = 0) => a + b, 0)).toBe(used);
  });

  it('batches PutMetricData at 1,000 metrics per request', async () => {
    const account = generateAccount({ clusters: 3, nodes: 300, subnetsPerCluster: 40, seed: 3 });
    const aws = emulateAccount(account);
    current = aws;
    const handler = makeHandler({
      config: parseSamplerConfig({}),
      source: new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1'),
      cloudwatch: aws.cloudwatch,
      logger: new Logger({ logLevel: 'SILENT' }),
      now: () => NOW,
    });
    const summary = await handler({});
    const sizes = aws.putMetricData.map((r) => r.MetricData?.length ?? 0);
    expect(summary.metricsPublished).toBeGreaterThan(1000);
    expect(sizes.every((n) => n <= 1000)).toBe(true);
    expect(sizes.slice(0, -1).every((n) => n === 1000)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(summary.metricsPublished);
    expect(summary.putMetricDataCalls).toBe(Math.ceil(summary.metricsPublished / 1000));
    expect(aws.putMetricData[0]?.Namespace).toBe('EKS/IPResponder');
  });

  it('isolates a cluster whose sampling fails and still publishes the others', async () => {
    const { account, aws, handler, errors } = setup();
    current = aws;
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
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[0]).toBe('cluster sampling failed');
    expect(errors[0]?.[1]).toMatchObject({ cluster: broken, operation: 'eks:DescribeCluster', code: 'AccessDeniedException' });
  });

  it('marks a cluster incomplete when one of its reads is denied, and still publishes it', async () => {
    const { account, aws, handler } = setup();
    current = aws;
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

  it('samples only the configured clusters', async () => {
    const { account, aws, handler } = setup({ CLUSTER_NAMES: 'nope' });
    current = aws;
    void account;
    const summary = await handler({});
    expect(aws.calls['ListClusters']).toBeUndefined();
    expect(summary.clustersFailed).toEqual(['nope']);
  });

  it('fails the invocation when PutMetricData fails, naming the call', async () => {
    const { aws, handler } = setup();
    current = aws;
    aws.faults['PutMetricData'] = () => ec2Error('AccessDenied', 'not allowed to write to namespace');
    await expect(handler({})).rejects.toThrow(/cloudwatch:PutMetricData to Test\/IP, batch 1 of \d+: AccessDenied/);
  });

  it.each([
    [{ 'detail-type': 'Object Created', source: 'aws.s3' }, /Scheduled Event/],
    [{ clusterNames: 'prod' }, /clusterNames/],
    [[1, 2], /\(event\)/],
  ])('rejects an event it does not understand: %j', async (event, message) => {
    const { aws, handler } = setup();
    current = aws;
    await expect(handler(event as never)).rejects.toThrow(InvalidEventError);
    await expect(handler(event as never)).rejects.toThrow(message);
    expect(aws.totalReadCalls()).toBe(0);
  });
});
