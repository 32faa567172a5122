import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { campaigns, mailings, outbox, privacyRequests, settingsStore, signatureSubmissions, signatures } from '../../src/db/schema.js';
import { createJsonLogger } from '../../src/lib/logger.js';
import { createMailFileCleaner } from '../../src/mail/node/mail-file-cleaner.js';
import { runRetention } from '../../src/services/retention.js';
import { foldSignatureCounts } from '../../src/services/signatures.js';
import { createTestApp } from '../helpers/app.js';
import { runSignet, withDatabase } from '../helpers/cli.js';
import { latestConfirmToken, openCampaign, signature } from '../helpers/signing.js';
import { insertLegacyPending, requestLink, signAndConfirm } from './privacy/helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => {
  // Cleared, so a test without an app (the CLI one) does not close the last one twice.
  const current = t as TestApp | undefined;
  t = undefined as unknown as TestApp;
  await current?.cleanup();
});

const DAY = 86_400_000;
const settings = (overrides: Partial<{ retentionDays: number; pendingTtlDays: number }> = {}) => ({
  privacy: { retentionDays: 365, pendingTtlDays: 30, publicRegionMin: 5, emailsPerAddress: { limit: 3, windowMs: 3_600_000 }, auditRetentionDays: 730, ...overrides },
});

const signOnly = (slug: string, email: string, extra: Record<string, unknown> = {}) =>
  t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { body: signature(email, extra), token: null, headers: { 'x-forwarded-for': '203.0.113.9' } });

async function signatureOf(email: string) {
  return (await t.database.db.select().from(signatures).where(eq(signatures.emailNormalized, email)))[0];
}

describe('retention: closed campaigns', () => {
  it('anonymises every signature of a campaign closed longer than RETENTION_DAYS, keeps the count, and leaves other campaigns alone', async () => {
    // Links that work 30 days, so the request below is still waiting when the campaign is anonymised.
    t = createTestApp({ ...settings({ retentionDays: 10, pendingTtlDays: 30 }), confirmTokenTtlMs: 30 * DAY });
    const closing = await openCampaign(t, 'closing');
    const open = await openCampaign(t, 'still-open');
    await signAndConfirm(t, closing, 'a@example.org', { name: 'Alice Ament', comment: 'Free them' });
    await signAndConfirm(t, closing, 'b@example.org', { name: 'Bob Bell', consent: { nameOnLetter: 'full', showPublicly: true, updates: true } });
    // A request still waiting for its link, and a signature 0.1 left pending.
    expect((await signOnly(closing, 'pending@example.org')).status).toBe(202);
    await insertLegacyPending(t, closing, 'legacy@example.org', { name: 'Lee Legacy' });
    await signAndConfirm(t, open, 'a@example.org', { name: 'Alice Ament' });
    const [campaign] = await t.database.db.select().from(campaigns).where(eq(campaigns.slug, closing));
    const requestsOf = (campaignId: string) => t.database.db.select().from(signatureSubmissions).where(eq(signatureSubmissions.campaignId, campaignId));
    // An update mailing of the closing campaign, one email still waiting.
    const now = t.clock.now();
    await t.database.atomic([
      t.database.db.insert(mailings).values({ id: '01900000-0000-7000-8000-0000000000aa', campaignId: campaign!.id, kind: 'update', sendAtLocal: '2027-09-01T09:00', timeZone: 'UTC', sendAt: now, subject: 'News', body: 'News', status: 'running', createdAt: now, updatedAt: now }),
      t.database.db.insert(outbox).values({ id: '01900000-0000-7000-8000-0000000000bb', kind: 'update', recipient: 'b@example.org', messageId: '<x@signet.test>', message: { compose: 'update', input: { subject: 'News' } }, status: 'pending', nextAttemptAt: now, createdAt: now, mailingId: '01900000-0000-7000-8000-0000000000aa', recipientKey: 'sig-b' }),
    ]);
    expect((await t.request('PATCH', `/api/v1/campaigns/${closing}`, { body: { status: 'closed' } })).status).toBe(200);
    await foldSignatureCounts(t.ctx);

    t.clock.advance(9 * DAY);
    expect((await runRetention(t.ctx)).signaturesAnonymised).toBe(0);
    expect((await signatureOf('b@example.org'))?.name).toBe('Bob Bell');
    expect((await signatureOf('legacy@example.org'))?.status).toBe('pending');
    expect((await requestsOf(campaign!.id)).filter((r) => r.emailNormalized === 'pending@example.org' && r.name === 'Jane Doe')).toHaveLength(1);

    t.clock.advance(2 * DAY);
    const report = await runRetention(t.ctx);
    // Two confirmed signatures anonymised and the legacy pending one deleted; the request is not a signature.
    expect(report).toMatchObject({ campaignsAnonymised: 1, signaturesAnonymised: 3 });
    const rows = await t.database.db.select().from(signatures).where(eq(signatures.campaignId, campaign!.id));
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toMatch(/legacy|Lee/);
    // Every signing request of the campaign goes with it, the waiting one included; the open campaign keeps its own.
    expect(await requestsOf(campaign!.id)).toEqual([]);
    const [openCampaignRow] = await t.database.db.select().from(campaigns).where(eq(campaigns.slug, open));
    expect(await requestsOf(openCampaignRow!.id)).toHaveLength(1);
    for (const row of rows) {
      expect(row).toMatchObject({ status: 'erased', name: '', email: '', comment: null, city: null, ipHash: null, showPublicly: false, updates: false, nameOnLetter: 'none' });
      expect(row.confirmedAt).not.toBeNull();
    }
    expect((await t.database.db.select().from(campaigns).where(eq(campaigns.id, campaign!.id)))[0]!.signatureCount).toBe(2);
    expect((await (await t.request('GET', `/api/v1/campaigns/${closing}`)).json()).signatureCount).toBe(2);
    const [update] = await t.database.db.select().from(outbox).where(eq(outbox.id, '01900000-0000-7000-8000-0000000000bb'));
    expect(update).toMatchObject({ recipient: 'erased:01900000-0000-7000-8000-0000000000bb', message: null, status: 'failed', recipientKey: 'sig-b' });
    // The same address on a campaign still open keeps its signature.
    expect((await signatureOf('a@example.org'))).toMatchObject({ name: 'Alice Ament', status: 'confirmed' });

    expect((await runRetention(t.ctx)).campaignsAnonymised).toBe(0);
  });

  it('with RETENTION_DAYS=0, anonymises at the next run after closing; an archived campaign counts as closed', async () => {
    t = createTestApp(settings({ retentionDays: 0 }));
    const slug = await openCampaign(t);
    await signAndConfirm(t, slug, 'now@example.org');
    expect((await runRetention(t.ctx)).signaturesAnonymised).toBe(0);
    expect((await t.request('PATCH', `/api/v1/campaigns/${slug}`, { body: { status: 'closed' } })).status).toBe(200);
    expect((await t.request('PATCH', `/api/v1/campaigns/${slug}`, { body: { status: 'archived' } })).status).toBe(200);
    expect((await runRetention(t.ctx)).signaturesAnonymised).toBe(1);
    expect((await t.database.db.select().from(signatures))[0]!.status).toBe('erased');
  });
});

