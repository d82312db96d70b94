/**
 * The capacity model of an EC2 instance type under the Amazon VPC CNI: how many ENIs and IPv4
 * addresses it can hold, how many pods that allows, and the kubelet max-pods value EKS would set.
 *
 * Pure functions over the EC2 API's own `InstanceTypeInfo`: no AWS calls, no environment, no
 * logging. Every formula names its source; each source tag ([calculator], [nodeadm], …) is
 * defined on the code it justifies most directly.
 *
 * Design: docs/models.md#the-capacity-model
 */
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';

/** The network limits of one instance type, as the VPC CNI sees them. */
export interface NetworkCapacity {
  instanceType: string;
  /**
   * ENIs on the default network card (NetworkCards[DefaultNetworkCardIndex].MaximumNetworkInterfaces,
   * falling back to MaximumNetworkInterfaces when NetworkCards is absent).
   */
  maxEnis: number;
  /** IPv4 addresses per ENI (Ipv4AddressesPerInterface), primary included. */
  ipv4PerEni: number;
  /** true when Hypervisor === 'nitro' or BareMetal: prefix delegation needs Nitro ([ipamd], [eks-prefix]). */
  nitro: boolean;
  vcpus: number;
  memoryMiB: number;
  architectures: string[];
}

/** How the VPC CNI is configured on the node, as far as it changes pod capacity. */
export interface MaxPodsOptions {
  /** ENABLE_PREFIX_DELEGATION: each secondary-IP slot holds a /28 prefix instead (Nitro only). */
  prefixDelegation?: boolean;
  /** AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: the primary ENI carries no pods, so ENIs − 1. */
  customNetworking?: boolean;
  /**
   * MAX_ENI, the VPC CNI setting that caps the ENIs it attaches (the calculator's `--cni-max-eni`):
   * at most this many ENIs on the default card. Below 1 it is ignored, as ipamd does ([ipamd-eni]
   * `getMaxENI`: "If the value of the environment variable is 0 or less, it will be ignored").
   */
  maxEni?: number;
  /**
   * Apply the EKS max-pods calculator's kubelet cap: 110 up to and including 30 vCPUs, 250 above
   * (see {@link kubeletMaxPodsCap}). Default false.
   */
  applyKubeletCap?: boolean;
}

/**
 * ENIs attached to one node that ipamd gives no pod addresses from ([ipamd-eni] `hasRoomForEni`:
 * `maxUsableENIs := c.maxENI - c.unmanagedENI[networkCard] - trunkEni - ...`). They are the node's,
 * not the instance type's: the max-pods calculator and nodeadm do not know them.
 */
export interface NodeEnisNotForPods {
  /**
   * The trunk ENI of security groups for pods (EC2 InterfaceType `trunk`, description
   * `aws-k8s-trunk-eni`): counted by ipamd, skipped for addresses (aws/amazon-vpc-cni-k8s
   * `pkg/ipamd/datastore/data_store.go` `GetAllocatableENIs` skips `eni.IsTrunk`). 0 or 1.
   */
  trunkEnis?: number;
  /**
   * ENIs ipamd leaves alone: tagged `node.k8s.amazonaws.com/no_manage=true` ([ipamd-eni]
   * `setUnmanagedENIs`) or EFA-only (`filterUnmanagedENIs` counts both in `unmanagedENI`).
   */
  unmanagedEnis?: number;
}

/**
 * An `InstanceTypeInfo` lacks a field the model needs (or holds an impossible value). The message
 * names the instance type and the field.
 */
export class InstanceTypeDataError extends Error {
  constructor(
    readonly instanceType: string,
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InstanceTypeDataError';
  }
}

/**
 * IPv4 addresses in one delegated prefix: a /28 is 2^(32−28) = 16 addresses. [calculator]
 * `IPS_PER_PREFIX=16`; [eks-prefix] "/28 (for IPv4 clusters)".
 * - [eks-prefix] https://docs.aws.amazon.com/eks/latest/userguide/cni-increase-ip-addresses-procedure.html
 */
