/**
 * karpenter-pool: a Karpenter NodePool whose EC2NodeClass resolves to scarce subnets (a), or whose
 * requirements allow only instance types on which Karpenter's pods-per-node figure is capped by IP
 * capacity below what the node's CPU carries (b). Only where the cluster's Kubernetes API was read
 * and Karpenter's CRDs are there. The pure helpers here are the karpenter-* planners' too.
 * Design and sources: docs/remediation.md, "Karpenter".
 */
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { karpenterTypePods, typesAllowedBy, type KarpenterTypePods } from '../capacity/karpenter-requirements';
import { knownInstanceTypes } from '../capacity/known-instance-types';
import type { KarpenterNodeClass, KarpenterNodePool } from '../inventory/kube-types';
import type { ClusterInventory, Subnet } from '../inventory/types';
import type { SubnetUsage } from '../measure/types';
import { finding, isScarce, list, n, plural, subnetSeverity, type ClusterContext } from './context';
import type { DiagnoseThresholds, Finding, Severity } from './types';

/** A resolved subnet of a node class: its id and AZ, and how it was resolved. */
export interface ResolvedSubnet {
  id: string;
  zone?: string;
}

/** The Karpenter view of the cluster, when its Kubernetes API was read and Karpenter's CRDs answered. */
export function karpenterOf(inventory: ClusterInventory): { nodePools: KarpenterNodePool[]; nodeClasses: KarpenterNodeClass[] } | undefined {
  const kube = inventory.kube;
  if (!kube || !kube.access.ok || !kube.karpenter) return undefined;
  // Half of Karpenter's objects read is not a view to act on (or to judge a pool by).
  if (kube.unread.some((u) => u.part === 'nodepools' || u.part === 'ec2nodeclasses')) return undefined;
  return kube.karpenter;
}

/** The EC2NodeClass a NodePool names (nodeClassRef of kind EC2NodeClass, or no kind given). */
export function nodeClassOf(pool: KarpenterNodePool, classes: readonly KarpenterNodeClass[]): KarpenterNodeClass | undefined {
  const ref = pool.nodeClassRef;
  if (!ref || (ref.kind && ref.kind !== 'EC2NodeClass')) return undefined;
  return classes.find((c) => c.name === ref.name);
}

/** Whether a subnet matches one selector term: the id, or every tag (`*` = any value), ANDed within the term. */
function matchesTerm(s: Subnet, term: KarpenterNodeClass['subnetSelectorTerms'][number]): boolean {
  if (term.id) return s.SubnetId === term.id;
  const tags = Object.entries(term.tags ?? {});
  if (tags.length === 0) return false;
  return tags.every(([k, v]) => s.Tags?.some((t) => t.Key === k && (v === '*' || t.Value === v)) ?? false);
}

/**
 * The subnets a node class resolves to: Karpenter's own `status.subnets` when it has any (the
 * subnets it launches into), else the selector terms (ORed) matched against the subnets the
 * inventory knows (ids, and tags: EC2NodeClass CRD, "The terms are ORed"; "If multiple fields
 * are used for selection, the requirements are ANDed").
 */
export function resolvedSubnetsOf(nodeClass: KarpenterNodeClass, subnets: readonly Subnet[]): { subnets: ResolvedSubnet[]; by: 'status' | 'selector' } {
  if (nodeClass.resolvedSubnets && nodeClass.resolvedSubnets.length > 0) {
    return { subnets: nodeClass.resolvedSubnets.map((s) => ({ id: s.id, ...(s.zone ? { zone: s.zone } : {}) })), by: 'status' };
  }
  const out: ResolvedSubnet[] = [];
  for (const s of subnets) {
    if (!s.SubnetId || !nodeClass.subnetSelectorTerms.some((t) => matchesTerm(s, t))) continue;
    out.push({ id: s.SubnetId, ...(s.AvailabilityZone ? { zone: s.AvailabilityZone } : {}) });
  }
  return { subnets: out.sort((a, b) => a.id.localeCompare(b.id)), by: 'selector' };
}

/** The scarce subnets of a resolved set, and per AZ whether another resolved subnet has room. */
export interface PoolSubnets {
  resolved: ResolvedSubnet[];
  by: 'status' | 'selector';
  scarce: SubnetUsage[];
  /** Resolved subnets the cluster's measurement does not cover (no node of the cluster there yet). */
  unmeasured: string[];
}

