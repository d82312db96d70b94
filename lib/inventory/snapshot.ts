/**
 * An {@link InventorySource} that reads a snapshot directory: JSON files shaped exactly like
 * what the AWS CLI prints for the calls the live source makes, so that a user without this
 * tool can make one with the AWS CLI alone, share it in a bug report, and replay it.
 *
 * ## Layout
 *
 * ```
 * <dir>/meta.json                                   {"region": "eu-west-1", "capturedAt": "2026-11-26T10:00:00Z"}
 *                                                   optional; the region may instead come from the caller (CLI --region)
 * <dir>/eks/list-clusters.json                      aws eks list-clusters                                   {"clusters": ["a", "b"]}
 * <dir>/eks/clusters/<name>/describe-cluster.json   aws eks describe-cluster --name <name>                  {"cluster": {...}}
 * <dir>/eks/clusters/<name>/nodegroups/<ng>.json    aws eks describe-nodegroup --cluster-name <name> --nodegroup-name <ng>
 *                                                                                                           {"nodegroup": {...}}
 *                                                   the directory may be absent: no managed nodegroups
 * <dir>/eks/clusters/<name>/addon-vpc-cni.json      aws eks describe-addon --cluster-name <name> --addon-name vpc-cni
 *                                                                                                           {"addon": {...}}
 *                                                   absent: the add-on is not installed (self-managed aws-node),
 *                                                   as DescribeAddon's ResourceNotFoundException says
 * <dir>/ec2/describe-subnets.json                   aws ec2 describe-subnets --filters Name=vpc-id,Values=<vpc>            {"Subnets": [...]}
 * <dir>/ec2/describe-network-interfaces.json        aws ec2 describe-network-interfaces --filters Name=vpc-id,Values=<vpc> {"NetworkInterfaces": [...]}
 * <dir>/ec2/describe-instances.json                 aws ec2 describe-instances --filters Name=vpc-id,Values=<vpc>          {"Reservations": [{"Instances": [...]}]}
 *                                                   (or --filters Name=tag-key,Values=kubernetes.io/cluster/<name>)
 * <dir>/ec2/describe-instance-types.json            aws ec2 describe-instance-types --instance-types <t1> <t2> ...         {"InstanceTypes": [...]}
 *                                                   optional: types it lacks come from the bundled data (`knownInstanceTypes()`)
 * ```
 *
 * Each `ec2/` file may also be a JSON array of such pages (several VPCs, or pages concatenated
 * by hand); the pages are merged and a resource repeated across pages is kept once (first wins).
 *
 * ## Validation and where errors surface
 *
 * Every file is checked with a zod schema that covers the fields the core reads; every other
 * field passes through untouched. Each error is a {@link SnapshotError} whose message names the
 * file (relative to the snapshot directory) and the field, e.g.
 * `ec2/describe-subnets.json: Subnets[3].AvailableIpAddressCount: expected number, received string`.
 *
 * Errors are raised where the live source would fail, so that the collector can isolate them the
 * same way:
 * - {@link readSnapshot} fails for what concerns the whole snapshot: an unreadable directory,
 *   `meta.json` malformed, no region (neither `meta.json` nor the caller), a region that
 *   contradicts `meta.json`, and a missing or malformed `eks/list-clusters.json`.
 * - Per cluster: `describeCluster`, `describeNodegroups` and `describeVpcCniAddon` read the
 *   cluster's own files when called, so one cluster's bad file fails only that cluster's call.
 * - Per EC2 file: each `ec2/` file is read and indexed once, on the first call that needs it, and
 *   every call that needs it fails with the same error (like an API the role may not call). A bad
 *   `describe-instances.json` does not stop subnets or ENIs from being read.
 *
 * Dates: the CLI prints `createdAt`, `LaunchTime` etc. as ISO strings. They are left as strings
 * although the SDK types say `Date`: nothing in the core reads them, and converting every nested
 * date of every resource is not worth the cost on large snapshots.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { knownInstanceTypes } from '../capacity/known-instance-types';
import { formatFieldPath, problemList, zodProblems } from '../errors';
import { CLUSTER_TAG_PREFIX, EKS_NAME_PATTERN } from './names';
import type {
  Addon,
  Cluster,
  Instance,
  InstanceTypeInfo,
  InventorySource,
  NetworkInterface,
  Nodegroup,
  Subnet,
} from './types';

/** Paths of the snapshot files, relative to the snapshot directory (always with `/`). */
export const snapshotPaths = {
  meta: 'meta.json',
  listClusters: 'eks/list-clusters.json',
  describeCluster: (cluster: string): string => `eks/clusters/${cluster}/describe-cluster.json`,
  nodegroupsDir: (cluster: string): string => `eks/clusters/${cluster}/nodegroups`,
  nodegroup: (cluster: string, nodegroup: string): string => `eks/clusters/${cluster}/nodegroups/${nodegroup}.json`,
  vpcCniAddon: (cluster: string): string => `eks/clusters/${cluster}/addon-vpc-cni.json`,
  subnets: 'ec2/describe-subnets.json',
  networkInterfaces: 'ec2/describe-network-interfaces.json',
  instances: 'ec2/describe-instances.json',
  instanceTypes: 'ec2/describe-instance-types.json',
} as const;

