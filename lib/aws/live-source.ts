/**
 * The live inventory source: the AWS reads the collector needs, each paginated with the
 * SDK's paginators at the largest page size the API allows, so that the number of calls
 * grows with result pages and never with nodes or ENIs.
 *
 * This is the only inventory code that calls `.send()`. Every failure is rethrown as an
 * `AwsCallError` naming the operation and what it was for.
 *
 * A cycle's view of the source ({@link LiveSource.forCycle}) is bound by the cycle's deadline
 * (lib/deadline.ts): no read and no further page starts once it has passed, and the reads in
 * flight are aborted when it passes; each such read fails with a CycleDeadlineError, so that the
 * collector records it like any failed read (the cluster is incomplete). The view also reports
 * every page answered, which the CLI shows as progress.
 */
import {
  paginateDescribeInstances,
  paginateDescribeInstanceTypes,
  paginateDescribeNetworkInterfaces,
  paginateDescribeSubnets,
  type EC2Client,
  type Filter,
  type Instance,
  type InstanceTypeInfo,
  type NetworkInterface,
  type Subnet,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import {
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  paginateListClusters,
  paginateListNodegroups,
  type Addon,
  type Cluster,
  type EKSClient,
  type Nodegroup,
} from '@aws-sdk/client-eks';
import { CycleDeadlineError, type CycleDeadline } from '../deadline';
import { awsCallError, awsErrorCode, messageOf, withAwsCall, type AwsCallError } from '../errors';
import type { InventorySource } from '../inventory/types';
import { CLUSTER_TAG_PREFIX } from '../names';
import { chunk } from './chunk';
import { trimInstance, trimNetworkInterface } from './trim';

/**
 * Values per EC2 filter in one request. EC2 rejects larger filter value lists
 * (FilterLimitExceeded, "The maximum number of filter values specified on a single call is 200").
 */
export const EC2_FILTER_VALUES_MAX = 200;
/** DescribeSubnets / DescribeNetworkInterfaces / DescribeInstances MaxResults upper bound (EC2 API reference). */
export const EC2_PAGE_SIZE_MAX = 1000;
/** DescribeInstanceTypes: at most 100 instance types per request (EC2 API reference, InstanceTypes). */
export const INSTANCE_TYPES_PER_CALL_MAX = 100;
/** EKS ListClusters / ListNodegroups maxResults upper bound (EKS API reference). */
export const EKS_PAGE_SIZE_MAX = 100;

/** The tag every node of a cluster carries (EKS user guide, managed node groups; Karpenter; eksctl). */
export function clusterTagKey(clusterName: string): string {
  return `${CLUSTER_TAG_PREFIX}${clusterName}`;
}



/**
 * EC2 DescribeSubnets of these subnet ids, every page. Filtered on `subnet-id` rather than passing
 * `SubnetIds`: an unknown id in `SubnetIds` fails the whole request
 * (InvalidSubnetID.NotFound), a filter leaves it out, so the caller can name the missing ones.
 */
export async function describeSubnetsById(ec2: EC2Client, subnetIds: string[]): Promise<Subnet[]> {
  const ids = [...new Set(subnetIds)];
  if (ids.length === 0) return [];
  return withAwsCall('ec2:DescribeSubnets', `for ${ids.join(', ')}`, async () => {
    const out: Subnet[] = [];
    for (const batch of chunk(ids, EC2_FILTER_VALUES_MAX)) {
      for await (const page of paginateDescribeSubnets(
        { client: ec2, pageSize: EC2_PAGE_SIZE_MAX },
        { Filters: [{ Name: 'subnet-id', Values: batch }] },
      )) {
        out.push(...(page.Subnets ?? []));
      }
    }
    return out;
  });
}

/** One page (or call) of a live read answered: what the CLI shows as progress. */
export interface ReadProgress {
  /** Whom the read is for: the cluster (clusters, when they share subnets), or the region. */
  subject: string;
  /** The API operation, as AWS names it (`DescribeNetworkInterfaces`). */
  operation: string;
  /** The pages of this read answered so far; absent for a read that is one call. */
  page?: number;
  /** How many items the read has answered so far, and what they are (`ENIs`, `of 12 nodegroups`). */
  items?: number;
  unit?: string;
}

/** What one cycle's reads are bound by and report to (see {@link LiveSource.forCycle}). */
export interface LiveSourceOptions {
  /**
   * No read starts once it has passed, and reads in flight are aborted when it passes: such a
   * read fails with CycleDeadlineError (an AwsCallError), like any failed read.
   */
  deadline?: CycleDeadline;
  /** Told of every page or call answered (the CLI's progress); reads nothing, changes nothing. */
  onProgress?: (progress: ReadProgress) => void;
}

/** The token of the next page: EC2's `NextToken`, EKS's `nextToken`. */
function hasNextPage(page: unknown): boolean {
  const p = page as { NextToken?: unknown; nextToken?: unknown };
  return Boolean(p.NextToken ?? p.nextToken);
}

/** `ec2:DescribeSubnets` → `DescribeSubnets`. */
const apiName = (operation: string): string => operation.slice(operation.indexOf(':') + 1);

/** Clusters' EKS and EC2 state from the live account. One per container: it caches instance types. */
export class LiveSource implements InventorySource {
  /** The clusters each subnet and VPC was seen for, to name the subject of subnet reads in progress. */
  private readonly clustersOfSubnet = new Map<string, Set<string>>();
  private readonly clustersOfVpc = new Map<string, Set<string>>();

  constructor(
    private readonly clients: { ec2: EC2Client; eks: EKSClient },
    readonly region: string,
    /** 'measured': keep only the fields the pipeline reads (the Lambda functions); 'all': everything (capture). */
    private readonly keep: 'all' | 'measured' = 'all',
    private readonly options: LiveSourceOptions = {},
    /** The instance types known so far: each view of {@link forCycle} shares its source's. */
    private readonly instanceTypeCache = new Map<string, InstanceTypeInfo | null>(),
  ) {}

  /**
   * The same source for one cycle: its reads bound by the cycle's deadline and reported to its
   * progress; the instance type cache (the container's) is shared.
   */
  forCycle(options: LiveSourceOptions): LiveSource {
    return new LiveSource(this.clients, this.region, this.keep, options, this.instanceTypeCache);
  }

  /** The SDK call options of this source's reads: the deadline's abort signal. */
  private get callOptions(): [] | [{ abortSignal: AbortSignal }] {
    return this.options.deadline ? [{ abortSignal: this.options.deadline.signal }] : [];
  }

  /** Throws the cut of a read that may not start: the deadline has passed. */
  private mayStart(operation: string, subject: string, how = 'not started'): void {
    const deadline = this.options.deadline;
    if (deadline?.passed()) throw deadline.cut(operation, subject, how);
  }

  /**
   * One read: not started past the deadline; any failure rethrown as an AwsCallError naming the
   * operation and subject, the abort of a read in flight at the deadline as its cut.
   */
  private async read<T>(operation: string, subject: string, fn: () => Promise<T>): Promise<T> {
    this.mayStart(operation, subject);
    try {
      return await fn();
    } catch (err) {
      throw this.failure(operation, subject, err);
    }
  }

  private failure(operation: string, subject: string, err: unknown): AwsCallError {
    if (err instanceof CycleDeadlineError) return err;
    const deadline = this.options.deadline;
    // Aborted at the deadline: the SDK's AbortError, or whatever the torn-down answer gave; an
    // error the service answered ($fault) stays itself.
    if (deadline?.signal.aborted && (err as { $fault?: unknown } | undefined)?.$fault === undefined) {
      return deadline.cut(operation, subject, 'aborted in flight');
    }
    return awsCallError(operation, subject, err);
  }

  /**
   * Reads every page of a paginated call into `out`, counting pages and items for the progress
   * (`counted` goes on across the batches of one read). Before asking for another page it checks
   * the deadline; a cut drops the pages read with the rest (part of a list is no figure).
   */
  private async pages<P, T>(
    operation: string,
    /** What the read is for, in its error messages ("for cluster prod"). */
    about: string,
    /** Whom it is for, in the progress ("prod"), and what its items are ("ENIs"). */
    { subject, unit }: { subject: string; unit: string },
    iterate: AsyncIterable<P>,
    items: (page: P) => T[],
    out: T[],
    counted = { page: 0, items: 0 },
  ): Promise<T[]> {
    for await (const page of iterate) {
      const got = items(page);
      out.push(...got);
      counted.page++;
      counted.items += got.length;
      this.progress({ subject, operation: apiName(operation), page: counted.page, items: counted.items, unit });
      if (hasNextPage(page)) this.mayStart(operation, about, `page ${counted.page + 1} and later not read`);
    }
    return out;
  }

  private progress(p: ReadProgress): void {
    this.options.onProgress?.(p);
  }

  /** Remembers that subnets (and a VPC) belong to a cluster, for the progress lines. */
  private seen(cluster: string, subnetIds: readonly (string | undefined)[], vpcId?: string): void {
    if (!this.options.onProgress) return;
    const add = (map: Map<string, Set<string>>, key: string | undefined) => {
      if (key) map.set(key, (map.get(key) ?? new Set()).add(cluster));
    };
    for (const id of subnetIds) add(this.clustersOfSubnet, id);
    add(this.clustersOfVpc, vpcId);
  }

  /** The clusters these subnets were seen for ("payments-prod"), else how many subnets. */
  private subjectOfSubnets(subnetIds: readonly string[]): string {
    const names = new Set(subnetIds.flatMap((id) => [...(this.clustersOfSubnet.get(id) ?? [])]));
    return names.size > 0 ? [...names].sort().join(', ') : `${subnetIds.length} subnet(s)`;
  }

  async listClusters(): Promise<string[]> {
    return this.read('eks:ListClusters', `in ${this.region}`, () =>
      this.pages(
        'eks:ListClusters',
        `in ${this.region}`,
        { subject: this.region, unit: 'clusters' },
        paginateListClusters({ client: this.clients.eks, pageSize: EKS_PAGE_SIZE_MAX }, {}, ...this.callOptions),
        (page) => page.clusters ?? [],
        [],
      ),
    );
  }

  async describeCluster(name: string): Promise<Cluster> {
    return this.read('eks:DescribeCluster', `for cluster ${name}`, async () => {
      const out = await this.clients.eks.send(new DescribeClusterCommand({ name }), ...this.callOptions);
      if (!out.cluster) throw new Error('the answer has no cluster');
      this.seen(name, out.cluster.resourcesVpcConfig?.subnetIds ?? [], out.cluster.resourcesVpcConfig?.vpcId);
      this.progress({ subject: name, operation: 'DescribeCluster' });
      return out.cluster;
    });
  }

  async describeNodegroups(clusterName: string): Promise<Nodegroup[]> {
    const names = await this.read('eks:ListNodegroups', `for cluster ${clusterName}`, () =>
      this.pages(
        'eks:ListNodegroups',
        `for cluster ${clusterName}`,
        { subject: clusterName, unit: 'nodegroups' },
        paginateListNodegroups({ client: this.clients.eks, pageSize: EKS_PAGE_SIZE_MAX }, { clusterName }, ...this.callOptions),
        (page) => page.nodegroups ?? [],
        [],
      ),
    );
    // EKS has no batch describe for nodegroups: one call per nodegroup (not per node).
    let described = 0;
    return Promise.all(
      names.map((nodegroupName) =>
        this.read('eks:DescribeNodegroup', `for nodegroup ${nodegroupName} of cluster ${clusterName}`, async () => {
          const out = await this.clients.eks.send(new DescribeNodegroupCommand({ clusterName, nodegroupName }), ...this.callOptions);
          if (!out.nodegroup) throw new Error('the answer has no nodegroup');
          this.seen(clusterName, out.nodegroup.subnets ?? []);
          this.progress({ subject: clusterName, operation: 'DescribeNodegroup', items: ++described, unit: `of ${names.length} nodegroups` });
          return out.nodegroup;
        }),
      ),
    );
  }

  async describeVpcCniAddon(clusterName: string): Promise<Addon | undefined> {
    return this.read('eks:DescribeAddon', `vpc-cni for cluster ${clusterName}`, async () => {
      try {
        const out = await this.clients.eks.send(new DescribeAddonCommand({ clusterName, addonName: 'vpc-cni' }), ...this.callOptions);
        this.progress({ subject: clusterName, operation: 'DescribeAddon' });
        return out.addon;
      } catch (err) {
        // Without the managed add-on, aws-node is self-managed: DescribeAddon answers
        // ResourceNotFoundException (EKS API reference, DescribeAddon errors).
        if (awsErrorCode(err) === 'ResourceNotFoundException') return undefined;
        throw err;
      }
    });
  }

  async describeSubnetsById(subnetIds: string[]): Promise<Subnet[]> {
    const ids = [...new Set(subnetIds)];
    if (ids.length === 0) return [];
    // Filtered on `subnet-id` rather than `SubnetIds`: see describeSubnetsById above.
    return this.ec2Pages('ec2:DescribeSubnets', ids, 'subnets', `for ${ids.join(', ')}`, (batch) =>
      paginateDescribeSubnets({ client: this.clients.ec2, pageSize: EC2_PAGE_SIZE_MAX }, { Filters: [{ Name: 'subnet-id', Values: batch }] }, ...this.callOptions),
      (page) => page.Subnets ?? [],
    );
  }

  async describeSubnetsByTagKey(vpcId: string, tagKey: string): Promise<Subnet[]> {
    const subject = [...(this.clustersOfVpc.get(vpcId) ?? [])].sort().join(', ') || vpcId;
    return this.read('ec2:DescribeSubnets', `tagged ${tagKey} in ${vpcId}`, async () => {
      const filters: Filter[] = [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'tag-key', Values: [tagKey] },
      ];
      const out = await this.pages(
        'ec2:DescribeSubnets',
        `tagged ${tagKey} in ${vpcId}`,
        { subject, unit: 'subnets' },
        paginateDescribeSubnets({ client: this.clients.ec2, pageSize: EC2_PAGE_SIZE_MAX }, { Filters: filters }, ...this.callOptions),
        (page) => page.Subnets ?? [],
        [] as Subnet[],
      );
      for (const cluster of this.clustersOfVpc.get(vpcId) ?? []) this.seen(cluster, out.map((s) => s.SubnetId));
      return out;
    });
  }

  async describeNetworkInterfaces(subnetIds: string[]): Promise<NetworkInterface[]> {
    const ids = [...new Set(subnetIds)];
    return this.ec2Pages('ec2:DescribeNetworkInterfaces', ids, 'ENIs', `for ${ids.length} subnet(s)`, (batch) =>
      paginateDescribeNetworkInterfaces(
        { client: this.clients.ec2, pageSize: EC2_PAGE_SIZE_MAX },
        { Filters: [{ Name: 'subnet-id', Values: batch }] },
        ...this.callOptions,
      ),
      (page) => (this.keep === 'measured' ? (page.NetworkInterfaces ?? []).map(trimNetworkInterface) : (page.NetworkInterfaces ?? [])),
    );
  }

  async describeClusterInstances(clusterName: string): Promise<Instance[]> {
    return this.read('ec2:DescribeInstances', `tagged kubernetes.io/cluster/${clusterName}`, () =>
      this.pages(
        'ec2:DescribeInstances',
        `tagged kubernetes.io/cluster/${clusterName}`,
        { subject: clusterName, unit: 'instances' },
        paginateDescribeInstances(
          { client: this.clients.ec2, pageSize: EC2_PAGE_SIZE_MAX },
          {
            Filters: [
              { Name: 'tag-key', Values: [clusterTagKey(clusterName)] },
              { Name: 'instance-state-name', Values: ['pending', 'running'] },
            ],
          },
          ...this.callOptions,
        ),
        (page) =>
          (page.Reservations ?? []).flatMap((r) =>
            (r.Instances ?? []).map((i) => {
              this.seen(clusterName, [i.SubnetId, ...(i.NetworkInterfaces ?? []).map((ni) => ni.SubnetId)]);
              return this.keep === 'measured' ? trimInstance(i) : i;
            }),
          ),
        [] as Instance[],
      ),
    );
  }

  async describeInstanceTypes(instanceTypes: string[]): Promise<{ found: InstanceTypeInfo[]; unknown: string[] }> {
    const wanted = [...new Set(instanceTypes)];
    const missing = wanted.filter((t) => !this.instanceTypeCache.has(t));
    const counted = { page: 0, items: 0 };
    for (const batch of chunk(missing, INSTANCE_TYPES_PER_CALL_MAX)) {
      await this.fetchInstanceTypes(batch, counted);
    }
    const found: InstanceTypeInfo[] = [];
    const unknown: string[] = [];
    for (const t of wanted) {
      const info = this.instanceTypeCache.get(t);
      if (info) found.push(info);
      else unknown.push(t);
    }
    return { found, unknown };
  }

  /**
   * DescribeInstanceTypes for up to 100 types. EC2 fails the whole request when
   * one type does not exist (InvalidInstanceType, "The following supplied instance types do
   * not exist: [x.y]"), so the unknown ones are remembered and the rest asked again.
   * The answer is paginated like any EC2 describe (MaxResults 5-100, NextToken), so every page
   * is read: a type on a later page must not be taken for unknown.
   */
  private async fetchInstanceTypes(batch: string[], counted: { page: number; items: number }): Promise<void> {
    let remaining = batch;
    for (let attempt = 0; remaining.length > 0 && attempt < 3; attempt++) {
      const subject = `for ${remaining.join(', ')}`;
      this.mayStart('ec2:DescribeInstanceTypes', subject);
      try {
        const answered = await this.pages(
          'ec2:DescribeInstanceTypes',
          subject,
          { subject: this.region, unit: 'instance types' },
          paginateDescribeInstanceTypes(
            { client: this.clients.ec2, pageSize: INSTANCE_TYPES_PER_CALL_MAX },
            { InstanceTypes: remaining as _InstanceType[] },
            ...this.callOptions,
          ),
          (page) => page.InstanceTypes ?? [],
          [] as InstanceTypeInfo[],
          counted,
        );
        for (const info of answered) {
          if (info.InstanceType) this.instanceTypeCache.set(info.InstanceType, info);
        }
        // Anything asked for and not answered is unknown to this region.
        for (const t of remaining) if (!this.instanceTypeCache.has(t)) this.instanceTypeCache.set(t, null);
        return;
      } catch (err) {
        const code = awsErrorCode(err);
        if (code === 'InvalidInstanceType') {
          const named = parseUnknownInstanceTypes(messageOf(err)).filter((t) => remaining.includes(t));
          if (named.length > 0) {
            for (const t of named) this.instanceTypeCache.set(t, null);
            remaining = remaining.filter((t) => !named.includes(t));
            continue;
          }
        }
        throw this.failure('ec2:DescribeInstanceTypes', subject, err);
      }
    }
  }

  /**
   * Runs a paginated EC2 describe for subnet ids, 200 filter values at a time, and concatenates
   * the items; the pages are counted across the batches, for the cluster(s) of the subnets.
   */
  private async ec2Pages<P, T>(
    operation: string,
    subnetIds: string[],
    unit: string,
    about: string,
    paginate: (ids: string[]) => AsyncIterable<P>,
    items: (page: P) => T[],
  ): Promise<T[]> {
    const subject = this.subjectOfSubnets(subnetIds);
    return this.read(operation, about, async () => {
      const out: T[] = [];
      const counted = { page: 0, items: 0 };
      for (const batch of chunk(subnetIds, EC2_FILTER_VALUES_MAX)) {
        if (counted.page > 0) this.mayStart(operation, about, `page ${counted.page + 1} and later not read`);
        await this.pages(operation, about, { subject, unit }, paginate(batch), items, out, counted);
      }
      return out;
    });
  }
}

/** The instance types named by an InvalidInstanceType message: "... do not exist: [a.b, c.d]". */
export function parseUnknownInstanceTypes(message: string): string[] {
  const m = /\[([^\]]*)\]/.exec(message);
  if (!m || m[1] === undefined) return [];
  return m[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
