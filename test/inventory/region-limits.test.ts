/**
 * The region-level reads (issue 13 item 2) through the live source against the emulated account:
 * the ENI quota (applied, AWS default, AccessDenied), the region's ENIs in pages of 1,000 (every
 * VPC's, once per cycle, not per cluster), the NAU metrics in one GetMetricData, and what the
 * cycle makes of them (measure, findings, metrics).
 */
import type { NetworkInterface } from '@aws-sdk/client-ec2';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LiveSource } from '../../lib/aws/live-source';
import { READ_LANES } from '../../lib/aws/read-lanes';
import { diagnose } from '../../lib/diagnose/diagnose';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import { measure } from '../../lib/measure/measure';
import { buildMetricData } from '../../lib/output/publish/metrics';
import { emulateAccount, serviceQuotasError, type EmulatedAccount } from '../../tools/mock-aws';
import { generateAccount, type SyntheticAccount } from '../../tools/synthetic-account';

const NOW = new Date('2026-11-26T12:00:00Z');
const QUOTA_KEY = 'vpc/L-DF5E4CA3';

/** Three clusters, and `otherEnis` ENIs in a VPC no cluster uses (the quota counts them too). */
function account(quota: { applied?: number; awsDefault: number } | undefined, otherEnis = 0): SyntheticAccount {
  const acc = generateAccount({ clusters: 3, nodes: 300, subnetsPerCluster: 3, seed: 7 });
  // Their subnet, in the region's subnets as every ENI's is.
  if (otherEnis > 0) acc.subnets.push({ SubnetId: 'subnet-0ther000000000000', VpcId: 'vpc-0ther000000000000', CidrBlock: '172.16.0.0/16', AvailableIpAddressCount: 65531 - otherEnis, AvailabilityZone: `${acc.region}a` });
  for (let i = 0; i < otherEnis; i++) {
    const other: NetworkInterface = {
      NetworkInterfaceId: `eni-other${String(i).padStart(12, '0')}`,
      VpcId: 'vpc-0ther000000000000',
      SubnetId: 'subnet-0ther000000000000',
      InterfaceType: 'interface',
      PrivateIpAddress: '172.16.0.10',
      PrivateIpAddresses: [{ PrivateIpAddress: '172.16.0.10', Primary: true }],
    };
    acc.networkInterfaces.push(other);
  }
  return quota ? { ...acc, quotas: { [QUOTA_KEY]: quota } } : acc;
}

async function cycle(acc: SyntheticAccount, setup?: (aws: EmulatedAccount) => void) {
  const aws = emulateAccount(acc);
  try {
    setup?.(aws);
    const source = new LiveSource({ ec2: aws.ec2, eks: aws.eks, serviceQuotas: aws.serviceQuotas, cloudwatch: aws.cloudwatch }, acc.region);
    const inventory = await collectInventory(source, { clusterNames: [], concurrency: 4, now: NOW });
    const usage = measure(inventory);
    const findings = diagnose(usage, inventory, DEFAULT_THRESHOLDS);
    return { inventory, usage, findings, calls: { ...aws.calls }, metrics: buildMetricData(usage) };
  } finally {
    aws.restore();
  }
}

