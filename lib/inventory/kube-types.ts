/**
 * The Kubernetes side of a cluster's inventory: what the cluster's API server says, read through
 * an EKS access entry (lib/kube, the adapter), trimmed to the fields used. Pure types and the
 * ports the adapter implements; the core reads these, never the API.
 * Design: docs/kubernetes.md
 */

/** Why the cluster's Kubernetes API could not be read. Each has a fix (docs/kubernetes.md). */
export type KubeAccessReason =
  /** The cluster is not among the stack's `kubernetesClusters`: no access entry was made for it. */
  | 'not-enabled'
  /** accessConfig.authenticationMode is CONFIG_MAP: access entries cannot be used. */
  | 'authentication-mode'
  /** 401: the token was refused (the function's role has no access entry in the cluster). */
  | 'no-access-entry'
  /** 403 on every read: the access entry exists but its Kubernetes group has no ClusterRole bound. */
  | 'forbidden'
  /** Public endpoint off and the function not placed in a VPC that reaches the private one. */
  | 'private-endpoint'
  /** The endpoint's host name did not resolve. */
  | 'dns'
  /** Connection refused or timed out (the cluster security group's 443 rule, routing, a CIDR allow-list). */
  | 'unreachable'
  /** The server's certificate did not verify against the cluster CA from DescribeCluster. */
  | 'tls'
  /** Anything else (a 5xx, a malformed answer, the cycle's deadline): `detail` names it. */
  | 'error';

/** Whether the Kubernetes API could be read; when not, why and what fixes it. */
export type KubeAccess =
  | { ok: true }
  | { ok: false; reason: KubeAccessReason; detail: string; fix: string };

/** A part of the Kubernetes view, as `unread` names it. */
export type KubePart = 'nodes' | 'pods' | 'events' | 'aws-node' | 'eniconfigs' | 'nodepools' | 'ec2nodeclasses';

/** A part that could not be read while others could (a 403 on one resource, a 410 twice, the deadline). */
export interface KubeUnread {
  part: KubePart;
  message: string;
  /** HTTP status when the server answered (403, 410, 500...). */
  status?: number;
}

/** One Node, trimmed. */
export interface KubeNode {
  name: string;
  /** From spec.providerID `aws:///<az>/<instance-id>`. */
  instanceId?: string;
  /** Label node.kubernetes.io/instance-type. */
  instanceType?: string;
  /** Label topology.kubernetes.io/zone. */
  zone?: string;
  /** Label eks.amazonaws.com/nodegroup (managed nodegroups). */
  nodegroup?: string;
  /** Label karpenter.sh/nodepool (Karpenter and EKS Auto Mode). */
  nodePool?: string;
  /** status.capacity.pods: the kubelet's max pods. */
  maxPods?: number;
  /** status.allocatable.pods. */
  allocatablePods?: number;
  ready?: boolean;
  createdAt?: string;
}

/** The pods of one node that matter for addresses (phase Pending or Running). */
export interface KubeNodePods {
  /** Pods not on the host network whose status.podIP is an IPv4 address: each holds one VPC address. */
  assignedIpv4: number;
  /** Pods not on the host network still without an address (sandbox not created yet). */
  awaitingIp: number;
  /** Pods on the host network: they use the node's address, not one of the CNI's. */
  hostNetwork: number;
}

/** What an IP-assignment failure event says went wrong. */
export type IpFailureCause =
  /** ipamd had no address to give (warm pool empty and none could be allocated: subnet full or ENI limit). */
  | 'no-free-address'
  /** ipamd could not be reached by the CNI plugin (aws-node not ready). */
  | 'ipamd-unreachable'
  /** Any other failed-to-assign message. */
  | 'other';

/** FailedCreatePodSandBox events whose message is the VPC CNI's IP-assignment failure, grouped by node and cause. */
export interface KubeIpFailure {
  node?: string;
  cause: IpFailureCause;
  /** Sum of the events' `count` (or series.count), over the events' lifetime. */
  count: number;
  /** Distinct pods named by the events (involvedObject namespace/name). */
  pods: string[];
  /** The newest lastTimestamp / eventTime / series.lastObservedTime. */
  lastSeen: string;
  /** One message, verbatim, as an example. */
  message: string;
}

/** The aws-node DaemonSet of a self-managed VPC CNI (kube-system/aws-node). */
export interface AwsNodeDaemonSet {
  /** The aws-node container's env with literal values (valueFrom entries left out). */
  env: Record<string, string>;
  /** The aws-node container's image, and the version parsed from its tag (`v1.19.2` → `1.19.2`). */
  image?: string;
  version?: string;
  /** metadata.managedFields: the manager that owns each env entry (for server-side apply conflicts). */
  envManagers?: Record<string, string>;
  resourceVersion?: string;
}

/** An ENIConfig (crd.k8s.amazonaws.com/v1alpha1): the subnet and groups custom networking gives pods on nodes whose label value names it. */
export interface KubeEniConfig {
  name: string;
  subnet?: string;
  securityGroups?: string[];
}

