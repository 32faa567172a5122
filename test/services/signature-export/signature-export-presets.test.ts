import { afterEach, describe, expect, it } from 'vitest';
import { splitName } from '../../../src/services/signature-export.js';
import { unsubscribeToken } from '../../../src/services/unsubscribe-links.js';
import { ADMIN_TOKEN, createTestApp } from '../../helpers/app.js';
import { openCampaign, signAndConfirm, signature } from '../../helpers/signing.js';

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

const slug = 'export-presets';
const updates = { consent: { updates: true } };

/** A CSV body as rows of cells (RFC 4180 quoting; the files here hold no line breaks in cells). */
function parseCsv(text: string): string[][] {
  expect(text.startsWith('\uFEFF')).toBe(true);
  return text
    .slice(1)
    .split('\r\n')
    .filter((line) => line !== '')
    .map((line) => [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(?:,|$)/g)].slice(0, -1).map(([, cell]) => (cell!.startsWith('"') ? cell!.slice(1, -1).replace(/""/g, '"') : cell!)));
}

async function exportCsv(query: string) {
  const response = await t.request('GET', `/api/v1/campaigns/${slug}/signatures.csv${query}`);
  // ignoreBOM keeps the byte-order mark that Response.text() would strip, so the test sees it.
  return { response, text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(await response.arrayBuffer()) };
}

/**
 * Supporters with every case the presets must tell apart: two who consented to updates (a Western
 * and a Japanese name), one whose name and city would run as formulas, one who only signed, one
 * who unsubscribed, one whose address bounced, and one who never confirmed.
 */
