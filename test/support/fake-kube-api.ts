/**
 * An in-memory KubeApi (lib/inventory/kube-types.ts) for the executors' tests: objects by
 * resource and name, server-side apply with field ownership per leaf field (list entries keyed by
 * `name`, as Container and EnvVar are map-lists keyed by name), the API server's answers:
 * - a field another manager owns, applied with a different value: 409 Conflict, one cause per
 *   field `{reason: FieldManagerConflict, message: 'conflict with "<manager>"', field}` (the
 *   apiserver's wording: kubernetes/apimachinery managedfields/internal/conflict.go), nothing changed;
 * - a field this manager applied before and leaves out of the next apply is removed when no
 *   other manager owns it (server-side apply's rule for a manager's applied set);
 * - dryRun: every check, nothing kept; GET of a missing object: undefined (404).
 * metadata.managedFields is rendered as FieldsV1 (`f:<field>`, `k:{"name":...}`); a spec change
 * bumps metadata.generation, and a DaemonSet's status follows at once (`rollout: 'immediate'`) or
 * when the test says (`completeRollout`).
 */
import { KubeApiError, KUBE_FIELD_MANAGER, type KubeApi, type KubeConnector, type KubeObjectRef } from '../../lib/inventory/kube-types';

type Obj = Record<string, unknown>;
/** A leaf field: its path segments (a string is a field, `{name}` a keyed list entry) and value. */
type Segment = string | { name: string };
interface Leaf {
  path: Segment[];
  value: unknown;
}

const keyOf = (ref: Pick<KubeObjectRef, 'plural' | 'namespace' | 'name'>): string => `${ref.plural}/${ref.namespace ?? ''}/${ref.name}`;
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const segText = (s: Segment): string => (typeof s === 'string' ? `.${s}` : `[name="${s.name}"]`);
const pathText = (p: Segment[]): string => p.map(segText).join('');

/** The leaves of an apply body: list entries must be objects keyed by `name` (a map-list); other lists are atomic. */
function leavesOf(value: unknown, path: Segment[] = []): Leaf[] {
  if (Array.isArray(value)) {
    if (value.every((e) => e && typeof e === 'object' && typeof (e as Obj)['name'] === 'string')) {
      return value.flatMap((e) => leavesOf(e, [...path, { name: (e as Obj)['name'] as string }]));
    }
    return [{ path, value }];
  }
  if (value && typeof value === 'object') return Object.entries(value as Obj).flatMap(([k, v]) => leavesOf(v, [...path, k]));
  return [{ path, value }];
}

function getAt(obj: unknown, path: Segment[]): unknown {
  let cur: unknown = obj;
  for (const s of path) {
    if (cur === undefined || cur === null) return undefined;
    cur = typeof s === 'string' ? (cur as Obj)[s] : Array.isArray(cur) ? cur.find((e) => (e as Obj)['name'] === s.name) : undefined;
  }
  return cur;
}

function setAt(obj: Obj, path: Segment[], value: unknown): void {
  let cur: unknown = obj;
  for (let i = 0; i < path.length; i++) {
    const s = path[i] as Segment;
    const last = i === path.length - 1;
    const next = path[i + 1];
    const empty = (): unknown => (next !== undefined && typeof next !== 'string' ? [] : {});
    if (typeof s === 'string') {
      const o = cur as Obj;
      if (last) o[s] = clone(value);
      else {
        if (o[s] === undefined) o[s] = empty();
        cur = o[s];
      }
    } else {
      const list = cur as Obj[];
      let entry = list.find((e) => e['name'] === s.name);
      if (!entry) {
        entry = { name: s.name };
        list.push(entry);
      }
      if (last) Object.assign(entry, clone(value));
      cur = entry;
    }
  }
}

function removeAt(obj: Obj, path: Segment[]): void {
  const parent = getAt(obj, path.slice(0, -1));
  const s = path[path.length - 1] as Segment;
  if (typeof s === 'string') {
    if (parent && typeof parent === 'object') delete (parent as Obj)[s];
    // An entry left with its key only is removed from its list.
    const entryPath = path.slice(0, -1);
    const key = entryPath[entryPath.length - 1];
    if (key !== undefined && typeof key !== 'string') {
      const entry = getAt(obj, entryPath) as Obj | undefined;
      if (entry && Object.keys(entry).every((k) => k === 'name')) {
        const list = getAt(obj, entryPath.slice(0, -1));
        if (Array.isArray(list)) list.splice(list.indexOf(entry), 1);
      }
    }
  }
}

