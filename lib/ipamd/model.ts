/**
 * The ipamd model: how many subnet addresses a node holds under a VPC CNI configuration, for a
 * number of pods, and the inverse (what an observed holding says about pods and the warm pool).
 *
 * Pure: no AWS calls, no environment, no logging. It mirrors ipamd's own decide/act split: the
 * decisions (`poolTooLow`, `poolTooHigh`, `addressesToAdd`) are shared by `holdingFor`, which
 * replays ipamd's allocation loop, and by `estimateWarm`, which asks for which pod counts an
 * observed holding is a state ipamd would leave alone. Each source tag ([ipamd], [datastore], …)
 * is defined on the code it justifies; [ipamd] and the worked tables on {@link holdingFor}.
 */
import { IPV4_ADDRESSES_PER_PREFIX, podEnisOfNode, type NetworkCapacity } from '../capacity/instance-type';
import type { CniSettings } from '../measure/cni-settings';
import type { IpamdConfig, NodeHolding, WarmEstimate } from './types';

/** [ipamd] `defaultWarmENITarget = 1`. */
const DEFAULT_WARM_ENI_TARGET = 1;
/**
 * Source (aws/amazon-vpc-cni-k8s at commit 00892598b447):
 * - [chart] `charts/aws-vpc-cni/values.yaml`: shipped env `WARM_ENI_TARGET: "1"`,
 *   `WARM_PREFIX_TARGET: "1"`.
 *
 * [chart] ships `WARM_PREFIX_TARGET: "1"` (the managed add-on likewise). ipamd's own constant is
 * `defaultWarmPrefixTarget = 0`, which only applies when the variable is absent from the pod spec.
 */
const DEFAULT_WARM_PREFIX_TARGET = 1;

/** The configuration resolved against one instance type: what ipamd actually runs with. */
interface Resolved {
  /**
   * Prefix mode in effect: asked for and the type is Nitro ([ipamd] `isConfigValid` falls back).
   * - [eks-prefix] https://docs.aws.amazon.com/eks/latest/userguide/cni-increase-ip-addresses-procedure.html
   *   (prefix mode is Nitro only; a /28 holds 16 addresses), as cited in lib/capacity/instance-type.ts.
   */
  prefixes: boolean;
  customNetworking: boolean;
  /** Addresses per pool entry: 1 (secondary IP) or 16 (a /28). */
  unit: number;
  /**
   * Pool entries one ENI takes: [ipamd] `GetIPv4Limit` uses [awsutils] `GetENIIPv4Limit`
   * (Ipv4AddressesPerInterface − 1) as secondary IPs per ENI, and the same number as prefixes per
   * ENI in prefix mode.
   * - [awsutils] `pkg/awsutils/awsutils.go` `GetENIIPv4Limit`: Ipv4AddressesPerInterface − 1;
   *   `DescribeAllENIs`: the trunk ENI is InterfaceType `trunk`, an EFA-only ENI `efa-only`.
   *   (aws/amazon-vpc-cni-k8s at commit 00892598b447)
   */
  perEni: number;
  /**
   * ENIs ipamd may hold addresses on, primary included: [ipamd] `hasRoomForEni` keeps the
   * datastore's ENIs below `maxENI − unmanagedENI − trunkEni`, `maxENI` being MAX_ENI or the type's
   * maximum (`getMaxENI`). The trunk ENI is in the datastore but [datastore] `GetAllocatableENIs`
   * skips it, so it is left out here and from the limit alike.
   */
  maxEnis: number;
  /** ENIs attached that are not ipamd's to fill: the trunk and the unmanaged ENIs. */
  trunkEnis: number;
  unmanagedEnis: number;
  /** [ipamd] `warmIPTargetsDefined`: WARM_IP_TARGET or MINIMUM_IP_TARGET non-zero. */
  ipTargets: boolean;
  warmIp: number;
  minimumIp: number;
  warmEni: number;
  warmPrefix: number;
  maxPods: number;
}

/**
 * The datastore's view of the pool ([datastore] `GetIPStats`), in addresses.
 * - [datastore] `pkg/ipamd/datastore/data_store.go`: `GetIPStats`, `AvailableAddresses`,
 *   `GetAllocatableENIs`, `GetFreePrefixes`, `getDeletableENI`, `AssignPodIPv4Address`.
 *   (aws/amazon-vpc-cni-k8s at commit 00892598b447)
 */
