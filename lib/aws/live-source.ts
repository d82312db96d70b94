/**
 * The live inventory source: the AWS reads the collector needs, each paginated at the largest page
 * size the API allows, so that the number of calls grows with result pages, never with nodes or
 * ENIs. Subnets and instance types are read through their providers (lib/aws/subnets.ts,
 * lib/aws/instance-types.ts), the vpc-cni add-on through lib/aws/addon.ts. Every failure is an
 * `AwsCallError` naming the operation and what it was for. {@link LiveSource.forCycle} binds the
 * reads to a cycle's deadline and progress (docs/architecture.md, "The live source").
 */
import {
  DescribeDhcpOptionsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  paginateDescribeInstances,
  paginateDescribeNetworkInterfaces,
  paginateDescribeRouteTables,
  paginateDescribeSecurityGroups,
  paginateDescribeVpcEndpoints,
  type EC2Client,
  type EC2PaginationConfiguration,
  type Instance,
  type InstanceTypeInfo,
  type NetworkInterface,
  type Subnet,
  type SubnetCidrReservation,
} from '@aws-sdk/client-ec2';
import {
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  paginateListClusters,
  paginateListNodegroups,
  type Addon,
  type Cluster,
  type EKSClient,
  type Nodegroup,
} from '@aws-sdk/client-eks';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { CycleDeadlineError, type CycleDeadline } from '../deadline';
import { awsCallError, type AwsCallError } from '../errors';
import { PartialReadError, type EniReadOptions, type InventorySource, type RegionLimitsSource, type SecurityGroup, type VpcNetwork, type VpcNetworkPiece } from '../inventory/types';
import type { KubernetesReader } from '../inventory/kube-types';
import { CLUSTER_TAG_PREFIX, EKS_CLUSTER_NAME_TAG_KEY } from '../names';
import { describeVpcCniAddon } from './addon';
import { chunk } from './chunk';
import { mapLimit } from '../map-limit';
import { Ec2InstanceTypeProvider, type InstanceTypeProvider } from './instance-types';
import { EC2_FILTER_VALUES_MAX, EC2_PAGE_SIZE_MAX, EKS_PAGE_SIZE_MAX, ROUTE_TABLES_PAGE_SIZE_MAX, VPC_ENDPOINTS_PAGE_SIZE_MAX } from './limits';
import { hasNextPage, type ReadHooks } from './read-hooks';
import { AwsRegionLimits } from './region-limits';
import { Ec2SubnetProvider, type SubnetProvider } from './subnets';
import { RESERVATION_READS_AT_ONCE, subnetCidrReservationsOf } from './subnet-cidr-reservations';
import { READ_LANES, subnetLanes } from './read-lanes';
import { isTrimmed, streamingEc2Pages, type StreamedOperation } from './ec2-stream';
import { trimInstance, trimNetworkInterface } from './trim';

export { parseUnknownInstanceTypes } from './instance-types';

/** The tag every node of a cluster carries (EKS user guide, managed node groups; Karpenter; eksctl). */
export function clusterTagKey(clusterName: string): string {
  return `${CLUSTER_TAG_PREFIX}${clusterName}`;
}

/** The providers a live source reads subnets and instance types through (one per AWS concern). */
export interface LiveSourceProviders {
  subnets: SubnetProvider;
  instanceTypes: InstanceTypeProvider;
}

/** Providers over an EC2 client, the instance types cached with the default policy (lib/aws/instance-types.ts). */
export function ec2Providers(ec2: EC2Client): LiveSourceProviders {
  return { subnets: new Ec2SubnetProvider(ec2), instanceTypes: new Ec2InstanceTypeProvider(ec2) };
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
  /** The Kubernetes reader of this view (the CLI's `--kubernetes`), in place of the source's own. */
  kubernetes?: KubernetesReader;
}

/** The problem source of the VPC network read when its failure names no operation. */
const READ_OPERATION_VPC_NETWORK = 'ec2:DescribeVpcNetwork';

/** `ec2:DescribeSubnets` → `DescribeSubnets`. */
const apiName = (operation: string): string => operation.slice(operation.indexOf(':') + 1);

