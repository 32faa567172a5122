/**
 * Mail throughput: the outbox sender draining to an SMTP server on 127.0.0.1,
 * beside raw pooled nodemailer sending to the same server in the same run.
 *
 *   npx tsx bench/mail.ts [--messages 20000] [--connections 5] [--concurrency 50] [--batch 500] [--part both|raw|outbox]
 *
 * The SMTP server (smtp-server, no TLS, no AUTH) runs in a child process; it
 * discards every body and only counts the messages it accepted. (a) sends N
 * composed confirmation emails straight through a nodemailer pool; (b) inserts
 * N `{ compose: 'confirmation' }` outbox rows (what a signature queues) into a
 * temp SQLite database and times an OutboxSender with an SmtpTransport
 * draining them all. Checks that the server counted exactly N for each part
 * and that every row ends `sent`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { SqliteDatabase } from '../src/db/better-sqlite3.js';
import { outbox, type StoredOutboxMessage } from '../src/db/schema.js';
import { systemClock } from '../src/lib/clock.js';
import { newId } from '../src/lib/ids.js';
import { silentLogger } from '../src/lib/logger.js';
import { composeConfirmationEmail, newMessageId, type ConfirmationEmailInput } from '../src/mail/messages.js';
import { OutboxSender } from '../src/mail/outbox-sender.js';
import { SmtpTransport } from '../src/mail/smtp-transport.js';
import { prepareOutgoingMail, toNodemailerFields } from '../src/mail/transport.js';

type ServerRequest = { type: 'count' };
type ServerReply = { type: 'listening'; port: number } | { type: 'count'; accepted: number };

const here = dirname(fileURLToPath(import.meta.url));

/** The child: counts accepted messages, answers `count` over IPC. */
async function serveSmtp(): Promise<void> {
  let accepted = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    // Many pooled connections at once are the point of the benchmark.
    maxClients: 1000,
    onData(stream, _session, callback) {
      stream.on('end', () => {
        accepted++;
        callback(null);
      });
      stream.resume();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  process.on('message', (request: ServerRequest) => {
    if (request.type === 'count') process.send!({ type: 'count', accepted } satisfies ServerReply);
  });
  process.on('disconnect', () => server.close(() => process.exit(0)));
  process.send!({ type: 'listening', port } satisfies ServerReply);
}

async function startServerChild(): Promise<{ url: string; count: () => Promise<number>; stop: () => void }> {
  const child: ChildProcess = fork(join(here, 'mail.ts'), ['--serve'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // Never leave the server behind, whatever happens to the bench.
  process.on('exit', () => child.kill('SIGKILL'));
  const replies: Array<(reply: ServerReply) => void> = [];
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`SMTP server exited (${code}) before listening`)));
    child.on('message', (reply: ServerReply) => {
      if (reply.type === 'listening') resolve(reply.port);
      else replies.shift()?.(reply);
    });
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    count: () =>
      new Promise<number>((resolve) => {
        replies.push((reply) => resolve(reply.type === 'count' ? reply.accepted : -1));
        child.send({ type: 'count' } satisfies ServerRequest);
      }),
    stop: () => child.disconnect(),
  };
}

const from = 'Signet <no-reply@signet.example>';

function confirmationInput(index: number): ConfirmationEmailInput {
  return {
    locale: index % 2 === 0 ? 'ja' : 'en',
    supporterName: index % 2 === 0 ? `支援者 ${index}` : `Supporter ${index}`,
    email: `supporter${index}@example.org`,
    campaignTitle: 'Bench campaign',
    confirmUrl: `https://signet.example/confirm/tok-${index}-0123456789abcdefghijklmnopqrstuv`,
    expiresAt: Date.UTC(2026, 11, 1),
    timeZone: 'Asia/Tokyo',
  };
}

type Measured = { name: string; messages: number; seconds: number; emailsPerSecond: number; serverCounted: number };

async function waitForCount(count: () => Promise<number>, expected: number): Promise<number> {
  // The client resolves on the 250 reply; the child's counter is already up by then, but ask until it settles.
  let seen = await count();
  for (let i = 0; i < 50 && seen < expected; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    seen = await count();
  }
  return seen;
}

/** (a) nodemailer's pool with the SmtpTransport's settings, every message handed over at once. */
async function measureRaw(url: string, count: () => Promise<number>, messages: number, connections: number): Promise<Measured> {
  const mails = Array.from({ length: messages }, (_, index) => {
    const id = newId();
    return toNodemailerFields(prepareOutgoingMail({ ...composeConfirmationEmail(confirmationInput(index)), from, messageId: newMessageId(from, id) }));
  });
  const transporter = nodemailer.createTransport({ pool: true, url, maxConnections: connections, maxMessages: 1000, logger: false });
  const before = await count();
  const started = performance.now();
  await Promise.all(mails.map((mail) => transporter.sendMail(mail)));
  const seconds = (performance.now() - started) / 1000;
  transporter.close();
  const counted = (await waitForCount(count, before + messages)) - before;
  return { name: '(a) raw nodemailer pool', messages, seconds, emailsPerSecond: Math.round(messages / seconds), serverCounted: counted };
}

