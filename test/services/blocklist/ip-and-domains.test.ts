import { describe, expect, it } from 'vitest';
import { emailDomain, parseBlockedEmail, parseDomainPattern, toAsciiDomain } from '../../../src/lib/domains.js';
import { clientKey, formatIpv4, formatIpv6, parseBlockedRange, parseIpAddress, rangeContains } from '../../../src/lib/ip.js';
import { Blocklist } from '../../../src/services/blocklist-rules.js';

const range = (text: string) => {
  const parsed = parseBlockedRange(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
};

describe('client addresses', () => {
  it('reads IPv4, IPv6 in every spelling, mapped IPv4 as IPv4, and refuses the rest', () => {
    expect(parseIpAddress('192.0.2.1')).toEqual({ version: 4, value: 0xc0000201 });
    expect(parseIpAddress('::ffff:192.0.2.1')).toEqual({ version: 4, value: 0xc0000201 });
    expect(parseIpAddress('::ffff:c000:201')).toEqual({ version: 4, value: 0xc0000201 });
    expect(parseIpAddress('[2001:db8::1]')).toEqual({ version: 6, value: 0x20010db8000000000000000000000001n });
    expect(parseIpAddress('fe80::1%eth0')).toEqual({ version: 6, value: 0xfe800000000000000000000000000001n });
    expect(parseIpAddress('2001:DB8:0:0:0:0:0:1')).toEqual(parseIpAddress('2001:db8::1'));
    for (const bad of ['', 'unknown', '192.0.2', '192.0.2.256', '192.0.2.01', '1::2::3', '2001:db8::1::', '12345::1', '1:2:3:4:5:6:7:8:9', '::ffff:1.2.3', '1.2.3.4::', 'g::1']) {
      expect(parseIpAddress(bad), bad).toBeNull();
    }
  });

  it('keys IPv4 clients by address and IPv6 clients by their /64', () => {
    expect(clientKey('192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(clientKey(' Not-An-Address ')).toBe('not-an-address');
  });

  it('writes IPv6 as RFC 5952 does', () => {
    expect(formatIpv6(0n)).toBe('::');
    expect(formatIpv6(1n)).toBe('::1');
    expect(formatIpv6(0x20010db8000000000001000000000001n)).toBe('2001:db8::1:0:0:1');
    expect(formatIpv6(0x20010db8000100000001000100010001n)).toBe('2001:db8:1:0:1:1:1:1');
  });
});

describe('block-list IP values', () => {
  it('canonicalises addresses and networks', () => {
    expect(range('192.0.2.7').value).toBe('192.0.2.7');
    expect(range('192.0.2.7/32').value).toBe('192.0.2.7');
    expect(range(' 198.51.100.0/24 ').value).toBe('198.51.100.0/24');
    expect(range('::ffff:192.0.2.0/120').value).toBe('192.0.2.0/24');
    expect(range('::ffff:192.0.2.9').value).toBe('192.0.2.9');
    expect(range('2001:DB8:0:0:1::/80').value).toBe('2001:db8:0:0:1::/80');
    expect(range('2001:db8::1/128').value).toBe('2001:db8::1/128');
  });

  it('turns a bare IPv6 address into its /64, which holds its neighbours in that /64 only', () => {
    const blocked = range('2001:db8:aa:bb:1:2:3:4');
    expect(blocked.value).toBe('2001:db8:aa:bb::/64');
    expect(rangeContains(blocked.range, parseIpAddress('2001:db8:aa:bb:ffff:ffff:ffff:ffff')!)).toBe(true);
    expect(rangeContains(blocked.range, parseIpAddress('2001:db8:aa:bc::1')!)).toBe(false);
    expect(rangeContains(blocked.range, parseIpAddress('2001:db8:aa:ba:ffff:ffff:ffff:ffff')!)).toBe(false);
  });

  it('matches IPv4 ranges at their edges and never across versions', () => {
    const net = range('198.51.100.0/24').range;
    expect(rangeContains(net, parseIpAddress('198.51.100.0')!)).toBe(true);
    expect(rangeContains(net, parseIpAddress('198.51.100.255')!)).toBe(true);
    expect(rangeContains(net, parseIpAddress('::ffff:198.51.100.9')!)).toBe(true);
    expect(rangeContains(net, parseIpAddress('198.51.101.0')!)).toBe(false);
    expect(rangeContains(net, parseIpAddress('198.51.99.255')!)).toBe(false);
    expect(rangeContains(net, parseIpAddress('::c633:6409')!)).toBe(false);
  });

  it('refuses what is not an address, host bits past the prefix, and ranges wide enough to block whole regions', () => {
    const error = (text: string) => {
      const parsed = parseBlockedRange(text);
      return 'error' in parsed ? parsed.error : null;
    };
    expect(error('example.org')).toMatch(/IP address or CIDR/);
    expect(error('192.0.2.0/')).toMatch(/prefix/);
    expect(error('192.0.2.0/33')).toMatch(/at most \/32/);
    expect(error('2001:db8::/129')).toMatch(/at most \/128/);
    expect(error('192.0.2.1/24')).toBe('has bits set past the prefix; the network is 192.0.2.0/24');
    expect(error('2001:db8::1/64')).toBe('has bits set past the prefix; the network is 2001:db8::/64');
    expect(error('0.0.0.0/0')).toMatch(/at most \/8 wide/);
    expect(error('2000::/3')).toMatch(/at most \/16 wide/);
    expect(error('::ffff:0:0/95')).toMatch(/at least \/96/);
    expect(error('fe80::1%eth0')).not.toBeNull();
    expect(error('192.0.2.010')).not.toBeNull();
  });
});

describe('domains', () => {
  it('compares internationalised domains in ASCII', () => {
    expect(toAsciiDomain('Bücher.Example')).toBe('xn--bcher-kva.example');
    expect(toAsciiDomain('例え.jp')).toBe('xn--r8jz45g.jp');
    expect(toAsciiDomain('example.org.')).toBe('example.org');
    for (const bad of ['localhost', '1.2.3.4', '0x7f.1', 'a..b', '-a.example', 'a_b.example', 'a.example/path', 'user@a.example', 'a.example:80', 'exa mple.org', '']) {
      expect(toAsciiDomain(bad), bad).toBeNull();
    }
  });

  it('reads *. as "every subdomain"', () => {
    expect(parseDomainPattern('*.Spam.Example')).toEqual({ value: '*.spam.example', domain: 'spam.example', subdomains: true });
    expect(parseDomainPattern('spam.example')).toEqual({ value: 'spam.example', domain: 'spam.example', subdomains: false });
    expect(parseDomainPattern('*.*.spam.example')).toHaveProperty('error');
    expect(parseDomainPattern('spam.*.example')).toHaveProperty('error');
    expect(parseDomainPattern('*spam.example')).toHaveProperty('error');
  });

  it('normalises block-list addresses and their domains', () => {
    expect(parseBlockedEmail(' Bot@Bücher.Example ')).toEqual({ value: 'bot@xn--bcher-kva.example' });
    expect(parseBlockedEmail('no-at-sign')).toHaveProperty('error');
    expect(parseBlockedEmail('@example.org')).toHaveProperty('error');
    expect(parseBlockedEmail('a b@example.org')).toHaveProperty('error');
    expect(parseBlockedEmail(`${'a'.repeat(65)}@example.org`)).toHaveProperty('error');
    expect(emailDomain('jane@mail.example.org')).toBe('mail.example.org');
  });
});

describe('the compiled block list', () => {
  it('finds an address in many overlapping networks exactly as a scan of every entry would', () => {
    // A fixed pseudo-random sequence, so a failure can be replayed.
    let seed = 42;
    const next = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
    const values: string[] = [];
    for (let i = 0; i < 300; i++) {
      const prefix = 8 + next(25);
      const address = next(2 ** 16) * 2 ** 16 + next(2 ** 16);
      const network = address - (address % 2 ** (32 - prefix));
      values.push(prefix === 32 ? formatIpv4(network) : `${formatIpv4(network)}/${prefix}`);
      const group = next(32).toString(16);
      values.push(next(2) ? `2001:db8:${group}::/48` : `2001:db8:${group}:${next(8).toString(16)}::/64`);
    }
    const ranges = values.map((value) => range(value).range);
    const list = new Blocklist(values.map((value) => ({ kind: 'ip' as const, value })));
    const hits = { 4: 0, 6: 0 };
    const total = { 4: 0, 6: 0 };
    for (let i = 0; i < 5000; i++) {
      // Half at random, half on or just past the edge of a listed network, where an off-by-one would show.
      const edge = ranges[next(ranges.length)]!;
      const near = [edge.first, edge.last][next(2)]!;
      const step = [-1, 0, 1][next(3)]!;
      const address =
        next(2) === 0
          ? i % 2
            ? formatIpv4(next(2 ** 16) * 2 ** 16 + next(2 ** 16))
            : `2001:db8:${next(64).toString(16)}:${next(8).toString(16)}::${next(9)}`
          : typeof near === 'bigint'
            ? formatIpv6(near + BigInt(step))
            : formatIpv4(Math.min(2 ** 32 - 1, Math.max(0, near + step)));
      const parsed = parseIpAddress(address)!;
      const expected = ranges.some((r) => rangeContains(r, parsed));
      expect(list.blockedBy('someone@example.org', address), address).toBe(expected ? 'ip' : null);
      total[parsed.version] += 1;
      if (expected) hits[parsed.version] += 1;
    }
    // Both answers occur often for both versions, or the comparison proves little.
    for (const version of [4, 6] as const) {
      expect(hits[version]).toBeGreaterThan(total[version] * 0.2);
      expect(hits[version]).toBeLessThan(total[version] * 0.8);
    }
    expect(list.blockedBy('someone@example.org', null)).toBeNull();
    expect(list.blockedBy('someone@example.org', 'not an address')).toBeNull();
  });
});
