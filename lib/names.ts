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
 * Tags on what the responder creates that is not a nodegroup (a subnet CIDR reservation): the
 * action that made it, and the write token of the record and step (lib/keys.ts): the executor finds
 * its own reservation again by it after a crash between the write and its record.
 */
export const ACTION_TAG_KEY = 'eks-ip-responder/action';
export const WRITE_TOKEN_TAG_KEY = 'eks-ip-responder/write-token';

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
  /** The network preflight's reads of one VPC (six EC2 calls: the failed one is the problem's `source`). */
  describeVpcNetwork: 'ec2:DescribeVpcNetwork',
  getSubnetCidrReservations: 'ec2:GetSubnetCidrReservations',
  describeInstancesById: 'ec2:DescribeInstances',
} as const;

/**
 * Tags of the nodes that Karpenter and EKS Auto Mode launch.
 *
 * Karpenter puts `kubernetes.io/cluster/<name>=owned`, `karpenter.sh/nodepool`, `eks:eks-cluster-name`
 * and `karpenter.k8s.aws/ec2nodeclass` on every instance it launches (aws/karpenter-provider-aws
 * @1d927085 pkg/utils/utils.go `GetTags`; keys in pkg/apis/v1/labels.go), and `karpenter.sh/nodeclaim`
 * once it is running (pkg/controllers/nodeclaim/tagging/controller.go).
 */
export const KARPENTER_NODEPOOL_TAG_KEY = 'karpenter.sh/nodepool';
export const KARPENTER_NODECLASS_TAG_KEY = 'karpenter.k8s.aws/ec2nodeclass';
export const KARPENTER_NODECLAIM_TAG_KEY = 'karpenter.sh/nodeclaim';
/**
 * The cluster tag Karpenter and EKS Auto Mode put on their instances (Karpenter: as above; Auto Mode:
 * the cluster role's AmazonEKSComputePolicy allows CreateFleet / RunInstances only with the request
 * tags `eks:eks-cluster-name`, `eks:kubernetes-node-class-name` and `eks:kubernetes-node-pool-name`,
 * EKS user guide "Learn about identity and access in EKS Auto Mode", Custom AWS tags for EKS Auto
 * resources: https://docs.aws.amazon.com/eks/latest/userguide/auto-learn-iam.html). Auto Mode's own
 * docs do not say that its instances carry `kubernetes.io/cluster/<name>`, so its nodes are also read
 * by this tag.
 */
export const EKS_CLUSTER_NAME_TAG_KEY = 'eks:eks-cluster-name';
/** The NodePool of an EKS Auto Mode node (see {@link EKS_CLUSTER_NAME_TAG_KEY}; EC2 Capacity Manager groups by it as "EKS Kubernetes node pool"). */
export const AUTO_MODE_NODEPOOL_TAG_KEY = 'eks:kubernetes-node-pool-name';
/** The NodeClass of an EKS Auto Mode node (see {@link EKS_CLUSTER_NAME_TAG_KEY}). */
export const AUTO_MODE_NODECLASS_TAG_KEY = 'eks:kubernetes-node-class-name';

/**
 * A subnet with a tag of this prefix, `cni.networking.k8s.aws/cluster/<name>` (any value), is used
 * by the VPC CNI (1.22.1+) only for the clusters named (aws/amazon-vpc-cni-k8s
 * pkg/awsutils/awsutils.go `clusterTagKeyPrefix`, CHANGELOG v1.22.1).
 */
export const CNI_CLUSTER_TAG_PREFIX = 'cni.networking.k8s.aws/cluster/';

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

/**
 * The Kubernetes groups the stack's access entries give the functions' roles (stack/kubernetes.stack.js,
 * `KubernetesGroups` of each `AWS::EKS::AccessEntry`), bound to the product's ClusterRoles and Roles by
 * `eks-ip-responder rbac` (lib/kube-rbac.ts; stack/kubernetes-rbac.yaml). A group name is the `name`
 * of a `kind: Group` subject of a (Cluster)RoleBinding (EKS user guide, "Review access policy
 * permissions": https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html).
 * Reader: both functions; writer: the responder only, with the stage param kubernetesWrite=true.
 */
export const KUBE_READER_GROUP = 'eks-ip-responder-reader';
export const KUBE_WRITER_GROUP = 'eks-ip-responder-writer';
