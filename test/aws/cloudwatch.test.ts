import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { METRIC_DATA_PER_CALL_MAX, putMetricData } from '../../lib/aws/cloudwatch';
import { AwsCallError } from '../../lib/errors';

const cw = mockClient(CloudWatchClient);
beforeEach(() => cw.reset());
afterAll(() => cw.restore());

function data(n: number): MetricDatum[] {
  return Array.from({ length: n }, (_, i) => ({
    MetricName: 'SubnetAvailableIps',
    Dimensions: [
      { Name: 'ClusterName', Value: 'prod' },
      { Name: 'SubnetId', Value: `subnet-${i.toString(16).padStart(17, '0')}` },
    ],
    Timestamp: new Date('2026-11-26T12:00:00Z'),
    Unit: 'Count',
    Value: i,
  }));
}

describe('putMetricData', () => {
  it('sends 2,500 data in requests of 1000, 1000 and 500, in order', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const all = data(2500);

    const requests = await putMetricData(new CloudWatchClient({}), 'EksIpResponder', all);

    expect(requests).toBe(3);
    const sent = cw.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input);
    expect(sent.map((i) => i.MetricData?.length)).toEqual([1000, 1000, 500]);
    expect(sent.every((i) => i.Namespace === 'EksIpResponder')).toBe(true);
    expect(sent.flatMap((i) => i.MetricData ?? [])).toEqual(all);
    expect(METRIC_DATA_PER_CALL_MAX).toBe(1000);
  });

  it('sends nothing for no data', async () => {
    await expect(putMetricData(new CloudWatchClient({}), 'EksIpResponder', [])).resolves.toBe(0);
    expect(cw.calls()).toHaveLength(0);
  });

  it('names the namespace and the batch when batch 2 of 3 fails', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: cloudwatch:PutMetricData'), { name: 'AccessDenied' });
    cw.on(PutMetricDataCommand).resolvesOnce({}).rejectsOnce(denied);

    const err = await putMetricData(new CloudWatchClient({}), 'EksIpResponder', data(2500)).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AwsCallError);
    expect(err).toMatchObject({ operation: 'cloudwatch:PutMetricData', code: 'AccessDenied', cause: denied });
    expect((err as Error).message).toContain('EksIpResponder');
    expect((err as Error).message).toContain('batch 2 of 3');
    // The third batch is not sent after the second failed.
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(2);
  });

  it('keeps a request of 1000 realistic data well under the 1 MB PutMetricData limit', () => {
    // Query-protocol size of one datum: each field is sent as MetricData.member.N.<path>=<value>&.
    const encoded = data(1000)
      .map((d, i) => {
        const p = `MetricData.member.${i + 1}`;
        const fields: string[] = [`${p}.MetricName=${d.MetricName}`, `${p}.Unit=${d.Unit}`, `${p}.Value=${d.Value}`, `${p}.Timestamp=2026-11-26T12%3A00%3A00.000Z`];
        (d.Dimensions ?? []).forEach((x, j) => fields.push(`${p}.Dimensions.member.${j + 1}.Name=${x.Name}`, `${p}.Dimensions.member.${j + 1}.Value=${x.Value}`));
        return fields.join('&');
      })
      .join('&');
    expect(Buffer.byteLength(encoded)).toBeLessThan(1_000_000 / 2);
  });
});
