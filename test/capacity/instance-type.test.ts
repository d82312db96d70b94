import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InstanceTypeInfo, _InstanceType } from '@aws-sdk/client-ec2';
import {
  cniMaxEnis,
  cniSupportsPrefixDelegation,
  eniMaxPods,
  enisForPods,
  InstanceTypeDataError,
  kubeletMaxPodsCap,
  maxPods,
  networkCapacityOf,
  nodeadmDefaultMaxPods,
  podEnisOfNode,
  podIpSlots,
  type MaxPodsOptions,
  type NetworkCapacity,
} from '../../lib/capacity/instance-type';
import { knownInstanceTypes } from '../../lib/capacity/known-instance-types';

/** AWS's published list: awslabs/amazon-eks-ami templates/shared/runtime/eni-max-pods.txt. */
function readPublishedEniMaxPods(): Map<string, number> {
  const text = readFileSync(join(__dirname, '..', 'fixtures', 'eni-max-pods.txt'), 'utf8');
  const published = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\S+) (\d+)$/.exec(line);
    if (!match) throw new Error(`unexpected line in eni-max-pods.txt: ${JSON.stringify(line)}`);
    published.set(match[1]!, Number(match[2]));
  }
  return published;
}

/** Synthetic instance types, not in the SDK's list of names. */
const TEST_TYPE = 'test.large' as _InstanceType;
const BROKEN_TYPE = 'x9.huge' as _InstanceType;

function known(instanceType: string): InstanceTypeInfo {
  const info = knownInstanceTypes().get(instanceType);
  if (!info) throw new Error(`${instanceType} is not in the bundled data`);
  return info;
}

function capacityOf(instanceType: string): NetworkCapacity {
  return networkCapacityOf(known(instanceType));
}

/** A minimal, complete DescribeInstanceTypes entry, shaped like the API's. */
function infoWith(overrides: Partial<InstanceTypeInfo>, network?: InstanceTypeInfo['NetworkInfo']): InstanceTypeInfo {
  return {
    InstanceType: TEST_TYPE,
    Hypervisor: 'nitro',
    BareMetal: false,
    ProcessorInfo: { SupportedArchitectures: ['x86_64'] },
    VCpuInfo: { DefaultVCpus: 2 },
    MemoryInfo: { SizeInMiB: 8192 },
    NetworkInfo: network ?? {
      MaximumNetworkInterfaces: 3,
      Ipv4AddressesPerInterface: 10,
      MaximumNetworkCards: 1,
      DefaultNetworkCardIndex: 0,
      NetworkCards: [{ NetworkCardIndex: 0, MaximumNetworkInterfaces: 3 }],
    },
    ...overrides,
  };
}

describe('eniMaxPods against AWS published eni-max-pods.txt', () => {
  const published = readPublishedEniMaxPods();
  const data = knownInstanceTypes();

  const compared: string[] = [];
  const absentFromList: string[] = [];
  const mismatches: { instanceType: string; published: number; modelled: number }[] = [];
  for (const [instanceType, info] of data) {
    const expected = published.get(instanceType);
    if (expected === undefined) {
      absentFromList.push(instanceType);
      continue;
    }
    compared.push(instanceType);
    const modelled = eniMaxPods(networkCapacityOf(info));
    if (modelled !== expected) mismatches.push({ instanceType, published: expected, modelled });
  }
  const listOnly = [...published.keys()].filter((name) => !data.has(name)).sort();

  it('matches the published value for every instance type in both', () => {
    expect(mismatches).toEqual([]);
  });

  it('compares 1,081 instance types, the bundled data less the types newer than the list', () => {
    expect(published.size).toBe(1098);
    expect(compared).toHaveLength(1081);
    // Types launched after the list was generated (c8ib, m8gn, r8id, x8i, c9g, g7, ...).
    expect(absentFromList).toHaveLength(292);
    expect(compared.length + absentFromList.length).toBe(data.size);
  });

  it('lists 17 types the bundled data lacks: retired types and the generator manual entries', () => {
    // The generator adds cr1, hs1, u-*tb1.metal, c5a/c5ad.metal and bmn-sf1.metal by hand
    // (aws/amazon-vpc-cni-k8s scripts/gen_vpc_ip_limits.go addManualLimits) although
    // DescribeInstanceTypes no longer returns them; dl1, f1 and p3 are retired types.
    expect(listOnly).toEqual([
      'bmn-sf1.metal',
      'c5a.metal',
      'c5ad.metal',
      'cr1.8xlarge',
      'dl1.24xlarge',
      'f1.16xlarge',
      'f1.2xlarge',
      'f1.4xlarge',
      'hs1.8xlarge',
      'p3.16xlarge',
      'p3.2xlarge',
      'p3.8xlarge',
      'u-12tb1.metal',
      'u-18tb1.metal',
      'u-24tb1.metal',
      'u-6tb1.metal',
      'u-9tb1.metal',
    ]);
  });
});

