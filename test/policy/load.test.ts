import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { IPV4_ADDRESSES_PER_PREFIX, kubeletMaxPodsCap, networkCapacityOf } from '../../lib/capacity/instance-type';
import { knownInstanceTypes } from '../../lib/capacity/known-instance-types';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import { closestClusterNames, effectivePolicy, POLICY_FILE_MAX_BYTES, POLICY_MAX_BYTES, policyJson, type Policy } from '../../lib/policy/load';
import { parsePolicy, readPolicyFile } from '../../lib/policy/yaml';
import { MAX_PODS_LIMIT, RANGES } from '../../lib/policy/schema';
import { DEFAULT_ENI_CONFIGS_POLICY, DEFAULT_KARPENTER_INSTANCE_TYPES_POLICY, DEFAULT_KARPENTER_SUBNETS_POLICY, DEFAULT_MAX_CAPACITY_INCREASE_PERCENT, DEFAULT_OVERLAP_MARGIN_IPS, DEFAULT_SUBNET_RESERVATIONS_POLICY, PolicyError, type ActionsPolicy } from '../../lib/policy/types';

const REPO_POLICY = resolve(__dirname, '..', '..', 'policy.yml');

/** A complete, valid policy as the YAML parser would hand it over; each case changes a copy. */
const VALID = {
  version: 1,
  default: {
    mode: 'dry-run',
    thresholds: {},
    actions: {
      warmTargets: { allowed: true, cooldownMinutes: 60, warmIpTarget: { min: 1, max: 16 }, minimumIpTarget: { min: 0, max: 64 } },
      prefixDelegation: { allowed: true, cooldownMinutes: 1440, warmPrefixTarget: { min: 0, max: 2 }, maxPods: { min: 1, max: 250 }, overlapMarginIps: 16 },
      cniSubnets: { allowed: true, cooldownMinutes: 60, spareSubnets: [] as string[], maxSubnetsPerAction: 3 },
      instanceTypes: {
        allowed: true,
        cooldownMinutes: 1440,
        allowedTypes: [] as string[],
        maxInstanceTypes: 3,
        overlapMarginIps: 16,
        maxCapacityIncreasePercent: 25,
      },
    },
  },
  clusters: {} as Record<string, unknown>,
};

type Raw = typeof VALID & Record<string, unknown>;

function policyText(change: (p: Raw) => void = () => undefined): string {
  const p = structuredClone(VALID) as Raw;
  change(p);
  return stringify(p);
}

/** The problems named for `text`, without their "(line N)" suffix; [] when it is valid. */
function problemsOf(text: string): string[] {
  try {
    parsePolicy(text, 'policy.yml');
    return [];
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    return err.problems.map((p) => p.replace(/ \(line \d+\)$/, ''));
  }
}

describe('the repository policy.yml', () => {
  it('is valid (this is how `npm test` validates it)', () => {
    expect(() => readPolicyFile(REPO_POLICY)).not.toThrow();
  });

  it('defaults to dry-run with every action allowed and nothing to tag or launch', () => {
    const policy = readPolicyFile(REPO_POLICY);
    expect(policy.default.mode).toBe('dry-run');
    expect(policy.default.actions.cniSubnets.spareSubnets).toEqual([]);
    expect(policy.default.actions.instanceTypes.allowedTypes).toEqual([]);
    // Every action allowed but those a new action kind starts without (issue 13).
    const { subnetReservations, leakedEnis, karpenterSubnets, karpenterInstanceTypes, eniConfigs, ...others } = policy.default.actions;
    expect(Object.values(others).every((a) => a.allowed)).toBe(true);
    // Issue 14: the Karpenter actions start not allowed, with empty allow lists.
    expect([karpenterSubnets?.allowed, karpenterSubnets?.nodeClasses, karpenterInstanceTypes?.allowed, karpenterInstanceTypes?.nodePools]).toEqual([false, [], false, []]);
    expect(subnetReservations).toEqual({ allowed: false, cooldownMinutes: 1440, subnets: [], maxReservationsPerAction: 2, minBlocks: 2 });
    expect(leakedEnis.allowed).toBe(false);
    // Issue 14: custom networking is left out (commented) in policy.yml: not allowed.
    expect(eniConfigs).toEqual(DEFAULT_ENI_CONFIGS_POLICY);
  });

  it('lets the demo cluster payments-prod plan subnet and instance-type actions, in dry-run', () => {
    const policy = readPolicyFile(REPO_POLICY);
    const payments = effectivePolicy(policy, 'payments-prod');
    expect(payments.mode).toBe('dry-run');
    expect(payments.actions.cniSubnets.spareSubnets).toEqual(['subnet-0c55317ef17156075']);
    expect(payments.actions.instanceTypes.allowedTypes).toEqual(['m5', 'm6i', 'm7i']);
    expect(effectivePolicy(policy, 'batch-dev')).toEqual({ ...effectivePolicy(policy, 'none'), cluster: 'batch-dev' });
    expect(effectivePolicy(policy, 'batch-dev').actions.cniSubnets.spareSubnets).toEqual([]);
  });

  it('sets the replacement keys to their documented defaults (16 addresses of margin, +25 % capacity)', () => {
    const { instanceTypes, prefixDelegation } = readPolicyFile(REPO_POLICY).default.actions;
    expect([instanceTypes.overlapMarginIps, instanceTypes.maxCapacityIncreasePercent, prefixDelegation.overlapMarginIps]).toEqual([16, 25, 16]);
    expect([DEFAULT_OVERLAP_MARGIN_IPS, DEFAULT_MAX_CAPACITY_INCREASE_PERCENT]).toEqual([16, 25]);
  });

  it('fits the bound with room to spare', () => {
    expect(policyJson(readPolicyFile(REPO_POLICY), 'policy.yml').length).toBeLessThan(POLICY_MAX_BYTES / 16);
  });
});

