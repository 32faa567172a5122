import type autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * The real `signet serve` in a child process on 127.0.0.1 (a free port),
 * ready once /healthz answers. `env` adds settings (DATABASE_PATH, …).
 */
export async function startBenchServer(env: Record<string, string>): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []), '--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exited = false;
  child.on('exit', () => (exited = true));
  // Never leave the server behind, whatever happens to the bench.
  process.on('exit', () => child.kill('SIGKILL'));
  // LOG_LEVEL=warn keeps request logging out of the measurement, so readiness is polled.
  for (;;) {
    if (exited) throw new Error('server exited before it was ready');
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The organisation the benchmarks' letters and signing pages speak for: a new installation refuses both until one is saved. */
export const benchOrganisation = {
  name: 'Refugee Rights Network Tokyo',
  postalAddress: { lines: ['2-4-6 Kanda-Jimbocho, Chiyoda-ku'], postalCode: '101-0051', city: 'Tokyo', country: 'JP' },
  email: 'letters@refugee-rights.test',
  signatory: { name: 'Sayuri Hoshino', title: 'Director' },
  translations: { ja: { name: '難民の権利ネットワーク東京', signatory: { name: '星野さゆり', title: '代表理事' } } },
};

/** Saves `benchOrganisation` through the API (PUT /api/v1/organisation). */
export async function saveBenchOrganisation(url: string, adminToken: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/organisation`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify(benchOrganisation),
  });
  if (!res.ok) throw new Error(`PUT /api/v1/organisation: ${res.status} ${await res.text()}`);
}

/** The admin token the benches' servers are started with. */
export const benchAdminToken = 'bench-admin-token-0123456789abcdef';

/** The API of a bench server as its admin: `call` answers the parsed JSON body and throws on any status but 2xx. */
export function benchApi(url: string) {
  const api = `${url}/api/v1`;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${benchAdminToken}` };
  async function call(method: string, path: string, body?: unknown) {
    const response = await fetch(`${api}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  }
  return { api, call };
}

/**
 * A bench installation sending real email: `signet serve` (startBenchServer) on a new temporary
 * folder named from `prefix`, its database in it, mailing through `smtpUrl`, signing unthrottled
 * (no per-source limit; no global cap on confirmation emails, which with a new address per signer
 * would only hide the sender's load), with `benchOrganisation` saved. `env` adds settings.
 * The caller removes `dir` when done.
 */
export async function startMailingBenchServer(prefix: string, smtpUrl: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const databasePath = join(dir, 'signet.db');
  const server = await startBenchServer({
    DATABASE_PATH: databasePath,
    DATA_DIR: dir,
    ADMIN_TOKEN: benchAdminToken,
    SMTP_URL: smtpUrl,
    SIGN_RATE_LIMIT: 'off',
    CONFIRM_EMAILS_PER_MINUTE: 'off',
    ...env,
  });
  await saveBenchOrganisation(server.url, benchAdminToken);
  return { dir, databasePath, ...server, ...benchApi(server.url) };
}

let signed = 0;

/**
 * autocannon's request list for signing: a new supporter (distinct name and email) on every
 * request, with the consent the intake benchmarks measure. Shared by every signing benchmark.
 */
export function signingRequests(emailPrefix = 'supporter'): autocannon.Request[] {
  return [
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => {
        signed += 1;
        request.body = JSON.stringify({
          name: `支援者 ${signed}`,
          email: `${emailPrefix}${signed}@example.org`,
          country: 'JP',
          region: 'JP-13',
          city: 'Tokyo',
          consent: { nameOnLetter: 'initials', showPublicly: false, updates: true },
        });
        return request;
      },
    },
  ];
}
