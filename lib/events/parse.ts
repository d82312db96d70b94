/**
 * The events the event-driven responder receives from EventBridge: validated, classified, and
 * reduced to what they concern (subnets, ENIs, instances, cluster and nodegroup hints). Pure: no
 * AWS calls, no environment, no logging.
 *
 * Shapes, exactly as EventBridge delivers them to a Lambda target:
 * - CloudTrail ("AWS API Call via CloudTrail", source aws.ec2): the CloudTrail record is `detail`.
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 *   EC2's request parameters are recorded in the API's query-protocol names, lower camel case
 *   (`subnetId`, `secondaryPrivateIpAddressCount`, `tagSpecificationSet.items[].tags[]`), and its
 *   error codes with a `Client.` prefix.
 * - Auto Scaling ("EC2 Instance Launch Unsuccessful", source aws.autoscaling):
 *   https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html
 * - CloudWatch ("CloudWatch Alarm State Change" and, for multi-time-series Metrics Insights
 *   alarms, "CloudWatch Alarm Contributor State Change", source aws.cloudwatch):
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html
 */
import * as z from 'zod';
import { formatFieldPath, problemList, zodProblems } from '../errors';
import { CLUSTER_TAG_PREFIX } from '../names';
import {
  classifyEc2Error,
  classifyLaunchFailureMessage,
  isIpv4AllocationApi,
  type ExhaustionKind,
} from './exhaustion';
import {
  ALARM_CONTRIBUTOR_STATE_CHANGE_DETAIL_TYPE,
  ALARM_STATE_CHANGE_DETAIL_TYPE,
  AUTOSCALING_LAUNCH_UNSUCCESSFUL_DETAIL_TYPE,
  CLOUDTRAIL_DETAIL_TYPE,
} from './patterns';

export type { ExhaustionKind } from './exhaustion';

/** An EC2 call or an Auto Scaling launch failed because IPv4 addresses ran out. */
export interface AllocationFailureEvent {
  type: 'allocation-failure';
  /** The EventBridge event `id`: the same for every delivery of one event (idempotency key). */
  eventId: string;
  /** The EventBridge event `time` (for CloudTrail, the API call's time). */
  time: string;
  region: string;
  account: string;
  source: 'cloudtrail' | 'autoscaling';
  kind: ExhaustionKind;
  /** EC2's error code without CloudTrail's `Client.` prefix; for Auto Scaling, the code its message implies. */
  errorCode: string;
  errorMessage: string;
  /** `ec2:<Action>`, e.g. `ec2:AssignPrivateIpAddresses`. Auto Scaling launches are `ec2:RunInstances`. */
  api: string;
  subnetIds: string[];
  networkInterfaceIds: string[];
  instanceIds: string[];
  autoScalingGroupName?: string;
  /** From cluster tags in the request (`eks:cluster-name`, `cluster.k8s.amazonaws.com/name`, `kubernetes.io/cluster/<name>`). */
  clusterNameHint?: string;
  /** From the `eks:nodegroup-name` tag, or a managed nodegroup's Auto Scaling group name `eks-<nodegroup>-<uuid>`. */
  nodegroupHint?: string;
}

/** A state change of one of the stack's own alarms. */
export interface AlarmEvent {
  type: 'alarm';
  eventId: string;
  time: string;
  region: string;
  account: string;
  alarmName: string;
  state: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';
  /** The previous state's value; '' for contributor events, which carry none. */
  previousState: string;
  reason: string;
  /** Present for "CloudWatch Alarm Contributor State Change": the time series that changed state. */
  contributors?: { clusterName?: string; subnetId?: string }[];
}

/** A valid event that is not about exhaustion: logged with its reason and ignored. */
export interface IgnoredEvent {
  type: 'ignored';
  eventId: string;
  reason: string;
}

export type ResponderEvent = AllocationFailureEvent | AlarmEvent | IgnoredEvent;

export interface EventProblem {
  /** Where in the event, from its top (`detail.requestParameters.subnetId`). */
  readonly path: string;
  readonly problem: string;
}

