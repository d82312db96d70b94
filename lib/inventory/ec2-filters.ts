/**
 * The EC2 filter engine of a snapshot: the records of the `ec2/` files, checked one by one and
 * indexed, and the answers to the reads the live source makes with EC2's filters (`subnet-id`,
 * `vpc-id` and `tag-key`, `instance-state-name`). A bad record spoils only the reads that ask for
 * it: they answer the rest in a `PartialReadError`. No files here (`snapshot.ts` reads them).
 * The rules: docs/snapshots.md, "The snapshot files".
 */
import type * as z from 'zod';
import { knownInstanceTypes } from '../capacity/known-instance-types';
import { formatFieldPath } from '../errors';
import { CLUSTER_TAG_PREFIX, EKS_CLUSTER_NAME_TAG_KEY, READ_OPERATION } from '../names';
import {
  instanceSchema,
  instanceTypeInfoSchema,
  networkInterfaceSchema,
  snapshotIssues,
  snapshotPaths,
  subnetCidrReservationSchema,
  subnetSchema,
  SnapshotError,
  type SnapshotIssue,
} from './snapshot-schemas';
import { PartialReadError } from './types';
import type { Instance, InstanceTypeInfo, NetworkInterface, Subnet, SubnetCidrReservation } from './types';

/** One record of an `ec2/` file, unchecked, and where it sits in the file (`[0, 'Subnets', 3]`). */
export interface Ec2Record {
  raw: unknown;
  at: PropertyKey[];
}

/** A record of an ec2 file that does not have the shape the core reads: it spoils only the reads that need it. */
export interface BadRecord {
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
    else bad.push({ raw: obj, issues: snapshotIssues(result.error, at) });
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

export interface SubnetData {
  byId: Map<string, Subnet>;
  all: Subnet[];
  bad: BadRecord[];
}

export interface EniData {
  bySubnet: Map<string, NetworkInterface[]>;
  /** Bad records by their SubnetId; those without a readable one under ''. */
  badBySubnet: Map<string, BadRecord[]>;
}

export interface InstanceData {
  /** Pending or running instances by the `<name>` of each `kubernetes.io/cluster/<name>` tag they carry. */
  byCluster: Map<string, Instance[]>;
  /** Bad records by cluster name; those whose tags cannot be read (any cluster's) under ''. */
  badByCluster: Map<string, BadRecord[]>;
  /** Pending or running instances by the value of their `eks:eks-cluster-name` tag (Auto Mode, Karpenter: lib/names.ts). */
  byEksClusterName?: Map<string, Instance[]>;
  /** Every good record, in any state, by instance id (DescribeInstances by `instance-id`). */
  byId?: Map<string, Instance>;
  /** Every bad record, in any state, by its instance id ('' when it has none). */
  badById?: Map<string, BadRecord[]>;
}

export interface ReservationData {
  bySubnet: Map<string, SubnetCidrReservation[]>;
  /** Bad records by their SubnetId; those without a readable one under ''. */
  badBySubnet: Map<string, BadRecord[]>;
}

export interface InstanceTypeData {
  byName: Map<string, InstanceTypeInfo>;
  /** Bad records by InstanceType; those without a readable one under ''. */
  badByName: Map<string, BadRecord[]>;
}
// ---------------------------------------------------------------------------------------------
// Indexes: each file's records checked and indexed once.

/** The subnets of `ec2/describe-subnets.json`, by id, and the bad records. */
export function indexSubnets(records: Ec2Record[]): SubnetData {
  const { good, bad } = recordsOf(records, subnetSchema, (r) => r['SubnetId']);
  const all = good as Subnet[];
  return { all, byId: new Map(all.map((s) => [s.SubnetId ?? '', s])), bad };
}

/** The ENIs of `ec2/describe-network-interfaces.json` by subnet, and the bad records by subnet. */
export function indexNetworkInterfaces(records: Ec2Record[]): EniData {
  const { good, bad } = recordsOf(records, networkInterfaceSchema, (r) => r['NetworkInterfaceId']);
  const bySubnet = new Map<string, NetworkInterface[]>();
  for (const eni of good) pushTo(bySubnet, eni.SubnetId, eni as NetworkInterface);
  const badBySubnet = new Map<string, BadRecord[]>();
  for (const b of bad) pushTo(badBySubnet, stringOf(b.raw['SubnetId']) ?? '', b);
  return { bySubnet, badBySubnet };
}

/** The reservations of `ec2/get-subnet-cidr-reservations.json` by subnet, and the bad records by subnet. */
export function indexSubnetCidrReservations(records: Ec2Record[]): ReservationData {
  const { good, bad } = recordsOf(records, subnetCidrReservationSchema, (r) => r['SubnetCidrReservationId']);
  const bySubnet = new Map<string, SubnetCidrReservation[]>();
  for (const r of good) pushTo(bySubnet, r.SubnetId, r as SubnetCidrReservation);
  const badBySubnet = new Map<string, BadRecord[]>();
  for (const b of bad) pushTo(badBySubnet, stringOf(b.raw['SubnetId']) ?? '', b);
  return { bySubnet, badBySubnet };
}

/** The pending or running instances of `ec2/describe-instances.json` by cluster, and the bad records by cluster. */
export function indexInstances(records: Ec2Record[]): InstanceData {
  const { good, bad } = recordsOf(records, instanceSchema, (r) => r['InstanceId']);
  const byCluster = new Map<string, Instance[]>();
  const badByCluster = new Map<string, BadRecord[]>();
  const byEksClusterName = new Map<string, Instance[]>();
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
    const eksCluster = instance.Tags?.find((t) => t.Key === EKS_CLUSTER_NAME_TAG_KEY)?.Value;
    if (eksCluster) pushTo(byEksClusterName, eksCluster, instance as Instance);
  });
  for (const b of bad) {
    // A record whose state says it is neither pending nor running is not asked for.
    const state = stringOf((b.raw['State'] as { Name?: unknown } | undefined)?.Name);
    if (state !== undefined && !LIVE_INSTANCE_STATES.has(state)) continue;
    setAside(b);
  }
  const byId = new Map<string, Instance>();
  for (const instance of good) byId.set(instance.InstanceId, instance as Instance);
  const badById = new Map<string, BadRecord[]>();
  for (const b of bad) pushTo(badById, stringOf(b.raw['InstanceId']) ?? '', b);
  return { byCluster, badByCluster, byEksClusterName, byId, badById };
}

