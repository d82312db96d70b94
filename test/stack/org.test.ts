// The StackSet template (`npm run package:org`, stack/org.ts, scripts/package-org.ts): first the
// rewrite on small templates, each guarantee broken on purpose; then the stack packaged for the
// organisation, with the defaults and with the optional params, checked as it would be deployed:
// no osls deployment bucket, code from the per-region bucket, every serverless.yml param a
// Parameter or fixed at packaging, valid against the CloudFormation resource specification.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  CLUSTER_NAMES_WITH_KUBERNETES,
  deployTimeParams,
  OrgParam,
  PACKAGING_TIME_PARAMS,
  PARAMETER_CONSTRAINTS,
  parameterisationProblems,
  parameterName,
  resolveParameters,
  toStackSet,
} from '../../stack/org';
import { parseRuntimeConfig } from '../../lib/config';
import { policyJson } from '../../lib/policy/load';
import { readPolicyFile } from '../../lib/policy/yaml';
import { packageOrg, parseArgs, publishInstructions, resolveStageParams, type OrgPackage, type OrgPackageOptions } from '../../scripts/package-org';
import { validateTemplate, validateTemplateFile, loadSpecification } from './cfn-spec';
import { REPOSITORY_ROOT } from './template';
import { OAM_SINK_ARN, SNS_TOPIC_ARN } from '../../stack/checks';
import { parseCentralPolicyLocation } from '../../lib/policy/central';
import { OPTIONAL_PARAMS } from './variants';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const CODE = { bucketPrefix: 'org-code', keyPrefix: 'eks/', keys: { 'sample.zip': 'sample-abc.zip' } };
const param = (name: string, value: string | number, sentinel: string | number): OrgParam => ({
  name,
  parameter: parameterName(name),
  default: value,
  sentinel,
});

/** A packaged template in osls's shape, with sentinels where the params went. */
function packaged(): Json {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'eks-ip-responder (prod)',
    Conditions: { HasAlertEmail: { 'Fn::Not': [{ 'Fn::Equals': ['', 'zzorgparam1zz'] }] } },
    Resources: {
      ServerlessDeploymentBucket: { Type: 'AWS::S3::Bucket', Properties: {} },
      ServerlessDeploymentBucketPolicy: {
        Type: 'AWS::S3::BucketPolicy',
        Properties: { Bucket: { Ref: 'ServerlessDeploymentBucket' }, PolicyDocument: { Statement: [] } },
      },
      SampleLambdaFunction: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Code: { S3Bucket: { Ref: 'ServerlessDeploymentBucket' }, S3Key: 'serverless/x/prod/123/sample.zip' },
          Handler: 'handlers/sample.handler',
          Runtime: 'nodejs22.x',
          Role: 'arn:aws:iam::123456789012:role/r',
          MemorySize: 9973,
          Environment: {
            Variables: {
              NAMESPACE: 'zzorgparam0zz',
              DASHBOARD: 'eks-prod-mx-central-1',
              TEMPLATE: 'literal ${NotAVariable} zzorgparam0zz',
              UNRELATED: 99730,
            },
          },
        },
      },
      Topic: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: { 'Fn::Sub': '${AWS::Region} zzorgparam0zz' } } },
      Subscription: {
        Type: 'AWS::SNS::Subscription',
        Condition: 'HasAlertEmail',
        Properties: { TopicArn: { Ref: 'Topic' }, Protocol: 'email', Endpoint: 'zzorgparam1zz' },
      },
    },
    Outputs: {
      ServerlessDeploymentBucketName: { Value: { Ref: 'ServerlessDeploymentBucket' } },
      TopicArn: { Value: { Ref: 'Topic' } },
    },
  };
}

const PARAMS = [param('metricNamespace', 'EKS/IPResponder', 'zzorgparam0zz'), param('alertEmail', '', 'zzorgparam1zz'), param('memorySize', 512, 9973)];
const OPTIONS = { params: PARAMS, region: 'mx-central-1', code: CODE };