export { EKS_NAME_PATTERN } from './names';

/** One thing wrong in a snapshot file. */
export interface SnapshotIssue {
  /** The field, as a path from the top of the file (`Subnets[3].AvailableIpAddressCount`); absent when the whole file is at fault. */
  field?: string;
  /** What is wrong with it. */
  detail: string;
}

/** A snapshot file is missing, is not JSON, or does not have the shape the AWS CLI prints. */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
  /** The file, relative to the snapshot directory (`ec2/describe-subnets.json`). */
  readonly file: string;
  /** Everything found wrong in the file (the message shows the first few). */
  readonly issues: SnapshotIssue[];

  constructor(file: string, issues: SnapshotIssue | SnapshotIssue[], options?: { cause?: unknown }) {
    const list = Array.isArray(issues) ? issues : [issues];
    super(`${file}: ${problemList(list.map((i) => ({ field: i.field, problem: i.detail })))}`, options);
    this.file = file;
    this.issues = list;
  }

  /** The first offending field, if the error is about a field. */
  get field(): string | undefined {
    return this.issues[0]?.field;
  }
}

// ---------------------------------------------------------------------------------------------
// Schemas: the fields the core reads. Loose objects, so that everything else AWS prints passes
// through untouched and the core sees the full AWS shape.

const ec2Tag = z.looseObject({ Key: z.string().optional(), Value: z.string().optional() });

const subnetSchema = z.looseObject({
  SubnetId: z.string(),
  VpcId: z.string(),
  AvailabilityZone: z.string(),
  AvailabilityZoneId: z.string().optional(),
  CidrBlock: z.string(),
  AvailableIpAddressCount: z.number().int().nonnegative(),
  Tags: z.array(ec2Tag).optional(),
});

const networkInterfaceSchema = z.looseObject({
  NetworkInterfaceId: z.string(),
  SubnetId: z.string(),
  VpcId: z.string().optional(),
  Description: z.string().optional(),
  InterfaceType: z.string().optional(),
  RequesterId: z.string().optional(),
  RequesterManaged: z.boolean().optional(),
  Status: z.string().optional(),
  PrivateIpAddresses: z.array(z.looseObject({ PrivateIpAddress: z.string(), Primary: z.boolean() })),
  Ipv4Prefixes: z.array(z.looseObject({ Ipv4Prefix: z.string() })).optional(),
  Attachment: z
    .looseObject({
      InstanceId: z.string().optional(),
      DeviceIndex: z.number().int().optional(),
      NetworkCardIndex: z.number().int().optional(),
      InstanceOwnerId: z.string().optional(),
    })
    .optional(),
  TagSet: z.array(ec2Tag).optional(),
});

