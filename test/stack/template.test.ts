// Asserts the CloudFormation template that `serverless package --stage test --region eu-west-1`
// writes (npm test packages before jest runs). Values are the stage params' defaults.
import { STACK_ALARM_SUFFIXES } from '../../lib/events/stack-alarms';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policyVersion } from '../../lib/policy/load';
import { parsePolicy, readPolicyFile } from '../../lib/policy/yaml';
import { readZip } from '../support/zip';
import {
  asList,
  CfnResource,
  CfnTemplate,
  evaluateCondition,
  isReadAction,
  loadTemplate,
  possibleStatements,
  REPOSITORY_ROOT,
  resolveSub,
  resource,
  resourcesOfType,
  roleStatements,
  evaluateRequest,
  PSEUDO,
  type Statement,
} from './template';
import {
  ENVIRONMENT,
  LEDGER_ARN,
  NAMESPACE,
  POLICY_FILE,
  POLICY_JSON,
  POLICY_VERSION,
  MANAGED_POLICY_ARNS,
  METRIC_AND_ALERT_STATEMENTS,
  SAMPLER_LEDGER_WRITE_STATEMENT,
  SAMPLER_LOGS_STATEMENT,
  SAMPLER_NETWORK_PREFLIGHT_STATEMENT,
  SAMPLER_ROLE_POLICIES,
  SHARED_READ_POLICY,
  SHARED_READ_STATEMENTS,
  TOPIC,
} from './expected';

/** Each function's bundle (handlers/<fn>.js, minified), in bytes: 1.5 MB (docs/performance.md). */
const BUNDLE_BUDGET_BYTES = 1_500_000;

let template: CfnTemplate;

beforeAll(() => {
  template = loadTemplate();
});

const sampler = (): CfnResource => resource(template, 'SampleLambdaFunction', 'AWS::Lambda::Function');
const alarm = (logicalId: string): Record<string, unknown> =>
  resource(template, logicalId, 'AWS::CloudWatch::Alarm').Properties;

describe('loadTemplate', () => {
  it('tells to run `npm run package` when the template has not been packaged', () => {
    expect(() => loadTemplate('/nonexistent/cloudformation-template-update-stack.json')).toThrow(
      /npm run package/,
    );
  });
});

describe('resolveSub', () => {
  it('substitutes names and attributes and keeps ${!Literal} escapes', () => {
    expect(resolveSub({ 'Fn::Sub': '${AWS::Region}/${A.Arn}/${!B}' }, { 'AWS::Region': 'r', 'A.Arn': 'a' })).toBe(
      'r/a/${B}',
    );
  });

  it('fails on a placeholder without a value', () => {
    expect(() => resolveSub({ 'Fn::Sub': '${Typo}' }, {})).toThrow(/\$\{Typo\}/);
  });
});