describe('toStackSet', () => {
  it('removes the osls deployment bucket and what refers to it, and takes the code from the per-region bucket', () => {
    const { template, problems } = toStackSet(packaged(), OPTIONS);
    expect(problems).toEqual([]);
    expect(Object.keys(template.Resources)).toEqual(['SampleLambdaFunction', 'Topic', 'Subscription']);
    expect(Object.keys(template.Outputs)).toEqual(['TopicArn']);
    expect(template.Resources.SampleLambdaFunction.Properties.Code).toEqual({
      S3Bucket: { 'Fn::Sub': '${CodeBucketPrefix}-${AWS::Region}' },
      S3Key: { 'Fn::Sub': '${CodeKeyPrefix}sample-abc.zip' },
    });
    expect(template.Parameters.CodeBucketPrefix.Default).toBe('org-code');
    expect(template.Parameters.CodeKeyPrefix.Default).toBe('eks/');
  });

  it('makes each sentinel a Ref or an Fn::Sub variable, and the region ${AWS::Region}', () => {
    const { template } = toStackSet(packaged(), OPTIONS);
    const fn = template.Resources.SampleLambdaFunction.Properties;
    expect(fn.MemorySize).toEqual({ Ref: 'MemorySize' });
    expect(fn.Environment.Variables).toEqual({
      NAMESPACE: { Ref: 'MetricNamespace' },
      DASHBOARD: { 'Fn::Sub': 'eks-prod-${AWS::Region}' },
      // A literal ${...} of a plain string stays literal once the string is an Fn::Sub.
      TEMPLATE: { 'Fn::Sub': 'literal ${!NotAVariable} ${MetricNamespace}' },
      // A longer number that contains a sentinel's digits is not the sentinel.
      UNRELATED: 99730,
    });
    expect(template.Resources.Topic.Properties.DisplayName).toEqual({ 'Fn::Sub': '${AWS::Region} ${MetricNamespace}' });
    expect(template.Conditions.HasAlertEmail).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', { Ref: 'AlertEmail' }] }] });
    expect(template.Parameters.MemorySize).toMatchObject({ Type: 'Number', Default: 512, MinValue: 128, MaxValue: 10240 });
    expect(template.Parameters.AlertEmail).toMatchObject({ Type: 'String', Default: '' });
  });

  it('is valid against the specification, and with its Parameters at their defaults gives back the values', () => {
    const { template } = toStackSet(packaged(), OPTIONS);
    expect(validateTemplate(template, loadSpecification())).toEqual([]);
    const resolved = resolveParameters(template, { MetricNamespace: 'EKS/IPResponder', AlertEmail: '', MemorySize: 512 });
    expect(resolved.Resources.SampleLambdaFunction.Properties.Environment.Variables.TEMPLATE).toBe('literal ${NotAVariable} EKS/IPResponder');
    expect(resolved.Resources.SampleLambdaFunction.Properties.MemorySize).toBe('512');
  });

  it.each<[string, (t: Json) => void, string]>([
    ['in a logical id', (t) => {
      t.Resources.Topiczzorgparam0zz = t.Resources.Topic;
    }, 'Resources.Topiczzorgparam0zz: param metricNamespace is in a place that takes no intrinsic function'],
    ['in a resource Condition', (t) => {
      t.Resources.Topic.Condition = 'Iszzorgparam0zz';
    }, 'Resources.Topic.Condition: param metricNamespace is in a place that takes no intrinsic function'],
    ['in an Fn::If condition name', (t) => {
      t.Resources.Topic.Properties.TopicName = { 'Fn::If': ['zzorgparam0zz', 'a', 'b'] };
    }, 'Resources.Topic.Properties.TopicName.Fn::If[0]: param metricNamespace is in a place that takes no intrinsic function'],
    ['in an object key', (t) => {
      t.Resources.Topic.Properties.Tags = [{ Key: 'k', Value: 'v', zzorgparam0zz: 1 }];
    }, 'param metricNamespace is in a place that takes no intrinsic function'],
    ['in the template Description', (t) => {
      t.Description = 'for zzorgparam0zz';
    }, 'Description: param metricNamespace is in a place that takes no intrinsic function'],
    ['in a Join delimiter', (t) => {
      t.Resources.Topic.Properties.TopicName = { 'Fn::Join': ['zzorgparam0zz', ['a', 'b']] };
    }, 'Resources.Topic.Properties.TopicName.Fn::Join[0]: param metricNamespace is in a place that takes no intrinsic function'],
  ])('refuses a sentinel %s', (_name, mutate, problem) => {
    const template = packaged();
    mutate(template);
    expect(toStackSet(template, OPTIONS).problems.join('\n')).toContain(problem);
  });

  it('refuses code it cannot place, and a Parameter name already taken', () => {
    const template = packaged();
    template.Resources.SampleLambdaFunction.Properties.Code = { ZipFile: 'exports.handler = 1' };
    template.Resources.MemorySize = { Type: 'AWS::SNS::Topic', Properties: {} };
    expect(toStackSet(template, OPTIONS).problems).toEqual([
      'Resources.SampleLambdaFunction.Properties.Code: not in the osls deployment bucket ({"ZipFile":"exports.handler = 1"})',
      'Parameters.MemorySize: the name of param memorySize is taken already',
    ]);
  });

  it('finds a param that shapes the template at packaging (its sentinel transformed, or consumed)', () => {
    const sentinel = packaged();
    // As if the packaging had upper-cased the namespace, and derived a number from the memory.
    sentinel.Resources.SampleLambdaFunction.Properties.Environment.Variables.NAMESPACE = 'ZZORGPARAM0ZZ';
    sentinel.Resources.SampleLambdaFunction.Properties.Timeout = 9973 / 2;
    const values = packaged();
    const fnValues = values.Resources.SampleLambdaFunction.Properties;
    Object.assign(fnValues, { MemorySize: 512, Timeout: 256 });
    Object.assign(fnValues.Environment.Variables, {
      NAMESPACE: 'EKS/IPRESPONDER',
      DASHBOARD: 'eks-prod-il-central-1',
      TEMPLATE: 'literal ${NotAVariable} EKS/IPResponder',
    });
    values.Conditions.HasAlertEmail = { 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] };
    values.Resources.Subscription.Properties.Endpoint = '';
    values.Resources.Topic.Properties.DisplayName = { 'Fn::Sub': '${AWS::Region} EKS/IPResponder' };
    const stackSet = toStackSet(sentinel, OPTIONS).template;
    const reference = toStackSet(values, { params: [], region: 'il-central-1', code: CODE }).template;
    expect(parameterisationProblems(stackSet, reference, PARAMS).join('\n')).toMatch(
      /list it in PACKAGING_TIME_PARAMS[^]*NAMESPACE: "ZZORGPARAM0ZZ" != "EKS\/IPRESPONDER"[^]*Timeout: "4986.5" != "256"/,
    );
    // Without the transformation, the same two agree.
    sentinel.Resources.SampleLambdaFunction.Properties.Environment.Variables.NAMESPACE = 'zzorgparam0zz';
    values.Resources.SampleLambdaFunction.Properties.Environment.Variables.NAMESPACE = 'EKS/IPResponder';
    delete sentinel.Resources.SampleLambdaFunction.Properties.Timeout;
    delete values.Resources.SampleLambdaFunction.Properties.Timeout;
    expect(parameterisationProblems(toStackSet(sentinel, OPTIONS).template, toStackSet(values, { params: [], region: 'il-central-1', code: CODE }).template, PARAMS)).toEqual([]);
  });
});

