// The stack's dashboard (resources/dashboard.yml), whose body stack/dashboard.ts builds from the
// metric names the sampler publishes: every graph must show a metric the sampler publishes,
// under the dimensions it publishes it with, or the graph stays empty without an error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import { measure } from '../../lib/measure/measure';
import { buildMetricData, METRIC } from '../../lib/output/publish/metrics';
import { DASHBOARD_ALARMS, dashboardBody, type DashboardParams } from '../../stack/dashboard';
import {
  addresses,
  clusterInventory,
  cniEni,
  controlPlaneEni,
  instance,
  instanceTypes,
  managedTags,
  nodegroup,
  nodePrimaryEni,
  REGION,
  subnet,
} from '../measure/builders';
import { NAMESPACE } from './expected';
import { CfnTemplate, loadTemplate, REPOSITORY_ROOT, resolveSub, resource, resourcesOfType } from './template';
import { regionEniOf } from '../../lib/inventory/region-limits';

// What resources/dashboard.yml calls at packaging time: `${file(./stack/dashboard.stack.js):body}`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const resolveStack = require('../../stack/dashboard.stack.js') as (context: {
  resolveVariable: (variable: string) => Promise<unknown>;
}) => Promise<{ body: string }>;

/** The stage params' defaults (serverless.yml `params.default`), as osls resolves them. */
const DEFAULT_PARAMS: Record<string, unknown> = {
  'param:metricNamespace': NAMESPACE,
  'param:alarmPeriodSeconds': 300,
  'param:subnetFreeIpsAlarmThreshold': 64,
  'param:controlPlaneFreeIpsAlarmThreshold': 16,
};

const resolverOf = (values: Record<string, unknown>) => async (variable: string) => {
  if (!(variable in values)) throw new Error(`unexpected variable ${variable}`);
  return values[variable];
};

/**
 * The body the dashboard had when it was written by hand in serverless.yml, before it was built
 * from the metric names: a deliberate change to the dashboard changes this file too.
 */
const HAND_WRITTEN_BODY = JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'test', 'fixtures', 'stack', 'dashboard-body.json'), 'utf8')) as unknown;

let template: CfnTemplate;

beforeAll(() => {
  template = loadTemplate();
});

const packagedBody = (): { 'Fn::Sub': string } => resource(template, 'Dashboard', 'AWS::CloudWatch::Dashboard').Properties.DashboardBody;

interface Widget {
  type: string;
  properties: { title?: string; metrics?: unknown[][]; alarms?: string[] };
}

const widgetsOf = (body: string): Widget[] => (JSON.parse(body) as { widgets: Widget[] }).widgets;

/**
 * Every metric a body graphs, as `<namespace> <metric> {<dimension names, sorted>}`: a Metrics
 * Insights query's SELECT and SCHEMA, or a metric array's namespace, name and dimension names.
 * A query of another shape is an error: it could not be checked.
 */
function graphedMetrics(body: string): string[] {
  const out: string[] = [];
  for (const widget of widgetsOf(body).filter((w) => w.type === 'metric')) {
    for (const entry of widget.properties.metrics ?? []) {
      const [first] = entry;
      if (typeof first === 'object' && first !== null && 'expression' in first) {
        const expression = String((first as { expression: unknown }).expression);
        const query = /^SELECT (?:MIN|MAX|SUM|AVG)\((\w+)\) FROM SCHEMA\("([^"]+)", ([\w, ]+)\) GROUP BY ([\w, ]+) ORDER BY (?:MIN|MAX|SUM|AVG)\(\) (?:ASC|DESC)$/.exec(expression);
        if (!query) throw new Error(`cannot read the query ${expression}`);
        const [, metric, namespace, schema, groupBy] = query as unknown as [string, string, string, string, string];
        // One series per dimension combination: the query groups by every SCHEMA dimension.
        expect({ expression, groupBy }).toEqual({ expression, groupBy: schema });
        out.push(`${namespace} ${metric} {${schema.split(', ').sort().join(',')}}`);
        continue;
      }
      const strings = entry.filter((part): part is string => typeof part === 'string');
      const [namespace, metric, ...pairs] = strings;
      const dimensions = pairs.filter((_, i) => i % 2 === 0);
      out.push(`${namespace} ${metric} {${dimensions.sort().join(',')}}`);
    }
  }
  return out;
}