/** A node requirement of a Karpenter NodePool (spec.template.spec.requirements). */
export interface KubeRequirement {
  key: string;
  /** Gte / Lte: newer Karpenter NodePool CRDs' enum (aws/karpenter-provider-aws@1d927085 pkg/apis/crds/karpenter.sh_nodepools.yaml). */
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt' | 'Gte' | 'Lte';
  values?: string[];
  minValues?: number;
}

/** A Karpenter NodePool (karpenter.sh/v1), trimmed. */
export interface KarpenterNodePool {
  name: string;
  /** spec.template.spec.nodeClassRef. */
  nodeClassRef?: { group?: string; kind?: string; name: string };
  requirements: KubeRequirement[];
  resourceVersion?: string;
}

/** A Karpenter EC2NodeClass (karpenter.k8s.aws/v1), trimmed. */
export interface KarpenterNodeClass {
  name: string;
  /** spec.subnetSelectorTerms as written. */
  subnetSelectorTerms: { id?: string; tags?: Record<string, string> }[];
  /** status.subnets: the subnets Karpenter resolved the terms to. */
  resolvedSubnets?: { id: string; zone?: string; zoneId?: string }[];
  /** spec.kubelet.maxPods / podsPerCore (Karpenter v1 moved kubelet settings to the EC2NodeClass). */
  kubeletMaxPods?: number;
  podsPerCore?: number;
  resourceVersion?: string;
}

/** Everything read from one cluster's Kubernetes API. A part is absent when not read (`unread` says why). */
export interface KubeClusterView {
  /** ISO-8601 time the reads finished. */
  readAt: string;
  access: KubeAccess;
  nodes?: KubeNode[];
  /** Keyed by node name; a node with no such pods is absent (0). Absent: pods were not read. */
  pods?: Record<string, KubeNodePods>;
  ipFailures?: KubeIpFailure[];
  /** null: kube-system/aws-node does not exist (EKS Auto Mode, another CNI). */
  awsNode?: AwsNodeDaemonSet | null;
  /** null: the ENIConfig CRD is not installed. */
  eniConfigs?: KubeEniConfig[] | null;
  /** null: Karpenter's CRDs are not installed. */
  karpenter?: { nodePools: KarpenterNodePool[]; nodeClasses: KarpenterNodeClass[] } | null;
  unread: KubeUnread[];
}

/** Reads a cluster's Kubernetes API (lib/kube implements it). Never throws for access problems: `access` says. */
export interface KubernetesReader {
  read(
    cluster: import('@aws-sdk/client-eks').Cluster,
    options?: {
      deadlineAt?: number;
      /** Capture (lib/inventory/capture.ts): each part's raw answer, pages joined into one list, or the `Status` of an error. */
      onRaw?: (part: KubePart, raw: unknown) => void;
    },
  ): Promise<KubeClusterView>;
}

// ---------------------------------------------------------------------------------------------
// Writes (the act layer's executors): server-side apply through the same access entry.

/** An object the executors read and apply. The adapter builds the path from these. */
export interface KubeObjectRef {
  /** `apps/v1`, `crd.k8s.amazonaws.com/v1alpha1`, `karpenter.sh/v1`, `karpenter.k8s.aws/v1`. */
  apiVersion: string;
  kind: string;
  /** Lower-case plural of the resource: `daemonsets`, `eniconfigs`, `nodepools`, `ec2nodeclasses`. */
  plural: string;
  namespace?: string;
  name: string;
}

/** A Kubernetes API error answer (a `Status` object), typed. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly status: number,
    /** Status.reason: `Conflict`, `Forbidden`, `Unauthorized`, `Expired`, `NotFound`... */
    readonly reason: string | undefined,
    message: string,
    /** Status.details.causes (a server-side apply conflict names each field and its manager here). */
    readonly causes: { field?: string; message?: string; reason?: string }[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The writes the executors make on one cluster. */
export interface KubeApi {
  /** GET; undefined on 404. */
  get(ref: KubeObjectRef): Promise<Record<string, unknown> | undefined>;
  /**
   * Server-side apply: PATCH `application/apply-patch+yaml` with fieldManager `eks-ip-responder`
   * and force=false, so a field another manager owns fails with a 409 KubeApiError naming it.
   * `body` holds only the fields this manager sets (apiVersion, kind, metadata.name/namespace
   * added by the adapter); every other field of the object is kept.
   */
  apply(ref: KubeObjectRef, body: Record<string, unknown>, options?: { dryRun?: boolean }): Promise<Record<string, unknown>>;
}

/** Opens a cluster's API for writes; rejects with an Error naming the access problem when it cannot. */
export type KubeConnector = (cluster: import('@aws-sdk/client-eks').Cluster) => Promise<KubeApi>;

/** The field manager of every server-side apply this product makes. */
export const KUBE_FIELD_MANAGER = 'eks-ip-responder';
