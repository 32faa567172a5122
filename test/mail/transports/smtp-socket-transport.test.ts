import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/lib/clock.js';
import { SmtpSocketTransport, type SmtpSocketTransportOptions } from '../../../src/mail/transports/smtp-socket-transport.js';
import { MailSendError, type OutgoingMail } from '../../../src/mail/transports/transport.js';
import { decodeEncodedWords } from '../helpers/mime.js';
import { headerParameter } from '../helpers/mime-params.js';
import { mimeLeaves } from '../helpers/mime-parts.js';
import { nodeSmtpSocketConnector } from '../helpers/node-smtp-socket.js';
import { startScriptedSmtpServer } from '../helpers/scripted-smtp-server.js';
import { startSmtpServer, type ReceivedMail } from '../helpers/smtp-server.js';

// The SMTP client that runs on Workers (src/mail/worker/worker-smtp-transport.ts binds it to
// cloudflare:sockets), here over node:net: protocol details, TLS and every
// failure path. test/worker/mail-probe.test.ts runs it in workerd.

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

const pdf = Uint8Array.from({ length: 5000 }, (_, i) => (i * 131 + 7) % 256);
const utf8 = new TextDecoder('utf-8', { fatal: true });

function outgoing(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    from: 'Signet <no-reply@signet.example>',
    messageId: '<0190f00d-0000-7000-8000-00000000000a@signet.example>',
    to: { name: '田中 愛子', address: 'aiko@example.com' },
    subject: '多摩川を守ろう：最新情報',
    text: 'Hello\n.\n.starts with a dot\n',
    html: '<p>Hello</p>',
    headers: { 'List-Unsubscribe': '<https://signet.example/unsubscribe/tok>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    ...overrides,
  };
}

function transport(url: string, options: Partial<SmtpSocketTransportOptions> = {}) {
  const connect = nodeSmtpSocketConnector();
  const created = new SmtpSocketTransport({ url, connect, clock: new ManualClock(Date.UTC(2026, 2, 4, 5, 6, 7)), ...options });
  closers.push(() => created.close());
  return { transport: created, sockets: connect.opened };
}

async function failure(promise: Promise<unknown>): Promise<MailSendError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MailSendError);
  return error as MailSendError;
}

