/**
 * The region-level reads, once per cycle: the ENI quota from Service Quotas, the
 * region's ENIs (DescribeNetworkInterfaces, every page at 1,000, reduced page by page; past one
 * page, by subnet in lanes side by side) and the NAU
 * metrics of the clusters' VPCs (one GetMetricData). Design and call budget: docs/models.md,
 * "Region-level limits".
 */
import { paginateGetMetricData, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { paginateDescribeNetworkInterfaces, paginateDescribeSubnets, type DescribeNetworkInterfacesCommandOutput, type EC2Client, type Filter } from '@aws-sdk/client-ec2';
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, type ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { awsErrorCode } from '../errors';
import { ENI_QUOTA, regionEniOf } from '../inventory/region-limits';
import { addressesInUse } from '../measure/measure';
import { regionEnis, streamingEc2Pages } from './ec2-stream';
import type { NauMetricReading, QuotaReading, RegionEni, RegionLimitsSource } from '../inventory/types';
import { chunk } from './chunk';
import { EC2_PAGE_SIZE_MAX } from './limits';
import { METRIC_DATA_QUERIES_PER_CALL_MAX } from './metric-history';
import { mapLimit } from '../map-limit';
import { READ_LANES, subnetLanes } from './read-lanes';
import { callOptions, failureOf, hasNextPage, hookedRead, type ReadHooks } from './read-hooks';

/** The clients the region-level reads need. */
export interface RegionLimitsClients {
  ec2: EC2Client;
  serviceQuotas: ServiceQuotasClient;
  cloudwatch: CloudWatchClient;
}

/**
 * The NAU metrics: namespace AWS/EC2, `NetworkAddressUsage` and `NetworkAddressUsagePeered`,
 * dimension `Per-VPC Metrics` = the VPC id, reported every 24 hours once the VPC enables them
 * (Amazon VPC user guide, "CloudWatch metrics for your VPCs", NAU metrics and dimensions,
 * https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cloudwatch.html).
 */
export const NAU_METRICS = {
  namespace: 'AWS/EC2',
  dimension: 'Per-VPC Metrics',
  usage: 'NetworkAddressUsage',
  peered: 'NetworkAddressUsagePeered',
} as const;
/** How far back the latest daily NAU datapoint is looked for: two reports and a margin. */
export const NAU_LOOKBACK_HOURS = 72;

/** The region-level reads over the clients; `hooks` bounds and watches each read (the live source's deadline and progress). */
export class AwsRegionLimits implements RegionLimitsSource {
  constructor(
    private readonly clients: RegionLimitsClients,
    private readonly hooks: (operation: string, unit: string) => ReadHooks = () => ({}),
    /** The region's ENI pages read straight into RegionEnis (lib/aws/ec2-stream.ts): the deployed functions. */
    private readonly streaming = false,
  ) {}

  /** The quota and the region's ENIs name no VPC: read alongside the clusters (lib/inventory/collect.ts). */
  readonly independentOfClusters = true;

  /**
   * GetServiceQuota "retrieves the applied quota value ... If the applied quota value is not
   * available for a quota, the quota is not retrieved" (Service Quotas API reference,
   * https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetServiceQuota.html):
   * it then answers NoSuchResourceException, and the AWS default is read instead
   * (GetAWSDefaultServiceQuota). Any other failure (AccessDeniedException) is thrown: the
   * collector records it and takes the documented default.
   */
  async eniQuota(): Promise<QuotaReading> {
    const { serviceCode, quotaCode } = ENI_QUOTA;
    const input = { ServiceCode: serviceCode, QuotaCode: quotaCode };
    const about = `${serviceCode}/${quotaCode} (${ENI_QUOTA.name})`;
    const appliedHooks = this.hooks('servicequotas:GetServiceQuota', 'quota');
    let applied: number | undefined;
    appliedHooks.beforeRequest?.(about);
    try {
      const out = await this.clients.serviceQuotas.send(new GetServiceQuotaCommand(input), ...callOptions(appliedHooks));
      applied = out.Quota?.Value;
    } catch (err) {
      if (awsErrorCode(err) !== 'NoSuchResourceException') throw failureOf('servicequotas:GetServiceQuota', about, appliedHooks, err);
    }
    if (applied !== undefined) return { serviceCode, quotaCode, value: applied, source: 'applied' };
    const defaultHooks = this.hooks('servicequotas:GetAWSDefaultServiceQuota', 'quota');
    const value = await hookedRead('servicequotas:GetAWSDefaultServiceQuota', about, defaultHooks, async () => {
      const out = await this.clients.serviceQuotas.send(new GetAWSDefaultServiceQuotaCommand(input), ...callOptions(defaultHooks));
      if (out.Quota?.Value === undefined) throw new Error('the answer has no Quota.Value');
      return out.Quota.Value;
    });
    return { serviceCode, quotaCode, value, source: 'aws-default' };
  }

  /**
   * Every ENI of the region, with no filter: the quota counts them all, whoever created them.
   * IncludeManagedResources: the ENIs AWS services manage are listed even where their visibility
   * is hidden (EC2 API reference, DescribeNetworkInterfaces, IncludeManagedResources); they count
   * against the quota too. Reduced page by page to {@link RegionEni}.
   */
  async regionNetworkInterfaces(): Promise<{ scope: 'region'; enis: RegionEni[] }> {
    const operation = 'ec2:DescribeNetworkInterfaces';
    const hooks = this.hooks(operation, 'ENIs');
    const about = 'in the region (the ENI quota and Network Address Usage)';
    const pagesOf = (filters?: Filter[]) =>
      paginateDescribeNetworkInterfaces(
        { client: this.clients.ec2, pageSize: EC2_PAGE_SIZE_MAX, ...(this.streaming ? { withCommand: streamingEc2Pages('RegionNetworkInterfaces') } : {}) },
        { IncludeManagedResources: true, ...(filters ? { Filters: filters } : {}) },
        ...callOptions(hooks),
      );
    const take = (page: DescribeNetworkInterfacesCommandOutput, out: RegionEni[]): void => {
      const got = regionEnis(page) ?? (page.NetworkInterfaces ?? []).map(regionEniOf);
      for (const e of got) out.push(e);
      hooks.onPage?.({ items: got.length, more: hasNextPage(page), about });
    };
    return hookedRead(operation, about, hooks, async () => {
      const first: RegionEni[] = [];
      const whole = pagesOf()[Symbol.asyncIterator]();
      const page1 = await whole.next();
      if (page1.done) return { scope: 'region' as const, enis: first };
      take(page1.value, first);
      if (!hasNextPage(page1.value)) return { scope: 'region' as const, enis: first };
      // More than one page: the region's subnets' ENIs in lanes side by side (lib/aws/read-lanes.ts)
      // instead of the whole region's pages one after another. Without the subnets, the pages in turn.
      // (A list that names no subnet while ENIs exist is no list: the pages in turn too.)
      const subnets = await this.regionSubnets().catch(() => undefined);
      if (!subnets || subnets.length === 0) {
        for (let next = await whole.next(); !next.done; next = await whole.next()) take(next.value, first);
        return { scope: 'region' as const, enis: first };
      }
      await whole.return?.(undefined);
      const lanes = subnetLanes(
        subnets.map((s) => s.id),
        new Map(subnets.map((s) => [s.id, s.addressesInUse])),
      );
      const read = await mapLimit(lanes, READ_LANES, async (ids) => {
        const out: RegionEni[] = [];
        for await (const page of pagesOf([{ Name: 'subnet-id', Values: ids }])) take(page, out);
        return out;
      });
      // Page 1 again where the lanes did not see an ENI (its subnet made since the list): by id, once.
      const enis = read.flat();
      const seen = new Set(enis.map((e) => e.NetworkInterfaceId));
      for (const e of first) if (!seen.has(e.NetworkInterfaceId)) enis.push(e);
      return { scope: 'region' as const, enis };
    });
  }

  /**
   * Every subnet of the region (DescribeSubnets, no filter, pages of 1,000) with its addresses in
   * use (lib/measure/measure.ts addressesInUse), to balance the region's ENI lanes.
   */
  private async regionSubnets(): Promise<{ id: string; addressesInUse: number }[]> {
    const operation = 'ec2:DescribeSubnets';
    const hooks = this.hooks(operation, 'subnets');
    return hookedRead(operation, 'of the region (to read its ENIs in lanes)', hooks, async () => {
      const out: { id: string; addressesInUse: number }[] = [];
      for await (const page of paginateDescribeSubnets({ client: this.clients.ec2, pageSize: EC2_PAGE_SIZE_MAX }, {}, ...callOptions(hooks))) {
        for (const s of page.Subnets ?? []) {
          if (!s.SubnetId) continue;
          out.push({ id: s.SubnetId, addressesInUse: addressesInUse(s) });
        }
        hooks.onPage?.({ items: (page.Subnets ?? []).length, more: hasNextPage(page), about: 'of the region' });
      }
      return out;
    });
  }

  /**
   * The latest NetworkAddressUsage and NetworkAddressUsagePeered datapoint of each VPC in the last
   * {@link NAU_LOOKBACK_HOURS}: two queries per VPC, 500 per call (one call for up to 250 VPCs).
   * A VPC that does not enable the metrics has no datapoint, and no reading.
   */
  async networkAddressUsageMetrics(vpcIds: string[], now: Date): Promise<NauMetricReading[]> {
    const operation = 'cloudwatch:GetMetricData';
    const hooks = this.hooks(operation, 'series');
    const queries: MetricDataQuery[] = vpcIds.flatMap((vpcId, i) =>
      ([['u', NAU_METRICS.usage], ['p', NAU_METRICS.peered]] as const).map(([tag, MetricName]) => ({
        Id: `${tag}${i}`,
        MetricStat: {
          Metric: { Namespace: NAU_METRICS.namespace, MetricName, Dimensions: [{ Name: NAU_METRICS.dimension, Value: vpcId }] },
          Period: 3600,
          Stat: 'Maximum',
        },
        ReturnData: true,
      })),
    );
    const latest = new Map<string, { value: number; t: Date }>();
    const about = `NAU metrics of ${vpcIds.length} VPC(s)`;
    await hookedRead(operation, about, hooks, async () => {
      for (const batch of chunk(queries, METRIC_DATA_QUERIES_PER_CALL_MAX)) {
        for await (const page of paginateGetMetricData(
          { client: this.clients.cloudwatch },
          {
            MetricDataQueries: batch,
            StartTime: new Date(now.getTime() - NAU_LOOKBACK_HOURS * 3_600_000),
            EndTime: now,
            ScanBy: 'TimestampDescending',
          },
          ...callOptions(hooks),
        )) {
          for (const r of page.MetricDataResults ?? []) {
            const ts = r.Timestamps ?? [];
            const vs = r.Values ?? [];
            for (let k = 0; k < Math.min(ts.length, vs.length); k++) {
              const t = ts[k] as Date;
              const prev = latest.get(r.Id ?? '');
              if (!prev || t > prev.t) latest.set(r.Id ?? '', { value: vs[k] as number, t });
            }
          }
          hooks.onPage?.({ items: (page.MetricDataResults ?? []).length, more: hasNextPage(page), about });
        }
      }
    });
    return vpcIds.map((vpcId, i) => {
      const u = latest.get(`u${i}`);
      const p = latest.get(`p${i}`);
      const t = [u?.t, p?.t].filter((x): x is Date => x !== undefined).sort((a, b) => b.getTime() - a.getTime())[0];
      return {
        vpcId,
        ...(u ? { networkAddressUsage: u.value } : {}),
        ...(p ? { networkAddressUsagePeered: p.value } : {}),
        ...(t ? { timestamp: t.toISOString() } : {}),
      };
    });
  }
}
