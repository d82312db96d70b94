/**
 * The remediation policy: what the responder may change, per cluster, with a default.
 * Written by the operator in `policy.yml` at the repository root, validated by `npm test`, by
 * `eks-ip-responder policy check` and when the stack is packaged (an invalid policy fails the
 * deploy, never a running cycle).
 */
import type { DiagnoseThresholds } from '../diagnose/types';

/**
 * - observe: diagnose and notify; plan nothing.
 * - dry-run: plan and notify what would be done; change nothing.
 * - apply: change the cluster, within the policy, if the cluster also opts in with the tag
 *   {@link OPT_IN_TAG_KEY} = {@link OPT_IN_TAG_VALUE} on the EKS cluster.
 */
export type PolicyMode = 'observe' | 'dry-run' | 'apply';

/** The EKS cluster tag that opts a cluster in to apply mode; a policy typo alone cannot change a cluster. */
export const OPT_IN_TAG_KEY = 'eks-ip-responder/remediation';
export const OPT_IN_TAG_VALUE = 'apply';

/**
 * Whether the responder must never set this tag key (lib/policy/iam.ts denies it): the opt-in key,
 * and AWS's reserved prefix `aws:` in any case ("Don't use aws:, AWS:, or any upper or lowercase
 * combination of such as a prefix": EKS user guide, tagging your resources). A nodegroup created by
 * CloudFormation carries `aws:cloudformation:*` tags, which a copy must leave out.
 */
export function isReservedTagKey(key: string): boolean {
  return key === OPT_IN_TAG_KEY || key.toLowerCase().startsWith('aws:');
}

export interface Bounds {
  min: number;
  max: number;
}

export interface ActionPolicyBase {
  /** Whether the action may be planned at all. */
  allowed: boolean;
  /** Minutes after a change of this kind on the cluster before the next one of the same kind. */
  cooldownMinutes: number;
}

export interface WarmTargetsPolicy extends ActionPolicyBase {
  /** Bounds of every value the action may set. */
  warmIpTarget: Bounds;
  minimumIpTarget: Bounds;
  /**
   * The most EC2 calls a minute ipamd may spend on the cluster under proposed targets, by the model
   * of lib/ipamd/api-rate.ts: a proposal above it is blocked. Optional (a policy without it gets
   * {@link DEFAULT_IPAMD_CALLS_PER_MINUTE_MAX}).
   */
  ipamdCallsPerMinuteMax?: number;
  /** The pod churn that model assumes: pod starts per node per minute. Default {@link DEFAULT_POD_STARTS_PER_NODE_PER_MINUTE}. */
  podStartsPerNodePerMinute?: number;
}

/**
 * ipamd's EC2 call budget per cluster: a fifth of AssignPrivateIpAddresses' refill of 300 a minute,
 * which every caller of the account in the Region shares (lib/ipamd/api-rate.ts).
 */
export const DEFAULT_IPAMD_CALLS_PER_MINUTE_MAX = 60;
/** The churn assumed when the policy says none: a pod start (and stop) per node every 2 minutes. */
export const DEFAULT_POD_STARTS_PER_NODE_PER_MINUTE = 0.5;

export interface PrefixDelegationPolicy extends ActionPolicyBase {
  /** WARM_PREFIX_TARGET to set with it. */
  warmPrefixTarget: Bounds;
  /** Max pods the action may give a managed nodegroup (upper bound). */
  maxPods: Bounds;
  /**
   * The prefix rollout (a copy of a nodegroup whose new nodes get /28 prefixes): free addresses
   * each subnet must keep beyond what the new nodes take while they run beside the old ones
   * (lib/plan/replacement.ts). `parsePolicy` requires it in `default:`; optional here only for
   * policies built in code, which get {@link DEFAULT_OVERLAP_MARGIN_IPS}.
   */
  overlapMarginIps?: number;
}

export interface CniSubnetsPolicy extends ActionPolicyBase {
  /** The only subnets that may be tagged `kubernetes.io/role/cni` (allow list, by id). */
  spareSubnets: string[];
  /** At most this many subnets tagged by one action. */
  maxSubnetsPerAction: number;
  /**
   * Steering: shared subnets this cluster's VPC CNI may be stopped from using when they run short
   * (allow list, by id; empty = never): the responder removes the subnet's
   * `cni.networking.k8s.aws/cluster/<this cluster>` tag, so that it stays reserved to the other
   * clusters it names (lib/plan/cni-subnets.ts). Absent in older policies: none.
   */
  excludableSubnets?: string[];
}