describe('region-level limits through the emulated account', () => {
  it('reads the applied quota and counts every ENI of the region in pages of 1,000, once per cycle', async () => {
    const acc = account({ applied: 6000, awsDefault: 5000 }, 1500);
    const total = acc.networkInterfaces.length;
    const r = await cycle(acc);
    const rl = r.inventory.regionLimits;
    expect(rl?.eniQuota).toEqual({ serviceCode: 'vpc', quotaCode: 'L-DF5E4CA3', value: 6000, source: 'applied' });
    expect(rl?.problems).toEqual([]);
    expect(r.usage.regionLimits?.eniCount).toBe(total);
    // No GetAWSDefaultServiceQuota when an applied value answered.
    expect(r.calls['GetServiceQuota']).toBe(1);
    expect(r.calls['GetAWSDefaultServiceQuota']).toBeUndefined();
    // The cluster reads (one per cluster, by subnet) and the region read: its first page, then
    // (more than one page) the region's subnets in up to READ_LANES filters, each a partial last page.
    const clusterPages = r.inventory.clusters.reduce((s, c) => s + Math.max(1, Math.ceil(c.networkInterfaces.length / 1000)), 0);
    expect(r.calls['DescribeNetworkInterfaces']).toBeGreaterThanOrEqual(clusterPages + 1 + Math.ceil(total / 1000));
    expect(r.calls['DescribeNetworkInterfaces']).toBeLessThanOrEqual(clusterPages + 1 + Math.ceil(total / 1000) + READ_LANES - 1);
    // One GetMetricData for the three clusters' VPCs, both NAU metrics.
    expect(r.calls['GetMetricData']).toBe(1);
    // Not clusters' problems: nothing became incomplete.
    expect(r.inventory.clusters.every((c) => c.problems.length === 0)).toBe(true);
  });

  it('takes the AWS default when the account has no applied value, and says so', async () => {
    const acc = account({ awsDefault: 5000 });
    const r = await cycle(acc);
    expect(r.inventory.regionLimits?.eniQuota).toMatchObject({ value: 5000, source: 'aws-default' });
    expect(r.calls['GetAWSDefaultServiceQuota']).toBe(1);
    expect(r.inventory.regionLimits?.problems).toEqual([]);
  });

  it('an AccessDenied quota read is a problem of the region only; the documented default is used and the rest goes on', async () => {
    const acc = account({ applied: 6000, awsDefault: 5000 });
    const r = await cycle(acc, (aws) => {
      aws.faults['GetServiceQuota'] = () => serviceQuotasError('AccessDeniedException', 'User is not authorized to perform: servicequotas:GetServiceQuota');
    });
    const rl = r.inventory.regionLimits;
    expect(rl?.eniQuota).toMatchObject({ value: 5000, source: 'documented-default' });
    expect(rl?.problems).toEqual([expect.objectContaining({ source: 'servicequotas:GetServiceQuota', code: 'AccessDeniedException' })]);
    expect(r.usage.regionLimits?.eniCount).toBe(acc.networkInterfaces.length);
    expect(r.inventory.clusters.every((c) => c.problems.length === 0)).toBe(true);
    expect(r.usage.clusters.every((c) => c.complete)).toBe(true);
  });

  it('a failed region-wide ENI read leaves the count unknown (no finding, no metric), not 0', async () => {
    const acc = account({ applied: 100, awsDefault: 5000 });
    const r = await cycle(acc, (aws) => {
      // Only the region read has no filter: the cluster reads go on.
      aws.faults['DescribeNetworkInterfaces'] = (input) => (input['Filters'] === undefined ? new Error('socket hang up') : undefined);
    });
    expect(r.usage.regionLimits?.eniCount).toBeUndefined();
    expect(r.findings.filter((f) => f.kind === 'eni-quota')).toEqual([]);
    expect(r.metrics.some((m) => m.MetricName === 'RegionEniCount')).toBe(false);
    expect(r.inventory.regionLimits?.problems[0]?.source).toBe('ec2:DescribeNetworkInterfaces');
  });

  it('near the quota: an eni-quota finding on every cluster of the region, and the utilisation metric', async () => {
    const acc = account(undefined, 0);
    const total = acc.networkInterfaces.length;
    // The quota just above the region's ENIs: 95 % used.
    const r = await cycle({ ...acc, quotas: { [QUOTA_KEY]: { applied: Math.ceil(total / 0.95), awsDefault: 5000 } } });
    const found = r.findings.filter((f) => f.kind === 'eni-quota');
    expect(found.map((f) => f.cluster).sort()).toEqual(r.usage.clusters.map((c) => c.name).sort());
    expect(found[0]).toMatchObject({ severity: 'critical', subject: { type: 'region', id: acc.region }, evidence: { regionEnis: total, eniQuotaSource: 'applied' } });
    const util = r.metrics.find((m) => m.MetricName === 'RegionEniQuotaUtilization');
    expect(util?.Value).toBeGreaterThanOrEqual(94);
    expect(util?.Dimensions).toEqual([]);
  });

  it('reads the NAU metric where the VPC reports it and judges the larger of count and metric', async () => {
    const acc = account({ applied: 100000, awsDefault: 5000 });
    const aws0 = acc.clusters[0]?.resourcesVpcConfig?.vpcId ?? '';
    const r = await cycle(acc, (aws) => {
      aws.history.set(`NetworkAddressUsage/${aws0}`, [{ t: new Date(NOW.getTime() - 20 * 3600_000), value: 60000 }]);
      aws.history.set(`NetworkAddressUsagePeered/${aws0}`, [{ t: new Date(NOW.getTime() - 20 * 3600_000), value: 70000 }]);
    });
    const v = r.usage.regionLimits?.vpcs.find((x) => x.vpcId === aws0);
    expect(v).toMatchObject({ metric: 60000, metricPeered: 70000, used: 60000, usedFrom: 'metric' });
    expect(v?.counted).toBeGreaterThan(0);
    const nau = r.findings.filter((f) => f.kind === 'network-address-usage' && f.subject.id === aws0);
    expect(nau.length).toBeGreaterThan(0);
    expect(nau[0]).toMatchObject({ severity: 'critical', evidence: { nauMetric: 60000, nauUsedFrom: 'metric' } });
    expect(r.metrics.find((m) => m.MetricName === 'VpcNetworkAddressUsage' && m.Dimensions?.[0]?.Value === aws0)?.Value).toBe(60000);
  });

  it('without the Service Quotas client the source makes no region-level reads', async () => {
    const acc = account({ applied: 6000, awsDefault: 5000 });
    const aws = emulateAccount(acc);
    try {
      const inv = await collectInventory(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, acc.region), { clusterNames: [], concurrency: 4, now: NOW });
      expect(inv.regionLimits).toBeUndefined();
      expect(aws.calls['GetServiceQuota']).toBeUndefined();
    } finally {
      aws.restore();
    }
  });
});

