// The stack's alarms (resources/alarms.yml) spell the metric names by hand, in MetricName and in
// Metrics Insights queries; the sampler publishes the names of METRIC (lib/output/publish/metrics.ts).
// An alarm on a name the sampler does not publish, or in another namespace, never fires and says
// nothing: every metric an alarm of the packaged template watches is either an AWS service metric
// (AWS/*) or a METRIC name in the namespace the functions publish to.
// (The alarms stay hand-written YAML: their CloudFormation conditions and parameters read better
// there than built by a helper; this test is what ties them to the constants.)
import { METRIC } from '../../lib/output/publish/metrics';
import { NAMESPACE } from './expected';
import { CfnTemplate, CfnValue, loadTemplate, resourcesOfType } from './template';

/** One metric an alarm watches, and where the alarm names it. */
interface MetricRef {
  namespace: string;
  name: string;
  where: string;
}

/**
 * The strings a CloudFormation value can resolve to: the value itself, both branches of an
 * `Fn::If`, the template of an `Fn::Sub`. Anything else is an error: teach this test the new form.
 */
function stringsOf(value: CfnValue, where: string): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const [fn, args] = Object.entries(value as Record<string, CfnValue>)[0] ?? [];
    if (fn === 'Fn::If' && Array.isArray(args)) return [...stringsOf(args[1], where), ...stringsOf(args[2], where)];
    if (fn === 'Fn::Sub') return stringsOf(Array.isArray(args) ? args[0] : args, where);
  }
  throw new Error(`${where}: a value this test cannot read: ${JSON.stringify(value)}`);
}

/**
 * The metrics a metric-math or Metrics Insights expression names. A Metrics Insights query
 * (`SELECT FN(Metric) FROM SCHEMA("Namespace", ...)` or `FROM "Namespace"`) names one; a SEARCH
 * names its MetricName and namespace; plain metric math names the other queries by Id only, each of
 * which must be a query of the same alarm.
 */
function expressionMetrics(expression: string, ids: ReadonlySet<string>, where: string): MetricRef[] {
  const select = /^\s*SELECT\s+\w+\(\s*("[^"]+"|\w+)\s*\)\s+FROM\s+(?:SCHEMA\(\s*"([^"]+)"|"([^"]+)"|([\w/]+))/i.exec(expression);
  if (select) {
    const name = select[1]!.replace(/^"|"$/g, '');
    return [{ namespace: select[2] ?? select[3] ?? select[4]!, name, where: `${where}: ${expression}` }];
  }
  if (/^\s*SELECT\b/i.test(expression)) throw new Error(`${where}: a Metrics Insights query this test cannot read: ${expression}`);
  if (/\bSEARCH\s*\(/i.test(expression)) {
    const name = /MetricName\s*=\s*"?([\w.-]+)"?/.exec(expression)?.[1];
    const namespace = /\{\s*"?([^,"}]+)"?/.exec(expression)?.[1];
    if (!name || !namespace) throw new Error(`${where}: a SEARCH this test cannot read (no MetricName or namespace): ${expression}`);
    return [{ namespace: namespace.trim(), name, where: `${where}: ${expression}` }];
  }
  // Metric math: every identifier that is not a function call is another query's Id.
  const unknown = [...expression.matchAll(/\b([A-Za-z_]\w*)\b(?!\s*\()/g)].map((m) => m[1]!).filter((id) => !ids.has(id));
  if (unknown.length > 0) throw new Error(`${where}: metric math naming no query of the alarm: ${unknown.join(', ')} in ${expression}`);
  return [];
}

/** Every metric an alarm watches: its MetricName, or each of its Metrics (MetricStat or Expression). */
function alarmMetrics(id: string, properties: Record<string, CfnValue>): MetricRef[] {
  if (properties['MetricName'] !== undefined) {
    return [{ namespace: properties['Namespace'] as string, name: properties['MetricName'] as string, where: `${id}.MetricName` }];
  }
  const queries = (properties['Metrics'] ?? []) as Array<Record<string, CfnValue>>;
  const ids = new Set(queries.map((q) => q['Id'] as string));
  return queries.flatMap((q) => {
    const where = `${id}.Metrics[${String(q['Id'])}]`;
    if (q['MetricStat']) {
      const metric = (q['MetricStat'] as { Metric: { Namespace: string; MetricName: string } }).Metric;
      return [{ namespace: metric.Namespace, name: metric.MetricName, where: `${where}.MetricStat` }];
    }
    if (q['Expression'] !== undefined) return stringsOf(q['Expression'], where).flatMap((e) => expressionMetrics(e, ids, `${where}.Expression`));
    throw new Error(`${where}: neither MetricStat nor Expression`);
  });
}

const PUBLISHED: ReadonlySet<string> = new Set(Object.values(METRIC));

let template: CfnTemplate;
let alarms: Array<[string, MetricRef[]]>;

beforeAll(() => {
  template = loadTemplate();
  alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([id, r]) => [id, alarmMetrics(id, r.Properties)]);
});

