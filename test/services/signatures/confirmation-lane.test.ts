// Defer, never drop (PRODUCT.md §8, issue #17 findings 1, 2 and 5): every
// request answered 202 is held, and its confirmation email goes out in its
// turn under the global rate (CONFIRM_EMAILS_PER_MINUTE) and the per-address
// window (CONFIRM_EMAIL_LIMIT), served fairly by source. Through the API,
// with the real sender and a real SMTP server on 127.0.0.1; the clock is the
// test's, advanced by hand.
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings, privacySettings } from '../../../src/config.js';
import { outbox, privacyRequests, signatureSubmissions } from '../../../src/db/schema.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { createTestApp } from '../../helpers/app.js';
import { testLinks } from '../../helpers/keys.js';
import { openCampaign } from '../../helpers/signing.js';
import { startSmtpServer, type TestSmtpServer } from '../../mail/helpers/smtp-server.js';
import { signatureOf, signFrom, type TestApp } from '../../helpers/abuse.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const defaults = loadSettings({});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

type Lane = { t: TestApp; smtp: TestSmtpServer; sender: OutboxSender; slug: string };

/** The test app with the default limits (SIGN_RATE_LIMIT, CONFIRM_EMAIL_LIMIT, CONFIRM_EMAILS_PER_MINUTE), the real sender and an SMTP server. */
async function lane(): Promise<Lane> {
  const t = createTestApp({ signRateLimit: defaults.SIGN_RATE_LIMIT, privacy: privacySettings(defaults) });
  closers.push(t.cleanup);
  const smtp = await startSmtpServer();
  closers.push(() => smtp.close());
  const transport = new SmtpTransport({ url: smtp.url });
  closers.push(() => transport.close());
  const sender = new OutboxSender({ database: t.database, transport, clock: t.clock, logger: silentLogger, from: 'Signet <no-reply@signet.test>', links: testLinks, confirmationLane: t.ctx.privacy });
  return { t, smtp, sender, slug: await openCampaign(t) };
}

/** Drains until a claim finds nothing it may send now; resolves how many were sent. */
async function drain({ sender }: Lane): Promise<number> {
  let sent = 0;
  for (;;) {
    const result = await sender.drainOnce();
    sent += result.sent;
    if (result.sent + result.failed + result.retried === 0) return sent;
  }
}

const mailTo = ({ smtp }: Lane, address: string) => smtp.received.filter((mail) => mail.rcptTo.includes(address));
const tokenIn = (raw: string) => /\/confirm\/([A-Za-z0-9_-]+)/.exec(raw.replace(/=\r?\n/g, ''))![1]!;
const count = async (t: TestApp, table: typeof outbox | typeof signatureSubmissions | typeof privacyRequests) => (await t.database.db.select().from(table)).length;

/** Signs in parallel batches (the sign path commits in groups), expecting 202 each. */
async function signAll(t: TestApp, slug: string, requests: { email: string; ip: string; name?: string }[]) {
  for (let start = 0; start < requests.length; start += 50) {
    const answers = await Promise.all(requests.slice(start, start + 50).map(({ email, ip, name }) => signFrom(t, slug, email, ip, name ? { name } : {})));
    for (const answer of answers) expect(answer.status).toBe(202);
  }
}

const ipv4 = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const slash64 = (i: number) => `2001:db8:${i.toString(16)}:1::1`;

describe('a surge: every supporter held and emailed (finding 1)', () => {
  it('1,500 distinct supporters within seconds: all held, all emailed exactly once, at most CONFIRM_EMAILS_PER_MINUTE a minute', async () => {
    const l = await lane();
    const supporters = Array.from({ length: 1500 }, (_, i) => ({ email: `supporter${i}@surge.example`, ip: ipv4(i + 1) }));
    await signAll(l.t, l.slug, supporters);
    expect(await count(l.t, signatureSubmissions)).toBe(1500);
    expect(await count(l.t, outbox)).toBe(1500);

    // The sender polls; every 10 s it may take a sixth of the minute's rate.
    const perSlice: number[] = [];
    while (l.smtp.received.length < 1500 && perSlice.length < 60) {
      perSlice.push(await drain(l));
      l.t.clock.advance(10_000);
    }
    expect(Math.max(...perSlice)).toBe(100);
    const perMinute = [0, 6, 12].map((start) => perSlice.slice(start, start + 6).reduce((a, b) => a + b, 0));
    expect(perMinute).toEqual([600, 600, 300]);
    const recipients = l.smtp.received.flatMap((mail) => mail.rcptTo);
    expect(recipients).toHaveLength(1500);
    expect(new Set(recipients)).toEqual(new Set(supporters.map((s) => s.email)));
    // Nothing more goes out later.
    l.t.clock.advance(HOUR);
    expect(await drain(l)).toBe(0);
  }, 120_000);
});