async function insertRows(database: SqliteDatabase, messages: number): Promise<void> {
  const now = Date.now();
  const chunk = 1000;
  for (let offset = 0; offset < messages; offset += chunk) {
    const rows = Array.from({ length: Math.min(chunk, messages - offset) }, (_, i) => {
      const index = offset + i;
      const id = newId(now);
      const message: StoredOutboxMessage = { compose: 'confirmation', input: confirmationInput(index) };
      return { id, kind: 'confirmation', recipient: `supporter${index}@example.org`, messageId: newMessageId(from, id), message, nextAttemptAt: now, createdAt: now };
    });
    await database.db.insert(outbox).values(rows);
  }
}

/** (b) an OutboxSender with an SmtpTransport draining N rows, started as the Node entry point starts it. */
async function measureOutbox(
  url: string,
  count: () => Promise<number>,
  options: { messages: number; connections: number; concurrency: number; batchSize: number },
): Promise<Measured & { rowsSent: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'signet-bench-mail-'));
  const database = new SqliteDatabase({ path: join(dir, 'signet.db'), migrationsFolder: join(here, '../migrations') });
  await insertRows(database, options.messages);
  const transport = new SmtpTransport({ url, maxConnections: options.connections });
  const sender = new OutboxSender({
    database,
    transport,
    clock: systemClock,
    logger: silentLogger,
    from,
    batchSize: options.batchSize,
    concurrency: options.concurrency,
  });
  const before = await count();
  const started = performance.now();
  sender.start();
  while (sender.stats().sent + sender.stats().failed < options.messages) await new Promise((resolve) => setTimeout(resolve, 5));
  const seconds = (performance.now() - started) / 1000;
  await sender.stop();
  await transport.close();
  const counted = (await waitForCount(count, before + options.messages)) - before;
  const [sent] = database.sqlite.prepare("select count(*) as n from outbox where status = 'sent'").all() as { n: number }[];
  await database.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    name: '(b) outbox → SMTP',
    messages: options.messages,
    seconds,
    emailsPerSecond: Math.round(options.messages / seconds),
    serverCounted: counted,
    rowsSent: sent!.n,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'boolean', default: false },
      messages: { type: 'string', default: '20000' },
      connections: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '50' },
      batch: { type: 'string', default: '500' },
      // Only one part, e.g. to profile it alone with node --cpu-prof.
      part: { type: 'string', default: 'both' },
    },
  });
  if (values.serve) return serveSmtp();
  const messages = Number(values.messages);
  const connections = Number(values.connections);
  const concurrency = Number(values.concurrency);
  const batchSize = Number(values.batch);

  const server = await startServerChild();
  // A short warm-up (JIT), not counted.
  await measureRaw(server.url, server.count, 500, connections);
  const skipped = { messages, seconds: 0, emailsPerSecond: 0, serverCounted: messages };
  const raw = values.part === 'outbox' ? { name: '(a) skipped', ...skipped } : await measureRaw(server.url, server.count, messages, connections);
  const drained =
    values.part === 'raw'
      ? { name: '(b) skipped', ...skipped, rowsSent: messages }
      : await measureOutbox(server.url, server.count, { messages, connections, concurrency, batchSize });
  server.stop();

  const ratio = drained.emailsPerSecond / raw.emailsPerSecond;
  console.table([raw, drained].map(({ name, messages: n, seconds, emailsPerSecond, serverCounted }) => ({ name, messages: n, seconds: seconds.toFixed(2), emailsPerSecond, serverCounted })));
  console.log(`outbox / raw: ${(ratio * 100).toFixed(1)} %`);
  console.log(JSON.stringify({ messages, connections, concurrency, batchSize, raw, outbox: drained, ratio: Number(ratio.toFixed(3)), node: process.version }));

  const problems: string[] = [];
  if (raw.serverCounted !== messages) problems.push(`raw: server counted ${raw.serverCounted}, expected ${messages}`);
  if (drained.serverCounted !== messages) problems.push(`outbox: server counted ${drained.serverCounted}, expected ${messages}`);
  if (drained.rowsSent !== messages) problems.push(`outbox: ${drained.rowsSent} rows sent, expected ${messages}`);
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  if (drained.emailsPerSecond < 1500 || ratio < 0.75) console.warn('Below target: ≥ 1,500 emails/s and ≥ 75 % of raw');
}

await main();
