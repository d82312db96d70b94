/**
 * The `cni-subnets` planner: open more subnets to the VPC CNI by tagging allow-listed spare
 * subnets `kubernetes.io/role/cni=1`. Pure: no AWS client, no env, no clock.
 * Design (what the CNI does with the tag, spare subnet data): docs/remediation.md#libplancni-subnetsts-opening-spare-subnets-to-the-cni
 */
import { list, n, plural } from '../diagnose/context';
import type { Finding } from '../diagnose/types';
import type { Subnet } from '../inventory/types';
import { parseCniVersion } from '../measure/cni-discovery';
import { CNI_CLUSTER_TAG_PREFIX, CNI_ROLE_TAG_EXCLUDED, CNI_ROLE_TAG_KEY, CNI_ROLE_TAG_VALUE } from '../names';
import type { EffectivePolicy } from '../policy/types';
import type { ActionPlanner, PlanContext, ProposedAction } from './types';

/** The subnet tag the VPC CNI's enhanced subnet discovery reads (its values: lib/names.ts). */
export { CNI_ROLE_TAG_KEY };
/** A subnet with a tag of this prefix is used only by the cluster named after it (cni-subnet-selection, "Cluster-scoped subnet filtering"; lib/names.ts). */
export { CNI_CLUSTER_TAG_PREFIX, parseCniVersion };
/** Enhanced subnet discovery: VPC CNI 1.18.0 or later (cni-subnet-selection, "Considerations"). */
export const SUBNET_DISCOVERY_MIN_VERSION: readonly [number, number, number] = [1, 18, 0];
/**
 * A spare subnet is worth tagging with at least this many times the warning threshold free
 * (`subnetFreeIpsWarning`, 64 by default, so 128). Whatever the scarce subnet's shortfall
 * (less than the warning count by definition), the spare subnet can take it and still be above
 * the warning itself: the action cannot just move the finding to the subnet it tagged.
 */
export const SPARE_FREE_FACTOR = 2;

const POLICY_PATH = 'policy actions.cniSubnets.spareSubnets';

/** The allow-listed spare subnet ids of a policy, without duplicates, in the policy's order: what to DescribeSubnets for {@link planCniSubnetsWith}. */
export function spareSubnetIds(policy: EffectivePolicy): string[] {
  return [...new Set(policy.actions.cniSubnets.spareSubnets)];
}

/** Free addresses a spare subnet needs to be proposed; see {@link SPARE_FREE_FACTOR}. */
export function minSpareFree(policy: EffectivePolicy): number {
  return SPARE_FREE_FACTOR * policy.thresholds.subnetFreeIpsWarning;
}

/** The subject of a cni-subnets action: the VPC and AZ whose pods it gives room, `<vpc-id>/<az>`. */
export function cniSubnetsSubject(vpcId: string, availabilityZone: string): string {
  return `${vpcId}/${availabilityZone}`;
}

/** The VPC and AZ of a cni-subnets action, from its subject (or its id `<cluster>/cni-subnets/<subject>`). */
export function cniSubnetsScope(subjectOrId: string): { vpcId: string; availabilityZone: string } | undefined {
  const m = /(?:^|\/)(vpc-[0-9a-f]+)\/([a-z0-9-]+)$/.exec(subjectOrId);
  return m && m[1] && m[2] ? { vpcId: m[1], availabilityZone: m[2] } : undefined;
}

/** The value of a subnet's tag `key` ('' for a tag without a value); undefined when absent. */
export function tagValue(s: Subnet, key: string): string | undefined {
  const tag = s.Tags?.find((t) => t.Key === key);
  return tag ? (tag.Value ?? '') : undefined;
}

/** The value of the `kubernetes.io/role/cni` tag of a subnet; undefined when absent. */
export function cniRoleTag(s: Subnet): string | undefined {
  return tagValue(s, CNI_ROLE_TAG_KEY);
}

