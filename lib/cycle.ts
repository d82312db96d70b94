/**
 * One full cycle, whatever triggered it (the schedule, an event, the CLI):
 *
 *   collect ─▶ measure ─▶ diagnose ─▶ forecast ─▶ publish ─▶ notify
 *
 * Only collect, the history read, publish and notify talk to AWS; measure, diagnose and the
 * forecast arithmetic are pure. A failure of the history read leaves the findings without a
 * forecast (named in `problems`); a failure to notify is named and the rest goes on.
 */
import type { CloudWatchClient, MetricDatum } from '@aws-sdk/client-cloudwatch';
import { putMetricData } from './aws/cloudwatch';
import { readAvailableIpHistory } from './aws/metric-history';
import { remediate, type ClusterRemediation, type RemediationDeps } from './act/remediate';
import { diagnose } from './diagnose/diagnose';
import type { DiagnoseThresholds, Finding, Forecast } from './diagnose/types';
import type { CycleDeadline } from './deadline';
import { messageOf, problemList } from './errors';
import { forecastMetricData, forecastsFor, subnetKey, type Forecasts } from './forecast/forecast';
import type { Inventory, InventorySource } from './inventory/types';
import type { Usage } from './measure/types';
import { describePlanned } from './notify/action-message';
import { notifyFindings, type NotifyDeps, type NotifyResult } from './notify/notify';
import { effectivePolicy } from './policy/load';
import { sample } from './pipeline';
import { buildMetricData, datum } from './publish/metrics';

export interface CycleDeps {
  source: InventorySource;
  thresholds: DiagnoseThresholds;
  /** Where history is read from and metrics go; without it there is no forecast and nothing is published. */
  metrics?: { cloudwatch: CloudWatchClient; namespace: string; publish: boolean };
  /** Without it nothing is notified (the CLI). */
  notify?: NotifyDeps;
  /** The policy, and where changes are allowed, what applies them. Without it nothing is planned. */
  remediation?: RemediationDeps;
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
}

