import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { outbox } from '../../../src/db/schema.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { testLinks } from '../../helpers/keys.js';
import { signAndConfirm, signature } from '../../helpers/signing.js';
import { startSmtpServer, type TestSmtpServer } from '../../mail/helpers/smtp-server.js';
import { createRunner, readMailing, scheduleUpdate, SEND_AT, SLUG, type TestApp } from '../mailings/runner-helpers.js';
import { createTestApp } from '../../helpers/app.js';
import { json } from '../access/helpers.js';
import { openCampaign } from '../../helpers/signing.js';
import { adminClient } from '../replies/helpers.js';

let t: TestApp;
let smtp: TestSmtpServer | undefined;
afterEach(async () => {
  await smtp?.close();
  smtp = undefined;
  await t?.cleanup();
});

const API = '/api/v1';

/**
 * Supporters who all consented to updates: in Tokyo and Osaka, through Amnesty's link or Quiet's
 * or none, on the web or on paper; and one in the segment who did not consent.
 */
async function coalition() {
  t = createTestApp();
  await openCampaign(t, SLUG);
  for (const code of ['amnesty', 'quiet']) await json(await t.request('POST', `${API}/campaigns/${SLUG}/partners`, { body: { code, name: code } }), 201);
  const sign = (email: string, region: string, extra: Record<string, unknown> = {}) =>
    signAndConfirm(t, SLUG, signature(email, { region, ...extra, consent: { updates: true, ...(extra.consent as object) } }));
  await sign('tokyo-amnesty@example.org', 'JP-13', { ref: 'amnesty' });
  await sign('tokyo-quiet@example.org', 'JP-13', { ref: 'quiet' });
  await sign('tokyo-plain@example.org', 'JP-13');
  await sign('osaka-amnesty@example.org', 'JP-27', { ref: 'amnesty' });
  await sign('osaka-plain@example.org', 'JP-27');
  await sign('tokyo-amnesty-no-news@example.org', 'JP-13', { ref: 'amnesty', consent: { updates: false } });
  const csv = ['name,email,country,region,updates', 'Paper Tokyo,paper-tokyo@example.org,JP,JP-13,yes', 'Paper Osaka,paper-osaka@example.org,JP,JP-27,yes'].join('\n');
  const imported = await t.request('POST', `${API}/campaigns/${SLUG}/signatures/import?event=Shinjuku`, { raw: csv, headers: { 'content-type': 'text/csv' } });
  expect(imported.status, await imported.clone().text()).toBe(201);
}

/** What a dry run of the update to this segment counts, and what a real one queues. */
async function audience(segment: Record<string, unknown> | undefined): Promise<{ counted: number; queued: string[] }> {
  const dry = await scheduleUpdate(t, { dryRun: true, ...(segment ? { segment } : {}) });
  const real = await scheduleUpdate(t, segment ? { segment } : {});
  const before = t.clock.now();
  t.clock.set(SEND_AT);
  await createRunner(t).tick();
  t.clock.set(before);
  const rows = await t.database.db.select({ recipient: outbox.recipient }).from(outbox).where(eq(outbox.mailingId, real.id));
  return { counted: (await readMailing(t, dry.id)).total, queued: rows.map((row) => row.recipient).sort() };
}

