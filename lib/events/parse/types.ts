/**
 * What the responder makes of an event (`ResponderEvent`), the options of the parse, and the
 * `MalformedEventError` that names every field at fault.
 */
import { problemList } from '../../errors';
import type { ExhaustionKind } from '../exhaustion';

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
