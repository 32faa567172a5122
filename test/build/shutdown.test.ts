/**
 * Issue #20: `kill -TERM` of the `npm start` process stops the compiled server within 5 s,
 * gracefully: the request in flight is answered, the email being sent is finished and its
 * outbox lease handed back, and no process is left behind. The `signet` bin is the server's own
 * process, so SIGTERM or SIGINT sent to it (systemd, Ctrl-C) stops it the same way.
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, describe, expect, it } from 'vitest';
import { putTestOrganisation } from '../helpers/organisation.js';
import { ensureBuilt, productionTree, startListening, type RunningCommand } from '../helpers/production-tree.js';

const adminToken = 'shutdown-admin-token-0123456789abcdef';

/** The pid and its descendants, from /proc. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // It ended while the table was read.
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** Whether a new listener can take the port, i.e. the stopped server let it go. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('SIGTERM and SIGINT to npm start and to the signet bin (issue #20)', () => {
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('stops within 5 s: the request in flight answered, the email in flight sent, its lease handed back, no process left', async () => {
    await ensureBuilt();
    const tree = productionTree();
    cleanups.push(() => tree.cleanup());
    const dir = mkdtempSync(join(tmpdir(), 'signet-shutdown-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

    // An SMTP server that takes 2 s to accept each message: SIGTERM comes while one is in flight.
    let mailInFlight!: () => void;
    const sending = new Promise<void>((resolve) => (mailInFlight = resolve));
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => {
          mailInFlight();
          setTimeout(() => callback(null), 2_000);
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => smtp.close(() => resolve())));
    const smtpPort = (smtp.server.address() as { port: number }).port;

    const databasePath = join(dir, 'signet.db');
    const server: RunningCommand = await startListening('npm', ['start', '--silent'], tree.dir, {
      HOST: '127.0.0.1',
      PORT: '0',
      PUBLIC_URL: 'http://signet.example',
      DATA_DIR: dir,
      DATABASE_PATH: databasePath,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      ADMIN_TOKEN: adminToken,
      SIGN_RATE_LIMIT: 'off',
      CONFIRM_EMAILS_PER_MINUTE: 'off',
    });
    const serverProcesses = processTree(server.child.pid!);
    cleanups.push(() => serverProcesses.forEach((pid) => alive(pid) && process.kill(pid, 'SIGKILL')));
    // npm, its shell if any, and one node process: the server is not a second wrapper.
    expect(serverProcesses.length).toBeLessThanOrEqual(3);

    await putTestOrganisation(server.url, adminToken);
    const organiser = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    expect((await fetch(`${server.url}/api/v1/campaigns`, { method: 'POST', headers: organiser, body: JSON.stringify({ slug: 'shutdown', title: 'Shutdown', locale: 'en', timeZone: 'UTC' }) })).status).toBe(201);
    expect((await fetch(`${server.url}/api/v1/campaigns/shutdown`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'open' }) })).status).toBe(200);
    const signed = await fetch(`${server.url}/api/v1/campaigns/shutdown/signatures`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'First Person', email: 'first@example.org', country: 'JP' }) });
    expect(signed.status).toBe(202);

    // A request whose body is still coming when the signal arrives.
    const { port } = new URL(server.url);
    const body = JSON.stringify({ name: 'Second Person', email: 'second@example.org', country: 'JP' });
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const answered = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`POST /api/v1/campaigns/shutdown/signatures HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`);

    await sending;
    const signalled = performance.now();
    process.kill(server.child.pid!, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // write, not end: a half-closed socket is a request abandoned, which Node's server aborts.
    socket.write(body.slice(10));
    await answered;
    expect(answer).toMatch(/^HTTP\/1\.1 202 /);

    const code = await server.exited;
    expect(performance.now() - signalled).toBeLessThan(5_000);
    expect(code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(serverProcesses.filter(alive)).toEqual([]);
    expect(await portIsFree(Number(port))).toBe(true);
    expect(server.stdout()).toContain('"event":"shutting down","signal":"SIGTERM"');

    const database = new BetterSqlite3(databasePath, { readonly: true });
    try {
      const rows = database.prepare('SELECT recipient, status, locked_by AS lockedBy FROM outbox ORDER BY created_at').all() as { recipient: string; status: string; lockedBy: string | null }[];
      expect(rows.find((row) => row.recipient === 'first@example.org')).toEqual({ recipient: 'first@example.org', status: 'sent', lockedBy: null });
      expect(rows.filter((row) => row.lockedBy !== null)).toEqual([]);
    } finally {
      database.close();
    }
  }, 90_000);

  it.each(['SIGTERM', 'SIGINT'] as const)('the signet bin is the server itself: %s stops it with exit 0 and frees the port', async (signal) => {
    await ensureBuilt();
    const tree = productionTree();
    cleanups.push(() => tree.cleanup());
    const dir = mkdtempSync(join(tmpdir(), 'signet-shutdown-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

    const server = await startListening(join(tree.dir, 'bin/signet.js'), ['serve'], tree.dir, {
      HOST: '127.0.0.1',
      PORT: '0',
      PUBLIC_URL: 'http://signet.example',
      DATA_DIR: dir,
      ADMIN_TOKEN: adminToken,
    });
    const serverProcesses = processTree(server.child.pid!);
    cleanups.push(() => serverProcesses.forEach((pid) => alive(pid) && process.kill(pid, 'SIGKILL')));
    // No wrapper: the pid a service manager or a terminal signals is the one that listens.
    expect(serverProcesses).toEqual([server.child.pid]);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    const signalled = performance.now();
    process.kill(server.child.pid!, signal);
    expect(await server.exited).toBe(0);
    expect(performance.now() - signalled).toBeLessThan(5_000);
    expect(server.stdout()).toContain(`"event":"shutting down","signal":"${signal}"`);
    expect(await portIsFree(Number(new URL(server.url).port))).toBe(true);
  }, 60_000);
});
