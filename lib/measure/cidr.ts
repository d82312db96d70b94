/**
 * IPv4 addresses and CIDR blocks as numbers: the one parser of a subnet's `CidrBlock`, an ENI's
 * address and a delegated prefix. Pure.
 */

/** An IPv4 address as an unsigned 32-bit number. @throws Error naming the text when it is not one. */
export function parseIpv4(text: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not an IPv4 address`);
  let n = 0;
  for (const octet of [m[1], m[2], m[3], m[4]]) {
    const v = Number(octet);
    if (v > 255) throw new Error(`"${text}" is not an IPv4 address`);
    n = n * 256 + v;
  }
  return n;
}

/**
 * An IPv4 CIDR as its first address (host bits cleared), its length and its number of addresses.
 * @throws Error naming the text when it is not `a.b.c.d/n` with octets ≤ 255 and n ≤ 32.
 */
export function parseIpv4Cidr(text: string): { base: number; prefixLength: number; size: number } {
  const m = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\/(\d{1,2})$/.exec(text.trim());
  const prefixLength = Number(m?.[2]);
  if (!m || prefixLength > 32) throw new Error(`"${text}" is not an IPv4 CIDR block`);
  let ip: number;
  try {
    ip = parseIpv4(m[1]!);
  } catch {
    throw new Error(`"${text}" is not an IPv4 CIDR block`);
  }
  const size = 2 ** (32 - prefixLength);
  return { base: ip - (ip % size), prefixLength, size };
}

/** An unsigned 32-bit number as an IPv4 address (`a.b.c.d`). */
export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
