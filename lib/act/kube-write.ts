/**
 * What the executors that write through a cluster's Kubernetes API share: opening the API
 * (DescribeCluster, then the connector), the outcome of a failed call (a server-side apply
 * conflict named with its manager and the fix; a transient answer marked retryable), and
 * server-side apply with a dry run first.
 * Design: docs/remediation.md#self-managed-aws-node-server-side-apply
 */
import { describeEksCluster } from '../aws/eks-cluster';
import { isRetryableError, messageOf } from '../errors';
import { KubeApiError, KUBE_FIELD_MANAGER, type KubeApi, type KubeObjectRef } from '../inventory/kube-types';
import type { ExecuteDeps } from './types';

/** The object's path as a person reads it: `kube-system/aws-node (DaemonSet)`. */
export function refText(ref: KubeObjectRef): string {
  return `${ref.namespace ? `${ref.namespace}/` : ''}${ref.name} (${ref.kind})`;
}

/** Opens the cluster's API for writes; an Error naming why when it cannot. */
export async function openKube(deps: ExecuteDeps, cluster: string): Promise<KubeApi> {
  if (!deps.kube) {
    throw new Error(`no Kubernetes access is configured for ${cluster}: list it in the stack's kubernetesClusters so that the functions get an access entry (docs/kubernetes.md)`);
  }
  const described = await describeEksCluster(deps.eks, cluster);
  return deps.kube(described);
}

/** One field another manager owns, from a 409's causes. */
export interface ApplyConflict {
  manager: string;
  field: string;
}

/**
 * The conflicts of a server-side apply 409. The API server words each cause as
 * `{reason: FieldManagerConflict, message: 'conflict with "<manager>"[ using <apiVersion>]', field: <path>}`
 * (kubernetes/apimachinery pkg/util/managedfields/internal/conflict.go `NewConflictError`, `printManager`).
 */
