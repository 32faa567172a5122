import { desc, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { outbox, signatureSubmissions, signatures } from '../../../src/db/schema.js';
import { renderStoredMessage } from '../../../src/mail/messages.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { MailSendError, type MailTransport } from '../../../src/mail/transports/transport.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { createTestApp } from '../../helpers/app.js';
import { testLinks } from '../../helpers/keys.js';
import { latestConfirmToken, openCampaign, queuedMail, sendDue, signature } from '../../helpers/signing.js';

// Issue #9's findings 1, 4, 5 and 6, each written as the attack it stops.

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const VICTIM = 'victim@example.org';
const sign = (slug: string, body: unknown, ip = '203.0.113.7') =>
  t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { body, token: null, headers: { 'x-forwarded-for': ip } });
const confirm = (token: string) => t.request('POST', '/api/v1/signatures/confirm', { body: { token }, token: null });
const signatureOf = async (email: string) => (await t.database.db.select().from(signatures).where(eq(signatures.emailNormalized, email)))[0];
/** Every confirmation token mailed to an address, oldest first. */
async function mailedTokens(email: string): Promise<string[]> {
  const rows = (await queuedMail(t, email)).reverse();
  const texts = await Promise.all(rows.map(async (row) => (await renderStoredMessage(row.message!, row.recipient, testLinks)).text));
  return texts.map((text) => /\/confirm\/([A-Za-z0-9_-]+)/.exec(text)![1]!);
}

describe('consent is what the supporter confirmed (finding 1)', () => {
  it('an attacker re-signing the victim\'s address with full consent does not change what the victim\'s own link records', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await sign(slug, signature(VICTIM, { name: 'Kim Min-ji', city: 'Osaka', consent: { nameOnLetter: 'none', showPublicly: false, updates: false } }));
    const [victimToken] = await mailedTokens(VICTIM);
    // The attacker knows the address and asks for the most exposure.
    await sign(slug, signature(VICTIM, { name: 'Kim Min-ji', city: 'Osaka', consent: { nameOnLetter: 'full', showPublicly: true, updates: true } }), '198.51.100.66');

    expect((await confirm(victimToken!)).status).toBe(200);
    expect(await signatureOf(VICTIM)).toMatchObject({ status: 'confirmed', nameOnLetter: 'none', showPublicly: false, updates: false });
    const publicList = await (await t.request('GET', `/api/v1/campaigns/${slug}/signatures/public`, { token: null })).json();
    expect(publicList.items).toEqual([]);
  });

  it('an attacker signing first cannot have the victim\'s later link confirm the attacker\'s version', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await sign(slug, signature(VICTIM, { name: 'Kim Min-ji (named by attacker)', consent: { nameOnLetter: 'full', showPublicly: true } }), '198.51.100.66');
    t.clock.advance(60_000);
    await sign(slug, signature(VICTIM, { name: 'Kim Min-ji', consent: { nameOnLetter: 'initials' } }));
    const tokens = await mailedTokens(VICTIM);
    expect(tokens).toHaveLength(2);
    expect((await confirm(tokens[1]!)).status).toBe(200);
    expect(await signatureOf(VICTIM)).toMatchObject({ name: 'Kim Min-ji', nameOnLetter: 'initials', showPublicly: false });
  });

  it('a later submission never changes what an earlier link confirms, and each link shows its own choices before confirming', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await sign(slug, signature(VICTIM, { name: 'Kim Min-ji', city: 'Sapporo', consent: { nameOnLetter: 'initials' } }));
    t.clock.advance(1000);
    await sign(slug, signature(VICTIM, { name: 'Kim Min-ji', city: 'Sapporo', consent: { nameOnLetter: 'full', showPublicly: true } }), '198.51.100.66');
    const [mine, attackers] = await mailedTokens(VICTIM);

    // The page behind the attacker's link shows the attacker's choices, so the mailbox owner can decline.
    const attackerPage = await (await t.app.request(`/confirm/${attackers}?lang=en`)).text();
    expect(attackerPage).toContain('Kim Min-ji, Sapporo, Japan');
    expect(attackerPage).toContain('Yes, as “Kim M.” (Japan)');
    const minePage = await (await t.app.request(`/confirm/${mine}?lang=en`)).text();
    expect(minePage).toContain('K. M.-J., Japan');
    expect(minePage).not.toContain('Sapporo');
    // Opening the links confirmed nothing.
    expect(await signatureOf(VICTIM)).toBeUndefined();

    expect((await confirm(mine!)).status).toBe(200);
    expect(await signatureOf(VICTIM)).toMatchObject({ nameOnLetter: 'initials', showPublicly: false });
    expect((await confirm(mine!)).status).toBe(200);
    // Counted once, however many links are used.
    const view = await (await t.request('GET', `/api/v1/campaigns/${slug}`, { token: null })).json();
    expect(view.signatureCount).toBe(1);
  });

  it('six posts before the victim signs cannot lock the victim out: every request is held, the victim\'s link goes in its turn', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const startedAt = t.clock.now();
    for (let i = 0; i < 6; i++) await sign(slug, signature(VICTIM, { consent: { nameOnLetter: 'full', showPublicly: true } }), `198.51.100.${i}`);
    expect(await sendDue(t)).toHaveLength(3);

    t.clock.advance(10 * 60_000);
    expect((await sign(slug, signature(VICTIM, { name: 'Kim Min-ji' }))).status).toBe(202);
    const victimsLink = await latestConfirmToken(t, VICTIM);
    // Still inside the attacker's hour: no fourth email; the request is held and waits.
    expect(await sendDue(t)).toEqual([]);
    expect(await queuedMail(t, VICTIM)).toHaveLength(7);

    // Each window mails three: first the attacker's sources that asked before the victim and were never served, then the victim.
    t.clock.set(startedAt + 3_600_000);
    expect(await sendDue(t)).toHaveLength(3);
    t.clock.set(startedAt + 2 * 3_600_000);
    const [victimsEmail] = await t.database.db.select().from(outbox).where(eq(outbox.recipient, VICTIM)).orderBy(desc(outbox.createdAt), desc(outbox.id)).limit(1);
    expect(victimsEmail!.status).toBe('pending');
    expect(await sendDue(t)).toEqual([VICTIM]);
    const [sent] = await t.database.db.select().from(outbox).where(eq(outbox.id, victimsEmail!.id));
    expect(sent!.status).toBe('sent');
    expect((await confirm(victimsLink)).status).toBe(200);
    expect(await signatureOf(VICTIM)).toMatchObject({ name: 'Kim Min-ji', nameOnLetter: 'none', showPublicly: false });
  });

  it('the window counts an address over every campaign, so Signet cannot be used to flood one inbox', async () => {
    t = createTestApp();
    const slugs = [await openCampaign(t, 'first-campaign'), await openCampaign(t, 'second-campaign')];
    for (const slug of slugs) for (let i = 0; i < 3; i++) await sign(slug, signature(VICTIM), `198.51.100.${i}`);
    expect(await queuedMail(t, VICTIM)).toHaveLength(6);
    expect(await sendDue(t)).toHaveLength(3);
    t.clock.advance(3_600_000 - 1);
    expect(await sendDue(t)).toEqual([]);
  });
});

