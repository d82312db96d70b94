import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { makeHandler } from '../../handlers/respond';
import { ec2Error, type EmulatedAccount } from '../../tools/mock-aws';
import { testRuntime } from '../support/runtime';
import { accountFromSnapshot, DEMO_FIRST_CLUSTERS, DEMO_SNAPSHOT } from '../support/snapshot-account';
import { useTestHarness } from '../support/harness';
import * as cycleModule from '../../lib/cycle';

const EVENTS = path.join(__dirname, '..', '..', 'events');
const load = (name: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(EVENTS, name), 'utf8')) as Record<string, unknown>;
const NOW = new Date('2026-11-26T10:00:00Z');
// No debounce unless a test asks for it: most tests deliver several events within a second.
const ENV = { ALARM_NAME_PREFIX: 'eks-ip-responder-dev-', RESPOND_MIN_INTERVAL_SECONDS: '0' };

const harness = useTestHarness();

async function setup(env: Record<string, string> = {}) {
  const t = await testRuntime(accountFromSnapshot(DEMO_SNAPSHOT, DEMO_FIRST_CLUSTERS), harness.db, { ...ENV, ...env }, NOW);
  harness.track(t.aws);
  return { ...t, handler: makeHandler(t.rt) };
}

const failures = (aws: EmulatedAccount) =>
  aws.putMetricData.flatMap((r) => r.MetricData ?? []).filter((d) => d.MetricName === 'AllocationFailures');
const dims = (d: { Dimensions?: { Name?: string; Value?: string }[] }) =>
  Object.fromEntries((d.Dimensions ?? []).map((x) => [x.Name, x.Value]));

