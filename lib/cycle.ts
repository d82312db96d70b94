/**
 * One full cycle, whatever triggered it (the schedule, an event, the CLI), as six stage calls:
 *
 *   collect ─▶ measure ─▶ diagnose ─▶ forecast ─▶ plan and act ─▶ output
 *
 * Design: docs/architecture.md#libcyclets-one-full-cycle
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { remediate, type ClusterRemediation, type RemediationDeps } from './act/remediate';
import type { CycleDeadline } from './deadline';
import { diagnose } from './diagnose/diagnose';
import type { DiagnoseThresholds, Finding } from './diagnose/types';
import { problemList } from './errors';
import { forecastFindings, type Forecasts, type HistoryReader } from './forecast/forecast';
import { forecastRegionLimits, type RegionHistoryReader } from './forecast/region-limits';
import { collectInventory } from './inventory/collect';
import type { CollectionProblem, Inventory, InventorySource } from './inventory/types';
import { measure } from './measure/measure';
import type { RegionLimitsUsage } from './measure/region-limits';
import type { Usage } from './measure/types';
import type { NotifyResult } from './output/notify/notify';
import { publishAndNotify, type OutputDeps } from './output/output';
import { effectivePolicy } from './policy/load';

export interface CycleDeps extends OutputDeps {
  source: InventorySource;
  thresholds: DiagnoseThresholds;
  /** The policy, and where changes are allowed, what applies them. Without it nothing is planned. */
  remediation?: RemediationDeps;
  /**
   * The metric history the forecast reads (lib/aws/metric-history.ts `availableIpHistoryReader`:
   * the stack's own metrics in CloudWatch); without it nothing is forecast.
   */
  history?: HistoryReader;
  /** The region-level metrics' history (lib/aws/metric-history.ts `regionLimitsHistoryReader`); without it the quota findings have no forecast. */
  regionHistory?: RegionHistoryReader;
  /** History the forecast looks at (hours) and the metric period (seconds). */
  forecastWindowHours?: number;
  periodSeconds?: number;
  /**
   * When collection stops (the Lambda's remaining time less a margin to publish and record). The
   * source is bound by it (lib/aws/live-source.ts forCycle): the reads it cut fail like any
   * failed read. The cycle names them in its problems, reads no metric history once it has
   * passed, and publishes what is complete.
   */
  deadline?: CycleDeadline;
  /** What is wrong with the policy's source (a central policy's refused parts, or why it is unavailable): first in the cycle's problems. */
  policyProblems?: string[];
}

export interface CycleOptions {
  clusterNames: string[];
  concurrency: number;
  now: Date;
  /** Also read each cluster VPC's network (the network preflight's findings): CollectOptions `network`. */
  network?: boolean;
  /** The functions' VPC placement (CollectOptions `functionPlacement`), for the kube-access diagnosis. */
  functionPlacement?: { subnetIds: string[]; securityGroupIds: string[] };
  /**
   * A fan-out item (lib/fanout.ts): the region-level figures the dispatch measured once for the
   * account. The cycle then makes no region-level read, judges these (only the VPCs of its own
   * clusters), and leaves the account-level metrics and the region's problems to the merge.
   */
  fanOut?: { region?: RegionLimitsUsage };
}

export interface CycleResult {
  inventory: Inventory;
  usage: Usage;
  findings: Finding[];
  forecasts?: Forecasts;
  metricsPublished: number;
  putMetricDataCalls: number;
  notifications?: NotifyResult;
  remediation?: ClusterRemediation[];
  /** What did not work in this cycle, named; the cycle went on. */
  problems: string[];
}

/** Runs one cycle. Throws only when the clusters cannot be listed or the metrics cannot be published. */
export async function runCycle(deps: CycleDeps, options: CycleOptions): Promise<CycleResult> {
  const { now } = options;
  const given = options.fanOut;
  const inventory = await collectInventory(deps.source, given ? { ...options, regionLimits: false } : options);
  const usage = measure(inventory);
  if (given) {
    const region = regionOfItem(given.region, usage);
    if (region) usage.regionLimits = region;
  }
  const diagnosed = diagnose(usage, inventory, thresholdsOf(deps));
  const forecast = await forecastFindings(deps.history, usage, diagnosed, {
    now,
    ...(deps.forecastWindowHours !== undefined ? { windowHours: deps.forecastWindowHours } : {}),
    ...(deps.periodSeconds !== undefined ? { periodSeconds: deps.periodSeconds } : {}),
    ...(deps.deadline ? { deadline: deps.deadline } : {}),
  });
  const { forecasts } = forecast;
  const regionForecast = await forecastRegionLimits(deps.regionHistory, usage, forecast.findings, {
    now,
    ...(deps.forecastWindowHours !== undefined ? { windowHours: deps.forecastWindowHours } : {}),
    ...(deps.periodSeconds !== undefined ? { periodSeconds: deps.periodSeconds } : {}),
    ...(deps.deadline ? { deadline: deps.deadline } : {}),
  });
  const findings = regionForecast.findings;
  const remediation = deps.remediation ? await remediate(deps.remediation, usage, inventory, findings, now) : undefined;
  // Every read of the cycle is made by now (the spare subnets' included).
  const cut = deadlineProblem(deps.deadline);
  const output = await publishAndNotify(given && deps.metrics ? { ...deps, metrics: { ...deps.metrics, accountMetrics: false } } : deps, { usage, findings, forecasts, remediation, now });

  const problems = [
    ...(deps.policyProblems ?? []),
    ...samplingProblems(usage),
    // The region-level reads that failed (no cluster is incomplete for them).
    ...(given ? [] : (usage.regionLimits?.problems ?? []).map((p) => `region ${usage.region}: ${p}`)),
    ...(cut ? [cut] : []),
    ...forecast.problems,
    ...regionForecast.problems,
    ...(remediation ?? []).flatMap((r) => r.notes.map((n) => `${r.cluster}: ${n}`)),
    ...output.problems,
  ];
  const { metricsPublished, putMetricDataCalls, notifications } = output;
  return { inventory, usage, findings, forecasts, metricsPublished, putMetricDataCalls, notifications, remediation, problems };
}

