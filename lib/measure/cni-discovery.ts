/**
 * Which subnets a cluster's VPC CNI would create new pod ENIs in, per AZ, and why each subnet of
 * the VPC the inventory knows is in or out: the rules of ipamd's `createENI`, by CNI version.
 * Pure. Every rule cites aws/amazon-vpc-cni-k8s at the tag or commit it was read at ({@link CNI_SRC}).
 * Design: docs/remediation.md#libmeasurecni-discoveryts-which-subnets-the-cni-uses
 */
import type { ClusterInventory, Subnet } from '../inventory/types';
import { CNI_CLUSTER_TAG_PREFIX, CNI_ENI_CLUSTER_TAG_KEY, CNI_ROLE_TAG_EXCLUDED, CNI_ROLE_TAG_KEY } from '../names';
import { parseGoBool } from './cni-settings';

/** The source read: aws/amazon-vpc-cni-k8s master at this commit, and the release tags named on each rule. */
export const CNI_SRC = 'aws/amazon-vpc-cni-k8s@b52188387f2e2f10bf289ace929d6a63b176a4fa';

/**
 * The rule set a CNI version applies to subnets (aws/amazon-vpc-cni-k8s, pkg/awsutils/awsutils.go
 * `createENI` at each release tag):
 * - `none` (< 1.18.0): no discovery; every secondary ENI in the node's primary subnet.
 * - `key-only` (1.18.0 to 1.21.x; v1.18.0 `validTag`): the primary subnet always, and any subnet
 *   of the node's VPC and AZ that has the `kubernetes.io/role/cni` key, whatever its value (`0` too).
 * - `exclusion` (v1.22.0 tag; `isSubnetValidForENICreation`, clusterTagKeyPrefix
 *   `kubernetes.io/cluster/`): `0` excludes, the primary subnet is in without the tag.
 * - `cluster-scoped` (v1.22.1 and later, CHANGELOG v1.22.1; clusterTagKeyPrefix
 *   `cni.networking.k8s.aws/cluster/`): as `exclusion`, with the cluster tags under that prefix.
 */
export type DiscoveryRules = 'none' | 'key-only' | 'exclusion' | 'cluster-scoped';

/** Enhanced subnet discovery: 1.18.0 (README `ENABLE_SUBNET_DISCOVERY` (v1.18.0+)). */
export const SUBNET_DISCOVERY_VERSION: readonly [number, number, number] = [1, 18, 0];
/** `kubernetes.io/role/cni=0` excludes a subnet: first in the v1.22.0 tag (awsutils.go `isSubnetValidForENICreation` Rule 1). */
export const SUBNET_EXCLUSION_VERSION: readonly [number, number, number] = [1, 22, 0];
/** `cni.networking.k8s.aws/cluster/<name>` scopes a subnet: v1.22.1 (CHANGELOG v1.22.1; awsutils.go `clusterTagKeyPrefix`). */
export const CLUSTER_SCOPED_TAG_VERSION: readonly [number, number, number] = [1, 22, 1];
/** The cluster tag prefix of the v1.22.0 tag only (awsutils.go@v1.22.0 `clusterTagKeyPrefix`), replaced in v1.22.1. */
export const V1_22_0_CLUSTER_TAG_PREFIX = 'kubernetes.io/cluster/';

/** `[major, minor, patch]` of `v1.19.2-eksbuild.1`; undefined when it is not a version. */
export function parseCniVersion(version: string | undefined): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