describe('parsePolicy', () => {
  it('accepts the valid policy and returns it with the thresholds partial', () => {
    const policy = parsePolicy(policyText(), 'policy.yml');
    expect(policy.default.mode).toBe('dry-run');
    expect(policy.default.thresholds).toEqual({});
    expect(policy.clusters).toEqual({});
  });

  it.each<[string, (p: Raw) => void, string[]]>([
    ['an unknown key, with the likely one', (p) => { p.default.actions.warmTargets = { ...p.default.actions.warmTargets, warmIPTarget: { min: 1, max: 2 } } as never; },
      ['default.actions.warmTargets.warmIPTarget: unknown key (did you mean warmIpTarget?)']],
    ['an unknown key at the top level', (p) => { p['cluster'] = {}; }, ['cluster: unknown key (did you mean clusters?)']],
    ['an unknown key in a cluster entry', (p) => { p.clusters['prod'] = { actions: { warmTargets: { cooldown: 5 } } }; },
      ['clusters.prod.actions.warmTargets.cooldown: unknown key']],
    ['min above max in the default', (p) => { p.default.actions.prefixDelegation.warmPrefixTarget = { min: 3, max: 2 }; },
      ['default.actions.prefixDelegation.warmPrefixTarget: min 3 is above max 2']],
    ['min above the default max, in a cluster', (p) => { p.clusters['prod'] = { actions: { warmTargets: { warmIpTarget: { min: 20 } } } }; },
      ['clusters.prod.actions.warmTargets.warmIpTarget: min 20 is above max 16']],
    ['max pods of 0', (p) => { p.default.actions.prefixDelegation.maxPods.min = 0; },
      ['default.actions.prefixDelegation.maxPods.min: must be a whole number from 1 to 250, not 0 (a node needs at least 1; EKS managed node groups cap max pods at 250, and at 110 below 30 vCPUs)']],
    ['a bad mode', (p) => { p.default.mode = 'aply'; }, ['default.mode: must be one of observe, dry-run, apply, not "aply"']],
    ['a bad mode in a cluster', (p) => { p.clusters['prod'] = { mode: 'enforce' }; },
      ['clusters.prod.mode: must be one of observe, dry-run, apply, not "enforce"']],
    ['a truncated subnet id', (p) => { p.default.actions.cniSubnets.spareSubnets = ['subnet-0c55317ef1715607']; },
      ['default.actions.cniSubnets.spareSubnets[0]: is not a subnet id (subnet- and 8 or 17 hex digits)']],
    ['a subnet listed twice', (p) => { p.default.actions.cniSubnets.spareSubnets = ['subnet-12345678', 'subnet-12345678']; },
      ['default.actions.cniSubnets.spareSubnets[1]: subnet-12345678 is listed twice']],
    ['a bad instance family', (p) => { p.clusters['prod'] = { actions: { instanceTypes: { allowedTypes: ['m6i', 'M5', 'm5.huge'] } } }; },
      ['clusters.prod.actions.instanceTypes.allowedTypes[1]: is not an instance family or type (e.g. m6i, m6i.xlarge, c7g.2xlarge)',
        'clusters.prod.actions.instanceTypes.allowedTypes[2]: is not an instance family or type (e.g. m6i, m6i.xlarge, c7g.2xlarge)']],
    ['a negative cooldown', (p) => { p.default.actions.cniSubnets.cooldownMinutes = -5; },
      ['default.actions.cniSubnets.cooldownMinutes: must be a whole number from 0 to 43200, not -5 (43200 minutes is 30 days)']],
    ['a fractional cooldown', (p) => { p.default.actions.warmTargets.cooldownMinutes = 1.5; },
      ['default.actions.warmTargets.cooldownMinutes: must be a whole number from 0 to 43200, not 1.5 (43200 minutes is 30 days)']],
    ['a string where a number goes', (p) => { p.default.actions.instanceTypes.maxInstanceTypes = 'three' as never; },
      ['default.actions.instanceTypes.maxInstanceTypes: must be a number, not "three"']],
    ['a missing field of the default', (p) => { delete (p.default.actions.cniSubnets as Partial<typeof p.default.actions.cniSubnets>).maxSubnetsPerAction; },
      ['default.actions.cniSubnets.maxSubnetsPerAction: is required']],
    ['a negative overlap margin', (p) => { p.default.actions.instanceTypes.overlapMarginIps = -1; },
      ['default.actions.instanceTypes.overlapMarginIps: must be a whole number from 0 to 65531, not -1 (a /16, the largest subnet, has 65531 usable addresses)']],
    ['a fractional capacity bound', (p) => { p.default.actions.instanceTypes.maxCapacityIncreasePercent = 12.5; },
      ['default.actions.instanceTypes.maxCapacityIncreasePercent: must be a whole number from 0 to 1000, not 12.5 (growth beyond ten-fold is a new capacity plan, not a remediation)']],
    ['a capacity bound written as a percentage string', (p) => { p.clusters['prod'] = { actions: { instanceTypes: { maxCapacityIncreasePercent: '50%' } } }; },
      ['clusters.prod.actions.instanceTypes.maxCapacityIncreasePercent: must be a number, not "50%"']],
    ['a missing replacement key of the default', (p) => { delete (p.default.actions.instanceTypes as Partial<typeof p.default.actions.instanceTypes>).maxCapacityIncreasePercent; },
      ['default.actions.instanceTypes.maxCapacityIncreasePercent: is required']],
    ['a missing rollout margin of the default', (p) => { delete (p.default.actions.prefixDelegation as Partial<typeof p.default.actions.prefixDelegation>).overlapMarginIps; },
      ['default.actions.prefixDelegation.overlapMarginIps: is required']],
    ['a misspelt margin in a cluster', (p) => { p.clusters['prod'] = { actions: { prefixDelegation: { overlapMarginIp: 8 } } }; },
      ['clusters.prod.actions.prefixDelegation.overlapMarginIp: unknown key (did you mean overlapMarginIps?)']],
    ['a boolean written as yes', (p) => { p.default.actions.warmTargets.allowed = 'yes' as never; },
      ['default.actions.warmTargets.allowed: must be true or false, not "yes"']],
    ['a wrong version', (p) => { p.version = 2; }, ['version: must be 1, not 2']],
    ['a cluster name EKS would refuse', (p) => { p.clusters['prod.eu'] = {}; },
      ['clusters.prod.eu: is not a valid EKS cluster name (1-100 letters, digits, - and _, starting with a letter or digit)']],
    ['a threshold out of range', (p) => { p.default.thresholds = { heldByOthersShare: 1.5 }; },
      ['default.thresholds.heldByOthersShare: must be between 0 and 1, not 1.5']],
    ['critical above the default warning', (p) => { p.default.thresholds = { subnetFreeIpsCritical: 65 }; },
      ['default.thresholds.subnetFreeIpsCritical: 65 is above subnetFreeIpsWarning 64 (critical must be at or below warning)']],
    ['a warning share above the critical share, in a cluster', (p) => { p.clusters['prod'] = { thresholds: { nodesAtIpLimitWarningShare: 0.8 } }; },
      ['clusters.prod.thresholds.nodesAtIpLimitWarningShare: 0.8 is above nodesAtIpLimitCriticalShare 0.75 (warning must be at or below critical)']],
  ])('names %s with its path', (_name, change, expected) => {
    expect(problemsOf(policyText(change))).toEqual(expected);
  });

  it('names every problem at once, across the default and several clusters', () => {
    const problems = problemsOf(
      policyText((p) => {
        p.default.mode = 'aply';
        p.default.actions.cniSubnets.cooldownMinutes = -1;
        p.clusters['a'] = { mode: 'apply', actions: { cniSubnets: { spareSubnets: ['subnet-xyz'] } } };
        // An entry with a problem of its own still has its relations checked.
        p.clusters['b'] = { mode: 'nope', actions: { warmTargets: { warmIpTarget: { min: 20 } } } };
      }),
    );
    expect(problems).toEqual([
      'default.mode: must be one of observe, dry-run, apply, not "aply"',
      'default.actions.cniSubnets.cooldownMinutes: must be a whole number from 0 to 43200, not -1 (43200 minutes is 30 days)',
      'clusters.a.actions.cniSubnets.spareSubnets[0]: is not a subnet id (subnet- and 8 or 17 hex digits)',
      'clusters.b.mode: must be one of observe, dry-run, apply, not "nope"',
      // Checked against what is usable of the default (its warmIpTarget is), as it would be against a valid one.
      'clusters.b.actions.warmTargets.warmIpTarget: min 20 is above max 16',
    ]);
    const valid = problemsOf(
      policyText((p) => {
        p.default.actions.cniSubnets.cooldownMinutes = -1;
        p.clusters['b'] = { mode: 'nope', actions: { warmTargets: { warmIpTarget: { min: 20 } } } };
      }),
    );
    expect(valid).toEqual([
      'default.actions.cniSubnets.cooldownMinutes: must be a whole number from 0 to 43200, not -1 (43200 minutes is 30 days)',
      'clusters.b.mode: must be one of observe, dry-run, apply, not "nope"',
      'clusters.b.actions.warmTargets.warmIpTarget: min 20 is above max 16',
    ]);
  });

  it.each<[string, (p: Raw) => void, string]>([
    [
      'a value out of its range',
      (p) => { p.default.actions.instanceTypes.maxCapacityIncreasePercent = -5; },
      'default.actions.instanceTypes.maxCapacityIncreasePercent: must be a whole number from 0 to 1000, not -5 (growth beyond ten-fold is a new capacity plan, not a remediation)',
    ],
    ['an unknown key', (p) => { (p.default as Record<string, unknown>)['colour'] = 'blue'; }, 'default.colour: unknown key'],
    ['a missing action', (p) => { delete (p.default.actions as Partial<typeof p.default.actions>).cniSubnets; }, 'default.actions.cniSubnets: is required'],
  ])('names a relation the default breaks together with %s in the default, not after it is fixed', (_name, change, own) => {
    expect(
      problemsOf(policyText((p) => {
        p.default.actions.warmTargets.warmIpTarget = { min: 20, max: 16 };
        change(p);
      })),
    ).toEqual([own, 'default.actions.warmTargets.warmIpTarget: min 20 is above max 16']);
  });

  it('checks an invalid default only on what is usable of it: a value named as a problem is not also a relation problem', () => {
    expect(
      problemsOf(policyText((p) => {
        p.default.actions.warmTargets.warmIpTarget = { min: 300, max: 16 };
        p.default.mode = 'nope';
      })),
    ).toEqual([
      'default.mode: must be one of observe, dry-run, apply, not "nope"',
      'default.actions.warmTargets.warmIpTarget.min: must be a whole number from 0 to 250, not 300 (a node runs at most 250 pods, so a larger target holds addresses no pod can use)',
    ]);
  });

  it('refuses default.mode apply in a default with other problems too', () => {
    expect(
      problemsOf(policyText((p) => {
        p.default.mode = 'apply';
        p.default.actions.cniSubnets.cooldownMinutes = -1;
      })),
    ).toEqual([
      'default.actions.cniSubnets.cooldownMinutes: must be a whole number from 0 to 43200, not -1 (43200 minutes is 30 days)',
      expect.stringMatching(/^default\.mode: apply is not allowed for the default/),
    ]);
  });

  it('checks cluster relations against a valid default, even in an entry with other problems', () => {
    expect(
      problemsOf(policyText((p) => { p.clusters['b'] = { mode: 'nope', actions: { warmTargets: { warmIpTarget: { min: 20 } } } }; })),
    ).toEqual([
      'clusters.b.mode: must be one of observe, dry-run, apply, not "nope"',
      'clusters.b.actions.warmTargets.warmIpTarget: min 20 is above max 16',
    ]);
  });

  it('names a relation broken by the default once, under default, not again per cluster', () => {
    expect(
      problemsOf(policyText((p) => {
        p.default.actions.warmTargets.minimumIpTarget = { min: 9, max: 8 };
        p.clusters['a'] = { mode: 'apply' };
      })),
    ).toEqual(['default.actions.warmTargets.minimumIpTarget: min 9 is above max 8']);
  });

  it('puts the file name in the message, one problem a line, with the line of each', () => {
    const text = [
      'version: 1',
      'default:',
      '  mode: dry-run',
      '  actions:',
      '    warmTargets: { allowed: true, cooldownMinutes: 60, warmIpTarget: { min: 1, max: 16 }, minimumIpTarget: { min: 0, max: 64 } }',
      '    prefixDelegation: { allowed: true, cooldownMinutes: 1440, warmPrefixTarget: { min: 0, max: 2 }, maxPods: { min: 1, max: 250 }, overlapMarginIps: 16 }',
      '    cniSubnets: { allowed: true, cooldownMinutes: 60, spareSubnets: [], maxSubnetsPerAction: 3 }',
      '    instanceTypes: { allowed: true, cooldownMinutes: 1440, allowedTypes: [], maxInstanceTypes: 3, overlapMarginIps: 16, maxCapacityIncreasePercent: 25 }',
      'clusters:',
      '  prod:',
      '    actions:',
      '      warmTargets:',
      '        warmIpTarget: { min: 20 }',
      '  dev:',
      '    mode: sometimes',
      '',
    ].join('\n');
    expect(() => parsePolicy(text, 'policy.yml')).toThrow(
      'invalid remediation policy policy.yml (2 problems):\n' +
        'policy.yml: clusters.dev.mode: must be one of observe, dry-run, apply, not "sometimes" (line 15)\n' +
        'policy.yml: clusters.prod.actions.warmTargets.warmIpTarget: min 20 is above max 16 (line 13)',
    );
  });

  it.each([
    ['an unclosed flow sequence', 'version: 1\ndefault:\n  mode: dry-run\n  actions: {\n', /^line 5, column 1: /],
    ['a tab used for indentation', 'version: 1\ndefault:\n  mode: dry-run\n\tactions: {}\n', /^line 4, column 1: Tabs are not allowed/],
    ['a duplicated key', 'version: 1\ndefault: {}\nversion: 1\n', /^line 3, column 1: Map keys must be unique/],
  ])('names a YAML syntax error (%s) with its line and column', (_name, text, expected) => {
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it('reads actions.eniConfigs (issue 14): optional, subnets and security groups checked, overridable per cluster', () => {
    const policy = parsePolicy(
      policyText((p) => {
        (p.default.actions as Record<string, unknown>)['eniConfigs'] = { allowed: false, cooldownMinutes: 1440, subnets: [] };
        p.clusters['prod'] = { mode: 'apply', actions: { eniConfigs: { allowed: true, subnets: ['subnet-0a64000000000000a'], securityGroups: ['sg-0123456789abcdef0'] } } };
      }),
      'policy.yml',
    );
    expect(effectivePolicy(policy, 'prod').actions.eniConfigs).toEqual({ allowed: true, cooldownMinutes: 1440, subnets: ['subnet-0a64000000000000a'], securityGroups: ['sg-0123456789abcdef0'] });
    expect(effectivePolicy(policy, 'other').actions.eniConfigs).toEqual({ allowed: false, cooldownMinutes: 1440, subnets: [] });
    expect(
      problemsOf(
        policyText((p) => {
          (p.default.actions as Record<string, unknown>)['eniConfigs'] = { allowed: true, cooldownMinutes: 1440, subnets: ['subnet-xyz'], securityGroups: [] };
          p.clusters['prod'] = { actions: { eniConfigs: { securityGroups: ['sg-1'] } } };
        }),
      ),
    ).toEqual([
      expect.stringMatching(/^default\.actions\.eniConfigs\.subnets\[0\]: is not a subnet id/),
      expect.stringMatching(/^default\.actions\.eniConfigs\.securityGroups: must name at least one security group/),
      expect.stringMatching(/^clusters\.prod\.actions\.eniConfigs\.securityGroups\[0\]: is not a security group id/),
    ]);
  });

  it('names an empty file', () => {
    expect(problemsOf('# nothing but a comment\n')).toEqual([
      '(top level): the file is empty; a policy needs version, default and clusters',
    ]);
  });

  it('takes clusters: with every entry commented out as no overrides', () => {
    const text = policyText().replace('clusters: {}', 'clusters:\n  # prod:\n  #   mode: apply');
    expect(parsePolicy(text, 'policy.yml').clusters).toEqual({});
  });

  it('reads the JSON it writes (what the functions carry)', () => {
    const policy = parsePolicy(policyText((p) => { p.clusters['prod'] = { mode: 'apply' }; }), 'policy.yml');
    expect(parsePolicy(policyJson(policy, 'policy.yml'), 'POLICY_JSON')).toEqual(policy);
  });
});

describe('policyJson', () => {
  it('refuses a runaway policy, saying how large it is', () => {
    const policy = parsePolicy(policyText(), 'policy.yml');
    const big: Policy = {
      ...policy,
      clusters: Object.fromEntries(
        Array.from({ length: 1000 }, (_, i) => [`cluster-${i}`, { actions: { cniSubnets: { spareSubnets: ['subnet-0c55317ef17156075'] } } }]),
      ),
    };
    expect(() => policyJson(big, 'policy.yml')).toThrow(/policy.yml: \(top level\): the policy is \d+ bytes as compact JSON, above the 65536 bytes/);
  });
});

describe('readPolicyFile', () => {
  it('names a missing file', () => {
    expect(() => readPolicyFile('/nonexistent/policy.yml')).toThrow(
      '/nonexistent/policy.yml: (top level): cannot read the policy: no such file',
    );
  });
});

describe('effectivePolicy', () => {
  const policy = parsePolicy(
    policyText((p) => {
      p.default.thresholds = { prefixBlocksWarning: 8 };
      p.default.actions.cniSubnets.spareSubnets = ['subnet-11111111', 'subnet-22222222'];
      p.clusters['prod'] = { actions: { warmTargets: { warmIpTarget: { max: 8 } } } };
      p.clusters['lists'] = { mode: 'apply', thresholds: { subnetFreeIpsWarning: 128 }, actions: { cniSubnets: { spareSubnets: ['subnet-33333333'] } } };
    }),
    'policy.yml',
  );

  it('merges deep: a cluster overriding warmIpTarget.max keeps everything else from the default', () => {
    const prod = effectivePolicy(policy, 'prod');
    const expected = structuredClone(VALID.default.actions) as ActionsPolicy;
    expected.warmTargets.warmIpTarget.max = 8;
    expected.cniSubnets.spareSubnets = ['subnet-11111111', 'subnet-22222222'];
    // A policy without actions.subnetReservations (written before it existed) gets it not allowed.
    expected.subnetReservations = { ...DEFAULT_SUBNET_RESERVATIONS_POLICY };
    // A policy without leakedEnis (written before it existed) gets the default: not allowed.
    Object.assign(expected, { leakedEnis: { allowed: false, cooldownMinutes: 60, minAgeMinutes: 60, maxEnisPerAction: 20 } });
    // Issue 14: likewise the Karpenter actions, not allowed.
    Object.assign(expected, { karpenterSubnets: { ...DEFAULT_KARPENTER_SUBNETS_POLICY }, karpenterInstanceTypes: { ...DEFAULT_KARPENTER_INSTANCE_TYPES_POLICY } });
    // Nor eniConfigs (issue 14).
    expected.eniConfigs = { ...DEFAULT_ENI_CONFIGS_POLICY };
    expect(prod).toEqual({
      cluster: 'prod',
      mode: 'dry-run',
      thresholds: { ...DEFAULT_THRESHOLDS, prefixBlocksWarning: 8 },
      actions: expected,
    });
  });

  it('gives a cluster without an entry the default, thresholds over the diagnosis defaults', () => {
    expect(effectivePolicy(policy, 'elsewhere')).toEqual({
      cluster: 'elsewhere',
      mode: 'dry-run',
      thresholds: { ...DEFAULT_THRESHOLDS, prefixBlocksWarning: 8 },
      actions: { ...policy.default.actions },
    });
  });

  it('lets a cluster override the replacement keys, keeping the others from the default', () => {
    const raised = parsePolicy(
      policyText((p) => { p.clusters['prod'] = { actions: { instanceTypes: { maxCapacityIncreasePercent: 100 }, prefixDelegation: { overlapMarginIps: 32 } } }; }),
      'policy.yml',
    );
    const prod = effectivePolicy(raised, 'prod').actions;
    expect(prod.instanceTypes).toMatchObject({ maxCapacityIncreasePercent: 100, overlapMarginIps: 16 });
    expect(prod.prefixDelegation.overlapMarginIps).toBe(32);
    expect(effectivePolicy(raised, 'other').actions.instanceTypes.maxCapacityIncreasePercent).toBe(25);
  });

  it('matches cluster names exactly', () => {
    expect(effectivePolicy(policy, 'PROD').actions.warmTargets.warmIpTarget.max).toBe(16);
    expect(effectivePolicy(policy, 'constructor').mode).toBe('dry-run');
  });

  it('replaces lists instead of merging them, and overrides thresholds one by one', () => {
    const lists = effectivePolicy(policy, 'lists');
    expect(lists.mode).toBe('apply');
    expect(lists.actions.cniSubnets.spareSubnets).toEqual(['subnet-33333333']);
    expect(lists.thresholds).toEqual({ ...DEFAULT_THRESHOLDS, prefixBlocksWarning: 8, subnetFreeIpsWarning: 128 });
  });

  it('shares nothing with the policy: changing the result leaves the policy as it was', () => {
    const prod = effectivePolicy(policy, 'prod');
    prod.actions.cniSubnets.spareSubnets.push('subnet-99999999');
    prod.actions.warmTargets.warmIpTarget.min = 5;
    expect(policy.default.actions.cniSubnets.spareSubnets).toEqual(['subnet-11111111', 'subnet-22222222']);
    expect(policy.default.actions.warmTargets.warmIpTarget.min).toBe(1);
  });

  it('lays the thresholds over the given base, and names a relation the base breaks', () => {
    const base = { ...DEFAULT_THRESHOLDS, subnetFreeIpsWarning: 100 };
    expect(effectivePolicy(policy, 'prod', base).thresholds.subnetFreeIpsWarning).toBe(100);
    const tight = parsePolicy(policyText((p) => { p.default.thresholds = { subnetFreeIpsCritical: 32 }; }), 'policy.yml');
    expect(() => effectivePolicy(tight, 'prod', { ...DEFAULT_THRESHOLDS, subnetFreeIpsWarning: 20 })).toThrow(
      'thresholds.subnetFreeIpsCritical: 32 is above subnetFreeIpsWarning 20',
    );
  });
});

describe('ranges', () => {
  type Numbers = Record<string, unknown>;
  /** A key of `default:` (a path) and its range, as docs/policy.md (the policy reference) lists it. */
  const CASES: Array<[path: string, min: number, max: number]> = [
    ['actions.warmTargets.cooldownMinutes', 0, 43200],
    ['actions.prefixDelegation.cooldownMinutes', 0, 43200],
    ['actions.cniSubnets.cooldownMinutes', 0, 43200],
    ['actions.instanceTypes.cooldownMinutes', 0, 43200],
    ['actions.warmTargets.warmIpTarget', 0, 250],
    ['actions.warmTargets.minimumIpTarget', 0, 250],
    ['actions.prefixDelegation.warmPrefixTarget', 0, 16],
    ['actions.prefixDelegation.maxPods', 1, 250],
    ['actions.prefixDelegation.overlapMarginIps', 0, 65531],
    ['actions.cniSubnets.maxSubnetsPerAction', 1, 200],
    ['actions.instanceTypes.maxInstanceTypes', 1, 20],
    ['actions.instanceTypes.overlapMarginIps', 0, 65531],
    ['actions.instanceTypes.maxCapacityIncreasePercent', 0, 1000],
    ['thresholds.subnetFreeIpsWarning', 0, 65531],
    ['thresholds.subnetFreeIpsCritical', 0, 65531],
    ['thresholds.prefixBlocksWarning', 0, 4096],
  ];
  const BOUNDS = new Set(['warmIpTarget', 'minimumIpTarget', 'warmPrefixTarget', 'maxPods']);

  /** The policy with `value` at `path` under `root` (`default` or `clusters.prod`); a range `{min, max}` gets both. */
  function withValue(root: 'default' | 'prod', path: string, value: number | { min: number; max: number }): string {
    return policyText((p) => {
      let node = (root === 'default' ? p.default : ((p.clusters['prod'] = {}) as Numbers)) as Numbers;
      const keys = path.split('.');
      for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Numbers;
      node[keys[keys.length - 1] as string] = value;
      // Thresholds must keep critical at or below warning, whichever is moved.
      if (path === 'thresholds.subnetFreeIpsCritical') node['subnetFreeIpsWarning'] = 65531;
      if (path === 'thresholds.subnetFreeIpsWarning') node['subnetFreeIpsCritical'] = 0;
    });
  }

  it.each(CASES)('takes %s from %d to %d', (path, min, max) => {
    const bounds = BOUNDS.has(path.split('.').pop() as string);
    for (const value of [min, max]) {
      expect(problemsOf(withValue('default', path, bounds ? { min: value, max: value } : value))).toEqual([]);
      expect(problemsOf(withValue('prod', path, bounds ? { min: value, max: value } : value))).toEqual([]);
    }
  });

  it.each(CASES)('refuses %s outside %d to %d, naming the path, the value and the range', (path, min, max) => {
    const bounds = BOUNDS.has(path.split('.').pop() as string);
    const expected = (where: string, value: number) =>
      new RegExp(`^${where.replace(/\./g, '\\.')}: must be a whole number from ${min} to ${max}, not ${value} \\(.+\\)$`);
    for (const [value, end] of [[min - 1, 'min'], [max + 1, 'max'], [min + 0.5, 'min']] as const) {
      const range = { min, max, [end]: value };
      for (const root of ['default', 'prod'] as const) {
        const at = `${root === 'default' ? 'default' : 'clusters.prod'}.${path}${bounds ? `.${end}` : ''}`;
        const problems = problemsOf(withValue(root, path, bounds ? range : value));
        // One problem, where the value is: not also a relation (min above max) over the same value.
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(expected(at, value));
      }
    }
  });

  it('says why max pods ends at 250, and that the limit is the EKS cap the planner applies', () => {
    expect(problemsOf(withValue('default', 'actions.prefixDelegation.maxPods', { min: 1, max: 737 }))).toEqual([
      'default.actions.prefixDelegation.maxPods.max: must be a whole number from 1 to 250, not 737 ' +
        '(a node needs at least 1; EKS managed node groups cap max pods at 250, and at 110 below 30 vCPUs)',
    ]);
    const big = knownInstanceTypes().get('m5.24xlarge');
    if (!big) throw new Error('m5.24xlarge is not in the bundled data');
    expect(kubeletMaxPodsCap(networkCapacityOf(big))).toBe(MAX_PODS_LIMIT);
    expect(RANGES.warmPrefixTarget.max * IPV4_ADDRESSES_PER_PREFIX).toBeGreaterThanOrEqual(MAX_PODS_LIMIT);
    expect((RANGES.warmPrefixTarget.max - 1) * IPV4_ADDRESSES_PER_PREFIX).toBeLessThan(MAX_PODS_LIMIT);
  });

  it('names a value out of range in a cluster once, not again as a relation with the default', () => {
    expect(problemsOf(withValue('prod', 'actions.warmTargets.warmIpTarget', { min: 300 } as never))).toEqual([
      'clusters.prod.actions.warmTargets.warmIpTarget.min: must be a whole number from 0 to 250, not 300 ' +
        '(a node runs at most 250 pods, so a larger target holds addresses no pod can use)',
    ]);
    // Within its range, the same key still meets the default's max.
    expect(problemsOf(withValue('prod', 'actions.warmTargets.warmIpTarget', { min: 20 } as never))).toEqual([
      'clusters.prod.actions.warmTargets.warmIpTarget: min 20 is above max 16',
    ]);
  });

  it('refuses a number YAML reads as infinite or not a number', () => {
    const text = policyText().replace('cooldownMinutes: 60', 'cooldownMinutes: .inf');
    expect(problemsOf(text)).toEqual(['default.actions.warmTargets.cooldownMinutes: must be a number, not Infinity']);
  });
});

describe('readPolicyFile: the file before the parser', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'policy-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The error readPolicyFile throws for `bytes`, or undefined. */
  function errorOf(bytes: Buffer | string): PolicyError | undefined {
    const file = join(dir, 'policy.yml');
    writeFileSync(file, bytes);
    try {
      readPolicyFile(file);
      return undefined;
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      return err;
    }
  }

  it('refuses a 10 MB file in one line, naming its size and the limit, without parsing it', () => {
    // The parser load.ts calls (its named import reads the module's property at each call). How
    // long a refusal takes is a figure of `npm run bench`, not a test.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const parse = jest.spyOn(require('yaml') as typeof import('yaml'), 'parseDocument');
    let err: PolicyError | undefined;
    try {
      err = errorOf(Buffer.alloc(10 * 1024 * 1024, '# padding\n'));
      expect(parse).not.toHaveBeenCalled();
      // (The control: a file within the limit is parsed.)
      errorOf(policyText());
      expect(parse).toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
    expect(err?.message).toBe(
      `${join(dir, 'policy.yml')}: (top level): the file is 10485760 bytes, above the ${POLICY_FILE_MAX_BYTES} a policy file may be ` +
        `(the policy it holds may take at most ${POLICY_MAX_BYTES} bytes as compact JSON): check that this is the policy file; ` +
        'remove cluster entries that repeat the default',
    );
    expect(err?.message).not.toContain('\n');
  });

  it('reads a file of exactly the limit and refuses one byte more', () => {
    const text = policyText();
    const padded = (size: number) => text + '#'.repeat(size - Buffer.byteLength(text) - 1) + '\n';
    expect(Buffer.byteLength(padded(POLICY_FILE_MAX_BYTES))).toBe(POLICY_FILE_MAX_BYTES);
    expect(errorOf(padded(POLICY_FILE_MAX_BYTES))).toBeUndefined();
    expect(errorOf(padded(POLICY_FILE_MAX_BYTES + 1))?.message).toMatch(/the file is 1048577 bytes, above the 1048576/);
  });

  it.each<[string, Buffer, RegExp]>([
    ['a binary file (a PNG)', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]),
      /: \(top level\): not a text file \(a NUL byte at offset 8\): a policy is YAML or JSON text in UTF-8; check the path$/],
    ['random bytes', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)),
      /: \(top level\): not a text file \(a NUL byte at offset \d+\)/],
    ['Latin-1 text', Buffer.from('version: 1\n# caf\xe9\n', 'latin1'),
      /: \(top level\): not UTF-8 text: a policy is YAML or JSON text in UTF-8; check the path, or save the file as UTF-8$/],
  ])('refuses %s in one line', (_name, bytes, expected) => {
    const err = errorOf(bytes);
    expect(err?.message).toMatch(expected);
    expect(err?.message).not.toContain('\n');
    expect(err?.problems).toHaveLength(1);
  });

  it('refuses a directory in one line', () => {
    expect(() => readPolicyFile(dir)).toThrow(`${dir}: (top level): cannot read the policy: a directory, not a file`);
  });

  it('names the first ten YAML errors of a file that is not YAML, and how many more', () => {
    const err = errorOf(']\n'.repeat(30));
    const lines = err?.message.split('\n') ?? [];
    expect(lines[0]).toBe(`invalid remediation policy ${join(dir, 'policy.yml')} (30 problems):`);
    expect(lines).toHaveLength(12);
    expect(lines[11]).toMatch(/: \.\.\. and 20 more YAML errors: is this a YAML or JSON policy\?$/);
  });
});

