/**
 * Capturing a snapshot: {@link RecordingSource} wraps any {@link InventorySource} (normally the
 * live one), forwards every call and remembers the answers; {@link writeSnapshot} then writes them
 * in the layout `snapshot.ts` reads, so that what the responder saw can be replayed and shared.
 *
 * Design: docs/snapshots.md#libinventorycapturets-capturing-a-snapshot
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { problemOf } from './collect';
import { EKS_NAME_PATTERN, READ_OPERATION } from '../names';
import { snapshotPaths, requestKey, VPC_ID_PATTERN, type FailedRead } from './snapshot-schemas';
import { PartialReadError, type EniReadOptions } from './types';
import type { KubeAccess, KubernetesReader, KubePart } from './kube-types';
import { KUBE_ACCESS_FILE, KUBE_SNAPSHOT_FILES, kubeSnapshotPath } from './snapshot-kube';
import type {
  Addon,
  Cluster,
  Instance,
  InstanceTypeInfo,
  InventorySource,
  NetworkInterface,
  Nodegroup,
  Subnet,
  VpcNetwork,
  SubnetCidrReservation,
} from './types';

/** Everything a snapshot holds, in AWS shapes; what {@link writeSnapshotContents} writes. */
export interface SnapshotContents {
  meta: { region: string; capturedAt: string };
  /** `eks/list-clusters.json`. */
  clusterNames: string[];
  /** One `describe-cluster.json` each, under the cluster's name. */
  clusters: Cluster[];
  /** By cluster name; an empty or missing entry writes no `nodegroups/` directory. */
  nodegroups: Record<string, Nodegroup[]>;
  /** By cluster name; `undefined` or missing writes no `addon-vpc-cni.json` (self-managed aws-node). */
  addons: Record<string, Addon | undefined>;
  subnets: Subnet[];
  networkInterfaces: NetworkInterface[];
  instances: Instance[];
  /** `ec2/describe-instance-types.json`; when empty the file is not written (readers use the bundled data). */
  instanceTypes: InstanceTypeInfo[];
  /**
   * `ec2/get-subnet-cidr-reservations.json` (one page): written when given, even empty (the read was
   * made and found none); absent, not written (readers then take none).
   */
  subnetCidrReservations?: SubnetCidrReservation[];
  /** `failed-reads.json` `failedReads`: the reads that failed. With this and `unknownInstanceTypes` empty or absent, no file is written. */
  failedReads?: FailedRead[];
  /** `failed-reads.json` `unknownInstanceTypes`: what DescribeInstanceTypes did not know. */
  unknownInstanceTypes?: string[];
  /** The VPC networks read (the network preflight): the `ec2/describe-vpcs.json`, … files; none written when absent or empty. */
  networks?: VpcNetwork[];
  /**
   * By cluster name: the raw Kubernetes answers (`kubernetes/<cluster>/<part>.json`, lib/inventory/snapshot-kube.ts),
   * and the access failure when the API could not be read at all (`access.json`).
   */
  kubernetes?: Record<string, { parts: Partial<Record<KubePart, unknown>>; access?: KubeAccess }>;
}

function byId<T>(map: Map<string, T>, items: readonly T[], id: (item: T) => string | undefined): void {
  for (const item of items) {
    const key = id(item);
    if (key !== undefined) map.set(key, item);
  }
}

/**
 * An {@link InventorySource} that forwards every call to `inner` and records the answers, deduped
 * by resource id (a subnet asked for by two clusters is written once; the latest answer wins).
 */
export class RecordingSource implements InventorySource {
  private listed?: string[];
  private readonly clusters = new Map<string, Cluster>();
  private readonly nodegroups = new Map<string, Nodegroup[]>();
  private readonly addons = new Map<string, Addon | undefined>();
  private readonly subnets = new Map<string, Subnet>();
  private readonly enis = new Map<string, NetworkInterface>();
  private readonly instances = new Map<string, Instance>();
  private readonly instanceTypes = new Map<string, InstanceTypeInfo>();
  private readonly reservations = new Map<string, SubnetCidrReservation>();
  private readonly failed = new Map<string, FailedRead>();
  private readonly unknownTypes = new Set<string>();
  private readonly networks = new Map<string, VpcNetwork>();
  private readonly kube = new Map<string, { parts: Partial<Record<KubePart, unknown>>; access?: KubeAccess }>();

  /** Present when `inner` reads Kubernetes: its raw answers are kept (only here; the live reader keeps none). */
  readonly kubernetes?: KubernetesReader;