describe('retention: pending data', () => {
  it('deletes signatures still pending after PENDING_TTL_DAYS, and signing requests past their expiry', async () => {
    t = createTestApp(settings({ pendingTtlDays: 30 }));
    const slug = await openCampaign(t);
    // A request waits for its link without a signature; a pending signature is one 0.1 left.
    expect((await signOnly(slug, 'asked@example.org')).status).toBe(202);
    await insertLegacyPending(t, slug, 'never@example.org');
    expect(await t.database.db.select().from(signatureSubmissions)).toHaveLength(1);
    expect(await signatureOf('asked@example.org')).toBeUndefined();

    // The link works 7 days (the test app's confirmation lifetime): after that the request goes, the pending signature stays.
    t.clock.advance(6 * DAY);
    expect(await runRetention(t.ctx)).toMatchObject({ signingRequestsDeleted: 0, pendingSignaturesDeleted: 0 });
    t.clock.advance(2 * DAY);
    expect(await runRetention(t.ctx)).toMatchObject({ signingRequestsDeleted: 1, pendingSignaturesDeleted: 0 });
    expect(await t.database.db.select().from(signatureSubmissions)).toEqual([]);
    expect((await signatureOf('never@example.org'))?.status).toBe('pending');

    t.clock.advance(21 * DAY);
    expect((await runRetention(t.ctx)).pendingSignaturesDeleted).toBe(0);
    t.clock.advance(2 * DAY);
    expect((await runRetention(t.ctx)).pendingSignaturesDeleted).toBe(1);
    expect(await signatureOf('never@example.org')).toBeUndefined();
    expect(await t.database.db.select().from(signatures)).toEqual([]);
  });

  it('deletes an old pending signature after PENDING_TTL_DAYS even while a newer request for it is waiting, and that request still confirms', async () => {
    t = createTestApp(settings({ pendingTtlDays: 30 }));
    const slug = await openCampaign(t);
    await insertLegacyPending(t, slug, 'slow@example.org', { name: 'Old Name', comment: 'said in 0.1' });
    t.clock.advance(29 * DAY);
    expect((await signOnly(slug, 'slow@example.org', { name: 'New Name' })).status).toBe(202);
    t.clock.advance(2 * DAY);
    // The pending signature holds only what 0.1 was sent, none of the request's details: it goes on time.
    expect(await runRetention(t.ctx)).toMatchObject({ pendingSignaturesDeleted: 1, signingRequestsDeleted: 0 });
    expect(await signatureOf('slow@example.org')).toBeUndefined();

    const confirmed = await t.request('POST', '/api/v1/signatures/confirm', { body: { token: await latestConfirmToken(t, 'slow@example.org') }, token: null });
    expect(confirmed.status, await confirmed.clone().text()).toBe(200);
    expect(await signatureOf('slow@example.org')).toMatchObject({ status: 'confirmed', name: 'New Name', comment: null });
    await foldSignatureCounts(t.ctx);
    expect((await (await t.request('GET', `/api/v1/campaigns/${slug}`)).json()).signatureCount).toBe(1);
  });

  it('clears IP hashes older than 30 days, on signatures and on signing requests', async () => {
    t = createTestApp({ ...settings({ pendingTtlDays: 365 }), confirmTokenTtlMs: 60 * DAY });
    const slug = await openCampaign(t);
    await signAndConfirm(t, slug, 'ip@example.org');
    await signOnly(slug, 'waiting@example.org');
    await insertLegacyPending(t, slug, 'legacy@example.org');
    expect((await signatureOf('ip@example.org'))?.ipHash).toMatch(/^[0-9a-f]+$/);
    expect((await signatureOf('legacy@example.org'))?.ipHash).toMatch(/^[0-9a-f]+$/);
    const requestsOf = (email: string) => t.database.db.select().from(signatureSubmissions).where(eq(signatureSubmissions.emailNormalized, email));
    expect((await requestsOf('waiting@example.org'))[0]!.ipHash).toMatch(/^[0-9a-f]+$/);
    // A used request kept no hash (the signature has it), and a waiting one has no signature yet.
    expect((await requestsOf('ip@example.org'))[0]!.ipHash).toBeNull();
    expect(await signatureOf('waiting@example.org')).toBeUndefined();

    t.clock.advance(29 * DAY);
    expect((await runRetention(t.ctx)).ipHashesCleared).toBe(0);
    t.clock.advance(2 * DAY);
    // The confirmed and the legacy pending signature, and the waiting request.
    expect((await runRetention(t.ctx)).ipHashesCleared).toBe(3);
    expect((await signatureOf('ip@example.org'))?.ipHash).toBeNull();
    expect((await signatureOf('legacy@example.org'))?.ipHash).toBeNull();
    expect((await requestsOf('waiting@example.org'))[0]!.ipHash).toBeNull();
    expect((await runRetention(t.ctx)).ipHashesCleared).toBe(0);
  });

  it('expires privacy requests past their 24 hours and clears their address', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirm(t, slug, 'asks@example.org');
    await requestLink(t, 'asks@example.org', 'export');
    t.clock.advance(23 * 3_600_000);
    expect((await runRetention(t.ctx)).privacyRequestsExpired).toBe(0);
    t.clock.advance(2 * 3_600_000);
    expect((await runRetention(t.ctx)).privacyRequestsExpired).toBe(1);
    expect((await t.database.db.select().from(privacyRequests))[0]).toMatchObject({ status: 'expired', emailNormalized: null });
  });
});