/**
 * What the sampler publishes, as `<namespace> <metric> {<dimension names, sorted>}`, for a
 * cluster with every kind of figure: subnets (a control-plane one among them), nodes, ENIs, a
 * nodegroup, and a cluster that failed.
 */
function publishedMetrics(namespace: string): string[] {
  const A = 'subnet-0a1a1a1a1a1a1a1a1';
  const B = 'subnet-0b2b2b2b2b2b2b2b2';
  const node = 'i-0aaa1111aaaa1111a';
  const cluster = clusterInventory({
    name: 'prod',
    subnets: [
      [subnet(A, '10.0.1.0/24', 'eu-west-1a', 200), ['cluster', 'node']],
      [subnet(B, '10.0.2.0/28', 'eu-west-1b', 11), ['cluster']],
    ],
    networkInterfaces: [
      nodePrimaryEni(node, A, 'eu-west-1a', addresses('10.0.1.0', 10, 10)),
      cniEni(node, A, 'eu-west-1a', addresses('10.0.1.0', 20, 10), { deviceIndex: 1 }),
      controlPlaneEni('prod', A, 'eu-west-1a', '10.0.1.4'),
    ],
    instances: [instance(node, 'm5.large', A, 'eu-west-1a', managedTags('prod', 'general'))],
    nodegroups: [nodegroup('prod', 'general', ['m5.large'], [A], 1)],
  });
  // Issue 14: a Kubernetes view (every node exact, events read), so that its three metrics are published too.
  cluster.kube = {
    readAt: '2026-12-01T10:00:00.000Z',
    access: { ok: true },
    nodes: [{ name: 'ip-10-0-1-10.eu-west-1.compute.internal', instanceId: node, maxPods: 29 }],
    pods: { 'ip-10-0-1-10.eu-west-1.compute.internal': { assignedIpv4: 10, awaitingIp: 0, hostNetwork: 2 } },
    ipFailures: [],
    unread: [],
  };
  // A subnet CIDR reservation, so that SubnetReservedIps is published too.
  cluster.subnetCidrReservations = [{ SubnetCidrReservationId: 'scr-0123456789abcdef0', SubnetId: A, Cidr: '10.0.1.128/26', ReservationType: 'prefix' }];
  const usage = measure({
    region: REGION,
    collectedAt: '2026-12-01T10:00:00.000Z',
    clusters: [cluster],
    failedClusters: [{ name: 'legacy', problem: { source: 'eks:DescribeCluster', message: 'AccessDeniedException', code: 'AccessDeniedException' } }],
    instanceTypes: instanceTypes('m5.large'),
    unknownInstanceTypes: [],
    // Issue 13: the region-level section, so that its metrics are published too.
    regionLimits: {
      eniQuota: { serviceCode: 'vpc', quotaCode: 'L-DF5E4CA3', value: 5000, source: 'applied' },
      networkInterfaces: cluster.networkInterfaces.map(regionEniOf),
      eniScope: 'region',
      vpcIds: ['vpc-0a1b2c3d4e5f60718'],
      nauMetrics: {},
      problems: [],
    },
  });
  const key = (d: MetricDatum) => `${namespace} ${d.MetricName} {${(d.Dimensions ?? []).map((x) => x.Name).sort().join(',')}}`;
  return [...new Set(buildMetricData(usage).map(key))].sort();
}

