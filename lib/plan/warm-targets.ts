/**
 * Planner of the warm-targets action: when a pod subnet is scarce and the nodes' warm pools hold
 * its addresses, set WARM_IP_TARGET / MINIMUM_IP_TARGET on the vpc-cni add-on so that each node
 * holds about what its pods use. Pure.
 * Design (the values, the prediction): docs/remediation.md#libplanwarm-targetsts-planning-warm-targets
 */
import { cniActionsExclusion } from '../inventory/cluster-network';
import type { NetworkCapacity } from '../capacity/instance-type';
import { buildContext, n, type ClusterContext } from '../diagnose/context';
import { CNI_DEFAULT_CONFIG } from '../diagnose/held-by-others';
import type { Finding } from '../diagnose/types';
import type { ClusterInventory } from '../inventory/types';
import { ipamdApiRate, minimumIpTargetWithin, type NodeChurnInput } from '../ipamd/api-rate';
import { estimateWarm, holdingFor, ipamdConfigOf } from '../ipamd/model';
import type { IpamdConfig } from '../ipamd/types';
import type { ClusterUsage, NodeUsage } from '../measure/types';
import { DEFAULT_IPAMD_CALLS_PER_MINUTE_MAX, DEFAULT_POD_STARTS_PER_NODE_PER_MINUTE, type Bounds, type WarmTargetsPolicy } from '../policy/types';
import { awsNodeTargetOf, previousAwsNodeEnv, type AwsNodeTarget } from './aws-node';
import type { ActionPlanner, AddonEnvChange, PlanContext, ProposedAction } from './types';

/** The vpc-cni add-on: the subject of every addon-env action. */
export const VPC_CNI_SUBJECT = 'vpc-cni';

/** The settings the prediction starts from, or undefined when they cannot be known. */
export interface CurrentSettings {
  config: IpamdConfig;
  /** A self-managed aws-node: its env is not visible, the CNI defaults are assumed. */
  assumedDefaults: boolean;
}

/**
 * The current ipamd settings of the cluster; undefined when the add-on could not be read. A
 * self-managed aws-node whose env was read through the Kubernetes API (`awsNode` writable) gives
 * its own settings instead of the assumed defaults.
 */
export function currentSettingsOf(usage: ClusterUsage, awsNode?: AwsNodeTarget): CurrentSettings | undefined {
  if (usage.cni.install === 'unknown') return undefined;
  const read = ipamdConfigOf(usage.cni);
  if (read) return { config: read, assumedDefaults: false };
  const fromAwsNode = awsNode?.writable ? ipamdConfigOf(awsNode.settings) : undefined;
  if (fromAwsNode) return { config: fromAwsNode, assumedDefaults: false };
  return { config: CNI_DEFAULT_CONFIG, assumedDefaults: true };
}

/**
 * Where a self-managed aws-node's env change goes: undefined for the managed add-on; otherwise
 * the DaemonSet when it is writable through the Kubernetes API, or the printed command.
 */
export function selfManagedTargetOf(pc: Pick<PlanContext, 'usage' | 'inventory'>): AwsNodeTarget | undefined {
  return pc.usage.cni.install === 'self-managed' ? awsNodeTargetOf(pc.inventory) : undefined;
}

/** The CNI settings the planner compares with: the add-on's, or a writable aws-node's env. */
export function effectiveCniOf(usage: ClusterUsage, awsNode: AwsNodeTarget | undefined): ClusterUsage['cni'] {
  return awsNode?.writable ? { ...usage.cni, ...awsNode.settings, install: usage.cni.install } : usage.cni;
}

/**
 * The change's fields for a self-managed aws-node: the DaemonSet as target (its env as `previous`)
 * when writable, else the printed command; and its blocker (the reason it cannot be applied), if any.
 */