describe('deployTimeParams', () => {
  it('makes every param a Parameter but the packaging-time ones, a new one included', () => {
    const resolved = { scheduleRate: 'rate(5 minutes)', memorySize: 512, kubernetesClusters: '', vpcSubnetIds: '', centralTopicArn: '' };
    const params = deployTimeParams(resolved);
    expect(params.map((p) => p.name)).toEqual(['scheduleRate', 'memorySize', 'centralTopicArn']);
    expect(params.find((p) => p.name === 'centralTopicArn')).toMatchObject({ parameter: 'CentralTopicArn', default: '' });
    // The sentinels osls accepts: a rate expression for a schedule, a valid memory size.
    expect(params.find((p) => p.name === 'scheduleRate')?.sentinel).toMatch(/^rate\(\d+ minutes\)$/);
    expect(params.find((p) => p.name === 'memorySize')?.sentinel).toBe(9973);
    // An ARN that stack/checks.ts accepts, for a param it checks as one.
    expect(String(params.find((p) => p.name === 'centralTopicArn')?.sentinel)).toMatch(SNS_TOPIC_ARN);
    expect(new Set(params.map((p) => String(p.sentinel))).size).toBe(params.length);
  });

  it("gives the params checked as ARNs a sentinel the packaging accepts and a pattern that takes what the checks take", () => {
    const resolved = { centralTopicArn: '', oamSinkIdentifier: '', centralPolicy: '' };
    const cases: Record<string, { good: string[]; bad: string[]; check: (v: string) => boolean }> = {
      centralTopicArn: { good: ['arn:aws:sns:us-east-1:999988887777:eks-ip-responder-central'], bad: ['eks-ip-responder-central', 'arn:aws:sqs:us-east-1:999988887777:q'], check: (v) => SNS_TOPIC_ARN.test(v) },
      oamSinkIdentifier: { good: ['arn:aws:oam:eu-west-1:999988887777:sink/a1b2c3d4-5678'], bad: ['sink/a1b2', 'arn:aws:oam:eu-west-1:999988887777:link/x'], check: (v) => OAM_SINK_ARN.test(v) },
      centralPolicy: {
        good: ['arn:aws:ssm:eu-west-1:999988887777:parameter/eks-ip-responder/policy', 's3://acme-policies/eks-ip-responder/policy.json'],
        bad: [
          'policy.yml',
          's3://a/x',
          'arn:aws:ssm:eu-west-1:999988887777:document/x',
          // IAM wildcards and policy variables would widen the ReadCentralPolicy grant (the functions refuse them too).
          'arn:aws:ssm:eu-west-1:999988887777:parameter/*',
          'arn:aws:ssm:eu-west-1:999988887777:parameter/eks-ip-responder/polic?',
          's3://acme-policies/*',
          's3://acme-policies/${aws:PrincipalAccount}/policy.json',
          // What the functions would refuse at cold start, stopping every invocation.
          'arn:aws:ssm:euwest1:999988887777:parameter/p',
          'arn:aws:ssm:eu-west-1:999988887777:parameter/a//b',
          'arn:aws:ssm:eu-west-1:999988887777:parameter/a/',
        ],
        check: (v) => parseCentralPolicyLocation(v) !== undefined,
      },
    };
    for (const p of deployTimeParams(resolved)) {
      const { good, bad, check } = cases[p.name]!;
      const pattern = new RegExp(PARAMETER_CONSTRAINTS[p.name]!.AllowedPattern!);
      expect({ name: p.name, sentinel: check(String(p.sentinel)) }).toEqual({ name: p.name, sentinel: true });
      for (const v of ['', ...good]) expect({ v, ok: pattern.test(v) }).toEqual({ v, ok: true });
      for (const v of bad) expect({ v, ok: pattern.test(v) }).toEqual({ v, ok: false });
      // Nothing the pattern takes is refused by the functions (a value they refuse stops every invocation).
      for (const v of good) expect({ v, taken: check(v) }).toEqual({ v, taken: true });
    }
  });

  it('admits no value the functions refuse at cold start (which would make every invocation an error)', () => {
    const env = { ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:alerts', LEDGER_TABLE: 'eks-ip-responder-prod-ledger', POLICY_JSON: policyJson(readPolicyFile(join(REPOSITORY_ROOT, 'policy.yml')), 'policy.yml') };
    const starts = (variables: Record<string, string>) => {
      try {
        parseRuntimeConfig({ ...env, ...variables });
        return true;
      } catch {
        return false;
      }
    };
    const numbers: Record<string, string> = { forecastWindowHours: 'FORECAST_WINDOW_HOURS', alarmPeriodSeconds: 'METRIC_PERIOD_SECONDS', renotifyAfterHours: 'RENOTIFY_AFTER_HOURS' };
    for (const [name, variable] of Object.entries(numbers)) {
      const { MinValue: min, MaxValue: max } = PARAMETER_CONSTRAINTS[name]!;
      expect({ name, min: min !== undefined && starts({ [variable]: String(min) }), max: max !== undefined && starts({ [variable]: String(max) }) }).toEqual({ name, min: true, max: true });
      expect({ name, below: starts({ [variable]: String(min! - 1) }), above: starts({ [variable]: String(max! + 1) }) }).toEqual({ name, below: false, above: false });
    }
    const namespace = new RegExp(PARAMETER_CONSTRAINTS['metricNamespace']!.AllowedPattern!);
    for (const v of ['EKS/IPResponder', 'Team-1/EKS_ip.v2#']) expect({ v, pattern: namespace.test(v), starts: starts({ METRIC_NAMESPACE: v }) }).toEqual({ v, pattern: true, starts: true });
    for (const v of ['EKS IP', 'EKS/IP"Responder', 'AWS/EKS']) expect({ v, pattern: namespace.test(v) }).toEqual({ v, pattern: false });
  });

  it('fixes clusterNames at packaging when kubernetesClusters is set', () => {
    expect(deployTimeParams({ clusterNames: '', kubernetesClusters: '' }).map((p) => p.name)).toEqual(['clusterNames']);
    expect(deployTimeParams({ clusterNames: 'a', kubernetesClusters: 'a' }).map((p) => p.name)).toEqual([]);
  });
});

describe('parseArgs', () => {
  it('reads the stage, params, code location and output', () => {
    expect(parseArgs(['--stage', 'org', '--param', 'memorySize=1024', '--bucket-prefix', 'acme-eks', '--out', '/tmp/x'])).toEqual({
      stage: 'org',
      params: { memorySize: '1024' },
      bucketPrefix: 'acme-eks',
      keyPrefix: 'eks-ip-responder/org/',
      out: '/tmp/x',
    });
    expect(() => parseArgs(['--param', 'alertEmail='])).toThrow('--param takes name=value');
    expect(() => parseArgs(['--regions', 'x'])).toThrow('unknown argument --regions');
  });
});

/** serverless.yml's params (params.default), in order. */
const SERVERLESS_PARAMS = Object.keys(
  (parseYaml(readFileSync(join(REPOSITORY_ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as { params: { default: object } }).params.default,
);

describe.each<[string, Record<string, string>]>([
  ['the defaults', {}],
  // The packaging-time params set (access entries, VPC placement), and deploy-time ones as defaults.
  // Without a sink: a link joins a sink of its own region (stack/checks.ts), so in a StackSet the
  // sink is a Parameter given per region (create-stack-instances --parameter-overrides), never a
  // default of the whole StackSet (docs/organisation.md).
  ['the optional params', Object.fromEntries(Object.entries(OPTIONAL_PARAMS).filter(([name]) => name !== 'oamSinkIdentifier'))],
])('the StackSet template packaged with %s', (_name, params) => {
  let out: string;
  let options: OrgPackageOptions;
  let pkg: OrgPackage;
  let template: Json;

  // Two `serverless package` runs (with sentinels and with the values): ~20 s each on a busy machine.
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'eks-ip-responder-org-'));
    options = { stage: 'prod', params, bucketPrefix: 'acme-eks-ip-responder', keyPrefix: 'eks-ip-responder/prod/', out };
    pkg = packageOrg(options);
    template = JSON.parse(readFileSync(pkg.templatePath, 'utf8'));
  }, 300_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('has no osls deployment bucket, nor anything referring to one', () => {
    expect(JSON.stringify(template)).not.toMatch(/ServerlessDeploymentBucket/);
    expect(JSON.stringify(pkg.packagedWithValues)).toMatch(/ServerlessDeploymentBucket/);
  });

  it('takes each function\'s code from the per-region bucket, under a key that names its content', () => {
    const functions = Object.entries(template.Resources as Record<string, Json>).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(['RespondLambdaFunction', 'SampleLambdaFunction']);
    for (const [id, fn] of functions) {
      const name = id === 'SampleLambdaFunction' ? 'sample' : 'respond';
      expect(fn.Properties.Code.S3Bucket).toEqual({ 'Fn::Sub': '${CodeBucketPrefix}-${AWS::Region}' });
      expect(fn.Properties.Code.S3Key['Fn::Sub']).toMatch(new RegExp(`^\\$\\{CodeKeyPrefix\\}${name}-[0-9a-f]{12}\\.zip$`));
      const key = fn.Properties.Code.S3Key['Fn::Sub'].replace('${CodeKeyPrefix}', '');
      expect(existsSync(pkg.code[key]!)).toBe(true);
    }
    expect(template.Parameters.CodeBucketPrefix.Default).toBe('acme-eks-ip-responder');
  });

  it('accounts for every serverless.yml param: a Parameter with its value as default, or fixed at packaging with a reason', () => {
    const resolved = resolveStageParams(REPOSITORY_ROOT, 'prod', params);
    for (const name of SERVERLESS_PARAMS) {
      const parameter = template.Parameters[parameterName(name)];
      const fixed = pkg.packagingTime[name];
      expect({ name, either: (parameter === undefined) !== (fixed === undefined) }).toEqual({ name, either: true });
      if (parameter) expect({ name, default: String(parameter.Default) }).toEqual({ name, default: String(resolved[name]) });
      else expect(fixed!.reason.length).toBeGreaterThan(0);
    }
    expect(Object.keys(template.Parameters).sort()).toEqual(
      ['CodeBucketPrefix', 'CodeKeyPrefix', ...SERVERLESS_PARAMS.filter((n) => !(n in pkg.packagingTime)).map(parameterName)].sort(),
    );
    // prod's own value (serverless.yml params.prod), not the default one.
    expect(template.Parameters.LogRetentionInDays).toMatchObject({ Default: 90, Type: 'Number' });
    expect(Object.keys(pkg.packagingTime)).toEqual(
      params.kubernetesClusters ? [...Object.keys(PACKAGING_TIME_PARAMS), 'clusterNames'] : Object.keys(PACKAGING_TIME_PARAMS),
    );
    if (params.kubernetesClusters) expect(pkg.packagingTime['clusterNames']!.reason).toBe(CLUSTER_NAMES_WITH_KUBERNETES);
  });

  it('holds no account id and no region: both come from where each stack instance runs', () => {
    const text = JSON.stringify(template);
    // The optional params' example role ARNs are a Parameter's default, not in the resources.
    const { Parameters: _parameters, ...rest } = template;
    expect(JSON.stringify(rest)).not.toMatch(/(?<![0-9])\d{12}(?![0-9])/);
    expect(text).not.toMatch(/mx-central-1|il-central-1/);
    expect(text).toMatch(/\$\{AWS::Region\}/);
  });

  it('validates against the CloudFormation resource specification', () => {
    expect(validateTemplateFile(pkg.templatePath)).toEqual([]);
  });

  it('keeps the packaging-time params in the resources they shape', () => {
    const entries = Object.values(template.Resources as Record<string, Json>).filter((r) => r.Type === 'AWS::EKS::AccessEntry');
    const fn = template.Resources.SampleLambdaFunction.Properties;
    if (params.kubernetesClusters) {
      expect(entries.map((e) => e.Properties.ClusterName)).toEqual(['orders-prod', 'orders-prod']);
      expect(fn.VpcConfig.SubnetIds).toEqual(params.vpcSubnetIds!.split(','));
      expect(fn.Environment.Variables.CLUSTER_NAMES).toBe(params.clusterNames);
    } else {
      expect(entries).toEqual([]);
      expect(fn.VpcConfig).toBeUndefined();
      expect(fn.Environment.Variables.CLUSTER_NAMES).toEqual({ Ref: 'ClusterNames' });
    }
  });

  it('says how to publish the code to every region', () => {
    const text = publishInstructions(pkg, options);
    expect(text).toContain(`aws s3 cp ${out}/code/ "s3://acme-eks-ip-responder-$region/eks-ip-responder/prod/" --recursive --region "$region"`);
    for (const key of Object.keys(pkg.code)) expect(text).toContain(`eks-ip-responder/prod/${key}`);
  });
});

describe('a serverless.yml with a new param, and a param compiled into the code', () => {
  let root: string;
  let out: string;

  // As another change to serverless.yml would: a new param used in a condition and an output
  // (picked up as a Parameter with nothing else to change), and logLevel in the bundle's banner
  // (a param that reaches the code: refused, the zips of the two packagings differ).
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'eks-ip-responder-org-root-'));
    out = mkdtempSync(join(tmpdir(), 'eks-ip-responder-org-'));
    for (const entry of readdirSync(REPOSITORY_ROOT)) {
      if (['.serverless', '.serverless-org', '.esbuild', '.git', 'serverless.yml', 'coverage'].includes(entry)) continue;
      symlinkSync(join(REPOSITORY_ROOT, entry), join(root, entry));
    }
    const yml = readFileSync(join(REPOSITORY_ROOT, 'serverless.yml'), 'utf8')
      .replace(/^ {2}default:\n/m, "  default:\n    teamTopicArn: ''\n")
      .replace(/^custom:\n {2}esbuild:\n/m, "custom:\n  esbuild:\n    banner:\n      js: '/* ${param:logLevel} */'\n");
    writeFileSync(
      join(root, 'serverless.yml'),
      `${yml}  - Conditions:\n      HasTeamTopic: !Not [!Equals ['', '\${param:teamTopicArn}']]\n` +
        `    Outputs:\n      TeamTopicArn:\n        Condition: HasTeamTopic\n        Value: '\${param:teamTopicArn}'\n`,
    );
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it('refuses the param that reaches the code, and only that', () => {
    let message = '';
    try {
      packageOrg({ stage: 'prod', params: {}, bucketPrefix: 'acme', keyPrefix: 'k/', out, root });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n- ').slice(1).sort()).toEqual([
      'respond.zip differs between the packaging with sentinels and the one with values: a param reaches the code; list it in PACKAGING_TIME_PARAMS (stack/org.ts)',
      'sample.zip differs between the packaging with sentinels and the one with values: a param reaches the code; list it in PACKAGING_TIME_PARAMS (stack/org.ts)',
    ]);
  }, 300_000);

  it('makes the new param a Parameter once the code no longer depends on a param', () => {
    const yml = readFileSync(join(root, 'serverless.yml'), 'utf8').replace(/^ {4}banner:\n {6}js: .*\n/m, '');
    writeFileSync(join(root, 'serverless.yml'), yml);
    const pkg = packageOrg({ stage: 'prod', params: {}, bucketPrefix: 'acme', keyPrefix: 'k/', out, root });
    const template = JSON.parse(readFileSync(pkg.templatePath, 'utf8'));
    expect(template.Parameters.TeamTopicArn).toEqual({ Type: 'String', Default: '', Description: expect.stringContaining('teamTopicArn') });
    expect(template.Conditions.HasTeamTopic).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', { Ref: 'TeamTopicArn' }] }] });
    expect(template.Outputs.TeamTopicArn.Value).toEqual({ Ref: 'TeamTopicArn' });
    expect(validateTemplateFile(pkg.templatePath)).toEqual([]);
  }, 300_000);
});
