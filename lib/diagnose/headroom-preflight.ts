/**
 * Headroom preflight: will a nodegroup's rolling update, its scale-out to its max size, or the
 * cluster's Kubernetes version upgrade find the free addresses it needs? Pure: the inventory, the
 * measured usage and the ipamd model only. The `preflight` CLI command prints these checks; the
 * `nodegroup-headroom` finding (nodegroup-headroom.ts) is raised from them.
 *
 * Design and sources: docs/models.md, "Headroom preflight".
 */
import { capacityLookup, maxPods, type NetworkCapacity } from '../capacity/instance-type';
import { knownInstanceTypes } from '../capacity/known-instance-types';
import type { ClusterInventory, InstanceTypeInfo, Nodegroup } from '../inventory/types';
import { holdingFor, ipamdConfigOf } from '../ipamd/model';
import type { IpamdConfig } from '../ipamd/types';
import { EKS_CONTROL_PLANE_MIN_FREE_IPS, EKS_UPGRADE_MIN_AZS } from '../measure/measure';
import { readGapsOf } from '../measure/trusted';
import type { ClusterUsage, SubnetUsage } from '../measure/types';
import { prefixBlocksOf } from './prefix-fragmentation';

/**
 * Free addresses a version upgrade may take in any one cluster subnet: "Amazon EKS requires up to
 * five available IP addresses from the subnets that you specified when you created your cluster.
 * Amazon EKS creates new cluster elastic network interfaces in any of the subnets that you
 * specified" (EKS user guide, "Update existing cluster to new Kubernetes version",
 * https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html; awsdocs/amazon-eks-user-guide
 * @4d52b4d latest/ug/clusters/update-cluster.adoc).
 */
export const EKS_UPGRADE_FREE_IPS_PER_SUBNET = 5;

/**
 * The surge of a managed nodegroup update: EKS "increments the Auto Scaling Group's maximum size and
 * desired size by the larger of either: up to twice the number of Availability Zones that the Auto
 * Scaling group is deployed in; the maximum unavailable of upgrade", launching the new nodes "in the
 * same Availability Zone as those that are being upgraded" (EKS user guide, "Understand each phase
 * of node updates", https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html;
 * awsdocs/amazon-eks-user-guide@4d52b4d latest/ug/nodes/managed-node-update-behavior.adoc).
 */
export const SURGE_NODES_PER_AZ = 2;
/** "The maximum unavailable has a quota of 100 nodes. The default value is one node." (same page). */
export const MAX_UNAVAILABLE_QUOTA = 100;
export const MAX_UNAVAILABLE_DEFAULT = 1;

export type PreflightCheckKind = 'rolling-update' | 'scale-to-max' | 'version-upgrade';
export type PreflightVerdict = 'fits' | 'does-not-fit' | 'unknown';

/** One AZ (or, for the version upgrade, one subnet) of a check. */
export interface PreflightPlace {
  availabilityZone: string;
  /** The subnets of the AZ the new nodes may land in (the version upgrade: the one subnet). */
  subnetIds: string[];
  /** The subnet of least room: every new node of the AZ is assumed to land there (the worst case). */
  subnetId: string;
  free: number;
  /** New nodes (or control-plane ENIs) the AZ gets. */
  nodes: number;
  needIps: number;
  /** Prefix mode: free aligned /28 blocks in `subnetId`, and the blocks the new nodes need. */
  freeBlocks?: number;
  needBlocks?: number;
  fits: boolean;
}

export interface PreflightCheck {
  check: PreflightCheckKind;
  cluster: string;
  /** The managed nodegroup (rolling-update, scale-to-max). */
  nodegroup?: string;
  /** The nodegroup's status (UPDATING: an update is in progress). */
  status?: string;
  verdict: PreflightVerdict;
  /** New nodes in all (rolling-update: the surge; scale-to-max: max size less the nodes now). */
  newNodes: number;
  /** Addresses one new node takes from its subnet at launch (its warm pool, no pods yet), the worst type. */
  ipsPerNode?: number;
  /** The same node once full (at its max pods): what it holds once pods land on it. */
  ipsPerNodeFull?: number;
  instanceType?: string;
  places: PreflightPlace[];
  /** One line: the answer with its numbers. */
  summary: string;
  /** How the figure is made (the assumptions), one line each. */
  basis: string[];
}

