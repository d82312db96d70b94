import { parseSamplerConfig, type SamplerConfig } from '../lib/config';
import { ConfigError } from '../lib/errors';

/** The ConfigError a bad environment throws (fails the test if it does not throw one). */
function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    parseSamplerConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`parseSamplerConfig accepted ${JSON.stringify(env)}`);
}

describe('parseSamplerConfig', () => {
  const cases: [string, Record<string, string | undefined>, SamplerConfig][] = [
    ['defaults', {}, { metricNamespace: 'EKS/IPResponder', clusterNames: [], clusterConcurrency: 4 }],
    ['variables that are set but undefined are defaults too', { METRIC_NAMESPACE: undefined, CLUSTER_NAMES: undefined }, { metricNamespace: 'EKS/IPResponder', clusterNames: [], clusterConcurrency: 4 }],
    ['an empty CLUSTER_NAMES means every cluster', { CLUSTER_NAMES: '' }, { metricNamespace: 'EKS/IPResponder', clusterNames: [], clusterConcurrency: 4 }],
    ['one cluster', { CLUSTER_NAMES: 'prod' }, { metricNamespace: 'EKS/IPResponder', clusterNames: ['prod'], clusterConcurrency: 4 }],
    [
      'CLUSTER_NAMES split on commas, trimmed, empty entries dropped',
      { CLUSTER_NAMES: ' payments-prod , batch_dev,,0-edge ,' },
      { metricNamespace: 'EKS/IPResponder', clusterNames: ['payments-prod', 'batch_dev', '0-edge'], clusterConcurrency: 4 },
    ],
    ['a cluster name of 100 characters', { CLUSTER_NAMES: 'a'.repeat(100) }, { metricNamespace: 'EKS/IPResponder', clusterNames: ['a'.repeat(100)], clusterConcurrency: 4 }],
    ['every namespace character CloudWatch allows', { METRIC_NAMESPACE: 'Team-1/EKS_ip.v2:#' }, { metricNamespace: 'Team-1/EKS_ip.v2:#', clusterNames: [], clusterConcurrency: 4 }],
    ['CLUSTER_CONCURRENCY at its bounds: 1', { CLUSTER_CONCURRENCY: '1' }, { metricNamespace: 'EKS/IPResponder', clusterNames: [], clusterConcurrency: 1 }],
    ['CLUSTER_CONCURRENCY at its bounds: 16', { CLUSTER_CONCURRENCY: '16' }, { metricNamespace: 'EKS/IPResponder', clusterNames: [], clusterConcurrency: 16 }],
  ];
  it.each(cases)('%s', (_, env, expected) => {
    expect(parseSamplerConfig(env)).toEqual(expected);
  });

  it.each([
    ['a cluster name with a dot', 'CLUSTER_NAMES[1]', { CLUSTER_NAMES: 'prod,my.cluster' }],
    ['a cluster name starting with a hyphen', 'CLUSTER_NAMES[0]', { CLUSTER_NAMES: '-prod' }],
    ['a cluster name of 101 characters', 'CLUSTER_NAMES[0]', { CLUSTER_NAMES: 'a'.repeat(101) }],
    ['a namespace starting with AWS/', 'METRIC_NAMESPACE', { METRIC_NAMESPACE: 'AWS/EKS' }],
    ['an empty namespace', 'METRIC_NAMESPACE', { METRIC_NAMESPACE: '' }],
    ['a namespace with a space', 'METRIC_NAMESPACE', { METRIC_NAMESPACE: 'EKS IP' }],
    ['a namespace of 256 characters', 'METRIC_NAMESPACE', { METRIC_NAMESPACE: 'N'.repeat(256) }],
    ['CLUSTER_CONCURRENCY=0', 'CLUSTER_CONCURRENCY', { CLUSTER_CONCURRENCY: '0' }],
    ['CLUSTER_CONCURRENCY=17', 'CLUSTER_CONCURRENCY', { CLUSTER_CONCURRENCY: '17' }],
    ['CLUSTER_CONCURRENCY=2.5', 'CLUSTER_CONCURRENCY', { CLUSTER_CONCURRENCY: '2.5' }],
    ['CLUSTER_CONCURRENCY=four', 'CLUSTER_CONCURRENCY', { CLUSTER_CONCURRENCY: 'four' }],
    ['CLUSTER_CONCURRENCY empty', 'CLUSTER_CONCURRENCY', { CLUSTER_CONCURRENCY: '' }],
  ])('rejects %s, naming %s', (_, variable, env) => {
    const err = configErrorOf(env);
    expect(err.name).toBe('ConfigError');
    expect(err.problems.length).toBeGreaterThan(0);
    for (const problem of err.problems) expect(problem.startsWith(`${variable}: `)).toBe(true);
    expect(err.message).toContain(variable);
  });

  it('names every bad variable at once', () => {
    const err = configErrorOf({ METRIC_NAMESPACE: 'AWS/EKS', CLUSTER_NAMES: 'prod, bad.name, -worse', CLUSTER_CONCURRENCY: '0' });
    expect(err.problems.map((p) => p.split(':')[0])).toEqual(['METRIC_NAMESPACE', 'CLUSTER_NAMES[1]', 'CLUSTER_NAMES[2]', 'CLUSTER_CONCURRENCY']);
    for (const variable of ['METRIC_NAMESPACE', 'CLUSTER_NAMES[1]', 'CLUSTER_NAMES[2]', 'CLUSTER_CONCURRENCY']) {
      expect(err.message).toContain(variable);
    }
    expect(err.message).toContain('must not start with "AWS/"');
    expect(err.message).toContain('is not a valid EKS cluster name');
    expect(err.message.startsWith('invalid configuration: ')).toBe(true);
  });
});

