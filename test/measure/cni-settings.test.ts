import type { CniInstall } from '../../lib/inventory/types';
import { parseGoBool, readCniSettings, type CniSettings } from '../../lib/measure/cni-settings';
import { managedCni } from './builders';

describe('readCniSettings', () => {
  const cases: [string, CniInstall, Partial<CniSettings>][] = [
    [
      'the add-on with no configurationValues: the CNI defaults, WARM_ENI_TARGET=1',
      managedCni(),
      { source: 'defaults', addonVersion: 'v1.19.2-eksbuild.1', prefixDelegation: false, customNetworking: false, warmEniTarget: 1, warmIpTarget: undefined, minimumIpTarget: undefined, warmPrefixTarget: undefined, invalid: [] },
    ],
    [
      'WARM_IP_TARGET and MINIMUM_IP_TARGET override the WARM_ENI_TARGET default',
      managedCni({ WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '12' }),
      { source: 'add-on', warmEniTarget: undefined, warmIpTarget: 2, minimumIpTarget: 12, invalid: [] },
    ],
    ['MINIMUM_IP_TARGET alone overrides it too', managedCni({ MINIMUM_IP_TARGET: '10' }), { warmEniTarget: undefined, minimumIpTarget: 10 }],
    [
      // ipamd's warmIPTargetsDefined: a target of 0 is "not set", so WARM_ENI_TARGET=1 still applies.
      'WARM_IP_TARGET=0 does not override WARM_ENI_TARGET',
      managedCni({ WARM_IP_TARGET: '0' }),
      { warmEniTarget: 1, warmIpTarget: 0 },
    ],
    ['an explicit WARM_ENI_TARGET is kept', managedCni({ WARM_ENI_TARGET: '2' }), { warmEniTarget: 2 }],
    [
      'prefix mode: WARM_PREFIX_TARGET defaults to 1',
      managedCni({ ENABLE_PREFIX_DELEGATION: 'true' }),
      { prefixDelegation: true, warmPrefixTarget: 1, warmEniTarget: 1 },
    ],
    [
      'prefix mode: an explicit WARM_PREFIX_TARGET is kept',
      managedCni({ ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '3' }),
      { prefixDelegation: true, warmPrefixTarget: 3 },
    ],
    [
      'prefix mode: WARM_IP_TARGET overrides WARM_PREFIX_TARGET',
      managedCni({ ENABLE_PREFIX_DELEGATION: 'true', WARM_IP_TARGET: '5' }),
      { prefixDelegation: true, warmPrefixTarget: undefined, warmIpTarget: 5, warmEniTarget: undefined },
    ],
    [
      'prefix mode: MINIMUM_IP_TARGET overrides WARM_PREFIX_TARGET',
      managedCni({ ENABLE_PREFIX_DELEGATION: 'true', MINIMUM_IP_TARGET: '16' }),
      { prefixDelegation: true, warmPrefixTarget: undefined, minimumIpTarget: 16 },
    ],
    ['ENABLE_PREFIX_DELEGATION=false', managedCni({ ENABLE_PREFIX_DELEGATION: 'false' }), { prefixDelegation: false, warmPrefixTarget: undefined }],
    ['custom networking', managedCni({ AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' }), { customNetworking: true }],
    ['JSON booleans and numbers are read too', managedCni({ ENABLE_PREFIX_DELEGATION: true, WARM_IP_TARGET: 3 }), { prefixDelegation: true, warmIpTarget: 3, invalid: [] }],
    ['whitespace around a number is tolerated', managedCni({ WARM_IP_TARGET: ' 4 ' }), { warmIpTarget: 4, invalid: [] }],
    ['env keys the measure does not read make the source add-on', managedCni({ AWS_VPC_K8S_CNI_LOGLEVEL: 'DEBUG' }), { source: 'add-on', warmEniTarget: 1 }],
    ['a configurationValues document without env', { ...managedCni(), configurationValues: { init: { env: {} } } }, { source: 'defaults', warmEniTarget: 1 }],
    ['env that is not an object is ignored', { ...managedCni(), configurationValues: { env: ['WARM_IP_TARGET=2'] } }, { source: 'defaults', warmEniTarget: 1 }],
    ['self-managed aws-node: everything unknown', { kind: 'self-managed' }, { source: 'unknown', invalid: [] }],
    ['an add-on that could not be read: everything unknown', { kind: 'unknown', reason: 'AccessDeniedException' }, { source: 'unknown', invalid: [] }],
  ];
  it.each(cases)('%s', (_, cni, expected) => {
    expect(readCniSettings(cni)).toMatchObject(expected);
  });

  it('a self-managed CNI reports no values at all, not the defaults', () => {
    expect(readCniSettings({ kind: 'self-managed' })).toEqual({ source: 'unknown', invalid: [] });
  });

  it('names every invalid value, with the key and the value as written', () => {
    const s = readCniSettings(
      managedCni({
        WARM_IP_TARGET: 'five',
        MINIMUM_IP_TARGET: '-1',
        WARM_ENI_TARGET: '1.5',
        WARM_PREFIX_TARGET: 2.5,
        ENABLE_PREFIX_DELEGATION: 'yes',
        AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 1,
      }),
    );
    expect(s.invalid).toEqual([
      'ENABLE_PREFIX_DELEGATION="yes" (not a boolean to the CNI, which then runs with false: expected 1, t, T, TRUE, true, True, 0, f, F, FALSE, false or False)',
      'AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=1 (not a boolean to the CNI, which then runs with false: expected 1, t, T, TRUE, true, True, 0, f, F, FALSE, false or False)',
      'WARM_ENI_TARGET="1.5" (expected a whole number as a string)',
      'WARM_IP_TARGET="five" (expected a whole number as a string)',
      'MINIMUM_IP_TARGET="-1" (expected a whole number as a string)',
      'WARM_PREFIX_TARGET=2.5 (expected a whole number as a string)',
    ]);
    // An invalid value is not used: nothing falls back to a guess except the documented defaults.
    expect(s).toMatchObject({ warmIpTarget: undefined, minimumIpTarget: undefined, prefixDelegation: false });
  });
});

describe('boolean settings are parsed as ipamd parses them (Go strconv.ParseBool)', () => {
  // Go strconv/atob.go ParseBool: exactly these twelve spellings; anything else is an error.
  const spellings: [string, boolean][] = [
    ['1', true],
    ['t', true],
    ['T', true],
    ['TRUE', true],
    ['true', true],
    ['True', true],
    ['0', false],
    ['f', false],
    ['F', false],
    ['FALSE', false],
    ['false', false],
    ['False', false],
  ];
  const rejected = ['yes', 'no', 'on', 'off', 'tRUE', 'fALSE', ' true', 'true ', '2', '-1', 'y', 'enabled', ''];

  it.each(spellings)('parseGoBool(%j) is %p', (text, value) => {
    expect(parseGoBool(text)).toBe(value);
  });

  it.each(rejected)('parseGoBool(%j) is not a boolean', (text) => {
    expect(parseGoBool(text)).toBeUndefined();
  });

  const keys: [string, keyof CniSettings][] = [
    ['ENABLE_PREFIX_DELEGATION', 'prefixDelegation'],
    ['AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG', 'customNetworking'],
    ['ENABLE_POD_ENI', 'podEni'],
  ];
  const table = keys.flatMap(([key, field]) => spellings.map(([text, value]) => [key, field, text, value] as const));
  it.each(table)('%s=%j sets %s to %p with no problem', (key, field, text, value) => {
    const s = readCniSettings(managedCni({ [key]: text }));
    expect(s[field]).toBe(value);
    expect(s.invalid).toEqual([]);
  });

  const bad = keys.flatMap(([key, field]) => rejected.filter((t) => t !== '').map((text) => [key, field, text] as const));
  it.each(bad)('%s=%j is a problem naming the key and the value, and the setting is false as ipamd runs it', (key, field, text) => {
    const s = readCniSettings(managedCni({ [key]: text }));
    expect(s[field]).toBe(false);
    expect(s.invalid).toHaveLength(1);
    expect(s.invalid[0]).toContain(`${key}=${JSON.stringify(text)}`);
  });

  it('an empty value: ParseBool rejects it (GetBoolAsStringEnvVar), except for custom networking, which skips it (parseBoolEnvVar)', () => {
    const s = readCniSettings(managedCni({ ENABLE_PREFIX_DELEGATION: '', ENABLE_POD_ENI: '', AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: '' }));
    expect(s).toMatchObject({ prefixDelegation: false, podEni: false, customNetworking: false });
    expect(s.invalid.map((x) => x.split(' ')[0])).toEqual(['ENABLE_PREFIX_DELEGATION=""', 'ENABLE_POD_ENI=""']);
  });

  it('prefix mode spelled "1" brings the WARM_PREFIX_TARGET default with it', () => {
    expect(readCniSettings(managedCni({ ENABLE_PREFIX_DELEGATION: '1' }))).toMatchObject({ prefixDelegation: true, warmPrefixTarget: 1 });
  });
});

describe('MAX_ENI is read as ipamd getMaxENI reads it (strconv.Atoi, used from 1 up)', () => {
  it.each<[unknown, number | undefined, number]>([
    ['2', 2, 0],
    ['+3', 3, 0],
    [4, 4, 0],
    ['1', 1, 0],
    // 0 or less: "it will be ignored and the maximum for the instance is returned" — valid, not a problem.
    ['0', undefined, 0],
    ['-1', undefined, 0],
    // Not a number: ignored by ipamd too, and named here.
    ['two', undefined, 1],
    ['2.5', undefined, 1],
    [' 2', undefined, 1],
  ])('MAX_ENI=%j → %p (%i problems)', (value, maxEni, problems) => {
    const s = readCniSettings(managedCni({ MAX_ENI: value }));
    expect(s.maxEni).toBe(maxEni);
    expect(s.invalid).toHaveLength(problems);
    if (problems > 0) expect(s.invalid[0]).toContain(`MAX_ENI=${JSON.stringify(value)}`);
  });
});
