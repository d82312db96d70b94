/**
 * The in-memory KubeApi (lib/inventory/kube-types.ts) of the executors' tests: objects by resource
 * and name, server-side apply with the field ownership of the test API server (field-ownership.ts:
 * a 409 only on a different value another manager owns, fields released only from a manager's
 * Apply entry, containers/env keyed by name, every other list atomic), managedFields rendered as
 * FieldsV1; dryRun checks and keeps nothing; GET of a missing object: undefined (404). A spec change
 * bumps metadata.generation; a DaemonSet's status follows at once (`rollout: 'immediate'`) or when
 * the test says (`completeRollout`). Every call is recorded; `writes` are the real applies,
 * `changes` those that changed an object.
 */
import { KubeApiError, KUBE_FIELD_MANAGER, type KubeApi, type KubeConnector, type KubeObjectRef } from '../../lib/inventory/kube-types';
import { applyOwned, cloneOwned, conflictStatus, getAt, giveField, managedFields, owned, segsOf, setAt, type Obj, type Owned, type Seg } from './field-ownership';

type Ref = Pick<KubeObjectRef, 'plural' | 'namespace' | 'name'>;
/** A field: its segments, or a dotted path (`spec.subnetSelectorTerms`). */
type Path = string | readonly Seg[];

const keyOf = (ref: Ref): string => `${ref.plural}/${ref.namespace ?? ''}/${ref.name}`;

interface Stored extends Owned {
  ref: KubeObjectRef;
}

export interface FakeKubeCall {
  op: 'get' | 'apply';
  /** `<plural>/<namespace>/<name>`. */
  ref: string;
  dryRun?: boolean;
  body?: Obj;
}

/** A real (not dry-run) apply. */
export interface FakeKubeWrite {
  /** `<plural>/<name>`. */
  ref: string;
  body: Obj;
  changed: boolean;
}

export class FakeKubeApi implements KubeApi {
  private readonly store = new Map<string, Stored>();
  private readonly failures: { op: 'get' | 'apply' | 'dry-run'; err: unknown }[] = [];
  /** Every call, in order. */
  readonly calls: FakeKubeCall[] = [];
  /** The real applies, in order (no-ops included). */
  readonly writes: FakeKubeWrite[] = [];
  /** How a DaemonSet's status follows a new generation. */
  rollout: 'immediate' | 'manual' = 'immediate';
  /** Nodes a DaemonSet is scheduled on. */
  desiredNodes = 3;
  /** Runs after each real apply: a test's stand-in for a controller (Karpenter's). */
  onApplied?: (ref: KubeObjectRef, obj: Obj) => void;

  /** The applies that changed an object (created it or changed its spec): `<plural>/<name>`. */
  get changes(): string[] {
    return this.writes.filter((w) => w.changed).map((w) => w.ref);
  }

  /** Every apply, dry runs included. */
  get applies(): { ref: string; body: Obj; dryRun: boolean }[] {
    return this.calls.filter((c) => c.op === 'apply').map((c) => ({ ref: c.ref, body: c.body ?? {}, dryRun: c.dryRun === true }));
  }