describe('closestClusterNames', () => {
  const policy = parsePolicy(
    policyText((p) => {
      for (const name of ['payments-prod', 'payments-dev', 'orders-prod', 'batch', 'Search']) p.clusters[name] = {};
    }),
    'policy.yml',
  );

  it.each<[string, string[]]>([
    ['paymnts-prod', ['payments-prod', 'payments-dev', 'orders-prod']],
    ['PAYMENTS-PROD', ['payments-prod', 'payments-dev', 'orders-prod']],
    ['search', ['Search', 'batch', 'orders-prod']],
    ['typo', ['batch', 'Search', 'orders-prod']],
  ])('ranks the names closest to %s first', (name, expected) => {
    expect(closestClusterNames(policy, name)).toEqual(expected);
  });

  it('answers none for a policy without cluster entries', () => {
    expect(closestClusterNames(parsePolicy(policyText(), 'policy.yml'), 'prod')).toEqual([]);
  });
});

describe('warmTargets: the ipamd EC2 API budget (issue 13)', () => {
  it('is optional: a policy without it stays valid', () => {
    expect(problemsOf(policyText())).toEqual([]);
  });

  it('accepts a budget and a churn in range, in the default and per cluster', () => {
    const text = policyText((p) => {
      Object.assign(p.default.actions.warmTargets, { ipamdCallsPerMinuteMax: 120, podStartsPerNodePerMinute: 0.25 });
      p.clusters['batch'] = { actions: { warmTargets: { podStartsPerNodePerMinute: 4 } } };
    });
    expect(problemsOf(text)).toEqual([]);
  });

  it('refuses a budget or a churn out of range, saying why', () => {
    const problems = problemsOf(
      policyText((p) => Object.assign(p.default.actions.warmTargets, { ipamdCallsPerMinuteMax: 301, podStartsPerNodePerMinute: 13 })),
    );
    expect(problems).toEqual([
      expect.stringMatching(/ipamdCallsPerMinuteMax.*whole number from 1 to 300.*AssignPrivateIpAddresses refills at 300 a minute/),
      expect.stringMatching(/podStartsPerNodePerMinute.*at most 12/),
    ]);
  });
});
