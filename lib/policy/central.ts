/**
 * The central remediation policy (param `centralPolicy`): where it is, how it is narrowed to the
 * packaged policy (the IAM ceiling), and what is in force when it cannot be used. Pure: the read
 * itself is lib/aws/central-policy.ts.
 * Design: docs/policy.md#central-policy
 */
import { effectivePolicy, parsePolicyJson, policyError, POLICY_MAX_BYTES, policyVersion } from './load';
import {
  actionPolicyOf,
  ACTION_KINDS,
  DEFAULT_IPAMD_CALLS_PER_MINUTE_MAX,
  DEFAULT_MAX_CAPACITY_INCREASE_PERCENT,
  DEFAULT_OVERLAP_MARGIN_IPS,
  DEFAULT_POD_STARTS_PER_NODE_PER_MINUTE,
  POLICY_KEY,
  PolicyError,
  type ActionsPolicy,
  type Policy,
  type PolicyOverride,
} from './types';

/** Where the central policy is: an SSM parameter (by its full ARN, as a RAM-shared one must be read) or an S3 object. */
export type CentralPolicyLocation =
  | { kind: 'ssm'; arn: string; partition: string; region: string; account: string; name: string }
  | { kind: 's3'; url: string; bucket: string; key: string };

// arn:<partition>:ssm:<region>:<account>:parameter/<name without its leading slash>
// (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html);
// names: a-zA-Z0-9_.- and / (PutParameter, Name), at most 2,048 characters with the ARN.
const SSM_ARN = /^arn:(aws[a-z-]*):ssm:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):parameter\/([a-zA-Z0-9_.\-/]{1,1011})$/;
// Bucket names: 3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter
// or digit (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html); keys: up to 1,024 bytes.
// The key becomes the Resource of the functions' s3:GetObject grant (resources/roles.yml): no `*` or
// `?` (IAM wildcards: `s3://bucket/*` would grant every object of the bucket), no `$` (a policy
// variable, `${aws:username}`), no control characters.
const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/([^*?$]{1,1024})$/;
const hasControlCharacter = (text: string): boolean => [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** The problem of a `centralPolicy` value, worded for the param. */
export const CENTRAL_POLICY_FORMS = 'must be empty, an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/<name>) or s3://<bucket>/<key>';

/**
 * Parses `centralPolicy` (CENTRAL_POLICY in the functions): empty is none.
 * @throws PolicyError naming the value and the forms it may take.
 */
export function parseCentralPolicyLocation(value: string): CentralPolicyLocation | undefined {
  const text = value.trim();
  if (text === '') return undefined;
  const ssm = SSM_ARN.exec(text);
  if (ssm) {
    const [, partition = '', region = '', account = '', name = ''] = ssm;
    if (!name.includes('//') && !name.endsWith('/')) return { kind: 'ssm', arn: text, partition, region, account, name };
  }
  const s3 = S3_URL.exec(text);
  if (s3 && !s3[1]?.includes('..') && !hasControlCharacter(s3[2] ?? '')) return { kind: 's3', url: text, bucket: s3[1] ?? '', key: s3[2] ?? '' };
  const problem = `centralPolicy: ${JSON.stringify(text.slice(0, 120))} ${CENTRAL_POLICY_FORMS}`;
  throw new PolicyError(problem, [problem]);
}

/** How a location is named in problems, logs and ledger records. */
export function locationText(location: CentralPolicyLocation): string {
  return location.kind === 'ssm' ? location.arn : location.url;
}

/** How a refused part is named: `<path>: <value> refused: beyond the packaged policy (...): <what is in force>`. */
const BEYOND = 'refused: beyond the packaged policy';

/** The lists of an action's policy that scope what it may touch: a central policy may keep only what the packaged one lists. */
const SCOPE_LISTS: ReadonlyArray<readonly [keyof ActionsPolicy, string]> = [
  ['cniSubnets', 'spareSubnets'],
  ['cniSubnets', 'excludableSubnets'],
  ['instanceTypes', 'allowedTypes'],
  ['subnetReservations', 'subnets'],
  ['eniConfigs', 'subnets'],
  ['karpenterSubnets', 'subnets'],
  ['karpenterSubnets', 'nodeClasses'],
  ['karpenterInstanceTypes', 'nodePools'],
];

/**
 * The numbers of an action's policy that bound how much it may do, and which way is more: a
 * central value on the permissive side of the packaged one is the packaged one. `atMost`: a larger
 * value does more (more subnets, ENIs, reservations or instance types per action, more capacity
 * growth, a larger ipamd call budget); `atLeast`: a smaller value does more (a shorter cooldown,
 * a younger leaked ENI, a thinner overlap margin, a smaller reservation, less assumed pod churn in
 * the ipamd call model). `fallback` is what the planner takes for an optional field left out
 * (lib/policy/types.ts). Bounds (`{min, max}` of the values an action may set) are intersected by
 * their two ends. Every kind's `cooldownMinutes` is `atLeast` (below).
 */
const CAPPED_NUMBERS: ReadonlyArray<{ key: keyof ActionsPolicy; path: readonly string[]; way: 'atMost' | 'atLeast'; fallback?: number }> = [
  { key: 'warmTargets', path: ['warmIpTarget', 'min'], way: 'atLeast' },
  { key: 'warmTargets', path: ['warmIpTarget', 'max'], way: 'atMost' },
  { key: 'warmTargets', path: ['minimumIpTarget', 'min'], way: 'atLeast' },
  { key: 'warmTargets', path: ['minimumIpTarget', 'max'], way: 'atMost' },
  { key: 'warmTargets', path: ['ipamdCallsPerMinuteMax'], way: 'atMost', fallback: DEFAULT_IPAMD_CALLS_PER_MINUTE_MAX },
  { key: 'warmTargets', path: ['podStartsPerNodePerMinute'], way: 'atLeast', fallback: DEFAULT_POD_STARTS_PER_NODE_PER_MINUTE },
  { key: 'prefixDelegation', path: ['warmPrefixTarget', 'min'], way: 'atLeast' },
  { key: 'prefixDelegation', path: ['warmPrefixTarget', 'max'], way: 'atMost' },
  { key: 'prefixDelegation', path: ['maxPods', 'min'], way: 'atLeast' },
  { key: 'prefixDelegation', path: ['maxPods', 'max'], way: 'atMost' },
  { key: 'prefixDelegation', path: ['overlapMarginIps'], way: 'atLeast', fallback: DEFAULT_OVERLAP_MARGIN_IPS },
  { key: 'cniSubnets', path: ['maxSubnetsPerAction'], way: 'atMost' },
  { key: 'instanceTypes', path: ['maxInstanceTypes'], way: 'atMost' },
  { key: 'instanceTypes', path: ['overlapMarginIps'], way: 'atLeast', fallback: DEFAULT_OVERLAP_MARGIN_IPS },
  { key: 'instanceTypes', path: ['maxCapacityIncreasePercent'], way: 'atMost', fallback: DEFAULT_MAX_CAPACITY_INCREASE_PERCENT },
  { key: 'subnetReservations', path: ['maxReservationsPerAction'], way: 'atMost' },
  { key: 'subnetReservations', path: ['minBlocks'], way: 'atLeast' },
  { key: 'leakedEnis', path: ['minAgeMinutes'], way: 'atLeast' },
  { key: 'leakedEnis', path: ['maxEnisPerAction'], way: 'atMost' },
  { key: 'karpenterInstanceTypes', path: ['maxCapacityIncreasePercent'], way: 'atMost' },
];

type Entry = Record<string, unknown>;

/** The number at `path` of an entry, or undefined. */
function numberAt(entry: Entry | undefined, path: readonly string[]): number | undefined {
  let node: unknown = entry;
  for (const segment of path) node = typeof node === 'object' && node !== null ? (node as Entry)[segment] : undefined;
  return typeof node === 'number' ? node : undefined;
}

function setNumberAt(entry: Entry, path: readonly string[], value: number): void {
  let node = entry;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    node = typeof next === 'object' && next !== null ? (next as Entry) : (node[segment] = {});
  }
  node[path[path.length - 1] ?? ''] = value;
}

