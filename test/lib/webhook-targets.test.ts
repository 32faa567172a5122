import { describe, expect, it } from 'vitest';
import { parseIpAddress } from '../../src/lib/ip.js';
import { isLoopbackAddress, isPublicAddress, webhookUrlProblem } from '../../src/lib/webhook-targets.js';

const PRIVATE = 'must not point to a loopback, private or link-local address (WEBHOOK_ALLOW_PRIVATE=true allows it)';
const address = (text: string) => {
  const parsed = parseIpAddress(text);
  if (!parsed) throw new Error(text);
  return parsed;
};

describe('webhook targets: addresses that are not the public internet', () => {
  // Each is a way to the server's own loopback, its network or a cloud's metadata address (SSRF),
  // written as the URL parser leaves it or as an attacker would spell it.
  const refused = [
    'https://0177.0.0.1/', // the URL parser reads inet_aton's forms: 127.0.0.1
    'https://127.1/',
    'https://0x7f.0.0.1/',
    'https://0x7f000001/',
    'https://0xa9fea9fe/', // 169.254.169.254
    'https://0.1.2.3/',
    'https://192.0.0.8/',
    'https://198.18.0.1/',
    'https://224.0.0.1/',
    'https://240.0.0.1/',
    'https://255.255.255.255/',
    'https://[0:0:0:0:0:0:0:1]/',
    'https://[::]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:7f00:1]/',
    'https://[::ffff:a9fe:a9fe]/',
    'https://[::127.0.0.1]/', // IPv4-compatible (deprecated): ::/96
    'https://[::7f00:1]/',
    'https://[64:ff9b::7f00:1]/', // NAT64 to 127.0.0.1
    'https://[64:ff9b:1::a00:1]/',
    'https://[2002:7f00:1::]/', // 6to4 of 127.0.0.1
    'https://[2001::1]/', // Teredo
    'https://[2001:db8::1]/',
    'https://[100::1]/',
    'https://[fc00::1]/',
    'https://[fdff:ffff::1]/',
    'https://[fe80::1]/',
    'https://[febf::1]/',
    'https://[fec0::1]/',
    'https://[ff02::1]/',
  ];

  it.each(refused)('refuses %s', (url) => {
    expect(webhookUrlProblem(url, false)).toBe(PRIVATE);
  });

  it('refuses the special-purpose ranges the hand-written list lacked', () => {
    // IPv4-translated (SIIT, RFC 7915): a translator on the way reaches the IPv4 address, as with NAT64.
    expect(webhookUrlProblem('https://[::ffff:0:7f00:1]/', false)).toBe(PRIVATE);
    expect(webhookUrlProblem('https://[::ffff:0:a9fe:a9fe]/', false)).toBe(PRIVATE);
    // Documentation (RFC 9637) and SRv6 segment identifiers (RFC 9602): never a receiver on the internet.
    expect(webhookUrlProblem('https://[3fff::1]/', false)).toBe(PRIVATE);
    expect(webhookUrlProblem('https://[5f00::1]/', false)).toBe(PRIVATE);
    // Anycast infrastructure (AS112's DNS sinks, AMT relays) is no receiver either: whatever has a special-purpose name is refused.
    for (const url of ['https://192.175.48.1/', 'https://192.31.196.1/', 'https://192.52.193.1/', 'https://[2620:4f:8000::1]/']) {
      expect(webhookUrlProblem(url, false), url).toBe(PRIVATE);
    }
  });

  it('refuses a zone id (the URL parser does) and http to anything but the loopback', () => {
    expect(webhookUrlProblem('https://[fe80::1%25eth0]/', false)).toBe('must be an absolute URL');
    expect(webhookUrlProblem('http://[::ffff:10.0.0.1]/', true)).toBe('must be an https URL');
    expect(webhookUrlProblem('http://[::7f00:1]/', true)).toBe('must be an https URL');
  });

  it('allows public addresses, mapped or not, and http to the loopback only with allowPrivate', () => {
    for (const url of ['https://8.8.8.8/', 'https://[2606:4700:4700::1111]/', 'https://[::ffff:8.8.8.8]/', 'https://[2a00:1450::1]/', 'https://1.1.1.1:8443/hook', 'https://example.org/']) {
      expect(webhookUrlProblem(url, false), url).toBeNull();
    }
    for (const url of ['http://127.0.0.1:9/', 'http://127.8.9.10/', 'http://[::1]:9/', 'http://[::ffff:127.0.0.1]/', 'http://localhost/']) {
      expect(webhookUrlProblem(url, true), url).toBeNull();
      expect(webhookUrlProblem(url, false), url).toBe('must be an https URL');
    }
  });

  it('draws each range at its edges', () => {
    const edges: [string, boolean][] = [
      ['9.255.255.255', true],
      ['10.0.0.0', false],
      ['10.255.255.255', false],
      ['11.0.0.0', true],
      ['100.63.255.255', true],
      ['100.64.0.0', false],
      ['100.127.255.255', false],
      ['100.128.0.0', true],
      ['172.15.255.255', true],
      ['172.16.0.0', false],
      ['172.31.255.255', false],
      ['172.32.0.0', true],
      ['223.255.255.255', true],
      ['::1:0:0', true], // just past ::/96
      ['::ffff:ffff', false],
      ['fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true],
      ['fc00::', false],
      ['fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true],
      ['2001:200::', true], // just past 2001::/23
      ['2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff', false],
      ['2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', true],
      ['2001:db9::', true],
    ];
    for (const [text, isPublic] of edges) expect(isPublicAddress(address(text)), text).toBe(isPublic);
  });

  it('knows the loopback in both versions, not an IPv4-compatible spelling of it', () => {
    expect(isLoopbackAddress(address('127.255.255.254'))).toBe(true);
    expect(isLoopbackAddress(address('::ffff:127.0.0.1'))).toBe(true);
    expect(isLoopbackAddress(address('::1'))).toBe(true);
    expect(isLoopbackAddress(address('::7f00:1'))).toBe(false);
    expect(isLoopbackAddress(address('128.0.0.1'))).toBe(false);
    expect(isLoopbackAddress(address('::2'))).toBe(false);
  });
});
