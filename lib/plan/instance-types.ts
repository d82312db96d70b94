/**
 * instance-types: move a managed nodegroup whose nodes are capped by their instance type's IP
 * capacity (an `eni-limit` finding) to instance types with more pod capacity, through a new
 * nodegroup (a managed nodegroup cannot change `instanceTypes` in place: DESIGN.md, and the
 * UpdateNodegroupConfig / UpdateNodegroupVersion APIs take no instance types). Pure: no AWS, no
 * environment, no logging; the executor is lib/act/execute-nodegroup.ts.
 *
 * Design (the ranking rule, what the proposal costs):
 * docs/remediation.md#libplaninstance-typests-ranking-replacement-instance-types
 */
import { createHash } from 'node:crypto';
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import {
  HOST_NETWORK_PODS,
  InstanceTypeDataError,
  maxPods,
  networkCapacityOf,
  podIpSlots,
  type MaxPodsOptions,
  type NetworkCapacity,
} from '../capacity/instance-type';
import { knownInstanceTypes } from '../capacity/known-instance-types';
import { isScarce } from '../diagnose/context';
import type { Finding } from '../diagnose/types';
import type { Nodegroup } from '../inventory/types';
import { holdingFor, ipamdConfigOf } from '../ipamd/model';
import type { IpamdConfig } from '../ipamd/types';
import type { NodegroupUsage } from '../measure/types';
import { REPLACES_TAG_KEY } from '../names';
import { DEFAULT_MAX_CAPACITY_INCREASE_PERCENT, DEFAULT_OVERLAP_MARGIN_IPS } from '../policy/types';
import {
  capacityBlocker,
  capacityChange,
  capacityText,
  checkOverlapRoom,
  growthPercent,
  newNodeDemand,
  nodegroupCapacity,
  nodeSubnetIps,
  overlapText,
  steadyStateBySubnet,
  type NewNodeDemand,
  type NewNodeType,
  type OverlapRoom,
} from './replacement';
import type { ActionPlanner, CapacityChange, NodegroupReplacementChange, PlanContext, ProposedAction } from './types';
import { newNodeTrunkEnis, nodeEnisOf } from './warm-targets';

/** What the replacement's name adds to the old one: `<old>-ipr-<8 hex>`. */
export const REPLACEMENT_INFIX = '-ipr-';
/**
 * EKS nodegroup names: at most 63 characters, starting with a letter or digit, then letters,
 * digits, hyphens and underscores (EKS console and CloudFormation AWS::EKS::Nodegroup
 * NodegroupName; the API rejects others with InvalidParameterException).
 */
export const NODEGROUP_NAME_MAX = 63;
const NODEGROUP_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]*$/;
const HASH_CHARS = 8;
/** Size bound: a candidate has at most this many times the current vCPUs (rule 1, docs/remediation.md#libplaninstance-typests-ranking-replacement-instance-types). */
const MAX_VCPU_FACTOR = 2;
/** At most this many candidates are kept in the change's ranking (the record stays readable). */
const RANKING_MAX = 10;

/** One candidate with the numbers it is ranked by. */
export interface RankedType {
  instanceType: string;
  cap: NetworkCapacity;
  /** Max pods in the cluster's CNI mode, kubelet cap applied. */
  maxPods: number;
  /** Pod IP slots (uncapped): the tie-break. */
  podIpSlots: number;
  /** Subnet addresses a node holds for `load` pods, per pod. */
  subnetIpsPerPod: number;
  subnetIps: number;
  /** How much more vCPU or memory (the larger) a node has than the current type's, in percent. */
  increasePercent?: number;
  /** Within the policy's capacity bound (rule 4); true when ranking had no bound. */
  withinBound?: boolean;
}

/** What ranking needs besides the candidates. */
export interface RankInput {
  /** The type the nodegroup runs now (the most common among its capped nodes). */
  current: NetworkCapacity;
  allowedTypes: string[];
  /** Live data first; the bundled data fills in the rest. */
  instanceTypes: Record<string, InstanceTypeInfo>;
  cni: MaxPodsOptions;
  ipamd: IpamdConfig;
  /** Pods per node the subnet-address figure is computed at. */
  load: number;
  /** A subnet of the nodegroup is scarce: addresses per pod rank first. */
  scarce: boolean;
  /** The policy's `maxCapacityIncreasePercent`: candidates within it rank first. None = no preference. */
  maxCapacityIncreasePercent?: number;
}

