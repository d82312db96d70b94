/**
 * Server-side apply's field ownership, pure, shared by the test API server (tools/kube-server.ts) and the
 * in-memory KubeApi (fake-kube-api.ts): owned leaves per manager (one operation per manager), a
 * conflict only on a different value owned by another manager, fields released only from a
 * manager's Apply entry, map lists keyed by name for containers/env, every other list atomic.
 * https://kubernetes.io/docs/reference/using-api/server-side-apply/
 */

export type Obj = Record<string, unknown>;
/** A path segment: a field, or a map-list entry by its key (`containers[name="aws-node"]`). */
export type Seg = string | { name: string };
export type Operation = 'Apply' | 'Update';

/**
 * List types of the fields applied in the tests. Containers and env are map lists keyed by name
 * (k8s.io/api core/v1 types.go: `+listType=map`, `+listMapKey=name`); every other list is atomic:
 * Karpenter's requirements carry `x-kubernetes-list-type: atomic` (kubernetes-sigs/karpenter@2266468
 * pkg/apis/crds/karpenter.sh_nodepools.yaml) and subnetSelectorTerms has no list type, which for
 * a CRD means atomic (aws/karpenter-provider-aws@1d92708 pkg/apis/crds/karpenter.k8s.aws_ec2nodeclasses.yaml;
 * https://kubernetes.io/docs/reference/using-api/server-side-apply/#merge-strategy).
 */
const MAP_LISTS = new Set(['containers', 'initContainers', 'env']);
/** Fields no manager owns (identity and server-set metadata). */
const UNOWNED = new Set(['apiVersion', 'kind', 'status', 'metadata.name', 'metadata.namespace', 'metadata.managedFields', 'metadata.resourceVersion', 'metadata.uid', 'metadata.creationTimestamp', 'metadata.generation']);

export const pathText = (segs: readonly Seg[]): string => segs.map((s) => (typeof s === 'string' ? `.${s}` : `[name="${s.name}"]`)).join('');
/** `spec.a.b` → its segments (no keyed entries). */
export const segsOf = (path: string | readonly Seg[]): Seg[] => (typeof path === 'string' ? path.split('.') : [...path]);

/** The owned leaves of an object: scalars, empty objects, atomic lists, and the entries' fields of map lists. */
export function leaves(value: unknown, segs: Seg[] = [], out: { segs: Seg[]; value: unknown }[] = []): { segs: Seg[]; value: unknown }[] {
  const dotted = segs.filter((s): s is string => typeof s === 'string').join('.');
  if (UNOWNED.has(dotted)) return out;
  const last = segs[segs.length - 1];
  if (Array.isArray(value) && typeof last === 'string' && MAP_LISTS.has(last)) {
    for (const item of value as Obj[]) leaves(item, [...segs, { name: String(item['name']) }], out);
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Obj);
    if (entries.length === 0 && segs.length > 0) out.push({ segs, value });
    for (const [k, v] of entries) leaves(v, [...segs, k], out);
  } else if (segs.length > 0) {
    out.push({ segs, value });
  }
  return out;
}

export function getAt(root: unknown, segs: readonly Seg[]): unknown {
  let cur: unknown = root;
  for (const s of segs) {
    if (cur === undefined || cur === null) return undefined;
    cur = typeof s === 'string' ? (cur as Obj)[s] : Array.isArray(cur) ? (cur as Obj[]).find((x) => x['name'] === s.name) : undefined;
  }
  return cur;
}

export function setAt(root: Obj, segs: readonly Seg[], value: unknown): void {
  let cur: unknown = root;
  segs.forEach((s, i) => {
    const isLast = i === segs.length - 1;
    const next = segs[i + 1];
    const fresh = (): unknown => (typeof next === 'object' ? [] : {});
    if (typeof s === 'string') {
      const o = cur as Obj;
      if (isLast) o[s] = structuredClone(value);
      else if (o[s] === undefined || o[s] === null) o[s] = fresh();
      cur = o[s];
    } else {
      const list = cur as Obj[];
      let item = list.find((x) => x['name'] === s.name);
      if (!item) {
        item = { name: s.name };
        list.push(item);
      }
      cur = item;
    }
  });
}

/** Removes a leaf; a map-list entry keeps its key while other fields remain, and goes with the last of them. */
export function deleteAt(root: Obj, segs: readonly Seg[]): void {
  const last = segs[segs.length - 1];
  const parentSegs = segs.slice(0, -1);
  const parent = getAt(root, parentSegs);
  if (parent === undefined || parent === null || last === undefined) return;
  const entryKey = parentSegs[parentSegs.length - 1];
  if (typeof last !== 'string') {
    if (Array.isArray(parent)) parent.splice(parent.findIndex((x: Obj) => x['name'] === last.name), 1);
    return;
  }
  if (!(entryKey !== undefined && typeof entryKey !== 'string' && last === 'name')) delete (parent as Obj)[last];
  if (entryKey !== undefined && typeof entryKey !== 'string' && Object.keys(parent as Obj).every((k) => k === 'name')) deleteAt(root, parentSegs);
}

