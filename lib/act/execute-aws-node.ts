/**
 * Executor of the env changes (warm-targets, prefix-delegation, custom networking's step 2) on a
 * self-managed aws-node: GET kube-system/aws-node, change nothing already as wanted, otherwise a
 * server-side apply of the env entries it sets and every field this product already owns (a dry
 * run first), announced (`intendWrite`) before it is sent; then the DaemonSet's rollout is followed.
 * Design: docs/remediation.md#self-managed-aws-node-server-side-apply
 */
import { KUBE_FIELD_MANAGER, type KubeApi, type KubeObjectRef } from '../inventory/kube-types';
import { clientRequestTokenFor } from '../keys';
import type { AddonEnvChange, PlannedAction } from '../plan/types';
import { isTransientKubeError, kubeErrorText, openKube, withOwnedFields } from './kube-write';
import type { ActionOutcome, ActionRecord, ExecuteDeps } from './types';
import { intendWrite } from './write-intent';

/** Between two GETs of the DaemonSet while its rollout runs (as the add-on executor polls DescribeUpdate). */
export const ROLLOUT_POLL_INTERVAL_MS = 5_000;
/** The step every outcome of this executor reports. */
export const AWS_NODE_STEP = 'apply-aws-node';
/** The write intent's operation: a server-side apply through the Kubernetes API. */
export const KUBE_APPLY_OPERATION = 'kube:apply';

