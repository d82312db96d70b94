/**
 * One sampling cycle: collect → measure → publish. Whatever triggered it (the schedule, the
 * CLI), the stages are the same; only `collect` and `publish` talk to AWS.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { putMetricData } from './aws/cloudwatch';
import { collectInventory } from './inventory/collect';
import type { Inventory, InventorySource } from './inventory/types';
import { measure } from './measure/measure';
import type { Usage } from './measure/types';
import { buildMetricData } from './publish/metrics';

export interface SampleOptions {
  clusterNames: string[];
  concurrency: number;
  now: Date;
}

export interface SampleResult {
  inventory: Inventory;
  usage: Usage;
}

/** Collects and measures (no publishing): what the CLI report needs. */
export async function sample(source: InventorySource, options: SampleOptions): Promise<SampleResult> {
  const inventory = await collectInventory(source, options);
  return { inventory, usage: measure(inventory) };
}

export interface PublishResult {
  metricsPublished: number;
  putMetricDataCalls: number;
}

/** Publishes a sample's metrics. */
export async function publish(cloudwatch: CloudWatchClient, namespace: string, usage: Usage): Promise<PublishResult> {
  const data = buildMetricData(usage);
  const putMetricDataCalls = await putMetricData(cloudwatch, namespace, data);
  return { metricsPublished: data.length, putMetricDataCalls };
}
