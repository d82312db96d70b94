/**
 * What replacing a managed nodegroup costs, shared by the two planners that do it (the
 * instance-type replacement, lib/plan/instance-types.ts, and the prefix rollout,
 * lib/plan/prefix-rollout.ts): room in the subnets while the new nodes run beside the old ones, the
 * addresses taken or freed once the old ones are gone, and the change in vCPU, memory and nodes.
 * Pure: no AWS, no environment, no logging.
 * The overlap, where the new nodes go, the check, the prediction and the margin:
 * docs/models.md, "Replacing a nodegroup".
 */
import type { NetworkInterface } from '@aws-sdk/client-ec2';
import type { NetworkCapacity } from '../capacity/instance-type';
import { n } from '../diagnose/context';
import { prefixBlocksOf } from '../diagnose/prefix-fragmentation';
import { holdingFor } from '../ipamd/model';
import type { IpamdConfig, NodeHolding } from '../ipamd/types';
import type { SubnetUsage } from '../measure/types';
import type { CapacityChange, NodegroupCapacity } from './types';

/** What one new node takes from its own subnet during the overlap. */
export interface NewNodeDemand {
  /** The new nodes' instance types (the figure is the worst of them). */
  instanceTypes: string[];
  /** The type the figure is for. */
  worstType: string;
  /** Pods per new node the figure is for. */
  pods: number;
  holding: NodeHolding;
  /** Addresses in the node's own subnet. */
  subnetIps: number;
  /** /28 blocks among them (prefix mode). */
  blocks: number;
  /** Addresses among them taken one by one (ENI primaries; every address in secondary-IP mode). */
  singles: number;
  customNetworking: boolean;
}

/** One candidate type of the new nodes: its limits and kubelet max pods. */
export interface NewNodeType {
  cap: NetworkCapacity;
  maxPods: number;
}

/**
 * What one new node takes from its subnet: `holdingFor` each type at `pods` (at most its max pods;
 * ipamd stops growing the pool at max pods), under `config`; the worst of the types.
 */
export function newNodeDemand(types: readonly [NewNodeType, ...NewNodeType[]], pods: number, config: IpamdConfig): NewNodeDemand {
  const demands = types.map((t) => {
    const at = Math.max(0, Math.min(pods, t.maxPods));
    return demandOf(t.cap.instanceType, at, holdingFor(t.cap, at, { ...config, maxPods: t.maxPods }), config.customNetworking === true);
  });
  const worst = demands.reduce((a, b) => (b.subnetIps > a.subnetIps || (b.subnetIps === a.subnetIps && b.blocks > a.blocks) ? b : a));
  return { ...worst, instanceTypes: types.map((t) => t.cap.instanceType) };
}

function demandOf(type: string, pods: number, holding: NodeHolding, customNetworking: boolean): NewNodeDemand {
  const base = { instanceTypes: [type], worstType: type, pods, holding, customNetworking };
  // Custom networking: only the primary ENI (its address, no pods) is in the node's subnet.
  if (customNetworking) return { ...base, subnetIps: 1, blocks: 0, singles: 1 };
  if (holding.prefixes > 0) return { ...base, subnetIps: holding.subnetIps, blocks: holding.prefixes, singles: holding.enis };
  return { ...base, subnetIps: holding.subnetIps, blocks: 0, singles: holding.subnetIps };
}

/** The addresses a node's holding takes in its own subnet (see {@link demandOf}). */
export function nodeSubnetIps(holding: NodeHolding, customNetworking: boolean): number {
  return customNetworking ? 1 : holding.subnetIps;
}

/** One AZ of the room check. */
export interface AzRoom {
  availabilityZone: string;
  /** New nodes the AZ may get (⌈N/k⌉). */
  nodes: number;
  /** The nodegroup's subnets in the AZ. */
  subnetIds: string[];
  /** The subnet of least room: the one every new node of the AZ is assumed to land in. */
  subnetId: string;
  free: number;
  /** Addresses the AZ's new nodes take. */
  needIps: number;
  /** Prefix mode: usable free aligned /28 blocks in `subnetId`, and what the new nodes need. */
  usableBlocks?: number;
  needBlocks?: number;
  fits: boolean;
}