/** The instance types of `ec2/describe-instance-types.json` by name, and the bad records by name. */
export function indexInstanceTypes(records: Ec2Record[]): InstanceTypeData {
  const { good, bad } = recordsOf(records, instanceTypeInfoSchema, (r) => r['InstanceType']);
  const badByName = new Map<string, BadRecord[]>();
  for (const b of bad) pushTo(badByName, stringOf(b.raw['InstanceType']) ?? '', b);
  return { byName: new Map(good.map((t) => [t.InstanceType, t as InstanceTypeInfo])), badByName };
}

// ---------------------------------------------------------------------------------------------
// Filters: each read's answer, as EC2 gives it with the same filters.

/**
 * The subnets with these ids, in the order asked; unknown ids are left out. A bad record among
 * them: the others, in a {@link PartialReadError} naming it.
 */
export function subnetsById({ byId, bad }: SubnetData, subnetIds: string[]): Subnet[] {
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
  return out;
}

/** The subnets in `vpcId` that carry the tag key `tagKey`, whatever its value (`tag-key` filter). */
export function subnetsByTagKey({ all, bad }: SubnetData, vpcId: string, tagKey: string): Subnet[] {
  const out = all.filter((s) => s.VpcId === vpcId && (s.Tags ?? []).some((t) => t.Key === tagKey));
  const relevant = bad.filter((b) => {
    const vpc = stringOf(b.raw['VpcId']);
    const keys = tagKeysOf(b.raw['Tags']);
    return (vpc === undefined || vpc === vpcId) && (keys === undefined || keys.includes(tagKey));
  });
  if (relevant.length > 0) {
    throw partialAnswer(READ_OPERATION.describeSubnetsByTagKey, snapshotPaths.subnets, out, relevant, idsOf(relevant, (r) => r['SubnetId']));
  }
  return out;
}

