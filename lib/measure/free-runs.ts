/**
 * The free aligned runs of /28 blocks of a subnet, as CIDR blocks a `prefix` subnet CIDR
 * reservation can take (lib/plan/subnet-reservations.ts). Pure.
 */
import { formatIpv4, parseIpv4Cidr } from './cidr';
import { takenBlocks, type ReservedRange } from './prefix-blocks';

const BLOCK_SIZE = 16;

/** One aligned run: a CIDR block of 2^k whole /28s, aligned to its own size. */
export interface FreeRun {
  cidr: string;
  /** /28 blocks in it. */
  blocks: number;
}

/**
 * The largest aligned CIDR blocks made of entirely free /28s: no address of a visible ENI, no
 * delegated prefix, none of the addresses AWS keeps in every subnet (the first four and the last:
 * VPC user guide, "Subnet CIDR blocks"), and no part of an existing reservation of either type
 * (reservations in a VPC cannot overlap: VPC user guide, "Subnet CIDR reservations"). Each maximal
 * run of free blocks is cut into CIDRs aligned to their size, largest first (a run of blocks 3..9
 * gives /28 at 3, /26 at 4..7, /27 at 8..9); only those of at least `minBlocks` blocks are given,
 * largest first, then lowest address.
 * @throws Error naming a CIDR or address that is not IPv4.
 */
export function freeAlignedRuns(
  cidrBlock: string,
  usedAddresses: Iterable<string>,
  usedPrefixes: Iterable<string>,
  reservations: readonly ReservedRange[],
  minBlocks = 1,
): FreeRun[] {
  const { base } = parseIpv4Cidr(cidrBlock);
  const taken = takenBlocks(cidrBlock, usedAddresses, usedPrefixes, reservations);
  const blocks = taken.length;

  const out: FreeRun[] = [];
  let blk = 0;
  while (blk < blocks) {
    if (taken[blk]) {
      blk++;
      continue;
    }
    let end = blk;
    while (end < blocks && !taken[end]) end++;
    // Cut [blk, end) into aligned power-of-two pieces, as a range becomes CIDRs.
    let at = blk;
    while (at < end) {
      let n = 1;
      while (at % (n * 2) === 0 && at + n * 2 <= end) n *= 2;
      if (n >= minBlocks) {
        const prefixLength = 32 - Math.log2(n * BLOCK_SIZE);
        out.push({ cidr: `${formatIpv4(base + at * BLOCK_SIZE)}/${prefixLength}`, blocks: n });
      }
      at += n;
    }
    blk = end;
  }
  return out.sort((a, b) => b.blocks - a.blocks || parseIpv4Cidr(a.cidr).base - parseIpv4Cidr(b.cidr).base);
}
