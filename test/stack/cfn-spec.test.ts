// Validates the packaged templates against the CloudFormation resource specification
// (@aws-cdk/cfnspec): the stack packaged for the production stages, without and with the
// optional params, must be a template CloudFormation accepts. The validator's own tests come
// first, on small hand-written templates, to show that it fails on each kind of problem.
import { eventPatternComplexity, MAX_EVENT_PATTERN_COMPLEXITY } from '../../lib/events/pattern-complexity';
import type { EventPattern } from '../../lib/events/patterns';
import { packagedTemplateProblems, type PackagedTemplate } from '../../stack/checks';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { specification } from '@aws-cdk/cfnspec';
import { CfnSpecification, loadSpecification, SPEC_SUPPLEMENT, withSupplement, validateTemplate, validateTemplateFile } from './cfn-spec';
import { evaluateCondition, resource } from './template';
import { packageVariants, removeVariants, StackVariant, VARIANTS } from './variants';

let spec: CfnSpecification;

beforeAll(() => {
  spec = loadSpecification();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Template = any;

/** A small valid template in the packaged templates' style: conditions, Fn::If, Sub, GetAtt, outputs. */
function baseTemplate(): Template {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'cfn-spec test template',
    Parameters: { Stage: { Type: 'String' } },
    Conditions: {
      HasAlertEmail: { 'Fn::Not': [{ 'Fn::Equals': ['ops@example.com', ''] }] },
      IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
    },
    Resources: {
      LedgerTable: {
        Type: 'AWS::DynamoDB::Table',
        DeletionPolicy: 'RetainExceptOnCreate',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          TableName: { 'Fn::Sub': '${AWS::StackName}-ledger' },
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: 'true' },
        },
      },
      AlertTopic: {
        Type: 'AWS::SNS::Topic',
        Properties: { TopicName: { 'Fn::Sub': '${AWS::StackName}-alerts' }, Tags: [{ Key: 'Service', Value: 'x' }] },
      },
      AlertEmailSubscription: {
        Type: 'AWS::SNS::Subscription',
        Condition: 'HasAlertEmail',
        Properties: { TopicArn: { Ref: 'AlertTopic' }, Protocol: 'email', Endpoint: 'ops@example.com' },
      },
      DeadLetterQueue: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 1209600 } },
      FreeIpsAlarm: {
        Type: 'AWS::CloudWatch::Alarm',
        DependsOn: ['AlertTopic'],
        Properties: {
          AlarmName: { 'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, 'free-ips']] },
          ComparisonOperator: 'LessThanThreshold',
          EvaluationPeriods: '1',
          Threshold: 16,
          Period: 300,
          Statistic: 'Minimum',
          MetricName: 'SubnetFreeIps',
          Namespace: 'EKS/IPResponder',
          Dimensions: [{ Name: 'Stage', Value: { Ref: 'Stage' } }],
          AlarmActions: [{ Ref: 'AlertTopic' }, { 'Fn::If': ['IsProd', { Ref: 'AlertTopic' }, { Ref: 'AWS::NoValue' }] }],
        },
      },
      SamplerRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
          },
          Policies: [
            {
              PolicyName: 'sampler',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  { Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: { 'Fn::GetAtt': ['LedgerTable', 'Arn'] } },
                  {
                    'Fn::If': [
                      'HasAlertEmail',
                      { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: 'AlertTopic' } },
                      { Ref: 'AWS::NoValue' },
                    ],
                  },
                ],
              },
            },
          ],
        },
      },
    },
    Outputs: {
      AlertTopicArn: {
        Description: 'alert topic',
        Value: { Ref: 'AlertTopic' },
        Export: { Name: { 'Fn::Sub': '${AWS::StackName}-AlertTopicArn' } },
      },
      LedgerTableStream: { Value: { 'Fn::GetAtt': ['LedgerTable', 'StreamArn'] } },
    },
  };
}

