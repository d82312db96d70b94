/**
 * The EventBridge event patterns that select the events the responder acts on, and a matcher
 * implementing the EventBridge rules those patterns use, so that tests can check the sample
 * events against the very patterns the stack deploys. Sources are cited on each pattern.
 */
import { EXHAUSTION_ERROR_CODES, IPV4_ALLOCATION_APIS } from './exhaustion';
import { CREATE_FLEET_EXHAUSTION_CODES } from './parse/create-fleet';
import { ANSWERED_ALARM_SUFFIXES } from './stack-alarms';

/** One condition on a leaf field: an exact value or a content filter. */
export type PatternCondition =
  | string
  | number
  | boolean
  | null
  | { readonly prefix: string | { readonly 'equals-ignore-case': string } }
  | { readonly suffix: string | { readonly 'equals-ignore-case': string } }
  | { readonly 'equals-ignore-case': string }
  | { readonly wildcard: string }
  | { readonly exists: boolean }
  | {
      readonly 'anything-but':
        | string
        | number
        | readonly (string | number)[]
        | { readonly prefix: string }
        | { readonly suffix: string }
        | { readonly wildcard: string }
        | { readonly 'equals-ignore-case': string | readonly string[] };
    };

/**
 * An EventBridge event pattern: every field must match; a leaf is a list of conditions of which
 * one must match; `$or` is a list of patterns of which one must match. JSON-serialisable as is.
 */
export interface EventPattern {
  readonly [field: string]: readonly PatternCondition[] | EventPattern | readonly EventPattern[];
}

export const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';
export const AUTOSCALING_LAUNCH_UNSUCCESSFUL_DETAIL_TYPE = 'EC2 Instance Launch Unsuccessful';
export const ALARM_STATE_CHANGE_DETAIL_TYPE = 'CloudWatch Alarm State Change';
/** Per-contributor state changes of multi-time-series (Metrics Insights GROUP BY) alarms. */
export const ALARM_CONTRIBUTOR_STATE_CHANGE_DETAIL_TYPE = 'CloudWatch Alarm Contributor State Change';

/** A code as CloudTrail writes it (`Client.` prefix) and as the EC2 API answers it. */
function withAndWithoutClientPrefix(codes: readonly string[]): string[] {
  return codes.flatMap((code) => [code, `Client.${code}`]);
}

/**
 * One `$or` branch per set of APIs an exhaustion code applies to, so that the rule selects
 * exactly what the parser acts on (AttachmentLimitExceeded only on AttachNetworkInterface).
 */
function exhaustionCodeBranches(): EventPattern[] {
  const byApis = new Map<string, { apis: readonly string[]; codes: string[] }>();
  for (const [code, entry] of Object.entries(EXHAUSTION_ERROR_CODES)) {
    const apis = entry.apis ?? IPV4_ALLOCATION_APIS;
    const key = apis.join(',');
    const group = byApis.get(key) ?? { apis, codes: [] };
    group.codes.push(code);
    byApis.set(key, group);
  }
  return [...byApis.values()].map(({ apis, codes }) => ({ eventName: [...apis], errorCode: withAndWithoutClientPrefix(codes) }));
}

/**
 * CreateFleet (type instant: Karpenter, EKS Auto Mode) whose response lists a launch that failed for
 * lack of subnet addresses: the call succeeds (no `errorCode`), its errors are in the response that
 * CloudTrail records (`responseElements.CreateFleetResponse.errorSet.item[].errorCode`). An event
 * array of objects matches when one element does. Exact values only: adds nothing to the rule's
 * complexity. Why and with which limits: docs/responder.md, "Karpenter's CreateFleet"; the parser:
 * lib/events/parse/create-fleet.ts.
 */
const CREATE_FLEET_EXHAUSTION_BRANCH: EventPattern = {
  eventName: ['CreateFleet'],
  responseElements: {
    CreateFleetResponse: { errorSet: { item: { errorCode: withAndWithoutClientPrefix(Object.keys(CREATE_FLEET_EXHAUSTION_CODES)) } } },
  },
};

/**
 * Failed EC2 calls that allocate IPv4 addresses, with an exhaustion error code, or
 * `InvalidParameterValue` with the "sufficient free Ipv4 addresses or prefixes" message.
 *
 * - CloudTrail: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
 *   (needs a trail with logging enabled; failed write calls arrive with `errorCode`)
 */
export const CLOUDTRAIL_ALLOCATION_FAILURE_PATTERN: EventPattern = {
  source: ['aws.ec2'],
  'detail-type': [CLOUDTRAIL_DETAIL_TYPE],
  detail: {
    eventSource: ['ec2.amazonaws.com'],
    $or: [
      ...exhaustionCodeBranches(),
      {
        eventName: [...IPV4_ALLOCATION_APIS],
        errorCode: withAndWithoutClientPrefix(['InvalidParameterValue']),
        // Wildcard, not prefix: the apostrophe of "aren't" is not worth betting on.
        errorMessage: [{ wildcard: '*sufficient free Ipv4 addresses or prefixes*' }],
      },
      CREATE_FLEET_EXHAUSTION_BRANCH,
    ],
  },
};

