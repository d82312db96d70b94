/**
 * Raw Kubernetes API objects (as the API and `kubectl get -o json` give them) trimmed to the
 * contract types of kube-types.ts, keeping only the fields used. Pure. Pods are tallied per node
 * page by page (a PodList is never held); IP-assignment failure events are kept only when their
 * message is the VPC CNI's. Used by the live reader (lib/kube/reader.ts) and the snapshot source.
 */
import type {
  AwsNodeDaemonSet,
  IpFailureCause,
  KarpenterNodeClass,
  KarpenterNodePool,
  KubeEniConfig,
  KubeClusterView,
  KubeIpFailure,
  KubeNode,
  KubeNodePods,
  KubePart,
  KubeRequirement,
  KubeUnread,
} from './kube-types';

type Obj = Record<string, unknown>;
const obj = (x: unknown): Obj => (x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Obj) : {});
const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
const str = (x: unknown): string | undefined => (typeof x === 'string' && x !== '' ? x : undefined);
const num = (x: unknown): number | undefined => {
  const n = typeof x === 'number' ? x : typeof x === 'string' && /^\d+$/.test(x) ? Number(x) : NaN;
  return Number.isFinite(n) ? n : undefined;
};
const defined = <T extends Obj>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** The items of a list answer (`{kind: 'NodeList', items: [...]}`). */
export function itemsOf(list: unknown): unknown[] {
  return arr(obj(list)['items']);
}

/** A Kubernetes `Status` object (an error answer): its code and message. */
export function statusOf(x: unknown): { code: number; reason?: string; message: string } | undefined {
  const o = obj(x);
  if (o['kind'] !== 'Status' || o['status'] === 'Success') return undefined;
  return defined({ code: num(o['code']) ?? 0, reason: str(o['reason']), message: str(o['message']) ?? 'Status' });
}

// Node labels: well-known labels (https://kubernetes.io/docs/reference/labels-annotations-taints/),
// eks.amazonaws.com/nodegroup (EKS managed node groups), karpenter.sh/nodepool (Karpenter v1).
const PROVIDER_ID = /^aws:\/\/\/[^/]*\/(i-[0-9a-f]+)$/;

/** A Node, trimmed. spec.providerID is `aws:///<az>/<instance-id>` on EKS nodes. */
export function trimNode(raw: unknown): KubeNode {
  const o = obj(raw);
  const meta = obj(o['metadata']);
  const labels = obj(meta['labels']);
  const status = obj(o['status']);
  const ready = arr(status['conditions']).map(obj).find((c) => c['type'] === 'Ready');
  return defined({
    name: str(meta['name']) ?? '',
    instanceId: PROVIDER_ID.exec(str(obj(o['spec'])['providerID']) ?? '')?.[1],
    instanceType: str(labels['node.kubernetes.io/instance-type']),
    zone: str(labels['topology.kubernetes.io/zone']),
    nodegroup: str(labels['eks.amazonaws.com/nodegroup']),
    nodePool: str(labels['karpenter.sh/nodepool']),
    maxPods: num(obj(status['capacity'])['pods']),
    allocatablePods: num(obj(status['allocatable'])['pods']),
    ready: ready ? ready['status'] === 'True' : undefined,
    createdAt: str(meta['creationTimestamp']),
  });
}

export function trimNodes(items: readonly unknown[]): KubeNode[] {
  return items.map(trimNode).filter((n) => n.name !== '');
}

/** Pods per node, tallied page by page; `awaiting` keeps the node of each pod still without an address. */
export interface PodTally {
  byNode: Record<string, KubeNodePods>;
  /** `namespace/name` → node, for pods not on the host network without a podIP (what failure events name). */
  awaiting: Map<string, string>;
}

