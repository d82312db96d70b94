/**
 * Applies a `subnet-reservations` action: one `prefix` subnet CIDR reservation per planned CIDR.
 * `start` and `follow` are the same step: read the subnet (it must still be the planned one), its
 * reservations and ENIs, count as done every CIDR already reserved for prefixes, refuse (creating
 * nothing) when a planned CIDR now overlaps another reservation or the CIDRs exceed the planner's
 * bounds on the subnet as it is now, then create the rest, each write announced first
 * (write-ahead) and paced to the API's refill rate. Contract: docs/remediation.md.
 */
import { AwsCallError, awsCallError, isRetryableError } from '../errors';
import { describeNetworkInterfacesInSubnet } from '../aws/network-interfaces';
import { createPrefixReservation, subnetCidrReservationsOf } from '../aws/subnet-cidr-reservations';
import { Ec2SubnetProvider } from '../aws/subnets';
import { formatIpv4, parseIpv4Cidr } from '../measure/cidr';
import { ACTION_TAG_KEY, WRITE_TOKEN_TAG_KEY } from '../names';
import { heldBy, reservationRoom, reservationRoomProblems } from '../plan/subnet-reservations';
import type { ActionChange } from '../plan/types';
import type { ActionExecutor, ActionOutcome, ExecuteDeps } from './types';
import { intendWrite } from './write-intent';

/** The step a succeeded action ends at. */
export const RESERVED_STEP = 'reserved';

/**
 * CreateSubnetCidrReservation's request-token bucket refills at 1 a second (bucket 5): the
 * executor waits this long between two creates, so that one action never drains the bucket
 * another caller (a person in the console, an IaC run) shares (EC2 API reference, "Request
 * throttling for the Amazon EC2 API", request token bucket sizes and refill rates:
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html). The policy bounds an
 * action to at most 5 reservations, the bucket's size.
 */
export const CREATE_INTERVAL_MS = 1000;

/** What is wrong with a planned CIDR: not IPv4, not aligned to its size, not whole /28s, or outside the subnet. */
export function cidrProblem(cidr: string, subnetCidr: string): string | undefined {
  let c: ReturnType<typeof parseIpv4Cidr>;
  let s: ReturnType<typeof parseIpv4Cidr>;
  try {
    c = parseIpv4Cidr(cidr);
    s = parseIpv4Cidr(subnetCidr);
  } catch (err) {
    return (err as Error).message;
  }
  if (`${formatIpv4(c.base)}/${c.prefixLength}` !== cidr.trim()) return `${cidr} is not aligned to its size (${formatIpv4(c.base)}/${c.prefixLength})`;
  if (c.prefixLength > 28) return `${cidr} is smaller than a /28 prefix`;
  if (c.base < s.base || c.base + c.size > s.base + s.size) return `${cidr} is not inside the subnet's ${subnetCidr}`;
  return undefined;
}

const overlaps = (a: string, b: string): boolean => {
  const x = parseIpv4Cidr(a);
  const y = parseIpv4Cidr(b);
  return x.base < y.base + y.size && y.base < x.base + x.size;
};

