/**
 * Where a webhook may point. A hook is a request the server makes on an
 * organiser's behalf, so without a rule it would reach what only the server
 * can reach (its loopback, the LAN, a cloud's metadata address). Refused
 * unless WEBHOOK_ALLOW_PRIVATE=true: the loopback, private, shared (CGNAT),
 * link-local, unique-local, documentation, multicast, reserved and every
 * other special-purpose range, as a literal address in the URL, as
 * `localhost`, and (on Node) as the address a name resolves to when the
 * event is sent.
 */
import { parseIpAddress, toIpaddr, type IpAddress } from './ip.js';

/**
 * Whether an address (mapped IPv6 addresses count as their IPv4 one) is on
 * the public internet: one ipaddr.js places in no special-purpose range (IANA's
 * registries: loopback, private, carrierGradeNat, linkLocal, uniqueLocal,
 * reserved and documentation, multicast, rfc6052 (NAT64), rfc6145
 * (IPv4-translated), 6to4, teredo...), so a range it learns later is refused
 * too. It names only `::` and `::1` in ::/96, whose other addresses are the
 * deprecated IPv4-compatible ones (`::127.0.0.1`): refused here.
 */
export function isPublicAddress(address: IpAddress): boolean {
  if (address.version === 6 && address.value >> 32n === 0n) return false;
  return toIpaddr(address).range() === 'unicast';
}

/** Whether an address is the loopback (127.0.0.0/8, ::1). */
export function isLoopbackAddress(address: IpAddress): boolean {
  return toIpaddr(address).range() === 'loopback';
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
