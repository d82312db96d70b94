/**
 * The `subnet-reservations` planner: a `prefix` subnet CIDR reservation over the largest free
 * aligned runs of /28 blocks of an allow-listed prefix-mode pod subnet, the fix EKS documents for
 * InsufficientCidrBlocks (the prefixes ipamd asks for come from the reservation first; single
 * addresses of new ENIs can no longer fragment it). Pure. Design and sources: docs/remediation.md,
 * "Subnet CIDR reservations".
 */
import { list, n, plural } from '../diagnose/context';
import { subnetReservationsExclusion } from '../inventory/cluster-network';
import type { NetworkInterface } from '../inventory/types';
import { parseIpv4Cidr } from '../measure/cidr';
import { freeAlignedRuns } from '../measure/free-runs';
import { freePrefixBlocks, type ReservedRange } from '../measure/prefix-blocks';
import { isPodSubnet } from '../measure/measure';
import { holdersUnknown, readGapsOf } from '../measure/trusted';
import type { SubnetUsage } from '../measure/types';
import { DEFAULT_SUBNET_RESERVATIONS_POLICY, type SubnetReservationsPolicy } from '../policy/types';
import type { ActionPlanner, PlanContext, ProposedAction } from './types';

/**
 * At most this share of a subnet's free aligned /28 blocks is reserved by one action: addresses
 * outside the reservations stay for what a prefix reservation cannot serve (each ENI's own
 * primary address, other services' ENIs, nodes in secondary-IP mode).
 */
export const MAX_RESERVED_SHARE = 0.5;

/**
 * At most this share of a subnet's usable /28 blocks (all but the first and the last, which hold
 * the addresses AWS keeps) lies in `prefix` reservations, the existing ones (by anyone) and the new
 * together: repeated actions cannot shrink the unreserved space below the other half.
 */
export const MAX_TOTAL_PREFIX_RESERVED_SHARE = 0.5;

/** The reservations' Description (EC2 keeps it; a person reading the console sees who made them). */
export const RESERVATION_DESCRIPTION = 'eks-ip-responder: /28 prefixes for the VPC CNI (prefix delegation)';

/** A cluster's subnet-reservations policy; left out of policy.yml: not allowed. */
export function subnetReservationsPolicy(ctx: Pick<PlanContext, 'policy'>): SubnetReservationsPolicy {
  return ctx.policy.actions.subnetReservations ?? DEFAULT_SUBNET_RESERVATIONS_POLICY;
}

/** Whether a pod subnet is used in prefix mode: a prefix-fragmentation finding on it, or prefix delegation on (or a node here in prefix mode). */
function prefixModeReason(ctx: PlanContext, s: SubnetUsage): { why: string; findingIds: string[] } | undefined {
  const findings = ctx.findings.filter((f) => f.kind === 'prefix-fragmentation' && f.subject.id === s.subnetId);
  if (findings.length > 0) return { why: findings.map((f) => f.title).join('; '), findingIds: findings.map((f) => f.id) };
  if (ctx.usage.cni.prefixDelegation === true) return { why: `prefix delegation is on (ENABLE_PREFIX_DELEGATION=true) and ${s.subnetId} is a pod subnet`, findingIds: [] };
  const prefixNodes = ctx.usage.nodes.filter((x) => x.mode === 'prefix' && x.subnetId === s.subnetId).length;
  if (prefixNodes > 0) return { why: `${plural(prefixNodes, 'node')} in ${s.subnetId} take /28 prefixes`, findingIds: [] };
  return undefined;
}

/** The addresses and prefixes a subnet's ENIs hold (the planner's inventory, or the executor's read). */
export function heldBy(enis: readonly NetworkInterface[]): { addresses: string[]; prefixes: string[] } {
  return {
    addresses: enis.flatMap((e) => [
      ...(e.PrivateIpAddresses ?? []).map((a) => a.PrivateIpAddress).filter((a): a is string => !!a),
      ...(e.PrivateIpAddress ? [e.PrivateIpAddress] : []),
    ]),
    prefixes: enis.flatMap((e) => (e.Ipv4Prefixes ?? []).map((p) => p.Ipv4Prefix).filter((p): p is string => !!p)),
  };
}

