/**
 * Mail throughput: the outbox sender draining to an SMTP server on 127.0.0.1,
 * beside raw pooled nodemailer sending to the same server in the same run.
 *
 *   npx tsx bench/mail.ts [--messages 20000] [--connections 5] [--concurrency 100] [--batch 500]
 *                         [--server smtp-sink|node] [--processes 1] [--part both|raw|outbox] [--rounds 3]
 *                         [--cpu-prof DIR]   (a V8 CPU profile of each measuring child, written to DIR)
 *
 * The SMTP server runs in a child process and only counts what it accepted:
 * Postfix's `smtp-sink` (C, a few per cent of a core; the default when
 * /usr/sbin/smtp-sink exists, `apt-get install postfix`) or the npm
 * smtp-server (JavaScript: on a 2-core machine it takes most of a core from
 * the client being measured). (a) sends N composed confirmation emails
 * straight through nodemailer pools; (b) inserts N `{ compose: 'confirmation' }`
 * outbox rows (what a signature queues) into a temp SQLite database and times
 * OutboxSenders with SmtpTransports draining them all. With `--processes P`,
 * each part runs in P child processes at once (P pools of `--connections`;
 * for (b), P senders sharing the database by their leases, as P `signet
 * worker` processes would). The N messages of each part are sent in --rounds
 * slices taken in turn (a, b, a, b, …), so a neighbour's load or the machine's
 * drift weighs on both parts alike; each part's rate is its messages over its
 * summed time. Checks that the server counted exactly N for each part and that
 * every row ends `sent`.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { SqliteDatabase } from '../src/db/node/better-sqlite3.js';
import { outbox, type StoredOutboxMessage } from '../src/db/schema.js';
import { systemClock } from '../src/lib/clock.js';
import { newId } from '../src/lib/ids.js';
import { Keyring, newNonce } from '../src/lib/keyring.js';
import { silentLogger } from '../src/lib/logger.js';
import { composeConfirmationEmail, newMessageId, type ConfirmationEmailInput } from '../src/mail/messages.js';
import { OutboxSender } from '../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../src/mail/node/smtp-transport.js';
import { prepareOutgoingMail } from '../src/mail/transports/transport.js';
import { toNodemailerFields } from '../src/mail/node/nodemailer-fields.js';

type ServerRequest = { type: 'count' };
type ServerReply = { type: 'listening'; port: number } | { type: 'count'; accepted: number };

const here = dirname(fileURLToPath(import.meta.url));
// SMTP_SINK: smtp-sink elsewhere, e.g. unpacked from the postfix package without installing it (its libraries then on LD_LIBRARY_PATH).
const smtpSinkPath = process.env.SMTP_SINK ?? '/usr/sbin/smtp-sink';

type SmtpServerHandle = { name: string; url: string; count: () => Promise<number>; stop: () => void };

/** The node server's child: counts accepted messages, answers `count` over IPC. */
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

async function startNodeSmtpServer(): Promise<SmtpServerHandle> {
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
    name: 'smtp-server (npm, JavaScript)',
    url: `smtp://127.0.0.1:${port}`,
    count: () =>
      new Promise<number>((resolve) => {
        replies.push((reply) => resolve(reply.type === 'count' ? reply.accepted : -1));
        child.send({ type: 'count' } satisfies ServerRequest);
      }),
    stop: () => child.disconnect(),
  };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Postfix's smtp-sink: `-c` prints a running `mesg=N` counter of accepted messages. */
