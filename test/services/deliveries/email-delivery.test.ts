import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { outbox } from '../../../src/db/schema.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { FileTransport, openStoredAttachments } from '../../../src/mail/node/file-transport.js';
import { composeLetterDeliveryEmail, type LetterDeliveryEmailInput } from '../../../src/mail/letter-email.js';
import { renderStoredMessage } from '../../../src/mail/messages.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import type { MailTransport, OutgoingMail } from '../../../src/mail/transports/transport.js';
import { decodeEncodedWords } from '../../mail/helpers/mime.js';
import { startSmtpServer } from '../../mail/helpers/smtp-server.js';
import { deliver, dispositionFilename, EMBASSY_EMAIL, EMBASSY_NAME, leaves, readMime, setupLetters, SLUG, ZH_TITLE, type TestApp } from './helpers.js';
import { testLinks } from '../../helpers/keys.js';
import { testOrganisation } from '../../helpers/organisation.js';

const MAIL_FROM = 'Signet <no-reply@signet.test>';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function setup() {
  const { t, letters } = await setupLetters();
  closers.push(() => t.cleanup());
  return { t, letters };
}

function sender(t: TestApp, transport: MailTransport) {
  return new OutboxSender({ links: testLinks, database: t.database, transport, clock: t.clock, logger: silentLogger, from: MAIL_FROM, backoff: { baseMs: 1000, maxMs: 1000 } });
}

const getDelivery = async (t: TestApp, id: string) => {
  const res = await t.request('GET', `/api/v1/deliveries/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
};

describe('email delivery, end to end over SMTP', () => {
  it('sends the covering email in the target\'s language with the letter PDF attached, and reads sent', async () => {
    const { t, letters } = await setup();
    const server = await startSmtpServer();
    closers.push(() => server.close());

    const created = await deliver(t, letters.embassy.id, 'email');
    expect(created.res.status).toBe(201);
    expect(created.body).toMatchObject({ channel: 'email', status: 'queued', letterId: letters.embassy.id, campaign: SLUG, attempts: 0, sentAt: null });
    const rows = await t.database.db.select().from(outbox).where(eq(outbox.kind, 'letter-delivery'));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.recipient).toBe(EMBASSY_EMAIL);
    // The stored input names the letter by its path under DATA_DIR and holds no supporter's data.
    const stored = JSON.stringify(rows[0]!.message);
    expect(stored).toContain(`"storedPath":"letters/`);
    expect(stored).not.toMatch(/aiko|taro|Tanaka|山田/);

    const transport = new SmtpTransport({ url: server.url, dataDir: t.dataDir });
    closers.push(() => transport.close());
    expect(await sender(t, transport).drainOnce()).toEqual({ sent: 1, failed: 0, retried: 0 });

    expect(server.received).toHaveLength(1);
    const mail = server.received[0]!;
    expect(mail.rcptTo).toEqual([EMBASSY_EMAIL]);
    const message = readMime(mail.raw);
    const subject = decodeEncodedWords(message.header('Subject')!);
    expect(subject).toBe(`${testOrganisation.name}致函：${ZH_TITLE}`);
    expect(decodeEncodedWords(message.header('To')!)).toContain(EMBASSY_NAME);
    // From the organisation, at MAIL_FROM's address; replies go to the organisation.
    expect(decodeEncodedWords(message.header('From')!)).toBe(`${testOrganisation.name} <no-reply@signet.test>`);
    expect(mail.mailFrom).toBe('no-reply@signet.test');
    expect(message.header('Reply-To')).toBe(testOrganisation.email);

    const parts = leaves(message);
    const text = parts.find((part) => part.header('Content-Type')?.startsWith('text/plain'))!.body.toString('utf8');
    expect(text).toContain(`尊敬的${EMBASSY_NAME}：`);
    expect(text).toContain(`“${ZH_TITLE}”`);
    expect(text).toContain('本请愿共有2名联署人支持');
    expect(text).toContain(testOrganisation.name);
    expect(mail.raw).not.toMatch(/aiko@|taro@|Aiko|山田/);

    const pdf = parts.find((part) => part.header('Content-Type')?.startsWith('application/pdf'))!;
    expect(pdf).toBeDefined();
    const disposition = pdf.header('Content-Disposition')!;
    expect(disposition).toMatch(/^attachment;/);
    expect(disposition).toMatch(/filename\*/); // RFC 2231, not a raw UTF-8 parameter
    expect(dispositionFilename(disposition)).toBe(`${SLUG}-${EMBASSY_NAME}.pdf`);
    expect(pdf.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(createHash('sha256').update(pdf.body).digest('hex')).toBe(letters.embassy.sha256);

    const delivery = await getDelivery(t, created.body.id);
    expect(delivery).toMatchObject({ status: 'sent', attempts: 1, lastError: null, sentAt: new Date(t.clock.now()).toISOString() });
    const sentList = await t.request('GET', '/api/v1/deliveries?status=sent');
    expect(((await sentList.json()) as { items: { id: string }[] }).items.map((item) => item.id)).toEqual([created.body.id]);
  });

  it('reads sending while a sender holds the lease and failed when the email was given up', async () => {
    const { t, letters } = await setup();
    const { body } = await deliver(t, letters.embassy.id, 'email');
    const [row] = await t.database.db.select().from(outbox).where(eq(outbox.kind, 'letter-delivery'));
    await t.database.atomic([t.database.db.update(outbox).set({ lockedBy: 'w1', lockedUntil: t.clock.now() + 60_000 }).where(eq(outbox.id, row!.id))]);
    expect(await getDelivery(t, body.id)).toMatchObject({ status: 'sending' });
    t.clock.advance(61_000);
    expect(await getDelivery(t, body.id)).toMatchObject({ status: 'queued' });

    // A transport that cannot read the PDF (no data directory) fails the message for good.
    const transport = new SmtpTransport({ url: 'smtp://127.0.0.1:9' });
    closers.push(() => transport.close());
    expect(await sender(t, transport).drainOnce()).toMatchObject({ failed: 1 });
    expect(await getDelivery(t, body.id)).toMatchObject({ status: 'failed', attempts: 1, lastError: expect.stringContaining('no attachments') });
  });

  it('writes the letter into the .eml with the file transport', async () => {
    const { t, letters } = await setup();
    await deliver(t, letters.embassy.id, 'email');
    const mailDir = join(t.dataDir, 'mail');
    expect(await sender(t, new FileTransport({ directory: mailDir, dataDir: t.dataDir, clock: t.clock })).drainOnce()).toMatchObject({ sent: 1 });
    const [file] = await readdir(mailDir);
    const pdf = leaves(readMime(await readFile(join(mailDir, file!), 'utf8'))).find((part) => part.header('Content-Type')?.startsWith('application/pdf'))!;
    expect(createHash('sha256').update(pdf.body).digest('hex')).toBe(letters.embassy.sha256);
  });
});