interface PoolStats {
  /** Addresses in the pool: secondary IPs, or 16 per prefix. */
  total: number;
  /** Addresses assigned to pods. */
  assigned: number;
  /** Prefixes with no pod on them ([datastore] `GetFreePrefixes`); 0 in secondary-IP mode. */
  freePrefixes: number;
}

function requireCount(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${name} = ${String(value)}, expected a whole number ≥ 0`);
  }
  return value;
}

function resolve(cap: NetworkCapacity, config: IpamdConfig): Resolved {
  const warmIp = requireCount('WARM_IP_TARGET', config.warmIpTarget) ?? 0;
  const minimumIp = requireCount('MINIMUM_IP_TARGET', config.minimumIpTarget) ?? 0;
  const warmEni = requireCount('WARM_ENI_TARGET', config.warmEniTarget) ?? DEFAULT_WARM_ENI_TARGET;
  const warmPrefix = requireCount('WARM_PREFIX_TARGET', config.warmPrefixTarget) ?? DEFAULT_WARM_PREFIX_TARGET;
  const maxPods = requireCount('maxPods', config.maxPods) ?? Number.POSITIVE_INFINITY;
  const trunkEnis = requireCount('trunkEnis', config.trunkEnis) ?? 0;
  const unmanagedEnis = requireCount('unmanagedEnis', config.unmanagedEnis) ?? 0;
  // [ipamd] isConfigValid: "Prefix delegation is not supported on non-nitro instance ... falling back
  // to default (secondary IP) mode". NetworkCapacity.nitro follows IsPrefixDelegationSupported.
  const prefixes = config.prefixDelegation && cap.nitro;
  return {
    prefixes,
    customNetworking: config.customNetworking === true,
    unit: prefixes ? IPV4_ADDRESSES_PER_PREFIX : 1,
    perEni: Math.max(0, cap.ipv4PerEni - 1),
    maxEnis: podEnisOfNode(cap, { maxEni: config.maxEni }, { trunkEnis, unmanagedEnis }),
    trunkEnis,
    unmanagedEnis,
    // [ipamd] warmIPTargetsDefined: `c.warmIPTarget != noWarmIPTarget || c.minimumIPTarget != noMinimumIPTarget`
    // (both constants 0). When defined they replace WARM_ENI_TARGET, and in prefix mode
    // WARM_PREFIX_TARGET too (getPrefixesNeeded: "WARM_IP_TARGET takes precendence over WARM_PREFIX_TARGET").
    ipTargets: warmIp !== 0 || minimumIp !== 0,
    warmIp,
    minimumIp,
    warmEni,
    warmPrefix,
    maxPods,
  };
}

/**
 * Addresses short of WARM_IP_TARGET / MINIMUM_IP_TARGET. [ipamd] datastoreTargetState:
 * `short = max(warmIPTarget − available, 0)`, then `max(short, minimumIPTarget − TotalIPs)`.
 * With WARM_IP_TARGET=0 nothing counts pods still waiting for an address, so the pool stops at
 * MINIMUM_IP_TARGET [min-only].
 * - [min-only] https://github.com/aws/amazon-vpc-cni-k8s/pull/2659 and issue #2650:
 *   `WARM_IP_TARGET=0` with `MINIMUM_IP_TARGET` caps the node at MINIMUM_IP_TARGET addresses.
 */
function shortOfIpTargets(r: Resolved, s: PoolStats): number {
  const available = s.total - s.assigned;
  return Math.max(r.warmIp - available, r.minimumIp - s.total, 0);
}

/** [ipamd] isDatastorePoolTooLow: whether ipamd wants more addresses. */
function poolTooLow(r: Resolved, s: PoolStats): boolean {
  // "If max pods has been reached, pool is not too low": `stats.TotalIPs >= c.maxPods`.
  if (s.total >= r.maxPods) return false;
  if (r.ipTargets) return shortOfIpTargets(r, s) > 0;
  // WARM_ENI_TARGET, or WARM_PREFIX_TARGET in prefix mode: `available < totalIPs*warmTarget ||
  // (warmTarget == 0 && available == 0)`, totalIPs being a whole ENI's secondary IPs
  // (maxIPsPerENI) or one prefix's 16. Note: available counts every free address, including those
  // in the partly used prefix, so WARM_PREFIX_TARGET=1 means "16 free addresses", not "one free /28"
  // ([prefix-doc]: "allocate one full (/28) prefix even if a single IP is consumed").
  const available = s.total - s.assigned;
  const warmTarget = r.prefixes ? r.warmPrefix : r.warmEni;
  const chunk = r.prefixes ? IPV4_ADDRESSES_PER_PREFIX : r.perEni;
  return available < chunk * warmTarget || (warmTarget === 0 && available === 0);
}

