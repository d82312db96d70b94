/**
 * The Kubernetes RBAC the product needs in a cluster: a ClusterRole and a kube-system Role per
 * group (lib/names.ts KUBE_READER_GROUP, KUBE_WRITER_GROUP), each bound to its group. Printed by
 * `eks-ip-responder rbac` (pipe it to `kubectl apply -f -`) and kept as stack/kubernetes-rbac.yaml.
 * Why RBAC and not an EKS access policy, and every rule's reader: docs/kubernetes.md, "Granting access".
 */
import { stringify } from 'yaml';
import { KUBE_READER_GROUP, KUBE_WRITER_GROUP } from './names';

/** One RBAC rule, as `rules[]` of a Role or ClusterRole writes it. */
export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** The namespace and name of the VPC CNI's DaemonSet (self-managed installs are read and changed there). */
export const AWS_NODE_NAMESPACE = 'kube-system';
export const AWS_NODE_NAME = 'aws-node';

/**
 * The reader's cluster-wide rules: only get and list (no watch: every read is a paginated list per
 * cycle). Events in both the core and the events.k8s.io API (the reader may use either). ENIConfig
 * (crd.k8s.amazonaws.com, the VPC CNI's custom networking), NodePool (karpenter.sh) and
 * EC2NodeClass (karpenter.k8s.aws): an absent CRD answers 404, which the reader reports as absent.
 */
export const READER_CLUSTER_RULES: readonly RbacRule[] = [
  { apiGroups: [''], resources: ['nodes', 'pods', 'events'], verbs: ['get', 'list'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['get', 'list'] },
  { apiGroups: ['crd.k8s.amazonaws.com'], resources: ['eniconfigs'], verbs: ['get', 'list'] },
  { apiGroups: ['karpenter.sh'], resources: ['nodepools'], verbs: ['get', 'list'] },
  { apiGroups: ['karpenter.k8s.aws'], resources: ['ec2nodeclasses'], verbs: ['get', 'list'] },
];

/** The reader in kube-system: the aws-node DaemonSet only (resourceNames can restrict get, not list). */
export const READER_NAMESPACE_RULES: readonly RbacRule[] = [
  { apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: [AWS_NODE_NAME], verbs: ['get'] },
];

/**
 * The writer's cluster-wide rules: server-side apply is a PATCH (verb patch); an ENIConfig that does
 * not exist yet is created by it, so create as well. NodePools and EC2NodeClasses are only changed.
 */
export const WRITER_CLUSTER_RULES: readonly RbacRule[] = [
  { apiGroups: ['crd.k8s.amazonaws.com'], resources: ['eniconfigs'], verbs: ['get', 'create', 'patch'] },
  { apiGroups: ['karpenter.sh'], resources: ['nodepools'], verbs: ['get', 'patch'] },
  { apiGroups: ['karpenter.k8s.aws'], resources: ['ec2nodeclasses'], verbs: ['get', 'patch'] },
];

/** The writer in kube-system: the aws-node DaemonSet's env, by name. */
export const WRITER_NAMESPACE_RULES: readonly RbacRule[] = [
  { apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: [AWS_NODE_NAME], verbs: ['get', 'patch'] },
];

const LABELS = { 'app.kubernetes.io/name': 'eks-ip-responder', 'app.kubernetes.io/managed-by': 'eks-ip-responder-rbac' };

/** The RBAC objects of one group: ClusterRole + ClusterRoleBinding, Role + RoleBinding in kube-system. */
function groupObjects(group: string, clusterRules: readonly RbacRule[], namespaceRules: readonly RbacRule[]): Record<string, unknown>[] {
  const subjects = [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: group }];
  const ns = { namespace: AWS_NODE_NAMESPACE };
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: group, labels: LABELS }, rules: clusterRules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: group, labels: LABELS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: group },
      subjects,
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: group, ...ns, labels: LABELS }, rules: namespaceRules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: group, ...ns, labels: LABELS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: group },
      subjects,
    },
  ];
}

/** Every RBAC object, reader's first. */
export function rbacObjects(): Record<string, unknown>[] {
  return [
    ...groupObjects(KUBE_READER_GROUP, READER_CLUSTER_RULES, READER_NAMESPACE_RULES),
    ...groupObjects(KUBE_WRITER_GROUP, WRITER_CLUSTER_RULES, WRITER_NAMESPACE_RULES),
  ];
}

/** The manifest `kubectl apply -f -` takes: the objects as YAML documents, with a header saying what it is. */
export function rbacManifest(): string {
  const header = [
    '# eks-ip-responder: the Kubernetes RBAC of its access entries (groups eks-ip-responder-reader and',
    '# eks-ip-responder-writer). Apply once per cluster listed in the stage param kubernetesClusters:',
    '#   npx eks-ip-responder rbac | kubectl apply -f -',
    '# The writer group is given to the responder only with kubernetesWrite=true; binding it is harmless',
    '# otherwise (no principal is in the group). Generated by lib/kube-rbac.ts; docs/kubernetes.md.',
  ].join('\n');
  const docs = rbacObjects().map((o) => stringify(o, { lineWidth: 0 }).trimEnd());
  return `${header}\n---\n${docs.join('\n---\n')}\n`;
}
