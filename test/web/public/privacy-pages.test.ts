import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { privacyRequests, signatures } from '../../../src/db/schema.js';
import { foldSignatureCounts } from '../../../src/services/signatures.js';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';
import { hiddenFields, latestPrivacyToken, postForm, privacyMail, requestLink, signAndConfirm } from '../../services/privacy/helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

async function snapshot() {
  return {
    signatures: await t.database.db.select().from(signatures),
    requests: await t.database.db.select().from(privacyRequests),
  };
}

/** Opens a privacy link as a browser does and returns the page and its form's hidden fields. */
async function openLink(token: string, lang = 'en') {
  const res = await t.app.request(`/privacy/${token}?lang=${lang}`);
  const html = await res.text();
  return { res, html, fields: hiddenFields(html) };
}

describe('/privacy: asking for a link', () => {
  it('shows a form, and a posted form mails a link to a known address and says the same for any address', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirm(t, slug, 'hanako@example.jp');

    const page = await t.app.request('/privacy?lang=ja');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<html lang="ja">');
    expect(html).toContain('name="email"');
    expect(html).toMatch(/name="kind" value="erase"/);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const fields = hiddenFields(html);

    const known = await postForm(t, '/privacy', { ...fields, email: 'hanako@example.jp', kind: 'manage' });
    const unknown = await postForm(t, '/privacy', { ...fields, email: 'stranger@example.jp', kind: 'manage' });
    expect(known.status).toBe(303);
    expect(unknown.status).toBe(303);
    expect(known.headers.get('location')).toBe('/privacy/requested?lang=ja');
    expect(unknown.headers.get('location')).toBe(known.headers.get('location'));
    const [mail] = await privacyMail(t, 'hanako@example.jp');
    expect(mail!.message).toMatchObject({ compose: 'privacy', input: { locale: 'ja', kind: 'manage' } });
    expect(await privacyMail(t, 'stranger@example.jp')).toHaveLength(0);

    const requested = await t.app.request('/privacy/requested?lang=ja');
    expect(await requested.text()).toContain('メールをご確認ください');
  });

  it('refuses a form without its token, or posted from another site, and shows field errors', async () => {
    t = createTestApp();
    const fields = hiddenFields(await (await t.app.request('/privacy?lang=en')).text());
    expect((await postForm(t, '/privacy', { email: 'a@example.org', kind: 'erase' })).status).toBe(403);
    expect((await postForm(t, '/privacy', { ...fields, email: 'a@example.org', kind: 'erase' }, { origin: 'https://evil.example' })).status).toBe(403);
    const invalid = await postForm(t, '/privacy', { ...fields, email: 'nope', kind: '' });
    expect(invalid.status).toBe(422);
    const html = await invalid.text();
    expect(html).toContain('id="error-email"');
    expect(html).toContain('id="error-kind"');
    expect(html).toContain('value="nope"');
  });
});