/**
 * Pool entries (IPs or prefixes) ipamd asks for in one step when the pool is too low.
 * - Secondary IPs: [ipamd] tryAssignIPs `toAllocate := c.maxIPsPerENI`, or `short` when IP targets
 *   are defined ("we only want to allocate up to that target"); GetENIResourcesToAllocate the same
 *   for a new ENI. Callers cap it at the room on the ENI.
 * - Prefixes: [ipamd] getPrefixesNeeded: at least 1; with IP targets `ceil(short / 16)`
 *   (datastoreTargetState `shortPrefix`), else WARM_PREFIX_TARGET − free prefixes
 *   (datastorePrefixTargetState). WARM_PREFIX_TARGET is always "defined" in prefix mode
 *   (warmPrefixTargetDefined: `c.warmPrefixTarget >= defaultWarmPrefixTarget`, the default being 0).
 */
function addressesToAdd(r: Resolved, s: PoolStats): number {
  if (!r.prefixes) return r.ipTargets ? shortOfIpTargets(r, s) : r.perEni;
  if (r.ipTargets) return Math.max(1, Math.ceil(shortOfIpTargets(r, s) / IPV4_ADDRESSES_PER_PREFIX));
  return Math.max(1, r.warmPrefix - s.freePrefixes);
}

/**
 * [ipamd] isDatastorePoolTooHigh: whether ipamd would release addresses (not whole ENIs).
 * - IP targets, secondary IPs: datastoreTargetState `over = max(min(available − warmIPTarget,
 *   TotalIPs − minimumIPTarget), 0)`.
 * - IP targets, prefixes: `overPrefix = min(freePrefixes, TotalPrefixes − ceil((assigned +
 *   warmIPTarget)/16), TotalPrefixes − ceil(minimumIPTarget/16))`, floored at 0.
 * - Prefix mode otherwise: `freePrefixes > warmPrefixTarget`.
 * - WARM_ENI_TARGET: never ("We only ever report the pool being too high if WARM_IP_TARGET or
 *   WARM_PREFIX_TARGET is set"); it only detaches whole ENIs (see {@link restsAt}).
 */
function poolTooHigh(r: Resolved, s: PoolStats): boolean {
  if (r.ipTargets) {
    if (!r.prefixes) {
      const available = s.total - s.assigned;
      return Math.min(available - r.warmIp, s.total - r.minimumIp) > 0;
    }
    const totalPrefixes = s.total / IPV4_ADDRESSES_PER_PREFIX;
    const neededForWarm = Math.ceil((s.assigned + r.warmIp) / IPV4_ADDRESSES_PER_PREFIX);
    const neededForMinimum = Math.ceil(r.minimumIp / IPV4_ADDRESSES_PER_PREFIX);
    return Math.min(s.freePrefixes, totalPrefixes - neededForWarm, totalPrefixes - neededForMinimum) > 0;
  }
  if (r.prefixes) return s.freePrefixes > r.warmPrefix;
  return false;
}

function checkPods(pods: number): void {
  if (!Number.isInteger(pods) || pods < 0) {
    throw new RangeError(`pods = ${String(pods)}, expected a whole number ≥ 0`);
  }
}

