import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { deliveries, letterBatches, letters } from '../../../src/db/schema.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { createTestApp, repoLettersDir } from '../../helpers/app.js';
import { testLinks } from '../../helpers/keys.js';
import { openCampaign, signAndConfirm, signature } from '../../helpers/signing.js';
import { parsePdfBytes } from '../../letters/helpers.js';
import { mimeLeaves } from '../../mail/helpers/mime-parts.js';
import { startSmtpServer, type TestSmtpServer } from '../../mail/helpers/smtp-server.js';
import { createRunner, readMailing, SEND_AT, SEND_AT_LOCAL, SLUG, type TestApp } from './runner-helpers.js';

/**
 * A letters mailing routed by jurisdiction (PRODUCT.md §11): at its time it renders the routed
 * letters, and each mission's email, received by a real SMTP server on 127.0.0.1, carries the
 * letter that names the supporters of its own district only.
 */

const missionsFile = join(repoLettersDir, 'targets/china-missions-japan.json');
const missionEmail = (name: string) => `${name}@missions.example.org`;
const missionKeys: Record<string, string> = {
  驻日本国特命全权大使: 'embassy',
  驻札幌总领事: 'sapporo',
  驻新潟总领事: 'niigata',
  驻名古屋总领事: 'nagoya',
  驻大阪总领事: 'osaka',
  驻福冈总领事: 'fukuoka',
  驻长崎总领事: 'nagasaki',
};

let t: TestApp;
let smtp: TestSmtpServer | undefined;
afterEach(async () => {
  await smtp?.close();
  smtp = undefined;
  await t?.cleanup();
});

/** The missions, each with an address of its own, a campaign writing to all of them, and four supporters (and `more`). */
async function setup(more: { name: string; email: string; region: string; nameOnLetter: 'full' | 'initials' | 'none' }[] = []) {
  t = createTestApp();
  const imported = await t.request('POST', '/api/v1/targets/import', { raw: await readFile(missionsFile, 'utf8') });
  expect(imported.status).toBe(201);
  const { ids } = (await imported.json()) as { ids: string[] };
  const listed = (await (await t.request('GET', '/api/v1/targets?limit=100')).json()) as { items: { id: string; name: string }[] };
  for (const target of listed.items) {
    const patched = await t.request('PATCH', `/api/v1/targets/${target.id}`, { body: { email: missionEmail(missionKeys[target.name]!) } });
    expect(patched.status).toBe(200);
  }
  await openCampaign(t, SLUG, { targetIds: ids });
  const signers = [
    { name: 'Naniwa Osakan', email: 'osaka@example.org', region: 'JP-27' },
    { name: 'Edo Tokyoite', email: 'tokyo@example.org', region: 'JP-13' },
    { name: 'Nowhere Regionless', email: 'noregion@example.org', region: undefined },
    { name: 'Hangang Seoulite', email: 'seoul@example.org', country: 'KR', region: 'KR-11' },
  ];
  for (const signer of signers) {
    await signAndConfirm(t, SLUG, signature(signer.email, { ...signer, consent: { nameOnLetter: 'full' } }));
    t.clock.advance(60_000);
  }
  for (const { nameOnLetter, ...signer } of more) {
    await signAndConfirm(t, SLUG, signature(signer.email, { ...signer, consent: { nameOnLetter } }));
    t.clock.advance(60_000);
  }
}

/** The covering notes' plain text by mission address, filled by deliverToMissions. */
const notes = new Map<string, string>();