describe('region-level limits from a snapshot', () => {
  const DEMO = path.join(__dirname, '..', '..', 'events', 'demo-snapshot');

  async function copyDemo(change: (dir: string) => Promise<void>): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'region-limits-'));
    await fs.cp(DEMO, dir, { recursive: true });
    await change(dir);
    return dir;
  }

  it('reads the demo’s quota (AWS default), its region-wide ENIs and the NAU metrics of payments-prod’s VPC', async () => {
    const inv = await collectInventory(await readSnapshot(DEMO), { clusterNames: [], concurrency: 2, now: NOW });
    const rl = inv.regionLimits;
    expect(rl?.eniQuota).toMatchObject({ value: 5000, source: 'aws-default' });
    expect(rl?.eniScope).toBe('region');
    const vpc = inv.clusters.find((c) => c.name === 'payments-prod')?.cluster.resourcesVpcConfig?.vpcId ?? '';
    expect(rl?.nauMetrics[vpc]).toMatchObject({ networkAddressUsage: 54000, networkAddressUsagePeered: 71000 });
    const findings = diagnose(measure(inv), inv, DEFAULT_THRESHOLDS).filter((f) => f.kind === 'network-address-usage');
    expect(findings.map((f) => [f.cluster, f.severity])).toEqual([['payments-prod', 'warning']]);
  });

  it('a snapshot without the region-level files has no region section (not captured), and no problem', async () => {
    const dir = await copyDemo(async (d) => {
      await fs.rm(path.join(d, 'service-quotas'), { recursive: true });
      await fs.rm(path.join(d, 'cloudwatch'), { recursive: true });
      await fs.rm(path.join(d, 'ec2', 'describe-network-interfaces-region.json'));
    });
    const inv = await collectInventory(await readSnapshot(dir), { clusterNames: [], concurrency: 2, now: NOW });
    expect(inv.regionLimits).toBeUndefined();
  });

  it('without the region-wide ENI file: the NAU counted from the VPC file, the region count unknown', async () => {
    const dir = await copyDemo((d) => fs.rm(path.join(d, 'ec2', 'describe-network-interfaces-region.json')));
    const inv = await collectInventory(await readSnapshot(dir), { clusterNames: [], concurrency: 2, now: NOW });
    expect(inv.regionLimits?.eniScope).toBe('vpcs');
    const usage = measure(inv);
    expect(usage.regionLimits?.eniCount).toBeUndefined();
    expect(usage.regionLimits?.vpcs.every((v) => (v.counted ?? 0) > 0)).toBe(true);
  });

  it('a malformed quota file is a problem of the region: the documented default is used', async () => {
    const dir = await copyDemo((d) => fs.writeFile(path.join(d, 'service-quotas', 'get-aws-default-service-quota-vpc-L-DF5E4CA3.json'), '{"Quota": {"Value": "many"}}'));
    const inv = await collectInventory(await readSnapshot(dir), { clusterNames: [], concurrency: 2, now: NOW });
    expect(inv.regionLimits?.eniQuota).toMatchObject({ value: 5000, source: 'documented-default' });
    expect(inv.regionLimits?.problems[0]?.message).toMatch(/get-aws-default-service-quota-vpc-L-DF5E4CA3\.json/);
  });
});

