/**
 * The responder's routing: what each event becomes.
 *
 * handlers/respond.ts is the Lambda entry point that calls {@link respond}.
 *
 * Design: docs/responder.md#libeventsroutets-the-responders-routing
 */
import { randomUUID } from 'node:crypto';
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { Context } from 'aws-lambda';
import type { ClusterRemediation } from '../act/remediate';
import { putMetricData } from '../aws/cloudwatch';
import { EventInProgressError, type EventClaim } from '../aws/ledger';
import { resolveClusters } from '../aws/resolve';
import { logCycleHealth, runCycle } from '../cycle';
import { cycleDeadline, type CycleDeadline } from '../deadline';
import { messageOf } from '../errors';
import { itemAnswerProblems, parseFanOutItem } from '../fanout';
import type { RegionLimitsUsage } from '../measure/region-limits';
import { datum } from '../output/publish/metrics';
import type { PolicyInForce } from '../policy/central';
import { effectivePolicy } from '../policy/load';
import { cycleDeps, inForcePolicy, withPaceShare, type Runtime } from '../runtime';
import { eventHead, MalformedEventError, parseResponderEvent, type AllocationFailureEvent, type AlarmEvent } from './parse';
import { NOT_ANSWERED, STACK_ALARM_SUFFIXES } from './stack-alarms';

export interface RespondSummary {
  status: 'handled' | 'ignored' | 'duplicate' | 'rejected' | 'unresolved' | 'debounced';
  eventId?: string;
  reason?: string;
  clusters?: string[];
  findings?: number;
  notified?: number;
  /** Planned actions by state, and the outcomes of what was applied or followed. */
  actions?: { planned: Record<string, number>; outcomes: { actionId: string; status: string; detail: string }[] };
  problems?: string[];
}

/** Metric names the responder publishes. */
export const RESPOND_METRIC = {
  AllocationFailures: 'AllocationFailures',
  EventsRejected: 'EventsRejected',
} as const;

/**
 * Added to the invocation's remaining time for the claim's lease, so that a clock a little ahead
 * on another host does not take a live claim; well under the minute Lambda waits before its
 * first retry, so a dead invocation's claim is free by then.
 */
export const CLAIM_LEASE_MARGIN_MS = 5_000;
/** The lease without a Lambda context (tests, scripts): the function's `timeout` (serverless.yml, 120 s). */
export const DEFAULT_CLAIM_LEASE_MS = 120_000;

/** A count of one. */
const one = (name: string, dims: Record<string, string>, time: Date): MetricDatum => datum(name, 1, 'Count', dims, time);

/** The clusters the responder watches: the configured ones, or every cluster in the region. */
async function candidates(rt: Runtime): Promise<string[]> {
  return rt.config.clusterNames.length > 0 ? rt.config.clusterNames : rt.source.listClusters();
}

async function clustersOfAlarm(rt: Runtime, e: AlarmEvent): Promise<string[]> {
  const all = await candidates(rt);
  const named = [...new Set((e.contributors ?? []).map((c) => c.clusterName).filter((c): c is string => !!c))];
  const watched = named.filter((c) => all.includes(c));
  return watched.length > 0 ? watched : all;
}

function isScheduledEvent(event: unknown): boolean {
  const e = event as { 'detail-type'?: unknown; source?: unknown } | null;
  return !!e && typeof e === 'object' && e['detail-type'] === 'Scheduled Event' && e.source === 'aws.events';
}

/**
 * The remediation tick (its own schedule): a cycle of the clusters whose policy is in apply
 * mode, so that an approved change starts even without an event, and a change in flight (an
 * add-on update, a nodegroup replacement between its steps) is followed to its end. Clusters
 * in observe or dry-run mode are the sampler's alone.
 */