export function poolSubnets(nodeClass: KarpenterNodeClass, inventory: ClusterInventory, usageSubnets: readonly SubnetUsage[], t: DiagnoseThresholds): PoolSubnets {
  const { subnets: resolved, by } = resolvedSubnetsOf(nodeClass, inventory.subnets);
  const usageById = new Map(usageSubnets.map((s) => [s.subnetId, s]));
  const scarce: SubnetUsage[] = [];
  const unmeasured: string[] = [];
  for (const r of resolved) {
    const u = usageById.get(r.id);
    if (!u) unmeasured.push(r.id);
    else if (isScarce(u, t)) scarce.push(u);
  }
  return { resolved, by, scarce, unmeasured };
}

/** The instance types the planners and the finding evaluate requirements over: the inventory's (live) over the bundled list. */
export function candidateTypes(instanceTypes: Record<string, InstanceTypeInfo>): InstanceTypeInfo[] {
  const byName = new Map<string, InstanceTypeInfo>(knownInstanceTypes());
  for (const [name, info] of Object.entries(instanceTypes)) byName.set(name, info);
  return [...byName.values()];
}

/** What a pool's requirements allow, as Karpenter would count pods on each type. */
export interface PoolTypes {
  allowed: KarpenterTypePods[];
  capped: KarpenterTypePods[];
  /** Every allowed type is IP-capped (and at least one is allowed). */
  allCapped: boolean;
}

export function poolTypes(pool: KarpenterNodePool, nodeClass: KarpenterNodeClass | undefined, types: readonly InstanceTypeInfo[]): PoolTypes {
  const kubelet = {
    ...(nodeClass?.kubeletMaxPods !== undefined ? { maxPods: nodeClass.kubeletMaxPods } : {}),
    ...(nodeClass?.podsPerCore !== undefined ? { podsPerCore: nodeClass.podsPerCore } : {}),
  };
  const allowed = typesAllowedBy(pool.requirements, types)
    .map((info) => karpenterTypePods(info, kubelet))
    .filter((x): x is KarpenterTypePods => x !== undefined);
  const capped = allowed.filter((x) => x.ipCapped);
  return { allowed, capped, allCapped: allowed.length > 0 && capped.length === allowed.length };
}

const SHOWN = 6;

function shown(items: string[]): string {
  return items.length > SHOWN ? `${items.slice(0, SHOWN).join(', ')} and ${items.length - SHOWN} more` : list(items);
}

