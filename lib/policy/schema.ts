/**
 * The schema of `policy.yml`: what each field may hold (zod, strict: an unknown key is an
 * error, so a typo cannot silently fall back to the default) and the relations between fields
 * (min ≤ max, warning vs. critical), which are checked on the merged policy of every cluster.
 * Pure: no file access; `load.ts` reads, parses YAML and names the problems.
 */
import * as z from 'zod';
import { IPV4_ADDRESSES_PER_PREFIX } from '../capacity/instance-type';
import type { DiagnoseThresholds } from '../diagnose/types';
import { EKS_NAME_PATTERN } from '../names';
import {
  DEFAULT_ENI_CONFIGS_POLICY,
  DEFAULT_KARPENTER_INSTANCE_TYPES_POLICY,
  DEFAULT_KARPENTER_SUBNETS_POLICY,
  DEFAULT_LEAKED_ENIS_POLICY,
  DEFAULT_SUBNET_RESERVATIONS_POLICY,
  LEAKED_ENI_MIN_AGE_FLOOR_MINUTES,
  type ActionsPolicy,
  type Bounds,
} from './types';

// ---------------------------------------------------------------- ranges

/** The values a whole-number field may take, and why the range ends where it does (named in the message). */
export interface Range {
  min: number;
  max: number;
  why: string;
}

/**
 * The most max pods a node is given: "managed node groups enforce a maximum number on the value
 * of maxPods. For instances with less than 30 vCPUs, the maximum number is 110. For instances with
 * greater than 30 vCPUs, the maximum number jumps to 250" (EKS user guide, "Create a managed node
 * group", https://docs.aws.amazon.com/eks/latest/userguide/create-managed-node-group.html), the
 * ceiling of the EKS max-pods calculator (`MAX_POD_CEILING_FOR_HIGH_CPU=250`), and the most the
 * prefix-delegation planner ever proposes (lib/plan/prefix-delegation.ts applies that cap before
 * the policy's bound): a policy bound above it would change nothing.
 */
export const MAX_PODS_LIMIT = 250;

/**
 * Usable addresses of the largest subnet a VPC allows, a /16: 2^16 − 5. "The allowed block size is
 * between a /28 netmask and /16 netmask", and the first four and the last address of each subnet
 * are reserved (VPC user guide, https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html).
 */
export const SUBNET_USABLE_MAX = 2 ** (32 - 16) - 5;

/** Aligned /28 blocks in that /16: 2^16 / 16. */
const PREFIX_BLOCKS_MAX = 2 ** (32 - 16) / IPV4_ADDRESSES_PER_PREFIX;

/**
 * The range of every whole-number field of the policy. Bounds (`{min, max}`) take the range of
 * their field for both ends. Each limit says why; docs/policy.md (the policy reference) lists them.
 */