describe('retention: mail, legacy secrets and the log', () => {
  it('clears bodies of sent messages at once and their supporter address after PENDING_TTL_DAYS; a target’s address stays', async () => {
    t = createTestApp(settings({ pendingTtlDays: 30 }));
    const slug = await openCampaign(t);
    await signOnly(slug, 'mailed@example.org');
    await signOnly(slug, 'queued@example.org');
    const now = t.clock.now();
    await t.database.atomic([
      t.database.db.update(outbox).set({ status: 'sent', sentAt: now }).where(eq(outbox.recipient, 'mailed@example.org')),
      t.database.db.insert(outbox).values({ id: '01900000-0000-7000-8000-0000000000cc', kind: 'letter-delivery', recipient: 'consul@embassy.example', messageId: '<y@signet.test>', message: null, status: 'sent', nextAttemptAt: now, createdAt: now, sentAt: now }),
    ]);

    const first = await runRetention(t.ctx);
    expect(first).toMatchObject({ outboxBodiesCleared: 1, outboxAddressesCleared: 0 });
    const [sent] = await t.database.db.select().from(outbox).where(eq(outbox.recipient, 'mailed@example.org'));
    expect(sent!.message).toBeNull();
    const [waiting] = await t.database.db.select().from(outbox).where(eq(outbox.recipient, 'queued@example.org'));
    expect(waiting!.message).not.toBeNull();

    t.clock.advance(31 * DAY);
    expect((await runRetention(t.ctx)).outboxAddressesCleared).toBe(1);
    const recipients = (await t.database.db.select({ recipient: outbox.recipient }).from(outbox)).map((r) => r.recipient);
    expect(recipients).not.toContain('mailed@example.org');
    expect(recipients).toContain('queued@example.org');
    expect(recipients).toContain('consul@embassy.example');
  });

  it('clears expired legacy confirmation hashes and retires legacy keys', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const now = t.clock.now();
    // Signatures 0.1 left pending with the hash of the link it mailed: one link expired, one still working.
    await insertLegacyPending(t, slug, 'old@example.org', { confirmTokenHash: 'a'.repeat(64), confirmExpiresAt: now - 1 });
    await insertLegacyPending(t, slug, 'fresh@example.org', { confirmTokenHash: 'b'.repeat(64), confirmExpiresAt: now + DAY });
    // Signing today stores no hash.
    await signAndConfirm(t, slug, 'today@example.org');
    await t.database.atomic([t.database.db.insert(settingsStore).values({ key: 'ip-hash-key', value: 'legacy' })]);
    const report = await runRetention(t.ctx);
    expect(report).toMatchObject({ legacyConfirmTokensCleared: 1, legacyKeysRetired: 1 });
    expect((await signatureOf('old@example.org'))).toMatchObject({ status: 'pending', confirmTokenHash: null, confirmExpiresAt: null });
    expect((await signatureOf('fresh@example.org'))).toMatchObject({ status: 'pending', confirmTokenHash: 'b'.repeat(64), confirmExpiresAt: now + DAY });
    expect((await signatureOf('today@example.org'))?.confirmTokenHash).toBeNull();
    expect(await t.database.db.select().from(settingsStore).where(eq(settingsStore.key, 'ip-hash-key'))).toEqual([]);
  });

  it('deletes mail files older than a confirmation link’s lifetime, truncates the log and logs counts only', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirm(t, slug, 'private.person@example.org', { name: 'Private Person' });
    const mailDir = join(t.dataDir, 'mail');
    mkdirSync(mailDir, { recursive: true });
    const now = t.clock.now();
    const write = (name: string, ageMs: number) => {
      writeFileSync(join(mailDir, name), 'To: private.person@example.org\r\n\r\nhello');
      const when = new Date(now - ageMs);
      utimesSync(join(mailDir, name), when, when);
    };
    write('old.eml', 8 * DAY);
    write('.old.eml.1234.tmp', 8 * DAY);
    write('recent.eml', 6 * DAY);
    write('notes.txt', 30 * DAY);

    // The requests' audit rows are written behind them; let them land before the log is truncated.
    await t.audit.flush();
    const lines: string[] = [];
    const report = await runRetention({ ...t.ctx, logger: createJsonLogger('info', (line) => lines.push(line)) }, { mailFiles: createMailFileCleaner(mailDir) });
    expect(report.mailFilesDeleted).toBe(2);
    expect(readdirSync(mailDir).sort()).toEqual(['notes.txt', 'recent.eml']);

    const wal = join(t.database.sqlite.name, '..', 'signet.db-wal');
    expect(existsSync(wal)).toBe(true);
    // Truncated: at most a fresh 32-byte header (written when a connection next starts the log), never a page of the old frames.
    expect(statSync(wal).size).toBeLessThanOrEqual(32);

    const logged = lines.map((line) => JSON.parse(line)).find((entry) => entry.event === 'retention run');
    expect(logged).toMatchObject({ mailFilesDeleted: 2, outboxBodiesCleared: expect.any(Number) });
    expect(lines.join('\n')).not.toMatch(/private|@example/i);
  });

  it('a missing mail directory is not an error', async () => {
    t = createTestApp();
    expect((await runRetention(t.ctx, { mailFiles: createMailFileCleaner(join(t.dataDir, 'no-mail-here')) })).mailFilesDeleted).toBe(0);
  });
});

describe('signet retention run', () => {
  it('runs the job on the configured database and prints what it did', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signet-retention-cli-'));
    const path = join(dir, 'signet.db');
    try {
      await withDatabase(path, async (db) => {
        const long = Date.now() - 2 * DAY;
        await db.atomic([
          db.db.insert(privacyRequests).values({ id: 'n0nce000000000000000aa', kind: 'erase', origin: 'supporter', emailNormalized: 'gone@example.org', status: 'pending', createdAt: long, expiresAt: long + 3_600_000 }),
        ]);
      });
      const result = runSignet(['retention', 'run'], { DATABASE_PATH: path, DATA_DIR: join(dir, 'data'), RETENTION_DAYS: '0' });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^privacyRequestsExpired\s+1$/m);
      expect(result.stdout).toMatch(/^campaignsAnonymised\s+0$/m);
      expect(result.stdout).toMatch(/^mailFilesDeleted\s+0$/m);
      await withDatabase(path, async (db) => {
        expect((await db.db.select().from(privacyRequests))[0]).toMatchObject({ status: 'expired', emailNormalized: null });
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
