// Asserts the event-driven responder's part of the packaged template (`npm run package`:
// stage test, region eu-west-1, the stage params' defaults): the function, its role, the ledger
// table, the dead-letter queue and the EventBridge rules, and checks the sample events in events/
// against the rules exactly as deployed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { LEDGER_TABLE_DEFINITION, LEDGER_TTL_ATTRIBUTE } from '../../lib/aws/ledger';
import { eventPatterns, matchesPattern, type EventPattern, type EventPatternName } from '../../lib/events/patterns';
import {
  ALARM_NAME_PREFIX,
  DASHBOARD_NAME,
  ENVIRONMENT,
  MANAGED_POLICY_ARNS,
  POLICY_VERSION,
  QUEUE_ARN,
  respondRolePolicies,
  respondRoleStatements,
} from './expected';
import {
  CfnResource,
  CfnTemplate,
  loadTemplate,
  PSEUDO,
  resolveSub,
  resolveValue,
  resource,
  resourcesOfType,
  roleStatements,
  ruleArn,
} from './template';

let template: CfnTemplate;

beforeAll(() => {
  template = loadTemplate();
});

const RESPOND_ARN = { 'Fn::GetAtt': ['RespondLambdaFunction', 'Arn'] };
const respond = (): CfnResource => resource(template, 'RespondLambdaFunction', 'AWS::Lambda::Function');
const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

describe('respond function', () => {
  it('runs Node.js 22 on arm64 with the default memory and timeout', () => {
    const props = respond().Properties;
    expect(props.Runtime).toBe('nodejs22.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.Handler).toBe('handlers/respond.handler');
    expect(props.MemorySize).toBe(512);
    expect(props.Timeout).toBe(120);
    expect(props.Tags).toContainEqual({ Key: 'Service', Value: 'eks-ip-responder' });
  });

  it('runs as its own role', () => {
    expect(respond().Properties.Role).toEqual({ 'Fn::GetAtt': ['RespondRole', 'Arn'] });
  });

  it('gets the same environment as the sampler: every variable, with its stage-test value', () => {
    const variables = respond().Properties.Environment.Variables;
    expect(variables).toEqual(ENVIRONMENT);
    expect(variables).toEqual(resource(template, 'SampleLambdaFunction', 'AWS::Lambda::Function').Properties.Environment.Variables);
    // The policy it applies is the repository's policy.yml (template.test.ts reads it back out
    // of the function package); no policy travels in the environment.
    expect(variables.POLICY_VERSION).toBe(POLICY_VERSION);
    expect(variables.POLICY_JSON).toBeUndefined();
  });

  it('retries a failed event twice within an hour, then sends it to the dead-letter queue', () => {
    const configs = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig');
    // One per function: the sampler's is asserted in template.test.ts.
    expect(configs.map(([, c]) => c.Properties.FunctionName)).toEqual(
      expect.arrayContaining([{ Ref: 'SampleLambdaFunction' }, { Ref: 'RespondLambdaFunction' }]),
    );
    expect(configs).toHaveLength(2);
    const [, config] = configs.find(([, c]) => sameValue(c.Properties.FunctionName, { Ref: 'RespondLambdaFunction' }))!;
    expect(config.Properties).toEqual({
      FunctionName: { Ref: 'RespondLambdaFunction' },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: QUEUE_ARN } },
    });
  });

  it('keeps its logs for the default retention', () => {
    const logGroup = resource(template, 'RespondLogGroup', 'AWS::Logs::LogGroup');
    expect(logGroup.Properties.LogGroupName).toBe('/aws/lambda/eks-ip-responder-test-respond');
    expect(logGroup.Properties.RetentionInDays).toBe(30);
  });
});

