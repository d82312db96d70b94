/**
 * Measure the region-level limits: the region's ENIs against the ENIs-per-Region
 * quota, and each cluster VPC's Network Address Usage (NAU) counted from its ENIs, next to the NAU
 * metrics where the VPC reports them. Pure. Design: docs/models.md, "Region-level limits".
 */
import { NAU_QUOTA } from '../inventory/region-limits';
import type { Inventory, QuotaReading, RegionEni } from '../inventory/types';

/**
 * ENI types whose resource counts 6 NAU units, not one per address. The NAU table of the Amazon
 * VPC user guide ("How NAU is calculated", https://docs.aws.amazon.com/vpc/latest/userguide/network-address-usage.html):
 * Network Load Balancer per AZ 6, Gateway Load Balancer per AZ 6, VPC endpoint per AZ 6, transit
 * gateway attachment 6, Lambda function 6, NAT gateway 6, EFS mount target 6. Each of these has
 * one ENI per AZ, told by EC2's InterfaceType (EC2 API reference, NetworkInterface.InterfaceType);
 * an EFS mount target's ENI is of type `interface` and is counted by its address (1, not 6), and
 * Lambda's ENIs are shared by functions of one subnet and security groups: so the count is an
 * estimate, and the metric (when the VPC reports it) wins.
 */
export const NAU_SIX_UNIT_INTERFACE_TYPES: readonly string[] = [
  'network_load_balancer',
  'gateway_load_balancer',
  'vpc_endpoint',
  'gateway_load_balancer_endpoint',
  'transit_gateway',
  'lambda',
  'natGateway',
  // EC2 answers `nat_gateway` although the SDK's enum spells it `natGateway` (lib/measure/eni.ts).
  'nat_gateway',
];
export const NAU_UNITS_PER_MANAGED_RESOURCE = 6;

/** How the NAU count of a VPC is made up. */
export interface NauBreakdown {
  /** Private and public IPv4 and IPv6 addresses on ENIs (1 each). */
  addresses: number;
  /** IPv4 and IPv6 prefixes on ENIs (1 each). */
  prefixes: number;
  /** ENIs attached to an instance beyond its primary (device index or network card index above 0; 1 each). */
  additionalEnis: number;
  /** ENIs of the 6-unit resources ({@link NAU_SIX_UNIT_INTERFACE_TYPES}), 6 each. */
  managedResources: number;
}

/** The NAU units of one ENI, by the rules of {@link NAU_SIX_UNIT_INTERFACE_TYPES} and the NAU table. */
export function nauOfEni(eni: RegionEni): NauBreakdown {
  if (eni.InterfaceType !== undefined && NAU_SIX_UNIT_INTERFACE_TYPES.includes(eni.InterfaceType)) {
    return { addresses: 0, prefixes: 0, additionalEnis: 0, managedResources: NAU_UNITS_PER_MANAGED_RESOURCE };
  }
  const additional = (eni.instanceDeviceIndex ?? 0) > 0 || (eni.instanceNetworkCardIndex ?? 0) > 0 ? 1 : 0;
  return {
    addresses: eni.privateIpv4 + eni.publicIpv4 + eni.ipv6,
    prefixes: eni.ipv4Prefixes + eni.ipv6Prefixes,
    additionalEnis: additional,
    managedResources: 0,
  };
}

export const nauTotal = (b: NauBreakdown): number => b.addresses + b.prefixes + b.additionalEnis + b.managedResources;

/** One VPC's Network Address Usage. */
export interface VpcAddressUsage {
  vpcId: string;
  /** The clusters in it. */
  clusters: string[];
  /** NAU counted from the VPC's ENIs; undefined when its ENIs were not read. */
  counted?: number;
  breakdown?: NauBreakdown;
  enis?: number;
  /** The NetworkAddressUsage / NetworkAddressUsagePeered metrics, where reported, and when. */
  metric?: number;
  metricPeered?: number;
  metricAt?: string;
  /** The figure judged against the quota: the larger of the count and the metric (the count misses other accounts' ENIs of a shared VPC, the metric is up to a day old). */
  used?: number;
  /** Where `used` comes from. */
  usedFrom?: 'count' | 'metric';
  quota: number;
  peeredQuota: number;
}

