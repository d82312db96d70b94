/**
 * The sampler's fan-out mode, from the stage params (cycleMode, fanOutMaxConcurrency): a Step
 * Functions state machine (Dispatch, a Distributed Map of the sample function over the items, Merge),
 * its role, and the schedule that starts it instead of invoking the function. Pure: params in,
 * template fragments out; stack/fanout.stack.js throws the params' problems (stack/checks.ts
 * cycleModeProblems). Design: docs/architecture.md, "Ultra scale: fan-out mode".
 */

/** The params, as osls resolves them (strings). */
export interface FanOutParams {
  cycleMode: string;
  fanOutMaxConcurrency: string;
  scheduleRate: string;
  remediationRate: string;
  /** `<service>-<stage>`: the state machine's name prefix, as the functions'. */
  namePrefix: string;
}

/** The modes: one function invocation per cycle (the default), or the fan-out. */
export const CYCLE_MODES = ['single', 'per-cluster'] as const;

/** The placeholders of the functions' ARNs in the definition (DefinitionSubstitutions). */
export const SAMPLE_FUNCTION_ARN = '${SampleFunctionArn}';
export const RESPOND_FUNCTION_ARN = '${RespondFunctionArn}';

/**
 * Lambda's transient errors, retried (Step Functions developer guide, "Handling errors in Step
 * Functions workflows", the retrier it recommends for Lambda tasks:
 * https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html). An error of
 * the function itself is not: an item's cycle is not idempotent to repeat at once (it notifies
 * through the ledger, which makes a repeat harmless, but it would describe the account again).
 */
const LAMBDA_RETRY = [
  {
    ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'],
    IntervalSeconds: 2,
    MaxAttempts: 3,
    BackoffRate: 2,
  },
];

/** A `arn:aws:states:::lambda:invoke` task (Step Functions' optimized Lambda integration) of one of the stack's functions. */
function invoke(payload: Record<string, unknown>, rest: Record<string, unknown>, functionArn = SAMPLE_FUNCTION_ARN): Record<string, unknown> {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: functionArn, ...payload },
    // The function's answer only, not the invocation's metadata (StatusCode, headers).
    ResultSelector: { 'value.$': '$.Payload' },
    Retry: LAMBDA_RETRY,
    ...rest,
  };
}

/** An item's share of the read pace: 1 / the Map's MaxConcurrency, to 6 decimals, never 0. */
export function paceShareOf(maxConcurrency: number): number {
  return Math.max(0.000001, Math.floor(1_000_000 / Math.max(1, maxConcurrency)) / 1_000_000);
}

/**
 * The state machine's definition (Amazon States Language, https://states-language.net/spec.html;
 * the Distributed Map's fields: https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html;
 * ItemsPath over an array of the state input in a Distributed Map, JSONPath: as aws-cdk-lib's
 * DistributedMap `itemsPath`, aws-stepfunctions/lib/states/distributed-map.ts). cfn-lint checks it
 * in the packaged template (docs/development.md); test/handlers/fanout.test.ts runs it.
 * Its input names the cycle: `{"cycle":"sample"}` (the sampler's schedule) or `{"cycle":"remediate"}`
 * (the responder's remediation tick).
 * - Dispatch: `{"fanOut":"dispatch","cycle":...}` to the sample function (lib/fanout.ts
 *   dispatchFanOut): the items (clusters by VPC; for remediate, those in apply mode) and the
 *   region-level figures, read once.
 * - Items: a Map in DISTRIBUTED mode over `$.dispatch.value.items`, each child an EXPRESS workflow
 *   (one invocation, well inside Express's 5 minutes) that invokes the sample function (sample) or
 *   the respond function (remediate) with the item's `{"clusterNames":[...],"fanOut":{"region":...,"paceShare":...}}`.
 *   A failed item is caught in the child and answered as `{clusterNames, error}`, so one cluster's
 *   failure neither stops the others nor is lost; ToleratedFailurePercentage 100 keeps a child that
 *   fails anyway (a States.* error) from failing the Map run.
 * - Merge: `{"fanOut":"merge","plan":...,"results":[...]}` to the sample function (lib/fanout.ts mergeFanOut).
 */