export const RANGES = {
  /** ipamd's modelled EC2 calls a minute: AssignPrivateIpAddresses refills at 300 a minute for the whole account and Region. */
  ipamdCallsPerMinuteMax: { min: 1, max: 300, why: 'AssignPrivateIpAddresses refills at 300 a minute for the whole account and Region' },
  /** Pod starts per node per minute: 12 is one per ipamd pool check (every 5 s), where the modelled rate stops growing. */
  podStartsPerNodePerMinute: { min: 0, max: 12, why: 'ipamd checks its pool every 5 s, 12 times a minute: more starts add no call' },
  cooldownMinutes: { min: 0, max: 30 * 24 * 60, why: `${30 * 24 * 60} minutes is 30 days` },
  /**
   * WARM_IP_TARGET, MINIMUM_IP_TARGET: addresses a node keeps for pods; no node runs more than
   * {@link MAX_PODS_LIMIT} pods, so a larger target holds addresses no pod can use.
   */
  ipTarget: { min: 0, max: MAX_PODS_LIMIT, why: `a node runs at most ${MAX_PODS_LIMIT} pods, so a larger target holds addresses no pod can use` },
  /**
   * WARM_PREFIX_TARGET: /28 prefixes (16 addresses each) kept warm per node;
   * ceil(250 / 16) = 16 prefixes already hold an address for every pod the node may run.
   */
  warmPrefixTarget: {
    min: 0,
    max: Math.ceil(MAX_PODS_LIMIT / IPV4_ADDRESSES_PER_PREFIX),
    why: `${Math.ceil(MAX_PODS_LIMIT / IPV4_ADDRESSES_PER_PREFIX)} /28 prefixes already hold an address for each of the ${MAX_PODS_LIMIT} pods a node may run`,
  },
  maxPods: {
    min: 1,
    max: MAX_PODS_LIMIT,
    why: `a node needs at least 1; EKS managed node groups cap max pods at ${MAX_PODS_LIMIT}, and at 110 below 30 vCPUs`,
  },
  /** Free addresses a subnet keeps: no subnet has more than a /16's. */
  overlapMarginIps: { min: 0, max: SUBNET_USABLE_MAX, why: `a /16, the largest subnet, has ${SUBNET_USABLE_MAX} usable addresses` },
  /**
   * 0 would tag nothing (the planner only reports it): `allowed: false` says that. 200 is a
   * VPC's default quota of subnets ("Subnets per VPC", adjustable:
   * https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html), and spare subnets
   * are in the cluster's VPC: a larger value is a slip, not a plan.
   */
  maxSubnetsPerAction: {
    min: 1,
    max: 200,
    why: 'to tag none set allowed: false; a VPC holds 200 subnets by default',
  },
  /**
   * CreateNodegroup takes "0-20 instance types for instanceTypes" (EKS API reference,
   * https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html); a replacement
   * needs at least one.
   */
  maxInstanceTypes: { min: 1, max: 20, why: 'a replacement needs at least 1, and EKS takes at most 20 instance types per nodegroup' },
  /**
   * Growth of a nodegroup's vCPUs or memory by a replacement. Not an AWS limit: beyond ten-fold
   * the bound no longer bounds anything a capacity plan would call a like-for-like replacement, and
   * a value that large is usually a slip (2500 for 25).
   */
  maxCapacityIncreasePercent: {
    min: 0,
    max: 1000,
    why: 'growth beyond ten-fold is a new capacity plan, not a remediation',
  },
  /**
   * CreateSubnetCidrReservation's request-token bucket holds 5 (refill 1 a second: EC2 API
   * reference, "Request throttling for the Amazon EC2 API"): an action of at most 5 creates never
   * waits on its own throttling.
   */
  maxReservationsPerAction: { min: 1, max: 5, why: 'CreateSubnetCidrReservation allows a burst of 5 calls (then 1 a second); to reserve none set allowed: false' },
  /** A reservation of at least one /28 (a prefix), at most the /28 blocks of a /16. */
  minBlocks: { min: 1, max: PREFIX_BLOCKS_MAX, why: `a prefix is one /28 block; a /16, the largest subnet, holds ${PREFIX_BLOCKS_MAX}` },
  subnetFreeIps: { min: 0, max: SUBNET_USABLE_MAX, why: `a /16, the largest subnet, has ${SUBNET_USABLE_MAX} usable addresses` },
  /** The age a leaked ENI must have before it is deleted: never below an hour (LEAKED_ENI_MIN_AGE_FLOOR_MINUTES). */
  leakedEniMinAgeMinutes: {
    min: LEAKED_ENI_MIN_AGE_FLOOR_MINUTES,
    max: 30 * 24 * 60,
    why: `an ENI younger than ${LEAKED_ENI_MIN_AGE_FLOOR_MINUTES} minutes may still be the VPC CNI's to clean up or attach; ${30 * 24 * 60} minutes is 30 days`,
  },
  /** ENIs deleted by one action (one DeleteNetworkInterface each, re-read first). */
  maxEnisPerAction: { min: 1, max: 100, why: 'to delete none set allowed: false; each delete is a call of its own' },
  prefixBlocksWarning: { min: 0, max: PREFIX_BLOCKS_MAX, why: `a /16, the largest subnet, holds ${PREFIX_BLOCKS_MAX} /28 blocks` },
} as const satisfies Record<string, Range>;

// ---------------------------------------------------------------- values

/** A whole number within `range`; the message names the value, the range and why. */
function wholeNumber(range: Range) {
  return z.number().superRefine((value, ctx) => {
    if (Number.isInteger(value) && value >= range.min && value <= range.max) return;
    ctx.addIssue({
      code: 'custom',
      message: `must be a whole number from ${range.min} to ${range.max}, not ${value} (${range.why})`,
    });
  });
}

const fraction = z.number().superRefine((value, ctx) => {
  if (value < 0 || value > 1) ctx.addIssue({ code: 'custom', message: `must be between 0 and 1, not ${value}` });
});

/**
 * EKS cluster names: 1-100 characters, letters, digits, hyphens and underscores, starting with a
 * letter or digit (CreateCluster API reference, `name` pattern `^[0-9A-Za-z][A-Za-z0-9\-_]*`).
 * The same rule as lib/config.ts's CLUSTER_NAMES.
 */
