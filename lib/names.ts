/**
 * Names and tags that several layers read: EKS names, and the tags that tie AWS resources to a
 * cluster, to the VPC CNI or to the responder's own changes. A leaf: it imports nothing, so that
 * a stage and an adapter can agree on a name without importing each other (docs/architecture.md).
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
/** `1` opts a subnet in for new ENIs; `0` excludes it (EKS user guide, cni-subnet-selection, "Tag values"). */
export const CNI_ROLE_TAG_VALUE = '1';
export const CNI_ROLE_TAG_EXCLUDED = '0';

/**
 * The tag a replacement nodegroup carries, naming the nodegroup it replaces: written by the
 * executor (lib/aws/nodegroup.ts), read by the planners (lib/plan/instance-types.ts) and required
 * by the responder's IAM policy (lib/policy/iam.ts).
 */
export const REPLACES_TAG_KEY = 'eks-ip-responder/replaces';

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
  describeInstancesById: 'ec2:DescribeInstances',
} as const;

/**
 * The tags and description the VPC CNI puts on the ENIs it creates (aws/amazon-vpc-cni-k8s@b52188387f2e
 * pkg/awsutils/awsutils.go: `eniNodeTagKey`, `eniClusterTagKey` (set when CLUSTER_NAME is),
 * `eniCreatedAtTagKey` (RFC 3339, set at CreateNetworkInterface and by the leaked-ENI cleanup on an
 * ENI without it), `eniDescriptionPrefix` + the instance id). Read by the leaked-ENI measure and
 * planner, by the per-cluster share of a subnet, and required by the delete's IAM condition.
 */
export const CNI_ENI_INSTANCE_TAG_KEY = 'node.k8s.amazonaws.com/instance_id';
export const CNI_ENI_CLUSTER_TAG_KEY = 'cluster.k8s.amazonaws.com/name';
export const CNI_ENI_CREATED_AT_TAG_KEY = 'node.k8s.amazonaws.com/createdAt';
export const CNI_ENI_DESCRIPTION_PREFIX = 'aws-K8S-';