/** FieldsV1 of a set of leaf paths. */
function fieldsV1(paths: Segment[][]): Obj {
  const root: Obj = {};
  for (const p of paths) {
    let cur = root;
    for (const s of p) {
      const k = typeof s === 'string' ? `f:${s}` : `k:${JSON.stringify({ name: s.name })}`;
      cur[k] = (cur[k] as Obj | undefined) ?? {};
      cur = cur[k] as Obj;
      if (typeof s !== 'string') {
        cur['.'] = {};
        cur['f:name'] = {};
      }
    }
  }
  return root;
}

interface Stored {
  ref: KubeObjectRef;
  obj: Obj;
  /** Leaf path text → its managers, with the operation of each. */
  owners: Map<string, { path: Segment[]; managers: Map<string, 'Apply' | 'Update'> }>;
}

export interface FakeKubeCall {
  op: 'get' | 'apply';
  ref: string;
  dryRun?: boolean;
  body?: Obj;
}

export class FakeKubeApi implements KubeApi {
  private readonly store = new Map<string, Stored>();
  /** Every call, in order. */
  readonly calls: FakeKubeCall[] = [];
  /** The applies that changed an object (not dry runs, not no-ops): `<plural>/<name>`. */
  readonly changes: string[] = [];
  /** Errors the next calls throw, consumed in order (undefined = answer normally). */
  readonly failNext: (Error | undefined)[] = [];
  /** How a DaemonSet's status follows a new generation. */
  rollout: 'immediate' | 'manual' = 'immediate';
  /** Nodes a DaemonSet is scheduled on. */
  desiredNodes = 3;

