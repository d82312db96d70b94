/**
 * An {@link InventorySource} that reads a snapshot directory: JSON files shaped exactly like
 * what the AWS CLI prints for the calls the live source makes, so that a user without this
 * tool can make one with the AWS CLI alone, share it in a bug report, and replay it. Reading
 * only: the files' shapes are in `snapshot-schemas.ts`, EC2's filters in `ec2-filters.ts`.
 * Layout, validation and where each error surfaces: docs/snapshots.md, "The snapshot files".
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type * as z from 'zod';
import { AwsCallError } from '../errors';
import { EKS_NAME_PATTERN, READ_OPERATION } from '../names';
import {
  clusterInstances,
  indexInstances,
  indexInstanceTypes,
  indexNetworkInterfaces,
  indexSubnets,
  instancesById,
  instanceTypesOf,
  networkInterfacesIn,
  indexSubnetCidrReservations,
  subnetCidrReservationsIn,
  subnetsById,
  subnetsByTagKey,
  type ReservationData,
  type Ec2Record,
  type EniData,
  type InstanceData,
  type InstanceTypeData,
  type SubnetData,
} from './ec2-filters';
import {
  describeAddonSchema,
  describeClusterSchema,
  describeNodegroupSchema,
  failedReadsSchema,
  instancesPageSchema,
  instanceTypesPageSchema,
  listClustersSchema,
  metaSchema,
  networkInterfacesPageSchema,
  requestKey,
  snapshotIssues,
  snapshotPaths,
  SnapshotError,
  subnetCidrReservationsPageSchema,
  subnetsPageSchema,
  dhcpOptionsPageSchema,
  routeTablesPageSchema,
  securityGroupsPageSchema,
  vpcAttributeSchema,
  vpcEndpointsPageSchema,
  vpcsPageSchema,
  VPC_ID_PATTERN,
  type FailedRead,
  type FailedReadsFile,
  type SnapshotIssue,
} from './snapshot-schemas';
import { hasRegionLimits, SnapshotRegionLimits } from './snapshot-region-limits';
import { KUBE_SNAPSHOT_DIR, kubeSnapshotClusters, readKubeSnapshot } from './snapshot-kube';
import type { KubernetesReader } from './kube-types';
import { PartialReadError } from './types';
import type {
  Addon,
  Cluster,
  DhcpOptions,
  Instance,
  InstanceTypeInfo,
  InventorySource,
  NetworkInterface,
  Nodegroup,
  RegionLimitsSource,
  RouteTable,
  SecurityGroup,
  Subnet,
  Vpc,
  VpcEndpoint,
  VpcNetwork,
  SubnetCidrReservation,
} from './types';

// ---------------------------------------------------------------------------------------------
// Reading and validating files.

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** What `readJson` says when a required file is absent: the CLI command that makes it. */
type MissingHint = string;

/**
 * Reads and parses one file. Returns `undefined` for a missing file when `required` is false;
 * a missing required file, an unreadable file or malformed JSON is a {@link SnapshotError}.
 */
async function readJson(dir: string, file: string, missing: MissingHint | false): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, ...file.split('/')), 'utf8');
  } catch (err) {
    if (isNotFound(err)) {
      if (missing === false) return undefined;
      throw new SnapshotError(file, { detail: `file is missing (make it with: ${missing})` }, { cause: err });
    }
    throw new SnapshotError(file, { detail: `cannot be read: ${(err as Error).message}` }, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new SnapshotError(file, { detail: `malformed JSON: ${(err as Error).message}` }, { cause: err });
  }
}

function validate<S extends z.ZodType>(file: string, schema: S, json: unknown): z.output<S> {
  const result = schema.safeParse(json);
  if (!result.success) throw new SnapshotError(file, snapshotIssues(result.error), { cause: result.error });
  return result.data;
}

/**
 * Validates an `ec2/` file that is either one page (`{"Subnets": [...]}`) or an array of pages,
 * and returns the pages with the path of each (`[]`, or `[i]` in an array). A page without the
 * structure makes the whole file an error.
 */