/** A managedFields `fieldsV1` tree of a manager's leaves (`f:spec` / `k:{"name":"x"}` with `.`). */
function fieldsV1(all: readonly Seg[][]): Obj {
  const root: Obj = {};
  for (const segs of all) {
    let cur = root;
    for (const s of segs) {
      const key = typeof s === 'string' ? `f:${s}` : `k:${JSON.stringify({ name: s.name })}`;
      cur = (cur[key] ??= typeof s === 'string' ? {} : { '.': {} }) as Obj;
    }
  }
  return root;
}

/** An object with its field ownership. */
export interface Owned {
  object: Obj;
  /** Leaf path text → its segments and the managers that own it. */
  owners: Map<string, { segs: Seg[]; managers: Set<string> }>;
  operations: Map<string, Operation>;
}

export function owned(object: Obj, manager?: string, operation: Operation = 'Update'): Owned {
  const s: Owned = { object: structuredClone(object), owners: new Map(), operations: new Map() };
  if (manager) {
    for (const l of leaves(object)) s.owners.set(pathText(l.segs), { segs: l.segs, managers: new Set([manager]) });
    s.operations.set(manager, operation);
  }
  return s;
}

export function cloneOwned(s: Owned): Owned {
  return { object: structuredClone(s.object), owners: new Map([...s.owners].map(([k, v]) => [k, { segs: v.segs, managers: new Set(v.managers) }])), operations: new Map(s.operations) };
}

/** Gives one field to a manager alone (a forced apply of it, the former owners no longer setting it). */
export function giveField(s: Owned, segs: readonly Seg[], manager: string, operation: Operation): void {
  s.owners.set(pathText(segs), { segs: [...segs], managers: new Set([manager]) });
  if (!s.operations.has(manager)) s.operations.set(manager, operation);
}

/** metadata.managedFields of an object: one entry per manager that owns a field. */
export function managedFields(s: Owned, apiVersion: unknown, time?: string): Obj[] {
  return [...s.operations.entries()].flatMap(([manager, operation]) => {
    const mine = [...s.owners.values()].filter((o) => o.managers.has(manager)).map((o) => o.segs);
    if (mine.length === 0) return [];
    return [{ manager, operation, apiVersion, ...(time ? { time } : {}), fieldsType: 'FieldsV1', fieldsV1: fieldsV1(mine) }];
  });
}

export interface Conflict {
  field: string;
  owner: string;
}

/**
 * Server-side apply of `applied` by `manager` onto `s` (changed in place). Without `force`, a field
 * another manager owns with a different value is a conflict: the conflicts are returned and `s` is
 * left as it was. Forced, the conflicting fields are taken (and returned).
 */
export function applyOwned(s: Owned, manager: string, applied: Obj, force = false): Conflict[] {
  const conflicts: Conflict[] = [];
  const mine = leaves(applied);
  for (const l of mine) {
    const key = pathText(l.segs);
    const own = s.owners.get(key);
    if (!own || JSON.stringify(getAt(s.object, l.segs)) === JSON.stringify(l.value)) continue;
    for (const m of own.managers) if (m !== manager) conflicts.push({ field: key, owner: m });
  }
  if (conflicts.length > 0 && !force) return conflicts;
  const appliedKeys = new Set(mine.map((l) => pathText(l.segs)));
  // Fields this manager applied before and leaves out now are released; removed when no one else
  // owns them. Only fields of its Apply entry: fields it set by Update (kubectl edit, a client-side
  // apply) are another managedFields entry, which an apply leaves alone.
  const byApply = s.operations.get(manager) === 'Apply';
  for (const [key, o] of [...s.owners]) {
    if (!byApply || appliedKeys.has(key) || !o.managers.delete(manager)) continue;
    if (o.managers.size === 0) {
      s.owners.delete(key);
      deleteAt(s.object, o.segs);
    }
  }
  for (const l of mine) {
    const key = pathText(l.segs);
    const own = s.owners.get(key);
    const same = JSON.stringify(getAt(s.object, l.segs)) === JSON.stringify(l.value);
    setAt(s.object, l.segs, l.value);
    // A changed value is this manager's alone (forced, or no one else held it); the same value is shared.
    if (own && same) own.managers.add(manager);
    else s.owners.set(key, { segs: l.segs, managers: new Set([manager]) });
  }
  s.operations.set(manager, 'Apply');
  return conflicts;
}

/**
 * The API server's 409 for apply conflicts: k8s.io/apimachinery pkg/util/managedfields/internal/conflict.go
 * (NewConflictError, ConflictsToString) and pkg/api/errors NewApplyConflict: one cause per field,
 * reason FieldManagerConflict.
 */
export function conflictStatus(conflicts: readonly Conflict[], apiVersion: string): { message: string; causes: { reason: string; message: string; field: string }[] } {
  const owners = [...new Set(conflicts.map((c) => c.owner))].sort();
  const message =
    conflicts.length === 1
      ? `Apply failed with 1 conflict: conflict with "${conflicts[0]?.owner}" using ${apiVersion}: ${conflicts[0]?.field}`
      : `Apply failed with ${conflicts.length} conflicts: ${owners.map((o) => [`conflicts with "${o}" using ${apiVersion}:`, ...conflicts.filter((c) => c.owner === o).map((c) => `- ${c.field}`)].join('\n')).join('\n')}`;
  return { message, causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.owner}" using ${apiVersion}`, field: c.field })) };
}
