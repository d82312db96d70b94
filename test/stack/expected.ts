// Values the stack tests expect of `serverless package --stage test --region eu-west-1` with the
// stage params' defaults (serverless.yml), shared by the test files of this directory.
import { join } from 'node:path';
import { policyJson, policyVersion, readPolicyFile } from '../../lib/policy/load';

/** policy.yml at the repository root: the policy serverless.yml compiles into the functions. */
export const POLICY_FILE = join(__dirname, '..', '..', 'policy.yml');

/** The repository's policy as the stack compiles it into the functions (lib/policy/policy.stack.js). */
export const POLICY_JSON = policyJson(readPolicyFile(POLICY_FILE), 'policy.yml');

/** Its version, which the functions get as POLICY_VERSION. */
export const POLICY_VERSION = policyVersion(POLICY_JSON);

export const NAMESPACE = 'EKS/IPResponder';
export const TOPIC = { Ref: 'AlertTopic' };
export const ALARM_NAME_PREFIX = 'eks-ip-responder-test-';
export const DASHBOARD_NAME = 'eks-ip-responder-test-eu-west-1';

/** The provider-level environment both functions get, every variable with its value. */
export const ENVIRONMENT = {
  METRIC_NAMESPACE: NAMESPACE,
  CLUSTER_NAMES: '',
  ALERT_TOPIC_ARN: TOPIC,
  LEDGER_TABLE: { Ref: 'LedgerTable' },
  DASHBOARD_NAME,
  STAGE: 'test',
  ALARM_NAME_PREFIX,
  SUBNET_FREE_IPS_WARNING: '64',
  SUBNET_FREE_IPS_CRITICAL: '16',
  FORECAST_WINDOW_HOURS: '24',
  METRIC_PERIOD_SECONDS: '300',
  RENOTIFY_AFTER_HOURS: '24',
  POLICY_VERSION,
  POWERTOOLS_SERVICE_NAME: 'eks-ip-responder',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  NODE_OPTIONS: '--enable-source-maps',
};

/** An EKS ARN in the stack's own partition, region and account, as the roles write it. */
export const eksArn = (path: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:eks:\${AWS::Region}:\${AWS::AccountId}:${path}`,
});

/** An EC2 ARN in the stack's own partition, region and account, as the roles write it. */
export const ec2Arn = (path: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:${path}`,
});

/** The statements the sampler and the responder share, up to (not including) the ledger. */
export const READ_AND_ALERT_STATEMENTS = [
  { Sid: 'EksList', Effect: 'Allow', Action: ['eks:ListClusters'], Resource: '*' },
  {
    Sid: 'EksReadClusters',
    Effect: 'Allow',
    Action: ['eks:DescribeCluster', 'eks:ListNodegroups'],
    Resource: eksArn('cluster/*'),
  },
  { Sid: 'EksReadNodegroups', Effect: 'Allow', Action: ['eks:DescribeNodegroup'], Resource: eksArn('nodegroup/*/*/*') },
  { Sid: 'EksReadAddons', Effect: 'Allow', Action: ['eks:DescribeAddon'], Resource: eksArn('addon/*/*/*') },
  {
    Sid: 'Ec2Describe',
    Effect: 'Allow',
    Action: ['ec2:DescribeSubnets', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeInstances', 'ec2:DescribeInstanceTypes'],
    Resource: '*',
  },
  {
    Sid: 'PutOwnMetrics',
    Effect: 'Allow',
    Action: ['cloudwatch:PutMetricData'],
    Resource: '*',
    Condition: { StringEquals: { 'cloudwatch:namespace': NAMESPACE } },
  },
  { Sid: 'ReadMetrics', Effect: 'Allow', Action: ['cloudwatch:GetMetricData'], Resource: '*' },
  { Sid: 'PublishAlerts', Effect: 'Allow', Action: ['sns:Publish'], Resource: TOPIC },
  {
    Sid: 'EncryptAlerts',
    Effect: 'Allow',
    Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
    Resource: { 'Fn::GetAtt': ['AlertKey', 'Arn'] },
    Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'sns.${AWS::Region}.amazonaws.com' } } },
  },
];

export const LEDGER_ARN = { 'Fn::GetAtt': ['LedgerTable', 'Arn'] };
export const QUEUE_ARN = { 'Fn::GetAtt': ['RespondDeadLetterQueue', 'Arn'] };

