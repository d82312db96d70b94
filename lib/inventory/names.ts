/**
 * Names and tags that several stages read: EKS names, and the tags that tie AWS resources to a
 * cluster or to the VPC CNI.
 */

/**
 * EKS cluster and nodegroup names: "a letter or digit, then letters, digits, hyphens and
 * underscores", at most 100 characters (EKS CreateCluster / CreateNodegroup API reference).
 * Checked before a name becomes part of a snapshot path, so that a name like `../x` cannot read
 * outside the snapshot; the configuration and the policy check cluster names with it too.
 */
export const EKS_NAME_PATTERN = /^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$/;

/** The tag every node of a cluster carries, `kubernetes.io/cluster/<name>` (EKS user guide, managed node groups; Karpenter; eksctl). */
export const CLUSTER_TAG_PREFIX = 'kubernetes.io/cluster/';

/**
 * The tag the VPC CNI's subnet discovery (1.18+) looks for on subnets: `kubernetes.io/role/cni` = 1
 * (0 excludes) (https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html#network-requirements-subnets).
 */
export const CNI_ROLE_TAG_KEY = 'kubernetes.io/role/cni';

/**
 * The AWS operation each {@link InventorySource} read stands for: the `source` of the problem a
 * failure of that read leaves, and the `call` of a failed read recorded in a snapshot
 * (`failed-reads.json`, see `snapshot.ts`).
 */
export const READ_OPERATION = {
  listClusters: 'eks:ListClusters',
  describeCluster: 'eks:DescribeCluster',
  describeNodegroups: 'eks:DescribeNodegroup',
  describeVpcCniAddon: 'eks:DescribeAddon',
  describeSubnetsById: 'ec2:DescribeSubnets',
  describeSubnetsByTagKey: 'ec2:DescribeSubnets',
  describeNetworkInterfaces: 'ec2:DescribeNetworkInterfaces',
  describeClusterInstances: 'ec2:DescribeInstances',
  describeInstanceTypes: 'ec2:DescribeInstanceTypes',
} as const;
