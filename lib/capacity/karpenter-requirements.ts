/**
 * Karpenter NodePool requirements evaluated against instance types: the well-known labels
 * computable from a type's name and its DescribeInstanceTypes data, a matcher for the operators,
 * and the pods Karpenter lets a node of the type run. Pure.
 * Sources: aws/karpenter-provider-aws@1d927085dd81a9df9301e613f371dac5b4d16bfe
 * pkg/providers/instancetype/types.go `computeRequirements`, `pods`, `ENILimitedPods`;
 * pkg/apis/crds/karpenter.sh_nodepools.yaml (operators). Design: docs/remediation.md, "Karpenter".
 */
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import type { KubeRequirement } from '../inventory/kube-types';
import { eniMaxPods, kubeletMaxPodsCap, networkCapacityOf, type NetworkCapacity } from './instance-type';

/** The label keys (karpenter.k8s.aws/* from pkg/apis/v1/labels.go; the others Kubernetes' own, corev1). */
export const KARPENTER_LABEL = {
  instanceType: 'node.kubernetes.io/instance-type',
  arch: 'kubernetes.io/arch',
  category: 'karpenter.k8s.aws/instance-category',
  family: 'karpenter.k8s.aws/instance-family',
  generation: 'karpenter.k8s.aws/instance-generation',
  size: 'karpenter.k8s.aws/instance-size',
  cpu: 'karpenter.k8s.aws/instance-cpu',
  memory: 'karpenter.k8s.aws/instance-memory',
  hypervisor: 'karpenter.k8s.aws/instance-hypervisor',
} as const;

/**
 * `computeRequirements`: category and generation from `(^[a-z]+)(\-[0-9]+tb)?([0-9]+).*\.` (groups 1
 * and 3), family and size from splitting the name at its one dot, cpu = VCpuInfo.DefaultVCpus,
 * memory = MemoryInfo.SizeInMiB, hypervisor = Hypervisor, arch amd64/arm64 from
 * SupportedArchitectures (x86_64 → amd64).
 */
const INSTANCE_TYPE_SCHEME = /(^[a-z]+)(-[0-9]+tb)?([0-9]+).*\./;

/** A type's values of the labels above; a label the type has no value for is absent. */
export function instanceTypeLabels(info: InstanceTypeInfo): Record<string, string[]> {
  const name = info.InstanceType ?? '';
  const labels: Record<string, string[]> = { [KARPENTER_LABEL.instanceType]: [name] };
  const m = INSTANCE_TYPE_SCHEME.exec(name);
  if (m && m[1] && m[3]) {
    labels[KARPENTER_LABEL.category] = [m[1]];
    labels[KARPENTER_LABEL.generation] = [m[3]];
  }
  const parts = name.split('.');
  if (parts.length === 2 && parts[0] && parts[1]) {
    labels[KARPENTER_LABEL.family] = [parts[0]];
    labels[KARPENTER_LABEL.size] = [parts[1]];
  }
  if (info.VCpuInfo?.DefaultVCpus) labels[KARPENTER_LABEL.cpu] = [String(info.VCpuInfo.DefaultVCpus)];
  if (info.MemoryInfo?.SizeInMiB) labels[KARPENTER_LABEL.memory] = [String(info.MemoryInfo.SizeInMiB)];
  if (info.Hypervisor) labels[KARPENTER_LABEL.hypervisor] = [info.Hypervisor];
  const arch = (info.ProcessorInfo?.SupportedArchitectures ?? []).map((a) => (a === 'x86_64' ? 'amd64' : a)).filter((a) => a === 'amd64' || a === 'arm64');
  if (arch.length > 0) labels[KARPENTER_LABEL.arch] = arch;
  return labels;
}

const COMPUTED = new Set<string>(Object.values(KARPENTER_LABEL));

/**
 * Whether a requirement's key is a property of the instance type this module cannot compute
 * (karpenter.k8s.aws/instance-gpu-count, -local-nvme, -network-bandwidth...): Karpenter filters
 * types by it, the bundled data does not carry it.
 */
export function isUncomputedTypeLabel(key: string): boolean {
  return key.startsWith('karpenter.k8s.aws/instance-') && !COMPUTED.has(key);
}

/** Whether a requirement constrains the instance type at all (a label this module computes). */
export function constrainsType(r: KubeRequirement): boolean {
  return COMPUTED.has(r.key);
}

