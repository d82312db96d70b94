/**
 * The scheduled sampler: samples every configured EKS cluster, measures subnet and node IP
 * capacity and publishes the metrics. A cluster whose sampling fails is logged by name and
 * published as SamplingFailed=1; the others are still sampled and published.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { z } from 'zod';
import { createAwsClients } from '../lib/aws/clients';
import { LiveSource } from '../lib/aws/live-source';
import { parseSamplerConfig, type SamplerConfig } from '../lib/config';
import type { InventorySource } from '../lib/inventory/types';
import { publish, sample } from '../lib/pipeline';

export interface SampleDeps {
  config: SamplerConfig;
  source: InventorySource;
  cloudwatch: CloudWatchClient;
  logger: Logger;
  now: () => Date;
}

export interface SampleSummary {
  clustersSampled: number;
  clustersFailed: string[];
  clustersIncomplete: string[];
  metricsPublished: number;
  putMetricDataCalls: number;
}

/**
 * The events the sampler accepts: EventBridge's scheduled event, or a manual invocation
 * (`{}` or `{"clusterNames": [...]}` to sample some clusters only).
 */
const scheduledEvent = z.looseObject({
  'detail-type': z.literal('Scheduled Event'),
  source: z.literal('aws.events'),
  time: z.string().optional(),
});
const manualEvent = z.strictObject({ clusterNames: z.array(z.string().min(1)).optional() });

/** Thrown for an event the sampler does not understand. */
export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

function parseEvent(event: unknown): { clusterNames?: string[] } {
  const scheduled = scheduledEvent.safeParse(event);
  if (scheduled.success) return {};
  const manual = manualEvent.safeParse(event ?? {});
  if (manual.success) return manual.data;
  throw new InvalidEventError(
    `the sampler takes an EventBridge "Scheduled Event" from aws.events or {"clusterNames": [...]}; got ${JSON.stringify(event)?.slice(0, 300)}: ${manual.error.issues
      .map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`)
      .join('; ')}`,
  );
}

/** Builds the handler around its dependencies. */
export function makeHandler(deps: SampleDeps) {
  return async (event: ScheduledEvent | { clusterNames?: string[] }, context?: Context): Promise<SampleSummary> => {
    if (context) deps.logger.addContext(context);
    const { clusterNames } = parseEvent(event);
    const now = deps.now();
    const { usage } = await sample(deps.source, {
      clusterNames: clusterNames ?? deps.config.clusterNames,
      concurrency: deps.config.clusterConcurrency,
      now,
    });
    for (const f of usage.failedClusters) {
      deps.logger.error('cluster sampling failed', { cluster: f.name, operation: f.problem.source, code: f.problem.code, error: f.problem.message });
    }
    for (const c of usage.clusters.filter((c) => !c.complete)) {
      deps.logger.warn('cluster data incomplete', { cluster: c.name, problems: c.problems });
    }
    for (const t of usage.unknownInstanceTypes) {
      deps.logger.warn('instance type unknown to DescribeInstanceTypes', { instanceType: t });
    }
    const published = await publish(deps.cloudwatch, deps.config.metricNamespace, usage);
    const summary: SampleSummary = {
      clustersSampled: usage.clusters.length,
      clustersFailed: usage.failedClusters.map((f) => f.name),
      clustersIncomplete: usage.clusters.filter((c) => !c.complete).map((c) => c.name),
      ...published,
    };
    deps.logger.info('sample published', { ...summary, namespace: deps.config.metricNamespace, region: usage.region });
    return summary;
  };
}

/** The production dependencies: configuration from the environment, clients built once per container. */
export function defaultDeps(env: Record<string, string | undefined> = process.env): SampleDeps {
  const config = parseSamplerConfig(env);
  const clients = createAwsClients();
  const region = env['AWS_REGION'] ?? 'unknown-region';
  return {
    config,
    source: new LiveSource(clients, region),
    cloudwatch: clients.cloudwatch,
    logger: new Logger({ serviceName: 'eks-ip-responder' }),
    now: () => new Date(),
  };
}

export const handler = makeHandler(defaultDeps());
