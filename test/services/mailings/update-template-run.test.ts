import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { signatures } from '../../../src/db/schema.js';
import { createLocalLetterPorts } from '../../../src/letters/node/letter-store.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { createTestApp, repoLettersDir } from '../../helpers/app.js';
import { parseMail, partText } from '../../mail/helpers/mime.js';
import { startSmtpServer, type TestSmtpServer } from '../../mail/helpers/smtp-server.js';
import { createRunner, eligibleEmail, readMailing, seedSupporters, SEND_AT, SEND_AT_LOCAL, SLUG, type TestApp } from './runner-helpers.js';
import { testLinks } from '../../helpers/keys.js';

let t: TestApp;
let smtp: TestSmtpServer | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
  await smtp?.close();
  smtp = undefined;
  await t?.cleanup();
});

/** A letters directory with update templates written by the test. */
async function lettersDirWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'signet-updates-'));
  closers.push(() => rm(dir, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, 'updates', path, '..'), { recursive: true });
    await writeFile(join(dir, 'updates', path), text);
  }
  return dir;
}

function scheduleTemplate(template: string, extra: Record<string, unknown> = {}) {
  return t.request('POST', '/api/v1/mailings', { body: { campaign: SLUG, kind: 'update', sendAt: SEND_AT_LOCAL, timeZone: 'Asia/Tokyo', template, ...extra } });
}

/** Runs the mailing and sends everything to a real SMTP server; returns each recipient's subject and plain text. */
async function runAndReceive(id: string, lettersDir = repoLettersDir): Promise<Map<string, { subject: string; text: string }>> {
  const runner = createRunner(t, { letters: createLocalLetterPorts({ lettersDir, dataDir: t.dataDir }) });
  t.clock.set(SEND_AT);
  await runner.tick();
  smtp = await startSmtpServer();
  const transport = new SmtpTransport({ url: smtp.url, dataDir: t.dataDir });
  closers.push(() => transport.close());
  const sender = new OutboxSender({ links: testLinks, database: t.database, transport, clock: t.clock, logger: silentLogger, from: 'Signet <no-reply@signet.test>' });
  while ((await sender.drainOnce()).sent > 0);
  await runner.tick();
  expect(await readMailing(t, id)).toMatchObject({ status: 'finished', lastError: null });
  const received = new Map<string, { subject: string; text: string }>();
  for (const mail of smtp.received) {
    const parsed = parseMail(mail.raw);
    received.set(mail.rcptTo[0]!, { subject: parsed.decodedHeader('Subject') ?? '', text: partText(parsed, 'text/plain') });
  }
  return received;
}

describe('update mailings from a template', () => {
  it('renders letters/updates/thank-you in each supporter’s language and sends it over SMTP', async () => {
    t = createTestApp();
    await seedSupporters(t, 8);
    // Supporters 0 and 4 read Japanese (seeded), 1 Korean, 2 Chinese, the rest English.
    await t.database.atomic([
      t.database.db.update(signatures).set({ locale: 'ko' }).where(eq(signatures.email, eligibleEmail(1))),
      t.database.db.update(signatures).set({ locale: 'zh' }).where(eq(signatures.email, eligibleEmail(2))),
    ]);
    const res = await scheduleTemplate('thank-you');
    expect(res.status).toBe(201);
    const mailing = (await res.json()) as { id: string; template: string; subject: string | null };
    expect(mailing).toMatchObject({ template: 'thank-you', subject: null });

    const received = await runAndReceive(mailing.id);
    expect(received.size).toBe(8);
    // 13 supporters had confirmed by the send time (8 consenting, 5 not or unreachable).
    const url = `http://localhost:3000/c/${SLUG}`;
    const en = received.get(eligibleEmail(3))!;
    expect(en.subject).toBe('Your letters were delivered: Save North Korean refugees');
    expect(en.text).toContain('On 22 September, the letters of “Save North Korean refugees” reached the people they were written to');
    expect(en.text).toContain('13');
    expect(en.text).toContain(url);
    expect(en.text).toContain('Hello Supporter supporter-00003,');
    const ja = received.get(eligibleEmail(0))!;
    expect(ja.subject).toBe('書簡をお届けしました：難民を救おう');
    expect(ja.text).toContain('9月22日、「難民を救おう」の書簡を宛先の皆様にお届けしました');
    expect(ja.text).toContain(url);
    expect(received.get(eligibleEmail(1))!.subject).toBe('서한을 전달했습니다: Save North Korean refugees');
    expect(received.get(eligibleEmail(2))!.subject).toBe('信件已送达：Save North Korean refugees');
    expect(received.get(eligibleEmail(2))!.text).toContain('13');
  }, 60_000);

  it('falls back to English for a language the template is not written in', async () => {
    const lettersDir = await lettersDirWith({
      'short/en.md': '---\nsubject: "News from {{campaign.title}}"\n---\n{{signatures.count}} people signed by {{date}}.\n',
    });
    t = createTestApp({ lettersDir });
    await seedSupporters(t, 2);
    const res = await scheduleTemplate('short');
    expect(res.status).toBe(201);
    const received = await runAndReceive(((await res.json()) as { id: string }).id, lettersDir);
    // Supporter 0 reads Japanese: the English text, with the date in English too.
    for (const address of [eligibleEmail(0), eligibleEmail(1)]) {
      expect(received.get(address)!.subject).toBe('News from Save North Korean refugees');
      expect(received.get(address)!.text).toContain('7 people signed by 22 September 2027.');
    }
  }, 60_000);

  it('refuses an unknown template (422 with its name), an unknown variable (422 TEMPLATE_INVALID) and a template with a subject (400)', async () => {
    const lettersDir = await lettersDirWith({
      'bad/en.md': '---\nsubject: Hello\n---\nDear {{supporter.email}},\n',
      'half/en.md': '---\nsubject: Hello\n---\nFine.\n',
      'half/ja.md': '---\nsubject: "{{campaign.nope}}"\n---\nこんにちは\n',
      'no-english/ja.md': '---\nsubject: こんにちは\n---\nこんにちは\n',
    });
    t = createTestApp({ lettersDir });
    await seedSupporters(t, 1);

    const unknown = await scheduleTemplate('no-such-update');
    expect(unknown.status).toBe(422);
    expect((await unknown.json()).error).toMatchObject({ code: 'UPDATE_TEMPLATE_NOT_FOUND', details: { path: 'template', template: 'no-such-update' } });
    const noEnglish = await scheduleTemplate('no-english');
    expect(noEnglish.status).toBe(422);
    expect((await noEnglish.json()).error).toMatchObject({ code: 'UPDATE_TEMPLATE_NOT_FOUND', message: expect.stringContaining('no-english/en.md') });

    const bad = await scheduleTemplate('bad');
    expect(bad.status).toBe(422);
    expect((await bad.json()).error).toMatchObject({ code: 'TEMPLATE_INVALID', details: { variable: 'supporter.email', line: 4 } });
    const half = await scheduleTemplate('half');
    expect(half.status).toBe(422);
    expect((await half.json()).error).toMatchObject({ code: 'TEMPLATE_INVALID', details: { variable: 'campaign.nope' } });

    const both = await scheduleTemplate('bad', { subject: 'Hi', body: 'Text' });
    expect(both.status).toBe(400);
    expect((await both.json()).error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [
        { path: 'subject', message: 'an update from a template takes its subject from the template' },
        { path: 'body', message: 'an update from a template takes its text from the template' },
      ],
    });
  });
});
