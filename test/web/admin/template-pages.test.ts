import { afterEach, describe, expect, it } from 'vitest';
import { letterTemplateVersions } from '../../../src/db/schema.js';
import { ADMIN_TOKEN, createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';
import { parsePdfBytes } from '../../letters/helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const ORIGIN = 'http://localhost';
const PAGE = '/admin/templates/embassy-petition/en';

/** A browser stand-in: the session cookie, the page's form token, form posts from this origin. */
async function signedIn(app: TestApp, token = ADMIN_TOKEN) {
  let cookie = '';
  let csrf = '';
  const request = async (method: string, path: string, form?: Record<string, string>) => {
    const headers: Record<string, string> = cookie ? { cookie } : {};
    if (form) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN });
    const res = await app.app.request(path, { method, headers, body: form ? new URLSearchParams(form).toString() : undefined });
    const set = /(?:^|, )(signet_session)=([^;]*)/.exec(res.headers.get('set-cookie') ?? '');
    if (set?.[2]) cookie = `${set[1]}=${set[2]}`;
    return res;
  };
  const login = await request('POST', '/admin/login', { token, next: '/admin/templates' });
  expect(login.status).toBe(303);
  const page = async (path: string) => {
    const res = await request('GET', path);
    const html = await res.text();
    csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? csrf;
    return { status: res.status, html };
  };
  return { page, post: (path: string, form: Record<string, string>) => request('POST', path, { _csrf: csrf, ...form }) };
}

/** The edit form's fields as the page gives them, with `changes` on top. */
function formOf(html: string, changes: Record<string, string>): Record<string, string> {
  const values: Record<string, string> = {};
  const decode = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  for (const [, name, value] of html.matchAll(/<input[^>]*name="(subject)"[^>]*value="([^"]*)"/g)) values[name!] = decode(value!);
  for (const [, name, value] of html.matchAll(/<textarea[^>]*name="(\w+)"[^>]*>([\s\S]*?)<\/textarea>/g)) values[name!] = decode(value!);
  for (const [, name, body] of html.matchAll(/<select[^>]*name="(\w+)"[^>]*>([\s\S]*?)<\/select>/g)) values[name!] = /<option value="([^"]*)" selected/.exec(body!)?.[1] ?? '';
  values.letterhead = 'true';
  return { ...values, ...changes };
}

describe('the letter template pages of the dashboard', () => {
  it('list the templates, save a version from the form, show a refusal on its field with the line, preview a draft and reset', async () => {
    t = createTestApp();
    const target = await t.request('POST', '/api/v1/targets', { body: { name: 'Embassy of Testland', kind: 'embassy', language: 'en', postalAddress: { lines: ['1 Embassy Row'], city: 'Tokyo', country: 'JP' } } });
    await openCampaign(t, 'forced-returns', { targetIds: [((await target.json()) as { id: string }).id] });
    const admin = await signedIn(t);

    const list = await admin.page('/admin/templates?lang=ja');
    expect(list.status).toBe(200);
    expect(list.html).toContain('<h1>書簡テンプレート</h1>');
    expect(list.html).toContain(`href="${PAGE}"`);

    const edit = await admin.page(`${PAGE}?lang=en`);
    expect(edit.html).toContain('In use: the text shipped with Signet.');
    expect(edit.html).toContain('{{signatures.total}}');

    const refused = await admin.post(PAGE, formOf(edit.html, { body: 'One.\r\n\r\nFor {{signatures.totl}} people.' }));
    expect(refused.status).toBe(422);
    const refusedHtml = await refused.text();
    expect(refusedHtml).toContain('Line 3: there is no variable “signatures.totl”.');
    expect(refusedHtml).toMatch(/<div class="field invalid"><label for="f-body">/);
    // The organiser's text is kept on the form to correct.
    expect(refusedHtml).toContain('For {{signatures.totl}} people.');
    expect(await t.database.db.select().from(letterTemplateVersions)).toEqual([]);

    const preview = await admin.post(`${PAGE}/preview`, formOf(edit.html, { body: 'The Lapwing draft for {{signatures.total}} people.', previewCampaign: 'forced-returns' }));
    expect(preview.status).toBe(200);
    expect(preview.headers.get('content-type')).toBe('application/pdf');
    expect(preview.headers.get('content-disposition')).toMatch(/^inline/);
    expect((await parsePdfBytes(Buffer.from(await preview.arrayBuffer()))).pages.join(' ').replace(/\s+/g, '')).toContain('TheLapwingdraftfor0people.');
    expect(await t.database.db.select().from(letterTemplateVersions)).toEqual([]);

    const saved = await admin.post(PAGE, formOf(edit.html, { body: 'The Lapwing letter.', closingAlign: 'right' }));
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe(`${PAGE}?done=saved&version=1`);
    const after = await admin.page(`${PAGE}?done=saved&version=1&lang=en`);
    expect(after.html).toContain('Saved: letters generated from now on use version 1.');
    expect(after.html).toMatch(/In use: version 1, saved by ADMIN_TOKEN/);
    const [stored] = await t.database.db.select().from(letterTemplateVersions);
    expect(stored).toMatchObject({ name: 'embassy-petition', language: 'en', version: 1, isReset: false, savedBy: 'ADMIN_TOKEN' });
    expect(stored!.source).toContain('closingAlign: right');
    expect(stored!.source.endsWith('---\nThe Lapwing letter.')).toBe(true);

    // Reset needs its box ticked; without it nothing changes.
    expect((await admin.post(`${PAGE}/reset`, {})).status).toBe(303);
    expect(await t.database.db.select().from(letterTemplateVersions)).toHaveLength(1);
    const reset = await admin.post(`${PAGE}/reset`, { confirm: 'yes' });
    expect(reset.headers.get('location')).toBe(`${PAGE}?done=reset&version=2`);
    const history = await admin.page(`${PAGE}?lang=ja`);
    expect(history.html).toContain('初期の文面に戻した');
    expect([...history.html.matchAll(/<tr data-version="(\d+)"/g)].map((match) => match[1])).toEqual(['2', '1', '0']);
  });

  it('let a campaign-limited session read and preview but neither save nor reset', async () => {
    t = createTestApp();
    await openCampaign(t, 'forced-returns');
    const created = await t.request('POST', '/api/v1/tokens', { body: { name: 'campaign team', scopes: ['letters', 'campaigns'], campaigns: ['forced-returns'] } });
    const limited = await signedIn(t, ((await created.json()) as { token: string }).token);
    const edit = await limited.page(PAGE);
    expect(edit.status).toBe(200);
    expect(edit.html).toContain('id="template-read-only"');
    expect(edit.html).not.toContain('id="template-reset"');
    expect((await limited.post(PAGE, formOf(edit.html, { body: 'Taken over.' }))).status).toBe(403);
    expect((await limited.post(`${PAGE}/reset`, { confirm: 'yes' })).status).toBe(403);
    expect(await t.database.db.select().from(letterTemplateVersions)).toEqual([]);
  });
});