/**
 * The event is not one the responder can read: not an EventBridge event, from a source it does not
 * subscribe to, or with a field missing or of the wrong type. The message names the detail-type
 * and every field at fault (`"AWS API Call via CloudTrail" event 6f1c...:
 * detail.requestParameters.subnetId: expected string, received number`).
 */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
  readonly detailType: string | undefined;
  readonly problems: readonly EventProblem[];

  constructor(detailType: string | undefined, eventId: string | undefined, problems: readonly EventProblem[], options?: { cause?: unknown }) {
    const label = `${detailType === undefined ? 'event' : `"${detailType}" event`}${eventId === undefined ? '' : ` ${eventId}`}`;
    super(`${label}: ${problemList(problems.map((p) => ({ field: p.path, problem: p.problem })))}`, options);
    this.detailType = detailType;
    this.problems = problems;
  }

  /** The first field at fault. */
  get path(): string | undefined {
    return this.problems[0]?.path;
  }
}

export interface ParseOptions {
  /** The stack's alarm name prefix, `<service>-<stage>-`: alarms without it are ignored. */
  alarmNamePrefix: string;
  /**
   * The stack's alarm names after the prefix. Given, an alarm under the prefix with another name
   * is ignored (stage `prod` shares its prefix with a stage `prod-eu`), and so is one listed in
   * `unanswered`, with the reason given there.
   */
  stackAlarms?: { names: readonly string[]; unanswered?: Readonly<Record<string, string>> };
}

// ---------------------------------------------------------------------------------------------
// Schemas: the fields read here, loose so that everything else AWS adds passes.

/**
 * Bounds on an event, so that a poison event is rejected instead of crashing the handler.
 * - `maxIdLength`: EventBridge ids are UUIDs (36 characters); the id is the ledger claim's
 *   partition key, which DynamoDB caps at 2,048 bytes
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html), and
 *   256 UTF-16 characters are at most 768 UTF-8 bytes.
 * - `maxBytes`: EventBridge's largest event is 256 KB
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html).
 * - `maxDepth`: nesting levels, the event itself being level 1. A CloudTrail record of RunInstances
 *   nests about a dozen; the bound keeps every walk over the event shallow.
 */
export const EVENT_LIMITS = { maxIdLength: 256, maxBytes: 256 * 1024, maxDepth: 64 } as const;

const envelopeSchema = z
  .unknown()
  .superRefine((event, ctx) => {
    const problem = boundsProblem(event);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, path: [] });
  })
  // The shape is checked only within the bounds (a pipe stops at the first schema's issues).
  .pipe(
    z.looseObject({
      version: z.string(),
      id: z.string().min(1).max(EVENT_LIMITS.maxIdLength),
      'detail-type': z.string(),
      source: z.string(),
      account: z.string(),
      time: z.string(),
      region: z.string(),
      resources: z.array(z.string()),
      detail: z.looseObject({}),
    }),
  );
type Envelope = z.infer<typeof envelopeSchema>;

const cloudTrailDetailSchema = z.looseObject({
  eventVersion: z.string(),
  userIdentity: z.looseObject({ type: z.string().optional(), arn: z.string().optional() }),
  eventTime: z.string(),
  eventSource: z.string(),
  eventName: z.string(),
  awsRegion: z.string(),
  errorCode: z.string().optional(),
  errorMessage: z.string().optional(),
  // Per-API shapes below; CloudTrail writes null when a call has no parameters.
  requestParameters: z.looseObject({}).nullable().optional(),
  eventID: z.string(),
});

const count = z.number().int().nonnegative();
const ec2TagSchema = z.looseObject({ key: z.string(), value: z.string().optional() });
const tagSpecificationSetSchema = z.looseObject({
  items: z.array(z.looseObject({ resourceType: z.string().optional(), tags: z.array(ec2TagSchema).optional() })),
});