function validatePages<S extends z.ZodType>(file: string, schema: S, json: unknown): { page: z.output<S>; at: PropertyKey[] }[] {
  if (!Array.isArray(json)) return [{ page: validate(file, schema, json), at: [] }];
  const pages: { page: z.output<S>; at: PropertyKey[] }[] = [];
  const issues: SnapshotIssue[] = [];
  json.forEach((page: unknown, i) => {
    const result = schema.safeParse(page);
    if (result.success) pages.push({ page: result.data, at: [i] });
    else issues.push(...snapshotIssues(result.error, [i]));
  });
  if (issues.length > 0) throw new SnapshotError(file, issues);
  return pages;
}

// ---------------------------------------------------------------------------------------------

/** Options of {@link readSnapshot}. */
export interface ReadSnapshotOptions {
  /** The region (CLI `--region`). Required when `meta.json` has none; must agree with it otherwise. */
  region?: string;
}

/**
 * An {@link InventorySource} over a snapshot directory. Make one with {@link readSnapshot}.
 * Each method answers as the AWS API would with the same filters (see docs/snapshots.md, "The snapshot files", for which
 * errors each method raises).
 */
export class SnapshotSource implements InventorySource {
  private subnetData?: Promise<SubnetData>;
  private eniData?: Promise<EniData>;
  private instanceData?: Promise<InstanceData>;
  private instanceTypeData?: Promise<InstanceTypeData>;
  private reservationData?: Promise<ReservationData>;
  private readonly failures: ReadonlyMap<string, FailedRead>;
  private readonly unknownTypes: ReadonlySet<string>;

  /** Use {@link readSnapshot}, which validates the files every call needs. */
  constructor(
    /** The snapshot directory, as given. */
    readonly dir: string,
    readonly region: string,
    /** When the snapshot was taken (`meta.json` `capturedAt`), if known. */
    readonly capturedAt: string | undefined,
    private readonly clusterNames: readonly string[],
    /** `failed-reads.json`, if any: the reads that failed when the snapshot was captured. */
    failed: FailedReadsFile = {},
    /** Whether the snapshot has the region-level files (lib/inventory/snapshot-region-limits.ts). */
    private readonly withRegionLimits = false,
    /** The clusters with a `kubernetes/<cluster>/` part (lib/inventory/snapshot-kube.ts). */
    private readonly kubeClusters: readonly string[] = [],
  ) {
    this.failures = new Map((failed.failedReads ?? []).map((f) => [requestKey(f.call, f.request), f]));
    this.unknownTypes = new Set(failed.unknownInstanceTypes ?? []);
  }

  /**
   * The Kubernetes part, when the snapshot has one (`kubernetes/<cluster>/`); a cluster without its
   * directory was not read there (access `not-enabled`).
   */
  get kubernetes(): KubernetesReader | undefined {
    if (this.kubeClusters.length === 0) return undefined;
    return {
      read: async (cluster, options) => {
        const name = cluster.name ?? '';
        const readAt = this.capturedAt ?? new Date(0).toISOString();
        if (!this.kubeClusters.includes(name)) {
          return { readAt, access: { ok: false, reason: 'not-enabled', detail: `the snapshot has no ${KUBE_SNAPSHOT_DIR}/${name}/ part`, fix: `capture with --kubernetes, or add ${KUBE_SNAPSHOT_DIR}/${name}/ (docs/snapshots.md)` }, unread: [] };
        }
        return readKubeSnapshot(this.dir, this.checkName(name), readAt, options?.onRaw);
      },
    };
  }

  /** The region-level reads, when the snapshot captured them; else none. */
  get regionLimits(): RegionLimitsSource | undefined {
    if (!this.withRegionLimits) return undefined;
    return new SnapshotRegionLimits(this.dir, async () => [...(await this.networkInterfaces()).bySubnet.values()].flat());
  }

  /** The reads recorded as failed (`failed-reads.json`), in the file's order. */
  get failedReads(): FailedRead[] {
    return [...this.failures.values()];
  }

  /** `eks/list-clusters.json`, already read by {@link readSnapshot}. */
  async listClusters(): Promise<string[]> {
    return [...this.clusterNames];
  }

