/**
 * Auto Scaling ("EC2 Instance Launch Unsuccessful", source aws.autoscaling):
 *   https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html
 */
import * as z from 'zod';
import { classifyLaunchFailureMessage } from '../exhaustion';
import { check, headOf, ignored, unique, where, type Envelope } from './envelope';
import type { ResponderEvent } from './types';

const autoScalingDetailSchema = z.looseObject({
  StatusCode: z.string(),
  AutoScalingGroupName: z.string(),
  ActivityId: z.string(),
  StatusMessage: z.string(),
  Details: z.looseObject({ 'Subnet ID': z.string().optional(), 'Availability Zone': z.string().optional() }).optional(),
  EC2InstanceId: z.string().optional(),
  Cause: z.string().optional(),
});

export function parseAutoScaling(envelope: Envelope): ResponderEvent {
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


/**
 * A managed nodegroup's Auto Scaling group is named `eks-<nodegroup-name>-<uuid>`, the uuid being
 * the nodegroup ARN's last part (since EKS 1.21: https://aws.amazon.com/blogs/containers/amazon-eks-1-21-released/;
 * older groups are `eks-<uuid>` and name no nodegroup). Best effort: a self-managed group that
 * happens to follow the pattern yields a hint that the EKS lookup will not confirm.
 */
export function nodegroupNameFromAsgName(asgName: string): string | undefined {
  return /^eks-(.+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.exec(asgName)?.[1];
}