/** What the request parameters of each IPv4 allocation API must look like, where we read them. */
const requestParameterSchemas = {
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkInterface.html (SubnetId required)
  CreateNetworkInterface: z.looseObject({
    subnetId: z.string(),
    description: z.string().optional(),
    secondaryPrivateIpAddressCount: count.optional(),
    ipv4PrefixCount: count.optional(),
    tagSpecificationSet: tagSpecificationSetSchema.optional(),
  }),
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssignPrivateIpAddresses.html
  AssignPrivateIpAddresses: z.looseObject({
    networkInterfaceId: z.string(),
    secondaryPrivateIpAddressCount: count.optional(),
    ipv4PrefixCount: count.optional(),
  }),
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AttachNetworkInterface.html
  AttachNetworkInterface: z.looseObject({
    networkInterfaceId: z.string(),
    instanceId: z.string(),
    deviceIndex: z.number().int().optional(),
    networkCardIndex: z.number().int().optional(),
  }),
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html
  RunInstances: z.looseObject({
    subnetId: z.string().optional(),
    networkInterfaceSet: z
      .looseObject({
        items: z.array(
          z.looseObject({
            subnetId: z.string().optional(),
            networkInterfaceId: z.string().optional(),
            ipv4PrefixCount: count.optional(),
          }),
        ),
      })
      .optional(),
    tagSpecificationSet: tagSpecificationSetSchema.optional(),
  }),
} as const;

const autoScalingDetailSchema = z.looseObject({
  StatusCode: z.string(),
  AutoScalingGroupName: z.string(),
  ActivityId: z.string(),
  StatusMessage: z.string(),
  Details: z.looseObject({ 'Subnet ID': z.string().optional(), 'Availability Zone': z.string().optional() }).optional(),
  EC2InstanceId: z.string().optional(),
  Cause: z.string().optional(),
});

const alarmNameSchema = z.looseObject({ alarmName: z.string().min(1) });
const alarmStateSchema = z.looseObject({
  value: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']),
  // Absent for PromQL alarms, so optional rather than a reason to reject the event.
  reason: z.string().optional(),
  timestamp: z.string().optional(),
});
const alarmStateChangeSchema = z.looseObject({
  alarmName: z.string(),
  state: alarmStateSchema,
  previousState: z.looseObject({ value: z.string() }).optional(),
});
const alarmContributorStateChangeSchema = z.looseObject({
  alarmName: z.string(),
  state: alarmStateSchema,
  alarmContributor: z.looseObject({ id: z.string(), attributes: z.record(z.string(), z.string()) }),
});

// ---------------------------------------------------------------------------------------------

/**
 * Validates an EventBridge event and says what it means to the responder.
 *
 * @throws {MalformedEventError} when the event is not an EventBridge event from a source the
 *   responder subscribes to, or a field it reads is missing or of the wrong type.
 */
export function parseResponderEvent(event: unknown, opts: ParseOptions): ResponderEvent {
  if (opts.alarmNamePrefix === '') throw new RangeError('alarmNamePrefix must not be empty');
  const head = peekHead(event);
  const envelope = check(envelopeSchema, event, [], head);

  switch (envelope.source) {
    case 'aws.ec2':
      if (envelope['detail-type'] === CLOUDTRAIL_DETAIL_TYPE) return parseCloudTrail(envelope);
      break;
    case 'aws.autoscaling':
      if (envelope['detail-type'] === AUTOSCALING_LAUNCH_UNSUCCESSFUL_DETAIL_TYPE) return parseAutoScaling(envelope);
      break;
    case 'aws.cloudwatch':
      if (
        envelope['detail-type'] === ALARM_STATE_CHANGE_DETAIL_TYPE ||
        envelope['detail-type'] === ALARM_CONTRIBUTOR_STATE_CHANGE_DETAIL_TYPE
      ) {
        return parseAlarm(envelope, opts);
      }
      break;
    default:
      throw new MalformedEventError(head.detailType, head.id, [
        {
          path: 'source',
          problem:
            `unexpected source "${clip(envelope.source)}": the responder subscribes to aws.ec2 "${CLOUDTRAIL_DETAIL_TYPE}", ` +
            `aws.autoscaling "${AUTOSCALING_LAUNCH_UNSUCCESSFUL_DETAIL_TYPE}" and aws.cloudwatch "${ALARM_STATE_CHANGE_DETAIL_TYPE}" / "${ALARM_CONTRIBUTOR_STATE_CHANGE_DETAIL_TYPE}"`,
        },
      ]);
  }
  // A source we subscribe to, but a kind of event no rule of ours selects.
  return ignored(envelope, `${envelope.source} "${envelope['detail-type']}" events are not about IPv4 exhaustion`);
}