/** Whether a policy entry allows a type: exact type (`m6i.xlarge`) or family (`m6i`). */
export function policyAllows(allowedTypes: readonly string[], instanceType: string): boolean {
  const family = instanceType.split('.')[0];
  return allowedTypes.some((entry) => (entry.includes('.') ? entry === instanceType : entry === family));
}

/** The architecture a replacement must keep: arm64 or x86_64 when the type supports it, else its first. */
export function architectureOf(cap: NetworkCapacity): string | undefined {
  if (cap.architectures.includes('arm64')) return 'arm64';
  if (cap.architectures.includes('x86_64')) return 'x86_64';
  return cap.architectures[0];
}

export function capacityOrUndefined(info: InstanceTypeInfo | undefined): NetworkCapacity | undefined {
  if (!info) return undefined;
  try {
    return networkCapacityOf(info);
  } catch (err) {
    if (err instanceof InstanceTypeDataError) return undefined;
    throw err;
  }
}

export function infoOf(name: string, live: Record<string, InstanceTypeInfo>): InstanceTypeInfo | undefined {
  return live[name] ?? knownInstanceTypes().get(name);
}

/** Options of the capacity model for the cluster's CNI mode, kubelet cap applied. */
function cniOptions(cni: MaxPodsOptions): MaxPodsOptions {
  return { prefixDelegation: cni.prefixDelegation === true, customNetworking: cni.customNetworking === true, applyKubeletCap: true };
}

/** The numbers a type is ranked by, at `load` pods per node. */
export function measureType(cap: NetworkCapacity, input: Pick<RankInput, 'cni' | 'ipamd' | 'load'>): RankedType {
  const opts = cniOptions(input.cni);
  const pods = maxPods(cap, opts);
  const load = Math.max(1, input.load);
  const holding = holdingFor(cap, Math.min(load, pods), { ...input.ipamd, maxPods: pods });
  return {
    instanceType: cap.instanceType,
    cap,
    maxPods: pods,
    // MAX_ENI caps the ENIs of any type (pkg/ipamd getMaxENI); max pods, set at launch, does not know it.
    podIpSlots: podIpSlots(cap, { ...opts, maxEni: input.ipamd.maxEni }),
    subnetIps: holding.subnetIps,
    subnetIpsPerPod: round2(holding.subnetIps / Math.max(1, holding.podsWithIps)),
  };
}

function compare(scarce: boolean) {
  return (a: RankedType, b: RankedType): number => {
    const bound = Number(b.withinBound !== false) - Number(a.withinBound !== false);
    const pods = b.maxPods - a.maxPods || b.podIpSlots - a.podIpSlots;
    const perPod = a.subnetIpsPerPod - b.subnetIpsPerPod;
    return (
      bound ||
      (scarce ? perPod || pods : pods || perPod) ||
      a.cap.vcpus - b.cap.vcpus ||
      a.cap.memoryMiB - b.cap.memoryMiB ||
      a.instanceType.localeCompare(b.instanceType)
    );
  };
}

/**
 * The candidates for a nodegroup now on `input.current`, best first (rules 1–4 of the module
 * comment). Empty when the policy allows none or none gains.
 */
