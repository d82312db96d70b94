// The packaging checks (stack/checks.ts), on hand-made templates and on the packaged one.
import {
  centralPolicyProblems,
  ENVIRONMENT_MAX_BYTES,
  environmentProblems,
  nameProblems,
  packagedTemplateProblems,
  patternProblems,
  STAGE_MAX_LENGTH,
  stageProblems,
  type PackagedTemplate,
} from '../../stack/checks';
import { loadTemplate, packageWith } from './template';

/** A template with the stack's two references and one function whose environment is `variables`. */
function withEnvironment(variables: Record<string, unknown>, stage = 'prod'): PackagedTemplate {
  return {
    Resources: {
      AlertTopic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: `eks-ip-responder-${stage}-alerts` } },
      LedgerTable: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: `eks-ip-responder-${stage}-ledger` } },
      SampleLambdaFunction: {
        Type: 'AWS::Lambda::Function',
        Properties: { FunctionName: `eks-ip-responder-${stage}-sample`, Environment: { Variables: variables } },
      },
    },
  };
}

describe('stageProblems', () => {
  it('takes a stage of 39 characters, the longest whose function names fit in 64', () => {
    expect(STAGE_MAX_LENGTH).toBe(39);
    expect(`eks-ip-responder-${'s'.repeat(39)}-respond`).toHaveLength(64);
    expect(stageProblems('s'.repeat(39))).toEqual([]);
    expect(stageProblems('production-eu-central-1')).toEqual([]);
  });

  it('refuses a longer stage, naming the function name and the most it may be', () => {
    const [problem, ...rest] = stageProblems('s'.repeat(40));
    expect(rest).toEqual([]);
    expect(problem).toBe(
      `stage "${'s'.repeat(40)}" is 40 characters: the function name eks-ip-responder-${'s'.repeat(40)}-respond would be 65 characters, above Lambda's 64; use a stage of at most 39 characters`,
    );
  });

  it.each(['prod.eu', 'prod eu', 'prod/eu', ''])('refuses the stage %j: characters a resource name does not allow', (stage) => {
    expect(stageProblems(stage)[0]).toMatch(/use letters, digits, hyphens and underscores only/);
  });
});

describe('nameProblems', () => {
  it('names each resource whose literal name is above its type’s limit', () => {
    const template: PackagedTemplate = {
      Resources: {
        Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'q'.repeat(81) } },
        Fine: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'q'.repeat(80) } },
        Generated: { Type: 'AWS::Events::Rule', Properties: {} },
      },
    };
    expect(nameProblems(template)).toEqual([`Queue (AWS::SQS::Queue): QueueName "${'q'.repeat(81)}" is 81 characters, above the 80 allowed`]);
  });
});

describe('environmentProblems', () => {
  it('counts keys and values, references resolved to their deployed ARN and name', () => {
    // 'A' + topic ARN + 'B' + table name, then padding up to exactly the limit.
    const arn = 'arn:aws:sns:eu-west-1:123456789012:eks-ip-responder-prod-alerts';
    const used = 1 + arn.length + 1 + 'eks-ip-responder-prod-ledger'.length + 'CLUSTER_NAMES'.length;
    const at = { A: { Ref: 'AlertTopic' }, B: { Ref: 'LedgerTable' }, CLUSTER_NAMES: 'c'.repeat(ENVIRONMENT_MAX_BYTES - used) };
    expect(environmentProblems(withEnvironment(at), 'eu-west-1')).toEqual([]);
    const over = { ...at, CLUSTER_NAMES: `${at.CLUSTER_NAMES}c` };
    const [problem] = environmentProblems(withEnvironment(over), 'eu-west-1');
    expect(problem).toMatch(/^function eks-ip-responder-prod-sample: its environment is 4097 bytes, above Lambda's 4096/);
    expect(problem).toContain(`CLUSTER_NAMES ${over.CLUSTER_NAMES.length + 'CLUSTER_NAMES'.length} bytes (the clusterNames param)`);
    expect(problem).toContain('Shorten clusterNames');
  });

  it('sizes the topic ARN in the region’s partition (longer in GovCloud)', () => {
    const variables = { A: { Ref: 'AlertTopic' }, PAD: 'x'.repeat(ENVIRONMENT_MAX_BYTES - 3 - 'arn:aws:sns:us-gov-west-1:123456789012:eks-ip-responder-prod-alerts'.length) };
    expect(environmentProblems(withEnvironment(variables), 'us-gov-west-1')).toHaveLength(1);
    expect(environmentProblems(withEnvironment(variables), 'us-west-1')).toEqual([]);
  });

  it('refuses to guess the size of a value it cannot resolve', () => {
    expect(() => environmentProblems(withEnvironment({ X: { 'Fn::GetAtt': ['AlertTopic', 'TopicName'] } }), 'eu-west-1')).toThrow(
      /SampleLambdaFunction\.Environment\.X: cannot size/,
    );
  });
});

describe('patternProblems', () => {
  const rule = (EventPattern: unknown): PackagedTemplate => ({ Resources: { Rule: { Type: 'AWS::Events::Rule', Properties: { EventPattern } } } });

  it('refuses a pattern above the complexity bound: five *…* wildcards on one field (the old Auto Scaling rule)', () => {
    const fiveWildcards = {
      source: ['aws.autoscaling'],
      detail: { StatusMessage: ['*free addresses*', '*InsufficientFreeAddressesInSubnet*', '*free Ipv4 addresses*', '*InsufficientCidrBlocks*', '*free cidr blocks*'].map((wildcard) => ({ wildcard })) },
    };
    const [problem, ...rest] = patternProblems(rule(fiveWildcards));
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^Rule \(AWS::Events::Rule\): its event pattern scores 15 for complexity, above the 9/);
  });

  it('takes a pattern within it, as an object or as a JSON string', () => {
    const two = { detail: { StatusMessage: [{ wildcard: '*ree*' }, { wildcard: '*CidrBlocks*' }] } };
    expect(patternProblems(rule(two))).toEqual([]);
    expect(patternProblems(rule(JSON.stringify(two)))).toEqual([]);
  });
});