export interface RoomInput {
  nodegroup: string;
  subnetIds: readonly string[];
  subnets: readonly SubnetUsage[];
  networkInterfaces: NetworkInterface[];
  /** New nodes in all (the new nodegroup's desired size). */
  newNodes: number;
  demand: NewNodeDemand;
  /**
   * Free addresses kept beside the new nodes' (`overlapMarginIps`): EKS needs at least 6 and
   * recommends 16 in each cluster subnet (https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html).
   */
  marginIps: number;
  /** The policy key of the margin, named in blockers. */
  marginKey: string;
}

export interface OverlapRoom {
  azs: AzRoom[];
  blockers: string[];
  /** Negative: the addresses the new nodes take during the overlap, by subnet (the worst case). */
  overlapBySubnet: Record<string, number>;
  /** The new nodes assumed in each subnet (the same worst case). */
  newNodesBySubnet: Map<string, number>;
}

interface SubnetRoom {
  s: SubnetUsage;
  free: number;
  usableBlocks: number;
}

/** Checks room for the new nodes in each AZ of the nodegroup (see the module comment). */
export function checkOverlapRoom(input: RoomInput): OverlapRoom {
  const { demand } = input;
  const prefixes = demand.blocks > 0;
  const blockers: string[] = [];
  const byAz = new Map<string, SubnetRoom[]>();
  for (const id of input.subnetIds) {
    const s = input.subnets.find((x) => x.subnetId === id);
    if (!s) {
      blockers.push(`subnet ${id} of nodegroup ${input.nodegroup} is not in the inventory: its room for the new nodes is not known`);
      continue;
    }
    const usableBlocks = prefixes ? Math.max(0, prefixBlocksOf(s, input.networkInterfaces).freeBlocks - s.held.Unaccounted) : 0;
    const list = byAz.get(s.availabilityZone) ?? [];
    list.push({ s, free: s.available, usableBlocks });
    byAz.set(s.availabilityZone, list);
  }
  const azs: AzRoom[] = [];
  const overlapBySubnet: Record<string, number> = {};
  const newNodesBySubnet = new Map<string, number>();
  if (byAz.size === 0) {
    if (blockers.length === 0) blockers.push(`nodegroup ${input.nodegroup} names no subnet: room for the new nodes cannot be checked`);
    return { azs, blockers, overlapBySubnet, newNodesBySubnet };
  }
  // Auto Scaling keeps an equal number of instances in each enabled AZ, launching in the AZ with
  // the fewest; which AZ gets the remainder is not known, so each is checked for ⌈N/k⌉:
  // https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-availability-zone-balanced.html
  // https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-add-availability-zone.html
  const perAz = Math.ceil(input.newNodes / byAz.size);
  const needIps = perAz * demand.subnetIps;
  const needBlocks = perAz * (demand.blocks + demand.singles);
  for (const [az, list] of [...byAz.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    // No new node in the AZ (a nodegroup at 0): nothing to make room for.
    const fitsIn = (x: SubnetRoom): boolean =>
      perAz === 0 || (x.free >= needIps + input.marginIps && (!prefixes || x.usableBlocks >= needBlocks));
    // The subnet of least room: the first that fails, else the one with the fewest free addresses
    // (then blocks); ties by id, so that the answer does not depend on the nodegroup's order.
    const ordered = [...list].sort((a, b) => a.free - b.free || a.usableBlocks - b.usableBlocks || a.s.subnetId.localeCompare(b.s.subnetId));
    const failing = ordered.filter((x) => !fitsIn(x));
    const least = failing[0] ?? ordered[0];
    if (!least) continue;
    const room: AzRoom = {
      availabilityZone: az,
      nodes: perAz,
      subnetIds: list.map((x) => x.s.subnetId),
      subnetId: least.s.subnetId,
      free: least.free,
      needIps,
      ...(prefixes ? { usableBlocks: least.usableBlocks, needBlocks } : {}),
      fits: failing.length === 0,
    };
    azs.push(room);
    if (perAz > 0) {
      overlapBySubnet[least.s.subnetId] = -needIps;
      newNodesBySubnet.set(least.s.subnetId, perAz);
    }
    for (const x of failing) blockers.push(roomBlocker(input, room, x));
  }
  return { azs, blockers, overlapBySubnet, newNodesBySubnet };
}

/** `1 free address`, `7 free addresses`, `2 /28 prefixes`. */
function counted(count: number, word: string): string {
  if (count === 1) return `${n(count)} ${word}`;
  return `${n(count)} ${word}${/(s|x|ch|sh)$/.test(word) ? 'es' : 's'}`;
}

function roomBlocker(input: RoomInput, room: AzRoom, x: SubnetRoom): string {
  const d = input.demand;
  const others =
    room.subnetIds.length > 1
      ? ` (Auto Scaling may launch all of ${room.availabilityZone}'s new nodes in any one of ${room.subnetIds.join(', ')})`
      : '';
  const nodes = `the ${n(room.nodes)} new ${d.instanceTypes.join('/')} node${room.nodes === 1 ? '' : 's'}`;
  const each = d.customNetworking
    ? '1 each: its primary address (custom networking: the pod ENIs are in the ENIConfig subnet)'
    : d.blocks > 0
      ? `${n(d.subnetIps)} addresses each at ${n(d.pods)} pods: ${counted(d.blocks, '/28 prefix')} + ${counted(d.singles, 'ENI primary address')}, and each primary address may break a free block`
      : `${n(d.subnetIps)} each at ${n(d.pods)} pods: ${counted(d.holding.enis, 'ENI primary address')} + ${n(d.holding.secondaryIps)} for pods and the warm pool`;
  const margin = `(+${n(input.marginIps)} margin, ${input.marginKey})`;
  if (room.needBlocks !== undefined) {
    const unaccounted = x.s.held.Unaccounted > 0 ? ` (${n(x.s.held.Unaccounted)} unaccounted addresses counted against them)` : '';
    return (
      `${room.availabilityZone}: ${x.s.subnetId} has ${counted(x.usableBlocks, 'free aligned /28 block')}${unaccounted} and ${counted(x.free, 'free address')}${others}, ` +
      `${nodes} need ${n(room.needBlocks)} blocks and ${n(room.needIps)} addresses during the overlap ${margin}; ${each}`
    );
  }
  return `${room.availabilityZone}: ${x.s.subnetId} has ${counted(x.free, 'free address')}${others}, ${nodes} need ${n(room.needIps)} during the overlap ${margin}; ${each}`;
}

/**
 * Once the old nodes are gone: `oldBySubnet` (what they hold, by subnet) minus what the new nodes
 * hold where the room check put them. Rounded, zeros left out, keys sorted.
 */
export function steadyStateBySubnet(oldBySubnet: ReadonlyMap<string, number>, room: OverlapRoom, newPerNode: number): Record<string, number> {
  const acc = new Map(oldBySubnet);
  for (const [id, nodes] of room.newNodesBySubnet) acc.set(id, (acc.get(id) ?? 0) - nodes * newPerNode);
  const out: Record<string, number> = {};
  for (const [id, v] of [...acc.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const r = Math.round(v);
    if (r !== 0) out[id] = r;
  }
  return out;
}

/** `takes 175 in subnet-a (7 free), 175 in subnet-b (307 free)`. */
export function overlapText(room: OverlapRoom): string {
  return room.azs
    .filter((a) => a.nodes > 0)
    .map((a) => `${n(a.needIps)} in ${a.subnetId} (${n(a.free)} free)`)
    .join(', ');
}

// ---------------------------------------------------------------- capacity

/** One node type's share of a nodegroup's capacity. */
export interface CapacityPart {
  instanceType: string;
  nodes: number;
  vcpus: number;
  memoryMiB: number;
}

/** Sums parts (nodes of a type, with that type's vCPUs and memory per node). */
export function capacityOf(parts: readonly CapacityPart[]): NodegroupCapacity {
  const types = [...new Set(parts.filter((p) => p.nodes > 0).map((p) => p.instanceType))];
  return {
    nodes: parts.reduce((s, p) => s + p.nodes, 0),
    instanceTypes: types,
    vcpus: parts.reduce((s, p) => s + p.nodes * p.vcpus, 0),
    memoryMiB: parts.reduce((s, p) => s + p.nodes * p.memoryMiB, 0),
  };
}

/**
 * What a nodegroup runs, counted at `count` nodes: the nodes running (`nodeTypes`, one entry per
 * node), each of its own type, and the rest up to `count` (a desired size above the nodes running:
 * capacity the nodegroup was meant to have) of type `fill`. A type `capOf` does not know counts as
 * `fill`.
 */
export function nodegroupCapacity(
  nodeTypes: readonly string[],
  count: number,
  fill: NetworkCapacity,
  capOf: (instanceType: string) => NetworkCapacity | undefined,
): NodegroupCapacity {
  const parts = new Map<string, CapacityPart>();
  const add = (instanceType: string, nodes: number): void => {
    const cap = capOf(instanceType) ?? fill;
    const part = parts.get(instanceType) ?? { instanceType, nodes: 0, vcpus: cap.vcpus, memoryMiB: cap.memoryMiB };
    part.nodes += nodes;
    parts.set(instanceType, part);
  };
  for (const t of nodeTypes) add(t, 1);
  if (count > nodeTypes.length) add(fill.instanceType, count - nodeTypes.length);
  return capacityOf([...parts.values()]);
}

/** How much larger `after` is than `before`, in percent, to 0.1 (0 when `before` is 0). */
export function growthPercent(before: number, after: number): number {
  if (before <= 0) return 0;
  return Math.round(((after - before) / before) * 1000) / 10;
}

/** The change from `before` to `after`, in percent of `before`. */
export function capacityChange(before: NodegroupCapacity, after: NodegroupCapacity): CapacityChange {
  const vcpuIncreasePercent = growthPercent(before.vcpus, after.vcpus);
  const memoryIncreasePercent = growthPercent(before.memoryMiB, after.memoryMiB);
  return { before, after, vcpuIncreasePercent, memoryIncreasePercent, increasePercent: Math.max(vcpuIncreasePercent, memoryIncreasePercent) };
}

function gib(mib: number): string {
  const g = mib / 1024;
  return `${Number.isInteger(g) ? n(g) : g.toFixed(1)} GiB`;
}

function signedPercent(p: number): string {
  return `${p >= 0 ? '+' : '−'}${Math.abs(p)} %`;
}

function side(c: NodegroupCapacity): string {
  return `${n(c.nodes)} × ${c.instanceTypes.join('/') || '?'} (${n(c.vcpus)} vCPU, ${gib(c.memoryMiB)})`;
}

/**
 * `doubles vCPU and memory: 10 × m5.large (20 vCPU, 80 GiB) → 10 × m5.xlarge (40 vCPU, 160 GiB),
 * +100 %, same node count (10)`.
 */
export function capacityText(c: CapacityChange): string {
  const v = c.vcpuIncreasePercent;
  const m = c.memoryIncreasePercent;
  const nodes = c.before.nodes === c.after.nodes ? `same node count (${n(c.after.nodes)})` : `${n(c.before.nodes)} → ${n(c.after.nodes)} nodes`;
  const sameTypes = c.before.instanceTypes.join() === c.after.instanceTypes.join();
  if (v === 0 && m === 0 && c.before.nodes === c.after.nodes && sameTypes) return `capacity unchanged: ${side(c.after)}, ${nodes}`;
  const words =
    v === 0 && m === 0
      ? 'keeps vCPU and memory'
      : v === 100 && m === 100
        ? 'doubles vCPU and memory'
        : v === m
          ? `vCPU and memory ${signedPercent(v)}`
          : `vCPU ${signedPercent(v)}, memory ${signedPercent(m)}`;
  return `${words}: ${side(c.before)} → ${side(c.after)}, ${signedPercent(c.increasePercent)}, ${nodes}`;
}

/**
 * The blocker of a change above `bound` percent, naming both numbers; undefined within it.
 * `key` is the policy key, named so that the operator knows what to raise.
 */
export function capacityBlocker(c: CapacityChange, bound: number, key: string): string | undefined {
  if (c.vcpuIncreasePercent <= bound && c.memoryIncreasePercent <= bound) return undefined;
  return (
    `capacity would grow by ${signedPercent(c.increasePercent)}, above ${key} = ${n(bound)} %: ` +
    `vCPU ${signedPercent(c.vcpuIncreasePercent)} (${n(c.before.vcpus)} → ${n(c.after.vcpus)}), ` +
    `memory ${signedPercent(c.memoryIncreasePercent)} (${gib(c.before.memoryMiB)} → ${gib(c.after.memoryMiB)})`
  );
}
