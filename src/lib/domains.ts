/**
 * Email domains as the block list and bulk invalidation compare them: in
 * ASCII (an internationalised domain as its punycode, `bücher.example` →
 * `xn--bcher-kva.example`), lower case, every label a valid hostname label.
 * Pure; URL is a global on Node and Workers alike.
 */

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** What may be typed in a domain before conversion: no URL syntax that the parser would quietly drop (`/`, `@`, `:`…). */
const FORBIDDEN = /[\s/\\?#@:%[\]*]/;

/** A domain's ASCII form, or null unless it is a hostname of two or more labels whose last is not numeric. */
export function toAsciiDomain(text: string): string | null {
  const trimmed = text.trim().replace(/\.$/, '');
  if (trimmed === '' || FORBIDDEN.test(trimmed)) return null;
  let host: string;
  try {
    host = new URL(`http://${trimmed}`).hostname;
  } catch {
    return null;
  }
  if (host.length > 253) return null;
  const labels = host.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) return null;
  // `1.2.3.4` or `0x7f.1` come back as an IPv4 address: not a domain.
  if (/^\d+$/.test(labels[labels.length - 1]!)) return null;
  return host;
}

/** A domain pattern: `example.org` is that domain only, `*.example.org` every domain under it (not example.org itself). */
export type DomainPattern = { value: string; domain: string; subdomains: boolean };

export function parseDomainPattern(text: string): DomainPattern | { error: string } {
  const trimmed = text.trim().toLowerCase();
  const subdomains = trimmed.startsWith('*.');
  const domain = toAsciiDomain(subdomains ? trimmed.slice(2) : trimmed);
  if (domain === null) return { error: 'must be a domain such as example.org, or *.example.org for its subdomains' };
  return { value: subdomains ? `*.${domain}` : domain, domain, subdomains };
}

/** The domain part of an address as stored (email_normalized), in ASCII. */
export function emailDomain(emailNormalized: string): string {
  const domain = emailNormalized.slice(emailNormalized.lastIndexOf('@') + 1);
  return /^[\x21-\x7e]*$/.test(domain) ? domain : (toAsciiDomain(domain) ?? domain);
}

/** A block-list address: trimmed, lower-cased, its domain in ASCII; or why it is refused. */
export function parseBlockedEmail(text: string): { value: string } | { error: string } {
  const trimmed = text.trim().toLowerCase();
  const at = trimmed.lastIndexOf('@');
  const local = trimmed.slice(0, at);
  if (at <= 0 || local.length > 64 || !/^[\x21-\x7e]+$/.test(local) || local.includes('@')) return { error: 'must be an email address' };
  const domain = toAsciiDomain(trimmed.slice(at + 1));
  if (domain === null) return { error: 'must be an email address' };
  const value = `${local}@${domain}`;
  if (value.length > 254) return { error: 'must be at most 254 characters' };
  return { value };
}