async function supporters() {
  t = createTestApp();
  await openCampaign(t, slug);
  await signAndConfirm(
    t,
    slug,
    signature('jane@example.com', { name: 'Jane van Doe', country: 'US', region: 'US-NY', city: 'New York', postalCode: '10001', source: { utm_source: 'newsletter' }, ...updates }),
  );
  await signAndConfirm(t, slug, signature('hanako@example.jp', { name: '山田 花子', city: '千代田区', postalCode: '100-0001', ...updates }));
  await signAndConfirm(t, slug, signature('formula@example.com', { name: "=cmd|' /C calc'!A0", city: '+SUM(A1:A9)', postalCode: '-1', ...updates }));
  await signAndConfirm(t, slug, signature('signed-only@example.com', { name: 'Only Signed' }));
  const leaving = await signAndConfirm(t, slug, signature('left@example.com', { name: 'Left Later', ...updates }));
  const unsubscribed = await t.app.request(`/unsubscribe/${await unsubscribeToken(t.ctx, leaving)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });
  expect(unsubscribed.status).toBe(200);
  await signAndConfirm(t, slug, signature('bounced@example.com', { name: 'Bounced Address', ...updates }));
  const bounced = await t.request('POST', '/api/v1/bounces', { body: { email: 'bounced@example.com', kind: 'hard' } });
  expect(bounced.status).toBe(200);
  const pending = await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { token: null, body: signature('pending@example.com', { name: 'Not Confirmed', ...updates }) });
  expect(pending.status).toBe(202);
}

describe('splitName', () => {
  it('puts the family name of a Han, kana or Hangul name last, and a name in one piece whole in first_name', () => {
    expect(splitName('Jane van Doe')).toEqual({ first: 'Jane', last: 'van Doe' });
    expect(splitName('山田 花子')).toEqual({ first: '花子', last: '山田' });
    expect(splitName('김 민준')).toEqual({ first: '민준', last: '김' });
    expect(splitName('山田花子')).toEqual({ first: '山田花子', last: '' });
    expect(splitName('  Cher ')).toEqual({ first: 'Cher', last: '' });
  });
});

describe('GET /api/v1/campaigns/:slug/signatures.csv?format=', () => {
  it('action-network: its upload columns, only supporters who consented to updates and can be mailed, formulas escaped', { timeout: 30_000 }, async () => {
    await supporters();
    const { response, text } = await exportCsv('?format=action-network');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${slug}-action-network.csv"`);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual(['email', 'first_name', 'last_name', 'city', 'state', 'zip_code', 'country']);
    expect(rows.sort((a, b) => a[0]!.localeCompare(b[0]!))).toEqual([
      ['formula@example.com', "'=cmd|'", "/C calc'!A0", "'+SUM(A1:A9)", 'Tokyo', "'-1", 'JP'],
      ['hanako@example.jp', '花子', '山田', '千代田区', 'Tokyo', '100-0001', 'JP'],
      ['jane@example.com', 'Jane', 'van Doe', 'New York', 'NY', '10001', 'US'],
    ]);
  });

  it('actionkit: its import headers (zip and state in the US, postal and region elsewhere), source and time, the same supporters', { timeout: 30_000 }, async () => {
    await supporters();
    const { response, text } = await exportCsv('?format=actionkit');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${slug}-actionkit.csv"`);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual(['email', 'first_name', 'last_name', 'city', 'state', 'zip', 'region', 'postal', 'country', 'source', 'created_at']);
    const confirmedAt = new Date(t.clock.now()).toISOString().slice(0, 19).replace('T', ' ');
    expect(rows.sort((a, b) => a[0]!.localeCompare(b[0]!))).toEqual([
      ['formula@example.com', "'=cmd|'", "/C calc'!A0", "'+SUM(A1:A9)", '', '', 'Tokyo', "'-1", 'Japan', 'signet', confirmedAt],
      ['hanako@example.jp', '花子', '山田', '千代田区', '', '', 'Tokyo', '100-0001', 'Japan', 'signet', confirmedAt],
      ['jane@example.com', 'Jane', 'van Doe', 'New York', 'NY', '10001', '', '', 'United States', 'newsletter', confirmedAt],
    ]);
    // The alias some write for Action Network is the same preset.
    const alias = await exportCsv('?format=actionnetwork');
    expect(alias.response.status).toBe(200);
    expect(alias.text.split('\r\n')[0]).toBe('\uFEFFemail,first_name,last_name,city,state,zip_code,country');
  });

  it('signet (the default) still exports every signature with every field, formulas escaped', { timeout: 30_000 }, async () => {
    await supporters();
    const { response, text } = await exportCsv('');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${slug}-signatures.csv"`);
    const [header, ...rows] = parseCsv(text);
    expect(header!.slice(0, 4)).toEqual(['id', 'status', 'name', 'email']);
    expect(rows.map((row) => row[3]).sort()).toEqual([
      'bounced@example.com',
      'formula@example.com',
      'hanako@example.jp',
      'jane@example.com',
      'left@example.com',
      'signed-only@example.com',
    ]);
    expect(rows.find((row) => row[3] === 'formula@example.com')![2]).toBe("'=cmd|' /C calc'!A0");
  });

  it('refuses a status filter with a preset and an unknown format, with the field named', async () => {
    t = createTestApp();
    await openCampaign(t, slug);
    const withStatus = await exportCsv('?format=actionkit&status=pending');
    expect(withStatus.response.status).toBe(400);
    expect(JSON.parse(withStatus.text).error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'status' }] });
    const unknown = await exportCsv('?format=mailchimp');
    expect(unknown.response.status).toBe(400);
    expect(JSON.parse(unknown.text).error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'format' }] });
  });

  it('records each export in the audit log with its format', async () => {
    t = createTestApp();
    await openCampaign(t, slug);
    for (const query of ['', '?format=action-network', '?format=actionnetwork', '?format=actionkit']) expect((await exportCsv(query)).response.status).toBe(200);
    await t.audit.flush();
    const log = await t.request('GET', '/api/v1/audit?action=signatures.export');
    expect(log.status).toBe(200);
    const events = (await log.json()) as { items: { action: string; object: unknown; details?: Record<string, string> }[] };
    expect(events.items.map((event) => [event.action, event.object, event.details]).reverse()).toEqual([
      ['signatures.export', { type: 'campaign', id: slug }, { format: 'signet' }],
      ['signatures.export', { type: 'campaign', id: slug }, { format: 'action-network' }],
      ['signatures.export', { type: 'campaign', id: slug }, { format: 'action-network' }],
      ['signatures.export', { type: 'campaign', id: slug }, { format: 'actionkit' }],
    ]);
  });

  it('downloads from the dashboard: links on the campaign page, the same files, audited with their format', { timeout: 30_000 }, async () => {
    await supporters();
    const login = await t.app.request('/admin/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
      body: new URLSearchParams({ token: ADMIN_TOKEN, next: '/admin/campaigns' }).toString(),
    });
    const cookie = /signet_session=[^;]+/.exec(login.headers.get('set-cookie') ?? '')![0];
    const page = await (await t.app.request(`/admin/campaigns/${slug}?lang=ja`, { headers: { cookie } })).text();
    expect(page).toContain(`<a href="/admin/campaigns/${slug}/signatures.csv?format=actionkit">ActionKit 取り込み用ファイル</a>`);
    const download = await t.app.request(`/admin/campaigns/${slug}/signatures.csv?format=actionkit`, { headers: { cookie } });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="${slug}-actionkit.csv"`);
    const api = await exportCsv('?format=actionkit');
    expect(new TextDecoder('utf-8', { ignoreBOM: true }).decode(await download.arrayBuffer())).toBe(api.text);
    const refused = await t.app.request(`/admin/campaigns/${slug}/signatures.csv?format=mailchimp`, { headers: { cookie } });
    // The dashboard answers a refused input as its forms do.
    expect(refused.status).toBe(422);
    await t.audit.flush();
    const log = (await (await t.request('GET', '/api/v1/audit?action=signatures.export')).json()) as { items: { via: string; details?: Record<string, string> }[] };
    expect(log.items.map((event) => [event.via, event.details]).reverse()).toEqual([
      ['dashboard', { format: 'actionkit' }],
      ['api', { format: 'actionkit' }],
      ['dashboard', undefined],
    ]);
  });
});
