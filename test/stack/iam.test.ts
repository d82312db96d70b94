// IAM invariants over the packaged template (`npm run package`), over the same stack packaged
// a second time with the passRoleArns param set, and a third time with a policy that has
// clusters in apply mode (POLICY_FILE), independent of the exact statement lists in
// template.test.ts and responder.test.ts: whatever a later edit grants, it must keep these. The
// helpers are tested first on statements that break them, so that a check that can never fail
// does not pass for one that holds.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACTIONS_PK_PREFIX, EVENT_PK_PREFIX, FINDING_PK_PREFIX } from '../../lib/aws/ledger-keys';
import { deployedPolicySize, REMEDIATION_POLICY_MAX_CHARS, ROLE_INLINE_POLICIES_MAX_CHARS } from '../../lib/policy/iam';
import { DEFAULT_APPLY_PROBLEM } from '../../lib/policy/load';
import {
  CENTRAL_POLICY_READ_STATEMENT,
  hasPassRoleArnsCondition,
  LEDGER_ARN,
  PASS_ROLE_ARNS,
  passRoleIf,
  passRoleStatement,
  POLICY_FILE,
  REMEDIATION_WRITES,
  REPOSITORY_REMEDIATE_POLICY,
  REPLACES_TAG,
  CNI_SUBNET_TAG,
} from './expected';
import {
  actionRegExp,
  arnMatches,
  asList,
  CfnTemplate,
  CfnValue,
  conditionHolds,
  deployedStatements,
  evaluateCondition,
  evaluateConditionExpression,
  evaluateRequest,
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
  rolePolicies,
  roleStatements,
  Statement,
  statementResources,
  unscopedWrites,
} from './template';

const PASS_ROLE_PARAM = PASS_ROLE_ARNS.join(',');

/** IAM's limit on a managed policy's size, whitespace not counted ("IAM and AWS STS quotas", IAM user guide). */
const MANAGED_POLICY_MAX_CHARS = 6_144;

/**
 * The repository's policy with two clusters in apply mode: orders-prod with every action (two
 * spare subnets, instance types listed) and batch-dev with CNI subnets only (warm targets and
 * prefix delegation off, no instance type listed), one spare subnet shared with orders-prod;
 * orders-prod may be steered off one shared subnet (excludableSubnets).
 * Appended to policy.yml's own text, so that it stays valid whatever the default gains.
 */
const APPLY_CLUSTERS_YAML = `
  orders-prod:
    mode: apply
    actions:
      cniSubnets:
        spareSubnets: [subnet-0123456789abcdef0, subnet-0fedcba9876543210]
        excludableSubnets: [subnet-0aaaaaaaaaaaaaaa1]
      instanceTypes:
        allowedTypes: [m6i]
      leakedEnis:
        allowed: true
  batch-dev:
    mode: apply
    actions:
      warmTargets:
        allowed: false
      prefixDelegation:
        allowed: false
      cniSubnets:
        spareSubnets: [subnet-0123456789abcdef0]
`;

let template: CfnTemplate;
let withPassRoles: Packaged | undefined;
let withApply: Packaged | undefined;
let policyDir: string | undefined;

beforeAll(() => {
  template = loadTemplate();
  policyDir = mkdtempSync(join(tmpdir(), 'iam-policy-'));
  const applyPolicy = join(policyDir, 'policy.yml');
  writeFileSync(applyPolicy, readFileSync(POLICY_FILE, 'utf8') + APPLY_CLUSTERS_YAML);
  // ~5-10 s each; in a temporary service directory, so that the repository's .serverless is untouched.
  withPassRoles = packageWith({ passRoleArns: PASS_ROLE_PARAM });
  withApply = packageWith({}, { env: { POLICY_FILE: applyPolicy } });
}, 180_000);

afterAll(() => {
  withPassRoles?.remove();
  withApply?.remove();
  if (policyDir) rmSync(policyDir, { recursive: true, force: true });
});

const passRoleTemplate = (): CfnTemplate => {
  if (!withPassRoles) throw new Error('the stack was not packaged with passRoleArns');
  return withPassRoles.template;
};

const applyTemplate = (): CfnTemplate => {
  if (!withApply) throw new Error('the stack was not packaged with the apply-mode policy');
  return withApply.template;
};

