// The organisation's central view (docs/organisation-central.md): the central stack's template
// (stack/central/central.ts) grants only to the organisation's responder roles, its sink takes
// metric links from the organisation only, and its dashboard stays bounded as accounts grow and
// reads the metrics the members publish; the member stack creates the OAM link and the central
// publishing grant only with their params, and refuses malformed ones at packaging.
import { specification } from '@aws-cdk/cfnspec';
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import { measure } from '../../lib/measure/measure';
import { buildMetricData, forecastMetricData } from '../../lib/output/publish/metrics';
import { subnetKey } from '../../lib/keys';
import { centralProblems, type PackagedTemplate } from '../../stack/checks';
import {
  centralTemplate,
  DEFAULT_PUBLISHER_ROLE_PATTERNS,
  MAX_REGIONS,
  organisationDashboard,
  TOP_N,
  type CentralOptions,
} from '../../stack/central/central';
import { addresses, clusterInventory, cniEni, instance, instanceTypes, managedTags, nodegroup, nodePrimaryEni, REGION, subnet } from '../measure/builders';
import { validateTemplate, type CfnSpecification } from './cfn-spec';
import { NAMESPACE } from './expected';
import { deployedStatements, evaluateCondition, evaluateRequest, packageWith, PSEUDO, resource, roleStatements, type CfnTemplate, type CfnValue, type Statement } from './template';

const ORG = 'o-a1b2c3d4e5';
const OPTIONS: CentralOptions = { namespace: NAMESPACE, periodSeconds: 300, regions: [] };
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:eks-ip-responder-central';
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SAMPLER = 'arn:aws:iam::210987654321:role/eks-ip-responder-prod-SamplerRole-AbC123dEf456';

type Json = Record<string, CfnValue>;

/** Every policy document of a template, by where it is. */
function policies(template: Json): Array<{ where: string; Statement: Statement[] }> {
  const out: Array<{ where: string; Statement: Statement[] }> = [];
  for (const [id, r] of Object.entries(template['Resources'] as Record<string, Json>)) {
    const p = r['Properties'] as Json;
    for (const key of ['KeyPolicy', 'PolicyDocument', 'Policy']) {
      if (p?.[key]) out.push({ where: `${id}.${key}`, Statement: (p[key] as { Statement: Statement[] }).Statement });
    }
  }
  return out;
}

/** The statements with the template's parameters in place: the organisation and the default role patterns. */
function withParameters(statements: Statement[], org = ORG): Statement[] {
  const replace = (v: CfnValue): CfnValue => {
    if (Array.isArray(v)) return v.map(replace);
    if (v && typeof v === 'object') {
      if (v.Ref === 'OrganizationId') return org;
      if (v.Ref === 'PublisherRoleArnPatterns') return DEFAULT_PUBLISHER_ROLE_PATTERNS;
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x)]));
    }
    return v;
  };
  return statements.map((s) => replace(s) as Statement);
}

const VALUES = { ...PSEUDO, CentralTopic: TOPIC_ARN, 'CentralKey.Arn': KEY_ARN };

