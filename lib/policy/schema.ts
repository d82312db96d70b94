/**
 * The schema of `policy.yml`: what each field may hold (zod, strict: an unknown key is an
 * error, so a typo cannot silently fall back to the default) and the relations between fields
 * (min ≤ max, warning vs. critical), which are checked on the merged policy of every cluster.
 * Pure: no file access; `load.ts` reads, parses YAML and names the problems.
 */
import * as z from 'zod';
import type { DiagnoseThresholds } from '../diagnose/types';
import { EKS_NAME_PATTERN } from '../inventory/names';
import type { ActionsPolicy, Bounds } from './types';

// ---------------------------------------------------------------- values

const count = z.number().int('must be a whole number').min(0, 'must not be negative');

const fraction = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');

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

const bounds = z.strictObject({ min: count, max: count });

const warmTargets = z.strictObject({
  allowed: z.boolean(),
  cooldownMinutes: count,
  warmIpTarget: bounds,
  minimumIpTarget: bounds,
});

const prefixDelegation = z.strictObject({
  allowed: z.boolean(),
  cooldownMinutes: count,
  warmPrefixTarget: bounds,
  maxPods: bounds,
  overlapMarginIps: count,
});

const cniSubnets = z.strictObject({
  allowed: z.boolean(),
  cooldownMinutes: count,
  spareSubnets: uniqueList(subnetId),
  maxSubnetsPerAction: count,
});

const instanceTypes = z.strictObject({
  allowed: z.boolean(),
  cooldownMinutes: count,
  allowedTypes: uniqueList(instanceType),
  maxInstanceTypes: count,
  overlapMarginIps: count,
  maxCapacityIncreasePercent: count,
});

const thresholds = z.strictObject({
  subnetFreeIpsWarning: count.optional(),
  subnetFreeIpsCritical: count.optional(),
  subnetUtilizationWarning: fraction.optional(),
  nodesAtIpLimitWarningShare: fraction.optional(),
  nodesAtIpLimitCriticalShare: fraction.optional(),
  heldByOthersShare: fraction.optional(),
  prefixBlocksWarning: count.optional(),
});

/** `default:` — every field but the thresholds is required: the file is the policy reference. */
export const policySettingsSchema = z.strictObject({
  mode,
  thresholds: thresholds.optional().transform((t) => t ?? {}),
  actions: z.strictObject({ warmTargets, prefixDelegation, cniSubnets, instanceTypes }),
});

// ---------------------------------------------------------------- a cluster's overrides (deep partial)

const partialBounds = bounds.partial();

/** `clusters.<name>:` — any subset of the default, at any depth. */
export const policyOverrideSchema = z.strictObject({
  mode: mode.optional(),
  thresholds: thresholds.optional(),
  actions: z
    .strictObject({
      warmTargets: warmTargets
        .extend({ warmIpTarget: partialBounds.optional(), minimumIpTarget: partialBounds.optional() })
        .partial()
        .optional(),
      prefixDelegation: prefixDelegation
        .extend({ warmPrefixTarget: partialBounds.optional(), maxPods: partialBounds.optional() })
        .partial()
        .optional(),
      cniSubnets: cniSubnets.partial().optional(),
      instanceTypes: instanceTypes.partial().optional(),
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
  ...Object.keys(bounds.shape),
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
 * threshold at or below the warning one, and max pods of at least 1. Checked on the merged
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