export const CLUSTER_NAME_PATTERN = EKS_NAME_PATTERN;

/**
 * Subnet ids: `subnet-` and 8 hex digits (before 2016) or 17 (since): EC2 resource ID format,
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html. Any other length is a
 * truncated or mistyped id.
 */
export const SUBNET_ID_PATTERN = /^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/**
 * An EC2 instance family (`m6i`, `c7g`, `r6id`, `mac2-m2pro`, `u-6tb1`, `u7i-12tb`) or an instance
 * type (`m6i.xlarge`, `r6id.2xlarge`, `u-6tb1.metal`, `c6i.metal-32xl`). Families are lowercase
 * letters and digits, optionally in hyphen-separated parts, and always carry a generation digit;
 * sizes are EC2's (nano ... NNxlarge, metal, metal-NNxl). Lowercase only: EKS and EC2 spell them so.
 */
export const INSTANCE_TYPE_PATTERN =
  /^(?=[a-z-]*[0-9])[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?:\.(?:nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge|metal(?:-[1-9][0-9]*xl)?))?$/;

const subnetId = z.string().regex(SUBNET_ID_PATTERN, 'is not a subnet id (subnet- and 8 or 17 hex digits)');

const instanceType = z
  .string()
  .regex(INSTANCE_TYPE_PATTERN, 'is not an instance family or type (e.g. m6i, m6i.xlarge, c7g.2xlarge)');

/** A list whose entries must be unique: a repeated entry is a copy-paste slip worth naming. */
function uniqueList<T extends z.ZodType<string>>(item: T) {
  return z.array(item).superRefine((list, ctx) => {
    list.forEach((value, i) => {
      if (list.indexOf(value) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `${value} is listed twice` });
    });
  });
}

const mode = z.enum(['observe', 'dry-run', 'apply']);

// ---------------------------------------------------------------- the default (complete)

/** `{min, max}`, both ends in `range`. */
const bounds = (range: Range) => z.strictObject({ min: wholeNumber(range), max: wholeNumber(range) });

const cooldownMinutes = wholeNumber(RANGES.cooldownMinutes);
const ipTargetBounds = bounds(RANGES.ipTarget);
const warmPrefixTargetBounds = bounds(RANGES.warmPrefixTarget);
const maxPodsBounds = bounds(RANGES.maxPods);
const overlapMarginIps = wholeNumber(RANGES.overlapMarginIps);

const warmTargets = z.strictObject({
  allowed: z.boolean(),
  cooldownMinutes,
  warmIpTarget: ipTargetBounds,
  minimumIpTarget: ipTargetBounds,
  // The ipamd EC2 call budget and the churn its model assumes; optional, so that
  // policies written before stay valid (the planner takes the defaults of lib/policy/types.ts).
  ipamdCallsPerMinuteMax: wholeNumber(RANGES.ipamdCallsPerMinuteMax).optional(),
  podStartsPerNodePerMinute: z
    .number()
    .min(RANGES.podStartsPerNodePerMinute.min, { message: `must be at least ${RANGES.podStartsPerNodePerMinute.min}` })
    .max(RANGES.podStartsPerNodePerMinute.max, { message: `must be at most ${RANGES.podStartsPerNodePerMinute.max}: ${RANGES.podStartsPerNodePerMinute.why}` })
    .optional(),
});

const prefixDelegation = z.strictObject({
  allowed: z.boolean(),
  cooldownMinutes,
  warmPrefixTarget: warmPrefixTargetBounds,
  maxPods: maxPodsBounds,
  overlapMarginIps,
});

const cniSubnets = z.strictObject({
  allowed: z.boolean(),
  cooldownMinutes,
  spareSubnets: uniqueList(subnetId),
  maxSubnetsPerAction: wholeNumber(RANGES.maxSubnetsPerAction),
  // Optional, so that policies written before it stay valid: none.
  excludableSubnets: uniqueList(subnetId).optional(),
});

const instanceTypes = z.strictObject({
  allowed: z.boolean(),
  cooldownMinutes,
  allowedTypes: uniqueList(instanceType),
  maxInstanceTypes: wholeNumber(RANGES.maxInstanceTypes),
  overlapMarginIps,
  maxCapacityIncreasePercent: wholeNumber(RANGES.maxCapacityIncreasePercent),
});

const subnetReservations = z.strictObject({
  allowed: z.boolean(),
  cooldownMinutes,
  subnets: uniqueList(subnetId),
  maxReservationsPerAction: wholeNumber(RANGES.maxReservationsPerAction),
  minBlocks: wholeNumber(RANGES.minBlocks),
});

