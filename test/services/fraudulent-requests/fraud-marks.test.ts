import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { signatures } from '../../../src/db/schema.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { foldSignatureCounts } from '../../../src/services/signatures.js';
import { createTestApp } from '../../helpers/app.js';
import { testLinks } from '../../helpers/keys.js';
import { openCampaign, queuedMail } from '../../helpers/signing.js';
import { parseMail, partText } from '../../mail/helpers/mime.js';
import { startSmtpServer } from '../../mail/helpers/smtp-server.js';
import { block, ipHashOf, liveCount, signAndConfirmFrom, signatureOf, signFrom, type TestApp } from '../../helpers/abuse.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function app(): TestApp {
  const t = createTestApp();
  cleanups.push(t.cleanup);
  return t;
}

const ATTACKER = '203.0.113.66';
const VICTIM_IP = '198.51.100.20';
const VICTIM = 'victim@example.org';

async function signsAsUsual(t: TestApp, slug: string, email: string, ip: string) {
  const res = await signFrom(t, slug, email, ip);
  expect(await res.json()).toEqual({ status: 'pending' });
  expect(res.status).toBe(202);
}

describe('a fraud mark belongs to the blocked request, never to the address (PRODUCT.md §9)', () => {
  it('once the block is lifted, the address named by a blocked request is emailed over real SMTP, confirms and counts', async () => {
    const t = app();
    const slug = await openCampaign(t);
    const entry = await block(t, 'ip', ATTACKER);
    await signsAsUsual(t, slug, VICTIM, ATTACKER);
    expect(await queuedMail(t, VICTIM)).toEqual([]);
    expect(await signatureOf(t, VICTIM)).toBeUndefined();

    const lifted = await t.request('DELETE', `/api/v1/blocklist/${entry.id}`);
    expect(lifted.status).toBe(204);
    await signsAsUsual(t, slug, VICTIM, VICTIM_IP);

    const smtp = await startSmtpServer();
    cleanups.push(() => smtp.close());
    const transport = new SmtpTransport({ url: smtp.url });
    cleanups.push(() => transport.close());
    const sender = new OutboxSender({ database: t.database, transport, clock: t.clock, logger: silentLogger, from: 'Signet <no-reply@signet.test>', links: testLinks });
    expect(await sender.drainOnce()).toMatchObject({ sent: 1, failed: 0 });
    expect(smtp.received.map((mail) => mail.rcptTo)).toEqual([[VICTIM]]);
    const text = partText(parseMail(smtp.received[0]!.raw), 'text/plain');
    const token = /http:\/\/localhost:3000\/confirm\/([A-Za-z0-9_-]{16,128})/.exec(text)?.[1];
    expect(token, text).toBeDefined();

    const confirmed = await t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token } });
    expect(await confirmed.json()).toEqual({ status: 'confirmed', campaign: slug });
    expect(confirmed.status).toBe(200);
    expect(await signatureOf(t, VICTIM)).toMatchObject({ status: 'confirmed', ipHash: await ipHashOf(t, slug, VICTIM_IP) });
    expect(await liveCount(t, slug)).toBe(1);
    await foldSignatureCounts(t.ctx);
    expect(await liveCount(t, slug)).toBe(1);
  });

  it('while an IP block stands, blocked requests for an address use none of its emails: its owner signing from elsewhere is mailed and counts', async () => {
    const t = app();
    const slug = await openCampaign(t);
    await block(t, 'ip', ATTACKER);
    // More than the address's emails an hour (CONFIRM_EMAIL_LIMIT, 3).
    for (let i = 0; i < 5; i++) await signsAsUsual(t, slug, VICTIM, ATTACKER);
    await signAndConfirmFrom(t, slug, VICTIM, VICTIM_IP);
    expect(await queuedMail(t, VICTIM)).toHaveLength(1);
    expect(await liveCount(t, slug)).toBe(1);
  });

  it('a link mailed before the blocked request still confirms after it', async () => {
    const t = app();
    const slug = await openCampaign(t);
    await signsAsUsual(t, slug, VICTIM, VICTIM_IP);
    await block(t, 'ip', ATTACKER);
    await signsAsUsual(t, slug, VICTIM, ATTACKER);
    const { latestConfirmToken } = await import('../../helpers/signing.js');
    const confirmed = await t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token: await latestConfirmToken(t, VICTIM) } });
    expect(await confirmed.json()).toEqual({ status: 'confirmed', campaign: slug });
    expect(await liveCount(t, slug)).toBe(1);
  });

  it('a blocked request for an address whose signature is confirmed leaves the signature as it was', async () => {
    const t = app();
    const slug = await openCampaign(t);
    await signAndConfirmFrom(t, slug, VICTIM, VICTIM_IP);
    const before = await signatureOf(t, VICTIM);
    await block(t, 'ip', ATTACKER);
    await signsAsUsual(t, slug, VICTIM, ATTACKER);
    await signsAsUsual(t, slug, VICTIM, ATTACKER);
    expect(await signatureOf(t, VICTIM)).toEqual(before);
    expect(before).toMatchObject({ status: 'confirmed', ipHash: await ipHashOf(t, slug, VICTIM_IP) });
    expect(await liveCount(t, slug)).toBe(1);
    // The address still signs (a repeat is answered and mailed as usual) and stays counted once.
    await signAndConfirmFrom(t, slug, VICTIM, VICTIM_IP);
    expect(await liveCount(t, slug)).toBe(1);
  });

  it('an attacker alone cannot get a supporter’s signature invalidated: the organiser’s filter on the attacker’s source leaves it confirmed', async () => {
    const t = app();
    const slug = await openCampaign(t);
    // Unblocked requests for the victim's address from the attacker, then blocked ones; the victim uses their own link.
    await signsAsUsual(t, slug, VICTIM, ATTACKER);
    t.clock.advance(60_000);
    await signAndConfirmFrom(t, slug, VICTIM, VICTIM_IP);
    await block(t, 'ip', ATTACKER);
    await signsAsUsual(t, slug, VICTIM, ATTACKER);
    const invalidated = await t.request('POST', `/api/v1/campaigns/${slug}/signatures/invalidate`, { body: { ipHash: await ipHashOf(t, slug, ATTACKER) } });
    expect(await invalidated.json()).toEqual({ invalidated: 0 });
    expect((await signatureOf(t, VICTIM))!.status).toBe('confirmed');
    expect(await liveCount(t, slug)).toBe(1);
    // And nobody without a token can invalidate.
    const anonymous = await t.request('POST', `/api/v1/campaigns/${slug}/signatures/invalidate`, { token: null, body: { domain: 'example.org' } });
    expect(anonymous.status).toBe(401);
    expect(await t.database.db.select({ status: signatures.status }).from(signatures).where(eq(signatures.emailNormalized, VICTIM))).toEqual([{ status: 'confirmed' }]);
  });
});
