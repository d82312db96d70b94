/**
 * Collect: fills an Inventory from a source (the live account or a snapshot). The same code
 * runs for both, so anything seen live can be captured and replayed.
 *
 * A cluster whose DescribeCluster fails is a FailedCluster; any later read that fails is a
 * CollectionProblem on that cluster, which is still measured and reported but marked
 * incomplete so that nothing acts on it. One cluster's failure never stops the others.
 */
import { clusterNetworkOf } from './cluster-network';
import { AddonConfigurationError, parseConfigurationValues } from './configuration-values';
import { AwsCallError, awsErrorCode, messageOf, oneLine } from '../errors';
import { CNI_ROLE_TAG_KEY, READ_OPERATION } from '../names';
import { ENI_QUOTA } from './region-limits';
import { eniInstanceIdsToConfirm } from './leaked';
import { mapLimit } from '../map-limit';
import { PartialReadError } from './types';
import type {
  Addon,
  ClusterInventory,
  CniInstall,
  CollectionProblem,
  Instance,
  InstanceTypeInfo,
  FunctionPlacement,
  Inventory,
  InventoryPart,
  InventorySource,
  NetworkInterface,
  Nodegroup,
  QuotaReading,
  NauMetricReading,
  RegionLimitsSource,
  RegionLimitsInventory,
  Subnet,
  SubnetCidrReservation,
  SubnetRole,
  VpcNetwork,
} from './types';
import type { Cluster } from '@aws-sdk/client-eks';
import type { KubeClusterView } from './kube-types';

export interface CollectOptions {
  /** Clusters to collect; empty means every cluster the source lists. */
  clusterNames: string[];
  /** Clusters collected at the same time. */
  concurrency: number;
  /** The time of the sample. */
  now: Date;
  /**
   * Also read each cluster VPC's network (`ClusterInventory.network`, the network preflight), once
   * per VPC, when the source can. Default false.
   */
  network?: boolean;
  /**
   * The functions' placement (config FUNCTION_SUBNET_IDS / FUNCTION_SECURITY_GROUP_IDS), kept as
   * `Inventory.functionPlacement`; with subnets, they are described once, and with `network` also
   * the clusters' security groups, in one DescribeSecurityGroups for all clusters (kube-access).
   */
  functionPlacement?: { subnetIds: string[]; securityGroupIds: string[] };
  /**
   * false: no region-level reads (a fan-out item: the dispatch made them once for the account,
   * lib/fanout.ts). Default true.
   */
  regionLimits?: boolean;
}

/**
 * A problem from a thrown error, keeping the AWS operation and code when there are any. Its message
 * is the error's on one line (every problem is a line of the report, of the CLI's note and of a
 * capture's failed-reads.json); the error itself is kept whole as the problem's `cause`, for logs.
 * @param unread what the failed read leaves unknown (see {@link CollectionProblem.unread}).
 */
export function problemOf(source: string, err: unknown, unread?: CollectionProblem['unread']): CollectionProblem {
  const named = err as { source?: unknown } | undefined;
  const fields =
    err instanceof AwsCallError || err instanceof PartialReadError
      ? { source: err.operation, message: err.message, code: err.code }
      : { source: typeof named?.source === 'string' ? named.source : source, message: messageOf(err), code: awsErrorCode(err) };
  const problem: CollectionProblem = { ...fields, message: oneLine(fields.message), ...(unread ? { unread } : {}) };
  Object.defineProperty(problem, 'cause', { value: err, enumerable: false });
  return problem;
}

/**
 * What a read gave: its answer (in full, or in part with the problem of the rest), or only the
 * problem when it failed outright.
 */
type Settled<T> = { ok: true; value: T; problem?: CollectionProblem } | { ok: false; problem: CollectionProblem };

/**
 * Awaits one read. A failure becomes a problem that says what it leaves unknown (`part`, and the
 * ids asked for, when the read was for ids); an answer in part keeps what was read.
 */
async function settle<T>(source: string, part: InventoryPart, asked: string[] | undefined, p: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    if (err instanceof PartialReadError) {
      const unread = err.unread === undefined ? { part } : { part, ids: [...err.unread] };
      return { ok: true, value: err.partial as T, problem: problemOf(source, err, unread) };
    }
    const unread = asked === undefined ? { part } : { part, ids: [...asked] };
    return { ok: false, problem: problemOf(source, err, unread) };
  }
}

