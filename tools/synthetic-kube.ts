/**
 * The Kubernetes part of a synthetic account's snapshot (`<snapshot>/kubernetes/<cluster>/`), in the
 * RAW API shapes `kubectl get -o json` prints: NodeList, PodList, EventList, ENIConfigList,
 * NodePoolList, EC2NodeClassList, a `Status` where a CRD is absent, and `access.json` for a
 * cluster whose API cannot be read. Consistent with the account: each Node names its instance
 * (spec.providerID), each pod's podIP is one of its node's secondary IPs, so assigned ≤ held.
 * Layout: /work/wt/COMMON-14.md "Snapshot layout of the Kubernetes part"; docs/snapshots.md.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Instance, NetworkInterface } from '@aws-sdk/client-ec2';
import type { SyntheticAccount } from './synthetic-account';

/** IP-assignment failures to write: pods Pending on one node, each with a FailedCreatePodSandBox event. */
export interface KubeFailureSpec {
  /** The node: the first of this nodegroup (or NodePool) label with its primary ENI in the subnet named `<cluster>-<subnet>`. */
  nodegroup: string;
  subnet: string;
  pods: number;
  /** Minutes before the capture that the events were last seen. */
  minutesAgo: number;
  /** Each event's `count`. */
  count: number;
  namespace: string;
}

export interface KubeClusterSpec {
  cluster: string;
  /** The Kubernetes API could not be read: `access.json` and nothing else. */
  access?: { ok: false; reason: string; detail: string; fix: string };
  /** status.capacity.pods by nodegroup / NodePool label; default: the EKS calculator's figure for the type (secondary-IP mode). */
  maxPods?: Record<string, number>;
  /** Pod addresses left idle on a node that is not at its ENI limit (the warm pool). */
  warmPerNode: number;
  /** Namespace of the pods on a nodegroup's nodes. */
  namespaces?: Record<string, string>;
  failures?: KubeFailureSpec[];
  /** A node launched but not registered yet (no Node, no pods): its figures stay estimated. */
  notRegistered?: { nodegroup: string; subnet: string };
  /** Karpenter's NodePools and EC2NodeClasses, RAW (karpenter.sh/v1, karpenter.k8s.aws/v1); absent = the CRDs are not installed. */
  karpenter?: { nodePools: unknown[]; nodeClasses: unknown[] };
}

/**
 * The message the kubelet records when the VPC CNI cannot give a pod an address. The CNI's part is
 * `add cmd: failed to assign an IP address to container` (aws/amazon-vpc-cni-k8s@b52188387f2e
 * cmd/routed-eni-cni-plugin/cni.go, `cmdAdd` when ipamd answers `Success: false`); containerd wraps
 * it as seen in aws/karpenter-provider-aws#3989 and kubernetes/kubernetes#131071.
 */
export function ipAssignFailureMessage(sandboxId: string): string {
  return `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "${sandboxId}": plugin type="aws-cni" name="aws-cni" failed (add): add cmd: failed to assign an IP address to container`;
}

/** A `Status` answer, as the API server gives it for a resource whose CRD is not installed. */
export const NOT_FOUND_STATUS = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'the server could not find the requested resource',
  reason: 'NotFound',
  details: {},
  code: 404,
};

/** A stable hex string from text (FNV-1a), `length` digits. */
function hex(text: string, length: number): string {
  let out = '';
  for (let round = 0; out.length < length; round++) {
    let h = 0x811c9dc5 ^ round;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    out += h.toString(16).padStart(8, '0');
  }
  return out.slice(0, length);
}

/** Kubernetes' pod-name suffix alphabet (no vowels), 5 characters. */
function suffix(text: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const h = hex(text, 10);
  return Array.from({ length: 5 }, (_, i) => alphabet[parseInt(h.slice(i * 2, i * 2 + 2), 16) % alphabet.length]).join('');
}

const tagOf = (i: Instance, key: string): string | undefined => i.Tags?.find((t) => t.Key === key)?.Value;

/** The nodegroup or NodePool label of an instance, as the demo tags it. */
function groupOf(i: Instance): string {
  return tagOf(i, 'eks:nodegroup-name') ?? tagOf(i, 'karpenter.sh/nodepool') ?? tagOf(i, 'eks:kubernetes-node-pool-name') ?? 'self-managed';
}

/** The secondary IPs of an instance's ENIs on the default card (the pod addresses it holds), in device order. */
function secondaryIps(enis: NetworkInterface[]): string[] {
  return [...enis]
    .sort((a, b) => (a.Attachment?.DeviceIndex ?? 0) - (b.Attachment?.DeviceIndex ?? 0))
    .flatMap((e) => (e.PrivateIpAddresses ?? []).filter((p) => !p.Primary).map((p) => p.PrivateIpAddress ?? ''));
}

