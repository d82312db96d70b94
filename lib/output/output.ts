/**
 * The output stage: what leaves a cycle. The metrics go to CloudWatch through the `put` it is
 * given (lib/aws/cloudwatch.ts, bound by the composition root, so that this module loads no AWS
 * SDK) and the findings that appeared, worsened or cleared are notified (lib/output/notify). The
 * report text of the CLI is rendered from the cycle's result by lib/output/report.
 *
 * Action outcomes are notified by the act loop itself (lib/act/act.ts): the final message of a
 * change is part of its state machine, sent once before its lock is released.
 */
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { ClusterRemediation } from '../act/remediate';
import type { Finding } from '../diagnose/types';
import type { Forecasts } from '../forecast/forecast';
import type { Usage } from '../measure/types';
import { describePlanned } from './notify/action-message';
import { notifyFindings, type NotifyDeps, type NotifyResult } from './notify/notify';
import { buildMetricData, forecastMetricData, METRIC, remediationMetricData } from './publish/metrics';

/**
 * The metrics of the account and region, once per cycle (no ClusterName): a fan-out's merge
 * publishes them, its items do not (ClustersSampled counts cycles for the not-running alarm).
 */
export const ACCOUNT_METRICS: ReadonlySet<string> = new Set([
  METRIC.ClustersSampled,
  METRIC.ClustersFailed,
  METRIC.RegionEniCount,
  METRIC.RegionEniQuota,
  METRIC.RegionEniQuotaUtilization,
  METRIC.VpcNetworkAddressUsage,
  METRIC.VpcNetworkAddressUsageUtilization,
]);

/**
 * Puts metric data in the stack's namespace; resolves to the number of requests made
 * (lib/aws/cloudwatch.ts `putMetricData`). Throws when the data cannot be published.
 */
export type MetricPublisher = (data: MetricDatum[]) => Promise<number>;

export interface OutputDeps {
  /**
   * Where metrics go; without it nothing is published. With `publish` false (the responder's
   * targeted cycles) only the outcomes of the actions it took are.
   */
  metrics?: {
    put: MetricPublisher;
    publish: boolean;
    /** Published with the usage metrics (the central policy's health: lib/runtime.ts). */
    extra?: MetricDatum[];
    /**
     * false: leave out the account-level metrics ({@link ACCOUNT_METRICS}: a fan-out item's, which
     * the merge publishes once for the whole account, lib/fanout.ts). Default true.
     */
    accountMetrics?: boolean;
  };
  /** Without it nothing is notified (the CLI). */
  notify?: NotifyDeps;
}

/** What the cycle produced, for its output. */
export interface CycleOutcome {
  usage: Usage;
  findings: Finding[];
  forecasts?: Forecasts;
  remediation?: ClusterRemediation[];
  now: Date;
}

export interface OutputResult {
  metricsPublished: number;
  putMetricDataCalls: number;
  notifications?: NotifyResult;
  /** The notifications that failed, named; the rest went on. */
  problems: string[];
}

/**
 * Publishes the metrics, then notifies. Throws when the metrics cannot be published; a failed
 * notification is named in `problems`.
 */
export async function publishAndNotify(deps: OutputDeps, cycle: CycleOutcome): Promise<OutputResult> {
  const { usage, findings, forecasts, remediation, now } = cycle;
  let metricsPublished = 0;
  let putMetricDataCalls = 0;
  if (deps.metrics) {
    const data: MetricDatum[] = [];
    if (deps.metrics.publish) {
      const all = buildMetricData(usage);
      data.push(...(deps.metrics.accountMetrics === false ? all.filter((d) => !ACCOUNT_METRICS.has(d.MetricName ?? '')) : all));
      if (forecasts) data.push(...forecastMetricData(forecasts, new Date(usage.collectedAt)));
      data.push(...(deps.metrics.extra ?? []));
    }
    // What was planned and done is published by whichever function planned it (the responder's
    // targeted cycles publish no usage metrics, but their actions are theirs alone).
    if (remediation) {
      const actions = remediationMetricData(remediation, new Date(usage.collectedAt));
      data.push(...(deps.metrics.publish ? actions : actions.filter((d) => d.MetricName === 'ActionOutcomes')));
    }
    if (data.length > 0) {
      putMetricDataCalls = await deps.metrics.put(data);
      metricsPublished = data.length;
    }
  }

  const problems: string[] = [];
  let notifications: NotifyResult | undefined;
  if (deps.notify) {
    const plans = new Map<string, string[]>();
    for (const r of remediation ?? []) {
      for (const a of r.planned) {
        for (const id of a.findingIds) plans.set(id, [...(plans.get(id) ?? []), describePlanned(a)]);
      }
    }
    notifications = await notifyFindings(deps.notify, usage, findings, now, plans);
    for (const f of notifications.failures) {
      problems.push(`notification of ${f.findingId ?? f.cluster}: ${f.message}`);
    }
    // The central topic's failures, the action outcomes' (sent earlier in the cycle) included.
    problems.push(...(deps.notify.central?.problems ?? []));
  }
  return { metricsPublished, putMetricDataCalls, notifications, problems };
}
