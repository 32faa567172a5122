import { count } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signatures } from '../../../src/db/schema.js';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';
import { adminClient } from '../../services/replies/helpers.js';

let t: ReturnType<typeof createTestApp>;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.cleanup());

const SLUG = 'save-refugees';
const csvFile = (text: string) => ({ bytes: new TextEncoder().encode(text), name: 'shinjuku.csv', type: 'text/csv' });
const sheet = ['name,email,region,name_on_letter,updates', '山田 花子,hanako@example.jp,東京都,full,yes', '佐藤 健,,大阪府,,', 'Nameless,broken@,JP-13,,'].join('\n');

async function stored(): Promise<number> {
  const [row] = await t.database.db.select({ n: count() }).from(signatures);
  return row!.n;
}

describe('the street signatures page', () => {
  it('links from the campaign, checks an upload (a dry run naming the bad rows), then imports the good rows once the organiser agrees to leave the others out', async () => {
    await openCampaign(t, SLUG, { translations: { ja: { title: '脱北者の強制送還を止めて' } } });
    const admin = adminClient(t);
    await admin.login();
    const campaign = await admin.page(`/admin/campaigns/${SLUG}`);
    expect(campaign.html).toContain(`href="/admin/campaigns/${SLUG}/paper"`);

    const page = await admin.page(`/admin/campaigns/${SLUG}/paper`);
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('Street signatures: Save North Korean refugees');
    expect(page.html).toContain('No sheets imported yet.');

    const checked = await admin.postMultipart(`/admin/campaigns/${SLUG}/paper/check`, { event: 'Shinjuku stall', country: 'JP' }, csvFile(sheet));
    const report = await checked.text();
    expect(checked.status, report.slice(0, 400)).toBe(200);
    expect(report).toContain('3 rows: 2 new signatures, 0 merged with a signature already here (counted once), 1 with problems.');
    expect(report).toMatch(/<td>4<\/td><td><code>email<\/code><\/td><td>is not an email address[^<]*<span class="muted">\(INVALID_EMAIL\)<\/span>/);
    expect(await stored()).toBe(0);

    // The file travels back with the button; leaving out the bad row is the organiser's explicit choice.
    const content = /<textarea name="content"[^>]*>([^<]*)<\/textarea>/.exec(report)![1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    expect(content).toBe(sheet);
    const refused = await admin.postMultipart(`/admin/campaigns/${SLUG}/paper/import`, { content, event: 'Shinjuku stall', country: 'JP' });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain('1 row has problems, so nothing was imported.');
    expect(await stored()).toBe(0);

    const imported = await admin.postMultipart(`/admin/campaigns/${SLUG}/paper/import`, { content, event: 'Shinjuku stall', country: 'JP', skipInvalid: 'true' });
    expect(imported.status).toBe(303);
    const location = imported.headers.get('location')!;
    expect(location).toMatch(new RegExp(`^/admin/campaigns/${SLUG}/paper\\?imported=[0-9a-f-]{36}$`));
    expect(await stored()).toBe(2);
    const after = await admin.page(location);
    expect(after.html).toContain('Imported: 2 new signatures, 0 merged, 1 left out.');
    expect(after.html).toContain('Shinjuku stall');

    // In Japanese, with the problems in Japanese too.
    const japanese = await admin.postMultipart(`/admin/campaigns/${SLUG}/paper/check?lang=ja`, {}, csvFile('name,email\n,x@example.jp\n'));
    const html = await japanese.text();
    expect(html).toContain('街頭署名：Save North Korean refugees');
    expect(html).toContain('入力が必要です');
  });

  it('downloads the sheet in the chosen languages', async () => {
    await openCampaign(t, SLUG, { translations: { ja: { title: '脱北者の強制送還を止めて' } } });
    const admin = adminClient(t);
    await admin.login();
    const page = await admin.page(`/admin/campaigns/${SLUG}/paper`);
    expect(page.html).toContain('name="language" value="ja"');
    const pages = (pdf: string) => pdf.match(/\/Type \/Page\b(?!s)/g)?.length;
    const one = await admin.page(`/admin/campaigns/${SLUG}/signature-sheet.pdf?language=ja`);
    expect(one.res.headers.get('content-type')).toBe('application/pdf');
    expect(pages(one.html)).toBe(1);
    const both = await admin.page(`/admin/campaigns/${SLUG}/signature-sheet.pdf?language=ja&language=en`);
    expect(pages(both.html)).toBe(2);
    const none = await admin.page(`/admin/campaigns/${SLUG}/signature-sheet.pdf`);
    expect(none.res.status).toBe(422);
    expect(none.html).toContain('Choose at least one language.');
  });
});
