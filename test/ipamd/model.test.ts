import { networkCapacityOf, podIpSlots, type NetworkCapacity } from '../../lib/capacity/instance-type';
import { knownInstanceTypes } from '../../lib/capacity/known-instance-types';
import { estimateWarm, holdingFor, ipamdConfigOf } from '../../lib/ipamd/model';
import type { IpamdConfig } from '../../lib/ipamd/types';
import type { CniSettings } from '../../lib/measure/cni-settings';

function capacityOf(instanceType: string): NetworkCapacity {
  const info = knownInstanceTypes().get(instanceType);
  if (!info) throw new Error(`${instanceType} is not in the bundled data`);
  return networkCapacityOf(info);
}

const DEFAULTS: IpamdConfig = { prefixDelegation: false };
const PREFIX_DEFAULTS: IpamdConfig = { prefixDelegation: true };
const WARM2_MIN10: IpamdConfig = { prefixDelegation: false, warmIpTarget: 2, minimumIpTarget: 10 };
const CUSTOM: IpamdConfig = { prefixDelegation: false, customNetworking: true };

describe('holdingFor', () => {
  // m5.large: 3 ENIs × 10 IPv4, so 9 secondary IPs per ENI and 27 pod slots.
  describe('m5.large under the defaults (WARM_ENI_TARGET=1)', () => {
    it.each([
      // pods, enis, secondaryIps, subnetIps, warmIps, podsWithIps
      [0, 1, 9, 10, 9, 0],
      [1, 2, 18, 20, 17, 1],
      [9, 2, 18, 20, 9, 9],
      [10, 3, 27, 30, 17, 10],
      [18, 3, 27, 30, 9, 18],
      [27, 3, 27, 30, 0, 27],
      [30, 3, 27, 30, 0, 27],
    ])('%i pods: %i ENIs, %i secondary IPs, %i subnet IPs', (pods, enis, secondaryIps, subnetIps, warmIps, podsWithIps) => {
      expect(holdingFor(capacityOf('m5.large'), pods, DEFAULTS)).toEqual({
        enis,
        secondaryIps,
        prefixes: 0,
        subnetIps,
        podSlots: secondaryIps,
        warmIps,
        podsWithIps,
      });
    });

    it('keeps two spare ENIs worth with WARM_ENI_TARGET=2', () => {
      expect(holdingFor(capacityOf('m5.large'), 0, { prefixDelegation: false, warmEniTarget: 2 })).toMatchObject({
        enis: 2,
        secondaryIps: 18,
      });
    });

    it('adds one ENI only when no address is free with WARM_ENI_TARGET=0', () => {
      const cap = capacityOf('m5.large');
      const config = { prefixDelegation: false, warmEniTarget: 0 };
      expect(holdingFor(cap, 8, config)).toMatchObject({ enis: 1, secondaryIps: 9 });
      expect(holdingFor(cap, 9, config)).toMatchObject({ enis: 2, secondaryIps: 18 });
    });
  });

  describe('m5.large with WARM_IP_TARGET=2, MINIMUM_IP_TARGET=10', () => {
    it.each([
      // pods, enis, secondaryIps, warmIps
      [0, 2, 10, 10],
      [8, 2, 10, 2],
      [9, 2, 11, 2],
      [16, 2, 18, 2],
      [17, 3, 19, 2],
      [25, 3, 27, 2],
      [26, 3, 27, 1],
      [27, 3, 27, 0],
    ])('%i pods: %i ENIs, %i secondary IPs', (pods, enis, secondaryIps, warmIps) => {
      expect(holdingFor(capacityOf('m5.large'), pods, WARM2_MIN10)).toMatchObject({
        enis,
        secondaryIps,
        subnetIps: enis + secondaryIps,
        warmIps,
      });
    });

    it('overrides WARM_ENI_TARGET when both are set', () => {
      expect(holdingFor(capacityOf('m5.large'), 0, { ...WARM2_MIN10, warmEniTarget: 3 })).toMatchObject({
        secondaryIps: 10,
      });
    });

    it('stops at MINIMUM_IP_TARGET when WARM_IP_TARGET is 0: later pods get no address', () => {
      expect(
        holdingFor(capacityOf('m5.large'), 15, { prefixDelegation: false, warmIpTarget: 0, minimumIpTarget: 10 }),
      ).toMatchObject({ enis: 2, secondaryIps: 10, warmIps: 0, podsWithIps: 10 });
    });
  });

  describe('prefix delegation', () => {
    it.each([
      // type, pods, enis, prefixes, subnetIps
      ['m5.large', 0, 1, 1, 17],
      ['m5.large', 5, 1, 2, 33],
      ['m5.large', 16, 1, 2, 33],
      ['m5.large', 17, 1, 3, 49],
      ['m5.large', 110, 1, 8, 129],
      ['m5.large', 144, 2, 10, 162],
      ['m5.large', 432, 3, 27, 435],
      ['c6g.2xlarge', 0, 1, 1, 17],
      ['c6g.2xlarge', 100, 1, 8, 129],
      ['c6g.2xlarge', 224, 2, 15, 242],
      ['c6g.2xlarge', 896, 4, 56, 900],
    ])('%s with %i pods under the defaults (WARM_PREFIX_TARGET=1): %i ENIs, %i prefixes', (type, pods, enis, prefixes, subnetIps) => {
      const holding = holdingFor(capacityOf(type), pods, PREFIX_DEFAULTS);
      expect(holding).toMatchObject({ enis, prefixes, secondaryIps: 0, subnetIps, podSlots: prefixes * 16 });
      expect(holding.warmIps).toBe(prefixes * 16 - pods);
    });

    it('stops growing once the pool holds max pods addresses', () => {
      expect(holdingFor(capacityOf('c6g.2xlarge'), 110, { ...PREFIX_DEFAULTS, maxPods: 110 })).toMatchObject({
        prefixes: 7,
        warmIps: 2,
      });
    });

    it('rounds WARM_IP_TARGET / MINIMUM_IP_TARGET up to whole prefixes and ignores WARM_PREFIX_TARGET', () => {
      const config = { prefixDelegation: true, warmIpTarget: 2, minimumIpTarget: 10, warmPrefixTarget: 4 };
      const cap = capacityOf('m5.large');
      expect(holdingFor(cap, 0, config)).toMatchObject({ prefixes: 1 });
      expect(holdingFor(cap, 14, config)).toMatchObject({ prefixes: 1 });
      expect(holdingFor(cap, 15, config)).toMatchObject({ prefixes: 2 });
    });

    it('keeps whole free prefixes with WARM_PREFIX_TARGET=3', () => {
      expect(holdingFor(capacityOf('m5.large'), 20, { prefixDelegation: true, warmPrefixTarget: 3 })).toMatchObject({
        prefixes: 5,
      });
    });

    it('falls back to secondary IPs on a non-Nitro type (m4.large)', () => {
      const cap = capacityOf('m4.large');
      expect(cap.nitro).toBe(false);
      expect(holdingFor(cap, 0, PREFIX_DEFAULTS)).toMatchObject({ enis: 1, secondaryIps: 9, prefixes: 0 });
      expect(holdingFor(cap, 5, PREFIX_DEFAULTS)).toMatchObject({ enis: 2, secondaryIps: 18, prefixes: 0 });
      expect(holdingFor(cap, 40, PREFIX_DEFAULTS)).toMatchObject({ enis: 2, secondaryIps: 18, podsWithIps: 18 });
    });
  });

  describe('custom networking: the primary ENI holds no pod addresses but takes its own', () => {
    it.each([
      // pods, enis, secondaryIps, subnetIps, podsWithIps
      [0, 2, 9, 11, 0],
      [1, 3, 18, 21, 1],
      [10, 3, 18, 21, 10],
      [20, 3, 18, 21, 18],
    ])('m5.large with %i pods: %i ENIs, %i secondary IPs', (pods, enis, secondaryIps, subnetIps, podsWithIps) => {
      expect(holdingFor(capacityOf('m5.large'), pods, CUSTOM)).toMatchObject({
        enis,
        secondaryIps,
        subnetIps,
        podsWithIps,
      });
    });

    it('puts prefixes on the second ENI', () => {
      expect(holdingFor(capacityOf('m5.large'), 0, { ...CUSTOM, prefixDelegation: true })).toMatchObject({
        enis: 2,
        prefixes: 1,
        subnetIps: 18,
      });
    });
  });

  describe('the worked tables of the VPC CNI docs', () => {
    // aws/amazon-vpc-cni-k8s docs/eni-and-ip-target.md
    it.each([
      ['t3.small', { warmEniTarget: 1 }, 0, 1, 3],
      ['t3.small', { warmEniTarget: 1 }, 5, 3, 9],
      ['t3.small', { warmEniTarget: 1 }, 9, 3, 9],
      ['t3.small', { warmIpTarget: 1, minimumIpTarget: 1 }, 0, 1, 1],
      ['t3.small', { warmIpTarget: 1, minimumIpTarget: 1 }, 5, 2, 6],
      ['t3.small', { warmIpTarget: 1, minimumIpTarget: 1 }, 9, 3, 9],
      ['t3.small', { warmIpTarget: 2, minimumIpTarget: 5 }, 0, 2, 5],
      ['t3.small', { warmIpTarget: 2, minimumIpTarget: 5 }, 5, 3, 7],
      ['t3.small', { warmIpTarget: 2, minimumIpTarget: 5 }, 9, 3, 9],
      ['p3dn.24xlarge', { warmEniTarget: 1 }, 0, 1, 49],
      ['p3dn.24xlarge', { warmEniTarget: 1 }, 3, 2, 98],
      ['p3dn.24xlarge', { warmEniTarget: 1 }, 95, 3, 147],
      ['p3dn.24xlarge', { warmIpTarget: 5, minimumIpTarget: 10 }, 0, 1, 10],
      ['p3dn.24xlarge', { warmIpTarget: 5, minimumIpTarget: 10 }, 7, 1, 12],
      ['p3dn.24xlarge', { warmIpTarget: 5, minimumIpTarget: 10 }, 15, 1, 20],
      ['p3dn.24xlarge', { warmIpTarget: 5, minimumIpTarget: 10 }, 45, 2, 50],
    ])('%s %j, %i pods: %i ENIs, %i secondary IPs', (type, targets, pods, enis, secondaryIps) => {
      expect(holdingFor(capacityOf(type), pods, { prefixDelegation: false, ...targets })).toMatchObject({
        enis,
        secondaryIps,
      });
    });

    // aws/amazon-vpc-cni-k8s docs/prefix-and-ip-target.md (t3.small rows). The row "WARM_IP_TARGET=7,
    // MINIMUM_IP_TARGET=20, 0 pods" says 1 attached prefix but "0,0" pods per prefix and 2 prefixes
    // per ENI; the source (datastoreTargetState: ceil(20/16)) and the doc's own note on
    // MINIMUM_IP_TARGET give 2.
    it.each([
      [{ warmPrefixTarget: 1 }, 0, 1, 1],
      [{ warmPrefixTarget: 1 }, 5, 1, 2],
      [{ warmPrefixTarget: 1 }, 16, 1, 2],
      [{ warmPrefixTarget: 1 }, 17, 1, 3],
      [{ warmPrefixTarget: 1 }, 58, 2, 5],
      [{ warmIpTarget: 1, minimumIpTarget: 1 }, 0, 1, 1],
      [{ warmIpTarget: 1, minimumIpTarget: 1 }, 5, 1, 1],
      [{ warmIpTarget: 1, minimumIpTarget: 1 }, 17, 1, 2],
      [{ warmIpTarget: 1, minimumIpTarget: 1 }, 58, 2, 4],
      [{ warmIpTarget: 7, minimumIpTarget: 20 }, 0, 1, 2],
      [{ warmIpTarget: 7, minimumIpTarget: 20 }, 5, 1, 2],
      [{ warmIpTarget: 7, minimumIpTarget: 20 }, 17, 1, 2],
      [{ warmIpTarget: 7, minimumIpTarget: 20 }, 58, 2, 5],
    ])('t3.small prefix mode %j, %i pods: %i ENIs, %i prefixes', (targets, pods, enis, prefixes) => {
      expect(holdingFor(capacityOf('t3.small'), pods, { prefixDelegation: true, ...targets })).toMatchObject({
        enis,
        prefixes,
      });
    });
  });

  it.each([
    ['m5.large', DEFAULTS],
    ['m5.large', CUSTOM],
    ['m5.large', PREFIX_DEFAULTS],
    ['m5.large', { prefixDelegation: true, customNetworking: true }],
    ['c6g.2xlarge', PREFIX_DEFAULTS],
    ['m4.large', PREFIX_DEFAULTS],
    ['p3dn.24xlarge', WARM2_MIN10],
  ] as [string, IpamdConfig][])('%s %j: pods beyond capacity fill exactly the pod IP slots of lib/capacity', (type, config) => {
    const cap = capacityOf(type);
    const slots = podIpSlots(cap, { prefixDelegation: config.prefixDelegation, customNetworking: config.customNetworking });
    expect(holdingFor(cap, slots + 100, config)).toMatchObject({ podSlots: slots, podsWithIps: slots, warmIps: 0 });
  });

  it.each([-1, 1.5, Number.NaN])('rejects %p pods', (pods) => {
    expect(() => holdingFor(capacityOf('m5.large'), pods, DEFAULTS)).toThrow(RangeError);
  });

  it('rejects a negative target', () => {
    expect(() => holdingFor(capacityOf('m5.large'), 0, { prefixDelegation: false, warmIpTarget: -1 })).toThrow(
      /WARM_IP_TARGET/,
    );
  });
});

