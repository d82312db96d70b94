/** CloudWatch adapter: PutMetricData in batches within the API's per-request limits. */
import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { awsCallError } from '../errors';
import { chunk } from './chunk';

/**
 * PutMetricData accepts up to 1,000 metrics and 1 MB of payload per request (CloudWatch API
 * reference, PutMetricData: "Each PutMetricData request is limited to 1 MB ... can include up
 * to 1000 different metrics"). A datum with three dimensions encodes to about 500 bytes, so 1,000 stay far below 1 MB (a test checks it).
 */
export const METRIC_DATA_PER_CALL_MAX = 1000;

/** Publishes metric data; returns the number of requests made. */
export async function putMetricData(client: CloudWatchClient, namespace: string, data: MetricDatum[]): Promise<number> {
  const batches = chunk(data, METRIC_DATA_PER_CALL_MAX);
  for (const [i, MetricData] of batches.entries()) {
    try {
      await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData }));
    } catch (err) {
      throw awsCallError('cloudwatch:PutMetricData', `to ${namespace}, batch ${i + 1} of ${batches.length}`, err);
    }
  }
  return batches.length;
}
