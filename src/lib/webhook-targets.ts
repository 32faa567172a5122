/**
 * Where a webhook may point. A hook is a request the server makes on an
 * organiser's behalf, so without a rule it would reach what only the server
 * can reach (its loopback, the LAN, a cloud's metadata address). Refused
 * unless WEBHOOK_ALLOW_PRIVATE=true: the loopback, private, shared (CGNAT),
 * link-local, unique-local, documentation, multicast and reserved ranges,
 * as a literal address in the URL, as `localhost`, and (on Node) as the
 * address a name resolves to when the event is sent.
 */
import { parseIpAddress, type IpAddress } from './ip.js';

type Range = { version: 4; first: number; bits: number } | { version: 6; first: bigint; bits: number };

const v4 = (text: string, bits: number): Range => {
  const address = parseIpAddress(text);
  if (address?.version !== 4) throw new TypeError(text);
  return { version: 4, first: address.value, bits };
};
const v6 = (text: string, bits: number): Range => {
  const address = parseIpAddress(text);
  if (address?.version !== 6) throw new TypeError(text);
  return { version: 6, first: address.value, bits };
};

/** Every range that is not the public internet (IANA special-purpose registries). */
const NON_PUBLIC: readonly Range[] = [
  v4('0.0.0.0', 8),
  v4('10.0.0.0', 8),
  v4('100.64.0.0', 10),
  v4('127.0.0.0', 8),
  v4('169.254.0.0', 16),
  v4('172.16.0.0', 12),
  v4('192.0.0.0', 24),
  v4('192.0.2.0', 24),
  v4('192.88.99.0', 24),
  v4('192.168.0.0', 16),
  v4('198.18.0.0', 15),
  v4('198.51.100.0', 24),
  v4('203.0.113.0', 24),
  v4('224.0.0.0', 4),
  v4('240.0.0.0', 4),
  // ::/96 holds the unspecified, the loopback and the deprecated IPv4-compatible addresses.
  v6('::', 96),
  v6('64:ff9b::', 96),
  v6('64:ff9b:1::', 48),
  v6('100::', 64),
  v6('2001::', 23),
  v6('2001:db8::', 32),
  // 6to4 carries an IPv4 address the relay would reach for us.
  v6('2002::', 16),
  v6('fc00::', 7),
  v6('fe80::', 10),
  v6('fec0::', 10),
  v6('ff00::', 8),
];

function inRange(range: Range, address: IpAddress): boolean {
  if (range.version === 4 && address.version === 4) {
    const mask = range.bits === 0 ? 0 : (0xffffffff << (32 - range.bits)) >>> 0;
    return ((address.value & mask) >>> 0) === ((range.first & mask) >>> 0);
  }
  if (range.version === 6 && address.version === 6) {
    const shift = BigInt(128 - range.bits);
    return address.value >> shift === range.first >> shift;
  }
  return false;
}

/** Whether an address (mapped IPv6 addresses count as their IPv4 one) is on the public internet. */
export function isPublicAddress(address: IpAddress): boolean {
  return !NON_PUBLIC.some((range) => inRange(range, address));
}

/** Whether an address is the loopback (127.0.0.0/8, ::1). */
export function isLoopbackAddress(address: IpAddress): boolean {
  return address.version === 4 ? address.value >>> 24 === 127 : address.value === 1n;
}

const isLocalhostName = (host: string) => /(^|\.)localhost\.?$/i.test(host);

/**
 * Why a webhook URL is refused, or null when it may be used. `https:` only;
 * `http:` only to the loopback and only with `allowPrivate` (a receiver on
 * the same machine, as in tests). No credentials in the URL: they would be
 * stored in clear and shown in the list.
 */
export function webhookUrlProblem(text: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an https URL';
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password';
  const address = parseIpAddress(url.hostname);
  const loopback = address ? isLoopbackAddress(address) : isLocalhostName(url.hostname);
  if (url.protocol === 'http:' && !(allowPrivate && loopback)) return 'must be an https URL';
  if (allowPrivate) return null;
  if (loopback || (address && !isPublicAddress(address))) return 'must not point to a loopback, private or link-local address (WEBHOOK_ALLOW_PRIVATE=true allows it)';
  return null;
}
