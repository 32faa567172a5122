import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings, SettingsError } from '../../../src/config.js';
import { outbox, signatureSubmissions } from '../../../src/db/schema.js';
import type { LogFields, Logger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { outboxStore } from '../../../src/outbox/outbox-store.js';
import { ADMIN_TOKEN, createTestApp } from '../../helpers/app.js';
import { testLinks, testPrivacy } from '../../helpers/keys.js';
import { startSmtpServer } from '../../mail/helpers/smtp-server.js';
import { openCampaign } from '../../helpers/signing.js';
import { block, signFrom, type TestApp } from '../../helpers/abuse.js';

let t: TestApp;
let cleaned: TestApp | undefined;
afterEach(async () => {
  // Some tests make no app: clean each one once.
  if (t && t !== cleaned) await t.cleanup();
  cleaned = t;
});

function recordingLogger() {
  const lines: { level: string; message: string; fields?: LogFields | undefined }[] = [];
  const at = (level: string) => (message: string, fields?: LogFields) => void lines.push({ level, message, fields });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, warnings: () => lines.filter((line) => line.level === 'warn') };
}

const count = async (table: typeof outbox | typeof signatureSubmissions) => (await t.database.db.select().from(table)).length;

describe('confirmation emails per minute (CONFIRM_EMAILS_PER_MINUTE)', () => {
  it('past the limit every request is still held and its email waits its turn; one warning a minute, with counts and no personal data', async () => {
    const log = recordingLogger();
    t = createTestApp({ privacy: { ...testPrivacy, confirmEmailsPerMinute: 6 } });
    const smtp = await startSmtpServer();
    const transport = new SmtpTransport({ url: smtp.url });
    const sender = new OutboxSender({ database: t.database, transport, clock: t.clock, logger: log.logger, from: 'Signet <no-reply@signet.test>', links: testLinks, confirmationLane: t.ctx.privacy });
    try {
      const slug = await openCampaign(t);
      for (let i = 0; i < 13; i++) {
        const res = await signFrom(t, slug, `victim${i}@example.org`, `198.51.100.${i + 1}`);
        expect(res.status).toBe(202);
        expect(await res.json()).toEqual({ status: 'pending' });
      }
      // A privacy link goes into the same lane.
      const privacy = await t.request('POST', '/api/v1/privacy/requests', { token: null, body: { email: 'victim0@example.org', kind: 'export' } });
      expect(privacy.status).toBe(202);
      expect(await count(signatureSubmissions)).toBe(13);
      expect(await count(outbox)).toBe(14);

      // Paced: at most a sixth of the rate in any 10 s, so never more than the rate in a minute.
      const sentEachSlice: number[] = [];
      for (let slice = 0; slice < 18; slice++) {
        const before = smtp.received.length;
        await sender.drainOnce();
        await sender.drainOnce();
        sentEachSlice.push(smtp.received.length - before);
        t.clock.advance(10_000);
      }
      expect(sentEachSlice).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
      expect(new Set(smtp.received.map((mail) => mail.rcptTo.join())).size).toBe(13);
      const warnings = log.warnings().filter((line) => line.message === 'confirmation emails deferred');
      expect(warnings[0]).toEqual({
        level: 'warn',
        message: 'confirmation emails deferred',
        fields: { deferredToAddressWindow: 0, waitingForRate: 8, expiredUnsent: 0, superseded: 0, since: '2027-09-01T00:00:00.000Z' },
      });
      // No address, IP or campaign in the lines.
      expect(JSON.stringify(log.warnings())).not.toMatch(/@|198\.51|save-refugees/);
    } finally {
      await transport.close();
      await smtp.close();
    }
  });

  it('blocked signatures queue nothing; off means no limit', async () => {
    t = createTestApp({ privacy: { ...testPrivacy, confirmEmailsPerMinute: 1 } });
    const slug = await openCampaign(t);
    await block(t, 'domain', 'spam.example');
    for (let i = 0; i < 3; i++) expect((await signFrom(t, slug, `bot${i}@spam.example`, '203.0.113.1')).status).toBe(202);
    expect((await signFrom(t, slug, 'real@example.org', '198.51.100.1')).status).toBe(202);
    expect(await count(outbox)).toBe(1);
    await t.cleanup();
    cleaned = t;

    t = createTestApp({ privacy: { ...testPrivacy, confirmEmailsPerMinute: null } });
    const open = await openCampaign(t);
    for (let i = 0; i < 700; i++) expect((await signFrom(t, open, `s${i}@example.org`, `10.0.${i >> 8}.${i & 255}`)).status).toBe(202);
    expect(await count(outbox)).toBe(700);
    const claimed = await outboxStore(t.ctx).claim('sender', { limit: 1000, leaseMs: 60_000 });
    expect(claimed).toHaveLength(700);
  });

  it('is a setting: a whole number or off, 600 by default', () => {
    expect(loadSettings({}).CONFIRM_EMAILS_PER_MINUTE).toBe(600);
    expect(loadSettings({ CONFIRM_EMAILS_PER_MINUTE: '120' }).CONFIRM_EMAILS_PER_MINUTE).toBe(120);
    expect(loadSettings({ CONFIRM_EMAILS_PER_MINUTE: 'off' }).CONFIRM_EMAILS_PER_MINUTE).toBeNull();
    for (const bad of ['0', 'lots', '-5', '10/60s']) {
      expect(() => loadSettings({ CONFIRM_EMAILS_PER_MINUTE: bad }), bad).toThrow(SettingsError);
    }
  });
});

