/**
 * A deterministic generator of realistic EKS accounts in AWS response shapes, for tests, the demo
 * snapshot (`scripts/make-demo-snapshot.ts`) and load checks (thousands of nodes):
 * {@link buildAccount} builds an explicit {@link AccountSpec}, {@link generateAccount} a seeded
 * random one. Subnet addresses are real and unique, and randomness comes only from a seeded PRNG:
 * the same spec and seed give the same account, id for id.
 *
 * Design: docs/development.md#toolssynthetic-accountts-synthetic-accounts
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type {
  Addon,
  Cluster,
  Instance,
  InstanceTypeInfo,
  NetworkInterface,
  Nodegroup,
  RouteTable,
  SecurityGroup,
  Subnet,
  VpcEndpoint,
  VpcNetwork,
  SubnetCidrReservation,
} from '../lib/inventory/types';
import type { InstanceNetworkInterface, NetworkInterfaceType, Route, Tag } from '@aws-sdk/client-ec2';
import { knownInstanceTypes } from '../lib/capacity/known-instance-types';
import { writeSnapshotContents } from '../lib/inventory/capture';
import { ENI_QUOTA } from '../lib/inventory/region-limits';
import { regionLimitsPaths } from '../lib/inventory/snapshot-region-limits';

/** The generated account, in the shapes the AWS APIs return. */
export interface SyntheticAccount {
  region: string;
  accountId: string;
  /** When the account was "captured" (ISO-8601); all generated dates are before it. */
  capturedAt: string;
  clusters: Cluster[];
  /** By cluster name. */
  nodegroups: Record<string, Nodegroup[]>;
  /** By cluster name; `undefined` = self-managed aws-node (no vpc-cni add-on). */
  addons: Record<string, Addon | undefined>;
  subnets: Subnet[];
  networkInterfaces: NetworkInterface[];
  instances: Instance[];
  /** The network limits of every instance type used, from the bundled data. */
  instanceTypes: InstanceTypeInfo[];
  /** Each cluster VPC's network (the network preflight's reads), by VPC. */
  networks?: VpcNetwork[];
  /**
   * Service Quotas, keyed `<service code>/<quota code>` (`vpc/L-DF5E4CA3`): the applied value, if
   * any, and the AWS default. An account without it has no Service Quotas client in the emulator.
   */
  quotas?: Record<string, { applied?: number; awsDefault: number }>;
  /**
   * The NetworkAddressUsage / NetworkAddressUsagePeered datapoints of VPCs that enable the metrics
   * (AWS/EC2, `Per-VPC Metrics`), by VPC id: the emulator answers GetMetricData with them, the
   * snapshot writes them as get-metric-statistics files.
   */
  nauMetrics?: Record<string, { usage?: number; peered?: number; at: string }>;
  /** IPv4 subnet CIDR reservations (GetSubnetCidrReservations); absent = none. */
  subnetCidrReservations?: SubnetCidrReservation[];
}

/**
 * A subnet CIDR reservation to place (VPC user guide, "Subnet CIDR reservations"): an aligned
 * block taken from the top of the subnet, before any ENI. A `prefix` one is where the subnet's /28
 * prefixes come from first (as EC2 assigns them: docs/remediation.md, "Subnet CIDR reservations");
 * an `explicit` one stays unused (nothing here assigns addresses by hand). Its unused addresses are
 * not in AvailableIpAddressCount.
 */
export interface ReservationSpec {
  type: 'prefix' | 'explicit';
  /** The reservation's prefix length (28 = one /28 block). */
  prefixLength: number;
  description?: string;
  tags?: Record<string, string>;
}

/** How a node gets pod IPs: secondary IPs on its ENIs, or /28 prefixes (ENABLE_PREFIX_DELEGATION). */
export type CniMode = 'secondary' | 'prefix';

/** ENIs that belong to nothing in EKS but take addresses in the subnet. */
export type OtherEniKind = 'nat-gateway' | 'load-balancer' | 'vpc-endpoint' | 'lambda';

export interface SubnetSpec {
  /** Refers to the subnet in nodegroup specs; also its `Name` tag (`<cluster>-<name>`). */
  name: string;
  /** AZ index: 0 → `<region>a`, 1 → `b`, 2 → `c`. */
  az: number;
  /** Fixed CIDR (must not overlap another subnet); else one is allocated in 10.0.0.0/8. */
  cidr?: string;
  /** Prefix length when the CIDR is allocated; default: a random one from /19 to /24 that fits, larger if needed. */
  prefixLength?: number;
  /** In the cluster's `resourcesVpcConfig.subnetIds` (default true). */
  inCluster?: boolean;
  /** Extra tags, e.g. `{"kubernetes.io/role/cni": "1"}` or `{"kubernetes.io/role/elb": "1"}`. */
  tags?: Record<string, string>;
  /** EKS control-plane ENIs (`Amazon EKS <cluster>`) placed here. */
  controlPlaneEnis?: number;
  /** ENIs of other services placed here. */
  others?: OtherEniKind[];
  /** Addresses taken by ENIs this account cannot see (a VPC shared through RAM). */
  unaccounted?: number;
  /**
   * The AvailableIpAddressCount to reach. The gap left after placing every ENI is filled with warm
   * secondary IPs (and further ENIs, up to the type's limit) on the secondary-mode nodes here;
   * the build fails if that is impossible. Needs `cidr` or `prefixLength`.
   */
  available?: number;
  /**
   * Fragments the free space the way a subnet ages: once every other ENI and /28 prefix here is
   * placed, ENIs of `fragmentedBy` (one address each) take one address (offset 5) in each entirely
   * free aligned /28, lowest first, until only this many are left entirely free. EC2 gives a new
   * ENI any free address, so single addresses scattered over the subnet leave free addresses but
   * no /28 for prefix delegation (`InsufficientCidrBlocks`). Not with `available`.
   */
  fragmentFreeBlocksTo?: number;
  /** What holds the scattered addresses of `fragmentFreeBlocksTo` (default `lambda`: Lambda's ENIs come and go with its functions). */
  fragmentedBy?: OtherEniKind;
  /** Subnet CIDR reservations, placed from the top of the subnet in this order. */
  reservations?: ReservationSpec[];
  /**
   * Draw this subnet's id and its control-plane, other and scattered ENIs from PRNG stream
   * `stream` (default: its cluster's); see {@link ClusterSpec.stream}.
   */
  stream?: number;
  /**
   * `available` ENIs the VPC CNI created for instances that are gone (leaked): placed after the
   * nodes (their addresses follow the nodes'), their ids from each spec's own stream.
   */
  leakedEnis?: LeakedEniSpec[];
}

/** One leaked ENI: described `aws-K8S-<instance>`, tagged as the VPC CNI tags its ENIs, unattached. */
export interface LeakedEniSpec {
  /** Addresses on it, its own primary included (default 1). */
  ips?: number;
  /** 'terminated': DescribeInstances still answers the instance, terminated; 'missing': EC2 no longer knows it. */
  instance: 'terminated' | 'missing';
  /** Hours between its createdAt tag and the capture (default 30); `null`: no createdAt tag. */
  ageHours?: number | null;
  /** Its cluster.k8s.amazonaws.com/name tag (default: the subnet's cluster); `null`: untagged (CLUSTER_NAME unset). */
  clusterTag?: string | null;
  /** The PRNG stream of its ids (default 0x40 + the subnet's stream, so that no id generated before changes). */
  stream?: number;
}

/**
 * A subnet of a cluster listed before this one that this cluster uses too (clusters sharing a VPC):
 * its nodegroups name it `<cluster>/<subnet>`. Its nodes and control-plane ENIs are placed after the
 * owner's, so that every address of the owner's stays what it was.
 */
export interface SharedSubnetSpec {
  /** The cluster whose `subnets` hold it, and its name there. */
  cluster: string;
  subnet: string;
  /** In this cluster's resourcesVpcConfig.subnetIds (default false). */
  inCluster?: boolean;
  /** This cluster's EKS control-plane ENIs placed here. */
  controlPlaneEnis?: number;
}