/** The base template with `mutate` applied to a copy. */
function templateWith(mutate: (template: Template) => void): Template {
  const template = JSON.parse(JSON.stringify(baseTemplate()));
  mutate(template);
  return template;
}

const props = (template: Template, logicalId: string): Template => template.Resources[logicalId].Properties;

describe('validateTemplate', () => {
  it('finds no problem in a valid template', () => {
    expect(validateTemplate(baseTemplate(), spec)).toEqual([]);
  });

  it.each<[string, (t: Template) => void]>([
    ['a numeric string for an Integer and "true" for a Boolean', (t) => {
      props(t, 'DeadLetterQueue').MessageRetentionPeriod = '1209600';
      props(t, 'LedgerTable').TimeToLiveSpecification.Enabled = 'false';
    }],
    ['a required property in an Fn::If with an AWS::NoValue branch (maybe absent)', (t) => {
      props(t, 'FreeIpsAlarm').ComparisonOperator = {
        'Fn::If': ['IsProd', 'LessThanThreshold', { Ref: 'AWS::NoValue' }],
      };
    }],
    ['a ${!Literal} escape in Fn::Sub', (t) => {
      props(t, 'AlertTopic').TopicName = { 'Fn::Sub': '${AWS::StackName}-${!NotAName}' };
    }],
    ['the variable map form of Fn::Sub', (t) => {
      props(t, 'AlertTopic').TopicName = {
        'Fn::Sub': ['${Prefix}-${LedgerTable.Arn}', { Prefix: { Ref: 'Stage' } }],
      };
    }],
    ['a Snapshot DeletionPolicy on a type that supports it', (t) => {
      t.Resources.Volume = {
        Type: 'AWS::EC2::Volume',
        DeletionPolicy: 'Snapshot',
        UpdateReplacePolicy: 'Snapshot',
        Properties: { AvailabilityZone: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }, Size: 1 },
      };
    }],
    ['parameters whose Defaults meet their constraints', (t) => {
      t.Parameters.Stage = { Type: 'String', Default: 'prod', AllowedValues: ['prod', 'test'], AllowedPattern: '[a-z]+', MaxLength: 4 };
      t.Parameters.Memory = { Type: 'Number', Default: 512, MinValue: 128, MaxValue: 10240 };
      t.Parameters.Subnets = { Type: 'List<AWS::EC2::Subnet::Id>' };
      t.Parameters.Latest = { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/eks-ip-responder/policy' };
    }],
  ])('accepts %s', (_name, mutate) => {
    expect(validateTemplate(templateWith(mutate), spec)).toEqual([]);
  });

  it.each<[string, (t: Template) => void, string[]]>([
    ['an unknown resource type', (t) => {
      t.Resources.DeadLetterQueue.Type = 'AWS::SQS::Queues';
    }, ['Resources.DeadLetterQueue.Type: unknown resource type AWS::SQS::Queues (not in the CloudFormation resource specification)']],
    ['an unknown property', (t) => {
      props(t, 'LedgerTable').Foo = 'bar';
    }, ['Resources.LedgerTable.Properties.Foo: unknown property of AWS::DynamoDB::Table']],
    ['an unknown property of a nested property type', (t) => {
      props(t, 'FreeIpsAlarm').Dimensions[0].Values = 'x';
    }, ['Resources.FreeIpsAlarm.Properties.Dimensions[0].Values: unknown property of AWS::CloudWatch::Alarm.Dimension']],
    ['a missing required property', (t) => {
      delete props(t, 'LedgerTable').KeySchema;
    }, ['Resources.LedgerTable.Properties.KeySchema: required property of AWS::DynamoDB::Table is missing']],
    ['a missing required property of a nested property type', (t) => {
      delete props(t, 'LedgerTable').TimeToLiveSpecification.Enabled;
    }, [
      'Resources.LedgerTable.Properties.TimeToLiveSpecification.Enabled: required property of AWS::DynamoDB::Table.TimeToLiveSpecification is missing',
    ]],
    ['a required property that is AWS::NoValue in every branch', (t) => {
      props(t, 'AlertEmailSubscription').Protocol = {
        'Fn::If': ['IsProd', { Ref: 'AWS::NoValue' }, { Ref: 'AWS::NoValue' }],
      };
    }, ['Resources.AlertEmailSubscription.Properties.Protocol: required property of AWS::SNS::Subscription is missing']],
    ['a word for an Integer', (t) => {
      props(t, 'FreeIpsAlarm').EvaluationPeriods = 'five';
    }, ['Resources.FreeIpsAlarm.Properties.EvaluationPeriods: expected Integer, got "five"']],
    ['"yes" for a Boolean', (t) => {
      props(t, 'LedgerTable').TimeToLiveSpecification.Enabled = 'yes';
    }, ['Resources.LedgerTable.Properties.TimeToLiveSpecification.Enabled: expected Boolean, got "yes"']],
    ['an object for a String', (t) => {
      props(t, 'AlertEmailSubscription').Protocol = { email: true };
    }, ['Resources.AlertEmailSubscription.Properties.Protocol: expected String, got {"email":true}']],
    ['a single value for a List', (t) => {
      props(t, 'FreeIpsAlarm').OKActions = 'arn:aws:sns:eu-west-1:123456789012:topic';
    }, ['Resources.FreeIpsAlarm.Properties.OKActions: expected List of String, got "arn:aws:sns:eu-west-1:123456789012:topic"']],
    ['a wrong type inside an Fn::If branch', (t) => {
      props(t, 'DeadLetterQueue').MessageRetentionPeriod = { 'Fn::If': ['IsProd', 1209600, 'two weeks'] };
    }, ['Resources.DeadLetterQueue.Properties.MessageRetentionPeriod.Fn::If[2]: expected Integer, got "two weeks"']],
    ['an intrinsic function that returns a list for a single value', (t) => {
      props(t, 'FreeIpsAlarm').Threshold = { 'Fn::Split': [',', '1,2'] };
    }, ['Resources.FreeIpsAlarm.Properties.Threshold: expected Double, got Fn::Split, which returns a list']],
    ['an Fn::GetAtt of an unknown attribute', (t) => {
      t.Outputs.LedgerTableStream.Value = { 'Fn::GetAtt': ['LedgerTable', 'StreamARN'] };
    }, ['Outputs.LedgerTableStream.Value.Fn::GetAtt: AWS::DynamoDB::Table LedgerTable has no attribute StreamARN (it has Arn, StreamArn)']],
    ['an Fn::GetAtt of an unknown resource, inside a policy document', (t) => {
      props(t, 'SamplerRole').Policies[0].PolicyDocument.Statement[0].Resource = { 'Fn::GetAtt': ['Ledger', 'Arn'] };
    }, [
      'Resources.SamplerRole.Properties.Policies[0].PolicyDocument.Statement[0].Resource.Fn::GetAtt: Ledger is not a resource of the template',
    ]],
    ['a Ref to an unknown resource', (t) => {
      props(t, 'AlertEmailSubscription').TopicArn = { Ref: 'AlertTopics' };
    }, [
      'Resources.AlertEmailSubscription.Properties.TopicArn.Ref: AlertTopics names no resource, parameter or pseudo parameter of the template',
    ]],
    ['an Fn::Sub of an unknown resource', (t) => {
      props(t, 'LedgerTable').TableName = { 'Fn::Sub': '${AWS::StackName}-${LedgerTabel}' };
    }, [
      'Resources.LedgerTable.Properties.TableName.Fn::Sub: ${LedgerTabel}: LedgerTabel names no resource, parameter or pseudo parameter of the template',
    ]],
    ['an Fn::Sub of an unknown pseudo parameter', (t) => {
      props(t, 'AlertTopic').TopicName = { 'Fn::Sub': '${AWS::Stackname}-alerts' };
    }, [
      'Resources.AlertTopic.Properties.TopicName.Fn::Sub: ${AWS::Stackname}: AWS::Stackname names no resource, parameter or pseudo parameter of the template',
    ]],
    ['an Fn::Sub of an unknown attribute', (t) => {
      props(t, 'AlertTopic').TopicName = { 'Fn::Sub': '${LedgerTable.Name}' };
    }, ['Resources.AlertTopic.Properties.TopicName.Fn::Sub: ${LedgerTable.Name}: AWS::DynamoDB::Table LedgerTable has no attribute Name (it has Arn, StreamArn)']],
    ['a Ref to an unknown name in an Fn::Sub variable map', (t) => {
      props(t, 'AlertTopic').TopicName = { 'Fn::Sub': ['${Prefix}-alerts', { Prefix: { Ref: 'Stag' } }] };
    }, [
      'Resources.AlertTopic.Properties.TopicName.Fn::Sub[1].Prefix.Ref: Stag names no resource, parameter or pseudo parameter of the template',
    ]],
    ['a DeletionPolicy that does not exist', (t) => {
      t.Resources.LedgerTable.DeletionPolicy = 'Keep';
    }, ['Resources.LedgerTable.DeletionPolicy: "Keep" is not a valid DeletionPolicy (Delete, Retain, RetainExceptOnCreate, Snapshot)']],
    ['RetainExceptOnCreate as an UpdateReplacePolicy', (t) => {
      t.Resources.LedgerTable.UpdateReplacePolicy = 'RetainExceptOnCreate';
    }, ['Resources.LedgerTable.UpdateReplacePolicy: "RetainExceptOnCreate" is not a valid UpdateReplacePolicy (Delete, Retain, Snapshot)']],
    ['a Snapshot DeletionPolicy on a type without snapshots', (t) => {
      t.Resources.LedgerTable.DeletionPolicy = 'Snapshot';
    }, [
      'Resources.LedgerTable.DeletionPolicy: Snapshot is not supported by AWS::DynamoDB::Table (only AWS::DocDB::DBCluster, AWS::EC2::Volume, AWS::ElastiCache::CacheCluster, AWS::ElastiCache::ReplicationGroup, AWS::Neptune::DBCluster, AWS::RDS::DBCluster, AWS::RDS::DBInstance, AWS::Redshift::Cluster)',
    ]],
    ['a resource Condition that is not defined', (t) => {
      t.Resources.AlertEmailSubscription.Condition = 'HasEmail';
    }, ['Resources.AlertEmailSubscription.Condition: HasEmail is not a condition of the template']],
    ['an Fn::If of a condition that is not defined', (t) => {
      props(t, 'FreeIpsAlarm').AlarmActions[1]['Fn::If'][0] = 'IsProduction';
    }, ['Resources.FreeIpsAlarm.Properties.AlarmActions[1].Fn::If[0]: IsProduction is not a condition of the template']],
    ['a DependsOn of an unknown resource', (t) => {
      t.Resources.FreeIpsAlarm.DependsOn = ['AlertTopic', 'Topic'];
    }, ['Resources.FreeIpsAlarm.DependsOn[1]: Topic is not a resource of the template']],
    ['a condition function outside the Conditions section', (t) => {
      props(t, 'AlertTopic').TopicName = { 'Fn::Equals': ['a', 'b'] };
    }, ['Resources.AlertTopic.Properties.TopicName.Fn::Equals: a condition function, valid in the Conditions section only']],
    ['a condition that refers to a resource', (t) => {
      t.Conditions.IsProd = { 'Fn::Equals': [{ Ref: 'AlertTopic' }, 'prod'] };
    }, ['Conditions.IsProd.Fn::Equals[0].Ref: AlertTopic is a resource; a condition may refer to parameters only']],
    ['an unknown top-level section', (t) => {
      t.Output = t.Outputs;
    }, [
      'Output: unknown top-level section (known: AWSTemplateFormatVersion, Description, Metadata, Parameters, Rules, Mappings, Conditions, Transform, Resources, Outputs)',
    ]],
    ['an unknown parameter type', (t) => {
      t.Parameters.Stage.Type = 'Strings';
    }, ['Parameters.Stage.Type: Strings is not a parameter type']],
    ['an unknown parameter key', (t) => {
      t.Parameters.Stage.Allowed = ['prod'];
    }, [
      'Parameters.Stage.Allowed: unknown parameter key (known: Type, Default, AllowedPattern, AllowedValues, ConstraintDescription, Description, MaxLength, MaxValue, MinLength, MinValue, NoEcho)',
    ]],
    ['a Default outside its AllowedValues', (t) => {
      t.Parameters.Stage = { Type: 'String', Default: 'dev', AllowedValues: ['prod', 'test'] };
    }, ['Parameters.Stage.Default: "dev" is not one of its AllowedValues (prod, test)']],
    ['a Default that does not match its whole AllowedPattern', (t) => {
      t.Parameters.Stage = { Type: 'String', Default: 'prod-1', AllowedPattern: '[a-z]+' };
    }, ['Parameters.Stage.Default: "prod-1" does not match its AllowedPattern [a-z]+']],
    ['a Number Default below its MinValue, and one above its MaxValue', (t) => {
      t.Parameters.Memory = { Type: 'Number', Default: 64, MinValue: 128 };
      t.Parameters.Timeout = { Type: 'Number', Default: '901', MaxValue: 900 };
    }, ['Parameters.Memory.Default: 64 is below its MinValue 128', 'Parameters.Timeout.Default: 901 is above its MaxValue 900']],
    ['a Number Default that is not a number', (t) => {
      t.Parameters.Memory = { Type: 'Number', Default: 'lots' };
    }, ['Parameters.Memory.Default: "lots" is not a number']],
    ['a String Default longer than its MaxLength', (t) => {
      t.Parameters.Stage = { Type: 'String', Default: 'production', MaxLength: 4 };
    }, ['Parameters.Stage.Default: "production" is longer than its MaxLength 4']],
    ['a Default that is an intrinsic function', (t) => {
      t.Parameters.Stage = { Type: 'String', Default: { Ref: 'AWS::Region' } };
    }, ['Parameters.Stage.Default: expected a literal string or number, got {"Ref":"AWS::Region"}']],
    ['an output whose value refers to an unknown resource', (t) => {
      t.Outputs.AlertTopicArn.Value = { Ref: 'Alerts' };
    }, ['Outputs.AlertTopicArn.Value.Ref: Alerts names no resource, parameter or pseudo parameter of the template']],
  ])('reports %s', (_name, mutate, problems) => {
    expect(validateTemplate(templateWith(mutate), spec)).toEqual(problems);
  });
});