/**
 * Auto Scaling launch failures whose message may be about free addresses; the parser
 * (classifyLaunchFailureMessage in ./exhaustion.ts) decides, and ignores the rest.
 *
 * Two wildcards, not one per wording: EventBridge refuses a pattern whose event-ruler complexity
 * is too high ("Rule is too complex"), and every `*…*` wildcard on the field adds 3
 * (./pattern-complexity.ts; one per wording, five, scored 15). These two score 6 and select
 * every message the five did, case-sensitively as EventBridge matches:
 * - `*ree*`: "free" and "Free", so "free addresses", "free Ipv4 addresses" (the "sufficient free
 *   Ipv4 addresses or prefixes" message), "free cidr blocks" and the code
 *   InsufficientFreeAddressesInSubnet;
 * - `*CidrBlocks*`: the code InsufficientCidrBlocks, should a message quote it without EC2's text.
 * The capacity messages of other launch failures ("We currently do not have sufficient m5.large
 * capacity...", InsufficientInstanceCapacity) contain neither. What else `*ree*` lets through
 * (a "degree", an "agreement") the parser ignores before any claim.
 *
 * - Auto Scaling: https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html
 */
export const AUTOSCALING_LAUNCH_FAILURE_PATTERN: EventPattern = {
  source: ['aws.autoscaling'],
  'detail-type': [AUTOSCALING_LAUNCH_UNSUCCESSFUL_DETAIL_TYPE],
  detail: {
    StatusMessage: [{ wildcard: '*ree*' }, { wildcard: '*CidrBlocks*' }],
  },
};

/**
 * State changes (alarm-level and per contributor) of the stack's own alarms that the responder
 * answers, by exact name `<alarmNamePrefix><suffix>`: a prefix would also select the alarms of a
 * stage whose name starts with this one's (`prod` and `prod-eu`), and the unanswered ones
 * (./stack-alarms.ts NOT_ANSWERED) are not delivered at all.
 *
 * - CloudWatch alarms: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html
 */
export function alarmStateChangePattern(alarmNamePrefix: string): EventPattern {
  if (alarmNamePrefix === '') throw new RangeError("alarmNamePrefix must not be empty: it is the stack's <service>-<stage>-");
  return {
    source: ['aws.cloudwatch'],
    'detail-type': [ALARM_STATE_CHANGE_DETAIL_TYPE, ALARM_CONTRIBUTOR_STATE_CHANGE_DETAIL_TYPE],
    detail: { alarmName: ANSWERED_ALARM_SUFFIXES.map((suffix) => `${alarmNamePrefix}${suffix}`) },
  };
}

export type EventPatternName = 'cloudTrailAllocationFailure' | 'autoScalingLaunchFailure' | 'alarmStateChange';

/**
 * The stage-independent patterns. The alarm pattern depends on the stack's alarm names
 * (`<service>-<stage>-<suffix>`): get all three from {@link eventPatterns}.
 */
export const EVENT_PATTERNS = {
  cloudTrailAllocationFailure: CLOUDTRAIL_ALLOCATION_FAILURE_PATTERN,
  autoScalingLaunchFailure: AUTOSCALING_LAUNCH_FAILURE_PATTERN,
} as const satisfies Partial<Record<EventPatternName, EventPattern>>;

/** Every pattern of the event-driven responder, one EventBridge rule each. */
export function eventPatterns(alarmNamePrefix: string): Readonly<Record<EventPatternName, EventPattern>> {
  return { ...EVENT_PATTERNS, alarmStateChange: alarmStateChangePattern(alarmNamePrefix) };
}

// ---------------------------------------------------------------------------------------------
// Matching

