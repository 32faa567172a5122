import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers/smtp-server.js';
import { putTestOrganisation } from './organisation.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

export type ServerProcess = { url: string; child: ChildProcess; stdout: () => string; stderr: () => string; stop: () => Promise<number | null> };

/**
 * The command and arguments that run `node …args`, under `umask` when one is given (through
 * /bin/sh, as a service manager or a login shell would set it), else with the test's own.
 */
export function withUmask(args: string[], umask: number | undefined): [string, string[]] {
  if (umask === undefined) return [process.execPath, args];
  return ['/bin/sh', ['-c', `umask ${umask.toString(8).padStart(3, '0')} && exec "$0" "$@"`, process.execPath, ...args]];
}

/** Starts the real `signet serve` (as `npm start` does) on a free port on 127.0.0.1, with the test's umask or `options.umask`. */
export async function startServerProcess(env: Record<string, string>, options: { umask?: number } = {}): Promise<ServerProcess> {
  const [command, args] = withUmask(['--import', 'tsx', join(root, 'src/cli.ts'), 'serve'], options.umask);
  const child = spawn(command, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${err}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"event":"listening".*?"url":"(http:\/\/[^"]+)"/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}\n${err}`));
    });
  });
  return {
    url,
    child,
    stdout: () => out,
    stderr: () => err,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

export type ServerWithSmtp = { dir: string; smtp: TestSmtpServer; server: ServerProcess; stop: () => Promise<void> };

/**
 * The real server on a fresh database in a temporary DATA_DIR, mailing to a
 * real SMTP server on 127.0.0.1, with PUBLIC_URL http://signet.example. It
 * speaks for `testOrganisation` (saved through the API) unless `organisation: 'example'`.
 */
export async function startServerWithSmtp(
  name: string,
  adminToken: string,
  env: Record<string, string> = {},
  options: { organisation?: 'test' | 'example' } = {},
): Promise<ServerWithSmtp> {
  const dir = mkdtempSync(join(tmpdir(), `signet-${name}-`));
  const smtp = await startSmtpServer();
  const server = await startServerProcess({
    DATABASE_PATH: join(dir, 'signet.db'),
    DATA_DIR: dir,
    SMTP_URL: smtp.url,
    ADMIN_TOKEN: adminToken,
    PUBLIC_URL: 'http://signet.example',
    MAIL_FROM: 'Signet <no-reply@signet.example>',
    ...env,
  });
  if ((options.organisation ?? 'test') === 'test') {
    await putTestOrganisation(server.url, adminToken).catch(async (error: unknown) => {
      await server.stop();
      await smtp.close();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    });
  }
  return {
    dir,
    smtp,
    server,
    stop: async () => {
      await server.stop();
      await smtp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
