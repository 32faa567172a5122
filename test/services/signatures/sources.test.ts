import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';
import { block, ipHashOf, signAndConfirmFrom, signFrom, type TestApp, tokenWith } from '../../helpers/abuse.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

const HOUR = 3_600_000;
const sources = (slug: string, query = '', token?: string | null) => t.request('GET', `/api/v1/campaigns/${slug}/signatures/sources${query}`, { token });
const zero = { unconfirmed: 0, confirmed: 0, invalidated: 0, fraudulent: 0 };

describe('GET /campaigns/:slug/signatures/sources', () => {
  it('counts requests and signatures per hour by IP hash and by email domain, busiest first', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const other = await openCampaign(t, 'other-campaign');
    const start = t.clock.now(); // 2027-09-01T00:00Z
    t.clock.advance(10 * 60_000);
    await signAndConfirmFrom(t, slug, 'jane@example.org', '198.51.100.1');
    await signAndConfirmFrom(t, other, 'elsewhere@example.org', '198.51.100.1');
    t.clock.advance(HOUR); // 01:10
    for (let i = 0; i < 4; i++) expect((await signFrom(t, slug, `bot${i}@burst.example`, '2001:db8:1:2::' + (i + 1))).status).toBe(202);
    await signAndConfirmFrom(t, slug, 'bot9@burst.example', '2001:db8:1:2:ffff::9');
    await block(t, 'domain', 'spam.example');
    expect((await signFrom(t, slug, 'x@spam.example', '198.51.100.1')).status).toBe(202);
    await t.request('POST', `/api/v1/campaigns/${slug}/signatures/invalidate`, { body: { domain: 'example.org' } });

    const res = await sources(slug);
    expect(res.status).toBe(200);
    const body = await res.json();
    const ipV4 = await ipHashOf(t, slug, '198.51.100.1');
    const ipV6 = await ipHashOf(t, slug, '2001:db8:1:2::1');
    expect(body).toEqual({
      // The 24 hours up to the end of the current one (01:00-02:00).
      from: new Date(start + 2 * HOUR - 24 * HOUR).toISOString(),
      to: new Date(start + 2 * HOUR).toISOString(),
      byIpHash: [
        // One /64: four requests still unconfirmed and one confirmed signature, all one source.
        { hour: new Date(start + HOUR).toISOString(), ipHash: ipV6, total: 5, ...zero, unconfirmed: 4, confirmed: 1 },
        { hour: new Date(start + HOUR).toISOString(), ipHash: ipV4, total: 1, ...zero, fraudulent: 1 },
        { hour: new Date(start).toISOString(), ipHash: ipV4, total: 1, ...zero, invalidated: 1 },
      ],
      byDomain: [
        { hour: new Date(start + HOUR).toISOString(), domain: 'burst.example', total: 5, ...zero, unconfirmed: 4, confirmed: 1 },
        { hour: new Date(start + HOUR).toISOString(), domain: 'spam.example', total: 1, ...zero, fraudulent: 1 },
        { hour: new Date(start).toISOString(), domain: 'example.org', total: 1, ...zero, invalidated: 1 },
      ],
      truncated: false,
    });
    expect(ipV6).toBe(await ipHashOf(t, slug, '2001:db8:1:2:ffff::9'));

    // ?from=&to= narrows to the first hour; ?limit= cuts the lists and says so.
    const first = await (await sources(slug, `?from=${new Date(start).toISOString()}&to=${new Date(start + HOUR).toISOString()}`)).json();
    expect(first.byDomain).toEqual([{ hour: new Date(start).toISOString(), domain: 'example.org', total: 1, ...zero, invalidated: 1 }]);
    const limited = await (await sources(slug, '?limit=1')).json();
    expect(limited.byIpHash).toHaveLength(1);
    expect(limited.byIpHash[0].ipHash).toBe(ipV6);
    expect(limited.truncated).toBe(true);
  });

  it('validates the query', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const cases: [string, string, RegExp][] = [
      ['?from=yesterday', 'from', /ISO 8601/],
      ['?from=2027-09-02T00:00:00Z&to=2027-09-01T00:00:00Z', 'to', /after from/],
      ['?from=2027-07-01T00:00:00Z&to=2027-09-01T00:00:00Z', 'to', /31 days/],
      ['?limit=0', 'limit', /.+/],
      ['?limit=1001', 'limit', /.+/],
    ];
    for (const [query, path, message] of cases) {
      const res = await sources(slug, query);
      expect(res.status, query).toBe(400);
      const { error } = await res.json();
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.details).toEqual(expect.arrayContaining([{ path, message: expect.stringMatching(message) }]));
    }
    expect((await sources('no-such-campaign')).status).toBe(404);
  });

  it('needs signatures:read', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    expect((await sources(slug, '', null)).status).toBe(401);
    const refused = await sources(slug, '', await tokenWith(t, ['campaigns', 'letters']));
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.details.required).toBe('signatures:read');
    expect((await sources(slug, '', await tokenWith(t, ['signatures:read']))).status).toBe(200);
  });
});