export interface CycleOptions {
  clusterNames: string[];
  concurrency: number;
  now: Date;
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

/** Puts each forecast on the findings it concerns: a subnet's own, else the cluster's. */
export function attachForecasts(findings: Finding[], forecasts: Forecasts): Finding[] {
  return findings.map((f) => {
    if (f.kind !== 'subnet-exhaustion' && f.kind !== 'control-plane-headroom' && f.kind !== 'ips-held-by-others' && f.kind !== 'prefix-fragmentation') {
      return f;
    }
    let forecast: Forecast | undefined;
    if (f.subject.type === 'subnet') forecast = forecasts.subnets.get(subnetKey(f.cluster, f.subject.id));
    forecast ??= forecasts.clusters.get(f.cluster);
    return forecast ? { ...f, forecast } : f;
  });
}

/**
 * The cycle's problems about clusters that could not be sampled, or only in part: named in the
 * cycle's problems so that every caller (the responder's summary included) reports them.
 */
export function samplingProblems(usage: Usage): string[] {
  return [
    ...usage.failedClusters.map((f) => `${f.name}: could not be sampled: ${f.problem.message}`),
    ...usage.clusters.filter((x) => !x.complete).map((c) => `${c.name}: data incomplete (nothing acts on it): ${c.problems.map((p) => p.message).join('; ')}`),
  ];
}

/** The cycle's problem that names the reads its deadline cut; undefined when it cut none. */
export function deadlineProblem(deadline: CycleDeadline | undefined): string | undefined {
  const cut = deadline?.cutReads ?? [];
  if (cut.length === 0) return undefined;
  return `collection stopped at the deadline (${deadline?.why}): ${cut.length} read(s) cut: ${problemList(cut.map((problem) => ({ problem })))}`;
}

/** Runs one cycle. Throws only when the clusters cannot be listed or the metrics cannot be published. */
export async function runCycle(deps: CycleDeps, options: CycleOptions): Promise<CycleResult> {
  const { inventory, usage } = await sample(deps.source, options);
  const problems: string[] = samplingProblems(usage);
  const sampling = problems.length;
  // With a policy, each cluster is diagnosed with its own thresholds (the policy's over the stage's).
  const policy = deps.remediation?.policy;
  let findings = diagnose(
    usage,
    inventory,
    policy ? (cluster) => effectivePolicy(policy, cluster, deps.thresholds).thresholds : deps.thresholds,
  );

  let forecasts: Forecasts | undefined;
  if (deps.metrics && deps.deadline?.passed()) {
    // The margin left is for publishing and recording what was collected.
    problems.push(`no forecast: the metric history was not read, the deadline had passed (${deps.deadline.why})`);
  } else if (deps.metrics) {
    const periodSeconds = deps.periodSeconds ?? 300;
    const hours = deps.forecastWindowHours ?? 24;
    try {
      const history = await readAvailableIpHistory(
        deps.metrics.cloudwatch,
        deps.metrics.namespace,
        usage.clusters.map((c) => ({ clusterName: c.name, subnetIds: c.subnets.map((s) => s.subnetId) })),
        { start: new Date(options.now.getTime() - hours * 3_600_000), end: options.now, periodSeconds },
      );
      for (const [key, why] of history.incomplete) problems.push(`history of ${key} is incomplete: ${why}`);
      // This sample is not published yet: it is the newest point of each series.
      const t = new Date(usage.collectedAt);
      for (const c of usage.clusters) {
        for (const s of c.subnets) {
          const key = subnetKey(c.name, s.subnetId);
          history.subnets.set(key, [...(history.subnets.get(key) ?? []), { t, value: s.available }]);
        }
        history.clusters.set(c.name, [...(history.clusters.get(c.name) ?? []), { t, value: c.totals.availableIps }]);
      }
      forecasts = forecastsFor(history, options.now);
      findings = attachForecasts(findings, forecasts);
    } catch (err) {
      problems.push(`no forecast: ${messageOf(err)}`);
    }
  }

  let remediation: ClusterRemediation[] | undefined;
  if (deps.remediation) {
    remediation = await remediate(deps.remediation, usage, inventory, findings, options.now);
    for (const r of remediation) for (const n of r.notes) problems.push(`${r.cluster}: ${n}`);
  }
  // Every read of the cycle is made by now (the spare subnets' included): after the sampling problems.
  const cut = deadlineProblem(deps.deadline);
  if (cut) problems.splice(sampling, 0, cut);

  let metricsPublished = 0;
  let putMetricDataCalls = 0;
  if (deps.metrics) {
    const data: MetricDatum[] = [];
    if (deps.metrics.publish) {
      data.push(...buildMetricData(usage));
      if (forecasts) data.push(...forecastMetricData(forecasts, new Date(usage.collectedAt)));
    }
    // What was planned and done is published by whichever function planned it (the responder's
    // targeted cycles publish no usage metrics, but their actions are theirs alone).
    if (remediation) {
      const actions = remediationMetricData(remediation, new Date(usage.collectedAt));
      data.push(...(deps.metrics.publish ? actions : actions.filter((d) => d.MetricName === 'ActionOutcomes')));
    }
    if (data.length > 0) {
      putMetricDataCalls = await putMetricData(deps.metrics.cloudwatch, deps.metrics.namespace, data);
      metricsPublished = data.length;
    }
  }

  let notifications: NotifyResult | undefined;
  if (deps.notify) {
    const plans = new Map<string, string[]>();
    for (const r of remediation ?? []) {
      for (const a of r.planned) {
        for (const id of a.findingIds) plans.set(id, [...(plans.get(id) ?? []), describePlanned(a)]);
      }
    }
    notifications = await notifyFindings(deps.notify, usage, findings, options.now, plans);
    for (const f of notifications.failures) {
      problems.push(`notification of ${f.findingId ?? f.cluster}: ${f.message}`);
    }
    // Action outcomes are notified by the act loop itself (lib/act/act.ts): the final message
    // of a change is part of its state machine, sent once before its lock is released.
  }
  return { inventory, usage, findings, forecasts, metricsPublished, putMetricDataCalls, notifications, remediation, problems };
}

/**
 * `PlannedActions` {ClusterName, State} (apply / dry-run / blocked) and `ActionOutcomes`
 * {ClusterName, Kind, Status}: bounded by clusters × a few values.
 */
export function remediationMetricData(remediation: ClusterRemediation[], timestamp: Date): MetricDatum[] {
  const out: MetricDatum[] = [];
  for (const r of remediation) {
    for (const state of ['apply', 'dry-run', 'blocked'] as const) {
      out.push(datum('PlannedActions', r.planned.filter((a) => a.state === state).length, 'Count', { ClusterName: r.cluster, State: state }, timestamp));
    }
    for (const { outcome, record } of r.results) {
      out.push(datum('ActionOutcomes', 1, 'Count', { ClusterName: r.cluster, Kind: record?.kind ?? 'unknown', Status: outcome.status }, timestamp));
    }
  }
  return out;
}
