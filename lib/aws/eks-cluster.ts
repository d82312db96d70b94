/**
 * DescribeCluster for the executors that write through the cluster's Kubernetes API: the
 * connector (lib/kube) needs the cluster's endpoint and certificate authority.
 */
import { DescribeClusterCommand, type Cluster, type EKSClient } from '@aws-sdk/client-eks';
import { withAwsCall } from '../errors';

/** The cluster as DescribeCluster answers it; throws an AwsCallError naming the call. */
export async function describeEksCluster(eks: EKSClient, name: string): Promise<Cluster> {
  const out = await withAwsCall('eks:DescribeCluster', `of cluster ${name}`, () => eks.send(new DescribeClusterCommand({ name })));
  if (!out.cluster) throw new Error(`eks:DescribeCluster of cluster ${name}: EKS answered no cluster`);
  return out.cluster;
}
