import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign, signAndConfirm, signature } from '../../helpers/signing.js';
import { adminClient } from '../replies/helpers.js';
import { json } from '../access/helpers.js';

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

const SLUG = 'save-refugees';

describe('partners in the dashboard', () => {
  it('adds, changes and removes partners with a form, and shows the counts per partner on the campaign page, in English and Japanese', async () => {
    t = createTestApp();
    await openCampaign(t, SLUG);
    const admin = adminClient(t);
    await admin.login();
    const campaign = await admin.page(`/admin/campaigns/${SLUG}`);
    expect(campaign.html).toContain(`href="/admin/campaigns/${SLUG}/partners"`);
    expect(campaign.html).toContain('No partners yet.');

    await admin.page(`/admin/campaigns/${SLUG}/partners`);
    const bad = await admin.post(`/admin/campaigns/${SLUG}/partners`, { code: 'Not a code!', name: '' });
    expect(bad.status).toBe(422);
    const badHtml = await bad.text();
    expect(badHtml).toContain('must be 1 to 40 lower-case letters');
    expect(badHtml).toContain('value="Not a code!"');

    const added = await admin.post(`/admin/campaigns/${SLUG}/partners`, { code: 'amnesty', name: 'Amnesty Tokyo', optInText: 'Amnesty Tokyo may email me.' });
    expect(added.status).toBe(303);
    expect(added.headers.get('location')).toContain('/partners?done=created#partner-card-amnesty');
    const again = await admin.post(`/admin/campaigns/${SLUG}/partners`, { code: 'amnesty', name: 'Twice' });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('is taken');
    expect((await admin.post(`/admin/campaigns/${SLUG}/partners`, { code: 'quiet', name: 'Quiet Ally', optInText: '' })).status).toBe(303);

    await signAndConfirm(t, SLUG, signature('one@example.org', { ref: 'amnesty', consent: { partner: true } }));
    await signAndConfirm(t, SLUG, signature('two@example.org', { ref: 'amnesty' }));
    await signAndConfirm(t, SLUG, signature('three@example.org', { ref: 'quiet' }));

    const page = await admin.page(`/admin/campaigns/${SLUG}/partners`);
    expect(page.html).toContain('2 signatures, 1 opted in');
    expect(page.html).toContain('http://localhost:3000/c/save-refugees?ref=amnesty');
    const counts = (await admin.page(`/admin/campaigns/${SLUG}`)).html;
    const table = /<section class="card" aria-labelledby="partners-heading" id="partner-counts">([\s\S]*?)<\/section>/.exec(counts)![1]!;
    expect(table).toMatch(/<th scope="row">Amnesty Tokyo<\/th><td><code>amnesty<\/code><\/td><td class="num">2<\/td><td class="num">1<\/td>/);
    expect(table).toMatch(/<th scope="row">Quiet Ally<\/th><td><code>quiet<\/code><\/td><td class="num">1<\/td><td class="num"><span class="muted">no box<\/span><\/td>/);

    const ja = await admin.page(`/admin/campaigns/${SLUG}?lang=ja`);
    expect(ja.html).toContain('協力団体別の署名数');
    const jaPage = await admin.page(`/admin/campaigns/${SLUG}/partners?lang=ja`);
    expect(jaPage.html).toContain('署名 2 件、同意 1 件');

    await admin.page(`/admin/campaigns/${SLUG}/partners`);
    const changed = await admin.post(`/admin/campaigns/${SLUG}/partners/amnesty`, { name: 'Amnesty Japan', optInText: '' });
    expect(changed.status).toBe(303);
    const partner = await json<{ name: string; optInText: string | null }>(await t.request('GET', `/api/v1/campaigns/${SLUG}/partners/amnesty`), 200);
    expect(partner).toMatchObject({ name: 'Amnesty Japan', optInText: null });
    const emptyName = await admin.post(`/admin/campaigns/${SLUG}/partners/amnesty`, { name: '' });
    expect(emptyName.status).toBe(422);

    const removed = await admin.post(`/admin/campaigns/${SLUG}/partners/quiet/delete`);
    expect(removed.status).toBe(303);
    expect(removed.headers.get('location')).toContain('done=partner-removed');
    expect((await t.request('GET', `/api/v1/campaigns/${SLUG}/partners/quiet`)).status).toBe(404);
    expect((await admin.page(removed.headers.get('location')!)).html).toContain('Partner removed.');
  });
});