/**
 * Reads the add-on's configurationValues. EKS accepts JSON or YAML for it (EKS API reference,
 * CreateAddon configurationValues), so YAML, a superset of JSON, parses both.
 */
export function cniInstallOf(clusterName: string, addon: Addon | undefined): CniInstall {
  if (!addon) return { kind: 'self-managed' };
  // The same reading as the add-on executor's (lib/aws/addon.ts), so that both see one document.
  try {
    return { kind: 'managed', addon, configurationValues: parseConfigurationValues(addon.configurationValues, clusterName) };
  } catch (err) {
    // The YAML parser's message quotes the document over several lines: the reason is a problem's line.
    if (err instanceof AddonConfigurationError) return { kind: 'unknown', reason: oneLine(err.message) };
    throw err;
  }
}

function addRole(roles: Record<string, SubnetRole[]>, subnetId: string | undefined, role: SubnetRole): void {
  if (!subnetId) return;
  const list = (roles[subnetId] ??= []);
  if (!list.includes(role)) list.push(role);
}

/** The one VPC the subnets are in, or undefined when they name none or several. */
function vpcOfSubnets(subnets: readonly Subnet[]): string | undefined {
  const vpcs = new Set(subnets.map((s) => s.VpcId).filter((v): v is string => typeof v === 'string' && v !== ''));
  return vpcs.size === 1 ? [...vpcs][0] : undefined;
}

/** A VPC's network, read at most once per collection however many clusters share the VPC. */
type NetworkOf = (vpcId: string) => Promise<Settled<VpcNetwork>>;

function networkReader(source: InventorySource): NetworkOf | undefined {
  const read = source.describeVpcNetwork?.bind(source);
  if (!read) return undefined;
  const cache = new Map<string, Promise<Settled<VpcNetwork>>>();
  return (vpcId) => {
    let p = cache.get(vpcId);
    if (!p) {
      p = settle(READ_OPERATION.describeVpcNetwork, 'vpc-network', undefined, read(vpcId));
      cache.set(vpcId, p);
    }
    return p;
  };
}

/**
 * The cluster's Kubernetes view when the source reads Kubernetes, started beside the AWS reads. A
 * throw is an access `error` of the view, never a CollectionProblem: Kubernetes data blocks no AWS action.
 */
async function readKube(source: InventorySource, cluster: Cluster, now: Date): Promise<KubeClusterView | undefined> {
  const reader = source.kubernetes;
  if (!reader) return undefined;
  try {
    return await reader.read(cluster);
  } catch (err) {
    const detail = `cluster ${cluster.name ?? '?'}: reading the Kubernetes API failed: ${oneLine(err instanceof Error ? err.message : String(err))}`;
    return { readAt: now.toISOString(), access: { ok: false, reason: 'error', detail, fix: 'see the detail; the next cycle retries' }, unread: [] };
  }
}