describe('central stack template', () => {
  let spec: CfnSpecification;
  beforeAll(() => {
    spec = specification();
  });

  it('is a template CloudFormation accepts (resource specification), for one region and for several', () => {
    expect(validateTemplate(centralTemplate(OPTIONS), spec)).toEqual([]);
    expect(validateTemplate(centralTemplate({ ...OPTIONS, regions: ['eu-west-1', 'us-east-1'] }), spec)).toEqual([]);
  });

  it('conditions every Allow to everyone on the organisation (aws:PrincipalOrgID = the OrganizationId parameter)', () => {
    const all = policies(centralTemplate(OPTIONS));
    expect(all.map((p) => p.where).sort()).toEqual(['CentralKey.KeyPolicy', 'CentralTopicPolicy.PolicyDocument', 'Sink.Policy']);
    let open = 0;
    for (const { where, Statement } of all) {
      for (const s of Statement) {
        const everyone = s.Principal === '*' || (s.Principal as Json | undefined)?.['AWS'] === '*';
        if (!everyone || s.Effect === 'Deny') continue;
        open += 1;
        const condition = s.Condition as Record<string, Record<string, CfnValue>>;
        const org = Object.entries(condition).find(([, keys]) => 'aws:PrincipalOrgID' in keys);
        expect({ where, sid: s.Sid, org: org?.[1]['aws:PrincipalOrgID'] }).toEqual({ where, sid: s.Sid, org: { Ref: 'OrganizationId' } });
      }
    }
    expect(open).toBe(3);
  });

  it('lets the organisation responder roles publish (and encrypt through SNS), and nobody else', () => {
    const template = centralTemplate(OPTIONS);
    const topic = withParameters(resource(template as never, 'CentralTopicPolicy', 'AWS::SNS::TopicPolicy').Properties.PolicyDocument.Statement);
    // What a principal of another account gets: the statements open to everyone (the account's
    // own AccountAdministers statement names this account's root, which no member is).
    const key = withParameters(resource(template as never, 'CentralKey', 'AWS::KMS::Key').Properties.KeyPolicy.Statement).filter(
      (s) => (s.Principal as Json)['AWS'] === '*',
    );
    expect(key).toHaveLength(1);
    const publish = (context: Record<string, string>) => evaluateRequest(topic, { action: 'sns:Publish', resource: TOPIC_ARN, context: { 'aws:SecureTransport': 'true', ...context } }, VALUES);
    expect(publish({ 'aws:PrincipalOrgID': ORG, 'aws:PrincipalArn': SAMPLER })).toBe('allowed');
    expect(publish({ 'aws:PrincipalOrgID': ORG, 'aws:PrincipalArn': SAMPLER.replace('SamplerRole', 'RespondRole') })).toBe('allowed');
    expect(publish({ 'aws:PrincipalOrgID': 'o-zzzzzzzzzz', 'aws:PrincipalArn': SAMPLER })).toBe('implicit-deny');
    expect(publish({ 'aws:PrincipalOrgID': ORG, 'aws:PrincipalArn': 'arn:aws:iam::210987654321:role/Admin' })).toBe('implicit-deny');
    expect(publish({ 'aws:PrincipalArn': SAMPLER })).toBe('implicit-deny');
    // Publish only: not Subscribe, not topic administration.
    for (const action of ['sns:Subscribe', 'sns:SetTopicAttributes', 'sns:DeleteTopic']) {
      expect(evaluateRequest(topic, { action, resource: TOPIC_ARN, context: { 'aws:PrincipalOrgID': ORG, 'aws:PrincipalArn': SAMPLER } }, VALUES)).toBe('implicit-deny');
    }
    const encrypt = (context: Record<string, string>) => evaluateRequest(key, { action: 'kms:GenerateDataKey', resource: KEY_ARN, context }, VALUES);
    expect(encrypt({ 'aws:PrincipalOrgID': ORG, 'aws:PrincipalArn': SAMPLER, 'kms:ViaService': 'sns.eu-west-1.amazonaws.com' })).toBe('allowed');
    expect(encrypt({ 'aws:PrincipalOrgID': ORG, 'aws:PrincipalArn': SAMPLER, 'kms:ViaService': 's3.eu-west-1.amazonaws.com' })).toBe('implicit-deny');
    expect(encrypt({ 'aws:PrincipalOrgID': 'o-zzzzzzzzzz', 'aws:PrincipalArn': SAMPLER, 'kms:ViaService': 'sns.eu-west-1.amazonaws.com' })).toBe('implicit-deny');
    expect(evaluateRequest(key, { action: 'kms:ScheduleKeyDeletion', resource: KEY_ARN, context: { 'aws:PrincipalOrgID': ORG, 'aws:PrincipalArn': SAMPLER } }, VALUES)).toBe('implicit-deny');
  });

  it('takes metric links from the organisation only, and nothing but metrics', () => {
    const sink = withParameters(resource(centralTemplate(OPTIONS) as never, 'Sink', 'AWS::Oam::Sink').Properties.Policy.Statement);
    const link = (context: Record<string, string | string[]>) => evaluateRequest(sink, { action: 'oam:CreateLink', resource: '*', context }, VALUES);
    expect(link({ 'aws:PrincipalOrgID': ORG, 'oam:ResourceTypes': ['AWS::CloudWatch::Metric'] })).toBe('allowed');
    expect(link({ 'aws:PrincipalOrgID': 'o-zzzzzzzzzz', 'oam:ResourceTypes': ['AWS::CloudWatch::Metric'] })).toBe('implicit-deny');
    expect(link({ 'aws:PrincipalOrgID': ORG, 'oam:ResourceTypes': ['AWS::CloudWatch::Metric', 'AWS::Logs::LogGroup'] })).toBe('implicit-deny');
    expect(evaluateRequest(sink, { action: 'oam:DeleteSink', resource: '*', context: { 'aws:PrincipalOrgID': ORG } }, VALUES)).toBe('implicit-deny');
  });

  it('fails this test file when a grant loses its organisation condition (the check can fail)', () => {
    const template = centralTemplate(OPTIONS);
    const topic = resource(template as never, 'CentralTopicPolicy', 'AWS::SNS::TopicPolicy').Properties.PolicyDocument.Statement as Statement[];
    delete (topic[0]!.Condition as Json)['StringEquals'];
    const broken = withParameters(topic);
    expect(evaluateRequest(broken, { action: 'sns:Publish', resource: TOPIC_ARN, context: { 'aws:PrincipalOrgID': 'o-zzzzzzzzzz', 'aws:PrincipalArn': SAMPLER } }, VALUES)).toBe('allowed');
  });
});