const ts = (at: number): string => new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The files of one cluster's `kubernetes/<cluster>/` directory: file name → JSON body. */
export function kubernetesFiles(account: SyntheticAccount, spec: KubeClusterSpec): Record<string, unknown> {
  if (spec.access) return { 'access.json': spec.access };
  const captured = Date.parse(account.capturedAt);
  const instances = account.instances.filter((i) => tagOf(i, `kubernetes.io/cluster/${spec.cluster}`) !== undefined && i.State?.Name !== 'terminated');
  const typeInfo = new Map(account.instanceTypes.map((t) => [t.InstanceType, t]));
  const subnetName = new Map(account.subnets.map((s) => [s.SubnetId, s.Tags?.find((t) => t.Key === 'Name')?.Value]));
  const enisOf = (id: string): NetworkInterface[] =>
    account.networkInterfaces.filter((e) => e.Attachment?.InstanceId === id && (e.Attachment.NetworkCardIndex ?? 0) === 0);

  const nodes: unknown[] = [];
  const pods: unknown[] = [];
  const events: unknown[] = [];
  const nodeIn = (group: string, subnet: string): string => {
    const node = instances.find((i) => groupOf(i) === group && subnetName.get(i.SubnetId) === `${spec.cluster}-${subnet}`);
    if (!node?.InstanceId) throw new Error(`${spec.cluster}: no node of ${group} in ${subnet}`);
    return node.InstanceId;
  };
  const failing = new Map<string, KubeFailureSpec>();
  for (const f of spec.failures ?? []) failing.set(nodeIn(f.nodegroup, f.subnet), f);
  const unregistered = spec.notRegistered ? nodeIn(spec.notRegistered.nodegroup, spec.notRegistered.subnet) : undefined;

  for (const i of instances) {
    const id = i.InstanceId ?? '';
    if (id === unregistered) continue;
    const name = i.PrivateDnsName ?? `ip-${(i.PrivateIpAddress ?? '').replace(/\./g, '-')}.${account.region}.compute.internal`;
    const info = typeInfo.get(i.InstanceType);
    const enis = enisOf(id);
    const maxEnis = info?.NetworkInfo?.MaximumNetworkInterfaces ?? 0;
    const perEni = info?.NetworkInfo?.Ipv4AddressesPerInterface ?? 0;
    const group = groupOf(i);
    // The EKS calculator's figure in secondary-IP mode, unless the spec sets the group's.
    const maxPods = spec.maxPods?.[group] ?? maxEnis * (perEni - 1) + 2;
    const labels: Record<string, string> = {
      'kubernetes.io/arch': i.Architecture === 'arm64' ? 'arm64' : 'amd64',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/hostname': name,
      'node.kubernetes.io/instance-type': i.InstanceType ?? '',
      'topology.kubernetes.io/region': account.region,
      'topology.kubernetes.io/zone': i.Placement?.AvailabilityZone ?? '',
    };
    if (tagOf(i, 'eks:nodegroup-name')) labels['eks.amazonaws.com/nodegroup'] = group;
    if (tagOf(i, 'karpenter.sh/nodepool')) labels['karpenter.sh/nodepool'] = group;
    const cpu = String(info?.VCpuInfo?.DefaultVCpus ?? 2);
    const memory = `${(info?.MemoryInfo?.SizeInMiB ?? 4096) * 1024}Ki`;
    nodes.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, uid: `${hex(id, 8)}-${hex(`${id}/1`, 4)}-${hex(`${id}/2`, 4)}-${hex(`${id}/3`, 4)}-${hex(`${id}/4`, 12)}`, creationTimestamp: i.LaunchTime ? ts(new Date(i.LaunchTime).getTime() + 90_000) : account.capturedAt, labels },
      spec: { providerID: `aws:///${i.Placement?.AvailabilityZone ?? ''}/${id}` },
      status: {
        capacity: { cpu, memory, pods: String(maxPods) },
        allocatable: { cpu, memory, pods: String(maxPods) },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastTransitionTime: i.LaunchTime ? ts(new Date(i.LaunchTime).getTime() + 120_000) : account.capturedAt }],
        addresses: [
          { type: 'InternalIP', address: i.PrivateIpAddress ?? '' },
          { type: 'Hostname', address: name },
        ],
      },
    });

    // Host-network pods: aws-node and kube-proxy use the node's own address.
    for (const ds of ['aws-node', 'kube-proxy']) {
      pods.push(pod('kube-system', `${ds}-${suffix(`${ds}/${id}`)}`, name, { hostNetwork: true, podIP: i.PrivateIpAddress }));
    }
    // Pods with a VPC address: every slot the node holds on a node at its ENI limit, else all but the warm pool.
    const held = secondaryIps(enis);
    const atLimit = enis.length >= maxEnis && enis.every((e) => (e.PrivateIpAddresses?.length ?? 0) >= perEni);
    const f = failing.get(id);
    // A node whose pods wait for addresses has no warm one left.
    const assigned = atLimit || f ? held.length : Math.max(0, held.length - spec.warmPerNode);
    const namespace = spec.namespaces?.[group] ?? 'default';
    const workload = `${group}-app-${hex(group, 10).slice(0, 10)}`;
    for (const ip of held.slice(0, assigned)) pods.push(pod(namespace, `${workload}-${suffix(`${id}/${ip}`)}`, name, { podIP: ip }));

    if (!f) continue;
    // Pods waiting for an address on this node, and the kubelet's events about them.
    for (let n = 0; n < f.pods; n++) {
      const podName = `${f.namespace}-worker-${hex(`${id}/wait`, 10)}-${suffix(`${id}/wait/${n}`)}`;
      pods.push(pod(f.namespace, podName, name, { pending: true }));
      const last = captured - f.minutesAgo * 60_000;
      events.push({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${podName}.${hex(`${podName}/event`, 16)}`, namespace: f.namespace, creationTimestamp: ts(last - f.count * 60_000) },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: f.namespace, name: podName, uid: `${hex(podName, 8)}-0000-4000-8000-${hex(`${podName}/uid`, 12)}` },
        reason: 'FailedCreatePodSandBox',
        message: ipAssignFailureMessage(hex(`${podName}/sandbox/${f.count}`, 64)),
        source: { component: 'kubelet', host: name },
        firstTimestamp: ts(last - f.count * 60_000),
        lastTimestamp: ts(last),
        count: f.count,
        type: 'Warning',
        reportingComponent: 'kubelet',
        reportingInstance: name,
      });
    }
  }

  const list = (apiVersion: string, kind: string, items: unknown[]) => ({ apiVersion, kind, metadata: { resourceVersion: String(40_000_000 + items.length) }, items });
  const files: Record<string, unknown> = {
    'nodes.json': list('v1', 'NodeList', nodes),
    'pods.json': list('v1', 'PodList', pods),
    'events.json': list('v1', 'EventList', events),
    // The VPC CNI installs the ENIConfig CRD; without custom networking it holds none.
    'eniconfigs.json': list('crd.k8s.amazonaws.com/v1alpha1', 'ENIConfigList', []),
    'nodepools.json': spec.karpenter ? list('karpenter.sh/v1', 'NodePoolList', spec.karpenter.nodePools) : NOT_FOUND_STATUS,
    'ec2nodeclasses.json': spec.karpenter ? list('karpenter.k8s.aws/v1', 'EC2NodeClassList', spec.karpenter.nodeClasses) : NOT_FOUND_STATUS,
  };
  return files;
}

/** A Pod with only the fields the reader uses: phase, nodeName, hostNetwork, podIP(s). */
function pod(namespace: string, name: string, nodeName: string, o: { hostNetwork?: boolean; podIP?: string; pending?: boolean }): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: { nodeName, ...(o.hostNetwork ? { hostNetwork: true } : {}) },
    status: {
      phase: o.pending ? 'Pending' : 'Running',
      ...(o.podIP ? { podIP: o.podIP, podIPs: [{ ip: o.podIP }] } : {}),
    },
  };
}

/**
 * Writes `kubernetes/<cluster>/` for each spec under `dir`. Lists are written one item a line
 * (still JSON), so that a few hundred pods stay small and diff well.
 */
export async function writeKubernetesSnapshot(account: SyntheticAccount, specs: KubeClusterSpec[], dir: string): Promise<string[]> {
  const written: string[] = [];
  for (const spec of specs) {
    const where = path.join(dir, 'kubernetes', spec.cluster);
    await fs.mkdir(where, { recursive: true });
    for (const [file, body] of Object.entries(kubernetesFiles(account, spec))) {
      const target = path.join(where, file);
      await fs.writeFile(target, formatJson(body));
      written.push(target);
    }
  }
  return written;
}

/** JSON with a list's `items` one a line. */
function formatJson(body: unknown): string {
  const b = body as { items?: unknown[] };
  if (!Array.isArray(b.items)) return `${JSON.stringify(body, null, 2)}\n`;
  const { items, ...head } = b;
  const headText = JSON.stringify(head, null, 2).replace(/\n}$/, '');
  const lines = items.map((x) => `    ${JSON.stringify(x)}`).join(',\n');
  return `${headText},\n  "items": [${items.length > 0 ? `\n${lines}\n  ` : ''}]\n}\n`;
}