function parseCloudTrail(envelope: Envelope): ResponderEvent {
  const detail = check(cloudTrailDetailSchema, envelope.detail, ['detail'], headOf(envelope));
  const api = `ec2:${detail.eventName}`;
  if (detail.eventSource !== 'ec2.amazonaws.com') {
    return ignored(envelope, `${detail.eventSource} ${detail.eventName} is not an EC2 API call`);
  }
  if (detail.errorCode === undefined) return ignored(envelope, `${api} succeeded (no errorCode)`);
  const errorMessage = detail.errorMessage ?? '';
  const call = { eventName: detail.eventName, errorCode: detail.errorCode, errorMessage };

  // Decide first on what needs no request parameters, so that an event we ignore is never
  // rejected for the shape of parameters we would not read.
  const first = classifyEc2Error({ ...call, requestedPrefixes: false });
  if (!first.exhaustion || !isIpv4AllocationApi(detail.eventName)) {
    return ignored(envelope, first.exhaustion ? `${api} is not an IPv4 allocation API` : first.reason);
  }

  const raw = detail.requestParameters ?? {};
  const params = check(requestParameterSchemas[detail.eventName], raw, ['detail', 'requestParameters'], headOf(envelope));
  const classified = classifyEc2Error({ ...call, requestedPrefixes: requestsPrefixes(params) });
  if (!classified.exhaustion) return ignored(envelope, classified.reason);

  const subnetIds: string[] = [];
  const networkInterfaceIds: string[] = [];
  const instanceIds: string[] = [];
  let tags: TagHints = {};
  switch (detail.eventName) {
    case 'CreateNetworkInterface': {
      const p = params as z.infer<typeof requestParameterSchemas.CreateNetworkInterface>;
      subnetIds.push(p.subnetId);
      tags = tagHints(p.tagSpecificationSet);
      // The VPC CNI describes its ENIs "aws-K8S-<instance-id>" and tags them with the instance.
      const described = /^aws-K8S-(i-[0-9a-f]+)$/.exec(p.description ?? '')?.[1];
      if (described !== undefined) instanceIds.push(described);
      break;
    }
    case 'AssignPrivateIpAddresses': {
      const p = params as z.infer<typeof requestParameterSchemas.AssignPrivateIpAddresses>;
      networkInterfaceIds.push(p.networkInterfaceId);
      break;
    }
    case 'AttachNetworkInterface': {
      const p = params as z.infer<typeof requestParameterSchemas.AttachNetworkInterface>;
      networkInterfaceIds.push(p.networkInterfaceId);
      instanceIds.push(p.instanceId);
      break;
    }
    case 'RunInstances': {
      const p = params as z.infer<typeof requestParameterSchemas.RunInstances>;
      if (p.subnetId !== undefined) subnetIds.push(p.subnetId);
      for (const ni of p.networkInterfaceSet?.items ?? []) {
        if (ni.subnetId !== undefined) subnetIds.push(ni.subnetId);
        if (ni.networkInterfaceId !== undefined) networkInterfaceIds.push(ni.networkInterfaceId);
      }
      tags = tagHints(p.tagSpecificationSet);
      break;
    }
  }
  if (tags.instanceId !== undefined) instanceIds.push(tags.instanceId);

  const autoScalingGroupName = tags.autoScalingGroupName;
  const nodegroupHint = tags.nodegroupName ?? (autoScalingGroupName === undefined ? undefined : nodegroupNameFromAsgName(autoScalingGroupName));
  return {
    type: 'allocation-failure',
    ...where(envelope),
    source: 'cloudtrail',
    kind: classified.kind,
    errorCode: classified.errorCode,
    errorMessage,
    api,
    subnetIds: unique(subnetIds),
    networkInterfaceIds: unique(networkInterfaceIds),
    instanceIds: unique(instanceIds),
    ...(autoScalingGroupName === undefined ? {} : { autoScalingGroupName }),
    ...(tags.clusterName === undefined ? {} : { clusterNameHint: tags.clusterName }),
    ...(nodegroupHint === undefined ? {} : { nodegroupHint }),
  };
}

