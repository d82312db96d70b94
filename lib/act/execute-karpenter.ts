/**
 * Applies the Karpenter actions by server-side apply through the cluster's access entry
 * (ExecuteDeps.kube): `karpenter-subnets` sets an EC2NodeClass's spec.subnetSelectorTerms,
 * `karpenter-instance-types` a NodePool's spec.template.spec.requirements. Both lists are atomic,
 * so the whole list is sent; no other field is. GET first (changed since the plan: skipped), a
 * dry run, the write announced, the apply; a 409 names the field's manager and is never forced.
 * Contract: docs/remediation.md, "Karpenter".
 */
import { canonicalRequirements } from '../capacity/karpenter-requirements';
import { list } from '../diagnose/context';
import { messageOf } from '../errors';
import { KubeApiError, type KubeApi, type KubeObjectRef, type KubeRequirement } from '../inventory/kube-types';
import type { ActionChange, ActionKind, KarpenterSubnetTerm } from '../plan/types';
import { applyConflictsOf, isTransientKubeError, openKube, withOwnedFields } from './kube-write';
import type { ActionExecutor, ActionOutcome, ExecuteDeps } from './types';
import { intendWrite } from './write-intent';

/** The step an applied change is at (its status check may follow in a later cycle). */
export const APPLIED_STEP = 'applied';
/** Between two reads of status.subnets while `start` waits for Karpenter to resolve the new terms (it requeues every minute). */
export const STATUS_POLL_MS = 10_000;

export function ec2NodeClassRef(name: string): KubeObjectRef {
  return { apiVersion: 'karpenter.k8s.aws/v1', kind: 'EC2NodeClass', plural: 'ec2nodeclasses', name };
}

export function nodePoolRef(name: string): KubeObjectRef {
  return { apiVersion: 'karpenter.sh/v1', kind: 'NodePool', plural: 'nodepools', name };
}