export function rankInstanceTypes(input: RankInput): RankedType[] {
  if (input.allowedTypes.length === 0) return [];
  const arch = architectureOf(input.current);
  const currentPods = maxPods(input.current, cniOptions(input.cni));
  const names = new Set([...Object.keys(input.instanceTypes), ...knownInstanceTypes().keys()]);
  const eligible: RankedType[] = [];
  for (const name of names) {
    if (name === input.current.instanceType || !policyAllows(input.allowedTypes, name)) continue;
    const info = infoOf(name, input.instanceTypes);
    // No generation filter: the policy's allow list names the families the operator accepts
    // (DescribeInstanceTypes' CurrentGeneration is not a stable signal: it changes per region
    // and over time, and previous-generation families are still sold).
    if (!info || info.BareMetal === true) continue;
    const cap = capacityOrUndefined(info);
    if (!cap || !arch || !cap.architectures.includes(arch)) continue;
    if (cap.vcpus < input.current.vcpus || cap.memoryMiB < input.current.memoryMiB) continue;
    const m = measureType(cap, input);
    if (m.maxPods <= currentPods) continue;
    const increasePercent = Math.max(growthPercent(input.current.vcpus, cap.vcpus), growthPercent(input.current.memoryMiB, cap.memoryMiB));
    const bound = input.maxCapacityIncreasePercent;
    eligible.push({ ...m, increasePercent, withinBound: bound === undefined || increasePercent <= bound });
  }
  if (eligible.length === 0) return [];
  const smallestGain = Math.min(...eligible.map((m) => m.cap.vcpus));
  const vcpuBound = Math.max(MAX_VCPU_FACTOR * input.current.vcpus, smallestGain);
  return eligible.filter((m) => m.cap.vcpus <= vcpuBound).sort(compare(input.scarce));
}

/**
 * The best type and, up to `max`, the next best with the same vCPUs and memory (rule 5,
 * docs/remediation.md). From rule 5:
 * 5. The proposal takes the best type and, up to `maxInstanceTypes`, the next best with the same
 *    vCPUs and memory: the Cluster Autoscaler needs a nodegroup's types to have the same vCPU and
 *    memory, and Spot wants several types (CreateNodegroup API reference, instanceTypes: "If you
 *    specify Spot for capacityType, then we recommend specifying multiple values").
 */
export function chooseTypes(ranked: readonly RankedType[], max: number): RankedType[] {
  const best = ranked[0];
  if (!best || max < 1) return [];
  const same = ranked.filter((m) => m.cap.vcpus === best.cap.vcpus && m.cap.memoryMiB === best.cap.memoryMiB);
  return same.slice(0, max);
}

/**
 * The replacement's name: `<old>-ipr-<first 8 hex of sha256 of the sorted types>`, the old name
 * cut so that the whole stays within {@link NODEGROUP_NAME_MAX}. The same types give the same name
 * (a second cycle finds the nodegroup it created); other types give another.
 */
export function replacementName(oldName: string, instanceTypes: readonly string[]): string {
  const hash = createHash('sha256').update([...instanceTypes].sort().join(',')).digest('hex').slice(0, HASH_CHARS);
  const keep = NODEGROUP_NAME_MAX - REPLACEMENT_INFIX.length - HASH_CHARS;
  return `${oldName.slice(0, keep)}${REPLACEMENT_INFIX}${hash}`;
}

/** Whether a name is one EKS accepts for a nodegroup. */
export function isValidNodegroupName(name: string): boolean {
  return name.length >= 1 && name.length <= NODEGROUP_NAME_MAX && NODEGROUP_NAME.test(name);
}

/**
 * What stops replacing nodegroup `name` with `newName`: a replacement that exists already (the
 * planned name, any name with the old one's replacement prefix, or the replaces tag), or a name
 * EKS would refuse. Both replacing planners (instance types, prefix rollout) ask this.
 */
export function replacementBlockers(nodegroups: readonly Nodegroup[], name: string, newName: string): string[] {
  const prefix = `${name.slice(0, NODEGROUP_NAME_MAX - REPLACEMENT_INFIX.length - HASH_CHARS)}${REPLACEMENT_INFIX}`;
  const existing = nodegroups.find((x) => x.nodegroupName === newName || (x.nodegroupName ?? '').startsWith(prefix) || x.tags?.[REPLACES_TAG_KEY] === name);
  return [
    ...(existing ? [`a replacement of ${name} exists already: nodegroup ${existing.nodegroupName ?? '?'}`] : []),
    ...(isValidNodegroupName(newName) ? [] : [`replacement name ${newName} is not a valid nodegroup name`]),
  ];
}

/** AMI types whose nodes need accelerators: the candidates would need them too, which the data here cannot tell. */
const ACCELERATED_AMI = /GPU|NVIDIA|NEURON/i;