describe('networkCapacityOf', () => {
  it('reads the limits of m5.large', () => {
    expect(capacityOf('m5.large')).toEqual({
      instanceType: 'm5.large',
      maxEnis: 3,
      ipv4PerEni: 10,
      nitro: true,
      vcpus: 2,
      memoryMiB: 8192,
      architectures: ['x86_64'],
    });
  });

  it.each([
    ['m5.large', 'nitro hypervisor', true],
    ['a1.metal', 'bare metal, no Hypervisor in the API', true],
    ['c5.metal', 'bare metal, no Hypervisor in the API', true],
    ['m4.large', 'xen hypervisor', false],
    ['t2.micro', 'xen hypervisor', false],
  ])('treats %s (%s) as nitro = %s', (instanceType, _why, nitro) => {
    expect(capacityOf(instanceType).nitro).toBe(nitro);
  });

  it('counts only the default network card of a multi-card type (p5.48xlarge: 2 of 64 ENIs)', () => {
    const p5 = capacityOf('p5.48xlarge');
    expect(known('p5.48xlarge').NetworkInfo?.MaximumNetworkInterfaces).toBe(64);
    expect(p5.maxEnis).toBe(2);
    expect(eniMaxPods(p5)).toBe(100);
  });

  it('uses the card named by DefaultNetworkCardIndex, not the first one', () => {
    const info = infoWith({}, {
      MaximumNetworkInterfaces: 12,
      Ipv4AddressesPerInterface: 10,
      DefaultNetworkCardIndex: 1,
      NetworkCards: [
        { NetworkCardIndex: 0, MaximumNetworkInterfaces: 4 },
        { NetworkCardIndex: 1, MaximumNetworkInterfaces: 8 },
      ],
    });
    expect(networkCapacityOf(info).maxEnis).toBe(8);
  });

  it('falls back to MaximumNetworkInterfaces when NetworkCards is absent', () => {
    const info = infoWith({}, { MaximumNetworkInterfaces: 4, Ipv4AddressesPerInterface: 15 });
    expect(networkCapacityOf(info).maxEnis).toBe(4);
  });

  it('copies the architectures rather than sharing the array', () => {
    const info = infoWith({});
    const cap = networkCapacityOf(info);
    cap.architectures.push('arm64');
    expect(info.ProcessorInfo?.SupportedArchitectures).toEqual(['x86_64']);
  });

  it.each<[string, InstanceTypeInfo, string]>([
    ['no NetworkInfo', infoWith({ InstanceType: BROKEN_TYPE, NetworkInfo: undefined }), 'NetworkInfo'],
    [
      'no Ipv4AddressesPerInterface',
      infoWith({ InstanceType: BROKEN_TYPE }, { MaximumNetworkInterfaces: 3, NetworkCards: [{ NetworkCardIndex: 0, MaximumNetworkInterfaces: 3 }], DefaultNetworkCardIndex: 0 }),
      'NetworkInfo.Ipv4AddressesPerInterface',
    ],
    [
      'no NetworkCards and no MaximumNetworkInterfaces',
      infoWith({ InstanceType: BROKEN_TYPE }, { Ipv4AddressesPerInterface: 10 }),
      'NetworkInfo.MaximumNetworkInterfaces',
    ],
    [
      'a DefaultNetworkCardIndex with no matching card',
      infoWith({ InstanceType: BROKEN_TYPE }, {
        Ipv4AddressesPerInterface: 10,
        DefaultNetworkCardIndex: 2,
        NetworkCards: [{ NetworkCardIndex: 0, MaximumNetworkInterfaces: 3 }],
      }),
      'NetworkInfo.NetworkCards',
    ],
    [
      'several cards and no DefaultNetworkCardIndex',
      infoWith({ InstanceType: BROKEN_TYPE }, {
        Ipv4AddressesPerInterface: 10,
        NetworkCards: [
          { NetworkCardIndex: 0, MaximumNetworkInterfaces: 3 },
          { NetworkCardIndex: 1, MaximumNetworkInterfaces: 3 },
        ],
      }),
      'NetworkInfo.DefaultNetworkCardIndex',
    ],
    [
      'a default card without MaximumNetworkInterfaces',
      infoWith({ InstanceType: BROKEN_TYPE }, {
        Ipv4AddressesPerInterface: 10,
        DefaultNetworkCardIndex: 0,
        NetworkCards: [{ NetworkCardIndex: 0 }],
      }),
      'NetworkInfo.NetworkCards[0].MaximumNetworkInterfaces',
    ],
    [
      'zero IPv4 addresses per interface',
      infoWith({ InstanceType: BROKEN_TYPE }, { MaximumNetworkInterfaces: 3, Ipv4AddressesPerInterface: 0 }),
      'NetworkInfo.Ipv4AddressesPerInterface',
    ],
    ['no VCpuInfo', infoWith({ InstanceType: BROKEN_TYPE, VCpuInfo: undefined }), 'VCpuInfo.DefaultVCpus'],
    ['no MemoryInfo', infoWith({ InstanceType: BROKEN_TYPE, MemoryInfo: undefined }), 'MemoryInfo.SizeInMiB'],
    ['no ProcessorInfo', infoWith({ InstanceType: BROKEN_TYPE, ProcessorInfo: undefined }), 'ProcessorInfo.SupportedArchitectures'],
  ])('throws InstanceTypeDataError for %s, naming the type and the field', (_case, info, field) => {
    let thrown: unknown;
    try {
      networkCapacityOf(info);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InstanceTypeDataError);
    const error = thrown as InstanceTypeDataError;
    expect(error.name).toBe('InstanceTypeDataError');
    expect(error.instanceType).toBe('x9.huge');
    expect(error.field).toBe(field);
    expect(error.message).toContain('x9.huge');
    expect(error.message).toContain(field);
  });
});

