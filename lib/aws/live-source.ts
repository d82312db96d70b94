/**
 * The live inventory source: the AWS reads the collector needs, each paginated with the
 * SDK's paginators at the largest page size the API allows, so that the number of calls
 * grows with result pages and never with nodes or ENIs.
 *
 * This is the only inventory code that calls `.send()`. Every failure is rethrown as an
 * `AwsCallError` naming the operation and what it was for.
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
import { awsCallError, awsErrorCode, messageOf, withAwsCall } from '../errors';
import type { InventorySource } from '../inventory/types';
import { CLUSTER_TAG_PREFIX } from '../inventory/names';
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

/** Splits a list into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
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

/** Clusters' EKS and EC2 state from the live account. One per container: it caches instance types. */
export class LiveSource implements InventorySource {
  private readonly instanceTypeCache = new Map<string, InstanceTypeInfo | null>();

  constructor(
    private readonly clients: { ec2: EC2Client; eks: EKSClient },
    readonly region: string,
    /** 'measured': keep only the fields the pipeline reads (the Lambda functions); 'all': everything (capture). */
    private readonly keep: 'all' | 'measured' = 'all',
  ) {}

  async listClusters(): Promise<string[]> {
    return withAwsCall('eks:ListClusters', `in ${this.region}`, async () => {
      const names: string[] = [];
      for await (const page of paginateListClusters({ client: this.clients.eks, pageSize: EKS_PAGE_SIZE_MAX }, {})) {
        names.push(...(page.clusters ?? []));
      }
      return names;
    });
  }

  async describeCluster(name: string): Promise<Cluster> {
    return withAwsCall('eks:DescribeCluster', `for cluster ${name}`, async () => {
      const out = await this.clients.eks.send(new DescribeClusterCommand({ name }));
      if (!out.cluster) throw new Error('the answer has no cluster');
      return out.cluster;
    });
  }

  async describeNodegroups(clusterName: string): Promise<Nodegroup[]> {
    const names = await withAwsCall('eks:ListNodegroups', `for cluster ${clusterName}`, async () => {
      const found: string[] = [];
      for await (const page of paginateListNodegroups(
        { client: this.clients.eks, pageSize: EKS_PAGE_SIZE_MAX },
        { clusterName },
      )) {
        found.push(...(page.nodegroups ?? []));
      }
      return found;
    });
    // EKS has no batch describe for nodegroups: one call per nodegroup (not per node).
    return Promise.all(
      names.map((nodegroupName) =>
        withAwsCall('eks:DescribeNodegroup', `for nodegroup ${nodegroupName} of cluster ${clusterName}`, async () => {
          const out = await this.clients.eks.send(new DescribeNodegroupCommand({ clusterName, nodegroupName }));
          if (!out.nodegroup) throw new Error('the answer has no nodegroup');
          return out.nodegroup;
        }),
      ),
    );
  }

  async describeVpcCniAddon(clusterName: string): Promise<Addon | undefined> {
    return withAwsCall('eks:DescribeAddon', `vpc-cni for cluster ${clusterName}`, async () => {
      try {
        const out = await this.clients.eks.send(new DescribeAddonCommand({ clusterName, addonName: 'vpc-cni' }));
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
    return describeSubnetsById(this.clients.ec2, subnetIds);
  }

  async describeSubnetsByTagKey(vpcId: string, tagKey: string): Promise<Subnet[]> {
    return withAwsCall('ec2:DescribeSubnets', `tagged ${tagKey} in ${vpcId}`, async () => {
      const out: Subnet[] = [];
      const filters: Filter[] = [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'tag-key', Values: [tagKey] },
      ];
      for await (const page of paginateDescribeSubnets(
        { client: this.clients.ec2, pageSize: EC2_PAGE_SIZE_MAX },
        { Filters: filters },
      )) {
        out.push(...(page.Subnets ?? []));
      }
      return out;
    });
  }

  async describeNetworkInterfaces(subnetIds: string[]): Promise<NetworkInterface[]> {
    return this.ec2Pages('ec2:DescribeNetworkInterfaces', subnetIds, (ids) =>
      paginateDescribeNetworkInterfaces(
        { client: this.clients.ec2, pageSize: EC2_PAGE_SIZE_MAX },
        { Filters: [{ Name: 'subnet-id', Values: ids }] },
      ),
      (page) => (this.keep === 'measured' ? (page.NetworkInterfaces ?? []).map(trimNetworkInterface) : (page.NetworkInterfaces ?? [])),
    );
  }

  async describeClusterInstances(clusterName: string): Promise<Instance[]> {
    return withAwsCall('ec2:DescribeInstances', `tagged kubernetes.io/cluster/${clusterName}`, async () => {
      const out: Instance[] = [];
      for await (const page of paginateDescribeInstances(
        { client: this.clients.ec2, pageSize: EC2_PAGE_SIZE_MAX },
        {
          Filters: [
            { Name: 'tag-key', Values: [clusterTagKey(clusterName)] },
            { Name: 'instance-state-name', Values: ['pending', 'running'] },
          ],
        },
      )) {
        for (const r of page.Reservations ?? []) {
          for (const i of r.Instances ?? []) out.push(this.keep === 'measured' ? trimInstance(i) : i);
        }
      }
      return out;
    });
  }

  async describeInstanceTypes(instanceTypes: string[]): Promise<{ found: InstanceTypeInfo[]; unknown: string[] }> {
    const wanted = [...new Set(instanceTypes)];
    const missing = wanted.filter((t) => !this.instanceTypeCache.has(t));
    for (const batch of chunk(missing, INSTANCE_TYPES_PER_CALL_MAX)) {
      await this.fetchInstanceTypes(batch);
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
  private async fetchInstanceTypes(batch: string[]): Promise<void> {
    let remaining = batch;
    for (let attempt = 0; remaining.length > 0 && attempt < 3; attempt++) {
      try {
        const answered: InstanceTypeInfo[] = [];
        for await (const page of paginateDescribeInstanceTypes(
          { client: this.clients.ec2, pageSize: INSTANCE_TYPES_PER_CALL_MAX },
          { InstanceTypes: remaining as _InstanceType[] },
        )) {
          answered.push(...(page.InstanceTypes ?? []));
        }
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
        throw awsCallError('ec2:DescribeInstanceTypes', `for ${remaining.join(', ')}`, err);
      }
    }
  }

  /** Runs a paginated EC2 describe for subnet ids, 200 filter values at a time, and concatenates the items. */
  private async ec2Pages<P, T>(
    operation: string,
    subnetIds: string[],
    paginate: (ids: string[]) => AsyncIterable<P>,
    items: (page: P) => T[],
  ): Promise<T[]> {
    const ids = [...new Set(subnetIds)];
    return withAwsCall(operation, `for ${ids.length} subnet(s)`, async () => {
      const out: T[] = [];
      for (const batch of chunk(ids, EC2_FILTER_VALUES_MAX)) {
        for await (const page of paginate(batch)) out.push(...items(page));
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
