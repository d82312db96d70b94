/**
 * What every finding rule of one cluster reads: the usage, the inventory, and what is derived from
 * both once (which node holds which addresses in which subnet, the instance types' limits).
 * Pure. Also the small text helpers the rules share, so that titles read the same everywhere.
 */
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { capacityLookup, type NetworkCapacity } from '../capacity/instance-type';
import type { ClusterInventory } from '../inventory/types';
import { classifyEni, eniAddressCount, IPS_PER_PREFIX, nodeEniRole } from '../measure/eni';
import { isPodSubnet } from '../measure/measure';
import { readGapsOf, type ReadGaps } from '../measure/trusted';
import type { ClusterUsage, NodeUsage, SubnetUsage } from '../measure/types';
import type { DiagnoseThresholds, Finding, Severity } from './types';

/** What a node of the cluster holds in one subnet (its ENIs there, default network card). */
export interface NodeInSubnet {
  node: NodeUsage;
  /** Subnet addresses: one primary per ENI + secondaries + 16 per prefix. */
  addresses: number;
  /** Pod address slots among them: secondaries + 16 per prefix on the ENIs ipamd manages. */
  podIps: number;
}

/** Addresses in a subnet held by things that are not this cluster's, found on the visible ENIs. */
export interface ForeignHolders {
  /** Control-plane ENIs of other clusters (description `Amazon EKS <other>`), by cluster. */
  otherControlPlanes: Map<string, number>;
  /** ENIs the VPC CNI created for instances that are not nodes of this cluster (other clusters' nodes). */
  otherClusterNodes: number;
}

export interface ClusterContext {
  usage: ClusterUsage;
  inventory: ClusterInventory;
  thresholds: DiagnoseThresholds;
  subnetsById: Map<string, SubnetUsage>;
  /** Subnets pods get addresses from: roles 'node' or 'cni-discovery'. */
  podSubnets: SubnetUsage[];
  /** By subnet id: the cluster's nodes with ENIs there. */
  nodesBySubnet: Map<string, NodeInSubnet[]>;
  /** By subnet id. */
  foreign: Map<string, ForeignHolders>;
  /** The network limits of an instance type; undefined when unknown or unreadable. */
  capacityOf(instanceType: string): NetworkCapacity | undefined;
  /**
   * What the cluster's failed reads leave unknown (lib/measure/trusted.ts): a rule whose finding
   * rests on a figure that is unknown gives none, rather than one built on the 0 of no data.
   */
  gaps: ReadGaps;
}

export function buildContext(
  usage: ClusterUsage,
  inventory: ClusterInventory,
  instanceTypes: Record<string, InstanceTypeInfo>,
  thresholds: DiagnoseThresholds,
): ClusterContext {
  const subnetsById = new Map(usage.subnets.map((s) => [s.subnetId, s]));
  const nodesById = new Map(usage.nodes.map((n) => [n.instanceId, n]));
  const isNode = (id: string): boolean => nodesById.has(id);

  const perNode = new Map<string, Map<string, { addresses: number; podIps: number }>>();
  const foreign = new Map<string, ForeignHolders>();
  const foreignOf = (subnetId: string): ForeignHolders => {
    let f = foreign.get(subnetId);
    if (!f) {
      f = { otherControlPlanes: new Map(), otherClusterNodes: 0 };
      foreign.set(subnetId, f);
    }
    return f;
  };
  for (const eni of inventory.networkInterfaces) {
    const subnetId = eni.SubnetId ?? '';
    const kind = classifyEni(eni, isNode);
    const { primary, secondary, prefixes } = eniAddressCount(eni);
    const all = primary + secondary + prefixes * IPS_PER_PREFIX;
    if (kind.kind === 'node') {
      if (!isNode(kind.instanceId)) {
        // A CNI ENI (`aws-K8S-<id>`) of an instance that is not ours: another cluster's node.
        foreignOf(subnetId).otherClusterNodes += all;
        continue;
      }
      // As measure does: the CNI uses the default network card only.
      if ((eni.Attachment?.NetworkCardIndex ?? 0) !== 0) continue;
      const bySubnet = perNode.get(kind.instanceId) ?? new Map<string, { addresses: number; podIps: number }>();
      const acc = bySubnet.get(subnetId) ?? { addresses: 0, podIps: 0 };
      acc.addresses += all;
      // As measure does: the trunk ENI and ENIs ipamd does not manage hold no pod addresses.
      if (nodeEniRole(eni) === 'ipamd') acc.podIps += secondary + prefixes * IPS_PER_PREFIX;
      bySubnet.set(subnetId, acc);
      perNode.set(kind.instanceId, bySubnet);
    } else if (kind.kind === 'control-plane' && kind.cluster !== usage.name) {
      const f = foreignOf(subnetId);
      f.otherControlPlanes.set(kind.cluster, (f.otherControlPlanes.get(kind.cluster) ?? 0) + all);
    }
  }
  const nodesBySubnet = new Map<string, NodeInSubnet[]>();
  for (const node of usage.nodes) {
    for (const [subnetId, held] of perNode.get(node.instanceId) ?? []) {
      const list = nodesBySubnet.get(subnetId) ?? [];
      list.push({ node, ...held });
      nodesBySubnet.set(subnetId, list);
    }
  }

  // measure already reported unknown types and bad entries as problems of the cluster.
  const capacityOf = capacityLookup(instanceTypes);

  return {
    usage,
    inventory,
    thresholds,
    subnetsById,
    podSubnets: usage.subnets.filter(isPodSubnet),
    nodesBySubnet,
    foreign,
    capacityOf,
    gaps: readGapsOf(usage.problems),
  };
}