export function selfManagedParts(
  awsNode: AwsNodeTarget | undefined,
  set: Record<string, string>,
): { fields: { target?: 'aws-node'; selfManagedCommand?: string; previous?: Record<string, string> }; blockers: string[] } {
  if (!awsNode) return { fields: {}, blockers: [] };
  if (awsNode.writable) {
    const invalid = awsNode.settings.invalid;
    return {
      fields: { target: 'aws-node', previous: previousAwsNodeEnv(awsNode.env, Object.keys(set)) },
      blockers: invalid.length > 0 ? [`aws-node's env has values the CNI does not accept: ${invalid.join(', ')}`] : [],
    };
  }
  return { fields: { selfManagedCommand: selfManagedCommand(set) }, blockers: [`${SELF_MANAGED_BLOCKER}; ${awsNode.reason}`] };
}

/**
 * An addon-env change setting `set`: on the managed add-on, or on a self-managed aws-node (its
 * target and env, or the printed command: {@link selfManagedParts}). `previous` defaults to the
 * inventory's values of those keys.
 */
export function addonEnvChangeOf(
  usage: ClusterUsage,
  inventory: ClusterInventory,
  set: Record<string, string>,
  target: ReturnType<typeof selfManagedParts>,
  previous: Record<string, string> = target.fields.previous ?? previousEnv(inventory, Object.keys(set)),
): AddonEnvChange {
  return {
    type: 'addon-env',
    ...(usage.cni.addonVersion ? { addonVersion: usage.cni.addonVersion } : {}),
    set,
    previous,
    ...(target.fields.target ? { target: target.fields.target } : {}),
    ...(target.fields.selfManagedCommand ? { selfManagedCommand: target.fields.selfManagedCommand } : {}),
  };
}

/**
 * The settings a node's ipamd runs with: the cluster's, in the mode the node is in (a node
 * launched before a switch keeps its kind of addresses), stopping at its max pods, with the ENIs
 * ipamd does not fill on that node (its trunk ENI and unmanaged ENIs: pkg/ipamd/ipamd.go
 * `hasRoomForEni`).
 */
export function nodeConfig(base: IpamdConfig, node: NodeUsage): IpamdConfig {
  return { ...base, prefixDelegation: node.mode === 'prefix', maxPods: node.limits?.maxPods, ...nodeEnisOf(node) };
}

/** The node's ENIs that carry no pod addresses, as the ipamd model takes them. */
export function nodeEnisOf(node: Pick<NodeUsage, 'trunkEnis' | 'unmanagedEnis'>): Pick<IpamdConfig, 'trunkEnis' | 'unmanagedEnis'> {
  return { trunkEnis: node.trunkEnis ?? 0, unmanagedEnis: node.unmanagedEnis ?? 0 };
}

/**
 * Trunk ENIs a new node of a nodegroup will have: 1 when security groups for pods is on
 * (ENABLE_POD_ENI) and the nodegroup's nodes have one today (the VPC resource controller attaches
 * one to every node of a type that supports trunking; the bundled data cannot tell which types do,
 * the nodes can).
 */
export function newNodeTrunkEnis(usage: ClusterUsage, nodes: readonly NodeUsage[]): number {
  return usage.cni.podEni === true && nodes.some((x) => (x.trunkEnis ?? 0) > 0) ? 1 : 0;
}

/**
 * The pods a node runs that hold an address: exact where Kubernetes said (lib/measure/kube-pods.ts), else
 * by the ipamd model, the middle of what its holding allows.
 */
export function podsEstimate(cap: NetworkCapacity, node: NodeUsage, config: IpamdConfig): { pods: number; consistent: boolean } {
  if (node.podIpUse?.source === 'kubernetes') return { pods: node.podIpUse.assigned, consistent: true };
  const est = estimateWarm(cap, { enis: node.enis, secondaryIps: node.secondaryIps, prefixes: node.prefixes }, config);
  return { pods: Math.round((est.podsMin + est.podsMax) / 2), consistent: est.consistent };
}

/** By instance id: the subnets of the node's ENIs and the pod addresses it holds in each. */
export type SubnetShares = Map<string, [subnetId: string, podIps: number][]>;

export function subnetSharesOf(ctx: ClusterContext): SubnetShares {
  const out: SubnetShares = new Map();
  for (const [subnetId, list] of ctx.nodesBySubnet) {
    for (const x of list) {
      const shares = out.get(x.node.instanceId) ?? [];
      shares.push([subnetId, x.podIps]);
      out.set(x.node.instanceId, shares);
    }
  }
  return out;
}