describe('a flood delays only itself (finding 2)', () => {
  it('junk for one address from 700 /64s: the address gets its 3 emails, a real supporter is mailed in the very next claim', async () => {
    const l = await lane();
    await signAll(l.t, l.slug, Array.from({ length: 700 }, (_, i) => ({ email: 'victim@example.org', ip: slash64(i + 1) })));
    expect((await signFrom(l.t, l.slug, 'real@example.org', '198.51.100.7')).status).toBe(202);
    expect(await count(l.t, signatureSubmissions)).toBe(701);

    await drain(l);
    expect(mailTo(l, 'real@example.org')).toHaveLength(1);
    expect(mailTo(l, 'victim@example.org')).toHaveLength(3);
    // The junk is held, deferred to the address's next window, not dropped.
    const pending = (await l.t.database.db.select().from(outbox)).filter((row) => row.status === 'pending');
    expect(pending).toHaveLength(697);
    expect(pending.every((row) => row.nextAttemptAt === l.t.clock.now() + HOUR)).toBe(true);
  }, 60_000);

  it('200 /64s sending junk at the per-IP limit while 50 real supporters sign: each real supporter within 15 s, and the junk is still sent, once', async () => {
    const l = await lane();
    const start = l.t.clock.now();
    const junk: string[] = [];
    const burst = async (round: number) => {
      const requests = [];
      for (let source = 1; source <= 200; source++) {
        for (let n = 0; n < defaults.SIGN_RATE_LIMIT!.limit; n++) requests.push({ email: `junk-${round}-${source}-${n}@flood.example`, ip: slash64(source) });
      }
      await signAll(l.t, l.slug, requests);
      junk.push(...requests.map((r) => r.email));
      // At the limit: one more from any of them is refused.
      expect((await signFrom(l.t, l.slug, `over-${round}@flood.example`, slash64(1))).status).toBe(429);
    };
    const signedAt = new Map<string, number>();
    const waits = new Map<string, number>();
    let nextReal = 0;
    for (let step = 0; step < 12 * 10; step++) {
      const now = l.t.clock.now();
      if ((now - start) % (5 * MINUTE) === 0 && now - start < 10 * MINUTE) await burst((now - start) / (5 * MINUTE));
      // A real supporter every 10 s for the first 500 s, each from their own address.
      if (step % 2 === 1 && nextReal < 50) {
        const email = `real${nextReal}@people.example`;
        expect((await signFrom(l.t, l.slug, email, `198.51.100.${nextReal + 1}`)).status).toBe(202);
        signedAt.set(email, now);
        nextReal++;
      }
      await drain(l);
      for (const [email, at] of signedAt) if (!waits.has(email) && mailTo(l, email).length > 0) waits.set(email, now - at);
      l.t.clock.advance(5_000);
    }
    expect(waits.size).toBe(50);
    // The slice's share of the rate frees within 10 s, and a supporter who just asked is in the current round.
    expect(Math.max(...waits.values())).toBeLessThanOrEqual(15_000);
    // Deferred, never dropped: every junk request was held and, the flood over, emailed once.
    for (let extra = 0; extra < 60 && l.smtp.received.length < junk.length + 50; extra++) {
      await drain(l);
      l.t.clock.advance(10_000);
    }
    const recipients = l.smtp.received.flatMap((mail) => mail.rcptTo);
    expect(recipients).toHaveLength(junk.length + 50);
    expect(new Set(recipients).size).toBe(junk.length + 50);
  }, 180_000);
});

