/**
 * The events the event-driven responder receives from EventBridge: validated, classified, and
 * reduced to what they concern (subnets, ENIs, instances, cluster and nodegroup hints). Pure: no
 * AWS calls, no environment, no logging. One file per source: `cloudtrail.ts`, `autoscaling.ts`,
 * `alarm.ts`; the envelope and what they share in `envelope.ts`; the results in `types.ts`.
 */
import { clip, check, ignored, peekHead, envelopeSchema } from './envelope';
import { parseAlarm } from './alarm';
import { parseAutoScaling } from './autoscaling';
import { parseCloudTrail } from './cloudtrail';
import {
  ALARM_CONTRIBUTOR_STATE_CHANGE_DETAIL_TYPE,
  ALARM_STATE_CHANGE_DETAIL_TYPE,
  AUTOSCALING_LAUNCH_UNSUCCESSFUL_DETAIL_TYPE,
  CLOUDTRAIL_DETAIL_TYPE,
} from '../patterns';
import { MalformedEventError, type ParseOptions, type ResponderEvent } from './types';

export type { ExhaustionKind } from '../exhaustion';
export { EVENT_LIMITS, eventHead, type EventHead } from './envelope';
export { nodegroupNameFromAsgName } from './autoscaling';
export {
  MalformedEventError,
  type AlarmEvent,
  type AllocationFailureEvent,
  type EventProblem,
  type IgnoredEvent,
  type ParseOptions,
  type ResponderEvent,
} from './types';

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
