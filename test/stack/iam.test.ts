// IAM invariants over the packaged template (`npm run package`), independent of the exact
// statement lists in template.test.ts and responder.test.ts: whatever a later edit grants, it
// must keep these. The helpers are tested first on statements that break them, so that a check
// that can never fail does not pass for one that holds.
import {
  CfnTemplate,
  forbiddenGrants,
  isReadAction,
  loadTemplate,
  resource,
  resourcesOfType,
  roleStatements,
  unscopedWrites,
} from './template';

let template: CfnTemplate;

beforeAll(() => {
  template = loadTemplate();
});

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

  it('find forbidden actions, granted by name or through a wildcard, in any case', () => {
    expect(forbiddenGrants('ec2:CreateTags')).toEqual(['ec2:Create*', 'ec2:CreateTags']);
    expect(forbiddenGrants('eks:UpdateNodegroupConfig')).toEqual(['eks:Update*']);
    expect(forbiddenGrants('EC2:assignprivateipaddresses')).toEqual(['ec2:Assign*']);
    expect(forbiddenGrants('iam:PassRole')).toEqual(['iam:PassRole']);
    expect(forbiddenGrants('eks:*')).toEqual(['eks:Update*', 'eks:Create*', 'eks:Delete*']);
    expect(forbiddenGrants('ec2:Att*')).toEqual(['ec2:Attach*']);
    expect(forbiddenGrants('*')).toHaveLength(9);
    for (const allowed of ['ec2:DescribeNetworkInterfaces', 'ec2:Describe*', 'eks:DescribeCluster', 'iam:GetRole', 'sns:Publish']) {
      expect(forbiddenGrants(allowed)).toEqual([]);
    }
  });
});

describe('every IAM role of the stack', () => {
  const roles = () => resourcesOfType(template, 'AWS::IAM::Role');

  it('are the sampler’s and the responder’s, whose inline policies are all there is to check', () => {
    expect(roles().map(([id]) => id).sort()).toEqual(['RespondRole', 'SamplerRole']);
    // Grants outside the roles' inline policies would escape the checks below.
    for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::User', 'AWS::IAM::Group']) {
      expect(resourcesOfType(template, type)).toEqual([]);
    }
    for (const [, role] of roles()) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.PermissionsBoundary).toBeUndefined();
    }
  });

  it('allow no write on Resource * without a Condition, and use no NotAction or NotResource', () => {
    for (const [id, role] of roles()) {
      const statements = roleStatements(role);
      expect(statements.length).toBeGreaterThan(0);
      expect({ id, unscoped: unscopedWrites(statements) }).toEqual({ id, unscoped: [] });
      for (const statement of statements) {
        expect(statement.NotAction).toBeUndefined();
        expect(statement.NotResource).toBeUndefined();
        expect(statement.NotPrincipal).toBeUndefined();
      }
    }
  });
});

describe.each(['SamplerRole', 'RespondRole'])('%s', (roleId) => {
  it('cannot change EKS or EC2 and cannot pass a role', () => {
    const granted = roleStatements(resource(template, roleId, 'AWS::IAM::Role'))
      .filter((statement) => statement.Effect === 'Allow')
      .flatMap((statement) => [statement.Action].flat() as string[])
      .flatMap((action) => forbiddenGrants(action).map((forbidden) => `${action} grants ${forbidden}`));
    expect(granted).toEqual([]);
  });
});