export function fanOutDefinition(maxConcurrency: number): Record<string, unknown> {
  const item = { 'clusterNames.$': '$.clusterNames', 'fanOut.$': '$.fanOut' };
  const caught = (next: string) => ({ ResultPath: '$.answer', Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }], Next: next });
  return {
    Comment: 'eks-ip-responder: one cycle fanned out over the clusters (docs/architecture.md, Ultra scale: fan-out mode)',
    StartAt: 'Dispatch',
    States: {
      Dispatch: invoke({ Payload: { fanOut: 'dispatch', 'cycle.$': '$.cycle' } }, { ResultPath: '$.dispatch', Next: 'Items' }),
      Items: {
        Type: 'Map',
        ItemsPath: '$.dispatch.value.items',
        ItemSelector: {
          'cycle.$': '$.dispatch.value.cycle',
          'clusterNames.$': '$$.Map.Item.Value.clusterNames',
          // Each item's share of the functions' read pace (lib/aws/pacer.ts): the items read at
          // once (MaxConcurrency at most) together keep one function's pace.
          fanOut: { 'region.$': '$.dispatch.value.region', paceShare: paceShareOf(maxConcurrency) },
        },
        MaxConcurrency: maxConcurrency,
        ToleratedFailurePercentage: 100,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
          StartAt: 'Which',
          States: {
            Which: { Type: 'Choice', Choices: [{ Variable: '$.cycle', StringEquals: 'remediate', Next: 'Remediate' }], Default: 'Sample' },
            Sample: invoke({ Payload: item }, caught('Done')),
            Remediate: invoke({ Payload: item }, caught('Done'), RESPOND_FUNCTION_ARN),
            Done: { Type: 'Pass', Parameters: { 'clusterNames.$': '$.clusterNames', 'summary.$': '$.answer.value' }, End: true },
            Failed: { Type: 'Pass', Parameters: { 'clusterNames.$': '$.clusterNames', 'error.$': '$.error' }, End: true },
          },
        },
        ResultPath: '$.results',
        Next: 'Merge',
      },
      Merge: invoke({ Payload: { fanOut: 'merge', 'plan.$': '$.dispatch.value', 'results.$': '$.results' } }, { End: true }),
    },
  };
}

/**
 * Distributed Map's most concurrent child executions (MaxConcurrency "up to 10,000": Step Functions
 * developer guide, "Distributed Map state", https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html).
 */
export const FAN_OUT_MAX_CONCURRENCY = 10_000;

/** Whether the stack fans the sampler out. */
export const fansOut = (params: Pick<FanOutParams, 'cycleMode'>): boolean => params.cycleMode.trim() === 'per-cluster';

/** The state machine's name (80 characters at most: AWS::StepFunctions::StateMachine StateMachineName). */
export const stateMachineName = (params: Pick<FanOutParams, 'namePrefix'>): string => `${params.namePrefix}-cycle`;

type Resource = { Type: string; Properties: Record<string, unknown> };

/**
 * The fan-out's resources, none in single mode:
 * - FanOutStateMachine (STANDARD: a Distributed Map runs in a Standard parent), its definition with
 *   the sample function's ARN substituted;
 * - FanOutStateMachineRole: lambda:InvokeFunction on the stack's two functions only, and the Distributed
 *   Map's own calls on this state machine only (states:StartExecution of its child executions,
 *   DescribeExecution / StopExecution of its executions: "IAM policies for using Distributed Map
 *   states", https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html);
 * - FanOutScheduleRule (scheduleRate, `{"cycle":"sample"}`) and FanOutRemediationRule
 *   (remediationRate, `{"cycle":"remediate"}`), AWS::Events::Rule as the functions' `schedule`
 *   events compile to, targeting the state machine through FanOutScheduleRole, which may only start
 *   it (EventBridge needs a role for a Step Functions target: "Using IAM roles for EventBridge targets").
 * - FanOutExecutionsFailedAlarm: an execution failed, timed out or was aborted, to the alert topic.
 * Both roles trust their service only for this account (aws:SourceAccount: the confused-deputy
 * guard of the IAM user guide, "The confused deputy problem").
 */