describe("the alarms' metrics", () => {
  it('are read from every alarm (each watches at least one metric)', () => {
    expect(alarms.length).toBeGreaterThan(0);
    expect(alarms.filter(([, refs]) => refs.length === 0).map(([id]) => id)).toEqual([]);
  });

  it('are published in the namespace the functions publish to', () => {
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    for (const [, fn] of functions) {
      expect((fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables['METRIC_NAMESPACE']).toBe(NAMESPACE);
    }
  });

  it('are METRIC names in the stack namespace, or AWS service metrics', () => {
    const refs = alarms.flatMap(([, r]) => r);
    const wrong = refs
      .filter((r) => !r.namespace.startsWith('AWS/'))
      .filter((r) => r.namespace !== NAMESPACE || !PUBLISHED.has(r.name))
      .map((r) => `${r.where}: ${r.namespace} ${r.name}`);
    expect(wrong).toEqual([]);
    // Not vacuous: the stack's own metrics are among them, through every form an alarm uses.
    const own = new Set(refs.filter((r) => r.namespace === NAMESPACE).map((r) => r.name));
    expect([...own]).toEqual(expect.arrayContaining([METRIC.SubnetAvailableIps, METRIC.ControlPlaneMinAvailableIps, METRIC.ClustersFailed, METRIC.ClustersSampled]));
  });

  it('are never a METRIC name in an AWS namespace (a name of ours under AWS/ is a mistake)', () => {
    const misplaced = alarms.flatMap(([, r]) => r).filter((r) => r.namespace.startsWith('AWS/') && PUBLISHED.has(r.name));
    expect(misplaced).toEqual([]);
  });
});

describe('expressionMetrics (what the test reads from an expression)', () => {
  const ids = new Set(['duration']);
  it.each([
    ['SELECT MIN(SubnetAvailableIps) FROM SCHEMA("EKS/IPResponder", ClusterName, SubnetId) GROUP BY ClusterName', 'EKS/IPResponder', 'SubnetAvailableIps'],
    ['SELECT MAX("SubnetIpsHeld") FROM "EKS/IPResponder"', 'EKS/IPResponder', 'SubnetIpsHeld'],
    ['SEARCH(\'{EKS/IPResponder,ClusterName} MetricName="ClusterAvailableIps"\', \'Minimum\')', 'EKS/IPResponder', 'ClusterAvailableIps'],
  ])('%s names %s %s', (expression, namespace, name) => {
    expect(expressionMetrics(expression, ids, 'x')).toEqual([expect.objectContaining({ namespace, name })]);
  });

  it('reads a misspelt name as it is, for the check above to refuse it', () => {
    const [ref] = expressionMetrics('SELECT MIN(SubnetAvailableIp) FROM SCHEMA("EKS/IPResponder", ClusterName)', ids, 'x');
    expect(PUBLISHED.has(ref!.name)).toBe(false);
  });

  it('accepts metric math over the Ids of the alarm, and refuses a name that is none', () => {
    expect(expressionMetrics('duration / 120 / 10', ids, 'x')).toEqual([]);
    expect(() => expressionMetrics('FILL(ClustersSampled, 0)', ids, 'x')).toThrow(/ClustersSampled/);
  });
});