describe('estimateWarm', () => {
  const configs: [string, string, IpamdConfig][] = [
    ['m5.large', 'defaults', DEFAULTS],
    ['m5.large', 'WARM_ENI_TARGET=0', { prefixDelegation: false, warmEniTarget: 0 }],
    ['m5.large', 'WARM_ENI_TARGET=2', { prefixDelegation: false, warmEniTarget: 2 }],
    ['m5.large', 'WARM_IP_TARGET=2 MINIMUM_IP_TARGET=10', WARM2_MIN10],
    ['m5.large', 'MINIMUM_IP_TARGET=10 alone', { prefixDelegation: false, minimumIpTarget: 10 }],
    ['m5.large', 'custom networking', CUSTOM],
    ['m5.large', 'prefix defaults', PREFIX_DEFAULTS],
    ['m5.large', 'prefix, WARM_PREFIX_TARGET=3', { prefixDelegation: true, warmPrefixTarget: 3 }],
    ['m5.large', 'prefix, WARM_IP_TARGET=5 MINIMUM_IP_TARGET=20', { prefixDelegation: true, warmIpTarget: 5, minimumIpTarget: 20 }],
    ['m5.large', 'prefix, custom networking', { prefixDelegation: true, customNetworking: true }],
    ['c6g.2xlarge', 'prefix defaults', PREFIX_DEFAULTS],
    ['c6g.2xlarge', 'prefix defaults, maxPods 110', { ...PREFIX_DEFAULTS, maxPods: 110 }],
    ['c6g.2xlarge', 'defaults', DEFAULTS],
    ['m4.large', 'prefix asked on non-Nitro', PREFIX_DEFAULTS],
    ['t3.small', 'WARM_IP_TARGET=2 MINIMUM_IP_TARGET=5', { prefixDelegation: false, warmIpTarget: 2, minimumIpTarget: 5 }],
    ['m5.large', 'a trunk ENI', { prefixDelegation: false, trunkEnis: 1 }],
    ['m5.large', 'MAX_ENI=2', { prefixDelegation: false, maxEni: 2 }],
    ['m5.large', 'a no_manage ENI, WARM_IP_TARGET=2 MINIMUM_IP_TARGET=10', { ...WARM2_MIN10, unmanagedEnis: 1 }],
    ['m5.large', 'prefix defaults, a trunk ENI', { ...PREFIX_DEFAULTS, trunkEnis: 1 }],
    ['c6g.2xlarge', 'MAX_ENI=3, a trunk ENI, custom networking', { prefixDelegation: false, maxEni: 3, trunkEnis: 1, customNetworking: true }],
  ];

  it.each(configs)('%s %s: the estimate of every modelled holding contains its pods and warm pool', (type, _name, config) => {
    const cap = capacityOf(type);
    const capacity = podIpSlots(cap, { prefixDelegation: config.prefixDelegation, customNetworking: config.customNetworking });
    const misses: unknown[] = [];
    for (let pods = 0; pods <= capacity; pods++) {
      const holding = holdingFor(cap, pods, config);
      const estimate = estimateWarm(cap, holding, config);
      const fits =
        estimate.consistent &&
        estimate.podsMin <= holding.podsWithIps &&
        holding.podsWithIps <= estimate.podsMax &&
        estimate.warmMin <= holding.warmIps &&
        holding.warmIps <= estimate.warmMax;
      if (!fits) misses.push({ pods, holding, estimate });
    }
    expect(misses).toEqual([]);
  });

  it.each([
    // observed, podsMin, podsMax, warmMin, warmMax
    // A fresh node: the primary ENI's 9 secondaries are the spare ENI's worth.
    [{ enis: 1, secondaryIps: 9, prefixes: 0 }, 0, 0, 9, 9],
    // A second ENI comes with the first pod; an empty second ENI would be detached.
    [{ enis: 2, secondaryIps: 18, prefixes: 0 }, 1, 9, 9, 17],
    // All ENIs full: anything from 27 pods down to the 2 that pin the two secondary ENIs.
    [{ enis: 3, secondaryIps: 27, prefixes: 0 }, 2, 27, 0, 25],
  ])('m5.large defaults, observed %j: pods %i..%i, warm %i..%i', (observed, podsMin, podsMax, warmMin, warmMax) => {
    expect(estimateWarm(capacityOf('m5.large'), observed, DEFAULTS)).toEqual({
      podsMin,
      podsMax,
      warmMin,
      warmMax,
      consistent: true,
    });
  });

  it.each([
    [{ enis: 2, secondaryIps: 11, prefixes: 0 }, 9, 9],
    [{ enis: 2, secondaryIps: 10, prefixes: 0 }, 0, 8],
    [{ enis: 3, secondaryIps: 27, prefixes: 0 }, 25, 27],
  ])('WARM_IP_TARGET=2 MINIMUM_IP_TARGET=10 on m5.large, observed %j: pods %i..%i', (observed, podsMin, podsMax) => {
    expect(estimateWarm(capacityOf('m5.large'), observed, WARM2_MIN10)).toMatchObject({ podsMin, podsMax, consistent: true });
  });

  it('accepts prefixes pinned by one pod each under WARM_PREFIX_TARGET', () => {
    // 3 prefixes: too low above 32 pods; below 2 pods two prefixes would be free and one released.
    expect(estimateWarm(capacityOf('m5.large'), { enis: 1, secondaryIps: 0, prefixes: 3 }, PREFIX_DEFAULTS)).toEqual({
      podsMin: 2,
      podsMax: 32,
      warmMin: 16,
      warmMax: 46,
      consistent: true,
    });
  });

  it('counts secondary IPs left from before prefix mode as slots of unknown use', () => {
    expect(estimateWarm(capacityOf('m5.large'), { enis: 1, secondaryIps: 2, prefixes: 1 }, PREFIX_DEFAULTS)).toEqual({
      podsMin: 0,
      podsMax: 2,
      warmMin: 16,
      warmMax: 18,
      consistent: true,
    });
  });

  it('says so when no pod count fits the config', () => {
    // 3 secondary IPs on one ENI: WARM_ENI_TARGET=1 would have filled the ENI.
    expect(estimateWarm(capacityOf('m5.large'), { enis: 1, secondaryIps: 3, prefixes: 0 }, DEFAULTS)).toEqual({
      podsMin: 0,
      podsMax: 3,
      warmMin: 0,
      warmMax: 3,
      consistent: false,
    });
  });
});

