/**
 * Reads that fail part of the way: a page that fails halfway through a pagination, one API denied,
 * an instance type EC2 does not know. In each, payments-prod is in apply mode and opted in, so
 * that without the fault its warm-target change applies (the control); with the fault nothing is
 * planned to apply on it, the problem is named (handler summary, logs, DataIncomplete /
 * SamplingFailed), and batch-dev publishes and notifies exactly what it does without the fault.
 */
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import type { ClusterRemediation } from '../../lib/act/remediate';
import { createActionLedger } from '../../lib/aws/action-ledger';
import { createLedger, createLedgerDocumentClient } from '../../lib/aws/ledger';
import { renderReport } from '../../lib/output/report/text';
import { ec2Error, eksError } from '../../tools/mock-aws';
import {
  DEV,
  PADDING_ENIS,
  PROD,
  PROD_CNI_SUBNET,
  demo,
  dynamodbAccessDenied,
  faultyLedgerClient,
  messagesOf,
  metric,
  metricsOf,
  planOnly,
  sampleThenRespond,
  scheduled,
  event,
  useLedgerClient,
  type Attempt,
  type Demo,
  type Run,
} from './harness';
import { useTestHarness } from '../support/harness';

const harness = useTestHarness();
/** The same account without a fault. */
let reference: Run;

beforeAll(async () => {
  const plain = await demo(harness.db);
  try {
    reference = await sampleThenRespond(plain);
  } finally {
    plain.aws.restore();
    jest.restoreAllMocks();
  }
});

async function setup(mutate?: Parameters<typeof demo>[1]): Promise<Demo> {
  const d = await demo(harness.db, mutate);
  harness.track(d.aws);
  return d;
}

const filterValues = (input: Record<string, unknown>): string[] =>
  ((input['Filters'] as { Values?: string[] }[] | undefined) ?? []).flatMap((f) => f.Values ?? []);

/** Nothing is planned to apply on `cluster`, nothing is applied at all, nothing written. */
function expectNoAction(run: Run, cluster: string): void {
  expect(metric(run.metrics, 'PlannedActions', { ClusterName: cluster, State: 'apply' }) ?? 0).toBe(0);
  expect(run.responded.status).toBe('handled');
  expect(run.responded.actions?.planned.apply).toBeUndefined();
  expect(run.responded.actions?.outcomes).toEqual([]);
  expect(run.writes).toEqual([]);
}

/** Every action planned on the cluster is blocked, and the reasons name the incomplete data. */
function expectBlockedByIncompleteData(remediation: ClusterRemediation[] | undefined, cluster: string, named: RegExp, somePlanned = true): void {
  const planned = remediation?.find((r) => r.cluster === cluster)?.planned ?? [];
  if (somePlanned) expect(planned.length).toBeGreaterThan(0);
  for (const a of planned) {
    expect(a.state).toBe('blocked');
    expect(a.blockedBy.find((b) => b.startsWith('data incomplete:'))).toMatch(named);
  }
}

/** batch-dev is complete and publishes and notifies exactly what it does without the fault. */
function expectOtherCompletes(run: Run): void {
  expect(metric(run.metrics, 'DataIncomplete', { ClusterName: DEV })).toBe(0);
  expect(metric(run.metrics, 'SamplingFailed', { ClusterName: DEV })).toBe(0);
  expect(metricsOf(run.metrics, DEV)).toEqual(metricsOf(reference.metrics, DEV));
  expect(messagesOf(run, DEV).length).toBeGreaterThan(0);
  expect(messagesOf(run, DEV)).toEqual(messagesOf(reference, DEV));
}

/** The 'cluster data incomplete' warnings of the sampler, by cluster. */
function incompleteLogs(d: Demo): Record<string, { source: string; code?: string; message: string }[]> {
  const out: Record<string, { source: string; code?: string; message: string }[]> = {};
  for (const [m, attrs] of d.logs.warn) {
    if (m !== 'cluster data incomplete') continue;
    const a = attrs as { cluster: string; problems: { source: string; code?: string; message: string }[] };
    out[a.cluster] = a.problems;
  }
  return out;
}