/** Runs the outbox against a real SMTP server on 127.0.0.1; the letters' texts by mission address (whitespace removed). */
async function deliverToMissions(): Promise<Map<string, string>> {
  smtp = await startSmtpServer();
  const transport = new SmtpTransport({ url: smtp.url, dataDir: t.dataDir, maxConnections: 2 });
  const sender = new OutboxSender({ links: testLinks, database: t.database, transport, clock: t.clock, logger: silentLogger, from: 'Signet <no-reply@signet.test>', batchSize: 50, concurrency: 2 });
  try {
    for (let pass = 0; pass < 5; pass++) await sender.drainOnce();
  } finally {
    await transport.close();
  }
  // The supporters' confirmation emails went out too; the letters are the mails to the missions.
  const texts = new Map<string, string>();
  for (const mail of smtp.received.filter((received) => received.rcptTo.some((address) => address.endsWith('@missions.example.org')))) {
    const { leaves } = mimeLeaves(mail.raw);
    const pdf = leaves.find((leaf) => leaf.contentType.startsWith('application/pdf'));
    expect(pdf, 'the letter is attached').toBeDefined();
    notes.set(mail.rcptTo[0]!, Buffer.from(leaves.find((leaf) => leaf.contentType.startsWith('text/plain'))!.bytes).toString('utf8'));
    texts.set(mail.rcptTo[0]!, (await parsePdfBytes(Buffer.from(pdf!.bytes))).pages.join('\n').replace(/\s+/g, ''));
  }
  return texts;
}

