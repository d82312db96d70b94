import {
  CloudWatchClient,
  CloudWatchServiceException,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type GetMetricDataCommandOutput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { METRIC_DATA_QUERIES_PER_CALL_MAX, readAvailableIpHistory } from '../../lib/aws/metric-history';
import { AwsCallError } from '../../lib/errors';

const cw = mockClient(CloudWatchClient);
beforeEach(() => cw.reset());
afterAll(() => cw.restore());

const NS = 'EKS/IPResponder';
const END = new Date('2026-11-26T12:00:00Z');
const WINDOW = { start: new Date(END.getTime() - 24 * 3_600_000), end: END, periodSeconds: 300 };
const at = (minutesAgo: number): Date => new Date(END.getTime() - minutesAgo * 60_000);
const subnet = (i: number): string => `subnet-${i.toString(16).padStart(17, '0')}`;

/** The response metadata every SDK output carries. */
const META = { $metadata: { httpStatusCode: 200, requestId: 'c0ffee00-0000-4000-8000-000000000000', attempts: 1, totalRetryDelay: 0 } };

function denied(): CloudWatchServiceException {
  return new CloudWatchServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: { httpStatusCode: 403 },
    message: 'User: arn:aws:sts::123456789012:assumed-role/sampler/fn is not authorized to perform: cloudwatch:GetMetricData',
  });
}

/** The dimension value of a query, by name. */
function dim(q: NonNullable<GetMetricDataCommandInput['MetricDataQueries']>[number], name: string): string | undefined {
  return q.MetricStat?.Metric?.Dimensions?.find((d) => d.Name === name)?.Value;
}

