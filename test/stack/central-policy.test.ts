// The central policy's grant in the packaged template: nothing by default; with centralPolicy an
// SSM parameter ARN, ssm:GetParameter on exactly that parameter; with s3://bucket/key,
// s3:GetObject on exactly that object; both functions (SharedReadPolicy), and the location in
// both functions' CENTRAL_POLICY.
import {
  asList,
  deployedStatements,
  loadTemplate,
  packageWith,
  PSEUDO,
  resolveValue,
  resource,
  roleStatements,
  statementResources,
  type CfnTemplate,
} from './template';

const ARN = 'arn:aws:ssm:eu-west-1:999988887777:parameter/eks-ip-responder/policy';
const S3 = 's3://org-policies/eks-ip-responder/policy.json';

/** The deployed statements of a role that grant `action`, as [Sid, resources]. */
function grants(template: CfnTemplate, roleId: string, action: string): Array<[string, string[]]> {
  return deployedStatements(template, roleStatements(template, roleId))
    .filter((s) => asList(s.Action as string | string[]).includes(action))
    .map((s) => [String(s.Sid), s.Sid === 'ReadCentralPolicy' ? statementResources(s).map((r) => resolveValue(r, PSEUDO)) : []]);
}

const centralEnv = (template: CfnTemplate) =>
  ['SampleLambdaFunction', 'RespondLambdaFunction'].map((id) => resource(template, id, 'AWS::Lambda::Function').Properties.Environment.Variables.CENTRAL_POLICY);

describe('the central policy in the packaged template', () => {
  it('grants nothing without the param', () => {
    const template = loadTemplate();
    for (const role of ['SamplerRole', 'RespondRole']) {
      expect(grants(template, role, 'ssm:GetParameter')).toEqual([]);
      expect(grants(template, role, 's3:GetObject')).toEqual([]);
    }
    expect(centralEnv(template)).toEqual(['', '']);
  });

  it('grants ssm:GetParameter on exactly the shared parameter, to both functions', () => {
    const { template, remove } = packageWith({ centralPolicy: ARN });
    try {
      for (const role of ['SamplerRole', 'RespondRole']) {
        expect(grants(template, role, 'ssm:GetParameter')).toEqual([['ReadCentralPolicy', [ARN]]]);
        expect(grants(template, role, 's3:GetObject')).toEqual([]);
        // No kms:Decrypt beyond the stack's own alert key (a String parameter needs none).
        expect(grants(template, role, 'kms:Decrypt').map(([sid]) => sid)).toEqual(['EncryptAlerts']);
      }
      expect(centralEnv(template)).toEqual([ARN, ARN]);
    } finally {
      remove();
    }
  }, 120_000);

  it('grants s3:GetObject on exactly the object, to both functions', () => {
    const { template, remove } = packageWith({ centralPolicy: S3 });
    try {
      for (const role of ['SamplerRole', 'RespondRole']) {
        expect(grants(template, role, 's3:GetObject')).toEqual([['ReadCentralPolicy', ['arn:aws:s3:::org-policies/eks-ip-responder/policy.json']]]);
        expect(grants(template, role, 'ssm:GetParameter')).toEqual([]);
      }
      expect(centralEnv(template)).toEqual([S3, S3]);
    } finally {
      remove();
    }
  }, 120_000);
});