describe('the packaged template (stage test)', () => {
  it('passes every check', () => {
    expect(packagedTemplateProblems(loadTemplate() as PackagedTemplate, 'test', 'eu-west-1')).toEqual([]);
  });
});

describe('serverless package (the plugin stack/checks.plugin.js)', () => {
  it('refuses a 40-character stage and an environment above 4 KB, naming both, before anything is written', () => {
    const clusterNames = Array.from({ length: 90 }, (_, i) => `cluster-name-number-${i}-of-the-payments-platform`).join(',');
    let message = '';
    try {
      packageWith({ clusterNames }, { stage: 's'.repeat(40) }).remove();
    } catch (err) {
      message = String(err);
    }
    expect(message).toContain('The stack would not deploy');
    expect(message).toContain(`stage "${'s'.repeat(40)}" is 40 characters`);
    expect(message).toMatch(/its environment is \d+ bytes, above Lambda's 4096.*CLUSTER_NAMES \d+ bytes \(the clusterNames param\)/);
  }, 120_000);
});

describe('centralPolicyProblems', () => {
  it('takes empty, an SSM parameter ARN and an s3:// object, and refuses anything else in the words the functions use', () => {
    for (const ok of ['', 'arn:aws:ssm:eu-west-1:999988887777:parameter/eks-ip-responder/policy', 's3://org-policies/policy.json']) {
      expect(centralPolicyProblems(withEnvironment({ CENTRAL_POLICY: ok }))).toEqual([]);
    }
    // A StackSet parameter (a Ref) is checked by the functions at cold start, not here.
    expect(centralPolicyProblems(withEnvironment({ CENTRAL_POLICY: { Ref: 'CentralPolicy' } }))).toEqual([]);
    expect(centralPolicyProblems(withEnvironment({ CENTRAL_POLICY: '/eks-ip-responder/policy' }))).toEqual([
      'centralPolicy: "/eks-ip-responder/policy" must be empty, an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/<name>) or s3://<bucket>/<key>',
    ]);
  });

  it.each(['s3://org-policies/*', 's3://org-policies/policy?.json', 'arn:aws:ssm:eu-west-1:999988887777:parameter/*'])(
    'refuses %j: an IAM wildcard in the value would widen the read grant (resources/roles.yml ReadCentralPolicy)',
    (value) => {
      expect(centralPolicyProblems(withEnvironment({ CENTRAL_POLICY: value }))).toHaveLength(1);
    },
  );

  it('fails the packaging of a malformed centralPolicy', () => {
    let message = '';
    try {
      packageWith({ centralPolicy: 'my-parameter' }).remove();
    } catch (err) {
      message = String(err);
    }
    expect(message).toContain('The stack would not deploy');
    expect(message).toContain('centralPolicy: "my-parameter" must be empty');
  }, 120_000);
});