/**
 * Holds each allowed action's numbers ({@link CAPPED_NUMBERS}, every cooldown) to the packaged
 * ones, naming each changed; an action whose bounds no longer meet (central min above the
 * packaged max) is not allowed, and keeps the packaged bounds.
 */
function capNumbers(name: string, actions: Record<string, Entry | undefined>, ceiling: ActionsPolicy, refused: string[]): void {
  const keys = [...new Set(ACTION_KINDS.map((kind) => POLICY_KEY[kind]))];
  const rules = [...keys.map((key) => ({ key, path: ['cooldownMinutes'], way: 'atLeast' as const, fallback: undefined })), ...CAPPED_NUMBERS];
  for (const { key, path, way, fallback } of rules) {
    const entry = actions[key];
    if (!entry || entry['allowed'] !== true) continue;
    const capEntry = ceiling[key] as unknown as Entry | undefined;
    const wanted = numberAt(entry, path) ?? fallback;
    const limit = numberAt(capEntry, path) ?? fallback;
    if (wanted === undefined || limit === undefined) continue;
    if (way === 'atMost' ? wanted <= limit : wanted >= limit) continue;
    refused.push(`clusters.${name}.actions.${key}.${path.join('.')}: ${wanted} ${BEYOND} (${way === 'atMost' ? 'at most' : 'at least'} ${limit} there): ${limit}`);
    setNumberAt(entry, path, limit);
  }
  for (const key of keys) {
    const entry = actions[key];
    if (!entry || entry['allowed'] !== true) continue;
    for (const bound of ['warmIpTarget', 'minimumIpTarget', 'warmPrefixTarget', 'maxPods']) {
      const min = numberAt(entry, [bound, 'min']);
      const max = numberAt(entry, [bound, 'max']);
      if (min === undefined || max === undefined || min <= max) continue;
      refused.push(`clusters.${name}.actions.${key}.${bound}: no value within both the central and the packaged bounds: not allowed`);
      entry['allowed'] = false;
      // The packaged bounds, so that the policy stays valid (min ≤ max) with the action not allowed.
      entry[bound] = structuredClone((ceiling[key] as unknown as Entry | undefined)?.[bound]);
    }
  }
}