const BLOCK_SIZE = 16;

/** A CIDR's /28 blocks inside the subnet. */
function blocksInside(cidr: string, subnetCidr: string): number {
  const c = parseIpv4Cidr(cidr);
  const s = parseIpv4Cidr(subnetCidr);
  const from = Math.max(c.base, s.base);
  const to = Math.min(c.base + c.size, s.base + s.size);
  return to > from ? Math.floor((to - from) / BLOCK_SIZE) : 0;
}

/** A subnet's room for new prefix reservations now: the bounds of {@link MAX_RESERVED_SHARE} and {@link MAX_TOTAL_PREFIX_RESERVED_SHARE}. */
export interface ReservationRoom {
  /** Free aligned /28 blocks (no ENI address or prefix, no reservation). */
  freeBlocks: number;
  /** The most blocks one action may reserve: {@link MAX_RESERVED_SHARE} of `freeBlocks`. */
  perAction: number;
  /** /28 blocks in `prefix` reservations already. */
  prefixReservedBlocks: number;
  /** The most blocks all prefix reservations may span: {@link MAX_TOTAL_PREFIX_RESERVED_SHARE} of the usable blocks. */
  totalCap: number;
  /** What one action may reserve now: the smaller of the two bounds (never below 0). */
  budget: number;
}

/** The room of a subnet for new prefix reservations, given what its ENIs hold and its reservations. */
export function reservationRoom(cidrBlock: string, held: { addresses: string[]; prefixes: string[] }, ranges: readonly ReservedRange[]): ReservationRoom {
  const freeBlocks = freeAlignedRuns(cidrBlock, held.addresses, held.prefixes, ranges, 1).reduce((sum, r) => sum + r.blocks, 0);
  const all = Math.floor(parseIpv4Cidr(cidrBlock).size / BLOCK_SIZE);
  const usable = all >= 2 ? all - 2 : 0;
  const prefixReservedBlocks = ranges.filter((r) => r.type === 'prefix').reduce((sum, r) => sum + blocksInside(r.cidr, cidrBlock), 0);
  const perAction = Math.floor(freeBlocks * MAX_RESERVED_SHARE);
  const totalCap = Math.floor(usable * MAX_TOTAL_PREFIX_RESERVED_SHARE);
  return { freeBlocks, perAction, prefixReservedBlocks, totalCap, budget: Math.max(0, Math.min(perAction, totalCap - prefixReservedBlocks)) };
}

/** Why reserving `cidrs` now would break a bound of {@link reservationRoom} (empty: it would not). */
export function reservationRoomProblems(cidrBlock: string, cidrs: readonly string[], room: ReservationRoom): string[] {
  const blocks = cidrs.reduce((sum, c) => sum + blocksInside(c, cidrBlock), 0);
  const out: string[] = [];
  if (blocks > room.perAction) {
    out.push(`${plural(blocks, '/28 block')} exceed ${MAX_RESERVED_SHARE * 100}% of the ${n(room.freeBlocks)} free /28 blocks of ${cidrBlock} now (${n(room.perAction)})`);
  }
  if (room.prefixReservedBlocks + blocks > room.totalCap) {
    out.push(
      `with the ${n(room.prefixReservedBlocks)} blocks reserved for prefixes already, ${plural(room.prefixReservedBlocks + blocks, 'block')} would exceed ${MAX_TOTAL_PREFIX_RESERVED_SHARE * 100}% of the subnet's usable /28 blocks (${n(room.totalCap)})`,
    );
  }
  return out;
}

/** Why no reservation is proposed on a subnet another cluster holds addresses in; undefined when none does. */
function sharedBlocker(s: SubnetUsage): string | undefined {
  const others = (s.clusterShare?.others ?? []).filter((o) => o.ips > 0);
  if (others.length === 0) return undefined;
  return (
    `${s.subnetId} is shared with ${list(others.map((o) => `${o.cluster} (${plural(o.ips, 'address', 'addresses')})`))}: ` +
    `whether its nodes there run in secondary-IP mode (single addresses a prefix reservation would crowd out) is not known to this cluster's plan`
  );
}

