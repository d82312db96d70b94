/**
 * Loads a snapshot directory (the AWS CLI's JSON) as a SyntheticAccount, so that the AWS
 * emulator can answer with it: the demo snapshot becomes a live account for end-to-end tests.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { SyntheticAccount } from '../../tools/synthetic-account';
import { ENI_QUOTA } from '../../lib/inventory/region-limits';
import { regionLimitsPaths } from '../../lib/inventory/snapshot-region-limits';

const read = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

/**
 * @param only keep these clusters and what is in their VPCs (each demo cluster has a VPC of its own):
 *   tests written for the demo's first clusters stay about them when the demo grows.
 * @param options.regionLimits read the region-level files (issue 13) into the account (see withRegionLimits).
 */
export function accountFromSnapshot(dir: string, only?: readonly string[], options: { regionLimits?: boolean } = {}): SyntheticAccount {
  const meta = read(path.join(dir, 'meta.json')) as { region: string; capturedAt: string };
  const listed = (read(path.join(dir, 'eks', 'list-clusters.json')).clusters as string[]) ?? [];
  const names = only === undefined ? listed : listed.filter((n) => only.includes(n));
  const account: SyntheticAccount = {
    region: meta.region,
    accountId: '111122223333',
    capturedAt: meta.capturedAt,
    clusters: [],
    nodegroups: {},
    addons: {},
    subnets: read(path.join(dir, 'ec2', 'describe-subnets.json')).Subnets as SyntheticAccount['subnets'],
    networkInterfaces: read(path.join(dir, 'ec2', 'describe-network-interfaces.json')).NetworkInterfaces as SyntheticAccount['networkInterfaces'],
    instances: (read(path.join(dir, 'ec2', 'describe-instances.json')).Reservations as { Instances: SyntheticAccount['instances'] }[]).flatMap(
      (r) => r.Instances,
    ),
    instanceTypes: read(path.join(dir, 'ec2', 'describe-instance-types.json')).InstanceTypes as SyntheticAccount['instanceTypes'],
    // Optional in a snapshot (lib/inventory/snapshot-schemas.ts): none when absent.
    subnetCidrReservations: existsSync(path.join(dir, 'ec2', 'get-subnet-cidr-reservations.json'))
      ? (read(path.join(dir, 'ec2', 'get-subnet-cidr-reservations.json')).SubnetIpv4CidrReservations as SyntheticAccount['subnetCidrReservations'])
      : [],
  };
  for (const name of names) {
    const base = path.join(dir, 'eks', 'clusters', name);
    account.clusters.push(read(path.join(base, 'describe-cluster.json')).cluster as SyntheticAccount['clusters'][number]);
    const ngDir = path.join(base, 'nodegroups');
    account.nodegroups[name] = existsSync(ngDir)
      ? readdirSync(ngDir)
          .filter((f) => f.endsWith('.json'))
          .sort()
          .map((f) => read(path.join(ngDir, f)).nodegroup as SyntheticAccount['nodegroups'][string][number])
      : [];
    const addonFile = path.join(base, 'addon-vpc-cni.json');
    account.addons[name] = existsSync(addonFile) ? (read(addonFile).addon as SyntheticAccount['addons'][string]) : undefined;
  }
  if (only !== undefined) {
    const vpcs = new Set(account.clusters.map((c) => c.resourcesVpcConfig?.vpcId));
    account.subnets = account.subnets.filter((s) => vpcs.has(s.VpcId));
    account.networkInterfaces = account.networkInterfaces.filter((e) => vpcs.has(e.VpcId));
    account.instances = account.instances.filter((i) => vpcs.has(i.VpcId));
  }
  account.networks = networksOf(dir, account);
  if (options.regionLimits) withRegionLimits(dir, account);
  return account;
}