describe('maxPods, podIpSlots and enisForPods', () => {
  const none: MaxPodsOptions = {};
  const capped: MaxPodsOptions = { applyKubeletCap: true };
  const prefix: MaxPodsOptions = { prefixDelegation: true };
  const prefixCapped: MaxPodsOptions = { prefixDelegation: true, applyKubeletCap: true };
  const custom: MaxPodsOptions = { customNetworking: true };
  const customPrefix: MaxPodsOptions = { customNetworking: true, prefixDelegation: true };
  const customPrefixCapped: MaxPodsOptions = { ...customPrefix, applyKubeletCap: true };

  it.each<[string, string, MaxPodsOptions, number, number, number]>([
    // type, why, options, ENIs for pods, pod IP slots, max pods
    ['m5.large', 'secondary IPs: 3 × (10 − 1) + 2', none, 3, 27, 29],
    ['m5.large', 'secondary IPs, capped: already under 110', capped, 3, 27, 29],
    ['m5.large', 'prefixes: 3 × (9 × 16) + 2', prefix, 3, 432, 434],
    ['m5.large', 'prefixes, capped at 110 (2 vCPUs)', prefixCapped, 3, 432, 110],
    ['m5.large', 'custom networking: (3 − 1) × 9 + 2', custom, 2, 18, 20],
    ['m5.large', 'custom networking with prefixes: 2 × 144 + 2', customPrefix, 2, 288, 290],
    ['m5.large', 'custom networking with prefixes, capped', customPrefixCapped, 2, 288, 110],
    ['m5.24xlarge', 'secondary IPs: 15 × 49 + 2', none, 15, 735, 737],
    ['m5.24xlarge', 'secondary IPs, capped at 250 (96 vCPUs)', capped, 15, 735, 250],
    ['m5.24xlarge', 'prefixes, capped at 250', prefixCapped, 15, 11760, 250],
    ['m5.8xlarge', 'capped: 234 is under 250 (32 vCPUs)', capped, 8, 232, 234],
    ['m5.4xlarge', 'capped: 234 cut to 110 (16 vCPUs)', capped, 8, 232, 110],
    ['t3.nano', 'secondary IPs: 2 × 1 + 2', none, 2, 2, 4],
    ['t3.nano', 'prefixes below the cap keep their value: 2 × 16 + 2', prefixCapped, 2, 32, 34],
    ['m4.large', 'xen: prefix delegation asked for, secondary IPs used', prefix, 2, 18, 20],
    ['a1.metal', 'bare metal is Nitro: prefixes 8 × (29 × 16) + 2', prefix, 8, 3712, 3714],
    ['a1.metal', 'bare metal, prefixes capped at 110 (16 vCPUs)', prefixCapped, 8, 3712, 110],
    ['p5.48xlarge', 'default card only: 2 × 49 + 2', none, 2, 98, 100],
    ['p5.48xlarge', 'default card only, custom networking: 1 × 49 + 2', custom, 1, 49, 51],
    ['c6in.32xlarge', 'two cards of 8 ENIs: 8 × 49 + 2', none, 8, 392, 394],
    // MAX_ENI, the calculator's --cni-max-eni: min(MAX_ENI, ENIs), then custom networking.
    ['m5.large', 'MAX_ENI=2: 2 × 9 + 2', { maxEni: 2 }, 2, 18, 20],
    ['m5.large', 'MAX_ENI=1 with custom networking: no ENI for pods', { maxEni: 1, customNetworking: true }, 0, 0, 2],
    ['m5.large', 'MAX_ENI=2 with prefixes: 2 × 144 + 2', { maxEni: 2, prefixDelegation: true }, 2, 288, 290],
    ['m5.large', 'MAX_ENI above the maximum is the maximum', { maxEni: 8 }, 3, 27, 29],
    ['m5.large', 'MAX_ENI=0 is ignored, as ipamd does', { maxEni: 0 }, 3, 27, 29],
    ['c5.18xlarge', 'MAX_ENI=4: 4 × 49 + 2, under the 250 cap', { maxEni: 4, applyKubeletCap: true }, 4, 196, 198],
  ])('%s, %s', (instanceType, _why, opts, enis, slots, pods) => {
    const cap = capacityOf(instanceType);
    expect(enisForPods(cap, opts)).toBe(enis);
    expect(podIpSlots(cap, opts)).toBe(slots);
    expect(maxPods(cap, opts)).toBe(pods);
  });

  it('defaults to secondary IPs, no custom networking and no cap', () => {
    const cap = capacityOf('m5.24xlarge');
    expect(maxPods(cap)).toBe(737);
    expect(podIpSlots(cap)).toBe(735);
    expect(enisForPods(cap)).toBe(15);
  });

  it('eniMaxPods is the uncapped secondary-IP value whatever the card layout', () => {
    expect(eniMaxPods(capacityOf('m5.large'))).toBe(29);
    expect(eniMaxPods(capacityOf('m5.24xlarge'))).toBe(737);
    expect(eniMaxPods(capacityOf('t2.micro'))).toBe(4);
  });

  it('never counts a negative number of ENIs under custom networking', () => {
    const oneEni = networkCapacityOf(infoWith({}, { MaximumNetworkInterfaces: 1, Ipv4AddressesPerInterface: 4 }));
    expect(enisForPods(oneEni, custom)).toBe(0);
    expect(maxPods(oneEni, custom)).toBe(2);
  });
});