export const planInstanceTypes: ActionPlanner = (ctx: PlanContext): ProposedAction[] => {
  const policy = ctx.policy.actions.instanceTypes;
  if (!policy.allowed) return [];
  const out: ProposedAction[] = [];
  for (const f of ctx.findings) {
    if (f.kind !== 'eni-limit' || f.subject.type !== 'nodegroup') continue;
    const ng = ctx.usage.nodegroups.find((g) => g.name === f.subject.id);
    if (!ng) continue;
    out.push(planNodegroup(ctx, f, ng));
  }
  return out;
};

function planNodegroup(ctx: PlanContext, f: Finding, ng: NodegroupUsage): ProposedAction {
  const policy = ctx.policy.actions.instanceTypes;
  const cluster = ctx.usage.name;
  const blockers: string[] = [];
  const notes: string[] = [];
  const nodes = ctx.usage.nodes.filter((n) => n.nodegroup === ng.name);
  const capped = nodes.filter((n) => n.atIpLimit);
  const currentType =
    mostCommon(capped.map((n) => n.instanceType)) ?? mostCommon(nodes.map((n) => n.instanceType)) ?? ng.instanceTypes[0];
  const current = currentType ? capacityOrUndefined(infoOf(currentType, ctx.instanceTypes)) : undefined;
  const managed = ng.kind === 'managed' ? ctx.inventory.nodegroups.find((x) => x.nodegroupName === ng.name) : undefined;

  const cni: MaxPodsOptions = {
    prefixDelegation: ctx.usage.cni.prefixDelegation === true,
    customNetworking: ctx.usage.cni.customNetworking === true,
  };
  let ipamd = ipamdConfigOf(ctx.usage.cni);
  if (!ipamd) {
    // Self-managed aws-node: its env is not visible to the AWS API. Say so rather than guess silently.
    ipamd = { prefixDelegation: cni.prefixDelegation === true, customNetworking: cni.customNetworking, warmEniTarget: 1 };
    notes.push('CNI settings unknown (self-managed aws-node): subnet addresses per pod assume the CNI defaults (WARM_ENI_TARGET=1)');
  }
  const scarce = ng.subnetIds.some((id) => {
    const s = ctx.usage.subnets.find((x) => x.subnetId === id);
    return s !== undefined && isScarce(s, ctx.policy.thresholds);
  });

  const bound = policy.maxCapacityIncreasePercent ?? DEFAULT_MAX_CAPACITY_INCREASE_PERCENT;
  let ranked: RankedType[] = [];
  let old: RankedType | undefined;
  let load = 1;
  if (!current) {
    blockers.push(`the limits of the current instance type ${currentType ?? '(none)'} are not known`);
  } else {
    const opts = cniOptions(cni);
    // A capped node's slots as measured: MAX_ENI, its trunk and unmanaged ENIs leave fewer than the type has.
    const slotsNow = capped.find((n) => n.instanceType === current.instanceType)?.limits?.podIpSlots ?? podIpSlots(current, opts);
    load = Math.max(1, Math.min(slotsNow, maxPods(current, opts) - HOST_NETWORK_PODS));
    old = measureType(current, { cni, ipamd, load });
    ranked = rankInstanceTypes({
      current,
      allowedTypes: policy.allowedTypes,
      instanceTypes: ctx.instanceTypes,
      cni,
      ipamd,
      load,
      scarce,
      maxCapacityIncreasePercent: bound,
    });
    if (policy.allowedTypes.length === 0) {
      blockers.push('policy allows no instance types (actions.instanceTypes.allowedTypes is empty)');
    } else if (ranked.length === 0) {
      blockers.push(
        `no instance type allowed by the policy (${policy.allowedTypes.join(', ')}) is ${architectureOf(current) ?? '?'}, current generation, at least ${current.vcpus} vCPUs and ${current.memoryMiB} MiB, and gives more than ${old.maxPods} max pods`,
      );
    }
  }
  const chosen = chooseTypes(ranked, policy.maxInstanceTypes);
  const toTypes = chosen.map((m) => m.instanceType);

  // Who may act: only a managed nodegroup is replaced; for the others, say what to change.
  const suggestion = toTypes.length > 0 ? toTypes.join(', ') : 'types with more IP capacity';
  if (ng.kind === 'karpenter') {
    blockers.push(
      `${ng.name} is a Karpenter NodePool, not a managed nodegroup: change the NodePool's requirements (node.kubernetes.io/instance-type or karpenter.k8s.aws/instance-family) to allow ${suggestion}`,
    );
  } else if (ng.kind === 'auto-mode') {
    // EKS Auto Mode chooses the instance types itself, among those its NodePool's requirements allow
    // (EKS user guide, "Create a Node Pool for EKS Auto Mode": eks.amazonaws.com/instance-* labels).
    blockers.push(
      `${ng.name} is an EKS Auto Mode NodePool, not a managed nodegroup: EKS picks its instance types; change the NodePool's requirements (eks.amazonaws.com/instance-family, eks.amazonaws.com/instance-cpu or node.kubernetes.io/instance-type) to allow ${suggestion}`,
    );
  } else if (ng.kind === 'self-managed') {
    blockers.push(
      `${ng.name} is self-managed, not a managed nodegroup: change the instance type in the launch template (or mixed instances policy) of its Auto Scaling group to ${suggestion}, then refresh its instances`,
    );
  } else if (!managed) {
    blockers.push(`nodegroup ${ng.name} is not in the inventory`);
  }

  let newNodegroup = '';
  let scaling = { minSize: 0, maxSize: Math.max(1, ng.nodes), desiredSize: ng.nodes };
  if (managed) {
    const status = managed.status ?? ng.status;
    if (status !== 'ACTIVE') blockers.push(`nodegroup ${ng.name} is ${status ?? 'of unknown status'}, not ACTIVE`);
    scaling = scalingOf(managed, ng);
    if (managed.launchTemplate && (managed.instanceTypes ?? []).length === 0) {
      // CreateNodegroup API reference, instanceTypes: "If however, you specify an instance type in
      // your launch template and specify any instanceTypes, the node group deployment will fail."
      blockers.push(
        `nodegroup ${ng.name} takes its instance type from its launch template: make a launch template version without InstanceType first`,
      );
    }
    if (managed.amiType === 'CUSTOM') {
      notes.push(
        `custom AMI from launch template ${managed.launchTemplate?.name ?? managed.launchTemplate?.id ?? '?'}: kept; it works with any ${current ? (architectureOf(current) ?? '') : ''} type, and the candidates keep the architecture`,
      );
    }
    if (managed.amiType && ACCELERATED_AMI.test(managed.amiType)) {
      blockers.push(`nodegroup ${ng.name} runs ${managed.amiType}: accelerated types are not chosen automatically`);
    }
    if (managed.capacityType === 'SPOT' && toTypes.length === 1) {
      notes.push('Spot with a single instance type: raise actions.instanceTypes.maxInstanceTypes or allow more families for capacity');
    }
    if (toTypes.length > 0) {
      newNodegroup = replacementName(ng.name, toTypes);
      blockers.push(...replacementBlockers(ctx.inventory.nodegroups, ng.name, newNodegroup));
    }
  }

  const newPods = chosen.length > 0 ? Math.min(...chosen.map((m) => m.maxPods)) : undefined;
  const worst = chosen.length > 0 ? chosen.reduce((a, b) => (b.subnetIps > a.subnetIps ? b : a)) : undefined;
  const podHeadroomGained = newPods !== undefined ? newPods * ng.nodes - ng.podCapacity : undefined;

  // What it costs: capacity, room during the overlap, addresses after (lib/plan/replacement.ts).
  let cost: ReplacementCost | undefined;
  const [best, ...others] = chosen;
  if (current && best) {
    const subnets = managed?.subnets?.length ? managed.subnets : ng.subnetIds;
    cost = replacementCost(ctx, ng, { current, chosen: [best, ...others], load, ipamd, newNodes: scaling.desiredSize, subnets });
    const over = capacityBlocker(cost.capacity, bound, 'actions.instanceTypes.maxCapacityIncreasePercent');
    if (over) {
      blockers.push(best.withinBound === false ? `${over}; no allowed type that gains max pods is within it` : over);
    }
    blockers.push(...cost.room.blockers);
  }

  const ranking = ranked.slice(0, RANKING_MAX).map((m) => ({
    instanceType: m.instanceType,
    maxPods: m.maxPods,
    subnetIpsPerPod: m.subnetIpsPerPod,
    note: rankNote(m, old, scarce, toTypes.includes(m.instanceType), bound),
  }));
  const change: NodegroupReplacementChange = {
    type: 'replace-nodegroup',
    nodegroup: ng.name,
    newNodegroup,
    fromInstanceTypes: ng.instanceTypes.length > 0 ? [...ng.instanceTypes] : currentType ? [currentType] : [],
    toInstanceTypes: toTypes,
    ranking,
    scaling,
    ...(cost ? { capacity: cost.capacity } : {}),
  };

  return {
    id: `${cluster}/instance-types/${ng.name}`,
    cluster,
    kind: 'instance-types',
    subject: ng.name,
    reason: `${f.title} (finding ${f.id}): move it to instance types with more IP capacity${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`,
    findingIds: [f.id],
    change,
    predicted: {
      ...(podHeadroomGained !== undefined ? { podHeadroomGained } : {}),
      ...(cost ? { ipsFreed: cost.ipsFreed, ipsFreedBySubnet: cost.steadyBySubnet, overlapIpsBySubnet: cost.room.overlapBySubnet } : {}),
      text: predictedText(ng, newNodegroup, toTypes, old, worst, newPods, podHeadroomGained, cost),
    },
    blockers,
  };
}

