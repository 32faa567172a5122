/**
 * IP addresses and ranges for rate limits and the block list: pure parsing
 * and comparison, no runtime APIs (it runs on Node and Workers alike).
 *
 * Two rules hold everywhere: an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`,
 * what a dual-stack socket reports for an IPv4 peer) is the IPv4 address,
 * and an IPv6 client is its /64, since one subscriber is usually given a
 * whole /64 and can pick any address in it.
 */

export type IpAddress = { version: 4; value: number } | { version: 6; value: bigint };

/** A network: every address from `first` to `last`, given as `prefix` bits. */
export type IpRange = { version: 4; first: number; last: number; prefix: number } | { version: 6; first: bigint; last: bigint; prefix: number };

const V4_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;
const MAPPED_PREFIX = 0xffffn << 32n;
const V6_ALL = (1n << 128n) - 1n;

/** The prefix IPv6 clients are grouped by (rate limits, bare addresses in the block list). */
export const IPV6_CLIENT_PREFIX = 64;

/** Dotted-quad IPv4, strictly: four decimal parts 0-255 without leading zeros (which some parsers read as octal). */
function parseV4(text: string): number | null {
  const match = V4_PATTERN.exec(text);
  if (!match) return null;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const part = match[i]!;
    if (part.length > 1 && part.startsWith('0')) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value;
}

/** An IPv6 address (with `::` and a dotted IPv4 tail allowed) as a 128-bit number. */
function parseV6(text: string): bigint | null {
  if (!text.includes(':')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (part: string): number[] | null => {
    if (part === '') return [];
    const pieces = part.split(':');
    const groups: number[] = [];
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseV4(piece);
        if (v4 === null) return null;
        groups.push(Math.floor(v4 / 65536), v4 % 65536);
      } else if (HEX_GROUP.test(piece)) {
        groups.push(parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return groups;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return null;
  // A dotted tail may only end the address.
  if (halves.length === 2 && halves[0]!.includes('.')) return null;
  const given = head.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  const groups = [...head, ...Array<number>(8 - given).fill(0), ...tail];
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
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
  const zone = address.indexOf('%');
  if (zone !== -1) address = address.slice(0, zone);
  const v4 = parseV4(address);
  if (v4 !== null) return { version: 4, value: v4 };
  const v6 = parseV6(address);
  return v6 === null ? null : unmapped(v6);
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

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
  const v4 = parseV4(addressText);
  const v6 = v4 === null ? parseV6(addressText) : null;
  if (v4 === null && v6 === null) return { error: 'must be an IP address or CIDR range (e.g. 192.0.2.0/24 or 2001:db8::/48)' };

  let address: IpAddress;
  let prefix: number;
  if (v4 !== null) {
    address = { version: 4, value: v4 };
    prefix = prefixText === null ? 32 : Number(prefixText);
    if (prefix > 32) return { error: 'an IPv4 prefix is at most /32' };
  } else {
    prefix = prefixText === null ? 128 : Number(prefixText);
    if (prefix > 128) return { error: 'an IPv6 prefix is at most /128' };
    const mapped = (v6! & ~((1n << 32n) - 1n)) === MAPPED_PREFIX;
    if (mapped) {
      if (prefix < 96) return { error: 'an IPv4-mapped range needs a prefix of at least /96 (or write it as IPv4)' };
      address = { version: 4, value: Number(v6! & 0xffffffffn) };
      prefix -= 96;
    } else {
      address = { version: 6, value: v6! };
      if (prefixText === null) {
        address = { version: 6, value: v6! & v6Mask(IPV6_CLIENT_PREFIX) };
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
