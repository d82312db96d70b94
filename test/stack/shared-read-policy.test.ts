// The reads both roles make moved from each role's inline policy into SharedReadPolicy, one
// customer managed policy attached to both (resources/roles.yml). Each role must hold exactly
// the permissions it held with inline policies only: the same grants (action, resource and
// condition), and the same answer to each request IAM could be asked.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACTIONS_PK_PREFIX, EVENT_PK_PREFIX, FINDING_PK_PREFIX } from '../../lib/aws/ledger-keys';
import { CENTRAL_POLICY_READ_STATEMENT, NAMESPACE, REPOSITORY_REMEDIATE_POLICY } from './expected';
import {
  CfnTemplate,
  CfnValue,
  deployedStatements,
  evaluateRequest,
  IamRequest,
  loadTemplate,
  possibleStatements,
  PSEUDO,
  REPOSITORY_ROOT,
  rolePolicies,
  roleStatements,
  statementGrants,
} from './template';

/**
 * The statements of the roles' inline policies as the stack packaged them before SharedReadPolicy
 * (SamplerRole's `sampler`, RespondRole's `respond`; `remediate` is unchanged, from policy.yml).
 */
const INLINE_ONLY = JSON.parse(
  readFileSync(join(REPOSITORY_ROOT, 'test', 'fixtures', 'stack', 'role-statements-inline-only.json'), 'utf8'),
) as Record<'SamplerRole' | 'RespondRole', CfnValue[]>;

/** Reads both roles gained after the move, in SharedReadPolicy (issue 13): the ENIs-per-Region quota, subnet CIDR reservations. */
const ADDED_SINCE: CfnValue[] = [
  { Sid: 'ReadQuotas', Effect: 'Allow', Action: ['servicequotas:GetServiceQuota', 'servicequotas:GetAWSDefaultServiceQuota'], Resource: '*' },
  { Sid: 'AddedReads', Effect: 'Allow', Action: ['ec2:GetSubnetCidrReservations'], Resource: '*' },
  // Issue 16: the central remediation policy, only with the centralPolicy param.
  CENTRAL_POLICY_READ_STATEMENT(''),
];

const before = (roleId: 'SamplerRole' | 'RespondRole'): CfnValue[] =>
  roleId === 'RespondRole' ? [...INLINE_ONLY.RespondRole, ...REPOSITORY_REMEDIATE_POLICY.Statement, ...ADDED_SINCE] : [...INLINE_ONLY.SamplerRole, ...ADDED_SINCE];

const ROLES = ['SamplerRole', 'RespondRole'] as const;

let template: CfnTemplate;

beforeAll(() => {
  template = loadTemplate();
});

describe('statementGrants', () => {
  it('is the same for statements grouped differently, and differs with any action, resource, condition or effect', () => {
    const a = { Sid: 'A', Effect: 'Allow', Action: ['x:One', 'x:Two'], Resource: ['arn:1', 'arn:2'] };
    const split = [
      { Sid: 'B', Effect: 'Allow', Action: ['x:Two'], Resource: ['arn:2', 'arn:1'] },
      { Sid: 'C', Effect: 'Allow', Action: 'x:One', Resource: ['arn:1', 'arn:2'] },
    ];
    expect(statementGrants([a])).toEqual(statementGrants(split));
    expect(statementGrants([a])).toHaveLength(4);
    expect(statementGrants([a])).not.toEqual(statementGrants([{ ...a, Action: ['x:One'] }]));
    expect(statementGrants([a])).not.toEqual(statementGrants([{ ...a, Resource: ['arn:1', 'arn:3'] }]));
    expect(statementGrants([a])).not.toEqual(statementGrants([{ ...a, Condition: { Bool: { k: 'true' } } }]));
    expect(statementGrants([a])).not.toEqual(statementGrants([{ ...a, Effect: 'Deny' }]));
  });
});

describe('rolePolicies', () => {
  const role = (extra: Record<string, CfnValue>) => ({ Type: 'AWS::IAM::Role', Properties: { Policies: [], ...extra } });
  const doc = (sid: string) => ({ PolicyDocument: { Statement: [{ Sid: sid, Effect: 'Allow', Action: 'x:Y', Resource: '*' }] } });

  it('takes the managed policies of ManagedPolicyArns and the policies naming the role in Roles, then its inline ones', () => {
    const t: CfnTemplate = {
      Resources: {
        R: role({ ManagedPolicyArns: [{ Ref: 'M' }], Policies: [{ PolicyName: 'own', ...doc('Own') }] }),
        M: { Type: 'AWS::IAM::ManagedPolicy', Properties: doc('Managed') },
        P: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'p', Roles: [{ Ref: 'R' }], ...doc('ByRoles') } },
        Q: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'q', Roles: [{ Ref: 'Other' }], ...doc('Elsewhere') } },
      },
    };
    expect(rolePolicies(t, 'R').map((p) => p.source)).toEqual(['M', 'P', 'R/own']);
    expect(roleStatements(t, 'R').map((s: { Sid: string }) => s.Sid)).toEqual(['Managed', 'ByRoles', 'Own']);
  });

  it('refuses a grant whose statements it cannot read: an AWS managed policy, a Roles it cannot resolve', () => {
    const aws: CfnTemplate = { Resources: { R: role({ ManagedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }) } };
    expect(() => roleStatements(aws, 'R')).toThrow(/is not a managed policy of the template/);
    const byName: CfnTemplate = {
      Resources: { R: role({}), P: { Type: 'AWS::IAM::ManagedPolicy', Properties: { Roles: ['my-role'], ...doc('X') } } },
    };
    expect(() => roleStatements(byName, 'R')).toThrow(/is not a list of Refs/);
  });
});

