/**
 * The remediation policy validated with every problem named as `<path>: <problem>` (from JSON
 * here; from policy.yml in lib/policy/yaml.ts), and the policy in force for one cluster.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { DEFAULT_THRESHOLDS, type DiagnoseThresholds } from '../diagnose/types';
import { zodProblems } from '../errors';
import {
  CLUSTER_NAME_PATTERN,
  KNOWN_KEYS,
  RANGES,
  policyFileSchema,
  policyOverrideSchema,
  policySettingsSchema,
  relationProblems,
} from './schema';
import {
  PolicyError,
  type DeepPartial,
  type EffectivePolicy,
  type Policy,
  type PolicyOverride,
  type PolicySettings,
} from './types';

export type { Policy, PolicyOverride, PolicySettings } from './types';

/**
 * The most the policy may take as compact JSON. The deployed functions carry it in their package
 * (lib/policy/bundled.ts), not in an environment variable, so Lambda's 4 KB of environment does
 * not bound it; this bound only stops a runaway file (a generated policy that repeats itself):
 * 64 KB is several hundred cluster entries, and each bundle grows by the policy's size.
 */
export const POLICY_MAX_BYTES = 65_536;

/**
 * The most a policy file may take on disk, checked before it is parsed: 16 times
 * {@link POLICY_MAX_BYTES}, room for comments and indentation around the largest policy the
 * stack takes. A larger file could not become a deployable policy; reading it whole would only
 * make the YAML parser slow (or run out of memory on a file that is not a policy at all).
 */
export const POLICY_FILE_MAX_BYTES = 16 * POLICY_MAX_BYTES;

/**
 * Why `default.mode: apply` is refused. With it, every cluster of the region would be in apply
 * mode, and the cluster tag alone (which anyone allowed to tag clusters can set) would decide
 * which ones change; and the responder's IAM role is granted remediation writes only on the
 * clusters named under `clusters:` with `mode: apply` (lib/policy/iam.ts, computed when the
 * stack is packaged), so an unnamed cluster could not be changed anyway.
 */
export const DEFAULT_APPLY_PROBLEM =
  'apply is not allowed for the default: name each cluster the responder may change under clusters: with mode: apply ' +
  '(the stack grants its IAM writes on those clusters only), and keep the default dry-run or observe';

type Path = readonly PropertyKey[];

/** `clusters.prod.actions.cniSubnets.spareSubnets[1]`. */
function pathText(path: Path): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text === '' ? '(top level)' : text;
}

/** A value as the operator wrote it, for "must be ..., not <value>". */
function describe(value: unknown): string {
  if (value === null) return 'empty (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return String(value);
}

const EXPECTED: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  string: 'a string',
  object: 'a map',
  record: 'a map',
  array: 'a list',
};

/**
 * Messages for what the schemas leave to zod's defaults (missing or mistyped values, values
 * outside an enum), worded for someone editing YAML.
 */