describe('ENIs of one node that carry no pods (trunk, unmanaged) and MAX_ENI', () => {
  const m5 = (): NetworkCapacity => capacityOf('m5.large');

  it.each<[string, MaxPodsOptions, { trunkEnis?: number; unmanagedEnis?: number }, number, number]>([
    // why, options, the node's ENIs, ENIs for pods, pod IP slots
    ['a trunk ENI: 2 × 9, not 27', {}, { trunkEnis: 1 }, 2, 18],
    ['a no_manage ENI', {}, { unmanagedEnis: 1 }, 2, 18],
    ['a trunk and an EFA-only ENI', {}, { trunkEnis: 1, unmanagedEnis: 1 }, 1, 9],
    ['a trunk with prefixes: 2 × 144', { prefixDelegation: true }, { trunkEnis: 1 }, 2, 288],
    ['a trunk under custom networking: 1 × 9', { customNetworking: true }, { trunkEnis: 1 }, 1, 9],
    ['MAX_ENI=2 and a trunk', { maxEni: 2 }, { trunkEnis: 1 }, 1, 9],
    ['more reserved than there are ENIs: none, never negative', {}, { trunkEnis: 1, unmanagedEnis: 5 }, 0, 0],
  ])('m5.large, %s', (_why, opts, node, enis, slots) => {
    expect(podEnisOfNode(m5(), opts, node)).toBe(enis);
    expect(podIpSlots(m5(), opts, node)).toBe(slots);
  });

  it('max pods (the kubelet value) knows nothing of the node\'s trunk', () => {
    expect(maxPods(m5(), {})).toBe(29);
  });

  it.each([
    [undefined, 3],
    [1, 1],
    [2, 2],
    [3, 3],
    [4, 3],
    [0, 3],
    [-1, 3],
  ])('cniMaxEnis with MAX_ENI=%p: %i', (maxEni, enis) => {
    expect(cniMaxEnis(m5(), maxEni === undefined ? {} : { maxEni })).toBe(enis);
  });
});

