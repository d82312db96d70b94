/**
 * The central stack of an organisation (docs/organisation-central.md), deployed once per region
 * in the delegated administrator (monitoring) account: the topic the member stacks also publish
 * to, the OAM sink their metrics are linked to, and the organisation dashboard.
 * Pure: the options in, the CloudFormation template (a JSON value) out; `npm run package:central`
 * (scripts/package-central.ts) writes it.
 */
import { DIMENSIONS, literal, type MetricName } from '../dashboard';
import { FORECAST_METRIC, METRIC } from '../../lib/output/publish/metrics';

/** What the template is built for (the `npm run package:central` options). */
export interface CentralOptions {
  /** The member stacks' metricNamespace (serverless.yml), the same in every member. */
  namespace: string;
  /** The member stacks' alarmPeriodSeconds: the period of the dashboard's queries. */
  periodSeconds: number;
  /**
   * The regions the dashboard shows, each a row of the same widgets; empty = the region the stack
   * is deployed in. A region's row shows data only where this account has a sink the members
   * of that region link to (a central stack deployed there).
   */
  regions: string[];
}

/** Rows of a top-N widget: the query returns at most this many series, whatever the number of accounts. */
export const TOP_N = 20;
/** At most this many regions on one dashboard (7 widgets each: the body stays far under CloudWatch's 500 widgets). */
export const MAX_REGIONS = 20;
/** The names the stack gives its resources. */
export const CENTRAL_TOPIC_NAME = 'eks-ip-responder-central';
export const SINK_NAME = 'eks-ip-responder-central';
export const DASHBOARD_NAME = 'eks-ip-responder-organisation';

/**
 * The member functions' roles: CloudFormation names a role it creates without a RoleName
 * `<stack name>-<logical id>-<random suffix>` (AWS::IAM::Role, RoleName: "If you don't specify a
 * name, AWS CloudFormation generates a unique physical ID"), and the members' logical ids are
 * SamplerRole and RespondRole (resources/roles.yml). A parameter, for an organisation that names
 * them otherwise (or another partition).
 */
export const DEFAULT_PUBLISHER_ROLE_PATTERNS = ['arn:aws:iam::*:role/*-SamplerRole-*', 'arn:aws:iam::*:role/*-RespondRole-*'];

type Json = Record<string, unknown>;

/**
 * The conditions every grant to the organisation's principals carries: the caller's account is in
 * the organisation (aws:PrincipalOrgID, "AWS global condition context keys",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid)
 * and is one of the responder's roles (aws:PrincipalArn, same page).
 */
function organisationPublishers(moreStringEquals: Json = {}): Json {
  return {
    StringEquals: { 'aws:PrincipalOrgID': { Ref: 'OrganizationId' }, ...moreStringEquals },
    ArnLike: { 'aws:PrincipalArn': { Ref: 'PublisherRoleArnPatterns' } },
  };
}

/**
 * A Metrics Insights query over every account linked to the sink, the worst `TOP_N` first: in a
 * monitoring account a query sees the linked accounts' metrics, and `AWS.AccountId` groups by
 * account ("Metrics Insights query components and syntax", cross-account querying;
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-querylanguage.html).
 * LIMIT bounds the series whatever the number of accounts (a query returns at most 500:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-limits.html).
 */
export function organisationQuery(stat: 'MIN' | 'MAX' | 'SUM', metric: MetricName | string, dimensions: readonly string[], namespace: string): string {
  const schema = [`"${literal(namespace)}"`, ...dimensions].join(', ');
  const group = ['AWS.AccountId', ...dimensions].join(', ');
  const order = stat === 'MAX' ? 'DESC' : 'ASC';
  return `SELECT ${stat}(${metric}) FROM SCHEMA(${schema}) GROUP BY ${group} ORDER BY ${stat}() ${order} LIMIT ${TOP_N}`;
}