interface Widget {
  type: string;
  properties: { region?: string; metrics?: Array<Array<{ expression?: string }>> };
}

const queriesOf = (options: CentralOptions): string[] =>
  (organisationDashboard(options)['widgets'] as Widget[]).flatMap((w) => (w.properties.metrics ?? []).flatMap((m) => m.map((x) => x.expression ?? '')));

/**
 * What a member publishes, as `<metric> {<dimension names, sorted>}`: one cluster with subnets,
 * nodes, a nodegroup and forecasts, and a cluster that failed.
 */
function published(): Set<string> {
  const A = 'subnet-0a1a1a1a1a1a1a1a1';
  const node = 'i-0aaa1111aaaa1111a';
  const cluster = clusterInventory({
    name: 'prod',
    subnets: [[subnet(A, '10.0.1.0/24', 'eu-west-1a', 200), ['cluster', 'node']]],
    networkInterfaces: [nodePrimaryEni(node, A, 'eu-west-1a', addresses('10.0.1.0', 10, 10)), cniEni(node, A, 'eu-west-1a', addresses('10.0.1.0', 20, 10), { deviceIndex: 1 })],
    instances: [instance(node, 'm5.large', A, 'eu-west-1a', managedTags('prod', 'general'))],
    nodegroups: [nodegroup('prod', 'general', ['m5.large'], [A], 1)],
  });
  const usage = measure({
    region: REGION,
    collectedAt: '2026-12-01T10:00:00.000Z',
    clusters: [cluster],
    failedClusters: [{ name: 'legacy', problem: { source: 'eks:DescribeCluster', message: 'AccessDeniedException', code: 'AccessDeniedException' } }],
    instanceTypes: instanceTypes('m5.large'),
    unknownInstanceTypes: [],
  });
  const falling = { trend: 'decreasing', hoursToExhaustion: 12 } as never;
  const data: MetricDatum[] = [
    ...buildMetricData(usage),
    ...forecastMetricData({ subnets: new Map([[subnetKey('prod', A), falling]]), clusters: new Map([['prod', falling]]) }, new Date(usage.collectedAt)),
  ];
  return new Set(data.map((d) => `${d.MetricName} {${(d.Dimensions ?? []).map((x) => x.Name).sort().join(',')}}`));
}

