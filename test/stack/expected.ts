// Values the stack tests expect of `serverless package --stage test --region eu-west-1` with the
// stage params' defaults (serverless.yml), shared by the test files of this directory.
import { join } from 'node:path';
import { FINDING_PK_PREFIX } from '../../lib/aws/ledger-keys';
import { policyJson, policyVersion } from '../../lib/policy/load';
import { readPolicyFile } from '../../lib/policy/yaml';

/** policy.yml at the repository root: the policy serverless.yml compiles into the functions. */
export const POLICY_FILE = join(__dirname, '..', '..', 'policy.yml');

/** The repository's policy as the stack compiles it into the functions (stack/policy.stack.js). */
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
  // Kubernetes access and the VPC placement (kubernetesClusters, vpcSubnetIds, vpcSecurityGroupIds): off.
  KUBERNETES_CLUSTERS: '',
  FUNCTION_SUBNET_IDS: '',
  FUNCTION_SECURITY_GROUP_IDS: '',
  // The central remediation policy (centralPolicy): off.
  CENTRAL_POLICY: '',
  // The organisation's central topic (centralTopicArn): off.
  CENTRAL_TOPIC_ARN: '',
};

/** An EKS ARN in the stack's own partition, region and account, as the roles write it. */
export const eksArn = (path: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:eks:\${AWS::Region}:\${AWS::AccountId}:${path}`,
});

/** An EC2 ARN in the stack's own partition, region and account, as the roles write it. */
export const ec2Arn = (path: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:${path}`,
});

/**
 * The reads the sampler and the responder share: the statements of SharedReadPolicy, the
 * customer managed policy attached to both roles.
 */
/**
 * SharedReadPolicy's read of the central remediation policy (resources/roles.yml): only with the
 * centralPolicy param (HasCentralPolicy), ssm:GetParameter on that parameter ARN or s3:GetObject
 * on that object (CentralPolicyIsS3). `param` is the packaged value of centralPolicy.
 */
export function CENTRAL_POLICY_READ_STATEMENT(param: string) {
  return {
    'Fn::If': [
      'HasCentralPolicy',
      {
        'Fn::If': [
          'CentralPolicyIsS3',
          {
            Sid: 'ReadCentralPolicy',
            Effect: 'Allow',
            Action: ['s3:GetObject'],
            Resource: {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { 'Fn::Select': [1, { 'Fn::Split': ['s3://', { 'Fn::Join': ['', [param, 's3://']] }] }] }]],
            },
          },
          {
            Sid: 'ReadCentralPolicy',
            Effect: 'Allow',
            Action: ['ssm:GetParameter'],
            Resource: { 'Fn::Join': ['', ['arn:', { 'Fn::Select': [1, { 'Fn::Split': ['arn:', { 'Fn::Join': ['', [param, 'arn:']] }] }] }]] },
          },
        ],
      },
      { Ref: 'AWS::NoValue' },
    ],
  };
}

export const SHARED_READ_STATEMENTS = [
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
    Action: ['ec2:DescribeSubnets', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeInstances', 'ec2:DescribeInstanceTypes', 'ec2:GetSubnetCidrReservations'],
    Resource: '*',
  },
  { Sid: 'ReadMetrics', Effect: 'Allow', Action: ['cloudwatch:GetMetricData'], Resource: '*' },
  { Sid: 'ReadQuotas', Effect: 'Allow', Action: ['servicequotas:GetServiceQuota', 'servicequotas:GetAWSDefaultServiceQuota'], Resource: '*' },
  { Sid: 'LedgerRead', Effect: 'Allow', Action: ['dynamodb:Query', 'dynamodb:GetItem'], Resource: { 'Fn::GetAtt': ['LedgerTable', 'Arn'] } },
  CENTRAL_POLICY_READ_STATEMENT(''),
];

/** SharedReadPolicy's properties, as packaged. */
export const SHARED_READ_POLICY = {
  Description: 'eks-ip-responder reads shared by the sampler and the responder (EKS, EC2, metrics, ledger)',
  PolicyDocument: { Version: '2012-10-17', Statement: SHARED_READ_STATEMENTS },
};

/** What each role's ManagedPolicyArns is: SharedReadPolicy, and nothing else. */
export const MANAGED_POLICY_ARNS = [{ Ref: 'SharedReadPolicy' }];