export interface NodegroupSpec {
  name: string;
  /** Nodes take these types in turn. */
  instanceTypes: string[];
  nodes: number;
  /** Subnet names (of the same cluster); nodes are spread over them in turn. */
  subnets: string[];
  capacityType?: 'ON_DEMAND' | 'SPOT';
  /** Default: the cluster's mode. A nodegroup launched before prefix delegation was enabled keeps secondary IPs. */
  mode?: CniMode;
  /** The first `atEniLimit` nodes have every ENI the type allows attached, each full (IPs or prefixes). */
  atEniLimit?: number;
  /** ENIs on the other secondary-mode nodes (default `enisPerNode`, at most the type's limit); in prefix mode, the most ENIs a node spreads its prefixes over. */
  enis?: number;
  /** Kubernetes labels of the nodegroup. */
  labels?: Record<string, string>;
  /**
   * Who launches the nodes: a managed nodegroup (default), Karpenter (a NodePool of this name: no
   * nodegroup record, Karpenter's instance tags) or EKS Auto Mode (a NodePool: Auto Mode's tags, and no
   * `kubernetes.io/cluster/<name>` tag). Tags: lib/names.ts.
   */
  launcher?: 'managed' | 'karpenter' | 'auto-mode';
  /**
   * Secondary-IP nodes (not at their limit) hold whole ENIs, each full: ipamd's state under
   * WARM_ENI_TARGET (the CNI default), which adds an ENI's worth of IPs at a time. Default: the last
   * ENI is partly filled, as under WARM_IP_TARGET.
   */
  fullEnis?: boolean;
  /**
   * Draw this nodegroup's ids, nodes and their ENIs from PRNG stream `stream` (default: its
   * cluster's); see {@link ClusterSpec.stream}. Nodes it puts in an existing subnet take addresses
   * after the older nodes there (theirs stay) and lower its AvailableIpAddressCount.
   */
  stream?: number;
}

export interface ClusterSpec {
  name: string;
  /** Kubernetes version, e.g. `1.31`. */
  version: string;
  /** How the CNI hands out IPs on this cluster. */
  mode: CniMode;
  /** The managed vpc-cni add-on; absent = self-managed aws-node. */
  addon?: { version: string; configurationValues?: Record<string, unknown> };
  subnets: SubnetSpec[];
  nodegroups: NodegroupSpec[];
  endpointPublicAccess?: boolean;
  /** EKS Auto Mode: compute, block storage and load balancing enabled (DescribeCluster computeConfig, storageConfig, elasticLoadBalancing). */
  autoMode?: boolean;
  /** `ipv6`: pods take IPv6 from a /80 prefix on each node's primary ENI, no IPv4 but the node's own (default ipv4). */
  ipFamily?: 'ipv4' | 'ipv6';
  /**
   * The VPC's network (the network preflight). By default: DNS support and hostnames on,
   * AmazonProvidedDNS, and a main route table whose default route goes to a NAT gateway, so every
   * subnet has egress; no VPC endpoint. Its ids are derived from the VPC id, not drawn: adding it
   * changes no other id.
   */
  network?: {
    dnsSupport?: boolean;
    dnsHostnames?: boolean;
    /** Subnets (by spec name) on a route table of their own with no default route. */
    noEgress?: string[];
    /** VPC endpoint services (`ecr.api`, `s3`, ...): s3 a gateway endpoint on every route table, the others interface endpoints with private DNS, in a group admitting 443 from the VPC CIDR. */
    endpoints?: string[];
  };
  /**
   * Subnets of clusters listed before it that this cluster's nodes (and control plane) use too: the
   * cluster is then in their VPC (all must be the same one).
   */
  sharedSubnets?: SharedSubnetSpec[];
  /**
   * The PRNG stream this cluster's ids and random values come from; its subnets and nodegroups
   * use it unless they name their own. 0 (the default) is the spec's seed itself; any other number
   * is a stream of its own, seeded from the seed and the number, whose ids never collide with
   * another stream's. Put what you add to an existing spec on a new stream, and every id generated
   * before stays the same (with fixed `cidr`s: an allocated CIDR follows the ones before it).
   */
  stream?: number;
}