/** The dashboard as a JSON value (the text of its Fn::Sub: `${AWS::Region}` is the stack's region). */
export function organisationDashboard(options: CentralOptions): Json {
  const { namespace, periodSeconds: period } = options;
  const regions = options.regions.length > 0 ? options.regions.map(literal) : ['${AWS::Region}'];
  let queries = 0;
  const widgets: Json[] = [
    {
      type: 'text',
      x: 0,
      y: 0,
      width: 24,
      height: 2,
      properties: {
        markdown:
          `**EKS IPv4 capacity, every linked account** (namespace ${literal(namespace)}). Each table lists the ${TOP_N} worst ` +
          'series of the organisation (account, cluster, subnet): the rest are better. Findings and action outcomes: the central topic ' +
          `${CENTRAL_TOPIC_NAME} (central stack in \${AWS::Region}).`,
      },
    },
  ];
  const table = (region: string, place: { x: number; y: number; width: number; height: number }, title: string, query: string, summary: 'MIN' | 'MAX' | 'SUM') => ({
    type: 'metric',
    ...place,
    properties: {
      title,
      region,
      view: 'table',
      table: { summaryColumns: [summary], showTimeSeriesData: false },
      period,
      metrics: [[{ id: `q${++queries}`, expression: query, label: '' }]],
    },
  });
  regions.forEach((region, i) => {
    const y = 2 + i * 19;
    const label = region === '${AWS::Region}' ? 'this region' : region;
    widgets.push(
      { type: 'text', x: 0, y, width: 24, height: 1, properties: { markdown: `### ${label}` } },
      table(region, { x: 0, y: y + 1, width: 12, height: 6 }, `Worst subnets: free IPs (${METRIC.SubnetAvailableIps})`,
        organisationQuery('MIN', METRIC.SubnetAvailableIps, DIMENSIONS.subnet, namespace), 'MIN'),
      table(region, { x: 12, y: y + 1, width: 12, height: 6 }, `Clusters by their worst subnet (${METRIC.ClusterMinSubnetAvailableIps})`,
        organisationQuery('MIN', METRIC.ClusterMinSubnetAvailableIps, DIMENSIONS.cluster, namespace), 'MIN'),
      table(region, { x: 0, y: y + 7, width: 12, height: 6 }, `Subnets soonest full: hours (${FORECAST_METRIC.SubnetHoursToExhaustion})`,
        organisationQuery('MIN', FORECAST_METRIC.SubnetHoursToExhaustion, DIMENSIONS.subnet, namespace), 'MIN'),
      table(region, { x: 12, y: y + 7, width: 12, height: 6 }, `Clusters soonest full: hours (${FORECAST_METRIC.ClusterHoursToExhaustion})`,
        organisationQuery('MIN', FORECAST_METRIC.ClusterHoursToExhaustion, DIMENSIONS.cluster, namespace), 'MIN'),
      table(region, { x: 0, y: y + 13, width: 12, height: 6 }, `Control-plane headroom (${METRIC.ControlPlaneMinAvailableIps})`,
        organisationQuery('MIN', METRIC.ControlPlaneMinAvailableIps, DIMENSIONS.cluster, namespace), 'MIN'),
      table(region, { x: 12, y: y + 13, width: 12, height: 6 }, `Clusters not sampled (${METRIC.SamplingFailed}, 1 = failed)`,
        organisationQuery('MAX', METRIC.SamplingFailed, DIMENSIONS.cluster, namespace), 'MAX'),
    );
  });
  return { start: '-PT12H', periodOverride: 'inherit', widgets };
}

