import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { letterBatches, mailings } from '../../../src/db/schema.js';
import { ADMIN_TOKEN, createTestApp, repoLettersDir } from '../../helpers/app.js';
import { openCampaign, signAndConfirm, signature } from '../../helpers/signing.js';

/**
 * The dashboard's side of routing letters by jurisdiction: the choice on the generate form and
 * the letters-mailing form, and the preview of where supporters go (counts per target and
 * region, never a name).
 */

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const SLUG = 'routed-dashboard';
const missionsFile = join(repoLettersDir, 'targets/china-missions-japan.json');

/** A signed-in browser stand-in: keeps the session cookie and the form token, sends this site's Origin with forms. */
function dashboard(app: TestApp) {
  let cookie = '';
  let csrf = '';
  const request = async (method: string, path: string, form?: Record<string, string>) => {
    const headers: Record<string, string> = {};
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = 'http://localhost';
      body = new URLSearchParams(form).toString();
    }
    const res = await app.app.request(path, { method, headers, body });
    const match = /(?:^|, )((?:__Secure-)?signet_session)=([^;]*)/.exec(res.headers.get('set-cookie') ?? '');
    if (match) cookie = match[2] ? `${match[1]}=${match[2]}` : '';
    return res;
  };
  const page = async (path: string) => {
    const res = await request('GET', path);
    const html = await res.text();
    csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? csrf;
    return { status: res.status, html };
  };
  return {
    page,
    post: (path: string, form: Record<string, string>) => request('POST', path, { _csrf: csrf, ...form }),
    async login() {
      const res = await request('POST', '/admin/login', { token: ADMIN_TOKEN, next: '/admin/campaigns' });
      expect(res.status).toBe(303);
      await page('/admin/campaigns');
    },
  };
}

async function setup() {
  t = createTestApp();
  const imported = await t.request('POST', '/api/v1/targets/import', { raw: await readFile(missionsFile, 'utf8') });
  expect(imported.status).toBe(201);
  const { ids } = (await imported.json()) as { ids: string[] };
  await openCampaign(t, SLUG, { targetIds: ids });
  const signers = [
    { name: 'Naniwa Osakan', email: 'osaka1@example.org', region: 'JP-27' },
    { name: 'Dotonbori Walker', email: 'osaka2@example.org', region: 'JP-27' },
    { name: 'Edo Tokyoite', email: 'tokyo@example.org', region: 'JP-13' },
    { name: 'Nowhere Regionless', email: 'noregion@example.org', region: undefined },
    { name: 'Hidden Nagasakian', email: 'nagasaki@example.org', region: 'JP-42', nameOnLetter: 'none' },
  ];
  for (const { nameOnLetter, ...signer } of signers) {
    await signAndConfirm(t, SLUG, signature(signer.email, { ...signer, consent: { nameOnLetter: nameOnLetter ?? 'full' } }));
    t.clock.advance(60_000);
  }
  const client = dashboard(t);
  await client.login();
  return { client, signers };
}

/** The preview table's row for a target, by the target's name. */
function previewRow(html: string, name: string): string {
  const table = html.slice(html.indexOf('id="routing-preview"'));
  const start = table.indexOf(`<td>${name}`);
  expect(start, `row of ${name}`).toBeGreaterThan(0);
  return table.slice(start, table.indexOf('</tr>', start));
}