/**
 * What a node of this type holds for `pods` pods that need a VPC IP, once ipamd has settled.
 *
 * Sources, read for this module (aws/amazon-vpc-cni-k8s at commit 00892598b447, with multi-card
 * datastores and the max-pods stop):
 * - [ipamd] `pkg/ipamd/ipamd.go`: `isDatastorePoolTooLow`, `increaseDatastorePool`,
 *   `tryAssignIPs`, `tryAssignPrefixes`, `tryAllocateENI`, `GetENIResourcesToAllocate`,
 *   `getPrefixesNeeded`, `datastoreTargetState`, `datastorePrefixTargetState`,
 *   `isDatastorePoolTooHigh`, `shouldRemoveExtraENIs`, `warmIPTargetsDefined`,
 *   `warmPrefixTargetDefined`, `hasRoomForEni`, `GetIPv4Limit`, `isConfigValid`, `getMaxENI`,
 *   `setUnmanagedENIs`, `filterUnmanagedENIs` (read again at commit b52188387f2e for MAX_ENI, the
 *   trunk ENI and unmanaged ENIs: `hasRoomForEni` allows `maxENI − unmanagedENI − trunkEni` ENIs).
 * - [eni-doc] `docs/eni-and-ip-target.md` and [prefix-doc] `docs/prefix-and-ip-target.md` (worked
 *   tables, used as test cases).
 *
 * Replays ipamd's pool manager on a fresh node (the primary ENI with no secondary IPs or
 * prefixes), pods taking addresses as soon as they exist, until `isDatastorePoolTooLow` says
 * stop or the type has no room left. Each step is [ipamd] increaseDatastorePool: first add
 * addresses to an attached ENI with room (tryAssignCidrs; [datastore] GetAllocatableENIs skips
 * the primary ENI under custom networking), and only when none has room attach a new ENI
 * (tryAllocateENI, bounded by hasRoomForEni) carrying `min(needed, per-ENI limit)` entries.
 *
 * Consequences, as the sources' tables show ([eni-doc], [prefix-doc]):
 * - WARM_ENI_TARGET=T: the fewest ENIs with ≥ T × (ipv4PerEni − 1) free addresses (≥ 1 when T=0),
 *   each ENI full. A fresh node (0 pods) has one ENI: the primary ENI's secondaries are the spare
 *   ENI's worth; the first pod brings a second ENI.
 * - WARM_IP_TARGET/MINIMUM_IP_TARGET: exactly max(pods + WARM_IP_TARGET, MINIMUM_IP_TARGET)
 *   addresses (MINIMUM_IP_TARGET alone when WARM_IP_TARGET=0 [min-only]), filling ENIs in turn.
 * - Prefix mode, WARM_PREFIX_TARGET=P: ceil(pods/16) + P prefixes; with IP targets,
 *   ceil(max(pods + WARM_IP_TARGET, MINIMUM_IP_TARGET) / 16). Prefixes fill the primary ENI first
 *   (unless custom networking), up to ipv4PerEni − 1 per ENI.
 *
 * Choices where the source leaves it open: pods are packed into as few prefixes as possible. ipamd
 * really puts a pod on whichever prefix Go's map iteration yields ([datastore]
 * AssignPodIPv4Address), so with WARM_PREFIX_TARGET ≥ 2 a node may hold up to
 * WARM_PREFIX_TARGET − 1 more prefixes than this; {@link estimateWarm} accepts those states. The
 * state is the one reached by growing; after pods leave, ipamd may keep more (ENIs pinned by a pod,
 * see estimateWarm). MAX_ENI, the trunk ENI of security groups for pods and unmanaged ENIs lower
 * the ENIs ipamd may attach (`Resolved.maxEnis`): an m5.large with a trunk ENI stops at 2 ENIs and
 * 18 pod addresses.
 *
 * @throws RangeError when `pods` or a config value is not a whole number ≥ 0.
 */