/** Every statement the role holds: SharedReadPolicy's and its inline policies' (template.ts roleStatements). */
const statementsOf = (t: CfnTemplate, roleId: string): CfnValue[] => roleStatements(t, roleId);

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

  it('evaluate conditions as IAM does: AND across keys, OR across values, ForAllValues true and ForAnyValue false on an absent key', () => {
    const leading = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['CLUSTER#*'] } };
    expect(conditionHolds(leading, { 'dynamodb:LeadingKeys': ['CLUSTER#a'] })).toBe(true);
    expect(conditionHolds(leading, { 'dynamodb:LeadingKeys': ['CLUSTER#a', 'ACTIONS#a'] })).toBe(false);
    expect(conditionHolds(leading, {})).toBe(true); // why the stack adds a Null check
    expect(conditionHolds({ ...leading, Null: { 'dynamodb:LeadingKeys': 'false' } }, {})).toBe(false);
    const any = { 'ForAnyValue:StringLike': { 'aws:TagKeys': ['aws:*', 'x'] } };
    expect(conditionHolds(any, { 'aws:TagKeys': ['a', 'aws:cloudformation:stack-name'] })).toBe(true);
    expect(conditionHolds(any, { 'aws:TagKeys': ['a', 'xy'] })).toBe(false);
    expect(conditionHolds(any, {})).toBe(false);
    const both = { StringEquals: { a: ['1', '2'], b: 'x' } };
    expect(conditionHolds(both, { a: '2', b: 'x' })).toBe(true);
    expect(conditionHolds(both, { a: '2' })).toBe(false);
    expect(conditionHolds({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }, { 'aws:SourceAccount': '123456789012' })).toBe(true);
    expect(conditionHolds({ Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'false' })).toBe(true);
    expect(conditionHolds({ Bool: { 'aws:SecureTransport': 'false' } }, {})).toBe(false);
    // What it does not implement is an error, never a pass.
    expect(() => conditionHolds({ NumericLessThan: { n: '1' } }, { n: '0' })).toThrow(/not implemented/);
    expect(() => conditionHolds({ StringEquals: { k: 'v' } }, { k: ['v'] })).toThrow(/multivalued/);
  });

  it('answer a request: an explicit Deny wins over an Allow, and nothing allowed is implicitly denied', () => {
    const statements: Statement[] = [
      { Effect: 'Allow', Action: ['eks:TagResource'], Resource: 'arn:aws:eks:eu-west-1:1:nodegroup/c/*/*' },
      { Effect: 'Deny', Action: ['eks:TagResource'], Resource: '*', Condition: { 'ForAnyValue:StringLike': { 'aws:TagKeys': ['aws:*'] } } },
    ];
    const nodegroup = 'arn:aws:eks:eu-west-1:1:nodegroup/c/n/u';
    expect(evaluateRequest(statements, { action: 'eks:TagResource', resource: nodegroup, context: { 'aws:TagKeys': ['team'] } })).toBe('allowed');
    expect(evaluateRequest(statements, { action: 'eks:TagResource', resource: nodegroup, context: { 'aws:TagKeys': ['aws:x'] } })).toBe('explicit-deny');
    expect(evaluateRequest(statements, { action: 'eks:TagResource', resource: 'arn:aws:eks:eu-west-1:1:nodegroup/d/n/u' })).toBe('implicit-deny');
    expect(evaluateRequest(statements, { action: 'eks:UntagResource', resource: nodegroup })).toBe('implicit-deny');
    expect(() => evaluateRequest([{ Effect: 'Allow', NotAction: ['x:Y'], Resource: '*' }], { action: 'a:B', resource: 'x' })).toThrow(/NotAction/);
  });
});

// ---------------------------------------------------------------------------------------------

const ALL_PACKAGES: Array<[string, () => CfnTemplate]> = [
  ['packaged with the default params', () => template],
  ['packaged with passRoleArns set', passRoleTemplate],
  ['packaged with clusters in apply mode', applyTemplate],
];

/** The explicit Denies the stack writes, all in RespondRole's `remediate` policy. */
const DENY_SIDS = ['NoClusterInApplyMode', 'NoClusterInApplyModeCniEnis', 'DenyReservedTagKeys'];