describe('readAvailableIpHistory', () => {
  it('reads 1,200 series in 3 requests of 500, 500 and 200 queries, and maps every result back by Id', async () => {
    // Each query answers one point whose value encodes the series, so a mixed-up Id shows.
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput): GetMetricDataCommandOutput => ({
      ...META,
      MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({
        Id: q.Id,
        Label: q.Label,
        Timestamps: [at(5)],
        Values: [dim(q, 'SubnetId') ? parseInt(dim(q, 'SubnetId')!.slice('subnet-'.length), 16) : 1_000_000],
        StatusCode: 'Complete',
        Messages: [],
      })),
      Messages: [],
    }));
    // 3 clusters × 399 subnets + 3 cluster series = 1,200 series.
    const series = [0, 1, 2].map((c) => ({
      clusterName: `prod-${c}`,
      subnetIds: Array.from({ length: 399 }, (_, i) => subnet(c * 1000 + i)),
    }));

    const history = await readAvailableIpHistory(new CloudWatchClient({}), NS, series, WINDOW);

    const calls = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(calls.map((i) => i.MetricDataQueries?.length)).toEqual([500, 500, 200]);
    expect(METRIC_DATA_QUERIES_PER_CALL_MAX).toBe(500);
    for (const input of calls) {
      expect(input).toMatchObject({ StartTime: WINDOW.start, EndTime: WINDOW.end, ScanBy: 'TimestampAscending' });
      const ids = (input.MetricDataQueries ?? []).map((q) => q.Id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const q of input.MetricDataQueries ?? []) {
        expect(q.Id).toMatch(/^[a-z][a-zA-Z0-9_]*$/);
        expect(q.MetricStat).toMatchObject({ Period: 300, Stat: 'Minimum', Metric: { Namespace: NS } });
        expect(['SubnetAvailableIps', 'ClusterAvailableIps']).toContain(q.MetricStat?.Metric?.MetricName);
      }
    }
    const sentSubnetQuery = calls.flatMap((i) => i.MetricDataQueries ?? []).find((q) => dim(q, 'SubnetId') === subnet(1005));
    expect(sentSubnetQuery?.MetricStat?.Metric).toEqual({
      Namespace: NS,
      MetricName: 'SubnetAvailableIps',
      Dimensions: [
        { Name: 'ClusterName', Value: 'prod-1' },
        { Name: 'SubnetId', Value: subnet(1005) },
      ],
    });
    expect(history.subnets.size).toBe(1197);
    expect(history.clusters.size).toBe(3);
    expect(history.subnets.get(`prod-2/${subnet(2398)}`)).toEqual([{ t: at(5), value: 2398 }]);
    expect(history.subnets.get(`prod-1/${subnet(1000)}`)).toEqual([{ t: at(5), value: 1000 }]);
    expect(history.subnets.get(`prod-0/${subnet(7)}`)).toEqual([{ t: at(5), value: 7 }]);
    expect(history.clusters.get('prod-1')).toEqual([{ t: at(5), value: 1_000_000 }]);
    expect(history.incomplete.size).toBe(0);
  });

  it('follows NextToken and merges PartialData pages into one ascending series per Id', async () => {
    // The first page is cut at MaxDatapoints: PartialData with a NextToken; the second completes it.
    // The paginator reuses one input object, so the token is recorded as each call is made.
    const pages: GetMetricDataCommandOutput[] = [
      {
        ...META,
        MetricDataResults: [
          { Id: 'q0', Label: 'prod', Timestamps: [at(20), at(15)], Values: [900, 890], StatusCode: 'PartialData', Messages: [] },
          { Id: 'q1', Label: `prod/${subnet(1)}`, Timestamps: [at(20), at(15)], Values: [300, 295], StatusCode: 'PartialData', Messages: [] },
        ],
        NextToken: 'AQICAHh-page-2',
        Messages: [],
      },
      {
        ...META,
        MetricDataResults: [
          { Id: 'q0', Label: 'prod', Timestamps: [at(10), at(5)], Values: [880, 870], StatusCode: 'Complete', Messages: [] },
          { Id: 'q1', Label: `prod/${subnet(1)}`, Timestamps: [at(10), at(5)], Values: [290, 285], StatusCode: 'Complete', Messages: [] },
        ],
        Messages: [],
      },
    ];
    const tokens: (string | undefined)[] = [];
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      tokens.push(input.NextToken);
      const page = pages[input.NextToken === undefined ? 0 : input.NextToken === 'AQICAHh-page-2' ? 1 : -1];
      if (!page) throw new Error(`unexpected NextToken ${input.NextToken}`);
      return page;
    });

    const history = await readAvailableIpHistory(new CloudWatchClient({}), NS, [{ clusterName: 'prod', subnetIds: [subnet(1)] }], WINDOW);

    const calls = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(tokens).toEqual([undefined, 'AQICAHh-page-2']);
    expect(history.clusters.get('prod')).toEqual([
      { t: at(20), value: 900 },
      { t: at(15), value: 890 },
      { t: at(10), value: 880 },
      { t: at(5), value: 870 },
    ]);
    expect(history.subnets.get(`prod/${subnet(1)}`)?.map((p) => p.value)).toEqual([300, 295, 290, 285]);
    expect(history.incomplete.size).toBe(0);
  });

  it('sorts points oldest first even when CloudWatch answers newest first', async () => {
    cw.on(GetMetricDataCommand).resolves({
      ...META,
      MetricDataResults: [
        { Id: 'q0', Label: 'prod', Timestamps: [at(5), at(10), at(15)], Values: [70, 80, 90], StatusCode: 'Complete', Messages: [] },
      ],
      Messages: [],
    });

    const history = await readAvailableIpHistory(new CloudWatchClient({}), NS, [{ clusterName: 'prod', subnetIds: [] }], WINDOW);

    expect(history.clusters.get('prod')).toEqual([
      { t: at(15), value: 90 },
      { t: at(10), value: 80 },
      { t: at(5), value: 70 },
    ]);
  });

  it('reports a series still PartialData or InternalError after the last page, and keeps the rest', async () => {
    const results: MetricDataResult[] = [
      { Id: 'q0', Label: 'prod', Timestamps: [at(5)], Values: [870], StatusCode: 'Complete', Messages: [] },
      { Id: 'q1', Label: `prod/${subnet(1)}`, Timestamps: [at(5)], Values: [12], StatusCode: 'PartialData', Messages: [] },
      {
        Id: 'q2',
        Label: `prod/${subnet(2)}`,
        Timestamps: [],
        Values: [],
        StatusCode: 'InternalError',
        Messages: [{ Code: 'InternalError', Value: 'An internal error occurred.' }],
      },
    ];
    cw.on(GetMetricDataCommand).resolves({ ...META, MetricDataResults: results, Messages: [] });

    const history = await readAvailableIpHistory(
      new CloudWatchClient({}),
      NS,
      [{ clusterName: 'prod', subnetIds: [subnet(1), subnet(2)] }],
      WINDOW,
    );

    expect([...history.incomplete]).toEqual([
      [`prod/${subnet(1)}`, 'PartialData'],
      [`prod/${subnet(2)}`, 'InternalError (InternalError: An internal error occurred.)'],
    ]);
    expect(history.subnets.get(`prod/${subnet(1)}`)).toEqual([{ t: at(5), value: 12 }]);
    expect(history.subnets.get(`prod/${subnet(2)}`)).toEqual([]);
    expect(history.clusters.get('prod')).toEqual([{ t: at(5), value: 870 }]);
  });

  it('gives a series without data an empty history, and ignores results for ids it did not ask for', async () => {
    cw.on(GetMetricDataCommand).resolves({
      ...META,
      MetricDataResults: [{ Id: 'other', Label: 'x', Timestamps: [at(5)], Values: [1], StatusCode: 'Complete', Messages: [] }],
      Messages: [],
    });

    const history = await readAvailableIpHistory(new CloudWatchClient({}), NS, [{ clusterName: 'dev', subnetIds: [subnet(9)] }], WINDOW);

    expect(history.clusters.get('dev')).toEqual([]);
    expect(history.subnets.get(`dev/${subnet(9)}`)).toEqual([]);
  });

  it('asks once for a subnet listed twice in a cluster', async () => {
    cw.on(GetMetricDataCommand).resolves({ ...META, MetricDataResults: [], Messages: [] });

    await readAvailableIpHistory(new CloudWatchClient({}), NS, [{ clusterName: 'prod', subnetIds: [subnet(1), subnet(1)] }], WINDOW);

    expect(cw.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries).toHaveLength(2);
  });

  it('makes no call for no series', async () => {
    const history = await readAvailableIpHistory(new CloudWatchClient({}), NS, [], WINDOW);
    expect(cw.calls()).toHaveLength(0);
    expect(history.subnets.size + history.clusters.size).toBe(0);
  });

  it('names cloudwatch:GetMetricData, the namespace and the request when access is denied', async () => {
    const err = denied();
    cw.on(GetMetricDataCommand).resolvesOnce({ ...META, MetricDataResults: [], Messages: [] }).rejectsOnce(err);
    const series = [{ clusterName: 'prod', subnetIds: Array.from({ length: 700 }, (_, i) => subnet(i)) }];

    const thrown = await readAvailableIpHistory(new CloudWatchClient({}), NS, series, WINDOW).catch((e: unknown) => e);

    expect(thrown).toBeInstanceOf(AwsCallError);
    expect(thrown).toMatchObject({ name: 'AwsCallError', operation: 'cloudwatch:GetMetricData', code: 'AccessDenied', cause: err });
    const message = (thrown as Error).message;
    expect(message).toContain('cloudwatch:GetMetricData');
    expect(message).toContain(NS);
    expect(message).toContain('request 2 of 2');
    expect(message).toContain('not authorized');
  });
});
