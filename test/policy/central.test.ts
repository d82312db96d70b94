/**
 * The central policy's pure rules: where it may be, how the packaged policy caps it (each refused
 * part named, the rest kept), the same validation and messages as the bundled policy, and what is
 * in force when it is unavailable (nothing acts; never a more permissive policy).
 */
import path from 'node:path';
import {
  actingOnNothing,
  centralPolicyInForce,
  LAST_GOOD_MAX_AGE_MS,
  narrowToCeiling,
  parseCentralPolicyLocation,
  unavailableInForce,
  type CentralPolicyLocation,
} from '../../lib/policy/central';
import { effectivePolicy, parsePolicyJson, policyJson, policyVersion } from '../../lib/policy/load';
import { PolicyError, type Policy } from '../../lib/policy/types';
import { readPolicyFile } from '../../lib/policy/yaml';

const REPO_POLICY = readPolicyFile(path.join(__dirname, '..', '..', 'policy.yml'));
const ARN = 'arn:aws:ssm:eu-west-1:999988887777:parameter/eks-ip-responder/policy';
const SSM = parseCentralPolicyLocation(ARN) as CentralPolicyLocation;

/** The repository's policy with payments-prod changed by `change`. */
function withProd(change: (prod: Record<string, unknown>) => void, base: Policy = REPO_POLICY): Policy {
  const copy = structuredClone(base);
  const prod = (copy.clusters['payments-prod'] ?? {}) as Record<string, unknown>;
  change(prod);
  copy.clusters['payments-prod'] = prod;
  return copy;
}
const apply = (prod: Record<string, unknown>) => (prod.mode = 'apply');
const CEILING = withProd(apply);