/**
 * Whether EventBridge would deliver `event` to a rule with `pattern`. Implements what the
 * patterns here use and a little more: exact values, `prefix`, `suffix`, `equals-ignore-case`,
 * `wildcard`, `exists`, `anything-but` (value, list, prefix, suffix, wildcard, ignore-case) and
 * `$or`. An event array matches if any element matches. An operator it does not implement
 * (`numeric`, `cidr`) throws rather than guessing.
 *
 * Pattern syntax and matching rules:
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return matchObject(pattern, event, '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matchObject(pattern: EventPattern, value: unknown, at: string): boolean {
  // An array of objects in the event (CloudTrail's `item` lists) matches when one element does.
  if (Array.isArray(value)) return value.some((v) => matchObject(pattern, v, at));
  for (const [key, sub] of Object.entries(pattern)) {
    const where = at === '' ? key : `${at}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2 || !sub.every(isRecord)) {
        throw new TypeError(`event pattern ${where}: $or takes a list of at least two patterns`);
      }
      if (!(sub as EventPattern[]).some((p) => matchObject(p, value, at))) return false;
      continue;
    }
    const present = isRecord(value) && Object.prototype.hasOwnProperty.call(value, key);
    const field = present ? value[key] : undefined;
    if (Array.isArray(sub)) {
      if (sub.length === 0) throw new TypeError(`event pattern ${where}: empty list of conditions`);
      if (!matchLeaf(sub as PatternCondition[], present, field, where)) return false;
    } else if (isRecord(sub)) {
      // A nested pattern against a missing field can still match through `exists: false`.
      if (!matchObject(sub as EventPattern, field, where)) return false;
    } else {
      throw new TypeError(`event pattern ${where}: expected a list of conditions or a nested pattern`);
    }
  }
  return true;
}

function matchLeaf(conditions: readonly PatternCondition[], present: boolean, field: unknown, where: string): boolean {
  if (!present) return conditions.some((c) => isRecord(c) && 'exists' in c && c.exists === false);
  const values = Array.isArray(field) ? field : [field];
  return conditions.some((c) => matchCondition(c, values, where));
}

function matchCondition(condition: PatternCondition, values: readonly unknown[], where: string): boolean {
  if (!isRecord(condition)) return values.some((v) => v === condition);
  const keys = Object.keys(condition);
  if (keys.length !== 1) throw new TypeError(`event pattern ${where}: a condition has exactly one operator, got ${JSON.stringify(condition)}`);
  const op = keys[0] as string;
  const arg = (condition as Record<string, unknown>)[op];
  switch (op) {
    case 'exists':
      return arg === true;
    case 'prefix':
      return values.some((v) => typeof v === 'string' && affixMatches(v, arg, 'prefix', where));
    case 'suffix':
      return values.some((v) => typeof v === 'string' && affixMatches(v, arg, 'suffix', where));
    case 'equals-ignore-case':
      return values.some((v) => typeof v === 'string' && typeof arg === 'string' && v.toLowerCase() === arg.toLowerCase());
    case 'wildcard':
      if (typeof arg !== 'string') throw new TypeError(`event pattern ${where}: wildcard takes a string`);
      return values.some((v) => typeof v === 'string' && wildcardRegExp(arg).test(v));
    case 'anything-but':
      return values.some((v) => !anythingButExcludes(arg, v, where));
    default:
      throw new TypeError(`event pattern ${where}: operator "${op}" is not implemented by matchesPattern`);
  }
}

function affixMatches(value: string, arg: unknown, op: 'prefix' | 'suffix', where: string): boolean {
  let affix: string;
  let ignoreCase = false;
  if (typeof arg === 'string') affix = arg;
  else if (isRecord(arg) && typeof arg['equals-ignore-case'] === 'string') {
    affix = arg['equals-ignore-case'];
    ignoreCase = true;
  } else throw new TypeError(`event pattern ${where}: ${op} takes a string or { "equals-ignore-case": string }`);
  const v = ignoreCase ? value.toLowerCase() : value;
  const a = ignoreCase ? affix.toLowerCase() : affix;
  return op === 'prefix' ? v.startsWith(a) : v.endsWith(a);
}

/** Whether `anything-but: arg` rules `value` out. */
function anythingButExcludes(arg: unknown, value: unknown, where: string): boolean {
  if (typeof arg === 'string' || typeof arg === 'number') return value === arg;
  if (Array.isArray(arg)) return arg.includes(value);
  if (isRecord(arg)) {
    const [op, inner] = Object.entries(arg)[0] ?? [];
    // String filters inside anything-but only ever match strings: a non-string value does not
    // match the condition at all (treated as excluded).
    if (typeof value !== 'string') return true;
    if (op === 'prefix' && typeof inner === 'string') return value.startsWith(inner);
    if (op === 'suffix' && typeof inner === 'string') return value.endsWith(inner);
    if (op === 'wildcard' && typeof inner === 'string') return wildcardRegExp(inner).test(value);
    if (op === 'equals-ignore-case') {
      const list = Array.isArray(inner) ? inner : [inner];
      return list.some((s) => typeof s === 'string' && s.toLowerCase() === value.toLowerCase());
    }
  }
  throw new TypeError(`event pattern ${where}: unsupported anything-but argument ${JSON.stringify(arg)}`);
}

/** `*` matches any run of characters, `\*` a literal star; everything else is literal. */
function wildcardRegExp(wildcard: string): RegExp {
  let re = '';
  for (let i = 0; i < wildcard.length; i++) {
    const c = wildcard[i] as string;
    if (c === '\\' && wildcard[i + 1] === '*') {
      re += '\\*';
      i++;
    } else if (c === '*') re += '[\\s\\S]*';
    else re += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