function at(obj: Record<string, unknown> | undefined, path: string[]): unknown {
  let v: unknown = obj;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** Selector terms in a canonical form (ids, tags sorted by key) for comparing. */
export function canonicalTerms(terms: unknown): string {
  if (!Array.isArray(terms)) return 'absent';
  return JSON.stringify(
    (terms as KarpenterSubnetTerm[]).map((t) => ({
      ...(t.id ? { id: t.id } : {}),
      ...(t.tags ? { tags: Object.fromEntries(Object.entries(t.tags).sort(([a], [b]) => a.localeCompare(b))) } : {}),
    })),
  );
}

function liveRequirements(obj: Record<string, unknown> | undefined): string {
  const rs = at(obj, ['spec', 'template', 'spec', 'requirements']);
  return Array.isArray(rs) ? canonicalRequirements(rs as KubeRequirement[]) : 'absent';
}

/** The managers a server-side apply conflict names (lib/act/kube-write.ts applyConflictsOf), each once. */
export function conflictManagers(err: KubeApiError): string[] {
  const named = (applyConflictsOf(err) ?? []).map((c) => c.manager).filter((m) => m !== 'another field manager');
  return [...new Set(named)];
}

/** What a failed Kubernetes call becomes: the field's other manager named on a 409, retryable on 429 / 5xx / no answer. */
function kubeFailure(actionId: string, what: string, field: string, err: unknown, stage: 'before' | 'applying' | 'checking'): ActionOutcome {
  // A refusal (4xx) applied nothing; a 5xx or no answer to the apply may have been applied.
  const refused = err instanceof KubeApiError && err.status < 500;
  const nothing =
    stage === 'before' ? 'nothing changed' : stage === 'checking' ? 'the change applied earlier was not checked now' : refused ? 'nothing was applied' : 'the apply may have been made';
  if (err instanceof KubeApiError) {
    if (err.status === 409) {
      const managers = conflictManagers(err);
      return {
        actionId,
        status: 'failed',
        detail:
          `server-side apply conflict on ${what}: ${field} is managed by ${managers.length > 0 ? list(managers.map((m) => `"${m}"`)) : 'another field manager'} (${err.message}); ${nothing}. ` +
          `The responder never forces ownership: make the change in that manager's source (the Helm values, the GitOps repository), or let this manager own the field.`,
      };
    }
    if (err.status === 403) {
      return { actionId, status: 'failed', detail: `forbidden on ${what} (${err.message}): the access entry's Kubernetes group needs get and patch on it (docs/iam.md); ${nothing}` };
    }
    return { actionId, status: 'failed', retryable: isTransientKubeError(err), detail: `${what}: HTTP ${err.status} ${err.reason ?? ''} ${err.message}; ${nothing}` };
  }
  // No answer (connection reset, timeout): transient.
  return { actionId, status: 'failed', retryable: true, detail: `${what}: ${messageOf(err)}; ${nothing}` };
}

/** Opens the cluster's API (lib/act/kube-write.ts openKube); the reason in words when it cannot. */
async function connect(cluster: string, deps: ExecuteDeps, following: boolean): Promise<KubeApi | string> {
  try {
    return await openKube(deps, cluster);
  } catch (err) {
    return `the Kubernetes API of ${cluster} could not be opened: ${messageOf(err)}; ${following ? 'not checked now' : 'nothing changed'}`;
  }
}

interface Target {
  ref: KubeObjectRef;
  what: string;
  field: string;
  /** The live value, canonical. */
  live(obj: Record<string, unknown>): string;
  previous: string;
  wanted: string;
  body: Record<string, unknown>;
  /** A problem of the live object that forbids the apply (undefined: none). */
  refuse?: (obj: Record<string, unknown>) => string | undefined;
  /** Whether the object's status shows the change taken up (undefined: nothing to wait for). */
  settled?: (obj: Record<string, unknown>) => string | undefined;
}

function targetOf(change: ActionChange): Target | string {
  if (change.type === 'karpenter-subnet-terms') {
    const wanted = new Set(change.terms.map((t) => t.id));
    return {
      ref: ec2NodeClassRef(change.nodeClass),
      what: `EC2NodeClass ${change.nodeClass}`,
      field: 'spec.subnetSelectorTerms',
      live: (o) => canonicalTerms(at(o, ['spec', 'subnetSelectorTerms'])),
      previous: canonicalTerms(change.previousTerms),
      wanted: canonicalTerms(change.terms),
      body: { spec: { subnetSelectorTerms: change.terms.map((t) => ({ id: t.id })) } },
      // A kept term must be a subnet Karpenter resolves the node class to now; the act loop holds the added ones to the allow list.
      refuse: (o) => {
        const subnets = at(o, ['status', 'subnets']);
        const resolved = new Set(Array.isArray(subnets) ? (subnets as { id?: string }[]).map((s) => s.id ?? '') : []);
        const stray = change.terms.map((t) => t.id).filter((id) => !resolved.has(id) && !change.added.includes(id));
        return stray.length > 0 ? `it would select ${stray.join(', ')}, which the node class does not resolve to now (status.subnets) and the change does not add` : undefined;
      },
      // Karpenter resolved the terms once status.subnets lists exactly the new subnets.
      settled: (o) => {
        const subnets = at(o, ['status', 'subnets']);
        const ids = Array.isArray(subnets) ? (subnets as { id?: string }[]).map((s) => s.id ?? '') : [];
        const same = ids.length === wanted.size && ids.every((id) => wanted.has(id));
        return same ? undefined : `status.subnets is ${ids.length > 0 ? ids.join(', ') : 'empty'}, not yet ${[...wanted].join(', ')}`;
      },
    };
  }
  if (change.type === 'karpenter-requirements') {
    return {
      ref: nodePoolRef(change.nodePool),
      what: `NodePool ${change.nodePool}`,
      field: 'spec.template.spec.requirements',
      live: liveRequirements,
      previous: canonicalRequirements(change.previous as KubeRequirement[]),
      wanted: canonicalRequirements(change.requirements as KubeRequirement[]),
      body: { spec: { template: { spec: { requirements: change.requirements } } } },
    };
  }
  return `not a Karpenter change (${change.type}): nothing changed`;
}

/** Waits for the status to show the change (up to followForMs, counted in polls so a test clock need not move). */
async function awaitSettled(actionId: string, api: KubeApi, t: Target, deps: ExecuteDeps): Promise<ActionOutcome> {
  const reference = `${t.ref.plural}/${t.ref.name}`;
  if (!t.settled) return { actionId, status: 'succeeded', step: APPLIED_STEP, reference, detail: `${t.what}: ${t.field} is as planned` };
  const polls = Math.max(0, Math.floor(deps.followForMs / STATUS_POLL_MS));
  let waiting = '';
  for (let i = 0; ; i++) {
    let obj: Record<string, unknown> | undefined;
    try {
      obj = await api.get(t.ref);
    } catch (err) {
      return { ...kubeFailure(actionId, t.what, t.field, err, 'checking'), step: APPLIED_STEP };
    }
    if (!obj) return { actionId, status: 'failed', step: APPLIED_STEP, detail: `${t.what} was deleted after the apply` };
    if (t.live(obj) !== t.wanted) {
      return { actionId, status: 'failed', step: APPLIED_STEP, detail: `${t.what}: ${t.field} was changed again by someone else after the apply (now ${t.live(obj)}); left as it is` };
    }
    const pending = t.settled(obj);
    if (pending === undefined) {
      return { actionId, status: 'succeeded', step: APPLIED_STEP, reference, detail: `${t.what}: ${t.field} applied, and Karpenter resolved it (status.subnets lists the new subnets)` };
    }
    waiting = pending;
    if (i >= polls) break;
    await deps.sleep(STATUS_POLL_MS);
  }
  return { actionId, status: 'in-progress', step: APPLIED_STEP, reference, detail: `${t.what}: ${t.field} applied; waiting for Karpenter: ${waiting}` };
}

async function run(actionId: string, cluster: string, change: ActionChange, deps: ExecuteDeps, appliedBefore: boolean, following = false): Promise<ActionOutcome> {
  const t = targetOf(change);
  if (typeof t === 'string') return { actionId, status: 'failed', detail: t };
  const api = await connect(cluster, deps, following);
  // Retryable, as the aws-node executor's: before a write the act loop skips it (planned again, the
  // plan's blocker names a lasting cause); after one, the change is followed again, not ended.
  if (typeof api === 'string') return { actionId, status: 'failed', retryable: true, detail: api };
  let obj: Record<string, unknown> | undefined;
  try {
    obj = await api.get(t.ref);
  } catch (err) {
    return kubeFailure(actionId, t.what, t.field, err, following ? 'checking' : 'before');
  }
  if (!obj) return { actionId, status: 'failed', detail: `${t.what} no longer exists: nothing changed` };
  const live = t.live(obj);
  // Already as wanted (an earlier run applied it, or someone did): no second write.
  if (live === t.wanted) return awaitSettled(actionId, api, t, deps);
  if (live !== t.previous) {
    return { actionId, status: 'skipped', detail: `${t.what}: ${t.field} changed since the plan (now ${live}, planned from ${t.previous}): nothing changed; the next cycle plans again from what is there` };
  }
  const refused = t.refuse?.(obj);
  if (refused) return { actionId, status: 'failed', detail: `${t.what}: ${refused}: nothing changed` };
  if (appliedBefore) {
    // Applied in an earlier cycle, and back to what it was: another manager (GitOps) reverted it.
    return { actionId, status: 'failed', step: APPLIED_STEP, detail: `${t.what}: ${t.field} is back to its previous value after the apply: another manager reverted it; not applied again (change it in that manager's source)` };
  }
  // Every other spec field this manager owns goes along, so that the apply keeps it.
  const body = withOwnedFields(obj, t.body);
  try {
    await api.apply(t.ref, body, { dryRun: true });
  } catch (err) {
    return kubeFailure(actionId, `${t.what} (dry run)`, t.field, err, 'before');
  }
  await intendWrite(deps, { step: APPLIED_STEP, operation: 'kubernetes:apply', target: `${t.ref.plural}/${t.ref.name}` }, '');
  try {
    await api.apply(t.ref, body);
  } catch (err) {
    return kubeFailure(actionId, t.what, t.field, err, 'applying');
  }
  return awaitSettled(actionId, api, t, deps);
}

function karpenterExecutor(kind: ActionKind): ActionExecutor {
  return {
    kind,
    start: (action, deps) => run(action.id, action.cluster, action.change, deps, false),
    // A record whose apply is known to have been answered (step `applied`) is never applied twice.
    follow: (record, deps) => run(record.actionId, record.cluster, record.change, deps, record.step === APPLIED_STEP, true),
  };
}

export const karpenterSubnetsExecutor = karpenterExecutor('karpenter-subnets');
export const karpenterInstanceTypesExecutor = karpenterExecutor('karpenter-instance-types');
