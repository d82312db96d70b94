// IAM invariants over the packaged template (`npm run package`), and over the same stack packaged
// a second time with the passRoleArns param set, independent of the exact statement lists in
// template.test.ts and responder.test.ts: whatever a later edit grants, it must keep these. The
// helpers are tested first on statements that break them, so that a check that can never fail
// does not pass for one that holds.
import {
  hasPassRoleArnsCondition,
  LEDGER_ARN,
  PASS_ROLE_ARNS,
  passRoleIf,
  passRoleStatement,
  REPLACES_TAG,
  CNI_SUBNET_TAG,
} from './expected';
import {
  actionRegExp,
  arnMatches,
  asList,
  CfnTemplate,
  CfnValue,
  deployedStatements,
  evaluateCondition,
  evaluateConditionExpression,
  FORBIDDEN_ACTION_PATTERNS,
  forbiddenGrants,
  grantingStatements,
  isReadAction,
  loadTemplate,
  Packaged,
  packageWith,
  possibleStatements,
  PSEUDO,
  resolveValue,
  resource,
  resourcesOfType,
  roleStatements,
  Statement,
  statementResources,
  unscopedWrites,
} from './template';

const PASS_ROLE_PARAM = PASS_ROLE_ARNS.join(',');

let template: CfnTemplate;
let withPassRoles: Packaged | undefined;

beforeAll(() => {
  template = loadTemplate();
  // ~3-5 s; in a temporary service directory, so that the repository's .serverless is untouched.
  withPassRoles = packageWith({ passRoleArns: PASS_ROLE_PARAM });
}, 90_000);

afterAll(() => withPassRoles?.remove());

const passRoleTemplate = (): CfnTemplate => {
  if (!withPassRoles) throw new Error('the stack was not packaged with passRoleArns');
  return withPassRoles.template;
};

const statementsOf = (t: CfnTemplate, roleId: string): CfnValue[] => roleStatements(resource(t, roleId, 'AWS::IAM::Role'));

/** `<action> grants <forbidden pattern>` for every forbidden pattern the statements grant. */
const forbiddenIn = (statements: Statement[]): string[] =>
  statements
    .filter((statement) => statement.Effect === 'Allow')
    .flatMap((statement) => asList<string>(statement.Action ?? []))
    .flatMap((action) => forbiddenGrants(action).map((forbidden) => `${action} grants ${forbidden}`));

