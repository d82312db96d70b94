/**
 * Notification messages: what a person reads on a phone, and a JSON form for machines.
 * Pure: a finding and its transition in, an SNS message out.
 *
 * The message is published with MessageStructure 'json' so that each protocol gets its own
 * form (SNS developer guide, "Sending custom messages for each protocol"): e-mail and SMS the
 * text, SQS / Lambda / HTTP(S) / Firehose the JSON document. Message attributes carry the
 * cluster, cause, severity and transition for subscription filter policies.
 */
import type { Finding, FindingKind } from '../../diagnose/types';

export type TransitionKind = 'appeared' | 'worsened' | 'cleared' | 'still-open';

/** The cause in words, as the report and the notification name it. */
export const CAUSE_TITLE: Record<FindingKind, string> = {
  'subnet-exhaustion': 'subnet close to full',
  'eni-limit': 'nodes at their instance type ENI/IP limit',
  'ips-held-by-others': 'IPs held by warm pools or other ENIs',
  'prefix-fragmentation': 'no room for /28 prefixes',
  'control-plane-headroom': 'control-plane subnets short of free IPs',
  'nodegroup-headroom': 'a nodegroup update or scale-out would not fit',
  'vpc-dns': 'the VPC DNS is not what EKS needs',
  'node-egress': 'nodes in a subnet with no way out',
  'cni-discovery': 'VPC CNI subnet selection',
  'eni-quota': 'the account near its ENIs-per-Region quota',
  'network-address-usage': 'the VPC near its Network Address Usage quota',
  'leaked-enis': 'leaked ENIs holding IPs for gone instances',
  'max-pods-mismatch': 'kubelet max pods does not fit the nodes\' IPs',
  'pods-failing-ip': 'pods failing IP assignment now',
  'karpenter-pool': 'a Karpenter NodePool short of subnet or per-node IP capacity',
  'kube-access': 'the Kubernetes API could not be read',
};

export interface NotificationContext {
  region: string;
  /** CloudWatch dashboard of the stack, if known. */
  dashboardName?: string;
  /** The stage, e.g. prod. */
  stage?: string;
}

export interface Notification {
  subject: string;
  text: string;
  /** The machine-readable form: a finding document, or an action document (lib/output/notify/action-message.ts). */
  json: NotificationDocument | ActionDocument;
  attributes: Record<string, string>;
  /** What it is about (finding or action id), for error messages. */
  about: string;
}

/** The machine-readable form of an action outcome (schema version 1). */
export interface ActionDocument {
  schema: 'eks-ip-responder/action/v1';
  region: string;
  cluster: string;
  actionId: string;
  kind: string;
  status: string;
  step?: string;
  change: unknown;
  predicted: unknown;
  reason: string;
  detail: string;
  reference?: string;
  startedAt: string;
  dashboardUrl?: string;
  time: string;
}

/** The machine-readable form (schema version 1). */
export interface NotificationDocument {
  schema: 'eks-ip-responder/notification/v1';
  transition: TransitionKind;
  region: string;
  cluster: string;
  findingId: string;
  kind: FindingKind;
  severity: Finding['severity'];
  subject: Finding['subject'];
  title: string;
  evidence: Finding['evidence'];
  fixes: string[];
  forecast?: Finding['forecast'];
  dashboardUrl?: string;
  time: string;
}

/**
 * SNS subjects must be ASCII, without line breaks, shorter than 100 characters
 * (SNS API reference, Publish: Subject).
 */
export function snsSubject(text: string): string {
  const ascii = text
    .replace(/\s+/g, ' ')
    .replace(/[\u2012-\u2015\u2212]/g, '-')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/ {2,}/g, ' ')
    .trim();
  return ascii.length <= 99 ? ascii : `${ascii.slice(0, 96)}...`;
}

/** The console URL of a CloudWatch dashboard. */
export function dashboardUrl(region: string, name: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(name)}`;
}

const LABEL: Record<TransitionKind, string> = {
  appeared: 'new',
  worsened: 'worse',
  cleared: 'cleared',
  'still-open': 'still open',
};

/**
 * The cause, evidence, forecast and fixes of a finding, one line each: the same words in the
 * notification and in the CLI report.
 */
export function findingDetails(finding: Finding): string[] {
  const lines = [`Cause: ${CAUSE_TITLE[finding.kind]}`];
  if (finding.evidenceText.length > 0) {
    lines.push('', 'Evidence:');
    for (const e of finding.evidenceText) lines.push(`- ${e}`);
  }
  if (finding.forecast) lines.push('', `Forecast: ${finding.forecast.summary}`);
  const [first, ...rest] = finding.fixes;
  if (first) lines.push('', `First fix to try: ${first}`);
  if (rest.length > 0) {
    lines.push('Then:');
    for (const f of rest) lines.push(`- ${f}`);
  }
  return lines;
}

/** Builds the notification of one finding transition. */
export function buildNotification(
  finding: Finding,
  transition: TransitionKind,
  ctx: NotificationContext,
  now: Date,
  /** The remediation planned for the finding, one line each (will apply, dry-run, blocked). */
  plan: string[] = [],
): Notification {
  const severity = finding.severity.toUpperCase();
  const url = ctx.dashboardName ? dashboardUrl(ctx.region, ctx.dashboardName) : undefined;
  // The subject leads with what a person triages on: [CRITICAL], [CRITICAL, worse], [CLEARED].
  const tag = transition === 'cleared' ? 'CLEARED' : transition === 'appeared' ? severity : `${severity}, ${LABEL[transition]}`;
  const subject = snsSubject(`[${tag}] ${finding.cluster}: ${finding.title}`);
  const lines: string[] = [];
  if (transition === 'cleared') {
    lines.push(`Cleared: ${finding.title}`, '', `Cluster: ${finding.cluster} (${ctx.region})`);
    lines.push(`Cause that was open: ${CAUSE_TITLE[finding.kind]}`);
  } else {
    lines.push(`${severity} (${LABEL[transition]}): ${finding.title}`, '');
    lines.push(`Cluster: ${finding.cluster} (${ctx.region})`);
    lines.push(...findingDetails(finding));
    if (plan.length > 0) {
      lines.push('', 'Remediation plan:');
      for (const p of plan) lines.push(`- ${p}`);
    }
  }
  if (url) lines.push('', `Dashboard: ${url}`);
  lines.push('', `Finding ${finding.id}${ctx.stage ? `, stage ${ctx.stage}` : ''}, ${now.toISOString()}`);
  const json: NotificationDocument = {
    schema: 'eks-ip-responder/notification/v1',
    transition,
    region: ctx.region,
    cluster: finding.cluster,
    findingId: finding.id,
    kind: finding.kind,
    severity: finding.severity,
    subject: finding.subject,
    title: finding.title,
    evidence: finding.evidence,
    fixes: finding.fixes,
    ...(finding.forecast ? { forecast: finding.forecast } : {}),
    ...(url ? { dashboardUrl: url } : {}),
    time: now.toISOString(),
  };
  return {
    subject,
    text: lines.join('\n'),
    json,
    about: finding.id,
    attributes: {
      cluster: finding.cluster,
      kind: finding.kind,
      severity: transition === 'cleared' ? 'cleared' : finding.severity,
      transition,
    },
  };
}
