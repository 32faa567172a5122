import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/lib/clock.js';
import { FileTransport } from '../../../src/mail/node/file-transport.js';
import { composeConfirmationEmail, newMessageId } from '../../../src/mail/messages.js';
import { parseMail, partText } from '../helpers/mime.js';
import { mailFrom } from '../helpers/outbox.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'signet-mail-'));
  dirs.push(dir);
  return dir;
}

describe('FileTransport', () => {
  it('writes a parseable .eml with Message-ID, text and HTML parts and a UTF-8 subject', async () => {
    const directory = join(tempDir(), 'mail', 'outgoing');
    const clock = new ManualClock(Date.UTC(2026, 2, 4, 5, 6, 7, 89));
    const transport = new FileTransport({ directory, clock });
    // A display name in Japanese, as letter and update emails carry (confirmations have none).
    const message = {
      ...composeConfirmationEmail(
        { locale: 'ja', campaignTitle: '多摩川を守ろう', expiresAt: Date.UTC(2026, 2, 5) },
        { confirmUrl: 'https://signet.example/confirm/tok', to: 'aiko@example.com' },
      ),
      to: { name: '田中 愛子', address: 'aiko@example.com' },
    };
    const messageId = newMessageId(mailFrom, '0190f00d-0000-7000-8000-000000000001');
    await transport.send({ ...message, from: mailFrom, messageId });
    await transport.close();

    const files = readdirSync(directory);
    expect(files).toEqual(['2026-03-04T050607.089Z-0190f00d-0000-7000-8000-000000000001@signet.example.eml']);
    const raw = readFileSync(join(directory, files[0]!), 'utf8');
    const mail = parseMail(raw);
    expect(mail.header('Message-ID')).toBe(messageId);
    expect(mail.header('Subject')).toMatch(/=\?UTF-8\?[BQ]\?/i);
    expect(mail.decodedHeader('Subject')).toBe('署名のご確認のお願い：多摩川を守ろう');
    expect(mail.decodedHeader('To')).toBe('田中 愛子 <aiko@example.com>');
    expect(mail.header('Date')).toBe('Wed, 04 Mar 2026 05:06:07 +0000');
    expect(mail.header('MIME-Version')).toBe('1.0');
    expect(mail.header('Content-Type')).toMatch(/^multipart\/alternative;/);
    expect(partText(mail, 'text/plain').trimEnd()).toBe(message.text.trimEnd());
    expect(partText(mail, 'text/html')).toContain('<html lang="ja"');
  });

  it('leaves no temporary file behind and keeps messages apart', async () => {
    const directory = tempDir();
    const transport = new FileTransport({ directory, clock: new ManualClock() });
    for (const id of ['a', 'b', 'c']) {
      await transport.send({
        to: { address: `${id}@example.com` },
        subject: id,
        text: id,
        html: `<p>${id}</p>`,
        from: mailFrom,
        messageId: newMessageId(mailFrom, id),
      });
    }
    expect(readdirSync(directory).sort()).toEqual([
      '2026-01-01T000000.000Z-a@signet.example.eml',
      '2026-01-01T000000.000Z-b@signet.example.eml',
      '2026-01-01T000000.000Z-c@signet.example.eml',
    ]);
  });

  it('reports an unwritable directory as a temporary failure', async () => {
    const file = join(tempDir(), 'not-a-directory');
    writeFileSync(file, '');
    const transport = new FileTransport({ directory: join(file, 'mail') });
    const error = await transport
      .send({ to: { address: 'x@example.com' }, subject: 's', text: 't', html: '<p>t</p>', from: mailFrom, messageId: newMessageId(mailFrom, 'y') })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'MailSendError', permanent: false, code: 'ENOTDIR' });
    expect((error as Error).message).not.toContain('x@example.com');
  });

  it('refuses a header injection before writing anything', async () => {
    const directory = tempDir();
    const transport = new FileTransport({ directory });
    const error = await transport
      .send({
        to: { address: 'x@example.com' },
        subject: 's',
        text: 't',
        html: '<p>t</p>',
        headers: { 'X-Note': 'a\nBcc: evil@example.com' },
        from: mailFrom,
        messageId: newMessageId(mailFrom, 'z'),
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ permanent: true, code: 'INVALID_HEADER' });
    expect(readdirSync(directory)).toEqual([]);
  });
});