/** The central stack's template. */
export function centralTemplate(options: CentralOptions): Json {
  if (options.regions.length > MAX_REGIONS) throw new Error(`--regions lists ${options.regions.length} regions: at most ${MAX_REGIONS} on one dashboard`);
  const topic = { Ref: 'CentralTopic' };
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'eks-ip-responder central view: the organisation topic, the OAM sink and the organisation dashboard (docs/organisation-central.md)',
    Parameters: {
      OrganizationId: {
        Type: 'String',
        Description: 'The organisation whose accounts may publish to the topic and link to the sink (o-...)',
        // Organizations API reference, Organization: Id pattern ^o-[a-z0-9]{10,32}$.
        AllowedPattern: '^o-[a-z0-9]{10,32}$',
      },
      PublisherRoleArnPatterns: {
        Type: 'CommaDelimitedList',
        Description: 'ARN patterns (ArnLike) of the member roles allowed to publish: the responder stacks\' SamplerRole and RespondRole',
        Default: DEFAULT_PUBLISHER_ROLE_PATTERNS.join(','),
      },
      CreateTopic: {
        Type: 'String',
        Description: "'true' in the one region whose topic the members publish to; 'false' elsewhere",
        AllowedValues: ['true', 'false'],
        Default: 'true',
      },
      CreateSink: {
        Type: 'String',
        Description: "'false' where this account already has an OAM sink (one per account and region): link the members to it instead",
        AllowedValues: ['true', 'false'],
        Default: 'true',
      },
      CreateDashboard: {
        Type: 'String',
        Description: "'true' in the one region that holds the organisation dashboard",
        AllowedValues: ['true', 'false'],
        Default: 'true',
      },
      SubscriptionEmail: {
        Type: 'String',
        Description: 'E-mail address subscribed to the central topic; empty = none',
        Default: '',
      },
    },
    Conditions: {
      HasTopic: { 'Fn::Equals': [{ Ref: 'CreateTopic' }, 'true'] },
      HasSink: { 'Fn::Equals': [{ Ref: 'CreateSink' }, 'true'] },
      HasDashboard: { 'Fn::Equals': [{ Ref: 'CreateDashboard' }, 'true'] },
      HasEmail: { 'Fn::And': [{ Condition: 'HasTopic' }, { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'SubscriptionEmail' }, ''] }] }] },
    },
    Resources: {
      // The topic's key: the members' roles encrypt with it through SNS, and nobody else outside
      // the account (cross-account use needs the key policy and the caller's IAM policy:
      // https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html).
      // The AWS managed alias/aws/sns key cannot be: its key policy cannot name other accounts
      // (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
      CentralKey: {
        Type: 'AWS::KMS::Key',
        Condition: 'HasTopic',
        Properties: {
          Description: 'eks-ip-responder central topic',
          EnableKeyRotation: true,
          KeyPolicy: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'AccountAdministers',
                Effect: 'Allow',
                Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
                Action: 'kms:*',
                Resource: '*',
              },
              {
                Sid: 'OrganisationPublishersEncrypt',
                Effect: 'Allow',
                Principal: { AWS: '*' },
                Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
                Resource: '*',
                // Through SNS in this region only (kms:ViaService), for the same principals as the topic.
                Condition: organisationPublishers({ 'kms:ViaService': { 'Fn::Sub': 'sns.${AWS::Region}.amazonaws.com' } }),
              },
            ],
          },
        },
      },
      CentralKeyAlias: {
        Type: 'AWS::KMS::Alias',
        Condition: 'HasTopic',
        Properties: { AliasName: 'alias/eks-ip-responder-central', TargetKeyId: { Ref: 'CentralKey' } },
      },
      CentralTopic: {
        Type: 'AWS::SNS::Topic',
        Condition: 'HasTopic',
        Properties: {
          TopicName: CENTRAL_TOPIC_NAME,
          DisplayName: 'EKS IP responder (organisation)',
          KmsMasterKeyId: { 'Fn::GetAtt': ['CentralKey', 'Arn'] },
        },
      },
      // Publish only, by the organisation's responder roles only. The SNS access policy takes the
      // global condition keys (https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html).
      CentralTopicPolicy: {
        Type: 'AWS::SNS::TopicPolicy',
        Condition: 'HasTopic',
        Properties: {
          Topics: [topic],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'OrganisationPublishers',
                Effect: 'Allow',
                Principal: { AWS: '*' },
                Action: 'sns:Publish',
                Resource: topic,
                Condition: organisationPublishers(),
              },
              {
                Sid: 'DenyInsecureTransport',
                Effect: 'Deny',
                Principal: '*',
                Action: ['sns:Publish', 'sns:Subscribe'],
                Resource: topic,
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              },
            ],
          },
        },
      },
      CentralEmailSubscription: {
        Type: 'AWS::SNS::Subscription',
        Condition: 'HasEmail',
        Properties: { TopicArn: topic, Protocol: 'email', Endpoint: { Ref: 'SubscriptionEmail' } },
      },
      // The organisation's accounts may link their metrics (only) to this sink. The policy is
      // the AWS::Oam::Sink reference's organisation example: Principal '*', oam:CreateLink and
      // oam:UpdateLink, ForAnyValue:StringEquals aws:PrincipalOrgID, ForAllValues:StringEquals
      // oam:ResourceTypes (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-oam-sink.html;
      // PutSinkPolicy, https://docs.aws.amazon.com/OAM/latest/APIReference/API_PutSinkPolicy.html).
      // One sink per account and region (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Unified-Cross-Account.html).
      Sink: {
        Type: 'AWS::Oam::Sink',
        Condition: 'HasSink',
        Properties: {
          Name: SINK_NAME,
          Policy: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'OrganisationLinksMetrics',
                Effect: 'Allow',
                Principal: '*',
                Action: ['oam:CreateLink', 'oam:UpdateLink'],
                Resource: '*',
                Condition: {
                  'ForAnyValue:StringEquals': { 'aws:PrincipalOrgID': { Ref: 'OrganizationId' } },
                  'ForAllValues:StringEquals': { 'oam:ResourceTypes': ['AWS::CloudWatch::Metric'] },
                },
              },
            ],
          },
        },
      },
      Dashboard: {
        Type: 'AWS::CloudWatch::Dashboard',
        Condition: 'HasDashboard',
        Properties: {
          DashboardName: DASHBOARD_NAME,
          DashboardBody: { 'Fn::Sub': JSON.stringify(organisationDashboard(options)) },
        },
      },
    },
    Outputs: {
      CentralTopicArn: {
        Condition: 'HasTopic',
        Description: "The members' centralTopicArn param",
        Value: topic,
      },
      SinkArn: {
        Condition: 'HasSink',
        Description: "The members' oamSinkIdentifier param (members of this region)",
        Value: { 'Fn::GetAtt': ['Sink', 'Arn'] },
      },
      DashboardName: {
        Condition: 'HasDashboard',
        Description: 'The organisation dashboard',
        Value: { Ref: 'Dashboard' },
      },
    },
  };
}