describe('organisation dashboard', () => {
  it('has the same widgets whatever the number of accounts: a row per region, top-N queries grouped by account', () => {
    const one = organisationDashboard(OPTIONS)['widgets'] as Widget[];
    const two = organisationDashboard({ ...OPTIONS, regions: ['eu-west-1', 'us-east-1'] })['widgets'] as Widget[];
    expect(one).toHaveLength(8);
    expect(two).toHaveLength(1 + 2 * 7);
    expect(() => centralTemplate({ ...OPTIONS, regions: Array.from({ length: MAX_REGIONS + 1 }, (_, i) => `eu-west-${i}`) })).toThrow(/at most/);
    // No account id anywhere: accounts come from the query (AWS.AccountId), never from the template.
    expect(JSON.stringify(two)).not.toMatch(/\d{12}/);
    for (const q of queriesOf({ ...OPTIONS, regions: ['eu-west-1'] })) {
      expect(q).toMatch(/GROUP BY AWS\.AccountId, /);
      expect(q).toMatch(new RegExp(`ORDER BY (MIN|MAX)\\(\\) (ASC|DESC) LIMIT ${TOP_N}$`));
    }
    expect(two.filter((w) => w.type === 'metric').map((w) => w.properties.region)).toEqual([...Array(6).fill('eu-west-1'), ...Array(6).fill('us-east-1')]);
  });

  it('queries only metrics the members publish, under the dimensions they publish them with', () => {
    const members = published();
    const graphed = queriesOf(OPTIONS).map((q) => {
      const m = /^SELECT (?:MIN|MAX)\((\w+)\) FROM SCHEMA\("([^"]+)", ([\w, ]+)\) GROUP BY AWS\.AccountId, ([\w, ]+) ORDER BY/.exec(q);
      if (!m) throw new Error(`cannot read the query ${q}`);
      expect(m[2]).toBe(NAMESPACE);
      expect(m[4]).toBe(m[3]);
      return `${m[1]} {${m[3]!.split(', ').sort().join(',')}}`;
    });
    expect(graphed.length).toBe(6);
    for (const g of graphed) expect({ g, published: members.has(g) }).toEqual({ g, published: true });
  });
});