describe('rate limits keyed on the client: IPv4 by address, IPv6 by /64', () => {
  it('signing: addresses of one /64 share a limit, the neighbouring /64 has its own', async () => {
    t = createTestApp({ signRateLimit: { limit: 2, windowMs: 300_000 } });
    const slug = await openCampaign(t);
    expect((await signFrom(t, slug, 'a@example.org', '2001:db8:1:2::1')).status).toBe(202);
    expect((await signFrom(t, slug, 'b@example.org', '2001:db8:1:2:dead:beef:0:1')).status).toBe(202);
    const refused = await signFrom(t, slug, 'c@example.org', '2001:db8:1:2:ffff:ffff:ffff:ffff');
    expect(refused.status).toBe(429);
    expect((await refused.json()).error.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await signFrom(t, slug, 'd@example.org', '2001:db8:1:3::1')).status).toBe(202);

    expect((await signFrom(t, slug, 'e@example.org', '192.0.2.1')).status).toBe(202);
    expect((await signFrom(t, slug, 'f@example.org', '192.0.2.1')).status).toBe(202);
    // The same IPv4 client as a dual-stack socket reports it.
    expect((await signFrom(t, slug, 'g@example.org', '::ffff:192.0.2.1')).status).toBe(429);
    expect((await signFrom(t, slug, 'h@example.org', '192.0.2.2')).status).toBe(202);
  });

  it('dashboard sign-in: trying each address of a /64 in turn meets one throttle', async () => {
    t = createTestApp();
    const attempt = (ip: string, token = 'wrong-token-0123456789') =>
      t.app.request('/admin/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', 'x-forwarded-for': ip },
        body: new URLSearchParams({ token, next: '/admin/campaigns' }).toString(),
      });
    for (let i = 1; i <= 10; i++) expect((await attempt(`2001:db8:5:6::${i.toString(16)}`)).status).toBe(401);
    expect((await attempt('2001:db8:5:6:1234::1')).status).toBe(429);
    expect((await attempt('2001:db8:5:6:1234::2', ADMIN_TOKEN)).status).toBe(429);
    expect((await attempt('2001:db8:5:7::1', ADMIN_TOKEN)).status).toBe(303);
  });
});