/**
 * Adds `delta` addresses of a node to `acc`, spread over the subnets of its ENIs in proportion to
 * the pod addresses it holds in each (its own subnet when it holds none).
 */
export function spreadBySubnet(shares: SubnetShares, node: NodeUsage, delta: number, acc: Map<string, number>): void {
  if (delta === 0) return;
  const mine = shares.get(node.instanceId) ?? [];
  const total = mine.reduce((s, [, v]) => s + v, 0);
  if (total === 0) {
    const where = node.subnetId ?? mine[0]?.[0];
    if (where) acc.set(where, (acc.get(where) ?? 0) + delta);
    return;
  }
  for (const [subnetId, podIps] of mine) acc.set(subnetId, (acc.get(subnetId) ?? 0) + (delta * podIps) / total);
}

/** Rounded per-subnet figures, zeros left out, keys sorted. */
export function roundedBySubnet(acc: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, v] of [...acc.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const r = Math.round(v);
    if (r !== 0) out[id] = r;
  }
  return out;
}

/** The current values of env keys in the add-on's document, as strings ('' when unset or not visible). */
export function previousEnv(inventory: ClusterInventory, keys: string[]): Record<string, string> {
  const values = inventory.cni.kind === 'managed' ? inventory.cni.configurationValues : {};
  const env = values['env'];
  const record = env && typeof env === 'object' && !Array.isArray(env) ? (env as Record<string, unknown>) : {};
  return Object.fromEntries(
    keys.map((k) => {
      const v = record[k];
      return [k, v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v)];
    }),
  );
}

