// docs/deployer-policy.json: the permissions a person or pipeline needs to run `serverless
// deploy` and `serverless remove` for this stack. CloudFormation creates the resources with the
// deployer's own credentials (the stack has no service role), so the policy must grant what each
// resource type's create, update and delete handlers call. A resource type added to the stack
// without its permissions here fails this test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { actionRegExp, asList, loadTemplate, REPOSITORY_ROOT } from './template';

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: unknown;
}

const policy = JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'docs', 'deployer-policy.json'), 'utf8')) as { Statement: Statement[] };

/**
 * What CloudFormation's handlers call for each resource type the stack uses (create, update,
 * delete, and tagging for the stack tags), after the `handlers` sections of the CloudFormation
 * resource provider schemas (https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html).
 */
const NEEDED: Record<string, string[]> = {
  'AWS::S3::Bucket': ['s3:CreateBucket', 's3:PutEncryptionConfiguration', 's3:PutBucketTagging', 's3:DeleteBucket'],
  'AWS::S3::BucketPolicy': ['s3:PutBucketPolicy', 's3:GetBucketPolicy', 's3:DeleteBucketPolicy'],
  'AWS::Logs::LogGroup': ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:DescribeLogGroups', 'logs:TagResource', 'logs:DeleteLogGroup'],
  'AWS::Lambda::Function': [
    'lambda:CreateFunction',
    'lambda:GetFunction',
    'lambda:UpdateFunctionCode',
    'lambda:UpdateFunctionConfiguration',
    'lambda:TagResource',
    'lambda:DeleteFunction',
    'iam:PassRole',
    's3:GetObject',
  ],
  'AWS::Lambda::EventInvokeConfig': ['lambda:PutFunctionEventInvokeConfig', 'lambda:UpdateFunctionEventInvokeConfig', 'lambda:DeleteFunctionEventInvokeConfig'],
  'AWS::Lambda::Permission': ['lambda:AddPermission', 'lambda:RemovePermission', 'lambda:GetPolicy'],
  'AWS::Events::Rule': ['events:PutRule', 'events:PutTargets', 'events:DescribeRule', 'events:RemoveTargets', 'events:DeleteRule'],
  'AWS::IAM::Role': [
    'iam:CreateRole',
    'iam:PutRolePolicy',
    'iam:GetRole',
    'iam:TagRole',
    'iam:DeleteRolePolicy',
    'iam:DeleteRole',
    // ManagedPolicyArns: attached on create, detached on update and delete.
    'iam:AttachRolePolicy',
    'iam:DetachRolePolicy',
    'iam:ListAttachedRolePolicies',
  ],
  'AWS::IAM::ManagedPolicy': [
    'iam:CreatePolicy',
    'iam:GetPolicy',
    'iam:GetPolicyVersion',
    'iam:CreatePolicyVersion',
    'iam:DeletePolicyVersion',
    'iam:ListPolicyVersions',
    'iam:ListEntitiesForPolicy',
    'iam:DeletePolicy',
  ],
  'AWS::DynamoDB::Table': [
    'dynamodb:CreateTable',
    'dynamodb:DescribeTable',
    'dynamodb:UpdateTimeToLive',
    'dynamodb:UpdateContinuousBackups',
    'dynamodb:TagResource',
    'dynamodb:DeleteTable',
  ],
  'AWS::SQS::Queue': ['sqs:CreateQueue', 'sqs:GetQueueAttributes', 'sqs:SetQueueAttributes', 'sqs:TagQueue', 'sqs:DeleteQueue'],
  'AWS::KMS::Key': ['kms:CreateKey', 'kms:PutKeyPolicy', 'kms:EnableKeyRotation', 'kms:DescribeKey', 'kms:TagResource', 'kms:ScheduleKeyDeletion'],
  'AWS::KMS::Alias': ['kms:CreateAlias', 'kms:DeleteAlias', 'kms:ListAliases'],
  'AWS::SNS::Topic': ['sns:CreateTopic', 'sns:SetTopicAttributes', 'sns:GetTopicAttributes', 'sns:TagResource', 'sns:DeleteTopic', 'kms:GenerateDataKey*'],
  'AWS::SNS::TopicPolicy': ['sns:SetTopicAttributes'],
  'AWS::SNS::Subscription': ['sns:Subscribe', 'sns:Unsubscribe', 'sns:GetSubscriptionAttributes'],
  'AWS::CloudWatch::Alarm': ['cloudwatch:PutMetricAlarm', 'cloudwatch:DescribeAlarms', 'cloudwatch:TagResource', 'cloudwatch:DeleteAlarms'],
  'AWS::CloudWatch::Dashboard': ['cloudwatch:PutDashboard', 'cloudwatch:GetDashboard', 'cloudwatch:DeleteDashboards'],
  // The central view's member side (resources/central.yml): the publishing grant, an inline role
  // policy; the link, with what the AWS managed policy CloudWatchCrossAccountSharingConfiguration
  // grants for managing links (AWS managed policy reference).
  'AWS::IAM::Policy': ['iam:PutRolePolicy', 'iam:GetRolePolicy', 'iam:DeleteRolePolicy'],
  'AWS::Oam::Link': ['oam:CreateLink', 'oam:GetLink', 'oam:UpdateLink', 'oam:DeleteLink', 'oam:TagResource', 'oam:ListLinks', 'cloudwatch:Link'],
};

