/**
 * An in-memory KubeApi for the Karpenter executors' tests: objects by plural/name, GET (undefined
 * on 404), and server-side apply with field ownership per leaf field, where every list is atomic
 * (a leaf) as Karpenter's subnetSelectorTerms and requirements are. A field another manager owns
 * with a different value fails with a 409 KubeApiError (reason Conflict, one cause per field
 * naming the manager, as the API server words it); dryRun checks without storing. Applies and
 * GETs are recorded; `failNext` injects an error into the next call of a kind.
 */
import { KubeApiError, KUBE_FIELD_MANAGER, type KubeApi, type KubeObjectRef } from '../../lib/inventory/kube-types';

type Obj = Record<string, unknown>;

/** Leaf paths of an apply body: objects are walked, arrays and scalars are leaves. */
function leaves(value: unknown, path: string[] = []): { path: string; value: unknown }[] {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value as Obj).flatMap(([k, v]) => leaves(v, [...path, k]));
  }
  return [{ path: path.join('.'), value }];
}

function getPath(obj: Obj, path: string): unknown {
  let v: unknown = obj;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Obj)[k] : undefined;
  return v;
}

function setPath(obj: Obj, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (!o[k] || typeof o[k] !== 'object') o[k] = {};
    o = o[k] as Obj;
  }
  o[keys[keys.length - 1] ?? ''] = structuredClone(value);
}

const key = (ref: KubeObjectRef): string => `${ref.plural}/${ref.name}`;

export interface FakeApply {
  ref: string;
  body: Obj;
  dryRun: boolean;
  manager: string;
}

export class FakeKarpenterKubeApi implements KubeApi {
  readonly objects = new Map<string, Obj>();
  /** Per object: leaf path → manager. */
  readonly owners = new Map<string, Map<string, string>>();
  readonly applies: FakeApply[] = [];
  gets = 0;
  private failures: { op: 'get' | 'apply' | 'dry-run'; err: unknown }[] = [];
  /** Runs after each real (not dry-run) apply: a test's stand-in for Karpenter's controller. */
  onApplied?: (ref: KubeObjectRef, obj: Obj) => void;

  /** Puts an object as another manager wrote it (each leaf of `obj`'s spec owned by `manager`). */
  put(ref: KubeObjectRef, obj: Obj, manager = 'kubectl-client-side-apply'): void {
    this.objects.set(key(ref), structuredClone(obj));
    const owners = new Map<string, string>();
    for (const l of leaves({ spec: obj['spec'] })) owners.set(l.path, manager);
    this.owners.set(key(ref), owners);
  }

  /**
   * Gives one field to a manager, as `kubectl apply --server-side --force-conflicts
   * --field-manager=<manager>` of that field by a person does (docs/remediation.md, "Karpenter").
   */
  handOver(ref: KubeObjectRef, path: string, manager = KUBE_FIELD_MANAGER): void {
    this.owners.get(key(ref))?.set(path, manager);
  }

  /** The stored object (a copy). */
  object(ref: KubeObjectRef): Obj | undefined {
    const o = this.objects.get(key(ref));
    return o ? structuredClone(o) : undefined;
  }

  /** Sets a field as a controller or person would (no ownership change): e.g. Karpenter's status. */
  set(ref: KubeObjectRef, path: string, value: unknown): void {
    const o = this.objects.get(key(ref));
    if (o) setPath(o, path, value);
  }

  failNext(op: 'get' | 'apply' | 'dry-run', err: unknown): void {
    this.failures.push({ op, err });
  }

  private fail(op: 'get' | 'apply' | 'dry-run'): void {
    const i = this.failures.findIndex((f) => f.op === op);
    if (i < 0) return;
    const [f] = this.failures.splice(i, 1);
    throw f?.err;
  }

  get(ref: KubeObjectRef): Promise<Obj | undefined> {
    this.gets++;
    this.fail('get');
    return Promise.resolve(this.object(ref));
  }

  apply(ref: KubeObjectRef, body: Obj, options: { dryRun?: boolean } = {}): Promise<Obj> {
    const dryRun = options.dryRun === true;
    this.applies.push({ ref: key(ref), body: structuredClone(body), dryRun, manager: KUBE_FIELD_MANAGER });
    this.fail(dryRun ? 'dry-run' : 'apply');
    const current = this.objects.get(key(ref));
    if (!current) {
      return Promise.reject(new KubeApiError(404, 'NotFound', `${ref.plural}.${ref.apiVersion.split('/')[0]} "${ref.name}" not found`));
    }
    const owners = this.owners.get(key(ref)) ?? new Map<string, string>();
    const conflicts: { field: string; manager: string }[] = [];
    for (const l of leaves(body)) {
      const owner = owners.get(l.path);
      if (owner && owner !== KUBE_FIELD_MANAGER && JSON.stringify(getPath(current, l.path)) !== JSON.stringify(l.value)) {
        conflicts.push({ field: `.${l.path}`, manager: owner });
      }
    }
    if (conflicts.length > 0) {
      const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${ref.apiVersion}`, field: c.field }));
      return Promise.reject(
        new KubeApiError(
          409,
          'Conflict',
          `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${conflicts.map((c) => `conflict with "${c.manager}" using ${ref.apiVersion}: ${c.field}`).join('\n')}`,
          causes,
        ),
      );
    }
    const next = structuredClone(current);
    for (const l of leaves(body)) setPath(next, l.path, l.value);
    if (dryRun) return Promise.resolve(next);
    for (const l of leaves(body)) {
      // A field this manager sets to the value another owns is shared; here the last applier is recorded.
      owners.set(l.path, KUBE_FIELD_MANAGER);
    }
    const meta = (next['metadata'] ?? {}) as Obj;
    meta['resourceVersion'] = String(Number(meta['resourceVersion'] ?? '1') + 1);
    next['metadata'] = meta;
    this.objects.set(key(ref), next);
    this.owners.set(key(ref), owners);
    this.onApplied?.(ref, next);
    return Promise.resolve(structuredClone(next));
  }

  /** The real (not dry-run) applies. */
  get writes(): FakeApply[] {
    return this.applies.filter((a) => !a.dryRun);
  }
}
