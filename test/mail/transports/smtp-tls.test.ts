import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings, SettingsError } from '../../../src/config.js';
import { createMailTransport } from '../../../src/entry/node.js';
import { newMessageId } from '../../../src/mail/messages.js';
import { isLoopbackHost, planSmtpConnection, SmtpUrlError } from '../../../src/mail/transports/smtp-tls.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { MailSendError, type OutgoingMail } from '../../../src/mail/transports/transport.js';
import { mailFrom } from '../helpers/outbox.js';
import { startSmtpServer } from '../helpers/smtp-server.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

function message(id: string): OutgoingMail {
  return { to: { address: 'ada@example.com' }, subject: 'Hello', text: 'Body', html: '<p>Body</p>', from: mailFrom, messageId: newMessageId(mailFrom, id) };
}

function settingsProblems(env: Record<string, string>) {
  try {
    loadSettings(env);
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as SettingsError).problems;
  }
  return [];
}

describe('planSmtpConnection: TLS to anything but the loopback', () => {
  it('lets only 127.0.0.0/8, ::1 and localhost go without TLS by default', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', '127.255.255.255', 'localhost', 'LocalHost', 'localhost.', '[::1]']) {
      expect(isLoopbackHost(host), host).toBe(true);
      expect(planSmtpConnection(`smtp://${host}:25`).tls, host).toBe('opportunistic');
    }
    for (const host of ['mail.example.org', '10.0.0.25', '128.0.0.1', '127.0.0.1.example.org', 'localhost.example.org', '127.0.0.256', '[::ffff:127.0.0.1]', '[2001:db8::25]']) {
      expect(isLoopbackHost(host), host).toBe(false);
      expect(planSmtpConnection(`smtp://user:pass@${host}:587`).tls, host).toBe('starttls-required');
    }
    expect(planSmtpConnection('smtps://user:pass@mail.example.org:465')).toEqual({ tls: 'implicit', url: 'smtps://user:pass@mail.example.org:465', host: 'mail.example.org' });
    expect(planSmtpConnection('smtps://127.0.0.1:465').tls).toBe('implicit');
  });

  it('opts out only with ?tls=optional, which does not reach nodemailer', () => {
    expect(planSmtpConnection('smtp://relay.lan:25?tls=optional')).toEqual({ tls: 'opportunistic', url: 'smtp://relay.lan:25', host: 'relay.lan' });
    expect(planSmtpConnection('smtp://u:p%40ss@relay.lan:25?name=signet&tls=optional').url).toBe('smtp://u:p%40ss@relay.lan:25?name=signet');
    // Without the opt-out the URL is handed on exactly as written.
    expect(planSmtpConnection('smtp://u:p%40ss@Relay.lan:587?name=signet').url).toBe('smtp://u:p%40ss@Relay.lan:587?name=signet');
  });

  it('refuses other values, the opt-out on smtps:// and nodemailer’s own TLS switches, which would override ours', () => {
    const refusals: [string, RegExp][] = [
      ['smtp://relay.lan:25?tls=off', /\?tls= takes only "optional"/],
      ['smtp://relay.lan:25?tls=optional&tls=no', /\?tls= takes only "optional"/],
      ['smtps://relay.lan:465?tls=optional', /applies to smtp:\/\/ only/],
      ['smtp://relay.lan:25?ignoreTLS=true', /must not set "ignoreTLS"/],
      ['smtp://relay.lan:25?requireTLS=false', /must not set "requireTLS"/],
      ['smtp://127.0.0.1:25?secure=false', /must not set "secure"/],
      ['smtp://relay.lan:25?opportunisticTLS=true', /must not set "opportunisticTLS"/],
      ['http://relay.lan:25', /must start with smtp:\/\/ or smtps:\/\//],
    ];
    for (const [url, reason] of refusals) {
      expect(() => planSmtpConnection(url), url).toThrow(SmtpUrlError);
      expect(() => planSmtpConnection(url), url).toThrow(reason);
    }
  });
});

