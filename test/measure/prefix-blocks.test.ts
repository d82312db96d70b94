import { parseIpv4, parseIpv4Cidr } from '../../lib/measure/cidr';
import { freePrefixBlocks } from '../../lib/measure/prefix-blocks';

/** `count` addresses from `10.0.<third>.<from>`. */
const ips = (third: number, from: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `10.0.${third}.${from + i}`);

describe('freePrefixBlocks', () => {
  // A /24 has 16 aligned /28 blocks; the first holds .0-.3 (reserved) and the last .255 (reserved).
  it.each<[string, string, string[], string[], { freeBlocks: number; totalBlocks: number; freeAddressesOutsideBlocks: number }]>([
    ['an empty /24: the first and last blocks hold reserved addresses', '10.0.1.0/24', [], [], { freeBlocks: 14, totalBlocks: 16, freeAddressesOutsideBlocks: 12 + 15 }],
    ['an empty /28: its only block holds the reserved addresses', '10.0.1.0/28', [], [], { freeBlocks: 0, totalBlocks: 1, freeAddressesOutsideBlocks: 11 }],
    ['an empty /27', '10.0.1.32/27', [], [], { freeBlocks: 0, totalBlocks: 2, freeAddressesOutsideBlocks: 27 }],
    ['one address breaks one block', '10.0.1.0/24', ['10.0.1.20'], [], { freeBlocks: 13, totalBlocks: 16, freeAddressesOutsideBlocks: 27 + 15 }],
    ['two addresses in the same block break it once', '10.0.1.0/24', ['10.0.1.16', '10.0.1.31'], [], { freeBlocks: 13, totalBlocks: 16, freeAddressesOutsideBlocks: 27 + 14 }],
    ['the same address twice counts once', '10.0.1.0/24', ['10.0.1.16', '10.0.1.16'], [], { freeBlocks: 13, totalBlocks: 16, freeAddressesOutsideBlocks: 27 + 15 }],
    ['a delegated prefix takes its whole block', '10.0.1.0/24', [], ['10.0.1.32/28'], { freeBlocks: 13, totalBlocks: 16, freeAddressesOutsideBlocks: 27 }],
    [
      'one address in every free block: fragmented, 14 × 15 addresses free but no /28',
      '10.0.1.0/24',
      Array.from({ length: 14 }, (_, i) => `10.0.1.${16 * (i + 1) + 5}`),
      [],
      { freeBlocks: 0, totalBlocks: 16, freeAddressesOutsideBlocks: 27 + 14 * 15 },
    ],
    ['addresses and prefixes outside the subnet are ignored', '10.0.1.0/24', ['10.0.2.20', '10.0.0.255'], ['10.0.2.0/28'], { freeBlocks: 14, totalBlocks: 16, freeAddressesOutsideBlocks: 27 }],
    ['a CIDR written with host bits is aligned down', '10.0.1.77/24', ['10.0.1.20'], [], { freeBlocks: 13, totalBlocks: 16, freeAddressesOutsideBlocks: 42 }],
    ['a full /24', '10.0.1.0/24', ips(1, 4, 251), [], { freeBlocks: 0, totalBlocks: 16, freeAddressesOutsideBlocks: 0 }],
    ['a /29 (smaller than a block) has no block', '10.0.1.8/29', [], [], { freeBlocks: 0, totalBlocks: 0, freeAddressesOutsideBlocks: 3 }],
  ])('%s', (_name, cidr, addresses, prefixes, expected) => {
    expect(freePrefixBlocks(cidr, addresses, prefixes)).toEqual(expected);
  });

  // How long it takes is a figure of `npm run bench`, not a test.
  it('counts a /16 (4,096 blocks) with 20,000 addresses', () => {
    // Every third address of the first 60,000: every block touched up to 3,750; the rest free.
    const used: string[] = [];
    for (let i = 4; i < 60_004; i += 3) used.push(`10.1.${Math.floor(i / 256)}.${i % 256}`);
    const r = freePrefixBlocks('10.1.0.0/16', used, []);
    expect(r.totalBlocks).toBe(4096);
    // Blocks 0..3750 hold a used address (60,003 / 16 = 3750.2), and block 4095 holds .255.255.
    expect(r.freeBlocks).toBe(4096 - 3751 - 1);
    expect(r.freeBlocks * 16 + r.freeAddressesOutsideBlocks).toBe(65531 - used.length);
  });

  it.each([
    ['10.0.1.0', [], []],
    ['10.0.1.0/33', [], []],
    ['10.0.1.0/24', ['10.0.1.300'], []],
    ['10.0.1.0/24', [], ['10.0.1.0']],
    ['2600:1f18::/64', [], []],
  ])('throws for %s / %j / %j, naming the bad value', (cidr, addresses, prefixes) => {
    expect(() => freePrefixBlocks(cidr, addresses, prefixes)).toThrow(/is not an IPv4/);
  });
});

describe('parseIpv4 and parseIpv4Cidr', () => {
  it('reads addresses as unsigned numbers', () => {
    expect(parseIpv4('10.0.1.20')).toBe(10 * 2 ** 24 + 256 + 20);
    expect(parseIpv4('255.255.255.255')).toBe(2 ** 32 - 1);
  });
  it('clears host bits', () => {
    expect(parseIpv4Cidr('100.64.3.7/19')).toEqual({ base: parseIpv4('100.64.0.0'), prefixLength: 19, size: 8192 });
  });
});
