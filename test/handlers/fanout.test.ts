/**
 * The fan-out mode end to end: the state machine stack/fanout.ts generates, run by the interpreter
 * of test/support/step-functions.ts over the real sample and respond handlers, on the emulated
 * account and a dynalite ledger; against the single cycle (and the single remediation tick) of the
 * same account.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import { parse as parseYaml } from 'yaml';
import scheduledEvent from '../../events/scheduled.json';
import { makeHandler as makeRespond } from '../../handlers/respond';
import { makeHandler, type SampleSummary } from '../../handlers/sample';
import { ITEM_ANSWER_PROBLEMS, packItems, type FanOutPlan, type FanOutSummary, type RemediationFanOutSummary } from '../../lib/fanout';
import { OPT_IN_TAG_KEY } from '../../lib/policy/types';
import { fanOutDefinition } from '../../stack/fanout';
import { eksError, type EmulatedAccount } from '../../tools/mock-aws';
import { buildAccount, type AccountSpec, type SyntheticAccount } from '../../tools/synthetic-account';
import { useTestHarness } from '../support/harness';
import { testRuntime, type TestRuntime } from '../support/runtime';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';
import { runStateMachine, StatesError, type RunTrace } from '../support/step-functions';

const NOW = new Date('2026-11-26T12:00:00Z');
const harness = useTestHarness();
const SAMPLE_ARN = 'arn:aws:lambda:eu-west-1:111122223333:function:eks-ip-responder-test-sample';
const RESPOND_ARN = 'arn:aws:lambda:eu-west-1:111122223333:function:eks-ip-responder-test-respond';

/**
 * Four clusters in three VPCs: shop and search share a subnet (search's nodes are in shop's
 * `shared`, nearly full: a critical subnet finding each), orders has a subnet short of addresses (a
 * warning), batch is healthy; the ENIs-per-Region quota is set near the region's ENIs afterwards (an
 * eni-quota finding for every cluster, from a read made once).
 */
const SPEC: AccountSpec = {
  seed: 15,
  capturedAt: NOW.toISOString(),
  enisPerNode: 2,
  clusters: [
    {
      name: 'shop',
      version: '1.31',
      mode: 'secondary',
      addon: { version: 'v1.19.2-eksbuild.1' },
      subnets: [
        { name: 'shared', az: 0, cidr: '10.40.0.0/25', controlPlaneEnis: 2, available: 8 },
        { name: 'b', az: 1, cidr: '10.40.4.0/24', controlPlaneEnis: 2 },
      ],
      nodegroups: [{ name: 'shop-ng', instanceTypes: ['m5.large'], nodes: 4, subnets: ['shared', 'b'] }],
    },
    {
      name: 'search',
      version: '1.31',
      mode: 'secondary',
      addon: { version: 'v1.19.2-eksbuild.1' },
      stream: 5,
      subnets: [],
      sharedSubnets: [{ cluster: 'shop', subnet: 'shared', inCluster: true, controlPlaneEnis: 1 }, { cluster: 'shop', subnet: 'b', inCluster: true }],
      nodegroups: [{ name: 'search-ng', instanceTypes: ['m5.large'], nodes: 2, subnets: ['shop/shared'] }],
    },
    {
      name: 'orders',
      version: '1.31',
      mode: 'secondary',
      addon: { version: 'v1.19.2-eksbuild.1' },
      stream: 6,
      subnets: [
        { name: 'a', az: 0, cidr: '10.50.0.0/25', controlPlaneEnis: 1, available: 62 },
        { name: 'b', az: 1, cidr: '10.50.1.0/24', controlPlaneEnis: 1 },
      ],
      nodegroups: [{ name: 'orders-ng', instanceTypes: ['m5.large'], nodes: 3, subnets: ['a', 'b'] }],
    },
    {
      name: 'batch',
      version: '1.31',
      mode: 'secondary',
      addon: { version: 'v1.19.2-eksbuild.1' },
      stream: 7,
      subnets: [
        { name: 'a', az: 0, cidr: '10.60.0.0/24', controlPlaneEnis: 1 },
        { name: 'b', az: 1, cidr: '10.60.1.0/24', controlPlaneEnis: 1 },
      ],
      nodegroups: [{ name: 'batch-ng', instanceTypes: ['m5.large'], nodes: 2, subnets: ['a', 'b'] }],
    },
  ],
};

