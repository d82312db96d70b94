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
 * <dir>/failed-reads.json                           optional, written by `capture`: the reads that failed when it was taken
 *                                                   {"failedReads": [{"call": "eks:DescribeAddon", "request": {"clusterName": "a"},
 *                                                     "error": {"operation": "eks:DescribeAddon", "code": "AccessDeniedException", "message": "..."}}],
 *                                                    "unknownInstanceTypes": ["x9.huge"]}
 * ```
 *
 * `failed-reads.json` makes a replay fail where the capture failed: the same read (`call` and
 * `request`, arrays compared as sets) throws an `AwsCallError` with the recorded operation, code
 * and message, so the collector records the same problem as it did live. `unknownInstanceTypes`
 * are the types DescribeInstanceTypes answered InvalidInstanceType for: unknown in replay too,
 * not taken from the bundled data. A snapshot without the file (older ones, hand-made ones) had
 * no failed read.
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
 * - Per EC2 file: each `ec2/` file is read and indexed once, on the first call that needs it. A
 *   file that cannot be read, is not JSON or lacks the page structure (`{"Subnets": [...]}`) fails
 *   every call that needs it with the same error (like an API the role may not call). A bad
 *   `describe-instances.json` does not stop subnets or ENIs from being read.
 * - Per record: a record (one subnet, ENI, instance or instance type) that does not have the shape
 *   is set aside, and spoils only the calls that ask for it: such a call answers the rest in a
 *   `PartialReadError` (`partial`, and `unread`: the ids it could not read) whose message names
 *   the file and the field. A record whose id cannot be read spoils every call it might answer.
 *
 * Dates: the CLI prints `createdAt`, `LaunchTime` etc. as ISO strings. They are left as strings
 * although the SDK types say `Date`: nothing in the core reads them, and converting every nested
 * date of every resource is not worth the cost on large snapshots.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { knownInstanceTypes } from '../capacity/known-instance-types';
import { AwsCallError, formatFieldPath, problemList, zodProblems } from '../errors';
import { CLUSTER_TAG_PREFIX, EKS_NAME_PATTERN, READ_OPERATION } from '../names';
import { PartialReadError } from './types';
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
  failedReads: 'failed-reads.json',
} as const;

export { EKS_NAME_PATTERN } from '../names';

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
    // Optional as the SDK types say: the collector then takes the VPC from the cluster subnets and
    // reports the cluster incomplete, live and in replay alike.
    vpcId: z.string().optional(),
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
// The pages of the ec2 files are checked for their structure only; each record is checked on its
// own (`recordsOf`), so that one bad record spoils only the reads that need it.
const subnetsPageSchema = z.looseObject({ Subnets: z.array(z.unknown()) });
const networkInterfacesPageSchema = z.looseObject({ NetworkInterfaces: z.array(z.unknown()) });
const instancesPageSchema = z.looseObject({
  Reservations: z.array(z.looseObject({ Instances: z.array(z.unknown()) })),
});
const instanceTypesPageSchema = z.looseObject({ InstanceTypes: z.array(z.unknown()) });

/** The reads a failed read of `failed-reads.json` may name, and the request each takes. */
const failedReadSchema = z.discriminatedUnion('call', [
  z.looseObject({ call: z.literal(READ_OPERATION.describeCluster), request: z.looseObject({ name: z.string() }) }),
  z.looseObject({
    call: z.enum([READ_OPERATION.describeNodegroups, READ_OPERATION.describeVpcCniAddon, READ_OPERATION.describeClusterInstances]),
    request: z.looseObject({ clusterName: z.string() }),
  }),
  z.looseObject({
    call: z.literal(READ_OPERATION.describeSubnetsById),
    request: z.union([z.looseObject({ subnetIds: z.array(z.string()) }), z.looseObject({ vpcId: z.string(), tagKey: z.string() })]),
  }),
  z.looseObject({ call: z.literal(READ_OPERATION.describeNetworkInterfaces), request: z.looseObject({ subnetIds: z.array(z.string()) }) }),
  z.looseObject({ call: z.literal(READ_OPERATION.describeInstanceTypes), request: z.looseObject({ instanceTypes: z.array(z.string()) }) }),
]);
const failedReadErrorSchema = z.looseObject({
  operation: z.string().optional(),
  code: z.string().optional(),
  message: z.string(),
  unread: z.array(z.string()).optional(),
});
const failedReadsSchema = z.looseObject({
  failedReads: z.array(z.intersection(failedReadSchema, z.looseObject({ error: failedReadErrorSchema }))).optional(),
  unknownInstanceTypes: z.array(z.string()).optional(),
});

/**
 * A read that failed when the snapshot was captured, as `failed-reads.json` holds it: the read
 * (`call`, the AWS operation; `request`, what it asked for) and the error it got. Replaying the
 * snapshot, the same read fails with the same error; with `error.unread`, it answered in part
 * (the answer is in the other files) and `unread` names what it could not read.
 */
export interface FailedRead {
  call: string;
  request: Record<string, string | string[]>;
  error: { operation?: string; code?: string; message: string; unread?: string[] };
}

/** `failed-reads.json`: the failed reads, and the instance types DescribeInstanceTypes did not know. */
export interface FailedReadsFile {
  failedReads?: FailedRead[];
  /** DescribeInstanceTypes answered InvalidInstanceType for these: unknown in replay too, not taken from the bundled data. */
  unknownInstanceTypes?: string[];
}

/** A request with its arrays sorted and deduplicated, as one string: two equal requests give the same key. */
export function requestKey(call: string, request: Record<string, unknown>): string {
  const canonical = Object.keys(request)
    .sort()
    .map((k) => {
      const v = request[k];
      return [k, Array.isArray(v) ? [...new Set(v.map(String))].sort() : v];
    });
  return JSON.stringify([call, canonical]);
}

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
    else issues.push(...zodIssues(result.error, [i]));
  });
  if (issues.length > 0) throw new SnapshotError(file, issues);
  return pages;
}

/** A record of an ec2 file that does not have the shape the core reads: it spoils only the reads that need it. */
interface BadRecord {
  /** The record as it is, for the fields that tell which reads it concerns (its id, subnet, tags). */
  raw: Record<string, unknown>;
  issues: SnapshotIssue[];
}

/**
 * Checks each record against `schema`; returns the good ones and sets the bad ones aside. A record
 * repeated across pages (by `id`) is kept once, first wins, good or bad.
 */
function recordsOf<S extends z.ZodType>(
  records: { raw: unknown; at: PropertyKey[] }[],
  schema: S,
  id: (raw: Record<string, unknown>) => unknown,
): { good: z.output<S>[]; bad: BadRecord[] } {
  const good: z.output<S>[] = [];
  const bad: BadRecord[] = [];
  const seen = new Set<string>();
  for (const { raw, at } of records) {
    const obj = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const key = id(obj);
    if (typeof key === 'string') {
      if (seen.has(key)) continue;
      seen.add(key);
    }
    const result = schema.safeParse(raw);
    if (result.success) good.push(result.data);
    else bad.push({ raw: obj, issues: zodIssues(result.error, at) });
  }
  return { good, bad };
}

const stringOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The tag keys of a record's `Tags` / `TagSet`, or undefined when they cannot be read. */
function tagKeysOf(tags: unknown): string[] | undefined {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) return undefined;
  const keys: string[] = [];
  for (const t of tags) {
    const key = (t as { Key?: unknown } | null)?.Key;
    if (typeof key !== 'string') return undefined;
    keys.push(key);
  }
  return keys;
}

/** The ids of some bad records, or undefined when one of them has none that can be read. */
function idsOf(bad: readonly BadRecord[], id: (raw: Record<string, unknown>) => unknown): string[] | undefined {
  const ids: string[] = [];
  for (const b of bad) {
    const v = id(b.raw);
    if (typeof v !== 'string') return undefined;
    ids.push(v);
  }
  return [...new Set(ids)];
}

/**
 * The answer in part, as thrown: what could be read, and the bad records' issues as one
 * {@link SnapshotError} of the file (its `cause`), so the message names the file and the fields.
 */
function partialAnswer<T>(operation: string, file: string, answer: T, bad: readonly BadRecord[], unread: string[] | undefined): PartialReadError<T> {
  const cause = new SnapshotError(
    file,
    bad.flatMap((b) => b.issues),
  );
  return new PartialReadError(operation, answer, unread, cause.message, cause.name, { cause });
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

/** The instance states DescribeInstances is asked for (`instance-state-name` filter). */
const LIVE_INSTANCE_STATES: ReadonlySet<string> = new Set(['pending', 'running']);

interface SubnetData {
  byId: Map<string, Subnet>;
  all: Subnet[];
  bad: BadRecord[];
}

interface EniData {
  bySubnet: Map<string, NetworkInterface[]>;
  /** Bad records by their SubnetId; those without a readable one under ''. */
  badBySubnet: Map<string, BadRecord[]>;
}

interface InstanceData {
  /** Pending or running instances by the `<name>` of each `kubernetes.io/cluster/<name>` tag they carry. */
  byCluster: Map<string, Instance[]>;
  /** Bad records by cluster name; those whose tags cannot be read (any cluster's) under ''. */
  badByCluster: Map<string, BadRecord[]>;
}

interface InstanceTypeData {
  byName: Map<string, InstanceTypeInfo>;
  /** Bad records by InstanceType; those without a readable one under ''. */
  badByName: Map<string, BadRecord[]>;
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
  private eniData?: Promise<EniData>;
  private instanceData?: Promise<InstanceData>;
  private instanceTypeData?: Promise<InstanceTypeData>;
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
  ) {
    this.failures = new Map((failed.failedReads ?? []).map((f) => [requestKey(f.call, f.request), f]));
    this.unknownTypes = new Set(failed.unknownInstanceTypes ?? []);
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
    const { byId, bad } = await this.subnets();
    const out: Subnet[] = [];
    const notFound: string[] = [];
    for (const id of new Set(subnetIds)) {
      const subnet = byId.get(id);
      if (subnet !== undefined) out.push(subnet);
      else notFound.push(id);
    }
    // A bad record is one of those asked for when its id says so, or may be when it has none.
    const asked = new Set(notFound);
    const relevant = bad.filter((b) => {
      const id = stringOf(b.raw['SubnetId']);
      return id === undefined ? notFound.length > 0 : asked.has(id);
    });
    if (relevant.length > 0) {
      const named = idsOf(relevant, (r) => r['SubnetId']);
      throw partialAnswer(READ_OPERATION.describeSubnetsById, snapshotPaths.subnets, out, relevant, named ?? notFound);
    }
    return this.answer(failure, out);
  }

  /** The subnets in `vpcId` that carry the tag key `tagKey`, whatever its value (`tag-key` filter). */
  async describeSubnetsByTagKey(vpcId: string, tagKey: string): Promise<Subnet[]> {
    const failure = this.failureOf(READ_OPERATION.describeSubnetsByTagKey, { vpcId, tagKey });
    const { all, bad } = await this.subnets();
    const out = all.filter((s) => s.VpcId === vpcId && (s.Tags ?? []).some((t) => t.Key === tagKey));
    const relevant = bad.filter((b) => {
      const vpc = stringOf(b.raw['VpcId']);
      const keys = tagKeysOf(b.raw['Tags']);
      return (vpc === undefined || vpc === vpcId) && (keys === undefined || keys.includes(tagKey));
    });
    if (relevant.length > 0) {
      throw partialAnswer(READ_OPERATION.describeSubnetsByTagKey, snapshotPaths.subnets, out, relevant, idsOf(relevant, (r) => r['SubnetId']));
    }
    return this.answer(failure, out);
  }

  /** The ENIs of `ec2/describe-network-interfaces.json` in these subnets (`subnet-id` filter). */
  async describeNetworkInterfaces(subnetIds: string[]): Promise<NetworkInterface[]> {
    const failure = this.failureOf(READ_OPERATION.describeNetworkInterfaces, { subnetIds });
    const { bySubnet, badBySubnet } = await this.networkInterfaces();
    const out = fromIndex(bySubnet, subnetIds);
    const relevant = [...fromIndex(badBySubnet, subnetIds), ...(badBySubnet.get('') ?? [])];
    if (relevant.length > 0) {
      // What is unread is the ENIs of those subnets (of any, when a record names none).
      throw partialAnswer(READ_OPERATION.describeNetworkInterfaces, snapshotPaths.networkInterfaces, out, relevant, idsOf(relevant, (r) => r['SubnetId']));
    }
    return this.answer(failure, out);
  }

  /**
   * The pending or running instances of `ec2/describe-instances.json` that carry the tag key
   * `kubernetes.io/cluster/<clusterName>`, whatever its value (`owned` or `shared`).
   */
  async describeClusterInstances(clusterName: string): Promise<Instance[]> {
    const failure = this.failureOf(READ_OPERATION.describeClusterInstances, { clusterName });
    const { byCluster, badByCluster } = await this.instances();
    const out = [...(byCluster.get(clusterName) ?? [])];
    const relevant = [...(badByCluster.get(clusterName) ?? []), ...(badByCluster.get('') ?? [])];
    if (relevant.length > 0) {
      throw partialAnswer(READ_OPERATION.describeClusterInstances, snapshotPaths.instances, out, relevant, idsOf(relevant, (r) => r['InstanceId']));
    }
    return this.answer(failure, out);
  }

  /**
   * Network limits of these types: `ec2/describe-instance-types.json` first, then the bundled
   * data (`knownInstanceTypes()`); what neither knows, or what `failed-reads.json` says EC2 did
   * not know, is `unknown`. A malformed record is an error for its type, not a reason to fall back.
   */
  async describeInstanceTypes(instanceTypes: string[]): Promise<{ found: InstanceTypeInfo[]; unknown: string[] }> {
    const failure = this.failureOf(READ_OPERATION.describeInstanceTypes, { instanceTypes });
    const { byName, badByName } = await this.instanceTypesFromFile();
    const anonymous = badByName.get('') ?? [];
    const found: InstanceTypeInfo[] = [];
    const unknown: string[] = [];
    const unread: string[] = [];
    const relevant: BadRecord[] = [];
    let bundled: ReadonlyMap<string, InstanceTypeInfo> | undefined;
    for (const type of new Set(instanceTypes)) {
      let info = byName.get(type);
      const badOnes = badByName.get(type) ?? [];
      if (info === undefined && (badOnes.length > 0 || anonymous.length > 0)) {
        unread.push(type);
        relevant.push(...badOnes);
        continue;
      }
      if (info === undefined && !this.unknownTypes.has(type)) {
        bundled ??= knownInstanceTypes();
        info = bundled.get(type);
      }
      if (info === undefined) unknown.push(type);
      else found.push(info);
    }
    if (unread.length > 0) {
      throw partialAnswer(READ_OPERATION.describeInstanceTypes, snapshotPaths.instanceTypes, { found, unknown }, [...new Set([...relevant, ...anonymous])], unread);
    }
    return this.answer(failure, { found, unknown });
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
      const records = validatePages(file, subnetsPageSchema, json).flatMap(({ page, at }) =>
        page.Subnets.map((raw, i) => ({ raw, at: [...at, 'Subnets', i] })),
      );
      const { good, bad } = recordsOf(records, subnetSchema, (r) => r['SubnetId']);
      const all = good as Subnet[];
      return { all, byId: new Map(all.map((s) => [s.SubnetId ?? '', s])), bad };
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
      const records = validatePages(file, networkInterfacesPageSchema, json).flatMap(({ page, at }) =>
        page.NetworkInterfaces.map((raw, i) => ({ raw, at: [...at, 'NetworkInterfaces', i] })),
      );
      const { good, bad } = recordsOf(records, networkInterfaceSchema, (r) => r['NetworkInterfaceId']);
      const bySubnet = new Map<string, NetworkInterface[]>();
      for (const eni of good) pushTo(bySubnet, eni.SubnetId, eni as NetworkInterface);
      const badBySubnet = new Map<string, BadRecord[]>();
      for (const b of bad) pushTo(badBySubnet, stringOf(b.raw['SubnetId']) ?? '', b);
      return { bySubnet, badBySubnet };
    })();
    return this.eniData;
  }

  private instances(): Promise<InstanceData> {
    this.instanceData ??= (async () => {
      const file = snapshotPaths.instances;
      const json = await readJson(this.dir, file, 'aws ec2 describe-instances --filters Name=vpc-id,Values=<vpc-id>');
      const records = validatePages(file, instancesPageSchema, json).flatMap(({ page, at }) =>
        page.Reservations.flatMap((reservation, r) =>
          reservation.Instances.map((raw, i) => ({ raw, at: [...at, 'Reservations', r, 'Instances', i] })),
        ),
      );
      const { good, bad } = recordsOf(records, instanceSchema, (r) => r['InstanceId']);
      const byCluster = new Map<string, Instance[]>();
      const badByCluster = new Map<string, BadRecord[]>();
      const clustersOf = (tags: unknown): string[] | undefined =>
        tagKeysOf(tags)
          ?.filter((k) => k.startsWith(CLUSTER_TAG_PREFIX))
          .map((k) => k.slice(CLUSTER_TAG_PREFIX.length));
      const setAside = (b: BadRecord): void => {
        const clusters = clustersOf(b.raw['Tags']);
        if (clusters === undefined) pushTo(badByCluster, '', b);
        else for (const c of clusters) pushTo(badByCluster, c, b);
      };
      good.forEach((instance) => {
        if (!LIVE_INSTANCE_STATES.has(instance.State.Name)) return;
        if (instance.SubnetId === undefined) {
          // Where this record sits, for the message: the same path as the schema's issues.
          const at = records.find((x) => x.raw !== null && (x.raw as { InstanceId?: unknown }).InstanceId === instance.InstanceId)?.at ?? [];
          setAside({
            raw: instance as Record<string, unknown>,
            issues: [{ field: formatFieldPath([...at, 'SubnetId']), detail: `expected string for a ${instance.State.Name} instance, received undefined` }],
          });
          return;
        }
        for (const c of clustersOf(instance.Tags) ?? []) pushTo(byCluster, c, instance as Instance);
      });
      for (const b of bad) {
        // A record whose state says it is neither pending nor running is not asked for.
        const state = stringOf((b.raw['State'] as { Name?: unknown } | undefined)?.Name);
        if (state !== undefined && !LIVE_INSTANCE_STATES.has(state)) continue;
        setAside(b);
      }
      return { byCluster, badByCluster };
    })();
    return this.instanceData;
  }

  private instanceTypesFromFile(): Promise<InstanceTypeData> {
    this.instanceTypeData ??= (async () => {
      const file = snapshotPaths.instanceTypes;
      const json = await readJson(this.dir, file, false);
      if (json === undefined) return { byName: new Map(), badByName: new Map() };
      const records = validatePages(file, instanceTypesPageSchema, json).flatMap(({ page, at }) =>
        page.InstanceTypes.map((raw, i) => ({ raw, at: [...at, 'InstanceTypes', i] })),
      );
      const { good, bad } = recordsOf(records, instanceTypeInfoSchema, (r) => r['InstanceType']);
      const badByName = new Map<string, BadRecord[]>();
      for (const b of bad) pushTo(badByName, stringOf(b.raw['InstanceType']) ?? '', b);
      return { byName: new Map(good.map((t) => [t.InstanceType, t as InstanceTypeInfo])), badByName };
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
  return new SnapshotSource(dir, region, meta.capturedAt, [...new Set(clusters)], failed);
}