  /**
   * Present when `inner` has it. Into the same file as the nodes (ec2/describe-instances.json): a
   * terminated instance is recorded as EC2 answered it, one EC2 did not answer stays absent.
   */
  readonly describeInstancesById?: (instanceIds: string[]) => Promise<Instance[]>;

  constructor(private readonly inner: InventorySource) {
    // Only a source that reads VPC networks gets the method: the collector reads none otherwise.
    if (inner.describeVpcNetwork) {
      const read = inner.describeVpcNetwork.bind(inner);
      this.describeVpcNetwork = (vpcId: string) =>
        this.read(READ_OPERATION.describeVpcNetwork, { vpcId }, read(vpcId), (network) => {
          this.networks.set(vpcId, network);
        });
    }
    const kubeReader = inner.kubernetes;
    if (kubeReader) {
      this.kubernetes = {
        read: async (cluster, options) => {
          const parts: Partial<Record<KubePart, unknown>> = {};
          const view = await kubeReader.read(cluster, { ...options, onRaw: (part, raw) => (parts[part] = raw) });
          this.kube.set(cluster.name ?? '', { parts, ...(view.access.ok ? {} : { access: view.access }) });
          return view;
        },
      };
    }
    const byIds = inner.describeInstancesById?.bind(inner);
    if (byIds) {
      this.describeInstancesById = (instanceIds) =>
        this.read(READ_OPERATION.describeInstancesById, { instanceIds }, byIds(instanceIds), (instances) => byId(this.instances, instances, (i) => i.InstanceId));
    }
  }

  describeVpcNetwork?: (vpcId: string) => Promise<VpcNetwork>;

  /**
   * Runs one read of `inner`; a failure is recorded (under its request: a later answer to the same
   * request replaces it) and rethrown. An answer in part is recorded by `keep` before the rethrow.
   */
  private async read<T>(call: string, request: Record<string, string | string[]>, p: Promise<T>, keep: (value: T) => void): Promise<T> {
    const key = requestKey(call, request);
    try {
      const value = await p;
      this.failed.delete(key);
      keep(value);
      return value;
    } catch (err) {
      const problem = problemOf(call, err);
      const error: FailedRead['error'] = { operation: problem.source, ...(problem.code === undefined ? {} : { code: problem.code }), message: problem.message };
      if (err instanceof PartialReadError) {
        keep(err.partial as T);
        error.unread = [...(err.unread ?? [])];
      }
      this.failed.set(key, { call, request, error });
      throw err;
    }
  }

  get region(): string {
    return this.inner.region;
  }

  async listClusters(): Promise<string[]> {
    // Not recorded when it fails: without the list there is no snapshot (capture fails).
    const names = await this.inner.listClusters();
    this.listed = [...names];
    return names;
  }

  async describeCluster(name: string): Promise<Cluster> {
    return this.read(READ_OPERATION.describeCluster, { name }, this.inner.describeCluster(name), (cluster) => {
      this.clusters.set(name, cluster);
    });
  }

  async describeNodegroups(clusterName: string): Promise<Nodegroup[]> {
    return this.read(READ_OPERATION.describeNodegroups, { clusterName }, this.inner.describeNodegroups(clusterName), (nodegroups) => {
      this.nodegroups.set(clusterName, [...nodegroups]);
    });
  }

  async describeVpcCniAddon(clusterName: string): Promise<Addon | undefined> {
    return this.read(READ_OPERATION.describeVpcCniAddon, { clusterName }, this.inner.describeVpcCniAddon(clusterName), (addon) => {
      this.addons.set(clusterName, addon);
    });
  }

  async describeSubnetsById(subnetIds: string[]): Promise<Subnet[]> {
    return this.read(READ_OPERATION.describeSubnetsById, { subnetIds }, this.inner.describeSubnetsById(subnetIds), (subnets) =>
      byId(this.subnets, subnets, (s) => s.SubnetId),
    );
  }

  async describeSubnetsByTagKey(vpcId: string, tagKey: string): Promise<Subnet[]> {
    return this.read(READ_OPERATION.describeSubnetsByTagKey, { vpcId, tagKey }, this.inner.describeSubnetsByTagKey(vpcId, tagKey), (subnets) =>
      byId(this.subnets, subnets, (s) => s.SubnetId),
    );
  }

  async describeNetworkInterfaces(subnetIds: string[], options?: EniReadOptions): Promise<NetworkInterface[]> {
    return this.read(READ_OPERATION.describeNetworkInterfaces, { subnetIds }, this.inner.describeNetworkInterfaces(subnetIds, options), (enis) =>
      byId(this.enis, enis, (e) => e.NetworkInterfaceId),
    );
  }