describe('parseRuntimeConfig', () => {
  const { parseRuntimeConfig } = jest.requireActual<typeof import('../lib/config')>('../lib/config');
  const base = {
    ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:alerts',
    LEDGER_TABLE: 'eks-ip-responder-prod-ledger',
    POLICY_JSON: process.env.POLICY_JSON ?? '',
  };

  it('takes the defaults of everything optional', () => {
    const c = parseRuntimeConfig(base);
    expect(c).toMatchObject({
      topicArn: base.ALERT_TOPIC_ARN,
      ledgerTable: base.LEDGER_TABLE,
      alarmNamePrefix: 'eks-ip-responder-',
      forecastWindowHours: 24,
      periodSeconds: 300,
      renotifyAfterHours: 24,
      respondMinIntervalSeconds: 60,
      followForMs: 20_000,
      thresholds: { subnetFreeIpsWarning: 64, subnetFreeIpsCritical: 16 },
    });
    expect(c.policy.default.mode).toBe('dry-run');
  });

  it('names every problem at once, the policy\'s included', () => {
    try {
      parseRuntimeConfig({
        ALERT_TOPIC_ARN: 'not-an-arn',
        LEDGER_TABLE: base.LEDGER_TABLE,
        POLICY_JSON: '{"version": 1, "default": {"mode": "aply"}}',
        SUBNET_FREE_IPS_WARNING: '10',
        SUBNET_FREE_IPS_CRITICAL: '20',
        CLUSTER_NAMES: '-bad',
      });
      throw new Error('no error');
    } catch (err) {
      const problems = (err as { problems: string[] }).problems;
      expect(problems.some((p) => p.startsWith('ALERT_TOPIC_ARN: is not an SNS topic ARN'))).toBe(true);
      expect(problems.some((p) => p.startsWith('CLUSTER_NAMES'))).toBe(true);
      expect(problems).toContain('SUBNET_FREE_IPS_CRITICAL: must not be above SUBNET_FREE_IPS_WARNING');
      expect(problems.some((p) => p.startsWith('POLICY_JSON: default.mode'))).toBe(true);
    }
  });

  it('reads KUBERNETES_CLUSTERS: absent when unset, a list of names, or * for every cluster', () => {
    expect(parseRuntimeConfig(base).kubernetesClusters).toBeUndefined();
    expect(parseRuntimeConfig({ ...base, KUBERNETES_CLUSTERS: ' prod-a, prod_b ' }).kubernetesClusters).toEqual(['prod-a', 'prod_b']);
    expect(parseRuntimeConfig({ ...base, KUBERNETES_CLUSTERS: '*' }).kubernetesClusters).toBe('*');
    expect(() => parseRuntimeConfig({ ...base, KUBERNETES_CLUSTERS: 'prod-a,-bad' })).toThrow(/KUBERNETES_CLUSTERS/);
    expect(() => parseRuntimeConfig({ ...base, KUBERNETES_CLUSTERS: '*,prod-a' })).toThrow(/KUBERNETES_CLUSTERS/);
  });

  it('reads CENTRAL_TOPIC_ARN: absent when unset or empty, an SNS topic ARN, or a named problem', () => {
    expect(parseRuntimeConfig(base).centralTopicArn).toBeUndefined();
    expect(parseRuntimeConfig({ ...base, CENTRAL_TOPIC_ARN: '' }).centralTopicArn).toBeUndefined();
    const arn = 'arn:aws:sns:us-east-1:999988887777:eks-ip-responder-central';
    expect(parseRuntimeConfig({ ...base, CENTRAL_TOPIC_ARN: arn }).centralTopicArn).toBe(arn);
    expect(() => parseRuntimeConfig({ ...base, CENTRAL_TOPIC_ARN: 'eks-ip-responder-central' })).toThrow(/CENTRAL_TOPIC_ARN: is not an SNS topic ARN/);
  });

  it('names a policy problem with its path', () => {
    expect(() => parseRuntimeConfig({ ...base, POLICY_JSON: '{"version": 1, "default": {"mode": "aply"}}' })).toThrow(/POLICY_JSON: default\.mode: must be one of observe, dry-run, apply/);
  });

  describe('the policy', () => {
    const { policyVersion } = jest.requireActual<typeof import('../lib/policy/load')>('../lib/policy/load');
    const bundled = JSON.stringify({ version: 1, default: { ...JSON.parse(JSON.stringify(parseRuntimeConfig(base).policy.default)), mode: 'observe' }, clusters: {} });
    const withoutOverride = { ALERT_TOPIC_ARN: base.ALERT_TOPIC_ARN, LEDGER_TABLE: base.LEDGER_TABLE };

    it('is the bundled one when POLICY_JSON is not set, with its version', () => {
      const c = parseRuntimeConfig({ ...withoutOverride, POLICY_VERSION: policyVersion(bundled) }, bundled);
      expect(c.policy.default.mode).toBe('observe');
      expect(c.policySource).toEqual({ from: 'bundle', version: policyVersion(bundled) });
    });

    it('is POLICY_JSON when set, over the bundled one', () => {
      const c = parseRuntimeConfig(base, bundled);
      expect(c.policy.default.mode).toBe('dry-run');
      expect(c.policySource.from).toBe('POLICY_JSON');
    });

    it('refuses a bundled policy whose version is not POLICY_VERSION (package and configuration of two deploys)', () => {
      expect(() => parseRuntimeConfig({ ...withoutOverride, POLICY_VERSION: 'abcdefabcdef' }, bundled)).toThrow(
        `POLICY_VERSION: is abcdefabcdef, but the bundled policy is version ${policyVersion(bundled)}`,
      );
    });

    it('names a bad bundled policy as such', () => {
      expect(() => parseRuntimeConfig(withoutOverride, '{"version": 1, "default": {"mode": "aply"}}')).toThrow(/bundled policy: default\.mode/);
    });

    it('is required from one of the two', () => {
      expect(() => parseRuntimeConfig(withoutOverride)).toThrow(/POLICY_JSON: is required when no policy is bundled/);
    });
  });

  it('requires the topic, the table and the policy', () => {
    expect(() => parseRuntimeConfig({})).toThrow(/ALERT_TOPIC_ARN.*LEDGER_TABLE.*POLICY_JSON/s);
  });
});