/** A pod subnet is scarce below the free-address warning or above the utilization warning (both strict). */
export function isScarce(s: SubnetUsage, t: DiagnoseThresholds): boolean {
  return s.available < t.subnetFreeIpsWarning || s.utilization > t.subnetUtilizationWarning;
}

/** Critical below the critical free-address count (strict), else warning. */
export function subnetSeverity(s: SubnetUsage, t: DiagnoseThresholds): Severity {
  return s.available < t.subnetFreeIpsCritical ? 'critical' : 'warning';
}

/**
 * Tagged `kubernetes.io/role/cni` subnets in the same VPC and AZ as `s`, other than `s`, that are
 * not scarce: where the VPC CNI's subnet discovery (1.18+) could put new pod ENIs.
 */
export function spareDiscoverySubnets(ctx: ClusterContext, vpcId: string, az: string, except: Set<string>): SubnetUsage[] {
  return ctx.usage.subnets
    .filter(
      (x) =>
        x.roles.includes('cni-discovery') &&
        x.vpcId === vpcId &&
        x.availabilityZone === az &&
        !except.has(x.subnetId) &&
        !isScarce(x, ctx.thresholds),
    )
    .sort((a, b) => b.available - a.available || a.subnetId.localeCompare(b.subnetId));
}

/** `1,234` (grouping fixed, not the runtime's locale). */
export function n(value: number): string {
  return Math.round(value).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `97%` from 0.972; one decimal below 10 %. */
export function pct(fraction: number): string {
  const p = fraction * 100;
  return p > 0 && p < 10 ? `${p.toFixed(1)}%` : `${Math.round(p)}%`;
}

/** `1 node`, `2 nodes`. */
export function plural(count: number, word: string, pluralWord = `${word}s`): string {
  return `${n(count)} ${count === 1 ? word : pluralWord}`;
}

/** `a, b and c`. */
export function list(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}

/** 3 decimals: evidence numbers stay readable in JSON. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The CNI version as `[major, minor]`, from `v1.19.2-eksbuild.1`; undefined when unknown. */
export function cniVersion(ctx: ClusterContext): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(ctx.usage.cni.addonVersion ?? '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Where the CNI's env is changed: the add-on's configurationValues, or the aws-node daemonset. */
export function cniWhere(ctx: ClusterContext): string {
  return ctx.usage.cni.install === 'managed' ? 'the vpc-cni add-on' : 'the aws-node daemonset';
}

/**
 * Makes a finding: the id `<cluster>/<kind>/<subject id>`, and the data-completeness evidence every
 * finding carries (a finding on incomplete data is still shown, and says so).
 */
export function finding(ctx: ClusterContext, f: Omit<Finding, 'id' | 'cluster' | 'forecast'>): Finding {
  const { usage } = ctx;
  const evidence: Record<string, number | string> = { ...f.evidence, dataComplete: usage.complete ? 'yes' : 'no' };
  const evidenceText = [...f.evidenceText];
  if (!usage.complete) {
    evidence['collectionProblems'] = usage.problems.length;
    const first = usage.problems[0];
    evidenceText.push(
      `Data incomplete (${plural(usage.problems.length, 'problem')}${first ? `, first: ${first.source}: ${first.message}` : ''}): the figures may be off, and nothing is changed automatically.`,
    );
  }
  return {
    id: `${usage.name}/${f.kind}/${f.subject.id}`,
    cluster: usage.name,
    kind: f.kind,
    severity: f.severity,
    subject: f.subject,
    title: f.title,
    evidence,
    evidenceText,
    fixes: f.fixes,
  };
}