export function holdingFor(cap: NetworkCapacity, pods: number, config: IpamdConfig): NodeHolding {
  checkPods(pods);
  const r = resolve(cap, config);
  // Entries (secondary IPs or prefixes) per attached ENI; index 0 is the primary ENI.
  // The primary ENI is always there, even when MAX_ENI, the trunk and unmanaged ENIs leave no room.
  const enis: number[] = [0];
  const firstPodEni = r.customNetworking ? 1 : 0;
  // Each step adds at least one entry or one ENI, so this bound is never reached by a correct loop.
  const maxSteps = r.maxEnis * (r.perEni + 1) + 2;
  for (let step = 0; step < maxSteps; step++) {
    const entries = sum(enis);
    const total = entries * r.unit;
    const assigned = Math.min(pods, total);
    const stats: PoolStats = {
      total,
      assigned,
      freePrefixes: r.prefixes ? entries - Math.ceil(assigned / IPV4_ADDRESSES_PER_PREFIX) : 0,
    };
    if (!poolTooLow(r, stats)) break;
    const wanted = addressesToAdd(r, stats);
    if (wanted <= 0) break;
    const withRoom = enis.findIndex((n, i) => i >= firstPodEni && n < r.perEni);
    if (withRoom >= 0) {
      enis[withRoom] = (enis[withRoom] ?? 0) + Math.min(r.perEni - (enis[withRoom] ?? 0), wanted);
      continue;
    }
    if (enis.length >= r.maxEnis || r.perEni === 0) break;
    enis.push(Math.min(wanted, r.perEni));
  }
  const entries = sum(enis);
  const secondaryIps = r.prefixes ? 0 : entries;
  const prefixes = r.prefixes ? entries : 0;
  const podSlots = entries * r.unit;
  const podsWithIps = Math.min(pods, podSlots);
  return {
    enis: enis.length + r.trunkEnis + r.unmanagedEnis,
    secondaryIps,
    prefixes,
    // One primary address per ENI ("First IP on each ENI is not used for pods") + the pool.
    // Under custom networking the primary ENI's address is in the node's subnet, the rest in the
    // ENIConfig subnet.
    // The trunk ENI's own address is taken too; unmanaged ENIs' addresses are not ipamd's.
    subnetIps: enis.length + r.trunkEnis + secondaryIps + prefixes * IPV4_ADDRESSES_PER_PREFIX,
    podSlots,
    warmIps: podSlots - podsWithIps,
    podsWithIps,
  };
}

/**
 * Whether ipamd would leave this observed holding alone with `pods` pods on it, for some way the
 * pods can be spread over ENIs and prefixes:
 * - not too low ([ipamd] isDatastorePoolTooLow), unless it cannot grow: every pod ENI full and no
 *   room for another ([ipamd] increaseDatastorePool → tryAssignCidrs finds nothing,
 *   hasRoomForEni is false);
 * - not too high ([ipamd] isDatastorePoolTooHigh), taking the spread with the fewest free
 *   prefixes (one pod per prefix first);
 * - under WARM_ENI_TARGET, no ENI to detach: [ipamd] shouldRemoveExtraENIs fires when
 *   `available >= (warmENITarget + 1) * maxIPsPerENI`, and [datastore] getDeletableENI then frees
 *   any non-primary ENI without pods, so each non-primary ENI must carry a pod. (Under IP or prefix
 *   targets getDeletableENI keeps ENIs "required" for the targets; the model does not constrain
 *   the ENI count there.)
 */
function restsAt(
  r: Resolved,
  observed: { enis: number; entries: number },
  pods: number,
): boolean {
  const total = observed.entries * r.unit;
  const stats: PoolStats = {
    total,
    assigned: pods,
    freePrefixes: r.prefixes ? Math.max(0, observed.entries - pods) : 0,
  };
  const podEnis = Math.max(0, observed.enis - (r.customNetworking ? 1 : 0));
  const canGrow = observed.entries < podEnis * r.perEni || (observed.enis < r.maxEnis && r.perEni > 0);
  if (poolTooLow(r, stats) && canGrow) return false;
  if (poolTooHigh(r, stats)) return false;
  if (!r.prefixes && !r.ipTargets) {
    const available = total - pods;
    const removable = available >= (r.warmEni + 1) * r.perEni;
    if (removable && pods < observed.enis - 1) return false;
  }
  return true;
}

/**
 * From what a node is observed to hold (ENIs, secondary IPs, prefixes), the range of warm
 * addresses consistent with the config: min..max, and the pods range.
 *
 * The range is every pod count for which the holding is a state ipamd would rest in (see
 * {@link restsAt}); it is wider than the inverse of {@link holdingFor} because ipamd does not give
 * back what pods pin: under WARM_ENI_TARGET an ENI with one pod stays, and under
 * WARM_PREFIX_TARGET a prefix with one pod is not free. The warm range is slots − pods.
 *
 * Entries of the kind the mode does not use (secondary IPs in prefix mode, prefixes in
 * secondary-IP mode, left from before a switch) are outside ipamd's pool decisions ([datastore]
 * GetIPStats counts only the mode's kind); they widen both ranges by their addresses, used or not.
 *
 * `observed.enis` counts every ENI on the default card; the config's trunk and unmanaged ENIs are
 * taken out of it (their addresses are not in `secondaryIps` / `prefixes`). A holding ipamd could
 * not have made under the config, with more ENIs of its own than `Resolved.maxEnis` or more entries
 * than they carry (27 secondary IPs on an m5.large with a trunk ENI), is not consistent.
 *
 * When no pod count fits (`consistent: false`) the ranges are 0..slots.
 */