/**
 * Deleting leaked ENIs (lib/plan/leaked-enis.ts). Optional in policy.yml: without it,
 * {@link DEFAULT_LEAKED_ENIS_POLICY} (not allowed).
 */
export interface LeakedEnisPolicy extends ActionPolicyBase {
  /** Only ENIs whose createdAt tag is at least this many minutes old; never below {@link LEAKED_ENI_MIN_AGE_FLOOR_MINUTES}. */
  minAgeMinutes: number;
  /** At most this many ENIs deleted by one action. */
  maxEnisPerAction: number;
}

/**
 * No ENI younger than an hour is deleted, whatever the policy says: the VPC CNI's own cleanup
 * leaves an ENI alone for 5 minutes after its createdAt (aws/amazon-vpc-cni-k8s@b52188387f2e
 * pkg/awsutils/awsutils.go `eniDeleteCooldownTime`) and runs hourly; an hour lets it, and any
 * attach in progress, go first.
 */
export const LEAKED_ENI_MIN_AGE_FLOOR_MINUTES = 60;

/** The leaked-ENI policy of a policy.yml that does not name it: not allowed. */
export const DEFAULT_LEAKED_ENIS_POLICY: LeakedEnisPolicy = {
  allowed: false,
  cooldownMinutes: 60,
  minAgeMinutes: LEAKED_ENI_MIN_AGE_FLOOR_MINUTES,
  maxEnisPerAction: 20,
};

export interface InstanceTypesPolicy extends ActionPolicyBase {
  /** Instance types or families (`m6i`, `m6i.xlarge`) a replacement nodegroup may use. Empty = none. */
  allowedTypes: string[];
  /** At most this many instance types on a replacement nodegroup. */
  maxInstanceTypes: number;
  /**
   * Free addresses each subnet must keep beyond what the replacement's new nodes take while they
   * run beside the old ones (lib/plan/replacement.ts). `parsePolicy` requires it in `default:`;
   * optional here only for policies built in code, which get {@link DEFAULT_OVERLAP_MARGIN_IPS}.
   */
  overlapMarginIps?: number;
  /**
   * The most a replacement may grow the nodegroup's vCPUs or memory, in percent of what it has
   * (node count × the type's vCPUs and memory, before and after). `parsePolicy` requires it in
   * `default:`; optional here only for policies built in code, which get
   * {@link DEFAULT_MAX_CAPACITY_INCREASE_PERCENT}.
   */
  maxCapacityIncreasePercent?: number;
}

/**
 * The default of `overlapMarginIps` (policy.yml sets it; this is what policy.yml's default says).
 * EKS needs at least 6 and recommends 16 free addresses in each cluster subnet for the ENIs it
 * places there (EKS user guide, "View Amazon EKS networking requirements for VPC and subnets":
 * network-reqs.html), and nodegroup subnets are often cluster subnets; the diagnosis calls a pod
 * subnet critical below 16 free (DiagnoseThresholds.subnetFreeIpsCritical). A replacement that
 * leaves fewer would cause the exhaustion it is meant to relieve.
 */
export const DEFAULT_OVERLAP_MARGIN_IPS = 16;

/**
 * The default of `actions.instanceTypes.maxCapacityIncreasePercent`: a quarter more vCPU or memory
 * is within what a capacity plan absorbs; doubling a nodegroup (the next size up at the same node
 * count) is a cost decision for a person, not for a responder.
 */
export const DEFAULT_MAX_CAPACITY_INCREASE_PERCENT = 25;

/**
 * Prefix-type subnet CIDR reservations over the largest free aligned runs of a prefix-mode pod
 * subnet (lib/plan/subnet-reservations.ts), the fix EKS documents for InsufficientCidrBlocks.
 */