async function onSchedule(rt: Runtime, now: Date, deadline: CycleDeadline | undefined): Promise<RespondSummary> {
  const all = await candidates(rt);
  const inForce = await inForcePolicy(rt);
  const applying = all.filter((c) => effectivePolicy(inForce.policy, c, rt.config.thresholds).mode === 'apply');
  if (applying.length === 0) {
    // A central policy that could not be used puts every cluster in dry-run: say why, not only that none applies.
    return { status: 'handled', clusters: [], reason: 'no cluster is in apply mode in the policy', ...(inForce.problems.length > 0 ? { problems: inForce.problems } : {}) };
  }
  return cycle(rt, 'schedule', applying, now, deadline, inForce);
}

/**
 * The remediation tick fanned out (cycleMode=per-cluster, lib/fanout.ts): one item's clusters,
 * with the region-level figures the dispatch read once; the same cycle as {@link onSchedule}'s,
 * of the item's clusters in apply mode.
 */
async function onFanOutTick(rt: Runtime, item: { clusterNames: string[]; fanOut: { region?: RegionLimitsUsage }; paceShare?: number }, now: Date, deadline: CycleDeadline | undefined): Promise<RespondSummary> {
  const inForce = await inForcePolicy(rt);
  const applying = item.clusterNames.filter((c) => effectivePolicy(inForce.policy, c, rt.config.thresholds).mode === 'apply');
  if (applying.length === 0) {
    return { status: 'handled', clusters: [], reason: 'no cluster of the item is in apply mode in the policy', ...(inForce.problems.length > 0 ? { problems: itemAnswerProblems(inForce.problems) } : {}) };
  }
  // At the item's share of the read pace (lib/fanout.ts parseFanOutItem).
  const out = await withPaceShare(rt, item.paceShare, () => cycle(rt, 'schedule', applying, now, deadline, inForce, item.fanOut));
  // The answer goes back inline to the Map: its problems bounded (the cycle logged every one).
  return out.problems ? { ...out, problems: itemAnswerProblems(out.problems) } : out;
}

/** The invocation an event arrives with: the Lambda context's fields the routing reads. */
export type Invocation = Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>;

/**
 * Answers one delivery: the remediation tick, a rejected, ignored, duplicate or in-progress
 * event, or a claimed event answered by a targeted cycle of the clusters it concerns.
 * @throws EventInProgressError when another invocation holds the event's claim (Lambda retries).
 */
export async function respond(rt: Runtime, event: unknown, invocation?: Invocation): Promise<RespondSummary> {
  const now = rt.now();
  // The targeted cycle's collection stops a margin before the timeout (lib/deadline.ts).
  const deadline = invocation ? cycleDeadline(rt, invocation.getRemainingTimeInMillis()) : undefined;
  if (isScheduledEvent(event)) return onSchedule(rt, now, deadline);
  const item = parseFanOutItem(event);
  if (item) return onFanOutTick(rt, item, now, deadline);
  let parsed;
  try {
    parsed = parseResponderEvent(event, { alarmNamePrefix: rt.config.alarmNamePrefix, stackAlarms: { names: STACK_ALARM_SUFFIXES, unanswered: NOT_ANSWERED } });
  } catch (err) {
    if (!(err instanceof MalformedEventError)) throw err;
    // Retrying cannot fix a malformed event: counted first (nothing after can lose the count),
    // then logged (even when the count failed) by its head fields and problems, never whole: it
    // may be too deep or too big to log, and CloudTrail records carry access key ids and source IPs.
    try {
      await putMetricData(rt.cloudwatch, rt.config.metricNamespace, [one(RESPOND_METRIC.EventsRejected, {}, now)]);
    } finally {
      rt.logger.error('event rejected', { ...eventHead(event), problems: err.problems.slice(0, LOGGED_PROBLEMS) });
    }
    return { status: 'rejected', reason: err.message };
  }
  if (parsed.type === 'ignored') {
    rt.logger.info('event ignored', { eventId: parsed.eventId, reason: parsed.reason });
    return { status: 'ignored', eventId: parsed.eventId, reason: parsed.reason };
  }
  const eventId = parsed.eventId;
  const taken = await rt.ledger.claimEvent(eventId, {
    owner: invocation?.awsRequestId || randomUUID(),
    now,
    leaseMs: (invocation ? invocation.getRemainingTimeInMillis() : DEFAULT_CLAIM_LEASE_MS) + CLAIM_LEASE_MARGIN_MS,
  });
  if (taken.status === 'duplicate') {
    rt.logger.info('duplicate delivery ignored', { eventId, completedAt: taken.completedAt });
    return { status: 'duplicate', eventId };
  }
  if (taken.status === 'in-progress') {
    rt.logger.info('event is being handled by another invocation; Lambda retries this delivery', { eventId, owner: taken.owner });
    throw new EventInProgressError(eventId, taken.owner, taken.leaseUntil);
  }
  const { claim } = taken;
  if (taken.retakenFrom) {
    rt.logger.warn('event claim retaken from an invocation that did not finish', { eventId, previousOwner: taken.retakenFrom.owner });
  }
  let summary: RespondSummary;
  try {
    summary = parsed.type === 'alarm' ? await onAlarm(rt, parsed, now, deadline) : await onAllocationFailure(rt, parsed, now, deadline);
  } catch (err) {
    // Let Lambda's retry of this delivery handle it again instead of taking it for a duplicate.
    await release(rt, claim);
    throw err;
  }
  return complete(rt, claim, summary);
}