/** Collects one cluster, or throws when DescribeCluster fails. */
async function collectCluster(source: InventorySource, name: string, networkOf?: NetworkOf, now: Date = new Date()): Promise<ClusterInventory> {
  const described = await source.describeCluster(name);
  const kubeRead = readKube(source, described, now);
  const problems: CollectionProblem[] = [];
  let vpcId = described.resourcesVpcConfig?.vpcId || undefined;
  const discover = (vpc: string): Promise<Settled<Subnet[]>> =>
    settle(READ_OPERATION.describeSubnetsByTagKey, 'cni-discovery', undefined, source.describeSubnetsByTagKey(vpc, CNI_ROLE_TAG_KEY));

  const [nodegroupsR, addonR, instancesR, discoveryR] = await Promise.all([
    settle(READ_OPERATION.describeNodegroups, 'nodegroups', undefined, source.describeNodegroups(name)),
    settle(READ_OPERATION.describeVpcCniAddon, 'cni', undefined, source.describeVpcCniAddon(name)),
    settle(
      READ_OPERATION.describeClusterInstances,
      'instances',
      undefined,
      // Auto Mode's nodes are read by its cluster tag as well (lib/names.ts EKS_CLUSTER_NAME_TAG_KEY).
      clusterNetworkOf(described).autoMode ? source.describeClusterInstances(name, { autoMode: true }) : source.describeClusterInstances(name),
    ),
    // Without the VPC, discovery waits for the cluster subnets, which name it (below).
    vpcId ? discover(vpcId) : undefined,
  ]);
  const take = <T>(r: Settled<T>, fallback: T): T => {
    if (r.problem) problems.push(r.problem);
    return r.ok ? r.value : fallback;
  };
  const nodegroups: Nodegroup[] = take(nodegroupsR, []);
  const instances: Instance[] = take(instancesR, []);
  let cni: CniInstall;
  if (addonR.ok) {
    cni = cniInstallOf(name, addonR.value);
    if (cni.kind === 'unknown') problems.push({ source: READ_OPERATION.describeVpcCniAddon, message: cni.reason, unread: { part: 'cni' } });
  } else {
    problems.push(addonR.problem);
    cni = { kind: 'unknown', reason: addonR.problem.message };
  }

  const roles: Record<string, SubnetRole[]> = {};
  const clusterSubnetIds = described.resourcesVpcConfig?.subnetIds ?? [];
  for (const id of clusterSubnetIds) addRole(roles, id, 'cluster');
  for (const ng of nodegroups) for (const id of ng.subnets ?? []) addRole(roles, id, 'node');
  for (const i of instances) {
    addRole(roles, i.SubnetId, 'node');
    // Pod ENIs may sit in other subnets (custom networking, CNI subnet discovery).
    for (const ni of i.NetworkInterfaces ?? []) addRole(roles, ni.SubnetId, 'node');
  }
  const known = new Map<string, Subnet>();
  const discovered = (r: Settled<Subnet[]> | undefined): void => {
    if (!r) return;
    for (const s of take(r, [])) {
      addRole(roles, s.SubnetId, 'cni-discovery');
      if (s.SubnetId) known.set(s.SubnetId, s);
    }
  };
  discovered(discoveryR);

  const describeById = async (ids: string[]): Promise<void> => {
    if (ids.length === 0) return;
    const r = await settle(READ_OPERATION.describeSubnetsById, 'subnets', ids, source.describeSubnetsById(ids));
    if (r.problem) problems.push(r.problem);
    if (!r.ok) return;
    for (const s of r.value) if (s.SubnetId) known.set(s.SubnetId, s);
    const unread = new Set(r.problem?.unread?.ids ?? []);
    const missing = ids.filter((id) => !known.has(id) && !unread.has(id));
    if (missing.length > 0) {
      problems.push({
        source: READ_OPERATION.describeSubnetsById,
        message: `cluster ${name}: subnet(s) ${missing.join(', ')} used by the cluster were not returned by DescribeSubnets (deleted, or not visible to this account)`,
        unread: { part: 'subnets', ids: missing },
      });
    }
  };
  await describeById(Object.keys(roles).filter((id) => !known.has(id)));

  let cluster = described;
  if (!vpcId) {
    // Every subnet of a cluster is in the cluster's VPC (EKS CreateCluster: the subnets must be in
    // one VPC), so the cluster subnets name it when DescribeCluster does not.
    vpcId = vpcOfSubnets(clusterSubnetIds.map((id) => known.get(id)).filter((s): s is Subnet => s !== undefined));
    if (vpcId) {
      problems.push({
        source: READ_OPERATION.describeCluster,
        message: `cluster ${name}: DescribeCluster gave no resourcesVpcConfig.vpcId; the VPC ${vpcId} is taken from the cluster subnets`,
      });
      cluster = { ...described, resourcesVpcConfig: { ...described.resourcesVpcConfig, vpcId } };
      discovered(await discover(vpcId));
    } else {
      problems.push({
        source: READ_OPERATION.describeCluster,
        message: `cluster ${name}: DescribeCluster gave no resourcesVpcConfig.vpcId and the cluster subnets do not name one VPC, so the subnets tagged ${CNI_ROLE_TAG_KEY} are not known`,
        unread: { part: 'cni-discovery' },
      });
    }
  }
  const subnets = [...known.values()];

  // The ENIs of every subnet the cluster uses, whether or not its DescribeSubnets record could be
  // read: the nodes' figures rest on the ENIs, not on the subnet records.
  let networkInterfaces: NetworkInterface[] = [];
  const eniSubnetIds = [...new Set([...subnets.map((s) => s.SubnetId ?? ''), ...Object.keys(roles)])].filter((id) => id !== '');
  // The reservations of the subnets that were read (only those are measured), beside the ENI read.
  const reservationSubnetIds = subnets.map((s) => s.SubnetId ?? '').filter((id) => id !== '');
  const [enisR, reservationsR] = await Promise.all([
    eniSubnetIds.length > 0
      ? settle(READ_OPERATION.describeNetworkInterfaces, 'network-interfaces', eniSubnetIds, source.describeNetworkInterfaces(eniSubnetIds, { enisExpected: attachedEnisBySubnet(instances) }))
      : undefined,
    reservationSubnetIds.length > 0
      ? settle(READ_OPERATION.getSubnetCidrReservations, 'cidr-reservations', reservationSubnetIds, source.getSubnetCidrReservations(reservationSubnetIds))
      : undefined,
  ]);
  if (enisR) networkInterfaces = take(enisR, []);
  const subnetCidrReservations: SubnetCidrReservation[] = reservationsR ? take(reservationsR, []) : [];
  let network: VpcNetwork | undefined;
  if (networkOf && vpcId) {
    const r = await networkOf(vpcId);
    if (r.problem) problems.push(r.problem);
    if (r.ok) network = r.value;
  }
  const inventory: ClusterInventory = {
    name,
    cluster,
    nodegroups,
    cni,
    subnets,
    subnetRoles: roles,
    networkInterfaces,
    instances,
    problems,
    subnetCidrReservations,
    ...(network ? { network } : {}),
  };
  const kube = await kubeRead;
  if (kube) inventory.kube = kube;
  await confirmEniInstances(source, inventory);
  return inventory;
}