/** Whether version `v` is at least `min`. */
export function versionAtLeast(v: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    const a = v[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/** The rule set of a CNI version ({@link DiscoveryRules}). */
export function discoveryRulesOf(version: readonly number[]): DiscoveryRules {
  if (versionAtLeast(version, CLUSTER_SCOPED_TAG_VERSION)) return 'cluster-scoped';
  if (versionAtLeast(version, SUBNET_EXCLUSION_VERSION)) return 'exclusion';
  if (versionAtLeast(version, SUBNET_DISCOVERY_VERSION)) return 'key-only';
  return 'none';
}

/** One subnet of the VPC as the CNI of one cluster sees it. */
export interface DiscoveredSubnet {
  subnetId: string;
  availabilityZone: string;
  /** A node's primary subnet (or a managed nodegroup's, where new nodes start). */
  primary: boolean;
  /** The CNI may create new pod ENIs here; undefined when that cannot be told (custom networking, unknown settings). */
  used: boolean | undefined;
  /** Why, in words, with the tag values. */
  reason: string;
  /** AvailableIpAddressCount. */
  available: number;
  /** The `kubernetes.io/role/cni` value; undefined when the tag is absent. */
  cniTag?: string;
  /** Clusters named by `cni.networking.k8s.aws/cluster/<name>` tags; empty = none. */
  clusterTags: string[];
}

export interface CniDiscovery {
  /**
   * - `discovery`: enhanced subnet discovery decides (1.18+, on, IPv4, no custom networking);
   * - `primary-only`: every new ENI goes to the node's primary subnet (discovery off or too old);
   * - `custom-networking`: ENIConfig decides (not visible to the AWS API);
   * - `unknown`: the settings or the version could not be read;
   * - `auto-mode`: EKS Auto Mode places pod addresses itself (no VPC CNI, its tags do not apply).
   */
  mode: 'discovery' | 'primary-only' | 'custom-networking' | 'unknown' | 'auto-mode';
  /** The rules applied; for `unknown` the newest rules are assumed for `subnets`. */
  rules: DiscoveryRules;
  /** The CNI version the rules come from (the managed add-on's), when known. */
  addonVersion?: string;
  /**
   * The CLUSTER_NAME ipamd runs with, as far as the inventory tells (the add-on's env, or the
   * `cluster.k8s.amazonaws.com/name` tag ipamd puts on the ENIs it creates only when it is set:
   * awsutils.go `buildENITags`); undefined when unknown. Cluster tags count only when it is set
   * (awsutils.go `ValidSubnetTagsMatchingClusterName`: "CLUSTER_NAME is not set, skipping").
   */
  cniClusterName?: string;
  /** The mode in words. */
  why: string;
  /** Every subnet of the VPC the inventory holds, by AZ then id. */
  subnets: DiscoveredSubnet[];
  /** Per AZ with nodes or nodegroup subnets: the subnets used, in the order ipamd tries them (most free first). */
  byAz: { availabilityZone: string; order: string[] }[];
}

/** The value of a subnet's tag (`''` for a tag without value); undefined when absent. */
function tagOf(s: Subnet, key: string): string | undefined {
  const t = s.Tags?.find((x) => x.Key === key);
  return t ? (t.Value ?? '') : undefined;
}

/** The clusters a subnet's tags under `prefix` name. */
export function clusterTagsOf(s: Subnet, prefix: string = CNI_CLUSTER_TAG_PREFIX): string[] {
  return (s.Tags ?? [])
    .map((t) => t.Key ?? '')
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length))
    .sort();
}

function envOf(inv: ClusterInventory): Record<string, unknown> {
  if (inv.cni.kind !== 'managed') return {};
  const env = inv.cni.configurationValues['env'];
  return env && typeof env === 'object' && !Array.isArray(env) ? (env as Record<string, unknown>) : {};
}

/**
 * ENABLE_SUBNET_DISCOVERY as ipamd reads it: `parseBoolEnvVar(envSubnetDiscovery, true)`
 * (pkg/ipamd/ipamd.go `UseSubnetDiscovery`): empty or unparsable → the default, true.
 */
export function subnetDiscoveryOn(env: Record<string, unknown>): boolean {
  const v = env['ENABLE_SUBNET_DISCOVERY'];
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string' || v === '') return true;
  return parseGoBool(v) ?? true;
}

