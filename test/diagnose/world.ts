/**
 * A small builder of cluster inventories for the diagnose tests, on top of test/measure/builders.ts
 * (AWS response shapes). Addresses are real and unique per subnet: single IPs from the bottom
 * (after the 4 reserved), /28 prefixes from the top (below the block holding the reserved last
 * address). Each subnet's AvailableIpAddressCount is computed from the ENIs placed in it, less
 * `unaccounted`, so every figure in an assertion can be checked by hand.
 */
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import type { ClusterInventory, CniInstall, Instance, NetworkInterface, Nodegroup, SubnetRole } from '../../lib/inventory/types';
import { measureCluster } from '../../lib/measure/measure';
import type { ClusterUsage } from '../../lib/measure/types';
import { parseIpv4Cidr } from '../../lib/measure/cidr';
import { diagnoseCluster } from '../../lib/diagnose/diagnose';
import { DEFAULT_THRESHOLDS, type DiagnoseThresholds, type Finding } from '../../lib/diagnose/types';
import {
  branchEni,
  clusterInventory,
  cniEni,
  controlPlaneEni,
  eni,
  instance,
  instanceTypes,
  managedCni,
  managedTags,
  nodegroup,
  nodePrimaryEni,
  subnet,
} from '../measure/builders';

export const AZ_A = 'eu-west-1a';
export const AZ_B = 'eu-west-1b';
export const AZ_C = 'eu-west-1c';

const ipToString = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

interface SubnetState {
  id: string;
  cidr: string;
  az: string;
  base: number;
  size: number;
  nextIp: number;
  nextPrefix: number;
  unaccounted: number;
}

let instanceSeq = 0;

/** A VPC's subnets and ENIs, from which one or more cluster inventories are cut. */
export class World {
  private readonly subnets = new Map<string, SubnetState>();
  readonly enis: NetworkInterface[] = [];
  readonly instances: { cluster: string; instance: Instance }[] = [];

  addSubnet(id: string, cidr: string, az: string, opts: { unaccounted?: number } = {}): this {
    const { base, size } = parseIpv4Cidr(cidr);
    this.subnets.set(id, { id, cidr, az, base, size, nextIp: 4, nextPrefix: size - 32, unaccounted: opts.unaccounted ?? 0 });
    return this;
  }

  private state(id: string): SubnetState {
    const s = this.subnets.get(id);
    if (!s) throw new Error(`no subnet ${id}`);
    return s;
  }

  /** `count` single addresses from the bottom of the subnet. */
  ips(subnetId: string, count: number): string[] {
    const s = this.state(subnetId);
    return Array.from({ length: count }, () => ipToString(s.base + s.nextIp++));
  }

  /** `count` aligned /28 prefixes from the top of the subnet. */
  prefixes(subnetId: string, count: number): string[] {
    const s = this.state(subnetId);
    return Array.from({ length: count }, () => {
      const p = `${ipToString(s.base + s.nextPrefix)}/28`;
      s.nextPrefix -= 16;
      return p;
    });
  }

  /** The AZ of a subnet. */
  az(subnetId: string): string {
    return this.state(subnetId).az;
  }

  /**
   * A node: `enis[i]` addresses on its i-th ENI (primary address included), all in `subnetId`
   * unless `eniSubnets[i]` says otherwise; `prefixes[i]` /28s on it.
   */
  node(o: {
    cluster: string;
    nodegroup: string;
    type: string;
    subnetId: string;
    enis: number[];
    prefixes?: number[];
    eniSubnets?: string[];
    id?: string;
  }): string {
    const id = o.id ?? `i-0${(0x100000 + ++instanceSeq).toString(16)}feedbeef00`;
    const az = this.az(o.subnetId);
    o.enis.forEach((count, i) => {
      const where = o.eniSubnets?.[i] ?? o.subnetId;
      const prefixes = (o.prefixes?.[i] ?? 0) > 0 ? this.prefixes(where, o.prefixes?.[i] ?? 0) : undefined;
      const ips = this.ips(where, count);
      this.enis.push(
        i === 0 ? nodePrimaryEni(id, where, az, ips, prefixes) : cniEni(id, where, az, ips, { deviceIndex: i, prefixes }),
      );
    });
    this.instances.push({ cluster: o.cluster, instance: instance(id, o.type, o.subnetId, az, managedTags(o.cluster, o.nodegroup)) });
    return id;
  }