/** What a replacement costs: the capacity change, the room check, and the addresses after. */
export interface ReplacementCost {
  capacity: CapacityChange;
  demand: NewNodeDemand;
  room: OverlapRoom;
  /** Once the old nodes are gone, by subnet (positive: freed). */
  steadyBySubnet: Record<string, number>;
  /** The same, in all: what the old nodes hold minus what the new ones hold, by the model. */
  ipsFreed: number;
}

function replacementCost(
  ctx: PlanContext,
  ng: NodegroupUsage,
  p: { current: NetworkCapacity; chosen: [RankedType, ...RankedType[]]; load: number; ipamd: IpamdConfig; newNodes: number; subnets: string[] },
): ReplacementCost {
  const customNetworking = p.ipamd.customNetworking === true;
  const nodes = ctx.usage.nodes.filter((x) => x.nodegroup === ng.name);
  const capOf = (type: string): NetworkCapacity => capacityOrUndefined(infoOf(type, ctx.instanceTypes)) ?? p.current;

  const [best] = p.chosen;
  const before = nodegroupCapacity(
    nodes.map((x) => x.instanceType),
    p.newNodes,
    p.current,
    (type) => capacityOrUndefined(infoOf(type, ctx.instanceTypes)),
  );
  const capacity = capacityChange(before, {
    nodes: p.newNodes,
    instanceTypes: p.chosen.map((m) => m.instanceType),
    vcpus: p.newNodes * best.cap.vcpus,
    memoryMiB: p.newNodes * best.cap.memoryMiB,
  });

  const toNewType = (m: RankedType): NewNodeType => ({ cap: m.cap, maxPods: m.maxPods });
  // A new node keeps the trunk ENI of security groups for pods the old ones have.
  const newIpamd = { ...p.ipamd, trunkEnis: newNodeTrunkEnis(ctx.usage, nodes) };
  const demand = newNodeDemand([toNewType(best), ...p.chosen.slice(1).map(toNewType)], p.load, newIpamd);
  const policy = ctx.policy.actions.instanceTypes;
  const room = checkOverlapRoom({
    nodegroup: ng.name,
    // The new nodegroup is created in the old one's declared subnets (lib/aws/nodegroup.ts copies
    // them); NodegroupUsage.subnetIds also lists subnets its nodes are in.
    subnetIds: p.subnets,
    subnets: ctx.usage.subnets,
    networkInterfaces: ctx.inventory.networkInterfaces,
    newNodes: p.newNodes,
    demand,
    marginIps: policy.overlapMarginIps ?? DEFAULT_OVERLAP_MARGIN_IPS,
    marginKey: 'actions.instanceTypes.overlapMarginIps',
  });

  // The old nodes at the same load, each in its own mode (a node launched before a switch keeps
  // its kind of addresses), stopping at its max pods: what they give back once gone.
  const oldBySubnet = new Map<string, number>();
  let oldTotal = 0;
  for (const node of nodes) {
    const cap = capOf(node.instanceType);
    const prefixDelegation = node.mode === 'prefix';
    const pods = node.limits?.maxPods ?? maxPods(cap, cniOptions({ prefixDelegation, customNetworking }));
    const holding = holdingFor(cap, Math.min(p.load, pods), { ...p.ipamd, prefixDelegation, maxPods: pods, ...nodeEnisOf(node) });
    oldTotal += holding.subnetIps;
    if (node.subnetId) oldBySubnet.set(node.subnetId, (oldBySubnet.get(node.subnetId) ?? 0) + nodeSubnetIps(holding, customNetworking));
  }
  return {
    capacity,
    demand,
    room,
    steadyBySubnet: steadyStateBySubnet(oldBySubnet, room, demand.subnetIps),
    ipsFreed: oldTotal - p.newNodes * demand.holding.subnetIps,
  };
}