async function refusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('SmtpSocketTransport: delivery', () => {
  it('delivers the composed message: envelope, headers, dot lines, attachment bytes', async () => {
    const server = await startSmtpServer();
    closers.push(() => server.close());
    const { transport: smtp, sockets } = transport(server.url, { readAttachment: async (path) => (path === 'letters/a/b.pdf' ? pdf : null) });

    await smtp.send(outgoing({ attachments: [{ filename: '多摩川への手紙.pdf', contentType: 'application/pdf', storedPath: 'letters/a/b.pdf' }] }));

    expect(server.received).toHaveLength(1);
    const delivery: ReceivedMail = server.received[0]!;
    expect(delivery).toMatchObject({ mailFrom: 'no-reply@signet.example', rcptTo: ['aiko@example.com'], secure: false });
    const { headers, leaves } = mimeLeaves(delivery.raw);
    expect(headers.get('message-id')).toBe('<0190f00d-0000-7000-8000-00000000000a@signet.example>');
    expect(decodeEncodedWords(headers.get('to')!)).toBe('田中 愛子 <aiko@example.com>');
    expect(decodeEncodedWords(headers.get('subject')!)).toBe('多摩川を守ろう：最新情報');
    expect(headers.get('list-unsubscribe')).toBe('<https://signet.example/unsubscribe/tok>');
    expect(headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(headers.get('date')).toBe('Wed, 04 Mar 2026 05:06:07 +0000');
    expect(utf8.decode(leaves.find((leaf) => leaf.contentType === 'text/plain')!.bytes)).toBe('Hello\r\n.\r\n.starts with a dot\r\n');
    const attachment = leaves.find((leaf) => leaf.contentType === 'application/pdf')!;
    expect(attachment.bytes).toEqual(pdf);
    expect(headerParameter(attachment.headers.get('content-disposition')!, 'filename')).toBe('多摩川への手紙.pdf');
    await smtp.close();
    expect(sockets.every((socket) => socket.destroyed)).toBe(true);
  });

  it('carries the next message over the same connection, says EHLO once, and QUITs at close', async () => {
    const server = await startScriptedSmtpServer({});
    closers.push(() => server.close());
    const { transport: smtp, sockets } = transport(server.url);
    await smtp.send(outgoing());
    await smtp.send(outgoing());
    expect(sockets).toHaveLength(1);
    expect(server.commands.filter((line) => line.startsWith('EHLO'))).toEqual(['EHLO signet.example']);
    expect(server.commands.filter((line) => /^(MAIL|RCPT|QUIT)/.test(line))).toEqual([
      'MAIL FROM:<no-reply@signet.example>', 'RCPT TO:<aiko@example.com>',
      'MAIL FROM:<no-reply@signet.example>', 'RCPT TO:<aiko@example.com>',
    ]);
    await smtp.close();
    expect(server.commands.at(-1)).toBe('QUIT');
    expect(sockets.every((socket) => socket.destroyed)).toBe(true);
  });

  it('opens a connection per message with maxMessagesPerConnection 1', async () => {
    const server = await startScriptedSmtpServer({});
    closers.push(() => server.close());
    const { transport: smtp, sockets } = transport(server.url, { maxMessagesPerConnection: 1 });
    await smtp.send(outgoing());
    await smtp.send(outgoing());
    expect(sockets).toHaveLength(2);
    expect(server.commands.filter((line) => /^(EHLO|QUIT)/.test(line))).toEqual(['EHLO signet.example', 'QUIT', 'EHLO signet.example', 'QUIT']);
  });

  it('sends over a new connection when the relay closed the idle one, once', async () => {
    const server = await startScriptedSmtpServer({});
    closers.push(() => server.close());
    const { transport: smtp, sockets } = transport(server.url);
    await smtp.send(outgoing());
    // The relay drops idle clients: the kept connection is gone before the next message.
    sockets[0]!.destroy();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await smtp.send(outgoing());
    expect(sockets).toHaveLength(2);
    expect(server.commands.filter((line) => line === 'DATA-END')).toHaveLength(2);
    await smtp.close();
    expect(sockets.every((socket) => socket.destroyed)).toBe(true);
  });

  it('reads multi-line replies and falls back to HELO when EHLO is refused', async () => {
    const server = await startScriptedSmtpServer({
      greeting: '220-scripted.test\r\n220-second line\r\n220 ready',
      answer: (line) => (line.startsWith('EHLO') ? '502 5.5.2 no ESMTP here' : line.startsWith('HELO') ? '250 hello' : undefined),
    });
    closers.push(() => server.close());
    await transport(server.url).transport.send(outgoing());
    expect(server.commands.slice(0, 2)).toEqual(['EHLO signet.example', 'HELO signet.example']);
    expect(server.commands).toContain('DATA-END');
  });

  for (const method of ['PLAIN', 'LOGIN'] as const) {
    it(`authenticates with AUTH ${method}, user and password from the URL, percent-decoded`, async () => {
      const seen: { method: string; username?: string | null; password?: string | null }[] = [];
      const server = new SMTPServer({
        authMethods: [method],
        allowInsecureAuth: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onAuth(auth, _session, callback) {
          seen.push({ method: auth.method, username: auth.username, password: auth.password });
          callback(auth.password === 'p@ss w/ord' ? null : new Error('bad credentials'), { user: auth.username });
        },
        onData(stream, _session, callback) {
          stream.resume();
          stream.on('end', () => callback());
        },
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const { port } = server.server.address() as AddressInfo;

      await transport(`smtp://ada%40tama:p%40ss%20w%2Ford@127.0.0.1:${port}`).transport.send(outgoing());
      expect(seen).toEqual([{ method, username: 'ada@tama', password: 'p@ss w/ord' }]);

      const error = await failure(transport(`smtp://ada%40tama:wrong-secret@127.0.0.1:${port}`).transport.send(outgoing()));
      // A wrong password is the operator's to fix: temporary, and never in the error.
      expect(error).toMatchObject({ permanent: false, code: 'EAUTH', responseCode: 535 });
      expect(error.message).not.toContain('wrong-secret');
      expect(error.message).toMatch(/^AUTH (PLAIN|LOGIN): 535/);
    });
  }
});

describe('SmtpSocketTransport: TLS', () => {
  let certDir: string;
  let tls: { key: string; cert: string };
  beforeAll(() => {
    certDir = mkdtempSync(join(tmpdir(), 'signet-smtp-socket-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'),
    ], { stdio: 'ignore' });
    tls = { key: readFileSync(join(certDir, 'key.pem'), 'utf8'), cert: readFileSync(join(certDir, 'cert.pem'), 'utf8') };
  });
  afterAll(() => rmSync(certDir, { recursive: true, force: true }));

  it('upgrades with STARTTLS when required and offered, and sends over TLS', async () => {
    const server = await startSmtpServer({ tls });
    closers.push(() => server.close());
    const connect = nodeSmtpSocketConnector({ ca: tls.cert });
    const smtp = new SmtpSocketTransport({ url: server.url, requireTls: true, connect });
    closers.push(() => smtp.close());
    expect(smtp.tls).toBe('starttls-required');
    await smtp.send(outgoing());
    expect(server.received).toHaveLength(1);
    expect(server.received[0]).toMatchObject({ secure: true, rcptTo: ['aiko@example.com'] });
  });

  it('sends nothing in plain text when STARTTLS is required and not offered, and says SMTP_URL', async () => {
    const server = await startSmtpServer();
    closers.push(() => server.close());
    const { transport: smtp, sockets } = transport(server.url, { requireTls: true });
    const error = await failure(smtp.send(outgoing()));
    expect(error).toMatchObject({ permanent: false, code: 'ETLS' });
    expect(error.message).toMatch(/^STARTTLS: not offered by the relay .*SMTP_URL needs smtps:\/\/ or a relay that offers STARTTLS, or \?tls=optional/);
    expect(server.dataCount()).toBe(0);
    expect(sockets.every((socket) => socket.destroyed)).toBe(true);
  });

  it('reports a certificate it cannot trust as a TLS failure, temporary', async () => {
    const server = await startSmtpServer({ tls });
    closers.push(() => server.close());
    const error = await failure(transport(server.url, { requireTls: true }).transport.send(outgoing()));
    expect(error).toMatchObject({ permanent: false, code: 'ETLS' });
    expect(server.dataCount()).toBe(0);
  });

  it('speaks TLS from the first byte for smtps://', async () => {
    let secure: boolean | undefined;
    const server = new SMTPServer({
      secure: true,
      key: tls.key,
      cert: tls.cert,
      authOptional: true,
      disabledCommands: ['AUTH'],
      logger: false,
      onData(stream, session, callback) {
        secure = session.secure;
        stream.resume();
        stream.on('end', () => callback());
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.server.address() as AddressInfo;
    const smtp = new SmtpSocketTransport({ url: `smtps://127.0.0.1:${port}`, connect: nodeSmtpSocketConnector({ ca: tls.cert }) });
    closers.push(() => smtp.close());
    expect(smtp.tls).toBe('implicit');
    await smtp.send(outgoing());
    expect(secure).toBe(true);
  });
});

describe('SmtpSocketTransport: errors, classified as on Node', () => {
  it('reports a 550 to RCPT TO as permanent, without the address in the message', async () => {
    const server = await startSmtpServer({ replyToRecipient: (address) => ({ code: 550, message: `5.1.1 <${address}>: Recipient address rejected` }) });
    closers.push(() => server.close());
    const error = await failure(transport(server.url).transport.send(outgoing()));
    expect(error).toMatchObject({ permanent: true, responseCode: 550, code: 'EENVELOPE' });
    expect(error.message).toMatch(/^RCPT TO: 550 5\.1\.1 <\[address\]>: Recipient address rejected$/);
    expect(error.message).not.toContain('aiko@example.com');
  });

  it('reports a 451 after DATA as temporary and a 554 as permanent', async () => {
    const server = await startSmtpServer({
      replyToData: (index) => (index === 0 ? { code: 451, message: '4.3.0 Try again later' } : { code: 554, message: '5.7.1 Message rejected' }),
    });
    closers.push(() => server.close());
    const { transport: smtp, sockets } = transport(server.url);
    expect(await failure(smtp.send(outgoing()))).toMatchObject({ permanent: false, responseCode: 451, code: 'EMESSAGE' });
    expect(await failure(smtp.send(outgoing()))).toMatchObject({ permanent: true, responseCode: 554, code: 'EMESSAGE' });
    expect(sockets.every((socket) => socket.destroyed)).toBe(true);
  });

  it('keeps 5xx to MAIL FROM temporary (our sender or account), except 552; 503 is never permanent', async () => {
    const cases: [string, (line: string) => string | undefined, boolean][] = [
      ['550 on MAIL FROM', (line) => (line.startsWith('MAIL FROM') ? '550 5.7.1 sender not allowed' : undefined), false],
      ['552 on MAIL FROM', (line) => (line.startsWith('MAIL FROM') ? '552 5.3.4 message too big' : undefined), true],
      ['503 on RCPT TO', (line) => (line.startsWith('RCPT TO') ? '503 5.5.1 bad sequence of commands' : undefined), false],
      ['554 greeting', () => undefined, false],
    ];
    for (const [name, answer, permanent] of cases) {
      const server = await startScriptedSmtpServer({ answer, ...(name === '554 greeting' ? { greeting: '554 no service' } : {}) });
      closers.push(() => server.close());
      const error = await failure(transport(server.url).transport.send(outgoing()));
      expect(error.permanent, name).toBe(permanent);
      expect(error.responseCode, name).toBe(Number(name.slice(0, 3)));
    }
  });

  it('reports a refused connection as temporary', async () => {
    const port = await refusedPort();
    const error = await failure(transport(`smtp://127.0.0.1:${port}`).transport.send(outgoing()));
    expect(error).toMatchObject({ permanent: false, code: 'ECONNECTION', responseCode: undefined });
  });

  it('gives up on a silent server after the greeting timeout and closes the socket', async () => {
    const server = await startScriptedSmtpServer({ greeting: 'silent' });
    closers.push(() => server.close());
    const { transport: smtp, sockets } = transport(server.url, { greetingTimeoutMs: 200 });
    const error = await failure(smtp.send(outgoing()));
    expect(error).toMatchObject({ permanent: false, code: 'ETIMEDOUT' });
    expect(error.message).toBe('ETIMEDOUT: no reply to the greeting within 200 ms');
    expect(sockets.every((socket) => socket.destroyed)).toBe(true);
  });

  it('survives a server that hangs up mid-session: temporary, and the next send connects afresh', async () => {
    let hangUp = true;
    const server = await startScriptedSmtpServer({
      answer: (line) => {
        if (line.startsWith('RCPT TO') && hangUp) {
          hangUp = false;
          return 'close';
        }
        return undefined;
      },
    });
    closers.push(() => server.close());
    const { transport: smtp, sockets } = transport(server.url);
    expect(await failure(smtp.send(outgoing()))).toMatchObject({ permanent: false, code: 'ECONNECTION' });
    await smtp.send(outgoing());
    expect(server.commands.filter((line) => line === 'DATA-END')).toHaveLength(1);
    expect(sockets).toHaveLength(2);
    await smtp.close();
    expect(sockets.every((socket) => socket.destroyed)).toBe(true);
  });

  it('refuses a message whose attachment is no longer stored, permanently and before connecting', async () => {
    const { transport: smtp, sockets } = transport('smtp://127.0.0.1:9', { readAttachment: async () => null });
    const error = await failure(smtp.send(outgoing({ attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', storedPath: 'letters/a.pdf' }] })));
    expect(error).toMatchObject({ permanent: true, code: 'ATTACHMENT_MISSING' });
    expect(sockets).toHaveLength(0);
  });

  it('refuses a header injection before connecting', async () => {
    const { transport: smtp, sockets } = transport('smtp://127.0.0.1:9');
    const error = await failure(smtp.send(outgoing({ headers: { 'X-Note': 'a\r\nBcc: evil@example.com' } })));
    expect(error).toMatchObject({ permanent: true, code: 'INVALID_HEADER' });
    expect(sockets).toHaveLength(0);
  });

  it('reads SMTP_URL as Node does', () => {
    const connect = nodeSmtpSocketConnector();
    expect(new SmtpSocketTransport({ url: 'smtp://u:p@mail.example.org:587', connect }).tls).toBe('starttls-required');
    expect(new SmtpSocketTransport({ url: 'smtp://relay.lan:25?tls=optional', connect }).tls).toBe('opportunistic');
    expect(new SmtpSocketTransport({ url: 'smtps://u:p@mail.example.org', connect }).tls).toBe('implicit');
    expect(new SmtpSocketTransport({ url: 'smtp://127.0.0.1:2525', connect }).tls).toBe('opportunistic');
    expect(() => new SmtpSocketTransport({ url: 'smtp://relay.lan:25?tls=off', connect })).toThrow(TypeError);
    expect(() => new SmtpSocketTransport({ url: 'http://relay.lan:25', connect })).toThrow(TypeError);
  });
});