describe('dashboard: routing letters by jurisdiction', () => {
  it('previews the supporters per target and region, in English and Japanese, without names', async () => {
    const { client, signers } = await setup();
    const { status, html } = await client.page(`/admin/campaigns/${SLUG}/letters?routing=jurisdiction`);
    expect(status).toBe(200);
    expect(html).toMatch(/<details class="card" id="routing-preview" open/);
    expect(html).toContain('name="routing" value="jurisdiction" checked');
    // Each row shows what the target's letter will print: regions below PUBLIC_REGION_MIN (5) merged.
    expect(previewRow(html, '驻大阪总领事')).toMatch(/class="num">\s*2\s*<\/td>/);
    // A lone region is merged under words true for it: fewer than the minimum, not "not stated".
    expect(previewRow(html, '驻大阪总领事')).toContain('Other regions (each with fewer than 5) 2');
    expect(previewRow(html, '驻大阪总领事')).not.toContain('not stated');
    expect(previewRow(html, '驻大阪总领事')).not.toContain('Osaka 2');
    // Nagasaki's lone supporter who is counted only is folded into the embassy's letter; the organiser sees that, no letter does.
    const embassy = previewRow(html, '驻日本国特命全权大使');
    expect(embassy).toMatch(/class="num">\s*3\s*<div class="muted">counts 1 folded from small districts<\/div><\/td>/);
    expect(embassy).toContain('also takes those in no jurisdiction');
    expect(embassy).toContain('Other regions (each with fewer than 5) or not stated 3');
    // Jurisdictions by name in the organiser's language, not as codes.
    expect(embassy).toContain('<small>Ibaraki, Tochigi, Gunma, Saitama, Chiba, Tokyo, Kanagawa, Yamanashi, Nagano</small>');
    expect(embassy).not.toMatch(/JP-\d\d/);
    expect(previewRow(html, '驻长崎总领事')).toMatch(/0 \(letter with the total only\)<\/span><div class="muted">1 folded into the embassy’s letter<\/div>/);
    // Where the unserved come from is the organiser's to see, below the table.
    expect(html).toMatch(/in no target’s jurisdiction[^<]*<span class="muted">\(no region \(JP\) 1\)/);
    expect(previewRow(html, '驻札幌总领事')).toContain('0 (letter with the total only)');
    expect(html).toContain('Where fewer than 5 of a district’s supporters are not named in full');
    for (const signer of signers) expect(html).not.toContain(signer.name);

    const skipping = await client.page(`/admin/campaigns/${SLUG}/letters?routing=jurisdiction&emptyTargets=skip`);
    expect(skipping.html).toContain('name="emptyTargets" value="skip" checked');
    expect(previewRow(skipping.html, '驻札幌总领事')).toContain('0 (no letter)');

    const japanese = await client.page(`/admin/campaigns/${SLUG}/letters?routing=jurisdiction&lang=ja`);
    expect(japanese.html).toContain('管轄による振り分け先');
    expect(previewRow(japanese.html, '驻大阪总领事')).toContain('その他の地域（5名未満の地域の合計） 2');
    expect(previewRow(japanese.html, '驻日本国特命全权大使')).toContain('<small>茨城県、栃木県、群馬県、埼玉県、千葉県、東京都、神奈川県、山梨県、長野県</small>');
    expect(japanese.html).not.toMatch(/JP-\d\d/);
    expect(previewRow(japanese.html, '驻札幌总领事')).toContain('0 (署名総数のみの書簡)');

    // Without the choice the preview is there, folded away.
    const plain = await client.page(`/admin/campaigns/${SLUG}/letters`);
    expect(plain.html).toMatch(/<details class="card" id="routing-preview">/);
  });

  it('generates a routed batch from the form, skipping empty targets when asked, and lists the targets that got no letter', async () => {
    const { client } = await setup();
    await client.page(`/admin/campaigns/${SLUG}/letters`);
    const refused = await client.post(`/admin/campaigns/${SLUG}/letters`, { mode: 'per_signer', routing: 'jurisdiction', template: '', cutoffAt: '' });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain('routing by jurisdiction needs mode per_target');
    expect(await t.database.db.select().from(letterBatches)).toEqual([]);

    const generated = await client.post(`/admin/campaigns/${SLUG}/letters`, { mode: 'per_target', routing: 'jurisdiction', emptyTargets: 'skip', template: '', cutoffAt: '' });
    expect(generated.status, await generated.clone().text()).toBe(303);
    const [batch] = await t.database.db.select().from(letterBatches);
    expect(batch).toMatchObject({ routing: 'jurisdiction', emptyTargets: 'skip', letterCount: 2 });
    const { html } = await client.page(`/admin/campaigns/${SLUG}/letters`);
    expect(html).toContain('by jurisdiction · no letter to targets it would count no one for');
    const skipped = /<p class="muted skipped-targets">([^<]*)<\/p>/.exec(html)?.[1] ?? '';
    for (const name of ['驻札幌总领事', '驻新潟总领事', '驻名古屋总领事', '驻福冈总领事', '驻长崎总领事']) expect(skipped).toContain(name);
    expect(skipped).not.toContain('驻大阪总领事');
  });

  it('schedules a letters mailing routed by jurisdiction from the form, skipping empty targets when asked', async () => {
    const { client } = await setup();
    await client.page(`/admin/mailings/new?campaign=${SLUG}`);
    const form = { campaign: SLUG, kind: 'letters', channel: 'print', routing: 'jurisdiction', sendAt: '2027-09-22T09:00', timeZone: 'Asia/Tokyo' };
    // The consulates nobody is routed to are named before the organiser confirms.
    const warned = await client.post('/admin/mailings', form);
    expect(warned.status).toBe(200);
    expect(await warned.text()).toContain('its letter counts none of its own supporters so far');
    expect(await t.database.db.select().from(mailings)).toEqual([]);
    const res = await client.post('/admin/mailings', { ...form, confirmWarnings: 'on' });
    expect(res.status, await res.clone().text()).toBe(303);
    const [row] = await t.database.db.select().from(mailings);
    expect(row).toMatchObject({ kind: 'letters', routing: 'jurisdiction', emptyTargets: 'write' });
    expect((await client.page(`/admin/mailings/${row!.id}`)).html).toMatch(/<dt>Routing<\/dt>\s*<dd>by jurisdiction<\/dd>/);

    await client.page(`/admin/mailings/new?campaign=${SLUG}`);
    const skipping = await client.post('/admin/mailings', {
      campaign: SLUG,
      kind: 'letters',
      channel: 'print',
      routing: 'jurisdiction',
      emptyTargets: 'skip',
      sendAt: '2027-09-22T10:00',
      timeZone: 'Asia/Tokyo',
      confirmWarnings: 'on',
    });
    expect(skipping.status, await skipping.clone().text()).toBe(303);
    const skipRow = (await t.database.db.select().from(mailings)).find((mailing) => mailing.id !== row!.id);
    expect(skipRow).toMatchObject({ routing: 'jurisdiction', emptyTargets: 'skip' });
    expect((await client.page(`/admin/mailings/${skipRow!.id}`)).html).toMatch(/<dd>by jurisdiction · no letter to targets it would count no one for<\/dd>/);
  });
});
