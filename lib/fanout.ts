/**
 * The fan-out mode (cycleMode=per-cluster, stack/fanout.ts): the dispatch, the items and the merge
 * that a Step Functions state machine runs on the stack's functions, so that one cycle of a large
 * account (the sampler's, or the responder's remediation tick) is many invocations of the same
 * cycle, with the single cycle's figures. Design: docs/architecture.md, "Ultra scale: fan-out mode".
 */
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import * as z from 'zod';
import { oneLine } from './errors';
import { collectRegionLimitsOfVpcs, problemOf } from './inventory/collect';
import { mapLimit } from './map-limit';
import { measureRegionLimitsOf, type RegionLimitsUsage } from './measure/region-limits';
import type { Usage } from './measure/types';
import { READ_OPERATION } from './names';
import { datum, METRIC, regionLimitsMetrics } from './output/publish/metrics';
import { putMetricData } from './aws/cloudwatch';
import { effectivePolicy } from './policy/load';
import type { Runtime } from './runtime';

/** One item of the Map: the clusters one invocation samples (those of one VPC, or one that could not be described). */
export interface FanOutItem {
  clusterNames: string[];
}

/** The cycles that fan out: the sampler's, and the responder's remediation tick (clusters in apply mode). */
export type FanOutCycle = 'sample' | 'remediate';

/** What the dispatch answers: the Map's items and the region-level figures, read once. */
export interface FanOutPlan {
  cycle: FanOutCycle;
  collectedAt: string;
  items: FanOutItem[];
  /** The region-level figures for every item (null when no cluster was described, as a single cycle of no cluster has none). */
  region: RegionLimitsUsage | null;
  /** The region-level reads that failed, in words (reported once, by the merge). */
  problems: string[];
}

/** The sampler's summary of a cycle (handlers/sample.ts SampleSummary), which a fan-out item answers. */
export interface FanOutItemSummary {
  clustersSampled: number;
  clustersFailed: string[];
  clustersIncomplete: string[];
  findings: number;
  notified: number;
  metricsPublished: number;
  putMetricDataCalls: number;
  problems: string[];
}

/** One item's outcome as the Map collects it: its summary, or the error Step Functions caught ({Error, Cause}). */
export type FanOutResult = FanOutItem & ({ summary: unknown } | { error: { Error?: string; Cause?: string } });

/** A sample item's answer (handlers/sample.ts SampleSummary), checked by the merge. */
const sampleSummaryShape = z.looseObject({
  clustersSampled: z.number(),
  clustersFailed: z.array(z.string()),
  clustersIncomplete: z.array(z.string()),
  findings: z.number(),
  notified: z.number(),
  metricsPublished: z.number(),
  putMetricDataCalls: z.number(),
  problems: z.array(z.string()),
});

/** A remediation item's answer (lib/events/route.ts RespondSummary), the fields the merge sums. */
const respondSummaryShape = z.looseObject({
  status: z.string(),
  clusters: z.array(z.string()).optional(),
  findings: z.number().optional(),
  notified: z.number().optional(),
  actions: z.looseObject({ planned: z.record(z.string(), z.number()), outcomes: z.array(z.looseObject({ actionId: z.string(), status: z.string(), detail: z.string() })) }).optional(),
  problems: z.array(z.string()).optional(),
});

/**
 * The region-level figures as an item receives them. Checked for their shape only: they come from
 * this stack's own dispatch, through its state machine.
 */
const regionFigures = z.looseObject({
  vpcs: z.array(z.looseObject({ vpcId: z.string(), clusters: z.array(z.string()), quota: z.number(), peeredQuota: z.number() })),
  problems: z.array(z.string()),
});
const fanOutItemEvent = z.strictObject({
  clusterNames: z.array(z.string().min(1)).min(1),
  fanOut: z.strictObject({ region: regionFigures.nullable(), paceShare: z.number().gt(0).max(1).optional() }),
});

/**
 * An item's event, `{"clusterNames":[...],"fanOut":{"region":...,"paceShare":...}}`: its clusters,
 * the CycleOptions `fanOut`, and its share of the read pace (1 / the Map's MaxConcurrency: the items
 * read at once together keep one function's pace; lib/aws/pacer.ts); undefined for any other event.
 */