describe('respond handler, end to end with each sample event', () => {
  it.each([
    ['cloudtrail-insufficient-free-addresses.json', 'payments-prod', 'subnet-addresses'],
    ['cloudtrail-private-ip-limit.json', 'payments-prod', 'eni-ip-limit'],
    ['cloudtrail-attachment-limit.json', 'payments-prod', 'eni-attachment-limit'],
    ['cloudtrail-insufficient-cidr-blocks.json', 'batch-dev', 'prefix-space'],
    ['cloudtrail-invalid-parameter-free-ipv4.json', undefined, 'prefix-space'],
    ['autoscaling-launch-unsuccessful.json', 'payments-prod', 'subnet-addresses'],
    ['cloudtrail-network-interface-limit.json', 'payments-prod', 'eni-quota'],
    ['cloudtrail-network-address-usage-limit.json', 'batch-dev', 'network-address-usage'],
  ])('%s: counts the failure for its cluster, records it, and notifies the findings once', async (file, cluster, kind) => {
    const { handler, aws, rt } = await setup();
    const event = load(file);
    const first = await handler(event);
    expect(first.status).toBe('handled');
    if (cluster) expect(first.clusters).toEqual([cluster]);
    const counted = failures(aws);
    expect(counted.length).toBeGreaterThanOrEqual(1);
    for (const d of counted) {
      expect(d.Value).toBe(1);
      expect(dims(d).Kind).toBe(kind);
      expect(first.clusters).toContain(dims(d).ClusterName);
    }
    expect(aws.putMetricData[0]?.Namespace).toBe('Test/IP');
    // The ledger holds the claim and the findings' states; SNS got one message per finding.
    expect(await rt.ledger.claimEvent(String(event.id), { owner: 'another-invocation', now: NOW, leaseMs: 1_000 })).toMatchObject({ status: 'duplicate' });
    for (const c of first.clusters ?? []) {
      const states = await rt.ledger.getFindingStates(c);
      expect(states.filter((s) => s.status === 'open').length).toBeGreaterThan(0);
    }
    expect(aws.published.length).toBe(first.notified);
    expect(first.notified).toBeGreaterThan(0);
    for (const m of aws.published) {
      expect(m.TopicArn).toBe('arn:aws:sns:eu-west-1:111122223333:test-alerts');
      expect(m.MessageStructure).toBe('json');
      expect(m.Subject?.length).toBeLessThan(100);
      expect(JSON.parse(m.Message ?? '{}').default).toContain('Cluster: ');
    }

    // The same event delivered again: no second count, no second message.
    const again = await handler(event);
    expect(again.status).toBe('duplicate');
    expect(failures(aws)).toHaveLength(counted.length);
    expect(aws.published.length).toBe(first.notified);
  });

  it('the subnet-exhaustion notification names the near-full subnet, its cause and the first fix', async () => {
    const { handler, aws } = await setup();
    await handler(load('cloudtrail-insufficient-free-addresses.json'));
    const message = aws.published.find((m) => m.Subject?.includes('subnet-0e59dfd0c9e3779b1'));
    expect(message).toBeDefined();
    expect(message?.Subject).toMatch(/^\[CRITICAL\] payments-prod: /);
    const body = JSON.parse(message?.Message ?? '{}');
    expect(body.default).toContain('Cause: subnet close to full');
    expect(body.default).toContain('First fix to try:');
    expect(body.default).toContain('Dashboard: https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/eks-ip-responder-test');
    const doc = JSON.parse(body.sqs);
    expect(doc).toMatchObject({ schema: 'eks-ip-responder/notification/v1', cluster: 'payments-prod', kind: 'subnet-exhaustion', transition: 'appeared' });
    expect(message?.MessageAttributes?.severity?.StringValue).toBe('critical');
  });

  it('answers an alarm with a cycle of the contributor cluster only', async () => {
    const { handler, aws } = await setup();
    const out = await handler(load('alarm-contributor-subnet-free-ips.json'));
    expect(out).toMatchObject({ status: 'handled', clusters: ['payments-prod'] });
    expect(aws.calls['DescribeCluster']).toBe(1);
    // The network preflight is the scheduled sample's: the responder's cycle reads none of it.
    for (const op of ['DescribeVpcs', 'DescribeVpcAttribute', 'DescribeRouteTables', 'DescribeVpcEndpoints']) expect(aws.calls[op]).toBeUndefined();
    expect(failures(aws)).toHaveLength(0);
    // A later alarm samples every watched cluster: payments-prod's findings were notified already,
    // only batch-dev's are new.
    const before = aws.published.length;
    expect(before).toBeGreaterThan(0);
    const all = await handler(load('alarm-subnet-free-ips.json'));
    expect(all.clusters).toEqual(['payments-prod', 'batch-dev']);
    const later = aws.published.slice(before);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((m) => m.MessageAttributes?.cluster?.StringValue === 'batch-dev')).toBe(true);
  });

  it('issue 14: answers the pods-failing-ip-assignment alarm with a targeted cycle of its contributor cluster', async () => {
    const { handler, aws } = await setup();
    const cycles = jest.spyOn(cycleModule, 'runCycle');
    try {
      const out = await handler(load('alarm-contributor-pods-failing-ip.json'));
      expect(out).toMatchObject({ status: 'handled', eventId: '7a2c9e41-3f6d-4b8a-9c15-2e8d0f4b6a71', clusters: ['payments-prod'] });
      // One targeted cycle, of that cluster only; the responder publishes no usage metrics.
      expect(cycles).toHaveBeenCalledTimes(1);
      expect(cycles.mock.calls[0]?.[1]).toMatchObject({ clusterNames: ['payments-prod'] });
      expect(aws.calls['DescribeCluster']).toBe(1);
      expect(aws.putMetricData.flatMap((r) => r.MetricData ?? []).filter((d) => d.MetricName === 'PodsFailingIpAssignment')).toEqual([]);
    } finally {
      cycles.mockRestore();
    }
  });

  it('ignores an event that is not about exhaustion, with the reason', async () => {
    const { handler, aws, logs } = await setup();
    const out = await handler(load('cloudtrail-unauthorized.json'));
    expect(out.status).toBe('ignored');
    expect(out.reason).toMatch(/UnauthorizedOperation/);
    expect(aws.totalReadCalls()).toBe(0);
    expect(logs.info[0]?.[0]).toBe('event ignored');
  });

  it('rejects a malformed event with a message naming the field, counts it, and does not retry', async () => {
    const { handler, aws, logs } = await setup();
    const event = load('cloudtrail-insufficient-free-addresses.json');
    (event.detail as Record<string, unknown>).requestParameters = { subnetId: 42 };
    const out = await handler(event);
    expect(out.status).toBe('rejected');
    expect(out.reason).toMatch(/detail\.requestParameters\.subnetId/);
    expect(logs.error[0]?.[0]).toBe('event rejected');
    expect(logs.error[0]?.[1]).toEqual({
      id: event.id,
      source: 'aws.ec2',
      'detail-type': 'AWS API Call via CloudTrail',
      account: '111122223333',
      region: 'eu-west-1',
      time: '2026-11-26T09:41:07Z',
      eventName: 'CreateNetworkInterface',
      errorCode: 'Client.InsufficientFreeAddressesInSubnet',
      problems: [{ path: 'detail.requestParameters.subnetId', problem: 'expected string, received number' }],
    });
    expect(aws.putMetricData.flatMap((r) => r.MetricData ?? []).map((d) => d.MetricName)).toEqual(['EventsRejected']);
  });

  it('releases the claim when handling fails, so that the retried delivery is handled', async () => {
    const { handler, aws } = await setup();
    const event = load('cloudtrail-insufficient-free-addresses.json');
    aws.faults['ListClusters'] = () => ec2Error('ThrottlingException', 'Rate exceeded');
    await expect(handler(event)).rejects.toThrow(/eks:ListClusters .*ThrottlingException/);
    delete aws.faults['ListClusters'];
    const retried = await handler(event);
    expect(retried.status).toBe('handled');
  });

  it('gives the cycle claim back when the cycle fails, so that the retry is answered, not debounced', async () => {
    const { handler, setNow } = await setup({ RESPOND_MIN_INTERVAL_SECONDS: '300' });
    const event = load('cloudtrail-insufficient-free-addresses.json');
    // The cluster's cycle is claimed, then the cycle throws (runCycle throws when its metrics
    // cannot be published).
    jest.spyOn(cycleModule, 'runCycle').mockRejectedValueOnce(new Error('cloudwatch:PutMetricData: ThrottlingException: Rate exceeded'));
    await expect(handler(event)).rejects.toThrow(/ThrottlingException/);
    // Lambda's retry a minute later, well inside the 300 s debounce.
    setNow(new Date(NOW.getTime() + 60_000));
    const retried = await handler(event);
    expect(retried).toMatchObject({ status: 'handled', clusters: ['payments-prod'] });
  });

  it('retries a notification that SNS refused, on the next event, and sends it once', async () => {
    const { handler, aws } = await setup();
    aws.faults['Publish'] = () => ec2Error('KMSAccessDenied', 'not allowed to use the key');
    const first = await handler(load('cloudtrail-insufficient-free-addresses.json'));
    expect(first.notified).toBe(0);
    expect(first.problems?.some((p) => p.includes('sns:Publish'))).toBe(true);
    delete aws.faults['Publish'];
    const published = aws.published.length;
    const second = await handler(load('alarm-contributor-subnet-free-ips.json'));
    expect(second.notified).toBeGreaterThan(0);
    expect(aws.published.length - published).toBe(second.notified);
    const third = await handler({ ...load('alarm-contributor-subnet-free-ips.json'), id: 'another-delivery-id' });
    expect(third.status).toBe('handled');
    expect(third.notified).toBe(0);
  });

  it('answers one event per cluster per interval and only counts the others (an incident storm)', async () => {
    const { handler, aws } = await setup({ RESPOND_MIN_INTERVAL_SECONDS: '60' });
    const first = await handler(load('cloudtrail-insufficient-free-addresses.json'));
    expect(first.status).toBe('handled');
    const reads = aws.calls['DescribeAddon'];
    const second = await handler(load('cloudtrail-private-ip-limit.json'));
    expect(second.status).toBe('debounced');
    expect(aws.calls['DescribeAddon']).toBe(reads);
    expect(failures(aws)).toHaveLength(2);
  });

  it("ignores the alarm of another stage whose name shares this stage's prefix", async () => {
    const { handler, aws, rt } = await setup();
    const claim = jest.spyOn(rt.ledger, 'claimEvent');
    const event = load('alarm-subnet-free-ips.json');
    (event.detail as Record<string, unknown>).alarmName = 'eks-ip-responder-dev-eu-subnet-free-ips-low';
    const out = await handler(event);
    // Ignored by the parser, before the ledger is written.
    expect(claim).not.toHaveBeenCalled();
    expect(out.status).toBe('ignored');
    expect(out.reason).toMatch(/not one of this stack's/);
    expect(aws.calls['DescribeCluster']).toBeUndefined();
  });

  it('leaves the sampler-slow alarm to its message: no cycle on top of a slow sampler', async () => {
    const { handler, aws, rt } = await setup();
    const claim = jest.spyOn(rt.ledger, 'claimEvent');
    const event = load('alarm-subnet-free-ips.json');
    (event.detail as Record<string, unknown>).alarmName = 'eks-ip-responder-dev-sampler-slow';
    const out = await handler(event);
    expect(claim).not.toHaveBeenCalled();
    expect(out.status).toBe('ignored');
    expect(out.reason).toMatch(/sampler's duration/);
    expect(aws.totalReadCalls()).toBe(0);
  });
});

/** `{ a: { a: ... {} } }`, `levels` objects deep. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

describe('respond handler: poison events are rejected, counted and logged by their head', () => {
  const poisons: [string, (e: Record<string, unknown>) => void][] = [
    // Over DynamoDB's 2 KB partition key: the claim's PutItem would fail, and every retry with it.
    ['an id of 3 KB', (e) => (e.id = 'e'.repeat(3 * 1024))],
    // The prefix search walked the request parameters recursively.
    ['request parameters nested 4,000 deep', (e) => ((e.detail as Record<string, unknown>).requestParameters = { subnetId: 'subnet-0e59dfd0c9e3779b1', deep: nested(4000) })],
    // A rejected event was logged whole: the logger's own walk overflowed the stack.
    ['a rejected event nested 3,000 deep', (e) => ((e.detail as Record<string, unknown>).requestParameters = { subnetId: 42, deep: nested(3000) })],
  ];

  it.each(poisons)('%s: rejected, EventsRejected counted, one log line without the access key id or source IP', async (_case, poison) => {
    const { rt, aws } = await setup();
    // The runtime's real logger, writing where Lambda reads it, in place of the test's silent one.
    const lines: string[] = [];
    const logger = new Logger({ serviceName: 'test', logLevel: 'INFO' });
    const handler = makeHandler({ ...rt, logger });
    const event = load('cloudtrail-insufficient-free-addresses.json');
    poison(event);
    const capture = (chunk: unknown): boolean => (lines.push(String(chunk)), true);
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
    let summary;
    try {
      summary = await handler(event);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    expect(summary.status).toBe('rejected');
    expect(summary.reason?.length).toBeLessThan(500);
    expect(aws.putMetricData.flatMap((r) => r.MetricData ?? []).map((d) => d.MetricName)).toEqual(['EventsRejected']);
    expect(aws.totalReadCalls()).toBe(0);
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? '';
    expect(line.length).toBeLessThan(2_000);
    expect(line).not.toContain('ASIAYDQ3EXAMPLEKEY7Q');
    expect(line).not.toContain('10.20.0.53');
    expect(JSON.parse(line)).toMatchObject({ level: 'ERROR', message: 'event rejected', source: 'aws.ec2', eventName: 'CreateNetworkInterface', problems: [expect.objectContaining({ problem: expect.any(String) })] });
  });

  it('counts the rejection before it logs: a logger that throws loses no count', async () => {
    const { handler, aws, rt } = await setup();
    jest.spyOn(rt.logger, 'error').mockImplementation(() => {
      throw new RangeError('Maximum call stack size exceeded');
    });
    const event = load('cloudtrail-insufficient-free-addresses.json');
    (event.detail as Record<string, unknown>).requestParameters = { subnetId: 42 };
    await expect(handler(event)).rejects.toThrow(RangeError);
    expect(aws.putMetricData.flatMap((r) => r.MetricData ?? []).map((d) => d.MetricName)).toEqual(['EventsRejected']);
  });
});

describe('respond to the account ENI quota (issue 13 item 8), end to end on the emulated account', () => {
  it('NetworkInterfaceLimitExceeded: a targeted cycle of the cluster reads the quota and the region, and notifies eni-quota', async () => {
    // The demo account, with the region-level reads on and a quota just above its ENIs (all of the
    // region's: the region-wide read counts every cluster's and the others').
    const account = accountFromSnapshot(DEMO_SNAPSHOT, undefined, { regionLimits: true });
    const enis = account.networkInterfaces.length;
    const quota = enis + 3;
    account.quotas = { 'vpc/L-DF5E4CA3': { applied: quota, awsDefault: 5000 } };
    const t = await testRuntime(account, harness.db, ENV, NOW);
    harness.track(t.aws);
    const handler = makeHandler(t.rt);
    const result = await handler(load('cloudtrail-network-interface-limit.json'));
    expect(result.status).toBe('handled');
    expect(result.clusters).toEqual(['payments-prod']);
    expect(t.aws.calls['GetServiceQuota']).toBe(1);
    const counted = failures(t.aws);
    expect(counted.map((d) => dims(d).Kind)).toEqual(['eni-quota']);
    const message = t.aws.published.find((m) => /network interfaces/.test(m.Subject ?? ''));
    expect(message?.Subject).toMatch(new RegExp(`^\\[CRITICAL\\] payments-prod: Region eu-west-1: ${enis} of ${quota} network interfaces`));
    expect(JSON.parse(message?.Message ?? '{}').default).toContain('--quota-code L-DF5E4CA3');
  });
});