describe('/privacy/:token: the mailed link', () => {
  it('GET never acts, however often it is opened; a link that is not ours or is expired shows a 404 page', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirm(t, slug, 'scan@example.org');
    await requestLink(t, 'scan@example.org', 'erase');
    const token = await latestPrivacyToken(t, 'scan@example.org');
    const before = await snapshot();

    for (let i = 0; i < 3; i++) {
      const { res, html, fields } = await openLink(token);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(html).toContain('<meta name="referrer" content="no-referrer"/>');
      expect(html).toContain(`action="/privacy/${token}"`);
      expect(fields._token).toBeDefined();
    }
    expect(await snapshot()).toEqual(before);

    const forged = `${token.slice(0, 22)}${'A'.repeat(22)}`;
    expect((await openLink(forged)).res.status).toBe(404);
    expect((await openLink('short')).res.status).toBe(404);
    t.clock.advance(24 * 3_600_000 + 1);
    expect((await openLink(token)).res.status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it('POST erase anonymises the address, once; the signature stays counted and the page says how many', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirm(t, slug, 'erase-me@example.org', { name: 'Erin Rase', city: 'Kyoto' });
    await foldSignatureCounts(t.ctx);
    await requestLink(t, 'erase-me@example.org', 'erase');
    const token = await latestPrivacyToken(t, 'erase-me@example.org');
    const { fields } = await openLink(token);

    expect((await postForm(t, `/privacy/${token}`, fields, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await postForm(t, `/privacy/${token}`, { lang: 'en' })).status).toBe(403);
    expect((await t.database.db.select().from(signatures))[0]!.status).toBe('confirmed');

    const done = await postForm(t, `/privacy/${token}`, fields);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Signatures whose personal data was deleted: 1.');
    const [row] = await t.database.db.select().from(signatures);
    expect(row).toMatchObject({ status: 'erased', name: '', email: '', city: null });
    expect((await (await t.request('GET', `/api/v1/campaigns/${slug}`)).json()).signatureCount).toBe(1);
    const [request] = await t.database.db.select().from(privacyRequests);
    expect(request).toMatchObject({ kind: 'erase', origin: 'supporter', status: 'completed', signatureCount: 1, emailNormalized: null });

    const again = await postForm(t, `/privacy/${token}`, fields);
    expect(again.status).toBe(404);
  });

  it('POST export downloads everything held about the address as JSON, and the link is then used', async () => {
    t = createTestApp();
    const first = await openCampaign(t, 'first', { title: 'First campaign' });
    const second = await openCampaign(t, 'second', { title: 'Second campaign' });
    await signAndConfirm(t, first, 'Mei@example.cn', { name: '王美', city: '上海', comment: '支持' });
    await signAndConfirm(t, second, 'mei@example.cn', { name: '王美' });
    await requestLink(t, 'mei@example.cn', 'export', { locale: 'zh' });
    const token = await latestPrivacyToken(t, 'mei@example.cn');
    const { html, fields } = await openLink(token, 'zh');
    expect(html).toContain('下载我的信息');

    const res = await postForm(t, `/privacy/${token}`, fields);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="personal-data-2027-09-01\.json"/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const data = await res.json();
    expect(data.email).toBe('mei@example.cn');
    expect(data.signatures.map((s: { campaign: { slug: string } }) => s.campaign.slug).sort()).toEqual(['first', 'second']);
    expect(data.signatures.find((s: { campaign: { slug: string } }) => s.campaign.slug === 'first')).toMatchObject({ name: '王美', city: '上海', comment: '支持', email: 'Mei@example.cn' });
    expect(data.emails.some((e: { kind: string }) => e.kind === 'privacy')).toBe(true);
    expect(JSON.stringify(data)).not.toContain(token.slice(0, 22));

    expect((await postForm(t, `/privacy/${token}`, fields)).status).toBe(404);
    expect((await t.database.db.select().from(signatures)).every((s) => s.status === 'confirmed')).toBe(true);
  });

  it('POST manage changes the choices of the link owner’s signatures only', async () => {
    t = createTestApp();
    const first = await openCampaign(t, 'first', { title: 'First campaign' });
    const second = await openCampaign(t, 'second', { title: 'Second campaign' });
    await signAndConfirm(t, first, 'min@example.kr', { consent: { nameOnLetter: 'full', showPublicly: true, updates: true } });
    await signAndConfirm(t, second, 'min@example.kr', { consent: { nameOnLetter: 'none', showPublicly: false, updates: false } });
    await signAndConfirm(t, first, 'else@example.kr', { consent: { nameOnLetter: 'full', showPublicly: true, updates: true } });
    await requestLink(t, 'min@example.kr', 'manage', { locale: 'ko' });
    const token = await latestPrivacyToken(t, 'min@example.kr');
    const rows = await t.database.db.select().from(signatures);
    const mine = rows.filter((r) => r.emailNormalized === 'min@example.kr');
    const other = rows.find((r) => r.emailNormalized === 'else@example.kr')!;
    const onFirst = mine.find((r) => r.nameOnLetter === 'full')!;
    const onSecond = mine.find((r) => r.nameOnLetter === 'none')!;

    const { html, fields } = await openLink(token, 'ko');
    expect(html).toContain('First campaign');
    expect(html).toContain('Second campaign');
    expect(html).not.toContain(other.id);
    expect(html).toContain(`name="nameOnLetter.${onFirst.id}" value="full" checked`);
    expect(await t.database.db.select().from(signatures)).toEqual(rows);

    const res = await postForm(t, `/privacy/${token}`, {
      ...fields,
      [`nameOnLetter.${onFirst.id}`]: 'initials',
      [`showPublicly.${onFirst.id}`]: 'no',
      [`updates.${onFirst.id}`]: 'no',
      [`nameOnLetter.${onSecond.id}`]: 'full',
      [`showPublicly.${onSecond.id}`]: 'yes',
      [`updates.${onSecond.id}`]: 'yes',
      // A signature of someone else, slipped into the form: ignored.
      [`nameOnLetter.${other.id}`]: 'none',
      [`showPublicly.${other.id}`]: 'no',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('설정이 저장되었습니다');
    const byId = new Map((await t.database.db.select().from(signatures)).map((r) => [r.id, r]));
    expect(byId.get(onFirst.id)).toMatchObject({ nameOnLetter: 'initials', showPublicly: false, updates: false });
    expect(byId.get(onSecond.id)).toMatchObject({ nameOnLetter: 'full', showPublicly: true, updates: true });
    expect(byId.get(other.id)).toMatchObject({ nameOnLetter: 'full', showPublicly: true, updates: true });

    expect((await postForm(t, `/privacy/${token}`, { ...fields, [`nameOnLetter.${onFirst.id}`]: 'none' })).status).toBe(404);
    expect((await t.database.db.select().from(signatures).where(eq(signatures.id, onFirst.id)))[0]!.nameOnLetter).toBe('initials');
  });

  it('refuses a manage form with a value that is not one of the choices', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirm(t, slug, 'odd@example.org');
    await requestLink(t, 'odd@example.org', 'manage');
    const token = await latestPrivacyToken(t, 'odd@example.org');
    const { fields } = await openLink(token);
    const [row] = await t.database.db.select().from(signatures);
    const res = await postForm(t, `/privacy/${token}`, { ...fields, [`nameOnLetter.${row!.id}`]: 'everything' });
    expect(res.status).toBe(400);
    expect((await t.database.db.select().from(privacyRequests))[0]!.status).toBe('pending');
  });
});

describe('the signing page’s privacy notice', () => {
  it('states the retention periods from the settings and links to /privacy', async () => {
    t = createTestApp({ privacy: { retentionDays: 90, pendingTtlDays: 14, publicRegionMin: 5, emailsPerAddress: { limit: 3, windowMs: 3_600_000 }, auditRetentionDays: 730 } });
    const slug = await openCampaign(t);
    const en = await (await t.app.request(`/c/${slug}?lang=en`)).text();
    expect(en).toContain('deleted 90 days after this campaign closes');
    expect(en).toContain('deleted after 14 days');
    expect(en).toContain('deleted after 30 days');
    expect(en).toContain('<a href="/privacy?lang=en">use our privacy page</a>');
    const ja = await (await t.app.request(`/c/${slug}?lang=ja`)).text();
    expect(ja).toContain('終了から90日後に削除');
    expect(ja).toContain('<a href="/privacy?lang=ja">');
  });

  it('says the data goes when the campaign closes with RETENTION_DAYS=0', async () => {
    t = createTestApp({ privacy: { retentionDays: 0, pendingTtlDays: 30, publicRegionMin: 5, emailsPerAddress: { limit: 3, windowMs: 3_600_000 }, auditRetentionDays: 730 } });
    const slug = await openCampaign(t);
    expect(await (await t.app.request(`/c/${slug}?lang=en`)).text()).toContain('deleted when this campaign closes');
  });
});