/** At most this many problems of a rejected event are logged (the count is in the reason). */
const LOGGED_PROBLEMS = 10;

async function release(rt: Runtime, claim: EventClaim): Promise<void> {
  try {
    if (!(await rt.ledger.releaseEvent(claim))) {
      rt.logger.warn("event claim not released: it was no longer this invocation's (released already, or taken over)", { eventId: claim.eventId });
    }
  } catch (err) {
    // The claim's lease runs out at the end of this invocation: the retry takes it over then.
    rt.logger.error('could not release the event claim', { eventId: claim.eventId, error: messageOf(err) });
  }
}

/**
 * Marks the claim COMPLETED. A failure to do so does not fail the invocation: the event was
 * answered, and a Lambda retry would answer it again. It is reported instead; the claim stays
 * INPROGRESS until its lease runs out, after which a redelivery would be answered again.
 */
async function complete(rt: Runtime, claim: EventClaim, summary: RespondSummary): Promise<RespondSummary> {
  let problem: string | undefined;
  try {
    if (!(await rt.ledger.completeEvent(claim, rt.now()))) problem = `the claim of event ${claim.eventId} was taken over by another invocation before it was marked completed`;
  } catch (err) {
    problem = `could not mark event ${claim.eventId} completed: ${messageOf(err)}`;
  }
  if (problem === undefined) return summary;
  rt.logger.error('event claim not completed', { eventId: claim.eventId, problem });
  return { ...summary, problems: [...(summary.problems ?? []), problem] };
}

async function onAllocationFailure(rt: Runtime, e: AllocationFailureEvent, now: Date, deadline: CycleDeadline | undefined): Promise<RespondSummary> {
  const resolution = await resolveClusters(
    rt.ec2,
    rt.source,
    {
      subnetIds: e.subnetIds,
      networkInterfaceIds: e.networkInterfaceIds,
      instanceIds: e.instanceIds,
      ...(e.clusterNameHint ? { clusterNameHint: e.clusterNameHint } : {}),
    },
    await candidates(rt),
  );
  const time = new Date(e.time);
  const when = Number.isNaN(time.getTime()) ? now : time;
  const clusters = resolution.clusters.length > 0 ? resolution.clusters : ['unresolved'];
  await putMetricData(
    rt.cloudwatch,
    rt.config.metricNamespace,
    clusters.map((c) => one(RESPOND_METRIC.AllocationFailures, { ClusterName: c, Kind: e.kind }, when)),
  );
  rt.logger.warn('allocation failure', {
    eventId: e.eventId,
    source: e.source,
    api: e.api,
    errorCode: e.errorCode,
    errorMessage: e.errorMessage,
    kind: e.kind,
    subnetIds: resolution.subnetIds,
    clusters: resolution.clusters,
    how: resolution.how,
  });
  if (resolution.clusters.length === 0) {
    return { status: 'unresolved', eventId: e.eventId, reason: resolution.how };
  }
  return cycle(rt, e.eventId, resolution.clusters, now, deadline);
}