/**
 * Whether the instances named by available CNI ENIs are gone: one DescribeInstances for all their
 * ids (lib/inventory/leaked.ts), never one per ENI. Nothing is asked when no such ENI is seen, or
 * the source cannot ask (the ENIs are then left unconfirmed, never called leaked).
 */
async function confirmEniInstances(source: InventorySource, inventory: ClusterInventory): Promise<void> {
  const asked = eniInstanceIdsToConfirm(inventory.networkInterfaces, inventory.instances);
  if (asked.length === 0 || !source.describeInstancesById) return;
  const r = await settle(READ_OPERATION.describeInstancesById, 'eni-instances', asked, source.describeInstancesById(asked));
  if (r.problem) inventory.problems.push(r.problem);
  // An answer in part cannot tell a missing instance from an unread one: nothing is confirmed.
  if (r.ok && !r.problem) inventory.eniInstances = { asked, found: r.value };
}

/**
 * Collects the inventory of every cluster asked for. Throws only when the clusters cannot be
 * listed at all; every other failure is recorded on the cluster it concerns.
 */
export async function collectInventory(source: InventorySource, options: CollectOptions): Promise<Inventory> {
  const names = options.clusterNames.length > 0 ? [...options.clusterNames] : await source.listClusters();
  const networkOf = options.network ? networkReader(source) : undefined;
  // The region's ENIs and quota do not depend on the clusters (a live source): read alongside them,
  // so that the region's pages are not a second wait after every cluster's (at 100,000 nodes, 400 pages).
  const reads = options.regionLimits === false ? undefined : source.regionLimits;
  const early = reads?.independentOfClusters === true && names.length > 0 ? startRegionReads(reads, []) : undefined;
  const results = await mapLimit(names, options.concurrency, async (name) => {
    try {
      return { name, inventory: await collectCluster(source, name, networkOf, options.now) };
    } catch (err) {
      return { name, problem: problemOf(READ_OPERATION.describeCluster, err) };
    }
  });
  const clusters: ClusterInventory[] = [];
  const failedClusters: Inventory['failedClusters'] = [];
  for (const r of results) {
    if ('inventory' in r && r.inventory) clusters.push(r.inventory);
    else if ('problem' in r && r.problem) failedClusters.push({ name: r.name, problem: r.problem });
  }

  // Instance types once for the whole account; the live source caches them per container.
  const types = [...new Set(clusters.flatMap((c) => c.instances.map((i) => i.InstanceType ?? '')).filter((t) => t))].sort();
  const instanceTypes: Record<string, InstanceTypeInfo> = {};
  let unknownInstanceTypes: string[] = [];
  if (types.length > 0) {
    const r = await settle(READ_OPERATION.describeInstanceTypes, 'instance-types', types, source.describeInstanceTypes(types));
    if (r.ok) {
      for (const info of r.value.found) if (info.InstanceType) instanceTypes[info.InstanceType] = info;
      unknownInstanceTypes = r.value.unknown;
    }
    if (r.problem) {
      // On the clusters whose nodes are of a type left unread (all of them, when it cannot tell).
      const unread = r.problem.unread?.ids;
      for (const c of clusters) {
        const own = [...new Set(c.instances.map((i) => i.InstanceType ?? '').filter((t) => t))].sort();
        const affected = unread === undefined ? own : own.filter((t) => unread.includes(t));
        if (affected.length > 0) c.problems.push({ ...r.problem, unread: { part: 'instance-types', ids: affected } });
      }
    }
  }
  const regionLimits = options.regionLimits === false ? undefined : await collectRegionLimits(source, clusters, options.now, early);
  const functionPlacement = options.functionPlacement ? await collectPlacement(source, clusters, options.functionPlacement, options.network === true) : undefined;
  return {
    region: source.region,
    collectedAt: options.now.toISOString(),
    clusters,
    failedClusters,
    instanceTypes,
    unknownInstanceTypes,
    ...(regionLimits ? { regionLimits } : {}),
    ...(functionPlacement ? { functionPlacement } : {}),
  };
}

