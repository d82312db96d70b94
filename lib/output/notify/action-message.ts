/**
 * Messages about remediation: a change started, progressed, succeeded or failed. One message per
 * outcome (each is an event in itself, not a state to de-duplicate), in the same forms as the
 * finding notifications: text for people, JSON for machines, attributes for filter policies.
 */
import type { ActionOutcome, ActionRecord } from '../../act/types';
import type { ActionChange, PlannedAction } from '../../plan/types';
import { dashboardUrl, snsSubject, type Notification, type NotificationContext } from './message';

/** One line that says what the change sets. */
export function describeChange(change: ActionChange): string {
  switch (change.type) {
    case 'addon-env': {
      const set = Object.entries(change.set).map(([k, v]) => `${k}=${v}`).join(' ');
      const was = Object.entries(change.previous).map(([k, v]) => `${k}=${v === '' ? '(unset)' : v}`).join(' ');
      return `${change.target === 'aws-node' ? 'aws-node DaemonSet (self-managed, server-side apply)' : 'vpc-cni add-on'}: ${set} (was ${was})`;
    }
    case 'tag-subnets': {
      // Steering: the cluster tag removed, with the value it had (what puts it back).
      const exclude = (change.exclude ?? []).map((e) => `${e.key}=${e.value} from ${e.subnetId}`);
      const steer = exclude.length > 0 ? `; then remove ${exclude.join(', ')} (steering: that subnet stops serving the cluster)` : '';
      if (change.subnetIds.length === 0 && exclude.length > 0) return `remove ${exclude.join(', ')} (steering: that subnet stops serving the cluster)`;
      return change.subnetIds.length > 0
        ? `tag ${change.subnetIds.join(', ')} ${change.tag.key}=${change.tag.value} for VPC CNI subnet discovery${steer}`
        : `tag a spare subnet ${change.tag.key}=${change.tag.value} for VPC CNI subnet discovery (none found)`;
    }
    case 'reserve-prefixes':
      return `reserve ${change.cidrs.join(', ')} in ${change.subnetId} for /28 prefixes (subnet CIDR reservation, type prefix)`;
    case 'replace-nodegroup':
      if (change.toInstanceTypes.length > 0 && change.toInstanceTypes.join() === change.fromInstanceTypes.join()) {
        return `roll nodegroup ${change.nodegroup} onto new nodes: ${change.newNodegroup} (same instance types ${change.toInstanceTypes.join(', ')}), ${change.scaling.desiredSize} nodes, then scale ${change.nodegroup} down`;
      }
      return change.toInstanceTypes.length > 0
        ? `replace nodegroup ${change.nodegroup} (${change.fromInstanceTypes.join(', ')}) by ${change.newNodegroup} (${change.toInstanceTypes.join(', ')}), ${change.scaling.desiredSize} nodes`
        : `replace nodegroup ${change.nodegroup} (${change.fromInstanceTypes.join(', ')}) by instance types with more IP capacity (none found)`;
    case 'delete-enis':
      return change.enis.length > 0
        ? `delete ${change.enis.length} leaked VPC CNI ENI(s) of ${change.clusterTag}: ${change.enis.map((e) => e.networkInterfaceId).join(', ')}`
        : `delete leaked VPC CNI ENIs of ${change.clusterTag} (none old enough)`;
    case 'karpenter-subnet-terms':
      // The previous terms verbatim: applying them back is the revert.
      return (
        `EC2NodeClass ${change.nodeClass}: spec.subnetSelectorTerms = ${JSON.stringify(change.terms)}` +
        `${change.removed.length > 0 ? ` (leaves ${change.removed.join(', ')}` : ' ('}${change.added.length > 0 ? `${change.removed.length > 0 ? '; ' : ''}adds ${change.added.join(', ')}` : ''}); ` +
        `was ${JSON.stringify(change.previousTerms)}: apply that back to revert`
      );
    case 'karpenter-requirements':
      return (
        `NodePool ${change.nodePool}: requirement ${change.widened.key} widened by ${change.widened.added.join(', ')}` +
        `${change.addedTypes.length > 0 ? ` (allows ${change.addedTypes.slice(0, 6).map((t) => `${t.instanceType} ${t.pods} pods`).join(', ')}${change.addedTypes.length > 6 ? ` and ${change.addedTypes.length - 6} more` : ''})` : ''}; ` +
        `previous spec.template.spec.requirements ${JSON.stringify(change.previous)}: apply that back to revert`
      );
    case 'eni-configs':
      return `custom networking: ENIConfig ${change.eniConfigs.map((e) => `${e.name} → ${e.subnet} (${e.securityGroups.join(', ')})`).join(', ')}, then ${describeChange(change.env)}`;
  }
}

/** A planned action in one line, for the report and the finding notifications. */
export function describePlanned(a: PlannedAction): string {
  const state = a.state === 'apply' ? 'will apply' : a.state === 'dry-run' ? 'dry-run' : 'blocked';
  const why = a.blockedBy.length > 0 ? ` (${a.blockedBy.join('; ')})` : '';
  return `${state}: ${describeChange(a.change)}. Predicted: ${a.predicted.text}${why}`;
}

const SUBJECT: Record<ActionOutcome['status'], string> = {
  started: 'STARTED',
  'in-progress': 'IN PROGRESS',
  succeeded: 'DONE',
  failed: 'FAILED',
  skipped: 'SKIPPED',
  quarantined: 'QUARANTINED',
};

/** The notification of one action outcome. */
export function buildActionNotification(record: ActionRecord, outcome: ActionOutcome, ctx: NotificationContext, now: Date): Notification {
  const url = ctx.dashboardName ? dashboardUrl(ctx.region, ctx.dashboardName) : undefined;
  const lines = [
    `${SUBJECT[outcome.status]}: ${describeChange(record.change)}`,
    '',
    `Cluster: ${record.cluster} (${ctx.region})`,
    `Why: ${record.reason}`,
    `Predicted: ${record.predicted.text}`,
    `Outcome: ${outcome.detail}${outcome.step ? ` (step ${outcome.step})` : ''}`,
    ...(outcome.reference ? [`Reference: ${outcome.reference}`] : []),
    `Started: ${record.startedAt}`,
  ];
  if (url) lines.push('', `Dashboard: ${url}`);
  lines.push('', `Action ${record.actionId}${ctx.stage ? `, stage ${ctx.stage}` : ''}, ${now.toISOString()}`);
  return {
    subject: snsSubject(`[ACTION ${SUBJECT[outcome.status]}] ${record.cluster}: ${describeChange(record.change)}`),
    text: lines.join('\n'),
    json: {
      schema: 'eks-ip-responder/action/v1',
      region: ctx.region,
      cluster: record.cluster,
      actionId: record.actionId,
      kind: record.kind,
      status: outcome.status,
      ...(outcome.step ? { step: outcome.step } : {}),
      change: record.change,
      predicted: record.predicted,
      reason: record.reason,
      detail: outcome.detail,
      ...(outcome.reference ? { reference: outcome.reference } : {}),
      startedAt: record.startedAt,
      ...(url ? { dashboardUrl: url } : {}),
      time: now.toISOString(),
    },
    about: record.actionId,
    attributes: {
      cluster: record.cluster,
      kind: `action:${record.kind}`,
      severity: outcome.status === 'failed' || outcome.status === 'quarantined' ? 'critical' : 'info',
      transition: `action-${outcome.status}`,
    },
  };
}