  /**
   * Puts an object in place. With `manager`, every field of it is that manager's (as when
   * `kubectl apply` or Helm made it), by `operation`.
   */
  put(ref: KubeObjectRef, obj: Obj, manager?: string, operation: 'Apply' | 'Update' = 'Update'): void {
    const s: Stored = { ...owned(obj, manager, operation), ref };
    const meta = (s.object['metadata'] as Obj | undefined) ?? {};
    s.object['metadata'] = { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}), generation: 1, ...meta };
    if (ref.kind === 'DaemonSet') this.settle(s);
    this.store.set(keyOf(ref), s);
  }

  /** Puts an object in place; `owners` names the manager (operation Update) of some fields, as `kubectl set env` or Helm would. */
  seed(ref: KubeObjectRef, obj: Obj, owners: { path: Path; manager: string }[] = []): void {
    this.put(ref, obj);
    for (const { path, manager } of owners) this.own(ref, path, manager, 'Update');
  }

  /**
   * Gives one field to a manager alone, as `kubectl apply --server-side --force-conflicts
   * --field-manager=<manager>` of that field by a person does (docs/remediation.md, "Karpenter").
   */
  handOver(ref: Ref, path: Path, manager = KUBE_FIELD_MANAGER): void {
    this.own(ref, path, manager, 'Apply');
  }

  /** Sets a field as a controller or person would, its ownership unchanged (e.g. Karpenter's status). */
  set(ref: Ref, path: Path, value: unknown): void {
    const s = this.store.get(keyOf(ref));
    if (s) setAt(s.object, segsOf(path), value);
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

  /** The stored object (a copy, with its managedFields), or undefined. */
  object(ref: Ref): Obj | undefined {
    const s = this.store.get(keyOf(ref));
    return s ? this.render(s) : undefined;
  }

  /** Deletes an object (an operator's kubectl delete). */
  delete(ref: Ref): void {
    this.store.delete(keyOf(ref));
  }

  /** A manual rollout reaches every node. */
  completeRollout(ref: Ref): void {
    const s = this.store.get(keyOf(ref));
    if (s) this.settle(s, true);
  }

  /** The env of a DaemonSet's container, literal values. */
  env(container = 'aws-node'): Record<string, string> {
    const obj = this.store.get(keyOf({ plural: 'daemonsets', namespace: 'kube-system', name: 'aws-node' }))?.object;
    const c = getAt(obj, ['spec', 'template', 'spec', 'containers', { name: container }]) as Obj | undefined;
    return Object.fromEntries(((c?.['env'] as Obj[] | undefined) ?? []).filter((e) => typeof e['value'] === 'string').map((e) => [e['name'], e['value']])) as Record<string, string>;
  }

  /** The next call of that kind (`dry-run`: an apply with dryRun) throws `err`. */
  failNext(op: 'get' | 'apply' | 'dry-run', err: unknown): void {
    this.failures.push({ op, err });
  }

  async get(ref: KubeObjectRef): Promise<Obj | undefined> {
    this.calls.push({ op: 'get', ref: keyOf(ref) });
    this.fail('get');
    return this.object(ref);
  }

  async apply(ref: KubeObjectRef, body: Obj, options: { dryRun?: boolean } = {}): Promise<Obj> {
    const dryRun = options.dryRun === true;
    this.calls.push({ op: 'apply', ref: keyOf(ref), ...(dryRun ? { dryRun: true } : {}), body: structuredClone(body) });
    this.fail(dryRun ? 'dry-run' : 'apply');
    const existing = this.store.get(keyOf(ref));
    const s: Stored = existing
      ? { ...cloneOwned(existing), ref }
      : { ...owned({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}), generation: 1 } }), ref };
    const specBefore = JSON.stringify(s.object['spec'] ?? null);
    const conflicts = applyOwned(s, KUBE_FIELD_MANAGER, body);
    if (conflicts.length > 0) {
      const { message, causes } = conflictStatus(conflicts, ref.apiVersion);
      throw new KubeApiError(409, 'Conflict', message, causes);
    }
    const changed = !existing || JSON.stringify(s.object['spec'] ?? null) !== specBefore;
    if (changed && existing) {
      const meta = s.object['metadata'] as Obj;
      meta['generation'] = Number(meta['generation'] ?? 1) + 1;
    }
    if (ref.kind === 'DaemonSet') this.settle(s);
    if (dryRun) return this.render(s);
    this.store.set(keyOf(ref), s);
    this.writes.push({ ref: `${ref.plural}/${ref.name}`, body: structuredClone(body), changed });
    this.onApplied?.(ref, this.render(s));
    return this.render(s);
  }

  /** A connector over this fake: records the clusters opened. */
  connector(opened: string[] = []): KubeConnector {
    return async (cluster) => {
      opened.push(cluster.name ?? '');
      return this;
    };
  }

  private own(ref: Ref, path: Path, manager: string, operation: 'Apply' | 'Update'): void {
    const s = this.store.get(keyOf(ref));
    if (s) giveField(s, segsOf(path), manager, operation);
  }

  private fail(op: 'get' | 'apply' | 'dry-run'): void {
    const i = this.failures.findIndex((f) => f.op === op);
    if (i < 0) return;
    const [f] = this.failures.splice(i, 1);
    throw f?.err;
  }

  /** The DaemonSet's status after a new generation: at once in `immediate` mode, or when forced. */
  private settle(s: Stored, force = false): void {
    const generation = Number((s.object['metadata'] as Obj)['generation'] ?? 1);
    const status = (s.object['status'] as Obj | undefined) ?? {};
    if (this.rollout === 'immediate' || force || status['observedGeneration'] === undefined) {
      s.object['status'] = { observedGeneration: generation, desiredNumberScheduled: this.desiredNodes, currentNumberScheduled: this.desiredNodes, updatedNumberScheduled: this.desiredNodes, numberAvailable: this.desiredNodes, numberReady: this.desiredNodes };
    } else {
      s.object['status'] = { ...status, updatedNumberScheduled: 0 };
    }
  }

  private render(s: Stored): Obj {
    const o = structuredClone(s.object);
    (o['metadata'] as Obj)['managedFields'] = managedFields(s, s.ref.apiVersion);
    return o;
  }
}
