import { fork, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** A message between a bench and its child: its `type` says what it is, the rest what it carries. */
type ChildMessage = { type: string } & Record<string, unknown>;

/**
 * A bench/*-child.ts in its own process under tsx (so its work is not charged to the load
 * generator), ready once it sends { type: 'ready', url }. `ask` sends a message and resolves with
 * the child's next answer of the same type; `send` sends one that has no answer.
 */
export async function forkBenchChild(file: string): Promise<{ url: string; ask: <T>(message: ChildMessage) => Promise<T>; send: (message: ChildMessage) => void; stop: () => void }> {
  const child = fork(join(here, file), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  process.on('exit', () => child.kill('SIGKILL'));
  const url = await new Promise<string>((resolve) => child.on('message', (m: { type: string; url?: string }) => m.type === 'ready' && resolve(m.url!)));
  const ask = <T>(message: ChildMessage) =>
    new Promise<T>((resolve) => {
      const listener = (m: { type: string }) => {
        if (m.type !== message.type) return;
        child.off('message', listener);
        resolve(m as T);
      };
      child.on('message', listener);
      child.send(message);
    });
  return { url, ask, send: (message) => void child.send(message), stop: () => void child.kill('SIGTERM') };
}

export type SmtpReport = { accepted: number; recipients: number; duplicates: number; firstArrival: (number | null)[] };

/** bench/smtp-child.ts in its own process; `report(addresses)` asks for its counts and those addresses' first arrivals. */
export async function startSmtpChild(): Promise<{ url: string; report: (addresses?: string[]) => Promise<SmtpReport>; stop: () => void }> {
  const child = await forkBenchChild('smtp-child.ts');
  return { url: child.url, report: (addresses: string[] = []) => child.ask<SmtpReport>({ type: 'report', addresses }), stop: child.stop };
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