const instanceSchema = z.looseObject({
  InstanceId: z.string(),
  InstanceType: z.string(),
  // Optional because AWS omits it on terminated instances, which describe-instances still lists
  // for about an hour; a pending or running instance without one is rejected below.
  SubnetId: z.string().optional(),
  PrivateIpAddress: z.string().optional(),
  State: z.looseObject({ Name: z.string() }),
  Tags: z.array(ec2Tag).optional(),
  // The collector learns the subnets of every node ENI from here.
  NetworkInterfaces: z
    .array(
      z.looseObject({
        NetworkInterfaceId: z.string(),
        SubnetId: z.string(),
        Attachment: z
          .looseObject({ DeviceIndex: z.number().int().optional(), NetworkCardIndex: z.number().int().optional() })
          .optional(),
      }),
    )
    .optional(),
});

const instanceTypeInfoSchema = z.looseObject({
  InstanceType: z.string(),
  NetworkInfo: z.looseObject({
    MaximumNetworkInterfaces: z.number().int().positive(),
    Ipv4AddressesPerInterface: z.number().int().positive(),
  }),
});

const clusterSchema = z.looseObject({
  name: z.string(),
  arn: z.string().optional(),
  version: z.string().optional(),
  status: z.string().optional(),
  resourcesVpcConfig: z.looseObject({
    subnetIds: z.array(z.string()),
    vpcId: z.string(),
    endpointPublicAccess: z.boolean().optional(),
    endpointPrivateAccess: z.boolean().optional(),
  }),
  tags: z.record(z.string(), z.string()).optional(),
});

const nodegroupSchema = z.looseObject({
  nodegroupName: z.string(),
  clusterName: z.string(),
  status: z.string().optional(),
  subnets: z.array(z.string()),
  instanceTypes: z.array(z.string()).optional(),
  scalingConfig: z
    .looseObject({
      minSize: z.number().int().optional(),
      maxSize: z.number().int().optional(),
      desiredSize: z.number().int().optional(),
    })
    .optional(),
  amiType: z.string().optional(),
  capacityType: z.string().optional(),
  launchTemplate: z
    .looseObject({ name: z.string().optional(), version: z.string().optional(), id: z.string().optional() })
    .optional(),
  labels: z.record(z.string(), z.string()).optional(),
  taints: z
    .array(z.looseObject({ key: z.string().optional(), value: z.string().optional(), effect: z.string().optional() }))
    .optional(),
  nodeRole: z.string().optional(),
  resources: z
    .looseObject({ autoScalingGroups: z.array(z.looseObject({ name: z.string().optional() })).optional() })
    .optional(),
});

const addonSchema = z.looseObject({
  addonName: z.string(),
  addonVersion: z.string().optional(),
  status: z.string().optional(),
  // A JSON document in a string, as EKS returns it; the collector parses it.
  configurationValues: z.string().optional(),
});

const metaSchema = z.looseObject({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region name such as eu-west-1').optional(),
  capturedAt: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO-8601 date-time')
    .optional(),
});

const listClustersSchema = z.looseObject({
  clusters: z.array(z.string().regex(EKS_NAME_PATTERN, 'expected an EKS cluster name')),
});
const describeClusterSchema = z.looseObject({ cluster: clusterSchema });
const describeNodegroupSchema = z.looseObject({ nodegroup: nodegroupSchema });
const describeAddonSchema = z.looseObject({ addon: addonSchema });
const subnetsPageSchema = z.looseObject({ Subnets: z.array(subnetSchema) });
const networkInterfacesPageSchema = z.looseObject({ NetworkInterfaces: z.array(networkInterfaceSchema) });
const instancesPageSchema = z.looseObject({
  Reservations: z.array(z.looseObject({ Instances: z.array(instanceSchema) })),
});
const instanceTypesPageSchema = z.looseObject({ InstanceTypes: z.array(instanceTypeInfoSchema) });

// ---------------------------------------------------------------------------------------------
// Reading and validating files.

function zodIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): SnapshotIssue[] {
  return zodProblems(error, prefix).map((p) => ({ field: p.field, detail: p.problem }));
}

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
  if (!result.success) throw new SnapshotError(file, zodIssues(result.error), { cause: result.error });
  return result.data;
}

/**
 * Validates an `ec2/` file that is either one page (`{"Subnets": [...]}`) or an array of pages,
 * and returns the pages. Issue paths of an array start with the page index (`[1].Subnets[0]...`).
 */
function validatePages<S extends z.ZodType>(file: string, schema: S, json: unknown): z.output<S>[] {
  if (!Array.isArray(json)) return [validate(file, schema, json)];
  const pages: z.output<S>[] = [];
  const issues: SnapshotIssue[] = [];
  json.forEach((page: unknown, i) => {
    const result = schema.safeParse(page);
    if (result.success) pages.push(result.data);
    else issues.push(...zodIssues(result.error, [i]));
  });
  if (issues.length > 0) throw new SnapshotError(file, issues);
  return pages;
}

/** Keeps the first of each id, in order: pages concatenated by hand may overlap. */
function dedupeById<T>(items: Iterable<T>, id: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(id(item))) seen.set(id(item), item);
  return [...seen.values()];
}

function pushTo<K, V>(index: Map<K, V[]>, key: K, value: V): void {
  const list = index.get(key);
  if (list === undefined) index.set(key, [value]);
  else list.push(value);
}

function fromIndex<V>(index: ReadonlyMap<string, V[]>, keys: readonly string[]): V[] {
  const out: V[] = [];
  for (const key of new Set(keys)) out.push(...(index.get(key) ?? []));
  return out;
}

/** Nodes of a cluster carry the tag key `kubernetes.io/cluster/<name>` (EKS, Karpenter and self-managed templates alike). */

/** The instance states DescribeInstances is asked for (`instance-state-name` filter). */
const LIVE_INSTANCE_STATES: ReadonlySet<string> = new Set(['pending', 'running']);

interface SubnetData {
  byId: Map<string, Subnet>;
  all: Subnet[];
}

// ---------------------------------------------------------------------------------------------

/** Options of {@link readSnapshot}. */
export interface ReadSnapshotOptions {
  /** The region (CLI `--region`). Required when `meta.json` has none; must agree with it otherwise. */
  region?: string;
}

/**
 * An {@link InventorySource} over a snapshot directory. Make one with {@link readSnapshot}.
 * Each method answers as the AWS API would with the same filters (see the module TSDoc for which
 * errors each method raises).
 */
export class SnapshotSource implements InventorySource {
  private subnetData?: Promise<SubnetData>;
  private eniIndex?: Promise<Map<string, NetworkInterface[]>>;
  /** Pending or running instances by the `<name>` of each `kubernetes.io/cluster/<name>` tag they carry. */
  private instanceIndex?: Promise<Map<string, Instance[]>>;
  private instanceTypeData?: Promise<Map<string, InstanceTypeInfo>>;

  /** Use {@link readSnapshot}, which validates the files every call needs. */
  constructor(
    /** The snapshot directory, as given. */
    readonly dir: string,
    readonly region: string,
    /** When the snapshot was taken (`meta.json` `capturedAt`), if known. */
    readonly capturedAt: string | undefined,
    private readonly clusterNames: readonly string[],
  ) {}

  /** `eks/list-clusters.json`, already read by {@link readSnapshot}. */
  async listClusters(): Promise<string[]> {
    return [...this.clusterNames];
  }

  /** `eks/clusters/<name>/describe-cluster.json`. Missing or invalid: a {@link SnapshotError} for this cluster only. */
  async describeCluster(name: string): Promise<Cluster> {
    const file = snapshotPaths.describeCluster(this.checkName(name));
    const json = await readJson(this.dir, file, `aws eks describe-cluster --name ${name}`);
    const { cluster } = validate(file, describeClusterSchema, json);
    if (cluster.name !== name) {
      throw new SnapshotError(file, {
        field: 'cluster.name',
        detail: `expected ${JSON.stringify(name)} (the directory name), received ${JSON.stringify(cluster.name)}`,
      });
    }
    // Validated above for the fields the core reads; the rest is AWS's own shape, untouched.
    return cluster as Cluster;
  }

