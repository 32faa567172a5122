/**
 * IP addresses and ranges for rate limits and the block list: pure parsing
 * and comparison, no runtime APIs (it runs on Node and Workers alike).
 * ipaddr.js reads and writes the addresses; what is kept here is the
 * strictness a block list needs and the number arithmetic of ranges.
 *
 * Two rules hold everywhere: an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`,
 * what a dual-stack socket reports for an IPv4 peer) is the IPv4 address,
 * and an IPv6 client is its /64, since one subscriber is usually given a
 * whole /64 and can pick any address in it.
 */
import ipaddr from 'ipaddr.js';

export type IpAddress = { version: 4; value: number } | { version: 6; value: bigint };

/** A network: every address from `first` to `last`, given as `prefix` bits. */
export type IpRange = { version: 4; first: number; last: number; prefix: number } | { version: 6; first: bigint; last: bigint; prefix: number };

const MAPPED_PREFIX = 0xffffn << 32n;
const V6_ALL = (1n << 128n) - 1n;
const HEX_AND_COLONS = /^[0-9a-f:]+$/i;

/** The prefix IPv6 clients are grouped by (rate limits, bare addresses in the block list). */
export const IPV6_CLIENT_PREFIX = 64;

const v4Octets = (value: number) => [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
const v6Groups = (value: bigint) => Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));

/**
 * Dotted-quad IPv4, strictly: four decimal parts 0-255 without leading zeros.
 * ipaddr.js's own parse also takes inet_aton's forms (`127.1`, `0x7f.1`,
 * `0177.0.0.1`, `2130706433`), which other parsers read differently or not
 * at all; a block-list entry or a client address is one spelling or none.
 */
function parseV4(text: string): number | null {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
  return ipaddr.IPv4.parse(text).octets.reduce((value, octet) => value * 256 + octet, 0);
}

/**
 * An IPv6 address (with `::` and a dotted IPv4 tail allowed) as a 128-bit
 * number. The tail is read here, as strictly as IPv4, and handed on as two
 * hex groups: ipaddr.js reads a tail's parts with parseInt (`0x7f.0.0.1`,
 * `010.0.0.1` and `00000001.2.3.4` pass) and reads `::a.b.c.d`, the
 * IPv4-compatible address `::c000:201` for `::192.0.2.1`, as the mapped
 * `::ffff:a.b.c.d`. Only hex digits and colons reach it, so no zone id either.
 */
function parseV6(text: string): bigint | null {
  const tailStart = text.lastIndexOf(':') + 1;
  let hex = text;
  if (text.includes('.', tailStart)) {
    const tail = parseV4(text.slice(tailStart));
    if (tail === null) return null;
    hex = `${text.slice(0, tailStart)}${(tail >>> 16).toString(16)}:${(tail & 0xffff).toString(16)}`;
  }
  if (!HEX_AND_COLONS.test(hex) || !ipaddr.IPv6.isValid(hex)) return null;
  return ipaddr.IPv6.parse(hex).parts.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

/**
 * IPv4 or IPv6 by the colon, as ipaddr.js's own parse decides: its IPv4 check
 * throws and catches an error for any text that is not IPv4, which costs ten
 * times the parse itself on every IPv6 client.
 */
function parseEither(text: string): IpAddress | null {
  if (!text.includes(':')) {
    const v4 = parseV4(text);
    return v4 === null ? null : { version: 4, value: v4 };
  }
  const v6 = parseV6(text);
  return v6 === null ? null : { version: 6, value: v6 };
}

function unmapped(value: bigint): IpAddress {
  if (value >> 32n === 0xffffn) return { version: 4, value: Number(value & 0xffffffffn) };
  return { version: 6, value };
}

/**
 * A client address as a runtime reports it (`192.0.2.1`, `2001:db8::1`,
 * `::ffff:192.0.2.1`, `[2001:db8::1]`, `fe80::1%eth0`), or null. Mapped
 * addresses come back as IPv4.
 */
export function parseIpAddress(text: string): IpAddress | null {
  let address = text.trim();
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  // Any zone id is dropped (ipaddr.js would take only letters and digits): it names the host's interface, not the peer.
  const zone = address.indexOf('%');
  if (zone !== -1) address = address.slice(0, zone);
  const parsed = parseEither(address);
  if (parsed === null || parsed.version === 4) return parsed;
  return unmapped(parsed.value);
}

/** The address as ipaddr.js holds it, for its named special-purpose ranges (`range()`). */
export function toIpaddr(address: IpAddress): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.version === 4 ? new ipaddr.IPv4(v4Octets(address.value)) : new ipaddr.IPv6(v6Groups(address.value));
}