function account(): SyntheticAccount {
  const a = buildAccount(SPEC);
  // 85 % of the quota: an eni-quota warning (lib/diagnose/region-limits.ts, 80 %).
  a.quotas = { 'vpc/L-DF5E4CA3': { applied: Math.ceil(a.networkInterfaces.length / 0.85), awsDefault: 5000 } };
  return a;
}

async function setup(): Promise<TestRuntime & { handler: ReturnType<typeof makeHandler> }> {
  const t = await testRuntime(account(), harness.db, {}, NOW);
  harness.track(t.aws);
  return { ...t, handler: makeHandler(t.rt) };
}

/** A metric datum as a comparable line: name, dimensions (sorted), value, unit, time. */
const line = (d: MetricDatum): string =>
  [
    d.MetricName,
    (d.Dimensions ?? [])
      .map((x) => `${x.Name}=${x.Value}`)
      .sort()
      .join(','),
    d.Value,
    d.Unit,
    d.Timestamp instanceof Date ? d.Timestamp.toISOString() : String(d.Timestamp),
  ].join(' ');
const metrics = (aws: EmulatedAccount): string[] => aws.putMetricData.flatMap((r) => (r.MetricData ?? []).map(line)).sort();
const notifications = (aws: EmulatedAccount): string[] => aws.published.map((p) => `${p.Subject ?? ''}\n${p.Message ?? ''}`).sort();

/** Runs the generated state machine once over the handler; `invoke` may be wrapped to inject faults. */
async function execute(
  handler: ReturnType<typeof makeHandler>,
  options: {
    cycle?: 'sample' | 'remediate';
    respond?: (event: unknown) => Promise<unknown>;
    maxConcurrency?: number;
    wrap?: (payload: unknown, run: () => Promise<unknown>) => Promise<unknown>;
  } = {},
): Promise<{ summary: FanOutSummary; trace: RunTrace }> {
  const trace: RunTrace = { tasks: [], maps: [] };
  const output = (await runStateMachine(
    fanOutDefinition(options.maxConcurrency ?? 10),
    { cycle: options.cycle ?? 'sample' },
    {
      substitutions: { SampleFunctionArn: SAMPLE_ARN, RespondFunctionArn: RESPOND_ARN },
      invoke: async (arn, payload) => {
        const fn = arn === SAMPLE_ARN ? (e: unknown) => handler(e as never) : arn === RESPOND_ARN ? options.respond : undefined;
        if (!fn) throw new Error(`invoked ${arn}, not one of the stack's functions`);
        const run = () => fn(payload);
        return options.wrap ? options.wrap(payload, run) : run();
      },
    },
    trace,
  )) as { value: FanOutSummary };
  return { summary: output.value, trace };
}

const isItem = (payload: unknown, cluster: string): boolean => (payload as { clusterNames?: string[] }).clusterNames?.includes(cluster) === true;

