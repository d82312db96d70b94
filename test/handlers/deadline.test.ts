/**
 * The cycle's deadline end to end: a handler given a Lambda context stops collecting a margin
 * before its timeout, names what it cut (summary problems and logs), and publishes only figures
 * resting on complete reads. The runtime's clock is moved by the emulated account's answers, so
 * nothing waits and nothing measures elapsed time.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { Context } from 'aws-lambda';
import scheduledEvent from '../../events/scheduled.json';
import { makeHandler as makeRespondHandler } from '../../handlers/respond';
import { makeHandler as makeSampleHandler } from '../../handlers/sample';
import { CYCLE_MARGIN_MS, cycleDeadline } from '../../lib/deadline';
import type { EmulatedAccount } from '../../tools/mock-aws';
import { testRuntime } from '../support/runtime';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';
import { generateAccount } from '../../tools/synthetic-account';
import { useTestHarness } from '../support/harness';

const NOW = new Date('2026-11-26T12:00:00Z');
const harness = useTestHarness();

const lambdaContext = (remainingMs: number): Context =>
  ({
    awsRequestId: 'req-deadline',
    getRemainingTimeInMillis: () => remainingMs,
    functionName: 'eks-ip-responder-test-sample',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:eks-ip-responder-test-sample',
    memoryLimitInMB: '512',
  }) as Context;

const sent = (aws: EmulatedAccount): MetricDatum[] => aws.putMetricData.flatMap((r) => r.MetricData ?? []);
const named = (data: MetricDatum[], name: string, cluster: string): MetricDatum[] =>
  data.filter((d) => d.MetricName === name && d.Dimensions?.some((x) => x.Name === 'ClusterName' && x.Value === cluster));

describe('cycleDeadline', () => {
  it('keeps the margin back from the remaining time, and never more than a quarter of it', () => {
    const rt = { now: () => NOW };
    expect(cycleDeadline(rt, 120_000).at).toBe(NOW.getTime() + 120_000 - CYCLE_MARGIN_MS);
    expect(cycleDeadline(rt, 40_000).at).toBe(NOW.getTime() + 30_000);
    expect(cycleDeadline(rt, 0).passed()).toBe(true);
  });
});

describe('sample handler with a deadline', () => {
  it('stops collecting at the deadline, names the reads it cut, and publishes only complete figures', async () => {
    const account = generateAccount({ clusters: 3, nodes: 60, subnetsPerCluster: 3, seed: 7 });
    // One cluster at a time, so that the deadline falls between well-defined reads.
    const t = await testRuntime(account, harness.db, { CLUSTER_CONCURRENCY: '1' }, NOW);
    harness.track(t.aws);
    const [first, second, third] = account.clusters.map((c) => c.name ?? '');
    // DescribeCluster of the second cluster is answered after the deadline (60 s left, 15 s of
    // margin: the deadline is 45 s away).
    t.aws.faults['DescribeCluster'] = (input) => {
      if (input['name'] === second) t.setNow(new Date(NOW.getTime() + 50_000));
      return undefined;
    };

    const summary = await makeSampleHandler(t.rt)(scheduledEvent as never, lambdaContext(60_000));

    // The first cluster was read in full, the second only described, the third not at all;
    // instance types (read once for all clusters, last) were not read either.
    expect(summary.clustersSampled).toBe(2);
    expect(summary.clustersFailed).toEqual([third]);
    expect(summary.clustersIncomplete).toContain(second);
    expect(t.aws.calls['DescribeCluster']).toBe(2);
    expect(t.aws.calls['DescribeNetworkInterfaces']).toBe(1);
    expect(t.aws.calls['DescribeInstanceTypes']).toBeUndefined();
    const cut = summary.problems.find((p) => p.startsWith('collection stopped at the deadline'));
    expect(cut).toMatch(/^collection stopped at the deadline \(the invocation's time: collection stops 15 s before the Lambda timeout to publish what is complete\): \d+ read\(s\) cut: /);
    expect(cut).toContain(`eks:ListNodegroups for cluster ${second} (not started)`);
    expect(summary.problems).toContainEqual(expect.stringMatching(new RegExp(`^${third}: could not be sampled: eks:DescribeCluster for cluster ${third}: not started: the invocation's time`)));
    expect(summary.problems).toContainEqual(expect.stringMatching(new RegExp(`^${second}: data incomplete .*ec2:DescribeInstances tagged kubernetes.io/cluster/${second}: not started`)));
    // The history is not read past the deadline: the margin is for publishing.
    expect(summary.problems).toContainEqual(expect.stringMatching(/^no forecast: the metric history was not read, the deadline had passed/));
    expect(t.aws.calls['GetMetricData']).toBeUndefined();
    const warned = t.logs.warn.find((l) => l[0] === 'collection stopped at the deadline');
    expect(warned?.[1]).toMatchObject({
      budgetMs: 45_000,
      readsCut: expect.arrayContaining([
        `eks:DescribeAddon vpc-cni for cluster ${second} (not started)`,
        `eks:DescribeCluster for cluster ${third} (not started)`,
        expect.stringMatching(/^ec2:DescribeInstanceTypes for .* \(not started\)$/),
      ]),
    });

    // Published: what the complete reads support, and DataIncomplete / SamplingFailed for the rest.
    const data = sent(t.aws);
    expect(summary.metricsPublished).toBe(data.length);
    const firstSubnets = account.clusters[0]?.resourcesVpcConfig?.subnetIds ?? [];
    expect(named(data, 'SubnetAvailableIps', first ?? '')).toHaveLength(firstSubnets.length);
    expect(named(data, 'SubnetIpsHeld', first ?? '').length).toBeGreaterThan(0);
    expect(named(data, 'Nodes', first ?? '')).toHaveLength(1);
    // Nothing resting on a cut read: the second cluster's subnets, holders and nodes, anyone's
    // capacity (instance types were cut).
    for (const metric of ['SubnetAvailableIps', 'SubnetIpsHeld', 'Nodes', 'PodIps']) expect(named(data, metric, second ?? '')).toEqual([]);
    for (const c of [first, second]) {
      for (const metric of ['PodCapacity', 'NodesAtEniLimit', 'NodesAtIpLimit']) expect(named(data, metric, c ?? '')).toEqual([]);
    }
    expect(named(data, 'DataIncomplete', second ?? '')[0]?.Value).toBe(1);
    expect(named(data, 'SamplingFailed', third ?? '')[0]?.Value).toBe(1);
  });

  it('cuts nothing when the cycle ends before its deadline', async () => {
    const account = generateAccount({ clusters: 2, nodes: 20, subnetsPerCluster: 3, seed: 7 });
    const t = await testRuntime(account, harness.db, {}, NOW);
    harness.track(t.aws);
    const summary = await makeSampleHandler(t.rt)(scheduledEvent as never, lambdaContext(120_000));
    expect(summary.clustersIncomplete).toEqual([]);
    expect(summary.problems.filter((p) => /deadline/.test(p))).toEqual([]);
    expect(t.logs.warn.filter((l) => l[0] === 'collection stopped at the deadline')).toEqual([]);
  });
});

describe('respond handler with a deadline', () => {
  it("binds the targeted cycle's reads by the invocation's remaining time", async () => {
    const t = await testRuntime(accountFromSnapshot(DEMO_SNAPSHOT), harness.db, { ALARM_NAME_PREFIX: 'eks-ip-responder-dev-', RESPOND_MIN_INTERVAL_SECONDS: '0' }, NOW);
    harness.track(t.aws);
    const event = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'events', 'cloudtrail-insufficient-free-addresses.json'), 'utf8')) as unknown;
    // The event is resolved to its cluster; the cycle's collection then runs past the deadline.
    t.aws.faults['DescribeNetworkInterfaces'] = () => {
      t.setNow(new Date(NOW.getTime() + 60_000));
      return undefined;
    };

    const summary = await makeRespondHandler(t.rt)(event, lambdaContext(40_000));

    expect(summary).toMatchObject({ status: 'handled', clusters: ['payments-prod'] });
    expect(summary.problems).toContainEqual(expect.stringMatching(/^collection stopped at the deadline \(the invocation's time: collection stops 10 s before the Lambda timeout/));
    expect(summary.problems).toContainEqual(expect.stringMatching(/^payments-prod: (data incomplete|could not be sampled)/));
    // Nothing acts on incomplete data.
    expect(summary.actions?.outcomes ?? []).toEqual([]);
    expect(t.aws.changes).toEqual([]);
  });
});