export function estimateWarm(
  cap: NetworkCapacity,
  observed: { enis: number; secondaryIps: number; prefixes: number },
  config: IpamdConfig,
): WarmEstimate {
  requireCount('observed.enis', observed.enis);
  requireCount('observed.secondaryIps', observed.secondaryIps);
  requireCount('observed.prefixes', observed.prefixes);
  const r = resolve(cap, config);
  const entries = r.prefixes ? observed.prefixes : observed.secondaryIps;
  const poolSlots = entries * r.unit;
  const otherSlots = r.prefixes ? observed.secondaryIps : observed.prefixes * IPV4_ADDRESSES_PER_PREFIX;
  const ipamdEnis = observed.enis - r.trunkEnis - r.unmanagedEnis;
  const possible = ipamdEnis >= 1 && ipamdEnis <= Math.max(1, r.maxEnis) && entries <= ipamdEnis * r.perEni;
  let podsMin = Number.POSITIVE_INFINITY;
  let podsMax = Number.NEGATIVE_INFINITY;
  for (let pods = 0; possible && pods <= poolSlots; pods++) {
    if (restsAt(r, { enis: ipamdEnis, entries }, pods)) {
      podsMin = Math.min(podsMin, pods);
      podsMax = pods;
    }
  }
  const consistent = podsMax >= podsMin;
  if (!consistent) {
    podsMin = 0;
    podsMax = poolSlots;
  }
  return {
    warmMin: poolSlots - podsMax,
    warmMax: poolSlots - podsMin + otherSlots,
    podsMin,
    podsMax: podsMax + otherSlots,
    consistent,
  };
}

/**
 * The VPC CNI's defaults (amazon-vpc-cni-k8s README: WARM_ENI_TARGET=1, WARM_PREFIX_TARGET=1), assumed
 * when the settings cannot be read (self-managed aws-node: its env is not visible to the AWS API).
 */
export const CNI_DEFAULT_IPAMD_CONFIG: IpamdConfig = { prefixDelegation: false, customNetworking: false, warmEniTarget: 1, warmPrefixTarget: 1 };

/**
 * Converts CniSettings (lib/measure/cni-settings.ts) to IpamdConfig, applying CNI defaults;
 * undefined when settings are unknown (self-managed).
 *
 * Defaults: WARM_ENI_TARGET 1 ([ipamd] defaultWarmENITarget), WARM_IP_TARGET and
 * MINIMUM_IP_TARGET 0 = unset ([ipamd] noWarmIPTarget, noMinimumIPTarget), WARM_PREFIX_TARGET 1
 * ([chart]), prefix delegation and custom networking off. A value listed in `settings.invalid` is
 * already absent here and takes its default, as ipamd does with a value it cannot parse
 * ([ipamd] getWarmENITarget / getWarmIPTarget return the default on a parse error).
 */
export function ipamdConfigOf(settings: CniSettings): IpamdConfig | undefined {
  if (settings.source === 'unknown') return undefined;
  return {
    prefixDelegation: settings.prefixDelegation ?? false,
    customNetworking: settings.customNetworking ?? false,
    warmEniTarget: settings.warmEniTarget ?? DEFAULT_WARM_ENI_TARGET,
    warmIpTarget: settings.warmIpTarget ?? 0,
    minimumIpTarget: settings.minimumIpTarget ?? 0,
    warmPrefixTarget: settings.warmPrefixTarget ?? DEFAULT_WARM_PREFIX_TARGET,
    // MAX_ENI when set (≥ 1): [ipamd] getMaxENI.
    ...(settings.maxEni !== undefined ? { maxEni: settings.maxEni } : {}),
  };
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