async function startSmtpSink(): Promise<SmtpServerHandle> {
  const port = await freePort();
  // As root it drops privileges to this user.
  const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child = spawn(smtpSinkPath, ['-c', ...user, `127.0.0.1:${port}`, '1000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.on('exit', () => child.kill('SIGKILL'));
  let accepted = 0;
  let tail = '';
  child.stdout.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-200);
    const counters = [...tail.matchAll(/mesg=(\d+)/g)];
    const last = counters.at(-1);
    if (last) accepted = Number(last[1]);
  });
  // Listening once a connection succeeds.
  for (let attempt = 0; ; attempt++) {
    const connected = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.end(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (connected) break;
    if (attempt > 100) throw new Error('smtp-sink did not start');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { name: 'smtp-sink (Postfix, C)', url: `smtp://127.0.0.1:${port}`, count: async () => accepted, stop: () => child.kill('SIGTERM') };
}

const from = 'Signet <no-reply@signet.example>';

// The outbox path derives each link's token with the key as it sends (as in production); the raw path gets the link ready-made.
const links = { publicUrl: 'https://signet.example', keys: await Keyring.create(randomBytes(32).toString('base64url')) };

function confirmationInput(index: number): ConfirmationEmailInput {
  return {
    locale: index % 2 === 0 ? 'ja' : 'en',
    nonce: newNonce(),
    campaignTitle: 'Bench campaign',
    expiresAt: Date.UTC(2026, 11, 1),
    timeZone: 'Asia/Tokyo',
  };
}

function composedConfirmation(index: number) {
  const confirmUrl = `https://signet.example/confirm/tok-${index}-0123456789abcdefghijklmnopqrstuv`;
  return composeConfirmationEmail(confirmationInput(index), { confirmUrl, to: `supporter${index}@example.org` });
}

function composedMail(index: number) {
  return toNodemailerFields(prepareOutgoingMail({ ...composedConfirmation(index), from, messageId: newMessageId(from, newId()) }));
}

type Measured = { name: string; messages: number; seconds: number; emailsPerSecond: number; serverCounted: number };

async function waitForCount(count: () => Promise<number>, expected: number): Promise<number> {
  // The client resolves on the 250 reply; the server's counter may lag a moment, so ask until it settles.
  let seen = await count();
  for (let i = 0; i < 100 && seen < expected; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    seen = await count();
  }
  return seen;
}

/** Warm-up sends (JIT, pool connections), before the clock starts. */
const warmUpMessages = 300;

let cpuProfileDir: string | undefined;

type ChildJob =
  | { part: 'raw'; url: string; from: number; to: number; connections: number }
  | { part: 'outbox'; url: string; databasePath: string; connections: number; concurrency: number; batchSize: number };
type ChildMessage = { type: 'ready' } | { type: 'done'; sent: number };

/** One measuring process: warms up, says ready, waits for `go`, does its share, says done. */
async function runChild(job: ChildJob): Promise<void> {
  const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
  if (job.part === 'raw') {
    const mails = Array.from({ length: job.to - job.from }, (_, i) => composedMail(job.from + i));
    const transporter = nodemailer.createTransport({ pool: true, url: job.url, maxConnections: job.connections, maxMessages: 1000, logger: false });
    await Promise.all(Array.from({ length: warmUpMessages }, (_, i) => transporter.sendMail(composedMail(i))));
    process.send!({ type: 'ready' } satisfies ChildMessage);
    await go;
    await Promise.all(mails.map((mail) => transporter.sendMail(mail)));
    transporter.close();
    process.send!({ type: 'done', sent: mails.length } satisfies ChildMessage);
  } else {
    const database = new SqliteDatabase({ path: job.databasePath, migrationsFolder: join(here, '../migrations') });
    const transport = new SmtpTransport({ url: job.url, maxConnections: job.connections });
    await Promise.all(Array.from({ length: warmUpMessages }, (_, i) => transport.send({ ...composedConfirmation(i), from, messageId: newMessageId(from, newId()) })));
    const sender = new OutboxSender({ database, transport, clock: systemClock, logger: silentLogger, from, links, batchSize: job.batchSize, concurrency: job.concurrency });
    // Whether any row is left, not how many: counting 20,000 pending rows every 5 ms cost the sending process a tenth of its CPU.
    const pending = database.sqlite.prepare("select count(*) as n from (select 1 from outbox where status = 'pending' limit 1)");
    process.send!({ type: 'ready' } satisfies ChildMessage);
    await go;
    sender.start();
    // Done when no row is left to claim (other processes may hold the last ones) and this sender is idle.
    // The database is asked only while this sender is idle: a read every 5 ms beside the sends cost the process about 1 % of its CPU.
    while (sender.stats().inFlight > 0 || (pending.get() as { n: number }).n > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await sender.stop();
    await transport.close();
    await database.close();
    process.send!({ type: 'done', sent: sender.stats().sent } satisfies ChildMessage);
  }
  process.disconnect();
}

/** Starts the children, waits until all are warm, then times from `go` to the last `done`. */
async function timeChildren(jobs: ChildJob[], server: SmtpServerHandle): Promise<{ seconds: number; sent: number; counted: number }> {
  // --cpu-prof DIR: each child writes a V8 CPU profile there (open in Chrome DevTools or speedscope).
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const children = jobs.map((job) =>
    fork(join(here, 'mail.ts'), ['--child', JSON.stringify(job)], { execArgv: ['--import', 'tsx', ...profile], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));
  const next = (child: ChildProcess, type: ChildMessage['type']) =>
    new Promise<ChildMessage>((resolve, reject) => {
      const onMessage = (message: ChildMessage) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        resolve(message);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`bench child exited (${code}) before ${type}`)));
    });
  await Promise.all(children.map((child) => next(child, 'ready')));
  const before = await server.count();
  const started = performance.now();
  const finished = children.map((child) => next(child, 'done'));
  children.forEach((child) => child.send('go'));
  const done = await Promise.all(finished);
  const seconds = (performance.now() - started) / 1000;
  const sent = done.reduce((sum, message) => sum + (message.type === 'done' ? message.sent : 0), 0);
  const counted = (await waitForCount(server.count, before + sent)) - before;
  return { seconds, sent, counted };
}