export function newPodTally(): PodTally {
  return { byNode: {}, awaiting: new Map() };
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Adds one page of pods. Succeeded and Failed pods hold no address (the live read filters them out server-side too). */
export function tallyPods(tally: PodTally, items: readonly unknown[]): void {
  for (const raw of items) {
    const o = obj(raw);
    const spec = obj(o['spec']);
    const status = obj(o['status']);
    const node = str(spec['nodeName']);
    const phase = str(status['phase']);
    if (!node || phase === 'Succeeded' || phase === 'Failed') continue;
    const t = (tally.byNode[node] ??= { assignedIpv4: 0, awaitingIp: 0, hostNetwork: 0 });
    const ip = str(status['podIP']);
    if (spec['hostNetwork'] === true) t.hostNetwork += 1;
    else if (ip && IPV4.test(ip)) t.assignedIpv4 += 1;
    else if (!ip) {
      t.awaitingIp += 1;
      const meta = obj(o['metadata']);
      tally.awaiting.set(`${str(meta['namespace']) ?? 'default'}/${str(meta['name']) ?? ''}`, node);
    }
  }
}

/**
 * The VPC CNI's IP-assignment failure texts, as the CNI plugin wraps them into the sandbox error
 * (aws/amazon-vpc-cni-k8s@b521883 cmd/routed-eni-cni-plugin/cni.go, cmdAdd):
 * - `add cmd: failed to assign an IP address to container`: ipamd answered Success=false, which
 *   pkg/ipamd/rpc_handler.go (AddNetwork) does when the datastore has none to give
 *   (datastore.ErrNoAvailableIPInDataStore, "AssignPodIPAddress: no available IP/Prefix addresses");
 * - `add cmd: failed to connect to backend server` / `add cmd: Error received from AddNetwork gRPC call`:
 *   ipamd (aws-node) could not be reached over its socket.
 */
export const CNI_NO_ADDRESS_TEXTS = ['failed to assign an IP address to container', 'no available IP/Prefix addresses'];
export const CNI_IPAMD_UNREACHABLE_TEXTS = ['failed to connect to backend server', 'Error received from AddNetwork gRPC call'];

/** The cause an event message names, or undefined when it is not the VPC CNI's IP-assignment failure. */
export function ipFailureCauseOf(message: string): IpFailureCause | undefined {
  if (CNI_NO_ADDRESS_TEXTS.some((t) => message.includes(t))) return 'no-free-address';
  if (CNI_IPAMD_UNREACHABLE_TEXTS.some((t) => message.includes(t))) return 'ipamd-unreachable';
  // The plugin's other failures of an ADD that name addresses ("failed to assign", "IP address").
  if (/aws-cni/.test(message) && /\b(assign|IP address)/i.test(message)) return 'other';
  return undefined;
}

/** The failure events kept (only those whose message is the CNI's), one record each. */
export interface IpFailureTally {
  events: { node?: string; pod: string; cause: IpFailureCause; count: number; lastSeen: string; message: string }[];
}

export function newIpFailureTally(): IpFailureTally {
  return { events: [] };
}

/** Adds one page of events (core/v1 Event); only reason FailedCreatePodSandBox with the CNI's text is kept. */
export function tallyIpFailureEvents(tally: IpFailureTally, items: readonly unknown[]): void {
  for (const raw of items) {
    const o = obj(raw);
    if (o['reason'] !== 'FailedCreatePodSandBox') continue;
    const message = str(o['message']) ?? '';
    const cause = ipFailureCauseOf(message);
    if (!cause) continue;
    const involved = obj(o['involvedObject']);
    const series = obj(o['series']);
    tally.events.push(
      defined({
        node: str(obj(o['source'])['host']) ?? str(o['reportingInstance']),
        pod: `${str(involved['namespace']) ?? 'default'}/${str(involved['name']) ?? ''}`,
        cause,
        count: num(series['count']) ?? num(o['count']) ?? 1,
        lastSeen: str(series['lastObservedTime']) ?? str(o['lastTimestamp']) ?? str(o['eventTime']) ?? str(obj(o['metadata'])['creationTimestamp']) ?? '',
        message,
      }),
    );
  }
}

/** The failures grouped by node (the event's, or the pod's spec.nodeName) and cause. */
export function ipFailuresOf(tally: IpFailureTally, nodeOfPod: ReadonlyMap<string, string> = new Map()): KubeIpFailure[] {
  const groups = new Map<string, KubeIpFailure>();
  for (const e of tally.events) {
    const node = e.node ?? nodeOfPod.get(e.pod);
    const key = `${node ?? ''}\u0000${e.cause}`;
    let g = groups.get(key);
    if (!g) {
      g = defined({ node, cause: e.cause, count: 0, pods: [], lastSeen: e.lastSeen, message: e.message });
      groups.set(key, g);
    }
    g.count += e.count;
    if (!g.pods.includes(e.pod)) g.pods.push(e.pod);
    if (e.lastSeen > g.lastSeen) {
      g.lastSeen = e.lastSeen;
      g.message = e.message;
    }
  }
  return [...groups.values()].sort((a, b) => (a.node ?? '').localeCompare(b.node ?? '') || a.cause.localeCompare(b.cause));
}

/** `k:{"name":"X"}` keys of a managedFields fieldsV1 map. */
function keyedNames(fields: Obj): string[] {
  return Object.keys(fields).flatMap((k) => {
    if (!k.startsWith('k:')) return [];
    try {
      const name = str(obj(JSON.parse(k.slice(2)))['name']);
      return name ? [name] : [];
    } catch {
      return [];
    }
  });
}

/** The aws-node DaemonSet (kube-system/aws-node), trimmed: its aws-node container's literal env, image, version, env owners. */
export function trimAwsNode(raw: unknown): AwsNodeDaemonSet {
  const o = obj(raw);
  const meta = obj(o['metadata']);
  const containers = arr(obj(obj(obj(o['spec'])['template'])['spec'])['containers']).map(obj);
  const c = containers.find((x) => x['name'] === 'aws-node') ?? containers[0] ?? {};
  const env: Record<string, string> = {};
  for (const e of arr(c['env']).map(obj)) {
    const name = str(e['name']);
    if (name && typeof e['value'] === 'string') env[name] = e['value'];
  }
  const image = str(c['image']);
  const envManagers: Record<string, string> = {};
  for (const m of arr(meta['managedFields']).map(obj)) {
    const manager = str(m['manager']);
    const fContainers = obj(obj(obj(obj(obj(m['fieldsV1'])['f:spec'])['f:template'])['f:spec'])['f:containers']);
    const fAwsNode = obj(fContainers['k:{"name":"aws-node"}']);
    const fEnv = obj(fAwsNode['f:env']);
    for (const name of keyedNames(fEnv)) {
      // The manager of an entry's value is its owner; one owning only the key yields to it.
      const ownsValue = 'f:value' in obj(fEnv[`k:${JSON.stringify({ name })}`]);
      if (manager && (ownsValue || !envManagers[name])) envManagers[name] = manager;
    }
  }
  return defined({
    env,
    image,
    version: /:v?(\d+\.\d+\.\d+)/.exec(image ?? '')?.[1],
    envManagers: Object.keys(envManagers).length > 0 ? envManagers : undefined,
    resourceVersion: str(meta['resourceVersion']),
  });
}

/** ENIConfigs (crd.k8s.amazonaws.com/v1alpha1: spec.subnet, spec.securityGroups). */
export function trimEniConfigs(items: readonly unknown[]): KubeEniConfig[] {
  return items.map((raw) => {
    const o = obj(raw);
    const spec = obj(o['spec']);
    const groups = arr(spec['securityGroups']).filter((g): g is string => typeof g === 'string');
    return defined({ name: str(obj(o['metadata'])['name']) ?? '', subnet: str(spec['subnet']), securityGroups: groups.length > 0 ? groups : undefined });
  });
}

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']);

/** Karpenter v1 NodePools: spec.template.spec.requirements and nodeClassRef (kubernetes-sigs/karpenter pkg/apis/v1/nodepool.go). */
export function trimNodePools(items: readonly unknown[]): KarpenterNodePool[] {
  return items.map((raw) => {
    const o = obj(raw);
    const meta = obj(o['metadata']);
    const tspec = obj(obj(obj(o['spec'])['template'])['spec']);
    const ref = obj(tspec['nodeClassRef']);
    const requirements: KubeRequirement[] = arr(tspec['requirements'])
      .map(obj)
      .filter((r) => typeof r['key'] === 'string' && OPERATORS.has(r['operator'] as string))
      .map((r) =>
        defined({
          key: r['key'] as string,
          operator: r['operator'] as KubeRequirement['operator'],
          values: Array.isArray(r['values']) ? arr(r['values']).filter((v): v is string => typeof v === 'string') : undefined,
          minValues: num(r['minValues']),
        }),
      );
    return defined({
      name: str(meta['name']) ?? '',
      nodeClassRef: str(ref['name']) ? defined({ group: str(ref['group']), kind: str(ref['kind']), name: ref['name'] as string }) : undefined,
      requirements,
      resourceVersion: str(meta['resourceVersion']),
    });
  });
}

/** Karpenter v1 EC2NodeClasses: subnetSelectorTerms, status.subnets, kubelet maxPods/podsPerCore (aws/karpenter-provider-aws pkg/apis/v1/ec2nodeclass.go). */
export function trimNodeClasses(items: readonly unknown[]): KarpenterNodeClass[] {
  return items.map((raw) => {
    const o = obj(raw);
    const meta = obj(o['metadata']);
    const spec = obj(o['spec']);
    const kubelet = obj(spec['kubelet']);
    const subnets = arr(obj(o['status'])['subnets']).map(obj);
    return defined({
      name: str(meta['name']) ?? '',
      subnetSelectorTerms: arr(spec['subnetSelectorTerms']).map((t) => {
        const term = obj(t);
        const tags = obj(term['tags']);
        return defined({
          id: str(term['id']),
          tags: Object.keys(tags).length > 0 ? Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)])) : undefined,
        });
      }),
      resolvedSubnets: 'subnets' in obj(o['status'])
        ? subnets.filter((s) => str(s['id'])).map((s) => defined({ id: s['id'] as string, zone: str(s['zone']), zoneId: str(s['zoneID']) }))
        : undefined,
      kubeletMaxPods: num(kubelet['maxPods']),
      podsPerCore: num(kubelet['podsPerCore']),
      resourceVersion: str(meta['resourceVersion']),
    });
  });
}