export const IPV4_ADDRESSES_PER_PREFIX = 16;

/**
 * Pods that use host networking and so take no pod IP: aws-node (the VPC CNI) and kube-proxy.
 * The "+ 2" of the published list's header ("+2 for the pods that use host-networking (AWS CNI and
 * kube-proxy)") and of [calculator].
 */
export const HOST_NETWORK_PODS = 2;

/** [calculator]: `MAX_POD_CEILING_FOR_LOW_CPU=110`, `MAX_POD_CEILING_FOR_HIGH_CPU=250`, split at `CPU_COUNT -gt 30`. */
const KUBELET_CAP_LOW_CPU = 110;
const KUBELET_CAP_HIGH_CPU = 250;
const KUBELET_CAP_VCPU_THRESHOLD = 30;

function requireCount(instanceType: string, field: string, value: number | undefined, min: number): number {
  if (value === undefined || value === null) {
    throw new InstanceTypeDataError(instanceType, field, `instance type ${instanceType} has no ${field}`);
  }
  if (!Number.isInteger(value) || value < min) {
    throw new InstanceTypeDataError(
      instanceType,
      field,
      `instance type ${instanceType} has ${field} = ${String(value)}, expected an integer ≥ ${min}`,
    );
  }
  return value;
}

/**
 * The ENIs the VPC CNI can use for pods: those of the default network card only.
 *
 * [calculator]: "Only one network card is used for pods, the default network card which is usually
 * the network card 0" — `NetworkCards[DefaultNetworkCardIndex].MaximumNetworkInterfaces`.
 * [generator]: the same card when there are several, else `MaximumNetworkInterfaces`; the
 * published list says "For multi-card instance types (p5.48xlarge) the max limits is calculated
 * only against the default network card at index (0)". For a single card both agree.
 * The card is looked up by its `NetworkCardIndex` rather than by array position.
 */
function defaultCardEnis(instanceType: string, network: NonNullable<InstanceTypeInfo['NetworkInfo']>): number {
  const cards = network.NetworkCards;
  if (!cards || cards.length === 0) {
    return requireCount(instanceType, 'NetworkInfo.MaximumNetworkInterfaces', network.MaximumNetworkInterfaces, 1);
  }
  let index = network.DefaultNetworkCardIndex;
  if (index === undefined || index === null) {
    // One card is the default card whatever its index; among several, guessing would be wrong.
    if (cards.length > 1) {
      throw new InstanceTypeDataError(
        instanceType,
        'NetworkInfo.DefaultNetworkCardIndex',
        `instance type ${instanceType} has ${cards.length} network cards and no NetworkInfo.DefaultNetworkCardIndex`,
      );
    }
    index = cards[0]?.NetworkCardIndex;
  }
  const card = cards.find((c) => c.NetworkCardIndex === index);
  if (!card) {
    throw new InstanceTypeDataError(
      instanceType,
      'NetworkInfo.NetworkCards',
      `instance type ${instanceType} has no NetworkInfo.NetworkCards entry for DefaultNetworkCardIndex ${String(index)}`,
    );
  }
  return requireCount(
    instanceType,
    `NetworkInfo.NetworkCards[${String(index)}].MaximumNetworkInterfaces`,
    card.MaximumNetworkInterfaces,
    1,
  );
}

/**
 * Reads the network limits of an instance type from its `DescribeInstanceTypes` entry.
 *
 * Besides the `NetworkInfo` fields, `VCpuInfo.DefaultVCpus` (an input of the kubelet cap),
 * `MemoryInfo.SizeInMiB` and `ProcessorInfo.SupportedArchitectures` are required: the API always
 * returns them, and a default would be a silent guess.
 *
 * @throws InstanceTypeDataError when a needed field is missing or not a positive count; the message
 *   names the instance type and the field.
 * - [ipamd] aws/amazon-vpc-cni-k8s `pkg/awsutils/awsutils.go`, `IsPrefixDelegationSupported`.
 */
