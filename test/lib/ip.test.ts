import { describe, expect, it } from 'vitest';
import { clientKey, formatIpv6, parseBlockedRange, parseIpAddress, rangeContains } from '../../src/lib/ip.js';

// The inputs an attacker (or a confused organiser) reaches for: the forms some
// parsers read in ways others do not. Each must be read one way or refused.

const loopbackV4 = { version: 4, value: 0x7f000001 };

describe('client addresses: attack-style spellings', () => {
  it('refuses the IPv4 forms inet_aton reads (octal, hex, fewer parts, one number) and other non-decimal digits', () => {
    for (const bad of ['127.1', '127.0.1', '0x7f.1', '0x7f.0.0.1', '0X7F.0.0.1', '0177.0.0.1', '0177.0000.0000.0001', '127.000.000.001', '2130706433', '017700000001', '0x7f000001', '127.0.0.1.', '.127.0.0.1', '١٢٧.0.0.1', '127.0.0.1/32', '127.0.0.1:80']) {
      expect(parseIpAddress(bad), bad).toBeNull();
    }
  });

  it('reads an IPv4-mapped address in every spelling as the IPv4 address, and refuses loose tails', () => {
    for (const mapped of ['::ffff:127.0.0.1', '::FFFF:7F00:1', '0:0:0:0:0:ffff:127.0.0.1', '0000:0000:0000:0000:0000:ffff:7f00:0001', '[::ffff:127.0.0.1]', '::ffff:127.0.0.1%eth0']) {
      expect(parseIpAddress(mapped), mapped).toEqual(loopbackV4);
    }
    for (const bad of ['::ffff:0x7f.0.0.1', '::ffff:0177.0.0.1', '::ffff:010.0.0.1', '::ffff:00000001.2.3.4', '::ffff:127.1', '::ffff:2130706433', '::ffff:127.0.0.1.1', '::ffff:127.0.0.256', '::ffff:1.2.3.4:5']) {
      expect(parseIpAddress(bad), bad).toBeNull();
    }
  });

  it('keeps IPv4-compatible (::a.b.c.d) and IPv4-translated (::ffff:0:a.b.c.d) addresses IPv6, the same in dotted and hex spelling', () => {
    expect(parseIpAddress('::127.0.0.1')).toEqual({ version: 6, value: 0x7f000001n });
    expect(parseIpAddress('::127.0.0.1')).toEqual(parseIpAddress('::7f00:1'));
    expect(parseIpAddress('::192.0.2.1')).toEqual(parseIpAddress('::c000:201'));
    expect(parseIpAddress('::ffff:0:127.0.0.1')).toEqual({ version: 6, value: 0xffff00007f000001n });
    expect(parseIpAddress('2001:db8::192.0.2.1')).toEqual(parseIpAddress('2001:db8::c000:201'));
    expect(parseIpAddress('1:2:3:4:5:6:1.2.3.4')).toEqual(parseIpAddress('1:2:3:4:5:6:102:304'));
  });

  it('reads the unspecified address, brackets and zone ids, and drops the zone', () => {
    expect(parseIpAddress('::')).toEqual({ version: 6, value: 0n });
    expect(parseIpAddress('[::]')).toEqual({ version: 6, value: 0n });
    expect(parseIpAddress('0:0:0:0:0:0:0:0')).toEqual({ version: 6, value: 0n });
    expect(parseIpAddress('::1')).toEqual({ version: 6, value: 1n });
    for (const zoned of ['fe80::1%eth0', 'fe80::1%25eth0', 'fe80::1%en-0.1', '[fe80::1%eth0]', 'FE80::1%1']) {
      expect(parseIpAddress(zoned), zoned).toEqual({ version: 6, value: 0xfe800000000000000000000000000001n });
    }
    for (const bad of ['[2001:db8::1', '2001:db8::1]', '[[::1]]', '[]', '%eth0', '[%eth0]']) {
      expect(parseIpAddress(bad), bad).toBeNull();
    }
  });

  it('trims the ends but refuses whitespace inside', () => {
    expect(parseIpAddress(' 192.0.2.1 ')).toEqual({ version: 4, value: 0xc0000201 });
    expect(parseIpAddress('\t2001:db8::1\n')).toEqual(parseIpAddress('2001:db8::1'));
    for (const bad of ['192.0.2.1 x', '192. 0.2.1', '2001:db8:: 1', '2001:db8 ::1', ':: 1', '192.0.2.1\u00a0x']) {
      expect(parseIpAddress(bad), bad).toBeNull();
    }
  });

  it('refuses misplaced colons, overlong groups and overlong input', () => {
    for (const bad of [':::1', '1:::2', ':1::2', '1::2:', '::1:', ':1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:', '::1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7', '00001::1', '2001:0db8:0000:0000:0000:0000:0000:00001', '1:2:3:4:5:6:7:1.2.3.4', '1.2.3.4:1::', '::1.2.3.4:1', 'fffff::', '0x1::1', '1::g']) {
      expect(parseIpAddress(bad), bad).toBeNull();
    }
    for (const long of ['1'.repeat(100_000), '1:'.repeat(50_000), `::${'1:'.repeat(50_000)}1.2.3.4`, `${'0'.repeat(50_000)}.0.0.0`, `${'0'.repeat(50_000)}1::`]) {
      expect(parseIpAddress(long)).toBeNull();
    }
  });

  it('reads a :: that stands for a single group, at either end', () => {
    expect(parseIpAddress('1:2:3:4:5:6:7::')).toEqual({ version: 6, value: 0x00010002000300040005000600070000n });
    expect(parseIpAddress('::2:3:4:5:6:7:8')).toEqual({ version: 6, value: 0x00000002000300040005000600070008n });
  });

  it('keys each spelling of one client the same, and text that is no address as itself', () => {
    expect(clientKey('::ffff:127.0.0.1%eth0')).toBe('127.0.0.1');
    expect(clientKey('[2001:db8:1:2::1]')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:DB8:1:2:0:0:0:1%eth0')).toBe('2001:db8:1:2::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80::/64');
    expect(clientKey('::127.0.0.1')).toBe('::/64');
    expect(clientKey('0x7F.1')).toBe('0x7f.1');
  });

  it('writes IPv6 as RFC 5952 does: the first of equally long zero runs, a lone zero group kept', () => {
    expect(formatIpv6(0x00010000000000020000000000030004n)).toBe('1::2:0:0:3:4');
    expect(formatIpv6(0x00010000000000000002000000000000n)).toBe('1::2:0:0:0');
    expect(formatIpv6(0x00000000000000010000000000000000n)).toBe('0:0:0:1::');
    expect(formatIpv6(0x00010000000200000003000000040000n)).toBe('1:0:2:0:3:0:4:0');
    expect(formatIpv6(0xffffffffffffffffffffffffffffffffn)).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
    expect(formatIpv6(0xffff7f000001n)).toBe('::ffff:7f00:1');
  });
});

describe('block-list IP values: attack-style spellings', () => {
  const error = (text: string) => {
    const parsed = parseBlockedRange(text);
    return 'error' in parsed ? parsed.error : null;
  };
  const value = (text: string) => {
    const parsed = parseBlockedRange(text);
    if ('error' in parsed) throw new Error(`${text}: ${parsed.error}`);
    return parsed;
  };

  it('refuses octal, hex and short IPv4, also inside IPv6 and as a network', () => {
    for (const bad of ['0x7f.0.0.1', '127.1', '0177.0.0.1', '2130706433', '0x7f.0.0.0/8', '127.1/8', '010.0.0.0/8', '::ffff:0x7f.0.0.1', '::ffff:0177.0.0.1/128', '::ffff:127.1', '::ffff:010.0.0.0/104']) {
      expect(error(bad), bad).toMatch(/IP address or CIDR/);
    }
  });

  it('refuses brackets, zone ids, whitespace inside, and prefixes that are not plain decimal', () => {
    for (const bad of ['[2001:db8::]/32', '[2001:db8::1]', 'fe80::%eth0/64', 'fe80::1%eth0', '192.0.2.0 /24', '192.0.2.0/ 24', '192.0.2.0\t/24', '2001:db8:: /32']) {
      expect(error(bad), bad).toMatch(/IP address or CIDR/);
    }
    for (const bad of ['192.0.2.0/+24', '192.0.2.0/0x18', '192.0.2.0/24/24', '2001:db8::/-1', '192.0.2.0/1e1', '192.0.2.0/2400', '192.0.2.0/']) {
      expect(error(bad), bad).toMatch(/prefix length/);
    }
    expect(error('a'.repeat(100_000))).toMatch(/IP address or CIDR/);
    expect(error(`${'1:'.repeat(50_000)}/64`)).toMatch(/IP address or CIDR/);
  });

  it('stores every spelling of a mapped address as IPv4, and keeps IPv4-compatible ones IPv6', () => {
    expect(value('::ffff:7f00:1').value).toBe('127.0.0.1');
    expect(value('0:0:0:0:0:FFFF:127.0.0.1').value).toBe('127.0.0.1');
    expect(value('::ffff:127.0.0.0/104').value).toBe('127.0.0.0/8');
    const compatible = value('::192.0.2.1/128');
    expect(compatible.value).toBe('::c000:201/128');
    expect(rangeContains(compatible.range, parseIpAddress('192.0.2.1')!)).toBe(false);
    expect(rangeContains(compatible.range, parseIpAddress('::c000:201')!)).toBe(true);
    expect(value('2001:db8::1.2.3.4/128').value).toBe('2001:db8::102:304/128');
  });

  it('canonicalises the unspecified address and full-length spellings', () => {
    expect(value('::').value).toBe('::/64');
    expect(value('0.0.0.0').value).toBe('0.0.0.0');
    expect(value('2001:0DB8:0000:0000:0000:0000:0000:0000/32').value).toBe('2001:db8::/32');
    expect(value('2001:db8:0:0:1:0:0:1/128').value).toBe('2001:db8::1:0:0:1/128');
    expect(error('::/0')).toMatch(/at most \/16 wide/);
  });
});