describe('parseSamplerConfig: the functions’ placement (FUNCTION_SUBNET_IDS, FUNCTION_SECURITY_GROUP_IDS)', () => {
  it('is unknown without the variables, not in a VPC when they are empty, the lists otherwise', () => {
    expect(parseSamplerConfig({}).functionPlacement).toBeUndefined();
    expect(parseSamplerConfig({ FUNCTION_SUBNET_IDS: '', FUNCTION_SECURITY_GROUP_IDS: '' }).functionPlacement).toEqual({ subnetIds: [], securityGroupIds: [] });
    expect(
      parseSamplerConfig({ FUNCTION_SUBNET_IDS: 'subnet-0123456789abcdef0, subnet-0123456789abcdef1', FUNCTION_SECURITY_GROUP_IDS: 'sg-0123456789abcdef0' }).functionPlacement,
    ).toEqual({ subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], securityGroupIds: ['sg-0123456789abcdef0'] });
  });

  it('refuses one without the other, and ids that are not EC2 ids', () => {
    expect(configErrorOf({ FUNCTION_SUBNET_IDS: 'subnet-0123456789abcdef0', FUNCTION_SECURITY_GROUP_IDS: '' }).message).toContain(
      'FUNCTION_SUBNET_IDS and FUNCTION_SECURITY_GROUP_IDS: a VPC placement has both subnets and security groups, or neither',
    );
    expect(configErrorOf({ FUNCTION_SUBNET_IDS: 'subnet-1', FUNCTION_SECURITY_GROUP_IDS: 'sg-0123456789abcdef0' }).message).toContain('FUNCTION_SUBNET_IDS[0]');
  });
});