/** What `serverless deploy` itself calls around CloudFormation (osls, deploymentMethod direct). */
const FRAMEWORK = [
  'cloudformation:CreateStack',
  'cloudformation:UpdateStack',
  'cloudformation:DescribeStacks',
  'cloudformation:DescribeStackEvents',
  'cloudformation:DescribeStackResource',
  'cloudformation:ListStackResources',
  'cloudformation:ValidateTemplate',
  'cloudformation:DeleteStack',
  's3:PutObject',
  's3:ListBucket',
  's3:DeleteObject',
];

const granted = (action: string): boolean =>
  policy.Statement.some((s) => s.Effect === 'Allow' && asList(s.Action).some((a) => actionRegExp(a).test(action)));

describe('docs/deployer-policy.json', () => {
  it('grants what CloudFormation needs for every resource type of the packaged stack', () => {
    const types = [...new Set(Object.values(loadTemplate().Resources).map((r) => r.Type))].sort();
    const unknown = types.filter((t) => !NEEDED[t]);
    expect({ typesWithoutKnownPermissions: unknown }).toEqual({ typesWithoutKnownPermissions: [] });
    const missing = types.flatMap((t) => (NEEDED[t] ?? []).filter((a) => !granted(a)).map((a) => `${t}: ${a}`));
    expect(missing).toEqual([]);
  });

  it('grants what the optional Kubernetes access entries and VPC placement need (kubernetesClusters, vpcSubnetIds)', () => {
    // AWS::EKS::AccessEntry's create, read, update, delete and tag calls (CloudFormation Template
    // Reference, AWS::EKS::AccessEntry; EKS API reference, CreateAccessEntry...), and for a function
    // with a VpcConfig the user permissions the Lambda developer guide lists ("Configuring VPC
    // access", User permissions: ec2:DescribeSecurityGroups, DescribeSubnets, DescribeVpcs).
    const needed = [
      'eks:CreateAccessEntry',
      'eks:DescribeAccessEntry',
      'eks:UpdateAccessEntry',
      'eks:DeleteAccessEntry',
      'eks:TagResource',
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeSubnets',
      'ec2:DescribeVpcs',
    ];
    expect(needed.filter((a) => !granted(a))).toEqual([]);
  });

  it('grants what the optional fan-out mode needs (cycleMode=per-cluster: a state machine, two roles passed to Step Functions and EventBridge)', () => {
    // AWS::StepFunctions::StateMachine's handlers (its resource provider schema: create
    // states:CreateStateMachine and iam:PassRole, read DescribeStateMachine and ListTagsForResource,
    // update UpdateStateMachine, TagResource, UntagResource, delete DeleteStateMachine), and an
    // EventBridge target with a RoleArn (events:PutTargets passes the role).
    const needed = [
      'states:CreateStateMachine',
      'states:DescribeStateMachine',
      'states:UpdateStateMachine',
      'states:DeleteStateMachine',
      'states:TagResource',
      'states:UntagResource',
      'states:ListTagsForResource',
    ];
    expect(needed.filter((a) => !granted(a))).toEqual([]);
    const passes = (service: string) =>
      policy.Statement.some((s) => s.Effect === 'Allow' && asList(s.Action).includes('iam:PassRole') && JSON.stringify(s.Condition ?? {}).includes(`"${service}"`));
    expect(['states.amazonaws.com', 'events.amazonaws.com'].filter((s) => !passes(s))).toEqual([]);
  });

  it('grants what the Framework calls around the stack', () => {
    expect(FRAMEWORK.filter((a) => !granted(a))).toEqual([]);
  });

  it('has no Allow of a wildcard action, and scopes every write to the stack’s names', () => {
    for (const s of policy.Statement) {
      for (const a of asList(s.Action)) expect({ sid: s.Sid, action: a }).not.toEqual({ sid: s.Sid, action: expect.stringMatching(/^(\*|[a-z0-9-]+:\*)$/) });
    }
    const unscoped = policy.Statement.filter((s) => asList(s.Resource).includes('*')).flatMap((s) => asList(s.Action));
    // Actions without resource-level permissions, or whose resource does not exist yet (a key's id).
    expect(unscoped.sort()).toEqual([
      'cloudformation:ValidateTemplate',
      // The OAM link (oamSinkIdentifier): cloudwatch:Link and oam:ListLinks take no resource
      // (CloudWatchCrossAccountSharingConfiguration grants them on '*').
      'cloudwatch:Link',
      // A function placed in a VPC (vpcSubnetIds): Lambda's CreateFunction checks these; EC2
      // Describe* have no resource-level permissions.
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeSubnets',
      'ec2:DescribeVpcs',
      'kms:CreateKey',
      'kms:ListAliases',
      'logs:DescribeLogGroups',
      'oam:ListLinks',
    ]);
  });

  it('attaches to the function roles the stack’s own managed policy only (never an AWS managed one)', () => {
    const attach = policy.Statement.filter((s) => asList(s.Action).some((a) => ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'].includes(a)));
    expect(attach).toHaveLength(1);
    expect(attach[0]!.Resource).toBe('arn:aws:iam::*:role/eks-ip-responder-*');
    expect(attach[0]!.Condition).toEqual({ ArnLike: { 'iam:PolicyARN': 'arn:aws:iam::*:policy/eks-ip-responder-*' } });
  });

  it('passes the function roles to Lambda only, and the fan-out roles to Step Functions and EventBridge only', () => {
    const passRole = policy.Statement.filter((s) => asList(s.Action).includes('iam:PassRole'));
    expect(passRole.map((s) => s.Condition)).toEqual([
      { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
      { StringEquals: { 'iam:PassedToService': ['states.amazonaws.com', 'events.amazonaws.com'] } },
    ]);
  });
});