/** The command an operator runs on a self-managed aws-node (the AWS API cannot change it). */
export function selfManagedCommand(set: Record<string, string>): string {
  return `kubectl -n kube-system set env daemonset/aws-node ${Object.entries(set)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
}

export const SELF_MANAGED_BLOCKER = 'self-managed aws-node: run the command';

export function clamp(value: number, bounds: Bounds): number {
  return Math.min(bounds.max, Math.max(bounds.min, value));
}

/** The scarce pod subnets named by findings of the cluster, with the findings that name them. */
export function scarceSubnetsOf(findings: Finding[], cluster: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (subnetId: string, findingId: string): void => {
    const ids = out.get(subnetId) ?? [];
    if (!ids.includes(findingId)) ids.push(findingId);
    out.set(subnetId, ids);
  };
  for (const f of findings) {
    if (f.cluster !== cluster) continue;
    if (f.kind !== 'subnet-exhaustion' && f.kind !== 'ips-held-by-others') continue;
    if (f.subject.type === 'subnet') add(f.subject.id, f.id);
    else if (f.subject.type === 'availability-zone') {
      const ids = f.evidence['subnetIds'];
      if (typeof ids === 'string') for (const id of ids.split(',').filter((x) => x !== '')) add(id, f.id);
    }
  }
  return out;
}

function selfManagedOrUnset(usage: ClusterUsage): boolean {
  return usage.cni.install !== 'managed';
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return 0;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

interface NodeEstimate {
  node: NodeUsage;
  cap: NetworkCapacity;
  pods: number;
  config: IpamdConfig;
}

interface Targets {
  warmIpTarget: number;
  minimumIpTarget: number;
}

interface Prediction {
  bySubnet: Map<string, number>;
  /** Addresses freed in the scarce subnets (unrounded sum). */
  scarceGain: number;
}

/**
 * What the new targets free per subnet: `holdingFor` under the current and the new settings.
 * Sources:
 * - [prefix-doc] docs/prefix-and-ip-target.md: in prefix mode WARM_IP_TARGET / MINIMUM_IP_TARGET
 *   override WARM_PREFIX_TARGET and count addresses, rounded up to /28s (the model does it).
 * - The ipamd model, lib/ipamd/model.ts.
 */
function predict(shares: SubnetShares, nodes: NodeEstimate[], targets: Targets, scarce: Set<string>): Prediction {
  const bySubnet = new Map<string, number>();
  for (const x of nodes) {
    const before = holdingFor(x.cap, x.pods, x.config).subnetIps;
    const after = holdingFor(x.cap, x.pods, { ...x.config, warmIpTarget: targets.warmIpTarget, minimumIpTarget: targets.minimumIpTarget }).subnetIps;
    spreadBySubnet(shares, x.node, before - after, bySubnet);
  }
  let scarceGain = 0;
  for (const [id, v] of bySubnet) if (scarce.has(id)) scarceGain += v;
  return { bySubnet, scarceGain };
}

const signed = (x: number): string => (x >= 0 ? `frees ${n(x)}` : `takes ${n(-x)}`);

/**
 * Proposes WARM_IP_TARGET / MINIMUM_IP_TARGET for a cluster whose pod subnets are scarce (see
 * docs/remediation.md#libplanwarm-targetsts-planning-warm-targets for the values and the prediction). At most one proposal, subject `vpc-cni`.
 * Sources:
 * - [eni-doc] aws/amazon-vpc-cni-k8s docs/eni-and-ip-target.md
 *   (https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/eni-and-ip-target.md): "If you plan
 *   to run around 10 pods, the advice is to set MINIMUM_IP_TARGET slightly higher than that, like
 *   12, and have WARM_IP_TARGET=2".
 */
export const planWarmTargets: ActionPlanner = (pc: PlanContext): ProposedAction[] => {
  // Auto Mode and IPv6 clusters: the VPC CNI settings this action changes do not give their pods addresses (the plan's notes say why).
  if (cniActionsExclusion(pc.usage.network) !== undefined) return [];
  const { usage, inventory, policy } = pc;
  const rules = policy.actions.warmTargets;
  if (!rules.allowed) return [];
  const awsNode = selfManagedTargetOf(pc);
  const cni = effectiveCniOf(usage, awsNode);
  const current = currentSettingsOf(usage, awsNode);
  if (!current) return [];
  const scarceFindings = scarceSubnetsOf(pc.findings, usage.name);
  if (scarceFindings.size === 0) return [];
  const scarce = new Set(scarceFindings.keys());

  const ctx = buildContext(usage, inventory, pc.instanceTypes, policy.thresholds);
  const nodes: NodeEstimate[] = [];
  let unknownType = 0;
  let inconsistent = 0;
  for (const node of usage.nodes) {
    const cap = ctx.capacityOf(node.instanceType);
    if (!cap) {
      unknownType++;
      continue;
    }
    const config = nodeConfig(current.config, node);
    const est = podsEstimate(cap, node, config);
    if (!est.consistent) inconsistent++;
    nodes.push({ node, cap, pods: est.pods, config });
  }
  if (nodes.length === 0) return [];

  const podsMedian = Math.round(median(nodes.map((x) => x.pods)));
  // MINIMUM_IP_TARGET only ever raises what a node holds, so it is never raised above a value
  // already set: the median pods, or the current value when that is lower.
  const currentMinimum = selfManagedOrUnset(usage) && !awsNode?.writable ? undefined : cni.minimumIpTarget;
  const wantedMinimum = currentMinimum !== undefined && currentMinimum > 0 ? Math.min(podsMedian, currentMinimum) : podsMedian;
  // Without the policy's bounds: the smallest buffer (1) and that minimum.
  const free: Targets = { warmIpTarget: 1, minimumIpTarget: wantedMinimum };
  const chosen: Targets = {
    warmIpTarget: clamp(Math.max(1, rules.warmIpTarget.min), rules.warmIpTarget),
    minimumIpTarget: clamp(wantedMinimum, rules.minimumIpTarget),
  };

  const set = { WARM_IP_TARGET: String(chosen.warmIpTarget), MINIMUM_IP_TARGET: String(chosen.minimumIpTarget) };
  // A self-managed aws-node whose env is not visible may hold anything: proposed with the command.
  const visible = usage.cni.install !== 'self-managed' || awsNode?.writable === true;
  if (visible && (cni.warmIpTarget ?? 0) === chosen.warmIpTarget && (cni.minimumIpTarget ?? 0) === chosen.minimumIpTarget) {
    return [];
  }

  const shares = subnetSharesOf(ctx);
  const prediction = predict(shares, nodes, chosen, scarce);
  const blockers: string[] = [];
  if (prediction.scarceGain < 1) {
    const unbounded = predict(shares, nodes, free, scarce);
    if (unbounded.scarceGain < 1) return [];
    const bounds: string[] = [];
    if (chosen.warmIpTarget !== free.warmIpTarget) {
      bounds.push(
        `warmTargets.warmIpTarget ${rules.warmIpTarget.min}..${rules.warmIpTarget.max} makes WARM_IP_TARGET=${chosen.warmIpTarget} (wanted ${free.warmIpTarget})`,
      );
    }
    if (chosen.minimumIpTarget !== free.minimumIpTarget) {
      bounds.push(
        `warmTargets.minimumIpTarget ${rules.minimumIpTarget.min}..${rules.minimumIpTarget.max} makes MINIMUM_IP_TARGET=${chosen.minimumIpTarget} (wanted ${free.minimumIpTarget})`,
      );
    }
    blockers.push(
      `the policy's bounds leave no gain: ${bounds.join('; ')}; predicted ${signed(Math.round(prediction.scarceGain))} IPs in the scarce subnets, against ${n(Math.round(unbounded.scarceGain))} freed within no bounds`,
    );
  }
  const ipsFreedBySubnet = roundedBySubnet(prediction.bySubnet);
  for (const id of [...scarce].sort()) {
    const v = ipsFreedBySubnet[id] ?? 0;
    if (v < 0 && prediction.scarceGain >= 1) blockers.push(`it would take ${n(-v)} more IPs in scarce subnet ${id}`);
  }
  const target = selfManagedParts(awsNode, set);
  blockers.push(...target.blockers);
  const api = apiRateCheck(nodes, current.config, chosen, rules);
  if (api.blocker) blockers.push(api.blocker);
  const ipsFreed = Object.values(ipsFreedBySubnet).reduce((a, b) => a + b, 0);

  const previous = target.fields.previous ?? previousEnv(inventory, Object.keys(set));
  const subnetsText = [...scarce]
    .sort()
    .map((id) => {
      const s = ctx.subnetsById.get(id);
      return s ? `${id} (${n(s.available)} free)` : id;
    })
    .join(', ');
  const was = !visible
    ? 'settings not visible (self-managed aws-node; the CNI defaults WARM_ENI_TARGET=1 are assumed)'
    : `now WARM_IP_TARGET=${previous['WARM_IP_TARGET'] || 'unset'}, MINIMUM_IP_TARGET=${previous['MINIMUM_IP_TARGET'] || 'unset'}${
        (cni.warmIpTarget ?? 0) === 0 && (cni.minimumIpTarget ?? 0) === 0
          ? cni.prefixDelegation
            ? `, WARM_PREFIX_TARGET=${cni.warmPrefixTarget ?? 1}`
            : `, WARM_ENI_TARGET=${cni.warmEniTarget ?? 1}`
          : ''
      }${awsNode?.writable ? ' (self-managed aws-node, read through the Kubernetes API)' : ''}`;
  const elsewhere = Object.entries(ipsFreedBySubnet)
    .filter(([id]) => !scarce.has(id))
    .map(([id, v]) => `${signed(v)} in ${id}`);
  const caveats = [
    ...(unknownType > 0 ? [`${unknownType} node(s) of an unknown instance type not counted`] : []),
    ...(inconsistent > 0 ? [`${inconsistent} node(s) hold what ipamd would not settle at: their pod count is a guess`] : []),
  ];
  const text =
    `WARM_IP_TARGET=${set.WARM_IP_TARGET}, MINIMUM_IP_TARGET=${set.MINIMUM_IP_TARGET} ${signed(Math.round(prediction.scarceGain))} IPs in ${subnetsText}` +
    `${elsewhere.length > 0 ? ` (${elsewhere.join(', ')})` : ''}, at the ${nodes.length} nodes' estimated pods (median ${podsMedian})` +
    `${caveats.length > 0 ? `; ${caveats.join('; ')}` : ''}. ${api.text}`;

  return [
    {
      id: `${usage.name}/warm-targets/${VPC_CNI_SUBJECT}`,
      cluster: usage.name,
      kind: 'warm-targets',
      subject: VPC_CNI_SUBJECT,
      reason: `Pod subnet${scarce.size === 1 ? '' : 's'} ${subnetsText} ${scarce.size === 1 ? 'is' : 'are'} scarce and warm pools hold addresses there (${[...new Set([...scarceFindings.values()].flat())].sort().join(', ')}); ${was}.`,
      findingIds: [...new Set([...scarceFindings.values()].flat())].sort(),
      change: addonEnvChangeOf(usage, inventory, set, target, previous),
      predicted: { ipsFreedBySubnet, ipsFreed, text },
      blockers,
    },
  ];
};

