import { parseIpv4, parseIpv4Cidr } from '../../lib/measure/cidr';

const ip = (a: number, b: number, c: number, d: number): number => ((a * 256 + b) * 256 + c) * 256 + d;

describe('parseIpv4', () => {
  it.each([
    ['0.0.0.0', 0],
    ['10.0.1.20', ip(10, 0, 1, 20)],
    ['255.255.255.255', 2 ** 32 - 1],
    [' 192.168.0.1 ', ip(192, 168, 0, 1)],
  ])('reads %j as %i', (text, value) => {
    expect(parseIpv4(text)).toBe(value);
  });

  it.each(['', '10.0.1', '10.0.1.256', '10.0.1.1/24', '1.2.3.4.5', 'a.b.c.d', '2600:1f18::1'])('throws for %j, naming it', (text) => {
    expect(() => parseIpv4(text)).toThrow(`"${text}" is not an IPv4 address`);
  });
});

describe('parseIpv4Cidr', () => {
  it.each([
    // A subnet's CidrBlock: VPC subnets are /16 to /28 (VPC user guide, "Subnet CIDR blocks").
    ['10.0.0.0/16', ip(10, 0, 0, 0), 16, 65536],
    ['10.0.1.0/24', ip(10, 0, 1, 0), 24, 256],
    ['10.0.1.16/28', ip(10, 0, 1, 16), 28, 16],
    // Host bits are cleared.
    ['100.64.3.7/19', ip(100, 64, 0, 0), 19, 8192],
    ['10.0.1.7/32', ip(10, 0, 1, 7), 32, 1],
    ['10.0.1.7/0', 0, 0, 2 ** 32],
    [' 10.0.1.0/24 ', ip(10, 0, 1, 0), 24, 256],
  ])('reads %j', (text, base, prefixLength, size) => {
    expect(parseIpv4Cidr(text)).toEqual({ base, prefixLength, size });
  });

  it.each(['', '10.0.1.0', '10.0.1.0/33', '10.0.1.0/024', '10.0.1.0/2x', '10.0.1.0/24/1', '300.0.1.0/24', '10.0.256.0/24', '2600:1f18::/64', 'subnet-0123'])(
    'throws for %j, naming it',
    (text) => {
      expect(() => parseIpv4Cidr(text)).toThrow(`"${text}" is not an IPv4 CIDR block`);
    },
  );
});