export function parseFanOutItem(event: unknown): { clusterNames: string[]; fanOut: { region?: RegionLimitsUsage }; paceShare?: number } | undefined {
  const item = fanOutItemEvent.safeParse(event);
  if (!item.success) return undefined;
  const { region, paceShare } = item.data.fanOut;
  return {
    clusterNames: item.data.clusterNames,
    fanOut: region ? { region: region as unknown as RegionLimitsUsage } : {},
    ...(paceShare !== undefined ? { paceShare } : {}),
  };
}

/** The shape of the dispatch's plan, for the merge's event (handlers/sample.ts). */
export const fanOutPlanShape = z.looseObject({
  cycle: z.enum(['sample', 'remediate']),
  collectedAt: z.string(),
  items: z.array(z.looseObject({ clusterNames: z.array(z.string()) })),
  region: regionFigures.nullable(),
  problems: z.array(z.string()),
});

/**
 * The dispatch: the clusters the single cycle would sample (the configured ones, or every cluster
 * of the region), grouped by VPC, and the region-level reads made once. Clusters of one VPC are one
 * item because a subnet is in one VPC (EC2 CreateSubnet takes one VpcId) and the single cycle tells a
 * shared subnet's addresses apart by every collected cluster's nodes (lib/measure/cluster-share.ts
 * clusterOfInstances): split, each would count the other's nodes' ENIs as no cluster's. A cluster
 * whose DescribeCluster fails here is an item of its own; its item fails it as the single cycle does.
 */
export async function dispatchFanOut(rt: Runtime, now: Date, cycle: FanOutCycle = 'sample'): Promise<FanOutPlan> {
  const watched = rt.config.clusterNames.length > 0 ? [...rt.config.clusterNames] : await rt.source.listClusters();
  // The remediation tick cycles the clusters in apply mode only (lib/events/route.ts onSchedule).
  // The packaged policy is the ceiling of a central one (lib/policy/central.ts): each item filters
  // its clusters again by the policy in force (route.ts onFanOutTick).
  const names = cycle === 'remediate' ? watched.filter((c) => effectivePolicy(rt.config.policy, c, rt.config.thresholds).mode === 'apply') : watched;
  const described = await mapLimit(names, rt.config.clusterConcurrency, async (name) => {
    try {
      const c = await rt.source.describeCluster(name);
      return { name, vpcId: c.resourcesVpcConfig?.vpcId || undefined };
    } catch (err) {
      rt.logger.warn('fan-out dispatch: cluster not described; sampled alone', { cluster: name, error: problemOf(READ_OPERATION.describeCluster, err).message });
      return { name, vpcId: undefined, failed: true };
    }
  });
  const byVpc = new Map<string, string[]>();
  const items: FanOutItem[] = [];
  for (const c of described) {
    if (!c.vpcId) items.push({ clusterNames: [c.name] });
    else byVpc.set(c.vpcId, [...(byVpc.get(c.vpcId) ?? []), c.name]);
  }
  for (const clusterNames of byVpc.values()) items.push({ clusterNames });
  items.sort((a, b) => (a.clusterNames[0] ?? '').localeCompare(b.clusterNames[0] ?? ''));
  if (items.length > FAN_OUT_ITEMS_MAX) rt.logger.info('fan-out dispatch: VPC groups share items', { groups: items.length, items: FAN_OUT_ITEMS_MAX });
  const known = described.filter((c) => !('failed' in c));
  const reads = rt.source.regionLimits;
  let region: RegionLimitsUsage | undefined;
  if (reads && known.length > 0) {
    const vpcIds = [...byVpc.keys()].sort();
    region = measureRegionLimitsOf(await collectRegionLimitsOfVpcs(reads, vpcIds, now), known);
  }
  const problems = (region?.problems ?? []).map((p) => `region ${rt.source.region}: ${p}`);
  return { cycle, collectedAt: now.toISOString(), items: packItems(items, FAN_OUT_ITEMS_MAX), region: region ?? null, problems };
}

