import { fork, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export type SmtpReport = { accepted: number; recipients: number; duplicates: number; firstArrival: (number | null)[] };

/** bench/smtp-child.ts in its own process; `report(addresses)` asks for its counts and those addresses' first arrivals. */
export async function startSmtpChild(): Promise<{ url: string; report: (addresses?: string[]) => Promise<SmtpReport>; stop: () => void }> {
  const child = fork(join(here, 'smtp-child.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  process.on('exit', () => child.kill('SIGKILL'));
  const url = await new Promise<string>((resolve) => child.on('message', (m: { type: string; url?: string }) => m.type === 'ready' && resolve(m.url!)));
  const report = (addresses: string[] = []) =>
    new Promise<SmtpReport>((resolve) => {
      const listener = (m: { type: string } & SmtpReport) => {
        if (m.type !== 'report') return;
        child.off('message', listener);
        resolve(m);
      };
      child.on('message', listener);
      child.send({ type: 'report', addresses });
    });
  return { url, report, stop: () => void child.kill('SIGTERM') };
}

/** The yardstick: a plain node:http hello-world in its own process, as the server is in its own. */
export async function startHelloWorld(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(
    process.execPath,
    ['-e', `require('node:http').createServer((req, res) => res.end('Hello World')).listen(0, '127.0.0.1', function () { console.log(this.address().port); })`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  process.on('exit', () => child.kill('SIGKILL'));
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  return { url: `http://127.0.0.1:${port}`, stop: () => void child.kill('SIGTERM') };
}