describe('nodeadmDefaultMaxPods: what AL2023 sets without a maxPods in its NodeConfig', () => {
  // nodeadm/internal/kubelet eni_max_pods.go calculateStandardMaxPods:
  // DefaultMaxENIs*(Ipv4AddressesPerInterface-1) + 2, with no cap and no mode.
  it.each([
    ['m5.large', 29],
    ['m5.24xlarge', 737],
    ['c6in.32xlarge', 394],
    ['p5.48xlarge', 100],
    ['t3.nano', 4],
  ])('%s: %i, the secondary-IP figure uncapped', (type, pods) => {
    const cap = capacityOf(type);
    expect(nodeadmDefaultMaxPods(cap)).toBe(pods);
    expect(nodeadmDefaultMaxPods(cap)).toBe(eniMaxPods(cap));
  });

  it('is below the prefix-mode value EKS would set on an m5.large (110): prefix mode alone does not raise it', () => {
    const cap = capacityOf('m5.large');
    expect(nodeadmDefaultMaxPods(cap)).toBeLessThan(maxPods(cap, { prefixDelegation: true, applyKubeletCap: true }));
  });
});

describe('cniSupportsPrefixDelegation: VPC CNI 1.9.0 or later (max-pods-calculator.sh)', () => {
  it.each([
    ['1.7.5', false],
    ['1.8.0', false],
    ['1.8.9', false],
    ['1.9.0', true],
    ['1.9', true],
    ['1.10.1', true],
    ['v1.19.2-eksbuild.1', true],
    ['v1.8.0-eksbuild.1', false],
    ['2.0.0', true],
    ['0.9.0', false],
  ])('%s: %p', (version, supported) => {
    expect(cniSupportsPrefixDelegation(version)).toBe(supported);
  });

  it.each(['latest', '', '1', 'one.nine'])('rejects %j, naming it', (version) => {
    expect(() => cniSupportsPrefixDelegation(version)).toThrow(`"${version}" is not a VPC CNI version`);
  });
});

describe('kubeletMaxPodsCap', () => {
  const withVcpus = (vcpus: number): NetworkCapacity => networkCapacityOf(infoWith({ VCpuInfo: { DefaultVCpus: vcpus } }));

  // awslabs/amazon-eks-ami templates/al2/runtime/max-pods-calculator.sh: `if [ "$CPU_COUNT" -gt 30 ]`
  // → 250, else 110. So 30 vCPUs is still 110. (No instance type in the bundled data has exactly 30.)
  it.each([
    [1, 110],
    [29, 110],
    [30, 110],
    [31, 250],
    [32, 250],
    [192, 250],
  ])('%i vCPUs → %i', (vcpus, expected) => {
    expect(kubeletMaxPodsCap(withVcpus(vcpus))).toBe(expected);
  });

  it('caps the capped max pods at the kubelet cap across the 30-vCPU edge', () => {
    expect(maxPods(withVcpus(30), { prefixDelegation: true, applyKubeletCap: true })).toBe(110);
    expect(maxPods(withVcpus(31), { prefixDelegation: true, applyKubeletCap: true })).toBe(250);
  });
});
