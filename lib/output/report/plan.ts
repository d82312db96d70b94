/**
 * The what-if plan as text. Pure.
 *
 * Each sampled cluster shows every action kind: planned (will apply, dry-run, blocked), or why it
 * is absent. A cluster that could not be sampled is listed with nothing planned; an incomplete one
 * is marked INCOMPLETE (nothing acts on it).
 */
import { cniActionsExclusion, subnetReservationsExclusion } from '../../inventory/cluster-network';
import type { ClusterRemediation } from '../../act/remediate';
import type { Finding } from '../../diagnose/types';
import type { ClusterUsage, Usage } from '../../measure/types';
import { ACTION_KINDS, POLICY_KEY, type ActionKind } from '../../policy/types';
import { describeChange } from '../notify/action-message';

const STATE: Record<string, string> = { apply: 'WILL APPLY', 'dry-run': 'DRY-RUN', blocked: 'BLOCKED' };

/** Every action kind, in the planners' order (least disruptive first). */
export { ACTION_KINDS };

/** What the plan's text and JSON say besides the planned actions. */
export interface PlanReportContext {
  usage: Usage;
  findings: Finding[];
  /** Whether the cluster's policy allows an action kind (`actions.<kind>.allowed`); undefined when not known. */
  allowed?: (cluster: string, kind: ActionKind) => boolean | undefined;
}

const has = (findings: readonly Finding[], cluster: string, test: (f: Finding) => boolean): boolean =>
  findings.some((f) => f.cluster === cluster && test(f));

/** A pod subnet (or a nodegroup's AZ) short of addresses: what warm targets and CNI subnets answer. */
const scarce = (f: Finding): boolean =>
  (f.kind === 'subnet-exhaustion' || f.kind === 'ips-held-by-others') && (f.subject.type === 'subnet' || f.subject.type === 'availability-zone');
const exhausted = (f: Finding): boolean => f.kind === 'subnet-exhaustion' && (f.subject.type === 'subnet' || f.subject.type === 'availability-zone');
const capped = (f: Finding): boolean => f.kind === 'eni-limit' && f.subject.type === 'nodegroup';

/**
 * Why an action kind is not in a cluster's plan, by the planners' own conditions (lib/act/*: the
 * policy allows it, the add-on's settings are known, the finding it answers is there), first
 * condition that fails first. On incomplete data the reason says that a finding may be missing.
 */
export function absentReason(kind: ActionKind, r: ClusterRemediation, c: ClusterUsage | undefined, findings: readonly Finding[], allowed?: boolean): string {
  if (r.mode === 'observe') return 'the policy mode is observe: nothing is planned';
  if (allowed === false) return `not allowed by the policy (actions.${POLICY_KEY[kind]}.allowed is false)`;
  const cluster = r.cluster;
  const incomplete = c !== undefined && !c.complete;
  const noFinding = (what: string): string =>
    incomplete
      ? `no ${what} in the data that could be read; the data is incomplete, so one may be missing (and nothing acts on this cluster until it is complete)`
      : `no ${what}`;
  const cniUnknown = c?.cni.install === 'unknown';
  // Auto Mode and IPv6 clusters: the VPC CNI actions do not apply (lib/inventory/cluster-network.ts).
  const excluded = cniActionsExclusion(c?.network);
  if (excluded !== undefined && (kind === 'warm-targets' || kind === 'prefix-delegation' || kind === 'prefix-rollout')) return excluded;
  // IPv6 clusters: no IPv4 /28 prefix to reserve for.
  const noReservations = subnetReservationsExclusion(c?.network);
  if (noReservations !== undefined && kind === 'subnet-reservations') return noReservations;
  switch (kind) {
    case 'warm-targets':
      if (cniUnknown) return "the vpc-cni add-on could not be read: its current settings are not known";
      if (!has(findings, cluster, scarce)) return noFinding('pod subnet short of addresses (subnet-exhaustion or ips-held-by-others finding)');
      return 'no warm-target setting within the policy frees addresses in the scarce subnets (the settings are already those it would choose, or no node of a known type holds a warm pool there)';
    case 'cni-subnets':
      if (!has(findings, cluster, exhausted)) return noFinding('pod subnet short of addresses (subnet-exhaustion finding)');
      return `each scarce AZ already has a roomy subnet tagged kubernetes.io/role/cni that the CNI uses: another tag would not help`;
    case 'prefix-delegation':
      if (cniUnknown) return "the vpc-cni add-on could not be read: its current settings are not known";
      if (c?.cni.install === 'managed' && c.cni.prefixDelegation === true) return 'prefix delegation is on already (ENABLE_PREFIX_DELEGATION=true)';
      if (!has(findings, cluster, capped)) return noFinding('nodegroup capped by its instance type (eni-limit finding)');
      return 'none of the capped nodegroups could be planned';
    case 'prefix-rollout':
      if (c?.cni.prefixDelegation !== true) return 'prefix delegation is not on (the prefix-delegation action comes first)';
      if (!has(findings, cluster, (f) => capped(f) && c.nodegroups.some((g) => g.kind === 'managed' && g.name === f.subject.id))) {
        return noFinding('managed nodegroup capped by its instance type (eni-limit finding)');
      }
      return "the capped managed nodegroups' nodes run in prefix mode already";
    case 'instance-types':
      if (!has(findings, cluster, capped)) return noFinding('nodegroup capped by its instance type (eni-limit finding)');
      return 'none of the capped nodegroups could be planned';
    case 'subnet-reservations':
      if (incomplete) return 'the data is incomplete: the /28 blocks of a subnet whose ENIs or reservations were not read are not known (and nothing acts on this cluster until it is complete)';
      if (c?.cni.prefixDelegation !== true && !has(findings, cluster, (f) => f.kind === 'prefix-fragmentation')) {
        return 'no pod subnet in prefix mode (prefix delegation is off, and no prefix-fragmentation finding)';
      }
      return 'no allow-listed pod subnet (actions.subnetReservations.subnets) used in prefix mode lacks reserved room for prefixes, or none has a free aligned run of actions.subnetReservations.minBlocks /28 blocks within half of its free blocks and within the cap on prefix reservations (half of its usable /28 blocks)';
    case 'leaked-enis':
      if (!has(findings, cluster, (f) => f.kind === 'leaked-enis')) return noFinding('leaked ENI (leaked-enis finding)');
      return `no leaked ENI is tagged cluster.k8s.amazonaws.com/name=${cluster}: the others are their own cluster's to delete`;
    case 'karpenter-subnets':
      if (!has(findings, cluster, (f) => f.kind === 'karpenter-pool' && String(f.evidence['cause']).includes('subnets'))) {
        return noFinding('Karpenter NodePool on scarce subnets (karpenter-pool finding; needs the Kubernetes API read and Karpenter installed)');
      }
      return 'no allow-listed EC2NodeClass (actions.karpenterSubnets.nodeClasses) can leave its scarce subnets without leaving a zone with none: list subnets with room in those zones under actions.karpenterSubnets.subnets';
    case 'karpenter-instance-types':
      if (!has(findings, cluster, (f) => f.kind === 'karpenter-pool' && String(f.evidence['cause']).includes('instance-types'))) {
        return noFinding('Karpenter NodePool capped by IP capacity (karpenter-pool finding; needs the Kubernetes API read and Karpenter installed)');
      }
      return 'no allow-listed NodePool (actions.karpenterInstanceTypes.nodePools) has a requirement that can be widened to uncapped types within maxCapacityIncreasePercent';
    case 'eni-configs':
      if (excluded !== undefined) return excluded;
      if (!has(findings, cluster, exhausted)) return noFinding('pod subnet short of addresses (subnet-exhaustion finding)');
      return "custom networking could not be planned: no allow-listed subnet (actions.eniConfigs.subnets) could be read, or the ENIConfigs are in place already (the plan's notes say which)";
  }
}