async function apply(actionId: string, change: ActionChange, deps: ExecuteDeps, following: boolean): Promise<ActionOutcome> {
  const failed = (detail: string, extra: Partial<ActionOutcome> = {}): ActionOutcome => ({ actionId, status: 'failed', ...extra, detail });
  if (change.type !== 'reserve-prefixes') return failed(`not a reserve-prefixes change (${change.type}): nothing reserved`);
  const cidrs = [...new Set(change.cidrs)];
  if (cidrs.length === 0) return failed('no CIDR to reserve: nothing reserved');
  const bad = cidrs.map((c) => cidrProblem(c, change.subnetCidr)).filter((p): p is string => p !== undefined);
  if (bad.length > 0) return failed(`${bad.join('; ')}: nothing reserved`);
  const clash = cidrs.flatMap((a, i) => cidrs.slice(i + 1).filter((b) => overlaps(a, b)).map((b) => `${a} overlaps ${b}`));
  if (clash.length > 0) return failed(`${clash.join('; ')}: nothing reserved`);
  const subnetId = change.subnetId;

  const made: string[] = [];
  try {
    const subnets = deps.subnets ?? new Ec2SubnetProvider(deps.ec2);
    const [subnet] = await subnets.byId([subnetId]);
    if (!subnet) return failed(`${subnetId} no longer exists (DescribeSubnets does not find it): nothing reserved`);
    if (subnet.VpcId !== change.vpcId || subnet.CidrBlock !== change.subnetCidr) {
      return failed(`${subnetId} is ${subnet.CidrBlock ?? '?'} in ${subnet.VpcId ?? '?'}, not ${change.subnetCidr} in ${change.vpcId} as planned: nothing reserved`);
    }
    // The subnet's reservations now: what is done (a planned CIDR reserved for prefixes, by an
    // earlier run of this step that crashed before its record, or by anyone) and what now clashes.
    let existing;
    try {
      existing = await subnetCidrReservationsOf(deps.ec2, subnetId);
    } catch (err) {
      throw awsCallError('ec2:GetSubnetCidrReservations', `subnet ${subnetId}`, err);
    }
    const done = new Map<string, string>();
    const conflicts: string[] = [];
    for (const cidr of cidrs) {
      const same = existing.find((r) => r.Cidr === cidr);
      if (same && same.ReservationType === 'prefix') {
        done.set(cidr, same.SubnetCidrReservationId ?? '?');
        continue;
      }
      const other = existing.find((r) => r.Cidr !== undefined && overlaps(r.Cidr, cidr));
      if (other) conflicts.push(`${cidr} overlaps ${other.ReservationType ?? '?'} reservation ${other.SubnetCidrReservationId ?? '?'} (${other.Cidr ?? '?'}) made since the plan`);
    }
    if (conflicts.length > 0) {
      return failed(`${conflicts.join('; ')}: nothing reserved${done.size > 0 ? ` (already reserved: ${[...done.keys()].join(', ')})` : ''}`);
    }
    const toCreate = cidrs.filter((c) => !done.has(c));
    if (toCreate.length > 0) {
      // The planner's bounds on the subnet as it is now, as if this action had reserved nothing
      // yet: its CIDRs within MAX_RESERVED_SHARE of the free /28 blocks, and all prefix
      // reservations within MAX_TOTAL_PREFIX_RESERVED_SHARE of the usable ones.
      const enis = await describeNetworkInterfacesInSubnet(deps.ec2, subnetId);
      const mine = new Set(done.keys());
      const ranges = existing
        .filter((r) => r.Cidr !== undefined && !mine.has(r.Cidr))
        .map((r) => ({ cidr: r.Cidr as string, type: r.ReservationType === 'prefix' ? ('prefix' as const) : ('explicit' as const) }));
      const tooMuch = reservationRoomProblems(change.subnetCidr, cidrs, reservationRoom(change.subnetCidr, heldBy(enis), ranges));
      if (tooMuch.length > 0) {
        return failed(`${tooMuch.join('; ')}: nothing reserved${done.size > 0 ? ` (already reserved: ${[...done.keys()].join(', ')})` : ''}`);
      }
    }
    for (const [i, cidr] of toCreate.entries()) {
      if (i > 0) await deps.sleep(CREATE_INTERVAL_MS);
      // Write-ahead, one intent per reservation: a crash after the create leaves the record naming
      // it, and the next run finds the reservation by its CIDR instead of making a second one.
      const token = await intendWrite(deps, { step: RESERVED_STEP, operation: 'ec2:CreateSubnetCidrReservation', target: `${subnetId} ${cidr}` }, 'unrecorded');
      const r = await createPrefixReservation(deps.ec2, {
        subnetId,
        cidr,
        description: change.description,
        tags: { [ACTION_TAG_KEY]: actionId, [WRITE_TOKEN_TAG_KEY]: token },
      });
      made.push(`${cidr} ${r.SubnetCidrReservationId ?? '?'}`);
      done.set(cidr, r.SubnetCidrReservationId ?? '?');
    }
    const reference = cidrs.map((c) => `${c}=${done.get(c) ?? '?'}`).join(',');
    const detail =
      made.length === 0
        ? `${following ? 'confirmed: ' : 'already reserved for prefixes, nothing changed: '}${cidrs.map((c) => `${c} (${done.get(c) ?? '?'})`).join(', ')} in ${subnetId}`
        : `reserved for prefixes in ${subnetId}: ${made.join(', ')}${made.length < cidrs.length ? ` (already reserved: ${cidrs.filter((c) => !toCreate.includes(c)).join(', ')})` : ''}: EC2 takes the /28 prefixes it assigns from them first`;
    return { actionId, status: 'succeeded', step: RESERVED_STEP, reference, detail };
  } catch (err) {
    if (err instanceof AwsCallError) {
      const so = made.length > 0 ? ` (made before it: ${made.join(', ')})` : '';
      return failed(`${err.message}${so}`, { retryable: isRetryableError(err) });
    }
    throw err;
  }
}

/** The executor of `subnet-reservations` actions. */
export const subnetReservationsExecutor: ActionExecutor = {
  kind: 'subnet-reservations',
  start: (action, deps) => apply(action.id, action.change, deps, false),
  follow: (record, deps) => apply(record.actionId, record.change, deps, true),
};
