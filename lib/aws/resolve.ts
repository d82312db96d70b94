/**
 * Maps what an event names (subnets, ENIs, instances) to the EKS clusters that own it, with
 * as few reads as the event needs: one DescribeNetworkInterfaces / DescribeInstances /
 * DescribeSubnets by id (filters, so an id that no longer exists is left out instead of failing
 * the call), then DescribeCluster for the candidate clusters.
 */
import {
  paginateDescribeInstances,
  paginateDescribeNetworkInterfaces,
  type EC2Client,
  type Tag,
} from '@aws-sdk/client-ec2';
import { withAwsCall } from '../errors';
import { CLUSTER_TAG_PREFIX } from '../names';
import type { InventorySource } from '../inventory/types';
import { chunk } from './chunk';
import { EC2_FILTER_VALUES_MAX, EC2_PAGE_SIZE_MAX } from './limits';

/** What an event is about. */
export interface EventSubjects {
  subnetIds: string[];
  networkInterfaceIds: string[];
  instanceIds: string[];
  /** A cluster named by the event itself (a request tag, a managed nodegroup's ASG). */
  clusterNameHint?: string;
}

export interface Resolution {
  clusters: string[];
  subnetIds: string[];
  /** How the clusters were found, for the log and the notification. */
  how: string;
}


const clusterFromTags = (tags: Tag[] | undefined): string | undefined => {
  const eks = tags?.find((t) => t.Key === 'eks:cluster-name')?.Value;
  if (eks) return eks;
  const k8s = tags?.find((t) => t.Key?.startsWith(CLUSTER_TAG_PREFIX))?.Key;
  return k8s?.slice(CLUSTER_TAG_PREFIX.length);
};

/**
 * Finds the clusters an event concerns. `candidates` are the clusters the responder watches
 * (configured, or ListClusters). A cluster named by the event is taken only if it is a candidate.
 */
export async function resolveClusters(
  ec2: EC2Client,
  source: InventorySource,
  subjects: EventSubjects,
  candidates: string[],
): Promise<Resolution> {
  const clusters = new Set<string>();
  const subnetIds = new Set(subjects.subnetIds);
  const hows: string[] = [];
  if (subjects.clusterNameHint && candidates.includes(subjects.clusterNameHint)) {
    clusters.add(subjects.clusterNameHint);
    hows.push(`named by the event (${subjects.clusterNameHint})`);
  }
  for (const ids of chunk([...new Set(subjects.instanceIds)], EC2_FILTER_VALUES_MAX)) {
    await withAwsCall('ec2:DescribeInstances', `for ${ids.join(', ')}`, async () => {
      for await (const page of paginateDescribeInstances(
        { client: ec2, pageSize: EC2_PAGE_SIZE_MAX },
        { Filters: [{ Name: 'instance-id', Values: ids }] },
      )) {
        for (const i of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
          const c = clusterFromTags(i.Tags);
          if (c && candidates.includes(c)) {
            clusters.add(c);
            hows.push(`instance ${i.InstanceId} is a node of ${c}`);
          }
          if (i.SubnetId) subnetIds.add(i.SubnetId);
        }
      }
    });
  }
  for (const ids of chunk([...new Set(subjects.networkInterfaceIds)], EC2_FILTER_VALUES_MAX)) {
    await withAwsCall('ec2:DescribeNetworkInterfaces', `for ${ids.join(', ')}`, async () => {
      for await (const page of paginateDescribeNetworkInterfaces(
        { client: ec2, pageSize: EC2_PAGE_SIZE_MAX },
        { Filters: [{ Name: 'network-interface-id', Values: ids }] },
      )) {
        for (const eni of page.NetworkInterfaces ?? []) if (eni.SubnetId) subnetIds.add(eni.SubnetId);
      }
    });
  }
  if (clusters.size === 0 && subnetIds.size > 0) {
    // No cluster named: the clusters whose VPC holds the subnets. A subnet may serve several
    // clusters of the VPC; each is sampled.
    const vpcs = new Set((await source.describeSubnetsById([...subnetIds])).flatMap((s) => (s.VpcId ? [s.VpcId] : [])));
    for (const name of candidates) {
      const cluster = await source.describeCluster(name);
      if (cluster.resourcesVpcConfig?.vpcId && vpcs.has(cluster.resourcesVpcConfig.vpcId)) {
        clusters.add(name);
        hows.push(`${name} is in ${cluster.resourcesVpcConfig.vpcId}`);
      }
    }
  }
  return { clusters: [...clusters].sort(), subnetIds: [...subnetIds].sort(), how: hows.join('; ') || 'no cluster owns what the event names' };
}