export function formatIpv4(value: number): string {
  return v4Octets(value).join('.');
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatIpv6(value: bigint): string {
  return new ipaddr.IPv6(v6Groups(value)).toRFC5952String();
}

// Ranges stay numbers (ipaddr.js matches one network at a time): the compiled block list bisects sorted intervals.
const v6Mask = (prefix: number) => (prefix === 0 ? 0n : (V6_ALL >> BigInt(128 - prefix)) << BigInt(128 - prefix));
const v4Size = (prefix: number) => 2 ** (32 - prefix);

/**
 * Who a client is for rate limits and IP hashes: an IPv4 address as itself,
 * an IPv6 address as its /64 (`2001:db8:1:2::/64`). Text that is no address
 * stays itself (trimmed, lower-cased), so it still gets a key of its own.
 */
export function clientKey(text: string): string {
  const address = parseIpAddress(text);
  if (!address) return text.trim().toLowerCase();
  if (address.version === 4) return formatIpv4(address.value);
  return `${formatIpv6(address.value & v6Mask(IPV6_CLIENT_PREFIX))}/${IPV6_CLIENT_PREFIX}`;
}

export function rangeContains(range: IpRange, address: IpAddress): boolean {
  if (range.version === 4) return address.version === 4 && address.value >= range.first && address.value <= range.last;
  return address.version === 6 && address.value >= range.first && address.value <= range.last;
}

/** Shortest prefixes accepted in the block list: anything wider is almost surely a typo that would silently drop real supporters. */
export const MIN_BLOCK_PREFIX = { 4: 8, 6: 16 } as const;

/**
 * A block-list IP value: an address or a CIDR network, as its canonical text
 * and range, or the reason it is refused. A bare IPv6 address stands for its
 * /64; a mapped IPv6 address or network is IPv4. Host bits must be zero, so
 * `10.0.0.1/8` is refused rather than guessed at.
 */
export function parseBlockedRange(text: string): { value: string; range: IpRange } | { error: string } {
  const trimmed = text.trim();
  if (/[\s%[\]]/.test(trimmed)) return { error: 'must be an IP address or CIDR range (e.g. 192.0.2.0/24 or 2001:db8::/48)' };
  const slash = trimmed.indexOf('/');
  const addressText = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const prefixText = slash === -1 ? null : trimmed.slice(slash + 1);
  if (prefixText !== null && !/^\d{1,3}$/.test(prefixText)) return { error: 'must have a prefix length after "/" (e.g. /24)' };
  const parsed = parseEither(addressText);
  if (parsed === null) return { error: 'must be an IP address or CIDR range (e.g. 192.0.2.0/24 or 2001:db8::/48)' };

  let address: IpAddress;
  let prefix: number;
  if (parsed.version === 4) {
    address = parsed;
    prefix = prefixText === null ? 32 : Number(prefixText);
    if (prefix > 32) return { error: 'an IPv4 prefix is at most /32' };
  } else {
    const v6 = parsed.value;
    prefix = prefixText === null ? 128 : Number(prefixText);
    if (prefix > 128) return { error: 'an IPv6 prefix is at most /128' };
    const mapped = (v6 & ~((1n << 32n) - 1n)) === MAPPED_PREFIX;
    if (mapped) {
      if (prefix < 96) return { error: 'an IPv4-mapped range needs a prefix of at least /96 (or write it as IPv4)' };
      address = { version: 4, value: Number(v6 & 0xffffffffn) };
      prefix -= 96;
    } else {
      address = { version: 6, value: v6 };
      if (prefixText === null) {
        address = { version: 6, value: v6 & v6Mask(IPV6_CLIENT_PREFIX) };
        prefix = IPV6_CLIENT_PREFIX;
      }
    }
  }
  if (prefix < MIN_BLOCK_PREFIX[address.version]) {
    return { error: `an IPv${address.version} range may be at most /${MIN_BLOCK_PREFIX[address.version]} wide (a wider one would block whole regions)` };
  }
  if (address.version === 4) {
    const size = v4Size(prefix);
    const first = address.value - (address.value % size);
    if (first !== address.value) return { error: `has bits set past the prefix; the network is ${formatIpv4(first)}/${prefix}` };
    return { value: prefix === 32 ? formatIpv4(first) : `${formatIpv4(first)}/${prefix}`, range: { version: 4, first, last: first + size - 1, prefix } };
  }
  const mask = v6Mask(prefix);
  const first = address.value & mask;
  if (first !== address.value) return { error: `has bits set past the prefix; the network is ${formatIpv6(first)}/${prefix}` };
  return { value: `${formatIpv6(first)}/${prefix}`, range: { version: 6, first, last: first | (~mask & V6_ALL), prefix } };
}