/**
 * The security groups `eni-configs` gives pod ENIs: only groups the packaged policy names. Left
 * out there, the cluster security group (a central list is dropped); named there, a central
 * policy that names none of them (or leaves them out: the cluster security group) may not act.
 */
function capSecurityGroups(name: string, actions: Record<string, Entry | undefined>, ceiling: ActionsPolicy, refused: string[]): void {
  const entry = actions['eniConfigs'];
  if (!entry || entry['allowed'] !== true) return;
  const wanted = Array.isArray(entry['securityGroups']) ? (entry['securityGroups'] as string[]) : undefined;
  const listed = ceiling.eniConfigs?.securityGroups;
  const path = `clusters.${name}.actions.eniConfigs.securityGroups`;
  if (!listed) {
    if (wanted) {
      refused.push(`${path}: ${wanted.join(', ')} ${BEYOND} (the cluster security group there): the cluster security group`);
      delete entry['securityGroups'];
    }
    return;
  }
  const kept = (wanted ?? []).filter((sg) => listed.includes(sg));
  if (kept.length === 0) {
    refused.push(`${path}: ${wanted ? wanted.join(', ') : 'the cluster security group'} ${BEYOND} (${listed.join(', ')} there): not allowed`);
    entry['allowed'] = false;
  } else if (wanted && kept.length < wanted.length) {
    refused.push(`${path}: ${wanted.filter((sg) => !listed.includes(sg)).join(', ')} ${BEYOND} (not listed there): left out`);
    entry['securityGroups'] = kept;
  }
}

/**
 * The central policy held to the packaged one (the ceiling: the stack's IAM writes and
 * Kubernetes writer group were derived from it at packaging). Only a cluster in apply mode can
 * change anything, so only those are checked: apply where the packaged policy has the cluster in
 * another mode becomes dry-run; an action kind the packaged policy does not allow on the cluster
 * becomes not allowed; an item of a scope list (subnets, instance types, node classes, NodePools)
 * the packaged policy does not list for it is dropped; a number that bounds how much an action
 * does (bounds, per-action counts, cooldowns, margins: {@link CAPPED_NUMBERS}) is held to the
 * packaged one; the security groups of `eni-configs` to those the packaged policy names. Modes
 * below apply and the diagnosis thresholds apply as they are: the thresholds decide which
 * findings are raised (what the central team is notified of), not what an action may change, and
 * every action a finding leads to is still held to the kinds, lists, numbers and opt-in tag above
 * (docs/policy.md#central-policy).
 * @returns the narrowed policy and one problem per refused part, naming it.
 */
export function narrowToCeiling(central: Policy, ceiling: Policy): { policy: Policy; refused: string[] } {
  const refused: string[] = [];
  const clusters: Record<string, PolicyOverride> = { ...central.clusters };
  for (const [name, override] of Object.entries(central.clusters)) {
    const wanted = effectivePolicy(central, name);
    if (wanted.mode !== 'apply') continue;
    const cap = effectivePolicy(ceiling, name);
    if (cap.mode !== 'apply') {
      refused.push(`clusters.${name}.mode: apply ${BEYOND} (${cap.mode} there): ${name} runs in dry-run`);
      clusters[name] = { ...override, mode: 'dry-run' };
      continue;
    }
    const before = refused.length;
    const actions = structuredClone(wanted.actions) as unknown as Record<string, Record<string, unknown> | undefined>;
    const keys = [...new Set(ACTION_KINDS.map((kind) => POLICY_KEY[kind]))];
    for (const key of keys) {
      const kind = ACTION_KINDS.find((k) => POLICY_KEY[k] === key) ?? 'warm-targets';
      const entry = actions[key];
      if (!entry || entry['allowed'] !== true) continue;
      if (!actionPolicyOf(cap.actions, kind).allowed) {
        refused.push(`clusters.${name}.actions.${key}.allowed: true ${BEYOND} (not allowed there): not allowed`);
        entry['allowed'] = false;
      }
    }
    for (const [key, list] of SCOPE_LISTS) {
      const entry = actions[key];
      const items = entry?.[list];
      if (!entry || entry['allowed'] !== true || !Array.isArray(items)) continue;
      const capEntry = cap.actions[key] as unknown as Record<string, unknown> | undefined;
      const capItems = new Set(Array.isArray(capEntry?.[list]) ? (capEntry[list] as unknown[]) : []);
      const outside = items.filter((item) => !capItems.has(item));
      if (outside.length > 0) {
        refused.push(`clusters.${name}.actions.${key}.${list}: ${outside.map(String).join(', ')} ${BEYOND} (not listed there): left out`);
        entry[list] = items.filter((item) => capItems.has(item));
      }
    }
    capNumbers(name, actions, cap.actions, refused);
    capSecurityGroups(name, actions, cap.actions, refused);
    // Only a cluster with a refused part gets its actions written out whole.
    if (refused.length > before) clusters[name] = { ...override, actions: actions as unknown as PolicyOverride['actions'] };
  }
  return { policy: { ...central, clusters }, refused };
}

