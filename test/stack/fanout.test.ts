// The sampler's fan-out mode in the stack (stack/fanout.ts, stack/fanout.stack.js): none of it by
// default (the template as it was), and with cycleMode=per-cluster the state machine, its schedule
// instead of the function's, and two roles scoped to what each must do; the params' checks at
// packaging. The definition itself runs end to end in test/handlers/fanout.test.ts.
import { cycleModeProblems } from '../../stack/checks';
import { fanOutDefinition, fanOutResources, remediationTickEnabled, RESPOND_FUNCTION_ARN, SAMPLE_FUNCTION_ARN, sampleEvents, type FanOutParams } from '../../stack/fanout';
import { deployedStatements, evaluateRequest, loadTemplate, packageWith, PSEUDO, resource, resourcesOfType, roleStatements, type CfnTemplate, type Packaged } from './template';

const SINGLE: FanOutParams = { cycleMode: 'single', fanOutMaxConcurrency: '10', scheduleRate: 'rate(5 minutes)', remediationRate: 'rate(10 minutes)', namePrefix: 'eks-ip-responder-test' };
const FAN_OUT: FanOutParams = { ...SINGLE, cycleMode: 'per-cluster' };

describe('fan-out params and resources (pure)', () => {
  it('makes nothing in single mode, and keeps the sampler’s own schedule', () => {
    expect(fanOutResources(SINGLE)).toEqual({});
    expect(sampleEvents(SINGLE)).toEqual([{ schedule: { rate: 'rate(5 minutes)', description: "Sample the EKS clusters' IPv4 capacity" } }]);
    expect(remediationTickEnabled(SINGLE)).toBe(true);
  });

  it('in per-cluster mode moves both schedules to the state machine', () => {
    expect(sampleEvents(FAN_OUT)).toEqual([]);
    expect(remediationTickEnabled(FAN_OUT)).toBe(false);
    expect(Object.keys(fanOutResources(FAN_OUT)).sort()).toEqual(['FanOutExecutionsFailedAlarm', 'FanOutRemediationRule', 'FanOutScheduleRole', 'FanOutScheduleRule', 'FanOutStateMachine', 'FanOutStateMachineRole']);
  });

  it('refuses a mode or a concurrency the stack does not know', () => {
    expect(cycleModeProblems({ cycleMode: 'single', fanOutMaxConcurrency: '10' })).toEqual([]);
    expect(cycleModeProblems({ cycleMode: ' per-cluster ', fanOutMaxConcurrency: '10000' })).toEqual([]);
    expect(cycleModeProblems({ cycleMode: 'perCluster', fanOutMaxConcurrency: '0' })).toEqual([
      `cycleMode: "perCluster" is neither 'single' nor 'per-cluster'`,
      'fanOutMaxConcurrency: "0" is not a whole number from 1 to 10000 (the Distributed Map\'s MaxConcurrency)',
    ]);
    for (const bad of ['10001', 'ten', '', '2.5', '-1']) expect(cycleModeProblems({ cycleMode: 'single', fanOutMaxConcurrency: bad })).toHaveLength(1);
  });

  it('is a Distributed Map of Express children that catches each item and tolerates failures, invoking the stack’s functions only', () => {
    const d = fanOutDefinition(25) as { States: Record<string, Record<string, unknown>> };
    expect(Object.keys(d.States)).toEqual(['Dispatch', 'Items', 'Merge']);
    const map = d.States['Items'] as { ItemProcessor: { ProcessorConfig: unknown; States: Record<string, { Catch?: unknown }> }; MaxConcurrency: number; ToleratedFailurePercentage: number };
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' });
    expect(map.MaxConcurrency).toBe(25);
    expect(map.ToleratedFailurePercentage).toBe(100);
    for (const task of ['Sample', 'Remediate']) {
      expect(map.ItemProcessor.States[task]?.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }]);
    }
    const names = JSON.stringify(d).match(/"FunctionName":"[^"]*"/g);
    expect(names).toEqual([SAMPLE_FUNCTION_ARN, SAMPLE_FUNCTION_ARN, RESPOND_FUNCTION_ARN, SAMPLE_FUNCTION_ARN].map((arn) => `"FunctionName":"${arn}"`));
  });
});