/**
 * ipamd's modelled EC2 rate under the proposed targets (lib/ipamd/api-rate.ts) against the
 * policy's budget: warm-target tuning must not trade exhaustion for throttling. The VPC CNI's
 * maintainers: "only set WARM_IP_TARGET for small clusters, or clusters with very low pod churn
 * ... If the number of calls gets too high, they will get throttled and no new ENIs or IPs can
 * be attached to any instance in the cluster" (aws/amazon-vpc-cni-k8s docs/eni-and-ip-target.md;
 * README "Avoid this setting for large clusters", added in aws/amazon-vpc-cni-k8s#810). A proposal
 * above the budget is blocked, unless it makes fewer calls than the current settings.
 */
export function apiRateCheck(
  nodes: readonly { pods: number; node: Pick<NodeUsage, 'mode'> }[],
  current: IpamdConfig,
  chosen: Targets,
  rules: Pick<WarmTargetsPolicy, 'ipamdCallsPerMinuteMax' | 'podStartsPerNodePerMinute' | 'minimumIpTarget'>,
): { text: string; blocker?: string; totalPerMinute: number } {
  const budget = rules.ipamdCallsPerMinuteMax ?? DEFAULT_IPAMD_CALLS_PER_MINUTE_MAX;
  const churn = { podStartsPerNodePerMinute: rules.podStartsPerNodePerMinute ?? DEFAULT_POD_STARTS_PER_NODE_PER_MINUTE };
  const inputs: NodeChurnInput[] = nodes.map((x) => ({ pods: x.pods, prefixDelegation: x.node.mode === 'prefix' }));
  const after = ipamdApiRate(inputs, chosen, churn);
  const before = ipamdApiRate(inputs, current, churn);
  const text =
    `ipamd would make about ${after.totalPerMinute} EC2 calls a minute (${after.assignPerMinute} AssignPrivateIpAddresses, ${after.unassignPerMinute} UnassignPrivateIpAddresses; now ${before.totalPerMinute}), ` +
    `${after.nodes - after.nodesAbsorbing} of ${after.nodes} nodes churning at an assumed ${churn.podStartsPerNodePerMinute} pod starts per node a minute; budget ${budget}.`;
  if (after.totalPerMinute <= budget || after.totalPerMinute <= before.totalPerMinute) return { text, totalPerMinute: after.totalPerMinute };
  const fits = minimumIpTargetWithin(inputs, chosen.warmIpTarget, churn, budget);
  const withinBounds = fits <= rules.minimumIpTarget.max;
  return {
    text,
    totalPerMinute: after.totalPerMinute,
    blocker:
      `ipamd's modelled EC2 rate, ${after.totalPerMinute} calls a minute, is above the policy's budget of ${budget} (warmTargets.ipamdCallsPerMinuteMax): ` +
      `low warm targets on this many churning nodes risk EC2 throttling, which stops IP assignment on every node (aws/amazon-vpc-cni-k8s docs/eni-and-ip-target.md); ` +
      (withinBounds
        ? `MINIMUM_IP_TARGET=${fits} would fit the budget`
        : `a MINIMUM_IP_TARGET of ${fits} would fit, above the policy's bound of ${rules.minimumIpTarget.max}`),
  };
}
