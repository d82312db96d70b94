import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { decodeInstanceType, encodeInstanceType, type CompactType } from '../../lib/capacity/compact';
import { trimInstanceTypes } from '../../scripts/import-instance-types';

const BUNDLED = (
  JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'lib', 'capacity', 'data', 'instance-types.compact.json'), 'utf8')) as { types: CompactType[] }
).types;

/** An instance type as decodeInstanceType gives it: every fact the tuple keeps, present. */
function info(over: { NetworkInfo?: Partial<NonNullable<InstanceTypeInfo['NetworkInfo']>> } & Omit<Partial<InstanceTypeInfo>, 'NetworkInfo'> = {}): InstanceTypeInfo {
  const { NetworkInfo, ...rest } = over;
  return {
    InstanceType: 'm5.large',
    CurrentGeneration: true,
    Hypervisor: 'nitro',
    BareMetal: false,
    ProcessorInfo: { SupportedArchitectures: ['x86_64'] },
    VCpuInfo: { DefaultVCpus: 2 },
    MemoryInfo: { SizeInMiB: 8192 },
    ...rest,
    NetworkInfo: {
      MaximumNetworkInterfaces: 3,
      Ipv4AddressesPerInterface: 10,
      MaximumNetworkCards: 1,
      DefaultNetworkCardIndex: 0,
      NetworkCards: [{ NetworkCardIndex: 0, MaximumNetworkInterfaces: 3 }],
      EfaSupported: false,
      ...NetworkInfo,
    },
  };
}

