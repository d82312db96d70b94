/**
 * CloudWatch ("CloudWatch Alarm State Change" and, for multi-time-series Metrics Insights
 * alarms, "CloudWatch Alarm Contributor State Change", source aws.cloudwatch): the stack's own
 * alarms only.
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html
 */
import * as z from 'zod';
import { ALARM_CONTRIBUTOR_STATE_CHANGE_DETAIL_TYPE } from '../patterns';
import { check, headOf, ignored, where, type Envelope } from './envelope';
import type { ParseOptions, ResponderEvent } from './types';

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

export function parseAlarm(envelope: Envelope, { alarmNamePrefix, stackAlarms }: ParseOptions): ResponderEvent {
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