describe('the dashboard', () => {
  it('is the body stack/dashboard.stack.js builds, as an Fn::Sub', async () => {
    const { body } = await resolveStack({ resolveVariable: resolverOf(DEFAULT_PARAMS) });
    expect(packagedBody()).toEqual({ 'Fn::Sub': body });
  });

  it('is the dashboard that was written by hand in serverless.yml, as JSON', () => {
    expect(JSON.parse(packagedBody()['Fn::Sub'])).toEqual(HAND_WRITTEN_BODY);
  });

  it('graphs, of the responder’s namespace, only metrics the sampler publishes, with the dimensions it publishes them with', () => {
    const published = publishedMetrics(NAMESPACE);
    // The fixture publishes every name, so that a metric missing below is the dashboard's fault.
    expect(new Set(published.map((p) => p.split(' ')[1]))).toEqual(new Set(Object.values(METRIC)));
    const graphed = graphedMetrics(packagedBody()['Fn::Sub']);
    const ours = graphed.filter((g) => g.startsWith(`${NAMESPACE} `));
    expect(ours.length).toBeGreaterThanOrEqual(10);
    for (const metric of ours) expect({ metric, published: published.includes(metric) }).toEqual({ metric, published: true });
    // The rest are the sampler function's own Lambda metrics.
    expect(graphed.filter((g) => !g.startsWith(`${NAMESPACE} `))).toEqual(['AWS/Lambda Errors {FunctionName}', 'AWS/Lambda Throttles {FunctionName}']);
  });

  it('shows the state of every alarm of the stack', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([id]) => id);
    expect([...DASHBOARD_ALARMS].sort()).toEqual(alarms.sort());
    const [widget] = widgetsOf(packagedBody()['Fn::Sub']).filter((w) => w.type === 'alarm');
    expect(widget!.properties.alarms).toEqual(DASHBOARD_ALARMS.map((id) => `\${${id}.Arn}`));
  });
});

describe('stack/dashboard.stack.js', () => {
  const PARAMS = {
    'param:metricNamespace': 'Platform/EksIps',
    // As `--param "alarmPeriodSeconds=60"` gives them: strings.
    'param:alarmPeriodSeconds': '60',
    'param:subnetFreeIpsAlarmThreshold': '128',
    'param:controlPlaneFreeIpsAlarmThreshold': 32,
  };

  it('builds the body from the params: the namespace in every query, the period of every graph, the thresholds drawn', async () => {
    const { body } = await resolveStack({ resolveVariable: resolverOf(PARAMS) });
    const widgets = widgetsOf(body).filter((w) => w.type === 'metric');
    for (const widget of widgets) expect((widget.properties as { period?: unknown }).period).toBe(60);
    const graphed = graphedMetrics(body);
    expect(graphed.filter((g) => !g.startsWith('AWS/Lambda ')).every((g) => g.startsWith('Platform/EksIps '))).toBe(true);
    expect(body).not.toContain(NAMESPACE);
    const thresholds = widgets.flatMap((w) => (w.properties as { annotations?: { horizontal: Array<{ label: string; value: number }> } }).annotations?.horizontal ?? []);
    expect(thresholds).toEqual([
      { label: 'alarm', value: 128 },
      { label: 'alarm', value: 32 },
      { label: 'EKS minimum', value: 6 },
    ]);
  });

  it('fails the packaging, naming the param, when a threshold or the period is not a number', async () => {
    for (const [name, value] of [
      ['alarmPeriodSeconds', '5m'],
      ['subnetFreeIpsAlarmThreshold', ''],
      ['controlPlaneFreeIpsAlarmThreshold', null],
    ] as const) {
      await expect(resolveStack({ resolveVariable: resolverOf({ ...PARAMS, [`param:${name}`]: value }) })).rejects.toThrow(`param ${name}: ${JSON.stringify(value)} is not a number`);
    }
  });

  it('keeps a `${` of a param literal in the Fn::Sub (escaped as `${!`)', () => {
    const params: DashboardParams = { namespace: 'Odd/${Name}', periodSeconds: 300, subnetFreeIpsAlarmThreshold: 64, controlPlaneFreeIpsAlarmThreshold: 16 };
    const values = { 'AWS::Region': 'eu-west-1', SampleLambdaFunction: 'f', ...Object.fromEntries(DASHBOARD_ALARMS.map((id) => [`${id}.Arn`, id])) };
    const resolved = resolveSub({ 'Fn::Sub': dashboardBody(params) }, values);
    expect(graphedMetrics(resolved).filter((g) => !g.startsWith('AWS/Lambda ')).every((g) => g.startsWith('Odd/${Name} '))).toBe(true);
  });
});