describe('sampler function', () => {
  it('runs Node.js 22 on arm64 with the default memory and timeout', () => {
    const props = sampler().Properties;
    expect(props.Runtime).toBe('nodejs22.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.Handler).toBe('handlers/sample.handler');
    expect(props.MemorySize).toBe(512);
    expect(props.Timeout).toBe(120);
  });

  it('gets its configuration from the environment: every variable, with its stage-test value', () => {
    expect(sampler().Properties.Environment.Variables).toEqual(ENVIRONMENT);
  });

  it('names the version of the policy it carries, and passes no policy in the environment', () => {
    const variables = sampler().Properties.Environment.Variables;
    expect(variables.POLICY_VERSION).toBe(POLICY_VERSION);
    expect(variables.POLICY_VERSION).toBe(policyVersion(POLICY_JSON));
    expect(variables.POLICY_JSON).toBeUndefined();
  });

  describe.each(['sample', 'respond'])('the %s function package', (fn) => {
    let dir: string;
    let bundle: string;
    let sources: string[] = [];
    beforeAll(() => {
      const files = readZip(readFileSync(join(REPOSITORY_ROOT, '.serverless', `${fn}.zip`)));
      const map = files.get(`handlers/${fn}.js.map`);
      sources = map ? (JSON.parse(map.toString('utf8')) as { sources: string[] }).sources : [];
      const js = files.get(`handlers/${fn}.js`);
      if (!js) throw new Error(`.serverless/${fn}.zip holds no handlers/${fn}.js: ${[...files.keys()].join(', ')}`);
      dir = mkdtempSync(join(tmpdir(), `bundle-${fn}-`));
      bundle = join(dir, `${fn}.js`);
      writeFileSync(bundle, js);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('is within the bundle budget: at most 1.5 MB of minified JavaScript (docs/performance.md)', () => {
      // A deterministic size, not a time: the budget that keeps cold starts short and the package
      // small. Issue 13's additions went 41 KB over it before the instance-type data was packed.
      expect(statSync(bundle).size).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
    });

    it('carries js-yaml for the add-on configurationValues, not the CLI policy parser `yaml` (115 KB)', () => {
      expect(sources.length).toBeGreaterThan(100);
      expect(sources.some((s) => s.includes('node_modules/js-yaml/'))).toBe(true);
      expect(sources.filter((s) => s.includes('node_modules/yaml/'))).toEqual([]);
    });

    /** Loads the bundle in a fresh node, as Lambda's cold start does, with the stack's environment and a POLICY_VERSION. */
    const coldStart = (policyVersionValue: string) =>
      // The error is written by the child itself: Node's own report of an uncaught error starts
      // with the minified source line (hundreds of KB), and under load in the full suite the
      // message after it was seen missing.
      spawnSync(
        process.execPath,
        [
          '-e',
          `try { const m = require(${JSON.stringify(bundle)}); process.stdout.write(typeof m.handler); } ` +
            `catch (e) { process.stderr.write('Error: ' + (e && e.message)); process.exitCode = 1; }`,
        ],
        {
        encoding: 'utf8',
        timeout: 60_000,
        // Node prints the source line of an uncaught error before its message, and a minified
        // bundle's line can run to megabytes: past spawnSync's 1 MB default the message is cut.
        maxBuffer: 256 * 1024 * 1024,
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'AKIDTESTTESTTESTTEST',
          AWS_SECRET_ACCESS_KEY: 'test-secret',
          AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
          ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:eks-ip-responder-test-alerts',
          LEDGER_TABLE: 'eks-ip-responder-test-ledger',
          POLICY_VERSION: policyVersionValue,
        },
      });

    it('carries policy.yml, validated, compiled in', () => {
      const js = readFileSync(bundle, 'utf8');
      expect(js.includes(POLICY_JSON) || js.includes(JSON.stringify(POLICY_JSON))).toBe(true);
      expect(parsePolicy(POLICY_JSON, 'policy.yml')).toEqual(readPolicyFile(POLICY_FILE));
    });

    it('starts with the policy version the template names, and without POLICY_JSON', () => {
      const run = coldStart(POLICY_VERSION);
      // stderr may carry the SDK's notice about Node.js versions; an error would show here too.
      expect({ status: run.status, stdout: run.stdout, error: run.stderr.includes('Error') ? run.stderr : '' }).toEqual({ status: 0, stdout: 'function', error: '' });
    });

    it("signs its first AWS call with the keys Lambda puts in the environment (the credential chain's later links are not bundled)", () => {
      // A local endpoint that records the first request's Authorization header and answers 500;
      // the handler runs one cycle against it (and fails: only the signature matters here).
      const script = `
        const http = require('node:http');
        let seen;
        const server = http.createServer((req, res) => { seen ??= req.headers.authorization; res.statusCode = 500; res.end(); });
        server.listen(0, '127.0.0.1', async () => {
          process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:' + server.address().port;
          process.env.AWS_MAX_ATTEMPTS = '1';
          const m = require(${JSON.stringify(bundle)});
          const context = { getRemainingTimeInMillis: () => 30000, awsRequestId: 'req-1', functionName: 'f', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:f' };
          const event = ${readFileSync(join(REPOSITORY_ROOT, 'events', 'scheduled.json'), 'utf8').trim()};
          try { await m.handler(event, context); } catch {}
          process.stdout.write(String(seen));
          server.close();
          process.exit(0);
        });`;
      const run = spawnSync(process.execPath, ['-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
        // Node prints the source line of an uncaught error before its message, and a minified
        // bundle's line can run to megabytes: past spawnSync's 1 MB default the message is cut.
        maxBuffer: 256 * 1024 * 1024,
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'AKIDLAMBDAROLEKEY001',
          AWS_SECRET_ACCESS_KEY: 'role-secret',
          AWS_SESSION_TOKEN: 'role-session-token',
          ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:eks-ip-responder-test-alerts',
          LEDGER_TABLE: 'eks-ip-responder-test-ledger',
          POLICY_VERSION,
        },
      });
      expect({ status: run.status, stderr: run.stderr.includes('Cannot find module') ? run.stderr : '' }).toEqual({ status: 0, stderr: '' });
      expect(run.stdout).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDLAMBDAROLEKEY001\/\d{8}\/eu-west-1\//);
    });

    it('leaves out only the credential providers Lambda never reaches, and only as lazy imports', () => {
      const js = readFileSync(bundle, 'utf8');
      const required = [...new Set([...js.matchAll(/require\("(@[^"]+)"\)/g)].map((m) => m[1]))].sort();
      // serverless.yml custom.esbuild.exclude: external, so the bundle may name them, but only
      // behind the chain's dynamic import (esbuild: Promise.resolve().then(() => require(...))).
      expect(required.every((name) => /^@aws-sdk\/(credential-provider-(ini|login|process|sso|web-identity|http)|nested-clients|token-providers)$|^@smithy\/credential-provider-imds$/.test(name!))).toBe(true);
      for (const name of required) {
        for (const m of js.matchAll(new RegExp(`require\\("${name!.replace('/', '\\/')}"\\)`, 'g'))) {
          expect({ name, before: js.slice(Math.max(0, m.index - 60), m.index) }).toEqual({ name, before: expect.stringMatching(/Promise\.resolve\(\)\.then\(\(\)=>\w*\(?$/) });
        }
      }
      // The environment link is bundled.
      expect(js).toContain('AWS_SESSION_TOKEN');
    });

    it('refuses to start when its policy is not the version the template names', () => {
      const run = coldStart('000000000000');
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain(`POLICY_VERSION: is 000000000000, but the bundled policy is version ${POLICY_VERSION}`);
    });
  });

  it('never retries a scheduled invocation, sends failures nowhere and reserves no concurrency', () => {
    expect(sampler().Properties.ReservedConcurrentExecutions).toBeUndefined();
    const configs = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').filter(
      ([, c]) => JSON.stringify(c.Properties.FunctionName) === JSON.stringify({ Ref: 'SampleLambdaFunction' }),
    );
    expect(configs).toHaveLength(1);
    const [, config] = configs[0]!;
    expect(config.Properties.MaximumRetryAttempts).toBe(0);
    expect(config.Properties.MaximumEventAgeInSeconds).toBe(300);
    expect(config.Properties.DestinationConfig).toEqual({});
  });

  it('keeps its logs for the default retention', () => {
    const logGroup = resource(template, 'SampleLogGroup', 'AWS::Logs::LogGroup');
    expect(logGroup.Properties.LogGroupName).toBe('/aws/lambda/eks-ip-responder-test-sample');
    expect(logGroup.Properties.RetentionInDays).toBe(30);
  });

  it('is tagged with the service', () => {
    expect(sampler().Properties.Tags).toContainEqual({ Key: 'Service', Value: 'eks-ip-responder' });
  });
});

describe('schedules', () => {
  // The responder's EventBridge rules are rules too (responder.test.ts): a schedule is a rule with
  // a ScheduleExpression and no EventPattern. There are two, told apart by their target.
  const SAMPLE_ARN = { 'Fn::GetAtt': ['SampleLambdaFunction', 'Arn'] };
  const RESPOND_ARN = { 'Fn::GetAtt': ['RespondLambdaFunction', 'Arn'] };
  const schedules = () =>
    resourcesOfType(template, 'AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression !== undefined);
  const scheduleOf = (functionArn: unknown): [string, CfnResource] => {
    const found = schedules().filter(([, r]) =>
      (r.Properties.Targets ?? []).some((t: { Arn: unknown }) => JSON.stringify(t.Arn) === JSON.stringify(functionArn)),
    );
    if (found.length !== 1) throw new Error(`expected one schedule targeting ${JSON.stringify(functionArn)}, found ${found.length}`);
    return found[0]!;
  };
  const permissionsFor = (ruleId: string) =>
    resourcesOfType(template, 'AWS::Lambda::Permission')
      .map(([, p]) => p.Properties)
      .filter((p) => JSON.stringify(p.SourceArn) === JSON.stringify({ 'Fn::GetAtt': [ruleId, 'Arn'] }));

  it('are two, the sampler’s and the responder’s, each a rule of its own with one target', () => {
    expect(schedules()).toHaveLength(2);
    const [samplerRuleId] = scheduleOf(SAMPLE_ARN);
    const [respondRuleId] = scheduleOf(RESPOND_ARN);
    expect(samplerRuleId).not.toBe(respondRuleId);
    for (const [, rule] of schedules()) {
      expect(rule.Properties.EventPattern).toBeUndefined();
      expect(rule.Properties.State).toBe('ENABLED');
      expect(rule.Properties.EventBusName).toBeUndefined();
      expect(rule.Properties.Targets).toHaveLength(1);
      // The scheduled event as EventBridge sends it: no Input replaces it.
      expect(rule.Properties.Targets[0].Input).toBeUndefined();
      expect(rule.Properties.Targets[0].InputPath).toBeUndefined();
    }
  });

  it('invokes the sampler every 5 minutes (scheduleRate), from that rule only', () => {
    const [ruleId, rule] = scheduleOf(SAMPLE_ARN);
    expect(ruleId).toBe('SampleEventsRuleSchedule1');
    expect(rule.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule.Properties.Description).toBe("Sample the EKS clusters' IPv4 capacity");
    expect(rule.Properties.Targets).toEqual([{ Arn: SAMPLE_ARN, Id: 'sampleSchedule' }]);
    expect(permissionsFor(ruleId)).toEqual([
      {
        FunctionName: SAMPLE_ARN,
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      },
    ]);
  });

  it('invokes the responder every 5 minutes (remediationRate) for the remediation tick, from that rule only', () => {
    const [ruleId, rule] = scheduleOf(RESPOND_ARN);
    expect(ruleId).toBe('RespondEventsRuleSchedule1');
    expect(rule.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule.Properties.Description).toBe('Follow and start approved changes on clusters in apply mode');
    expect(rule.Properties.Targets).toEqual([{ Arn: RESPOND_ARN, Id: 'respondSchedule' }]);
    expect(permissionsFor(ruleId)).toEqual([
      {
        FunctionName: RESPOND_ARN,
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      },
    ]);
  });
});

describe('sampler role', () => {
  const role = (): CfnResource => resource(template, 'SamplerRole', 'AWS::IAM::Role');

  it('is the sampler’s own role, and the Framework’s shared role is not created', () => {
    expect(sampler().Properties.Role).toEqual({ 'Fn::GetAtt': ['SamplerRole', 'Arn'] });
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    expect(role().Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    // The shared reads, and no other managed policy (AWS managed ones included).
    expect(role().Properties.ManagedPolicyArns).toEqual(MANAGED_POLICY_ARNS);
  });

  it('holds the shared reads in SharedReadPolicy, a customer managed policy attached through the roles only', () => {
    const policy = resource(template, 'SharedReadPolicy', 'AWS::IAM::ManagedPolicy');
    expect(policy.Properties).toEqual(SHARED_READ_POLICY);
    // Attached by the roles' ManagedPolicyArns, never by its own Roles, Users or Groups.
    expect(Object.keys(policy.Properties).sort()).toEqual(['Description', 'PolicyDocument']);
  });

  it('grants exactly the reads and writes the sampler needs', () => {
    expect(role().Properties.Policies).toEqual(SAMPLER_ROLE_POLICIES);
    expect(roleStatements(template, 'SamplerRole')).toEqual([
      // EKS, EC2, metric history; reads finding states and the action history (for its dry-run plans).
      ...SHARED_READ_STATEMENTS,
      ...METRIC_AND_ALERT_STATEMENTS,
      // Writes finding states only (CLUSTER# leading keys); the sampler claims no events, so no DeleteItem.
      SAMPLER_LEDGER_WRITE_STATEMENT,
      SAMPLER_LOGS_STATEMENT,
      // The network preflight's EC2 reads (the scheduled sample only).
      SAMPLER_NETWORK_PREFLIGHT_STATEMENT,
    ]);
  });

  // The exact list above can be edited together with the stack; these invariants say what any
  // edit must keep.
  it('allows no wildcard action and no Deny-less NotAction', () => {
    // Every branch of a conditional statement (the central policy's read) included.
    for (const statement of possibleStatements(roleStatements(template, 'SamplerRole'))) {
      expect(statement.Effect).toBe('Allow');
      expect(statement.NotAction).toBeUndefined();
      expect(statement.NotResource).toBeUndefined();
      for (const action of asList<string>(statement.Action)) expect(action).not.toMatch(/^\*$|:\*$/);
    }
  });

  it('scopes every write to the stack’s own topic, key, ledger table, log group or metric namespace', () => {
    const writes = possibleStatements(roleStatements(template, 'SamplerRole')).flatMap((statement) =>
      asList<string>(statement.Action)
        .filter((action) => !isReadAction(action))
        .map((action) => ({ action, resource: statement.Resource, condition: statement.Condition })),
    );
    expect(writes.map((w) => w.action).sort()).toEqual(
      [
        'cloudwatch:PutMetricData',
        'dynamodb:PutItem',
        'kms:Decrypt',
        'kms:GenerateDataKey*',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sns:Publish',
      ].sort(),
    );
    for (const write of writes) {
      // A '*' resource is only acceptable where a condition narrows it.
      if (asList(write.resource).includes('*')) expect(write.condition).toBeDefined();
    }
    // Each write, exactly where it is allowed and under which condition.
    const byAction = Object.fromEntries(writes.map((w) => [w.action, { resource: w.resource, condition: w.condition }]));
    const kms = {
      resource: { 'Fn::GetAtt': ['AlertKey', 'Arn'] },
      condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'sns.${AWS::Region}.amazonaws.com' } } },
    };
    const logs = { resource: { 'Fn::GetAtt': ['SampleLogGroup', 'Arn'] }, condition: undefined };
    expect(byAction).toEqual({
      'cloudwatch:PutMetricData': { resource: '*', condition: { StringEquals: { 'cloudwatch:namespace': NAMESPACE } } },
      'sns:Publish': { resource: TOPIC, condition: undefined },
      'kms:GenerateDataKey*': kms,
      'kms:Decrypt': kms,
      'dynamodb:PutItem': { resource: LEDGER_ARN, condition: SAMPLER_LEDGER_WRITE_STATEMENT.Condition },
      'logs:CreateLogStream': logs,
      'logs:PutLogEvents': logs,
    });
  });
});

describe('alert topic', () => {
  it('is encrypted with the stack’s customer-managed key, not the AWS-managed alias/aws/sns', () => {
    const topic = resource(template, 'AlertTopic', 'AWS::SNS::Topic');
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': ['AlertKey', 'Arn'] });
  });

  it('has a rotating key that the account administers and CloudWatch may encrypt with', () => {
    const key = resource(template, 'AlertKey', 'AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const statements = key.Properties.KeyPolicy.Statement;
    expect(statements).toContainEqual({
      Sid: 'AccountAdministers',
      Effect: 'Allow',
      Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
      Action: 'kms:*',
      Resource: '*',
    });
    // Only on behalf of this account's alarms (confused deputy).
    expect(statements).toContainEqual({
      Sid: 'CloudWatchAlarmsEncrypt',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    expect(statements).toHaveLength(2);
    const cloudwatch = statements.filter((s: Statement) => s.Sid === 'CloudWatchAlarmsEncrypt');
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
      expect(evaluateRequest(cloudwatch, { action, resource: keyArn, context: { 'aws:SourceAccount': '123456789012' } })).toBe('allowed');
      expect(evaluateRequest(cloudwatch, { action, resource: keyArn, context: { 'aws:SourceAccount': '210987654321' } })).toBe('implicit-deny');
      expect(evaluateRequest(cloudwatch, { action, resource: keyArn, context: {} })).toBe('implicit-deny');
    }
    // Nothing else for CloudWatch: not kms:Encrypt, ReEncrypt, CreateGrant.
    for (const action of ['kms:Encrypt', 'kms:ReEncryptFrom', 'kms:CreateGrant']) {
      expect(evaluateRequest(cloudwatch, { action, resource: keyArn, context: { 'aws:SourceAccount': '123456789012' } })).toBe('implicit-deny');
    }
  });

  it('lets only this account’s CloudWatch alarms publish', () => {
    const policies = resourcesOfType(template, 'AWS::SNS::TopicPolicy');
    expect(policies).toHaveLength(1);
    const [, policy] = policies[0]!;
    expect(policy.Properties.Topics).toEqual([TOPIC]);
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'CloudWatchAlarmsOfThisAccount',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: TOPIC,
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: {
            'aws:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*' },
          },
        },
      },
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: ['sns:Publish', 'sns:Subscribe'],
        Resource: TOPIC,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
  });

  it('refuses publishing and subscribing over plain HTTP, to anyone, and nothing over HTTPS', () => {
    const [, policy] = resourcesOfType(template, 'AWS::SNS::TopicPolicy')[0]!;
    const statements: Statement[] = policy.Properties.PolicyDocument.Statement;
    const values = { ...PSEUDO, AlertTopic: 'arn:aws:sns:eu-west-1:123456789012:eks-ip-responder-test-alerts' };
    const alarm = { 'aws:SourceAccount': '123456789012', 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:x' };
    const request = (action: string, context: Record<string, string>) =>
      evaluateRequest(statements, { action, resource: values.AlertTopic, context }, values);
    expect(request('sns:Publish', { ...alarm, 'aws:SecureTransport': 'true' })).toBe('allowed');
    expect(request('sns:Publish', { ...alarm, 'aws:SecureTransport': 'false' })).toBe('explicit-deny');
    expect(request('sns:Subscribe', { 'aws:SecureTransport': 'false' })).toBe('explicit-deny');
    expect(request('sns:Subscribe', { 'aws:SecureTransport': 'true' })).toBe('implicit-deny');
    // The Deny names no principal, so it holds for the account's own callers too.
    const deny = statements.find((s) => s.Effect === 'Deny')!;
    expect(deny.Principal).toBe('*');
  });

  it('subscribes the alert e-mail only when one is given', () => {
    const subscription = resource(template, 'AlertEmailSubscription', 'AWS::SNS::Subscription');
    expect(subscription.Condition).toBe('HasAlertEmail');
    expect(subscription.Properties).toMatchObject({ TopicArn: TOPIC, Protocol: 'email' });
    // The condition compares the same param value the subscription uses, so that
    // `--param "alertEmail=ops@example.com"` turns both on together.
    expect(template.Conditions?.HasAlertEmail).toEqual({
      'Fn::Not': [{ 'Fn::Equals': ['', subscription.Properties.Endpoint] }],
    });
    // Packaged with the default (no address): CloudFormation leaves the subscription out.
    expect(subscription.Properties.Endpoint).toBe('');
  });
});

describe('alarms', () => {
  const ALARMS = [
    'SubnetFreeIpsAlarm',
    'ControlPlaneFreeIpsAlarm',
    'SamplingFailuresAlarm',
    'SamplerErrorsAlarm',
    'SamplerNotRunningAlarm',
    'SamplerSlowAlarm',
    'RespondErrorsAlarm',
    'RespondDeadLettersAlarm',
    'EniQuotaAlarm',
    'NetworkAddressUsageAlarm',
    'PodsFailingIpAlarm',
  ];

  it('are exactly the eleven, each notifying the topic on ALARM and on OK', () => {
    expect(resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([id]) => id).sort()).toEqual([...ALARMS].sort());
    for (const id of ALARMS) {
      expect(alarm(id).AlarmActions).toEqual([TOPIC]);
      expect(alarm(id).OKActions).toEqual([TOPIC]);
      expect(alarm(id).AlarmName).toMatch(/^eks-ip-responder-test-/);
    }
  });

  // Multi-time-series Metrics Insights alarms need GROUP BY and ORDER BY:
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Metrics_Insights_Alarm.html
  it('are multi-time-series by default, with the aggregate fallback one parameter away', () => {
    expect(template.Conditions?.MultiTimeSeriesAlarms).toEqual({ 'Fn::Equals': ['true', 'true'] });
    expect(evaluateCondition(template, 'MultiTimeSeriesAlarms')).toBe(true);
  });

  it('alarms per cluster subnet when free IPs fall below 64', () => {
    expect(alarm('SubnetFreeIpsAlarm')).toMatchObject({
      Metrics: [
        {
          Id: 'freeIps',
          Expression: {
            'Fn::If': [
              'MultiTimeSeriesAlarms',
              'SELECT MIN(SubnetAvailableIps) FROM SCHEMA("EKS/IPResponder", ClusterName, SubnetId) GROUP BY ClusterName, SubnetId ORDER BY MIN() ASC',
              // The fallback (multiTimeSeriesAlarms=false): one aggregate series, the emptiest subnet.
              'SELECT MIN(SubnetAvailableIps) FROM SCHEMA("EKS/IPResponder", ClusterName, SubnetId)',
            ],
          },
          Period: 300,
          ReturnData: true,
        },
      ],
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 64,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
    expect(alarm('SubnetFreeIpsAlarm').MetricName).toBeUndefined();
  });

  it('alarms per cluster when the control-plane subnets have fewer than 16 free IPs', () => {
    expect(alarm('ControlPlaneFreeIpsAlarm')).toMatchObject({
      Metrics: [
        {
          Expression: {
            'Fn::If': [
              'MultiTimeSeriesAlarms',
              'SELECT MIN(ControlPlaneMinAvailableIps) FROM SCHEMA("EKS/IPResponder", ClusterName) GROUP BY ClusterName ORDER BY MIN() ASC',
              'SELECT MIN(ControlPlaneMinAvailableIps) FROM SCHEMA("EKS/IPResponder", ClusterName)',
            ],
          },
          Period: 300,
          ReturnData: true,
        },
      ],
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 16,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when the responder fails, and when an event waits in its dead-letter queue', () => {
    expect(alarm('RespondErrorsAlarm')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'RespondLambdaFunction' } }],
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
    expect(alarm('RespondDeadLettersAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['RespondDeadLetterQueue', 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
  });

  it('names every alarm with a suffix the responder knows as this stack\'s', () => {
    for (const id of ALARMS) {
      const suffix = String(alarm(id).AlarmName).slice('eks-ip-responder-test-'.length);
      expect(STACK_ALARM_SUFFIXES).toContain(suffix);
    }
    expect(STACK_ALARM_SUFFIXES).toHaveLength(ALARMS.length);
  });

  it('alarms at 80 % of the ENIs-per-Region quota, and per VPC at 80 % of its Network Address Usage quota (issue 13)', () => {
    expect(alarm('EniQuotaAlarm')).toMatchObject({
      Namespace: NAMESPACE,
      MetricName: 'RegionEniQuotaUtilization',
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 80,
      TreatMissingData: 'notBreaching',
    });
    expect(alarm('EniQuotaAlarm').Dimensions).toBeUndefined();
    // Issue 14: one contributor per cluster, at the first pod failing IP assignment.
    expect(alarm('PodsFailingIpAlarm')).toMatchObject({
      AlarmName: 'eks-ip-responder-test-pods-failing-ip-assignment',
      Metrics: [
        {
          Id: 'podsFailing',
          Expression: {
            'Fn::If': [
              'MultiTimeSeriesAlarms',
              'SELECT MAX(PodsFailingIpAssignment) FROM SCHEMA("EKS/IPResponder", ClusterName) GROUP BY ClusterName ORDER BY MAX() DESC',
              'SELECT MAX(PodsFailingIpAssignment) FROM SCHEMA("EKS/IPResponder", ClusterName)',
            ],
          },
          ReturnData: true,
        },
      ],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(alarm('NetworkAddressUsageAlarm')).toMatchObject({
      Metrics: [
        {
          Id: 'nau',
          Expression: {
            'Fn::If': [
              'MultiTimeSeriesAlarms',
              'SELECT MAX(VpcNetworkAddressUsageUtilization) FROM SCHEMA("EKS/IPResponder", VpcId) GROUP BY VpcId ORDER BY MAX() DESC',
              'SELECT MAX(VpcNetworkAddressUsageUtilization) FROM SCHEMA("EKS/IPResponder", VpcId)',
            ],
          },
          ReturnData: true,
        },
      ],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 80,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when a cluster could not be sampled', () => {
    expect(alarm('SamplingFailuresAlarm')).toMatchObject({
      Namespace: NAMESPACE,
      MetricName: 'ClustersFailed',
      Statistic: 'Sum',
      Period: 300,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
    });
    expect(alarm('SamplingFailuresAlarm').Dimensions).toBeUndefined();
  });

  it('alarms when the sampler function fails', () => {
    expect(alarm('SamplerErrorsAlarm')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'SampleLambdaFunction' } }],
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
  });

  it('alarms when no sampling cycle completed for three periods', () => {
    expect(alarm('SamplerNotRunningAlarm')).toMatchObject({
      Namespace: NAMESPACE,
      MetricName: 'ClustersSampled',
      Statistic: 'SampleCount',
      Period: 300,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'breaching',
    });
    expect(alarm('SamplerNotRunningAlarm').Dimensions).toBeUndefined();
  });

  it("alarms when the sampler's longest cycle nears its timeout (duration as a percentage of the function's timeout)", () => {
    const a = alarm('SamplerSlowAlarm');
    const fn = resource(template, 'SampleLambdaFunction', 'AWS::Lambda::Function');
    const timeout = fn.Properties.Timeout as number;
    expect(timeout).toBe(120);
    expect(a).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 80, EvaluationPeriods: 3, DatapointsToAlarm: 2, TreatMissingData: 'notBreaching' });
    const metrics = a.Metrics as { Id: string; Expression?: string; ReturnData?: boolean; MetricStat?: Record<string, unknown> }[];
    expect(metrics[0]).toMatchObject({
      Id: 'duration',
      ReturnData: false,
      MetricStat: {
        Metric: { Namespace: 'AWS/Lambda', MetricName: 'Duration', Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'SampleLambdaFunction' } }] },
        Period: 300,
        Stat: 'Maximum',
      },
    });
    expect(metrics[1]).toMatchObject({ Id: 'percentOfTimeout', ReturnData: true });
    // The expression, evaluated as CloudWatch would: a cycle of 96 s (80 % of 120 s) reaches the threshold.
    const percent = new Function('duration', `return ${metrics[1]?.Expression ?? ''};`) as (ms: number) => number;
    expect(percent(timeout * 1000 * 0.8)).toBeCloseTo(80);
    expect(percent(timeout * 1000)).toBeCloseTo(100);
  });
});

describe('dashboard', () => {
  interface Widget {
    type: string;
    properties: { title?: string; region?: string; alarms?: string[]; metrics?: unknown[] };
  }

  const dummyValues: Record<string, string> = {
    'AWS::Region': 'eu-west-1',
    SampleLambdaFunction: 'eks-ip-responder-test-sample',
    'SubnetFreeIpsAlarm.Arn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:subnet',
    'ControlPlaneFreeIpsAlarm.Arn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:control-plane',
    'SamplingFailuresAlarm.Arn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:failures',
    'SamplerErrorsAlarm.Arn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors',
    'SamplerNotRunningAlarm.Arn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:not-running',
    'SamplerSlowAlarm.Arn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:slow',
    'RespondErrorsAlarm.Arn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:responder-errors',
    'RespondDeadLettersAlarm.Arn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:responder-dead-letters',
    'EniQuotaAlarm.Arn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:eni-quota-high',
    'NetworkAddressUsageAlarm.Arn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:network-address-usage-high',
    'PodsFailingIpAlarm.Arn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:pods-failing-ip-assignment',
  };

  const widgets = (): Widget[] => {
    const dashboard = resource(template, 'Dashboard', 'AWS::CloudWatch::Dashboard');
    const body = JSON.parse(resolveSub(dashboard.Properties.DashboardBody, dummyValues)) as { widgets: Widget[] };
    return body.widgets;
  };
  const metricWidgets = () => widgets().filter((w) => w.type === 'metric');
  const widgetShowing = (metricName: string): Widget => {
    const found = metricWidgets().filter((w) => JSON.stringify(w.properties.metrics).includes(metricName));
    if (found.length === 0) throw new Error(`no widget shows ${metricName}`);
    return found[0]!;
  };
  const expressionOf = (widget: Widget): string =>
    (widget.properties.metrics as Array<Array<{ expression?: string }>>)[0]![0]!.expression ?? '';

  it('parses as JSON once Fn::Sub is resolved, with every graph in the stack’s region', () => {
    expect(metricWidgets().length).toBeGreaterThanOrEqual(9);
    for (const widget of metricWidgets()) expect(widget.properties.region).toBe('eu-west-1');
  });

  it('shows the state of every alarm', () => {
    const alarmWidgets = widgets().filter((w) => w.type === 'alarm');
    expect(alarmWidgets).toHaveLength(1);
    expect(alarmWidgets[0]!.properties.alarms?.sort()).toEqual(
      Object.entries(dummyValues)
        .filter(([name]) => name.endsWith('Alarm.Arn'))
        .map(([, arn]) => arn)
        .sort(),
    );
  });

  it.each([
    ['SubnetAvailableIps', 'ClusterName, SubnetId', 'GROUP BY ClusterName, SubnetId'],
    ['SubnetUtilization', 'ClusterName, SubnetId', 'GROUP BY ClusterName, SubnetId'],
    ['SubnetIpsHeld', 'ClusterName, SubnetId, Holder', 'GROUP BY ClusterName, SubnetId, Holder'],
    ['ControlPlaneMinAvailableIps', 'ClusterName', 'GROUP BY ClusterName'],
    ['Nodes', 'ClusterName', 'GROUP BY ClusterName'],
    ['PodCapacity', 'ClusterName', 'GROUP BY ClusterName'],
    ['NodesAtEniLimit', 'ClusterName', 'GROUP BY ClusterName'],
    ['NodegroupEniUtilization', 'ClusterName, NodegroupName', 'GROUP BY ClusterName, NodegroupName'],
  ])('graphs %s per series with a Metrics Insights query', (metricName, schemaDimensions, groupBy) => {
    const expression = expressionOf(widgetShowing(`(${metricName})`));
    expect(expression).toMatch(new RegExp(`^SELECT (MIN|MAX)\\(${metricName}\\) FROM SCHEMA\\("EKS/IPResponder", ${schemaDimensions}\\) ${groupBy} `));
  });

  it('shows the sampling health metrics', () => {
    const metrics = JSON.stringify(widgetShowing('ClustersSampled').properties.metrics);
    expect(metrics).toContain('"EKS/IPResponder","ClustersFailed"');
    expect(metrics).toContain('"AWS/Lambda","Errors","FunctionName","eks-ip-responder-test-sample"');
  });
});

describe('outputs', () => {
  it('give the topic, the dashboard URL and the function name', () => {
    expect(template.Outputs?.AlertTopicArn?.Value).toEqual(TOPIC);
    expect(template.Outputs?.SamplerFunctionName?.Value).toEqual({ Ref: 'SampleLambdaFunction' });
    const url = resolveSub(template.Outputs?.DashboardUrl?.Value, {
      'AWS::Region': 'eu-west-1',
      Dashboard: 'eks-ip-responder-test-eu-west-1',
    });
    expect(url).toBe(
      'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/eks-ip-responder-test-eu-west-1',
    );
  });
});