describe('nothing the submitter typed goes out before confirmation (finding 5)', () => {
  it('an attacker-written name never reaches the confirmation email', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const lure = 'Dear Jane. Your account is locked, verify at https://evil.example/login';
    await sign(slug, signature(VICTIM, { name: lure, comment: 'https://evil.example/also' }));
    const [row] = await queuedMail(t, VICTIM);
    expect(JSON.stringify(row!.message)).not.toContain('evil.example');
    const message = await renderStoredMessage(row!.message!, row!.recipient, testLinks);
    for (const part of [message.text, message.html, message.subject, JSON.stringify(message.to)]) expect(part).not.toContain('evil.example');
    expect(message.text.startsWith('Hello,\n')).toBe(true);
  });
});

describe('no working token at rest (finding 4)', () => {
  it('a failed confirmation email keeps only a nonce, and its error is stored without the address', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await sign(slug, signature(VICTIM));
    const [token] = await mailedTokens(VICTIM);
    const rejecting: MailTransport = {
      async send() {
        throw new MailSendError(`550 5.1.1 <${VICTIM}>: Recipient address rejected`, { permanent: true, responseCode: 550 });
      },
      async close() {},
    };
    const sender = new OutboxSender({ links: testLinks, database: t.database, transport: rejecting, clock: t.clock, logger: silentLogger, from: 'Signet <no-reply@signet.test>' });
    expect(await sender.drainOnce()).toMatchObject({ failed: 1 });

    const [failed] = await t.database.db.select().from(outbox).where(eq(outbox.recipient, VICTIM));
    expect(failed!.status).toBe('failed');
    expect(JSON.stringify(failed)).not.toContain(token!);
    expect(failed!.lastError).toBe('550 5.1.1 <v***@example.org>: Recipient address rejected');
    const listed = await (await t.request('GET', '/api/v1/outbox?status=failed')).json();
    expect(JSON.stringify(listed)).not.toContain(VICTIM);
    expect(listed.items[0].lastError).toContain('v***@example.org');
  });
});

describe('IP hashes cannot link a person across campaigns or days (finding 3)', () => {
  it('the same address hashes differently in two campaigns and on the next day, and the settings table holds no key', async () => {
    t = createTestApp();
    const [a, b] = [await openCampaign(t, 'campaign-a'), await openCampaign(t, 'campaign-b')];
    await sign(a, signature('one@example.org'), '192.0.2.10');
    await sign(b, signature('two@example.org'), '192.0.2.10');
    t.clock.advance(24 * 3_600_000);
    await sign(a, signature('three@example.org'), '192.0.2.10');
    const hashes = await Promise.all(
      ['one@example.org', 'two@example.org', 'three@example.org'].map(
        async (email) => (await t.database.db.select().from(signatureSubmissions).where(eq(signatureSubmissions.emailNormalized, email)))[0]!.ipHash,
      ),
    );
    expect(hashes.every((hash) => typeof hash === 'string' && hash.length === 32)).toBe(true);
    expect(new Set(hashes).size).toBe(3);
    expect(JSON.stringify(hashes)).not.toContain('192.0.2.10');
    const keysAtRest = t.database.sqlite.prepare("select key from settings where key like '%key%'").all();
    expect(keysAtRest).toEqual([]);
  });
});

describe('confirm links are checked before anything is read', () => {
  it('a token with a forged MAC is unknown, even for a real nonce', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await sign(slug, signature(VICTIM));
    const token = await latestConfirmToken(t, VICTIM);
    const forged = `${token.slice(0, 22)}${'A'.repeat(22)}`;
    expect((await confirm(forged)).status).toBe(404);
    expect((await t.app.request(`/confirm/${forged}`)).status).toBe(200);
    expect(await (await t.app.request(`/confirm/${forged}`)).text()).not.toContain('Jane');
    expect(await signatureOf(VICTIM)).toBeUndefined();
  });
});