const parseOptions = {
  error: (issue: z.core.$ZodRawIssue): string | undefined => {
    if (issue.code === 'invalid_type' || issue.code === 'invalid_value') {
      if (issue.input === undefined) return 'is required';
    }
    if (issue.code === 'invalid_type') {
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${describe(issue.input)}`;
    }
    if (issue.code === 'invalid_value') {
      const allowed = issue.values.map(String);
      const expected = allowed.length === 1 ? String(allowed[0]) : `one of ${allowed.join(', ')}`;
      return `must be ${expected}, not ${describe(issue.input)}`;
    }
    return undefined;
  },
};

/** Edit distance, for "did you mean" on an unknown key (`warmIPTarget`, `cooldownMinute`). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The names of `clusters:` closest to `name` (edit distance, case ignored first), at most `count`:
 * for "did you mean" on a cluster the policy does not name.
 */
export function closestClusterNames(policy: Policy, name: string, count = 3): string[] {
  const lower = name.toLowerCase();
  return Object.keys(policy.clusters)
    .map((known) => ({ known, d: distance(lower, known.toLowerCase()), exact: distance(name, known) }))
    .sort((x, y) => x.d - y.d || x.exact - y.exact || x.known.localeCompare(y.known))
    .slice(0, count)
    .map((c) => c.known);
}

function unknownKeyProblem(key: string): string {
  const lower = key.toLowerCase();
  const best = KNOWN_KEYS.map((known) => ({ known, d: distance(lower, known.toLowerCase()) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 2 ? `unknown key (did you mean ${best.known}?)` : 'unknown key';
}

/** Where in the source a path is: the line of its deepest key that exists. */
export type Locate = (path: Path) => number | undefined;

function problem(path: Path, text: string, locate: Locate): string {
  const line = locate(path);
  return `${pathText(path)}: ${text}${line === undefined ? '' : ` (line ${line})`}`;
}

/** Names every issue of a zod error as `<path>: <problem>`, paths under `prefix`. */
function problemsOf(error: z.ZodError, prefix: Path, locate: Locate): string[] {
  return zodProblems(error, { prefix, pathText, keepLead: true, unknownKey: unknownKeyProblem }).map((p) => problem(p.path, p.problem, locate));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `base` with `override` laid over it at every depth; lists and scalars replace, maps merge.
 * Returns new objects and lists throughout: the result shares nothing with its inputs.
 */
function deepMerge<T>(base: T, override: DeepPartial<T> | undefined): T {
  if (!isPlainObject(base)) return structuredClone(base);
  const result: Record<string, unknown> = structuredClone(base);
  if (override !== undefined) {
    for (const [key, value] of Object.entries(override as Record<string, unknown>)) {
      if (value === undefined) continue;
      result[key] = isPlainObject(value) && isPlainObject(result[key]) ? deepMerge(result[key], value) : structuredClone(value);
    }
  }
  return result as T;
}

/**
 * The part of an invalid entry whose keys exist in `like` and whose values have the type of
 * `like`'s: enough to check the relations of an entry that also has other problems.
 */
function usablePart(value: unknown, like: unknown): unknown {
  if (isPlainObject(like)) {
    if (!isPlainObject(value)) return undefined;
    const part: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const usable = Object.prototype.hasOwnProperty.call(like, key) ? usablePart(v, like[key]) : undefined;
      if (usable !== undefined) part[key] = usable;
    }
    return part;
  }
  return typeof value === typeof like && !Array.isArray(like) ? value : undefined;
}

/**
 * `value` without the values its own issues name: a value out of its range is named by the
 * schema, and is not also checked against the others (min 300 is not "above max 16" as well).
 * A list with a bad item goes whole (lists are replaced whole); unknown keys are left to
 * {@link usablePart}.
 */
function withoutProblemValues(value: unknown, issues: readonly z.core.$ZodIssue[]): unknown {
  if (!isPlainObject(value)) return value;
  const copy = structuredClone(value);
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') continue;
    let node: unknown = copy;
    let parent: Record<string, unknown> | undefined;
    let key: string | undefined;
    for (const segment of issue.path) {
      if (!isPlainObject(node) || typeof segment !== 'string') break;
      parent = node;
      key = segment;
      node = node[segment];
    }
    if (parent && key !== undefined) delete parent[key];
  }
  return copy;
}

const fullRange = (r: { min: number; max: number }) => ({ min: r.min, max: r.max });

/**
 * Settings whose every relation holds whatever is laid over them: each range as wide as its field
 * may be, the thresholds the built-in ones. What an invalid default is completed with, where its
 * own values are missing or named as problems, so that the relations of what is usable of it are
 * still checked: no filler value makes a relation problem of its own.
 */
const NEUTRAL_SETTINGS: PolicySettings = {
  mode: 'observe',
  thresholds: { ...DEFAULT_THRESHOLDS },
  actions: {
    warmTargets: { allowed: false, cooldownMinutes: 0, warmIpTarget: fullRange(RANGES.ipTarget), minimumIpTarget: fullRange(RANGES.ipTarget) },
    prefixDelegation: {
      allowed: false,
      cooldownMinutes: 0,
      warmPrefixTarget: fullRange(RANGES.warmPrefixTarget),
      maxPods: fullRange(RANGES.maxPods),
      overlapMarginIps: 0,
    },
    cniSubnets: { allowed: false, cooldownMinutes: 0, spareSubnets: [], maxSubnetsPerAction: RANGES.maxSubnetsPerAction.min },
    instanceTypes: { allowed: false, cooldownMinutes: 0, allowedTypes: [], maxInstanceTypes: RANGES.maxInstanceTypes.min, overlapMarginIps: 0, maxCapacityIncreasePercent: 0 },
    subnetReservations: { allowed: false, cooldownMinutes: 0, subnets: [], maxReservationsPerAction: RANGES.maxReservationsPerAction.min, minBlocks: RANGES.minBlocks.min },
    leakedEnis: { allowed: false, cooldownMinutes: 0, minAgeMinutes: RANGES.leakedEniMinAgeMinutes.min, maxEnisPerAction: RANGES.maxEnisPerAction.min },
    karpenterSubnets: { allowed: false, cooldownMinutes: 0, subnets: [], nodeClasses: [] },
    karpenterInstanceTypes: { allowed: false, cooldownMinutes: 0, nodePools: [], maxCapacityIncreasePercent: 0 },
    eniConfigs: { allowed: false, cooldownMinutes: 0, subnets: [] },
  },
};

/**
 * What is usable of an invalid `default:` (without the values its own issues name, and with only
 * the keys and types of the settings), completed with {@link NEUTRAL_SETTINGS}: as a cluster entry
 * with problems, its relations are still checked, so that every problem is named at once.
 */
function usableDefault(value: unknown, issues: readonly z.core.$ZodIssue[]): PolicySettings {
  const usable = usablePart(withoutProblemValues(value, issues), NEUTRAL_SETTINGS);
  return deepMerge(NEUTRAL_SETTINGS, usable as DeepPartial<PolicySettings> | undefined);
}

function mergeSettings(
  defaults: PolicySettings,
  override: PolicyOverride | undefined,
  baseThresholds: DiagnoseThresholds,
): Omit<EffectivePolicy, 'cluster'> {
  const settings = deepMerge(defaults, override);
  return {
    mode: settings.mode,
    thresholds: deepMerge(baseThresholds, settings.thresholds),
    actions: settings.actions,
  };
}

/**
 * The error of an invalid policy: a first line naming the file and the count, then each problem
 * as `<file>: <path>: <problem>`.
 * @param total the count to name, when `problems` lists only the first of them.
 */
export function policyError(file: string, problems: string[], total = problems.length): PolicyError {
  const count = total === 1 ? '1 problem' : `${total} problems`;
  return new PolicyError(`invalid remediation policy ${file} (${count}):\n${problems.map((p) => `${file}: ${p}`).join('\n')}`, problems);
}

/**
 * Validates a policy already parsed from YAML or JSON: the default, every cluster's overrides,
 * and the relations (min ≤ max, critical vs. warning) of the merged policy of every cluster,
 * naming every problem, not the first.
 * @param file named in the error: the path of the file, `POLICY_JSON` or the bundled policy.
 * @param locate the line of a path in the source, when the source has lines (lib/policy/yaml.ts).
 * @throws PolicyError whose message names `file` and each problem as `<path>: <problem>`
 *   (`clusters.prod.actions.warmTargets.warmIpTarget: min 20 is above max 16 (line 42)`).
 */
export function checkPolicy(raw: unknown, file: string, locate: Locate = () => undefined): Policy {
  if (raw === null || raw === undefined) {
    throw policyError(file, ['(top level): the file is empty; a policy needs version, default and clusters']);
  }

  const problems: string[] = [];
  const top = policyFileSchema.safeParse(raw, parseOptions);
  if (!top.success) problems.push(...problemsOf(top.error, [], locate));
  const rawTop = isPlainObject(raw) ? raw : {};

  const parsedDefault = policySettingsSchema.safeParse(rawTop['default'], parseOptions);
  if (!parsedDefault.success) problems.push(...problemsOf(parsedDefault.error, ['default'], locate));

  const clusters: Record<string, PolicyOverride> = {};
  // Entries with problems of their own: their relations are still checked (below), on what is usable.
  const rejected: Record<string, unknown> = {};
  const rawClusters = isPlainObject(rawTop['clusters']) ? rawTop['clusters'] : {};
  for (const [name, value] of Object.entries(rawClusters)) {
    if (!CLUSTER_NAME_PATTERN.test(name)) {
      problems.push(
        problem(['clusters', name], 'is not a valid EKS cluster name (1-100 letters, digits, - and _, starting with a letter or digit)', locate),
      );
    }
    const parsed = policyOverrideSchema.safeParse(value, parseOptions);
    if (parsed.success) clusters[name] = parsed.data;
    else {
      problems.push(...problemsOf(parsed.error, ['clusters', name], locate));
      rejected[name] = withoutProblemValues(value, parsed.error.issues);
    }
  }

  // An invalid default is checked on what is usable of it, as a cluster entry with problems is;
  // without a default at all there is nothing to check the relations on.
  const defaults: PolicySettings | undefined = parsedDefault.success
    ? parsedDefault.data
    : isPlainObject(rawTop['default'])
      ? usableDefault(rawTop['default'], parsedDefault.error.issues)
      : undefined;
  if (defaults) {
    if (defaults.mode === 'apply') problems.push(problem(['default', 'mode'], DEFAULT_APPLY_PROBLEM, locate));
    const template = mergeSettings(defaults, undefined, DEFAULT_THRESHOLDS);
    const defaultRelations = relationProblems(template);
    const seen = new Set(defaultRelations.map((r) => `${r.path}: ${r.problem}`));
    for (const r of defaultRelations) problems.push(problem(['default', ...r.path.split('.')], r.problem, locate));
    const overrides = Object.entries(clusters).concat(
      Object.entries(rejected).map(([name, value]) => [name, usablePart(value, template) as PolicyOverride]),
    );
    for (const [name, override] of overrides) {
      // A problem the default already has is named once, where it is: under default.
      for (const r of relationProblems(mergeSettings(defaults, override, DEFAULT_THRESHOLDS))) {
        if (!seen.has(`${r.path}: ${r.problem}`)) problems.push(problem(['clusters', name, ...r.path.split('.')], r.problem, locate));
      }
    }
  }

  if (problems.length > 0 || !parsedDefault.success) throw policyError(file, problems);
  return { version: 1, default: parsedDefault.data, clusters };
}

/**
 * Parses and validates a policy given as JSON: the policy the stack bundles into the functions,
 * or POLICY_JSON. No YAML parser: the deployed functions do not carry one for this
 * (lib/policy/yaml.ts parses policy.yml for the CLI and the stack).
 * @throws PolicyError naming `file` and each problem.
 */
export function parsePolicyJson(text: string, file: string): Policy {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw policyError(file, [`(top level): not JSON: ${err instanceof Error ? err.message : String(err)}`]);
  }
  return checkPolicy(raw, file);
}

/**
 * The policy in force for one cluster: the default with the cluster's overrides laid over it
 * (maps merge at every depth, lists and values replace), and the thresholds over `baseThresholds`.
 * A cluster without an entry gets the default. Names are matched exactly (EKS names are
 * case-sensitive).
 * @param baseThresholds what the policy's thresholds override: the diagnosis's defaults, or
 *   the thresholds of the runtime configuration.
 * @throws PolicyError when the policy's thresholds, laid over a `baseThresholds` other than the
 *   defaults it was validated against, break a relation (critical above warning).
 */
export function effectivePolicy(
  policy: Policy,
  cluster: string,
  baseThresholds: DiagnoseThresholds = DEFAULT_THRESHOLDS,
): EffectivePolicy {
  const override = Object.prototype.hasOwnProperty.call(policy.clusters, cluster) ? policy.clusters[cluster] : undefined;
  const merged = mergeSettings(policy.default, override, baseThresholds);
  const relations = relationProblems(merged);
  if (relations.length > 0) {
    throw policyError(
      `policy of cluster ${cluster}`,
      relations.map((r) => `${r.path}: ${r.problem}`),
    );
  }
  return { cluster, ...merged };
}

/**
 * The policy as compact JSON, as the stack bundles it into the functions (and as POLICY_JSON
 * overrides it); `parsePolicy` reads it back.
 * @throws PolicyError when it is above {@link POLICY_MAX_BYTES}.
 */
export function policyJson(policy: Policy, file: string): string {
  const json = JSON.stringify(policy);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > POLICY_MAX_BYTES) {
    throw policyError(file, [
      `(top level): the policy is ${bytes} bytes as compact JSON, above the ${POLICY_MAX_BYTES} bytes it may take ` +
        '(it is compiled into each function); remove cluster overrides that repeat the default or shorten lists',
    ]);
  }
  return json;
}

/**
 * The policy's version: the first 12 hex digits of the SHA-256 of its compact JSON. The stack
 * puts it in the functions' POLICY_VERSION variable (visible in the Lambda console) and the
 * functions check that the policy they carry has it.
 */
export function policyVersion(json: string): string {
  return createHash('sha256').update(json, 'utf8').digest('hex').slice(0, 12);
}

/**
 * The clusters in apply mode (the default never is: parsePolicy refuses it), in the order of
 * `clusters:`: the only ones the stack grants writes on, in IAM (lib/policy/iam.ts) and in
 * Kubernetes (the writer group of the responder's access entries, stack/kubernetes.ts).
 */
export function applyModeClusters(policy: Policy): string[] {
  return Object.keys(policy.clusters).filter((name) => effectivePolicy(policy, name).mode === 'apply');
}
