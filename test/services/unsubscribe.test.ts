import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { signatures } from '../../src/db/schema.js';
import { unsubscribeToken, unsubscribeUrl } from '../../src/services/unsubscribe-links.js';
import { createTestApp } from '../helpers/app.js';
import { openCampaign, signAndConfirm, signature } from '../helpers/signing.js';

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

/** A supporter who signed and confirmed with consent to updates; returns their signature id and unsubscribe token. */
async function supporter(email = 'aiko@example.com') {
  const slug = await openCampaign(t);
  const id = await signAndConfirm(t, slug, signature(email, { consent: { updates: true } }));
  return { id, token: await unsubscribeToken(t.ctx, id) };
}

async function unsubscribedAt(id: string) {
  const [row] = await t.database.db.select({ at: signatures.unsubscribedAt }).from(signatures).where(eq(signatures.id, id));
  return row!.at;
}

const forged = '01a2212b-d384-7c41-a300-4ef26b334fe5.0123456789abcdef0123456789abcdef';

describe('POST /api/v1/unsubscribe', () => {
  it('unsubscribes, and a repeat answers the same and keeps the first time', async () => {
    t = createTestApp();
    const { id, token } = await supporter();
    const first = await t.request('POST', '/api/v1/unsubscribe', { token: null, body: { token } });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ status: 'unsubscribed' });
    const at = t.clock.now();
    expect(await unsubscribedAt(id)).toBe(at);

    t.clock.advance(60_000);
    const again = await t.request('POST', '/api/v1/unsubscribe', { token: null, body: { token } });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: 'unsubscribed' });
    expect(await unsubscribedAt(id)).toBe(at);
  });

  it('answers 404 to a well-formed but forged token, and to a token of a deleted signature', async () => {
    t = createTestApp();
    const { id, token } = await supporter();
    const response = await t.request('POST', '/api/v1/unsubscribe', { token: null, body: { token: forged } });
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe('NOT_FOUND');
    expect(await unsubscribedAt(id)).toBeNull();

    await t.database.db.delete(signatures).where(eq(signatures.id, id));
    const gone = await t.request('POST', '/api/v1/unsubscribe', { token: null, body: { token } });
    expect(gone.status).toBe(404);
  });

  it('refuses a malformed token (400) and a body that is not JSON (415)', async () => {
    t = createTestApp();
    for (const body of [{ token: 'nope' }, { token: `${forged}x` }, {}, { token: 12 }]) {
      const response = await t.request('POST', '/api/v1/unsubscribe', { token: null, body });
      expect(response.status).toBe(400);
      const json = await response.json();
      expect(json.error.code).toBe('VALIDATION_FAILED');
      expect(json.error.details[0].path).toBe('token');
    }
    const form = await t.request('POST', '/api/v1/unsubscribe', { token: null, raw: `token=${forged}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
  });
});

describe('/unsubscribe/:token (the link in the email and the List-Unsubscribe header)', () => {
  it('RFC 8058 one-click: a form-encoded POST unsubscribes without JSON', async () => {
    t = createTestApp();
    const { id, token } = await supporter();
    const url = new URL(await unsubscribeUrl(t.ctx, id));
    expect(url.pathname).toBe(`/unsubscribe/${token}`);
    const response = await t.app.request(url.pathname, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain('You are unsubscribed');
    expect(await unsubscribedAt(id)).toBe(t.clock.now());

    const repeat = await t.app.request(url.pathname, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(repeat.status).toBe(200);
  });

  it('GET shows a form that POSTs to the same URL and unsubscribes nobody', async () => {
    t = createTestApp();
    const { id, token } = await supporter();
    const response = await t.app.request(`/unsubscribe/${token}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const html = await response.text();
    expect(html).toContain('<meta name="referrer" content="no-referrer"/>');
    expect(html).toContain('<html lang="en">');
    expect(html).toContain(`<form method="post" action="/unsubscribe/${token}">`);
    expect(html).toContain('<input type="hidden" name="List-Unsubscribe" value="One-Click"/>');
    expect(html).toContain('<button type="submit">Unsubscribe</button>');
    expect(await unsubscribedAt(id)).toBeNull();
  });

  it('answers a forged or malformed token with a 404 page, and changes nothing', async () => {
    t = createTestApp();
    const { id } = await supporter();
    for (const path of [`/unsubscribe/${forged}`, '/unsubscribe/%3Cscript%3Ealert(1)%3C%2Fscript%3E', '/unsubscribe/abc']) {
      for (const method of ['GET', 'POST']) {
        const response = await t.app.request(path, { method });
        expect(response.status).toBe(404);
        const html = await response.text();
        expect(html).toContain('Link not recognised');
        expect(html).not.toContain('<script>');
      }
    }
    expect(await unsubscribedAt(id)).toBeNull();
  });
});