describe.each(ROLES)('%s with SharedReadPolicy', (roleId) => {
  it('makes exactly the grants its inline policies made before, in every branch of every condition', () => {
    expect(statementGrants(possibleStatements(roleStatements(template, roleId)))).toEqual(statementGrants(possibleStatements(before(roleId))));
  });

  it('makes exactly the grants its inline policies made before, as deployed with the packaged conditions', () => {
    const now = statementGrants(deployedStatements(template, roleStatements(template, roleId)));
    expect(now).toEqual(statementGrants(deployedStatements(template, before(roleId))));
    expect(now.length).toBeGreaterThan(15);
  });

  it('has each grant once: SharedReadPolicy repeats nothing of the role’s own policies', () => {
    const [shared, ...own] = rolePolicies(template, roleId);
    expect(shared!.source).toBe('SharedReadPolicy');
    const sharedGrants = new Set(statementGrants(possibleStatements(shared!.Statement)));
    const ownGrants = statementGrants(possibleStatements(own.flatMap((p) => p.Statement)));
    expect(ownGrants.filter((g) => sharedGrants.has(g))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The same, as answers: requests each role makes or must never be allowed, and the answer IAM
// gives each role (stack packaged with the default params: no passRoleArns, no cluster in apply).

const ACCOUNT = PSEUDO['AWS::AccountId'];
const arn = (service: string, path: string) => `arn:aws:${service}:eu-west-1:${ACCOUNT}:${path}`;
const LEDGER = arn('dynamodb', 'table/eks-ip-responder-test-ledger');
const TOPIC = arn('sns', 'eks-ip-responder-test-alerts');
const KEY = arn('kms', 'key/11111111-2222-3333-4444-555555555555');
const QUEUE = arn('sqs', 'eks-ip-responder-test-respond-dlq');
const SAMPLE_LOGS = arn('logs', 'log-group:/aws/lambda/eks-ip-responder-test-sample:*');
const RESPOND_LOGS = arn('logs', 'log-group:/aws/lambda/eks-ip-responder-test-respond:*');

const VALUES: Record<string, string> = {
  ...PSEUDO,
  AlertTopic: TOPIC,
  'AlertKey.Arn': KEY,
  'LedgerTable.Arn': LEDGER,
  'RespondDeadLetterQueue.Arn': QUEUE,
  'SampleLogGroup.Arn': SAMPLE_LOGS,
  'RespondLogGroup.Arn': RESPOND_LOGS,
};

type Answer = 'allowed' | 'explicit-deny' | 'implicit-deny';
const A: Answer = 'allowed';
const I: Answer = 'implicit-deny';
const D: Answer = 'explicit-deny';

const keys = (...leading: string[]) => ({ 'dynamodb:LeadingKeys': leading });
const viaSns = { 'kms:ViaService': 'sns.eu-west-1.amazonaws.com' };

/** [request, SamplerRole's answer, RespondRole's answer]. */
const REQUESTS: Array<[IamRequest, Answer, Answer]> = [
  // EKS reads (SharedReadPolicy), in this account and region only.
  [{ action: 'eks:ListClusters', resource: '*' }, A, A],
  [{ action: 'eks:DescribeCluster', resource: arn('eks', 'cluster/prod') }, A, A],
  [{ action: 'eks:DescribeCluster', resource: 'arn:aws:eks:us-east-1:123456789012:cluster/prod' }, I, I],
  [{ action: 'eks:DescribeCluster', resource: 'arn:aws:eks:eu-west-1:210987654321:cluster/prod' }, I, I],
  [{ action: 'eks:ListNodegroups', resource: arn('eks', 'cluster/prod') }, A, A],
  [{ action: 'eks:DescribeNodegroup', resource: arn('eks', 'nodegroup/prod/workers/0a1b') }, A, A],
  [{ action: 'eks:DescribeNodegroup', resource: arn('eks', 'cluster/prod') }, I, I],
  [{ action: 'eks:DescribeAddon', resource: arn('eks', 'addon/prod/vpc-cni/0a1b') }, A, A],
  [{ action: 'eks:ListAddons', resource: arn('eks', 'cluster/prod') }, I, I],
  // Following updates: the responder's alone.
  [{ action: 'eks:DescribeUpdate', resource: arn('eks', 'cluster/prod') }, I, A],
  [{ action: 'eks:DescribeUpdate', resource: arn('eks', 'addon/prod/vpc-cni/0a1b') }, I, A],
  [{ action: 'eks:DescribeUpdate', resource: arn('eks', 'addon/prod/coredns/0a1b') }, I, I],
  // EC2 reads (no resource-level permissions).
  [{ action: 'ec2:DescribeSubnets', resource: '*' }, A, A],
  [{ action: 'ec2:DescribeNetworkInterfaces', resource: '*' }, A, A],
  [{ action: 'ec2:DescribeInstances', resource: '*' }, A, A],
  [{ action: 'ec2:DescribeInstanceTypes', resource: '*' }, A, A],
  // The network preflight's reads: the sampler's inline policy only (the respond function does not read them).
  [{ action: 'ec2:DescribeVpcs', resource: '*' }, A, I],
  [{ action: 'ec2:DescribeRouteTables', resource: '*' }, A, I],
  [{ action: 'ec2:DescribeAddresses', resource: '*' }, I, I],
  [{ action: 'ec2:GetSubnetCidrReservations', resource: '*' }, A, A],
  // Metrics: history read anywhere, written to the namespace only.
  [{ action: 'cloudwatch:GetMetricData', resource: '*' }, A, A],
  // The ENIs-per-Region quota (issue 13): read only.
  [{ action: 'servicequotas:GetServiceQuota', resource: '*' }, A, A],
  [{ action: 'servicequotas:GetAWSDefaultServiceQuota', resource: '*' }, A, A],
  [{ action: 'servicequotas:RequestServiceQuotaIncrease', resource: '*' }, I, I],
  [{ action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': NAMESPACE } }, A, A],
  [{ action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': 'AWS/EC2' } }, I, I],
  [{ action: 'cloudwatch:PutMetricData', resource: '*' }, I, I],
  [{ action: 'cloudwatch:PutDashboard', resource: arn('cloudwatch', 'dashboard/x') }, I, I],
  // Alerts.
  [{ action: 'sns:Publish', resource: TOPIC }, A, A],
  [{ action: 'sns:Publish', resource: arn('sns', 'other-topic') }, I, I],
  [{ action: 'kms:GenerateDataKey', resource: KEY, context: viaSns }, A, A],
  [{ action: 'kms:Decrypt', resource: KEY, context: viaSns }, A, A],
  [{ action: 'kms:Decrypt', resource: KEY }, I, I],
  // The ledger: reads shared; the sampler writes finding states only.
  [{ action: 'dynamodb:Query', resource: LEDGER, context: keys(`${ACTIONS_PK_PREFIX}prod`) }, A, A],
  [{ action: 'dynamodb:GetItem', resource: LEDGER, context: keys(`${EVENT_PK_PREFIX}0f1e`) }, A, A],
  [{ action: 'dynamodb:Query', resource: arn('dynamodb', 'table/other') }, I, I],
  [{ action: 'dynamodb:Scan', resource: LEDGER }, I, I],
  [{ action: 'dynamodb:PutItem', resource: LEDGER, context: keys(`${FINDING_PK_PREFIX}prod`) }, A, A],
  [{ action: 'dynamodb:PutItem', resource: LEDGER, context: keys(`${ACTIONS_PK_PREFIX}prod`) }, I, A],
  [{ action: 'dynamodb:PutItem', resource: LEDGER }, I, A],
  [{ action: 'dynamodb:DeleteItem', resource: LEDGER, context: keys(`${EVENT_PK_PREFIX}0f1e`) }, I, A],
  [{ action: 'dynamodb:UpdateItem', resource: LEDGER, context: keys(`${FINDING_PK_PREFIX}prod`) }, I, I],
  // Dead letters and logs: each function's own.
  [{ action: 'sqs:SendMessage', resource: QUEUE }, I, A],
  [{ action: 'logs:PutLogEvents', resource: SAMPLE_LOGS }, A, I],
  [{ action: 'logs:PutLogEvents', resource: RESPOND_LOGS }, I, A],
  [{ action: 'logs:CreateLogGroup', resource: SAMPLE_LOGS }, I, I],
  // Changes: none without a cluster in apply mode, refused explicitly to the responder.
  [{ action: 'eks:UpdateAddon', resource: arn('eks', 'addon/prod/vpc-cni/0a1b') }, I, D],
  [{ action: 'eks:UpdateNodegroupConfig', resource: arn('eks', 'nodegroup/prod/workers/0a1b') }, I, D],
  [{ action: 'ec2:CreateTags', resource: arn('ec2', 'subnet/subnet-0123456789abcdef0') }, I, D],
  [{ action: 'iam:PassRole', resource: `arn:aws:iam::${ACCOUNT}:role/eks-node` }, I, I],
];

describe.each(REQUESTS)('%o', (request, sampler, responder) => {
  it.each([
    ['SamplerRole', sampler],
    ['RespondRole', responder],
  ] as const)('%s: %s, as with inline policies only', (roleId, expected) => {
    const now = evaluateRequest(deployedStatements(template, roleStatements(template, roleId)), request, VALUES);
    const then = evaluateRequest(deployedStatements(template, before(roleId)), request, VALUES);
    expect({ now, then }).toEqual({ now: expected, then: expected });
  });
});