/** The writes the sampler and the responder share, each in its own inline policy: metrics and alerts. */
export const METRIC_AND_ALERT_STATEMENTS = [
  {
    Sid: 'PutOwnMetrics',
    Effect: 'Allow',
    Action: ['cloudwatch:PutMetricData'],
    Resource: '*',
    Condition: { StringEquals: { 'cloudwatch:namespace': NAMESPACE } },
  },
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

/**
 * The sampler's ledger write: it reads finding states and the action history (for its plans,
 * SharedReadPolicy's LedgerRead) and writes finding states only: PutItem only where every leading
 * (partition) key begins with CLUSTER# (lib/aws/ledger-keys.ts), never ACTIONS# (actions, lock,
 * throttle) or EVENT# (claims).
 */
export const SAMPLER_LEDGER_WRITE_STATEMENT = {
  Sid: 'LedgerWriteFindingStates',
  Effect: 'Allow',
  Action: ['dynamodb:PutItem'],
  Resource: LEDGER_ARN,
  Condition: {
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${FINDING_PK_PREFIX}*`] },
    Null: { 'dynamodb:LeadingKeys': 'false' },
  },
};

/** The sampler's own log group. */
export const SAMPLER_LOGS_STATEMENT = {
  Sid: 'OwnLogs',
  Effect: 'Allow',
  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  Resource: { 'Fn::GetAtt': ['SampleLogGroup', 'Arn'] },
};

/** The network preflight's reads (issue 13 item 9): the sampler's alone, EC2 Describe* on '*'. */
export const SAMPLER_NETWORK_PREFLIGHT_STATEMENT = {
  Sid: 'NetworkPreflightRead',
  Effect: 'Allow',
  Action: [
    'ec2:DescribeVpcs',
    'ec2:DescribeVpcAttribute',
    'ec2:DescribeDhcpOptions',
    'ec2:DescribeRouteTables',
    'ec2:DescribeVpcEndpoints',
    'ec2:DescribeSecurityGroups',
  ],
  Resource: '*',
};

/** SamplerRole's inline policies, as packaged. */
export const SAMPLER_ROLE_POLICIES = [
  {
    PolicyName: 'sampler',
    PolicyDocument: {
      Version: '2012-10-17',
      Statement: [...METRIC_AND_ALERT_STATEMENTS, SAMPLER_LEDGER_WRITE_STATEMENT, SAMPLER_LOGS_STATEMENT, SAMPLER_NETWORK_PREFLIGHT_STATEMENT],
    },
  },
];

/** The responder's ledger writes: event claims (DeleteItem releases one), finding states, actions, change lock. */
export const RESPOND_LEDGER_WRITE_STATEMENT = {
  Sid: 'LedgerWrite',
  Effect: 'Allow',
  Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
  Resource: LEDGER_ARN,
};

/** The tag a replacement nodegroup must be created with. */
export const REPLACES_TAG = 'eks-ip-responder/replaces';
/** The tag the VPC CNI's subnet discovery looks for. */
export const CNI_SUBNET_TAG = 'kubernetes.io/role/cni';

/** The responder's EKS update reads (remediation's and any plan's), in its `respond` policy (the sampler makes none). */
export const FOLLOW_EKS_UPDATES_STATEMENT = {
  Sid: 'FollowEksUpdates',
  Effect: 'Allow',
  Action: ['eks:DescribeUpdate'],
  Resource: [eksArn('cluster/*'), eksArn('addon/*/vpc-cni/*'), eksArn('nodegroup/*/*/*')],
};

/** Every EKS and EC2 write of the remediation (lib/policy/iam.ts REMEDIATION_WRITE_ACTIONS, written out). */
export const REMEDIATION_WRITES = ['eks:UpdateAddon', 'eks:CreateNodegroup', 'eks:TagResource', 'eks:UpdateNodegroupConfig', 'ec2:CreateTags', 'ec2:DeleteTags', 'ec2:CreateSubnetCidrReservation', 'ec2:DeleteNetworkInterface'];

/** RespondRole's `remediate` policy for the repository's policy.yml, which has no cluster in apply mode. */
export const REPOSITORY_REMEDIATE_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'NoClusterInApplyMode', Effect: 'Deny', Action: REMEDIATION_WRITES.filter((a) => a !== 'ec2:DeleteNetworkInterface'), Resource: '*' },
    {
      Sid: 'NoClusterInApplyModeCniEnis',
      Effect: 'Deny',
      Action: ['ec2:DeleteNetworkInterface'],
      Resource: '*',
      Condition: { Null: { 'aws:ResourceTag/node.k8s.amazonaws.com/instance_id': 'false' } },
    },
  ],
};

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

/** RespondRole's `respond` policy's statements, as packaged with this passRoleArns param value. */
export const respondPolicyStatements = (passRoleArns: string) => [
  ...METRIC_AND_ALERT_STATEMENTS,
  RESPOND_LEDGER_WRITE_STATEMENT,
  FOLLOW_EKS_UPDATES_STATEMENT,
  passRoleIf(passRoleArns),
  DEAD_LETTER_STATEMENT,
  {
    Sid: 'OwnLogs',
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: { 'Fn::GetAtt': ['RespondLogGroup', 'Arn'] },
  },
];

/** RespondRole's inline policies, as packaged from the repository's policy.yml with this passRoleArns value. */
export const respondRolePolicies = (passRoleArns: string) => [
  { PolicyName: 'respond', PolicyDocument: { Version: '2012-10-17', Statement: respondPolicyStatements(passRoleArns) } },
  { PolicyName: 'remediate', PolicyDocument: REPOSITORY_REMEDIATE_POLICY },
];

/** Every statement of RespondRole (SharedReadPolicy, then both inline policies, flattened as roleStatements does). */
export const respondRoleStatements = (passRoleArns: string) => [
  ...SHARED_READ_STATEMENTS,
  ...respondPolicyStatements(passRoleArns),
  ...REPOSITORY_REMEDIATE_POLICY.Statement,
];

/** The passRoleArns value iam.test.ts packages the stack with a second time. */
export const PASS_ROLE_ARNS = ['arn:aws:iam::123456789012:role/eks-node', 'arn:aws:iam::123456789012:role/vpc-cni-irsa'];