/** The sampler's ledger access: finding states and (read) the action history for its plans. */
export const SAMPLER_LEDGER_STATEMENT = {
  Sid: 'Ledger',
  Effect: 'Allow',
  Action: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem'],
  Resource: LEDGER_ARN,
};

/** The responder's: event claims (DeleteItem releases one), finding states, actions, change lock. */
export const RESPOND_LEDGER_STATEMENT = {
  Sid: 'Ledger',
  Effect: 'Allow',
  Action: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
  Resource: LEDGER_ARN,
};

/** The tag a replacement nodegroup must be created with. */
export const REPLACES_TAG = 'eks-ip-responder/replaces';
/** The tag the VPC CNI's subnet discovery looks for. */
export const CNI_SUBNET_TAG = 'kubernetes.io/role/cni';

/** The responder's remediation statements, in template order, up to (not including) PassRole. */
export const REMEDIATION_STATEMENTS = [
  { Sid: 'UpdateVpcCniAddon', Effect: 'Allow', Action: ['eks:UpdateAddon'], Resource: eksArn('addon/*/vpc-cni/*') },
  {
    Sid: 'FollowEksUpdates',
    Effect: 'Allow',
    Action: ['eks:DescribeUpdate'],
    Resource: [eksArn('cluster/*'), eksArn('addon/*/vpc-cni/*'), eksArn('nodegroup/*/*/*')],
  },
  {
    Sid: 'TagSubnetsForCni',
    Effect: 'Allow',
    Action: ['ec2:CreateTags'],
    Resource: ec2Arn('subnet/*'),
    Condition: {
      'ForAllValues:StringEquals': { 'aws:TagKeys': [CNI_SUBNET_TAG] },
      StringEquals: { [`aws:RequestTag/${CNI_SUBNET_TAG}`]: '1' },
    },
  },
  {
    Sid: 'CreateReplacementNodegroups',
    Effect: 'Allow',
    Action: ['eks:CreateNodegroup'],
    Resource: eksArn('cluster/*'),
    Condition: { Null: { [`aws:RequestTag/${REPLACES_TAG}`]: 'false' } },
  },
  {
    Sid: 'TagReplacementNodegroups',
    Effect: 'Allow',
    Action: ['eks:TagResource'],
    Resource: eksArn('nodegroup/*/*/*'),
    Condition: { Null: { [`aws:RequestTag/${REPLACES_TAG}`]: 'false' } },
  },
  {
    Sid: 'ScaleNodegroups',
    Effect: 'Allow',
    Action: ['eks:UpdateNodegroupConfig'],
    Resource: eksArn('nodegroup/*/*/*'),
  },
];

/** iam:PassRole on the roles of the passRoleArns param, only to EKS; the statement alone. */
export const passRoleStatement = (passRoleArns: string) => ({
  Sid: 'PassRolesToEks',
  Effect: 'Allow',
  Action: ['iam:PassRole'],
  Resource: { 'Fn::Split': [',', passRoleArns] },
  Condition: { StringEquals: { 'iam:PassedToService': 'eks.amazonaws.com' } },
});

/** The PassRole statement as the template writes it: only when HasPassRoleArns holds. */
export const passRoleIf = (passRoleArns: string) => ({
  'Fn::If': ['HasPassRoleArns', passRoleStatement(passRoleArns), { Ref: 'AWS::NoValue' }],
});

/** HasPassRoleArns as serverless.yml writes it, with the param resolved at packaging. */
export const hasPassRoleArnsCondition = (passRoleArns: string) => ({
  'Fn::Not': [{ 'Fn::Equals': ['', passRoleArns] }],
});

/** The responder's dead letters: Lambda sends the OnFailure destination with the function's role. */
export const DEAD_LETTER_STATEMENT = { Sid: 'DeadLetters', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: QUEUE_ARN };

/** Every statement of RespondRole, as packaged with this passRoleArns param value. */
export const respondRoleStatements = (passRoleArns: string) => [
  ...READ_AND_ALERT_STATEMENTS,
  RESPOND_LEDGER_STATEMENT,
  ...REMEDIATION_STATEMENTS,
  passRoleIf(passRoleArns),
  DEAD_LETTER_STATEMENT,
  {
    Sid: 'OwnLogs',
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: { 'Fn::GetAtt': ['RespondLogGroup', 'Arn'] },
  },
];

/** The passRoleArns value iam.test.ts packages the stack with a second time. */
export const PASS_ROLE_ARNS = ['arn:aws:iam::123456789012:role/eks-node', 'arn:aws:iam::123456789012:role/vpc-cni-irsa'];
