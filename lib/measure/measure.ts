/**
 * Measure: from an inventory to usage per subnet, node, nodegroup and cluster. Pure: no AWS,
 * no environment, no clock (the time is the inventory's).
 */
import type { Instance, InstanceTypeInfo, NetworkInterface, Subnet } from '@aws-sdk/client-ec2';
import {
  capacityLookup,
  maxPods,
  nodeadmDefaultMaxPods,
  podEnisOfNode,
  podIpSlots,
  type NetworkCapacity,
} from '../capacity/instance-type';
import { clusterNetworkOf } from '../inventory/cluster-network';
import type { ClusterInventory, CollectionProblem, Inventory, SubnetRole } from '../inventory/types';
import { AUTO_MODE_NODEPOOL_TAG_KEY, KARPENTER_NODEPOOL_TAG_KEY } from '../names';
import { parseIpv4Cidr } from './cidr';
import { discoverCniSubnets } from './cni-discovery';
import { readCniSettings, type CniSettings } from './cni-settings';
import { classifyEni, eniAddressCount, HOLDERS, IPS_PER_PREFIX, nodeEniRole, type Holder } from './eni';
import { measureRegionLimits } from './region-limits';
import { measureReservations, type SubnetReservations } from './reservations';
import { ClusterShareAccumulator, clusterOfEni, clusterOfInstances } from './cluster-share';
import { measureLeakedEnis } from './leaked-enis';
import { applyKubeToNode, clusterPodIpUse, kubeNodesByInstance, kubePodsOf, measureKube } from './kube-pods';
import { enisUnreadIn, readGapsOf } from './trusted';
import type {
  ClusterUsage,
  ControlPlaneUsage,
  NodegroupUsage,
  NodeUsage,
  SubnetUsage,
  Usage,
} from './types';

/**
 * EKS needs at least 6 free addresses in each cluster subnet for its control-plane ENIs and
 * recommends 16 (EKS user guide, "View Amazon EKS networking requirements for VPC and subnets":
 * https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html).
 */
export const EKS_CONTROL_PLANE_MIN_FREE_IPS = 6;
export const EKS_CONTROL_PLANE_RECOMMENDED_FREE_IPS = 16;
/** EKS needs free addresses in two AZs for a version upgrade (network-reqs). */
export const EKS_UPGRADE_MIN_AZS = 2;

/**
 * Usable addresses of a subnet: AWS reserves the first four and the last address of every
 * subnet CIDR block (VPC user guide, "Subnet CIDR blocks"), so a /24 has 251.
 * @throws Error when the CIDR is not an IPv4 CIDR.
 */
export function usableAddresses(cidrBlock: string): number {
  return Math.max(0, parseIpv4Cidr(cidrBlock).size - 5);
}

/**
 * A subnet's addresses in use: its usable addresses less AvailableIpAddressCount; 0 when either is
 * unknown (no IPv4 CIDR, no count). What the region's ENI read balances its lanes by
 * (lib/aws/region-limits.ts).
 */
export function addressesInUse(subnet: Pick<Subnet, 'CidrBlock' | 'AvailableIpAddressCount'>): number {
  if (subnet.AvailableIpAddressCount === undefined || !subnet.CidrBlock) return 0;
  try {
    return Math.max(0, usableAddresses(subnet.CidrBlock) - subnet.AvailableIpAddressCount);
  } catch {
    return 0;
  }
}

const emptyHeld = (): Record<Holder, number> =>
  Object.fromEntries(HOLDERS.map((h) => [h, 0])) as Record<Holder, number>;