describe('the IAM check helpers', () => {
  it('take Describe*, List*, Get* and Query for reads, and anything else for a write', () => {
    for (const read of ['ec2:DescribeSubnets', 'eks:ListClusters', 'cloudwatch:GetMetricData', 'dynamodb:Query', 'ec2:Describe*']) {
      expect(isReadAction(read)).toBe(true);
    }
    for (const write of ['*', 'ec2:*', 'ec2:D*', 'dynamodb:PutItem', 'sns:Publish', 'iam:PassRole', 'dynamodb:QueryX']) {
      expect(isReadAction(write)).toBe(false);
    }
  });

  it('find writes on Resource * without a Condition, and only those', () => {
    expect(
      unscopedWrites([
        { Effect: 'Allow', Action: ['ec2:DescribeSubnets', 'dynamodb:Query'], Resource: '*' },
        { Effect: 'Allow', Action: ['cloudwatch:PutMetricData'], Resource: '*', Condition: { StringEquals: { a: 'b' } } },
        { Effect: 'Allow', Action: ['sns:Publish'], Resource: { Ref: 'AlertTopic' } },
        { Effect: 'Deny', Action: '*', Resource: '*' },
        { Effect: 'Allow', Action: 'ec2:CreateTags', Resource: ['arn:aws:ec2:::x', '*'] },
        { Effect: 'Allow', Action: ['s3:*'], Resource: '*' },
      ]),
    ).toEqual(['ec2:CreateTags', 's3:*']);
  });

  it('find them in either branch of an Fn::If, and in the parts of an Fn::Split', () => {
    const write = (action: string, resource: CfnValue) => ({ Effect: 'Allow', Action: [action], Resource: resource });
    const noValue = { Ref: 'AWS::NoValue' };
    expect(unscopedWrites([{ 'Fn::If': ['C', write('iam:PassRole', '*'), noValue] }])).toEqual(['iam:PassRole']);
    expect(unscopedWrites([{ 'Fn::If': ['C', noValue, write('eks:UpdateAddon', '*')] }])).toEqual(['eks:UpdateAddon']);
    expect(
      unscopedWrites([{ 'Fn::If': ['C', write('a:One', 'arn:x'), { 'Fn::If': ['D', noValue, write('a:Two', '*')] }] }]),
    ).toEqual(['a:Two']);
    expect(unscopedWrites([write('iam:PassRole', { 'Fn::Split': [',', '*'] })])).toEqual(['iam:PassRole']);
    expect(unscopedWrites([write('iam:PassRole', { 'Fn::Split': [',', 'arn:aws:iam::1:role/a,*'] })])).toEqual(['iam:PassRole']);
    expect(unscopedWrites([write('iam:PassRole', { 'Fn::Split': [',', 'arn:aws:iam::1:role/a,arn:aws:iam::1:role/b'] })])).toEqual([]);
    expect(unscopedWrites([write('x:Y', ['arn:x', { 'Fn::If': ['C', noValue, '*'] }])])).toEqual(['x:Y']);
    // What cannot be evaluated statically is an error, never a pass.
    expect(() => unscopedWrites([write('iam:PassRole', { 'Fn::Split': [',', { Ref: 'Param' }] })])).toThrow(/statically/);
    expect(() => unscopedWrites([{ 'Fn::FindInMap': ['M', 'k', 'v'] }])).toThrow(/not an IAM statement/);
    expect(() => unscopedWrites([{ 'Fn::If': ['C', write('a:B', '*')] }])).toThrow(/malformed Fn::If/);
  });

  it('resolve Fn::If with the template’s conditions, AWS::NoValue being no statement', () => {
    const statement = (sid: string) => ({ Sid: sid, Effect: 'Allow', Action: ['x:Y'], Resource: 'arn:x' });
    const statements = [
      statement('Always'),
      { 'Fn::If': ['Yes', statement('IfYes'), { Ref: 'AWS::NoValue' }] },
      { 'Fn::If': ['No', statement('IfNo'), { Ref: 'AWS::NoValue' }] },
      { 'Fn::If': ['No', statement('Never'), statement('Otherwise')] },
    ];
    const t: CfnTemplate = {
      Resources: {},
      Conditions: {
        Yes: { 'Fn::Not': [{ 'Fn::Equals': ['', 'a'] }] },
        No: { 'Fn::And': [{ Condition: 'Yes' }, { 'Fn::Equals': ['a', 'b'] }] },
      },
    };
    expect(deployedStatements(t, statements).map((s) => s.Sid)).toEqual(['Always', 'IfYes', 'Otherwise']);
    expect(possibleStatements(statements).map((s) => s.Sid)).toEqual(['Always', 'IfYes', 'IfNo', 'Never', 'Otherwise']);
    expect(() => deployedStatements({ Resources: {} }, statements)).toThrow(/condition Yes is not in the template/);
  });

  it('evaluate conditions over literals only, and refuse what needs deploy-time values', () => {
    const never = (): boolean => {
      throw new Error('no condition reference expected');
    };
    expect(evaluateConditionExpression({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] }, never)).toBe(false);
    expect(evaluateConditionExpression({ 'Fn::Or': [{ 'Fn::Equals': ['a', 'b'] }, { 'Fn::Equals': ['c', 'c'] }] }, never)).toBe(true);
    expect(() => evaluateConditionExpression({ 'Fn::Equals': ['', { Ref: 'Param' }] }, never)).toThrow(/statically/);
    const loop: CfnTemplate = { Resources: {}, Conditions: { A: { Condition: 'B' }, B: { Condition: 'A' } } };
    expect(() => evaluateCondition(loop, 'A')).toThrow(/refers to itself/);
  });

  it('expand Fn::Split of a literal into its resources', () => {
    expect(statementResources({ Resource: { 'Fn::Split': [',', 'a,b'] } })).toEqual(['a', 'b']);
    expect(statementResources({ Resource: ['x', { 'Fn::Split': [',', 'a'] }] })).toEqual(['x', 'a']);
    expect(statementResources({ Resource: { Ref: 'T' } })).toEqual([{ Ref: 'T' }]);
  });

  it('find forbidden actions, granted by name or through a wildcard, in any case', () => {
    expect(forbiddenGrants('ec2:CreateTags')).toEqual(['ec2:Create*', 'ec2:CreateTags']);
    expect(forbiddenGrants('eks:UpdateNodegroupConfig')).toEqual(['eks:Update*']);
    expect(forbiddenGrants('eks:TagResource')).toEqual(['eks:Tag*']);
    expect(forbiddenGrants('ec2:DeleteTags')).toEqual(['ec2:Delete*']);
    expect(forbiddenGrants('EC2:assignprivateipaddresses')).toEqual(['ec2:Assign*']);
    expect(forbiddenGrants('iam:PassRole')).toEqual(['iam:PassRole']);
    expect(forbiddenGrants('eks:*')).toEqual(['eks:Update*', 'eks:Create*', 'eks:Delete*', 'eks:Tag*']);
    expect(forbiddenGrants('ec2:Att*')).toEqual(['ec2:Attach*']);
    expect(forbiddenGrants('ec2:De*')).toEqual(['ec2:Delete*']);
    expect(forbiddenGrants('*')).toHaveLength(FORBIDDEN_ACTION_PATTERNS.length);
    for (const allowed of ['ec2:DescribeNetworkInterfaces', 'ec2:Describe*', 'eks:DescribeCluster', 'iam:GetRole', 'sns:Publish']) {
      expect(forbiddenGrants(allowed)).toEqual([]);
    }
  });

  it('match ARN patterns segment by segment, wildcards crossing / only in the resource part', () => {
    const addon = 'arn:aws:eks:eu-west-1:123456789012:addon/*/vpc-cni/*';
    expect(arnMatches(addon, 'arn:aws:eks:eu-west-1:123456789012:addon/prod/vpc-cni/0a1b')).toBe(true);
    expect(arnMatches(addon, 'arn:aws:eks:eu-west-1:123456789012:addon/prod/coredns/0a1b')).toBe(false);
    expect(arnMatches(addon, 'arn:aws:eks:eu-west-1:210987654321:addon/prod/vpc-cni/0a1b')).toBe(false);
    expect(arnMatches('arn:aws:eks:*:*:cluster/*', 'arn:aws:eks:us-east-1:1:cluster/a')).toBe(true);
    expect(arnMatches('arn:aws:eks:*:*:cluster/*', 'arn:aws:eks:us-east-1:1:nodegroup/a/b/c')).toBe(false);
    expect(arnMatches('*', 'arn:aws:iam::1:role/x')).toBe(true);
    expect(arnMatches('arn:aws:iam::1:role/x', 'arn:aws:iam::1:role/xy')).toBe(false);
  });

  it('find the statements that grant an action on an ARN', () => {
    const statements = [
      { Sid: 'A', Effect: 'Allow', Action: ['eks:Update*'], Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:addon/*' } },
      { Sid: 'B', Effect: 'Allow', Action: 'eks:UpdateAddon', Resource: '*' },
      { Sid: 'C', Effect: 'Deny', Action: 'eks:UpdateAddon', Resource: '*' },
      { Sid: 'D', Effect: 'Allow', Action: 'eks:DescribeAddon', Resource: '*' },
    ];
    expect(grantingStatements(statements, 'eks:UpdateAddon', 'arn:aws:eks:eu-west-1:123456789012:addon/c/vpc-cni/u')).toEqual(['A', 'B']);
    expect(grantingStatements(statements, 'eks:UpdateAddon', 'arn:aws:eks:us-east-1:123456789012:addon/c/vpc-cni/u')).toEqual(['B']);
  });
});

// ---------------------------------------------------------------------------------------------

describe.each([
  ['packaged with the default params', () => template],
  ['packaged with passRoleArns set', passRoleTemplate],
])('every IAM role of the stack, %s', (_name, stack) => {
  const roles = () => resourcesOfType(stack(), 'AWS::IAM::Role');

  it('are the sampler’s and the responder’s, whose inline policies are all there is to check', () => {
    expect(roles().map(([id]) => id).sort()).toEqual(['RespondRole', 'SamplerRole']);
    // Grants outside the roles' inline policies would escape the checks below.
    for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::User', 'AWS::IAM::Group']) {
      expect(resourcesOfType(stack(), type)).toEqual([]);
    }
    for (const [, role] of roles()) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.PermissionsBoundary).toBeUndefined();
      expect(role.Properties.Policies).toHaveLength(1);
    }
  });

  it('allow no write on Resource * without a Condition (both branches of every Fn::If), and use no NotAction or NotResource', () => {
    for (const [id, role] of roles()) {
      const statements = possibleStatements(roleStatements(role));
      expect(statements.length).toBeGreaterThan(0);
      expect({ id, unscoped: unscopedWrites(roleStatements(role)) }).toEqual({ id, unscoped: [] });
      for (const statement of statements) {
        expect(statement.Effect).toBe('Allow');
        expect(statement.NotAction).toBeUndefined();
        expect(statement.NotResource).toBeUndefined();
        expect(statement.NotPrincipal).toBeUndefined();
        // No wildcard action anywhere: every grant is named (kms:GenerateDataKey* names a family).
        for (const action of asList<string>(statement.Action)) expect(action).not.toMatch(/^\*$|:\*$/);
      }
    }
  });

  it('make every Fn::If of a role’s policy depend on a condition the template can evaluate', () => {
    for (const [, role] of roles()) {
      expect(() => deployedStatements(stack(), roleStatements(role))).not.toThrow();
    }
  });
});

describe.each([
  ['packaged with the default params', () => template],
  ['packaged with passRoleArns set', passRoleTemplate],
])('SamplerRole, %s', (_name, stack) => {
  const statements = () => possibleStatements(statementsOf(stack(), 'SamplerRole'));

  it('has no write action on EKS, EC2 or IAM at all, and nothing conditional', () => {
    const writes = statements()
      .flatMap((s) => asList<string>(s.Action))
      .filter((action) => /^(eks|ec2|iam):/i.test(action) && !isReadAction(action));
    expect(writes).toEqual([]);
    expect(statementsOf(stack(), 'SamplerRole').every((s: CfnValue) => s['Fn::If'] === undefined)).toBe(true);
  });

  it('cannot change EKS or EC2 and cannot pass a role, not even through a wildcard', () => {
    expect(forbiddenIn(statements())).toEqual([]);
  });

  it('writes only metrics (its namespace), alerts (its topic, the key via SNS), the ledger and its own logs', () => {
    const writes = statements()
      .flatMap((s) => asList<string>(s.Action))
      .filter((action) => !isReadAction(action))
      .sort();
    expect(writes).toEqual(
      [
        'cloudwatch:PutMetricData',
        'dynamodb:PutItem',
        'kms:Decrypt',
        'kms:GenerateDataKey*',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sns:Publish',
      ].sort(),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// RespondRole: the only role that changes EKS and EC2, each change scoped.

/** Every write of RespondRole: its statement, resources (as the template writes them) and condition. */
const ARN = (service: string, path: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${path}`,
});
const RESPOND_WRITES: Record<string, { sid: string; resources: CfnValue[]; condition?: CfnValue }> = {
  'cloudwatch:PutMetricData': {
    sid: 'PutOwnMetrics',
    resources: ['*'],
    condition: { StringEquals: { 'cloudwatch:namespace': 'EKS/IPResponder' } },
  },
  'sns:Publish': { sid: 'PublishAlerts', resources: [{ Ref: 'AlertTopic' }] },
  'kms:GenerateDataKey*': {
    sid: 'EncryptAlerts',
    resources: [{ 'Fn::GetAtt': ['AlertKey', 'Arn'] }],
    condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'sns.${AWS::Region}.amazonaws.com' } } },
  },
  'kms:Decrypt': {
    sid: 'EncryptAlerts',
    resources: [{ 'Fn::GetAtt': ['AlertKey', 'Arn'] }],
    condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'sns.${AWS::Region}.amazonaws.com' } } },
  },
  'dynamodb:PutItem': { sid: 'Ledger', resources: [LEDGER_ARN] },
  'dynamodb:DeleteItem': { sid: 'Ledger', resources: [LEDGER_ARN] },
  'eks:UpdateAddon': { sid: 'UpdateVpcCniAddon', resources: [ARN('eks', 'addon/*/vpc-cni/*')] },
  'ec2:CreateTags': {
    sid: 'TagSubnetsForCni',
    resources: [ARN('ec2', 'subnet/*')],
    condition: {
      'ForAllValues:StringEquals': { 'aws:TagKeys': [CNI_SUBNET_TAG] },
      StringEquals: { [`aws:RequestTag/${CNI_SUBNET_TAG}`]: '1' },
    },
  },
  'eks:CreateNodegroup': {
    sid: 'CreateReplacementNodegroups',
    resources: [ARN('eks', 'cluster/*')],
    condition: { Null: { [`aws:RequestTag/${REPLACES_TAG}`]: 'false' } },
  },
  'eks:TagResource': {
    sid: 'TagReplacementNodegroups',
    resources: [ARN('eks', 'nodegroup/*/*/*')],
    condition: { Null: { [`aws:RequestTag/${REPLACES_TAG}`]: 'false' } },
  },
  'eks:UpdateNodegroupConfig': { sid: 'ScaleNodegroups', resources: [ARN('eks', 'nodegroup/*/*/*')] },
  'sqs:SendMessage': { sid: 'DeadLetters', resources: [{ 'Fn::GetAtt': ['RespondDeadLetterQueue', 'Arn'] }] },
  'logs:CreateLogStream': { sid: 'OwnLogs', resources: [{ 'Fn::GetAtt': ['RespondLogGroup', 'Arn'] }] },
  'logs:PutLogEvents': { sid: 'OwnLogs', resources: [{ 'Fn::GetAtt': ['RespondLogGroup', 'Arn'] }] },
};
const PASS_ROLE_WRITE = {
  sid: 'PassRolesToEks',
  resources: PASS_ROLE_ARNS,
  condition: { StringEquals: { 'iam:PassedToService': 'eks.amazonaws.com' } },
};

/** Each write action of the statements with its statement, resources and condition (one statement per action). */
function writeScopes(statements: Statement[]): Record<string, { sid: string; resources: CfnValue[]; condition?: CfnValue }> {
  const scopes: Record<string, { sid: string; resources: CfnValue[]; condition?: CfnValue }> = {};
  for (const statement of statements) {
    for (const action of asList<string>(statement.Action).filter((a) => !isReadAction(a))) {
      if (scopes[action]) throw new Error(`${action} is granted by ${scopes[action].sid} and ${String(statement.Sid)}`);
      scopes[action] = {
        sid: String(statement.Sid),
        resources: statementResources(statement),
        ...(statement.Condition === undefined ? {} : { condition: statement.Condition }),
      };
    }
  }
  return scopes;
}

/** Values to resolve the roles' resources to ARNs in the test account and region. */
const ARN_VALUES: Record<string, string> = {
  ...PSEUDO,
  AlertTopic: 'arn:aws:sns:eu-west-1:123456789012:eks-ip-responder-test-alerts',
  'AlertKey.Arn': 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555',
  'LedgerTable.Arn': 'arn:aws:dynamodb:eu-west-1:123456789012:table/eks-ip-responder-test-ledger',
  'RespondDeadLetterQueue.Arn': 'arn:aws:sqs:eu-west-1:123456789012:eks-ip-responder-test-respond-dlq',
  'RespondLogGroup.Arn': 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/eks-ip-responder-test-respond:*',
};

const CLUSTER = 'arn:aws:eks:eu-west-1:123456789012:cluster/prod';
const NODEGROUP = 'arn:aws:eks:eu-west-1:123456789012:nodegroup/prod/workers/0a1b2c3d';
const CNI_ADDON = 'arn:aws:eks:eu-west-1:123456789012:addon/prod/vpc-cni/0a1b2c3d';
const OTHER_ADDON = 'arn:aws:eks:eu-west-1:123456789012:addon/prod/coredns/0a1b2c3d';
const SUBNET = 'arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-0123456789abcdef0';
const OTHER_EC2 = [
  'arn:aws:ec2:eu-west-1:123456789012:network-interface/eni-0123456789abcdef0',
  'arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0',
  'arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-0123456789abcdef0',
  'arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0123456789abcdef0',
];
/** The same resource in another account, and in another region. */
const elsewhere = (arn: string): string[] => [arn.replace(':123456789012:', ':210987654321:'), arn.replace(':eu-west-1:', ':us-east-1:')];

describe('RespondRole, packaged with the default params (passRoleArns empty)', () => {
  const raw = () => statementsOf(template, 'RespondRole');
  const deployed = () => deployedStatements(template, raw());

  it('writes the PassRole statement under HasPassRoleArns, which is false: no iam:PassRole is deployed', () => {
    expect(raw().filter((s: CfnValue) => s['Fn::If'] !== undefined)).toEqual([passRoleIf('')]);
    expect(template.Conditions?.HasPassRoleArns).toEqual(hasPassRoleArnsCondition(''));
    expect(evaluateCondition(template, 'HasPassRoleArns')).toBe(false);
    expect(deployed().flatMap((s) => asList<string>(s.Action)).filter((a) => actionRegExp(a).test('iam:PassRole'))).toEqual([]);
    expect(deployed().map((s) => s.Sid)).not.toContain('PassRolesToEks');
  });

  it('grants each write exactly on its resources, with its condition', () => {
    expect(writeScopes(deployed())).toEqual(RESPOND_WRITES);
  });

  it('grants of EKS and EC2 changes exactly the remediation’s', () => {
    expect(forbiddenIn(deployed()).sort()).toEqual(
      [
        'eks:UpdateAddon grants eks:Update*',
        'eks:UpdateNodegroupConfig grants eks:Update*',
        'eks:CreateNodegroup grants eks:Create*',
        'eks:TagResource grants eks:Tag*',
        'ec2:CreateTags grants ec2:Create*',
        'ec2:CreateTags grants ec2:CreateTags',
      ].sort(),
    );
  });

  it('updates the vpc-cni add-on only, in its own account and region', () => {
    expect(grantingStatements(deployed(), 'eks:UpdateAddon', CNI_ADDON, ARN_VALUES)).toEqual(['UpdateVpcCniAddon']);
    for (const arn of [OTHER_ADDON, CLUSTER, NODEGROUP, ...elsewhere(CNI_ADDON)]) {
      expect({ arn, granted: grantingStatements(deployed(), 'eks:UpdateAddon', arn, ARN_VALUES) }).toEqual({ arn, granted: [] });
    }
    // Nor any other update of a cluster or an add-on.
    for (const action of ['eks:UpdateClusterConfig', 'eks:UpdateClusterVersion', 'eks:UpdateNodegroupVersion', 'eks:CreateAddon', 'eks:DeleteAddon']) {
      for (const arn of [CLUSTER, CNI_ADDON, NODEGROUP]) {
        expect({ action, arn, granted: grantingStatements(deployed(), action, arn, ARN_VALUES) }).toEqual({ action, arn, granted: [] });
      }
    }
  });

  it('tags subnets only, with the CNI subnet tag only, valued 1', () => {
    expect(grantingStatements(deployed(), 'ec2:CreateTags', SUBNET, ARN_VALUES)).toEqual(['TagSubnetsForCni']);
    for (const arn of [...OTHER_EC2, ...elsewhere(SUBNET)]) {
      expect({ arn, granted: grantingStatements(deployed(), 'ec2:CreateTags', arn, ARN_VALUES) }).toEqual({ arn, granted: [] });
    }
    const [statement] = deployed().filter((s) => s.Sid === 'TagSubnetsForCni');
    // ForAllValues: every tag key of the request is the CNI's; StringEquals on the request tag
    // also requires that key to be present (ForAllValues alone would pass a request without tags).
    expect(statement!.Condition).toEqual({
      'ForAllValues:StringEquals': { 'aws:TagKeys': [CNI_SUBNET_TAG] },
      StringEquals: { [`aws:RequestTag/${CNI_SUBNET_TAG}`]: '1' },
    });
    for (const action of ['ec2:DeleteTags', 'ec2:ModifySubnetAttribute', 'ec2:CreateSubnet', 'ec2:AssociateSubnetCidrBlock']) {
      expect({ action, granted: grantingStatements(deployed(), action, SUBNET, ARN_VALUES) }).toEqual({ action, granted: [] });
    }
  });

  it('creates nodegroups, and tags nodegroups (never clusters), only with the replaces tag in the request', () => {
    // CreateNodegroup authorises on the cluster ARN only: a nodegroup ARN in its statement would grant nothing.
    expect(grantingStatements(deployed(), 'eks:CreateNodegroup', CLUSTER, ARN_VALUES)).toEqual(['CreateReplacementNodegroups']);
    expect(grantingStatements(deployed(), 'eks:CreateNodegroup', NODEGROUP, ARN_VALUES)).toEqual([]);
    expect(grantingStatements(deployed(), 'eks:TagResource', NODEGROUP, ARN_VALUES)).toEqual(['TagReplacementNodegroups']);
    expect(grantingStatements(deployed(), 'eks:TagResource', CLUSTER, ARN_VALUES)).toEqual([]);
    for (const action of ['eks:CreateNodegroup', 'eks:TagResource']) {
      for (const arn of [CNI_ADDON, ...elsewhere(CLUSTER), ...elsewhere(NODEGROUP)]) {
        expect({ action, arn, granted: grantingStatements(deployed(), action, arn, ARN_VALUES) }).toEqual({ action, arn, granted: [] });
      }
    }
    const [statement] = deployed().filter((s) => s.Sid === 'CreateReplacementNodegroups');
    expect(statement!.Condition).toEqual({ Null: { [`aws:RequestTag/${REPLACES_TAG}`]: 'false' } });
    for (const action of ['eks:UntagResource', 'eks:DeleteNodegroup', 'eks:CreateCluster']) {
      for (const arn of [CLUSTER, NODEGROUP]) {
        expect({ action, arn, granted: grantingStatements(deployed(), action, arn, ARN_VALUES) }).toEqual({ action, arn, granted: [] });
      }
    }
  });

  it('scales nodegroups only, in its own account and region', () => {
    expect(grantingStatements(deployed(), 'eks:UpdateNodegroupConfig', NODEGROUP, ARN_VALUES)).toEqual(['ScaleNodegroups']);
    for (const arn of [CLUSTER, CNI_ADDON, ...elsewhere(NODEGROUP)]) {
      expect({ arn, granted: grantingStatements(deployed(), 'eks:UpdateNodegroupConfig', arn, ARN_VALUES) }).toEqual({ arn, granted: [] });
    }
  });

  it('follows EKS updates of clusters, the vpc-cni add-on and nodegroups (a read)', () => {
    expect(isReadAction('eks:DescribeUpdate')).toBe(true);
    for (const arn of [CLUSTER, CNI_ADDON, NODEGROUP]) {
      expect(grantingStatements(deployed(), 'eks:DescribeUpdate', arn, ARN_VALUES)).toEqual(['FollowEksUpdates']);
    }
    expect(grantingStatements(deployed(), 'eks:DescribeUpdate', OTHER_ADDON, ARN_VALUES)).toEqual([]);
  });

  it('resolves every resource of every statement to an ARN of the stack’s own account and region, or * for what has none', () => {
    for (const statement of deployed()) {
      for (const value of statementResources(statement)) {
        const arn = resolveValue(value, ARN_VALUES);
        if (arn === '*') continue;
        expect({ sid: statement.Sid, arn }).toEqual({ sid: statement.Sid, arn: expect.stringMatching(/^arn:aws:[a-z0-9-]+:eu-west-1:123456789012:/) });
      }
    }
  });
});

describe('RespondRole, packaged with passRoleArns set', () => {
  const raw = () => statementsOf(passRoleTemplate(), 'RespondRole');
  const deployed = () => deployedStatements(passRoleTemplate(), raw());

  it('has HasPassRoleArns true: the param as packaged, and evaluated from the param value itself', () => {
    expect(passRoleTemplate().Conditions?.HasPassRoleArns).toEqual(hasPassRoleArnsCondition(PASS_ROLE_PARAM));
    expect(evaluateCondition(passRoleTemplate(), 'HasPassRoleArns')).toBe(true);
    // The condition is `!Not [!Equals ['', param]]`: with the param's own value, independent of the packaging.
    expect(evaluateConditionExpression(hasPassRoleArnsCondition(PASS_ROLE_PARAM), () => false)).toBe(true);
    expect(evaluateConditionExpression(hasPassRoleArnsCondition(''), () => false)).toBe(false);
  });

  it('writes the PassRole statement with the Fn::Split of the two ARNs, and deploys it', () => {
    expect(raw().filter((s: CfnValue) => s['Fn::If'] !== undefined)).toEqual([passRoleIf(PASS_ROLE_PARAM)]);
    const passRole = deployed().filter((s) => s.Sid === 'PassRolesToEks');
    expect(passRole).toEqual([passRoleStatement(PASS_ROLE_PARAM)]);
    expect(statementResources(passRole[0]!)).toEqual(PASS_ROLE_ARNS);
  });

  it('grants each write exactly on its resources, with its condition: the default’s, plus PassRole of the two roles to EKS only', () => {
    expect(writeScopes(deployed())).toEqual({ ...RESPOND_WRITES, 'iam:PassRole': PASS_ROLE_WRITE });
  });

  it('passes the listed roles only, to EKS only', () => {
    for (const arn of PASS_ROLE_ARNS) {
      expect(grantingStatements(deployed(), 'iam:PassRole', arn, ARN_VALUES)).toEqual(['PassRolesToEks']);
    }
    for (const arn of ['arn:aws:iam::123456789012:role/admin', 'arn:aws:iam::123456789012:role/eks-node-2', 'arn:aws:iam::210987654321:role/eks-node']) {
      expect({ arn, granted: grantingStatements(deployed(), 'iam:PassRole', arn, ARN_VALUES) }).toEqual({ arn, granted: [] });
    }
    const [statement] = deployed().filter((s) => s.Sid === 'PassRolesToEks');
    expect(statement!.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'eks.amazonaws.com' } });
  });

  it('differs from the default package only in HasPassRoleArns and the PassRole statement’s resources', () => {
    // The code's S3 key holds the packaging time.
    const normalise = (t: CfnTemplate) =>
      JSON.stringify(t)
        .replace(/"S3Key":"[^"]*"/g, '"S3Key":"<time>"')
        .split(JSON.stringify(PASS_ROLE_PARAM))
        .join('""');
    expect(JSON.stringify(passRoleTemplate())).toContain(JSON.stringify(PASS_ROLE_PARAM));
    expect(JSON.parse(normalise(passRoleTemplate()))).toEqual(JSON.parse(normalise(template)));
    expect(JSON.stringify(passRoleTemplate()).split(JSON.stringify(PASS_ROLE_PARAM))).toHaveLength(3);
  });
});
