import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { signatures, signatureSubmissions } from '../../../src/db/schema.js';
import { catalogs, interpolate, pageLanguages } from '../../../src/web/i18n/index.js';
import { createTestApp } from '../../helpers/app.js';
import { latestConfirmToken, openCampaign } from '../../helpers/signing.js';
import { json } from '../access/helpers.js';

let t: ReturnType<typeof createTestApp> | undefined;
afterEach(async () => t?.cleanup());

const OWN_ORIGIN = 'http://localhost:3000';
const OPT_IN = 'Amnesty Tokyo may email me about its work for refugees.';
const supporter = { name: 'Jane Doe', email: 'jane@example.org', country: 'JP', nameOnLetter: 'initials', showPublicly: 'no', updates: 'no', lang: 'en' };

function formToken(html: string): string {
  const match = /name="_token" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no form token on the page');
  return match[1]!;
}

function post(path: string, fields: Record<string, string>) {
  return t!.app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: OWN_ORIGIN, 'x-forwarded-for': '203.0.113.9' },
    body: new URLSearchParams(fields).toString(),
  });
}

async function page(path: string) {
  const response = await t!.app.request(path);
  return { response, html: await response.text() };
}

async function coalitionCampaign() {
  t = createTestApp();
  await openCampaign(t, 'refugees');
  await json(await t.request('POST', '/api/v1/campaigns/refugees/partners', { body: { code: 'amnesty', name: 'Amnesty Tokyo', optInText: OPT_IN } }), 201);
  await json(await t.request('POST', '/api/v1/campaigns/refugees/partners', { body: { code: 'nobox', name: 'Quiet Ally' } }), 201);
}

const checkbox = /<input type="checkbox" id="field-partnerOptIn" name="partnerOptIn" value="yes"[^>]*>/;