describe('member stack, central params', () => {
  const CENTRAL = 'arn:aws:sns:us-east-1:999988887777:eks-ip-responder-central';
  const SINK = 'arn:aws:oam:eu-west-1:999988887777:sink/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';
  let off: CfnTemplate;
  let on: CfnTemplate;
  const removers: Array<() => void> = [];
  beforeAll(() => {
    const a = packageWith({});
    const b = packageWith({ centralTopicArn: CENTRAL, oamSinkIdentifier: SINK });
    removers.push(a.remove, b.remove);
    off = a.template;
    on = b.template;
  }, 180_000);
  afterAll(() => removers.forEach((r) => r()));

  const central = (template: CfnTemplate, role: string) =>
    deployedStatements(template, roleStatements(template, role)).filter((s) => ['PublishCentral', 'EncryptCentral'].includes(String(s.Sid)));

  it('creates neither the link nor the grant by default', () => {
    expect(evaluateCondition(off, 'HasOamSink')).toBe(false);
    expect(evaluateCondition(off, 'HasCentralTopic')).toBe(false);
    expect(resource(off, 'OamLink', 'AWS::Oam::Link').Condition).toBe('HasOamSink');
    expect(resource(off, 'CentralPublishPolicy', 'AWS::IAM::Policy').Condition).toBe('HasCentralTopic');
    for (const role of ['SamplerRole', 'RespondRole']) expect(central(off, role)).toEqual([]);
  });

  it('with the params: a metrics link to the sink, and sns:Publish on the central topic only, for both roles', () => {
    expect(evaluateCondition(on, 'HasOamSink')).toBe(true);
    expect(evaluateCondition(on, 'HasCentralTopic')).toBe(true);
    const link = resource(on, 'OamLink', 'AWS::Oam::Link').Properties;
    expect(link).toMatchObject({ SinkIdentifier: SINK, ResourceTypes: ['AWS::CloudWatch::Metric'] });
    expect(resource(on, 'CentralPublishPolicy', 'AWS::IAM::Policy').Properties.Roles).toEqual([{ Ref: 'SamplerRole' }, { Ref: 'RespondRole' }]);
    for (const role of ['SamplerRole', 'RespondRole']) {
      const statements = deployedStatements(on, roleStatements(on, role));
      expect(central(on, role).map((s) => s.Sid)).toEqual(['PublishCentral', 'EncryptCentral']);
      // The role's whole policy: its own topic and the central one, nothing else.
      const own = 'arn:aws:sns:eu-west-1:123456789012:eks-ip-responder-test-alerts';
      const publish = (arn: string) => evaluateRequest(statements, { action: 'sns:Publish', resource: arn }, { ...PSEUDO, AlertTopic: own });
      expect(publish(own)).toBe('allowed');
      expect(publish(CENTRAL)).toBe('allowed');
      expect(publish(`${CENTRAL}-other`)).toBe('implicit-deny');
      expect(publish('arn:aws:sns:us-east-1:999988887777:anything')).toBe('implicit-deny');
      // The key: a key of the topic's account and region, through SNS there only.
      const key = 'arn:aws:kms:us-east-1:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab';
      const encrypt = (resourceArn: string, via: string) =>
        evaluateRequest(central(on, role), { action: 'kms:GenerateDataKey', resource: resourceArn, context: { 'kms:ViaService': via } });
      expect(encrypt(key, 'sns.us-east-1.amazonaws.com')).toBe('allowed');
      expect(encrypt(key, 's3.us-east-1.amazonaws.com')).toBe('implicit-deny');
      expect(encrypt(key.replace('999988887777', '111111111111'), 'sns.us-east-1.amazonaws.com')).toBe('implicit-deny');
      expect(encrypt(key.replace('us-east-1', 'eu-west-1'), 'sns.us-east-1.amazonaws.com')).toBe('implicit-deny');
    }
    // The functions know the topic.
    const env = resource(on, 'SampleLambdaFunction', 'AWS::Lambda::Function').Properties.Environment.Variables;
    expect(env.CENTRAL_TOPIC_ARN).toBe(CENTRAL);
  });

  it('refuses a malformed topic ARN or a sink of another region at packaging, naming the param', () => {
    const template = (arn: string, sink: string): PackagedTemplate => ({
      Resources: {
        F: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { CENTRAL_TOPIC_ARN: arn } } } },
        L: { Type: 'AWS::Oam::Link', Properties: { SinkIdentifier: sink } },
      },
    });
    expect(centralProblems(template('', ''), 'eu-west-1')).toEqual([]);
    expect(centralProblems(template(CENTRAL, SINK), 'eu-west-1')).toEqual([]);
    expect(centralProblems(template('eks-ip-responder-central', ''), 'eu-west-1')).toEqual([expect.stringMatching(/^centralTopicArn: .* is not an SNS topic ARN/)]);
    expect(centralProblems(template('', 'sink/abc'), 'eu-west-1')).toEqual([expect.stringMatching(/^oamSinkIdentifier: .* is not an OAM sink ARN/)]);
    expect(centralProblems(template('', SINK), 'us-east-1')).toEqual([expect.stringMatching(/^oamSinkIdentifier: the sink is in eu-west-1, this stack in us-east-1/)]);
    expect(() => packageWith({ oamSinkIdentifier: SINK }, { region: 'us-east-1' })).toThrow(/oamSinkIdentifier: the sink is in eu-west-1/);
  }, 120_000);
});