describe('fan-out mode (cycleMode=per-cluster)', () => {
  it('publishes the same metrics and notifications as the single cycle, with the region read once', async () => {
    const single = await setup();
    const s: SampleSummary = await single.handler(scheduledEvent as never);
    harness.restore();
    const fan = await setup();
    const { summary, trace } = await execute(fan.handler);

    // The items: the two clusters of one VPC together (they share a subnet), the others alone.
    const plan = trace.tasks.find((t) => t.state === 'Dispatch');
    expect(plan).toBeDefined();
    const items = trace.tasks.filter((t) => t.state === 'Sample').map((t) => (t.payload as { clusterNames: string[] }).clusterNames);
    expect(items.sort()).toEqual([['batch'], ['orders'], ['shop', 'search']]);
    expect(trace.maps).toEqual([{ state: 'Items', items: 3, maxConcurrency: 10, mode: 'DISTRIBUTED', peakConcurrency: 3 }]);

    expect(metrics(fan.aws)).toEqual(metrics(single.aws));
    expect(notifications(fan.aws)).toEqual(notifications(single.aws));
    expect(fan.aws.published.length).toBeGreaterThanOrEqual(6);
    expect(notifications(fan.aws).filter((n) => n.includes('network interfaces ('))).toHaveLength(4);
    expect(summary).toMatchObject({
      items: 3,
      clustersSampled: s.clustersSampled,
      clustersFailed: [],
      findings: s.findings,
      notified: s.notified,
      metricsPublished: s.metricsPublished,
      failedItems: [],
    });
    // ClustersSampled once per cycle (the not-running alarm counts its samples).
    expect(metrics(fan.aws).filter((m) => m.startsWith('ClustersSampled '))).toEqual(['ClustersSampled  4 Count 2026-11-26T12:00:00.000Z']);
    // The region-level reads once, as in the single cycle: the quota and the region's ENIs.
    expect(fan.aws.calls['GetServiceQuota']).toBe(single.aws.calls['GetServiceQuota']);
    expect(fan.aws.calls['DescribeNetworkInterfaces']).toBe(single.aws.calls['DescribeNetworkInterfaces']);
    expect(fan.aws.calls['ListClusters']).toBe(1);
    // One summary line for the account, from the merge.
    expect(fan.logs.info.filter((l) => l[0] === 'sample published')).toHaveLength(1);
    expect(fan.logs.info.filter((l) => l[0] === 'fan-out item published')).toHaveLength(3);
  });

  it('gives the single cycle\'s metrics and notifications when VPC groups share an item (past FAN_OUT_ITEMS_MAX), and bounds the item\'s problems in its answer', async () => {
    const denyReservations = (aws: EmulatedAccount) => {
      // Every cluster incomplete: one problem each, four in the one item.
      aws.faults['GetSubnetCidrReservations'] = () => Object.assign(new Error('You are not authorized to perform this operation.'), { name: 'UnauthorizedOperation' });
    };
    const single = await setup();
    denyReservations(single.aws);
    const s: SampleSummary = await single.handler(scheduledEvent as never);
    expect(s.problems.length).toBeGreaterThan(ITEM_ANSWER_PROBLEMS);
    harness.restore();
    const fan = await setup();
    denyReservations(fan.aws);
    const answers: { problems: string[] }[] = [];
    // The dispatch's three VPC groups packed as a larger account's would be: into one item.
    const { summary, trace } = await execute(fan.handler, {
      wrap: async (payload, run) => {
        const out = await run();
        if ((payload as { fanOut?: unknown }).fanOut === 'dispatch') {
          const plan = out as FanOutPlan;
          return { ...plan, items: packItems(plan.items, 1) };
        }
        if ((payload as { clusterNames?: string[] }).clusterNames) answers.push(out as { problems: string[] });
        return out;
      },
    });
    const items = trace.tasks.filter((t) => t.state === 'Sample').map((t) => (t.payload as { clusterNames: string[] }).clusterNames);
    expect(items).toEqual([['shop', 'search', 'batch', 'orders']]);
    expect(metrics(fan.aws)).toEqual(metrics(single.aws));
    expect(notifications(fan.aws)).toEqual(notifications(single.aws));
    expect(summary).toMatchObject({ items: 1, clustersSampled: s.clustersSampled, clustersIncomplete: expect.arrayContaining(s.clustersIncomplete), findings: s.findings });
    // The item's answer: 3 problems and how many more; its log has every one.
    const logged = (fan.logs.info.find((l) => l[0] === 'fan-out item published')?.[1] as { problems: string[] } | undefined)?.problems ?? [];
    expect([...logged].sort()).toEqual([...s.problems].sort());
    expect(answers).toHaveLength(1);
    expect(answers[0]!.problems).toEqual([...logged.slice(0, ITEM_ANSWER_PROBLEMS), `${logged.length - ITEM_ANSWER_PROBLEMS} more problem(s): the item's own log lists them all`]);
  });

  it("reads each item at 1 / MaxConcurrency of the read pace, and the dispatch and the merge at the whole pace", async () => {
    const fan = await setup();
    const shares: { share: number; state: string }[] = [];
    let state = 'none';
    fan.rt.readPace = { share: (f) => void shares.push({ share: f, state }) };
    await execute(fan.handler, {
      maxConcurrency: 4,
      wrap: async (payload, run) => {
        state = (payload as { fanOut?: unknown }).fanOut === 'dispatch' ? 'dispatch' : (payload as { fanOut?: unknown }).fanOut === 'merge' ? 'merge' : 'item';
        return run();
      },
    });
    // Three items: each takes 0.25 for its cycle and gives the whole pace back (here in one process
    // at once; in Lambda each in its own container); dispatch and merge take none.
    const items = shares.filter((s) => s.state === 'item').map((s) => s.share);
    expect([...items].sort()).toEqual([0.25, 0.25, 0.25, 1, 1, 1]);
    expect(items[0]).toBe(0.25);
    expect(items.at(-1)).toBe(1);
    expect(shares.filter((s) => s.state !== 'item')).toEqual([]);
  });

  it('completes the other items when one fails, and the merge names it and counts its clusters failed', async () => {
    const fan = await setup();
    // The orders item cannot publish its metrics: its invocation fails (as the single sampler's would).
    fan.aws.faults['PutMetricData'] = (input) =>
      (input['MetricData'] as MetricDatum[]).some((d) => d.Dimensions?.some((x) => x.Name === 'ClusterName' && x.Value === 'orders') && d.MetricName !== 'SamplingFailed')
        ? Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalServiceError' })
        : undefined;
    const { summary } = await execute(fan.handler);
    expect(summary.failedItems).toEqual([{ clusterNames: ['orders'], error: expect.stringContaining('internal error') }]);
    expect(summary.clustersFailed).toEqual(['orders']);
    expect(summary.clustersSampled).toBe(3);
    expect(summary.problems.some((p) => p.startsWith('orders: the fan-out item failed'))).toBe(true);
    const sent = metrics(fan.aws);
    expect(sent).toContain('SamplingFailed ClusterName=orders 1 Count 2026-11-26T12:00:00.000Z');
    expect(sent).toContain('ClustersFailed  1 Count 2026-11-26T12:00:00.000Z');
    for (const c of ['shop', 'search', 'batch']) expect(sent).toContain(`SamplingFailed ClusterName=${c} 0 Count 2026-11-26T12:00:00.000Z`);
    expect(fan.logs.error.filter((l) => l[0] === 'fan-out item failed')).toEqual([['fan-out item failed', { clusters: ['orders'], error: expect.stringContaining('internal error') }]]);
  });

  it('samples a cluster it cannot describe as the single cycle does: alone, failed, SamplingFailed=1', async () => {
    const deny = (aws: EmulatedAccount) => {
      aws.faults['DescribeCluster'] = (input) =>
        input['name'] === 'batch' ? eksError('AccessDeniedException', 'User: arn:aws:sts::111122223333:assumed-role/sampler is not authorized to perform: eks:DescribeCluster') : undefined;
    };
    const single = await setup();
    deny(single.aws);
    const s: SampleSummary = await single.handler(scheduledEvent as never);
    expect(s.clustersFailed).toEqual(['batch']);
    harness.restore();
    const fan = await setup();
    deny(fan.aws);
    const { summary } = await execute(fan.handler);
    expect(summary.clustersFailed).toEqual(['batch']);
    expect(summary.failedItems).toEqual([]);
    expect(metrics(fan.aws)).toEqual(metrics(single.aws));
    expect(notifications(fan.aws)).toEqual(notifications(single.aws));
  });

  it('notifies each finding once when two executions run at the same time over the shared subnet', async () => {
    const single = await setup();
    await single.handler(scheduledEvent as never);
    const once = notifications(single.aws);
    harness.restore();
    const fan = await setup();
    // Two cycles at once (an execution that outlived its schedule period and the next one): the
    // ledger's conditional save decides which notifies each finding.
    const [a, b] = await Promise.all([execute(fan.handler), execute(fan.handler)]);
    expect(notifications(fan.aws)).toEqual(once);
    expect(a.summary.notified + b.summary.notified).toBe(once.length);
  });

  it('does not notify again when an item is retried after its invocation ran (the response was lost)', async () => {
    const single = await setup();
    await single.handler(scheduledEvent as never);
    const once = notifications(single.aws);
    harness.restore();
    const fan = await setup();
    let lost = 0;
    const { summary, trace } = await execute(fan.handler, {
      wrap: async (payload, run) => {
        const answer = await run();
        // The shop/search item ran to its end, then its worker died before answering.
        if (isItem(payload, 'shop') && lost++ === 0) throw new StatesError('Lambda.ServiceException', 'the invocation was lost');
        return answer;
      },
    });
    expect(trace.tasks.filter((t) => t.state === 'Sample' && isItem(t.payload, 'shop')).map((t) => [t.attempt, t.outcome])).toEqual([
      [1, 'Lambda.ServiceException'],
      [2, 'ok'],
    ]);
    expect(notifications(fan.aws)).toEqual(once);
    expect(summary.failedItems).toEqual([]);
  });

  it('fails the execution when the merge cannot publish (as the single sampler fails)', async () => {
    const fan = await setup();
    fan.aws.faults['PutMetricData'] = (input) =>
      (input['MetricData'] as MetricDatum[]).some((d) => d.MetricName === 'ClustersSampled') ? Object.assign(new Error('throttled'), { name: 'Throttling' }) : undefined;
    await expect(execute(fan.handler)).rejects.toMatchObject({ error: expect.any(String) });
  });
});