describe('validateTemplateFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfn-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('validates a template file and a template object, with the supplement', () => {
    const file = join(dir, 'template.json');
    const broken = templateWith((t) => {
      props(t, 'LedgerTable').Foo = 'bar';
      t.Resources.Entry = { Type: 'AWS::EKS::AccessEntry', Properties: { ClusterName: 'orders', PrincipalArn: { 'Fn::GetAtt': ['SamplerRole', 'Arn'] } } };
    });
    writeFileSync(file, JSON.stringify(broken));
    const expected = ['Resources.LedgerTable.Properties.Foo: unknown property of AWS::DynamoDB::Table'];
    expect(validateTemplateFile(file)).toEqual(expected);
    expect(validateTemplateFile(broken)).toEqual(expected);
  });

  it('needs the supplement for the types the data lacks', () => {
    const template = templateWith((t) => {
      t.Resources.Entry = { Type: 'AWS::EKS::AccessEntry', Properties: { ClusterName: 'orders', PrincipalArn: 'arn:aws:iam::123456789012:role/x' } };
    });
    expect(validateTemplate(template, specification())).toEqual([
      'Resources.Entry.Type: unknown resource type AWS::EKS::AccessEntry (not in the CloudFormation resource specification)',
    ]);
    expect(validateTemplate(template, withSupplement(specification()))).toEqual([]);
    expect(Object.keys(SPEC_SUPPLEMENT)).toContain('AWS::EKS::AccessEntry');
  });

  it('merges supplemented properties into a type the data has, the data winning', () => {
    const merged = withSupplement(specification(), {
      'AWS::SQS::Queue': { Properties: { Novel: { PrimitiveType: 'String', Required: false }, QueueName: { PrimitiveType: 'Integer' } } },
    });
    const template = templateWith((t) => {
      props(t, 'DeadLetterQueue').Novel = 'x';
      props(t, 'DeadLetterQueue').QueueName = 'dlq';
    });
    expect(validateTemplate(template, merged)).toEqual([]);
    expect(validateTemplate(template, spec)).toEqual(['Resources.DeadLetterQueue.Properties.Novel: unknown property of AWS::SQS::Queue']);
  });
});

