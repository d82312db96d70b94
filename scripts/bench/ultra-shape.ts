/**
 * What the `--ultra` rows exchange, and the pages a cycle must read, computed from the account
 * with the live source's own batch and page sizes (lib/aws/limits.ts): the floor the
 * "reads <= pages + a constant per cluster" target is checked against.
 */
import { EC2_FILTER_VALUES_MAX, EC2_PAGE_SIZE_MAX } from '../../lib/aws/limits';
import { subnetLanes } from '../../lib/aws/read-lanes';
import { attachedEnisBySubnet } from '../../lib/inventory/collect';
import { addressesInUse } from '../../lib/measure/measure';
import type { SyntheticAccount } from '../../tools/synthetic-account';

/** Pages by read, and the account's shape. */
export interface ExpectedPages {
  clusters: number;
  nodes: number;
  subnets: number;
  enis: number;
  privateAddresses: number;
  /**
   * DescribeNetworkInterfaces per cluster, in the live source's `subnet-id` filters (200 ids each,
   * or up to READ_LANES lanes by the nodes' ENIs: lib/aws/read-lanes.ts): at most ceil(ENIs/1000)
   * + filters - 1 whatever the grouping.
   */
  clusterEniPages: number;
  /**
   * The region-level read of every ENI (lib/aws/region-limits.ts): one page, or past one page the
   * first page again, then the region's subnets in lanes: 1 + ceil(ENIs/1000) + lanes - 1.
   */
  regionEniPages: number;
  /** The first page of the region's ENIs (already in regionEniPages) and, past one page, its lanes: how many. */
  regionEniLanes?: number;
  /** DescribeSubnets of the whole region, past one page of ENIs (to read them in lanes): ceil(subnets/1000). */
  regionSubnetPages?: number;
  /** Filters (lanes) of each cluster's ENI read, by cluster. (The three lane fields: absent in runs saved before the lanes.) */
  clusterEniLanes?: number[];
  /** DescribeInstances per cluster by its tag: max(1, ceil(instances/1000)). */
  instancePages: number;
  /** DescribeSubnets per cluster, 200 ids a call: ceil(subnets/200). */
  subnetPages: number;
  /**
   * GetMetricData of the forecast's history (one series per subnet and per cluster, 500 queries a
   * call, 24 h of 5-minute points = 288 each, at most 100,800 datapoints a page; lib/aws/metric-history.ts).
   */
  historyPages: number;
  /** GetSubnetCidrReservations: one call per cluster subnet (the API takes one SubnetId; lib/aws/subnet-cidr-reservations.ts). */
  reservationPages: number;
  /** Series the forecast's GetMetricData asks for each cycle (each is a metric requested, priced by the 1,000). */
  historySeries?: number;
  total: number;
}

/** What the wire child served in one run. */
export interface UltraServed {
  calls: Record<string, number>;
  readCalls: number;
  requests: number;
  responseBytes: number;
  ec2Bytes: number;
  byOp: Record<string, { calls: number; bytes: number; serveMs: number }>;
  /** Arrival of each EC2 Describe* request, ms from the first request of the run. */
  describeAt: number[];
  maxRssMB: number;
  /** Distinct custom metrics published (namespace, name, dimensions) and PutMetricData calls. */
  metrics: number;
  putMetricDataCalls: number;
}

const CLUSTER_TAG = (name: string): string => `kubernetes.io/cluster/${name}`;

export function expectedPages(account: SyntheticAccount): ExpectedPages {
  const enisBySubnet = new Map<string, number>();
  let privateAddresses = 0;
  for (const e of account.networkInterfaces) {
    enisBySubnet.set(e.SubnetId ?? '', (enisBySubnet.get(e.SubnetId ?? '') ?? 0) + 1);
    privateAddresses += e.PrivateIpAddresses?.length ?? 0;
  }
  let clusterEniPages = 0;
  let instancePages = 0;
  let subnetPages = 0;
  let series = 0;
  let reservationPages = 0;
  const clusterEniLanes: number[] = [];
  for (const c of account.clusters) {
    const ids = [...new Set(c.resourcesVpcConfig?.subnetIds ?? [])];
    const batches = Math.max(1, Math.ceil(ids.length / EC2_FILTER_VALUES_MAX));
    const enis = ids.reduce((s, id) => s + (enisBySubnet.get(id) ?? 0), 0);
    const tag = CLUSTER_TAG(c.name ?? '');
    const nodes = account.instances.filter((i) => (i.Tags ?? []).some((t) => t.Key === tag) && ['pending', 'running'].includes(i.State?.Name ?? ''));
    // The live source's own lanes, from the nodes' attached ENIs (lib/inventory/collect.ts).
    const lanes = Math.max(batches, subnetLanes(ids, attachedEnisBySubnet(nodes)).length);
    clusterEniLanes.push(lanes);
    clusterEniPages += Math.max(lanes, Math.ceil(enis / EC2_PAGE_SIZE_MAX) + lanes - 1);
    instancePages += Math.max(1, Math.ceil(nodes.length / EC2_PAGE_SIZE_MAX));
    subnetPages += batches;
    series += ids.length + 1;
    reservationPages += ids.length;
  }
  const perCall = 500;
  const pointsPerSeries = (24 * 3600) / 300;
  let historyPages = 0;
  for (let left = series; left > 0; left -= perCall) historyPages += Math.ceil((Math.min(perCall, left) * pointsPerSeries) / 100_800);
  // The region's read (lib/aws/region-limits.ts): past one page, its subnets in lanes by addresses in use.
  const wholePages = Math.max(1, Math.ceil(account.networkInterfaces.length / EC2_PAGE_SIZE_MAX));
  const inUse = new Map(account.subnets.map((s) => [s.SubnetId ?? '', addressesInUse(s)]));
  const regionEniLanes = wholePages === 1 ? 1 : subnetLanes([...inUse.keys()], inUse).length;
  const regionEniPages = wholePages === 1 ? 1 : 1 + wholePages + regionEniLanes - 1;
  const regionSubnetPages = wholePages === 1 ? 0 : Math.max(1, Math.ceil(account.subnets.length / EC2_PAGE_SIZE_MAX));
  return {
    clusters: account.clusters.length,
    nodes: account.instances.length,
    subnets: account.subnets.length,
    enis: account.networkInterfaces.length,
    privateAddresses,
    clusterEniPages,
    regionEniPages,
    regionEniLanes,
    regionSubnetPages,
    clusterEniLanes,
    instancePages,
    subnetPages,
    historyPages,
    reservationPages,
    historySeries: series,
    total: clusterEniPages + regionEniPages + regionSubnetPages + instancePages + subnetPages + historyPages + reservationPages,
  };
}

/** The most calls in any window of `windowMs` (sorted arrival times). */
export function maxInWindow(at: number[], windowMs = 1000): number {
  const s = [...at].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[i]! - s[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}
