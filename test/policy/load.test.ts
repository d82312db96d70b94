import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import {
  effectivePolicy,
  parsePolicy,
  POLICY_MAX_BYTES,
  policyJson,
  readPolicyFile,
  type Policy,
} from '../../lib/policy/load';
import { DEFAULT_MAX_CAPACITY_INCREASE_PERCENT, DEFAULT_OVERLAP_MARGIN_IPS, PolicyError } from '../../lib/policy/types';

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
    expect(Object.values(policy.default.actions).every((a) => a.allowed)).toBe(true);
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
      ['default.actions.prefixDelegation.maxPods: min 0 must be at least 1']],
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
      ['default.actions.cniSubnets.cooldownMinutes: must not be negative']],
    ['a fractional cooldown', (p) => { p.default.actions.warmTargets.cooldownMinutes = 1.5; },
      ['default.actions.warmTargets.cooldownMinutes: must be a whole number']],
    ['a string where a number goes', (p) => { p.default.actions.instanceTypes.maxInstanceTypes = 'three' as never; },
      ['default.actions.instanceTypes.maxInstanceTypes: must be a number, not "three"']],
    ['a missing field of the default', (p) => { delete (p.default.actions.cniSubnets as Partial<typeof p.default.actions.cniSubnets>).maxSubnetsPerAction; },
      ['default.actions.cniSubnets.maxSubnetsPerAction: is required']],
    ['a negative overlap margin', (p) => { p.default.actions.instanceTypes.overlapMarginIps = -1; },
      ['default.actions.instanceTypes.overlapMarginIps: must not be negative']],
    ['a fractional capacity bound', (p) => { p.default.actions.instanceTypes.maxCapacityIncreasePercent = 12.5; },
      ['default.actions.instanceTypes.maxCapacityIncreasePercent: must be a whole number']],
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
      ['default.thresholds.heldByOthersShare: must be between 0 and 1']],
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
      'default.actions.cniSubnets.cooldownMinutes: must not be negative',
      'clusters.a.actions.cniSubnets.spareSubnets[0]: is not a subnet id (subnet- and 8 or 17 hex digits)',
      'clusters.b.mode: must be one of observe, dry-run, apply, not "nope"',
    ]);
    const valid = problemsOf(
      policyText((p) => {
        p.default.actions.cniSubnets.cooldownMinutes = -1;
        p.clusters['b'] = { mode: 'nope', actions: { warmTargets: { warmIpTarget: { min: 20 } } } };
      }),
    );
    expect(valid).toEqual([
      'default.actions.cniSubnets.cooldownMinutes: must not be negative',
      'clusters.b.mode: must be one of observe, dry-run, apply, not "nope"',
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
    const expected = structuredClone(VALID.default.actions);
    expected.warmTargets.warmIpTarget.max = 8;
    expected.cniSubnets.spareSubnets = ['subnet-11111111', 'subnet-22222222'];
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
