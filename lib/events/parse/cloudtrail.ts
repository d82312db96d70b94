/**
 * CloudTrail ("AWS API Call via CloudTrail", source aws.ec2): the CloudTrail record is `detail`.
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 * EC2's request parameters are recorded in the API's query-protocol names, lower camel case
 * (`subnetId`, `secondaryPrivateIpAddressCount`, `tagSpecificationSet.items[].tags[]`), and its
 * error codes with a `Client.` prefix.
 */
import * as z from 'zod';
import { CLUSTER_TAG_PREFIX } from '../../names';
import { classifyEc2Error, isIpv4AllocationApi } from '../exhaustion';
import { nodegroupNameFromAsgName } from './autoscaling';
import { parseCreateFleet } from './create-fleet';
import { check, headOf, ignored, unique, where, type Envelope } from './envelope';
import type { ResponderEvent } from './types';

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

export function parseCloudTrail(envelope: Envelope): ResponderEvent {
  const detail = check(cloudTrailDetailSchema, envelope.detail, ['detail'], headOf(envelope));
  const api = `ec2:${detail.eventName}`;
  if (detail.eventSource !== 'ec2.amazonaws.com') {
    return ignored(envelope, `${detail.eventSource} ${detail.eventName} is not an EC2 API call`);
  }
  // CreateFleet (instant) answers its launch errors in the response, not as errorCode.
  if (detail.eventName === 'CreateFleet' && detail.errorCode === undefined) return parseCreateFleet(envelope, detail);
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