describe('parseCentralPolicyLocation', () => {
  it.each([
    ['', undefined],
    ['  ', undefined],
    [ARN, { kind: 'ssm', arn: ARN, partition: 'aws', region: 'eu-west-1', account: '999988887777', name: 'eks-ip-responder/policy' }],
    ['arn:aws-cn:ssm:cn-north-1:999988887777:parameter/p', { kind: 'ssm', partition: 'aws-cn', region: 'cn-north-1', name: 'p' }],
    ['s3://org-policies/eks-ip-responder/policy.json', { kind: 's3', bucket: 'org-policies', key: 'eks-ip-responder/policy.json' }],
  ])('takes %j', (value, expected) => {
    const parsed = parseCentralPolicyLocation(value);
    if (expected === undefined) expect(parsed).toBeUndefined();
    else expect(parsed).toMatchObject(expected);
  });

  it.each([
    'eks-ip-responder/policy', // a name: a shared parameter is read by its full ARN only
    'arn:aws:ssm:eu-west-1:999988887777:parameter/',
    'arn:aws:ssm:eu-west-1:9999:parameter/p',
    'arn:aws:s3:::bucket/key',
    's3://Bucket/key',
    's3://bucket',
    's3://bucket/',
    'https://bucket.s3.amazonaws.com/key',
    // IAM wildcards and policy variables: the key is the Resource of the s3:GetObject grant.
    's3://bucket/*',
    's3://bucket/policies/*.json',
    's3://bucket/polic?.json',
    's3://bucket/${aws:username}',
    's3://bucket/a\u0000b',
    'arn:aws:ssm:eu-west-1:999988887777:parameter/*',
    'arn:aws:ssm:eu-west-1:999988887777:parameter/p?',
  ])('refuses %j, naming the forms it may take', (value) => {
    expect(() => parseCentralPolicyLocation(value)).toThrow(PolicyError);
    expect(() => parseCentralPolicyLocation(value)).toThrow(/^centralPolicy: .* must be empty, an SSM parameter ARN \(arn:aws:ssm:/);
  });
});

describe('narrowToCeiling', () => {
  it('keeps a central policy within the packaged one as it is', () => {
    const central = withProd((p) => {
      apply(p);
      (p.actions as Record<string, unknown>).prefixDelegation = { allowed: false };
    });
    const { policy, refused } = narrowToCeiling(central, CEILING);
    expect(refused).toEqual([]);
    expect(effectivePolicy(policy, 'payments-prod')).toEqual(effectivePolicy(central, 'payments-prod'));
  });

  it('refuses apply on a cluster the packaged policy does not have in apply, and keeps it in dry-run', () => {
    const central = withProd(apply, REPO_POLICY);
    const { policy, refused } = narrowToCeiling(central, REPO_POLICY);
    expect(refused).toEqual([
      'clusters.payments-prod.mode: apply refused: beyond the packaged policy (dry-run there): payments-prod runs in dry-run',
    ]);
    expect(effectivePolicy(policy, 'payments-prod').mode).toBe('dry-run');
  });

  it('refuses an action kind the packaged policy does not allow, naming it, and keeps the others', () => {
    const central = withProd((p) => {
      apply(p);
      (p.actions as Record<string, unknown>).leakedEnis = { allowed: true };
    });
    const { policy, refused } = narrowToCeiling(central, CEILING);
    expect(refused).toEqual([
      'clusters.payments-prod.actions.leakedEnis.allowed: true refused: beyond the packaged policy (not allowed there): not allowed',
    ]);
    const prod = effectivePolicy(policy, 'payments-prod');
    expect(prod.mode).toBe('apply');
    expect(prod.actions.leakedEnis.allowed).toBe(false);
    expect(prod.actions.warmTargets.allowed).toBe(true);
  });

  it('drops the subnets and instance types the packaged policy does not list, naming them', () => {
    const central = withProd((p) => {
      apply(p);
      const actions = p.actions as Record<string, Record<string, unknown>>;
      actions.cniSubnets = { ...actions.cniSubnets, spareSubnets: ['subnet-0c55317ef17156075', 'subnet-0aaaaaaaaaaaaaaaa'] };
      actions.instanceTypes = { ...actions.instanceTypes, allowedTypes: ['m5', 'x2idn'] };
    });
    const { policy, refused } = narrowToCeiling(central, CEILING);
    expect(refused).toEqual([
      'clusters.payments-prod.actions.cniSubnets.spareSubnets: subnet-0aaaaaaaaaaaaaaaa refused: beyond the packaged policy (not listed there): left out',
      'clusters.payments-prod.actions.instanceTypes.allowedTypes: x2idn refused: beyond the packaged policy (not listed there): left out',
    ]);
    const prod = effectivePolicy(policy, 'payments-prod');
    expect(prod.actions.cniSubnets.spareSubnets).toEqual(['subnet-0c55317ef17156075']);
    expect(prod.actions.instanceTypes.allowedTypes).toEqual(['m5']);
  });

  it('holds every number that bounds how much an action does to the packaged one, naming each', () => {
    const central = withProd((p) => {
      apply(p);
      p.actions = {
        ...(p.actions as Record<string, unknown>),
        warmTargets: { cooldownMinutes: 0, warmIpTarget: { min: 0, max: 250 }, ipamdCallsPerMinuteMax: 300, podStartsPerNodePerMinute: 0 },
        prefixDelegation: { maxPods: { max: 250 }, overlapMarginIps: 0 },
        cniSubnets: { spareSubnets: ['subnet-0c55317ef17156075'], maxSubnetsPerAction: 200 },
        instanceTypes: { allowedTypes: ['m5'], maxInstanceTypes: 20, overlapMarginIps: 0, maxCapacityIncreasePercent: 1000 },
      };
    });
    const ceiling = withProd((p) => {
      apply(p);
      p.actions = {
        ...(p.actions as Record<string, unknown>),
        prefixDelegation: { maxPods: { max: 110 } },
        warmTargets: { ipamdCallsPerMinuteMax: 30 },
      };
    });
    const { policy, refused } = narrowToCeiling(central, ceiling);
    const prod = effectivePolicy(policy, 'payments-prod');
    const packaged = effectivePolicy(ceiling, 'payments-prod');
    expect(prod.actions.warmTargets).toMatchObject({
      allowed: true,
      cooldownMinutes: packaged.actions.warmTargets.cooldownMinutes,
      warmIpTarget: packaged.actions.warmTargets.warmIpTarget,
      ipamdCallsPerMinuteMax: 30,
      podStartsPerNodePerMinute: 0.5,
    });
    expect(prod.actions.prefixDelegation).toMatchObject({ maxPods: { min: 1, max: 110 }, overlapMarginIps: 16 });
    expect(prod.actions.cniSubnets.maxSubnetsPerAction).toBe(packaged.actions.cniSubnets.maxSubnetsPerAction);
    expect(prod.actions.instanceTypes).toMatchObject({ maxInstanceTypes: 3, overlapMarginIps: 16, maxCapacityIncreasePercent: 25 });
    expect(refused).toContain('clusters.payments-prod.actions.warmTargets.cooldownMinutes: 0 refused: beyond the packaged policy (at least 60 there): 60');
    expect(refused).toContain('clusters.payments-prod.actions.warmTargets.warmIpTarget.max: 250 refused: beyond the packaged policy (at most 16 there): 16');
    expect(refused).toContain('clusters.payments-prod.actions.prefixDelegation.maxPods.max: 250 refused: beyond the packaged policy (at most 110 there): 110');
    expect(refused).toHaveLength(11);
  });

  it('holds the leaked-ENI age and count, and the reservation size, to the packaged ones', () => {
    const allowing = (p: Record<string, unknown>) => {
      apply(p);
      const actions = p.actions as Record<string, unknown>;
      actions.leakedEnis = { allowed: true, minAgeMinutes: 240, maxEnisPerAction: 5 };
      actions.subnetReservations = { allowed: true, subnets: ['subnet-0c55317ef17156075'], minBlocks: 4, maxReservationsPerAction: 1 };
    };
    const central = withProd((p) => {
      allowing(p);
      const actions = p.actions as Record<string, unknown>;
      actions.leakedEnis = { allowed: true, minAgeMinutes: 60, maxEnisPerAction: 100 };
      actions.subnetReservations = { allowed: true, subnets: ['subnet-0c55317ef17156075'], minBlocks: 1, maxReservationsPerAction: 5 };
    });
    const prod = effectivePolicy(narrowToCeiling(central, withProd(allowing)).policy, 'payments-prod');
    expect(prod.actions.leakedEnis).toMatchObject({ allowed: true, minAgeMinutes: 240, maxEnisPerAction: 5 });
    expect(prod.actions.subnetReservations).toMatchObject({ allowed: true, minBlocks: 4, maxReservationsPerAction: 1 });
  });

  it('does not allow an action whose central bounds and packaged bounds have no value in common', () => {
    const central = withProd((p) => {
      apply(p);
      (p.actions as Record<string, unknown>).warmTargets = { warmIpTarget: { min: 20, max: 30 } };
    });
    const { policy, refused } = narrowToCeiling(central, CEILING);
    expect(refused).toContain('clusters.payments-prod.actions.warmTargets.warmIpTarget: no value within both the central and the packaged bounds: not allowed');
    expect(effectivePolicy(policy, 'payments-prod').actions.warmTargets.allowed).toBe(false);
  });

  it('gives pod ENIs only security groups the packaged policy names', () => {
    const sg = (p: Record<string, unknown>, groups?: string[]) => {
      apply(p);
      const actions = p.actions as Record<string, Record<string, unknown>>;
      actions.eniConfigs = { ...actions.eniConfigs, ...(groups ? { securityGroups: groups } : {}) };
    };
    const named = withProd((p) => sg(p, ['sg-0123456789abcdef0', 'sg-0fffffffffffffff0']));
    // The packaged policy leaves them out (the cluster security group): a central list is dropped.
    const dropped = effectivePolicy(narrowToCeiling(named, CEILING).policy, 'payments-prod').actions.eniConfigs;
    expect(dropped).toMatchObject({ allowed: true });
    expect(dropped?.securityGroups).toBeUndefined();
    // The packaged policy names one: the other is left out.
    const ceiling = withProd((p) => sg(p, ['sg-0123456789abcdef0']));
    expect(effectivePolicy(narrowToCeiling(named, ceiling).policy, 'payments-prod').actions.eniConfigs).toMatchObject({
      allowed: true,
      securityGroups: ['sg-0123456789abcdef0'],
    });
    // The central policy names none of them (the cluster security group): not allowed.
    const cluster = withProd((p) => sg(p));
    expect(effectivePolicy(narrowToCeiling(cluster, ceiling).policy, 'payments-prod').actions.eniConfigs?.allowed).toBe(false);
  });

  it('leaves clusters that are not in apply mode alone: they change nothing', () => {
    const central = withProd((p) => ((p.actions as Record<string, unknown>).leakedEnis = { allowed: true }));
    expect(narrowToCeiling(central, REPO_POLICY).refused).toEqual([]);
  });
});

describe('actingOnNothing', () => {
  it('puts every cluster in apply mode in dry-run, and changes nothing else', () => {
    const policy = actingOnNothing(CEILING);
    expect(effectivePolicy(policy, 'payments-prod')).toEqual({ ...effectivePolicy(CEILING, 'payments-prod'), mode: 'dry-run' });
    expect(effectivePolicy(policy, 'any-other').mode).toBe(effectivePolicy(CEILING, 'any-other').mode);
  });
});

describe('centralPolicyInForce', () => {
  it("is the central policy, its version that of its JSON, and where it came from", () => {
    const text = policyJson(CEILING, 'central');
    const inForce = centralPolicyInForce(text, SSM, CEILING, '7');
    expect(inForce.source).toEqual({ from: 'central', version: policyVersion(text), location: ARN, revision: '7' });
    expect(inForce.problems).toEqual([]);
    expect(inForce.policy).toEqual(parsePolicyJson(text, 'x'));
  });

  it('validates exactly as the bundled policy is: the same problems, the same words', () => {
    const bad = JSON.stringify({ version: 1, default: { mode: 'apply', thresholds: {}, actions: {} }, clusters: { 'bad name!': {} } });
    let bundled: PolicyError | undefined;
    try {
      parsePolicyJson(bad, 'bundled policy');
    } catch (err) {
      bundled = err as PolicyError;
    }
    expect(bundled?.problems.length).toBeGreaterThan(1);
    expect(() => centralPolicyInForce(bad, SSM, CEILING)).toThrow(PolicyError);
    try {
      centralPolicyInForce(bad, SSM, CEILING);
    } catch (err) {
      expect((err as PolicyError).problems).toEqual(bundled?.problems);
      expect((err as PolicyError).message).toContain(`invalid remediation policy central policy ${ARN}`);
    }
    expect(() => centralPolicyInForce('version: 1\ndefault: {}', SSM, CEILING)).toThrow(/\(top level\): not JSON/);
  });

  it('refuses a document above the size the bundled policy may take', () => {
    expect(() => centralPolicyInForce(' '.repeat(65_537), SSM, CEILING)).toThrow(/65537 bytes, above the 65536 bytes/);
  });
});

describe('unavailableInForce', () => {
  const packaged = { policy: CEILING, source: { from: 'bundle' as const, version: 'aaaaaaaaaaaa' }, problems: [] };
  const text = policyJson(withProd((p) => ((p.thresholds as unknown) = { subnetFreeIpsCritical: 8 }), CEILING), 'c');
  const last = { inForce: centralPolicyInForce(text, SSM, CEILING), at: 0 };

  it('acts on nothing, planned with the last central policy while it is younger than an hour', () => {
    const u = unavailableInForce('AccessDeniedException: no', SSM, packaged, last, LAST_GOOD_MAX_AGE_MS);
    expect(u.unavailable).toBe(true);
    expect(effectivePolicy(u.policy, 'payments-prod').mode).toBe('dry-run');
    expect(effectivePolicy(u.policy, 'payments-prod').thresholds.subnetFreeIpsCritical).toBe(8);
    expect(u.source.from).toBe('central');
    expect(u.problems).toEqual([
      `central policy ${ARN} unavailable: AccessDeniedException: no; acting on nothing (every cluster in dry-run, planned with the last central policy read (version ${policyVersion(text)}, 60 min ago))`,
    ]);
  });

  it('falls back to the packaged policy, in dry-run, once the last central policy is older', () => {
    const u = unavailableInForce('ParameterNotFound', SSM, packaged, last, LAST_GOOD_MAX_AGE_MS + 1);
    expect(u.source).toEqual(packaged.source);
    expect(effectivePolicy(u.policy, 'payments-prod').mode).toBe('dry-run');
    expect(u.problems[0]).toMatch(/acting on nothing \(every cluster in dry-run, planned with the packaged policy\)$/);
  });
});