describe('the region-level reads of a live source', () => {
  it("start with the clusters' reads, not after them: the region's ENI pages are no second wait", async () => {
    const acc = account({ applied: 6000, awsDefault: 5000 });
    const aws = emulateAccount(acc);
    try {
      const source = new LiveSource({ ec2: aws.ec2, eks: aws.eks, serviceQuotas: aws.serviceQuotas, cloudwatch: aws.cloudwatch }, acc.region);
      const events: string[] = [];
      // The live source makes its region reads per view (a getter): one, watched.
      const region = source.regionLimits!;
      Object.defineProperty(source, 'regionLimits', { value: region });
      const regionEnis = region.regionNetworkInterfaces.bind(region);
      region.regionNetworkInterfaces = (vpcIds) => (events.push('region ENIs asked'), regionEnis(vpcIds));
      const instances = source.describeClusterInstances.bind(source);
      source.describeClusterInstances = async (name, options) => {
        const out = await instances(name, options);
        events.push(`instances of ${name} read`);
        return out;
      };
      const inventory = await collectInventory(source, { clusterNames: [], concurrency: 4, now: NOW });
      expect(events.filter((e) => e.startsWith('instances'))).toHaveLength(3);
      expect(events[0]).toBe('region ENIs asked');
      // The same figures as when read after the clusters.
      expect(inventory.regionLimits?.networkInterfaces).toHaveLength(acc.networkInterfaces.length);
      expect(inventory.regionLimits?.eniScope).toBe('region');
    } finally {
      aws.restore();
    }
  });

  it('are made once, and not at all when there is no cluster to read', async () => {
    const acc = account({ applied: 6000, awsDefault: 5000 });
    const aws = emulateAccount(acc);
    try {
      const source = new LiveSource({ ec2: aws.ec2, eks: aws.eks, serviceQuotas: aws.serviceQuotas, cloudwatch: aws.cloudwatch }, acc.region);
      let asked = 0;
      const region = source.regionLimits!;
      Object.defineProperty(source, 'regionLimits', { value: region });
      const regionEnis = region.regionNetworkInterfaces.bind(region);
      region.regionNetworkInterfaces = (vpcIds) => (asked++, regionEnis(vpcIds));
      await collectInventory(source, { clusterNames: [], concurrency: 4, now: NOW });
      expect(asked).toBe(1);
      const none = await collectInventory({ ...Object.create(source), listClusters: async () => [] } as LiveSource, { clusterNames: [], concurrency: 4, now: NOW });
      expect(none.regionLimits).toBeUndefined();
      expect(asked).toBe(1);
    } finally {
      aws.restore();
    }
  });
});

