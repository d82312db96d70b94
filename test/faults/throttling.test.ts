/**
 * Throttling on every API, left to the SDK's retry strategy: the sampler and the responder's
 * remediation tick run with every EC2, EKS, CloudWatch, SNS and DynamoDB call throttled on its
 * first attempt (each service's own throttling answer, on the wire, through the real
 * deserializer and retry middleware) and give the results of an unthrottled run. Throttling that
 * outlasts the retries on one cluster's DescribeNetworkInterfaces leaves that cluster
 * incomplete, named, and untouched; the other cluster completes.
 */
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import { makeHandler as makeSample, type SampleSummary } from '../../handlers/sample';
import {
  DEV,
  PROD,
  PROD_CNI_SUBNET,
  demo,
  messagesOf,
  metric,
  metricsOf,
  sampleThenRespond,
  throughRetries,
  type Attempt,
  type Run,
  type ThrottlePolicy,
} from './harness';
import { useTestHarness } from '../support/harness';

const harness = useTestHarness();
/** An unthrottled run of the same account: what the throttled runs must give. */
let reference: Run;
let referenceCalls: Record<string, number>;

beforeAll(async () => {
  const plain = await demo(harness.db);
  try {
    reference = await sampleThenRespond(plain);
    referenceCalls = { ...plain.aws.calls };
  } finally {
    plain.aws.restore();
    jest.restoreAllMocks();
  }
});

/** Attempts grouped by SDK invocation, as outcome sequences, keyed `service:operation`. */
function invocations(attempts: Attempt[]): Map<string, { key: string; outcomes: string[]; numbers: number[] }> {
  const out = new Map<string, { key: string; outcomes: string[]; numbers: number[] }>();
  for (const a of attempts) {
    const inv = out.get(a.invocation) ?? { key: `${a.service}:${a.operation}`, outcomes: [], numbers: [] };
    inv.outcomes.push(a.outcome);
    inv.numbers.push(a.attempt);
    out.set(a.invocation, inv);
  }
  return out;
}