describe('updates to a segment (PRODUCT.md §13)', () => {
  it('go only to the supporters of the given regions, partners and sources, and the dry run counts the same', async () => {
    await coalition();
    const cases: [Record<string, unknown> | undefined, string[]][] = [
      [undefined, ['osaka-amnesty', 'osaka-plain', 'paper-osaka', 'paper-tokyo', 'tokyo-amnesty', 'tokyo-plain', 'tokyo-quiet']],
      [{ regions: ['JP-13'] }, ['paper-tokyo', 'tokyo-amnesty', 'tokyo-plain', 'tokyo-quiet']],
      [{ partners: ['amnesty'] }, ['osaka-amnesty', 'tokyo-amnesty']],
      [{ partners: ['amnesty', 'quiet'], regions: ['jp-13'] }, ['tokyo-amnesty', 'tokyo-quiet']],
      [{ sources: ['paper'] }, ['paper-osaka', 'paper-tokyo']],
      [{ sources: ['web'], regions: ['JP-27'] }, ['osaka-amnesty', 'osaka-plain']],
      [{ sources: ['web', 'paper'], regions: ['JP-27'] }, ['osaka-amnesty', 'osaka-plain', 'paper-osaka']],
    ];
    for (const [segment, expected] of cases) {
      const { counted, queued } = await audience(segment);
      const emails = expected.map((name) => `${name}@example.org`);
      expect(queued, JSON.stringify(segment)).toEqual(emails);
      expect(counted, JSON.stringify(segment)).toBe(emails.length);
    }
  });

  it('is shown on the mailing, refused on letters, and checked: regions, the campaign\'s partner codes, web or paper', async () => {
    await coalition();
    const made = await scheduleUpdate(t, { segment: { regions: ['jp-13', 'JP-13'], partners: ['amnesty'], sources: ['web'] } });
    const read = await json<{ segment: unknown }>(await t.request('GET', `${API}/mailings/${made.id}`), 200);
    expect(read.segment).toEqual({ regions: ['JP-13'], partners: ['amnesty'], sources: ['web'] });
    expect((await json<{ segment: unknown }>(await t.request('GET', `${API}/mailings/${(await scheduleUpdate(t)).id}`), 200)).segment).toBeNull();

    const refusals: [Record<string, unknown>, string][] = [
      [{ segment: { regions: ['Tokyo'] } }, 'segment.regions.0'],
      [{ segment: { partners: ['nobody'] } }, 'segment.partners.0'],
      [{ segment: { sources: ['email'] } }, 'segment.sources.0'],
      [{ segment: {} }, 'segment'],
      [{ segment: { regions: [] } }, 'segment.regions'],
      [{ segment: { countries: ['JP'] } }, 'segment.countries'],
      [{ kind: 'letters', channel: 'print', subject: undefined, body: undefined, segment: { regions: ['JP-13'] } }, 'segment'],
    ];
    for (const [extra, path] of refusals) {
      const answer = await t.request('POST', `${API}/mailings`, {
        body: { campaign: SLUG, kind: 'update', sendAt: '2027-09-22T09:00', timeZone: 'Asia/Tokyo', subject: 'News', body: 'Hello', ...extra },
      });
      expect(answer.status, path).toBe(400);
      expect((await answer.json()).error.details, path).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    }
  });

  it('sends nothing to a supporter outside the segment, over real SMTP', async () => {
    await coalition();
    await scheduleUpdate(t, { segment: { partners: ['amnesty'], regions: ['JP-13'] }, subject: 'For Amnesty supporters in Tokyo' });
    t.clock.set(SEND_AT);
    await createRunner(t).tick();
    smtp = await startSmtpServer();
    const transport = new SmtpTransport({ url: smtp.url, dataDir: t.dataDir, maxConnections: 2 });
    const sender = new OutboxSender({ links: testLinks, database: t.database, transport, clock: t.clock, logger: silentLogger, from: 'Signet <no-reply@signet.test>', batchSize: 500, concurrency: 2 });
    try {
      for (;;) {
        const pass = await sender.drainOnce();
        if (pass.sent + pass.failed + pass.retried === 0) break;
      }
    } finally {
      await transport.close();
    }
    const updates = smtp.received.filter((mail) => mail.raw.includes('For Amnesty supporters in Tokyo'));
    expect(updates.flatMap((mail) => mail.rcptTo)).toEqual(['tokyo-amnesty@example.org']);
  });

  it('are chosen in the dashboard\'s mailing form (en, ja) and shown on the mailing', async () => {
    await coalition();
    const admin = adminClient(t);
    await admin.login();
    const form = await admin.page('/admin/mailings/new');
    expect(form.html).toContain('name="segment.regions"');
    expect((await admin.page('/admin/mailings/new?lang=ja')).html).toContain('一部の賛同者だけ（お知らせ）');
    await admin.page('/admin/mailings/new');
    const fields = { campaign: SLUG, kind: 'update', sendAt: '2027-09-22T09:00', timeZone: 'Asia/Tokyo', subject: 'Tokyo news', body: 'Hello Tokyo' };
    const bad = await admin.post('/admin/mailings', { ...fields, 'segment.regions': 'Tokyo', 'segment.partners': 'nobody' });
    expect(bad.status).toBe(422);
    const badHtml = await bad.text();
    expect(badHtml).toContain('must be an ISO 3166-2 region code');
    expect(badHtml).toContain('value="Tokyo"');
    const unknownPartner = await admin.post('/admin/mailings', { ...fields, 'segment.regions': 'JP-13', 'segment.partners': 'nobody' });
    expect(unknownPartner.status).toBe(422);
    expect(await unknownPartner.text()).toContain('The campaign has no partner &quot;nobody&quot;.');

    const made = await admin.post('/admin/mailings', { ...fields, 'segment.regions': 'JP-13, jp-27', 'segment.partners': 'amnesty', 'segment.web': 'on' });
    expect(made.status, (await made.clone().text()).slice(0, 500)).toBe(303);
    const id = /\/admin\/mailings\/([0-9a-f-]{36})/.exec(made.headers.get('location')!)![1]!;
    const mailing = await json<{ segment: unknown }>(await t.request('GET', `${API}/mailings/${id}`), 200);
    expect(mailing.segment).toEqual({ regions: ['JP-13', 'JP-27'], partners: ['amnesty'], sources: ['web'] });
    const detail = (await admin.page(`/admin/mailings/${id}`)).html;
    expect(detail).toContain('Regions: JP-13, JP-27 · Partners: amnesty · Signed: online');
  });
});