/** One part of a snapshot's `kubernetes/<cluster>/`: its parsed JSON, or why it could not be read. */
export type KubeRawPart = { json: unknown } | { problem: string };

/** What a 404 answer means per part: the object or CRD is absent (null), or the part is unread. */
const ABSENT_ON_404 = new Set<string>(['aws-node', 'eniconfigs', 'nodepools', 'ec2nodeclasses']);
const LIST_KIND: Record<string, string> = {
  nodes: 'NodeList',
  pods: 'PodList',
  events: 'EventList',
  eniconfigs: 'ENIConfigList',
  nodepools: 'NodePoolList',
  ec2nodeclasses: 'EC2NodeClassList',
};

/**
 * A cluster's view from raw parts (a snapshot's files): lists and objects as the API gives them,
 * a `Status` as that answer (404: absent; else unread with its code). Validated loosely: a list
 * needs `items`, the DaemonSet its kind; a part that is not is unread, naming `fileOf(part)`.
 */
export function kubeViewOfRaw(
  parts: Partial<Record<KubePart, KubeRawPart>>,
  readAt: string,
  fileOf: (part: KubePart) => string,
): KubeClusterView {
  const unread: KubeUnread[] = [];
  const view: KubeClusterView = { readAt, access: { ok: true }, unread };
  const absent = new Set<string>();
  /** The part's items or object, or undefined (recorded as unread or absent). */
  const take = (part: KubePart): unknown => {
    const p = parts[part];
    if (!p) {
      unread.push({ part, message: `${fileOf(part)} is not in the snapshot` });
      return undefined;
    }
    if ('problem' in p) {
      unread.push({ part, message: `${fileOf(part)}: ${p.problem}` });
      return undefined;
    }
    const status = statusOf(p.json);
    if (status) {
      if (status.code === 404 && ABSENT_ON_404.has(part)) absent.add(part);
      else unread.push({ part, status: status.code, message: `${fileOf(part)}: ${status.code} ${status.reason ?? ''}: ${status.message}`.replace(/ +:/, ':') });
      return undefined;
    }
    const o = obj(p.json);
    if (part === 'aws-node') {
      if (o['kind'] === 'DaemonSet') return o;
    } else if (Array.isArray(o['items'])) {
      return o['items'];
    }
    unread.push({ part, message: `${fileOf(part)}: not a ${part === 'aws-node' ? 'DaemonSet' : LIST_KIND[part]} (kubectl get -o json)` });
    return undefined;
  };
  const nodes = take('nodes');
  if (nodes) view.nodes = trimNodes(nodes as unknown[]);
  const pods = take('pods');
  let tally: PodTally | undefined;
  if (pods) {
    tally = newPodTally();
    tallyPods(tally, pods as unknown[]);
    view.pods = tally.byNode;
  }
  const events = take('events');
  if (events) {
    const t = newIpFailureTally();
    tallyIpFailureEvents(t, events as unknown[]);
    view.ipFailures = ipFailuresOf(t, tally?.awaiting);
  }
  const ds = take('aws-node');
  if (ds) view.awsNode = trimAwsNode(ds);
  else if (absent.has('aws-node')) view.awsNode = null;
  const enis = take('eniconfigs');
  if (enis) view.eniConfigs = trimEniConfigs(enis as unknown[]);
  else if (absent.has('eniconfigs')) view.eniConfigs = null;
  const pools = take('nodepools');
  const classes = take('ec2nodeclasses');
  if (absent.has('nodepools')) view.karpenter = null;
  else if (pools && (classes || absent.has('ec2nodeclasses'))) {
    view.karpenter = { nodePools: trimNodePools(pools as unknown[]), nodeClasses: classes ? trimNodeClasses(classes as unknown[]) : [] };
  }
  return view;
}