describe('throttling on every API', () => {
  it('without throttling, the reference run applies payments-prod\'s change and notifies both clusters (control)', () => {
    expect(reference.sampled).toMatchObject({ clustersSampled: 2, clustersFailed: [], clustersIncomplete: [], problems: [] });
    expect(metric(reference.metrics, 'PlannedActions', { ClusterName: PROD, State: 'apply' })).toBe(1);
    expect(reference.responded.actions?.planned.apply).toBe(1);
    expect(reference.writes).toEqual([`UpdateAddon ${PROD}`]);
    expect(messagesOf(reference, DEV).length).toBeGreaterThan(0);
    expect(messagesOf(reference, PROD).length).toBeGreaterThan(0);
    // payments-prod's ENIs are read in three pages, batch-dev's in one (the sampler), then
    // payments-prod's again (the responder's tick: clusters in apply mode only).
    expect(referenceCalls['DescribeNetworkInterfaces']).toBe(3 + 1 + 3);
  });

  it('retries each call once and completes the cycle with the results of an unthrottled run', async () => {
    const d = await demo(harness.db);
    harness.track(d.aws);
    const { rt, attempts } = throughRetries(d, harness.db);

    const run = await sampleThenRespond({ rt, aws: d.aws });

    // The same summaries, metrics, notifications and change as without throttling.
    expect(run).toEqual(reference);
    // The emulator answered exactly the calls of the unthrottled run: each once, after its throttle.
    expect(d.aws.calls).toEqual(referenceCalls);

    // Every SDK invocation: attempt 1 throttled, attempt 2 answered; nothing else.
    const byInvocation = [...invocations(attempts).values()];
    for (const inv of byInvocation) {
      expect({ key: inv.key, outcomes: inv.outcomes, numbers: inv.numbers }).toEqual({ key: inv.key, outcomes: ['throttled', 'answered'], numbers: [1, 2] });
    }
    // One HTTP throttle per emulated call, and every service and operation of the cycle was throttled.
    const throttled: Record<string, number> = {};
    for (const a of attempts.filter((x) => x.outcome === 'throttled' && x.service !== 'dynamodb')) {
      throttled[a.operation] = (throttled[a.operation] ?? 0) + 1;
    }
    expect(throttled).toEqual(referenceCalls);
    const keys = new Set(byInvocation.map((i) => i.key));
    for (const key of [
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeInstanceTypes',
      'eks:DescribeCluster',
      'eks:DescribeAddon',
      'eks:UpdateAddon',
      'eks:DescribeUpdate',
      'cloudwatch:GetMetricData',
      'cloudwatch:PutMetricData',
      'sns:Publish',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
    ]) {
      expect(keys).toContain(key);
    }
    expect(attempts.length).toBe(2 * byInvocation.length);
  });

  it('leaves a cluster incomplete, named and untouched when its DescribeNetworkInterfaces stays throttled past the retries', async () => {
    const d = await demo(harness.db);
    harness.track(d.aws);
    const prodEnis: ThrottlePolicy = (_s, operation, input, attempt) =>
      attempt === 1 ||
      (operation === 'DescribeNetworkInterfaces' &&
        ((input['Filters'] as { Values?: string[] }[] | undefined) ?? []).some((f) => f.Values?.includes(PROD_CNI_SUBNET)));
    const { rt, attempts } = throughRetries(d, harness.db, prodEnis);

    const run = await sampleThenRespond({ rt, aws: d.aws });

    // The SDK tried three times (maxAttempts 3) and gave up with EC2's throttling code.
    const enis = [...invocations(attempts).values()].filter((i) => i.key === 'ec2:DescribeNetworkInterfaces');
    expect(enis.map((i) => i.outcomes)).toEqual(
      expect.arrayContaining([
        ['throttled', 'throttled', 'throttled'],
        ['throttled', 'answered'],
      ]),
    );
    expect(enis.filter((i) => i.outcomes.length === 3)).toHaveLength(2); // the sampler's and the responder's cycle

    // Named: the summary, the log, the metric.
    expect(run.sampled.clustersIncomplete).toEqual([PROD]);
    expect(run.sampled.clustersFailed).toEqual([]);
    const warned = d.logs.warn.filter(([m]) => m === 'cluster data incomplete');
    // Once by the sampler, once by the responder's cycle.
    const entry = ['cluster data incomplete', { cluster: PROD, problems: [expect.objectContaining({ source: 'ec2:DescribeNetworkInterfaces', code: 'RequestLimitExceeded' })] }];
    expect(warned).toEqual([entry, entry]);
    expect(metric(run.metrics, 'DataIncomplete', { ClusterName: PROD })).toBe(1);

    // No action: planned as blocked by the incomplete data, nothing applied, nothing written.
    expect(metric(run.metrics, 'PlannedActions', { ClusterName: PROD, State: 'apply' })).toBe(0);
    expect(run.responded.actions?.planned.apply).toBeUndefined();
    expect(run.responded.actions?.outcomes).toEqual([]);
    expect(run.writes).toEqual([]);
    expect(d.aws.calls['UpdateAddon']).toBeUndefined();

    // batch-dev completes exactly as without the fault: the same metrics and notifications.
    expect(metric(run.metrics, 'DataIncomplete', { ClusterName: DEV })).toBe(0);
    expect(metricsOf(run.metrics, DEV)).toEqual(metricsOf(reference.metrics, DEV));
    expect(messagesOf(run, DEV)).toEqual(messagesOf(reference, DEV));
  });

  describe('throttling that outlasts the retries on one service is named with the service\'s code', () => {
    type Outcome = SampleSummary | Error;
    const summary = (o: Outcome): SampleSummary => {
      if (o instanceof Error) throw o;
      return o;
    };
    it.each<{ service: string; check: (o: Outcome, metrics: MetricDatum[]) => void }>([
      {
        service: 'ec2',
        check: (o, metrics) => {
          expect(summary(o).clustersIncomplete).toEqual([PROD, DEV]);
          expect(metric(metrics, 'DataIncomplete', { ClusterName: PROD })).toBe(1);
          expect(metric(metrics, 'PlannedActions', { ClusterName: PROD, State: 'apply' })).toBe(0);
        },
      },
      {
        // ListClusters is the one read whose failure fails the invocation (nothing to sample).
        service: 'eks',
        check: (o) => expect(o).toMatchObject({ name: 'AwsCallError', operation: 'eks:ListClusters', code: 'ThrottlingException' }),
      },
      {
        // So does PutMetricData: Lambda's Errors alarm sees it.
        service: 'cloudwatch',
        check: (o) => {
          expect(o).toMatchObject({ name: 'AwsCallError', operation: 'cloudwatch:PutMetricData', code: 'Throttling' });
          expect((o as Error).message).toMatch(/^cloudwatch:PutMetricData to Test\/IP, batch 1 of 1: Throttling: Rate exceeded/);
        },
      },
      {
        // SNS's Query error code for ThrottledException is "Throttled".
        service: 'sns',
        check: (o, metrics) => {
          const s = summary(o);
          expect(s.notified).toBe(0);
          expect(s.problems).toHaveLength(reference.sampled.notified);
          for (const p of s.problems) expect(p).toMatch(/^notification of \S+: sns:Publish to \S+ \(.*\): Throttled: Rate exceeded$/);
          expect(metricsOf(metrics, DEV)).toEqual(metricsOf(reference.metrics, DEV));
        },
      },
      {
        service: 'dynamodb',
        check: (o, metrics) => {
          const s = summary(o);
          expect(s.notified).toBe(0);
          expect(s.problems).toContainEqual(expect.stringMatching(/^notification of payments-prod: dynamodb:Query .*: (ProvisionedThroughputExceededException|ThrottlingException): /));
          expect(s.problems).toContainEqual(expect.stringMatching(/^payments-prod: the ledger could not be read, .*dynamodb:Query .*: (ProvisionedThroughputExceededException|ThrottlingException): /));
          // The history of changes is unknown, so nothing is planned to apply.
          expect(metric(metrics, 'PlannedActions', { ClusterName: PROD, State: 'apply' })).toBe(0);
        },
      },
    ])('$service: three attempts, then the failure is named', async ({ service, check }) => {
      const d = await demo(harness.db);
      harness.track(d.aws);
      const { rt, attempts } = throughRetries(d, harness.db, (s, _o, _i, attempt) => attempt === 1 || s === service);

      const outcome = await makeSample(rt)({}).catch((e: unknown) => e as Error);

      const calls = [...invocations(attempts).values()].filter((i) => i.key.startsWith(`${service}:`));
      expect(calls.length).toBeGreaterThan(0);
      for (const c of calls) expect(c.outcomes).toEqual(['throttled', 'throttled', 'throttled']);
      check(outcome, d.aws.putMetricData.flatMap((r) => r.MetricData ?? []));
      expect(d.aws.writes).toEqual([]);
    });
  });
});