/** The CLUSTER_NAME ipamd runs with, as far as the inventory tells ({@link CniDiscovery.cniClusterName}). */
export function cniClusterNameOf(inv: ClusterInventory): string | undefined {
  const env = envOf(inv)['CLUSTER_NAME'];
  if (typeof env === 'string' && env !== '') return env;
  const nodes = new Set(inv.instances.map((i) => i.InstanceId ?? ''));
  for (const eni of inv.networkInterfaces) {
    // ENIs ipamd created for a node of this cluster (description `aws-K8S-<instance>`: awsutils.go eniDescriptionPrefix).
    if (!(eni.Description ?? '').startsWith('aws-K8S-') || !nodes.has(eni.Attachment?.InstanceId ?? '')) continue;
    const tag = eni.TagSet?.find((t) => t.Key === CNI_ENI_CLUSTER_TAG_KEY)?.Value;
    if (tag) return tag;
  }
  return undefined;
}

/**
 * awsutils.go `isSubnetValidForENICreation` (v1.22.0+; at {@link CNI_SRC}):
 * Rule 1: `kubernetes.io/role/cni=0` always excludes, the primary subnet too;
 * Rule 2: without the tag (or with an empty value: `getTagValue` returns ""), the primary subnet
 * is in ("backwards compatibility"), any other out;
 * Rule 3: with a value, a subnet with cluster tags is used only by the clusters they name, and
 * only when CLUSTER_NAME is set (`ValidSubnetTagsMatchingClusterName`). A primary subnet without
 * the cni tag is in whatever cluster tags it has: Rule 3 is not reached.
 */
function judge(
  s: Subnet,
  primary: boolean,
  rules: DiscoveryRules,
  cluster: string,
  cniClusterName: string | undefined,
): { used: boolean; reason: string } {
  const cni = tagOf(s, CNI_ROLE_TAG_KEY);
  const shown = cni === undefined ? 'no kubernetes.io/role/cni tag' : `kubernetes.io/role/cni=${cni === '' ? '""' : cni}`;
  if (rules === 'none') {
    return primary ? { used: true, reason: 'the node subnet (this CNI version has no subnet discovery)' } : { used: false, reason: 'not the node subnet (no subnet discovery before 1.18)' };
  }
  if (rules === 'key-only') {
    // v1.18.0 awsutils.go createENI: the primary subnet unconditionally; others by `validTag` (the key alone).
    if (primary) {
      return cni === CNI_ROLE_TAG_EXCLUDED
        ? { used: true, reason: 'the node subnet: kubernetes.io/role/cni=0 excludes nothing before 1.22 (1.22+ would exclude it)' }
        : { used: true, reason: 'the node subnet (always used before 1.22, whatever its tags)' };
    }
    return cni === undefined
      ? { used: false, reason: 'no kubernetes.io/role/cni tag' }
      : { used: true, reason: `${shown}: before 1.22 the key alone opts a subnet in, whatever its value` };
  }
  if (cni === CNI_ROLE_TAG_EXCLUDED) return { used: false, reason: `${shown}: excluded${primary ? ', the node subnet too' : ''}` };
  if (cni === undefined || cni === '') {
    return primary ? { used: true, reason: `the node subnet, ${shown} (in by default)` } : { used: false, reason: `${shown}: a subnet other than the node's must opt in` };
  }
  const prefix = rules === 'exclusion' ? V1_22_0_CLUSTER_TAG_PREFIX : CNI_CLUSTER_TAG_PREFIX;
  const named = clusterTagsOf(s, prefix);
  if (named.length === 0) return { used: true, reason: `${shown}, open to every cluster (no ${prefix}<name> tag)` };
  if (cniClusterName === undefined) {
    return { used: true, reason: `${shown}, reserved to ${named.join(', ')}: used unless aws-node has CLUSTER_NAME set (not known here)` };
  }
  return named.includes(cniClusterName)
    ? { used: true, reason: `${shown}, reserved to ${named.join(', ')} (this cluster among them)` }
    : { used: false, reason: `${shown}, reserved to ${named.join(', ')}: not ${cluster}` };
}