export interface SubnetReservationsPolicy extends ActionPolicyBase {
  /** The only subnets that may be given a reservation (allow list, by id). Empty = none. */
  subnets: string[];
  /** At most this many reservations (CreateSubnetCidrReservation calls) by one action. */
  maxReservationsPerAction: number;
  /** The smallest reservation, in aligned /28 blocks (1 = a /28, 4 = a /26): smaller runs are left alone. */
  minBlocks: number;
}

/** What `actions.subnetReservations` is when policy.yml leaves it out: not allowed. */
export const DEFAULT_SUBNET_RESERVATIONS_POLICY: SubnetReservationsPolicy = {
  allowed: false,
  cooldownMinutes: 1440,
  subnets: [],
  maxReservationsPerAction: 2,
  minBlocks: 2,
};

/**
 * Karpenter EC2NodeClass subnet selector changes (lib/plan/karpenter-subnets.ts): steer an
 * allow-listed node class away from scarce subnets toward allow-listed subnets with room.
 */
export interface KarpenterSubnetsPolicy extends ActionPolicyBase {
  /** The only subnets a node class may be steered toward (allow list, by id). */
  subnets: string[];
  /** The only EC2NodeClasses that may be changed, by name. Empty = none. */
  nodeClasses: string[];
}

/** What `actions.karpenterSubnets` is when policy.yml leaves it out: not allowed. */
export const DEFAULT_KARPENTER_SUBNETS_POLICY: KarpenterSubnetsPolicy = {
  allowed: false,
  cooldownMinutes: 1440,
  subnets: [],
  nodeClasses: [],
};

/**
 * Karpenter NodePool instance requirements (lib/plan/karpenter-instance-types.ts): widen an
 * allow-listed NodePool's requirements to types with more IP capacity.
 */
export interface KarpenterInstanceTypesPolicy extends ActionPolicyBase {
  /** The only NodePools that may be changed, by name. Empty = none. */
  nodePools: string[];
  /** The most a newly allowed type may have in vCPUs or memory over the largest type allowed now, in percent. */
  maxCapacityIncreasePercent: number;
}

/** What `actions.karpenterInstanceTypes` is when policy.yml leaves it out: not allowed. */
export const DEFAULT_KARPENTER_INSTANCE_TYPES_POLICY: KarpenterInstanceTypesPolicy = {
  allowed: false,
  cooldownMinutes: 1440,
  nodePools: [],
  maxCapacityIncreasePercent: 100,
};

/**
 * Custom networking (lib/plan/eni-configs.ts): one ENIConfig per Availability Zone over an
 * allow-listed secondary-CIDR subnet, and the CNI told to use them. Optional in policy.yml:
 * without it, {@link DEFAULT_ENI_CONFIGS_POLICY} (not allowed).
 */
export interface EniConfigsPolicy extends ActionPolicyBase {
  /** The only subnets an ENIConfig may name (allow list, by id): subnets of a secondary VPC CIDR. Empty = none. */
  subnets: string[];
  /** The security groups the ENIConfigs give pod ENIs; absent = the cluster security group. */
  securityGroups?: string[];
}

/** What `actions.eniConfigs` is when policy.yml leaves it out: not allowed. */
export const DEFAULT_ENI_CONFIGS_POLICY: EniConfigsPolicy = {
  allowed: false,
  cooldownMinutes: 1440,
  subnets: [],
};

export interface ActionsPolicy {
  warmTargets: WarmTargetsPolicy;
  prefixDelegation: PrefixDelegationPolicy;
  cniSubnets: CniSubnetsPolicy;
  instanceTypes: InstanceTypesPolicy;
  /** Optional in policy.yml; a parsed policy always has it ({@link DEFAULT_LEAKED_ENIS_POLICY}). */
  leakedEnis: LeakedEnisPolicy;
  /**
   * Optional in policy.yml (a policy written before it stays valid); absent = not allowed
   * ({@link DEFAULT_SUBNET_RESERVATIONS_POLICY}). `parsePolicy` always fills it.
   */
  subnetReservations?: SubnetReservationsPolicy;
  /** Optional in policy.yml; absent = not allowed ({@link DEFAULT_KARPENTER_SUBNETS_POLICY}). `parsePolicy` always fills it. */
  karpenterSubnets?: KarpenterSubnetsPolicy;
  /** Optional in policy.yml; absent = not allowed ({@link DEFAULT_KARPENTER_INSTANCE_TYPES_POLICY}). `parsePolicy` always fills it. */
  karpenterInstanceTypes?: KarpenterInstanceTypesPolicy;
  /** Optional in policy.yml; absent = not allowed ({@link DEFAULT_ENI_CONFIGS_POLICY}). `parsePolicy` always fills it. */
  eniConfigs?: EniConfigsPolicy;
}

