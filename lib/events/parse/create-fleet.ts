/**
 * CreateFleet of type `instant` (Karpenter, EKS Auto Mode) answers a launch that failed for lack of
 * subnet addresses in its response (`errorSet`), with HTTP 200: CloudTrail records no `errorCode`,
 * but its record carries the response, and EventBridge sees it like any write call. Why this and not
 * an "EC2 Fleet" event, with the sources: docs/responder.md, "Karpenter's CreateFleet".
 */
import * as z from 'zod';
import { CLUSTER_TAG_PREFIX, EKS_CLUSTER_NAME_TAG_KEY } from '../../names';
import { normalizeEc2ErrorCode, type ExhaustionKind } from '../exhaustion';
import { check, clip, headOf, ignored, unique, where, type Envelope } from './envelope';
import type { ResponderEvent } from './types';

/**
 * The `errorSet` codes of a CreateFleet response that mean the subnet ran out, and of which kind.
 * InsufficientFreeAddressesInSubnet: Karpenter reads it from CreateFleet's errors and marks the
 * subnet unavailable (aws/karpenter-provider-aws@1d927085 pkg/providers/instance/instance.go
 * `updateUnavailableOfferingsCache`, pkg/errors/errors.go `IsInsufficientFreeAddressesInSubnet`).
 * InsufficientCidrBlocks: a launch template that asks for /28 prefixes in a subnet without a free one
 * (lib/events/exhaustion.ts). Both as the response writes them, and with CloudTrail's `Client.` prefix.
 */
export const CREATE_FLEET_EXHAUSTION_CODES: Readonly<Record<string, ExhaustionKind>> = {
  InsufficientFreeAddressesInSubnet: 'subnet-addresses',
  InsufficientCidrBlocks: 'prefix-space',
};

/** One item, or several: CloudTrail turns EC2's XML `<item>` lists into an object when there is one. */
const oneOrMany = <S extends z.ZodType>(item: S) => z.union([item, z.array(item)]);

const fleetErrorSchema = z.looseObject({
  errorCode: z.string(),
  errorMessage: z.string().optional(),
  lifecycle: z.string().optional(),
  launchTemplateAndOverrides: z
    .looseObject({
      overrides: z
        .looseObject({ subnetId: z.string().optional(), availabilityZone: z.string().optional(), instanceType: z.string().optional() })
        .optional(),
    })
    .optional(),
});

/**
 * The response as CloudTrail records it: `responseElements.CreateFleetResponse` (the wrapper of the
 * request's `CreateFleetRequest`, kubernetes-sigs/karpenter#2813) with `errorSet.item` (its items as
 * in aws/karpenter-provider-aws#5850: lifecycle, launchTemplateAndOverrides.overrides.subnetId,
 * errorCode, errorMessage). CloudTrail cuts a field over its size limit and marks it `omitted`: such
 * a record has no errorSet to read and is ignored with that reason.
 */
const responseSchema = z.looseObject({
  CreateFleetResponse: z
    .looseObject({
      fleetId: z.string().optional(),
      errorSet: z.looseObject({ item: oneOrMany(fleetErrorSchema) }).optional(),
    })
    .optional(),
  omitted: z.boolean().optional(),
});

/** Reads the capacity errors of a CreateFleet record; `detail` is the CloudTrail record, already checked. */
export function parseCreateFleet(
  envelope: Envelope,
  detail: { eventName: string; requestParameters?: Record<string, unknown> | null; responseElements?: unknown },
): ResponderEvent {
  if (detail.responseElements === undefined || detail.responseElements === null) {
    return ignored(envelope, 'ec2:CreateFleet has no responseElements');
  }
  const response = check(responseSchema, detail.responseElements, ['detail', 'responseElements'], headOf(envelope));
  if (response.omitted === true) return ignored(envelope, 'ec2:CreateFleet: CloudTrail omitted its responseElements (over its size limit): the errors are not known');
  const raw = response.CreateFleetResponse?.errorSet?.item;
  const errors = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const exhausted = errors
    .map((e) => ({ e, code: normalizeEc2ErrorCode(e.errorCode) }))
    .filter((x) => CREATE_FLEET_EXHAUSTION_CODES[x.code] !== undefined);
  const first = exhausted[0];
  if (first === undefined) {
    const codes = unique(errors.map((e) => normalizeEc2ErrorCode(e.errorCode)));
    return ignored(envelope, codes.length === 0 ? 'ec2:CreateFleet launched without errors' : `ec2:CreateFleet errors ${clip(codes.join(', '))} are not IPv4 address exhaustion`);
  }
  const kind = CREATE_FLEET_EXHAUSTION_CODES[first.code] as ExhaustionKind;
  const subnetIds = exhausted.map((x) => x.e.launchTemplateAndOverrides?.overrides?.subnetId).filter((id): id is string => typeof id === 'string' && id !== '');
  const clusterNameHint = clusterFromRequest(detail.requestParameters);
  return {
    type: 'allocation-failure',
    ...where(envelope),
    source: 'cloudtrail',
    kind,
    errorCode: first.code,
    errorMessage: first.e.errorMessage ?? '',
    api: 'ec2:CreateFleet',
    subnetIds: unique(subnetIds),
    networkInterfaceIds: [],
    instanceIds: [],
    ...(clusterNameHint === undefined ? {} : { clusterNameHint }),
  };
}

/**
 * The cluster a CreateFleet request tags its instances with: Karpenter and Auto Mode put
 * `eks:eks-cluster-name=<name>`, Karpenter also `kubernetes.io/cluster/<name>` (lib/names.ts). The
 * request's tag specification is recorded in the Query API's names (`TagSpecification`, `Tag`, `Key`,
 * `Value`), whose exact nesting the sources do not show: any `{Key, Value}` pair in the request is
 * read, walked with an explicit stack (the depth is bounded by EVENT_LIMITS).
 */
function clusterFromRequest(params: unknown): string | undefined {
  const stack: unknown[] = [params];
  let fromK8sTag: string | undefined;
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      stack.push(...(value as unknown[]));
      continue;
    }
    const record = value as Record<string, unknown>;
    const key = record['Key'] ?? record['key'];
    const val = record['Value'] ?? record['value'];
    if (typeof key === 'string') {
      if (key === EKS_CLUSTER_NAME_TAG_KEY && typeof val === 'string' && val !== '') return val;
      if (key.startsWith(CLUSTER_TAG_PREFIX) && key.length > CLUSTER_TAG_PREFIX.length) fromK8sTag ??= key.slice(CLUSTER_TAG_PREFIX.length);
    }
    for (const v of Object.values(record)) if (typeof v === 'object' && v !== null) stack.push(v);
  }
  return fromK8sTag;
}