/**
 * Whether the values a type has for `r.key` satisfy `r` (Kubernetes node-selector semantics, as
 * Karpenter's scheduling.Requirement: In any value listed, NotIn none listed (and true without the
 * label), Exists / DoesNotExist the label's presence, Gt / Lt (and Karpenter's Gte / Lte) the one
 * integer value against the requirement's single integer). Requirements on keys this module does
 * not compute are not about the type: true.
 */
export function satisfies(labels: Record<string, string[]>, r: KubeRequirement): boolean {
  if (!constrainsType(r)) return true;
  const have = labels[r.key];
  const values = r.values ?? [];
  const op = r.operator;
  switch (op) {
    case 'In':
      return have !== undefined && have.some((v) => values.includes(v));
    case 'NotIn':
      return have === undefined || !have.some((v) => values.includes(v));
    case 'Exists':
      return have !== undefined;
    case 'DoesNotExist':
      return have === undefined;
    case 'Gt':
    case 'Lt':
    case 'Gte':
    case 'Lte': {
      const bound = Number(values[0]);
      const value = Number(have?.[0]);
      if (have === undefined || !Number.isInteger(bound) || !Number.isInteger(value)) return false;
      if (op === 'Gt') return value > bound;
      if (op === 'Lt') return value < bound;
      if (op === 'Gte') return value >= bound;
      return value <= bound;
    }
    default:
      return false;
  }
}

/** The types (by name) whose labels satisfy every requirement, sorted by name. */
export function typesAllowedBy(requirements: readonly KubeRequirement[], types: Iterable<InstanceTypeInfo>): InstanceTypeInfo[] {
  const out: InstanceTypeInfo[] = [];
  for (const info of types) {
    const labels = instanceTypeLabels(info);
    if (requirements.every((r) => satisfies(labels, r))) out.push(info);
  }
  return out.sort((a, b) => (a.InstanceType ?? '').localeCompare(b.InstanceType ?? ''));
}

/** What Karpenter's EC2NodeClass kubelet block sets that bears on pods per node. */
export interface KarpenterKubelet {
  maxPods?: number;
  podsPerCore?: number;
}

/** A type as a Karpenter pool would run it: the pods Karpenter lets it run, and what its CPU/memory would carry. */
export interface KarpenterTypePods {
  instanceType: string;
  cap: NetworkCapacity;
  /**
   * The pods Karpenter schedules onto a node of the type (`pods`): spec.kubelet.maxPods when set,
   * else ENILimitedPods = ENIs × (IPv4 per ENI − 1) + 2 on the default card (whatever prefix
   * delegation does: Karpenter does not read the CNI's mode), then at most podsPerCore × vCPUs.
   */
  karpenterPods: number;
  /** The kubelet cap of the EKS max-pods calculator (110 up to 30 vCPUs, 250 above): the pods the node carries when addresses are not the limit. */
  carryPods: number;
  /** karpenterPods < carryPods and the kubelet's maxPods is not what sets it: the IP capacity caps the node. */
  ipCapped: boolean;
}

/** {@link KarpenterTypePods} of one type; undefined when its data lacks a field the capacity model needs. */
export function karpenterTypePods(info: InstanceTypeInfo, kubelet: KarpenterKubelet = {}): KarpenterTypePods | undefined {
  let cap: NetworkCapacity;
  try {
    cap = networkCapacityOf(info);
  } catch {
    return undefined;
  }
  const eniPods = eniMaxPods(cap);
  let pods = kubelet.maxPods ?? eniPods;
  if (kubelet.podsPerCore && kubelet.podsPerCore > 0) pods = Math.min(pods, kubelet.podsPerCore * cap.vcpus);
  const carryPods = kubeletMaxPodsCap(cap);
  return {
    instanceType: cap.instanceType,
    cap,
    karpenterPods: pods,
    carryPods,
    // Capped by addresses only when the ENI figure is what Karpenter uses and it is the lower one.
    ipCapped: kubelet.maxPods === undefined && pods === eniPods && eniPods < carryPods,
  };
}

/** A requirements list in a canonical form (values sorted), for comparing what is live with what was planned. */
export function canonicalRequirements(rs: readonly KubeRequirement[]): string {
  return JSON.stringify(
    rs.map((r) => ({
      key: r.key,
      operator: r.operator,
      ...(r.values && r.values.length > 0 ? { values: [...r.values].sort() } : {}),
      ...(r.minValues !== undefined ? { minValues: r.minValues } : {}),
    })),
  );
}