/** Clusters' EKS and EC2 state from the live account. One per container: its providers cache instance types. */
export class LiveSource implements InventorySource {
  /** The clusters each subnet and VPC was seen for, to name the subject of subnet reads in progress. */
  private readonly clustersOfSubnet = new Map<string, Set<string>>();
  private readonly clustersOfVpc = new Map<string, Set<string>>();

  constructor(
    /**
     * With `serviceQuotas` and `cloudwatch`, the source also makes the region-level reads
     * ({@link regionLimits}: the ENI quota, the region's ENIs, the NAU metrics).
     */
    private readonly clients: { ec2: EC2Client; eks: EKSClient; serviceQuotas?: ServiceQuotasClient | undefined; cloudwatch?: CloudWatchClient | undefined },
    readonly region: string,
    /** 'measured': keep only the fields the pipeline reads (the Lambda functions); 'all': everything (capture). */
    private readonly keep: 'all' | 'measured' = 'all',
    private readonly options: LiveSourceOptions = {},
    /**
     * Subnets and instance types: each view of {@link forCycle} shares its source's (and the
     * composition root gives the executors the same subnet provider). By default, over `clients.ec2`.
     */
    readonly providers: LiveSourceProviders = ec2Providers(clients.ec2),
    /** Reads each cluster's Kubernetes API (lib/kube/reader.ts); absent: Kubernetes is not read. */
    private readonly kubernetesReader?: KubernetesReader,
  ) {}

  /** The Kubernetes reader, its reads bound by this view's deadline unless the caller passes one. */
  get kubernetes(): KubernetesReader | undefined {
    const reader = this.options.kubernetes ?? this.kubernetesReader;
    if (!reader) return undefined;
    const at = this.options.deadline?.at;
    return { read: (cluster, options) => reader.read(cluster, { ...(at !== undefined ? { deadlineAt: at } : {}), ...options }) };
  }

  /**
   * The same source for one cycle: its reads bound by the cycle's deadline and reported to its
   * progress; the providers (the instance-type cache, the container's) are shared.
   */
  forCycle(options: LiveSourceOptions): LiveSource {
    return new LiveSource(this.clients, this.region, this.keep, options, this.providers, this.kubernetesReader);
  }

  /**
   * The region-level reads through this view's deadline and progress; absent
   * without the Service Quotas and CloudWatch clients.
   */
  get regionLimits(): RegionLimitsSource | undefined {
    const { ec2, serviceQuotas, cloudwatch } = this.clients;
    if (!serviceQuotas || !cloudwatch) return undefined;
    return new AwsRegionLimits({ ec2, serviceQuotas, cloudwatch }, (operation, unit) => this.hooks(operation, { subject: this.region, unit }), this.keep === 'measured');
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

  /** Reads every page of a paginated call into `out`, each watched by {@link pageWatch}. */
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
    const onPage = this.pageWatch(operation, { subject, unit }, counted);
    for await (const page of iterate) {
      const got = items(page);
      out.push(...got);
      onPage({ items: got.length, more: hasNextPage(page), about });
    }
    return out;
  }

  /**
   * After each page of a read: counts pages and items for the progress (`counted` goes on across
   * the batches of one read). Before asking for another page it checks the deadline; a cut drops
   * the pages read with the rest (part of a list is no figure).
   */
  private pageWatch(operation: string, { subject, unit }: { subject: string; unit: string }, counted = { page: 0, items: 0 }): NonNullable<ReadHooks['onPage']> {
    return ({ items, more, about }) => {
      counted.page++;
      counted.items += items;
      this.progress({ subject, operation: apiName(operation), page: counted.page, items: counted.items, unit });
      if (more) this.mayStart(operation, about, `page ${counted.page + 1} and later not read`);
    };
  }

  /** The hooks of one provider read: this view's deadline (abort signal, cut, failure) and progress. */
  private hooks(operation: string, progress: { subject: string; unit: string }): ReadHooks {
    return {
      ...(this.options.deadline ? { abortSignal: this.options.deadline.signal } : {}),
      beforeRequest: (about) => this.mayStart(operation, about),
      onPage: this.pageWatch(operation, progress),
      failure: (about, err) => this.failure(operation, about, err),
    };
  }