function predictedText(
  ng: NodegroupUsage,
  newNodegroup: string,
  toTypes: string[],
  old: RankedType | undefined,
  worst: RankedType | undefined,
  newPods: number | undefined,
  gained: number | undefined,
  cost: ReplacementCost | undefined,
): string {
  if (!old || !worst || newPods === undefined || gained === undefined || !cost) return `No replacement instance type for ${ng.name}.`;
  const steady = Object.entries(cost.steadyBySubnet)
    .map(([id, v]) => `${v < 0 ? `${-v} more` : `${v} fewer`} in ${id}`)
    .join(', ');
  return (
    `${ng.name} (${old.instanceType}) → ${newNodegroup || 'a new nodegroup'} (${toTypes.join(', ')}): max pods ${old.maxPods} → ${newPods} per node, ` +
    `${signed(gained)} pods of headroom on ${ng.nodes} ${ng.nodes === 1 ? 'node' : 'nodes'}; ${capacityText(cost.capacity)}; subnet addresses per pod ` +
    `${old.subnetIpsPerPod} → ${worst.subnetIpsPerPod} at today's load (${cost.demand.pods} pods per node); ` +
    `while the new nodes run beside the old ones they take up to ${overlapText(cost.room) || 'nothing'}` +
    `; once the old nodes are gone the nodes hold ${steady || 'the same addresses as now'}.`
  );
}