describe('respond role', () => {
  const role = (): CfnResource => resource(template, 'RespondRole', 'AWS::IAM::Role');

  it('is assumed by Lambda only and has no managed policy but the stack’s shared reads', () => {
    expect(role().Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(role().Properties.ManagedPolicyArns).toEqual(MANAGED_POLICY_ARNS);
  });

  // Each write's scope, and what no role may be granted, are asserted in iam.test.ts, with a
  // policy that has clusters in apply mode too.
  it('grants exactly the sampler’s reads and writes, the ledger, PassRole only with passRoleArns, dead letters and its own logs, and, with no cluster in apply mode, denies every remediation write', () => {
    // Packaged with passRoleArns '' (the default): the PassRole statement is written, and
    // HasPassRoleArns leaves it out (iam.test.ts packages again with the param set).
    expect(role().Properties.Policies).toEqual(respondRolePolicies(''));
    expect(roleStatements(template, 'RespondRole')).toEqual(respondRoleStatements(''));
    expect(template.Conditions?.HasPassRoleArns).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
  });
});

describe('ledger table', () => {
  const table = (): CfnResource => resource(template, 'LedgerTable', 'AWS::DynamoDB::Table');

  it('has the keys and billing the ledger code is written for', () => {
    const props = table().Properties;
    expect(props.KeySchema).toEqual(LEDGER_TABLE_DEFINITION.KeySchema);
    expect(props.AttributeDefinitions).toEqual(LEDGER_TABLE_DEFINITION.AttributeDefinitions);
    expect(props.BillingMode).toBe(LEDGER_TABLE_DEFINITION.BillingMode);
    expect(props.BillingMode).toBe('PAY_PER_REQUEST');
    expect(props.ProvisionedThroughput).toBeUndefined();
    // Single-table layout without an index (lib/aws/ledger.ts).
    expect(props.GlobalSecondaryIndexes).toBeUndefined();
    expect(props.LocalSecondaryIndexes).toBeUndefined();
  });

  it('expires items on the ledger’s TTL attribute and has point-in-time recovery', () => {
    const props = table().Properties;
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: LEDGER_TTL_ATTRIBUTE, Enabled: true });
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it('is kept when the stack is deleted or the table replaced, but deleted by the rollback of the deploy that created it', () => {
    // Retain would keep the fixed-name table when a first deploy rolls back, and every retry
    // would then fail with "already exists".
    expect(table().DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(table().UpdateReplacePolicy).toBe('Retain');
  });

  it('is the table both functions are told about', () => {
    expect(ENVIRONMENT.LEDGER_TABLE).toEqual({ Ref: 'LedgerTable' });
    expect(respond().Properties.Environment.Variables.LEDGER_TABLE).toEqual({ Ref: 'LedgerTable' });
  });
});

describe('dead-letter queue', () => {
  it('is encrypted with SQS-managed keys and keeps messages 14 days', () => {
    const queue = resource(template, 'RespondDeadLetterQueue', 'AWS::SQS::Queue');
    expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    // SSE-KMS would need kms permissions on the role for Lambda to send to it.
    expect(queue.Properties.KmsMasterKeyId).toBeUndefined();
    expect(queue.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });
});

describe('dashboard name', () => {
  it('in DASHBOARD_NAME is the Dashboard’s DashboardName in eu-west-1', () => {
    const dashboard = resource(template, 'Dashboard', 'AWS::CloudWatch::Dashboard');
    const deployed = resolveSub(dashboard.Properties.DashboardName, { 'AWS::Region': 'eu-west-1' });
    expect(deployed).toBe(DASHBOARD_NAME);
    expect(respond().Properties.Environment.Variables.DASHBOARD_NAME).toBe(deployed);
    expect(resource(template, 'SampleLambdaFunction', 'AWS::Lambda::Function').Properties.Environment.Variables.DASHBOARD_NAME).toBe(
      deployed,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// EventBridge rules

const PATTERN_NAMES: EventPatternName[] = ['cloudTrailAllocationFailure', 'autoScalingLaunchFailure', 'alarmStateChange'];

interface DeployedRule {
  ruleId: string;
  pattern: EventPattern;
  /** The names of `eventPatterns(ALARM_NAME_PREFIX)` whose pattern deep-equals the rule's. */
  names: EventPatternName[];
}

/** The rules that target the respond function with an event pattern (not its schedule). */
function respondRules(): DeployedRule[] {
  const expected = eventPatterns(ALARM_NAME_PREFIX);
  return resourcesOfType(template, 'AWS::Events::Rule')
    .filter(([, rule]) => (rule.Properties.Targets ?? []).some((t: { Arn: unknown }) => sameValue(t.Arn, RESPOND_ARN)))
    .filter(([, rule]) => rule.Properties.ScheduleExpression === undefined)
    .map(([ruleId, rule]) => {
      const pattern = rule.Properties.EventPattern as EventPattern;
      return { ruleId, pattern, names: PATTERN_NAMES.filter((name) => isDeepStrictEqual(pattern, expected[name])) };
    });
}

/** The logical id of the one schedule rule that targets `functionArn`. */
function scheduleRuleOf(functionArn: unknown): string {
  const found = resourcesOfType(template, 'AWS::Events::Rule').filter(
    ([, rule]) =>
      rule.Properties.ScheduleExpression !== undefined &&
      (rule.Properties.Targets ?? []).some((t: { Arn: unknown }) => sameValue(t.Arn, functionArn)),
  );
  if (found.length !== 1) throw new Error(`expected one schedule rule targeting ${JSON.stringify(functionArn)}, found ${found.length}`);
  return found[0]![0];
}

const SAMPLE_ARN = { 'Fn::GetAtt': ['SampleLambdaFunction', 'Arn'] };

describe('responder rules', () => {
  it('are exactly three event-pattern rules and the remediation schedule, beside the sampler’s schedule', () => {
    const rules = resourcesOfType(template, 'AWS::Events::Rule');
    expect(rules).toHaveLength(5);
    // Every rule is either a pattern rule or a schedule, never both.
    for (const [, rule] of rules) {
      expect([rule.Properties.EventPattern === undefined, rule.Properties.ScheduleExpression === undefined].sort()).toEqual([
        false,
        true,
      ]);
    }
    expect(respondRules()).toHaveLength(3);
    const respondSchedule = scheduleRuleOf(RESPOND_ARN);
    const samplerSchedule = scheduleRuleOf(SAMPLE_ARN);
    expect(respondSchedule).not.toBe(samplerSchedule);
    expect(resource(template, respondSchedule, 'AWS::Events::Rule').Properties.Targets).toEqual([
      expect.objectContaining({ Arn: RESPOND_ARN }),
    ]);
    expect(resource(template, samplerSchedule, 'AWS::Events::Rule').Properties.Targets).toEqual([
      expect.objectContaining({ Arn: SAMPLE_ARN }),
    ]);
    expect(rules.map(([id]) => id).sort()).toEqual([...respondRules().map((r) => r.ruleId), respondSchedule, samplerSchedule].sort());
    for (const { ruleId } of respondRules()) {
      const props = resource(template, ruleId, 'AWS::Events::Rule').Properties;
      expect(props.State).toBe('ENABLED');
      expect(props.ScheduleExpression).toBeUndefined();
      // The default event bus: where CloudTrail, Auto Scaling and CloudWatch alarms deliver.
      expect(props.EventBusName).toBeUndefined();
      expect(props.Targets).toEqual([expect.objectContaining({ Arn: RESPOND_ARN })]);
    }
  });

  it(`deploy eventPatterns('${ALARM_NAME_PREFIX}') of lib/events/patterns.ts, each pattern once`, () => {
    const names = respondRules().map((r) => (r.names.length === 1 ? r.names[0] : `${r.ruleId}: ${JSON.stringify(r.names)}`));
    expect(names.sort()).toEqual([...PATTERN_NAMES].sort());
    // The same again, with a readable diff when a rule's pattern drifts.
    const expected = eventPatterns(ALARM_NAME_PREFIX);
    for (const rule of respondRules()) expect(rule.pattern).toEqual(expected[rule.names[0]!]);
  });

  it('select the alarms of the prefix the function is configured with', () => {
    const prefix: string = respond().Properties.Environment.Variables.ALARM_NAME_PREFIX;
    expect(prefix).toBe(ALARM_NAME_PREFIX);
    const alarmRule = respondRules().find((r) => r.names.includes('alarmStateChange'))!;
    expect(alarmRule.pattern).toEqual(eventPatterns(prefix).alarmStateChange);
    for (const [, alarm] of resourcesOfType(template, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmName.startsWith(prefix)).toBe(true);
    }
  });

  it('each let EventBridge invoke the function from that rule’s ARN, and no other permission exists', () => {
    const values: Record<string, string> = { ...PSEUDO };
    for (const [ruleId] of resourcesOfType(template, 'AWS::Events::Rule')) values[`${ruleId}.Arn`] = ruleArn(template, ruleId);
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission').map(([id, p]) => ({
      id,
      props: p.Properties,
      sourceArn: resolveValue(p.Properties.SourceArn, values),
    }));
    const respondRuleIds = [...respondRules().map((r) => r.ruleId), scheduleRuleOf(RESPOND_ARN)];
    for (const ruleId of respondRuleIds) {
      const forRule = permissions.filter((p) => p.sourceArn === ruleArn(template, ruleId));
      expect(forRule.map((p) => p.props)).toEqual([
        {
          Action: 'lambda:InvokeFunction',
          FunctionName: RESPOND_ARN,
          Principal: 'events.amazonaws.com',
          SourceArn: expect.anything(),
        },
      ]);
    }
    // Three for the responder's pattern rules, one for its schedule, one for the sampler's
    // schedule (template.test.ts), none unscoped.
    expect(permissions).toHaveLength(5);
    expect(new Set(permissions.map((p) => p.sourceArn)).size).toBe(5);
    expect(permissions.filter((p) => sameValue(p.props.FunctionName, RESPOND_ARN))).toHaveLength(4);
    expect(permissions.filter((p) => sameValue(p.props.FunctionName, SAMPLE_ARN)).map((p) => p.sourceArn)).toEqual([
      ruleArn(template, scheduleRuleOf(SAMPLE_ARN)),
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// The sample events against the deployed rules

const EVENTS_DIR = join(__dirname, '..', '..', 'events');
const SAMPLE_FILE = /^(cloudtrail|autoscaling|alarm)-.*\.json$/;
const sampleFiles = readdirSync(EVENTS_DIR).filter((file) => SAMPLE_FILE.test(file)).sort();

/** The rule each sample must be selected by; cloudtrail-unauthorized.json is not exhaustion. */
function expectedRule(file: string): EventPatternName | undefined {
  if (file === 'cloudtrail-unauthorized.json') return undefined;
  if (file.startsWith('cloudtrail-')) return 'cloudTrailAllocationFailure';
  if (file.startsWith('autoscaling-')) return 'autoScalingLaunchFailure';
  return 'alarmStateChange';
}

function loadEvent(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(EVENTS_DIR, file), 'utf8')) as Record<string, unknown>;
}

/** The names of the deployed respond rules that select `event`. */
function matchingRules(event: unknown): string[] {
  return respondRules()
    .filter((rule) => matchesPattern(rule.pattern, event))
    .map((rule) => rule.names.join('|'));
}

// The sample alarm events name the alarms of a `dev` stack (eks-ip-responder-dev-...), the stage
// `serverless invoke local` and the handler tests use; the packaged stage is `test`. Matching them
// as they are against the test stack's rule would only show that the rule rejects another stage's
// alarms. So each alarm sample is checked twice: as written, it must be selected by the dev
// stage's pattern and by no rule of the test stack (the prefix keeps stages apart); with the dev
// prefix replaced by the test stack's, it must be selected by exactly the deployed alarm rule and
// name an alarm that the test stack really has. The substitution is the one difference between a
// dev and a test stack's alarm events (their names are `<service>-<stage>-<alarm>`).
const DEV_PREFIX = 'eks-ip-responder-dev-';

function inTestStage(event: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(event).split(DEV_PREFIX).join(ALARM_NAME_PREFIX)) as Record<string, unknown>;
}

describe('sample events against the deployed rules', () => {
  it('are in events/: at least one of each kind, and every JSON file there is a sample or scheduled.json', () => {
    for (const kind of ['cloudtrail-', 'autoscaling-', 'alarm-']) {
      expect(sampleFiles.filter((f) => f.startsWith(kind)).length).toBeGreaterThanOrEqual(1);
    }
    expect(sampleFiles).toContain('cloudtrail-unauthorized.json');
    const json = readdirSync(EVENTS_DIR).filter((f) => f.endsWith('.json'));
    expect(json.filter((f) => !SAMPLE_FILE.test(f))).toEqual(['scheduled.json']);
  });

  describe.each(sampleFiles.filter((f) => !f.startsWith('alarm-')))('%s', (file) => {
    const rule = expectedRule(file);
    it(rule === undefined ? 'is selected by no rule of the stack' : `is selected by exactly the ${rule} rule`, () => {
      expect(matchingRules(loadEvent(file))).toEqual(rule === undefined ? [] : [rule]);
    });
  });

  describe.each(sampleFiles.filter((f) => f.startsWith('alarm-')))('%s', (file) => {
    it('as written, names a dev-stage alarm: selected by the dev pattern, by no rule of the test stack', () => {
      const event = loadEvent(file);
      expect((event.detail as { alarmName: string }).alarmName.startsWith(DEV_PREFIX)).toBe(true);
      expect(matchesPattern(eventPatterns(DEV_PREFIX).alarmStateChange, event)).toBe(true);
      expect(matchingRules(event)).toEqual([]);
    });

    it('with the test stage’s prefix, is selected by exactly the deployed alarm rule and names one of its alarms', () => {
      const event = inTestStage(loadEvent(file));
      expect(matchingRules(event)).toEqual(['alarmStateChange']);
      const alarmNames = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties.AlarmName);
      expect(alarmNames).toContain((event.detail as { alarmName: string }).alarmName);
    });
  });

  describe('events/scheduled.json', () => {
    it('is selected by none of the responder’s event-pattern rules', () => {
      expect(matchingRules(loadEvent('scheduled.json'))).toEqual([]);
    });

    it('is a scheduled event from the sampler’s schedule rule, not the responder’s', () => {
      const event = loadEvent('scheduled.json');
      expect(event).toMatchObject({ source: 'aws.events', 'detail-type': 'Scheduled Event' });
      // A rule without a Name is named <stack>-<logical id>-<suffix> by CloudFormation.
      const [arn] = event.resources as string[];
      expect(arn).toMatch(new RegExp(`:rule/eks-ip-responder-test-${scheduleRuleOf(SAMPLE_ARN)}-[A-Z0-9]+$`));
      expect(arn).not.toContain(scheduleRuleOf(RESPOND_ARN));
    });

    it('as the responder’s schedule sends it, is selected by none of the responder’s event-pattern rules either', () => {
      const event = { ...loadEvent('scheduled.json'), resources: [ruleArn(template, scheduleRuleOf(RESPOND_ARN))] };
      expect(matchingRules(event)).toEqual([]);
    });
  });
});