  /**
   * 'measured': the paginator's `withCommand` that reads the 2xx pages straight into the trimmed
   * shapes (lib/aws/ec2-stream.ts); 'all' (capture): none, the SDK's full objects.
   */
  private streaming(operation: StreamedOperation): Pick<EC2PaginationConfiguration, 'withCommand'> {
    return this.keep === 'measured' ? { withCommand: streamingEc2Pages(operation) } : {};
  }

  /** A page's items as this source keeps them: trimmed when 'measured' (as they come from the streaming read, or by `trim`). */
  private trimmed<T>(items: T[] | undefined, trim: (item: T) => T): T[] {
    if (!items) return [];
    return this.keep === 'measured' && !isTrimmed(items) ? items.map(trim) : items;
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
      const out = await describeVpcCniAddon(this.clients.eks, clusterName, this.options.deadline?.signal);
      if (out === undefined) return undefined;
      this.progress({ subject: clusterName, operation: 'DescribeAddon' });
      return out.addon;
    });
  }

  async describeSubnetsById(subnetIds: string[]): Promise<Subnet[]> {
    const ids = [...new Set(subnetIds)];
    if (ids.length === 0) return [];
    return this.providers.subnets.byId(ids, this.hooks('ec2:DescribeSubnets', { subject: this.subjectOfSubnets(ids), unit: 'subnets' }));
  }

  async describeSubnetsByTagKey(vpcId: string, tagKey: string): Promise<Subnet[]> {
    const subject = [...(this.clustersOfVpc.get(vpcId) ?? [])].sort().join(', ') || vpcId;
    const out = await this.providers.subnets.byTagKey(vpcId, tagKey, this.hooks('ec2:DescribeSubnets', { subject, unit: 'subnets' }));
    for (const cluster of this.clustersOfVpc.get(vpcId) ?? []) this.seen(cluster, out.map((s) => s.SubnetId));
    return out;
  }

  async describeNetworkInterfaces(subnetIds: string[], options?: EniReadOptions): Promise<NetworkInterface[]> {
    const ids = [...new Set(subnetIds)];
    // A large read in lanes side by side (lib/aws/read-lanes.ts), sized by the nodes' ENIs.
    const lanes = subnetLanes(ids, options?.enisExpected);
    return this.ec2Pages('ec2:DescribeNetworkInterfaces', ids, 'ENIs', `for ${ids.length} subnet(s)`, lanes, (batch) =>
      paginateDescribeNetworkInterfaces(
        { client: this.clients.ec2, pageSize: EC2_PAGE_SIZE_MAX, ...this.streaming('DescribeNetworkInterfaces') },
        { Filters: [{ Name: 'subnet-id', Values: batch }] },
        ...this.callOptions,
      ),
      (page) => this.trimmed(page.NetworkInterfaces, trimNetworkInterface),
    );
  }

  async describeClusterInstances(clusterName: string, options?: { autoMode?: boolean }): Promise<Instance[]> {
    const byClusterTag = await this.instancesTagged(clusterName, `tagged kubernetes.io/cluster/${clusterName}`, {
      Name: 'tag-key',
      Values: [clusterTagKey(clusterName)],
    });
    if (options?.autoMode !== true) return byClusterTag;
    // EC2 filters are ANDed: the Auto Mode tag is a second read (only for Auto Mode clusters), merged by instance id.
    const byEksTag = await this.instancesTagged(clusterName, `tagged ${EKS_CLUSTER_NAME_TAG_KEY}=${clusterName}`, {
      Name: `tag:${EKS_CLUSTER_NAME_TAG_KEY}`,
      Values: [clusterName],
    });
    const seen = new Set(byClusterTag.map((i) => i.InstanceId));
    return [...byClusterTag, ...byEksTag.filter((i) => !seen.has(i.InstanceId))];
  }

  /** Pending or running instances matching one tag filter, every page. */
  private async instancesTagged(clusterName: string, about: string, filter: { Name: string; Values: string[] }): Promise<Instance[]> {
    return this.read('ec2:DescribeInstances', about, () =>
      this.pages(
        'ec2:DescribeInstances',
        about,
        { subject: clusterName, unit: 'instances' },
        paginateDescribeInstances(
          { client: this.clients.ec2, pageSize: EC2_PAGE_SIZE_MAX, ...this.streaming('DescribeInstances') },
          { Filters: [filter, { Name: 'instance-state-name', Values: ['pending', 'running'] }] },
          ...this.callOptions,
        ),
        (page) =>
          (page.Reservations ?? []).flatMap((r) =>
            this.trimmed(r.Instances, trimInstance).map((i) => {
              this.seen(clusterName, [i.SubnetId, ...(i.NetworkInterfaces ?? []).map((ni) => ni.SubnetId)]);
              return i;
            }),
          ),
        [] as Instance[],
      ),
    );
  }

  /**
   * The instances with these ids, in any state, by the `instance-id` filter (200 values a call, every
   * page): the InstanceIds parameter would fail the whole call with InvalidInstanceID.NotFound for
   * one id EC2 no longer knows ("If you specify an instance ID that is not valid, an error is
   * returned", EC2 API reference, DescribeInstances), where a filter only matches. A terminated
   * instance stays visible for about an hour ("Terminated instances remain visible after
   * termination (for approximately one hour)", EC2 API reference, TerminateInstances).
   */
  async describeInstancesById(instanceIds: string[]): Promise<Instance[]> {
    const ids = [...new Set(instanceIds)];
    const about = `${ids.length} instance(s) named by available VPC CNI ENIs`;
    return this.read('ec2:DescribeInstances', about, async () => {
      const out: Instance[] = [];
      const counted = { page: 0, items: 0 };
      for (const batch of chunk(ids, EC2_FILTER_VALUES_MAX)) {
        if (counted.page > 0) this.mayStart('ec2:DescribeInstances', about, `page ${counted.page + 1} and later not read`);
        await this.pages(
          'ec2:DescribeInstances',
          about,
          { subject: this.region, unit: 'instances' },
          paginateDescribeInstances(
            { client: this.clients.ec2, pageSize: EC2_PAGE_SIZE_MAX, ...this.streaming('DescribeInstances') },
            { Filters: [{ Name: 'instance-id', Values: batch }] },
            ...this.callOptions,
          ),
          (page) => (page.Reservations ?? []).flatMap((r) => this.trimmed(r.Instances, trimInstance)),
          out,
          counted,
        );
      }
      return out;
    });
  }

  async describeInstanceTypes(instanceTypes: string[]): Promise<{ found: InstanceTypeInfo[]; unknown: string[] }> {
    return this.providers.instanceTypes.get(instanceTypes, this.hooks('ec2:DescribeInstanceTypes', { subject: this.region, unit: 'instance types' }));
  }

  /**
   * The network of a VPC in 7 calls at most (more only past a page of 100 route tables or 1,000
   * endpoints): DescribeVpcs, DescribeVpcAttribute ×2 (one attribute per call), DescribeDhcpOptions,
   * DescribeRouteTables and DescribeVpcEndpoints by vpc-id, and DescribeSecurityGroups of the
   * interface endpoints' groups in one request. A piece that fails is left out and named in a
   * PartialReadError (the first failure's operation and code); the others are kept.
   */
  async describeVpcNetwork(vpcId: string): Promise<VpcNetwork> {
    const subject = [...(this.clustersOfVpc.get(vpcId) ?? [])].sort().join(', ') || vpcId;
    const about = `of VPC ${vpcId}`;
    const failures: { piece: VpcNetworkPiece; err: unknown }[] = [];
    const attempt = async <T>(piece: VpcNetworkPiece, fn: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await fn();
      } catch (err) {
        failures.push({ piece, err });
        return undefined;
      }
    };
    const one = <T>(operation: string, fn: () => Promise<T>): Promise<T> =>
      this.read(operation, about, async () => {
        const out = await fn();
        this.progress({ subject, operation: apiName(operation) });
        return out;
      });
    // "You can specify only one attribute at a time" (EC2 API reference, DescribeVpcAttribute,
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcAttribute.html).
    const attribute = (Attribute: 'enableDnsSupport' | 'enableDnsHostnames') =>
      one('ec2:DescribeVpcAttribute', () => this.clients.ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute }), ...this.callOptions));
    const vpcFilter = [{ Name: 'vpc-id', Values: [vpcId] }];

    const [vpc, dnsSupport, dnsHostnames, routeTables, endpoints] = await Promise.all([
      attempt('vpc', async () => {
        const out = await one('ec2:DescribeVpcs', () => this.clients.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }), ...this.callOptions));
        const found = out.Vpcs?.find((v) => v.VpcId === vpcId);
        if (!found) throw new Error(`DescribeVpcs did not return ${vpcId}`);
        return found;
      }),
      attempt('enableDnsSupport', () => attribute('enableDnsSupport')),
      attempt('enableDnsHostnames', () => attribute('enableDnsHostnames')),
      attempt('routeTables', () =>
        this.read('ec2:DescribeRouteTables', about, () =>
          this.pages(
            'ec2:DescribeRouteTables',
            about,
            { subject, unit: 'route tables' },
            paginateDescribeRouteTables({ client: this.clients.ec2, pageSize: ROUTE_TABLES_PAGE_SIZE_MAX }, { Filters: vpcFilter }, ...this.callOptions),
            (page) => page.RouteTables ?? [],
            [],
          ),
        ),
      ),
      attempt('endpoints', () =>
        this.read('ec2:DescribeVpcEndpoints', about, () =>
          this.pages(
            'ec2:DescribeVpcEndpoints',
            about,
            { subject, unit: 'VPC endpoints' },
            paginateDescribeVpcEndpoints({ client: this.clients.ec2, pageSize: VPC_ENDPOINTS_PAGE_SIZE_MAX }, { Filters: vpcFilter }, ...this.callOptions),
            (page) => page.VpcEndpoints ?? [],
            [],
          ),
        ),
      ),
    ]);
    const dhcpId = vpc?.DhcpOptionsId;
    const groupIds = [...new Set((endpoints ?? []).flatMap((e) => (e.Groups ?? []).map((g) => g.GroupId ?? '')).filter((id) => id !== ''))].sort();
    const [dhcpOptions, securityGroups] = await Promise.all([
      // `default` names no set: the VPC has no DHCP options (EC2 user guide, DHCP option sets).
      dhcpId && dhcpId !== 'default'
        ? attempt('dhcpOptions', async () => {
            const out = await one('ec2:DescribeDhcpOptions', () => this.clients.ec2.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: [dhcpId] }), ...this.callOptions));
            return out.DhcpOptions?.find((d) => d.DhcpOptionsId === dhcpId);
          })
        : undefined,
      groupIds.length > 0
        ? attempt('securityGroups', () => this.securityGroupsById(groupIds, about, subject))
        : endpoints
          ? Promise.resolve([])
          : undefined,
    ]);
    // The DHCP options are unknown when the VPC record (which names them) was not read.
    if (!vpc && !failures.some((f) => f.piece === 'dhcpOptions')) failures.push({ piece: 'dhcpOptions', err: undefined });
    if (!endpoints) failures.push({ piece: 'securityGroups', err: undefined });
    const network: VpcNetwork = {
      vpcId,
      ...(vpc ? { vpc } : {}),
      ...(dnsSupport?.EnableDnsSupport?.Value !== undefined ? { enableDnsSupport: dnsSupport.EnableDnsSupport.Value } : {}),
      ...(dnsHostnames?.EnableDnsHostnames?.Value !== undefined ? { enableDnsHostnames: dnsHostnames.EnableDnsHostnames.Value } : {}),
      ...(dhcpOptions ? { dhcpOptions } : {}),
      ...(routeTables ? { routeTables } : {}),
      ...(endpoints ? { endpoints } : {}),
      ...(securityGroups ? { securityGroups } : {}),
    };
    const first = failures.find((f) => f.err !== undefined);
    if (first) {
      const err = first.err as AwsCallError;
      throw new PartialReadError(
        err.operation ?? READ_OPERATION_VPC_NETWORK,
        network,
        failures.map((f) => f.piece),
        failures.filter((f) => f.err !== undefined).map((f) => (f.err as Error).message).join('; '),
        err.code,
        { cause: first.err },
      );
    }
    return network;
  }

  /**
   * The clusters' security groups (kube-access): one DescribeSecurityGroups by the `group-id` filter
   * for every cluster at once (batched at the filter's value limit, paginated at the maximum page
   * size), so an id that is gone is left out instead of failing the call as GroupIds would.
   */
  async describeSecurityGroups(groupIds: string[]): Promise<SecurityGroup[]> {
    if (groupIds.length === 0) return [];
    return this.securityGroupsById([...groupIds].sort(), 'of the clusters', this.region);
  }

  /** DescribeSecurityGroups by the `group-id` filter, batched and paged (`about`, `subject`: as ec2Pages names them). */
  private securityGroupsById(groupIds: string[], about: string, subject: string): Promise<SecurityGroup[]> {
    return this.ec2Pages(
      'ec2:DescribeSecurityGroups',
      groupIds,
      'security groups',
      about,
      chunk(groupIds, EC2_FILTER_VALUES_MAX),
      (batch) =>
        paginateDescribeSecurityGroups(
          { client: this.clients.ec2, pageSize: EC2_PAGE_SIZE_MAX },
          { Filters: [{ Name: 'group-id', Values: batch }] },
          ...this.callOptions,
        ),
      (page) => page.SecurityGroups ?? [],
      subject,
    );
  }

  /**
   * One GetSubnetCidrReservations per subnet (the API takes one SubnetId: lib/aws/subnet-cidr-reservations.ts),
   * a few at once. A subnet whose read fails leaves the others: they come in a PartialReadError
   * naming the unread subnets; when every read fails, the first failure is thrown.
   */
  async getSubnetCidrReservations(subnetIds: string[]): Promise<SubnetCidrReservation[]> {
    const ids = [...new Set(subnetIds)];
    const operation = 'ec2:GetSubnetCidrReservations';
    const subject = this.subjectOfSubnets(ids);
    const counted = { page: 0, items: 0 };
    type Result = { ok: true; value: SubnetCidrReservation[] } | { ok: false; id: string; err: AwsCallError };
    const results = await mapLimit(ids, RESERVATION_READS_AT_ONCE, async (id): Promise<Result> => {
      try {
        const value = await this.read(operation, `for subnet ${id}`, () =>
          subnetCidrReservationsOf(this.clients.ec2, id, {
            ...(this.options.deadline ? { abortSignal: this.options.deadline.signal } : {}),
            onPage: (more) => {
              counted.page++;
              this.progress({ subject, operation: 'GetSubnetCidrReservations', page: counted.page, items: counted.items, unit: 'reservations' });
              if (more) this.mayStart(operation, `for subnet ${id}`, `page ${counted.page + 1} and later not read`);
            },
          }),
        );
        counted.items += value.length;
        return { ok: true, value };
      } catch (err) {
        return { ok: false, id, err: err as AwsCallError };
      }
    });
    const failed = results.filter((r): r is Extract<Result, { ok: false }> => !r.ok);
    const read = results.flatMap((r) => (r.ok ? r.value : []));
    if (failed.length === 0) return read;
    const first = failed[0]!.err;
    if (failed.length === ids.length) throw first;
    throw new PartialReadError(
      operation,
      read,
      failed.map((f) => f.id).sort(),
      `${failed.length} of ${ids.length} subnet(s) not read: ${first.message}`,
      first.code,
      { cause: first },
    );
  }

  /**
   * Runs a paginated EC2 describe for each filter of `groups` (at most 200 values each; up to
   * READ_LANES at once: lib/aws/read-lanes.ts) and concatenates the items in the groups' order;
   * the pages are counted across the groups, for the cluster(s) of the subnets.
   */
  private async ec2Pages<P, T>(
    operation: string,
    subnetIds: string[],
    unit: string,
    about: string,
    groups: string[][],
    paginate: (ids: string[]) => AsyncIterable<P>,
    items: (page: P) => T[],
    /** Whom the read is for in the progress; by default the cluster(s) of the ids as subnets. */
    subjectOverride?: string,
  ): Promise<T[]> {
    const subject = subjectOverride ?? this.subjectOfSubnets(subnetIds);
    return this.read(operation, about, async () => {
      const counted = { page: 0, items: 0 };
      const read = await mapLimit(groups, READ_LANES, async (group) => {
        if (counted.page > 0) this.mayStart(operation, about, `page ${counted.page + 1} and later not read`);
        return this.pages(operation, about, { subject, unit }, paginate(group), items, [] as T[], counted);
      });
      return read.length === 1 ? read[0]! : read.flat();
    });
  }
}