/**
 * At most this many items a Map run. The Map's results come back inline, together one state's
 * payload (Step Functions quotas: 256 KiB, https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html),
 * so past it VPC groups share items: one item's cycle samples several VPCs as the single cycle
 * does, each VPC's clusters together. With each answer bounded ({@link itemAnswerProblems}),
 * 100 items' answers stay well inside it (test/handlers/fanout-items.test.ts).
 */
export const FAN_OUT_ITEMS_MAX = 100;

/**
 * `groups` in at most `max` items, each group whole: the largest first, each to the item with the
 * fewest clusters so far (the items' work balanced by clusters); items ordered by their first cluster.
 */
export function packItems(groups: readonly FanOutItem[], max: number): FanOutItem[] {
  if (groups.length <= max) return [...groups];
  const items: string[][] = Array.from({ length: max }, () => []);
  const bySize = [...groups].sort((a, b) => b.clusterNames.length - a.clusterNames.length || (a.clusterNames[0] ?? '').localeCompare(b.clusterNames[0] ?? ''));
  for (const g of bySize) {
    let least = 0;
    for (let k = 1; k < items.length; k++) if (items[k]!.length < items[least]!.length) least = k;
    items[least]!.push(...g.clusterNames);
  }
  return items.map((clusterNames) => ({ clusterNames })).sort((a, b) => (a.clusterNames[0] ?? '').localeCompare(b.clusterNames[0] ?? ''));
}

/** Of an item's problems, how many travel back in its answer, and how long each may be; all are in the item's own log. */
export const ITEM_ANSWER_PROBLEMS = 3;
export const ITEM_ANSWER_PROBLEM_CHARS = 300;

/**
 * An item's problems as its answer carries them to the merge: the first {@link ITEM_ANSWER_PROBLEMS},
 * each cut at {@link ITEM_ANSWER_PROBLEM_CHARS}, then how many more. The item logs them all (the
 * sampler's `fan-out item published` line, the cycle's `cycle problem` lines), so the answer stays small.
 */
export function itemAnswerProblems(problems: readonly string[]): string[] {
  const kept = problems.slice(0, ITEM_ANSWER_PROBLEMS).map((p) => (p.length > ITEM_ANSWER_PROBLEM_CHARS ? `${p.slice(0, ITEM_ANSWER_PROBLEM_CHARS - 1)}…` : p));
  const more = problems.length - kept.length;
  if (more > 0) kept.push(`${more} more problem(s): the item's own log lists them all`);
  return kept;
}

/** The merged summary: the single cycle's account-level figures, and the items that failed, named. */
export interface FanOutSummary extends FanOutItemSummary {
  items: number;
  failedItems: { clusterNames: string[]; error: string }[];
}