export function applyConflictsOf(err: unknown): ApplyConflict[] | undefined {
  if (!(err instanceof KubeApiError) || err.status !== 409 || err.reason !== 'Conflict') return undefined;
  const out = err.causes.map((c) => ({ manager: /conflict with "([^"]+)"/.exec(c.message ?? '')?.[1] ?? 'another field manager', field: c.field ?? '(a field)' }));
  return out.length > 0 ? out : [{ manager: /conflict with "([^"]+)"/.exec(err.message)?.[1] ?? 'another field manager', field: '(a field)' }];
}

/**
 * What a conflict means and how to clear it: this product never forces (force=false), so the
 * field stays the other manager's until the operator moves it.
 */
export function conflictText(ref: KubeObjectRef, conflicts: ApplyConflict[]): string {
  const managers = [...new Set(conflicts.map((c) => c.manager))];
  const helm = managers.some((m) => m === 'helm' || m.startsWith('helm'));
  return (
    `server-side apply of ${refText(ref)} conflicts: ${conflicts.map((c) => `${c.field} is owned by "${c.manager}"`).join('; ')}. ` +
    `The responder never forces another manager's fields. Fix: change the value where ${managers.join(', ')} manages it` +
    `${helm ? ' (for the aws-vpc-cni Helm chart: its env values, then helm upgrade)' : ''}, ` +
    `or hand the field over by applying it once yourself with --server-side --field-manager=${KUBE_FIELD_MANAGER} --force-conflicts; the next cycle then plans again.`
  );
}

/** A Kubernetes answer that says "try again later": 429, 5xx, a timeout (no status). */
export function isTransientKubeError(err: unknown): boolean {
  if (err instanceof KubeApiError) return err.status === 429 || err.status >= 500 || err.reason === 'Timeout' || err.reason === 'ServerTimeout';
  return isRetryableError(err);
}

/** The error of a failed call, as an outcome detail: a conflict explained, anything else named. */
export function kubeErrorText(ref: KubeObjectRef, what: string, err: unknown): string {
  const conflicts = applyConflictsOf(err);
  if (conflicts) return conflictText(ref, conflicts);
  if (err instanceof KubeApiError) {
    const fix = err.status === 403 ? ` (the access entry's Kubernetes group lacks RBAC for it: ${rbacHint(ref)})` : '';
    return `${what} ${refText(ref)}: ${err.status}${err.reason ? ` ${err.reason}` : ''}: ${messageOf(err)}${fix}`;
  }
  return `${what} ${refText(ref)}: ${messageOf(err)}`;
}

/** The RBAC rule a write of this object needs. */
export function rbacHint(ref: KubeObjectRef): string {
  const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
  return `apiGroups [${group === '' ? '""' : group}], resources [${ref.plural}], verbs [get, ${ref.plural === 'daemonsets' ? 'patch' : 'create, patch'}]${ref.namespace ? ` in ${ref.namespace}` : ''}`;
}

const record = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/** The live value of the fields a FieldsV1 set names under `live`; undefined when none is there. */
function ownedValue(fields: Record<string, unknown>, live: unknown): unknown {
  const keys = Object.keys(fields).filter((k) => k !== '.');
  // A leaf (an atomic list included): the whole live value.
  if (keys.length === 0) return live;
  // A map or set list: only the entries it names (`k:` by key, `v:` by value), else (`i:`) the whole list.
  if (Array.isArray(live)) return ownedEntries(fields, keys, live);
  const obj = record(live);
  if (!obj) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (!key.startsWith('f:')) continue;
    const name = key.slice(2);
    const value = ownedValue(record(fields[key]) ?? {}, obj[name]);
    if (value !== undefined) out[name] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The live entries of a list whose FieldsV1 names them by key (`k:{"name":"x"}`: a map list such as
 * containers or env) or by value (`v:"x"`: a set list), each reduced to the fields owned in it and
 * its key; the whole list when named otherwise. Sending the whole of a map list would claim the
 * entries and fields of other managers (kubernetes.io, Server-Side Apply, "Merge strategy").
 */
function ownedEntries(fields: Record<string, unknown>, keys: string[], live: unknown[]): unknown {
  const named: { key: string; value: unknown }[] = [];
  for (const key of keys) {
    if (!key.startsWith('k:') && !key.startsWith('v:')) return live;
    try {
      named.push({ key, value: JSON.parse(key.slice(2)) as unknown });
    } catch {
      return live;
    }
  }
  const out: unknown[] = [];
  for (const item of live) {
    for (const n of named) {
      if (n.key.startsWith('v:')) {
        if (JSON.stringify(item) === JSON.stringify(n.value)) out.push(item);
        continue;
      }
      const keyFields = record(n.value);
      const entry = record(item);
      if (!keyFields || !entry || !Object.entries(keyFields).every(([f, v]) => JSON.stringify(entry[f]) === JSON.stringify(v))) continue;
      const sub = record(fields[n.key]) ?? {};
      const owned = Object.keys(sub).some((k) => k !== '.') ? record(ownedValue(sub, entry)) : undefined;
      out.push({ ...owned, ...keyFields });
    }
  }
  return out.length > 0 ? out : undefined;
}

/**
 * The spec fields, labels and annotations this product's field manager owns by Apply on `obj` (metadata.managedFields,
 * FieldsV1: `f:<name>` a map field, `k:`/`v:` a list entry, sent alone; `i:`, the whole list), at their
 * live values, with `body` laid over them. Server-side apply removes a field its manager owned and
 * no longer sends ("fields the manager no longer applies are removed": kubernetes.io, Server-Side
 * Apply, "Field management"), so an apply that changes one field sends the others it owns too;
 * after an operator handed it more than the one field, they are kept, not deleted.
 */
export function withOwnedFields(obj: Record<string, unknown>, body: Record<string, unknown>): Record<string, unknown> {
  let owned: Record<string, unknown> = {};
  for (const entry of Array.isArray(record(obj['metadata'])?.['managedFields']) ? (record(obj['metadata'])?.['managedFields'] as unknown[]) : []) {
    const e = record(entry);
    if (!e || e['manager'] !== KUBE_FIELD_MANAGER || e['operation'] !== 'Apply' || e['subresource'] !== undefined) continue;
    const fields = record(e['fieldsV1']) ?? {};
    const m = record(fields['f:metadata']) ?? {};
    // metadata: only labels and annotations (name and namespace are always sent; the rest is the server's).
    const metaFields = Object.fromEntries(['f:labels', 'f:annotations'].filter((k) => record(m[k])).map((k) => [k, m[k]]));
    const meta = Object.keys(metaFields).length > 0 ? ownedValue(metaFields, obj['metadata']) : undefined;
    const spec = record(fields['f:spec']) ? ownedValue(record(fields['f:spec']) ?? {}, obj['spec']) : undefined;
    owned = { ...(meta !== undefined ? { metadata: meta } : {}), ...(spec !== undefined ? { spec } : {}) };
  }
  return merged(owned, body);
}

/** `over` laid on `base`: objects merge at every depth, anything else (lists included) replaces. */
function merged(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = record(out[k]);
    const o = record(v);
    out[k] = b && o ? merged(b, o) : v;
  }
  return out;
}