/** The ENIs in these subnets (`subnet-id` filter). */
export function networkInterfacesIn({ bySubnet, badBySubnet }: EniData, subnetIds: string[]): NetworkInterface[] {
  const out = fromIndex(bySubnet, subnetIds);
  const relevant = [...fromIndex(badBySubnet, subnetIds), ...(badBySubnet.get('') ?? [])];
  if (relevant.length > 0) {
    // What is unread is the ENIs of those subnets (of any, when a record names none).
    throw partialAnswer(READ_OPERATION.describeNetworkInterfaces, snapshotPaths.networkInterfaces, out, relevant, idsOf(relevant, (r) => r['SubnetId']));
  }
  return out;
}

/** The reservations of these subnets (GetSubnetCidrReservations, one subnet per call, gathered). */
export function subnetCidrReservationsIn({ bySubnet, badBySubnet }: ReservationData, subnetIds: string[]): SubnetCidrReservation[] {
  const out = fromIndex(bySubnet, subnetIds);
  const relevant = [...fromIndex(badBySubnet, subnetIds), ...(badBySubnet.get('') ?? [])];
  if (relevant.length > 0) {
    throw partialAnswer(
      READ_OPERATION.getSubnetCidrReservations,
      snapshotPaths.subnetCidrReservations,
      out,
      relevant,
      idsOf(relevant, (r) => r['SubnetId']),
    );
  }
  return out;
}

/**
 * The pending or running instances that carry the tag key `kubernetes.io/cluster/<clusterName>`, and
 * for an Auto Mode cluster also those tagged `eks:eks-cluster-name=<clusterName>` (as the live source reads them).
 */
export function clusterInstances({ byCluster, badByCluster, byEksClusterName }: InstanceData, clusterName: string, autoMode = false): Instance[] {
  const out = [...(byCluster.get(clusterName) ?? [])];
  if (autoMode) {
    const seen = new Set(out.map((i) => i.InstanceId));
    for (const i of byEksClusterName?.get(clusterName) ?? []) if (!seen.has(i.InstanceId)) out.push(i);
  }
  const relevant = [...(badByCluster.get(clusterName) ?? []), ...(badByCluster.get('') ?? [])];
  if (relevant.length > 0) {
    throw partialAnswer(READ_OPERATION.describeClusterInstances, snapshotPaths.instances, out, relevant, idsOf(relevant, (r) => r['InstanceId']));
  }
  return out;
}

/**
 * The instances of `ec2/describe-instances.json` with these ids, in any state, as the `instance-id`
 * filter answers (an unknown id is left out). A bad record that may be one of them (its id is
 * asked, or unreadable): the others, in a PartialReadError naming it.
 */
export function instancesById({ byId, badById }: InstanceData, instanceIds: string[]): Instance[] {
  const asked = new Set(instanceIds);
  const out = [...asked].flatMap((id) => {
    const i = byId?.get(id);
    return i ? [i] : [];
  });
  const relevant = [...asked, ''].flatMap((id) => badById?.get(id) ?? []);
  if (relevant.length > 0) {
    throw partialAnswer(READ_OPERATION.describeInstancesById, snapshotPaths.instances, out, relevant, idsOf(relevant, (r) => r['InstanceId']));
  }
  return out;
}

/**
 * Network limits of these types: the file's first, then the bundled data (`knownInstanceTypes()`);
 * what neither knows, or what is in `unknownTypes` (EC2 did not know it at capture), is `unknown`.
 * A malformed record is an error for its type, not a reason to fall back.
 */
export function instanceTypesOf(
  { byName, badByName }: InstanceTypeData,
  instanceTypes: string[],
  unknownTypes: ReadonlySet<string>,
): { found: InstanceTypeInfo[]; unknown: string[] } {
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
    if (info === undefined && !unknownTypes.has(type)) {
      bundled ??= knownInstanceTypes();
      info = bundled.get(type);
    }
    if (info === undefined) unknown.push(type);
    else found.push(info);
  }
  if (unread.length > 0) {
    throw partialAnswer(READ_OPERATION.describeInstanceTypes, snapshotPaths.instanceTypes, { found, unknown }, [...new Set([...relevant, ...anonymous])], unread);
  }
  return { found, unknown };
}