export interface PreflightInput {
  usage: ClusterUsage;
  inventory: ClusterInventory;
  /** The inventory's instance-type limits; the bundled data fills in a type no node runs yet. */
  instanceTypes: Record<string, InstanceTypeInfo>;
}

/** `n` new nodes of a nodegroup whose instance types and CNI settings decide what each takes. */
interface NodeDemand {
  instanceType: string;
  /** Addresses at launch (warm pool), in the node's subnet. */
  ips: number;
  ipsFull: number;
  /** Prefix mode: /28 blocks and single addresses (ENI primaries) at launch. */
  blocks: number;
  singles: number;
}

function configOf(usage: ClusterUsage): { config?: IpamdConfig; note?: string } {
  if (usage.cni.install === 'unknown') return {};
  const config = ipamdConfigOf(usage.cni);
  if (config) return { config };
  // Self-managed aws-node: its env is not visible to the AWS API; the CNI's defaults are assumed.
  return {
    config: ipamdConfigOf({ source: 'defaults', invalid: [] }) ?? { prefixDelegation: false },
    note: 'aws-node is self-managed (its env is not visible to the AWS API): the VPC CNI defaults are assumed',
  };
}

/** The worst (most addresses) of the nodegroup's instance types, at launch and when full. */
function demandOf(
  types: readonly string[],
  capOf: (t: string) => NetworkCapacity | undefined,
  config: IpamdConfig,
  ipv6: boolean,
): NodeDemand | { unknownType: string } | undefined {
  let worst: NodeDemand | undefined;
  for (const t of types) {
    const cap = capOf(t);
    if (!cap) return { unknownType: t };
    const custom = config.customNetworking === true;
    const prefix = config.prefixDelegation && cap.nitro;
    const cfg: IpamdConfig = { ...config, prefixDelegation: prefix };
    const podsMax = maxPods(cap, { prefixDelegation: prefix, customNetworking: custom, ...(config.maxEni !== undefined ? { maxEni: config.maxEni } : {}), applyKubeletCap: true });
    const atLaunch = holdingFor(cap, 0, { ...cfg, maxPods: podsMax });
    const full = holdingFor(cap, podsMax, { ...cfg, maxPods: podsMax });
    // Custom networking: only the primary ENI (its address, no pods) is in the node's subnet. An IPv6
    // cluster alike: pods take IPv6 from a /80 per node, the node one IPv4 (lib/inventory/cluster-network.ts).
    const d: NodeDemand = custom || ipv6
      ? { instanceType: t, ips: 1, ipsFull: 1, blocks: 0, singles: 1 }
      : { instanceType: t, ips: atLaunch.subnetIps, ipsFull: full.subnetIps, blocks: atLaunch.prefixes, singles: prefix ? atLaunch.enis : atLaunch.subnetIps };
    if (!worst || d.ips > worst.ips || (d.ips === worst.ips && d.blocks > worst.blocks)) worst = d;
  }
  return worst;
}

/** The instance types a nodegroup launches: its own list, else the types its nodes run (a launch template sets it). */
function typesOf(ng: Nodegroup, usage: ClusterUsage): string[] {
  if (ng.instanceTypes && ng.instanceTypes.length > 0) return [...ng.instanceTypes];
  return [...new Set(usage.nodes.filter((x) => x.nodegroup === ng.nodegroupName).map((x) => x.instanceType))].sort();
}

/** The nodegroup's subnets grouped by AZ; the ids not in the measured usage. */
function subnetsByAz(ids: readonly string[], usage: ClusterUsage): { byAz: Map<string, SubnetUsage[]>; missing: string[] } {
  const byAz = new Map<string, SubnetUsage[]>();
  const missing: string[] = [];
  for (const id of ids) {
    const s = usage.subnets.find((x) => x.subnetId === id);
    if (!s) {
      missing.push(id);
      continue;
    }
    byAz.set(s.availabilityZone, [...(byAz.get(s.availabilityZone) ?? []), s]);
  }
  return { byAz, missing };
}