export function networkCapacityOf(info: InstanceTypeInfo): NetworkCapacity {
  const instanceType = info.InstanceType ?? '(unnamed instance type)';
  const network = info.NetworkInfo;
  if (!network) {
    throw new InstanceTypeDataError(instanceType, 'NetworkInfo', `instance type ${instanceType} has no NetworkInfo`);
  }
  const maxEnis = defaultCardEnis(instanceType, network);
  const ipv4PerEni = requireCount(
    instanceType,
    'NetworkInfo.Ipv4AddressesPerInterface',
    network.Ipv4AddressesPerInterface,
    1,
  );
  const vcpus = requireCount(instanceType, 'VCpuInfo.DefaultVCpus', info.VCpuInfo?.DefaultVCpus, 1);
  const memoryMiB = requireCount(instanceType, 'MemoryInfo.SizeInMiB', info.MemoryInfo?.SizeInMiB, 1);
  const architectures = info.ProcessorInfo?.SupportedArchitectures;
  if (!architectures) {
    throw new InstanceTypeDataError(
      instanceType,
      'ProcessorInfo.SupportedArchitectures',
      `instance type ${instanceType} has no ProcessorInfo.SupportedArchitectures`,
    );
  }
  return {
    instanceType,
    maxEnis,
    ipv4PerEni,
    // [ipamd] IsPrefixDelegationSupported: `GetInstanceHypervisorFamily() == "nitro" ||
    // IsInstanceBareMetal()`. Bare-metal types report no Hypervisor (null in the CLI's JSON) yet
    // run on Nitro. ([calculator] tests Hypervisor == "nitro" alone, so for bare metal with prefix
    // delegation it prints the secondary-IP figure; ipamd, which hands out the IPs, uses prefixes.)
    nitro: info.Hypervisor === 'nitro' || info.BareMetal === true,
    vcpus,
    memoryMiB,
    architectures: [...architectures],
  };
}

/**
 * The ENIs the VPC CNI may attach on the default card: the type's maximum, or MAX_ENI when it is
 * set (≥ 1) and lower. [ipamd-eni] `getMaxENI`: `if envMax >= 1 && envMax < instanceMaxENI { return
 * envMax }`; [calculator]: `enis_for_pods="$(min_number $CNI_MAX_ENI $INSTANCE_MAX_ENIS)"`.
 * - [ipamd-eni] aws/amazon-vpc-cni-k8s `pkg/ipamd/ipamd.go` `getMaxENI` (MAX_ENI) and
 *   `hasRoomForEni` (maxENI − unmanaged ENIs − trunk ENI).
 */
export function cniMaxEnis(cap: NetworkCapacity, opts: Pick<MaxPodsOptions, 'maxEni'> = {}): number {
  const limit = opts.maxEni;
  return limit !== undefined && limit >= 1 && limit < cap.maxEnis ? Math.floor(limit) : cap.maxEnis;
}

/**
 * ENIs that carry pod IPs: the ENIs the CNI may attach ({@link cniMaxEnis}: the default card's, or
 * MAX_ENI), less the primary ENI under custom networking. [calculator]: `if
 * CNI_CUSTOM_NETWORKING_ENABLED: enis_for_pods=$((enis_for_pods - 1))`, applied after MAX_ENI and
 * before both the secondary-IP and the prefix formula.
 */
export function enisForPods(cap: NetworkCapacity, opts: MaxPodsOptions = {}): number {
  return Math.max(0, cniMaxEnis(cap, opts) - (opts.customNetworking ? 1 : 0));
}

/**
 * ENIs of one node that carry pod IPs: {@link enisForPods} less its trunk ENI and the ENIs ipamd does
 * not manage ([ipamd-eni] `hasRoomForEni`). An m5.large with a trunk ENI has 2, not 3.
 */