/** The VPC networks of the snapshot's network files (the network preflight), one per cluster VPC. */
function networksOf(dir: string, account: SyntheticAccount): NonNullable<SyntheticAccount['networks']> {
  type N = NonNullable<SyntheticAccount['networks']>[number];
  const optional = (...parts: string[]): Record<string, unknown> | undefined => {
    const file = path.join(dir, ...parts);
    return existsSync(file) ? read(file) : undefined;
  };
  const vpcs = (optional('ec2', 'describe-vpcs.json')?.Vpcs ?? []) as NonNullable<N['vpc']>[];
  const dhcp = (optional('ec2', 'describe-dhcp-options.json')?.DhcpOptions ?? []) as NonNullable<N['dhcpOptions']>[];
  const tables = optional('ec2', 'describe-route-tables.json')?.RouteTables as NonNullable<N['routeTables']> | undefined;
  const endpoints = optional('ec2', 'describe-vpc-endpoints.json')?.VpcEndpoints as NonNullable<N['endpoints']> | undefined;
  const groups = optional('ec2', 'describe-security-groups.json')?.SecurityGroups as NonNullable<N['securityGroups']> | undefined;
  const vpcIds = [...new Set(account.subnets.map((s) => s.VpcId ?? '').filter((v) => v !== ''))];
  return vpcIds.map((vpcId): N => {
    const vpc = vpcs.find((v) => v.VpcId === vpcId);
    const attr = (a: 'enableDnsSupport' | 'enableDnsHostnames'): boolean | undefined => {
      const body = optional('ec2', 'vpcs', vpcId, `describe-vpc-attribute-${a}.json`) as Record<string, { Value?: boolean }> | undefined;
      return body?.[a === 'enableDnsSupport' ? 'EnableDnsSupport' : 'EnableDnsHostnames']?.Value;
    };
    const support = attr('enableDnsSupport');
    const hostnames = attr('enableDnsHostnames');
    const options = dhcp.find((d) => d.DhcpOptionsId === vpc?.DhcpOptionsId);
    return {
      vpcId,
      ...(vpc ? { vpc } : {}),
      ...(support !== undefined ? { enableDnsSupport: support } : {}),
      ...(hostnames !== undefined ? { enableDnsHostnames: hostnames } : {}),
      ...(options ? { dhcpOptions: options } : {}),
      ...(tables ? { routeTables: tables.filter((t) => t.VpcId === vpcId) } : {}),
      ...(endpoints ? { endpoints: endpoints.filter((e) => e.VpcId === vpcId) } : {}),
      ...(groups ? { securityGroups: groups.filter((g) => g.VpcId === vpcId) } : {}),
    };
  });
}

/** The demo's first two clusters, which the fault and handler tests were written for. */
export const DEMO_FIRST_CLUSTERS = ['payments-prod', 'batch-dev'] as const;

/**
 * The snapshot's region-level files (issue 13) as the account's quotas and NAU metrics, so that a
 * live source over the emulated account (given Service Quotas) reads what the snapshot holds. Opt-in:
 * an account with quotas makes every runtime over it read the region-level limits too.
 */
function withRegionLimits(dir: string, account: SyntheticAccount): void {
  const key = `${ENI_QUOTA.serviceCode}/${ENI_QUOTA.quotaCode}`;
  const quotaFile = (file: string) => (existsSync(path.join(dir, file)) ? ((read(path.join(dir, file)).Quota as { Value: number }).Value) : undefined);
  const applied = quotaFile(regionLimitsPaths.appliedQuota);
  const awsDefault = quotaFile(regionLimitsPaths.defaultQuota);
  if (applied !== undefined || awsDefault !== undefined) {
    account.quotas = { [key]: { ...(applied !== undefined ? { applied } : {}), awsDefault: awsDefault ?? applied ?? 0 } };
  }
  const regionFile = path.join(dir, regionLimitsPaths.regionNetworkInterfaces);
  if (existsSync(regionFile)) account.networkInterfaces = read(regionFile).NetworkInterfaces as SyntheticAccount['networkInterfaces'];
  const metrics: NonNullable<SyntheticAccount['nauMetrics']> = {};
  // Every VPC with a metric file (a cluster's DescribeCluster may not name its VPC).
  const cwDir = path.join(dir, 'cloudwatch');
  const vpcIds = existsSync(cwDir) ? [...new Set(readdirSync(cwDir).map((f) => /(vpc-[0-9a-f]+)\.json$/.exec(f)?.[1]).filter((v): v is string => v !== undefined))] : [];
  for (const vpcId of vpcIds) {
    const point = (file: string) => {
      const full = path.join(dir, file);
      return existsSync(full) ? (read(full).Datapoints as { Timestamp: string; Maximum: number }[])[0] : undefined;
    };
    const u = point(regionLimitsPaths.nau(vpcId));
    const p = point(regionLimitsPaths.nauPeered(vpcId));
    const at = u?.Timestamp ?? p?.Timestamp;
    if (at) metrics[vpcId] = { ...(u ? { usage: u.Maximum } : {}), ...(p ? { peered: p.Maximum } : {}), at };
  }
  if (Object.keys(metrics).length > 0) account.nauMetrics = metrics;
}

export const DEMO_SNAPSHOT = path.join(__dirname, '..', '..', 'events', 'demo-snapshot');