  async describeClusterInstances(clusterName: string, options?: { autoMode?: boolean }): Promise<Instance[]> {
    return this.read(READ_OPERATION.describeClusterInstances, { clusterName }, this.inner.describeClusterInstances(clusterName, options), (instances) =>
      byId(this.instances, instances, (i) => i.InstanceId),
    );
  }

  async describeInstanceTypes(instanceTypes: string[]): Promise<{ found: InstanceTypeInfo[]; unknown: string[] }> {
    return this.read(READ_OPERATION.describeInstanceTypes, { instanceTypes }, this.inner.describeInstanceTypes(instanceTypes), (answer) => {
      byId(this.instanceTypes, answer.found, (t) => t.InstanceType);
      for (const t of answer.unknown) this.unknownTypes.add(t);
    });
  }

  async getSubnetCidrReservations(subnetIds: string[]): Promise<SubnetCidrReservation[]> {
    return this.read(READ_OPERATION.getSubnetCidrReservations, { subnetIds }, this.inner.getSubnetCidrReservations(subnetIds), (found) =>
      byId(this.reservations, found, (r) => r.SubnetCidrReservationId),
    );
  }

  /**
   * What was recorded, as snapshot contents. The cluster list is what ListClusters answered, or,
   * if it was never called, the clusters that were described.
   */
  contents(meta: SnapshotContents['meta']): SnapshotContents {
    return {
      meta,
      clusterNames: this.listed ?? [...this.clusters.keys()],
      clusters: [...this.clusters.values()],
      nodegroups: Object.fromEntries(this.nodegroups),
      addons: Object.fromEntries(this.addons),
      subnets: [...this.subnets.values()],
      networkInterfaces: [...this.enis.values()],
      instances: [...this.instances.values()],
      instanceTypes: [...this.instanceTypes.values()],
      subnetCidrReservations: [...this.reservations.values()],
      failedReads: [...this.failed.values()],
      unknownInstanceTypes: [...this.unknownTypes].sort(),
      networks: [...this.networks.values()],
      ...(this.kube.size > 0 ? { kubernetes: Object.fromEntries(this.kube) } : {}),
    };
  }
}

/**
 * Writes `contents` in the snapshot layout (see `snapshot.ts`), pretty-printed with two spaces;
 * `Date`s become ISO strings (`JSON.stringify`). The directory is created if needed and must be
 * empty: files of an older capture (a nodegroup since deleted) would otherwise be read back as
 * current. Each file is written to a temporary name and renamed, so a reader never sees half a file.
 *
 * @returns the files written, relative to `dir`, in the order written.
 */
