import { afterEach, describe, expect, it } from 'vitest';
import { webhooks } from '../../../src/db/schema.js';
import { openWebhookSecret } from '../../../src/services/webhook-secrets.js';
import { createTestApp } from '../../helpers/app.js';
import { testKeys } from '../../helpers/keys.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

describe('webhooks API: attacks', () => {
  // Each of these would have the server reach what only it can reach (SSRF).
  const refused = [
    'https://127.0.0.1/hook',
    'https://127.8.9.10/hook',
    'https://2130706433/hook', // 127.0.0.1 written as one number
    'https://0x7f.1/hook',
    'https://10.1.2.3/hook',
    'https://172.16.0.1/hook',
    'https://192.168.1.1/hook',
    'https://100.64.0.1/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://0.0.0.0/hook',
    'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://[fd00::1]/hook',
    'https://[fe80::1]/hook',
    'https://[::]/hook',
    'https://localhost/hook',
    'https://api.localhost/hook',
    'http://example.org/hook', // not https
    'ftp://example.org/hook',
    'https://user:pass@example.org/hook', // credentials would be stored and listed in clear
  ];

  it.each(refused)('refuses %s', async (url) => {
    t = createTestApp();
    const res = await t.request('POST', '/api/v1/webhooks', { body: { url, events: ['signature.confirmed'] } });
    const body = await res.json();
    expect(res.status).toBe(400);
    expect(body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'url' }] });
    expect(await t.database.db.select().from(webhooks)).toHaveLength(0);
  });

  it('allows the loopback over http only with WEBHOOK_ALLOW_PRIVATE, and never http to another host', async () => {
    t = createTestApp({ webhookAllowPrivate: true });
    const local = await t.request('POST', '/api/v1/webhooks', { body: { url: 'http://127.0.0.1:9/hook', events: ['reply.created'] } });
    expect(local.status).toBe(201);
    expect(await local.json()).toMatchObject({ url: 'http://127.0.0.1:9/hook', events: ['reply.created'] });
    const lan = await t.request('POST', '/api/v1/webhooks', { body: { url: 'http://10.0.0.5/hook', events: ['reply.created'] } });
    expect(lan.status).toBe(400);
    expect((await lan.json()).error.details).toEqual([{ path: 'url', message: 'must be an https URL' }]);
    expect((await t.request('POST', '/api/v1/webhooks', { body: { url: 'https://10.0.0.5/hook', events: ['reply.created'] } })).status).toBe(201);
  });

  it('needs the admin scope', async () => {
    t = createTestApp();
    const token = await (await t.request('POST', '/api/v1/tokens', { body: { name: 'campaigns', scopes: ['campaigns', 'signatures:read'] } })).json();
    const res = await t.request('POST', '/api/v1/webhooks', { token: token.token, body: { url: 'https://example.org/hook', events: ['signature.confirmed'] } });
    expect(res.status).toBe(403);
    expect((await res.json()).error).toMatchObject({ code: 'FORBIDDEN' });
    expect((await t.request('GET', '/api/v1/webhooks', { token: token.token })).status).toBe(403);
  });

  it('refuses unknown events, no events and unknown fields', async () => {
    t = createTestApp();
    for (const body of [
      { url: 'https://example.org/hook', events: ['signature.created'] },
      { url: 'https://example.org/hook', events: [] },
      { url: 'https://example.org/hook', events: ['reply.created'], secret: 'mine' },
    ]) {
      const res = await t.request('POST', '/api/v1/webhooks', { body });
      expect(res.status).toBe(400);
      expect((await res.json()).error.code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('webhooks API', () => {
  it('shows the secret once and keeps it sealed, not in clear', async () => {
    t = createTestApp();
    const res = await t.request('POST', '/api/v1/webhooks', {
      body: { url: 'https://crm.example.org/signet', events: ['reply.created', 'signature.confirmed', 'reply.created'], description: 'Our CRM' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const hook = await res.json();
    expect(hook).toMatchObject({ url: 'https://crm.example.org/signet', events: ['signature.confirmed', 'reply.created'], description: 'Our CRM', disabledAt: null, consecutiveFailures: 0 });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);

    const [stored] = await t.database.db.select().from(webhooks);
    expect(JSON.stringify(stored)).not.toContain(hook.secret.slice(6));
    expect(await openWebhookSecret(testKeys, hook.id, stored!.secretSealed)).toBe(hook.secret);
    // Sealed to its row: under another hook's id it does not open.
    expect(await openWebhookSecret(testKeys, 'another-id', stored!.secretSealed)).toBeNull();

    const listed = await t.request('GET', '/api/v1/webhooks');
    const list = await listed.json();
    expect(listed.status).toBe(200);
    expect(list.items).toEqual([expect.objectContaining({ id: hook.id, url: 'https://crm.example.org/signet' })]);
    expect(JSON.stringify(list)).not.toContain(hook.secret.slice(6));
    expect(list.items[0]).not.toHaveProperty('secret');
  });

  it('lists an empty delivery log, enables, deletes, then answers 404', async () => {
    t = createTestApp();
    const hook = await (await t.request('POST', '/api/v1/webhooks', { body: { url: 'https://example.org/h', events: ['mailing.finished'] } })).json();
    const log = await t.request('GET', `/api/v1/webhooks/${hook.id}/deliveries`);
    expect(log.status).toBe(200);
    expect(await log.json()).toEqual({ items: [], nextCursor: null });
    const enabled = await t.request('POST', `/api/v1/webhooks/${hook.id}/enable`);
    expect(enabled.status).toBe(200);
    expect(await enabled.json()).toMatchObject({ id: hook.id, disabledAt: null });
    expect((await t.request('DELETE', `/api/v1/webhooks/${hook.id}`)).status).toBe(204);
    const gone = await t.request('DELETE', `/api/v1/webhooks/${hook.id}`);
    expect(gone.status).toBe(404);
    expect((await gone.json()).error.code).toBe('NOT_FOUND');
    expect((await t.request('GET', `/api/v1/webhooks/${hook.id}/deliveries`)).status).toBe(404);
  });
});