describe('nobody can lock a supporter out (finding 5)', () => {
  it('three requests from an attacker, then the supporter from another source: mailed as soon as the window frees a slot, ahead of later junk, and confirms', async () => {
    const l = await lane();
    const address = 'hanako@example.jp';
    const firstEmailAt = l.t.clock.now();
    for (let i = 0; i < 3; i++) {
      expect((await signFrom(l.t, l.slug, address, '203.0.113.66', { name: 'Not Hanako', consent: { nameOnLetter: 'full', showPublicly: true } })).status).toBe(202);
      await drain(l);
      l.t.clock.advance(10 * MINUTE);
    }
    expect(mailTo(l, address)).toHaveLength(3);

    // The supporter, from home: held at once, its email deferred (the window is full).
    expect((await signFrom(l.t, l.slug, address, '198.51.100.20', { name: 'Hanako Yamada' })).status).toBe(202);
    await drain(l);
    expect(mailTo(l, address)).toHaveLength(3);
    // The attacker goes on, from the same source and from a new one, after the supporter.
    l.t.clock.advance(5 * MINUTE);
    for (const ip of ['203.0.113.66', '192.0.2.99', '2001:db8:bad::1']) expect((await signFrom(l.t, l.slug, address, ip, { name: 'Not Hanako' })).status).toBe(202);
    await drain(l);
    expect(mailTo(l, address)).toHaveLength(3);

    // One hour after the first email the window has room for one: it is the supporter's.
    l.t.clock.set(firstEmailAt + HOUR - 1);
    expect(await drain(l)).toBe(0);
    l.t.clock.set(firstEmailAt + HOUR);
    expect(await drain(l)).toBe(1);
    const mails = mailTo(l, address);
    expect(mails).toHaveLength(4);
    const confirmed = await l.t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token: tokenIn(mails[3]!.raw) } });
    expect(confirmed.status, await confirmed.clone().text()).toBe(200);
    expect(await confirmed.json()).toEqual({ status: 'confirmed', campaign: l.slug });
    expect((await signatureOf(l.t, address))).toMatchObject({ name: 'Hanako Yamada', status: 'confirmed' });

    // Never more than CONFIRM_EMAIL_LIMIT in any window: the next slots come 10 and 20 minutes later, one each.
    l.t.clock.set(firstEmailAt + HOUR + 10 * MINUTE);
    expect(await drain(l)).toBe(1);
    l.t.clock.set(firstEmailAt + HOUR + 20 * MINUTE);
    expect(await drain(l)).toBe(1);
    expect(await drain(l)).toBe(0);
  }, 60_000);

  it('a newer request from the same source supersedes its unsent older one: the request stays held, the email would only repeat', async () => {
    const l = await lane();
    for (let i = 0; i < 5; i++) expect((await signFrom(l.t, l.slug, 'twice@example.org', '198.51.100.30', { name: `Attempt ${i}` })).status).toBe(202);
    expect((await l.t.database.db.select().from(signatureSubmissions)).filter((row) => row.emailNormalized === 'twice@example.org')).toHaveLength(5);
    await drain(l);
    const mails = mailTo(l, 'twice@example.org');
    expect(mails).toHaveLength(1);
    const confirmed = await l.t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token: tokenIn(mails[0]!.raw) } });
    expect(confirmed.status).toBe(200);
    expect(await signatureOf(l.t, 'twice@example.org')).toMatchObject({ name: 'Attempt 4' });
    const rows = (await l.t.database.db.select().from(outbox)).filter((row) => row.recipient === 'twice@example.org');
    expect(rows.map((row) => row.lastError).sort()).toEqual([null, 'superseded', 'superseded', 'superseded', 'superseded']);
  }, 60_000);

  it('privacy links go through the same lane: requests past the window are held and mailed when it allows', async () => {
    const l = await lane();
    const address = 'rights@example.org';
    const ask = (ip: string) => l.t.request('POST', '/api/v1/privacy/requests', { token: null, body: { email: address, kind: 'export' }, headers: { 'x-forwarded-for': ip } });
    expect((await signFrom(l.t, l.slug, address, '198.51.100.40')).status).toBe(202);
    const startedAt = l.t.clock.now();
    for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3', '198.51.100.40']) {
      expect((await ask(ip)).status).toBe(202);
      await drain(l);
      l.t.clock.advance(MINUTE);
    }
    expect(await count(l.t, privacyRequests)).toBe(4);
    // The signing email and two privacy links fill the window (shared with signing links); the other two wait for it.
    expect(mailTo(l, address)).toHaveLength(3);
    l.t.clock.set(startedAt + HOUR - 1);
    expect(await drain(l)).toBe(0);
    l.t.clock.set(startedAt + HOUR);
    expect(await drain(l)).toBe(2);
    const links = mailTo(l, address).slice(1).map((mail) => /\/privacy\/([A-Za-z0-9_-]+)/.exec(mail.raw.replace(/=\r?\n/g, ''))?.[1]);
    expect(links.every((link) => link !== undefined)).toBe(true);
    expect(new Set(links).size).toBe(4);
  }, 60_000);
});