describe('the packaged templates', () => {
  let variants: StackVariant[] = [];

  // Four `serverless package` runs, one after the other: ~8 s each on an idle machine, several
  // times that on a busy 2-core one.
  beforeAll(() => {
    variants = packageVariants();
  }, 240_000);

  afterAll(() => removeVariants(variants));

  const variant = (name: string): StackVariant => {
    const found = variants.find((v) => v.name === name);
    if (!found) throw new Error(`variant ${name} was not packaged`);
    return found;
  };

  it.each(VARIANTS.map((v) => v.name))('%s: validates against the CloudFormation resource specification', (name) => {
    expect(validateTemplate(variant(name).template, spec)).toEqual([]);
  });

  it.each(VARIANTS.map((v) => v.name))('%s: is packaged for its stage and params', (name) => {
    // So that a variant cannot pass for another: its stage is in the names, and the conditions
    // of the optional params are true only when they are set.
    const { stage, params, template } = variant(name);
    expect(resource(template, 'LedgerTable', 'AWS::DynamoDB::Table').Properties.TableName).toBe(
      `eks-ip-responder-${stage}-ledger`,
    );
    const withParams = Object.keys(params).length > 0;
    expect(evaluateCondition(template, 'HasAlertEmail')).toBe(withParams);
    expect(evaluateCondition(template, 'HasPassRoleArns')).toBe(withParams);
    expect(evaluateCondition(template, 'MultiTimeSeriesAlarms')).toBe(!withParams);
  });

  it.each(VARIANTS.map((v) => v.name))('%s: every EventBridge pattern is within the complexity bound', (name) => {
    const rules = Object.entries(variant(name).template.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern);
    // The CloudTrail, Auto Scaling and alarm rules.
    expect(rules).toHaveLength(3);
    for (const [logicalId, rule] of rules) {
      const score = eventPatternComplexity(rule.Properties.EventPattern as EventPattern);
      expect({ logicalId, score, withinBound: score <= MAX_EVENT_PATTERN_COMPLEXITY }).toEqual({ logicalId, score, withinBound: true });
    }
  });

  it.each(VARIANTS.map((v) => v.name))('%s: passes the packaging checks (names, environment size, patterns)', (name) => {
    const { stage, template } = variant(name);
    expect(packagedTemplateProblems(template as PackagedTemplate, stage, 'eu-west-1')).toEqual([]);
  });

  it('reports a problem planted in a packaged template', () => {
    const planted = JSON.parse(JSON.stringify(variant('prod').template));
    planted.Resources.LedgerTable.Properties.BillingMod = 'PAY_PER_REQUEST';
    expect(validateTemplate(planted, spec)).toEqual([
      'Resources.LedgerTable.Properties.BillingMod: unknown property of AWS::DynamoDB::Table',
    ]);
  });
});