describe('the signing form with a partner\'s link (?ref=)', () => {
  it('carries the partner in a hidden field and shows its box, unticked, worded as given, in every page language', async () => {
    await coalitionCampaign();
    for (const language of pageLanguages) {
      for (const view of ['', '/embed']) {
        const { response, html } = await page(`/c/refugees${view}?lang=${language}&ref=amnesty`);
        expect(response.status, `${view} ${language}`).toBe(200);
        expect(html).toContain('<input type="hidden" name="ref" value="amnesty"/>');
        const box = checkbox.exec(html)?.[0];
        expect(box, `${view} ${language}`).toBeDefined();
        expect(box).not.toContain('checked');
        expect(html).toContain(`<label for="field-partnerOptIn">${OPT_IN}</label>`);
        expect(html).toContain(interpolate(catalogs[language].partnerOptInLegend, { partner: 'Amnesty Tokyo' }));
      }
    }
    // The language switch keeps the link's partner; the privacy notice says what ticking the box passes on.
    const ja = await page('/c/refugees?lang=ja&ref=amnesty');
    expect(ja.html).toContain('href="/c/refugees?lang=en&amp;ref=amnesty"');
    expect(ja.html).toContain(interpolate(catalogs.ja.privacyPartner, { partner: 'Amnesty Tokyo' }));
    expect((await page('/c/refugees?lang=en')).html).not.toContain('&amp;ref=');
    // A partner without a text gets the attribution and no box; the code is matched whatever its case.
    const quiet = await page('/c/refugees?lang=en&ref=NoBox');
    expect(quiet.html).toContain('<input type="hidden" name="ref" value="nobox"/>');
    expect(quiet.html).not.toMatch(checkbox);
    expect(quiet.html).not.toContain(interpolate(catalogs.en.privacyPartner, { partner: 'Quiet Ally' }));
  });

  it('ignores an unknown or malformed ref: the page every visitor gets, byte for byte', async () => {
    await coalitionCampaign();
    const plain = await page('/c/refugees?lang=en');
    for (const ref of ['nobody', 'x'.repeat(300), '<script>', 'paper', '']) {
      const other = await page(`/c/refugees?lang=en&ref=${encodeURIComponent(ref)}`);
      expect(other.response.status, ref).toBe(200);
      expect(other.response.headers.get('etag'), ref).toBe(plain.response.headers.get('etag'));
      expect(other.html).not.toContain('name="ref"');
    }
    // And a ref on a campaign that does not exist is the same 404.
    expect((await page('/c/nowhere?lang=en&ref=amnesty')).response.status).toBe(404);
  });

  it('never serves one link\'s page for another: built per partner, rebuilt when the partner changes', async () => {
    await coalitionCampaign();
    const first = await page('/c/refugees?lang=en&ref=amnesty');
    const plain = await page('/c/refugees?lang=en');
    expect(plain.html).not.toContain('Amnesty Tokyo');
    expect(plain.html).not.toContain('name="ref"');
    const again = await page('/c/refugees?lang=en&ref=amnesty');
    expect(again.response.headers.get('etag')).toBe(first.response.headers.get('etag'));
    const quiet = await page('/c/refugees?lang=en&ref=nobox');
    expect(quiet.html).not.toContain('Amnesty Tokyo');

    await json(await t!.request('PATCH', '/api/v1/campaigns/refugees/partners/amnesty', { body: { optInText: 'Amnesty may write to me.' } }), 200);
    const changed = await page('/c/refugees?lang=en&ref=amnesty');
    expect(changed.html).toContain('Amnesty may write to me.');
    expect(changed.html).not.toContain(OPT_IN);
    expect((await t!.request('DELETE', '/api/v1/campaigns/refugees/partners/amnesty')).status).toBe(204);
    const gone = await page('/c/refugees?lang=en&ref=amnesty');
    expect(gone.html).not.toContain('name="ref"');
  });

  it('records the partner and the ticked box from the form, shows them before confirming, and keeps them on confirmation', async () => {
    await coalitionCampaign();
    const { html } = await page('/c/refugees?lang=en&ref=amnesty');
    const answer = await post('/c/refugees/sign', { ...supporter, _token: formToken(html), ref: 'amnesty', partnerOptIn: 'yes' });
    expect(answer.status).toBe(303);
    const [submission] = await t!.database.db.select().from(signatureSubmissions);
    expect(submission?.partnerId).toBeTruthy();
    expect(submission?.partnerOptIn).toBe(true);

    const token = await latestConfirmToken(t!, 'jane@example.org');
    const preview = await (await t!.app.request(`/confirm/${token}`, { headers: { 'accept-language': 'en' } })).text();
    expect(preview).toContain(interpolate(catalogs.en.confirmPartnerTerm, { partner: 'Amnesty Tokyo' }));
    const confirmed = await t!.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token } });
    expect(confirmed.status).toBe(200);
    const [signed] = await t!.database.db.select().from(signatures).where(eq(signatures.emailNormalized, 'jane@example.org'));
    expect([signed?.partnerId, signed?.partnerOptIn]).toEqual([submission!.partnerId, true]);
  });

  it('keeps the partner and the box as left when the form comes back with an error, and through the embed', async () => {
    await coalitionCampaign();
    const { html } = await page('/c/refugees/embed?lang=ja&ref=amnesty');
    const refused = await post('/c/refugees/embed/sign', { ...supporter, name: '', lang: 'ja', _token: formToken(html), ref: 'amnesty', partnerOptIn: 'yes' });
    expect(refused.status).toBe(422);
    const again = await refused.text();
    expect(again).toContain('<input type="hidden" name="ref" value="amnesty"/>');
    expect(checkbox.exec(again)?.[0]).toContain('checked');

    // Left unticked: attributed, not opted in. A forged box for a partner that has none counts for nothing.
    expect((await post('/c/refugees/embed/sign', { ...supporter, _token: formToken(html), ref: 'amnesty' })).status).toBe(303);
    expect((await post('/c/refugees/sign', { ...supporter, email: 'forged@example.org', _token: formToken((await page('/c/refugees?lang=en')).html), ref: 'nobox', partnerOptIn: 'yes' })).status).toBe(303);
    const rows = await t!.database.db.select().from(signatureSubmissions);
    const byEmail = new Map(rows.map((row) => [row.emailNormalized, row]));
    expect(byEmail.get('jane@example.org')?.partnerOptIn).toBe(false);
    expect(byEmail.get('jane@example.org')?.partnerId).toBeTruthy();
    expect(byEmail.get('forged@example.org')?.partnerId).toBeTruthy();
    expect(byEmail.get('forged@example.org')?.partnerOptIn).toBe(false);
  });
});