/**
 * A fan-out item's share of the region-level figures: the VPCs of its own clusters (the dispatch
 * groups the clusters of a VPC into one item, so none is judged twice), and no eni-quota figures
 * when it sampled no cluster (as a single cycle with no cluster has no region section).
 */
function regionOfItem(given: RegionLimitsUsage | undefined, usage: Usage): RegionLimitsUsage | undefined {
  if (!given || usage.clusters.length === 0) return undefined;
  const own = new Set(usage.clusters.map((c) => c.name));
  return { ...given, vpcs: given.vpcs.filter((v) => v.clusters.some((c) => own.has(c))) };
}

/** The thresholds a cluster is diagnosed with: with a policy, its own (the policy's over the stage's). */
function thresholdsOf(deps: CycleDeps): DiagnoseThresholds | ((cluster: string) => DiagnoseThresholds) {
  const policy = deps.remediation?.policy;
  return policy ? (cluster) => effectivePolicy(policy, cluster, deps.thresholds).thresholds : deps.thresholds;
}

/**
 * The cycle's problems about clusters that could not be sampled, or only in part: named in the
 * cycle's problems so that every caller (the responder's summary included) reports them.
 */
export function samplingProblems(usage: Usage): string[] {
  return [
    ...usage.failedClusters.map((f) => `${f.name}: could not be sampled: ${f.problem.message}`),
    ...usage.clusters.filter((x) => !x.complete).map((c) => `${c.name}: data incomplete (nothing acts on it): ${distinctMessages(c.problems)}`),
  ];
}

/**
 * The problems' messages, each once: one bad file fails two reads (the subnets by id and by tag)
 * with the same message, said once with the count, as the report's "Incomplete data" says it.
 */
function distinctMessages(problems: readonly CollectionProblem[]): string {
  const counts = new Map<string, number>();
  for (const p of problems) counts.set(p.message, (counts.get(p.message) ?? 0) + 1);
  return [...counts].map(([message, n]) => (n > 1 ? `${message} (${n} reads)` : message)).join('; ');
}

/** A problem as logged: with the error it was made from, whole (not enumerable on the problem itself). */
function withCause(p: CollectionProblem): CollectionProblem | (CollectionProblem & { cause: unknown }) {
  return p.cause === undefined ? p : { ...p, cause: p.cause };
}

/** The cycle's problem that names the reads its deadline cut; undefined when it cut none. */
export function deadlineProblem(deadline: CycleDeadline | undefined): string | undefined {
  const cut = deadline?.cutReads ?? [];
  if (cut.length === 0) return undefined;
  return `collection stopped at the deadline (${deadline?.why}): ${cut.length} read(s) cut: ${problemList(cut.map((problem) => ({ problem })))}`;
}

/**
 * Logs what a cycle could not see or do: the same lines from the sampler and the responder
 * ('cluster sampling failed' with the call and code, 'cluster data incomplete' with the problems,
 * unknown instance types, 'collection stopped at the deadline' with the reads it cut, then each
 * other cycle problem once, with `attributes`).
 */
export function logCycleHealth(
  logger: Logger,
  result: Pick<CycleResult, 'usage' | 'problems'>,
  attributes: Record<string, string> = {},
  deadline?: CycleDeadline,
): void {
  const { usage } = result;
  for (const f of usage.failedClusters) {
    logger.error('cluster sampling failed', {
      cluster: f.name,
      operation: f.problem.source,
      code: f.problem.code,
      error: f.problem.message,
      ...(f.problem.cause === undefined ? {} : { cause: f.problem.cause }),
    });
  }
  for (const c of usage.clusters.filter((x) => !x.complete)) {
    logger.warn('cluster data incomplete', { cluster: c.name, problems: c.problems.map(withCause) });
  }
  for (const t of usage.unknownInstanceTypes) {
    logger.warn('instance type unknown to DescribeInstanceTypes', { instanceType: t });
  }
  const cut = deadlineProblem(deadline);
  if (cut && deadline) {
    logger.warn('collection stopped at the deadline', { ...attributes, why: deadline.why, budgetMs: deadline.budgetMs, readsCut: deadline.cutReads });
  }
  // The failed and incomplete clusters' sampling problems and the deadline's are logged above
  // with their details; every other problem (a remediation note of such a cluster included) is
  // logged here.
  const logged = new Set([...samplingProblems(usage), ...(cut ? [cut] : [])]);
  for (const p of result.problems) {
    if (!logged.has(p)) logger.warn('cycle problem', { ...attributes, problem: p });
  }
}