/** Why each action kind missing from a cluster's plan is missing, by kind. */
export function absentReasons(r: ClusterRemediation, ctx: PlanReportContext | undefined): Partial<Record<ActionKind, string>> {
  const planned = new Set(r.planned.map((a) => a.kind));
  const c = ctx?.usage.clusters.find((x) => x.name === r.cluster);
  const out: Partial<Record<ActionKind, string>> = {};
  for (const kind of ACTION_KINDS) {
    if (!planned.has(kind)) out[kind] = absentReason(kind, r, c, ctx?.findings ?? [], ctx?.allowed?.(r.cluster, kind));
  }
  return out;
}

/** Renders every cluster's plan: each action, why, its predicted effect, what blocks it, and why the others are absent. */
export function renderPlan(remediation: ClusterRemediation[], policyFile: string, ctx?: PlanReportContext): string {
  const out: string[] = [`Remediation plan (policy ${policyFile}); nothing is changed by this command.`];
  for (const r of remediation) {
    const c = ctx?.usage.clusters.find((x) => x.name === r.cluster);
    out.push('', `Cluster ${r.cluster}: mode ${r.mode}${c && !c.complete ? '  INCOMPLETE: nothing acts on it until a sample is complete' : ''}`);
    for (const n of r.notes) out.push(`  note: ${n}`);
    for (const a of r.planned) {
      out.push(`  ${STATE[a.state] ?? a.state}: ${describeChange(a.change)}`);
      out.push(`    why: ${a.reason}`);
      out.push(`    predicted: ${a.predicted.text}`);
      if (a.predicted.ipsFreed !== undefined && a.predicted.ipsFreed !== 0) out.push(`    addresses: ${a.predicted.ipsFreed >= 0 ? 'frees' : 'takes'} ${Math.abs(a.predicted.ipsFreed)}`);
      if (a.predicted.podHeadroomGained !== undefined) out.push(`    pods of headroom: +${a.predicted.podHeadroomGained}`);
      if (a.change.type === 'addon-env' && a.change.selfManagedCommand) out.push(`    run: ${a.change.selfManagedCommand}`);
      if (a.change.type === 'eni-configs' && a.change.env.selfManagedCommand) out.push(`    run: ${a.change.env.selfManagedCommand}`);
      if (a.change.type === 'addon-env') for (const n of a.change.nodeChanges ?? []) out.push(`    nodes: ${n.nodegroup}: max pods ${n.maxPods}; ${n.note}`);
      for (const b of a.blockedBy) out.push(`    ${a.state === 'dry-run' ? 'because' : 'blocked by'}: ${b}`);
    }
    const absent = Object.entries(absentReasons(r, ctx));
    if (absent.length > 0) {
      out.push(r.planned.length === 0 ? '  no action:' : '  not planned:');
      for (const [kind, why] of absent) out.push(`    ${kind}: ${why}`);
    }
  }
  for (const f of ctx?.usage.failedClusters ?? []) {
    out.push('', `Cluster ${f.name}: FAILED: could not be sampled, nothing is planned: ${f.problem.message}`);
  }
  return out.join('\n') + '\n';
}
