/**
 * Collect: fills an Inventory from a source (the live account or a snapshot). The same code
 * runs for both, so anything seen live can be captured and replayed.
 *
 * A cluster whose DescribeCluster fails is a FailedCluster; any later read that fails is a
 * CollectionProblem on that cluster, which is still measured and reported but marked
 * incomplete so that nothing acts on it. One cluster's failure never stops the others.
 */
import { AddonConfigurationError, parseConfigurationValues } from '../aws/addon';
import { AwsCallError, awsErrorCode, messageOf } from '../errors';
import { CNI_ROLE_TAG_KEY } from './names';
import type {
  Addon,
  ClusterInventory,
  CniInstall,
  CollectionProblem,
  Instance,
  InstanceTypeInfo,
  Inventory,
  InventorySource,
  NetworkInterface,
  Nodegroup,
  Subnet,
  SubnetRole,
} from './types';

export interface CollectOptions {
  /** Clusters to collect; empty means every cluster the source lists. */
  clusterNames: string[];
  /** Clusters collected at the same time. */
  concurrency: number;
  /** The time of the sample. */
  now: Date;
}

/** A problem from a thrown error, keeping the AWS operation and code when there are any. */
export function problemOf(source: string, err: unknown): CollectionProblem {
  if (err instanceof AwsCallError) return { source: err.operation, message: err.message, code: err.code };
  const named = err as { source?: unknown } | undefined;
  return {
    source: typeof named?.source === 'string' ? named.source : source,
    message: messageOf(err),
    code: awsErrorCode(err),
  };
}

type Settled<T> = { ok: true; value: T } | { ok: false; problem: CollectionProblem };

async function settle<T>(source: string, p: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    return { ok: false, problem: problemOf(source, err) };
  }
}

/** Runs `fn` over items with at most `limit` at once, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  });
  await Promise.all(workers);
  return out;
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
    if (err instanceof AddonConfigurationError) return { kind: 'unknown', reason: err.message };
    throw err;
  }
}

function addRole(roles: Record<string, SubnetRole[]>, subnetId: string | undefined, role: SubnetRole): void {
  if (!subnetId) return;
  const list = (roles[subnetId] ??= []);
  if (!list.includes(role)) list.push(role);
}

/** Collects one cluster, or throws when DescribeCluster fails. */
async function collectCluster(source: InventorySource, name: string): Promise<ClusterInventory> {
  const cluster = await source.describeCluster(name);
  const problems: CollectionProblem[] = [];
  const vpcId = cluster.resourcesVpcConfig?.vpcId;

  const [nodegroupsR, addonR, instancesR, discoveryR] = await Promise.all([
    settle('eks:DescribeNodegroup', source.describeNodegroups(name)),
    settle('eks:DescribeAddon', source.describeVpcCniAddon(name)),
    settle('ec2:DescribeInstances', source.describeClusterInstances(name)),
    vpcId
      ? settle('ec2:DescribeSubnets', source.describeSubnetsByTagKey(vpcId, CNI_ROLE_TAG_KEY))
      : Promise.resolve<Settled<Subnet[]>>({ ok: true, value: [] }),
  ]);
  const take = <T>(r: Settled<T>, fallback: T): T => {
    if (r.ok) return r.value;
    problems.push(r.problem);
    return fallback;
  };
  const nodegroups: Nodegroup[] = take(nodegroupsR, []);
  const instances: Instance[] = take(instancesR, []);
  const discovered: Subnet[] = take(discoveryR, []);
  let cni: CniInstall;
  if (addonR.ok) {
    cni = cniInstallOf(name, addonR.value);
    if (cni.kind === 'unknown') problems.push({ source: 'eks:DescribeAddon', message: cni.reason });
  } else {
    problems.push(addonR.problem);
    cni = { kind: 'unknown', reason: addonR.problem.message };
  }
  if (!vpcId) {
    problems.push({ source: 'eks:DescribeCluster', message: `cluster ${name}: DescribeCluster gave no resourcesVpcConfig.vpcId` });
  }

  const roles: Record<string, SubnetRole[]> = {};
  for (const id of cluster.resourcesVpcConfig?.subnetIds ?? []) addRole(roles, id, 'cluster');
  for (const ng of nodegroups) for (const id of ng.subnets ?? []) addRole(roles, id, 'node');
  for (const i of instances) {
    addRole(roles, i.SubnetId, 'node');
    // Pod ENIs may sit in other subnets (custom networking, CNI subnet discovery).
    for (const ni of i.NetworkInterfaces ?? []) addRole(roles, ni.SubnetId, 'node');
  }
  for (const s of discovered) addRole(roles, s.SubnetId, 'cni-discovery');

  const known = new Map<string, Subnet>();
  for (const s of discovered) if (s.SubnetId) known.set(s.SubnetId, s);
  const toDescribe = Object.keys(roles).filter((id) => !known.has(id));
  let subnetsComplete = true;
  if (toDescribe.length > 0) {
    const r = await settle('ec2:DescribeSubnets', source.describeSubnetsById(toDescribe));
    if (r.ok) {
      for (const s of r.value) if (s.SubnetId) known.set(s.SubnetId, s);
      const missing = toDescribe.filter((id) => !known.has(id));
      if (missing.length > 0) {
        problems.push({
          source: 'ec2:DescribeSubnets',
          message: `cluster ${name}: subnet(s) ${missing.join(', ')} used by the cluster were not returned by DescribeSubnets (deleted, or not visible to this account)`,
        });
      }
    } else {
      subnetsComplete = false;
      problems.push(r.problem);
    }
  }
  const subnets = [...known.values()];

  let networkInterfaces: NetworkInterface[] = [];
  if (subnetsComplete && subnets.length > 0) {
    networkInterfaces = take(
      await settle('ec2:DescribeNetworkInterfaces', source.describeNetworkInterfaces(subnets.map((s) => s.SubnetId ?? ''))),
      [],
    );
  }
  return { name, cluster, nodegroups, cni, subnets, subnetRoles: roles, networkInterfaces, instances, problems };
}

/**
 * Collects the inventory of every cluster asked for. Throws only when the clusters cannot be
 * listed at all; every other failure is recorded on the cluster it concerns.
 */
export async function collectInventory(source: InventorySource, options: CollectOptions): Promise<Inventory> {
  const names = options.clusterNames.length > 0 ? [...options.clusterNames] : await source.listClusters();
  const results = await mapLimit(names, options.concurrency, async (name) => {
    try {
      return { name, inventory: await collectCluster(source, name) };
    } catch (err) {
      return { name, problem: problemOf('eks:DescribeCluster', err) };
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
    try {
      const { found, unknown } = await source.describeInstanceTypes(types);
      for (const info of found) if (info.InstanceType) instanceTypes[info.InstanceType] = info;
      unknownInstanceTypes = unknown;
    } catch (err) {
      const problem = problemOf('ec2:DescribeInstanceTypes', err);
      for (const c of clusters) if (c.instances.length > 0) c.problems.push(problem);
      unknownInstanceTypes = [];
    }
  }
  return {
    region: source.region,
    collectedAt: options.now.toISOString(),
    clusters,
    failedClusters,
    instanceTypes,
    unknownInstanceTypes,
  };
}
