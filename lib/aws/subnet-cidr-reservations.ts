/**
 * Subnet CIDR reservations: GetSubnetCidrReservations (the collector's read, the executor's look
 * before it writes) and CreateSubnetCidrReservation (the `subnet-reservations` executor's write).
 * The one module that sends either. Facts and sources: docs/remediation.md, "Subnet CIDR reservations".
 */
import {
  CreateSubnetCidrReservationCommand,
  GetSubnetCidrReservationsCommand,
  type EC2Client,
  type SubnetCidrReservation,
} from '@aws-sdk/client-ec2';
import { awsCallError } from '../errors';
import { EC2_PAGE_SIZE_MAX } from './limits';

/**
 * GetSubnetCidrReservations takes one `SubnetId`, required; its filters (`reservationType`,
 * `subnet-id`, `tag:<key>`, `tag-key`) narrow within that subnet and cannot name several
 * (EC2 API reference, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetSubnetCidrReservations.html;
 * @aws-sdk/client-ec2 GetSubnetCidrReservationsRequest: `SubnetId: string`, no paginator). So the
 * fewest calls are one per subnet, at MaxResults 1,000 (its maximum, same page), a subnet of
 * the cluster's, not per node or ENI. At most this many subnets are asked at once: enough to hide
 * each call's latency; the rate is the EC2 client's pace (lib/aws/pacer.ts ec2ReadPace).
 */
export const RESERVATION_READS_AT_ONCE = 16;

/** Every IPv4 reservation of one subnet, every page (MaxResults 1,000). */
export async function subnetCidrReservationsOf(
  ec2: EC2Client,
  subnetId: string,
  options: { abortSignal?: AbortSignal; filters?: { Name: string; Values: string[] }[]; onPage?: (more: boolean) => void } = {},
): Promise<SubnetCidrReservation[]> {
  const out: SubnetCidrReservation[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(
      new GetSubnetCidrReservationsCommand({
        SubnetId: subnetId,
        MaxResults: EC2_PAGE_SIZE_MAX,
        ...(options.filters ? { Filters: options.filters } : {}),
        ...(NextToken ? { NextToken } : {}),
      }),
      ...(options.abortSignal ? [{ abortSignal: options.abortSignal }] : []),
    );
    // IPv4 only: pods of an IPv4 cluster take IPv4 addresses; IPv6 reservations are another space.
    out.push(...(page.SubnetIpv4CidrReservations ?? []));
    NextToken = page.NextToken || undefined;
    options.onPage?.(NextToken !== undefined);
  } while (NextToken);
  return out;
}

/** What one CreateSubnetCidrReservation asks for. */
export interface ReservationRequest {
  subnetId: string;
  cidr: string;
  description: string;
  /** Tags put on the reservation as it is created (TagSpecifications, resource type `subnet-cidr-reservation`). */
  tags: Record<string, string>;
}

/**
 * Creates one `prefix` reservation. CreateSubnetCidrReservation takes no client token (EC2 API
 * reference, API_CreateSubnetCidrReservation.html: SubnetId, Cidr, ReservationType, Description,
 * DryRun, TagSpecification.N), so its idempotency is the caller's: the executor looks for the
 * reservation by its CIDR first (lib/act/execute-reservations.ts).
 * @throws AwsCallError naming the subnet and CIDR.
 */
export async function createPrefixReservation(ec2: EC2Client, r: ReservationRequest): Promise<SubnetCidrReservation> {
  try {
    const out = await ec2.send(
      new CreateSubnetCidrReservationCommand({
        SubnetId: r.subnetId,
        Cidr: r.cidr,
        ReservationType: 'prefix',
        Description: r.description,
        TagSpecifications: [
          { ResourceType: 'subnet-cidr-reservation', Tags: Object.entries(r.tags).map(([Key, Value]) => ({ Key, Value })) },
        ],
      }),
    );
    if (!out.SubnetCidrReservation) throw new Error('the answer has no SubnetCidrReservation');
    return out.SubnetCidrReservation;
  } catch (err) {
    throw awsCallError('ec2:CreateSubnetCidrReservation', `${r.cidr} in subnet ${r.subnetId}`, err);
  }
}