export const AWS_NODE_REF: KubeObjectRef = { apiVersion: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets', namespace: 'kube-system', name: 'aws-node' };
const CONTAINER = 'aws-node';

/** What the executor reads of the DaemonSet. */
export interface AwsNodeView {
  /** The aws-node container's env: literal values; an entry with valueFrom has `undefined`. */
  env: Map<string, string | undefined>;
  /** The env entries this product's field manager owns by an Apply (metadata.managedFields). */
  ours: string[];
  generation: number;
  rollout: { done: boolean; text: string };
  /** The DaemonSet as read (its managedFields give the apply what this manager owns). */
  object: Record<string, unknown>;
}

const asRecord = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

/**
 * The rollout's state as `kubectl rollout status` judges a DaemonSet: the controller has seen the
 * spec (`observedGeneration >= generation`), every scheduled node runs the new template
 * (`updatedNumberScheduled >= desiredNumberScheduled`) and is available
 * (`numberAvailable >= desiredNumberScheduled`). kubernetes/kubectl@53ef3abb
 * pkg/polymorphichelpers/rollout_status.go `DaemonSetStatusViewer.Status`.
 */
export function daemonSetRollout(obj: Record<string, unknown>): { done: boolean; text: string } {
  const meta = asRecord(obj['metadata']);
  const status = asRecord(obj['status']);
  const generation = num(meta['generation']);
  const observed = num(status['observedGeneration']);
  const desired = num(status['desiredNumberScheduled']);
  const updated = num(status['updatedNumberScheduled']);
  const available = num(status['numberAvailable']);
  if (generation > observed) return { done: false, text: `the DaemonSet controller has not yet seen generation ${generation} (observed ${observed})` };
  if (updated < desired) return { done: false, text: `${updated} of ${desired} nodes run the new aws-node pod` };
  if (available < desired) return { done: false, text: `${available} of ${desired} updated aws-node pods are available` };
  return { done: true, text: `rolled out to all ${desired} nodes (generation ${generation})` };
}

/**
 * The env entries a field manager owns by Apply. managedFields' FieldsV1 names a keyed list entry
 * as `k:{"name":"<key>"}` (the Container and EnvVar lists are map-lists keyed by `name`).
 */
function ownedEnv(obj: Record<string, unknown>, manager: string): string[] {
  const out = new Set<string>();
  for (const entry of asArray(asRecord(obj['metadata'])['managedFields'])) {
    const e = asRecord(entry);
    if (e['manager'] !== manager || e['operation'] !== 'Apply') continue;
    const containers = asRecord(asRecord(asRecord(asRecord(asRecord(e['fieldsV1'])['f:spec'])['f:template'])['f:spec'])['f:containers']);
    const env = asRecord(asRecord(containers[`k:${JSON.stringify({ name: CONTAINER })}`])['f:env']);
    for (const key of Object.keys(env)) {
      const m = /^k:(\{.*\})$/.exec(key);
      if (!m) continue;
      try {
        const name = (JSON.parse(m[1] as string) as { name?: unknown }).name;
        if (typeof name === 'string') out.add(name);
      } catch {
        // Not a key this product writes: left alone.
      }
    }
  }
  return [...out].sort();
}

/** The DaemonSet as the executor needs it; undefined when it has no aws-node container. */
export function awsNodeViewOf(obj: Record<string, unknown>): AwsNodeView | undefined {
  const containers = asArray(asRecord(asRecord(asRecord(obj['spec'])['template'])['spec'])['containers']).map(asRecord);
  const container = containers.find((c) => c['name'] === CONTAINER);
  if (!container) return undefined;
  const env = new Map<string, string | undefined>();
  for (const e of asArray(container['env']).map(asRecord)) {
    if (typeof e['name'] !== 'string') continue;
    env.set(e['name'], e['valueFrom'] !== undefined ? undefined : typeof e['value'] === 'string' ? e['value'] : '');
  }
  return { env, ours: ownedEnv(obj, KUBE_FIELD_MANAGER), generation: num(asRecord(obj['metadata'])['generation']), rollout: daemonSetRollout(obj), object: obj };
}

/**
 * The apply configuration: every field this manager owns by Apply on the DaemonSet, at its live
 * value (kube-write `withOwnedFields`: after an operator handed it the whole manifest, all of it),
 * with the env entries it sets laid over the aws-node container's by name. With server-side apply
 * a field this manager applied before and leaves out would be removed, and every field it does not
 * name is kept. `containers` and `env` merge by `name`: Container.Env is `+listType=map
 * +listMapKey=name` (patchMergeKey `name`) and PodSpec.Containers the same (kubernetes/api
 * core/v1/types.go), so the other containers, entries and fields stay as they are.
 */
export function awsNodeApplyBody(obj: Record<string, unknown>, set: Record<string, string>): Record<string, unknown> {
  const owned = withOwnedFields(obj, {});
  const containers = asArray(asRecord(asRecord(asRecord(owned['spec'])['template'])['spec'])['containers']).map(asRecord);
  const mine = containers.find((c) => c['name'] === CONTAINER);
  const env = new Map<string, Record<string, unknown>>();
  for (const e of asArray(mine?.['env']).map(asRecord)) if (typeof e['name'] === 'string') env.set(e['name'], e);
  for (const [name, value] of Object.entries(set)) env.set(name, { name, value });
  const container = { ...mine, name: CONTAINER, env: [...env.values()].sort((a, b) => String(a['name']).localeCompare(String(b['name']))) };
  const list = mine ? containers.map((c) => (c === mine ? container : c)) : [...containers, container];
  // The containers list is sent whole (every owned entry in it), laid over the rest of what is owned.
  return withOwnedFields(obj, { spec: { template: { spec: { containers: list } } } });
}

const pairs = (set: Record<string, string>): string =>
  Object.entries(set)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

export function awsNodeChangeOf(change: PlannedAction['change'], actionId: string): AddonEnvChange {
  if (change.type !== 'addon-env' || change.target !== 'aws-node') {
    throw new Error(`action ${actionId}: the aws-node executor takes an addon-env change with target aws-node, not ${change.type}`);
  }
  return change;
}

/** The GET of aws-node, as a view or a failed outcome. */
async function readAwsNode(api: KubeApi, actionId: string, cluster: string, afterWrite: boolean): Promise<AwsNodeView | ActionOutcome> {
  let obj;
  try {
    obj = await api.get(AWS_NODE_REF);
  } catch (err) {
    return { actionId, status: 'failed', step: AWS_NODE_STEP, retryable: afterWrite || isTransientKubeError(err), detail: kubeErrorText(AWS_NODE_REF, 'reading', err) };
  }
  const view = obj ? awsNodeViewOf(obj) : undefined;
  if (!view) {
    return {
      actionId,
      status: 'failed',
      step: AWS_NODE_STEP,
      detail: `cluster ${cluster} has no kube-system/aws-node DaemonSet with an aws-node container${obj ? '' : ' (404)'}: nothing to change.`,
    };
  }
  return view;
}

const isOutcome = (x: AwsNodeView | ActionOutcome): x is ActionOutcome => 'status' in x;

/** The outcome of the rollout now, with the generation as reference. */
function rolloutOutcome(actionId: string, cluster: string, view: AwsNodeView, set: Record<string, string>, already: boolean): ActionOutcome {
  const base = { actionId, step: AWS_NODE_STEP, reference: `generation ${view.generation}` };
  const what = `aws-node of ${cluster}: ${pairs(set)}`;
  if (view.rollout.done) {
    return { ...base, status: 'succeeded', detail: already ? `already set on ${what}; nothing changed (${view.rollout.text}).` : `${what} applied and ${view.rollout.text}.` };
  }
  return { ...base, status: 'in-progress', detail: `${what} ${already ? 'already set' : 'applied'}; rollout in progress: ${view.rollout.text}.` };
}

/** GET, then every ROLLOUT_POLL_INTERVAL_MS while the rollout runs, at most `followForMs` (counted in polls). */
async function followRollout(api: KubeApi, deps: ExecuteDeps, actionId: string, cluster: string, set: Record<string, string>, first: AwsNodeView | undefined, already: boolean): Promise<ActionOutcome> {
  const polls = Math.max(0, Math.floor(deps.followForMs / ROLLOUT_POLL_INTERVAL_MS));
  let view = first;
  if (!view) {
    const read = await readAwsNode(api, actionId, cluster, true);
    if (isOutcome(read)) return read;
    view = read;
  }
  for (let i = 0; i < polls && !view.rollout.done; i++) {
    await deps.sleep(ROLLOUT_POLL_INTERVAL_MS);
    const read = await readAwsNode(api, actionId, cluster, true);
    if (isOutcome(read)) return read;
    view = read;
  }
  const drift = Object.entries(set).filter(([k, v]) => view.env.get(k) !== v);
  if (drift.length > 0) {
    return {
      actionId,
      status: 'failed',
      step: AWS_NODE_STEP,
      detail: `aws-node of ${cluster} no longer has ${drift.map(([k, v]) => `${k}=${v}`).join(', ')} (now ${drift.map(([k]) => `${k}=${view.env.get(k) ?? 'unset'}`).join(', ')}): another manager changed it since.`,
    };
  }
  return rolloutOutcome(actionId, cluster, view, set, already);
}

/**
 * The start: open the API, look, then (only if needed) a dry-run apply and the apply, then follow
 * the rollout a while. `resend`: an apply of this action was announced and its answer never
 * recorded; the keys may show as set because of it, and the rollout is then followed.
 */
export async function runAwsNodeEnv(action: Pick<PlannedAction, 'id' | 'cluster' | 'change'>, deps: ExecuteDeps, resend = false): Promise<ActionOutcome> {
  const change = awsNodeChangeOf(action.change, action.id);
  const failed = (detail: string, retryable = false): ActionOutcome => ({ actionId: action.id, status: 'failed', step: AWS_NODE_STEP, detail, ...(retryable ? { retryable } : {}) });
  let api: KubeApi;
  try {
    api = await openKube(deps, action.cluster);
  } catch (err) {
    // Nothing written: the next cycle plans again (the plan's blocker says why when it persists).
    return failed(`cannot open the Kubernetes API of ${action.cluster} to change aws-node: ${err instanceof Error ? err.message : String(err)}`, true);
  }
  const read = await readAwsNode(api, action.id, action.cluster, resend);
  if (isOutcome(read)) return read;
  const missing = Object.entries(change.set).filter(([k, v]) => read.env.get(k) !== v);
  if (missing.length === 0) return followRollout(api, deps, action.id, action.cluster, change.set, read, !resend);
  if (!read.rollout.done) {
    return { actionId: action.id, status: 'skipped', step: AWS_NODE_STEP, detail: `a rollout of aws-node is in flight on ${action.cluster} (${read.rollout.text}); nothing changed, the next cycle looks again.` };
  }
  const body = awsNodeApplyBody(read.object, change.set);
  // The dry run: admission, validation and field ownership checked, nothing persisted.
  try {
    await api.apply(AWS_NODE_REF, body, { dryRun: true });
  } catch (err) {
    return failed(kubeErrorText(AWS_NODE_REF, 'dry-run apply of', err), isTransientKubeError(err));
  }
  // Write-ahead: recorded before it is sent. Server-side apply of the same fields is idempotent, so
  // a resend after a lost answer changes nothing more (no token needed).
  await intendWrite(deps, { step: AWS_NODE_STEP, operation: KUBE_APPLY_OPERATION, target: `kube-system/aws-node of ${action.cluster}` }, clientRequestTokenFor(action.id, AWS_NODE_STEP));
  let applied;
  try {
    applied = await api.apply(AWS_NODE_REF, body);
  } catch (err) {
    // A conflict or a refusal changed nothing; any other failure may have been applied.
    const refused = err !== null && typeof err === 'object' && 'status' in err && typeof err.status === 'number' && err.status < 500 && err.status !== 429;
    return failed(kubeErrorText(AWS_NODE_REF, 'apply of', err), !refused);
  }
  const view = awsNodeViewOf(applied);
  return followRollout(api, deps, action.id, action.cluster, change.set, view, false);
}

/** Follows a record at the aws-node step: the rollout, or the start again when the apply's answer was not recorded. */
export async function followAwsNodeEnv(record: Pick<ActionRecord, 'actionId' | 'cluster' | 'change' | 'reference' | 'intent'>, deps: ExecuteDeps): Promise<ActionOutcome> {
  const change = awsNodeChangeOf(record.change, record.actionId);
  if (!record.reference) return runAwsNodeEnv({ id: record.actionId, cluster: record.cluster, change }, deps, record.intent?.operation === KUBE_APPLY_OPERATION);
  let api: KubeApi;
  try {
    api = await openKube(deps, record.cluster);
  } catch (err) {
    return { actionId: record.actionId, status: 'failed', step: AWS_NODE_STEP, retryable: true, detail: `cannot open the Kubernetes API of ${record.cluster} to follow aws-node: ${err instanceof Error ? err.message : String(err)}` };
  }
  return followRollout(api, deps, record.actionId, record.cluster, change.set, undefined, false);
}
