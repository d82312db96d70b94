/**
 * The plan's data: planned actions, each with its reason, its predicted effect and its state
 * (will apply, dry-run, or blocked with the reason).
 *
 * Planners (pure, one per action kind, lib/plan/*.ts) propose; `lib/plan/gates.ts` gates each
 * proposal through the safety rules (mode, opt-in, complete data, one change in flight per
 * cluster, cooldown, bounds). What applying it does (records, outcomes, executors) is the act
 * layer's: lib/act/types.ts.
 */
import type { Finding } from '../diagnose/types';
import type { ClusterInventory, InstanceTypeInfo } from '../inventory/types';
import type { ClusterUsage } from '../measure/types';
import type { ActionKind, EffectivePolicy } from '../policy/types';

/** The action kinds, as the policy governs them (lib/policy/types.ts). */
export type { ActionKind };

/** Set env keys of the managed vpc-cni add-on: only these keys change; every other key is kept. */
export interface AddonEnvChange {
  type: 'addon-env';
  /** The add-on version the change is for (UpdateAddon keeps it). */
  addonVersion?: string;
  /** Keys to set, values as strings (the add-on's schema takes strings). */
  set: Record<string, string>;
  /** The current values of those keys ('' when unset), for the record and the notification. */
  previous: Record<string, string>;
  /** For a self-managed aws-node: the exact command an operator runs instead (nothing is applied). */
  selfManagedCommand?: string;
  /** Prefix delegation only: what the nodes need to use it (max pods per managed nodegroup, node rollout). */
  nodeChanges?: { nodegroup: string; maxPods: number; note: string }[];
  /**
   * Where the keys are set. Absent: the managed vpc-cni add-on (UpdateAddon). `aws-node`: a
   * self-managed install's kube-system/aws-node DaemonSet, by server-side apply through the
   * cluster's Kubernetes API (lib/act/execute-aws-node.ts); no `selfManagedCommand` then.
   */
  target?: 'aws-node';
}

/** Tag spare subnets `kubernetes.io/role/cni` so that the VPC CNI (1.18+) discovers them. */
export interface CniSubnetsChange {
  type: 'tag-subnets';
  subnetIds: string[];
  tag: { key: string; value: string };
  /**
   * Steering: shared subnets this cluster's CNI (1.22.1+) stops using for new ENIs, each by removing
   * its `cni.networking.k8s.aws/cluster/<cluster>` tag (`key`); `value` is the value it had, to put
   * it back with CreateTags. Done after `subnetIds` are tagged. Absent in older records: none.
   */
  exclude?: { subnetId: string; key: string; value: string }[];
}

/**
 * Replace a managed nodegroup by one of instance types with more IP capacity: step 1 creates
 * the new nodegroup (a copy of everything else); step 2, in a later cycle once it is ACTIVE,
 * scales the old one down. Never both steps at once, never below the capacity that was running.
 */
export interface NodegroupReplacementChange {
  type: 'replace-nodegroup';
  nodegroup: string;
  newNodegroup: string;
  fromInstanceTypes: string[];
  toInstanceTypes: string[];
  /** The candidates considered, best first, with why each ranks where it does. */
  ranking: { instanceType: string; maxPods: number; subnetIpsPerPod: number; note: string }[];
  /** desired/min/max of the old nodegroup when planned: the new one starts at these. */
  scaling: { minSize: number; maxSize: number; desiredSize: number };
  /**
   * vCPU, memory and node count before and after (lib/plan/replacement.ts `capacityChange`).
   * Absent in records written before it existed.
   */
  capacity?: CapacityChange;
}

/** What a nodegroup runs: node count and the sum of its nodes' vCPUs and memory. */
export interface NodegroupCapacity {
  nodes: number;
  /** The instance types counted (a mixed nodegroup lists each). */
  instanceTypes: string[];
  vcpus: number;
  memoryMiB: number;
}

/** A replacement's capacity change; percentages are rounded to 0.1, growth positive. */
export interface CapacityChange {
  before: NodegroupCapacity;
  after: NodegroupCapacity;
  vcpuIncreasePercent: number;
  memoryIncreasePercent: number;
  /** The larger of the two: what `actions.instanceTypes.maxCapacityIncreasePercent` bounds. */
  increasePercent: number;
}

/**
 * Create `prefix` subnet CIDR reservations over free aligned runs of a prefix-mode pod subnet, so
 * that the /28 prefixes ipamd asks for come from them first and single addresses (new ENIs)
 * cannot fragment them (lib/plan/subnet-reservations.ts). One CreateSubnetCidrReservation each.
 */
export interface SubnetReservationsChange {
  type: 'reserve-prefixes';
  subnetId: string;
  vpcId: string;
  /** The subnet's CidrBlock when planned: every CIDR lies in it. */
  subnetCidr: string;
  /** The ranges to reserve, aligned, largest first; each is a power-of-two block of whole /28s. */
  cidrs: string[];
  /** The reservations' Description. */
  description: string;
}

/**
 * Delete leaked ENIs of the VPC CNI (lib/plan/leaked-enis.ts, lib/act/execute-enis.ts):
 * each is re-read right before its delete and deleted only if it is still available, still the
 * CNI's for `instanceId`, still tagged with `clusterTag`, and at least `minAgeMinutes` old.
 */
export interface DeleteEnisChange {
  type: 'delete-enis';
  /** The cluster.k8s.amazonaws.com/name tag every ENI must carry (the cluster's own name). */
  clusterTag: string;
  minAgeMinutes: number;
  enis: { networkInterfaceId: string; subnetId: string; instanceId: string; ips: number }[];
}

/** A Karpenter EC2NodeClass subnet selector term, as written in spec.subnetSelectorTerms. */
export interface KarpenterSubnetTerm {
  id?: string;
  tags?: Record<string, string>;
}