const leakedEnis = z.strictObject({
  allowed: z.boolean(),
  cooldownMinutes,
  minAgeMinutes: wholeNumber(RANGES.leakedEniMinAgeMinutes),
  maxEnisPerAction: wholeNumber(RANGES.maxEnisPerAction),
});

/**
 * Kubernetes object names (EC2NodeClass, NodePool): DNS subdomain names, at most 253 lowercase
 * alphanumerics, `-` or `.`, starting and ending alphanumeric (Kubernetes, "Object Names and IDs").
 */
export const KUBE_NAME_PATTERN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const kubeName = z.string().regex(KUBE_NAME_PATTERN, 'is not a Kubernetes object name (lowercase letters, digits, - and .)');

const karpenterSubnets = z.strictObject({
  allowed: z.boolean(),
  cooldownMinutes,
  subnets: uniqueList(subnetId),
  nodeClasses: uniqueList(kubeName),
});

const karpenterInstanceTypes = z.strictObject({
  allowed: z.boolean(),
  cooldownMinutes,
  nodePools: uniqueList(kubeName),
  maxCapacityIncreasePercent: wholeNumber(RANGES.maxCapacityIncreasePercent),
});

/** A security group id, as EC2 writes it: `sg-` and 8 or 17 hex digits. */
const securityGroupId = z.string().regex(/^sg-([0-9a-f]{8}|[0-9a-f]{17})$/, 'is not a security group id (sg- and 8 or 17 hex digits)');

const eniConfigs = z.strictObject({
  allowed: z.boolean(),
  cooldownMinutes,
  subnets: uniqueList(subnetId),
  // Optional: the cluster security group when left out.
  securityGroups: uniqueList(securityGroupId).min(1, { message: 'must name at least one security group, or be left out (the cluster security group)' }).optional(),
});

const thresholds = z.strictObject({
  subnetFreeIpsWarning: wholeNumber(RANGES.subnetFreeIps).optional(),
  subnetFreeIpsCritical: wholeNumber(RANGES.subnetFreeIps).optional(),
  subnetUtilizationWarning: fraction.optional(),
  nodesAtIpLimitWarningShare: fraction.optional(),
  nodesAtIpLimitCriticalShare: fraction.optional(),
  heldByOthersShare: fraction.optional(),
  prefixBlocksWarning: wholeNumber(RANGES.prefixBlocksWarning).optional(),
  maxPodsWasteShare: fraction.optional(),
});

/** `default:` — every field but the thresholds is required: the file is the policy reference. */
export const policySettingsSchema = z.strictObject({
  mode,
  thresholds: thresholds.optional().transform((t) => t ?? {}),
  actions: z.strictObject({
    warmTargets,
    prefixDelegation,
    cniSubnets,
    instanceTypes,
    // Optional: a policy written before it stays valid; left out, not allowed.
    subnetReservations: subnetReservations.optional().transform((v) => v ?? { ...DEFAULT_SUBNET_RESERVATIONS_POLICY }),
    // Optional, so that a policy written before it stays valid; absent = not allowed.
    leakedEnis: leakedEnis.optional().transform((v) => v ?? { ...DEFAULT_LEAKED_ENIS_POLICY }),
    // Optional: absent = not allowed.
    karpenterSubnets: karpenterSubnets.optional().transform((v) => v ?? { ...DEFAULT_KARPENTER_SUBNETS_POLICY }),
    karpenterInstanceTypes: karpenterInstanceTypes.optional().transform((v) => v ?? { ...DEFAULT_KARPENTER_INSTANCE_TYPES_POLICY }),
    // Optional, so that a policy written before it stays valid; absent = not allowed.
    eniConfigs: eniConfigs.optional().transform((v) => v ?? { ...DEFAULT_ENI_CONFIGS_POLICY }),
  }),
});

// ---------------------------------------------------------------- a cluster's overrides (deep partial)

