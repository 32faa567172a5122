import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { replies } from '../../../src/db/schema.js';
import { ADMIN_TOKEN, createTestApp } from '../../helpers/app.js';
import { adminClient, campaignToken, makePdf, makePng, seedCampaigns, type TestApp } from './helpers.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

const idFrom = (location: string | null) => /#reply-([0-9a-f-]{36})$/.exec(location ?? '')?.[1];

describe('replies in the dashboard', () => {
  it('records a reply with a scan from the campaign’s page, lists it, serves the file, hides and deletes it', async () => {
    t = createTestApp();
    const { a, b, c } = await seedCampaigns(t);
    const admin = adminClient(t);
    await admin.login();

    const campaignPage = await admin.page('/admin/campaigns/alpha');
    expect(campaignPage.res.status).toBe(200);
    expect(campaignPage.html).toContain('id="replies-card"');
    expect(campaignPage.html).toContain('No replies recorded yet.');
    expect(campaignPage.html).toContain('href="/admin/campaigns/alpha/replies"');
    // Not a cloned campaign: no invitation card.
    expect(campaignPage.html).not.toContain('id="invite-previous"');

    const empty = await admin.page('/admin/campaigns/alpha/replies');
    expect(empty.res.status).toBe(200);
    expect(empty.html).toContain('enctype="multipart/form-data"');
    // The campaign's own targets only.
    expect(empty.html).toContain(`<option value="${a}"`);
    expect(empty.html).toContain(`<option value="${b}"`);
    expect(empty.html).not.toContain(`<option value="${c}"`);

    const png = makePng(8, 8);
    const recorded = await admin.postMultipart(
      '/admin/campaigns/alpha/replies',
      { targetId: b, receivedAt: '2027-08-25', channel: 'fax', summary: 'They wrote back.\r\n<script>alert(1)</script>', public: 'on' },
      { bytes: png, name: 'fax.png', type: 'image/png' },
    );
    expect(recorded.status, await recorded.clone().text()).toBe(303);
    const id = idFrom(recorded.headers.get('location'));
    expect(id).toBeDefined();
    const [row] = await t.database.db.select().from(replies).where(eq(replies.id, id!));
    expect(row).toMatchObject({ targetId: b, receivedOn: '2027-08-25', channel: 'fax', summary: 'They wrote back.\n<script>alert(1)</script>', public: true, fileType: 'image/png', fileBytes: png.byteLength });

    const listed = await admin.page(recorded.headers.get('location')!.replace(/#.*$/, ''));
    expect(listed.html).toContain('Reply recorded.');
    expect(listed.html).toContain(`id="reply-${id}"`);
    expect(listed.html).toContain('Consul B');
    expect(listed.html).toContain('25 Aug 2027');
    expect(listed.html).toContain('They wrote back.<br/>&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(listed.html).not.toContain('<script>alert(1)</script>');
    expect(listed.html).toContain(`href="/admin/replies/${id}/file"`);

    const file = await admin.page(`/admin/replies/${id}/file`);
    expect(file.res.headers.get('content-type')).toBe('image/png');
    expect(file.res.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(new Uint8Array(await (await t.app.request(`/admin/replies/${id}/file`)).arrayBuffer())).not.toEqual(png); // no session, no file

    const overview = await admin.page('/admin/campaigns/alpha');
    expect(overview.html).toContain('1 replies recorded, 1 shown on the campaign page.');

    const hidden = await admin.post(`/admin/replies/${id}`, { public: 'false' });
    expect(hidden.status).toBe(303);
    expect((await t.database.db.select({ public: replies.public }).from(replies).where(eq(replies.id, id!)))[0]!.public).toBe(false);

    const stored = join(t.dataDir, row!.filePath!);
    expect(existsSync(stored)).toBe(true);
    const deleted = await admin.post(`/admin/replies/${id}/delete`);
    expect(deleted.status).toBe(303);
    expect(deleted.headers.get('location')).toBe('/admin/campaigns/alpha/replies?done=deleted');
    expect(await t.database.db.select().from(replies)).toEqual([]);
    expect(existsSync(stored)).toBe(false);
  });

  it('shows the form again with the problem for a wrong file, a missing date or a target of another campaign, storing nothing', async () => {
    t = createTestApp();
    const { a, c } = await seedCampaigns(t);
    const admin = adminClient(t);
    await admin.login();
    await admin.page('/admin/campaigns/alpha/replies');

    const html = new TextEncoder().encode('<html><body onload="alert(1)">not a scan</body></html>');
    const wrongFile = await admin.postMultipart('/admin/campaigns/alpha/replies', { targetId: a, receivedAt: '2027-08-25', channel: 'post', summary: 'Kept on a refusal' }, { bytes: html, name: 'scan.pdf', type: 'application/pdf' });
    expect(wrongFile.status).toBe(422);
    const wrongPage = await wrongFile.text();
    expect(wrongPage).toContain('must be a PDF, PNG, JPEG or WebP file');
    expect(wrongPage).toContain('Kept on a refusal');

    const noDate = await admin.postMultipart('/admin/campaigns/alpha/replies', { targetId: a, receivedAt: '', channel: 'post', summary: 'x' });
    expect(noDate.status).toBe(422);
    expect(await noDate.text()).toContain('href="#f-receivedAt"');

    const otherTarget = await admin.postMultipart('/admin/campaigns/alpha/replies', { targetId: c, receivedAt: '2027-08-25', channel: 'post', summary: 'x' });
    expect(otherTarget.status).toBe(422);
    expect(await otherTarget.text()).toContain('href="#f-targetId"');

    // A multipart post without the session's form token is refused like any other form.
    const forged = await admin.postMultipart('/admin/campaigns/alpha/replies', { targetId: a, receivedAt: '2027-08-25', channel: 'post', summary: 'x' }, undefined, { csrf: 'forged' });
    expect(forged.status).toBe(403);
    expect(await t.database.db.select().from(replies)).toEqual([]);
    expect(existsSync(join(t.dataDir, 'replies'))).toBe(false);
  });

  it('takes a scan up to 10 MiB through the dashboard (its forms are otherwise limited to 256 KB)', async () => {
    t = createTestApp();
    const { a } = await seedCampaigns(t);
    const admin = adminClient(t);
    await admin.login();
    await admin.page('/admin/campaigns/alpha/replies');
    const pdf = await makePdf();
    const large = new Uint8Array(3 * 1024 * 1024);
    large.set(pdf);
    const res = await admin.postMultipart('/admin/campaigns/alpha/replies', { targetId: a, receivedAt: '2027-08-25', channel: 'post', summary: 'A long scan' }, { bytes: large, name: 'long.pdf', type: 'application/pdf' });
    expect(res.status, await res.clone().text()).toBe(303);
    const [row] = await t.database.db.select().from(replies);
    expect(row).toMatchObject({ fileBytes: large.byteLength, fileType: 'application/pdf' });
    // Any other dashboard form stays small.
    const big = await admin.post('/admin/campaigns', { title: 'x'.repeat(300 * 1024) });
    expect(big.status).toBe(413);
  });

  it('speaks Japanese, and keeps another campaign’s replies out of reach of a campaign-limited session', async () => {
    t = createTestApp();
    const { c } = await seedCampaigns(t);
    const recorded = await t.request('POST', `/api/v1/targets/${c}/replies`, { body: { campaign: 'beta', receivedAt: '2027-08-20', channel: 'phone', summary: 'beta only' } });
    const betaReply = (await recorded.json()).id as string;

    const admin = adminClient(t);
    await admin.login();
    const ja = await admin.page('/admin/campaigns/beta/replies?lang=ja');
    expect(ja.html).toContain('宛先からの返信');
    expect(ja.html).toContain('返信を記録する');
    expect(ja.html).toContain('電話');
    expect(ja.html).toContain('2027/08/20');

    const limited = adminClient(t);
    await limited.login(await campaignToken(t, ['alpha']));
    expect((await limited.page('/admin/campaigns/beta/replies')).res.status).toBe(404);
    expect((await limited.page(`/admin/replies/${betaReply}/file`)).res.status).toBe(404);
    await limited.page('/admin/campaigns/alpha/replies');
    expect((await limited.post(`/admin/replies/${betaReply}/delete`)).status).toBe(404);
    expect(await t.database.db.select().from(replies)).toHaveLength(1);
  });
});

describe('replies on the public campaign page', () => {
  it('shows only public replies, their summary as plain escaped text, and no file link', async () => {
    t = createTestApp();
    const { a, b } = await seedCampaigns(t);
    const pdf = await makePdf();
    const form = new FormData();
    for (const [name, value] of Object.entries({ campaign: 'alpha', receivedAt: '2027-08-28', channel: 'post', summary: 'The ambassador **thanked** us.\n<img src=x onerror=alert(1)>', public: 'true' })) form.append(name, value);
    form.append('file', new Blob([pdf], { type: 'application/pdf' }), 'scan.pdf');
    const shown = await t.app.request(`/api/v1/targets/${a}/replies`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: form });
    expect(shown.status).toBe(201);
    const hidden = await t.request('POST', `/api/v1/targets/${b}/replies`, { body: { campaign: 'alpha', receivedAt: '2027-08-29', channel: 'phone', summary: 'PRIVATE NOTE about the consul' } });
    expect(hidden.status).toBe(201);

    const page = await t.app.request('/c/alpha?lang=en');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Replies from the recipients');
    expect(html).toContain('<time datetime="2027-08-28">Aug 28, 2027</time>');
    expect(html).toContain('Ambassador A, Embassy of A');
    expect(html).toContain('Letter');
    expect(html).toContain('The ambassador **thanked** us.<br/>&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<strong>thanked</strong>');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('PRIVATE NOTE');
    expect(html).not.toContain('/replies/');

    const ja = await (await t.app.request('/c/alpha?lang=ja')).text();
    expect(ja).toContain('宛先からの返信');
    expect(ja).toContain('郵便');
    const ko = await (await t.app.request('/c/alpha?lang=ko')).text();
    expect(ko).toContain('수신처의 답변');
    const zh = await (await t.app.request('/c/alpha?lang=zh')).text();
    expect(zh).toContain('收件方的回复');

    // A campaign without public replies has no such section.
    const beta = await (await t.app.request('/c/beta?lang=en')).text();
    expect(beta).not.toContain('Replies from the recipients');
  });
});
