/**
 * The scheduled sampler: samples every configured EKS cluster, measures subnet and node IP
 * capacity, diagnoses, forecasts, publishes the metrics and notifies findings that appeared,
 * worsened or cleared. A cluster whose sampling fails is logged by name and published as
 * SamplingFailed=1; the others go on.
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
import * as z from 'zod';
import { logCycleHealth, runCycle } from '../lib/cycle';
import { cycleDeadline } from '../lib/deadline';
import { problemLines, zodProblems } from '../lib/errors';
import { cycleDeps, defaultRuntime, inForcePolicy, type Runtime } from '../lib/runtime';

export interface SampleSummary {
  clustersSampled: number;
  clustersFailed: string[];
  clustersIncomplete: string[];
  findings: number;
  notified: number;
  metricsPublished: number;
  putMetricDataCalls: number;
  problems: string[];
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
    `the sampler takes an EventBridge "Scheduled Event" from aws.events or {"clusterNames": [...]}; got ${JSON.stringify(event)?.slice(0, 300)}: ${problemLines(
      zodProblems(manual.error, { pathText: (path) => path.map(String).join('.') || '(event)', keepLead: true }),
    ).join('; ')}`,
  );
}

/** Builds the handler around its dependencies. */
export function makeHandler(rt: Runtime) {
  return async (event: ScheduledEvent | { clusterNames?: string[] }, context?: Context): Promise<SampleSummary> => {
    if (context) rt.logger.addContext(context);
    // Collection stops a margin before the timeout, so that what is complete gets published.
    const deadline = context ? cycleDeadline(rt, context.getRemainingTimeInMillis()) : undefined;
    const { clusterNames } = parseEvent(event);
    const inForce = await inForcePolicy(rt);
    const result = await runCycle(cycleDeps(rt, true, false, deadline, inForce), {
      clusterNames: clusterNames ?? rt.config.clusterNames,
      concurrency: rt.config.clusterConcurrency,
      now: rt.now(),
      // The network preflight (DNS, egress, VPC endpoints) on the schedule only: the respond
      // function, on the path of an exhaustion event, reads no more than it acts on.
      network: true,
      // Where this function runs, for the kube-access diagnosis (its subnets and the clusters'
      // security groups are read only when it is in a VPC).
      ...(rt.config.functionPlacement ? { functionPlacement: rt.config.functionPlacement } : {}),
    });
    const { usage } = result;
    logCycleHealth(rt.logger, result, {}, deadline);
    const summary: SampleSummary = {
      clustersSampled: usage.clusters.length,
      clustersFailed: usage.failedClusters.map((f) => f.name),
      clustersIncomplete: usage.clusters.filter((c) => !c.complete).map((c) => c.name),
      findings: result.findings.length,
      notified: result.notifications?.notified.length ?? 0,
      metricsPublished: result.metricsPublished,
      putMetricDataCalls: result.putMetricDataCalls,
      problems: result.problems,
    };
    rt.logger.info('sample published', {
      ...summary,
      findingIds: result.findings.map((f) => `${f.severity}:${f.id}`),
      namespace: rt.config.metricNamespace,
      region: usage.region,
    });
    return summary;
  };
}

export const handler = makeHandler(defaultRuntime());