describe.each(ALL_PACKAGES)('every IAM role of the stack, %s', (_name, stack) => {
  const roles = () => resourcesOfType(stack(), 'AWS::IAM::Role');

  it('are the sampler’s and the responder’s, whose inline policies and the shared SharedReadPolicy are all there is to check', () => {
    expect(roles().map(([id]) => id).sort()).toEqual(['RespondRole', 'SamplerRole']);
    // Grants outside the roles' own policies and SharedReadPolicy would escape the checks below.
    for (const type of ['AWS::IAM::User', 'AWS::IAM::Group']) {
      expect(resourcesOfType(stack(), type)).toEqual([]);
    }
    // The one AWS::IAM::Policy: the central publishing grant, created only with centralTopicArn
    // (resources/central.yml; its grants: test/stack/central.test.ts), off in these packages.
    expect(resourcesOfType(stack(), 'AWS::IAM::Policy').map(([id, r]) => [id, r.Condition, evaluateCondition(stack(), r.Condition ?? '')])).toEqual([
      ['CentralPublishPolicy', 'HasCentralTopic', false],
    ]);
    expect(resourcesOfType(stack(), 'AWS::IAM::ManagedPolicy').map(([id]) => id)).toEqual(['SharedReadPolicy']);
    for (const [id, role] of roles()) {
      // The one managed policy, by Ref: no AWS managed policy, nothing the checks cannot read.
      expect({ id, managed: role.Properties.ManagedPolicyArns }).toEqual({ id, managed: [{ Ref: 'SharedReadPolicy' }] });
      expect(role.Properties.PermissionsBoundary).toBeUndefined();
      expect(rolePolicies(stack(), id).map((p) => p.source)[0]).toBe('SharedReadPolicy');
    }
    const names = (id: string) => resource(stack(), id, 'AWS::IAM::Role').Properties.Policies.map((p: { PolicyName: string }) => p.PolicyName);
    expect(names('SamplerRole')).toEqual(['sampler']);
    expect(names('RespondRole')).toEqual(['respond', 'remediate']);
  });

  it('share only reads through SharedReadPolicy: Allow statements of read actions, no Condition to lose, attached by the roles alone', () => {
    const policy = resource(stack(), 'SharedReadPolicy', 'AWS::IAM::ManagedPolicy');
    for (const key of ['Roles', 'Users', 'Groups', 'ManagedPolicyName']) expect(policy.Properties[key]).toBeUndefined();
    const statements = possibleStatements(policy.Properties.PolicyDocument.Statement);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect({ sid: statement.Sid, effect: statement.Effect }).toEqual({ sid: statement.Sid, effect: 'Allow' });
      for (const action of asList<string>(statement.Action)) {
        expect({ sid: statement.Sid, action, read: isReadAction(action) }).toEqual({ sid: statement.Sid, action, read: true });
      }
    }
    // IAM's limit for a managed policy, with the stack's own ARNs at 150 characters and the
    // longest partition and region (lib/policy/iam.ts deployedPolicySize).
    expect(deployedPolicySize(policy.Properties.PolicyDocument, () => 'x'.repeat(150))).toBeLessThanOrEqual(MANAGED_POLICY_MAX_CHARS);
  });

  it('allow no write on Resource * without a Condition (both branches of every Fn::If), deny only in `remediate`, and use no NotAction or NotResource', () => {
    for (const [id] of roles()) {
      const statements = possibleStatements(roleStatements(stack(), id));
      expect(statements.length).toBeGreaterThan(0);
      expect({ id, unscoped: unscopedWrites(roleStatements(stack(), id)) }).toEqual({ id, unscoped: [] });
      for (const statement of statements) {
        expect(['Allow', 'Deny']).toContain(statement.Effect);
        expect(statement.NotAction).toBeUndefined();
        expect(statement.NotResource).toBeUndefined();
        expect(statement.NotPrincipal).toBeUndefined();
        // No wildcard action anywhere: every grant is named (kms:GenerateDataKey* names a family).
        for (const action of asList<string>(statement.Action)) expect(action).not.toMatch(/^\*$|:\*$/);
      }
    }
    const denies = (id: string, policy: number) =>
      (resource(stack(), id, 'AWS::IAM::Role').Properties.Policies[policy]?.PolicyDocument.Statement ?? [])
        .filter((s: Statement) => s.Effect === 'Deny')
        .map((s: Statement) => s.Sid);
    expect(denies('SamplerRole', 0)).toEqual([]);
    expect(denies('RespondRole', 0)).toEqual([]);
    for (const sid of denies('RespondRole', 1)) expect(DENY_SIDS).toContain(sid);
  });

  it('make every Fn::If of a role’s policy depend on a condition the template can evaluate', () => {
    for (const [id] of roles()) {
      expect(() => deployedStatements(stack(), roleStatements(stack(), id))).not.toThrow();
    }
  });
});

const LEDGER_TABLE = 'arn:aws:dynamodb:eu-west-1:123456789012:table/eks-ip-responder-test-ledger';