/**
 * Replace an EC2NodeClass's spec.subnetSelectorTerms (an atomic list: replaced whole) by explicit
 * `id` terms (lib/plan/karpenter-subnets.ts, lib/act/execute-karpenter.ts), by server-side apply.
 */
export interface KarpenterSubnetsChange {
  type: 'karpenter-subnet-terms';
  nodeClass: string;
  /** The terms when planned: the executor changes nothing unless they are still these; and how to revert. */
  previousTerms: KarpenterSubnetTerm[];
  /** The new terms: one `{id}` per subnet. */
  terms: { id: string }[];
  /** Resolved subnets the change leaves out (Karpenter drifts their nodes: SubnetDrift). */
  removed: string[];
  /** Allow-listed subnets the change adds. */
  added: string[];
}

/** A Karpenter NodePool requirement (spec.template.spec.requirements), as written. */
export interface KarpenterRequirement {
  key: string;
  operator: string;
  values?: string[];
  minValues?: number;
}

/**
 * Replace a NodePool's spec.template.spec.requirements (atomic) by a widened copy: one requirement
 * changed so that types with more IP capacity are allowed, every other kept
 * (lib/plan/karpenter-instance-types.ts), by server-side apply.
 */
export interface KarpenterRequirementsChange {
  type: 'karpenter-requirements';
  nodePool: string;
  /** The requirements when planned (the executor's precondition, and how to revert). */
  previous: KarpenterRequirement[];
  requirements: KarpenterRequirement[];
  /** The requirement key widened, and the values added to it. */
  widened: { key: string; added: string[] };
  /** Instance types the new requirements allow that the old ones did not, with the pods Karpenter gives each. */
  addedTypes: { instanceType: string; pods: number; vcpus: number; memoryMiB: number }[];
  /** Largest vCPU / memory growth of an added type over the largest allowed before, in percent (what maxCapacityIncreasePercent bounds). */
  increasePercent: number;
}

export type ActionChange =
  | AddonEnvChange
  | CniSubnetsChange
  | NodegroupReplacementChange
  | SubnetReservationsChange
  | DeleteEnisChange
  | KarpenterSubnetsChange
  | KarpenterRequirementsChange
  | EniConfigsChange;
/**
 * Custom networking (lib/plan/eni-configs.ts, lib/act/execute-eni-configs.ts): step 1 applies one
 * ENIConfig per Availability Zone of the nodes, named after the zone, each giving pods an
 * allow-listed subnet; step 2 sets AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG and ENI_CONFIG_LABEL_DEF
 * through the add-on or the aws-node DaemonSet (`env`, an addon-env change of its own).
 */
export interface EniConfigsChange {
  type: 'eni-configs';
  vpcId: string;
  /** The ENIConfigs to apply, by zone: each named after its zone (`eu-west-1a`). */
  eniConfigs: { name: string; subnet: string; securityGroups: string[] }[];
  /** The CNI env of step 2: where (`target`) and which keys, as the warm-targets action sets them. */
  env: AddonEnvChange;
  /** The kubelet max pods of each instance type running now, before and with custom networking (the primary ENI no longer serves pods). */
  maxPods: { instanceType: string; before: number; after: number }[];
}


/** What an action is predicted to do, from the ipamd and capacity models. */
export interface PredictedEffect {
  /**
   * Subnet addresses freed (positive) or taken (negative), by subnet id, once the change has
   * settled (for a nodegroup replacement: after the old nodes are gone).
   */
  ipsFreedBySubnet?: Record<string, number>;
  /**
   * A nodegroup replacement only: addresses taken (negative) at the peak, while the new nodes run
   * beside the old ones, by subnet (the worst case the room check uses: lib/plan/replacement.ts).
   */
  overlapIpsBySubnet?: Record<string, number>;
  ipsFreed?: number;
  /** Pods of headroom gained on the affected nodes. */
  podHeadroomGained?: number;
  /** One sentence a person reads. */
  text: string;
}

/** A planner's proposal, before the safety gates. */
export interface ProposedAction {
  /** Stable across cycles: `<cluster>/<kind>/<subject>`; the ledger keys cooldowns and idempotency on it. */
  id: string;
  cluster: string;
  kind: ActionKind;
  /** What it changes: `vpc-cni`, a subnet list, a nodegroup name. */
  subject: string;
  /** Why: in words, naming the findings. */
  reason: string;
  findingIds: string[];
  change: ActionChange;
  predicted: PredictedEffect;
  /** Reasons the planner itself found that block it (a value out of the policy's bounds, a non-Nitro type, ...). */
  blockers: string[];
}

export type ActionState = 'apply' | 'dry-run' | 'blocked';

/** A proposal with its state after the gates. */
export interface PlannedAction extends ProposedAction {
  state: ActionState;
  /** Why it is blocked or only dry-run; empty when it will apply. */
  blockedBy: string[];
}

/** Everything a planner reads. Pure data. */
export interface PlanContext {
  usage: ClusterUsage;
  inventory: ClusterInventory;
  instanceTypes: Record<string, InstanceTypeInfo>;
  findings: Finding[];
  policy: EffectivePolicy;
  now: Date;
}

/** A planner: proposes actions of one kind for one cluster. Pure. */
export type ActionPlanner = (ctx: PlanContext) => ProposedAction[];

/** What the ledger knows of past actions of a cluster, for the gates. */
export interface ActionHistory {
  /** The last time each action kind was started on the cluster (ISO). */
  lastStartedByKind: Partial<Record<ActionKind, string>>;
  /** An action of this responder still in flight on the cluster (an update not finished, a replacement between steps). */
  inFlight?: { actionId: string; kind: ActionKind; since: string; step: string };
}