function parseAutoScaling(envelope: Envelope): ResponderEvent {
  const detail = check(autoScalingDetailSchema, envelope.detail, ['detail'], headOf(envelope));
  const classified = classifyLaunchFailureMessage(detail.StatusMessage);
  if (classified === undefined) {
    return ignored(
      envelope,
      `Auto Scaling group ${detail.AutoScalingGroupName} failed to launch an instance for a reason other than IPv4 exhaustion: ${detail.StatusMessage}`,
    );
  }
  // "Subnet ID" is the subnet of the failed launch; the message usually names it as well.
  const subnetIds = [
    ...(detail.Details?.['Subnet ID'] ?? '').split(/[\s,]+/).filter((s) => s.startsWith('subnet-')),
    ...(detail.StatusMessage.match(/subnet-[0-9a-f]+/g) ?? []),
  ];
  const instanceId = detail.EC2InstanceId ?? '';
  const nodegroupHint = nodegroupNameFromAsgName(detail.AutoScalingGroupName);
  return {
    type: 'allocation-failure',
    ...where(envelope),
    source: 'autoscaling',
    kind: classified.kind,
    errorCode: classified.errorCode,
    errorMessage: detail.StatusMessage,
    // Auto Scaling launches with RunInstances (CreateFleet for mixed instances groups); the event
    // does not say which.
    api: 'ec2:RunInstances',
    subnetIds: unique(subnetIds),
    networkInterfaceIds: [],
    instanceIds: instanceId.startsWith('i-') ? [instanceId] : [],
    autoScalingGroupName: detail.AutoScalingGroupName,
    ...(nodegroupHint === undefined ? {} : { nodegroupHint }),
  };
}