describe('the compact instance-type encoding (lib/capacity/compact.ts)', () => {
  it('holds the 1,373 bundled types, among them the shapes the edge cases below stand for', () => {
    expect(BUNDLED).toHaveLength(1373);
    expect(BUNDLED.filter((c) => c[11] !== 0).length).toBeGreaterThan(0); // more than one network card
    expect(BUNDLED.filter((c) => c[2] === '').length).toBeGreaterThan(0); // no Hypervisor (bare metal)
    expect(BUNDLED.filter((c) => c[4].includes('|')).length).toBeGreaterThan(0); // several architectures
  });

  it('encodes every bundled type back to its tuple (decode, then encode)', () => {
    const different = BUNDLED.filter((c) => JSON.stringify(encodeInstanceType(decodeInstanceType(c))) !== JSON.stringify(c));
    expect(different).toEqual([]);
  });

  it('decodes every bundled type to what it encoded (encode, then decode)', () => {
    const different = BUNDLED.map(decodeInstanceType).filter((t) => !isDeepStrictEqual(decodeInstanceType(encodeInstanceType(t)), t));
    expect(different.map((t) => t.InstanceType)).toEqual([]);
  });

  it.each<[string, InstanceTypeInfo, CompactType[11]]>([
    ['one card, the default, with all the ENIs: stored as 0', info(), 0],
    [
      'two cards (c6in.32xlarge)',
      info({
        InstanceType: 'c6in.32xlarge',
        NetworkInfo: {
          MaximumNetworkInterfaces: 16,
          Ipv4AddressesPerInterface: 50,
          MaximumNetworkCards: 2,
          NetworkCards: [
            { NetworkCardIndex: 0, MaximumNetworkInterfaces: 8 },
            { NetworkCardIndex: 1, MaximumNetworkInterfaces: 8 },
          ],
          EfaSupported: true,
        },
      }),
      [
        [0, 8],
        [1, 8],
      ],
    ],
    [
      'one card that is not the default card',
      info({ NetworkInfo: { DefaultNetworkCardIndex: 0, NetworkCards: [{ NetworkCardIndex: 1, MaximumNetworkInterfaces: 3 }] } }),
      [[1, 3]],
    ],
    [
      'one card holding fewer ENIs than the instance',
      info({ NetworkInfo: { MaximumNetworkInterfaces: 4, NetworkCards: [{ NetworkCardIndex: 0, MaximumNetworkInterfaces: 3 }] } }),
      [[0, 3]],
    ],
    ['a default card other than 0, alone', info({ NetworkInfo: { DefaultNetworkCardIndex: 1, NetworkCards: [{ NetworkCardIndex: 1, MaximumNetworkInterfaces: 3 }] } }), 0],
    ['no card listed', info({ NetworkInfo: { NetworkCards: [] } }), []],
  ])('keeps the network cards: %s', (_name, input, cards) => {
    const encoded = encodeInstanceType(input);
    expect(encoded[11]).toEqual(cards);
    expect(decodeInstanceType(encoded)).toEqual(input);
  });

  it.each<[string, InstanceTypeInfo]>([
    ['bare metal, without a Hypervisor (as the SDK gives it)', info({ InstanceType: 'a1.metal', BareMetal: true, Hypervisor: undefined })],
    ['several architectures, a previous generation, Xen', info({ InstanceType: 'c1.medium', CurrentGeneration: false, Hypervisor: 'xen', ProcessorInfo: { SupportedArchitectures: ['i386', 'x86_64'] } })],
    ['no architecture listed', info({ ProcessorInfo: { SupportedArchitectures: [] } })],
    ['EFA', info({ NetworkInfo: { EfaSupported: true } })],
  ])('keeps the other facts: %s', (_name, input) => {
    const expected: InstanceTypeInfo = { ...input };
    if (expected.Hypervisor === undefined) delete expected.Hypervisor;
    expect(decodeInstanceType(encodeInstanceType(input))).toEqual(expected);
  });

  it('keeps of a DescribeInstanceTypes answer exactly what the importer keeps (scripts/import-instance-types.ts)', () => {
    // A whole answer: fields the model does not read, and the CLI's null Hypervisor on bare metal.
    const answer = {
      InstanceType: 'm7i.metal-24xl',
      CurrentGeneration: true,
      Hypervisor: null,
      BareMetal: true,
      FreeTierEligible: false,
      SupportedUsageClasses: ['on-demand', 'spot'],
      ProcessorInfo: { SupportedArchitectures: ['x86_64'], SustainedClockSpeedInGhz: 3.2, Manufacturer: 'Intel' },
      VCpuInfo: { DefaultVCpus: 96, DefaultCores: 48, DefaultThreadsPerCore: 2 },
      MemoryInfo: { SizeInMiB: 393216 },
      NetworkInfo: {
        NetworkPerformance: '37.5 Gigabit',
        MaximumNetworkInterfaces: 15,
        MaximumNetworkCards: 1,
        DefaultNetworkCardIndex: 0,
        NetworkCards: [{ NetworkCardIndex: 0, NetworkPerformance: '37.5 Gigabit', MaximumNetworkInterfaces: 15, BaselineBandwidthInGbps: 37.5 }],
        Ipv4AddressesPerInterface: 50,
        Ipv6AddressesPerInterface: 50,
        Ipv6Supported: true,
        EnaSupport: 'required',
        EfaSupported: false,
      },
    };
    const [trimmed] = trimInstanceTypes({ InstanceTypes: [answer] }).InstanceTypes;
    expect(decodeInstanceType(encodeInstanceType(answer as unknown as InstanceTypeInfo))).toEqual(trimmed);
  });

  it('encodes an answer with nothing filled in, and a card with nothing filled in, as zeros', () => {
    expect(encodeInstanceType({})).toEqual(['', 0, '', 0, '', 0, 0, 0, 0, 0, 0, [], 0]);
    const blankCard = encodeInstanceType({ InstanceType: 'x1.tiny' as never, NetworkInfo: { NetworkCards: [{}] } });
    // Card 0 with 0 ENIs is the usual single card of an instance with 0 ENIs and default card 0.
    expect(blankCard[11]).toBe(0);
    expect(decodeInstanceType(blankCard).NetworkInfo?.NetworkCards).toEqual([{ NetworkCardIndex: 0, MaximumNetworkInterfaces: 0 }]);
  });

  it('decodes what an answer leaves out as zero, false or empty', () => {
    expect(decodeInstanceType(encodeInstanceType({ InstanceType: 'x1.tiny' as never }))).toEqual({
      InstanceType: 'x1.tiny',
      CurrentGeneration: false,
      BareMetal: false,
      ProcessorInfo: { SupportedArchitectures: [] },
      VCpuInfo: { DefaultVCpus: 0 },
      MemoryInfo: { SizeInMiB: 0 },
      NetworkInfo: {
        MaximumNetworkInterfaces: 0,
        Ipv4AddressesPerInterface: 0,
        MaximumNetworkCards: 0,
        DefaultNetworkCardIndex: 0,
        NetworkCards: [],
        EfaSupported: false,
      },
    });
  });
});