/**
 * The functions' placement for the kube-access diagnosis: its subnets (one DescribeSubnets), and
 * with the network preflight on, the security groups of every cluster (one DescribeSecurityGroups
 * for all of them, `clusterSecurityGroups`). Nothing is read when the functions are not in a VPC.
 * A failed read leaves the piece absent (the diagnosis then says it could not tell); it is no
 * cluster's collection problem: no figure or action rests on it.
 */
async function collectPlacement(
  source: InventorySource,
  clusters: ClusterInventory[],
  placement: NonNullable<CollectOptions['functionPlacement']>,
  network: boolean,
): Promise<FunctionPlacement> {
  const out: FunctionPlacement = { subnetIds: [...placement.subnetIds], securityGroupIds: [...placement.securityGroupIds] };
  if (placement.subnetIds.length === 0) return out;
  const [subnets, groups] = await Promise.allSettled([
    source.describeSubnetsById(out.subnetIds),
    network && source.describeSecurityGroups ? source.describeSecurityGroups(clusterSecurityGroupIds(clusters)) : Promise.resolve(undefined),
  ]);
  if (subnets.status === 'fulfilled') out.subnets = subnets.value;
  if (groups.status === 'fulfilled' && groups.value) {
    const byId = new Map(groups.value.map((g) => [g.GroupId, g]));
    for (const c of clusters) {
      c.clusterSecurityGroups = clusterSecurityGroupIds([c]).flatMap((id) => byId.get(id) ?? []);
    }
  }
  return out;
}

/** The security groups EKS puts on the control plane's ENIs: the cluster security group and the additional ones. */
export function clusterSecurityGroupIds(clusters: readonly ClusterInventory[]): string[] {
  const ids = clusters.flatMap((c) => [c.cluster.resourcesVpcConfig?.clusterSecurityGroupId, ...(c.cluster.resourcesVpcConfig?.securityGroupIds ?? [])]);
  return [...new Set(ids.filter((id): id is string => typeof id === 'string' && id !== ''))].sort();
}

/**
 * The region-level reads, once per cycle and not per cluster: the ENI quota,
 * the region's ENIs (reduced to counts) and the NAU metrics of the clusters' VPCs. Each read that
 * fails is a problem of the region section only: no cluster becomes incomplete for it. A quota
 * that cannot be read at all is taken as its documented default, and the evidence says so.
 */