describe.each(ALL_PACKAGES)('SamplerRole, %s', (_name, stack) => {
  const statements = () => possibleStatements(statementsOf(stack(), 'SamplerRole'));

  it('has no write action on EKS, EC2 or IAM at all, and nothing conditional', () => {
    const writes = statements()
      .flatMap((s) => asList<string>(s.Action))
      .filter((action) => /^(eks|ec2|iam):/i.test(action) && !isReadAction(action));
    expect(writes).toEqual([]);
    // Nothing conditional but the central policy's read (a read of one parameter or object, only with centralPolicy).
    expect(statementsOf(stack(), 'SamplerRole').filter((s: CfnValue) => s['Fn::If'] !== undefined)).toEqual([CENTRAL_POLICY_READ_STATEMENT('')]);
  });

  it('cannot change EKS or EC2 and cannot pass a role, not even through a wildcard', () => {
    expect(forbiddenIn(statements())).toEqual([]);
  });

  it('reads the VPC network the scheduled sample checks (network preflight), and the responder does not', () => {
    const reads = ['ec2:DescribeVpcs', 'ec2:DescribeVpcAttribute', 'ec2:DescribeDhcpOptions', 'ec2:DescribeRouteTables', 'ec2:DescribeVpcEndpoints', 'ec2:DescribeSecurityGroups'];
    const [grant] = statements().filter((s) => s.Sid === 'NetworkPreflightRead');
    expect(asList<string>(grant?.Action)).toEqual(reads);
    expect(grant?.Resource).toBe('*');
    for (const action of reads) {
      expect({ action, answer: evaluateRequest(statements(), { action, resource: '*' }, PSEUDO) }).toEqual({ action, answer: 'allowed' });
      const respond = possibleStatements(statementsOf(stack(), 'RespondRole'));
      expect({ action, respond: evaluateRequest(respond, { action, resource: '*' }, PSEUDO) }).toEqual({ action, respond: 'implicit-deny' });
    }
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

  it('writes finding states (CLUSTER#) only: never an action record, the change lock, the cycle throttle or an event claim', () => {
    const values = { ...PSEUDO, 'LedgerTable.Arn': LEDGER_TABLE };
    const put = (leadingKeys: string[] | undefined) =>
      evaluateRequest(statements(), { action: 'dynamodb:PutItem', resource: LEDGER_TABLE, context: { 'dynamodb:LeadingKeys': leadingKeys } }, values);
    expect(put([`${FINDING_PK_PREFIX}payments-prod`])).toBe('allowed');
    expect(put([`${ACTIONS_PK_PREFIX}payments-prod`])).toBe('implicit-deny');
    expect(put([`${EVENT_PK_PREFIX}0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`])).toBe('implicit-deny');
    // A request with several items (a batch) is allowed only if every leading key is a finding state's.
    expect(put([`${FINDING_PK_PREFIX}a`, `${ACTIONS_PK_PREFIX}a`])).toBe('implicit-deny');
    // CLUSTER# must begin the key, in this case.
    expect(put([`x${FINDING_PK_PREFIX}a`])).toBe('implicit-deny');
    expect(put(['cluster#a'])).toBe('implicit-deny');
    expect(put(undefined)).toBe('implicit-deny');
    // Reads of every partition (the action history for its plans) stay open; no other item write exists.
    for (const action of ['dynamodb:Query', 'dynamodb:GetItem']) {
      const request = { action, resource: LEDGER_TABLE, context: { 'dynamodb:LeadingKeys': [`${ACTIONS_PK_PREFIX}a`] } };
      expect(evaluateRequest(statements(), request, values)).toBe('allowed');
    }
    for (const action of ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:Scan']) {
      const request = { action, resource: LEDGER_TABLE, context: { 'dynamodb:LeadingKeys': [`${FINDING_PK_PREFIX}a`] } };
      expect({ action, answer: evaluateRequest(statements(), request, values) }).toEqual({ action, answer: 'implicit-deny' });
    }
    // And the condition as written: the prefixes come from lib/aws/ledger-keys.ts.
    const [write] = statements().filter((s) => asList<string>(s.Action).includes('dynamodb:PutItem'));
    expect(write!.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${FINDING_PK_PREFIX}*`] },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    });
    expect(asList(write!.Action)).toEqual(['dynamodb:PutItem']);
  });
});

// ---------------------------------------------------------------------------------------------
// RespondRole: the only role that changes EKS and EC2, each change scoped to the clusters in
// apply mode.

const ARN = (service: string, path: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${path}`,
});

type WriteScope = { sid: string; resources: CfnValue[]; condition?: CfnValue };

/** Every write of RespondRole whatever the policy: its statement, resources (as the template writes them) and condition. */
const RESPOND_WRITES: Record<string, WriteScope> = {
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
  'dynamodb:PutItem': { sid: 'LedgerWrite', resources: [LEDGER_ARN] },
  'dynamodb:DeleteItem': { sid: 'LedgerWrite', resources: [LEDGER_ARN] },
  'sqs:SendMessage': { sid: 'DeadLetters', resources: [{ 'Fn::GetAtt': ['RespondDeadLetterQueue', 'Arn'] }] },
  'logs:CreateLogStream': { sid: 'OwnLogs', resources: [{ 'Fn::GetAtt': ['RespondLogGroup', 'Arn'] }] },
  'logs:PutLogEvents': { sid: 'OwnLogs', resources: [{ 'Fn::GetAtt': ['RespondLogGroup', 'Arn'] }] },
};

const STEER: WriteScope = {
  sid: 'SteerCniSubnets1',
  resources: [ARN('ec2', 'subnet/subnet-0aaaaaaaaaaaaaaa1')],
  condition: {
    'ForAllValues:StringEquals': { 'aws:TagKeys': ['cni.networking.k8s.aws/cluster/orders-prod'] },
    Null: { 'aws:TagKeys': 'false' },
  },
};

/** The remediation writes of the apply-mode package (APPLY_CLUSTERS_YAML). */
const APPLY_WRITES: Record<string, WriteScope> = {
  // Issue 13: only orders-prod allows leaked ENIs; only ENIs the VPC CNI tagged with it.
  'ec2:DeleteNetworkInterface': {
    sid: 'DeleteLeakedCniEnis',
    resources: [ARN('ec2', 'network-interface/*')],
    condition: {
      StringEquals: { 'aws:ResourceTag/cluster.k8s.amazonaws.com/name': ['orders-prod'] },
      Null: { 'aws:ResourceTag/node.k8s.amazonaws.com/instance_id': 'false' },
    },
  },
  // batch-dev has warm targets and prefix delegation off: its add-on is not granted.
  'eks:UpdateAddon': { sid: 'UpdateVpcCniAddon', resources: [ARN('eks', 'addon/orders-prod/vpc-cni/*')] },
  // batch-dev lists no instance type and has prefix delegation (and so its rollout) off.
  'eks:CreateNodegroup': {
    sid: 'CreateReplacementNodegroups',
    resources: [ARN('eks', 'cluster/orders-prod')],
    condition: {
      Null: { [`aws:RequestTag/${REPLACES_TAG}`]: 'false' },
      StringEquals: { 'aws:ResourceTag/eks-ip-responder/remediation': 'apply' },
    },
  },
  'eks:TagResource': {
    sid: 'TagReplacementNodegroups',
    resources: [ARN('eks', 'nodegroup/orders-prod/*/*')],
    condition: { Null: { [`aws:RequestTag/${REPLACES_TAG}`]: 'false' } },
  },
  'eks:UpdateNodegroupConfig': { sid: 'ScaleNodegroups', resources: [ARN('eks', 'nodegroup/orders-prod/*/*')] },
  // The spare subnets of both clusters, the shared one once.
  'ec2:CreateTags': {
    sid: 'TagSubnetsForCni',
    resources: [ARN('ec2', 'subnet/subnet-0123456789abcdef0'), ARN('ec2', 'subnet/subnet-0fedcba9876543210')],
    condition: {
      'ForAllValues:StringEquals': { 'aws:TagKeys': [CNI_SUBNET_TAG] },
      StringEquals: { [`aws:RequestTag/${CNI_SUBNET_TAG}`]: '1' },
    },
  },
  // Steering: orders-prod's own cluster tag, on its excludable subnet only; CreateTags of the same
  // key to put it back when a concurrent steer left the subnet with no cluster tag.
  'ec2:DeleteTags': STEER,
  'ec2:CreateTags@SteerCniSubnets1': STEER,
};

const PASS_ROLE_WRITE = {
  sid: 'PassRolesToEks',
  resources: PASS_ROLE_ARNS,
  condition: { StringEquals: { 'iam:PassedToService': 'eks.amazonaws.com' } },
};

/**
 * Each write action the Allow statements grant, with its statement, resources and condition: one
 * statement per action, but ec2:CreateTags, also granted by SteerCniSubnets<n>, keyed `action@sid` there.
 */
function writeScopes(statements: Statement[]): Record<string, WriteScope> {
  const scopes: Record<string, WriteScope> = {};
  for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
    for (const granted of asList<string>(statement.Action).filter((a) => !isReadAction(a))) {
      const steer = granted === 'ec2:CreateTags' && String(statement.Sid).startsWith('SteerCniSubnets');
      const action = steer ? `${granted}@${String(statement.Sid)}` : granted;
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
  'LedgerTable.Arn': LEDGER_TABLE,
  'RespondDeadLetterQueue.Arn': 'arn:aws:sqs:eu-west-1:123456789012:eks-ip-responder-test-respond-dlq',
  'RespondLogGroup.Arn': 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/eks-ip-responder-test-respond:*',
};

const eks = (path: string) => `arn:aws:eks:eu-west-1:123456789012:${path}`;
const subnet = (id: string) => `arn:aws:ec2:eu-west-1:123456789012:subnet/${id}`;
/** A cluster's ARNs of each kind the remediation writes to. */
const arnsOf = (cluster: string) => ({
  cluster: eks(`cluster/${cluster}`),
  nodegroup: eks(`nodegroup/${cluster}/workers/0a1b2c3d`),
  addon: eks(`addon/${cluster}/vpc-cni/0a1b2c3d`),
  otherAddon: eks(`addon/${cluster}/coredns/0a1b2c3d`),
});
const OTHER_EC2 = [
  'arn:aws:ec2:eu-west-1:123456789012:network-interface/eni-0123456789abcdef0',
  'arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0',
  'arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-0123456789abcdef0',
  'arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0123456789abcdef0',
];
/** The same resource in another account, and in another region. */
const elsewhere = (arn: string): string[] => [arn.replace(':123456789012:', ':210987654321:'), arn.replace(':eu-west-1:', ':us-east-1:')];

/** The request context of the responder's own writes, as its executors send them. */
const REPLACEMENT_CONTEXT = {
  'aws:RequestTag/eks-ip-responder/replaces': 'workers',
  'aws:TagKeys': ['team', 'eks-ip-responder/replaces'],
  'aws:ResourceTag/eks-ip-responder/remediation': 'apply',
};
const CNI_TAG_CONTEXT = { 'aws:TagKeys': [CNI_SUBNET_TAG], [`aws:RequestTag/${CNI_SUBNET_TAG}`]: '1' };

/** A request of each remediation write as the executors make it, on a cluster's resources. */
const writesOn = (cluster: string) => {
  const a = arnsOf(cluster);
  return [
    { action: 'eks:UpdateAddon', resource: a.addon, context: {} },
    { action: 'eks:CreateNodegroup', resource: a.cluster, context: REPLACEMENT_CONTEXT },
    { action: 'eks:TagResource', resource: a.nodegroup, context: REPLACEMENT_CONTEXT },
    { action: 'eks:UpdateNodegroupConfig', resource: a.nodegroup, context: {} },
  ];
};

describe('RespondRole, packaged from the repository’s policy.yml (no cluster in apply mode) and passRoleArns empty', () => {
  const raw = () => statementsOf(template, 'RespondRole');
  const deployed = () => deployedStatements(template, raw());

  it('writes the PassRole statement under HasPassRoleArns, which is false: no iam:PassRole is deployed', () => {
    expect(raw().filter((s: CfnValue) => s['Fn::If'] !== undefined)).toEqual([CENTRAL_POLICY_READ_STATEMENT(''), passRoleIf('')]);
    expect(template.Conditions?.HasPassRoleArns).toEqual(hasPassRoleArnsCondition(''));
    expect(evaluateCondition(template, 'HasPassRoleArns')).toBe(false);
    expect(deployed().flatMap((s) => asList<string>(s.Action)).filter((a) => actionRegExp(a).test('iam:PassRole'))).toEqual([]);
    expect(deployed().map((s) => s.Sid)).not.toContain('PassRolesToEks');
  });

  it('has, as its `remediate` policy, the single Deny of every remediation write', () => {
    const [, remediate] = resource(template, 'RespondRole', 'AWS::IAM::Role').Properties.Policies;
    expect(remediate).toEqual({ PolicyName: 'remediate', PolicyDocument: REPOSITORY_REMEDIATE_POLICY });
  });

  it('grants each write exactly on its resources, with its condition: no EKS or EC2 write at all', () => {
    expect(writeScopes(deployed())).toEqual(RESPOND_WRITES);
    expect(forbiddenIn(deployed())).toEqual([]);
  });

  it('is refused every remediation write on every cluster, explicitly', () => {
    for (const request of [...writesOn('prod'), ...writesOn('payments-prod')]) {
      expect({ request, answer: evaluateRequest(deployed(), request, ARN_VALUES) }).toEqual({ request, answer: 'explicit-deny' });
    }
    const tag = { action: 'ec2:CreateTags', resource: subnet('subnet-0c55317ef17156075'), context: CNI_TAG_CONTEXT };
    expect(evaluateRequest(deployed(), tag, ARN_VALUES)).toBe('explicit-deny');
    expect(REMEDIATION_WRITES.every((action) => deployed().some((s) => s.Effect === 'Deny' && asList(s.Action).includes(action)))).toBe(true);
  });

  it('follows EKS updates of clusters, the vpc-cni add-on and nodegroups (a read)', () => {
    expect(isReadAction('eks:DescribeUpdate')).toBe(true);
    const a = arnsOf('prod');
    for (const arn of [a.cluster, a.addon, a.nodegroup]) {
      expect(grantingStatements(deployed(), 'eks:DescribeUpdate', arn, ARN_VALUES)).toEqual(['FollowEksUpdates']);
    }
    expect(grantingStatements(deployed(), 'eks:DescribeUpdate', a.otherAddon, ARN_VALUES)).toEqual([]);
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

describe('RespondRole, packaged with clusters in apply mode (orders-prod: every action; batch-dev: CNI subnets only)', () => {
  const deployed = () => deployedStatements(applyTemplate(), statementsOf(applyTemplate(), 'RespondRole'));
  const answer = (request: { action: string; resource: string; context?: Record<string, string | string[]> }) =>
    evaluateRequest(deployed(), request, ARN_VALUES);

  it('grants each write exactly on its resources, with its condition: the default’s, plus the remediation on those clusters only', () => {
    expect(writeScopes(deployed())).toEqual({ ...RESPOND_WRITES, ...APPLY_WRITES });
    expect(forbiddenIn(deployed()).sort()).toEqual(
      [
        'eks:UpdateAddon grants eks:Update*',
        'eks:UpdateNodegroupConfig grants eks:Update*',
        'eks:CreateNodegroup grants eks:Create*',
        'eks:TagResource grants eks:Tag*',
        'ec2:CreateTags grants ec2:Create*',
        'ec2:CreateTags grants ec2:CreateTags',
        // SteerCniSubnets1's CreateTags of orders-prod's own cluster key (the put-back).
        'ec2:CreateTags grants ec2:Create*',
        'ec2:CreateTags grants ec2:CreateTags',
        'ec2:DeleteTags grants ec2:Delete*',
        // Issue 13: scoped by the ENI's cluster tag (DeleteLeakedCniEnis above).
        'ec2:DeleteNetworkInterface grants ec2:Delete*',
      ].sort(),
    );
  });

  it('allows every write of orders-prod as the executors make it, and none on another cluster, account or region', () => {
    for (const request of writesOn('orders-prod')) expect({ request, answer: answer(request) }).toEqual({ request, answer: 'allowed' });
    // `orders-prod-2` and `orders` share a prefix with the name: the ARN must not match them.
    for (const cluster of ['payments-prod', 'orders-prod-2', 'orders', 'batch-dev']) {
      for (const request of writesOn(cluster)) {
        expect({ request, answer: answer(request) }).toEqual({ request, answer: 'implicit-deny' });
      }
    }
    for (const request of writesOn('orders-prod')) {
      for (const resource of elsewhere(request.resource)) {
        expect({ resource, answer: answer({ ...request, resource }) }).toEqual({ resource, answer: 'implicit-deny' });
      }
    }
  });

  it('updates the vpc-cni add-on only, never another add-on or a cluster, and no other update', () => {
    const a = arnsOf('orders-prod');
    expect(answer({ action: 'eks:UpdateAddon', resource: a.otherAddon })).toBe('implicit-deny');
    expect(answer({ action: 'eks:UpdateAddon', resource: a.cluster })).toBe('implicit-deny');
    for (const action of ['eks:UpdateClusterConfig', 'eks:UpdateClusterVersion', 'eks:UpdateNodegroupVersion', 'eks:CreateAddon', 'eks:DeleteAddon']) {
      for (const arn of [a.cluster, a.addon, a.nodegroup]) {
        expect({ action, arn, answer: answer({ action, resource: arn }) }).toEqual({ action, arn, answer: 'implicit-deny' });
      }
    }
  });

  it('creates a nodegroup only with the replaces tag and while the cluster carries the opt-in tag', () => {
    const { cluster, nodegroup } = arnsOf('orders-prod');
    const without = (key: string) => Object.fromEntries(Object.entries(REPLACEMENT_CONTEXT).filter(([k]) => k !== key));
    expect(answer({ action: 'eks:CreateNodegroup', resource: cluster, context: without('aws:RequestTag/eks-ip-responder/replaces') })).toBe('implicit-deny');
    expect(answer({ action: 'eks:CreateNodegroup', resource: cluster, context: without('aws:ResourceTag/eks-ip-responder/remediation') })).toBe('implicit-deny');
    const notApply = { ...REPLACEMENT_CONTEXT, 'aws:ResourceTag/eks-ip-responder/remediation': 'dry-run' };
    expect(answer({ action: 'eks:CreateNodegroup', resource: cluster, context: notApply })).toBe('implicit-deny');
    // Authorised on the cluster only: a nodegroup ARN in its statement would grant nothing.
    expect(answer({ action: 'eks:CreateNodegroup', resource: nodegroup, context: REPLACEMENT_CONTEXT })).toBe('implicit-deny');
    expect(answer({ action: 'eks:TagResource', resource: nodegroup, context: without('aws:RequestTag/eks-ip-responder/replaces') })).toBe('implicit-deny');
    for (const action of ['eks:UntagResource', 'eks:DeleteNodegroup', 'eks:CreateCluster', 'eks:DeleteCluster']) {
      for (const arn of [cluster, nodegroup]) {
        expect({ action, arn, answer: answer({ action, resource: arn, context: REPLACEMENT_CONTEXT }) }).toEqual({ action, arn, answer: 'implicit-deny' });
      }
    }
  });

  it('never tags a cluster, and never sets the opt-in key or an aws: key, whatever else the request carries', () => {
    const { cluster, nodegroup } = arnsOf('orders-prod');
    expect(answer({ action: 'eks:TagResource', resource: cluster, context: REPLACEMENT_CONTEXT })).toBe('implicit-deny');
    for (const key of ['eks-ip-responder/remediation', 'aws:cloudformation:stack-name']) {
      const context = { ...REPLACEMENT_CONTEXT, 'aws:TagKeys': [...REPLACEMENT_CONTEXT['aws:TagKeys'], key] };
      for (const [action, resource] of [['eks:CreateNodegroup', cluster], ['eks:TagResource', nodegroup]] as const) {
        expect({ action, key, answer: answer({ action, resource, context }) }).toEqual({ action, key, answer: 'explicit-deny' });
      }
    }
    // The old nodegroup's own keys, Kubernetes' included, are copied onto the replacement.
    const copied = { ...REPLACEMENT_CONTEXT, 'aws:TagKeys': ['kubernetes.io/cluster/orders-prod', 'k8s.io/cluster-autoscaler/enabled', 'team', 'eks-ip-responder/replaces'] };
    expect(answer({ action: 'eks:CreateNodegroup', resource: cluster, context: copied })).toBe('allowed');
  });

  it('deletes only ENIs the VPC CNI tagged with orders-prod (issue 13), never another cluster\'s or an untagged one', () => {
    const eni = 'arn:aws:ec2:eu-west-1:123456789012:network-interface/eni-0123456789abcdef0';
    const cni = { 'aws:ResourceTag/cluster.k8s.amazonaws.com/name': 'orders-prod', 'aws:ResourceTag/node.k8s.amazonaws.com/instance_id': 'i-0123456789abcdef0' };
    expect(answer({ action: 'ec2:DeleteNetworkInterface', resource: eni, context: cni })).toBe('allowed');
    expect(answer({ action: 'ec2:DeleteNetworkInterface', resource: eni, context: { ...cni, 'aws:ResourceTag/cluster.k8s.amazonaws.com/name': 'batch-dev' } })).toBe('implicit-deny');
    expect(answer({ action: 'ec2:DeleteNetworkInterface', resource: eni, context: { 'aws:ResourceTag/cluster.k8s.amazonaws.com/name': 'orders-prod' } })).toBe('implicit-deny');
    expect(answer({ action: 'ec2:DeleteNetworkInterface', resource: eni, context: {} })).toBe('implicit-deny');
    for (const resource of elsewhere(eni)) expect({ resource, answer: answer({ action: 'ec2:DeleteNetworkInterface', resource, context: cni }) }).toEqual({ resource, answer: 'implicit-deny' });
    for (const action of ['ec2:DetachNetworkInterface', 'ec2:DeleteSubnet', 'ec2:TerminateInstances']) {
      expect({ action, answer: answer({ action, resource: eni, context: cni }) }).toEqual({ action, answer: 'implicit-deny' });
    }
  });

  it('tags exactly the listed spare subnets, with the CNI subnet tag only, valued 1', () => {
    for (const id of ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210']) {
      expect(answer({ action: 'ec2:CreateTags', resource: subnet(id), context: CNI_TAG_CONTEXT })).toBe('allowed');
    }
    for (const arn of [subnet('subnet-0c55317ef17156075'), subnet('subnet-0123456789abcdef1'), ...OTHER_EC2, ...elsewhere(subnet('subnet-0123456789abcdef0'))]) {
      expect({ arn, answer: answer({ action: 'ec2:CreateTags', resource: arn, context: CNI_TAG_CONTEXT }) }).toEqual({ arn, answer: 'implicit-deny' });
    }
    const listed = subnet('subnet-0123456789abcdef0');
    expect(answer({ action: 'ec2:CreateTags', resource: listed, context: { ...CNI_TAG_CONTEXT, [`aws:RequestTag/${CNI_SUBNET_TAG}`]: '0' } })).toBe('implicit-deny');
    expect(answer({ action: 'ec2:CreateTags', resource: listed, context: { ...CNI_TAG_CONTEXT, 'aws:TagKeys': [CNI_SUBNET_TAG, 'Name'] } })).toBe('implicit-deny');
    expect(answer({ action: 'ec2:CreateTags', resource: listed, context: {} })).toBe('implicit-deny');
    for (const action of ['ec2:DeleteTags', 'ec2:ModifySubnetAttribute', 'ec2:CreateSubnet', 'ec2:AssociateSubnetCidrBlock']) {
      expect({ action, answer: answer({ action, resource: listed }) }).toEqual({ action, answer: 'implicit-deny' });
    }
  });

  it('removes (and puts back) only orders-prod’s own cluster tag, only on its excludable subnet, and only a request that names its keys', () => {
    const shared = subnet('subnet-0aaaaaaaaaaaaaaa1');
    const own = { 'aws:TagKeys': ['cni.networking.k8s.aws/cluster/orders-prod'] };
    // CreateTags: the put-back when a concurrent steer left the subnet with no cluster tag.
    for (const action of ['ec2:DeleteTags', 'ec2:CreateTags']) {
      expect({ action, answer: answer({ action, resource: shared, context: own }) }).toEqual({ action, answer: 'allowed' });
      // No keys named: DeleteTags would remove every tag of the subnet.
      expect({ action, answer: answer({ action, resource: shared, context: {} }) }).toEqual({ action, answer: 'implicit-deny' });
      for (const keys of [['cni.networking.k8s.aws/cluster/batch-dev'], ['cni.networking.k8s.aws/cluster/orders-prod', 'Name'], [CNI_SUBNET_TAG]]) {
        expect({ action, keys, answer: answer({ action, resource: shared, context: { 'aws:TagKeys': keys } }) }).toEqual({ action, keys, answer: 'implicit-deny' });
      }
      for (const arn of [subnet('subnet-0123456789abcdef0'), ...elsewhere(shared)]) {
        expect({ action, arn, answer: answer({ action, resource: arn, context: own }) }).toEqual({ action, arn, answer: 'implicit-deny' });
      }
    }
  });

  it('differs from the default package only in the `remediate` policy and the policy compiled into the functions', () => {
    const normalise = (t: CfnTemplate) => {
      const copy = structuredClone(t) as CfnTemplate;
      copy.Resources.RespondRole!.Properties.Policies[1].PolicyDocument = '<remediate>';
      return JSON.parse(
        JSON.stringify(copy)
          .replace(/"S3Key":"[^"]*"/g, '"S3Key":"<time>"')
          .replace(/"POLICY_VERSION":"[0-9a-f]{12}"/g, '"POLICY_VERSION":"<version>"'),
      ) as unknown;
    };
    expect(normalise(applyTemplate())).toEqual(normalise(template));
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
    expect(raw().filter((s: CfnValue) => s['Fn::If'] !== undefined)).toEqual([CENTRAL_POLICY_READ_STATEMENT(''), passRoleIf(PASS_ROLE_PARAM)]);
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

describe('RespondRole’s inline policies together', () => {
  it('fit IAM’s 10,240 characters per role at their largest: the `respond` policy at its worst beside a `remediate` policy at its bound', () => {
    // passRoleArns of four 100-character role ARNs, the stack's own ARNs at 150 characters, the
    // longest partition and region (lib/policy/iam.ts LONGEST_PSEUDO).
    const [respond] = resource(passRoleTemplate(), 'RespondRole', 'AWS::IAM::Role').Properties.Policies;
    const statements = deployedStatements(passRoleTemplate(), respond.PolicyDocument.Statement).map((s) =>
      s.Sid === 'PassRolesToEks' ? { ...s, Resource: Array.from({ length: 4 }, (_, i) => `arn:aws-us-gov:iam::123456789012:role/${String(i).repeat(62)}`) } : s,
    );
    expect(statements.find((s) => s.Sid === 'PassRolesToEks')!.Resource[0]).toHaveLength(100);
    const size = deployedPolicySize({ ...respond.PolicyDocument, Statement: statements }, () => 'x'.repeat(150));
    expect(size).toBeGreaterThan(2_000);
    expect(size + REMEDIATION_POLICY_MAX_CHARS).toBeLessThanOrEqual(ROLE_INLINE_POLICIES_MAX_CHARS);
    const [, remediate] = resource(applyTemplate(), 'RespondRole', 'AWS::IAM::Role').Properties.Policies;
    expect(deployedPolicySize(remediate.PolicyDocument)).toBeLessThanOrEqual(REMEDIATION_POLICY_MAX_CHARS);
  });
});

describe('packaging a policy whose default mode is apply', () => {
  it('fails, naming the problem, before anything is deployed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iam-default-apply-'));
    try {
      const file = join(dir, 'policy.yml');
      const text = readFileSync(POLICY_FILE, 'utf8');
      const changed = text.replace(/^(default:\n(?:\s*#.*\n|\s*\n)*\s+mode: )dry-run$/m, '$1apply');
      expect(changed).not.toBe(text);
      writeFileSync(file, changed);
      expect(() => packageWith({}, { env: { POLICY_FILE: file } })).toThrow(`default.mode: ${DEFAULT_APPLY_PROBLEM}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