/** The repository's policy with payments-prod in apply mode (as test/handlers/remediate.test.ts). */
function applyPolicy(): string {
  const doc = parseYaml(readFileSync(path.join(__dirname, '..', '..', 'policy.yml'), 'utf8')) as { clusters: Record<string, { mode?: string }> };
  doc.clusters['payments-prod'] = { ...(doc.clusters['payments-prod'] ?? {}), mode: 'apply' };
  return JSON.stringify(doc);
}

/** The demo account, payments-prod opted in and in apply mode; both handlers on one runtime. */
async function setupTick() {
  const demo = accountFromSnapshot(DEMO_SNAPSHOT);
  const prod = demo.clusters.find((c) => c.name === 'payments-prod')!;
  prod.tags = { ...prod.tags, [OPT_IN_TAG_KEY]: 'apply' };
  // No debounce: a retried item cycles again, so only the action ledger can stop a second change.
  const t = await testRuntime(demo, harness.db, { ALARM_NAME_PREFIX: 'eks-ip-responder-dev-', RESPOND_MIN_INTERVAL_SECONDS: '0', POLICY_JSON: applyPolicy() }, TICK_NOW);
  harness.track(t.aws);
  return { ...t, sample: makeHandler(t.rt), respond: makeRespond(t.rt) };
}
const TICK_NOW = new Date('2026-11-26T10:00:00Z');
const tickOf = (summary: unknown) => summary as RemediationFanOutSummary;