function parseAlarm(envelope: Envelope, { alarmNamePrefix, stackAlarms }: ParseOptions): ResponderEvent {
  const { alarmName } = check(alarmNameSchema, envelope.detail, ['detail'], headOf(envelope));
  const suffix = alarmName.slice(alarmNamePrefix.length);
  if (!alarmName.startsWith(alarmNamePrefix) || (stackAlarms && !stackAlarms.names.includes(suffix))) {
    return ignored(envelope, `alarm ${alarmName} is not one of this stack's alarms (${alarmNamePrefix}*)`);
  }
  const unanswered = stackAlarms?.unanswered?.[suffix];
  if (unanswered !== undefined) return ignored(envelope, `alarm ${alarmName}: ${unanswered}`);
  if (envelope['detail-type'] === ALARM_CONTRIBUTOR_STATE_CHANGE_DETAIL_TYPE) {
    const detail = check(alarmContributorStateChangeSchema, envelope.detail, ['detail'], headOf(envelope));
    const { ClusterName: clusterName, SubnetId: subnetId } = detail.alarmContributor.attributes;
    return {
      type: 'alarm',
      ...where(envelope),
      alarmName,
      state: detail.state.value,
      // Contributor events carry no previousState (see the CloudWatch page cited at the top).
      previousState: '',
      reason: detail.state.reason ?? '',
      contributors: [{ ...(clusterName === undefined ? {} : { clusterName }), ...(subnetId === undefined ? {} : { subnetId }) }],
    };
  }
  const detail = check(alarmStateChangeSchema, envelope.detail, ['detail'], headOf(envelope));
  return {
    type: 'alarm',
    ...where(envelope),
    alarmName,
    state: detail.state.value,
    previousState: detail.previousState?.value ?? '',
    reason: detail.state.reason ?? '',
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * A managed nodegroup's Auto Scaling group is named `eks-<nodegroup-name>-<uuid>`, the uuid being
 * the nodegroup ARN's last part (since EKS 1.21: https://aws.amazon.com/blogs/containers/amazon-eks-1-21-released/;
 * older groups are `eks-<uuid>` and name no nodegroup). Best effort: a self-managed group that
 * happens to follow the pattern yields a hint that the EKS lookup will not confirm.
 */
export function nodegroupNameFromAsgName(asgName: string): string | undefined {
  return /^eks-(.+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.exec(asgName)?.[1];
}

interface TagHints {
  clusterName?: string;
  nodegroupName?: string;
  autoScalingGroupName?: string;
  instanceId?: string;
}

/**
 * Hints from the tags a request puts on what it creates: EKS's `eks:cluster-name` and
 * `eks:nodegroup-name` (managed nodegroups), Kubernetes' `kubernetes.io/cluster/<name>`, the VPC
 * CNI's `cluster.k8s.amazonaws.com/name` and `node.k8s.amazonaws.com/instance_id`, and Auto
 * Scaling's `aws:autoscaling:groupName`.
 */
function tagHints(set: z.infer<typeof tagSpecificationSetSchema> | undefined): TagHints {
  const hints: TagHints = {};
  for (const item of set?.items ?? []) {
    for (const { key, value } of item.tags ?? []) {
      const v = value ?? '';
      if (key === 'eks:cluster-name' && v !== '') hints.clusterName ??= v;
      else if (key === 'cluster.k8s.amazonaws.com/name' && v !== '') hints.clusterName ??= v;
      else if (key.startsWith(CLUSTER_TAG_PREFIX) && key.length > CLUSTER_TAG_PREFIX.length) {
        hints.clusterName ??= key.slice(CLUSTER_TAG_PREFIX.length);
      } else if (key === 'eks:nodegroup-name' && v !== '') hints.nodegroupName ??= v;
      else if (key === 'aws:autoscaling:groupName' && v !== '') hints.autoScalingGroupName ??= v;
      else if (key === 'node.k8s.amazonaws.com/instance_id' && v.startsWith('i-')) hints.instanceId ??= v;
    }
  }
  return hints;
}

/**
 * Whether a request asked for /28 prefixes: a positive `ipv4PrefixCount` or explicit prefixes
 * (`ipv4Prefix...` fields), at any depth (RunInstances puts them per network interface). Walks
 * with an explicit stack: the depth is bounded by EVENT_LIMITS, and this needs no call stack for it.
 */
function requestsPrefixes(params: unknown): boolean {
  const stack: unknown[] = [params];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (const v of value) stack.push(v);
      continue;
    }
    for (const [key, v] of Object.entries(value)) {
      if (!/^ipv4Prefix/i.test(key)) stack.push(v);
      else if (typeof v === 'number' ? v > 0 : Array.isArray(v) ? v.length > 0 : typeof v === 'object' && v !== null && Object.keys(v).length > 0) return true;
    }
  }
  return false;
}

/** A value met by boundsProblem's walk, and where: its parent and its key there. */
interface WalkNode {
  value: unknown;
  depth: number;
  parent: WalkNode | undefined;
  key: PropertyKey;
}

/**
 * Why an event is out of EVENT_LIMITS (nested too deep, too big), or undefined. Walks with an
 * explicit stack, so that an event nested thousands deep is measured without recursion, and stops
 * at the first bound crossed. The size is JSON's without escapes, strings counted in UTF-16
 * units: never more than EventBridge's own count, so no event it delivers is refused for it.
 */