describe('ENIs ipamd does not fill, and MAX_ENI (pkg/ipamd/ipamd.go hasRoomForEni, getMaxENI)', () => {
  const m5 = () => capacityOf('m5.large');

  it('a trunk ENI leaves an m5.large 2 ENIs and 18 pod addresses', () => {
    expect(holdingFor(m5(), 27, { prefixDelegation: false, trunkEnis: 1 })).toEqual({
      enis: 3,
      secondaryIps: 18,
      prefixes: 0,
      // 2 ENIs of ipamd's and the trunk, one address each, + 18 secondaries.
      subnetIps: 21,
      podSlots: 18,
      warmIps: 0,
      podsWithIps: 18,
    });
  });

  it('an unmanaged ENI takes a slot; its addresses are not counted', () => {
    expect(holdingFor(m5(), 27, { prefixDelegation: false, unmanagedEnis: 1 })).toMatchObject({ enis: 3, secondaryIps: 18, subnetIps: 20, podsWithIps: 18 });
  });

  it.each([
    // pods, MAX_ENI, enis, secondaryIps, podsWithIps
    [0, 1, 1, 9, 0],
    [10, 1, 1, 9, 9],
    [10, 2, 2, 18, 10],
    [27, 2, 2, 18, 18],
    // 0 or less is ignored (getMaxENI), as is a value above the type's maximum.
    [27, 0, 3, 27, 27],
    [27, -1, 3, 27, 27],
    [27, 8, 3, 27, 27],
  ])('%i pods with MAX_ENI=%i: %i ENIs, %i secondary IPs, %i pods with an IP', (pods, maxEni, enis, secondaryIps, podsWithIps) => {
    expect(holdingFor(m5(), pods, { prefixDelegation: false, maxEni })).toMatchObject({ enis, secondaryIps, podsWithIps });
  });

  it('prefix mode with a trunk: prefixes on 2 ENIs at most (18 /28s)', () => {
    expect(holdingFor(m5(), 400, { prefixDelegation: true, trunkEnis: 1 })).toMatchObject({ enis: 3, prefixes: 18, podSlots: 288 });
  });

  it('estimateWarm: 2 full ENIs and a trunk can carry up to 18 pods (no room to grow)', () => {
    expect(estimateWarm(m5(), { enis: 3, secondaryIps: 18, prefixes: 0 }, { prefixDelegation: false, trunkEnis: 1 })).toEqual({
      podsMin: 1,
      podsMax: 18,
      warmMin: 0,
      warmMax: 17,
      consistent: true,
    });
  });

  it('estimateWarm: 27 secondary IPs beside a trunk ENI are impossible on an m5.large', () => {
    expect(estimateWarm(m5(), { enis: 3, secondaryIps: 27, prefixes: 0 }, { prefixDelegation: false, trunkEnis: 1 })).toMatchObject({
      consistent: false,
    });
  });

  it('estimateWarm under MAX_ENI=2: 2 full ENIs rest at up to 18 pods; 3 ENIs are not a state ipamd makes', () => {
    expect(estimateWarm(m5(), { enis: 2, secondaryIps: 18, prefixes: 0 }, { prefixDelegation: false, maxEni: 2 })).toMatchObject({
      podsMax: 18,
      consistent: true,
    });
    expect(estimateWarm(m5(), { enis: 3, secondaryIps: 27, prefixes: 0 }, { prefixDelegation: false, maxEni: 2 })).toMatchObject({ consistent: false });
  });

  it('rejects a negative count of trunk or unmanaged ENIs', () => {
    expect(() => holdingFor(m5(), 1, { prefixDelegation: false, trunkEnis: -1 })).toThrow(RangeError);
    expect(() => holdingFor(m5(), 1, { prefixDelegation: false, unmanagedEnis: 0.5 })).toThrow(RangeError);
  });
});