/**
 * With discovery off (or its DescribeSubnets failing), ipamd still refuses an excluded primary
 * subnet (awsutils.go `IsSubnetExcluded`, v1.22.0+: `0`; from v1.22.1 also `cni` set with cluster
 * tags not naming this cluster).
 */
function judgePrimaryOnly(s: Subnet, rules: DiscoveryRules, cluster: string, cniClusterName: string | undefined): { used: boolean; reason: string } {
  const cni = tagOf(s, CNI_ROLE_TAG_KEY);
  if (rules === 'none' || rules === 'key-only') return { used: true, reason: 'the node subnet' };
  if (cni === CNI_ROLE_TAG_EXCLUDED) return { used: false, reason: 'the node subnet, tagged kubernetes.io/role/cni=0: ipamd creates no ENI at all' };
  if (rules === 'cluster-scoped' && cni !== undefined && cni !== '' && cniClusterName) {
    const named = clusterTagsOf(s);
    if (named.length > 0 && !named.includes(cniClusterName)) {
      return { used: false, reason: `the node subnet, reserved to ${named.join(', ')}: not ${cluster}` };
    }
  }
  return { used: true, reason: 'the node subnet' };
}

/**
 * Which subnets the cluster's VPC CNI would use for new pod ENIs (awsutils.go `createENI`):
 * custom networking wins over discovery (`if cache.useCustomNetworking` comes first; EKS user
 * guide cni-subnet-selection: "Custom networking takes precedence"); IPv6 clusters do not
 * discover (ipamd.go: subnet discovery places IPv4 ENIs; awsutils.go `createENIInput` for v6);
 * discovery reads the VPC/AZ's subnets and tries them most free first (awsutils.go
 * `GetVpcSubnets`: `sort.SliceStable` by AvailableIpAddressCount, descending), moving to the next
 * when CreateNetworkInterface fails.
 */