describe('parseRuntimeConfig: the central policy (CENTRAL_POLICY)', () => {
  const { parseRuntimeConfig } = jest.requireActual<typeof import('../lib/config')>('../lib/config');
  const base = { ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:alerts', LEDGER_TABLE: 'eks-ip-responder-prod-ledger', POLICY_JSON: process.env.POLICY_JSON ?? '' };

  it('is none when unset or empty, and read every 5 minutes by default', () => {
    for (const env of [base, { ...base, CENTRAL_POLICY: '' }]) {
      const c = parseRuntimeConfig(env);
      expect(c.centralPolicy).toBeUndefined();
      expect(c.centralPolicyCacheMs).toBe(300_000);
    }
  });

  it('takes an SSM parameter ARN or an s3:// object, and the cache period', () => {
    const arn = 'arn:aws:ssm:eu-west-1:999988887777:parameter/eks-ip-responder/policy';
    expect(parseRuntimeConfig({ ...base, CENTRAL_POLICY: arn, CENTRAL_POLICY_CACHE_SECONDS: '600' })).toMatchObject({
      centralPolicy: { kind: 'ssm', arn, region: 'eu-west-1' },
      centralPolicyCacheMs: 600_000,
    });
    expect(parseRuntimeConfig({ ...base, CENTRAL_POLICY: 's3://b-1/k.json' }).centralPolicy).toMatchObject({ kind: 's3', bucket: 'b-1', key: 'k.json' });
  });

  it('refuses to start with a malformed location or cache period, naming the variable', () => {
    expect(() => parseRuntimeConfig({ ...base, CENTRAL_POLICY: 'my-parameter', CENTRAL_POLICY_CACHE_SECONDS: '5' })).toThrow(ConfigError);
    try {
      parseRuntimeConfig({ ...base, CENTRAL_POLICY: 'my-parameter', CENTRAL_POLICY_CACHE_SECONDS: '5' });
    } catch (err) {
      expect((err as ConfigError).problems).toEqual(
        expect.arrayContaining([expect.stringMatching(/^CENTRAL_POLICY: "my-parameter" must be empty, an SSM parameter ARN/), expect.stringMatching(/^CENTRAL_POLICY_CACHE_SECONDS: /)]),
      );
    }
  });
});

describe('parseRuntimeConfig: the heap growth (HEAP_GROWING_PERCENT)', () => {
  const { parseRuntimeConfig } = jest.requireActual<typeof import('../lib/config')>('../lib/config');
  const base = { ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:alerts', LEDGER_TABLE: 'eks-ip-responder-prod-ledger', POLICY_JSON: process.env.POLICY_JSON ?? '' };

  it("is 100 by default, 0 for V8's own, and refuses what is not a whole percent up to 300, naming the variable", () => {
    expect(parseRuntimeConfig(base).heapGrowingPercent).toBe(100);
    expect(parseRuntimeConfig({ ...base, HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent).toBe(0);
    for (const bad of ['-5', '1.5', '400', 'lots']) {
      expect(() => parseRuntimeConfig({ ...base, HEAP_GROWING_PERCENT: bad })).toThrow(/HEAP_GROWING_PERCENT/);
    }
  });
});