function boundsProblem(event: unknown): string | undefined {
  const stack: WalkNode[] = [{ value: event, depth: 1, parent: undefined, key: '' }];
  let size = 0;
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    const { value, depth } = node;
    if (typeof value === 'string') size += value.length + 2;
    else if (typeof value !== 'object' || value === null) size += String(value).length;
    else {
      if (depth > EVENT_LIMITS.maxDepth) return `nested deeper than ${EVENT_LIMITS.maxDepth} levels (at ${pathOf(node)})`;
      // An array's indexes are not listed: a long one stops the loop at the size bound.
      const keys = Array.isArray(value) ? undefined : Object.keys(value);
      const length = keys === undefined ? (value as unknown[]).length : keys.length;
      size += 2;
      for (let i = 0; i < length && size <= EVENT_LIMITS.maxBytes; i++) {
        const key: PropertyKey = keys === undefined ? i : (keys[i] as string);
        // A comma, and for an object member its quoted key and colon.
        size += 1 + (typeof key === 'string' ? key.length + 3 : 0);
        stack.push({ value: (value as Record<PropertyKey, unknown>)[key], depth: depth + 1, parent: node, key });
      }
    }
    if (size > EVENT_LIMITS.maxBytes) return `larger than ${EVENT_LIMITS.maxBytes} bytes, EventBridge's largest event`;
  }
  return undefined;
}

/** Where a node of boundsProblem's walk is, for a message: its first segments, each clipped. */
function pathOf(node: WalkNode): string {
  const segments: PropertyKey[] = [];
  for (let n: WalkNode | undefined = node; n?.parent !== undefined; n = n.parent) segments.push(n.key);
  segments.reverse();
  const shown = formatFieldPath(segments.slice(0, 8).map((k) => (typeof k === 'string' ? clip(k, 32) : k)));
  return segments.length > 8 ? `${shown}…` : shown;
}

/** A string of the event as it may be put in a message or a log line: at most `max` characters. */
function clip(text: string, max = 128): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

function where(envelope: Envelope): { eventId: string; time: string; region: string; account: string } {
  return { eventId: envelope.id, time: envelope.time, region: envelope.region, account: envelope.account };
}

function ignored(envelope: Envelope, reason: string): IgnoredEvent {
  return { type: 'ignored', eventId: envelope.id, reason };
}

interface Head {
  detailType: string | undefined;
  id: string | undefined;
}

/** detail-type and id for error messages, read before (and whether or not) the envelope is valid; clipped. */
function peekHead(event: unknown): Head {
  const { id, 'detail-type': detailType } = eventHead(event);
  return { detailType, id: id === '' ? undefined : id };
}

/** The fields of an event that may be logged: its head, clipped, and nothing it carries besides. */
export interface EventHead {
  id?: string;
  source?: string;
  'detail-type'?: string;
  account?: string;
  region?: string;
  time?: string;
  /** CloudTrail records only. */
  eventName?: string;
  errorCode?: string;
}

/**
 * The head fields of any event, valid or not, for a log line: id, source, detail-type, account,
 * region, time and, for a CloudTrail record, eventName and errorCode — strings only, each
 * clipped. Never the rest: a CloudTrail record carries access key ids and source IPs, and a
 * poison event may be too deep or too big to log.
 */
export function eventHead(event: unknown): EventHead {
  const head: Record<string, string> = {};
  const copy = (from: unknown, keys: readonly string[]): void => {
    if (typeof from !== 'object' || from === null || Array.isArray(from)) return;
    for (const key of keys) {
      const v = (from as Record<string, unknown>)[key];
      if (typeof v === 'string') head[key] = clip(v);
    }
  };
  copy(event, ['id', 'source', 'detail-type', 'account', 'region', 'time']);
  if (head['detail-type'] === CLOUDTRAIL_DETAIL_TYPE) copy((event as { detail?: unknown }).detail, ['eventName', 'errorCode']);
  return head;
}

function headOf(envelope: Envelope): Head {
  return { detailType: envelope['detail-type'], id: envelope.id };
}

function check<S extends z.ZodType>(schema: S, value: unknown, at: readonly PropertyKey[], head: Head): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new MalformedEventError(
    head.detailType,
    head.id,
    // A path names keys of the event (a record's): clipped like everything else of it that is shown.
    zodProblems(result.error, at).map((p) => ({ path: clip(p.field, 256), problem: p.problem })),
    { cause: result.error },
  );
}