  /** `eks/clusters/<name>/describe-cluster.json`. Missing or invalid: a {@link SnapshotError} for this cluster only. */
  async describeCluster(name: string): Promise<Cluster> {
    const failure = this.failureOf(READ_OPERATION.describeCluster, { name });
    const file = snapshotPaths.describeCluster(this.checkName(name));
    // A cluster the snapshot does not list (`--clusters nosuch`) is named as such, not as a missing file.
    const json = await readJson(this.dir, file, this.clusterNames.includes(name) ? `aws eks describe-cluster --name ${name}` : false);
    if (json === undefined) {
      throw new SnapshotError(snapshotPaths.listClusters, {
        detail: `no cluster ${JSON.stringify(name)} in this snapshot (it holds ${this.clusterNames.map((n) => JSON.stringify(n)).join(', ') || 'none'})`,
      });
    }
    const { cluster } = validate(file, describeClusterSchema, json);
    if (cluster.name !== name) {
      throw new SnapshotError(file, {
        field: 'cluster.name',
        detail: `expected ${JSON.stringify(name)} (the directory name), received ${JSON.stringify(cluster.name)}`,
      });
    }
    // Validated above for the fields the core reads; the rest is AWS's own shape, untouched.
    return this.answer(failure, cluster as Cluster);
  }

  /** Every `eks/clusters/<name>/nodegroups/*.json`, sorted by nodegroup name; no directory = no managed nodegroups. */
  async describeNodegroups(clusterName: string): Promise<Nodegroup[]> {
    const failure = this.failureOf(READ_OPERATION.describeNodegroups, { clusterName });
    const dirName = snapshotPaths.nodegroupsDir(this.checkName(clusterName));
    let entries: string[];
    try {
      entries = await fs.readdir(path.join(this.dir, ...dirName.split('/')));
    } catch (err) {
      if (isNotFound(err)) return this.answer(failure, []);
      throw new SnapshotError(dirName, { detail: `cannot be listed: ${(err as Error).message}` }, { cause: err });
    }
    const files = entries.filter((e) => e.endsWith('.json')).sort();
    const nodegroups = await Promise.all(
      files.map(async (entry) => {
        const file = `${dirName}/${entry}`;
        const { nodegroup } = validate(file, describeNodegroupSchema, await readJson(this.dir, file, false));
        if (nodegroup.clusterName !== clusterName) {
          throw new SnapshotError(file, {
            field: 'nodegroup.clusterName',
            detail: `expected ${JSON.stringify(clusterName)}, received ${JSON.stringify(nodegroup.clusterName)}`,
          });
        }
        return nodegroup as Nodegroup;
      }),
    );
    return this.answer(
      failure,
      nodegroups.sort((a, b) => (a.nodegroupName ?? '').localeCompare(b.nodegroupName ?? '')),
    );
  }

  /** `eks/clusters/<name>/addon-vpc-cni.json`; absent means self-managed aws-node (`undefined`). */
  async describeVpcCniAddon(clusterName: string): Promise<Addon | undefined> {
    const failure = this.failureOf(READ_OPERATION.describeVpcCniAddon, { clusterName });
    const file = snapshotPaths.vpcCniAddon(this.checkName(clusterName));
    const json = await readJson(this.dir, file, false);
    if (json === undefined) return this.answer(failure, undefined);
    const { addon } = validate(file, describeAddonSchema, json);
    if (addon.addonName !== 'vpc-cni') {
      throw new SnapshotError(file, {
        field: 'addon.addonName',
        detail: `expected "vpc-cni", received ${JSON.stringify(addon.addonName)}`,
      });
    }
    return this.answer(failure, addon as Addon);
  }

  /**
   * The subnets of `ec2/describe-subnets.json` with these ids, in the order asked; unknown ids are
   * left out. A bad record among them: the others, in a {@link PartialReadError} naming it.
   */
  async describeSubnetsById(subnetIds: string[]): Promise<Subnet[]> {
    const failure = this.failureOf(READ_OPERATION.describeSubnetsById, { subnetIds });
    return this.answer(failure, subnetsById(await this.subnets(), subnetIds));
  }

  /** The subnets in `vpcId` that carry the tag key `tagKey`, whatever its value (`tag-key` filter). */
  async describeSubnetsByTagKey(vpcId: string, tagKey: string): Promise<Subnet[]> {
    const failure = this.failureOf(READ_OPERATION.describeSubnetsByTagKey, { vpcId, tagKey });
    return this.answer(failure, subnetsByTagKey(await this.subnets(), vpcId, tagKey));
  }

