import type autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';

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