  /** Every `eks/clusters/<name>/nodegroups/*.json`, sorted by nodegroup name; no directory = no managed nodegroups. */
  async describeNodegroups(clusterName: string): Promise<Nodegroup[]> {
    const dirName = snapshotPaths.nodegroupsDir(this.checkName(clusterName));
    let entries: string[];
    try {
      entries = await fs.readdir(path.join(this.dir, ...dirName.split('/')));
    } catch (err) {
      if (isNotFound(err)) return [];
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
    return nodegroups.sort((a, b) => (a.nodegroupName ?? '').localeCompare(b.nodegroupName ?? ''));
  }

  /** `eks/clusters/<name>/addon-vpc-cni.json`; absent means self-managed aws-node (`undefined`). */
  async describeVpcCniAddon(clusterName: string): Promise<Addon | undefined> {
    const file = snapshotPaths.vpcCniAddon(this.checkName(clusterName));
    const json = await readJson(this.dir, file, false);
    if (json === undefined) return undefined;
    const { addon } = validate(file, describeAddonSchema, json);
    if (addon.addonName !== 'vpc-cni') {
      throw new SnapshotError(file, {
        field: 'addon.addonName',
        detail: `expected "vpc-cni", received ${JSON.stringify(addon.addonName)}`,
      });
    }
    return addon as Addon;
  }

  /** The subnets of `ec2/describe-subnets.json` with these ids, in the order asked; unknown ids are left out. */
  async describeSubnetsById(subnetIds: string[]): Promise<Subnet[]> {
    const { byId } = await this.subnets();
    const out: Subnet[] = [];
    for (const id of new Set(subnetIds)) {
      const subnet = byId.get(id);
      if (subnet !== undefined) out.push(subnet);
    }
    return out;
  }

  /** The subnets in `vpcId` that carry the tag key `tagKey`, whatever its value (`tag-key` filter). */
  async describeSubnetsByTagKey(vpcId: string, tagKey: string): Promise<Subnet[]> {
    const { all } = await this.subnets();
    return all.filter((s) => s.VpcId === vpcId && (s.Tags ?? []).some((t) => t.Key === tagKey));
  }

  /** The ENIs of `ec2/describe-network-interfaces.json` in these subnets (`subnet-id` filter). */
  async describeNetworkInterfaces(subnetIds: string[]): Promise<NetworkInterface[]> {
    return fromIndex(await this.networkInterfaces(), subnetIds);
  }

  /**
   * The pending or running instances of `ec2/describe-instances.json` that carry the tag key
   * `kubernetes.io/cluster/<clusterName>`, whatever its value (`owned` or `shared`).
   */
  async describeClusterInstances(clusterName: string): Promise<Instance[]> {
    return [...((await this.instances()).get(clusterName) ?? [])];
  }

  /**
   * Network limits of these types: `ec2/describe-instance-types.json` first, then the bundled
   * data (`knownInstanceTypes()`); what neither knows is `unknown`. A malformed file is an error,
   * not a reason to fall back.
   */
  async describeInstanceTypes(instanceTypes: string[]): Promise<{ found: InstanceTypeInfo[]; unknown: string[] }> {
    const fromFile = await this.instanceTypesFromFile();
    const found: InstanceTypeInfo[] = [];
    const unknown: string[] = [];
    let bundled: ReadonlyMap<string, InstanceTypeInfo> | undefined;
    for (const type of new Set(instanceTypes)) {
      let info = fromFile.get(type);
      if (info === undefined) {
        bundled ??= knownInstanceTypes();
        info = bundled.get(type);
      }
      if (info === undefined) unknown.push(type);
      else found.push(info);
    }
    return { found, unknown };
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
      const pages = validatePages(file, subnetsPageSchema, json);
      const all = dedupeById(
        pages.flatMap((p) => p.Subnets),
        (s) => s.SubnetId,
      ) as Subnet[];
      return { all, byId: new Map(all.map((s) => [s.SubnetId ?? '', s])) };
    })();
    return this.subnetData;
  }

  private networkInterfaces(): Promise<Map<string, NetworkInterface[]>> {
    this.eniIndex ??= (async () => {
      const file = snapshotPaths.networkInterfaces;
      const json = await readJson(
        this.dir,
        file,
        'aws ec2 describe-network-interfaces --filters Name=vpc-id,Values=<vpc-id>',
      );
      const pages = validatePages(file, networkInterfacesPageSchema, json);
      const index = new Map<string, NetworkInterface[]>();
      const enis = dedupeById(
        pages.flatMap((p) => p.NetworkInterfaces),
        (e) => e.NetworkInterfaceId,
      );
      for (const eni of enis) pushTo(index, eni.SubnetId, eni as NetworkInterface);
      return index;
    })();
    return this.eniIndex;
  }

  private instances(): Promise<Map<string, Instance[]>> {
    this.instanceIndex ??= (async () => {
      const file = snapshotPaths.instances;
      const json = await readJson(this.dir, file, 'aws ec2 describe-instances --filters Name=vpc-id,Values=<vpc-id>');
      const pages = validatePages(file, instancesPageSchema, json);
      const index = new Map<string, Instance[]>();
      const issues: SnapshotIssue[] = [];
      const seen = new Set<string>();
      pages.forEach((page, p) =>
        page.Reservations.forEach((reservation, r) =>
          reservation.Instances.forEach((instance, i) => {
            if (seen.has(instance.InstanceId)) return;
            seen.add(instance.InstanceId);
            if (!LIVE_INSTANCE_STATES.has(instance.State.Name)) return;
            if (instance.SubnetId === undefined) {
              const at = Array.isArray(json) ? [p, 'Reservations', r, 'Instances', i, 'SubnetId'] : ['Reservations', r, 'Instances', i, 'SubnetId'];
              issues.push({ field: formatFieldPath(at), detail: `expected string for a ${instance.State.Name} instance, received undefined` });
              return;
            }
            for (const tag of instance.Tags ?? []) {
              if (tag.Key?.startsWith(CLUSTER_TAG_PREFIX)) {
                pushTo(index, tag.Key.slice(CLUSTER_TAG_PREFIX.length), instance as Instance);
              }
            }
          }),
        ),
      );
      if (issues.length > 0) throw new SnapshotError(file, issues);
      return index;
    })();
    return this.instanceIndex;
  }

  private instanceTypesFromFile(): Promise<Map<string, InstanceTypeInfo>> {
    this.instanceTypeData ??= (async () => {
      const file = snapshotPaths.instanceTypes;
      const json = await readJson(this.dir, file, false);
      if (json === undefined) return new Map<string, InstanceTypeInfo>();
      const pages = validatePages(file, instanceTypesPageSchema, json);
      return new Map(pages.flatMap((p) => p.InstanceTypes).map((t) => [t.InstanceType, t as InstanceTypeInfo]));
    })();
    return this.instanceTypeData;
  }
}

/**
 * Opens a snapshot directory: reads `meta.json` and `eks/list-clusters.json` (the files every
 * use needs) and returns a source that reads the rest on demand.
 *
 * @throws SnapshotError when the directory is not a snapshot, `meta.json` is malformed or
 *   contradicts `options.region`, no region is known, or `eks/list-clusters.json` is missing or malformed.
 */
export async function readSnapshot(dir: string, options: ReadSnapshotOptions = {}): Promise<SnapshotSource> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch (err) {
    throw new SnapshotError('.', { detail: `snapshot directory ${dir} cannot be read: ${(err as Error).message}` }, { cause: err });
  }
  if (!stat.isDirectory()) throw new SnapshotError('.', { detail: `${dir} is not a directory` });

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
  return new SnapshotSource(dir, region, meta.capturedAt, [...new Set(clusters)]);
}