describe('control: the same account without a fault', () => {
  it('applies payments-prod\'s warm-target change and notifies both clusters', async () => {
    expect(reference.sampled).toMatchObject({ clustersSampled: 2, clustersFailed: [], clustersIncomplete: [], problems: [] });
    expect(metric(reference.metrics, 'DataIncomplete', { ClusterName: PROD })).toBe(0);
    expect(metric(reference.metrics, 'PlannedActions', { ClusterName: PROD, State: 'apply' })).toBe(1);
    expect(reference.responded.actions?.outcomes).toEqual([
      expect.objectContaining({ actionId: `${PROD}/warm-targets/vpc-cni`, status: 'succeeded' }),
    ]);
    expect(reference.writes).toEqual([`UpdateAddon ${PROD}`]);
    expect(messagesOf(reference, PROD).length).toBeGreaterThan(0);
    expect(messagesOf(reference, DEV).length).toBeGreaterThan(0);
    // Every padding ENI is counted in the CNI subnet: none is lost between pages.
    expect(metric(reference.metrics, 'SubnetIpsHeld', { ClusterName: PROD, SubnetId: PROD_CNI_SUBNET, Holder: 'Other' })).toBe(PADDING_ENIS);
    expect(metric(reference.metrics, 'SubnetIpsHeld', { ClusterName: PROD, SubnetId: PROD_CNI_SUBNET, Holder: 'Unaccounted' })).toBe(0);
  });
});