describe('ipamdConfigOf', () => {
  const base: CniSettings = { source: 'defaults', invalid: [] };

  it('is undefined for a self-managed CNI', () => {
    expect(ipamdConfigOf({ source: 'unknown', invalid: [] })).toBeUndefined();
  });

  it.each<[string, CniSettings, IpamdConfig]>([
    [
      'the add-on without overrides',
      base,
      { prefixDelegation: false, customNetworking: false, warmEniTarget: 1, warmIpTarget: 0, minimumIpTarget: 0, warmPrefixTarget: 1 },
    ],
    [
      'IP targets',
      { ...base, source: 'add-on', warmIpTarget: 2, minimumIpTarget: 10 },
      { prefixDelegation: false, customNetworking: false, warmEniTarget: 1, warmIpTarget: 2, minimumIpTarget: 10, warmPrefixTarget: 1 },
    ],
    [
      'prefix delegation with custom networking',
      { ...base, source: 'add-on', prefixDelegation: true, customNetworking: true, warmPrefixTarget: 2 },
      { prefixDelegation: true, customNetworking: true, warmEniTarget: 1, warmIpTarget: 0, minimumIpTarget: 0, warmPrefixTarget: 2 },
    ],
    [
      'MAX_ENI',
      { ...base, source: 'add-on', maxEni: 2 },
      { prefixDelegation: false, customNetworking: false, warmEniTarget: 1, warmIpTarget: 0, minimumIpTarget: 0, warmPrefixTarget: 1, maxEni: 2 },
    ],
  ])('applies the CNI defaults to %s', (_name, settings, expected) => {
    expect(ipamdConfigOf(settings)).toEqual(expected);
  });

  it('gives the same holding as the defaults for the add-on without overrides', () => {
    const config = ipamdConfigOf(base);
    expect(config).toBeDefined();
    const cap = capacityOf('m5.large');
    for (const pods of [0, 1, 10, 27]) {
      expect(holdingFor(cap, pods, config ?? DEFAULTS)).toEqual(holdingFor(cap, pods, DEFAULTS));
    }
  });
});
