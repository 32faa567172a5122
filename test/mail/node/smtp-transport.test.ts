import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { composeConfirmationEmail, newMessageId } from '../../../src/mail/messages.js';
import { classifySmtpError, SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { MailSendError, type OutgoingMail } from '../../../src/mail/transports/transport.js';
import { decodeEncodedWords, parseMail, partText } from '../helpers/mime.js';
import { mailFrom } from '../helpers/outbox.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function setUp(options: Parameters<typeof startSmtpServer>[0] = {}): Promise<{ server: TestSmtpServer; transport: SmtpTransport }> {
  const server = await startSmtpServer(options);
  closers.push(() => server.close());
  const transport = new SmtpTransport({ url: server.url, maxConnections: 2 });
  closers.push(() => transport.close());
  return { server, transport };
}

function outgoing(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    to: { name: 'Ada', address: 'ada@example.com' },
    subject: 'Hello',
    text: 'Plain body',
    html: '<p>HTML body</p>',
    from: mailFrom,
    messageId: newMessageId(mailFrom, 'm1'),
    ...overrides,
  };
}

describe('SmtpTransport: happy path', () => {
  for (const [locale, name, title] of [
    ['ja', '田中 愛子', '多摩川を守ろう'],
    ['ko', '김민지', '한강을 지키자'],
    ['zh', '王小明', '保护长江'],
  ] as const) {
    it(`delivers a ${locale} confirmation with UTF-8 subject, name and body intact`, async () => {
      const { server, transport } = await setUp();
      const message = {
        ...composeConfirmationEmail(
          { locale, campaignTitle: title, expiresAt: Date.UTC(2026, 0, 2) },
          { confirmUrl: 'https://signet.example/confirm/tok', to: 'supporter@example.com' },
        ),
        to: { name, address: 'supporter@example.com' },
      };
      const messageId = newMessageId(mailFrom, `id-${locale}`);
      await transport.send({ ...message, from: mailFrom, messageId });

      expect(server.received).toHaveLength(1);
      const delivery = server.received[0]!;
      expect(delivery.mailFrom).toBe('no-reply@signet.example');
      expect(delivery.rcptTo).toEqual(['supporter@example.com']);
      // Header fields stay 7-bit: the non-ASCII text travels as RFC 2047 encoded words.
      expect(delivery.raw.split('\r\n\r\n')[0]).toMatch(/^[\x20-\x7e\r\n\t]*$/);
      const mail = parseMail(delivery.raw);
      expect(mail.header('Subject')).toMatch(/=\?UTF-8\?[BQ]\?/i);
      expect(mail.decodedHeader('Subject')).toBe(message.subject);
      expect(mail.decodedHeader('To')).toBe(`${name} <supporter@example.com>`);
      expect(mail.header('Message-ID')).toBe(messageId);
      expect(mail.header('Auto-Submitted')).toBe('auto-generated');
      expect(partText(mail, 'text/plain').trimEnd()).toBe(message.text.trimEnd());
      expect(partText(mail, 'text/html').trimEnd()).toBe(message.html.trimEnd());
      expect(partText(mail, 'text/plain')).toContain(title);
    });
  }

  it('reuses pooled connections for many messages', async () => {
    const { server, transport } = await setUp();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => transport.send(outgoing({ messageId: newMessageId(mailFrom, `m${i}`) }))),
    );
    expect(server.received).toHaveLength(20);
    const ids = server.received.map((delivery) => parseMail(delivery.raw).header('Message-ID'));
    expect(new Set(ids).size).toBe(20);
  });
});

describe('SmtpTransport: errors', () => {
  it('reports a 550 to RCPT TO as permanent, without the address in the message', async () => {
    const { transport } = await setUp({
      replyToRecipient: (address) => ({ code: 550, message: `5.1.1 <${address}>: Recipient address rejected` }),
    });
    const error = await transport.send(outgoing()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailSendError);
    expect(error).toMatchObject({ permanent: true, responseCode: 550 });
    expect((error as MailSendError).message).toContain('Recipient address rejected');
    expect((error as MailSendError).message).not.toContain('ada@example.com');
  });

  it('reports a 451 after DATA as temporary', async () => {
    const { transport } = await setUp({ replyToData: () => ({ code: 451, message: '4.3.0 Try again later' }) });
    const error = await transport.send(outgoing()).catch((e: unknown) => e);
    expect(error).toMatchObject({ permanent: false, responseCode: 451 });
  });

  it('reports a 554 after DATA as permanent', async () => {
    const { transport } = await setUp({ replyToData: () => ({ code: 554, message: '5.7.1 Message rejected' }) });
    const error = await transport.send(outgoing()).catch((e: unknown) => e);
    expect(error).toMatchObject({ permanent: true, responseCode: 554 });
  });

  it('reports a refused connection as temporary', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const transport = new SmtpTransport({ url: `smtp://127.0.0.1:${port}` });
    closers.push(() => transport.close());
    const error = await transport.send(outgoing()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailSendError);
    expect(error).toMatchObject({ permanent: false, responseCode: undefined });
  });

  it('refuses a URL that is not smtp:// or smtps://', () => {
    expect(() => new SmtpTransport({ url: 'http://127.0.0.1:25' })).toThrow(TypeError);
  });
});