describe('the remediation tick fanned out (cycleMode=per-cluster)', () => {
  it('starts the same change as the single tick, on the clusters in apply mode only', async () => {
    const single = await setupTick();
    const once = await single.respond(scheduledEvent);
    expect(once.actions?.outcomes).toEqual([expect.objectContaining({ actionId: 'payments-prod/warm-targets/vpc-cni', status: 'succeeded' })]);
    const singleChanges = single.aws.changes.map((c) => [c.op, c.input['clusterName'], c.input['configurationValues']]);
    harness.restore();

    const fan = await setupTick();
    const { summary, trace } = await execute(fan.sample, { cycle: 'remediate', respond: fan.respond });
    expect(trace.tasks.filter((t) => t.state === 'Remediate').map((t) => (t.payload as { clusterNames: string[] }).clusterNames)).toEqual([['payments-prod']]);
    expect(trace.tasks.filter((t) => t.state === 'Sample')).toEqual([]);
    expect(fan.aws.changes.map((c) => [c.op, c.input['clusterName'], c.input['configurationValues']])).toEqual(singleChanges);
    expect(tickOf(summary)).toMatchObject({ cycle: 'remediate', items: 1, clusters: ['payments-prod'], outcomes: once.actions?.outcomes, failedItems: [] });
    // The tick publishes no account-level metric, as the single tick does not.
    expect(metrics(fan.aws).filter((m) => m.startsWith('ClustersSampled'))).toEqual([]);
  });

  it('makes one change when an item is retried after its invocation made it (the response was lost)', async () => {
    const fan = await setupTick();
    let lost = 0;
    const { summary, trace } = await execute(fan.sample, {
      cycle: 'remediate',
      respond: fan.respond,
      wrap: async (payload, run) => {
        const answer = await run();
        if (isItem(payload, 'payments-prod') && lost++ === 0) throw new StatesError('Lambda.ServiceException', 'the invocation was lost');
        return answer;
      },
    });
    expect(trace.tasks.filter((t) => t.state === 'Remediate').map((t) => [t.attempt, t.outcome])).toEqual([
      [1, 'Lambda.ServiceException'],
      [2, 'ok'],
    ]);
    // The retry re-ran the whole cycle (no debounce): the action record and cooldown stopped a second change.
    expect(fan.aws.changes.map((c) => c.op)).toEqual(['UpdateAddon']);
    expect(tickOf(summary).failedItems).toEqual([]);
    expect(fan.aws.published.filter((m) => m.Subject?.startsWith('[ACTION DONE] payments-prod'))).toHaveLength(1);
  });

  it('makes one change when two ticks run at the same time (the per-cluster lock)', async () => {
    const fan = await setupTick();
    await Promise.all([execute(fan.sample, { cycle: 'remediate', respond: fan.respond }), execute(fan.sample, { cycle: 'remediate', respond: fan.respond })]);
    expect(fan.aws.changes.map((c) => c.op)).toEqual(['UpdateAddon']);
  });
});