  /** Puts an object in place; `owners` names the manager (operation Update) of leaf fields, as `kubectl set env` or Helm would. */
  seed(ref: KubeObjectRef, obj: Obj, owners: { path: Segment[]; manager: string }[] = []): void {
    const o = clone(obj);
    const meta = (o['metadata'] as Obj | undefined) ?? {};
    o['metadata'] = { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}), generation: 1, ...meta };
    const stored: Stored = { ref, obj: o, owners: new Map() };
    for (const { path, manager } of owners) stored.owners.set(pathText(path), { path, managers: new Map([[manager, 'Update']]) });
    if (ref.kind === 'DaemonSet') this.settle(stored);
    this.store.set(keyOf(ref), stored);
  }

  /** kube-system/aws-node with an aws-node container (and an init container, and another env entry with valueFrom). */
  seedAwsNode(env: Record<string, string>, managers: Record<string, string> = {}): void {
    const ref: KubeObjectRef = { apiVersion: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets', namespace: 'kube-system', name: 'aws-node' };
    this.seed(
      ref,
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        spec: {
          updateStrategy: { type: 'RollingUpdate' },
          template: {
            spec: {
              initContainers: [{ name: 'aws-vpc-cni-init', image: '602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni-init:v1.19.2' }],
              containers: [
                {
                  name: 'aws-node',
                  image: '602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.19.2',
                  env: [
                    ...Object.entries(env).map(([name, value]) => ({ name, value })),
                    { name: 'MY_NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
                  ],
                },
                { name: 'aws-eks-nodeagent', image: '602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon/aws-network-policy-agent:v1.1.5' },
              ],
            },
          },
        },
      },
      Object.entries(managers).map(([name, manager]) => ({ path: ['spec', 'template', 'spec', 'containers', { name: 'aws-node' }, 'env', { name }, 'value'], manager })),
    );
  }

  /** The stored object (a copy), or undefined. */
  object(ref: Pick<KubeObjectRef, 'plural' | 'namespace' | 'name'>): Obj | undefined {
    const s = this.store.get(keyOf(ref));
    return s ? this.render(s) : undefined;
  }

  /** Deletes an object (an operator's kubectl delete). */
  delete(ref: Pick<KubeObjectRef, 'plural' | 'namespace' | 'name'>): void {
    this.store.delete(keyOf(ref));
  }

  /** A manual rollout reaches every node. */
  completeRollout(ref: Pick<KubeObjectRef, 'plural' | 'namespace' | 'name'>): void {
    const s = this.store.get(keyOf(ref));
    if (s) this.settle(s, true);
  }

  /** The env of a DaemonSet's container, literal values. */
  env(container = 'aws-node'): Record<string, string> {
    const obj = this.store.get(keyOf({ plural: 'daemonsets', namespace: 'kube-system', name: 'aws-node' }))?.obj;
    const c = getAt(obj, ['spec', 'template', 'spec', 'containers', { name: container }]) as Obj | undefined;
    return Object.fromEntries(((c?.['env'] as Obj[] | undefined) ?? []).filter((e) => typeof e['value'] === 'string').map((e) => [e['name'], e['value']])) as Record<string, string>;
  }

  async get(ref: KubeObjectRef): Promise<Obj | undefined> {
    this.calls.push({ op: 'get', ref: keyOf(ref) });
    this.throwIfAsked();
    return this.object(ref);
  }

  async apply(ref: KubeObjectRef, body: Obj, options: { dryRun?: boolean } = {}): Promise<Obj> {
    this.calls.push({ op: 'apply', ref: keyOf(ref), ...(options.dryRun ? { dryRun: true } : {}), body: clone(body) });
    this.throwIfAsked();
    const manager = KUBE_FIELD_MANAGER;
    const existing = this.store.get(keyOf(ref));
    const stored: Stored = existing
      ? { ref, obj: clone(existing.obj), owners: new Map([...existing.owners].map(([k, v]) => [k, { path: v.path, managers: new Map(v.managers) }])) }
      : { ref, obj: { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}), generation: 1 } }, owners: new Map() };
    const leaves = leavesOf(body);
    const conflicts: { field: string; manager: string }[] = [];
    for (const leaf of leaves) {
      const owned = stored.owners.get(pathText(leaf.path));
      const others = [...(owned?.managers.keys() ?? [])].filter((m) => m !== manager);
      if (others.length > 0 && JSON.stringify(getAt(stored.obj, leaf.path)) !== JSON.stringify(leaf.value)) {
        for (const m of others) conflicts.push({ field: pathText(leaf.path), manager: m });
      }
    }
    if (conflicts.length > 0) {
      const first = conflicts[0] as { field: string; manager: string };
      throw new KubeApiError(
        409,
        'Conflict',
        conflicts.length === 1 ? `Apply failed with 1 conflict: conflict with "${first.manager}": ${first.field}` : `Apply failed with ${conflicts.length} conflicts`,
        conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}"`, field: c.field })),
      );
    }
    const specBefore = JSON.stringify(stored.obj['spec'] ?? null);
    const applied = new Set(leaves.map((l) => pathText(l.path)));
    // Fields this manager applied before and leaves out now: removed unless another manager owns them.
    for (const [text, owned] of [...stored.owners]) {
      if (applied.has(text) || owned.managers.get(manager) !== 'Apply') continue;
      owned.managers.delete(manager);
      if (owned.managers.size === 0) {
        removeAt(stored.obj, owned.path);
        stored.owners.delete(text);
      }
    }
    for (const leaf of leaves) {
      setAt(stored.obj, leaf.path, leaf.value);
      const text = pathText(leaf.path);
      const owned = stored.owners.get(text) ?? { path: leaf.path, managers: new Map() };
      owned.managers.set(manager, 'Apply');
      stored.owners.set(text, owned);
    }
    const changed = !existing || JSON.stringify(stored.obj['spec'] ?? null) !== specBefore;
    if (changed && existing) {
      const meta = stored.obj['metadata'] as Obj;
      meta['generation'] = Number(meta['generation'] ?? 1) + 1;
    }
    if (ref.kind === 'DaemonSet') this.settle(stored);
    if (options.dryRun) return this.render(stored);
    this.store.set(keyOf(ref), stored);
    if (changed) this.changes.push(`${ref.plural}/${ref.name}`);
    return this.render(stored);
  }

  /** A connector over this fake: records the clusters opened. */
  connector(opened: string[] = []): KubeConnector {
    return async (cluster) => {
      opened.push(cluster.name ?? '');
      return this;
    };
  }

  private throwIfAsked(): void {
    const err = this.failNext.shift();
    if (err) throw err;
  }

  /** The DaemonSet's status after a new generation: at once in `immediate` mode, or when forced. */
  private settle(s: Stored, force = false): void {
    const generation = Number((s.obj['metadata'] as Obj)['generation'] ?? 1);
    const status = (s.obj['status'] as Obj | undefined) ?? {};
    if (this.rollout === 'immediate' || force || status['observedGeneration'] === undefined) {
      s.obj['status'] = { observedGeneration: generation, desiredNumberScheduled: this.desiredNodes, currentNumberScheduled: this.desiredNodes, updatedNumberScheduled: this.desiredNodes, numberAvailable: this.desiredNodes, numberReady: this.desiredNodes };
    } else {
      s.obj['status'] = { ...status, updatedNumberScheduled: 0 };
    }
  }

  private render(s: Stored): Obj {
    const o = clone(s.obj);
    const byManager = new Map<string, { operation: 'Apply' | 'Update'; paths: Segment[][] }>();
    for (const owned of s.owners.values()) {
      for (const [m, op] of owned.managers) {
        const e = byManager.get(m) ?? { operation: op, paths: [] };
        e.paths.push(owned.path);
        byManager.set(m, e);
      }
    }
    (o['metadata'] as Obj)['managedFields'] = [...byManager].map(([manager, e]) => ({ manager, operation: e.operation, apiVersion: s.ref.apiVersion, fieldsType: 'FieldsV1', fieldsV1: fieldsV1(e.paths) }));
    return o;
  }
}