/** Each AZ's new nodes against its subnet of least room (in prefix mode, against its free /28 blocks too). */
function placeNodes(byAz: Map<string, SubnetUsage[]>, nodesInAz: (az: string) => number, d: NodeDemand, inv: ClusterInventory): PreflightPlace[] {
  const prefixes = d.blocks > 0;
  const places: PreflightPlace[] = [];
  for (const [az, list] of [...byAz.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const nodes = nodesInAz(az);
    const needIps = nodes * d.ips;
    // Each primary address may break a free block: blocks + singles, as lib/plan/replacement.ts counts them.
    const needBlocks = nodes * (d.blocks + d.singles);
    const rooms = list.map((s) => ({ s, freeBlocks: prefixes ? Math.max(0, prefixBlocksOf(s, inv.networkInterfaces).freeBlocks - s.held.Unaccounted) : 0 }));
    const fitsIn = (r: (typeof rooms)[number]): boolean => nodes === 0 || (r.s.available >= needIps && (!prefixes || r.freeBlocks >= needBlocks));
    const ordered = [...rooms].sort((a, b) => a.s.available - b.s.available || a.freeBlocks - b.freeBlocks || a.s.subnetId.localeCompare(b.s.subnetId));
    const least = ordered.find((r) => !fitsIn(r)) ?? ordered[0];
    if (!least) continue;
    places.push({
      availabilityZone: az,
      subnetIds: list.map((s) => s.subnetId),
      subnetId: least.s.subnetId,
      free: least.s.available,
      nodes,
      needIps,
      ...(prefixes ? { freeBlocks: least.freeBlocks, needBlocks } : {}),
      fits: rooms.every(fitsIn),
    });
  }
  return places;
}

function unknownCheck(base: Omit<PreflightCheck, 'verdict' | 'places' | 'summary' | 'newNodes' | 'basis'>, why: string, basis: string[] = []): PreflightCheck {
  const what = base.nodegroup ? `${base.check} of nodegroup ${base.nodegroup}` : `${base.check} of cluster ${base.cluster}`;
  return { ...base, verdict: 'unknown', newNodes: 0, places: [], summary: `${what}: unknown, ${why}`, basis };
}

function verdictOf(places: readonly PreflightPlace[]): PreflightVerdict {
  return places.every((p) => p.fits) ? 'fits' : 'does-not-fit';
}

function shortPlaces(places: readonly PreflightPlace[]): string {
  const short = places.filter((p) => !p.fits);
  return short
    .map((p) => `${p.availabilityZone} ${p.subnetId} has ${p.free} free, needs ${p.needIps}${p.needBlocks !== undefined ? ` (${p.freeBlocks ?? 0} free /28 blocks, needs ${p.needBlocks})` : ''}`)
    .join('; ');
}

/** Rolling update and scale-out to max size of one managed nodegroup. */
function nodegroupChecks(input: PreflightInput, ng: Nodegroup, capOf: (t: string) => NetworkCapacity | undefined): PreflightCheck[] {
  const { usage, inventory } = input;
  const name = ng.nodegroupName ?? '';
  const base = { cluster: usage.name, nodegroup: name, ...(ng.status ? { status: ng.status } : {}) };
  const gaps = readGapsOf(usage.problems);
  const { config, note } = configOf(usage);
  const kinds: PreflightCheckKind[] = ['rolling-update', 'scale-to-max'];
  if (!config) return kinds.map((check) => unknownCheck({ ...base, check }, 'the VPC CNI settings could not be read'));
  const { byAz, missing } = subnetsByAz(ng.subnets ?? [], usage);
  if (missing.length > 0 || byAz.size === 0) {
    const why = byAz.size === 0 && missing.length === 0 ? 'the nodegroup names no subnet' : `subnet(s) ${missing.join(', ')} of the nodegroup were not read`;
    return kinds.map((check) => unknownCheck({ ...base, check }, why));
  }
  const types = typesOf(ng, usage);
  if (types.length === 0) return kinds.map((check) => unknownCheck({ ...base, check }, 'its instance types are not known (a launch template sets them and it has no node)'));
  const ipv6 = usage.network?.ipFamily === 'ipv6';
  const d = demandOf(types, capOf, config, ipv6);
  if (!d || 'unknownType' in d) return kinds.map((check) => unknownCheck({ ...base, check }, `the limits of instance type ${d ? d.unknownType : '?'} are not known`));
  const k = byAz.size;
  const basis = [
    ipv6
      ? `a new ${d.instanceType} node takes ${d.ips} IPv4 address from its subnet (IPv6 cluster: its pods take IPv6 from a /80 prefix, the node one IPv4 for its primary ENI)`
      : `a new ${d.instanceType} node takes ${d.ips} address(es) from its subnet at launch (its warm pool at the CNI settings, no pods yet; ${d.ipsFull} once full at max pods)`,
    'each AZ\'s new nodes are all assumed to land in its subnet of least room (Auto Scaling picks the subnet)',
    ...(note ? [note] : []),
  ];
  const common = { ipsPerNode: d.ips, ipsPerNodeFull: d.ipsFull, instanceType: d.instanceType };
  const out: PreflightCheck[] = [];

  // Rolling update: the larger of 2 per AZ and maxUnavailable, spread over the AZs.
  const desired = ng.scalingConfig?.desiredSize ?? 0;
  const uc = ng.updateConfig;
  const pctUnavailable = uc?.maxUnavailablePercentage;
  // A percentage of the nodes, rounded up (the API reference does not say how EKS rounds: up is the larger surge).
  const maxUnavailable = Math.min(
    MAX_UNAVAILABLE_QUOTA,
    uc?.maxUnavailable ?? (pctUnavailable !== undefined ? Math.max(1, Math.ceil((desired * pctUnavailable) / 100)) : MAX_UNAVAILABLE_DEFAULT),
  );
  const surge = desired === 0 ? 0 : Math.max(SURGE_NODES_PER_AZ * k, maxUnavailable);
  const perAz = Math.ceil(surge / k);
  const update = placeNodes(byAz, () => perAz, d, inventory);
  const updateVerdict = verdictOf(update);
  const how = `max(2 × ${k} AZ${k === 1 ? '' : 's'}, maxUnavailable ${maxUnavailable}${pctUnavailable !== undefined && uc?.maxUnavailable === undefined ? ` = ${pctUnavailable}% of ${desired}` : ''})`;
  out.push({
    ...base,
    check: 'rolling-update',
    verdict: updateVerdict,
    newNodes: surge,
    ...common,
    places: update,
    summary:
      surge === 0
        ? `rolling update of ${name}: fits (no node to replace)`
        : updateVerdict === 'fits'
          ? `rolling update of ${name}: fits: ${surge} surge node(s) = ${how}, ${perAz} per AZ × ${d.ips} IPs`
          : `rolling update of ${name}: does not fit: ${surge} surge node(s) = ${how}, ${perAz} per AZ × ${d.ips} IPs; ${shortPlaces(update)}`,
    basis: [`EKS adds ${how} nodes during an update, in the AZs of the nodes it replaces (managed-node-update-behavior)`, ...basis],
  });

  // Scale-out to max: Auto Scaling balances the AZs, so each ends with ⌈max/k⌉ at most
  // (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-availability-zone-balanced.html).
  // The surge's AZs: EKS launches the upgraded nodes in the AZs of the nodes they replace
  // (SURGE_NODES_PER_AZ); the spread over the nodegroup's AZs is the same balancing.
  const maxSize = ng.scalingConfig?.maxSize;
  if (maxSize === undefined) {
    out.push(unknownCheck({ ...base, check: 'scale-to-max' }, 'the nodegroup has no scalingConfig.maxSize'));
    return out;
  }
  if (gaps.instances) {
    out.push(unknownCheck({ ...base, check: 'scale-to-max' }, 'its nodes were not read (DescribeInstances failed)'));
    return out;
  }
  const nodesNow = usage.nodes.filter((x) => x.nodegroup === name);
  const inAz = (az: string) => nodesNow.filter((x) => x.availabilityZone === az).length;
  const finalPerAz = Math.ceil(maxSize / k);
  const scale = placeNodes(byAz, (az) => Math.max(0, finalPerAz - inAz(az)), d, inventory);
  const added = scale.reduce((sum, p) => sum + p.nodes, 0);
  const scaleVerdict = verdictOf(scale);
  out.push({
    ...base,
    check: 'scale-to-max',
    verdict: scaleVerdict,
    newNodes: added,
    ...common,
    places: scale,
    summary:
      scaleVerdict === 'fits'
        ? `scale-out of ${name} to its max size ${maxSize}: fits: up to ${added} new node(s) (${nodesNow.length} now) × ${d.ips} IPs`
        : `scale-out of ${name} to its max size ${maxSize}: does not fit: up to ${added} new node(s) (${nodesNow.length} now) × ${d.ips} IPs; ${shortPlaces(scale)}`,
    basis: [
      `Auto Scaling keeps the AZs balanced: each of the ${k} AZ${k === 1 ? '' : 's'} ends with at most ⌈${maxSize}/${k}⌉ = ${finalPerAz} nodes (ec2-auto-scaling-availability-zone-balanced)`,
      ...basis,
    ],
  });
  return out;
}

/** The version upgrade: up to 5 free addresses in any cluster subnet, and free addresses in 2 AZs. */
function upgradeCheck(usage: ClusterUsage): PreflightCheck {
  const base = { cluster: usage.name, check: 'version-upgrade' as const };
  const ids = usage.controlPlane.subnetIds;
  const gaps = readGapsOf(usage.problems);
  const unread = gaps.unreadSubnets === 'all' ? ids : ids.filter((id) => (gaps.unreadSubnets as string[]).includes(id));
  const subnets = usage.subnets.filter((s) => s.roles.includes('cluster'));
  if (unread.length > 0 || subnets.length === 0) return unknownCheck(base, subnets.length === 0 ? 'no cluster subnet was read' : `cluster subnet(s) ${unread.join(', ')} were not read`);
  const places: PreflightPlace[] = [...subnets]
    .sort((a, b) => a.availabilityZone.localeCompare(b.availabilityZone) || a.subnetId.localeCompare(b.subnetId))
    .map((s) => ({
      availabilityZone: s.availabilityZone,
      subnetIds: [s.subnetId],
      subnetId: s.subnetId,
      free: s.available,
      nodes: EKS_UPGRADE_FREE_IPS_PER_SUBNET,
      needIps: EKS_UPGRADE_FREE_IPS_PER_SUBNET,
      fits: s.available >= EKS_UPGRADE_FREE_IPS_PER_SUBNET,
    }));
  const azs = usage.controlPlane.azsWithMinimum;
  const fits = places.every((p) => p.fits) && usage.controlPlane.upgradeReady;
  const short = places.filter((p) => !p.fits);
  const reasons = [
    ...(short.length > 0 ? [short.map((p) => `${p.subnetId} (${p.availabilityZone}) has ${p.free} free`).join(', ')] : []),
    ...(!usage.controlPlane.upgradeReady ? [`${azs} AZ(s) with ${EKS_CONTROL_PLANE_MIN_FREE_IPS}+ free, ${EKS_UPGRADE_MIN_AZS} needed`] : []),
  ];
  return {
    ...base,
    verdict: fits ? 'fits' : 'does-not-fit',
    newNodes: 0,
    places,
    summary: fits
      ? `version upgrade of ${usage.name}: fits: every cluster subnet has ${EKS_UPGRADE_FREE_IPS_PER_SUBNET}+ free, ${azs} AZs with ${EKS_CONTROL_PLANE_MIN_FREE_IPS}+`
      : `version upgrade of ${usage.name}: does not fit: ${reasons.join('; ')}`,
    basis: [
      `EKS places up to ${EKS_UPGRADE_FREE_IPS_PER_SUBNET} new control-plane ENIs in any of the cluster subnets during an upgrade (update-cluster)`,
      `and needs ${EKS_CONTROL_PLANE_MIN_FREE_IPS}+ free in each cluster subnet, in ${EKS_UPGRADE_MIN_AZS}+ AZs (network-reqs)`,
    ],
  };
}

/**
 * Every check of a cluster: the version upgrade, then each managed nodegroup's rolling update and
 * scale-out to max size (by nodegroup name). `nodegroup` narrows to one nodegroup (and drops the
 * version upgrade).
 */
export function preflightChecks(input: PreflightInput, nodegroup?: string): PreflightCheck[] {
  const known = Object.keys(input.instanceTypes).length > 0 ? input.instanceTypes : {};
  const fromInventory = capacityLookup(known);
  let bundled: ((t: string) => NetworkCapacity | undefined) | undefined;
  // A type no node runs yet (a new nodegroup at 0) is read from the bundled DescribeInstanceTypes data.
  const capOf = (t: string): NetworkCapacity | undefined => {
    const cap = fromInventory(t);
    if (cap) return cap;
    bundled ??= capacityLookup(Object.fromEntries(knownInstanceTypes()));
    return bundled(t);
  };
  const nodegroups = [...input.inventory.nodegroups]
    .filter((ng) => nodegroup === undefined || ng.nodegroupName === nodegroup)
    .sort((a, b) => (a.nodegroupName ?? '').localeCompare(b.nodegroupName ?? ''));
  return [...(nodegroup === undefined ? [upgradeCheck(input.usage)] : []), ...nodegroups.flatMap((ng) => nodegroupChecks(input, ng, capOf))];
}