export async function writeSnapshotContents(dir: string, contents: SnapshotContents): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const existing = await fs.readdir(dir);
  if (existing.length > 0) {
    throw new Error(`writing snapshot, ${dir} is not empty (${existing.slice(0, 3).join(', ')}...): choose a new directory`);
  }
  const checkName = (kind: string, name: string | undefined): string => {
    if (name === undefined || !EKS_NAME_PATTERN.test(name)) {
      throw new Error(`writing snapshot, ${kind} name ${JSON.stringify(name)} cannot be used as a file name`);
    }
    return name;
  };

  const files: Array<[string, unknown]> = [
    [snapshotPaths.meta, contents.meta],
    [snapshotPaths.listClusters, { clusters: contents.clusterNames }],
  ];
  for (const cluster of contents.clusters) {
    const name = checkName('cluster', cluster.name);
    files.push([snapshotPaths.describeCluster(name), { cluster }]);
  }
  for (const [clusterName, nodegroups] of Object.entries(contents.nodegroups)) {
    checkName('cluster', clusterName);
    for (const nodegroup of nodegroups) {
      files.push([snapshotPaths.nodegroup(clusterName, checkName('nodegroup', nodegroup.nodegroupName)), { nodegroup }]);
    }
  }
  for (const [clusterName, addon] of Object.entries(contents.addons)) {
    if (addon !== undefined) files.push([snapshotPaths.vpcCniAddon(checkName('cluster', clusterName)), { addon }]);
  }
  const unique = <T>(items: readonly T[], id: (item: T) => string | undefined): T[] => {
    const map = new Map<string, T>();
    byId(map, items, id);
    return [...map.values()];
  };
  files.push([snapshotPaths.subnets, { Subnets: unique(contents.subnets, (s) => s.SubnetId) }]);
  files.push([
    snapshotPaths.networkInterfaces,
    { NetworkInterfaces: unique(contents.networkInterfaces, (e) => e.NetworkInterfaceId) },
  ]);
  // The reservation an instance came in is not part of the inventory; one reservation holds them all.
  files.push([
    snapshotPaths.instances,
    { Reservations: [{ Instances: unique(contents.instances, (i) => i.InstanceId) }] },
  ]);
  if (contents.instanceTypes.length > 0) {
    files.push([snapshotPaths.instanceTypes, { InstanceTypes: unique(contents.instanceTypes, (t) => t.InstanceType) }]);
  }
  files.push(...networkFiles(contents.networks ?? []));
  if (contents.subnetCidrReservations !== undefined) {
    files.push([
      snapshotPaths.subnetCidrReservations,
      { SubnetIpv4CidrReservations: unique(contents.subnetCidrReservations, (r) => r.SubnetCidrReservationId) },
    ]);
  }
  for (const [clusterName, kube] of Object.entries(contents.kubernetes ?? {})) {
    checkName('cluster', clusterName);
    if (kube.access && !kube.access.ok) files.push([kubeSnapshotPath(clusterName, KUBE_ACCESS_FILE), kube.access]);
    for (const [part, raw] of Object.entries(kube.parts) as [KubePart, unknown][]) files.push([kubeSnapshotPath(clusterName, KUBE_SNAPSHOT_FILES[part]), raw]);
  }
  const failedReads = contents.failedReads ?? [];
  const unknownInstanceTypes = contents.unknownInstanceTypes ?? [];
  if (failedReads.length > 0 || unknownInstanceTypes.length > 0) {
    files.push([
      snapshotPaths.failedReads,
      { ...(failedReads.length > 0 ? { failedReads } : {}), ...(unknownInstanceTypes.length > 0 ? { unknownInstanceTypes } : {}) },
    ]);
  }

  const written: string[] = [];
  for (const [file, body] of files) {
    const target = path.join(dir, ...file.split('/'));
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    await fs.writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`, 'utf8');
    await fs.rename(tmp, target);
    written.push(file);
  }
  return written;
}

/**
 * The network preflight's files of these VPCs, each in the AWS CLI's shape; a piece no VPC has
 * (not read) writes no file, so that the replay does not know it either.
 */
function networkFiles(networks: readonly VpcNetwork[]): Array<[string, unknown]> {
  const files: Array<[string, unknown]> = [];
  const all = <T>(pick: (n: VpcNetwork) => T[] | undefined): T[] | undefined => {
    const read = networks.filter((n) => pick(n) !== undefined);
    return read.length === 0 ? undefined : read.flatMap((n) => pick(n) ?? []);
  };
  const vpcs = all((n) => (n.vpc ? [n.vpc] : undefined));
  if (vpcs) files.push([snapshotPaths.vpcs, { Vpcs: vpcs }]);
  for (const n of networks) {
    if (!VPC_ID_PATTERN.test(n.vpcId)) throw new Error(`writing snapshot, VPC id ${JSON.stringify(n.vpcId)} cannot be used as a file name`);
    if (n.enableDnsSupport !== undefined) files.push([snapshotPaths.vpcAttribute(n.vpcId, 'enableDnsSupport'), { VpcId: n.vpcId, EnableDnsSupport: { Value: n.enableDnsSupport } }]);
    if (n.enableDnsHostnames !== undefined) files.push([snapshotPaths.vpcAttribute(n.vpcId, 'enableDnsHostnames'), { VpcId: n.vpcId, EnableDnsHostnames: { Value: n.enableDnsHostnames } }]);
  }
  const dhcp = all((n) => (n.dhcpOptions ? [n.dhcpOptions] : undefined));
  if (dhcp) files.push([snapshotPaths.dhcpOptions, { DhcpOptions: dhcp }]);
  const tables = all((n) => n.routeTables);
  if (tables) files.push([snapshotPaths.routeTables, { RouteTables: tables }]);
  const endpoints = all((n) => n.endpoints);
  if (endpoints) files.push([snapshotPaths.vpcEndpoints, { VpcEndpoints: endpoints }]);
  const groups = all((n) => n.securityGroups);
  if (groups) files.push([snapshotPaths.securityGroups, { SecurityGroups: groups }]);
  return files;
}

/**
 * Writes what `recording` saw to `dir` in the snapshot layout.
 *
 * @returns the files written, relative to `dir`.
 */
export async function writeSnapshot(
  dir: string,
  recording: RecordingSource,
  meta: { region: string; capturedAt: string },
): Promise<string[]> {
  return writeSnapshotContents(dir, recording.contents(meta));
}