/** A cluster's policy of one action kind; `subnetReservations` left out is its default (not allowed). */
export function actionPolicyOf(actions: ActionsPolicy, kind: ActionKind): ActionPolicyBase {
  if (kind === 'eni-configs') return actions.eniConfigs ?? DEFAULT_ENI_CONFIGS_POLICY;
  return actions[POLICY_KEY[kind]] ?? DEFAULT_SUBNET_RESERVATIONS_POLICY;
}

/** The policy in force for one cluster: the default merged with the cluster's overrides. */
export interface EffectivePolicy {
  cluster: string;
  mode: PolicyMode;
  thresholds: DiagnoseThresholds;
  actions: ActionsPolicy;
}

/** The kinds of action the planners propose (lib/plan/*.ts) and the policy governs. */
export type ActionKind =
  | 'warm-targets'
  | 'prefix-delegation'
  | 'prefix-rollout'
  | 'cni-subnets'
  | 'instance-types'
  | 'subnet-reservations'
  | 'leaked-enis'
  | 'karpenter-subnets'
  | 'karpenter-instance-types'
  | 'eni-configs';

/** Every action kind, in the plan report's order (least disruptive first); records name them so. */
export const ACTION_KINDS = [
  'warm-targets',
  'cni-subnets',
  'prefix-delegation',
  'prefix-rollout',
  'instance-types',
  'subnet-reservations',
  'leaked-enis',
  'karpenter-subnets',
  'karpenter-instance-types',
  'eni-configs',
] as const satisfies readonly ActionKind[];
/** Fails to compile while a kind of {@link ActionKind} is missing from {@link ACTION_KINDS}. */
export const ACTION_KINDS_COMPLETE: Exclude<ActionKind, (typeof ACTION_KINDS)[number]> extends never ? true : never = true;

/** The policy key of each action kind. */
export const POLICY_KEY: Record<ActionKind, keyof EffectivePolicy['actions']> = {
  'warm-targets': 'warmTargets',
  'prefix-delegation': 'prefixDelegation',
  // The rollout is part of prefix delegation: the same policy (allowed, cooldown).
  'prefix-rollout': 'prefixDelegation',
  'cni-subnets': 'cniSubnets',
  'instance-types': 'instanceTypes',
  'subnet-reservations': 'subnetReservations',
  'leaked-enis': 'leakedEnis',
  'karpenter-subnets': 'karpenterSubnets',
  'karpenter-instance-types': 'karpenterInstanceTypes',
  'eni-configs': 'eniConfigs',
};

/** Thrown for an invalid policy; `problems` names every one as `path: problem`. */
export class PolicyError extends Error {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
    this.name = 'PolicyError';
  }
}

/**
 * What `default:` in `policy.yml` sets: a mode and every action's policy; thresholds are
 * partial overrides of `DEFAULT_THRESHOLDS` (lib/diagnose/types.ts, the diagnosis's own defaults).
 */
export interface PolicySettings {
  mode: PolicyMode;
  thresholds: Partial<DiagnoseThresholds>;
  actions: ActionsPolicy;
}

/**
 * Every field optional at every depth; lists (subnet ids, instance types) are replaced whole,
 * never merged element by element.
 */
export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[]
    ? T[K]
    : T[K] extends object
      ? DeepPartial<T[K]>
      : // An optional map (`subnetReservations?`) is partial too.
        T[K] extends object | undefined
        ? DeepPartial<NonNullable<T[K]>>
        : T[K];
};

/** A cluster's entry under `clusters:`: only what differs from the default. */
export type PolicyOverride = DeepPartial<PolicySettings>;

/** `policy.yml`, validated: the default and the per-cluster overrides, by EKS cluster name. */
export interface Policy {
  version: 1;
  default: PolicySettings;
  clusters: Record<string, PolicyOverride>;
}