export function discoverCniSubnets(inv: ClusterInventory): CniDiscovery {
  const env = envOf(inv);
  const addonVersion = inv.cni.kind === 'managed' ? inv.cni.addon.addonVersion : undefined;
  const version = parseCniVersion(addonVersion);
  const cniClusterName = cniClusterNameOf(inv);
  const vpcId = inv.cluster.resourcesVpcConfig?.vpcId;
  const primaryIds = new Set<string>();
  for (const i of inv.instances) if (i.SubnetId) primaryIds.add(i.SubnetId);
  for (const ng of inv.nodegroups) for (const id of ng.subnets ?? []) primaryIds.add(id);
  const inVpc = inv.subnets.filter((s) => s.SubnetId && (!vpcId || s.VpcId === vpcId));
  const nodeAzs = new Set(inVpc.filter((s) => primaryIds.has(s.SubnetId ?? '')).map((s) => s.AvailabilityZone ?? ''));

  const customRaw = env['AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG'];
  const custom = customRaw === true || (typeof customRaw === 'string' && parseGoBool(customRaw) === true);
  const ipv6 = inv.cluster.kubernetesNetworkConfig?.ipFamily === 'ipv6';
  let mode: CniDiscovery['mode'];
  let rules: DiscoveryRules = version ? discoveryRulesOf(version) : 'cluster-scoped';
  let why: string;
  if (inv.cluster.computeConfig?.enabled === true) {
    // EKS Auto Mode: pods take addresses in the node's subnet, or in the subnets of the NodeClass's
    // podSubnetSelectorTerms (EKS user guide, auto-networking.html; not visible to the AWS API).
    mode = 'auto-mode';
    why = 'EKS Auto Mode: EKS places pod addresses in the node subnet, or in the NodeClass\'s podSubnetSelectorTerms subnets (the VPC CNI\'s discovery tags do not apply)';
  } else if (inv.cni.kind !== 'managed') {
    mode = 'unknown';
    why =
      inv.cni.kind === 'self-managed'
        ? 'self-managed aws-node: its version and env are not visible to the AWS API; shown under the rules of 1.22.1 and later'
        : 'the vpc-cni add-on could not be read; shown under the rules of 1.22.1 and later';
  } else if (!version) {
    mode = 'unknown';
    why = `add-on version ${addonVersion ?? '(none)'} is not a version; shown under the rules of 1.22.1 and later`;
  } else if (custom) {
    mode = 'custom-networking';
    why = 'custom networking (AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true) takes precedence: the ENIConfig of each AZ names the subnet';
  } else if (ipv6) {
    mode = 'primary-only';
    why = 'an IPv6 cluster: pods take IPv6 addresses; new ENIs go to the node subnet';
  } else if (rules === 'none') {
    mode = 'primary-only';
    why = `vpc-cni ${addonVersion ?? ''} has no subnet discovery (1.18.0+)`;
  } else if (!subnetDiscoveryOn(env)) {
    mode = 'primary-only';
    why = 'ENABLE_SUBNET_DISCOVERY=false: new ENIs go to the node subnet';
  } else {
    mode = 'discovery';
    why = `enhanced subnet discovery (vpc-cni ${addonVersion ?? ''}, ${rules === 'key-only' ? 'the tag key alone opts a subnet in' : rules === 'exclusion' ? '`0` excludes; cluster tags kubernetes.io/cluster/<name>' : '`0` excludes; cluster tags cni.networking.k8s.aws/cluster/<name>'})`;
  }
  if (mode === 'unknown') rules = 'cluster-scoped';

  const subnets: DiscoveredSubnet[] = inVpc
    .map((s) => {
      const id = s.SubnetId ?? '';
      const primary = primaryIds.has(id);
      let verdict: { used: boolean | undefined; reason: string };
      if (mode === 'auto-mode') {
        verdict = primary
          ? { used: true, reason: 'a node subnet (Auto Mode uses it unless the NodeClass sets podSubnetSelectorTerms)' }
          : { used: undefined, reason: 'decided by the NodeClass (podSubnetSelectorTerms), not by tags' };
      } else if (mode === 'custom-networking') {
        verdict = { used: undefined, reason: 'decided by the ENIConfig of its AZ (custom networking), not by tags' };
      } else if (mode === 'primary-only') {
        verdict = primary ? judgePrimaryOnly(s, rules, inv.name, cniClusterName) : { used: false, reason: 'not a node subnet (discovery does not apply)' };
      } else {
        const j = judge(s, primary, rules, inv.name, cniClusterName);
        verdict = mode === 'unknown' ? { used: undefined, reason: `${j.reason} (if the CNI is 1.22.1+ with discovery on)` } : j;
      }
      const cniTag = tagOf(s, CNI_ROLE_TAG_KEY);
      return {
        subnetId: id,
        availabilityZone: s.AvailabilityZone ?? '',
        primary,
        used: verdict.used,
        reason: verdict.reason,
        available: s.AvailableIpAddressCount ?? 0,
        ...(cniTag !== undefined ? { cniTag } : {}),
        clusterTags: clusterTagsOf(s),
      };
    })
    .sort((a, b) => a.availabilityZone.localeCompare(b.availabilityZone) || a.subnetId.localeCompare(b.subnetId));

  const byAz = [...nodeAzs].sort().map((az) => ({
    availabilityZone: az,
    order: subnets
      .filter((s) => s.availabilityZone === az && s.used === true)
      // Most free first, as GetVpcSubnets sorts (stable: ties keep EC2's order; here, by id).
      .sort((a, b) => b.available - a.available || a.subnetId.localeCompare(b.subnetId))
      .map((s) => s.subnetId),
  }));
  return { mode, rules, ...(addonVersion ? { addonVersion } : {}), ...(cniClusterName !== undefined ? { cniClusterName } : {}), why, subnets, byAz };
}