/** The clusters a subnet is reserved to by `cni.networking.k8s.aws/cluster/<name>` tags; empty = open to all. */
export function cniClusterTags(s: Subnet): string[] {
  return (s.Tags ?? [])
    .map((t) => t.Key ?? '')
    .filter((k) => k.startsWith(CNI_CLUSTER_TAG_PREFIX))
    .map((k) => k.slice(CNI_CLUSTER_TAG_PREFIX.length));
}

function atLeast(v: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    const a = v[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * Proposes tags from the inventory alone. An allow-listed subnet that is not tagged yet is not
 * in the inventory: when it could matter, the proposal is blocked with "spare subnet data not read".
 */
export const planCniSubnets: ActionPlanner = (ctx) => {
  const allowed = new Set(spareSubnetIds(ctx.policy));
  const known = ctx.inventory.subnets.filter((s) => allowed.has(s.SubnetId ?? ''));
  return plan(ctx, known, 'not-read');
};

/**
 * Proposes tags, given the allow-listed spare subnets as EC2 DescribeSubnets returned them (read
 * by id: {@link spareSubnetIds}). An allow-listed id missing from `spare` was not found by EC2.
 */
export function planCniSubnetsWith(ctx: PlanContext, spare: Subnet[]): ProposedAction[] {
  const allowed = new Set(spareSubnetIds(ctx.policy));
  const byId = new Map<string, Subnet>();
  // What the inventory has first, the fresh read over it.
  for (const s of [...ctx.inventory.subnets, ...spare]) {
    if (allowed.has(s.SubnetId ?? '')) byId.set(s.SubnetId ?? '', s);
  }
  return plan(ctx, [...byId.values()], 'not-found');
}

/** The scarce pod subnets of one VPC and AZ, and the findings that name them. */
interface Scope {
  vpcId: string;
  az: string;
  scarce: Set<string>;
  findings: Finding[];
}

/** Whether the planner has anything to place: a subnet-exhaustion finding of the cluster (else the spare subnets need not be read). */
export function needsSpareSubnets(ctx: PlanContext): boolean {
  return scopesOf(ctx).length > 0;
}

function scopesOf(ctx: PlanContext): Scope[] {
  const usageById = new Map(ctx.usage.subnets.map((s) => [s.subnetId, s]));
  const clusterVpc = ctx.usage.vpcId ?? ctx.inventory.cluster.resourcesVpcConfig?.vpcId ?? '';
  const scopes = new Map<string, Scope>();
  for (const f of ctx.findings) {
    if (f.kind !== 'subnet-exhaustion' || f.cluster !== ctx.usage.name) continue;
    let ids: string[];
    if (f.subject.type === 'subnet') ids = [f.subject.id];
    else if (f.subject.type === 'availability-zone') ids = String(f.evidence['subnetIds'] ?? '').split(',').filter((x) => x);
    else continue;
    const first = usageById.get(ids[0] ?? '');
    const az = f.subject.availabilityZone ?? first?.availabilityZone;
    if (!az) continue;
    const vpcId = first?.vpcId ?? clusterVpc;
    const key = cniSubnetsSubject(vpcId, az);
    const scope = scopes.get(key) ?? { vpcId, az, scarce: new Set<string>(), findings: [] };
    for (const id of ids) scope.scarce.add(id);
    scope.findings.push(f);
    scopes.set(key, scope);
  }
  return [...scopes.values()].sort((a, b) => a.az.localeCompare(b.az) || a.vpcId.localeCompare(b.vpcId));
}

/**
 * Why the CNI would not act on the tag at all, whatever subnet is tagged (EKS user guide,
 * "Configure subnet selection for Pod IP addresses",
 * https://docs.aws.amazon.com/eks/latest/userguide/cni-subnet-selection.html).
 */
function cniBlockers(ctx: PlanContext, az: string): string[] {
  const out: string[] = [];
  const cni = ctx.usage.cni;
  const version = cni.install === 'managed' ? parseCniVersion(cni.addonVersion) : undefined;
  if (!version) {
    out.push('cannot tell the VPC CNI version: check it is 1.18+ before tagging');
  } else if (!atLeast(version, SUBNET_DISCOVERY_MIN_VERSION)) {
    out.push(`vpc-cni ${cni.addonVersion ?? '?'} has no subnet discovery: upgrade the add-on to 1.18.0 or later first`);
  }
  if (cni.customNetworking) {
    out.push(
      `custom networking is on (AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true) and takes precedence over subnet discovery: a tag changes nothing; give the ENIConfig of ${az} a larger subnet instead`,
    );
  }
  if (ctx.inventory.cni.kind === 'managed') {
    const env = ctx.inventory.cni.configurationValues['env'];
    const v = env && typeof env === 'object' ? (env as Record<string, unknown>)['ENABLE_SUBNET_DISCOVERY'] : undefined;
    if (v === false || (typeof v === 'string' && v.trim().toLowerCase() === 'false')) {
      out.push('ENABLE_SUBNET_DISCOVERY=false on the vpc-cni add-on: the CNI ignores the tag');
    }
  }
  // ipamd discovers subnets only for IPv4 (awsutils.go createENI: `useSubnetDiscovery && !v6Enabled`).
  if (ctx.inventory.cluster.kubernetesNetworkConfig?.ipFamily === 'ipv6') {
    out.push('the cluster is IPv6: the VPC CNI discovers subnets for IPv4 only');
  }
  if (ctx.policy.actions.cniSubnets.maxSubnetsPerAction < 1) {
    out.push('policy actions.cniSubnets.maxSubnetsPerAction is 0: no subnet may be tagged');
  }
  return out;
}

/** A tagged subnet the CNI would use for this cluster: `kubernetes.io/role/cni=1`, not reserved to other clusters. */
function openToCluster(s: Subnet, cluster: string): boolean {
  const reserved = cniClusterTags(s);
  return reserved.length === 0 || reserved.includes(cluster);
}

function plan(ctx: PlanContext, spare: Subnet[], missingAre: 'not-read' | 'not-found'): ProposedAction[] {
  const policy = ctx.policy.actions.cniSubnets;
  if (!policy.allowed) return [];
  const cluster = ctx.usage.name;
  const min = minSpareFree(ctx.policy);
  const read = new Set(spare.map((s) => s.SubnetId ?? ''));
  const missing = spareSubnetIds(ctx.policy).filter((id) => !read.has(id));
  const free = (s: Subnet): number => s.AvailableIpAddressCount ?? 0;
  const out: ProposedAction[] = [];

  for (const scope of scopesOf(ctx)) {
    const here = (s: Subnet): boolean =>
      s.VpcId === scope.vpcId && s.AvailabilityZone === scope.az && !scope.scarce.has(s.SubnetId ?? '');

    // A roomy subnet the CNI already discovers here: another tag would not help. The scarcity is
    // elsewhere (nodes at their ENI limit, discovery off); the finding's fixes say so.
    const tagged = [...ctx.inventory.subnets, ...spare].filter(
      (s) => here(s) && cniRoleTag(s) === CNI_ROLE_TAG_VALUE && openToCluster(s, cluster) && free(s) >= min,
    );
    if (tagged.length > 0) {
      // Nothing to open; steering may still move this cluster off a shared subnet that runs short.
      const steer = planExclusions(ctx, scope, [], min);
      if (steer.exclude.length > 0) out.push(exclusionOnly(ctx, scope, steer, cniBlockers(ctx, scope.az)));
      continue;
    }

    const rejected: string[] = [];
    const candidates: Subnet[] = [];
    for (const s of spare.filter(here).sort((a, b) => (a.SubnetId ?? '').localeCompare(b.SubnetId ?? ''))) {
      const id = s.SubnetId ?? '';
      const reserved = cniClusterTags(s);
      if (cniRoleTag(s) === CNI_ROLE_TAG_EXCLUDED) {
        rejected.push(`${id} is tagged ${CNI_ROLE_TAG_KEY}=0 (excluded on purpose)`);
      } else if (!openToCluster(s, cluster)) {
        rejected.push(`${id} is reserved to ${list(reserved)} (${CNI_CLUSTER_TAG_PREFIX}<name>)`);
      } else if (s.State !== undefined && s.State !== 'available') {
        rejected.push(`${id} is ${s.State}`);
      } else if (free(s) < min) {
        rejected.push(`${id} has ${n(free(s))} free (at least ${n(min)} needed)`);
      } else if (cniRoleTag(s) === CNI_ROLE_TAG_VALUE) {
        continue; // tagged and roomy: handled above
      } else {
        candidates.push(s);
      }
    }
    // A new ENI goes to the candidate with the most free addresses (ipamd sorts the
    // VPC/AZ's subnets by AvailableIpAddressCount, amazon-vpc-cni-k8s pkg/awsutils/awsutils.go
    // `getVpcSubnets`; README `ENABLE_SUBNET_DISCOVERY`).
    candidates.sort((a, b) => free(b) - free(a) || (a.SubnetId ?? '').localeCompare(b.SubnetId ?? ''));
    const chosen = candidates.slice(0, Math.max(0, policy.maxSubnetsPerAction));

    const steer = planExclusions(ctx, scope, chosen, min);
    const blockers: string[] = [];
    if (chosen.length === 0 && steer.exclude.length > 0) {
      out.push(exclusionOnly(ctx, scope, steer, cniBlockers(ctx, scope.az)));
      continue;
    }
    if (chosen.length === 0) {
      if (missingAre === 'not-read' && missing.length > 0) {
        blockers.push(
          `spare subnet data not read: ${list(missing)} (allow-listed in ${POLICY_PATH}) are not in the inventory until tagged; read them with DescribeSubnets`,
        );
      } else {
        const reasons = [...rejected];
        if (missing.length > 0) reasons.push(`DescribeSubnets does not find ${list(missing)}`);
        blockers.push(
          `no allow-listed spare subnet in ${scope.vpcId}/${scope.az} (${POLICY_PATH})${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}`,
        );
      }
    }
    blockers.push(...cniBlockers(ctx, scope.az));

    const ids = chosen.map((s) => s.SubnetId ?? '');
    const made = chosen.reduce((sum, s) => sum + free(s), 0);
    out.push({
      ...proposalFor(cluster, scope),
      change: {
        type: 'tag-subnets',
        subnetIds: ids,
        tag: { key: CNI_ROLE_TAG_KEY, value: CNI_ROLE_TAG_VALUE },
        ...(steer.exclude.length > 0 ? { exclude: steer.exclude } : {}),
      },
      predicted:
        chosen.length > 0
          ? { ipsFreed: made, text: [predictedText(ctx, scope.az, chosen, candidates.length - chosen.length), ...steerText(cluster, steer)].join(' ') }
          : {
              ipsFreed: 0,
              text: [
                `Nothing to tag in ${scope.az}: an allow-listed subnet there (VPC ${scope.vpcId}, at least ${n(min)} free) tagged ${CNI_ROLE_TAG_KEY}=${CNI_ROLE_TAG_VALUE} would give new pod ENIs room.`,
                ...steerText(cluster, steer),
              ].join(' '),
            },
      blockers,
    });
  }
  return out;
}

function predictedText(ctx: PlanContext, az: string, chosen: Subnet[], notChosen: number): string {
  const named = chosen.map((s) => `${s.SubnetId ?? ''} (${n(s.AvailableIpAddressCount ?? 0)} free)`);
  const total = chosen.reduce((sum, s) => sum + (s.AvailableIpAddressCount ?? 0), 0);
  const parts = [
    `Tagging ${list(named)} ${CNI_ROLE_TAG_KEY}=${CNI_ROLE_TAG_VALUE} makes ${plural(total, 'more address', 'more addresses')} available to pods in ${az}: the VPC CNI creates new pod ENIs in the tagged subnet with the most free addresses; existing ENIs and their pods stay where they are.`,
    `The new ENIs get the node's primary ENI security groups (vpc-cni 1.22.0 and 1.22.1 only used security groups tagged ${CNI_ROLE_TAG_KEY}=1 when there were any, reverted in 1.22.2), and the subnet's own route table and network ACL: check they carry the pods' traffic.`,
  ];
  const nodes = ctx.usage.nodes.filter((x) => x.availabilityZone === az);
  const atLimit = nodes.filter((x) => x.atEniLimit).length;
  if (atLimit > 0) {
    parts.push(
      `${n(atLimit)} of ${plural(nodes.length, 'node')} in ${az} ${atLimit === 1 ? 'has' : 'have'} every ENI slot used and cannot attach one there; new nodes and the others can.`,
    );
  }
  if (notChosen > 0) {
    parts.push(
      `${plural(notChosen, 'more allow-listed subnet')} there left untagged (policy actions.cniSubnets.maxSubnetsPerAction ${ctx.policy.actions.cniSubnets.maxSubnetsPerAction}).`,
    );
  }
  return parts.join(' ');
}

/** What steering would do in one VPC/AZ: the exclusions, and why each other excludable subnet is left alone. */
interface Steering {
  exclude: { subnetId: string; key: string; value: string }[];
  notes: string[];
}

/**
 * Steering: which scarce shared subnets of this AZ to stop the cluster's CNI from using, by removing
 * their `cni.networking.k8s.aws/cluster/<cluster>` tag. Only a subnet the policy lists in
 * `excludableSubnets`, that the CNI uses today as a secondary subnet (never a node subnet: it
 * takes a `0` to exclude that, which stops every cluster), and that stays reserved to at least one
 * other cluster once the tag is gone (a subnet without cluster tags is open to every cluster:
 * removing one would open it, not close it). The rules, aws/amazon-vpc-cni-k8s
 * pkg/awsutils/awsutils.go `isSubnetValidForENICreation` / `ValidSubnetTagsMatchingClusterName`
 * (1.22.1+, and only with CLUSTER_NAME set): lib/measure/cni-discovery.ts. The AZ must keep a
 * subnet with room (`min` free) that the CNI uses, the spare subnets tagged by the same action
 * counted: never the last usable subnet of an AZ. Existing ENIs in an excluded subnet are marked
 * excluded for pod IPs (pkg/ipamd/ipamd.go `excludedENIBasedOnSubnetTags`); they stay attached.
 */
export function planExclusions(ctx: PlanContext, scope: { az: string; scarce: Set<string> }, opened: Subnet[], min: number): Steering {
  const listed = new Set(ctx.policy.actions.cniSubnets.excludableSubnets ?? []);
  const candidates = [...scope.scarce].filter((id) => listed.has(id)).sort();
  const steer: Steering = { exclude: [], notes: [] };
  if (candidates.length === 0) return steer;
  const cluster = ctx.usage.name;
  const d = ctx.usage.cniDiscovery;
  const key = `${CNI_CLUSTER_TAG_PREFIX}${cluster}`;
  if (!d || d.mode !== 'discovery' || d.rules !== 'cluster-scoped') {
    steer.notes.push(
      `${list(candidates)} not excluded: this cluster's VPC CNI is not known to honour ${CNI_CLUSTER_TAG_PREFIX}<name> tags (managed vpc-cni 1.22.1+ with subnet discovery; ${d ? d.why : 'discovery not measured'})`,
    );
    return steer;
  }
  if (d.cniClusterName !== cluster) {
    steer.notes.push(
      `${list(candidates)} not excluded: aws-node's CLUSTER_NAME is ${d.cniClusterName === undefined ? 'not known' : `"${d.cniClusterName}"`}, not ${cluster}, and the CNI skips cluster tags without it: set CLUSTER_NAME in the add-on's configurationValues`,
    );
    return steer;
  }
  const bound = ctx.policy.actions.cniSubnets.maxSubnetsPerAction;
  for (const id of candidates) {
    const s = ctx.inventory.subnets.find((x) => x.SubnetId === id);
    const seen = d.subnets.find((x) => x.subnetId === id);
    if (!s || !seen) {
      steer.notes.push(`${id} not excluded: not read`);
    } else if (seen.primary) {
      steer.notes.push(`${id} not excluded: a node subnet of ${cluster} (only kubernetes.io/role/cni=0 excludes it, and for every cluster)`);
    } else if (seen.used !== true) {
      continue; // the CNI does not use it for this cluster already
    } else if (!seen.clusterTags.includes(cluster) || seen.clusterTags.length < 2) {
      steer.notes.push(
        seen.clusterTags.length === 0
          ? `${id} not excluded: open to every cluster (no ${CNI_CLUSTER_TAG_PREFIX}<name> tag); a tag for each cluster that keeps it, set by hand, would reserve it`
          : `${id} not excluded: reserved to ${cluster} alone; removing its tag would open it to every cluster`,
      );
    } else if (steer.exclude.length >= bound) {
      steer.notes.push(`${id} not excluded: policy actions.cniSubnets.maxSubnetsPerAction ${bound}`);
    } else {
      steer.exclude.push({ subnetId: id, key, value: tagValue(s, key) ?? '' });
    }
  }
  if (steer.exclude.length === 0) return steer;
  // Never the last usable subnet of the AZ: one with room must remain, the ones opened now counted.
  const gone = new Set(steer.exclude.map((e) => e.subnetId));
  const remaining = [
    ...d.subnets.filter((x) => x.availabilityZone === scope.az && x.used === true && !gone.has(x.subnetId)).map((x) => ({ id: x.subnetId, free: x.available })),
    ...opened.map((x) => ({ id: x.SubnetId ?? '', free: x.AvailableIpAddressCount ?? 0 })),
  ];
  if (!remaining.some((r) => r.free >= min)) {
    steer.notes.push(
      `${list([...gone])} not excluded: ${scope.az} would keep no subnet the CNI uses with at least ${n(min)} free (${remaining.length > 0 ? remaining.map((r) => `${r.id} ${n(r.free)}`).join(', ') : 'none'}); list a spare subnet there`,
    );
    return { exclude: [], notes: steer.notes };
  }
  return steer;
}

function steerText(cluster: string, steer: Steering): string[] {
  const out: string[] = [];
  if (steer.exclude.length > 0) {
    out.push(
      `Then ${list(steer.exclude.map((e) => e.subnetId))} stop${steer.exclude.length === 1 ? 's' : ''} serving ${cluster}: its ${CNI_CLUSTER_TAG_PREFIX}${cluster} tag is removed, the subnet stays reserved to the other clusters it names; ${cluster}'s existing ENIs there take no new pod IPs, new ones go elsewhere in the AZ.`,
    );
  }
  out.push(...steer.notes.map((x) => `${x}.`));
  return out;
}

/** What every cni-subnets proposal of a scope (a VPC and AZ) says of itself: its id, subject and why. */
function proposalFor(cluster: string, scope: Scope): Pick<ProposedAction, 'id' | 'cluster' | 'kind' | 'subject' | 'reason' | 'findingIds'> {
  const subject = cniSubnetsSubject(scope.vpcId, scope.az);
  return {
    id: `${cluster}/cni-subnets/${subject}`,
    cluster,
    kind: 'cni-subnets',
    subject,
    reason: `Pods in ${scope.az} are short of addresses: ${scope.findings.map((f) => f.title).join('; ')}.`,
    findingIds: scope.findings.map((f) => f.id),
  };
}

/** An action that only steers (nothing to open: a subnet with room is already used in the AZ). */
function exclusionOnly(ctx: PlanContext, scope: Scope, steer: Steering, blockers: string[]): ProposedAction {
  const cluster = ctx.usage.name;
  return {
    ...proposalFor(cluster, scope),
    change: { type: 'tag-subnets', subnetIds: [], tag: { key: CNI_ROLE_TAG_KEY, value: CNI_ROLE_TAG_VALUE }, exclude: steer.exclude },
    predicted: { ipsFreed: 0, text: steerText(cluster, steer).join(' ') },
    // The rest of cniBlockers (version, custom networking, discovery off) is what planExclusions checked.
    blockers: blockers.filter((b) => !b.startsWith('policy actions.cniSubnets.maxSubnetsPerAction')),
  };
}