export async function collectRegionLimits(
  source: InventorySource,
  clusters: readonly ClusterInventory[],
  now: Date,
  /** The quota and ENI reads already started with the clusters' ({@link startRegionReads}). */
  started?: StartedRegionReads,
): Promise<RegionLimitsInventory | undefined> {
  const reads = source.regionLimits;
  // Told to the clusters they stop: with no cluster read, nothing to tell (and no reads to wait on).
  if (!reads || clusters.length === 0) return undefined;
  const vpcIds = [...new Set(clusters.map((c) => c.cluster.resourcesVpcConfig?.vpcId ?? '').filter((v) => v !== ''))].sort();
  return collectRegionLimitsOfVpcs(reads, vpcIds, now, started);
}

/** The region's quota and ENI reads, started: settled promises (a failure is a value, never an unhandled rejection). */
export interface StartedRegionReads {
  quota: Promise<PromiseSettledResult<QuotaReading>>;
  enis: Promise<PromiseSettledResult<Awaited<ReturnType<RegionLimitsSource['regionNetworkInterfaces']>>>>;
}

/** Starts the region's quota and ENI reads (for the VPCs `vpcIds`, where the source needs them). */
export function startRegionReads(reads: RegionLimitsSource, vpcIds: string[]): StartedRegionReads {
  return { quota: settledOf(() => reads.eniQuota()), enis: settledOf(() => reads.regionNetworkInterfaces(vpcIds)) };
}

/** Per subnet, the ENIs the instances have attached there: what a cluster's ENI read expects at least. */
export function attachedEnisBySubnet(instances: readonly Instance[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of instances) for (const ni of i.NetworkInterfaces ?? []) if (ni.SubnetId) out.set(ni.SubnetId, (out.get(ni.SubnetId) ?? 0) + 1);
  return out;
}

/** `p()`'s outcome as Promise.allSettled gives it (a throw included), started now. */
function settledOf<T>(p: () => Promise<T>): Promise<PromiseSettledResult<T>> {
  return Promise.resolve()
    .then(p)
    .then(
      (value) => ({ status: 'fulfilled' as const, value }),
      (reason: unknown) => ({ status: 'rejected' as const, reason }),
    );
}

/** The region-level reads for the clusters' VPCs `vpcIds` (sorted, distinct): {@link collectRegionLimits}, and the fan-out's dispatch. */
export async function collectRegionLimitsOfVpcs(
  reads: NonNullable<InventorySource['regionLimits']>,
  vpcIds: string[],
  now: Date,
  started: StartedRegionReads = startRegionReads(reads, vpcIds),
): Promise<RegionLimitsInventory> {
  const problems: CollectionProblem[] = [];
  const [quota, enis, metrics] = await Promise.all([
    started.quota,
    started.enis,
    settledOf(vpcIds.length > 0 ? () => reads.networkAddressUsageMetrics(vpcIds, now) : () => Promise.resolve([] as NauMetricReading[])),
  ]);
  let eniQuota: QuotaReading;
  if (quota.status === 'fulfilled') eniQuota = quota.value;
  else {
    problems.push(problemOf(`servicequotas:GetServiceQuota`, quota.reason));
    eniQuota = { serviceCode: ENI_QUOTA.serviceCode, quotaCode: ENI_QUOTA.quotaCode, value: ENI_QUOTA.documentedDefault, source: 'documented-default' };
  }
  const out: RegionLimitsInventory = { eniQuota, vpcIds, nauMetrics: {}, problems };
  if (enis.status === 'fulfilled') {
    out.networkInterfaces = enis.value.enis;
    out.eniScope = enis.value.scope;
  } else problems.push(problemOf(READ_OPERATION.describeNetworkInterfaces, enis.reason));
  if (metrics.status === 'fulfilled') {
    for (const m of metrics.value) if (m.networkAddressUsage !== undefined || m.networkAddressUsagePeered !== undefined) out.nauMetrics[m.vpcId] = m;
  } else problems.push(problemOf('cloudwatch:GetMetricData', metrics.reason));
  return out;
}