describe('SMTP_URL', () => {
  it('takes smtps://, smtp:// with STARTTLS, the loopback and the explicit opt-out', () => {
    for (const url of ['smtps://u:p@mail.example.org:465', 'smtp://u:p@mail.example.org:587', 'smtp://127.0.0.1:2525', 'smtp://relay.lan:25?tls=optional']) {
      expect(loadSettings({ SMTP_URL: url }).SMTP_URL, url).toBe(url);
    }
  });

  it('refuses a contradictory TLS setting at start, naming SMTP_URL and never echoing the password', () => {
    for (const url of ['smtp://u:hunter2@mail.example.org:25?tls=off', 'smtp://u:hunter2@mail.example.org:25?ignoreTLS=true']) {
      const problems = settingsProblems({ SMTP_URL: url });
      expect(problems, url).toEqual([{ setting: 'SMTP_URL', message: expect.any(String) }]);
      expect(JSON.stringify(problems)).not.toContain('hunter2');
    }
  });

  it('reaches the transport: STARTTLS required to a remote relay, optional with the opt-out or to the loopback', () => {
    // Building a transport connects to nothing.
    const cases = [
      ['smtp://u:p@mail.example.org:587', 'starttls-required'],
      ['smtp://u:p@mail.example.org:25?tls=optional', 'opportunistic'],
      ['smtps://u:p@mail.example.org', 'implicit'],
      ['smtp://localhost:25', 'opportunistic'],
    ] as const;
    for (const [url, tls] of cases) {
      const transport = createMailTransport(loadSettings({ SMTP_URL: url }));
      closers.push(() => transport.close());
      expect(transport, url).toBeInstanceOf(SmtpTransport);
      expect((transport as SmtpTransport).tls, url).toBe(tls);
    }
    for (const [url, tls] of [['smtp://127.0.0.1:25', 'starttls-required'], ['smtps://127.0.0.1:465', 'implicit']] as const) {
      const transport = new SmtpTransport({ url, requireTls: true });
      closers.push(() => transport.close());
      expect(transport.tls, url).toBe(tls);
    }
  });
});

describe('SmtpTransport over real SMTP servers on 127.0.0.1', () => {
  let certDir: string;
  let tls: { key: string; cert: string };
  beforeAll(() => {
    certDir = mkdtempSync(join(tmpdir(), 'signet-smtp-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'),
    ], { stdio: 'ignore' });
    tls = { key: readFileSync(join(certDir, 'key.pem'), 'utf8'), cert: readFileSync(join(certDir, 'cert.pem'), 'utf8') };
  });
  afterAll(() => rmSync(certDir, { recursive: true, force: true }));

  it('when STARTTLS is required and the server does not offer it, sends nothing and says SMTP_URL', async () => {
    const server = await startSmtpServer();
    closers.push(() => server.close());
    // requireTls only tightens the URL's rule: here it makes the loopback behave as a remote relay would.
    const transport = new SmtpTransport({ url: server.url, requireTls: true, connectionTimeoutMs: 5_000, greetingTimeoutMs: 5_000 });
    closers.push(() => transport.close());

    const error = await transport.send(message('plain')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailSendError);
    expect(error).toMatchObject({ code: 'ETLS', permanent: false });
    expect((error as MailSendError).message).toMatch(/^STARTTLS: 5\d\d .*SMTP_URL needs smtps:\/\/ or a relay that offers STARTTLS, or \?tls=optional/);
    expect(server.dataCount()).toBe(0);
    expect(server.received).toEqual([]);
  });

  it('when STARTTLS is required and offered, the message goes over TLS', async () => {
    const server = await startSmtpServer({ tls });
    closers.push(() => server.close());
    // The test's certificate is self-signed; this only skips its verification, not the encryption.
    const transport = new SmtpTransport({ url: `${server.url}?tls.rejectUnauthorized=false`, requireTls: true });
    closers.push(() => transport.close());

    await transport.send(message('secure'));
    expect(server.received).toHaveLength(1);
    expect(server.received[0]).toMatchObject({ rcptTo: ['ada@example.com'], secure: true });
  });

  it('to the loopback without the requirement, it upgrades when offered and sends in plain text otherwise', async () => {
    const offering = await startSmtpServer({ tls });
    closers.push(() => offering.close());
    const upgraded = new SmtpTransport({ url: `${offering.url}?tls.rejectUnauthorized=false` });
    closers.push(() => upgraded.close());
    await upgraded.send(message('upgraded'));
    expect(offering.received[0]).toMatchObject({ secure: true });

    const plain = await startSmtpServer();
    closers.push(() => plain.close());
    const transport = new SmtpTransport({ url: plain.url });
    closers.push(() => transport.close());
    await transport.send(message('loopback'));
    expect(plain.received[0]).toMatchObject({ secure: false });
  });
});