export function podEnisOfNode(cap: NetworkCapacity, opts: MaxPodsOptions = {}, node: NodeEnisNotForPods = {}): number {
  return Math.max(0, enisForPods(cap, opts) - (node.trunkEnis ?? 0) - (node.unmanagedEnis ?? 0));
}

/**
 * Whether prefix mode really applies: asked for, and the type is Nitro. Non-Nitro instances "continue
 * to allocate individual secondary IP addresses" [eks-prefix]; [calculator] likewise falls back to
 * the secondary-IP formula unless `IS_NITRO`.
 */
function usesPrefixes(cap: NetworkCapacity, opts: MaxPodsOptions): boolean {
  return opts.prefixDelegation === true && cap.nitro;
}

/**
 * Pod IP slots the node can hold: `enisForPods × (ipv4PerEni − 1)` in secondary-IP mode (the first
 * IP of each ENI is the ENI's own, never a pod's: published list header "First IP on each ENI is
 * not used for pods"); in prefix mode each of those slots holds a /28, so `× 16` ([calculator]
 * `calculate_max_ip_addresses_prefix_delegation`). Prefix mode needs Nitro: see {@link NetworkCapacity.nitro}.
 * With `node`, the ENIs ipamd skips on that node (trunk, unmanaged) carry none: an m5.large with a
 * trunk ENI has 2 × 9 = 18 slots ({@link podEnisOfNode}).
 */
export function podIpSlots(cap: NetworkCapacity, opts: MaxPodsOptions = {}, node: NodeEnisNotForPods = {}): number {
  const slots = podEnisOfNode(cap, opts, node) * (cap.ipv4PerEni - 1);
  return usesPrefixes(cap, opts) ? slots * IPV4_ADDRESSES_PER_PREFIX : slots;
}

/**
 * The kubelet cap of the EKS max-pods calculator: 110 for 30 vCPUs or fewer, 250 above.
 * [calculator]: `if [ "$CPU_COUNT" -gt 30 ]; then min(250, max_pods) else min(110, max_pods)`, so
 * exactly 30 vCPUs gets 110. (AL2023's nodeadm applies no such cap and does not limit max pods by
 * memory: see {@link nodeadmDefaultMaxPods}.)
 */
export function kubeletMaxPodsCap(cap: NetworkCapacity): number {
  return cap.vcpus > KUBELET_CAP_VCPU_THRESHOLD ? KUBELET_CAP_HIGH_CPU : KUBELET_CAP_LOW_CPU;
}

/**
 * Max pods: secondary-IP mode `ENIs × (IPv4 per ENI − 1) + 2`; prefix mode
 * `ENIs × ((IPv4 per ENI − 1) × 16) + 2` ([calculator] `calculate_max_ip_addresses_secondary_ips`
 * and `calculate_max_ip_addresses_prefix_delegation`); then, when asked, the kubelet cap, taken as
 * a minimum so a value already below it is kept ([calculator] `min_number`).
 * - [calculator] awslabs/amazon-eks-ami `templates/al2/runtime/max-pods-calculator.sh` (removed
 *   from main with AL2 support in commit b2289030, 2026-03; the same script, unchanged, is carried
 *   to `templates/al2023/runtime/max-pods-calculator.sh` by commit a92d9fde): the EKS max-pods
 *   calculator, https://docs.aws.amazon.com/eks/latest/userguide/choosing-instance-type.html
 */
export function maxPods(cap: NetworkCapacity, opts: MaxPodsOptions = {}): number {
  const uncapped = podIpSlots(cap, opts) + HOST_NETWORK_PODS;
  return opts.applyKubeletCap ? Math.min(uncapped, kubeletMaxPodsCap(cap)) : uncapped;
}