describe('the packaged stack', () => {
  let fanOut: Packaged;
  let single: CfnTemplate;
  beforeAll(() => {
    single = loadTemplate();
    fanOut = packageWith({ cycleMode: 'per-cluster', fanOutMaxConcurrency: '40' });
  });
  afterAll(() => fanOut?.remove());

  const VALUES = {
    ...PSEUDO,
    'SampleLambdaFunction.Arn': 'arn:aws:lambda:eu-west-1:123456789012:function:eks-ip-responder-test-sample',
    'RespondLambdaFunction.Arn': 'arn:aws:lambda:eu-west-1:123456789012:function:eks-ip-responder-test-respond',
    FanOutStateMachine: 'arn:aws:states:eu-west-1:123456789012:stateMachine:eks-ip-responder-test-cycle',
  };
  const targetsOf = (t: CfnTemplate, fn: string) =>
    resourcesOfType(t, 'AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties.Targets ?? []).includes(`"${fn}"`));

  it('single (the default): no state machine, and the sampler’s schedule invokes the function', () => {
    expect(resourcesOfType(single, 'AWS::StepFunctions::StateMachine')).toEqual([]);
    expect(Object.keys(single.Resources).filter((id) => id.startsWith('FanOut'))).toEqual([]);
    const rules = targetsOf(single, 'SampleLambdaFunction');
    expect(rules.map(([, r]) => r.Properties.ScheduleExpression)).toEqual(['rate(5 minutes)']);
  });

  it('per-cluster: the schedule starts the state machine through its own role, and no longer invokes the sampler', () => {
    const t = fanOut.template;
    expect(targetsOf(t, 'SampleLambdaFunction')).toEqual([]);
    const rule = resource(t, 'FanOutScheduleRule', 'AWS::Events::Rule');
    expect(rule.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule.Properties.Targets).toEqual([{ Id: 'fan-out-sample', Arn: { Ref: 'FanOutStateMachine' }, RoleArn: { 'Fn::GetAtt': ['FanOutScheduleRole', 'Arn'] }, Input: '{"cycle":"sample"}' }]);
    const tick = resource(t, 'FanOutRemediationRule', 'AWS::Events::Rule');
    expect(tick.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(tick.Properties.Targets).toEqual([{ Id: 'fan-out-remediate', Arn: { Ref: 'FanOutStateMachine' }, RoleArn: { 'Fn::GetAtt': ['FanOutScheduleRole', 'Arn'] }, Input: '{"cycle":"remediate"}' }]);
    const sm = resource(t, 'FanOutStateMachine', 'AWS::StepFunctions::StateMachine');
    expect(sm.Properties).toMatchObject({
      StateMachineName: 'eks-ip-responder-test-cycle',
      StateMachineType: 'STANDARD',
      DefinitionSubstitutions: { SampleFunctionArn: { 'Fn::GetAtt': ['SampleLambdaFunction', 'Arn'] }, RespondFunctionArn: { 'Fn::GetAtt': ['RespondLambdaFunction', 'Arn'] } },
    });
    expect(sm.Properties.Definition).toEqual(fanOutDefinition(40));
    // A whole execution that fails, times out or is aborted alarms to the alert topic.
    const alarm = resource(t, 'FanOutExecutionsFailedAlarm', 'AWS::CloudWatch::Alarm');
    expect(alarm.Properties.AlarmActions).toEqual([{ Ref: 'AlertTopic' }]);
    expect(JSON.stringify(alarm.Properties.Metrics)).toContain('"Dimensions":[{"Name":"StateMachineArn","Value":{"Ref":"FanOutStateMachine"}}]');
    expect((alarm.Properties.Metrics as { MetricStat?: { Metric: { MetricName: string } } }[]).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : []))).toEqual(['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']);
    // Each of the up to 40 items reads at 1/40 of the functions' read pace (lib/aws/pacer.ts).
    expect(JSON.stringify(sm.Properties.Definition)).toContain('"paceShare":0.025');
    // The responder's own remediation tick rule is disabled (the state machine runs the tick); its events' rules are not.
    const respondSchedules = targetsOf(t, 'RespondLambdaFunction').filter(([, r]) => r.Properties.ScheduleExpression !== undefined);
    expect(respondSchedules.map(([, r]) => r.Properties.State)).toEqual(['DISABLED']);
    expect(targetsOf(t, 'RespondLambdaFunction').filter(([, r]) => r.Properties.EventPattern !== undefined).every(([, r]) => r.Properties.State === 'ENABLED')).toBe(true);
    const singleSchedules = targetsOf(single, 'RespondLambdaFunction').filter(([, r]) => r.Properties.ScheduleExpression !== undefined);
    expect(singleSchedules.map(([, r]) => r.Properties.State)).toEqual(['ENABLED']);
  });

  it('the state machine role may invoke the stack’s two functions and run its own map, nothing else', () => {
    const t = fanOut.template;
    const statements = deployedStatements(t, roleStatements(t, 'FanOutStateMachineRole'));
    const may = (action: string, resourceArn: string) => evaluateRequest(statements, { action, resource: resourceArn }, VALUES);
    expect(may('lambda:InvokeFunction', VALUES['SampleLambdaFunction.Arn'])).toBe('allowed');
    expect(may('lambda:InvokeFunction', VALUES['RespondLambdaFunction.Arn'])).toBe('allowed');
    expect(may('lambda:InvokeFunction', 'arn:aws:lambda:eu-west-1:123456789012:function:someone-else')).toBe('implicit-deny');
    expect(may('states:StartExecution', VALUES.FanOutStateMachine)).toBe('allowed');
    expect(may('states:StartExecution', 'arn:aws:states:eu-west-1:123456789012:stateMachine:other')).toBe('implicit-deny');
    expect(may('states:DescribeExecution', 'arn:aws:states:eu-west-1:123456789012:execution:eks-ip-responder-test-cycle/map-run:child-1')).toBe('allowed');
    expect(may('states:StopExecution', 'arn:aws:states:eu-west-1:123456789012:execution:other/x')).toBe('implicit-deny');
    expect(may('ec2:DescribeSubnets', '*')).toBe('implicit-deny');
    const trust = resource(t, 'FanOutStateMachineRole', 'AWS::IAM::Role').Properties.AssumeRolePolicyDocument.Statement;
    expect(trust).toEqual([{ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }]);
  });

  it('the schedule role may only start the state machine', () => {
    const t = fanOut.template;
    const statements = deployedStatements(t, roleStatements(t, 'FanOutScheduleRole'));
    const may = (action: string, resourceArn: string) => evaluateRequest(statements, { action, resource: resourceArn }, VALUES);
    expect(may('states:StartExecution', VALUES.FanOutStateMachine)).toBe('allowed');
    expect(may('states:StartExecution', 'arn:aws:states:eu-west-1:123456789012:stateMachine:other')).toBe('implicit-deny');
    expect(may('lambda:InvokeFunction', VALUES['SampleLambdaFunction.Arn'])).toBe('implicit-deny');
    expect(resource(t, 'FanOutScheduleRole', 'AWS::IAM::Role').Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'events.amazonaws.com' });
  });

  it('refuses an unknown cycleMode at packaging, naming it', () => {
    expect(() => packageWith({ cycleMode: 'fanout' }).remove()).toThrow(/cycleMode: "fanout" is neither 'single' nor 'per-cluster'/);
  });
});