function rankNote(m: RankedType, old: RankedType | undefined, scarce: boolean, chosen: boolean, bound: number): string {
  const parts = [
    `${m.cap.maxEnis} ENIs × ${m.cap.ipv4PerEni} IPs, ${m.cap.vcpus} vCPUs, ${m.cap.memoryMiB} MiB`,
    `max ${m.maxPods} pods (${m.podIpSlots} pod IP slots)`,
    `${m.subnetIpsPerPod} subnet IPs per pod${old ? ` (now ${old.subnetIpsPerPod})` : ''}`,
  ];
  if (m.increasePercent !== undefined) {
    parts.push(`+${m.increasePercent} % vCPU/memory per node, ${m.withinBound === false ? 'above' : 'within'} the ${bound} % bound`);
  }
  if (scarce) parts.push('subnet scarce: ranked by addresses per pod first');
  if (chosen) parts.push('proposed');
  return parts.join('; ');
}

/**
 * The new nodegroup's scaling: the old one's min and max, desired = its desired or the running
 * node count if larger (never below the capacity that was running), max raised to fit.
 */
export function scalingOf(old: Nodegroup, ng: NodegroupUsage): { minSize: number; maxSize: number; desiredSize: number } {
  const s = old.scalingConfig ?? {};
  const desiredSize = Math.max(s.desiredSize ?? ng.desiredSize ?? 0, ng.nodes);
  const minSize = s.minSize ?? 0;
  const maxSize = Math.max(s.maxSize ?? 1, desiredSize, 1);
  return { minSize, maxSize, desiredSize };
}

function mostCommon(values: string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function signed(x: number): string {
  return x >= 0 ? `+${x}` : String(x);
}