export function diagnoseKarpenterPools(ctx: ClusterContext, instanceTypes: Record<string, InstanceTypeInfo> = {}): Finding[] {
  const karpenter = karpenterOf(ctx.inventory);
  if (!karpenter) return [];
  const types = candidateTypes(instanceTypes);
  const out: Finding[] = [];
  for (const pool of [...karpenter.nodePools].sort((a, b) => a.name.localeCompare(b.name))) {
    const nodeClass = nodeClassOf(pool, karpenter.nodeClasses);
    const evidence: Record<string, number | string> = { nodePool: pool.name };
    const evidenceText: string[] = [];
    const fixes: string[] = [];
    const causes: string[] = [];
    let severity: Severity = 'warning';
    if (nodeClass) {
      evidence['nodeClass'] = nodeClass.name;
      const ps = poolSubnets(nodeClass, ctx.inventory, ctx.usage.subnets, ctx.thresholds);
      if (ps.scarce.length > 0) {
        causes.push('subnets');
        const resolvedIds = new Set(ps.resolved.map((r) => r.id));
        evidence['resolvedBy'] = ps.by;
        evidence['resolvedSubnetIds'] = ps.resolved.map((r) => r.id).join(',');
        evidence['scarceSubnetIds'] = ps.scarce.map((s) => s.subnetId).join(',');
        evidence['scarceFreeIps'] = ps.scarce.reduce((a, s) => a + s.available, 0);
        evidenceText.push(
          `EC2NodeClass ${nodeClass.name} resolves (${ps.by === 'status' ? "Karpenter's status.subnets" : 'its subnetSelectorTerms matched against the subnets read'}) to ${plural(ps.resolved.length, 'subnet')}; scarce: ${ps.scarce
            .map((s) => `${s.subnetId} (${s.availabilityZone}, ${n(s.available)} free of ${n(s.usable)})`)
            .join(', ')}.`,
        );
        for (const s of ps.scarce) {
          const roomyResolved = ctx.usage.subnets.filter((u) => resolvedIds.has(u.subnetId) && u.availabilityZone === s.availabilityZone && !isScarce(u, ctx.thresholds));
          const roomyOther = ctx.usage.subnets.filter(
            (u) => !resolvedIds.has(u.subnetId) && u.vpcId === s.vpcId && u.availabilityZone === s.availabilityZone && !isScarce(u, ctx.thresholds),
          );
          // Critical only where new nodes have nowhere else to go in the zone.
          if (subnetSeverity(s, ctx.thresholds) === 'critical' && roomyResolved.length === 0) severity = 'critical';
          const nodes = ctx.usage.nodes.filter((x) => x.nodegroup === `karpenter:${pool.name}` && x.subnetId === s.subnetId).length;
          evidenceText.push(
            `${s.availabilityZone}: ${plural(nodes, 'node')} of the pool in ${s.subnetId}; ` +
              (roomyResolved.length > 0
                ? `Karpenter launches new nodes in ${roomyResolved.map((u) => `${u.subnetId} (${n(u.available)} free)`).join(', ')} (it picks the resolved subnet with the most free addresses in each zone)`
                : 'no other resolved subnet of the zone has room, so new nodes land here') +
              `; ${roomyOther.length > 0 ? `other subnets with room in the zone: ${roomyOther.map((u) => `${u.subnetId} (${n(u.available)} free)`).join(', ')}` : 'no other subnet read in the zone has room'}.`,
          );
        }
        if (ps.unmeasured.length > 0) evidenceText.push(`Not measured (no node of the cluster there yet): ${shown(ps.unmeasured)}.`);
        fixes.push(
          `Steer EC2NodeClass ${nodeClass.name} away from ${list(ps.scarce.map((s) => s.subnetId))}: subnetSelectorTerms naming subnets with room in the same zones (the karpenter-subnets action does it for allow-listed node classes and subnets). Karpenter then marks the nodes in a removed subnet drifted (SubnetDrift) and replaces them within the NodePool's disruption budgets.`,
          'Or give the zone more addresses: a new subnet (or a secondary CIDR, 100.64.0.0/10) tagged so that the selector picks it.',
        );
      }
    } else {
      evidenceText.push(`Its nodeClassRef (${pool.nodeClassRef?.kind ?? '?'}/${pool.nodeClassRef?.name ?? '?'}) names no EC2NodeClass that was read: its subnets are not evaluated.`);
    }
    const pt = poolTypes(pool, nodeClass, types);
    if (pt.allCapped) {
      causes.push('instance-types');
      const worst = [...pt.capped].sort((a, b) => a.karpenterPods / a.carryPods - b.karpenterPods / b.carryPods)[0];
      evidence['allowedTypes'] = pt.allowed.length;
      evidence['ipCappedTypes'] = pt.capped.length;
      if (worst) {
        evidence['worstType'] = worst.instanceType;
        evidence['worstTypePods'] = worst.karpenterPods;
        evidence['worstTypeCarryPods'] = worst.carryPods;
      }
      evidenceText.push(
        `Its requirements allow ${plural(pt.allowed.length, 'known instance type')} (${shown(pt.allowed.map((x) => `${x.instanceType} ${x.karpenterPods} pods`))}); on every one the pods Karpenter schedules per node (ENIs × (IPv4 per ENI − 1) + 2) are below the ${worst?.carryPods ?? 110} the node's vCPUs carry (EKS max-pods ceiling).`,
      );
      if (ctx.usage.cni.prefixDelegation) {
        fixes.push(
          `Prefix delegation is on, but Karpenter counts pods by the ENI-limited figure unless the EC2NodeClass sets spec.kubelet.maxPods: set it${nodeClass ? ` on ${nodeClass.name}` : ''} (e.g. 110), so that nodes take the pods their prefixes serve.`,
        );
      }
      fixes.push(
        'Allow larger sizes or families with more IPv4 addresses per vCPU in the NodePool requirements (the karpenter-instance-types action widens them for allow-listed NodePools; existing nodes stay, widening does not drift them).',
        'Or turn on prefix delegation and set spec.kubelet.maxPods on the EC2NodeClass.',
      );
    }
    if (causes.length === 0) continue;
    evidence['cause'] = causes.join('+');
    const title =
      causes.length === 2
        ? `Karpenter NodePool ${pool.name}: scarce subnets and IP-capped instance types`
        : causes[0] === 'subnets'
          ? `Karpenter NodePool ${pool.name} launches into scarce subnets (${evidence['scarceSubnetIds']})`
          : `Karpenter NodePool ${pool.name} allows only instance types capped by IP capacity`;
    out.push(finding(ctx, { kind: 'karpenter-pool', severity, subject: { type: 'nodegroup', id: `karpenter:${pool.name}` }, title, evidence, evidenceText, fixes }));
  }
  return out;
}