describe('classifySmtpError', () => {
  it('keeps relay and account problems temporary even on a 5xx reply', () => {
    expect(classifySmtpError({ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 bad credentials', command: 'AUTH PLAIN' }).permanent).toBe(false);
    expect(classifySmtpError({ code: 'EENVELOPE', responseCode: 530, response: '530 5.7.0 Authentication required', command: 'MAIL FROM' }).permanent).toBe(false);
  });

  it('treats 503 as a broken session, not a refused message', () => {
    expect(classifySmtpError({ code: 'EENVELOPE', responseCode: 503, response: '503 bad sequence', command: 'RCPT TO' }).permanent).toBe(false);
  });

  it('treats a 552 (too big) as permanent wherever it comes', () => {
    expect(classifySmtpError({ code: 'EENVELOPE', responseCode: 552, response: '552 too big', command: 'MAIL FROM' }).permanent).toBe(true);
  });

  it('treats timeouts and socket errors as temporary', () => {
    expect(classifySmtpError({ code: 'ETIMEDOUT', message: 'Greeting never received' })).toMatchObject({ permanent: false, code: 'ETIMEDOUT' });
    expect(classifySmtpError(new Error('boom')).permanent).toBe(false);
  });
});

describe('SmtpTransport: security', () => {
  it('lets no line break in a name or subject add a header', async () => {
    const { server, transport } = await setUp();
    await transport.send(
      outgoing({
        to: { name: 'Eve\r\nBcc: evil@example.com', address: 'eve@example.com' },
        subject: 'Hi\r\nBcc: evil@example.com\r\n\r\nInjected body',
      }),
    );
    expect(server.received).toHaveLength(1);
    const delivery = server.received[0]!;
    expect(delivery.rcptTo).toEqual(['eve@example.com']);
    const mail = parseMail(delivery.raw);
    expect(mail.headerLines.filter((line) => /^bcc:/i.test(line))).toEqual([]);
    expect(mail.decodedHeader('Subject')).toBe('Hi Bcc: evil@example.com Injected body');
    expect(decodeEncodedWords(mail.header('To')!)).not.toMatch(/[\r\n]/);
  });

  it('refuses a custom header whose value or name holds a line break', async () => {
    const { server, transport } = await setUp();
    const attempts: Record<string, string>[] = [{ 'X-Campaign': 'a\r\nBcc: evil@example.com' }, { 'X-A\r\nBcc': 'evil@example.com' }];
    for (const headers of attempts) {
      const error = await transport.send(outgoing({ headers })).catch((e: unknown) => e);
      expect(error).toMatchObject({ permanent: true, code: 'INVALID_HEADER' });
      expect((error as Error).message).not.toContain('evil@example.com');
    }
    expect(server.dataCount()).toBe(0);
  });

  it('refuses a custom header that would replace an address header', async () => {
    const { transport } = await setUp();
    const error = await transport.send(outgoing({ headers: { Bcc: 'evil@example.com' } })).catch((e: unknown) => e);
    expect(error).toMatchObject({ permanent: true, code: 'INVALID_HEADER' });
  });

  it('refuses a recipient address with a line break in it', async () => {
    const { server, transport } = await setUp();
    const error = await transport
      .send(outgoing({ to: { address: 'eve@example.com\r\nBcc: evil@example.com' } }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ permanent: true, code: 'INVALID_RECIPIENT' });
    expect(server.dataCount()).toBe(0);
  });

  it('passes a safe custom header through', async () => {
    const { server, transport } = await setUp();
    await transport.send(outgoing({ headers: { 'List-Unsubscribe': '<https://signet.example/u/1>' } }));
    expect(parseMail(server.received[0]!.raw).header('List-Unsubscribe')).toBe('<https://signet.example/u/1>');
  });
});