  /** The ENIs of `ec2/describe-network-interfaces.json` in these subnets (`subnet-id` filter). */
  async describeNetworkInterfaces(subnetIds: string[]): Promise<NetworkInterface[]> {
    const failure = this.failureOf(READ_OPERATION.describeNetworkInterfaces, { subnetIds });
    return this.answer(failure, networkInterfacesIn(await this.networkInterfaces(), subnetIds));
  }

  /**
   * The pending or running instances of `ec2/describe-instances.json` that carry the tag key
   * `kubernetes.io/cluster/<clusterName>`, whatever its value (`owned` or `shared`).
   */
  async describeClusterInstances(clusterName: string, options?: { autoMode?: boolean }): Promise<Instance[]> {
    const failure = this.failureOf(READ_OPERATION.describeClusterInstances, { clusterName });
    return this.answer(failure, clusterInstances(await this.instances(), clusterName, options?.autoMode === true));
  }

  /** The instances of `ec2/describe-instances.json` with these ids, in any state (`instance-id` filter). */
  async describeInstancesById(instanceIds: string[]): Promise<Instance[]> {
    const failure = this.failureOf(READ_OPERATION.describeInstancesById, { instanceIds });
    return this.answer(failure, instancesById(await this.instances(), instanceIds));
  }

  /**
   * Network limits of these types: `ec2/describe-instance-types.json` first, then the bundled
   * data (`knownInstanceTypes()`); what neither knows, or what `failed-reads.json` says EC2 did
   * not know, is `unknown`. A malformed record is an error for its type, not a reason to fall back.
   */
  async describeInstanceTypes(instanceTypes: string[]): Promise<{ found: InstanceTypeInfo[]; unknown: string[] }> {
    const failure = this.failureOf(READ_OPERATION.describeInstanceTypes, { instanceTypes });
    return this.answer(failure, instanceTypesOf(await this.instanceTypesFromFile(), instanceTypes, this.unknownTypes));
  }

  /**
   * The network of a VPC from the optional files `ec2/describe-vpcs.json`,
   * `ec2/vpcs/<vpcId>/describe-vpc-attribute-<attribute>.json`, `ec2/describe-dhcp-options.json`,
   * `ec2/describe-route-tables.json`, `ec2/describe-vpc-endpoints.json` and
   * `ec2/describe-security-groups.json`, each filtered to the VPC as the live reads filter. A file
   * the snapshot lacks leaves its piece out (not known: nothing is said about it); a malformed
   * one is a {@link SnapshotError}.
   */
  async describeVpcNetwork(vpcId: string): Promise<VpcNetwork> {
    const failure = this.failureOf(READ_OPERATION.describeVpcNetwork, { vpcId });
    if (!VPC_ID_PATTERN.test(vpcId)) throw new SnapshotError(snapshotPaths.vpcs, { detail: `${JSON.stringify(vpcId)} is not a VPC id` });
    const optional = async <S extends z.ZodType>(file: string, schema: S): Promise<z.output<S> | undefined> => {
      const json = await readJson(this.dir, file, false);
      return json === undefined ? undefined : validate(file, schema, json);
    };
    const [vpcs, support, hostnames, dhcp, tables, endpoints, groups] = await Promise.all([
      optional(snapshotPaths.vpcs, vpcsPageSchema),
      optional(snapshotPaths.vpcAttribute(vpcId, 'enableDnsSupport'), vpcAttributeSchema),
      optional(snapshotPaths.vpcAttribute(vpcId, 'enableDnsHostnames'), vpcAttributeSchema),
      optional(snapshotPaths.dhcpOptions, dhcpOptionsPageSchema),
      optional(snapshotPaths.routeTables, routeTablesPageSchema),
      optional(snapshotPaths.vpcEndpoints, vpcEndpointsPageSchema),
      optional(snapshotPaths.securityGroups, securityGroupsPageSchema),
    ]);
    const vpc = vpcs?.Vpcs.find((v) => v.VpcId === vpcId) as Vpc | undefined;
    const dhcpId = vpc?.DhcpOptionsId;
    const dhcpOptions = dhcpId ? (dhcp?.DhcpOptions.find((d) => d.DhcpOptionsId === dhcpId) as DhcpOptions | undefined) : undefined;
    const ownEndpoints = endpoints?.VpcEndpoints.filter((e) => e.VpcId === vpcId) as VpcEndpoint[] | undefined;
    const groupIds = new Set((ownEndpoints ?? []).flatMap((e) => (e.Groups ?? []).map((g) => g.GroupId)));
    const network: VpcNetwork = {
      vpcId,
      ...(vpc ? { vpc } : {}),
      ...(support?.EnableDnsSupport ? { enableDnsSupport: support.EnableDnsSupport.Value } : {}),
      ...(hostnames?.EnableDnsHostnames ? { enableDnsHostnames: hostnames.EnableDnsHostnames.Value } : {}),
      ...(dhcpOptions ? { dhcpOptions } : {}),
      ...(tables ? { routeTables: tables.RouteTables.filter((t) => t.VpcId === vpcId) as RouteTable[] } : {}),
      ...(ownEndpoints ? { endpoints: ownEndpoints } : {}),
      ...(groups ? { securityGroups: groups.SecurityGroups.filter((g) => g.GroupId !== undefined && groupIds.has(g.GroupId)) as SecurityGroup[] } : {}),
    };
    return this.answer(failure, network);
  }