/** The region's ENIs against the quota, and the clusters' VPCs' NAU. */
export interface RegionLimitsUsage {
  eniQuota?: QuotaReading;
  /** ENIs in the region; undefined when the region-wide read failed or covered only the clusters' VPCs. */
  eniCount?: number;
  vpcs: VpcAddressUsage[];
  /** The region-level reads that failed, in words. */
  problems: string[];
}

/** Measures the inventory's region-level section; undefined when it has none. */
export function measureRegionLimits(inv: Inventory): RegionLimitsUsage | undefined {
  const rl = inv.regionLimits;
  if (!rl) return undefined;
  return measureRegionLimitsOf(
    rl,
    inv.clusters.map((c) => ({ name: c.name, vpcId: c.cluster.resourcesVpcConfig?.vpcId })),
  );
}

/** The region-level section from its reads and each cluster's VPC (the fan-out's dispatch has no inventory, only these). */
export function measureRegionLimitsOf(rl: NonNullable<Inventory['regionLimits']>, clusters: readonly { name: string; vpcId?: string | undefined }[]): RegionLimitsUsage {
  const clustersOf = new Map<string, string[]>();
  for (const c of clusters) {
    const vpc = c.vpcId;
    if (vpc) clustersOf.set(vpc, [...(clustersOf.get(vpc) ?? []), c.name].sort());
  }
  const byVpc = new Map<string, { b: NauBreakdown; enis: number }>();
  for (const eni of rl.networkInterfaces ?? []) {
    if (!eni.VpcId) continue;
    const acc = byVpc.get(eni.VpcId) ?? { b: { addresses: 0, prefixes: 0, additionalEnis: 0, managedResources: 0 }, enis: 0 };
    const n = nauOfEni(eni);
    acc.b.addresses += n.addresses;
    acc.b.prefixes += n.prefixes;
    acc.b.additionalEnis += n.additionalEnis;
    acc.b.managedResources += n.managedResources;
    acc.enis++;
    byVpc.set(eni.VpcId, acc);
  }
  const vpcs: VpcAddressUsage[] = rl.vpcIds.map((vpcId) => {
    const tally = rl.networkInterfaces ? (byVpc.get(vpcId) ?? { b: { addresses: 0, prefixes: 0, additionalEnis: 0, managedResources: 0 }, enis: 0 }) : undefined;
    const m = rl.nauMetrics[vpcId];
    const counted = tally ? nauTotal(tally.b) : undefined;
    const metric = m?.networkAddressUsage;
    const used = counted === undefined ? metric : metric === undefined ? counted : Math.max(counted, metric);
    const usedFrom = used === undefined ? undefined : metric !== undefined && used === metric && (counted === undefined || metric > counted) ? 'metric' : 'count';
    return {
      vpcId,
      clusters: clustersOf.get(vpcId) ?? [],
      ...(tally ? { counted, breakdown: tally.b, enis: tally.enis } : {}),
      ...(metric !== undefined ? { metric } : {}),
      ...(m?.networkAddressUsagePeered !== undefined ? { metricPeered: m.networkAddressUsagePeered } : {}),
      ...(m?.timestamp ? { metricAt: m.timestamp } : {}),
      ...(used !== undefined ? { used, usedFrom } : {}),
      quota: NAU_QUOTA.perVpc,
      peeredQuota: NAU_QUOTA.peered,
    } as VpcAddressUsage;
  });
  return {
    ...(rl.eniQuota ? { eniQuota: rl.eniQuota } : {}),
    ...(rl.networkInterfaces && rl.eniScope === 'region' ? { eniCount: rl.networkInterfaces.length } : {}),
    vpcs,
    problems: rl.problems.map((p) => `${p.source}: ${p.message}`),
  };
}