/**
 * The reservations to create in a subnet, largest first: aligned runs of at least `minBlocks`
 * free /28s, at most `maxReservationsPerAction` of them, within the {@link reservationRoom}
 * budget. Exported for the tests of the arithmetic.
 */
export function chooseReservations(
  s: Pick<SubnetUsage, 'cidrBlock' | 'reservations'>,
  held: { addresses: string[]; prefixes: string[] },
  policy: Pick<SubnetReservationsPolicy, 'maxReservationsPerAction' | 'minBlocks'>,
): { cidrs: string[]; blocks: number; freeBlocks: number } {
  const ranges = s.reservations?.ranges ?? [];
  const all = freeAlignedRuns(s.cidrBlock, held.addresses, held.prefixes, ranges, 1);
  const { freeBlocks, budget } = reservationRoom(s.cidrBlock, held, ranges);
  const cidrs: string[] = [];
  let blocks = 0;
  for (const r of all) {
    if (cidrs.length >= policy.maxReservationsPerAction) break;
    if (r.blocks < policy.minBlocks) break;
    if (blocks + r.blocks > budget) continue;
    cidrs.push(r.cidr);
    blocks += r.blocks;
  }
  return { cidrs, blocks, freeBlocks };
}

/** Proposes one action per allow-listed prefix-mode pod subnet whose prefixes have no reserved room yet. */
export const planSubnetReservations: ActionPlanner = (ctx) => {
  const policy = subnetReservationsPolicy(ctx);
  if (!policy.allowed || policy.subnets.length === 0) return [];
  // IPv6 clusters: their prefixes are IPv6 /80s; an IPv4 /28 reservation would serve nothing.
  if (subnetReservationsExclusion(ctx.usage.network) !== undefined) return [];
  const allowed = new Set(policy.subnets);
  const gaps = readGapsOf(ctx.usage.problems);
  const cluster = ctx.usage.name;
  const out: ProposedAction[] = [];
  for (const s of ctx.usage.subnets) {
    if (!allowed.has(s.subnetId) || !isPodSubnet(s)) continue;
    // The block map rests on the subnet's ENIs and reservations: with either unread, a used or
    // reserved block would look free. Nothing is proposed on it.
    if (holdersUnknown(gaps, s.subnetId)) continue;
    const mode = prefixModeReason(ctx, s);
    if (!mode) continue;
    const held = heldBy(ctx.inventory.networkInterfaces.filter((e) => e.SubnetId === s.subnetId));
    // Room reserved already (by anyone) for at least `minBlocks` prefixes: nothing to add.
    const map = freePrefixBlocks(s.cidrBlock, held.addresses, held.prefixes, s.reservations?.ranges ?? []);
    if ((map.freeBlocksInPrefixReservations ?? 0) >= policy.minBlocks) continue;
    const chosen = chooseReservations(s, held, policy);
    if (chosen.cidrs.length === 0) continue;
    const shared = sharedBlocker(s);
    out.push({
      id: `${cluster}/subnet-reservations/${s.subnetId}`,
      cluster,
      kind: 'subnet-reservations',
      subject: s.subnetId,
      reason: `The /28 prefixes of ${s.subnetId} (${s.availabilityZone}) need free aligned blocks, and nothing keeps them free: ${mode.why}.`,
      findingIds: mode.findingIds,
      change: {
        type: 'reserve-prefixes',
        subnetId: s.subnetId,
        vpcId: s.vpcId,
        subnetCidr: s.cidrBlock,
        cidrs: chosen.cidrs,
        description: RESERVATION_DESCRIPTION,
      },
      predicted: {
        ipsFreed: 0,
        text:
          `Reserving ${list(chosen.cidrs)} (${plural(chosen.blocks, 'aligned /28 block')}, ${n(chosen.blocks * 16)} addresses) for prefixes: ` +
          `EC2 assigns the /28 prefixes ipamd asks for from them first, and no single address of a new ENI can fragment them. ` +
          `It frees no address: ${n(chosen.freeBlocks - chosen.blocks)} of the subnet's ${n(chosen.freeBlocks)} free blocks stay unreserved for ENIs' own addresses and other services.`,
      },
      blockers: shared ? [shared] : [],
    });
  }
  return out;
};