async function onAlarm(rt: Runtime, e: AlarmEvent, now: Date, deadline: CycleDeadline | undefined): Promise<RespondSummary> {
  const clusters = await clustersOfAlarm(rt, e);
  rt.logger.info('alarm state change', { eventId: e.eventId, alarm: e.alarmName, state: e.state, clusters });
  return cycle(rt, e.eventId, clusters, now, deadline);
}

/**
 * A targeted cycle: the clusters concerned only; no usage metrics (the sampler publishes them on
 * its schedule). A cluster cycled by the responder less than RESPOND_MIN_INTERVAL_SECONDS ago is
 * left out: in an incident every failed allocation is its own event, and a describe cycle for
 * each would throttle the EC2 API that the VPC CNI itself needs.
 */
async function cycle(
  rt: Runtime,
  eventId: string,
  candidates: string[],
  now: Date,
  deadline: CycleDeadline | undefined,
  given?: PolicyInForce,
  /** A fan-out item's region-level figures (CycleOptions `fanOut`). */
  fanOut?: { region?: RegionLimitsUsage },
): Promise<RespondSummary> {
  const clusters: string[] = [];
  for (const c of candidates) {
    if (await rt.actions.claimCycle(c, 'respond', now, rt.config.respondMinIntervalSeconds)) clusters.push(c);
  }
  const debounced = candidates.filter((c) => !clusters.includes(c));
  if (debounced.length > 0) {
    rt.logger.info('cluster cycled moments ago; event counted, not answered again', { eventId, clusters: debounced });
  }
  if (clusters.length === 0) {
    return { status: 'debounced', eventId, clusters: [], reason: `cycled less than ${rt.config.respondMinIntervalSeconds} s ago: ${debounced.join(', ')}` };
  }
  let result;
  try {
    const inForce = given ?? (await inForcePolicy(rt));
    result = await runCycle(cycleDeps(rt, false, true, deadline, inForce), { clusterNames: clusters, concurrency: rt.config.clusterConcurrency, now, ...(fanOut ? { fanOut } : {}) });
  } catch (err) {
    // The cycle failed (and the event's claim is released by the caller): give the clusters'
    // cycle claims back too, or Lambda's retry of this event would be debounced by them.
    for (const c of clusters) {
      await rt.actions.releaseCycle(c, 'respond', now).catch((e: unknown) => rt.logger.error('could not give back the cycle claim', { eventId, cluster: c, error: messageOf(e) }));
    }
    throw err;
  }
  logCycleHealth(rt.logger, result, { eventId }, deadline);
  return {
    status: 'handled',
    eventId,
    clusters,
    findings: result.findings.length,
    notified: result.notifications?.notified.length ?? 0,
    actions: actionSummary(result.remediation ?? []),
    problems: result.problems,
  };
}

function actionSummary(remediation: ClusterRemediation[]): NonNullable<RespondSummary['actions']> {
  const planned: Record<string, number> = {};
  for (const r of remediation) for (const a of r.planned) planned[a.state] = (planned[a.state] ?? 0) + 1;
  const outcomes = remediation.flatMap((r) =>
    r.results.map(({ outcome }) => ({ actionId: outcome.actionId, status: outcome.status, detail: outcome.detail })),
  );
  return { planned, outcomes };
}

