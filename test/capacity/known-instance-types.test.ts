import { closestInstanceTypes, knownInstanceTypes } from '../../lib/capacity/known-instance-types';
import { networkCapacityOf } from '../../lib/capacity/instance-type';
import { trimInstanceTypes } from '../../scripts/import-instance-types';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKED_INSTANCE_TYPES } from '../../lib/capacity/data/instance-types.packed';
import { packText, unpackText } from '../../lib/capacity/packed';

describe('knownInstanceTypes', () => {
  it('loads the 1,373 bundled instance types', () => {
    expect(knownInstanceTypes().size).toBe(1373);
  });

  it('bundles exactly the reviewed JSON, packed (regenerate with `npx tsx scripts/import-instance-types.ts --pack`)', () => {
    const json = readFileSync(path.join(__dirname, '..', '..', 'lib', 'capacity', 'data', 'instance-types.compact.json'), 'utf8');
    expect(unpackText(PACKED_INSTANCE_TYPES)).toBe(json);
    expect(PACKED_INSTANCE_TYPES.length).toBeLessThan(json.length / 8);
    expect(unpackText(packText('{"types":[]}\n'))).toBe('{"types":[]}\n');
  });

  it('parses the data once and returns the same map afterwards', () => {
    expect(knownInstanceTypes()).toBe(knownInstanceTypes());
  });

  it('looks up an instance type by name, in the API shape', () => {
    expect(knownInstanceTypes().get('m5.large')).toEqual({
      InstanceType: 'm5.large',
      // As the source data has it: EC2 lists m5 among the previous-generation types.
      CurrentGeneration: false,
      Hypervisor: 'nitro',
      BareMetal: false,
      ProcessorInfo: { SupportedArchitectures: ['x86_64'] },
      VCpuInfo: { DefaultVCpus: 2 },
      MemoryInfo: { SizeInMiB: 8192 },
      NetworkInfo: {
        MaximumNetworkInterfaces: 3,
        Ipv4AddressesPerInterface: 10,
        MaximumNetworkCards: 1,
        DefaultNetworkCardIndex: 0,
        NetworkCards: [{ NetworkCardIndex: 0, MaximumNetworkInterfaces: 3 }],
        EfaSupported: false,
      },
    });
  });

  it('answers undefined for an unknown instance type', () => {
    expect(knownInstanceTypes().get('m5.gigantic')).toBeUndefined();
  });

  it('keys every entry by its own InstanceType', () => {
    for (const [name, info] of knownInstanceTypes()) expect(info.InstanceType).toBe(name);
  });

  it('holds complete data: every type yields a network capacity', () => {
    const failures: string[] = [];
    for (const [name, info] of knownInstanceTypes()) {
      try {
        networkCapacityOf(info);
      } catch (err) {
        failures.push(`${name}: ${(err as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('drops the Hypervisor of bare-metal types, as the SDK does, instead of keeping null', () => {
    const metal = knownInstanceTypes().get('a1.metal');
    expect(metal?.BareMetal).toBe(true);
    expect(metal).not.toHaveProperty('Hypervisor');
  });
});

describe('trimInstanceTypes (scripts/import-instance-types.ts)', () => {
  it('keeps the fields the model reads, drops the rest and the nulls, and sorts by name', () => {
    const source = {
      InstanceTypes: [
        {
          InstanceType: 'z9.metal',
          CurrentGeneration: true,
          Hypervisor: null,
          BareMetal: true,
          FreeTierEligible: false,
          ProcessorInfo: { SupportedArchitectures: ['arm64'], SustainedClockSpeedInGhz: 2.5 },
          VCpuInfo: { DefaultVCpus: 64, DefaultCores: 64 },
          MemoryInfo: { SizeInMiB: 262144 },
          NetworkInfo: {
            NetworkPerformance: '25 Gigabit',
            MaximumNetworkInterfaces: 15,
            Ipv4AddressesPerInterface: 50,
            Ipv6AddressesPerInterface: 50,
            MaximumNetworkCards: 1,
            DefaultNetworkCardIndex: 0,
            NetworkCards: [{ NetworkCardIndex: 0, MaximumNetworkInterfaces: 15, BaselineBandwidthInGbps: 25 }],
            EfaSupported: false,
          },
        },
        { InstanceType: 'a9.small', NetworkInfo: { MaximumNetworkInterfaces: 2, Ipv4AddressesPerInterface: 4 } },
      ],
    };
    expect(trimInstanceTypes(source)).toEqual({
      InstanceTypes: [
        { InstanceType: 'a9.small', NetworkInfo: { MaximumNetworkInterfaces: 2, Ipv4AddressesPerInterface: 4 } },
        {
          InstanceType: 'z9.metal',
          CurrentGeneration: true,
          BareMetal: true,
          ProcessorInfo: { SupportedArchitectures: ['arm64'] },
          VCpuInfo: { DefaultVCpus: 64 },
          MemoryInfo: { SizeInMiB: 262144 },
          NetworkInfo: {
            MaximumNetworkInterfaces: 15,
            Ipv4AddressesPerInterface: 50,
            MaximumNetworkCards: 1,
            DefaultNetworkCardIndex: 0,
            NetworkCards: [{ NetworkCardIndex: 0, MaximumNetworkInterfaces: 15 }],
            EfaSupported: false,
          },
        },
      ],
    });
  });

  it('rejects a document that is not a describe-instance-types response', () => {
    expect(() => trimInstanceTypes({ Reservations: [] })).toThrow('{"InstanceTypes":[...]}');
  });

  it('rejects an instance type listed twice', () => {
    expect(() => trimInstanceTypes({ InstanceTypes: [{ InstanceType: 'm5.large' }, { InstanceType: 'm5.large' }] })).toThrow(
      'instance type m5.large appears twice',
    );
  });
});

describe('closestInstanceTypes', () => {
  it.each<[string, string[]]>([
    // A typo: the type itself first.
    ['m5.larg', ['m5.large', 'm5.xlarge', 'm5a.large']],
    ['m5.lrage', ['m5.large']],
    // A family without the variant letter: the variants, not other generations.
    ['m7.large', ['m7a.large', 'm7g.large', 'm7i.large']],
    // A size the family lacks: the family's sizes closest in spelling.
    ['m5.huge', ['m5.large', 'm5.xlarge', 'm5.2xlarge']],
    ['M5.LARG', ['m5.large', 'm5.xlarge', 'm5a.large']],
    // Nothing close.
    ['x9.huge', []],
    ['frobnicator', []],
  ])('%s → %j', (name, expected) => {
    expect(closestInstanceTypes(name).slice(0, expected.length === 1 ? 1 : 3)).toEqual(expected);
  });

  it('takes its own list of names', () => {
    expect(closestInstanceTypes('c7.large', 2, ['c7g.large', 'c7gn.large', 'r7g.large'])).toEqual(['c7g.large', 'c7gn.large']);
  });
});