describe("the region's ENIs past one page", () => {
  /** The region's ENIs read by the region-level reads alone, the DescribeNetworkInterfaces inputs, and the most requests at once. */
  async function regionRead(acc: SyntheticAccount, setup?: (aws: EmulatedAccount) => void) {
    const aws = emulateAccount(acc);
    try {
      setup?.(aws);
      const inputs: { Filters?: { Name: string; Values: string[] }[] }[] = [];
      aws.faults['DescribeNetworkInterfaces'] = (input) => void inputs.push(input as (typeof inputs)[number]);
      let inFlight = 0;
      let most = 0;
      const send = aws.ec2.send.bind(aws.ec2);
      aws.ec2.send = (async (...args: Parameters<typeof send>) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        try {
          return await send(...args);
        } finally {
          inFlight--;
        }
      }) as typeof send;
      const source = new LiveSource({ ec2: aws.ec2, eks: aws.eks, serviceQuotas: aws.serviceQuotas, cloudwatch: aws.cloudwatch }, acc.region);
      const { enis } = await source.regionLimits!.regionNetworkInterfaces([]);
      return { enis, inputs, most, calls: { ...aws.calls } };
    } finally {
      aws.restore();
    }
  }
  const ids = (enis: { NetworkInterfaceId?: string }[]) => enis.map((e) => e.NetworkInterfaceId ?? '').sort();

  it('are read by subnet in lanes side by side after the first page: every ENI once, as the pages in turn give them', async () => {
    const acc = account({ awsDefault: 5000 }, 4000);
    const r = await regionRead(acc);
    expect(ids(r.enis)).toEqual(ids(acc.networkInterfaces));
    expect(r.inputs[0]?.Filters).toBeUndefined();
    const lanes = r.inputs.slice(1).filter((i, n, all) => all.findIndex((j) => JSON.stringify(j.Filters) === JSON.stringify(i.Filters)) === n);
    expect(lanes).toHaveLength(READ_LANES);
    expect(lanes.flatMap((l) => l.Filters?.[0]?.Values ?? []).sort()).toEqual(acc.subnets.map((s) => s.SubnetId!).sort());
    expect(r.calls['DescribeSubnets']).toBe(1);
    expect(r.most).toBeGreaterThan(1);
  });

  it("are read page after page, as before, when the region's subnets cannot be listed: nothing lost", async () => {
    const acc = account({ awsDefault: 5000 }, 4000);
    const r = await regionRead(acc, (aws) => {
      aws.faults['DescribeSubnets'] = () => new Error('UnauthorizedOperation');
    });
    expect(ids(r.enis)).toEqual(ids(acc.networkInterfaces));
    expect(r.inputs.every((i) => i.Filters === undefined)).toBe(true);
    expect(r.inputs).toHaveLength(Math.ceil(acc.networkInterfaces.length / 1000));
  });

  it('are read page after page when the region\'s subnet list comes back empty: nothing lost', async () => {
    const acc = account({ awsDefault: 5000 }, 4000);
    const r = await regionRead(acc, (aws) => {
      aws.faults['DescribeSubnets'] = (input) => {
        // Only the region-wide list (no filter) answers empty; the clusters' reads are not made here.
        if ((input as { Filters?: unknown }).Filters === undefined) acc.subnets.length = 0;
        return undefined;
      };
    });
    expect(r.enis).toHaveLength(acc.networkInterfaces.length);
    expect(r.inputs.every((i) => i.Filters === undefined)).toBe(true);
  });

  it("keeps, once, an ENI of the first page whose subnet the list did not name (a subnet made since)", async () => {
    const acc = account({ awsDefault: 5000 }, 0);
    const unlisted = Array.from({ length: 600 }, (_, i) => ({ NetworkInterfaceId: `eni-0new${String(i).padStart(13, '0')}`, SubnetId: 'subnet-0new00000000000', VpcId: 'vpc-0new00000000000', PrivateIpAddresses: [{ PrivateIpAddress: '10.9.0.1', Primary: true }] }));
    acc.networkInterfaces.unshift(...unlisted);
    const r = await regionRead(acc);
    expect(acc.networkInterfaces.length).toBeGreaterThan(1000);
    expect(ids(r.enis)).toEqual(ids(acc.networkInterfaces));
  });

  it('one page is one call, as before', async () => {
    const acc = account({ awsDefault: 5000 }, 0);
    expect(acc.networkInterfaces.length).toBeLessThanOrEqual(1000);
    const r = await regionRead(acc);
    expect(r.inputs).toHaveLength(1);
    expect(r.inputs[0]?.Filters).toBeUndefined();
    expect(r.calls['DescribeSubnets']).toBeUndefined();
  });
});