/** `clusters.<name>:` — any subset of the default, at any depth. */
export const policyOverrideSchema = z.strictObject({
  mode: mode.optional(),
  thresholds: thresholds.optional(),
  actions: z
    .strictObject({
      warmTargets: warmTargets
        .extend({ warmIpTarget: ipTargetBounds.partial().optional(), minimumIpTarget: ipTargetBounds.partial().optional() })
        .partial()
        .optional(),
      prefixDelegation: prefixDelegation
        .extend({ warmPrefixTarget: warmPrefixTargetBounds.partial().optional(), maxPods: maxPodsBounds.partial().optional() })
        .partial()
        .optional(),
      cniSubnets: cniSubnets.partial().optional(),
      instanceTypes: instanceTypes.partial().optional(),
      subnetReservations: subnetReservations.partial().optional(),
      leakedEnis: leakedEnis.partial().optional(),
      karpenterSubnets: karpenterSubnets.partial().optional(),
      karpenterInstanceTypes: karpenterInstanceTypes.partial().optional(),
      eniConfigs: eniConfigs.partial().optional(),
    })
    .optional(),
});

/**
 * The file's top level. `default` and each cluster are checked by their own schema (load.ts),
 * so that a problem in one does not hide the problems of the others. `clusters:` with every
 * entry commented out is YAML null: the same as no overrides.
 */
export const policyFileSchema = z.strictObject({
  version: z.literal(1),
  default: z.unknown().optional(),
  clusters: z.record(z.string(), z.unknown()).nullish(),
});

/** Every key the schemas know, for "did you mean" on an unknown key. */
export const KNOWN_KEYS: readonly string[] = [
  'version',
  'default',
  'clusters',
  ...Object.keys(policySettingsSchema.shape),
  ...Object.keys(thresholds.shape),
  ...Object.keys(policySettingsSchema.shape.actions.shape),
  ...Object.keys(warmTargets.shape),
  ...Object.keys(prefixDelegation.shape),
  ...Object.keys(cniSubnets.shape),
  ...Object.keys(instanceTypes.shape),
  ...Object.keys(subnetReservations.shape),
  ...Object.keys(leakedEnis.shape),
  ...Object.keys(karpenterSubnets.shape),
  ...Object.keys(karpenterInstanceTypes.shape),
  ...Object.keys(eniConfigs.shape),
  ...Object.keys(ipTargetBounds.shape),
].filter((key, i, all) => all.indexOf(key) === i);

// ---------------------------------------------------------------- relations

/** A problem at a path relative to a settings block (`actions.warmTargets.warmIpTarget`). */
export interface RelationProblem {
  path: string;
  problem: string;
}

/** The merged settings of one cluster: what the relations are checked on. */
export interface MergedSettings {
  thresholds: DiagnoseThresholds;
  actions: ActionsPolicy;
}

function boundsProblem(path: string, b: Bounds): RelationProblem[] {
  return b.min > b.max ? [{ path, problem: `min ${b.min} is above max ${b.max}` }] : [];
}

/**
 * The relations a field's own schema cannot see: every range's min ≤ max, the critical
 * threshold at or below the warning one, and max pods of at least 1 (the schema's range too;
 * repeated here for policies built in code, which reach effectivePolicy without it). Checked on the merged
 * settings, because an override may satisfy its own schema and still cross the default (a
 * cluster's `warmIpTarget.min: 20` against the default's `max: 16`).
 */
export function relationProblems(s: MergedSettings): RelationProblem[] {
  const { warmTargets: w, prefixDelegation: p } = s.actions;
  const t = s.thresholds;
  const problems: RelationProblem[] = [
    ...boundsProblem('actions.warmTargets.warmIpTarget', w.warmIpTarget),
    ...boundsProblem('actions.warmTargets.minimumIpTarget', w.minimumIpTarget),
    ...boundsProblem('actions.prefixDelegation.warmPrefixTarget', p.warmPrefixTarget),
    ...boundsProblem('actions.prefixDelegation.maxPods', p.maxPods),
  ];
  // A node runs at least its own host-network pods; max pods 0 would leave it unusable.
  if (p.maxPods.min < 1) {
    problems.push({ path: 'actions.prefixDelegation.maxPods', problem: `min ${p.maxPods.min} must be at least 1` });
  }
  if (t.subnetFreeIpsCritical > t.subnetFreeIpsWarning) {
    problems.push({
      path: 'thresholds.subnetFreeIpsCritical',
      problem: `${t.subnetFreeIpsCritical} is above subnetFreeIpsWarning ${t.subnetFreeIpsWarning} (critical must be at or below warning)`,
    });
  }
  if (t.nodesAtIpLimitWarningShare > t.nodesAtIpLimitCriticalShare) {
    problems.push({
      path: 'thresholds.nodesAtIpLimitWarningShare',
      problem: `${t.nodesAtIpLimitWarningShare} is above nodesAtIpLimitCriticalShare ${t.nodesAtIpLimitCriticalShare} (warning must be at or below critical)`,
    });
  }
  return problems;
}