export function fanOutResources(params: FanOutParams): Record<string, Resource> {
  if (!fansOut(params)) return {};
  const name = stateMachineName(params);
  const trust = (service: string) => ({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }],
  });
  return {
    FanOutStateMachineRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: 'The fan-out state machine: invokes the stack functions, and runs its own Distributed Map',
        AssumeRolePolicyDocument: trust('states.amazonaws.com'),
        Policies: [
          {
            PolicyName: 'fan-out',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: 'lambda:InvokeFunction',
                  Resource: [
                    { 'Fn::GetAtt': ['SampleLambdaFunction', 'Arn'] },
                    { 'Fn::GetAtt': ['RespondLambdaFunction', 'Arn'] },
                  ],
                },
                { Effect: 'Allow', Action: 'states:StartExecution', Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${name}` } },
                {
                  Effect: 'Allow',
                  Action: ['states:DescribeExecution', 'states:StopExecution'],
                  Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${name}/*` },
                },
              ],
            },
          },
        ],
      },
    },
    FanOutStateMachine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        StateMachineName: name,
        StateMachineType: 'STANDARD',
        RoleArn: { 'Fn::GetAtt': ['FanOutStateMachineRole', 'Arn'] },
        Definition: fanOutDefinition(Number(params.fanOutMaxConcurrency)),
        DefinitionSubstitutions: {
          SampleFunctionArn: { 'Fn::GetAtt': ['SampleLambdaFunction', 'Arn'] },
          RespondFunctionArn: { 'Fn::GetAtt': ['RespondLambdaFunction', 'Arn'] },
        },
      },
    },
    FanOutScheduleRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: 'The fan-out schedules: start the fan-out state machine',
        AssumeRolePolicyDocument: trust('events.amazonaws.com'),
        Policies: [
          {
            PolicyName: 'start-cycle',
            PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: 'FanOutStateMachine' } }] },
          },
        ],
      },
    },
    FanOutScheduleRule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: 'Sample the EKS clusters\' IPv4 capacity (fan-out: starts the state machine)',
        ScheduleExpression: params.scheduleRate,
        State: 'ENABLED',
        Targets: [{ Id: 'fan-out-sample', Arn: { Ref: 'FanOutStateMachine' }, RoleArn: { 'Fn::GetAtt': ['FanOutScheduleRole', 'Arn'] }, Input: '{"cycle":"sample"}' }],
      },
    },
    FanOutRemediationRule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: 'Follow and start approved changes on clusters in apply mode (fan-out: starts the state machine)',
        ScheduleExpression: params.remediationRate,
        State: 'ENABLED',
        Targets: [{ Id: 'fan-out-remediate', Arn: { Ref: 'FanOutStateMachine' }, RoleArn: { 'Fn::GetAtt': ['FanOutScheduleRole', 'Arn'] }, Input: '{"cycle":"remediate"}' }],
      },
    },
    // A cycle whose whole execution failed, timed out or was aborted publishes nothing of its own
    // (a failed item is the merge's SamplingFailed): Step Functions' execution metrics, namespace
    // AWS/States, dimension StateMachineArn ("Monitoring Step Functions metrics using CloudWatch",
    // https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html).
    FanOutExecutionsFailedAlarm: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: `${params.namePrefix}-fan-out-executions-failed`,
        AlarmDescription: 'A fan-out cycle (the state machine) failed, timed out or was aborted: no figure of that cycle was published (see its execution history).',
        Metrics: [
          ...(['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'] as const).map((MetricName, i) => ({
            Id: `m${i}`,
            MetricStat: { Metric: { Namespace: 'AWS/States', MetricName, Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: 'FanOutStateMachine' } }] }, Period: 300, Stat: 'Sum' },
            ReturnData: false,
          })),
          { Id: 'failed', Expression: 'FILL(m0, 0) + FILL(m1, 0) + FILL(m2, 0)', Label: 'executions failed, timed out or aborted', ReturnData: true },
        ],
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'AlertTopic' }],
        OKActions: [{ Ref: 'AlertTopic' }],
      },
    },
  };
}

/** The sample function's events: its schedule in single mode, none when the state machine runs the cycle. */
export function sampleEvents(params: FanOutParams): { schedule: { rate: string; description: string } }[] {
  return fansOut(params) ? [] : [{ schedule: { rate: params.scheduleRate, description: "Sample the EKS clusters' IPv4 capacity" } }];
}

/** Whether the responder's own remediation tick rule is enabled: not when the state machine runs the tick. */
export function remediationTickEnabled(params: FanOutParams): boolean {
  return !fansOut(params);
}