export interface AccountSpec {
  seed: number;
  region?: string;
  accountId?: string;
  /** ISO-8601 capture time; default 2026-11-26T10:00:00Z. */
  capturedAt?: string;
  /** ENIs on a secondary-mode node that is not at its limit, where the nodegroup does not say (default 3, capped by the type). */
  enisPerNode?: number;
  clusters: ClusterSpec[];
  /** Service Quotas of the account (SyntheticAccount.quotas). */
  quotas?: SyntheticAccount['quotas'];
  /** NAU metrics by cluster name (its VPC's), reported a day before the capture. */
  nauMetrics?: Record<string, { usage?: number; peered?: number }>;
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness and ids.

/** mulberry32: a small, fast 32-bit PRNG; plenty for test data. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  private counter: number;
  /** `firstCounter` keeps the ids of separate streams apart (the counter part of an id is a bijection). */
  constructor(seed: number, firstCounter = 0) {
    this.next = mulberry32(seed);
    this.counter = firstCounter;
  }
  float(): number {
    return this.next();
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += (Math.floor(this.next() * 0x100000000) >>> 0).toString(16).padStart(8, '0');
    return s.slice(0, chars);
  }
  /**
   * A unique AWS-style id (`i-0a1b2c3d4e5f60718`): 8 random hex digits, then a bijective mix of a
   * counter, so ids never collide however many are made.
   */
  id(prefix: string): string {
    const mixed = (Math.imul(++this.counter, 0x9e3779b1) >>> 0).toString(16).padStart(8, '0');
    return `${prefix}-0${this.hex(8)}${mixed}`;
  }
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
  mac(): string {
    return `0a:${this.hex(10).replace(/(..)(?!$)/g, '$1:')}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Addresses.

function ipToString(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function parseCidr(cidr: string): { base: number; prefixLength: number } {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new Error(`not a CIDR: ${cidr}`);
  const [a, b, c, d, p] = m.slice(1).map(Number) as [number, number, number, number, number];
  const base = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  if (base % 2 ** (32 - p) !== 0) throw new Error(`CIDR not aligned: ${cidr}`);
  return { base, prefixLength: p };
}

/**
 * Usable addresses of a subnet: AWS reserves the first four and the last address of every subnet
 * CIDR ("Subnet CIDR blocks", Amazon VPC User Guide).
 */
export function usableAddresses(prefixLength: number): number {
  return 2 ** (32 - prefixLength) - 5;
}

/** Hands out addresses of one subnet: single IPs from the bottom, /28 prefixes from the top. */
class SubnetAllocator {
  private nextIp: number;
  private nextPrefix: number;
  private readonly last: number;
  private topBlockNext: number;
  /** Set by {@link scatter}: nothing more is handed out. */
  private closed = false;
  /** The /28 blocks of `prefix` reservations not yet handed out: prefixes come from them first. */
  private readonly reservedBlocks: number[] = [];
  /** /28 prefixes handed out from `prefix` reservations. */
  reservedBlocksUsed = 0;
  constructor(
    readonly cidr: string,
    base: number,
    prefixLength: number,
  ) {
    const size = 2 ** (32 - prefixLength);
    this.nextIp = base + 4;
    this.last = base + size - 1; // broadcast, reserved
    // The top /28 block holds the reserved last address, so prefixes start one block below it.
    this.nextPrefix = base + size - 32;
    this.topBlockNext = base + size - 16;
  }
  /** One address: from the bottom up to the lowest /28 handed out, then what is left of the top block. */
  ip(): number {
    this.open();
    if (this.nextIp < this.nextPrefix + 16) return this.nextIp++;
    if (this.topBlockNext < this.last) return this.topBlockNext++;
    throw new Error(`synthetic account: subnet ${this.cidr} is out of addresses`);
  }
  /**
   * An aligned block of 2^(32 − prefixLength) addresses for a reservation, below every /28 handed
   * out so far (call before any ENI); its /28s are where prefixes come from first if `prefix`.
   */
  reserve(prefixLength: number, type: 'prefix' | 'explicit'): number {
    this.open();
    const size = 2 ** (32 - prefixLength);
    if (prefixLength > 28 || size < 16) throw new Error(`synthetic account: a reservation in ${this.cidr} must be /28 or larger`);
    const start = Math.floor((this.nextPrefix + 16 - size) / size) * size;
    if (start < this.nextIp) throw new Error(`synthetic account: subnet ${this.cidr} has no room for a /${prefixLength} reservation`);
    this.nextPrefix = start - 16;
    if (type === 'prefix') for (let b = start + size - 16; b >= start; b -= 16) this.reservedBlocks.push(b);
    return start;
  }
  /** One aligned /28: from a `prefix` reservation first, else from the top down, above every single address handed out. */
  prefix(): number {
    this.open();
    const reserved = this.reservedBlocks.shift();
    if (reserved !== undefined) {
      this.reservedBlocksUsed++;
      return reserved;
    }
    const start = this.nextPrefix;
    if (start < this.nextIp) throw new Error(`synthetic account: subnet ${this.cidr} has no free /28 left`);
    this.nextPrefix -= 16;
    return start;
  }
  /**
   * One address (offset 5) in each entirely free aligned /28, lowest first, until `keepFree` are
   * left entirely free; the addresses to give to single-address ENIs. Nothing is handed out after it.
   */
  scatter(keepFree: number): number[] {
    this.open();
    this.closed = true;
    // Free blocks lie between the single addresses (from the bottom) and the prefixes (from the top).
    const blocks: number[] = [];
    for (let b = Math.ceil(this.nextIp / 16) * 16; b <= this.nextPrefix; b += 16) blocks.push(b);
    return blocks.slice(0, Math.max(0, blocks.length - keepFree)).map((b) => b + 5);
  }
  private open(): void {
    if (this.closed) throw new Error(`synthetic account: subnet ${this.cidr} is fragmented: nothing more is placed in it`);
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Where stream k's id counter starts: k × this. Just over 2^24, so streams 0..255 each have 2^24 ids
 * before their counters could meet, and the ids of different streams differ in their last digits too.
 */
const STREAM_COUNTER_SPACING = 0x01000193;

/** The AWS account that owns the EKS control plane's instances (placeholder: the real one varies by region). */
const EKS_SERVICE_ACCOUNT = '602401143452';
const DAY_MS = 86_400_000;

interface EniPlan {
  /** Addresses on the ENI, its own primary included. */
  ips: number;
  prefixes: number;
}

interface NodePlan {
  cluster: ClusterSpec;
  nodegroup: NodegroupSpec;
  subnet: SubnetState;
  type: InstanceTypeInfo;
  mode: CniMode;
  enis: EniPlan[];
  maxEnis: number;
  ipsPerEni: number;
}

interface SubnetState {
  spec: SubnetSpec;
  cluster: ClusterSpec;
  id: string;
  nodes: NodePlan[];
  /** Addresses the placed ENIs hold (IPs + 16 per prefix), control-plane and others included. */
  held: number;
  cidr?: string;
  allocator?: SubnetAllocator;
  /** The reservations placed in it (step 2). */
  reservations?: { spec: ReservationSpec; base: number }[];
}

function instanceType(name: string): InstanceTypeInfo {
  const info = knownInstanceTypes().get(name);
  if (!info) throw new Error(`synthetic account: instance type ${name} is not in the bundled data`);
  return info;
}

function limits(info: InstanceTypeInfo): { maxEnis: number; ipsPerEni: number } {
  const maxEnis = info.NetworkInfo?.MaximumNetworkInterfaces;
  const ipsPerEni = info.NetworkInfo?.Ipv4AddressesPerInterface;
  if (!maxEnis || !ipsPerEni) throw new Error(`synthetic account: ${info.InstanceType} has no network limits`);
  return { maxEnis, ipsPerEni };
}

function held(enis: readonly EniPlan[]): number {
  return enis.reduce((sum, e) => sum + e.ips + 16 * e.prefixes, 0);
}

function planNode(
  rng: Rng,
  cluster: ClusterSpec,
  nodegroup: NodegroupSpec,
  subnet: SubnetState,
  index: number,
  enisPerNode: number,
): NodePlan {
  const typeName = nodegroup.instanceTypes[index % nodegroup.instanceTypes.length];
  if (typeName === undefined) throw new Error(`nodegroup ${nodegroup.name} has no instance types`);
  const type = instanceType(typeName);
  const { maxEnis, ipsPerEni } = limits(type);
  const mode = nodegroup.mode ?? cluster.mode;
  const full = index < (nodegroup.atEniLimit ?? 0);
  const enis: EniPlan[] = [];
  if (cluster.ipFamily === 'ipv6') {
    // IPv6: the primary ENI's own IPv4 and one /80 IPv6 prefix (aws/amazon-vpc-cni-k8s AllocIPv6Prefixes).
    enis.push({ ips: 1, prefixes: 0 });
  } else if (mode === 'prefix') {
    // Each slot beyond an ENI's own address carries a /28. A node rarely needs more than a
    // handful: the kubelet's max pods (110 or 250) is reached long before the slots run out, so
    // ipamd keeps ENIs few and fills them with prefixes first.
    const slots = ipsPerEni - 1;
    if (full) {
      for (let e = 0; e < maxEnis; e++) enis.push({ ips: 1, prefixes: slots });
    } else {
      let prefixes = rng.int(1, Math.min(8, slots * maxEnis));
      const cap = Math.min(maxEnis, nodegroup.enis ?? maxEnis);
      while (prefixes > 0 && enis.length < cap) {
        const here = enis.length === cap - 1 ? prefixes : Math.min(prefixes, slots);
        enis.push({ ips: 1, prefixes: Math.min(here, slots) });
        prefixes -= Math.min(here, slots);
      }
    }
  } else {
    const count = full ? maxEnis : Math.max(1, Math.min(maxEnis, nodegroup.enis ?? enisPerNode));
    for (let e = 0; e < count; e++) {
      // ipamd fills an ENI's secondary IPs before it attaches the next one.
      const lastPartial = !full && nodegroup.fullEnis !== true && e === count - 1;
      enis.push({ ips: lastPartial ? rng.int(2, ipsPerEni) : ipsPerEni, prefixes: 0 });
    }
  }
  return { cluster, nodegroup, subnet, type, mode, enis, maxEnis, ipsPerEni };
}

/**
 * Takes `gap` more addresses on the subnet's secondary-mode nodes: first the free slots of ENIs
 * already attached (warm IPs), then one more ENI per node in turn, up to each type's limit.
 */
function fillGap(state: SubnetState, gap: number): void {
  let left = gap;
  const nodes = state.nodes.filter((n) => n.mode === 'secondary');
  for (const node of nodes) {
    for (const eni of node.enis) {
      const add = Math.min(left, node.ipsPerEni - eni.ips);
      eni.ips += add;
      left -= add;
    }
  }
  let grew = true;
  while (left > 0 && grew) {
    grew = false;
    for (const node of nodes) {
      // A new ENI takes its own address and at least one secondary for pods.
      if (left < 2 || node.enis.length >= node.maxEnis) continue;
      const ips = Math.min(left, node.ipsPerEni);
      node.enis.push({ ips, prefixes: 0 });
      left -= ips;
      grew = true;
    }
  }
  if (left > 0) {
    throw new Error(
      `synthetic account: subnet ${state.spec.name} of ${state.cluster.name} cannot reach available=${state.spec.available}: ${left} addresses more than its nodes can hold`,
    );
  }
}

function tagList(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** Builds the account an explicit spec describes. Throws when the spec cannot be met (a subnet too small). */
export function buildAccount(spec: AccountSpec): SyntheticAccount {
  const rng = new Rng(spec.seed);
  const streams = new Map<number, Rng>([[0, rng]]);
  /** The PRNG of a stream (see ClusterSpec.stream): 0 is the seed's, others are seeded from it. */
  const rngOf = (stream: number | undefined): Rng => {
    const k = stream ?? 0;
    if (!Number.isInteger(k) || k < 0 || k > 255) throw new Error(`synthetic account: stream ${String(stream)} is not a whole number 0..255`);
    let r = streams.get(k);
    if (!r) {
      r = new Rng((spec.seed ^ Math.imul(k, 0x85ebca6b)) >>> 0, k * STREAM_COUNTER_SPACING);
      streams.set(k, r);
    }
    return r;
  };
  const subnetRng = (c: ClusterSpec, s: SubnetSpec): Rng => rngOf(s.stream ?? c.stream);
  const nodegroupRng = (c: ClusterSpec, ng: NodegroupSpec): Rng => rngOf(ng.stream ?? c.stream);
  const region = spec.region ?? 'eu-west-1';
  const accountId = spec.accountId ?? '111122223333';
  const capturedAt = spec.capturedAt ?? '2026-11-26T10:00:00Z';
  const now = Date.parse(capturedAt);
  const enisPerNode = spec.enisPerNode ?? 3;
  const azName = (i: number) => `${region}${'abc'[i % 3]}`;
  const azId = (i: number) => `${region.replace(/^(\w\w)-(\w)\w*-(\d+)$/, '$1$2$3')}-az${(i % 3) + 1}`;
  const internalDomain = region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`;
  const dnsName = (ip: number) => `ip-${ip >>> 24}-${(ip >>> 16) & 255}-${(ip >>> 8) & 255}-${ip & 255}.${internalDomain}`;
  const daysAgo = (r: Rng, min: number, max: number) => new Date(now - r.int(min * 24, max * 24) * (DAY_MS / 24));

  const account: SyntheticAccount = {
    region,
    accountId,
    capturedAt,
    clusters: [],
    nodegroups: {},
    addons: {},
    subnets: [],
    networkInterfaces: [],
    instances: [],
    instanceTypes: [],
    subnetCidrReservations: [],
  };
  const typesUsed = new Set<string>();

  // 1. Plan: subnets, nodes and what each ENI holds.
  const subnetStates: SubnetState[] = [];
  const byCluster = new Map<ClusterSpec, Map<string, SubnetState>>();
  const sharedOf = new Map<ClusterSpec, Map<string, { spec: SharedSubnetSpec; state: SubnetState }>>();
  const vpcOfCluster = new Map<string, string>();
  for (const cluster of spec.clusters) {
    const states = new Map<string, SubnetState>();
    for (const s of cluster.subnets) {
      if (states.has(s.name)) throw new Error(`cluster ${cluster.name} has two subnets named ${s.name}`);
      if (s.fragmentFreeBlocksTo !== undefined && s.available !== undefined) {
        throw new Error(`synthetic account: subnet ${s.name} of ${cluster.name}: fragmentFreeBlocksTo and available cannot be combined`);
      }
      const state: SubnetState = { spec: s, cluster, id: subnetRng(cluster, s).id('subnet'), nodes: [], held: 0 };
      state.held += (s.controlPlaneEnis ?? 0) + (s.others?.length ?? 0);
      state.held += (s.leakedEnis ?? []).reduce((sum, l) => sum + (l.ips ?? 1), 0);
      states.set(s.name, state);
      subnetStates.push(state);
    }
    byCluster.set(cluster, states);
    const shared = new Map<string, { spec: SharedSubnetSpec; state: SubnetState }>();
    for (const x of cluster.sharedSubnets ?? []) {
      const owner = spec.clusters.find((c) => c.name === x.cluster);
      const state = owner && owner !== cluster ? byCluster.get(owner)?.get(x.subnet) : undefined;
      if (!state) throw new Error(`cluster ${cluster.name}: shared subnet ${x.cluster}/${x.subnet} is not a subnet of a cluster listed before it`);
      if (state.spec.fragmentFreeBlocksTo !== undefined) throw new Error(`cluster ${cluster.name}: a fragmented subnet cannot be shared`);
      state.held += x.controlPlaneEnis ?? 0;
      shared.set(`${x.cluster}/${x.subnet}`, { spec: x, state });
    }
    sharedOf.set(cluster, shared);
    for (const ng of cluster.nodegroups) {
      for (let i = 0; i < ng.nodes; i++) {
        const subnetName = ng.subnets[i % ng.subnets.length];
        const state = subnetName === undefined ? undefined : (states.get(subnetName) ?? shared.get(subnetName)?.state);
        if (!state) throw new Error(`nodegroup ${ng.name}: unknown subnet ${String(subnetName)}`);
        const plan = planNode(nodegroupRng(cluster, ng), cluster, ng, state, i, enisPerNode);
        state.nodes.push(plan);
      }
    }
  }

  // 2. Size and place every subnet, then reach the asked-for free counts.
  let cursor = parseCidr('10.0.0.0/8').base;
  const taken: Array<{ base: number; end: number }> = [];
  const overlaps = (base: number, end: number) => taken.some((t) => base <= t.end && t.base <= end);
  for (const cluster of spec.clusters) {
    // Each cluster's VPC starts on a /16 boundary, as most VPCs are a /16.
    cursor = Math.ceil(cursor / 65536) * 65536;
    for (const state of byCluster.get(cluster)?.values() ?? []) {
      const s = state.spec;
      const nodeHeld = state.nodes.reduce((sum, n) => sum + held(n.enis), 0);
      const reservedSize = (s.reservations ?? []).reduce((sum, r) => sum + 2 ** (32 - r.prefixLength), 0);
      const demand = state.held + nodeHeld + (s.unaccounted ?? 0) + (s.available ?? 0) + reservedSize;
      let base: number;
      let prefixLength: number;
      if (s.cidr !== undefined) {
        ({ base, prefixLength } = parseCidr(s.cidr));
      } else {
        prefixLength = s.prefixLength ?? subnetRng(cluster, s).int(19, 24);
        // Headroom for alignment of prefixes and for the warm pools a real subnet also has.
        const needed = s.available !== undefined ? demand + 32 : Math.ceil(demand * 1.15) + 32;
        while (s.prefixLength === undefined && usableAddresses(prefixLength) < needed) prefixLength--;
        if (prefixLength < 16) {
          throw new Error(`synthetic account: subnet ${s.name} of ${cluster.name} needs more than a /16 (${needed} addresses); use more subnets`);
        }
        const size = 2 ** (32 - prefixLength);
        base = Math.ceil(cursor / size) * size;
        while (overlaps(base, base + size - 1)) base += size;
        cursor = base + size;
      }
      const end = base + 2 ** (32 - prefixLength) - 1;
      if (overlaps(base, end)) throw new Error(`synthetic account: subnet ${s.name} overlaps another subnet`);
      taken.push({ base, end });
      state.cidr = `${ipToString(base)}/${prefixLength}`;
      state.allocator = new SubnetAllocator(state.cidr, base, prefixLength);
      state.reservations = (s.reservations ?? []).map((r) => ({ spec: r, base: state.allocator!.reserve(r.prefixLength, r.type) }));
      const usable = usableAddresses(prefixLength);
      if (demand > usable) {
        throw new Error(`synthetic account: subnet ${s.name} (${state.cidr}) of ${cluster.name} needs ${demand} addresses, has ${usable}`);
      }
      if (s.available !== undefined) fillGap(state, usable - demand);
    }
  }

  // 3. Resources.
  for (const cluster of spec.clusters) {
    const states = [...(byCluster.get(cluster)?.values() ?? [])];
    const crng = rngOf(cluster.stream);
    const shared = [...(sharedOf.get(cluster)?.values() ?? [])];
    const sharedVpcs = new Set(shared.map((x) => vpcOfCluster.get(x.spec.cluster) ?? ''));
    if (sharedVpcs.size > 1) throw new Error(`cluster ${cluster.name}: its shared subnets are in different VPCs`);
    const ownVpc = crng.id('vpc');
    const vpcId = [...sharedVpcs][0] ?? ownVpc;
    vpcOfCluster.set(cluster.name, vpcId);
    const clusterSg = `sg-${crng.id('x').slice(2)}`;
    const nodeSg = `sg-${crng.id('x').slice(2)}`;
    const createdAt = daysAgo(crng, 200, 700);
    const clusterArn = `arn:aws:eks:${region}:${accountId}:cluster/${cluster.name}`;
    account.clusters.push({
      name: cluster.name,
      arn: clusterArn,
      createdAt,
      version: cluster.version,
      endpoint: `https://${crng.hex(32).toUpperCase()}.gr7.${region}.eks.amazonaws.com`,
      roleArn: `arn:aws:iam::${accountId}:role/${cluster.name}-cluster-role`,
      resourcesVpcConfig: {
        subnetIds: [
          ...states.filter((s) => s.spec.inCluster !== false).map((s) => s.id),
          ...shared.filter((x) => x.spec.inCluster === true).map((x) => x.state.id),
        ],
        securityGroupIds: [],
        clusterSecurityGroupId: clusterSg,
        vpcId,
        endpointPublicAccess: cluster.endpointPublicAccess ?? true,
        endpointPrivateAccess: true,
        publicAccessCidrs: ['0.0.0.0/0'],
      },
      kubernetesNetworkConfig:
        cluster.ipFamily === 'ipv6'
          ? { serviceIpv6Cidr: 'fd12:3456:789a::/108', ipFamily: 'ipv6', ...(cluster.autoMode ? { elasticLoadBalancing: { enabled: true } } : {}) }
          : { serviceIpv4Cidr: '172.20.0.0/16', ipFamily: 'ipv4', ...(cluster.autoMode ? { elasticLoadBalancing: { enabled: true } } : {}) },
      ...(cluster.autoMode
        ? {
            computeConfig: { enabled: true, nodePools: ['general-purpose', 'system'], nodeRoleArn: `arn:aws:iam::${accountId}:role/${cluster.name}-auto-node-role` },
            storageConfig: { blockStorage: { enabled: true } },
          }
        : {}),
      status: 'ACTIVE',
      platformVersion: 'eks.10',
      tags: { team: 'platform' },
      accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
    });

    account.addons[cluster.name] =
      cluster.addon === undefined
        ? undefined
        : {
            addonName: 'vpc-cni',
            clusterName: cluster.name,
            status: 'ACTIVE',
            addonVersion: cluster.addon.version,
            health: { issues: [] },
            addonArn: `arn:aws:eks:${region}:${accountId}:addon/${cluster.name}/vpc-cni/${crng.uuid()}`,
            createdAt,
            modifiedAt: daysAgo(crng, 1, 60),
            serviceAccountRoleArn: `arn:aws:iam::${accountId}:role/${cluster.name}-vpc-cni`,
            tags: {},
            ...(cluster.addon.configurationValues === undefined
              ? {}
              : { configurationValues: JSON.stringify(cluster.addon.configurationValues) }),
          };

    const nodegroupAsg = new Map<NodegroupSpec, string>();
    for (const ng of cluster.nodegroups) for (const t of ng.instanceTypes) typesUsed.add(t);
    account.nodegroups[cluster.name] = cluster.nodegroups.filter((ng) => (ng.launcher ?? 'managed') === 'managed').map((ng) => {
      const nrng = nodegroupRng(cluster, ng);
      const uuid = nrng.uuid();
      const asg = `eks-${ng.name}-${uuid}`;
      nodegroupAsg.set(ng, asg);
      for (const t of ng.instanceTypes) typesUsed.add(t);
      const arm = ng.instanceTypes.some((t) => instanceType(t).ProcessorInfo?.SupportedArchitectures?.includes('arm64'));
      const subnetIds = ng.subnets.map((n) => states.find((s) => s.spec.name === n)?.id ?? shared.find((x) => `${x.spec.cluster}/${x.spec.subnet}` === n)?.state.id ?? '');
      return {
        nodegroupName: ng.name,
        nodegroupArn: `arn:aws:eks:${region}:${accountId}:nodegroup/${cluster.name}/${ng.name}/${uuid}`,
        clusterName: cluster.name,
        version: cluster.version,
        releaseVersion: `${cluster.version}.0-20261101`,
        createdAt: daysAgo(nrng, 30, 200),
        modifiedAt: daysAgo(nrng, 1, 30),
        status: 'ACTIVE',
        capacityType: ng.capacityType ?? 'ON_DEMAND',
        scalingConfig: { minSize: Math.min(1, ng.nodes), maxSize: Math.max(ng.nodes * 2, 1), desiredSize: ng.nodes },
        instanceTypes: [...ng.instanceTypes],
        subnets: subnetIds,
        amiType: arm ? 'AL2023_ARM_64_STANDARD' : 'AL2023_x86_64_STANDARD',
        nodeRole: `arn:aws:iam::${accountId}:role/${cluster.name}-node-role`,
        labels: { ...(ng.labels ?? {}) },
        resources: { autoScalingGroups: [{ name: asg }] },
        diskSize: 20,
        health: { issues: [] },
        updateConfig: { maxUnavailable: 1 },
        tags: {},
      } satisfies Nodegroup;
    });

    const eniBase = (r: Rng, state: SubnetState, ip: number, description: string, interfaceType: string) => ({
      AvailabilityZone: azName(state.spec.az),
      AvailabilityZoneId: azId(state.spec.az),
      Description: description,
      Groups: [] as { GroupId: string; GroupName: string }[],
      // The SDK's enum spells the NAT gateway type `natGateway`, the API answers `nat_gateway`.
      InterfaceType: interfaceType as NetworkInterfaceType,
      Ipv6Addresses: [],
      MacAddress: r.mac(),
      NetworkInterfaceId: r.id('eni'),
      OwnerId: accountId,
      PrivateDnsName: dnsName(ip),
      PrivateIpAddress: ipToString(ip),
      RequesterManaged: false,
      SourceDestCheck: true,
      Status: 'in-use' as const,
      SubnetId: state.id,
      TagSet: [] as Tag[],
      VpcId: vpcId,
    });
    const singleIp = (ip: number) => [{ Primary: true, PrivateIpAddress: ipToString(ip), PrivateDnsName: dnsName(ip) }];

    /** An ENI of something that is not the cluster's (NAT gateway, load balancer, endpoint, Lambda), one address. */
    const otherEni = (r: Rng, state: SubnetState, kind: OtherEniKind, ip: number, lambdaFunction = `${cluster.name}-events-consumer`): void => {
      const eni = (description: string, type: string, requesterId: string, owner?: string): NetworkInterface => ({
        ...eniBase(r, state, ip, description, type),
        ...(owner === undefined
          ? {}
          : {
              Attachment: {
                AttachTime: daysAgo(r, 1, 300),
                AttachmentId: r.id('ela-attach'),
                DeleteOnTermination: false,
                DeviceIndex: 1,
                NetworkCardIndex: 0,
                InstanceOwnerId: owner,
                Status: 'attached',
              },
            }),
        PrivateIpAddresses: singleIp(ip),
        RequesterId: requesterId,
        RequesterManaged: true,
        SourceDestCheck: kind !== 'nat-gateway',
      });
      switch (kind) {
        case 'nat-gateway':
          account.networkInterfaces.push(eni(`Interface for NAT Gateway ${r.id('nat')}`, 'nat_gateway', 'AROAEXAMPLENATGATEWAY', 'amazon-aws'));
          break;
        case 'load-balancer':
          account.networkInterfaces.push(
            eni(`ELB app/k8s-${cluster.name.slice(0, 8)}-ingress-${r.hex(10)}/${r.hex(16)}`, 'interface', 'amazon-elb', 'amazon-elb'),
          );
          break;
        case 'vpc-endpoint':
          account.networkInterfaces.push(eni(`VPC Endpoint Interface ${r.id('vpce')}`, 'vpc_endpoint', 'AROAEXAMPLEVPCE', 'amazon-aws'));
          break;
        case 'lambda':
          account.networkInterfaces.push(
            eni(`AWS Lambda VPC ENI-${lambdaFunction}-${r.uuid()}`, 'lambda', `AROAEXAMPLELAMBDA:${lambdaFunction}`, 'amazon-aws'),
          );
          break;
      }
    };

    /** One EKS control-plane ENI of this cluster: in the customer's subnet, attached to instances in an AWS account. */
    const controlPlaneEni = (srng: Rng, state: SubnetState, alloc: SubnetAllocator): void => {
      const ip = alloc.ip();
      account.networkInterfaces.push({
        ...eniBase(srng, state, ip, `Amazon EKS ${cluster.name}`, 'interface'),
        Attachment: {
          AttachTime: daysAgo(srng, 1, 90),
          AttachmentId: srng.id('eni-attach'),
          DeleteOnTermination: false,
          DeviceIndex: 1,
          NetworkCardIndex: 0,
          InstanceOwnerId: EKS_SERVICE_ACCOUNT,
          Status: 'attached',
        },
        Groups: [{ GroupId: clusterSg, GroupName: `eks-cluster-sg-${cluster.name}` }],
        PrivateIpAddresses: singleIp(ip),
        RequesterId: EKS_SERVICE_ACCOUNT,
        RequesterManaged: true,
      });
    };

    /**
     * The leaked ENIs of one of this cluster's subnets (SubnetSpec.leakedEnis): `available`, described
     * and tagged as the VPC CNI does (aws/amazon-vpc-cni-k8s pkg/awsutils/awsutils.go `createENI`,
     * `buildENITags`, `createENITags`: createdAt in RFC 3339), for an instance that is gone.
     */
    const placeLeakedEnis = (state: SubnetState, alloc: SubnetAllocator): void => {
      for (const l of state.spec.leakedEnis ?? []) {
        const lrng = rngOf(l.stream ?? 0x40 + (state.spec.stream ?? cluster.stream ?? 0));
        const instanceId = lrng.id('i');
        const own = alloc.ip();
        const addresses = [{ Primary: true, PrivateIpAddress: ipToString(own), PrivateDnsName: dnsName(own) }];
        for (let k = 1; k < (l.ips ?? 1); k++) {
          const ip = alloc.ip();
          addresses.push({ Primary: false, PrivateIpAddress: ipToString(ip), PrivateDnsName: dnsName(ip) });
        }
        const clusterTag = l.clusterTag === undefined ? cluster.name : l.clusterTag;
        const age = l.ageHours === undefined ? 30 : l.ageHours;
        const created = new Date(now - (age ?? 0) * 3_600_000);
        const tags: Tag[] = [{ Key: 'node.k8s.amazonaws.com/instance_id', Value: instanceId }];
        if (clusterTag !== null) tags.push({ Key: 'cluster.k8s.amazonaws.com/name', Value: clusterTag });
        if (age !== null) tags.push({ Key: 'node.k8s.amazonaws.com/createdAt', Value: created.toISOString().replace(/\.\d{3}Z$/, 'Z') });
        account.networkInterfaces.push({
          ...eniBase(lrng, state, own, `aws-K8S-${instanceId}`, 'interface'),
          Status: 'available',
          Groups: [{ GroupId: nodeSg, GroupName: `eks-node-${cluster.name}` }],
          PrivateIpAddresses: addresses,
          TagSet: tags,
        });
        if (l.instance === 'terminated') {
          // A terminated instance has no subnet or addresses left; its tags stay.
          account.instances.push({
            InstanceId: instanceId,
            InstanceType: 'm5.large',
            LaunchTime: new Date(created.getTime() - 3_600_000),
            Placement: { AvailabilityZone: azName(state.spec.az), Tenancy: 'default' },
            State: { Code: 48, Name: 'terminated' },
            StateTransitionReason: 'User initiated',
            NetworkInterfaces: [],
            Tags: tagList({ [`kubernetes.io/cluster/${clusterTag ?? cluster.name}`]: 'owned' }),
          });
        }
      }
    };

    /** One node of this cluster in `state` (its own subnet, or a shared one), and its ENIs. */
    const placeNode = (state: SubnetState, alloc: SubnetAllocator, node: NodePlan): void => {
      const nrng = nodegroupRng(cluster, node.nodegroup);
      const instanceId = nrng.id('i');
      const launchTime = daysAgo(nrng, 0, 40);
      const interfaces: InstanceNetworkInterface[] = [];
      let primaryIp = 0;
      node.enis.forEach((plan, deviceIndex) => {
        const own = alloc.ip();
        if (deviceIndex === 0) primaryIp = own;
        const addresses = [{ Primary: true, PrivateIpAddress: ipToString(own), PrivateDnsName: dnsName(own) }];
        for (let k = 1; k < plan.ips; k++) {
          const ip = alloc.ip();
          addresses.push({ Primary: false, PrivateIpAddress: ipToString(ip), PrivateDnsName: dnsName(ip) });
        }
        const prefixes: { Ipv4Prefix: string }[] = [];
        for (let k = 0; k < plan.prefixes; k++) prefixes.push({ Ipv4Prefix: `${ipToString(alloc.prefix())}/28` });
        const description = deviceIndex === 0 ? '' : `aws-K8S-${instanceId}`;
        const tags: Tag[] =
          deviceIndex === 0
            ? []
            : [
                { Key: 'node.k8s.amazonaws.com/instance_id', Value: instanceId },
                { Key: 'cluster.k8s.amazonaws.com/name', Value: cluster.name },
                { Key: 'node.k8s.amazonaws.com/createdAt', Value: launchTime.toISOString() },
              ];
        const attachment = {
          AttachTime: launchTime,
          AttachmentId: nrng.id('eni-attach'),
          DeleteOnTermination: true,
          DeviceIndex: deviceIndex,
          NetworkCardIndex: 0,
          Status: 'attached' as const,
        };
        const eni: NetworkInterface = {
          ...eniBase(nrng, state, own, description, 'interface'),
          Attachment: { ...attachment, InstanceId: instanceId, InstanceOwnerId: accountId },
          Groups: [{ GroupId: nodeSg, GroupName: `eks-node-${cluster.name}` }],
          PrivateIpAddresses: addresses,
          TagSet: tags,
        };
        if (prefixes.length > 0) eni.Ipv4Prefixes = prefixes;
        const ipv6Prefixes =
          cluster.ipFamily === 'ipv6' && deviceIndex === 0 ? [{ Ipv6Prefix: `2a05:d018:${(own >>> 8) & 0xffff}:${own & 0xff}::/80` }] : [];
        if (ipv6Prefixes.length > 0) eni.Ipv6Prefixes = ipv6Prefixes;
        account.networkInterfaces.push(eni);
        interfaces.push({
          Attachment: attachment,
          Description: description,
          Groups: eni.Groups,
          InterfaceType: 'interface',
          MacAddress: eni.MacAddress,
          NetworkInterfaceId: eni.NetworkInterfaceId,
          OwnerId: accountId,
          PrivateDnsName: eni.PrivateDnsName,
          PrivateIpAddress: eni.PrivateIpAddress,
          PrivateIpAddresses: addresses,
          ...(prefixes.length > 0 ? { Ipv4Prefixes: prefixes } : {}),
          SourceDestCheck: true,
          Status: 'in-use',
          SubnetId: state.id,
          VpcId: vpcId,
        });
      });
      const ngSpec = node.nodegroup;
      account.instances.push({
        AmiLaunchIndex: 0,
        ImageId: `ami-0${nrng.hex(16)}`,
        InstanceId: instanceId,
        InstanceType: node.type.InstanceType,
        LaunchTime: launchTime,
        Placement: { AvailabilityZone: azName(state.spec.az), Tenancy: 'default' },
        PrivateDnsName: dnsName(primaryIp),
        PrivateIpAddress: ipToString(primaryIp),
        State: { Code: 16, Name: 'running' },
        SubnetId: state.id,
        VpcId: vpcId,
        Architecture: node.type.ProcessorInfo?.SupportedArchitectures?.[0] === 'arm64' ? 'arm64' : 'x86_64',
        ...(ngSpec.capacityType === 'SPOT' ? { InstanceLifecycle: 'spot' as const } : {}),
        NetworkInterfaces: interfaces,
        Tags: tagList(nodeTags(cluster, ngSpec, nodegroupAsg.get(ngSpec) ?? '', instanceId)),
      } as Instance);
    };

    for (const state of states) {
      const alloc = state.allocator;
      if (!alloc || !state.cidr) throw new Error('subnet not placed');
      const s = state.spec;
      const { prefixLength } = parseCidr(state.cidr);
      const srng = subnetRng(cluster, s);

      // EKS control-plane ENIs: in the customer's subnet, attached to instances in an AWS account.
      for (let i = 0; i < (s.controlPlaneEnis ?? 0); i++) controlPlaneEni(srng, state, alloc);

      for (const kind of s.others ?? []) otherEni(srng, state, kind, alloc.ip());

      // Nodes of a cluster sharing this subnet are placed with that cluster, after these.
      for (const node of state.nodes) if (node.cluster === cluster) placeNode(state, alloc, node);

      placeLeakedEnis(state, alloc);

      // Single addresses scattered over the free /28s: the subnet as years of ENIs leave it.
      if (s.fragmentFreeBlocksTo !== undefined) {
        const scattered = alloc.scatter(s.fragmentFreeBlocksTo);
        scattered.forEach((ip, k) => otherEni(srng, state, s.fragmentedBy ?? 'lambda', ip, `${cluster.name}-etl-${k + 1}`));
        state.held += scattered.length;
      }

      // ENIs accounted for so far in this subnet, from what was actually generated.
      const usable = usableAddresses(prefixLength);
      const nodeHeld = state.nodes.reduce((sum, n) => sum + held(n.enis), 0);
      // A reservation's unused addresses are not available (docs/remediation.md, "Subnet CIDR reservations").
      const reservedSize = (state.reservations ?? []).reduce((sum, r) => sum + 2 ** (32 - r.spec.prefixLength), 0);
      const reservedUnused = reservedSize - alloc.reservedBlocksUsed * 16;
      const available = usable - state.held - nodeHeld - (s.unaccounted ?? 0) - reservedUnused;
      for (const r of state.reservations ?? []) {
        const cidr = `${ipToString(r.base)}/${r.spec.prefixLength}`;
        account.subnetCidrReservations?.push({
          SubnetCidrReservationId: reservationId(state.id, cidr),
          SubnetId: state.id,
          Cidr: cidr,
          ReservationType: r.spec.type,
          OwnerId: accountId,
          ...(r.spec.description === undefined ? {} : { Description: r.spec.description }),
          Tags: tagList(r.spec.tags ?? {}),
        });
      }
      account.subnets.push({
        AvailabilityZone: azName(s.az),
        AvailabilityZoneId: azId(s.az),
        AvailableIpAddressCount: available,
        CidrBlock: state.cidr,
        DefaultForAz: false,
        MapPublicIpOnLaunch: s.tags?.['kubernetes.io/role/elb'] !== undefined,
        State: 'available',
        SubnetId: state.id,
        VpcId: vpcId,
        OwnerId: accountId,
        AssignIpv6AddressOnCreation: false,
        Ipv6CidrBlockAssociationSet: [],
        SubnetArn: `arn:aws:ec2:${region}:${accountId}:subnet/${state.id}`,
        Tags: tagList({ Name: `${cluster.name}-${s.name}`, ...(s.tags ?? {}) }),
      });
    }

    // This cluster's control-plane ENIs and nodes in subnets it shares with clusters listed before it.
    for (const x of shared) {
      const alloc = x.state.allocator;
      if (!alloc) throw new Error('subnet not placed');
      const xrng = rngOf(cluster.stream);
      for (let i = 0; i < (x.spec.controlPlaneEnis ?? 0); i++) controlPlaneEni(xrng, x.state, alloc);
      for (const node of x.state.nodes) if (node.cluster === cluster) placeNode(x.state, alloc, node);
    }
  }

  account.instanceTypes = [...typesUsed].sort().map(instanceType);
  // One network per VPC: a cluster in another's VPC (sharedSubnets) adds no second record of it.
  account.networks = [];
  spec.clusters.forEach((cluster, i) => {
    const vpcId = account.clusters[i]?.resourcesVpcConfig?.vpcId ?? '';
    if (account.networks?.some((n) => n.vpcId === vpcId)) return;
    account.networks?.push(syntheticNetwork(cluster, vpcId, [...(byCluster.get(cluster)?.values() ?? [])], region));
  });
  if (spec.quotas) account.quotas = spec.quotas;
  if (spec.nauMetrics) {
    const at = new Date(now - DAY_MS / 2).toISOString();
    account.nauMetrics = {};
    for (const [clusterName, m] of Object.entries(spec.nauMetrics)) {
      const vpcId = account.clusters.find((c) => c.name === clusterName)?.resourcesVpcConfig?.vpcId;
      if (!vpcId) throw new Error(`synthetic account: nauMetrics names cluster ${clusterName}, which the spec does not have`);
      account.nauMetrics[vpcId] = { ...m, at };
    }
  }
  return account;
}

/** A 17-hex-digit id suffix derived from a seed string (FNV-1a), so that derived ids take nothing from the PRNG. */
function derivedHex(seed: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < seed.length; i++) {
    h1 = Math.imul(h1 ^ seed.charCodeAt(i), 16777619) >>> 0;
    h2 = Math.imul(h2 ^ seed.charCodeAt(i), 2246822519) >>> 0;
  }
  return `0${h1.toString(16).padStart(8, '0')}${h2.toString(16).padStart(8, '0')}`;
}

