// Values the stack tests expect of `serverless package --stage test --region eu-west-1` with the
// stage params' defaults (serverless.yml), shared by the test files of this directory.

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
  POWERTOOLS_SERVICE_NAME: 'eks-ip-responder',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  NODE_OPTIONS: '--enable-source-maps',
};

/** An EKS ARN in the stack's own partition, region and account, as the roles write it. */
export const eksArn = (path: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:eks:\${AWS::Region}:\${AWS::AccountId}:${path}`,
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
