import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings, SettingsError } from '../../src/config.js';
import { createMailTransport } from '../../src/entry/node.js';
import { newMessageId } from '../../src/mail/messages.js';
import { mailFrom } from '../mail/helpers/outbox.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

/** A real SMTP server that counts the connections opened to it and the messages accepted. */
async function countingConnections() {
  let connections = 0;
  let accepted = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onData(stream, _session, callback) {
      stream.on('end', () => {
        accepted++;
        callback(null);
      });
      stream.resume();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, connections: () => connections, accepted: () => accepted };
}

describe('mail settings', () => {
  it('defaults: no rate cap, 5 pooled SMTP connections, 1000 messages per connection', () => {
    expect(loadSettings({})).toMatchObject({ MAIL_RATE_PER_SECOND: 0, SMTP_POOL_SIZE: 5, SMTP_MAX_MESSAGES: 1000 });
    expect(loadSettings({ MAIL_RATE_PER_SECOND: '20', SMTP_POOL_SIZE: '2', SMTP_MAX_MESSAGES: '50' })).toMatchObject({
      MAIL_RATE_PER_SECOND: 20,
      SMTP_POOL_SIZE: 2,
      SMTP_MAX_MESSAGES: 50,
    });
  });

  it('names each bad value', () => {
    try {
      loadSettings({ MAIL_RATE_PER_SECOND: '-1', SMTP_POOL_SIZE: '0', SMTP_MAX_MESSAGES: 'lots' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SettingsError);
      expect((error as SettingsError).problems.map((problem) => problem.setting).sort()).toEqual(['MAIL_RATE_PER_SECOND', 'SMTP_MAX_MESSAGES', 'SMTP_POOL_SIZE']);
    }
  });

  it('SMTP_POOL_SIZE and SMTP_MAX_MESSAGES reach the pool: one connection, replaced after every 2 messages', async () => {
    const server = await countingConnections();
    const transport = createMailTransport(loadSettings({ SMTP_URL: server.url, SMTP_POOL_SIZE: '1', SMTP_MAX_MESSAGES: '2' }));
    closers.push(() => transport.close());
    for (let i = 0; i < 5; i++) {
      await transport.send({
        to: { address: `r${i}@example.org` },
        subject: 'Hello',
        text: 'Body',
        html: '<p>Body</p>',
        from: mailFrom,
        messageId: newMessageId(mailFrom, `m${i}`),
      });
    }
    expect(server.accepted()).toBe(5);
    expect(server.connections()).toBe(3);
  });
});