/** The VPC network of one cluster spec (see ClusterSpec `network`). */
function syntheticNetwork(cluster: ClusterSpec, vpcId: string, states: readonly SubnetState[], region: string): VpcNetwork {
  const spec = cluster.network ?? {};
  const id = (prefix: string, label: string) => `${prefix}-${derivedHex(`${vpcId}/${label}`)}`;
  const first = states[0]?.spec.cidr ?? '10.0.0.0/16';
  const vpcCidr = `${first.split('.').slice(0, 2).join('.')}.0.0/16`;
  const dhcpId = id('dopt', 'dhcp');
  const natId = id('nat', 'nat');
  const local: Route = { DestinationCidrBlock: vpcCidr, GatewayId: 'local', Origin: 'CreateRouteTable', State: 'active' };
  const mainRtb = id('rtb', 'main');
  const isolatedRtb = id('rtb', 'no-egress');
  const noEgress = states.filter((s) => (spec.noEgress ?? []).includes(s.spec.name));
  const routeTables: RouteTable[] = [
    {
      RouteTableId: mainRtb,
      VpcId: vpcId,
      Associations: [{ Main: true, RouteTableAssociationId: id('rtbassoc', 'main'), RouteTableId: mainRtb, AssociationState: { State: 'associated' } }],
      Routes: [local, { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: natId, Origin: 'CreateRoute', State: 'active' }],
    },
    ...(noEgress.length > 0
      ? [
          {
            RouteTableId: isolatedRtb,
            VpcId: vpcId,
            Associations: noEgress.map((s) => ({ Main: false, SubnetId: s.id, RouteTableId: isolatedRtb, RouteTableAssociationId: id('rtbassoc', s.id), AssociationState: { State: 'associated' as const } })),
            Routes: [local],
          },
        ]
      : []),
  ];
  const endpointSg = id('sg', 'endpoints');
  // As EC2 answers it (lower case), though the SDK's State enum spells it `Available`.
  const available = 'available' as VpcEndpoint['State'];
  const endpoints: VpcEndpoint[] = (spec.endpoints ?? []).map((service): VpcEndpoint =>
    service === 's3'
      ? { VpcEndpointId: id('vpce', service), VpcEndpointType: 'Gateway', VpcId: vpcId, ServiceName: `com.amazonaws.${region}.s3`, State: available, RouteTableIds: routeTables.map((t) => t.RouteTableId ?? '') }
      : {
          VpcEndpointId: id('vpce', service),
          VpcEndpointType: 'Interface',
          VpcId: vpcId,
          ServiceName: `com.amazonaws.${region}.${service}`,
          State: available,
          PrivateDnsEnabled: true,
          SubnetIds: states.filter((s) => s.spec.inCluster !== false).map((s) => s.id),
          Groups: [{ GroupId: endpointSg, GroupName: `${cluster.name}-vpc-endpoints` }],
        },
  );
  const securityGroups: SecurityGroup[] = endpoints.some((e) => e.VpcEndpointType === 'Interface')
    ? [
        {
          GroupId: endpointSg,
          GroupName: `${cluster.name}-vpc-endpoints`,
          Description: 'HTTPS from the VPC to its interface endpoints',
          VpcId: vpcId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: vpcCidr }] }],
        },
      ]
    : [];
  return {
    vpcId,
    vpc: { VpcId: vpcId, CidrBlock: vpcCidr, DhcpOptionsId: dhcpId, State: 'available', IsDefault: false, CidrBlockAssociationSet: [{ CidrBlock: vpcCidr, CidrBlockState: { State: 'associated' } }] },
    enableDnsSupport: spec.dnsSupport ?? true,
    enableDnsHostnames: spec.dnsHostnames ?? true,
    dhcpOptions: {
      DhcpOptionsId: dhcpId,
      DhcpConfigurations: [
        { Key: 'domain-name', Values: [{ Value: region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal` }] },
        { Key: 'domain-name-servers', Values: [{ Value: 'AmazonProvidedDNS' }] },
      ],
    },
    routeTables,
    endpoints,
    securityGroups,
  };
}

/**
 * A reservation's id from its subnet and CIDR (`scr-` and 17 hex digits), not from a PRNG stream:
 * adding a reservation to a spec changes no other id.
 */
function reservationId(subnetId: string, cidr: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (const ch of `${subnetId}/${cidr}`) {
    h1 = Math.imul(h1 ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ ch.charCodeAt(0), 0x5bd1e995) >>> 0;
  }
  return `scr-${(h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(9, '0')).slice(0, 17)}`;
}

/** Sizes of a random account; see {@link generateAccount}. */
export interface GenerateAccountOptions {
  clusters: number;
  /** Nodes in all, spread over the clusters. */
  nodes: number;
  subnetsPerCluster: number;
  seed?: number;
  /** ENIs on a secondary-mode node that is not at its limit (default 3, capped by the type's maximum). */
  enisPerNode?: number;
  /** Instance types to use (default m5.large, m5.xlarge, c6g.2xlarge, r6i.4xlarge). */
  instanceTypes?: string[];
  region?: string;
}

/**
 * A random, seeded account: each cluster gets `subnetsPerCluster` subnets over three AZs (a
 * control-plane ENI in each of the first two, a NAT gateway, load balancer, VPC endpoint and Lambda
 * ENI spread over them), one or two nodegroups, and a CNI setup among "managed add-on with
 * WARM_IP_TARGET", "managed add-on with prefix delegation" and "self-managed".
 */
export function generateAccount(opts: GenerateAccountOptions): SyntheticAccount {
  const seed = opts.seed ?? 1;
  const rng = new Rng(seed ^ 0x5eed);
  const types = opts.instanceTypes ?? ['m5.large', 'm5.xlarge', 'c6g.2xlarge', 'r6i.4xlarge'];
  const versions = ['1.29', '1.30', '1.31', '1.32'];
  const others: OtherEniKind[] = ['nat-gateway', 'load-balancer', 'vpc-endpoint', 'lambda'];
  const clusters: ClusterSpec[] = [];
  for (let c = 0; c < opts.clusters; c++) {
    const name = `cluster-${String(c + 1).padStart(2, '0')}`;
    const nodes = Math.floor(opts.nodes / opts.clusters) + (c < opts.nodes % opts.clusters ? 1 : 0);
    const setup = c % 3;
    const subnets: SubnetSpec[] = [];
    for (let s = 0; s < opts.subnetsPerCluster; s++) {
      subnets.push({
        name: `private-${s + 1}`,
        az: s % 3,
        controlPlaneEnis: s < 2 ? 1 : 0,
        others: others.filter((_, k) => k % opts.subnetsPerCluster === s),
        unaccounted: rng.float() < 0.2 ? rng.int(1, 20) : 0,
      });
    }
    const subnetNames = subnets.map((s) => s.name);
    const groups = nodes >= 2 && rng.float() < 0.6 ? 2 : 1;
    const nodegroups: NodegroupSpec[] = [];
    for (let g = 0; g < groups; g++) {
      const count = Math.floor(nodes / groups) + (g < nodes % groups ? 1 : 0);
      const first = rng.int(0, types.length - 1);
      nodegroups.push({
        name: `ng-${g + 1}`,
        instanceTypes: [types[first] ?? 'm5.large', types[(first + 1) % types.length] ?? 'm5.large'],
        nodes: count,
        subnets: subnetNames,
        capacityType: rng.float() < 0.3 ? 'SPOT' : 'ON_DEMAND',
        atEniLimit: c % 3 === 1 ? 0 : Math.floor(count / 20),
      });
    }
    clusters.push({
      name,
      version: rng.pick(versions),
      mode: setup === 1 ? 'prefix' : 'secondary',
      ...(setup === 2
        ? {}
        : {
            addon: {
              version: 'v1.19.2-eksbuild.1',
              configurationValues:
                setup === 1
                  ? { env: { ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' } }
                  : { env: { WARM_IP_TARGET: '5', MINIMUM_IP_TARGET: '10' } },
            },
          }),
      subnets,
      nodegroups,
    });
  }
  return buildAccount({ seed, region: opts.region, enisPerNode: opts.enisPerNode, clusters });
}

/** Writes `account` in the snapshot layout of `lib/inventory/snapshot.ts`; returns the files written. */
export async function writeSyntheticSnapshot(account: SyntheticAccount, dir: string): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  return writeSnapshotContents(dir, {
    meta: { region: account.region, capturedAt: account.capturedAt },
    clusterNames: account.clusters.map((c) => c.name ?? ''),
    clusters: account.clusters,
    nodegroups: account.nodegroups,
    addons: account.addons,
    subnets: account.subnets,
    networkInterfaces: account.networkInterfaces,
    instances: account.instances,
    instanceTypes: account.instanceTypes,
    subnetCidrReservations: account.subnetCidrReservations ?? [],
    ...(account.networks ? { networks: account.networks } : {}),
  }).then((files) => writeRegionLimitFiles(account, dir, files));
}

/**
 * The region-level files (lib/inventory/snapshot-region-limits.ts) of an account with
 * quotas: the ENI quota as get-service-quota (or get-aws-default-service-quota) prints it, every
 * ENI of the account as the region-wide describe-network-interfaces, and each VPC's NAU metrics
 * as get-metric-statistics prints them.
 */
async function writeRegionLimitFiles(account: SyntheticAccount, dir: string, files: string[]): Promise<string[]> {
  const quota = account.quotas?.[`${ENI_QUOTA.serviceCode}/${ENI_QUOTA.quotaCode}`];
  if (!quota) return files;
  const out: [string, unknown][] = [];
  const quotaBody = (value: number) => ({
    Quota: { ServiceCode: ENI_QUOTA.serviceCode, ServiceName: 'Amazon Virtual Private Cloud (Amazon VPC)', QuotaCode: ENI_QUOTA.quotaCode, QuotaName: ENI_QUOTA.name, Value: value, Unit: 'None', Adjustable: true, GlobalQuota: false },
  });
  if (quota.applied !== undefined) out.push([regionLimitsPaths.appliedQuota, quotaBody(quota.applied)]);
  else out.push([regionLimitsPaths.defaultQuota, quotaBody(quota.awsDefault)]);
  out.push([regionLimitsPaths.regionNetworkInterfaces, { NetworkInterfaces: account.networkInterfaces }]);
  for (const [vpcId, m] of Object.entries(account.nauMetrics ?? {})) {
    const stats = (label: string, value: number) => ({ Label: label, Datapoints: [{ Timestamp: m.at, Maximum: value, Unit: 'Count' }] });
    if (m.usage !== undefined) out.push([regionLimitsPaths.nau(vpcId), stats('NetworkAddressUsage', m.usage)]);
    if (m.peered !== undefined) out.push([regionLimitsPaths.nauPeered(vpcId), stats('NetworkAddressUsagePeered', m.peered)]);
  }
  for (const [file, body] of out) {
    const full = path.join(dir, ...file.split('/'));
    await fs.mkdir(path.dirname(full), { recursive: true });
    await fs.writeFile(full, `${JSON.stringify(body, null, 2)}\n`);
  }
  return [...files, ...out.map(([file]) => file)];
}

/**
 * The tags of a node, as its launcher puts them (lib/names.ts cites each): a managed nodegroup's,
 * Karpenter's (pkg/utils/utils.go GetTags, and the nodeclaim tag once running) or EKS Auto Mode's.
 */
function nodeTags(cluster: ClusterSpec, ng: NodegroupSpec, asg: string, instanceId: string): Record<string, string> {
  switch (ng.launcher ?? 'managed') {
    case 'karpenter':
      return {
        Name: `${cluster.name}-${ng.name}`,
        [`kubernetes.io/cluster/${cluster.name}`]: 'owned',
        'karpenter.sh/nodepool': ng.name,
        'eks:eks-cluster-name': cluster.name,
        'karpenter.k8s.aws/ec2nodeclass': 'default',
        'karpenter.sh/nodeclaim': `${ng.name}-${instanceId.slice(-5)}`,
      };
    case 'auto-mode':
      return {
        'eks:eks-cluster-name': cluster.name,
        'eks:kubernetes-node-pool-name': ng.name,
        'eks:kubernetes-node-class-name': 'default',
      };
    default:
      return {
        Name: `${cluster.name}-${ng.name}-node`,
        'eks:cluster-name': cluster.name,
        'eks:nodegroup-name': ng.name,
        [`kubernetes.io/cluster/${cluster.name}`]: 'owned',
        'aws:autoscaling:groupName': asg,
        'aws:eks:cluster-name': cluster.name,
      };
  }
}