/** The error message of a caught item: Lambda's errorMessage inside Step Functions' Cause, else the Error name. */
export function itemErrorText(error: { Error?: string; Cause?: string }): string {
  try {
    const cause = JSON.parse(error.Cause ?? '') as { errorType?: unknown; errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') return oneLine(`${typeof cause.errorType === 'string' ? `${cause.errorType}: ` : ''}${cause.errorMessage}`);
  } catch {
    // Not Lambda's JSON (a States.* error): its text as it is.
  }
  return oneLine([error.Error, error.Cause].filter((x) => x).join(': ') || 'unknown error');
}

/**
 * The merge: publishes what the single cycle publishes once for the account (ClustersSampled,
 * ClustersFailed, the region-level figures) and SamplingFailed=1 for every cluster of an item that
 * failed (its invocation published nothing), and logs the summary line. Throws when the metrics
 * cannot be published (the execution fails, as the single sampler's invocation would).
 */
export async function mergeFanOut(rt: Runtime, plan: FanOutPlan, results: readonly FanOutResult[]): Promise<FanOutSummary | RemediationFanOutSummary> {
  if (plan.cycle === 'remediate') return mergeRemediation(rt, results);
  const timestamp = new Date(plan.collectedAt);
  const sampled = results.flatMap((r) => ('summary' in r ? [sampleSummaryShape.parse(r.summary) as FanOutItemSummary] : []));
  const failedItems = failedItemsOf(results);
  const lost = failedItems.flatMap((f) => f.clusterNames);
  const clustersFailed = [...sampled.flatMap((s) => s.clustersFailed), ...lost];
  const clustersSampled = sampled.reduce((n, s) => n + s.clustersSampled, 0);
  const data: MetricDatum[] = [
    ...lost.map((name) => datum(METRIC.SamplingFailed, 1, 'Count', { ClusterName: name }, timestamp)),
    datum(METRIC.ClustersSampled, clustersSampled, 'Count', {}, timestamp),
    datum(METRIC.ClustersFailed, clustersFailed.length, 'Count', {}, timestamp),
    ...(plan.region ? regionLimitsMetrics({ regionLimits: plan.region } as Usage, timestamp) : []),
  ];
  const calls = await putMetricData(rt.cloudwatch, rt.config.metricNamespace, data);
  for (const f of failedItems) rt.logger.error('fan-out item failed', { clusters: f.clusterNames, error: f.error });
  const summary: FanOutSummary = {
    items: results.length,
    clustersSampled,
    clustersFailed,
    clustersIncomplete: sampled.flatMap((s) => s.clustersIncomplete),
    findings: sampled.reduce((n, s) => n + s.findings, 0),
    notified: sampled.reduce((n, s) => n + s.notified, 0),
    metricsPublished: sampled.reduce((n, s) => n + s.metricsPublished, 0) + data.length,
    putMetricDataCalls: sampled.reduce((n, s) => n + s.putMetricDataCalls, 0) + calls,
    problems: [...plan.problems, ...sampled.flatMap((s) => s.problems), ...failedItems.map((f) => `${f.clusterNames.join(', ')}: the fan-out item failed: ${f.error}`)],
    failedItems,
  };
  rt.logger.info('sample published', { ...summary, mode: 'per-cluster', namespace: rt.config.metricNamespace, region: rt.source.region });
  return summary;
}

/** The items that failed, with their errors in words. */
function failedItemsOf(results: readonly FanOutResult[]): { clusterNames: string[]; error: string }[] {
  return results.flatMap((r) => ('error' in r ? [{ clusterNames: r.clusterNames, error: itemErrorText(r.error) }] : []));
}

/** The remediation tick's merged summary: the items' RespondSummary figures together. */
export interface RemediationFanOutSummary {
  cycle: 'remediate';
  items: number;
  clusters: string[];
  findings: number;
  notified: number;
  planned: Record<string, number>;
  outcomes: { actionId: string; status: string; detail: string }[];
  problems: string[];
  failedItems: { clusterNames: string[]; error: string }[];
}

/**
 * The remediation tick's merge: nothing to publish (the single tick publishes no account-level
 * metric; each item published its own ActionOutcomes), the summary logged once with the failed
 * items named (a failed item's changes in flight are followed by the next tick, as after a
 * failed single tick).
 */
function mergeRemediation(rt: Runtime, results: readonly FanOutResult[]): RemediationFanOutSummary {
  const answered = results.flatMap((r) => ('summary' in r ? [respondSummaryShape.parse(r.summary)] : []));
  const failedItems = failedItemsOf(results);
  const planned: Record<string, number> = {};
  for (const a of answered) for (const [state, n] of Object.entries(a.actions?.planned ?? {})) planned[state] = (planned[state] ?? 0) + n;
  const summary: RemediationFanOutSummary = {
    cycle: 'remediate',
    items: results.length,
    clusters: answered.flatMap((a) => a.clusters ?? []),
    findings: answered.reduce((n, a) => n + (a.findings ?? 0), 0),
    notified: answered.reduce((n, a) => n + (a.notified ?? 0), 0),
    planned,
    outcomes: answered.flatMap((a) => a.actions?.outcomes ?? []).map(({ actionId, status, detail }) => ({ actionId, status, detail })),
    problems: [...answered.flatMap((a) => a.problems ?? []), ...failedItems.map((f) => `${f.clusterNames.join(', ')}: the fan-out item failed: ${f.error}`)],
    failedItems,
  };
  for (const f of failedItems) rt.logger.error('fan-out item failed', { clusters: f.clusterNames, error: f.error });
  rt.logger.info('remediation tick done', { ...summary, mode: 'per-cluster' });
  return summary;
}