  /**
   * The reservations of these subnets in `ec2/get-subnet-cidr-reservations.json`; no file: none (a
   * snapshot made before reservations were read). A bad record: the others, in a PartialReadError.
   */
  async getSubnetCidrReservations(subnetIds: string[]): Promise<SubnetCidrReservation[]> {
    const failure = this.failureOf(READ_OPERATION.getSubnetCidrReservations, { subnetIds });
    return this.answer(failure, subnetCidrReservationsIn(await this.reservations(), subnetIds));
  }

  /**
   * The failure recorded for this read, if any. One that failed outright is thrown at once (as
   * the AWS call failed: nothing of it is in the files); one that answered in part is thrown by
   * {@link answer} with the answer.
   */
  private failureOf(call: string, request: Record<string, string | string[]>): FailedRead | undefined {
    const failure = this.failures.get(requestKey(call, request));
    if (failure && failure.error.unread === undefined) {
      throw new AwsCallError(failure.error.operation ?? call, failure.error.code, failure.error.message);
    }
    return failure;
  }

  private answer<T>(failure: FailedRead | undefined, value: T): T {
    if (failure) {
      throw new PartialReadError(failure.error.operation ?? failure.call, value, failure.error.unread, failure.error.message, failure.error.code);
    }
    return value;
  }

  private checkName(name: string): string {
    if (!EKS_NAME_PATTERN.test(name)) {
      throw new SnapshotError(snapshotPaths.listClusters, {
        detail: `${JSON.stringify(name)} is not an EKS cluster name (letters, digits, hyphens, underscores)`,
      });
    }
    return name;
  }

  private subnets(): Promise<SubnetData> {
    this.subnetData ??= (async () => {
      const file = snapshotPaths.subnets;
      const json = await readJson(this.dir, file, 'aws ec2 describe-subnets --filters Name=vpc-id,Values=<vpc-id>');
      const records: Ec2Record[] = validatePages(file, subnetsPageSchema, json).flatMap(({ page, at }) =>
        page.Subnets.map((raw, i) => ({ raw, at: [...at, 'Subnets', i] })),
      );
      return indexSubnets(records);
    })();
    return this.subnetData;
  }

  private networkInterfaces(): Promise<EniData> {
    this.eniData ??= (async () => {
      const file = snapshotPaths.networkInterfaces;
      const json = await readJson(
        this.dir,
        file,
        'aws ec2 describe-network-interfaces --filters Name=vpc-id,Values=<vpc-id>',
      );
      const records: Ec2Record[] = validatePages(file, networkInterfacesPageSchema, json).flatMap(({ page, at }) =>
        page.NetworkInterfaces.map((raw, i) => ({ raw, at: [...at, 'NetworkInterfaces', i] })),
      );
      return indexNetworkInterfaces(records);
    })();
    return this.eniData;
  }

