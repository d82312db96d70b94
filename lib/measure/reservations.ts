/**
 * A subnet's CIDR reservations: how much each type reserves, how much of it the subnet's ENIs
 * already use, and so how many reserved-but-unused addresses AvailableIpAddressCount leaves out.
 * Pure. The facts and their sources: docs/remediation.md, "Subnet CIDR reservations".
 */
import type { NetworkInterface, SubnetCidrReservation } from '@aws-sdk/client-ec2';
import { parseIpv4, parseIpv4Cidr } from './cidr';

/** One type's reservations in a subnet. */
export interface ReservationTotals {
  /** Reservations of this type. */
  count: number;
  /** Addresses they span (inside the subnet). */
  addresses: number;
  /** Of those, addresses no visible ENI holds (an address or a delegated prefix). */
  unused: number;
}

/** A subnet's reservations, measured (SubnetUsage `reservations`). */
export interface SubnetReservations {
  /** `explicit`: AWS never assigns these addresses on its own; only an address asked for by name. */
  explicit: ReservationTotals;
  /** `prefix`: where EC2 takes the /28 prefixes it assigns to ENIs first. */
  prefix: ReservationTotals;
  /** Each reservation's range and type, for the /28 block map (lib/measure/prefix-blocks.ts). */
  ranges: { id: string; cidr: string; type: 'explicit' | 'prefix' }[];
}

/**
 * The reservations of one subnet against the addresses its ENIs hold. A reservation outside the
 * subnet's CIDR counts only its part inside (none, normally: EC2 refuses such a range).
 * @throws Error naming a CIDR or address that is not IPv4.
 */
export function measureReservations(
  cidrBlock: string,
  reservations: readonly SubnetCidrReservation[],
  enis: readonly NetworkInterface[],
): SubnetReservations | undefined {
  if (reservations.length === 0) return undefined;
  const subnet = parseIpv4Cidr(cidrBlock);
  const end = subnet.base + subnet.size;
  // One byte per address of the subnet (a /16 at most: 64 KiB): 1 = held by a visible ENI.
  const held = new Uint8Array(subnet.size);
  const mark = (from: number, to: number): void => {
    for (let a = Math.max(from, subnet.base); a < Math.min(to, end); a++) held[a - subnet.base] = 1;
  };
  for (const e of enis) {
    for (const a of e.PrivateIpAddresses ?? []) if (a.PrivateIpAddress) mark(parseIpv4(a.PrivateIpAddress), parseIpv4(a.PrivateIpAddress) + 1);
    if (e.PrivateIpAddress) mark(parseIpv4(e.PrivateIpAddress), parseIpv4(e.PrivateIpAddress) + 1);
    for (const p of e.Ipv4Prefixes ?? []) {
      if (!p.Ipv4Prefix) continue;
      const prefix = parseIpv4Cidr(p.Ipv4Prefix);
      mark(prefix.base, prefix.base + prefix.size);
    }
  }
  const out: SubnetReservations = {
    explicit: { count: 0, addresses: 0, unused: 0 },
    prefix: { count: 0, addresses: 0, unused: 0 },
    ranges: [],
  };
  for (const r of reservations) {
    const type = r.ReservationType === 'prefix' ? 'prefix' : 'explicit';
    const range = parseIpv4Cidr(r.Cidr ?? '');
    const from = Math.max(range.base, subnet.base);
    const to = Math.min(range.base + range.size, end);
    const totals = out[type];
    totals.count++;
    out.ranges.push({ id: r.SubnetCidrReservationId ?? '', cidr: r.Cidr ?? '', type });
    if (to <= from) continue;
    let used = 0;
    for (let a = from; a < to; a++) used += held[a - subnet.base] ?? 0;
    totals.addresses += to - from;
    totals.unused += to - from - used;
  }
  return out;
}
