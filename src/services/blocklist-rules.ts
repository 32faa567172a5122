import { emailDomain } from '../lib/domains.js';
import { type IpRange, parseBlockedRange, parseIpAddress } from '../lib/ip.js';

export const blocklistKinds = ['email', 'domain', 'ip'] as const;
export type BlocklistKind = (typeof blocklistKinds)[number];

/** Networks as sorted intervals, overlaps merged, searched by bisection: a long list costs a few comparisons per request. */
class Intervals<T extends number | bigint> {
  private readonly starts: T[] = [];
  private readonly ends: T[] = [];

  constructor(ranges: { first: T; last: T }[]) {
    const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    for (const { first, last } of sorted) {
      const end = this.ends.length - 1;
      // Overlapping the previous one (a network inside another, or the same twice): extend it.
      if (end >= 0 && first <= this.ends[end]!) {
        if (last > this.ends[end]!) this.ends[end] = last;
      } else {
        this.starts.push(first);
        this.ends.push(last);
      }
    }
  }

  get size(): number {
    return this.starts.length;
  }

  contains(value: T): boolean {
    let low = 0;
    let high = this.starts.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (this.starts[middle]! <= value) low = middle + 1;
      else high = middle - 1;
    }
    return high >= 0 && value <= this.ends[high]!;
  }
}

/**
 * The block list compiled for the sign path: set lookups for addresses and
 * domains (a `*.` entry is found by walking up the signer's domain), a
 * bisection of the IP ranges only when there are any.
 */
export class Blocklist {
  private readonly emails = new Set<string>();
  private readonly domains = new Set<string>();
  /** Domains whose subdomains are blocked (`*.example.org` → `example.org`). */
  private readonly parents = new Set<string>();
  private readonly v4: Intervals<number>;
  private readonly v6: Intervals<bigint>;

  constructor(entries: readonly { kind: BlocklistKind; value: string }[]) {
    const ranges: IpRange[] = [];
    for (const entry of entries) {
      if (entry.kind === 'email') this.emails.add(entry.value);
      else if (entry.kind === 'domain') {
        if (entry.value.startsWith('*.')) this.parents.add(entry.value.slice(2));
        else this.domains.add(entry.value);
      } else {
        const parsed = parseBlockedRange(entry.value);
        if (!('error' in parsed)) ranges.push(parsed.range);
      }
    }
    this.v4 = new Intervals(ranges.flatMap((r) => (r.version === 4 ? [{ first: r.first, last: r.last }] : [])));
    this.v6 = new Intervals(ranges.flatMap((r) => (r.version === 6 ? [{ first: r.first, last: r.last }] : [])));
  }

  /** Which kind of entry blocks a signing request from this address (as email_normalized) and client address, or null when none does. */
  blockedBy(emailNormalized: string, clientIp: string | null | undefined): BlocklistKind | null {
    if (this.emails.has(emailNormalized)) return 'email';
    if (this.domains.size > 0 || this.parents.size > 0) {
      const domain = emailDomain(emailNormalized);
      if (this.domains.has(domain)) return 'domain';
      for (let dot = domain.indexOf('.'); dot !== -1; dot = domain.indexOf('.', dot + 1)) {
        if (this.parents.has(domain.slice(dot + 1))) return 'domain';
      }
    }
    if ((this.v4.size > 0 || this.v6.size > 0) && clientIp) {
      const address = parseIpAddress(clientIp);
      if (address && (address.version === 4 ? this.v4.contains(address.value) : this.v6.contains(address.value))) return 'ip';
    }
    return null;
  }
}
