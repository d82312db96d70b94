/**
 * Free /28 blocks of a subnet: what prefix delegation needs. Pure. Sources are cited on
 * {@link freePrefixBlocks} and the reserved-address constants.
 */
import { parseIpv4, parseIpv4Cidr } from './cidr';

/** Addresses in a /28. */
const BLOCK_SIZE = 16;
const BLOCK_PREFIX_LENGTH = 28;

/**
 * The first four and the last address of a subnet CIDR (VPC user guide, "Subnet CIDR blocks").
 *
 * Reserved: the first four and the last address of every subnet (VPC user guide, "Subnet CIDR
 * blocks"), so the first /28 of a subnet is never free and neither is the last.
 */
const RESERVED_AT_START = 4;
const RESERVED_AT_END = 1;

export interface PrefixBlocks {
  /** Aligned /28 blocks in which no address is used or reserved. */
  freeBlocks: number;
  /** Aligned /28 blocks in the subnet (0 for a subnet smaller than a /28). */
  totalBlocks: number;
  /** Free addresses that are in a block with a used or reserved address: usable as secondary IPs, not as prefixes. */
  freeAddressesOutsideBlocks: number;
  /**
   * Of `freeBlocks`: those inside a `prefix` subnet CIDR reservation, where EC2 takes the prefixes
   * it assigns first. Blocks of an `explicit` reservation are never free: EC2 assigns nothing there
   * on its own. Absent when no reservation was given.
   */
  freeBlocksInPrefixReservations?: number;
}

/** A subnet CIDR reservation, as the block map needs it (SubnetReservations `ranges`). */
export interface ReservedRange {
  cidr: string;
  type: 'explicit' | 'prefix';
}

/**
 * The subnet's addresses as one 16-bit word per /28 block (bit i = address i of the block is
 * taken), with AWS's reserved addresses, the ENIs' addresses and the delegated prefixes marked;
 * `mark` takes more (an offset from the subnet's base). Shared by {@link freePrefixBlocks} and
 * {@link takenBlocks}.
 */
function addressMap(cidrBlock: string, usedAddresses: Iterable<string>, usedPrefixes: Iterable<string>) {
  const { base, prefixLength, size } = parseIpv4Cidr(cidrBlock);
  const totalBlocks = prefixLength <= BLOCK_PREFIX_LENGTH ? size / BLOCK_SIZE : 0;
  const words = new Uint16Array(Math.max(1, Math.ceil(size / BLOCK_SIZE)));
  let taken = 0;
  const mark = (offset: number): void => {
    const w = offset >>> 4;
    const bit = 1 << (offset & 15);
    const word = words[w] ?? 0;
    if ((word & bit) === 0) {
      words[w] = word | bit;
      taken++;
    }
  };
  for (let i = 0; i < Math.min(RESERVED_AT_START, size); i++) mark(i);
  if (size > RESERVED_AT_START) mark(size - 1);
  for (const a of usedAddresses) {
    const offset = parseIpv4(a) - base;
    if (offset >= 0 && offset < size) mark(offset);
  }
  for (const p of usedPrefixes) {
    const prefix = parseIpv4Cidr(p);
    const from = Math.max(prefix.base, base) - base;
    const to = Math.min(prefix.base + prefix.size, base + size) - base;
    for (let offset = from; offset < to; offset++) mark(offset);
  }
  /** Marks a CIDR (clipped to the subnet). */
  const markCidr = (cidr: string): void => {
    const c = parseIpv4Cidr(cidr);
    const from = Math.max(c.base, base) - base;
    const to = Math.min(c.base + c.size, base + size) - base;
    for (let offset = from; offset < to; offset++) mark(offset);
  };
  return { base, size, totalBlocks, words, mark, markCidr, taken: (): number => taken };
}

/**
 * Which aligned /28 blocks of the subnet hold a used or AWS-reserved address, a delegated prefix,
 * or part of one of `ranges` (1 = taken), block 0 first: the map {@link freePrefixBlocks} counts,
 * with every range given taken (lib/measure/free-runs.ts passes all reservations, of either type).
 * @throws Error when the CIDR, an address or a prefix is not IPv4; the message names it.
 */
