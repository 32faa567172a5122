// The address rules (src/lib/ip.ts and src/lib/webhook-targets.ts on ipaddr.js) in workerd: the
// real src/entry/worker.ts as wrangler bundles it (`wrangler dev --local`, the fixture of
// limits-across-isolates.test.ts), driven over HTTP with the client address set as Cloudflare sets
// it. The block list reads and stores each spelling as on Node, a blocked client is matched by its
// IPv4-mapped and its /64 forms, and webhook URLs to non-public addresses are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signature } from '../helpers/signing.js';
import { fixtureAdminToken as adminToken, startTwoIsolateSignet, type TwoIsolateSignet } from './limits-isolates/start.js';

const organiser = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };

let worker: TwoIsolateSignet;

/** A request to Signet A (a 500 fails the test with the Worker's output). */
async function call(path: string, init: RequestInit & { clientIp?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.clientIp) headers.set('x-client-ip', init.clientIp);
  const response = await fetch(`${worker.url}/a${path}`, { ...init, headers, redirect: 'manual' });
  if (response.status >= 500) throw new Error(`Signet answered ${response.status} to ${path}: ${await response.text()}\n${worker.output().slice(-4000)}`);
  return response;
}

const post = (path: string, body: unknown) => call(path, { method: 'POST', headers: organiser, body: JSON.stringify(body) });

beforeAll(async () => {
  worker = await startTwoIsolateSignet();
  expect((await post('/api/v1/campaigns', { slug: 'ip-rules', title: 'IP rules', locale: 'en' })).status).toBe(201);
  expect((await call('/api/v1/campaigns/ip-rules', { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'open' }) })).status).toBe(200);
}, 180_000);

afterAll(async () => {
  await worker?.stop();
});

describe('address rules in workerd', () => {
  it('stores block-list values canonically, refuses inet_aton spellings, and matches mapped and /64 clients', async () => {
    const added = async (value: string) => {
      const response = await post('/api/v1/blocklist', { kind: 'ip', value });
      const body = (await response.json()) as { value?: string; error?: { code: string; details: { path: string }[] } };
      return { status: response.status, body };
    };
    expect(await added('::ffff:198.51.100.0/120')).toMatchObject({ status: 201, body: { value: '198.51.100.0/24' } });
    expect(await added('2001:DB8:BAD:1:2:3:4:5')).toMatchObject({ status: 201, body: { value: '2001:db8:bad:1::/64' } });
    for (const refused of ['0x7f.0.0.1', '127.1', '0177.0.0.1', '::ffff:0x7f.0.0.1', '[2001:db8::]/32', 'fe80::1%eth0']) {
      expect(await added(refused), refused).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', details: [{ path: 'value' }] } } });
    }

    const sign = (email: string, clientIp: string) =>
      call('/api/v1/campaigns/ip-rules/signatures', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(signature(email)), clientIp });
    // Blocked requests are answered as usual and kept as fraudulent.
    for (const [email, clientIp] of [
      ['mapped@one.example', '::ffff:198.51.100.7'],
      ['plain@two.example', '198.51.100.255'],
      ['same64@three.example', '2001:db8:bad:1:ffff::99'],
      ['next64@four.example', '2001:db8:bad:2::1'],
      ['outside@five.example', '198.51.101.0'],
    ] as const) {
      expect((await sign(email, clientIp)).status, clientIp).toBe(202);
    }
    const listed = await call('/api/v1/campaigns/ip-rules/fraudulent-requests', { headers: organiser });
    expect(listed.status).toBe(200);
    const { items } = (await listed.json()) as { items: { domain: string; blockedBy: string }[] };
    expect(items.map((item) => `${item.domain} ${item.blockedBy}`).sort()).toEqual(['one.example ip', 'three.example ip', 'two.example ip']);
  }, 60_000);

  it('refuses webhooks to addresses that are not the public internet, in any spelling', async () => {
    for (const url of ['https://0x7f.1/hook', 'https://[::ffff:7f00:1]/hook', 'https://[::7f00:1]/hook', 'https://[::ffff:0:a9fe:a9fe]/hook', 'https://[64:ff9b::a00:1]/hook', 'https://[fd00::1]/hook', 'https://[3fff::1]/hook']) {
      const response = await post('/api/v1/webhooks', { url, events: ['signature.confirmed'] });
      expect(response.status, url).toBe(400);
      expect(await response.json(), url).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'url' }] } });
    }
    const accepted = await post('/api/v1/webhooks', { url: 'https://[2606:4700:4700::1111]/hook', events: ['signature.confirmed'] });
    expect(accepted.status).toBe(201);
  }, 60_000);
});