  /** An ENI of something else (an unattached ENI) with `count` addresses, or at explicit addresses. */
  other(subnetId: string, count: number, at?: string[]): this {
    this.enis.push(eni({ subnetId, az: this.az(subnetId), ips: at ?? this.ips(subnetId, count), status: 'available' }));
    return this;
  }

  /**
   * Other ENIs (30 addresses at most each, as a large instance's ENI holds) until the subnet has
   * `available` free addresses; or branch ENIs of security groups for pods (one pod address each).
   */
  fillTo(subnetId: string, available: number, kind: 'other' | 'branch' = 'other'): this {
    const st = this.state(subnetId);
    let gap = st.size - 5 - st.unaccounted - this.held(subnetId) - available;
    if (gap < 0) throw new Error(`subnet ${subnetId} already has fewer than ${available} free`);
    if (kind === 'branch') return this.branches(subnetId, gap);
    while (gap > 0) {
      const count = Math.min(30, gap);
      this.other(subnetId, count);
      gap -= count;
    }
    return this;
  }

  /** `count` branch ENIs of security groups for pods (pod addresses, CniSecondary). */
  branches(subnetId: string, count: number): this {
    for (const ip of this.ips(subnetId, count)) this.enis.push(branchEni(subnetId, this.az(subnetId), ip));
    return this;
  }

  controlPlane(cluster: string, subnetId: string, count = 1): this {
    for (const ip of this.ips(subnetId, count)) this.enis.push(controlPlaneEni(cluster, subnetId, this.az(subnetId), ip));
    return this;
  }

  /** Addresses held in a subnet by the ENIs placed so far. */
  held(subnetId: string): number {
    return this.enis
      .filter((e) => e.SubnetId === subnetId)
      .reduce((sum, e) => sum + (e.PrivateIpAddresses?.length ?? 0) + 16 * (e.Ipv4Prefixes?.length ?? 0), 0);
  }

  /** The inventory of one cluster: the named subnets with their roles, every ENI in them, its nodes. */
  inventory(o: {
    name: string;
    subnets: [string, SubnetRole[]][];
    nodegroups?: Nodegroup[];
    cni?: CniInstall;
    problems?: ClusterInventory['problems'];
  }): ClusterInventory {
    const ids = new Set(o.subnets.map(([id]) => id));
    const inv = clusterInventory({
      name: o.name,
      subnets: o.subnets.map(([id, roles]) => {
        const s = this.state(id);
        return [subnet(id, s.cidr, s.az, s.size - 5 - this.held(id) - s.unaccounted), roles];
      }),
      networkInterfaces: this.enis.filter((e) => ids.has(e.SubnetId ?? '')),
      instances: this.instances.filter((x) => x.cluster === o.name).map((x) => x.instance),
      nodegroups: o.nodegroups ?? [],
      cni: o.cni ?? managedCni(),
    });
    return { ...inv, problems: o.problems ?? [] };
  }
}

export { managedCni, nodegroup };

export const TYPES: Record<string, InstanceTypeInfo> = instanceTypes('m5.large', 'm5.xlarge', 't2.medium', 't3.medium');

/** measure then diagnose one cluster, as the pipeline does. */
export function run(
  inv: ClusterInventory,
  thresholds: Partial<DiagnoseThresholds> = {},
  types: Record<string, InstanceTypeInfo> = TYPES,
): { usage: ClusterUsage; findings: Finding[] } {
  const usage = measureCluster(inv, types);
  return { usage, findings: diagnoseCluster(usage, inv, { ...DEFAULT_THRESHOLDS, ...thresholds }, types) };
}

/** `severity id` of each finding, for compact assertions. */
export const ids = (findings: Finding[]): string[] => findings.map((f) => `${f.severity} ${f.id}`);

export const ofKind = (findings: Finding[], kind: Finding['kind']): Finding[] => findings.filter((f) => f.kind === kind);