/** (a) nodemailer pools with the SmtpTransport's settings, every message handed over at once. */
async function measureRaw(server: SmtpServerHandle, messages: number, connections: number, processes: number): Promise<Measured> {
  const share = Math.ceil(messages / processes);
  const jobs: ChildJob[] = Array.from({ length: processes }, (_, p) => ({
    part: 'raw',
    url: server.url,
    from: p * share,
    to: Math.min(messages, (p + 1) * share),
    connections,
  }));
  const { seconds, counted } = await timeChildren(jobs, server);
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

/** (b) OutboxSenders with SmtpTransports draining N rows, each started as `signet worker` starts it. */
async function measureOutbox(
  server: SmtpServerHandle,
  options: { messages: number; connections: number; concurrency: number; batchSize: number; processes: number },
): Promise<Measured & { rowsSent: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'signet-bench-mail-'));
  const databasePath = join(dir, 'signet.db');
  const database = new SqliteDatabase({ path: databasePath, migrationsFolder: join(here, '../migrations') });
  await insertRows(database, options.messages);
  const jobs: ChildJob[] = Array.from({ length: options.processes }, () => ({
    part: 'outbox',
    url: server.url,
    databasePath,
    connections: options.connections,
    concurrency: options.concurrency,
    batchSize: options.batchSize,
  }));
  const { seconds, counted } = await timeChildren(jobs, server);
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

/** Slices of one part as one: their messages over their summed time. */
function combineSlices(name: string, slices: Measured[]): Measured {
  const messages = slices.reduce((sum, slice) => sum + slice.messages, 0);
  const seconds = slices.reduce((sum, slice) => sum + slice.seconds, 0);
  return { name, messages, seconds, emailsPerSecond: Math.round(messages / seconds), serverCounted: slices.reduce((sum, slice) => sum + slice.serverCounted, 0) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'boolean', default: false },
      child: { type: 'string' },
      messages: { type: 'string', default: '20000' },
      connections: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '100' },
      batch: { type: 'string', default: '500' },
      server: { type: 'string', default: existsSync(smtpSinkPath) ? 'smtp-sink' : 'node' },
      processes: { type: 'string', default: '1' },
      // Only one part, e.g. to profile it alone with node --cpu-prof.
      part: { type: 'string', default: 'both' },
      rounds: { type: 'string', default: '3' },
      'cpu-prof': { type: 'string' },
    },
  });
  if (values.serve) return serveSmtp();
  if (values.child) return runChild(JSON.parse(values.child) as ChildJob);
  cpuProfileDir = values['cpu-prof'];
  const messages = Number(values.messages);
  const connections = Number(values.connections);
  const concurrency = Number(values.concurrency);
  const batchSize = Number(values.batch);
  const processes = Number(values.processes);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds is a whole number ≥ 1');
  if (values.server !== 'node' && values.server !== 'smtp-sink') throw new Error('--server is smtp-sink or node');

  const server = values.server === 'smtp-sink' ? await startSmtpSink() : await startNodeSmtpServer();
  const skipped = { messages, seconds: 0, emailsPerSecond: 0, serverCounted: messages };
  const rawSlices: Measured[] = [];
  const outboxSlices: (Measured & { rowsSent: number })[] = [];
  for (let round = 0; round < rounds; round++) {
    // The last slice takes what the others left: N in all, whatever the division.
    const slice = round < rounds - 1 ? Math.floor(messages / rounds) : messages - Math.floor(messages / rounds) * (rounds - 1);
    if (values.part !== 'outbox') rawSlices.push(await measureRaw(server, slice, connections, processes));
    if (values.part !== 'raw') outboxSlices.push(await measureOutbox(server, { messages: slice, connections, concurrency, batchSize, processes }));
  }
  const raw = values.part === 'outbox' ? { name: '(a) skipped', ...skipped } : combineSlices('(a) raw nodemailer pool', rawSlices);
  const drained =
    values.part === 'raw'
      ? { name: '(b) skipped', ...skipped, rowsSent: messages }
      : { ...combineSlices('(b) outbox → SMTP', outboxSlices), rowsSent: outboxSlices.reduce((sum, slice) => sum + slice.rowsSent, 0) };
  server.stop();

  const ratio = drained.emailsPerSecond / raw.emailsPerSecond;
  console.log(`SMTP server: ${server.name}; ${processes} process(es) per part, ${connections} connection(s) each`);
  console.table([raw, drained].map(({ name, messages: n, seconds, emailsPerSecond, serverCounted }) => ({ name, messages: n, seconds: seconds.toFixed(2), emailsPerSecond, serverCounted })));
  console.log(`outbox / raw: ${(ratio * 100).toFixed(1)} %`);
  console.log(JSON.stringify({ server: values.server, processes, messages, rounds, connections, concurrency, batchSize, raw, outbox: drained, ratio: Number(ratio.toFixed(3)), node: process.version }));

  const problems: string[] = [];
  if (raw.serverCounted !== messages) problems.push(`raw: server counted ${raw.serverCounted}, expected ${messages}`);
  if (drained.serverCounted !== messages) problems.push(`outbox: server counted ${drained.serverCounted}, expected ${messages}`);
  if (drained.rowsSent !== messages) problems.push(`outbox: ${drained.rowsSent} rows sent, expected ${messages}`);
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  if (drained.emailsPerSecond < 1500 || ratio < 0.85) console.warn('Below target: ≥ 1,500 emails/s and ≥ 85 % of raw (issue #19)');
}

await main();