  private instances(): Promise<InstanceData> {
    this.instanceData ??= (async () => {
      const file = snapshotPaths.instances;
      const json = await readJson(this.dir, file, 'aws ec2 describe-instances --filters Name=vpc-id,Values=<vpc-id>');
      const records: Ec2Record[] = validatePages(file, instancesPageSchema, json).flatMap(({ page, at }) =>
        page.Reservations.flatMap((reservation, r) =>
          reservation.Instances.map((raw, i) => ({ raw, at: [...at, 'Reservations', r, 'Instances', i] })),
        ),
      );
      return indexInstances(records);
    })();
    return this.instanceData;
  }

  private reservations(): Promise<ReservationData> {
    this.reservationData ??= (async () => {
      const file = snapshotPaths.subnetCidrReservations;
      const json = await readJson(this.dir, file, false);
      if (json === undefined) return { bySubnet: new Map(), badBySubnet: new Map() };
      const records: Ec2Record[] = validatePages(file, subnetCidrReservationsPageSchema, json).flatMap(({ page, at }) =>
        page.SubnetIpv4CidrReservations.map((raw, i) => ({ raw, at: [...at, 'SubnetIpv4CidrReservations', i] })),
      );
      return indexSubnetCidrReservations(records);
    })();
    return this.reservationData;
  }

  private instanceTypesFromFile(): Promise<InstanceTypeData> {
    this.instanceTypeData ??= (async () => {
      const file = snapshotPaths.instanceTypes;
      const json = await readJson(this.dir, file, false);
      if (json === undefined) return { byName: new Map(), badByName: new Map() };
      const records: Ec2Record[] = validatePages(file, instanceTypesPageSchema, json).flatMap(({ page, at }) =>
        page.InstanceTypes.map((raw, i) => ({ raw, at: [...at, 'InstanceTypes', i] })),
      );
      return indexInstanceTypes(records);
    })();
    return this.instanceTypeData;
  }
}

/**
 * Opens a snapshot directory: reads `meta.json`, `eks/list-clusters.json` and, if there is one,
 * `failed-reads.json` (the files every use needs) and returns a source that reads the rest on demand.
 *
 * @throws SnapshotError when the directory is not a snapshot, `meta.json` or `failed-reads.json`
 *   is malformed, `meta.json` contradicts `options.region`, no region is known, or
 *   `eks/list-clusters.json` is missing or malformed.
 */
export async function readSnapshot(dir: string, options: ReadSnapshotOptions = {}): Promise<SnapshotSource> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch (err) {
    throw new SnapshotError(dir, { detail: `the snapshot directory cannot be read: ${(err as Error).message}` }, { cause: err });
  }
  if (!stat.isDirectory()) throw new SnapshotError(dir, { detail: 'not a directory: a snapshot is a directory (capture writes one)' });

  const metaJson = await readJson(dir, snapshotPaths.meta, false);
  const meta = metaJson === undefined ? {} : validate(snapshotPaths.meta, metaSchema, metaJson);
  if (options.region !== undefined && meta.region !== undefined && options.region !== meta.region) {
    throw new SnapshotError(snapshotPaths.meta, {
      field: 'region',
      detail: `the snapshot was captured in ${meta.region}, but region ${options.region} was asked for`,
    });
  }
  const region = options.region ?? meta.region;
  if (region === undefined) {
    throw new SnapshotError(snapshotPaths.meta, {
      field: 'region',
      detail: 'no region: add {"region": "..."} to meta.json or pass the region (--region)',
    });
  }

  const listJson = await readJson(dir, snapshotPaths.listClusters, 'aws eks list-clusters');
  const { clusters } = validate(snapshotPaths.listClusters, listClustersSchema, listJson);
  // Snapshots made before failed reads were recorded have no such file: nothing failed.
  const failedJson = await readJson(dir, snapshotPaths.failedReads, false);
  const failed = failedJson === undefined ? {} : (validate(snapshotPaths.failedReads, failedReadsSchema, failedJson) as FailedReadsFile);
  return new SnapshotSource(dir, region, meta.capturedAt, [...new Set(clusters)], failed, await hasRegionLimits(dir), await kubeSnapshotClusters(dir));
}
