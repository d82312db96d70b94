/**
 * Plan: runs the planners of a cluster and puts every proposal through the safety gates.
 * Pure: no AWS, no clock (now is in the context).
 * Design (the gates, in order): docs/remediation.md#libplangatests-the-safety-gates
 */
import type { Cluster } from '@aws-sdk/client-eks';
import { actionPolicyOf, OPT_IN_TAG_KEY, OPT_IN_TAG_VALUE, POLICY_KEY } from '../policy/types';
import type { ActionHistory, ActionPlanner, PlanContext, PlannedAction, ProposedAction } from './types';

/** Whether the EKS cluster carries the opt-in tag. */
export function optedIn(cluster: Cluster): boolean {
  return cluster.tags?.[OPT_IN_TAG_KEY] === OPT_IN_TAG_VALUE;
}

/** EKS updates in flight on the cluster, its vpc-cni add-on or its nodegroups, named. */
export function updatesInFlight(ctx: PlanContext): string[] {
  const out: string[] = [];
  const status = ctx.inventory.cluster.status;
  if (status && status !== 'ACTIVE') out.push(`cluster ${ctx.inventory.name} is ${status}`);
  if (ctx.inventory.cni.kind === 'managed') {
    const s = ctx.inventory.cni.addon.status;
    if (s && s !== 'ACTIVE' && s !== 'DEGRADED') out.push(`the vpc-cni add-on is ${s}`);
  }
  for (const ng of ctx.inventory.nodegroups) {
    if (ng.status && ng.status !== 'ACTIVE' && ng.status !== 'DEGRADED') out.push(`nodegroup ${ng.nodegroupName} is ${ng.status}`);
  }
  return out;
}

/** Gates one cluster's proposals. */
export function gateActions(ctx: PlanContext, proposals: ProposedAction[], history: ActionHistory): PlannedAction[] {
  const policy = ctx.policy;
  if (policy.mode === 'observe') return [];
  const inFlight = [
    ...(history.inFlight
      ? [`a change is in flight: ${history.inFlight.actionId} (${history.inFlight.step}) since ${history.inFlight.since}`]
      : []),
    ...updatesInFlight(ctx).map((u) => `an update is in flight: ${u}`),
  ];
  const optIn = optedIn(ctx.inventory.cluster);
  let applying: string | undefined;
  return proposals.map((p) => {
    const blockedBy: string[] = [];
    const key = POLICY_KEY[p.kind];
    const actionPolicy = actionPolicyOf(policy.actions, p.kind);
    if (!actionPolicy.allowed) blockedBy.push(`not allowed by the policy (actions.${key}.allowed is false)`);
    blockedBy.push(...p.blockers);
    if (!ctx.usage.complete) {
      blockedBy.push(`data incomplete: ${ctx.usage.problems.map((x) => x.message).join('; ') || 'a read failed'}`);
    }
    blockedBy.push(...inFlight);
    const last = history.lastStartedByKind[p.kind];
    if (last) {
      const until = new Date(Date.parse(last) + actionPolicy.cooldownMinutes * 60_000);
      if (until > ctx.now) blockedBy.push(`cooldown: the last ${p.kind} change was at ${last}; next one from ${until.toISOString()}`);
    }
    if (policy.mode === 'apply' && !optIn) {
      blockedBy.push(`cluster not opted in: tag the EKS cluster ${OPT_IN_TAG_KEY}=${OPT_IN_TAG_VALUE} to let the policy's apply mode change it`);
    }
    if (blockedBy.length > 0) return { ...p, state: 'blocked', blockedBy };
    if (policy.mode === 'dry-run') return { ...p, state: 'dry-run', blockedBy: ['the policy mode is dry-run'] };
    if (applying) return { ...p, state: 'blocked', blockedBy: [`one change per cluster per cycle: ${applying} goes first`] };
    applying = p.id;
    return { ...p, state: 'apply', blockedBy: [] };
  });
}

/** Runs the planners (least disruptive first) and gates their proposals. */
export function planCluster(ctx: PlanContext, planners: ActionPlanner[], history: ActionHistory): PlannedAction[] {
  if (ctx.policy.mode === 'observe') return [];
  return gateActions(
    ctx,
    planners.flatMap((plan) => plan(ctx)),
    history,
  );
}