describe('a DescribeNetworkInterfaces page that fails halfway through the pagination', () => {
  it.each([
    ['UnauthorizedOperation', () => ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.')],
    [
      'InternalError',
      () => new EC2ServiceException({ name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'An internal error has occurred.' }),
    ],
  ])('page 2 of 3 fails with %s: payments-prod is incomplete, named, not half counted, untouched', async (code, error) => {
    const d = await setup();
    const pages: string[] = [];
    d.aws.faults['DescribeNetworkInterfaces'] = (input) => {
      if (!filterValues(input).includes(PROD_CNI_SUBNET)) return undefined;
      pages.push(String(input['NextToken'] ?? 'first'));
      return input['NextToken'] === '1000' ? error() : undefined;
    };

    const run = await sampleThenRespond(d);

    // Page 1 was read, page 2 failed, page 3 was never asked for (sampler, then responder).
    expect(pages).toEqual(['first', '1000', 'first', '1000']);
    expect(run.sampled.clustersIncomplete).toEqual([PROD]);
    expect(incompleteLogs(d)).toEqual({
      [PROD]: [expect.objectContaining({ source: 'ec2:DescribeNetworkInterfaces', code, message: expect.stringContaining(code) })],
    });
    expect(metric(run.metrics, 'DataIncomplete', { ClusterName: PROD })).toBe(1);

    // The page already read is dropped, not half counted, and what rests on the ENIs is not
    // published at all (rather than published wrong): no holder of payments-prod's subnets, no
    // node figure. Free addresses come from DescribeSubnets alone and are published as usual.
    for (const subnetId of ['subnet-0e59dfd0c9e3779b1', PROD_CNI_SUBNET]) {
      const held = (holder: string) => metric(run.metrics, 'SubnetIpsHeld', { ClusterName: PROD, SubnetId: subnetId, Holder: holder });
      expect(['NodePrimary', 'CniSecondary', 'CniPrefix', 'ControlPlane', 'Other', 'Unaccounted'].map(held)).toEqual([
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
      expect(metric(run.metrics, 'SubnetAvailableIps', { ClusterName: PROD, SubnetId: subnetId })).toBe(
        metric(reference.metrics, 'SubnetAvailableIps', { ClusterName: PROD, SubnetId: subnetId }),
      );
    }
    expect(metric(reference.metrics, 'NodesAtEniLimit', { ClusterName: PROD })).toBeGreaterThan(0);
    expect(metric(run.metrics, 'NodesAtEniLimit', { ClusterName: PROD })).toBeUndefined();
    expect(metric(run.metrics, 'PodIps', { ClusterName: PROD })).toBeUndefined();

    expectNoAction(run, PROD);
    expectOtherCompletes(run);
    expectBlockedByIncompleteData((await planOnly(d.rt)).remediation, PROD, new RegExp(`ec2:DescribeNetworkInterfaces .*${code}`));
  });
});

describe('AccessDenied on one API', () => {
  const denied = (action: string, resource: string) =>
    `User: arn:aws:sts::111122223333:assumed-role/eks-ip-responder-test-sampler/fn is not authorized to perform: ${action} on resource: ${resource}`;

  it('eks:DescribeAddon denied: the CNI is unknown, payments-prod incomplete, no warm-target change', async () => {
    const d = await setup();
    d.aws.faults['DescribeAddon'] = (input) =>
      input['clusterName'] === PROD
        ? eksError('AccessDeniedException', denied('eks:DescribeAddon', `arn:aws:eks:eu-west-1:111122223333:addon/${PROD}/vpc-cni/*`))
        : undefined;

    const run = await sampleThenRespond(d);

    expect(run.sampled.clustersIncomplete).toEqual([PROD]);
    expect(incompleteLogs(d)).toEqual({
      [PROD]: [expect.objectContaining({ source: 'eks:DescribeAddon', code: 'AccessDeniedException', message: expect.stringContaining('eks:DescribeAddon') })],
    });
    expect(metric(run.metrics, 'DataIncomplete', { ClusterName: PROD })).toBe(1);
    expectNoAction(run, PROD);
    expect(d.aws.calls['UpdateAddon']).toBeUndefined();
    expectOtherCompletes(run);

    const cycle = await planOnly(d.rt);
    expect(cycle.usage.clusters.find((c) => c.name === PROD)?.cni.install).toBe('unknown');
    // The warm-target planner proposes nothing without the CNI's settings; the rest is blocked.
    const planned = cycle.remediation?.find((r) => r.cluster === PROD)?.planned ?? [];
    expect(planned.filter((a) => a.kind === 'warm-targets')).toEqual([]);
    expectBlockedByIncompleteData(cycle.remediation, PROD, /eks:DescribeAddon .*AccessDeniedException/);
  });

  it('ec2:DescribeInstanceTypes denied: every cluster with nodes is incomplete, still published, nothing applies', async () => {
    const d = await setup();
    d.aws.faults['DescribeInstanceTypes'] = () =>
      ec2Error(
        'UnauthorizedOperation',
        'You are not authorized to perform this operation. User: arn:aws:sts::111122223333:assumed-role/eks-ip-responder-test-sampler/fn is not authorized to perform: ec2:DescribeInstanceTypes because no identity-based policy allows the ec2:DescribeInstanceTypes action',
      );

    const run = await sampleThenRespond(d);

    expect(run.sampled.clustersIncomplete).toEqual([PROD, DEV]);
    const logged = incompleteLogs(d);
    for (const c of [PROD, DEV]) {
      expect(logged[c]?.[0]).toEqual(expect.objectContaining({ source: 'ec2:DescribeInstanceTypes', code: 'UnauthorizedOperation' }));
      expect(metric(run.metrics, 'DataIncomplete', { ClusterName: c })).toBe(1);
      // Still measured and published: the subnet figures do not depend on instance types.
      expect(metric(run.metrics, 'SubnetAvailableIps', { ClusterName: c, SubnetId: c === PROD ? 'subnet-0e59dfd0c9e3779b1' : 'subnet-009e3b40cfec38505' })).toBe(
        metric(reference.metrics, 'SubnetAvailableIps', { ClusterName: c, SubnetId: c === PROD ? 'subnet-0e59dfd0c9e3779b1' : 'subnet-009e3b40cfec38505' }),
      );
      expect(metric(run.metrics, 'Nodes', { ClusterName: c })).toBe(metric(reference.metrics, 'Nodes', { ClusterName: c }));
    }
    expectNoAction(run, PROD);
    // The subnet findings, which need no instance type, are still notified.
    expect(run.messages.map((m) => m.subject)).toEqual(
      expect.arrayContaining([
        '[CRITICAL] payments-prod: Subnet subnet-0e59dfd0c9e3779b1 (eu-west-1a): 7 of 251 IPs free, 97% used',
        '[WARNING] batch-dev: Subnet subnet-009e3b40cfec38505 (eu-west-1c): 32 of 123 IPs free, 74% used',
      ]),
    );
    // Without instance types no node-capacity action is even proposed (the warm-target prediction
    // needs them); whatever is proposed is blocked.
    expectBlockedByIncompleteData((await planOnly(d.rt)).remediation, PROD, /ec2:DescribeInstanceTypes .*UnauthorizedOperation/, false);
  });

  // Fixed: measure names an instance type unknown only when EC2 answered.
  it('ec2:DescribeInstanceTypes denied: does not also call every instance type "unknown to DescribeInstanceTypes"', async () => {
    const d = await setup();
    d.aws.faults['DescribeInstanceTypes'] = () => ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.');
    await d.sample({});
    const logged = incompleteLogs(d);
    for (const c of [PROD, DEV]) {
      expect(logged[c]?.map((p) => p.message).filter((m) => /is unknown to DescribeInstanceTypes/.test(m))).toEqual([]);
    }
  });

  it('eks:DescribeCluster denied for payments-prod: SamplingFailed, named, nothing planned; batch-dev completes', async () => {
    const d = await setup();
    d.aws.faults['DescribeCluster'] = (input) =>
      input['name'] === PROD ? eksError('AccessDeniedException', denied('eks:DescribeCluster', `arn:aws:eks:eu-west-1:111122223333:cluster/${PROD}`)) : undefined;

    const run = await sampleThenRespond(d);

    expect(run.sampled).toMatchObject({ clustersSampled: 1, clustersFailed: [PROD], clustersIncomplete: [] });
    // Once by the sampler, once by the responder's cycle.
    const failed = ['cluster sampling failed', expect.objectContaining({ cluster: PROD, operation: 'eks:DescribeCluster', code: 'AccessDeniedException' })];
    expect(d.logs.error).toEqual([failed, failed]);
    expect(metric(run.metrics, 'SamplingFailed', { ClusterName: PROD })).toBe(1);
    expect(metric(run.metrics, 'ClustersFailed', {})).toBe(1);
    expect(metric(run.metrics, 'Nodes', { ClusterName: PROD })).toBeUndefined();
    expect(metric(run.metrics, 'PlannedActions', { ClusterName: PROD, State: 'apply' })).toBeUndefined();
    expect(messagesOf(run, PROD)).toEqual([]);
    expectNoAction(run, PROD);
    expect(run.responded.clusters).toEqual([PROD]);
    expectOtherCompletes(run);
  });
});

describe('the responder\'s own report of what it could not read', () => {
  // Fixed: the cycle names failed and incomplete clusters in its problems, and the responder logs them like the sampler.
  it('names a cluster whose DescribeCluster is denied in its problems and logs', async () => {
    const d = await setup();
    d.aws.faults['DescribeCluster'] = (input) => (input['name'] === PROD ? eksError('AccessDeniedException', 'not authorized to perform: eks:DescribeCluster') : undefined);
    const responded = await d.respond(scheduled());
    expect(responded.problems).toContainEqual(expect.stringMatching(new RegExp(`${PROD}.*eks:DescribeCluster.*AccessDeniedException`)));
    expect([...d.logs.error, ...d.logs.warn]).toContainEqual([expect.any(String), expect.objectContaining({ cluster: PROD })]);
  });

  it('names the incomplete data that blocked its change in its problems and logs', async () => {
    const d = await setup();
    d.aws.faults['DescribeAddon'] = (input) => (input['clusterName'] === PROD ? eksError('AccessDeniedException', 'not authorized to perform: eks:DescribeAddon') : undefined);
    const responded = await d.respond(scheduled());
    expect(responded.actions?.planned.apply).toBeUndefined();
    expect(responded.problems).toContainEqual(expect.stringMatching(new RegExp(`${PROD}.*eks:DescribeAddon.*AccessDeniedException`)));
    expect(d.logs.warn).toContainEqual([expect.any(String), expect.objectContaining({ cluster: PROD })]);
  });
});

describe('an instance type DescribeInstanceTypes does not know', () => {
  it('names x9.huge, leaves payments-prod incomplete and untouched, and the report says so; batch-dev completes', async () => {
    let node = '';
    const d = await setup((account) => {
      const i = account.instances.find((x) => x.Tags?.some((t) => t.Key === `kubernetes.io/cluster/${PROD}`))!;
      i.InstanceType = 'x9.huge' as never;
      node = i.InstanceId ?? '';
    });

    const run = await sampleThenRespond(d);

    // EC2 refused the whole request (InvalidInstanceType) and was asked again without x9.huge.
    expect(d.aws.calls['DescribeInstanceTypes']).toBe(2);
    expect(run.sampled.clustersIncomplete).toEqual([PROD]);
    expect(d.logs.warn).toContainEqual(['instance type unknown to DescribeInstanceTypes', { instanceType: 'x9.huge' }]);
    expect(incompleteLogs(d)).toEqual({
      [PROD]: [expect.objectContaining({ source: 'ec2:DescribeInstanceTypes', message: expect.stringContaining('instance type x9.huge is unknown') })],
    });
    expect(metric(run.metrics, 'DataIncomplete', { ClusterName: PROD })).toBe(1);
    expectNoAction(run, PROD);
    expectOtherCompletes(run);

    const cycle = await planOnly(d.rt);
    expect(cycle.usage.unknownInstanceTypes).toEqual(['x9.huge']);
    expect(cycle.usage.clusters.find((c) => c.name === PROD)?.nodes.find((n) => n.instanceId === node)?.limits).toBeUndefined();
    expectBlockedByIncompleteData(cycle.remediation, PROD, /instance type x9\.huge is unknown/);
    const report = renderReport(cycle.usage, cycle.findings);
    expect(report).toContain('Instance types unknown to DescribeInstanceTypes: x9.huge');
    const prodSection = report.slice(report.indexOf(`Cluster ${PROD}`), report.indexOf(`Cluster ${DEV}`));
    expect(prodSection).toMatch(/Incomplete data \(no action will be taken on this cluster\):\n\s+- ec2:DescribeInstanceTypes: cluster payments-prod: instance type x9\.huge is unknown/);
    expect(report.slice(report.indexOf(`Cluster ${DEV}`))).not.toContain('Incomplete data');
  });
});

describe('the ledger (DynamoDB) unavailable', () => {
  const table = (d: Demo) => d.rt.config.ledgerTable;

  it.each([
    { name: 'access denied on every call', code: 'AccessDeniedException', missingTable: undefined },
    { name: 'a table that does not exist', code: 'ResourceNotFoundException', missingTable: 'eks-ip-responder-missing-ledger' },
  ])('$name: metrics are published, nothing is notified, no change starts, and the responder fails naming the ledger', async ({ code, missingTable }) => {
    const d = await setup();
    const attempts: Attempt[] = [];
    if (missingTable) {
      // dynalite answers ResourceNotFoundException, as DynamoDB does for a table that is not there.
      const doc = createLedgerDocumentClient(faultyLedgerClient(harness.db.endpoint, attempts, () => undefined));
      d.rt.ledger = createLedger(doc, missingTable);
      d.rt.actions = createActionLedger(doc, missingTable);
    } else {
      useLedgerClient(d.rt, faultyLedgerClient(harness.db.endpoint, attempts, (op) => dynamodbAccessDenied(op, table(d))));
    }

    const sampled = await d.sample({});
    // The sampler measures, diagnoses and publishes; with no finding state it notifies nothing
    // (the state is saved before a message is sent), and plans nothing to apply (history unknown).
    expect(sampled).toMatchObject({ clustersSampled: 2, clustersIncomplete: [], notified: 0 });
    expect(d.aws.published).toEqual([]);
    const metrics = d.aws.putMetricData.flatMap((r) => r.MetricData ?? []);
    expect(metricsOf(metrics, DEV).filter((m) => m.MetricName !== 'PlannedActions')).toEqual(
      metricsOf(reference.metrics, DEV).filter((m) => m.MetricName !== 'PlannedActions'),
    );
    expect(metric(metrics, 'PlannedActions', { ClusterName: PROD, State: 'apply' })).toBe(0);
    for (const c of [PROD, DEV]) {
      expect(sampled.problems).toContainEqual(expect.stringMatching(new RegExp(`^notification of ${c}: dynamodb:Query .*${code}`)));
      expect(sampled.problems).toContainEqual(expect.stringMatching(new RegExp(`^${c}: the ledger could not be read.*dynamodb:Query .*${code}`)));
    }
    expect(d.logs.warn).toContainEqual(['cycle problem', { problem: expect.stringMatching(new RegExp(`^notification of ${PROD}: dynamodb:Query`)) }]);

    // The responder cannot claim its cycle (or an event): the invocation fails, nothing changes.
    await expect(d.respond(scheduled())).rejects.toThrow(new RegExp(`dynamodb:PutItem on table \\S+ claiming a respond cycle of cluster ${PROD}: ${code}`));
    await expect(d.respond(event('cloudtrail-insufficient-free-addresses.json'))).rejects.toThrow(
      new RegExp(`dynamodb:PutItem on table \\S+ claiming event \\S+: ${code}`),
    );
    expect(d.aws.writes).toEqual([]);
    expect(d.aws.calls['UpdateAddon']).toBeUndefined();
  });

  it('no change starts without the change lock: PutItem of the lock denied', async () => {
    const d = await setup();
    const attempts: Attempt[] = [];
    useLedgerClient(
      d.rt,
      faultyLedgerClient(harness.db.endpoint, attempts, (op, body) =>
        op === 'PutItem' && (body['Item'] as { sk?: { S?: string } } | undefined)?.sk?.S === 'INFLIGHT' ? dynamodbAccessDenied(op, table(d)) : undefined,
      ),
    );

    const responded = await d.respond(scheduled());

    // The change would apply (every gate passed) but the lock could not be taken: not started.
    expect(responded.actions?.planned.apply).toBe(1);
    expect(responded.actions?.outcomes).toEqual([]);
    expect(d.aws.writes).toEqual([]);
    expect(attempts.filter((a) => a.operation === 'PutItem' && a.outcome === 'throttled')).toHaveLength(1);
    expect(responded.problems).toEqual([
      expect.stringMatching(new RegExp(`^${PROD}: acting on the cluster failed: dynamodb:PutItem on table \\S+ taking the change lock of cluster ${PROD}: AccessDeniedException`)),
    ]);
    expect(d.logs.warn).toContainEqual(['cycle problem', { eventId: 'schedule', problem: responded.problems?.[0] }]);
    // Nothing was recorded as started: no cooldown, no lock.
    const history = await createActionLedger(createLedgerDocumentClient(faultyLedgerClient(harness.db.endpoint, [], () => undefined)), table(d)).getActionHistory(PROD);
    expect(history).toEqual({ lastStartedByKind: {} });
  });
});