function tag(tags: { Key?: string; Value?: string }[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

/** The nodegroup label of a node, from the tags EKS, Karpenter and Auto Scaling put on instances. */
export function nodegroupOf(instance: Instance): { name: string; kind: NodegroupUsage['kind'] } {
  const managed = tag(instance.Tags, 'eks:nodegroup-name');
  if (managed) return { name: managed, kind: 'managed' };
  // EKS Auto Mode's nodes first: Auto Mode NodePools are Karpenter's, and its tag names them (lib/names.ts).
  const autoPool = tag(instance.Tags, AUTO_MODE_NODEPOOL_TAG_KEY);
  if (autoPool) return { name: `auto-mode:${autoPool}`, kind: 'auto-mode' };
  const pool = tag(instance.Tags, KARPENTER_NODEPOOL_TAG_KEY) ?? tag(instance.Tags, 'karpenter.sh/provisioner-name');
  if (pool) return { name: `karpenter:${pool}`, kind: 'karpenter' };
  const asg = tag(instance.Tags, 'aws:autoscaling:groupName');
  if (asg) return { name: `asg:${asg}`, kind: 'self-managed' };
  return { name: 'self-managed', kind: 'self-managed' };
}

interface SubnetAccumulator {
  held: Record<Holder, number>;
  others: Map<string, { enis: number; ips: number }>;
  controlPlaneClusters: Set<string>;
  enis: number;
  /** The addresses by cluster (lib/measure/cluster-share.ts). */
  share?: ClusterShareAccumulator;
}

interface NodeAccumulator {
  enis: number;
  trunkEnis: number;
  unmanagedEnis: number;
  secondaryIps: number;
  prefixes: number;
}

const emptyNode = (): NodeAccumulator => ({ enis: 0, trunkEnis: 0, unmanagedEnis: 0, secondaryIps: 0, prefixes: 0 });

/** Who sets a node's kubelet max pods: see NodeUsage `limits.maxPodsSource`. */
type MaxPodsSource = NonNullable<NonNullable<NodeUsage['limits']>['maxPodsSource']>;

/**
 * Whether the node's launcher computes max pods for the CNI's mode (`calculator`) or the AMI's
 * bootstrap default applies (`nodeadm-default`). EKS sets max pods on managed nodegroups without a
 * custom AMI ("Managed node groups automatically calculates the maximum number of Pods for you",
 * EKS user guide cni-increase-ip-addresses-procedure.html); with an AMI ID in the launch template
 * (amiType CUSTOM) and on self-managed nodes the user data decides, and nodeadm's default is the
 * secondary-IP figure (lib/capacity/instance-type.ts `nodeadmDefaultMaxPods`). Karpenter sets it
 * itself and is left as the calculator's figure.
 */
function maxPodsSourceOf(instance: Instance, nodegroups: ClusterInventory['nodegroups']): MaxPodsSource {
  const group = nodegroupOf(instance);
  if (group.kind === 'self-managed') return 'nodeadm-default';
  if (group.kind === 'managed') {
    const ng = nodegroups.find((x) => x.nodegroupName === group.name);
    if (ng?.amiType === 'CUSTOM') return 'nodeadm-default';
  }
  return 'calculator';
}

/** Measures one subnet from its accumulated holders. */
function measureSubnet(subnet: Subnet, roles: SubnetRole[], acc: SubnetAccumulator, reservations?: SubnetReservations): SubnetUsage {
  const cidrBlock = subnet.CidrBlock ?? '';
  const usable = usableAddresses(cidrBlock);
  const available = subnet.AvailableIpAddressCount ?? 0;
  const used = Math.max(0, usable - available);
  const held = { ...acc.held };
  const visible = HOLDERS.reduce((sum, h) => sum + held[h], 0);
  // AvailableIpAddressCount leaves out a reservation's unused addresses (docs/remediation.md,
  // "Subnet CIDR reservations"), so they are part of `used`: a holder of their own, not
  // Unaccounted, as far as `used` leaves room for them (an ENI made between the reads may sit in one).
  held.Reserved = Math.min(Math.max(0, used - visible), (reservations?.explicit.unused ?? 0) + (reservations?.prefix.unused ?? 0));
  held.Unaccounted = Math.max(0, used - visible - held.Reserved);
  return {
    subnetId: subnet.SubnetId ?? '',
    vpcId: subnet.VpcId ?? '',
    availabilityZone: subnet.AvailabilityZone ?? '',
    cidrBlock,
    roles,
    usable,
    available,
    used,
    utilization: usable > 0 ? used / usable : 0,
    held,
    others: [...acc.others.entries()]
      .map(([label, v]) => ({ label, ...v }))
      .sort((a, b) => b.ips - a.ips || a.label.localeCompare(b.label)),
    controlPlaneClusters: [...acc.controlPlaneClusters].sort(),
    enis: acc.enis,
    overcounted: Math.max(0, visible - used),
    ...(reservations ? { reservations } : {}),
    ...(acc.share ? { clusterShare: acc.share.share(used) } : {}),
  };
}

/** The subnets a node has ENIs in, as DescribeInstances names them. */
function nodeSubnetIds(instance: Instance): string[] {
  const ids = [instance.SubnetId, ...(instance.NetworkInterfaces ?? []).map((ni) => ni.SubnetId)];
  return ids.filter((id): id is string => typeof id === 'string' && id !== '');
}

/**
 * Measures one node against its instance type. `enisRead` false: the ENIs of a subnet the node has
 * ENIs in were not read, so what the node holds, its mode and its limits are left unknown (never
 * the add-on's mode and the limits of an empty node).
 */
function measureNode(
  instance: Instance,
  acc: NodeAccumulator,
  capacity: NetworkCapacity | undefined,
  cni: CniSettings,
  maxPodsSource: MaxPodsSource,
  enisRead: boolean,
): NodeUsage {
  const group = nodegroupOf(instance);
  // What the node does decides its mode: a node launched before prefix delegation was turned on
  // keeps its secondary IPs (and its kubelet max pods). The add-on setting decides only for a
  // node that holds no pod addresses yet, and only when its ENIs were read.
  const mode: NodeUsage['mode'] = !enisRead
    ? undefined
    : acc.prefixes > 0
      ? 'prefix'
      : acc.secondaryIps > 0
        ? 'secondary-ip'
        : // EKS Auto Mode provisions /28 prefixes to its nodes (EKS user guide, auto-networking.html).
          cni.prefixDelegation === true || group.kind === 'auto-mode'
          ? 'prefix'
          : 'secondary-ip';
  const podIps = acc.secondaryIps + acc.prefixes * IPS_PER_PREFIX;
  const node: NodeUsage = {
    instanceId: instance.InstanceId ?? '',
    instanceType: instance.InstanceType ?? 'unknown',
    nodegroup: group.name,
    subnetId: instance.SubnetId,
    availabilityZone: instance.Placement?.AvailabilityZone,
    mode,
    ...(enisRead ? {} : { enisUnread: true }),
    enis: acc.enis,
    trunkEnis: acc.trunkEnis,
    unmanagedEnis: acc.unmanagedEnis,
    secondaryIps: acc.secondaryIps,
    prefixes: acc.prefixes,
    podIps,
    atEniLimit: false,
    atIpLimit: false,
  };
  if (capacity && mode !== undefined) {
    const opts = { prefixDelegation: mode === 'prefix', customNetworking: cni.customNetworking === true };
    // The kubelet's max pods is set at launch and knows nothing of MAX_ENI or the node's trunk ENI;
    // the address slots do (pkg/ipamd/ipamd.go getMaxENI, hasRoomForEni).
    const onNode = { trunkEnis: acc.trunkEnis, unmanagedEnis: acc.unmanagedEnis };
    const withMaxEni = { ...opts, maxEni: cni.maxEni };
    const slots = podIpSlots(capacity, withMaxEni, onNode);
    node.limits = {
      maxEnis: capacity.maxEnis,
      ipv4PerEni: capacity.ipv4PerEni,
      podEnis: podEnisOfNode(capacity, withMaxEni, onNode),
      podIpSlots: slots,
      maxPods:
        maxPodsSource === 'nodeadm-default' ? nodeadmDefaultMaxPods(capacity) : maxPods(capacity, { ...opts, applyKubeletCap: true }),
      maxPodsUncapped: maxPods(capacity, opts),
      maxPodsSource,
    };
    // hasRoomForEni: ipamd's ENIs (the trunk is one of them to ipamd, and is subtracted from the
    // limit) stay below maxENI − unmanaged − trunk, maxENI being MAX_ENI or the type's maximum. A
    // node with every EC2 slot used has no room either way.
    const ipamdEnis = acc.enis - acc.trunkEnis - acc.unmanagedEnis;
    const ipamdEniLimit = podEnisOfNode(capacity, { maxEni: cni.maxEni }, onNode);
    node.atEniLimit = acc.enis >= capacity.maxEnis || ipamdEnis >= ipamdEniLimit;
    node.atIpLimit = node.atEniLimit && podIps >= slots;
  }
  return node;
}

/** A nodegroup with nothing counted yet. */
function emptyNodegroup(name: string, kind: NodegroupUsage['kind'], declared: Partial<NodegroupUsage> = {}): NodegroupUsage {
  return {
    name,
    kind,
    instanceTypes: [],
    subnetIds: [],
    ...declared,
    nodes: 0,
    enis: 0,
    maxEnis: 0,
    podIps: 0,
    podIpSlots: 0,
    podCapacity: 0,
    nodesAtEniLimit: 0,
    nodesAtIpLimit: 0,
    nodesOfUnknownType: 0,
    nodesEnisUnread: 0,
  };
}

/** Rolls nodes up into nodegroups; managed nodegroups without nodes are kept. */
function measureNodegroups(inv: ClusterInventory, nodes: NodeUsage[], instancesById: Map<string, Instance>): NodegroupUsage[] {
  const groups = new Map<string, NodegroupUsage>();
  for (const ng of inv.nodegroups) {
    const name = ng.nodegroupName ?? '';
    groups.set(
      name,
      emptyNodegroup(name, 'managed', {
        instanceTypes: [...(ng.instanceTypes ?? [])],
        status: ng.status,
        subnetIds: [...(ng.subnets ?? [])],
        desiredSize: ng.scalingConfig?.desiredSize,
      }),
    );
  }
  for (const node of nodes) {
    let g = groups.get(node.nodegroup);
    if (!g) {
      const instance = instancesById.get(node.instanceId);
      g = emptyNodegroup(node.nodegroup, instance ? nodegroupOf(instance).kind : 'self-managed');
      groups.set(node.nodegroup, g);
    }
    g.nodes++;
    g.enis += node.enis;
    g.podIps += node.podIps;
    if (!g.instanceTypes.includes(node.instanceType)) g.instanceTypes.push(node.instanceType);
    if (node.subnetId && !g.subnetIds.includes(node.subnetId)) g.subnetIds.push(node.subnetId);
    if (node.limits) {
      g.maxEnis += node.limits.maxEnis;
      g.podIpSlots += node.limits.podIpSlots;
      g.podCapacity += node.limits.maxPods;
    } else if (node.enisUnread) {
      g.nodesEnisUnread = (g.nodesEnisUnread ?? 0) + 1;
    } else {
      g.nodesOfUnknownType++;
    }
    if (node.atEniLimit) g.nodesAtEniLimit++;
    if (node.atIpLimit) g.nodesAtIpLimit++;
  }
  return [...groups.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Whether pods get addresses in the subnet: a node subnet, or one the CNI discovers. */
export function isPodSubnet(s: { roles: readonly SubnetRole[] }): boolean {
  return s.roles.includes('node') || s.roles.includes('cni-discovery');
}

/** Control-plane subnets against EKS's free-address requirements. */
export function measureControlPlane(subnets: SubnetUsage[]): ControlPlaneUsage {
  const cluster = subnets.filter((s) => s.roles.includes('cluster'));
  const azs = new Set(
    cluster.filter((s) => s.available >= EKS_CONTROL_PLANE_MIN_FREE_IPS).map((s) => s.availabilityZone),
  );
  const minAvailable = cluster.length > 0 ? Math.min(...cluster.map((s) => s.available)) : 0;
  return {
    subnetIds: cluster.map((s) => s.subnetId),
    minAvailable,
    azsWithMinimum: azs.size,
    meetsMinimum: cluster.length > 0 && minAvailable >= EKS_CONTROL_PLANE_MIN_FREE_IPS,
    meetsRecommended: cluster.length > 0 && minAvailable >= EKS_CONTROL_PLANE_RECOMMENDED_FREE_IPS,
    upgradeReady: azs.size >= EKS_UPGRADE_MIN_AZS,
  };
}

/** Measures one cluster. Problems found while measuring are added to the collector's. */
export function measureCluster(
  inv: ClusterInventory,
  instanceTypes: Record<string, InstanceTypeInfo>,
  /** The cluster of every collected cluster's nodes (cluster-share.ts `clusterOfInstances`), for the subnets' shares. */
  clusterOfInstance: ReadonlyMap<string, string> = new Map(),
  /** The time of the sample (the inventory's `collectedAt`), for the leaked ENIs' age. */
  collectedAt?: string,
): ClusterUsage {
  const problems: CollectionProblem[] = [...inv.problems];
  const cni = readCniSettings(inv.cni);
  if (cni.invalid.length > 0) {
    problems.push({
      source: 'eks:DescribeAddon vpc-cni configurationValues',
      message: `cluster ${inv.name}: the vpc-cni add-on's configuration has values the CNI does not accept: ${cni.invalid.join(', ')}`,
    });
  }

  const instancesById = new Map<string, Instance>();
  for (const i of inv.instances) if (i.InstanceId) instancesById.set(i.InstanceId, i);
  const isNode = (id: string): boolean => instancesById.has(id);

  const subnetAcc = new Map<string, SubnetAccumulator>();
  for (const s of inv.subnets) {
    if (s.SubnetId) {
      subnetAcc.set(s.SubnetId, { held: emptyHeld(), others: new Map(), controlPlaneClusters: new Set(), enis: 0, share: new ClusterShareAccumulator(inv.name) });
    }
  }
  const nodeAcc = new Map<string, NodeAccumulator>();
  for (const id of instancesById.keys()) nodeAcc.set(id, emptyNode());

  const strays = new Map<string, number>();
  const ownNodes = new Set(instancesById.keys());
  for (const eni of inv.networkInterfaces) {
    measureEni(eni, isNode, subnetAcc, nodeAcc, strays);
    subnetAcc.get(eni.SubnetId ?? '')?.share?.add(clusterOfEni(eni, inv.name, ownNodes, clusterOfInstance), eni);
  }
  const { leaked: leakedEnis, unconfirmed } = measureLeakedEnis(inv, collectedAt ?? '');
  for (const [subnetId, count] of strays) {
    problems.push({
      source: 'ec2:DescribeNetworkInterfaces',
      message: `cluster ${inv.name}: ${count} ENI(s) in subnet ${subnetId}, which is not one of the cluster's subnets (or DescribeSubnets did not return it); they are left out of the subnet figures`,
    });
  }

  const subnets: SubnetUsage[] = [];
  for (const s of inv.subnets) {
    const id = s.SubnetId ?? '';
    const acc = subnetAcc.get(id);
    if (!acc) continue;
    try {
      const reserved = (inv.subnetCidrReservations ?? []).filter((r) => r.SubnetId === id);
      const reservations = reserved.length > 0 ? measureReservations(s.CidrBlock ?? '', reserved, inv.networkInterfaces.filter((e) => e.SubnetId === id)) : undefined;
      subnets.push(measureSubnet(s, inv.subnetRoles[id] ?? [], acc, reservations));
    } catch (err) {
      // Not understood is as good as not read: the figures that rest on the subnet are unknown.
      problems.push({
        source: 'ec2:DescribeSubnets',
        message: `cluster ${inv.name}: subnet ${id}: ${(err as Error).message}`,
        unread: { part: 'subnets', ids: [id] },
      });
    }
  }
  subnets.sort((a, b) => a.availabilityZone.localeCompare(b.availabilityZone) || a.subnetId.localeCompare(b.subnetId));
  for (const s of subnets) {
    const here = leakedEnis.filter((e) => e.subnetId === s.subnetId);
    if (here.length > 0) s.leaked = { enis: here.length, ips: here.reduce((sum, e) => sum + e.ips, 0) };
  }

  const capacityOf = capacityLookup(instanceTypes, (type, err) => {
    if (err) {
      problems.push({ source: 'ec2:DescribeInstanceTypes', message: `cluster ${inv.name}: ${err.message}` });
    } else if (!problems.some((p) => p.source === 'ec2:DescribeInstanceTypes' && p.code !== undefined)) {
      // Unknown only if EC2 answered: when DescribeInstanceTypes itself failed, that failure
      // is the problem (already recorded), not the instance type.
      problems.push({
        source: 'ec2:DescribeInstanceTypes',
        message: `cluster ${inv.name}: instance type ${type} is unknown to DescribeInstanceTypes; its nodes' limits and max pods are not measured`,
      });
    }
  });

  // Which subnets' ENIs were not read: the collector's problems say (lib/measure/trusted.ts).
  const gaps = readGapsOf(inv.problems);
  const nodes: NodeUsage[] = [];
  for (const [id, instance] of instancesById) {
    const acc = nodeAcc.get(id) ?? emptyNode();
    const enisRead = !enisUnreadIn(gaps, nodeSubnetIds(instance));
    nodes.push(measureNode(instance, acc, capacityOf(instance.InstanceType ?? 'unknown'), cni, maxPodsSourceOf(instance, inv.nodegroups), enisRead));
  }
  // Exact assigned and warm addresses where Kubernetes was read, the ipamd estimate elsewhere (lib/measure/kube-pods.ts).
  const kubeNodes = kubeNodesByInstance(inv.kube);
  const kubePods = kubePodsOf(inv.kube);
  for (const node of nodes) {
    applyKubeToNode(node, kubePods, kubeNodes.get(node.instanceId), capacityOf(node.instanceType), cni);
  }
  nodes.sort((a, b) => a.nodegroup.localeCompare(b.nodegroup) || a.instanceId.localeCompare(b.instanceId));

  const nodegroups = measureNodegroups(inv, nodes, instancesById);
  const podSubnets = subnets.filter(isPodSubnet);
  const install = inv.cni.kind;
  return {
    name: inv.name,
    vpcId: inv.cluster.resourcesVpcConfig?.vpcId,
    version: inv.cluster.version,
    cni: { ...cni, install },
    subnets,
    nodes,
    nodegroups,
    controlPlane: measureControlPlane(subnets),
    totals: {
      availableIps: podSubnets.reduce((sum, s) => sum + s.available, 0),
      minSubnetAvailable: podSubnets.length > 0 ? Math.min(...podSubnets.map((s) => s.available)) : undefined,
      nodes: nodes.length,
      podCapacity: nodes.reduce((sum, n) => sum + (n.limits?.maxPods ?? 0), 0),
      podIps: nodes.reduce((sum, n) => sum + n.podIps, 0),
      nodesAtEniLimit: nodes.filter((n) => n.atEniLimit).length,
      nodesAtIpLimit: nodes.filter((n) => n.atIpLimit).length,
    },
    ...(leakedEnis.length > 0 ? { leakedEnis } : {}),
    ...(unconfirmed > 0 ? { leakedEnisUnconfirmed: unconfirmed } : {}),
    complete: problems.length === 0,
    problems,
    network: clusterNetworkOf(inv.cluster),
    cniDiscovery: discoverCniSubnets(inv),
    ...withKube(nodes, inv),
  };
}

/** The pod-address use over the nodes and the Kubernetes part, when there is either. */
function withKube(nodes: readonly NodeUsage[], inv: ClusterInventory): Pick<ClusterUsage, 'podIpUse' | 'kube'> {
  const podIpUse = clusterPodIpUse(nodes);
  const kube = measureKube(inv.kube);
  return { ...(podIpUse ? { podIpUse } : {}), ...(kube ? { kube } : {}) };
}

/** Adds one ENI's addresses to its subnet's holders and, for a node's ENI, to the node. */
function measureEni(
  eni: NetworkInterface,
  isNode: (instanceId: string) => boolean,
  subnetAcc: Map<string, SubnetAccumulator>,
  nodeAcc: Map<string, NodeAccumulator>,
  strays: Map<string, number>,
): void {
  const kind = classifyEni(eni, isNode);
  const { primary, secondary, prefixes } = eniAddressCount(eni);
  const role = kind.kind === 'node' ? nodeEniRole(eni) : 'ipamd';
  if (kind.kind === 'node') {
    const node = nodeAcc.get(kind.instanceId);
    // Limits are per network card; the CNI uses the default card (index 0) only.
    if (node && (eni.Attachment?.NetworkCardIndex ?? 0) === 0) {
      node.enis++;
      if (role === 'trunk') node.trunkEnis++;
      else if (role !== 'ipamd') node.unmanagedEnis++;
      else {
        node.secondaryIps += secondary;
        node.prefixes += prefixes;
      }
    }
  }
  const subnetId = eni.SubnetId ?? '';
  const acc = subnetAcc.get(subnetId);
  if (!acc) {
    strays.set(subnetId, (strays.get(subnetId) ?? 0) + 1);
    return;
  }
  acc.enis++;
  if (kind.kind === 'node' && role !== 'ipamd') {
    // The ENI's own address is the node's; any further address on it is not the CNI's.
    acc.held.NodePrimary += primary;
    const ips = secondary + prefixes * IPS_PER_PREFIX;
    if (ips > 0) {
      acc.held.Other += ips;
      const label = role === 'trunk' ? 'trunk ENI (security groups for pods)' : 'node ENI the VPC CNI does not manage';
      const o = acc.others.get(label) ?? { enis: 0, ips: 0 };
      o.enis++;
      o.ips += ips;
      acc.others.set(label, o);
    }
    return;
  }
  switch (kind.kind) {
    case 'node':
      acc.held.NodePrimary += primary;
      acc.held.CniSecondary += secondary;
      acc.held.CniPrefix += prefixes * IPS_PER_PREFIX;
      break;
    case 'pod':
      acc.held.CniSecondary += primary + secondary;
      break;
    case 'control-plane':
      acc.held.ControlPlane += primary + secondary + prefixes * IPS_PER_PREFIX;
      acc.controlPlaneClusters.add(kind.cluster);
      break;
    case 'other': {
      const ips = primary + secondary + prefixes * IPS_PER_PREFIX;
      acc.held.Other += ips;
      const o = acc.others.get(kind.label) ?? { enis: 0, ips: 0 };
      o.enis++;
      o.ips += ips;
      acc.others.set(kind.label, o);
      break;
    }
  }
}

/** Measures every cluster of an inventory. */
export function measure(inv: Inventory): Usage {
  const owners = clusterOfInstances(inv.clusters);
  return {
    region: inv.region,
    collectedAt: inv.collectedAt,
    clusters: inv.clusters.map((c) => measureCluster(c, inv.instanceTypes, owners, inv.collectedAt)),
    failedClusters: inv.failedClusters,
    unknownInstanceTypes: inv.unknownInstanceTypes,
    ...withRegionLimits(inv),
  };
}

/** The region-level section, when the inventory has one. */
function withRegionLimits(inv: Inventory): Pick<Usage, 'regionLimits'> {
  const regionLimits = measureRegionLimits(inv);
  return regionLimits ? { regionLimits } : {};
}