describe('attachments stay inside the data directory', () => {
  const mail = (storedPath: string): OutgoingMail => ({
    from: MAIL_FROM,
    messageId: '<x@signet.test>',
    to: { address: 'a@example.org' },
    subject: 's',
    text: 't',
    html: '<p>t</p>',
    attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', storedPath }],
  });

  it('opens a file under the data directory and refuses paths and links that leave it', async () => {
    const base = await mkdtemp(join(tmpdir(), 'signet-attach-'));
    closers.push(() => rm(base, { recursive: true, force: true }));
    const dataDir = join(base, 'data');
    await mkdir(join(dataDir, 'letters'), { recursive: true });
    await writeFile(join(dataDir, 'letters', 'ok.pdf'), '%PDF-1.7');
    await writeFile(join(base, 'secret.txt'), 'secret');
    await symlink(join(base, 'secret.txt'), join(dataDir, 'letters', 'link.pdf'));

    const opened = await openStoredAttachments(mail('letters/ok.pdf'), dataDir);
    expect(opened.attachments).toHaveLength(1);
    opened.close();

    await expect(openStoredAttachments(mail('letters/link.pdf'), dataDir)).rejects.toMatchObject({ code: 'ATTACHMENT_OUTSIDE_DATA_DIR', permanent: true });
    await expect(openStoredAttachments(mail('letters/gone.pdf'), dataDir)).rejects.toMatchObject({ code: 'ATTACHMENT_MISSING', permanent: true });
    await expect(openStoredAttachments(mail('letters/ok.pdf'), undefined)).rejects.toMatchObject({ code: 'ATTACHMENT_NOT_ALLOWED', permanent: true });

    // Paths that are not plainly relative never reach the file system.
    const transport = new FileTransport({ directory: join(base, 'mail'), dataDir });
    for (const storedPath of ['../secret.txt', '/etc/passwd', 'letters/../../secret.txt', 'letters\\..\\x', './letters/ok.pdf']) {
      await expect(transport.send(mail(storedPath))).rejects.toMatchObject({ code: 'INVALID_ATTACHMENT', permanent: true });
    }
    await transport.send(mail('letters/ok.pdf'));
    expect(await readdir(join(base, 'mail'))).toHaveLength(1);
  });
});

describe('composeLetterDeliveryEmail', () => {
  const input = (locale: LetterDeliveryEmailInput['locale']): LetterDeliveryEmailInput => ({
    locale,
    recipient: { name: 'H.E. the Ambassador', address: 'amb@example.org' },
    campaignTitle: 'Save refugees',
    signatureCount: 12345,
    organisation: { name: 'Example Network', email: 'letters@example.org', addressLines: ['1 Road'], representative: { name: 'Hanako Yamada', title: 'Director' } },
    attachment: { storedPath: 'letters/b/l.pdf', filename: 'save-refugees.pdf' },
  });

  it('writes a formal note in each language with the title, the count and the organisation', async () => {
    const expected = {
      en: ['Letter from Example Network: Save refugees', '12,345 signatories', 'Dear H.E. the Ambassador,'],
      ja: ['Example Networkよりの書簡：Save refugees', '12,345名', '拝啓'],
      zh: ['Example Network致函：Save refugees', '12,345名联署人', '此致'],
      ko: ['Example Network 서한: Save refugees', '12,345명', '귀하'],
    } as const;
    for (const locale of ['en', 'ja', 'zh', 'ko'] as const) {
      const message = await renderStoredMessage({ compose: 'letter-delivery', input: input(locale) }, undefined, testLinks);
      expect(message).toEqual(composeLetterDeliveryEmail(input(locale)));
      expect(message.subject).toBe(expected[locale][0]);
      expect(message.text).toContain(expected[locale][1]);
      expect(message.text).toContain(expected[locale][2]);
      expect(message.text).toContain('Hanako Yamada, Director');
      expect(message.html).toContain(`lang="${locale}"`);
      expect(message.attachments).toEqual([{ filename: 'save-refugees.pdf', contentType: 'application/pdf', storedPath: 'letters/b/l.pdf' }]);
      expect(message.headers).toEqual({ 'Reply-To': 'letters@example.org' });
    }
  });

  it('escapes organiser-written text in the HTML and keeps the subject on one line', () => {
    const message = composeLetterDeliveryEmail({ ...input('en'), campaignTitle: 'A <b>bold</b>\r\nBcc: x@example.org' });
    expect(message.subject).toBe('Letter from Example Network: A <b>bold</b> Bcc: x@example.org');
    expect(message.html).toContain('A &lt;b&gt;bold&lt;/b&gt;');
  });
});