async function scheduleLetters(extra: Record<string, unknown>) {
  const res = await t.request('POST', '/api/v1/mailings', {
    body: { campaign: SLUG, kind: 'letters', sendAt: SEND_AT_LOCAL, timeZone: 'Asia/Tokyo', sendingWindow: null, ...extra },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; routing: string | null; emptyTargets: string | null };
}

describe('a letters mailing with routing: jurisdiction', () => {
  it('with emptyTargets: skip emails only the missions someone is routed to, each the letter naming only its own supporters', async () => {
    await setup();
    const mailing = await scheduleLetters({ routing: 'jurisdiction', emptyTargets: 'skip' });
    expect(mailing).toMatchObject({ routing: 'jurisdiction', emptyTargets: 'skip' });

    t.clock.set(SEND_AT);
    expect(await createRunner(t).tick()).toMatchObject({ claimed: 1, queued: 2 });
    const [batch] = await t.database.db.select().from(letterBatches);
    expect(batch).toMatchObject({ routing: 'jurisdiction', emptyTargets: 'skip', letterCount: 2, cutoffAt: SEND_AT });

    const named = await deliverToMissions();
    expect([...named.keys()].sort()).toEqual([missionEmail('embassy'), missionEmail('osaka')]);
    const osaka = named.get(missionEmail('osaka'))!;
    const embassy = named.get(missionEmail('embassy'))!;
    expect(osaka).toContain('NaniwaOsakan');
    // Every letter carries the whole petition's count; its appendix counts its own share.
    expect(osaka).toContain('本请愿书的4名联署人');
    expect(osaka).toContain('共有4人签署本请愿书，本信计入其中1人。');
    for (const name of ['EdoTokyoite', 'NowhereRegionless', 'HangangSeoulite']) {
      expect(embassy).toContain(name);
      expect(osaka).not.toContain(name);
    }
    expect(embassy).not.toContain('NaniwaOsakan');
    expect(embassy).toContain('共有4人签署本请愿书，本信计入其中3人。');

    // Each delivery's letter is its own target's.
    const rows = await t.database.db.select({ letterTarget: letters.targetId, deliveryTarget: deliveries.targetId }).from(deliveries).innerJoin(letters, eq(letters.id, deliveries.letterId));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.deliveryTarget).toBe(row.letterTarget);

    expect(await createRunner(t).tick()).toMatchObject({ finished: 1 });
    // The five consulates nobody was routed to count as skipped: total + skipped is every target.
    expect(await readMailing(t, mailing.id)).toMatchObject({ status: 'finished', total: 2, sent: 2, failed: 0, skipped: 5 });
  }, 60_000);

  it('emails every mission by default, and Nagasaki\'s letter counts none of the lone supporter the embassy\'s letter counts for it', async () => {
    await setup([{ name: 'Lone Nagasakian', email: 'lone@example.org', region: 'JP-42', nameOnLetter: 'none' }]);
    const mailing = await scheduleLetters({ routing: 'jurisdiction' });
    expect(mailing).toMatchObject({ routing: 'jurisdiction', emptyTargets: 'write' });
    t.clock.set(SEND_AT);
    expect(await createRunner(t).tick()).toMatchObject({ claimed: 1, queued: 7 });

    const texts = await deliverToMissions();
    expect([...texts.keys()].sort()).toEqual(Object.values(missionKeys).map(missionEmail).sort());
    const nagasaki = texts.get(missionEmail('nagasaki'))!;
    expect(nagasaki).toContain('本请愿书的5名联署人');
    expect(nagasaki).toContain('共有5人签署本请愿书，本信未计入其中任何人。');
    expect(nagasaki).toContain('本信计入的签名（按地区）地区签名数合计0');
    // A district nobody signed from reads the same.
    expect(texts.get(missionEmail('sapporo'))).toContain('共有5人签署本请愿书，本信未计入其中任何人。');
    expect(texts.get(missionEmail('embassy'))).toContain('共有5人签署本请愿书，本信计入其中4人。');
    for (const text of texts.values()) expect(text).not.toContain('LoneNagasakian');
    // The covering email speaks for the petition too, never for the district's share.
    expect(notes.get(missionEmail('nagasaki'))).toContain('本请愿共有5名联署人支持');
    expect(notes.get(missionEmail('sapporo'))).toContain('本请愿共有5名联署人支持');

    expect(await createRunner(t).tick()).toMatchObject({ finished: 1 });
    expect(await readMailing(t, mailing.id)).toMatchObject({ status: 'finished', total: 7, sent: 7, failed: 0, skipped: 0 });
  }, 60_000);

  it('a dry run counts the routed letters without rendering any', async () => {
    await setup([{ name: 'Lone Nagasakian', email: 'lone@example.org', region: 'JP-42', nameOnLetter: 'none' }]);
    const skipping = await scheduleLetters({ routing: 'jurisdiction', emptyTargets: 'skip', dryRun: true, channel: 'print' });
    const everyone = await scheduleLetters({ routing: 'jurisdiction', dryRun: true, channel: 'print' });
    t.clock.set(SEND_AT);
    expect(await createRunner(t).tick()).toMatchObject({ claimed: 2, finished: 2 });
    // Nagasaki's lone supporter is folded into the embassy's letter, so skipping leaves Nagasaki out too.
    expect(await readMailing(t, skipping.id)).toMatchObject({ status: 'finished', total: 2, skipped: 5 });
    expect(await readMailing(t, everyone.id)).toMatchObject({ status: 'finished', total: 7, skipped: 0 });
    expect(await t.database.db.select().from(letterBatches)).toEqual([]);
  });

  it('skipping empty targets, fails with the reason when nobody has signed, rather than finishing with nothing sent', async () => {
    t = createTestApp();
    const imported = await t.request('POST', '/api/v1/targets/import', { raw: await readFile(missionsFile, 'utf8') });
    const { ids } = (await imported.json()) as { ids: string[] };
    await openCampaign(t, SLUG, { targetIds: ids });
    const mailing = await scheduleLetters({ routing: 'jurisdiction', emptyTargets: 'skip', channel: 'print' });
    t.clock.set(SEND_AT);
    await createRunner(t).tick();
    expect(await readMailing(t, mailing.id)).toMatchObject({ status: 'failed', lastError: expect.stringContaining('no target would get a letter') });
    expect(await t.database.db.select().from(deliveries)).toEqual([]);
  });

  it('defaults to routing all, and refuses routing and emptyTargets on an update', async () => {
    await setup();
    expect(await scheduleLetters({})).toMatchObject({ routing: 'all', emptyTargets: 'write' });
    const update = await t.request('POST', '/api/v1/mailings', {
      body: { campaign: SLUG, kind: 'update', sendAt: SEND_AT_LOCAL, timeZone: 'Asia/Tokyo', subject: 'News', body: 'Hello', routing: 'jurisdiction' },
    });
    expect(update.status).toBe(400);
    expect(await update.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'routing' }] } });
    const skipping = await t.request('POST', '/api/v1/mailings', {
      body: { campaign: SLUG, kind: 'update', sendAt: SEND_AT_LOCAL, timeZone: 'Asia/Tokyo', subject: 'News', body: 'Hello', emptyTargets: 'skip' },
    });
    expect(skipping.status).toBe(400);
    expect(await skipping.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'emptyTargets' }] } });
  });
});
