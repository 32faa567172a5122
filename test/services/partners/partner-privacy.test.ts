import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { signatures } from '../../../src/db/schema.js';
import { exportAddressData } from '../../../src/services/privacy.js';
import { catalogs, interpolate } from '../../../src/web/i18n/index.js';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';
import { hiddenFields, latestPrivacyToken, postForm, requestLink, signAndConfirm } from '../privacy/helpers.js';
import { json } from '../access/helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

describe('a supporter\'s own view of a partner opt-in', () => {
  it('is in their data export, and the manage page withdraws it (it cannot give one)', async () => {
    t = createTestApp();
    const slug = await openCampaign(t, 'coalition');
    await json(await t.request('POST', `/api/v1/campaigns/${slug}/partners`, { body: { code: 'amnesty', name: 'Amnesty Tokyo', optInText: 'Amnesty may email me.' } }), 201);
    await signAndConfirm(t, slug, 'min@example.kr', { ref: 'amnesty', consent: { updates: true, partner: true } });
    const other = await openCampaign(t, 'other');
    await signAndConfirm(t, other, 'min@example.kr', {});

    const data = await exportAddressData(t.ctx, 'min@example.kr');
    expect(data.signatures.map((s) => [s.campaign.slug, s.partner])).toEqual(
      expect.arrayContaining([
        ['coalition', { code: 'amnesty', name: 'Amnesty Tokyo', optedIn: true }],
        ['other', null],
      ]),
    );

    await requestLink(t, 'min@example.kr', 'manage');
    const token = await latestPrivacyToken(t, 'min@example.kr');
    const page = await (await t.app.request(`/privacy/${token}?lang=en`)).text();
    const [signed] = await t.database.db.select().from(signatures).where(eq(signatures.partnerOptIn, true));
    expect(page).toContain(interpolate(catalogs.en.confirmPartnerTerm, { partner: 'Amnesty Tokyo' }));
    expect(page).toContain(`name="partnerOptIn.${signed!.id}" value="yes" checked`);
    // Only the signature with an opt-in offers the choice.
    expect(page.match(/name="partnerOptIn\./g)).toHaveLength(2);

    const res = await postForm(t, `/privacy/${token}`, { ...hiddenFields(page), [`partnerOptIn.${signed!.id}`]: 'no' });
    expect(res.status).toBe(200);
    const [after] = await t.database.db.select().from(signatures).where(eq(signatures.id, signed!.id));
    expect([after?.partnerOptIn, after?.partnerId, after?.updates]).toEqual([false, signed!.partnerId, true]);
    const supporters = await json<{ items: unknown[] }>(await t.request('GET', `/api/v1/campaigns/${slug}/partners/amnesty/supporters`), 200);
    expect(supporters.items).toEqual([]);
  });

  it('cannot be given on the manage page', async () => {
    t = createTestApp();
    const slug = await openCampaign(t, 'coalition');
    await json(await t.request('POST', `/api/v1/campaigns/${slug}/partners`, { body: { code: 'amnesty', name: 'Amnesty Tokyo', optInText: 'Amnesty may email me.' } }), 201);
    await signAndConfirm(t, slug, 'min@example.kr', { ref: 'amnesty', consent: { updates: true } });
    await requestLink(t, 'min@example.kr', 'manage');
    const token = await latestPrivacyToken(t, 'min@example.kr');
    const page = await (await t.app.request(`/privacy/${token}?lang=en`)).text();
    expect(page).not.toContain('name="partnerOptIn.');
    const [signed] = await t.database.db.select().from(signatures);
    expect((await postForm(t, `/privacy/${token}`, { ...hiddenFields(page), [`partnerOptIn.${signed!.id}`]: 'yes' })).status).toBe(200);
    const [after] = await t.database.db.select().from(signatures);
    expect(after?.partnerOptIn).toBe(false);
  });
});