/**
 * The uncapped secondary-IP value, `ENIs × (IPv4 per ENI − 1) + 2` on the default card: what AWS
 * publishes in eni-max-pods.txt ([generator] `printPodLimit`: `l.ENILimit*(l.IPv4Limit-1) + 2`).
 * - [generator] aws/amazon-vpc-cni-k8s `scripts/gen_vpc_ip_limits.go`, which writes
 *   `misc/eni-max-pods.txt`, copied to awslabs/amazon-eks-ami
 *   `templates/shared/runtime/eni-max-pods.txt` (the published list; see
 *   https://awslabs.github.io/amazon-eks-ami/development).
 */
export function eniMaxPods(cap: NetworkCapacity): number {
  return maxPods(cap, {});
}

/**
 * The kubelet maxPods AL2023's nodeadm sets when the NodeConfig sets none: `DefaultMaxENIs ×
 * (Ipv4AddressesPerInterface − 1) + 2` on the default network card ([nodeadm]
 * `calculateStandardMaxPods`, called by `CalcMaxPods` from `withDefaultReservedResources`; 110 only
 * when the instance type cannot be looked up). It is the secondary-IP figure whatever the CNI does:
 * not prefix-aware, no custom-networking or MAX_ENI adjustment, no 110/250 cap. Memory is used only
 * to size kube-reserved from it (`getMemoryMebibytesToReserve`: 11 × maxPods + 255 MiB), never to
 * limit it. AL2's bootstrap.sh set the same figure from eni-max-pods.txt. So a self-managed or
 * custom-AMI AL2023 node in prefix mode stops at this figure unless its NodeConfig sets
 * `spec.kubelet.config.maxPods` (or `maxPodsExpression`).
 * - [nodeadm] awslabs/amazon-eks-ami `nodeadm/internal/kubelet/config.go`
 *   `withDefaultReservedResources` and `eni_max_pods.go` `CalcMaxPods` / `calculateStandardMaxPods`:
 *   what AL2023 sets as the kubelet's maxPods when the NodeConfig does not.
 */
export function nodeadmDefaultMaxPods(cap: NetworkCapacity): number {
  return eniMaxPods(cap);
}

/**
 * Whether a VPC CNI version can do prefix delegation: 1.9.0 or later. [calculator]: `if
 * CNI_MAJOR_VERSION -gt 1 || (CNI_MAJOR_VERSION = 1 && CNI_MINOR_VERSION -gt 8)` then
 * `PREFIX_DELEGATION_SUPPORTED=true`. Takes `1.9.0`, `v1.19.2` or an add-on version such as
 * `v1.19.2-eksbuild.1`.
 * @throws RangeError when the text is not a version.
 */
export function cniSupportsPrefixDelegation(version: string): boolean {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$/.exec(version.trim());
  if (!m) throw new RangeError(`"${version}" is not a VPC CNI version (expected e.g. 1.9.0 or v1.19.2-eksbuild.1)`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 1 || (major === 1 && minor > 8);
}

/**
 * A lookup of the network capacity of the types in `instanceTypes`, each worked out once.
 * `onProblem` hears, once per type, of a type that is not in `instanceTypes` (`err` undefined) or
 * whose entry lacks a field the capacity needs.
 */
export function capacityLookup(
  instanceTypes: Record<string, InstanceTypeInfo>,
  onProblem?: (type: string, err?: InstanceTypeDataError) => void,
): (type: string) => NetworkCapacity | undefined {
  const capacities = new Map<string, NetworkCapacity | undefined>();
  return (type) => {
    if (!capacities.has(type)) {
      const info = instanceTypes[type];
      let cap: NetworkCapacity | undefined;
      if (info) {
        try {
          cap = networkCapacityOf(info);
        } catch (err) {
          if (!(err instanceof InstanceTypeDataError)) throw err;
          onProblem?.(type, err);
        }
      } else {
        onProblem?.(type);
      }
      capacities.set(type, cap);
    }
    return capacities.get(type);
  };
}