export function takenBlocks(cidrBlock: string, usedAddresses: Iterable<string>, usedPrefixes: Iterable<string>, ranges: readonly { cidr: string }[]): Uint8Array {
  const map = addressMap(cidrBlock, usedAddresses, usedPrefixes);
  for (const r of ranges) map.markCidr(r.cidr);
  const out = new Uint8Array(map.totalBlocks);
  for (let w = 0; w < map.totalBlocks; w++) out[w] = map.words[w] === 0 ? 0 : 1;
  return out;
}

/**
 * Counts the aligned /28 blocks of a subnet that are entirely free.
 *
 * With ENABLE_PREFIX_DELEGATION the VPC CNI asks EC2 for /28 IPv4 prefixes (AssignPrivateIpAddresses
 * with Ipv4PrefixCount); EC2 can only hand out a /28 that is aligned and entirely free, and answers
 * `InsufficientCidrBlocks` when the subnet has none, even with free addresses scattered in it
 * (EC2 user guide, "Assign prefixes to Amazon EC2 network interfaces"; EKS user guide,
 * "Assign more IP addresses to Amazon EKS nodes with prefixes", considerations).
 *
 * One 16-bit word per block (bit i = address i of the block is taken): a /16 is 4,096 words, and a
 * block is free when its word is 0. Addresses and prefixes outside the subnet are ignored.
 *
 * @param cidrBlock the subnet's CidrBlock.
 * @param usedAddresses every private IPv4 address of every ENI in the subnet (primary and secondary).
 * @param usedPrefixes every /28 (or other length) IPv4 prefix delegated to an ENI in the subnet.
 * @param reservations the subnet's CIDR reservations: an `explicit` one's addresses are taken (EC2
 *   assigns none of them on its own: VPC user guide, "Subnet CIDR reservations"); a `prefix` one's
 *   free blocks stay free and are counted apart (EC2 assigns prefixes there first).
 * @throws Error when the CIDR, an address or a prefix is not IPv4; the message names it.
 */
export function freePrefixBlocks(
  cidrBlock: string,
  usedAddresses: Iterable<string>,
  usedPrefixes: Iterable<string>,
  reservations: readonly ReservedRange[] = [],
): PrefixBlocks {
  const { base, size } = parseIpv4Cidr(cidrBlock);
  const usable = Math.max(0, size - RESERVED_AT_START - RESERVED_AT_END);
  const map = addressMap(cidrBlock, usedAddresses, usedPrefixes);
  const { words, totalBlocks } = map;
  const reserved = Math.min(size, RESERVED_AT_START + RESERVED_AT_END);

  const rangeOf = (r: ReservedRange): { from: number; to: number } => {
    const c = parseIpv4Cidr(r.cidr);
    return { from: Math.max(c.base, base) - base, to: Math.min(c.base + c.size, base + size) - base };
  };
  // Taken after the ENIs: `taken - reserved` below is then what ENIs and explicit reservations hold.
  for (const r of reservations) if (r.type === 'explicit') map.markCidr(r.cidr);

  let freeBlocks = 0;
  for (let w = 0; w < totalBlocks; w++) if (words[w] === 0) freeBlocks++;
  const freeAddresses = Math.max(0, usable - (map.taken() - reserved));
  const out: PrefixBlocks = { freeBlocks, totalBlocks, freeAddressesOutsideBlocks: freeAddresses - freeBlocks * BLOCK_SIZE };
  if (reservations.length > 0) {
    const inPrefix = new Set<number>();
    for (const r of reservations) {
      if (r.type !== 'prefix') continue;
      const { from, to } = rangeOf(r);
      for (let w = Math.ceil(from / BLOCK_SIZE); (w + 1) * BLOCK_SIZE <= to; w++) if (w < totalBlocks && words[w] === 0) inPrefix.add(w);
    }
    out.freeBlocksInPrefixReservations = inPrefix.size;
  }
  return out;
}