/** The policy with every cluster in apply mode switched to dry-run: it plans as before and changes nothing. */
export function actingOnNothing(policy: Policy): Policy {
  const clusters: Record<string, PolicyOverride> = { ...policy.clusters };
  for (const [name, override] of Object.entries(policy.clusters)) {
    if (effectivePolicy(policy, name).mode === 'apply') clusters[name] = { ...override, mode: 'dry-run' };
  }
  return { ...policy, clusters };
}

/** Where the policy in force came from: in every log line and action record. */
export interface PolicySourceInfo {
  from: 'bundle' | 'POLICY_JSON' | 'central';
  /** lib/policy/load.ts policyVersion of the JSON as read. */
  version: string;
  /** The central policy's ARN or s3:// URL. */
  location?: string;
  /** The SSM parameter's Version, or the S3 object's ETag. */
  revision?: string;
}

/** The policy a cycle runs under, and what is wrong with its source (named in the cycle's problems). */
export interface PolicyInForce {
  policy: Policy;
  source: PolicySourceInfo;
  /** Refused parts of the central policy, or why it could not be used. */
  problems: string[];
  /** The central policy could not be read or validated: every cluster is in dry-run. */
  unavailable?: boolean;
}

/**
 * How long a central policy read and validated in this container may still be planned with once
 * the central policy cannot be read (in dry-run only): an hour, so that a short outage of the
 * read does not change what the plans and notifications say; after that the packaged policy's.
 */
export const LAST_GOOD_MAX_AGE_MS = 3_600_000;

/**
 * The central policy as read, validated exactly as the bundled one is (parsePolicyJson, the same
 * messages, the same size bound), then narrowed to the ceiling.
 * @throws PolicyError naming every problem of the document.
 */
export function centralPolicyInForce(text: string, location: CentralPolicyLocation, ceiling: Policy, revision?: string): PolicyInForce {
  const where = `central policy ${locationText(location)}`;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > POLICY_MAX_BYTES) throw policyError(where, [`(top level): the policy is ${bytes} bytes, above the ${POLICY_MAX_BYTES} bytes it may take`]);
  const parsed = parsePolicyJson(text, where);
  const { policy, refused } = narrowToCeiling(parsed, ceiling);
  return {
    policy,
    source: { from: 'central', version: policyVersion(text), location: locationText(location), ...(revision ? { revision } : {}) },
    problems: refused.map((r) => `${where}: ${r}`),
  };
}

/**
 * What is in force when the central policy cannot be used: nothing acts (every cluster in
 * dry-run), planned with the last central policy this container validated if it is younger than
 * {@link LAST_GOOD_MAX_AGE_MS}, else with the packaged one. Never a more permissive policy.
 */
export function unavailableInForce(
  problem: string,
  location: CentralPolicyLocation,
  packaged: PolicyInForce,
  lastGood: { inForce: PolicyInForce; at: number } | undefined,
  now: number,
): PolicyInForce {
  const recent = lastGood && now - lastGood.at <= LAST_GOOD_MAX_AGE_MS ? lastGood.inForce : undefined;
  const base = recent ?? packaged;
  const planned = recent ? `the last central policy read (version ${recent.source.version}, ${Math.round((now - (lastGood?.at ?? now)) / 60_000)} min ago)` : 'the packaged policy';
  return {
    policy: actingOnNothing(base.policy),
    source: base.source,
    problems: [`central policy ${locationText(location)} unavailable: ${problem}; acting on nothing (every cluster in dry-run, planned with ${planned})`],
    unavailable: true,
  };
}
