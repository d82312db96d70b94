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
import {
  dispatchFanOut,
  fanOutPlanShape,
  itemAnswerProblems,
  mergeFanOut,
  parseFanOutItem,
  type FanOutCycle,
  type FanOutItemSummary,
  type FanOutPlan,
  type FanOutResult,
  type FanOutSummary,
  type RemediationFanOutSummary,
} from '../lib/fanout';
import type { RegionLimitsUsage } from '../lib/measure/region-limits';
import { cycleDeps, defaultRuntime, inForcePolicy, startInvocation, withPaceShare, type Runtime } from '../lib/runtime';

/** The sampler's summary of a cycle (a fan-out item answers the same: lib/fanout.ts). */
export type SampleSummary = FanOutItemSummary;

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

/**
 * The fan-out mode's events (cycleMode=per-cluster: the state machine of stack/fanout.ts sends
 * them, lib/fanout.ts answers): the dispatch, one item (its clusters and the region-level figures
 * the dispatch read once: lib/fanout.ts parseFanOutItem) and the merge of the items' results.
 */
const fanOutDispatch = z.strictObject({ fanOut: z.literal('dispatch'), cycle: z.enum(['sample', 'remediate']).optional() });
const fanOutMerge = z.strictObject({
  fanOut: z.literal('merge'),
  plan: fanOutPlanShape,
  results: z.array(
    z.union([
      z.looseObject({ clusterNames: z.array(z.string()), summary: z.looseObject({}) }),
      z.looseObject({ clusterNames: z.array(z.string()), error: z.looseObject({ Error: z.string().optional(), Cause: z.string().optional() }) }),
    ]),
  ),
});

/** An event of the fan-out mode. */
export type FanOutEvent = z.input<typeof fanOutDispatch> | { clusterNames: string[]; fanOut: { region: unknown } } | z.input<typeof fanOutMerge>;

type Parsed =
  | { type: 'cycle'; clusterNames?: string[]; fanOut?: { region?: RegionLimitsUsage }; paceShare?: number }
  | { type: 'dispatch'; cycle: FanOutCycle }
  | { type: 'merge'; plan: FanOutPlan; results: FanOutResult[] };

function parseEvent(event: unknown): Parsed {
  const scheduled = scheduledEvent.safeParse(event);
  if (scheduled.success) return { type: 'cycle' };
  const manual = manualEvent.safeParse(event ?? {});
  if (manual.success) return { type: 'cycle', ...manual.data };
  const dispatch = fanOutDispatch.safeParse(event);
  if (dispatch.success) return { type: 'dispatch', cycle: dispatch.data.cycle ?? 'sample' };
  const item = parseFanOutItem(event);
  if (item) return { type: 'cycle', ...item };
  const merge = fanOutMerge.safeParse(event);
  if (merge.success) return { type: 'merge', plan: merge.data.plan as unknown as FanOutPlan, results: merge.data.results as unknown as FanOutResult[] };
  throw new InvalidEventError(
    `the sampler takes an EventBridge "Scheduled Event" from aws.events or {"clusterNames": [...]}; got ${JSON.stringify(event)?.slice(0, 300)}: ${problemLines(
      zodProblems(manual.error, { pathText: (path) => path.map(String).join('.') || '(event)', keepLead: true }),
    ).join('; ')}`,
  );
}

/** The sampler: a cycle's summary for the schedule and a manual event; the fan-out mode's answers for its events. */
export interface SampleHandler {
  (event: ScheduledEvent | { clusterNames?: string[] }, context?: Context): Promise<SampleSummary>;
  (event: FanOutEvent, context?: Context): Promise<SampleSummary | FanOutPlan | FanOutSummary | RemediationFanOutSummary>;
}

/** Builds the handler around its dependencies. */
export function makeHandler(rt: Runtime): SampleHandler {
  return (async (event: unknown, context?: Context): Promise<SampleSummary | FanOutPlan | FanOutSummary | RemediationFanOutSummary> => {
    startInvocation(rt, context);
    const parsed = parseEvent(event);
    if (parsed.type === 'dispatch') return dispatchFanOut(rt, rt.now(), parsed.cycle);
    if (parsed.type === 'merge') return mergeFanOut(rt, parsed.plan, parsed.results);
    // Collection stops a margin before the timeout, so that what is complete gets published.
    const deadline = context ? cycleDeadline(rt, context.getRemainingTimeInMillis()) : undefined;
    const { clusterNames, fanOut, paceShare } = parsed;
    const inForce = await inForcePolicy(rt);
    // A fan-out item reads at its share of the pace: the items read at once together keep one function's.
    const result = await withPaceShare(rt, paceShare, () => runCycle(cycleDeps(rt, true, false, deadline, inForce), {
      clusterNames: clusterNames ?? rt.config.clusterNames,
      concurrency: rt.config.clusterConcurrency,
      now: rt.now(),
      // The network preflight (DNS, egress, VPC endpoints) on the schedule only: the respond
      // function, on the path of an exhaustion event, reads no more than it acts on.
      network: true,
      // Where this function runs, for the kube-access diagnosis (its subnets and the clusters'
      // security groups are read only when it is in a VPC).
      ...(rt.config.functionPlacement ? { functionPlacement: rt.config.functionPlacement } : {}),
      // A fan-out item: the region-level figures the dispatch read once (lib/fanout.ts).
      ...(fanOut ? { fanOut } : {}),
    }));
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
    // A fan-out item's line is not the cycle's: the merge logs 'sample published' once for the account.
    rt.logger.info(fanOut ? 'fan-out item published' : 'sample published', {
      ...summary,
      findingIds: result.findings.map((f) => `${f.severity}:${f.id}`),
      namespace: rt.config.metricNamespace,
      region: usage.region,
    });
    // A fan-out item's answer goes back inline to the Map: its problems bounded (every one is logged above).
    return fanOut ? { ...summary, problems: itemAnswerProblems(summary.problems) } : summary;
  }) as SampleHandler;
}

export const handler = makeHandler(defaultRuntime());
