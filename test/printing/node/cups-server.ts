import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where the Debian packages put what the test needs (cups, printer-driver-cups-pdf, ghostscript). */
const CUPSD = '/usr/sbin/cupsd';
const CUPS_PDF_BACKEND = '/usr/lib/cups/backend/cups-pdf';
const CUPS_PDF_PPD = '/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd';
/** cups-pdf reads its settings from here only; `cups-pdf:/NAME` selects `cups-pdf-NAME.conf`. */
const CUPS_PDF_CONFIG_DIR = '/etc/cups';
export const QUEUE = 'SignetPDF';

/** Why a private CUPS with a cups-pdf queue cannot run here, or null when it can. */
export function cupsUnavailable(): string | null {
  for (const [path, what] of [
    [CUPSD, 'cupsd (apt-get install cups)'],
    ['/usr/sbin/lpadmin', 'lpadmin (apt-get install cups-client)'],
    [CUPS_PDF_BACKEND, 'the cups-pdf backend (apt-get install printer-driver-cups-pdf)'],
    [CUPS_PDF_PPD, 'the cups-pdf PPD (apt-get install printer-driver-cups-pdf)'],
  ] as const) {
    if (!existsSync(path)) return `${what} is not installed (${path})`;
  }
  if (spawnSync('gs', ['--version']).status !== 0) return 'ghostscript (gs) is not installed; cups-pdf needs it';
  if (spawnSync('pdftocairo', ['-v']).status !== 0) return 'pdftocairo is not installed (apt-get install poppler-utils)';
  // cups-pdf refuses to run unless cupsd starts it as root, which only a root cupsd can do.
  if (process.getuid?.() !== 0) return 'the cups-pdf backend only runs under a cupsd started as root';
  return null;
}

export type CupsServer = {
  /** `ipp://127.0.0.1:<port>/printers/SignetPDF` */
  printerUrl: string;
  /** `127.0.0.1:<port>`, for `-h` of the CUPS commands. */
  host: string;
  /** Where cups-pdf writes each job, as `<title>-job_<id>.pdf`. */
  outputDir: string;
  /** The PDF cups-pdf wrote for a job id, or undefined (yet). */
  outputFor(jobId: number): Promise<string | undefined>;
  /** Runs a CUPS command (cupsreject, cupsaccept, cupsdisable, cupsenable, cancel, lpstat) against this server. */
  command(name: string, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number, cupsd: ChildProcess, log: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cupsd.exitCode !== null) throw new Error(`cupsd exited with ${cupsd.exitCode}:\n${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    }).then((ok) => ok);
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`cupsd did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${log()}`);
}

/**
 * A private `cupsd -f` as the current user (root) on 127.0.0.1 and a free
 * port, with every file in a temp folder, and one cups-pdf queue writing into
 * `outputDir`. cups-pdf has no setting outside /etc/cups, so the queue's
 * device `cups-pdf:/<instance>` points it at `/etc/cups/cups-pdf-<instance>.conf`,
 * written here for this server alone and removed by `stop()`.
 */
export async function startCups(): Promise<CupsServer> {
  const reason = cupsUnavailable();
  if (reason) throw new Error(`Cannot start CUPS: ${reason}`);
  const root = await mkdtemp(join(tmpdir(), 'signet-cups-'));
  // cupsd runs its filters as the `lp` user, which must reach the spool; cups-pdf writes as `nobody`.
  await chmod(root, 0o755);
  const dirs = { conf: join(root, 'conf'), spool: join(root, 'spool'), cache: join(root, 'cache'), state: join(root, 'state'), log: join(root, 'log'), output: join(root, 'pdf'), pdfSpool: join(root, 'cups-pdf-spool') };
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
  await mkdir(join(dirs.spool, 'tmp'));
  await chmod(dirs.output, 0o777);
  await chmod(dirs.pdfSpool, 0o777);

  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  await writeFile(
    join(dirs.conf, 'cupsd.conf'),
    [
      `Listen ${host}`,
      'Browsing No',
      'WebInterface No',
      'DefaultAuthType None',
      'LogLevel info',
      // Keep finished jobs, so their state can be asked.
      'PreserveJobHistory Yes',
      '<Location />',
      '  Order allow,deny',
      '  Allow from 127.0.0.1',
      '</Location>',
      '<Policy default>',
      '  <Limit All>',
      '    Order deny,allow',
      '  </Limit>',
      '</Policy>',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dirs.conf, 'cups-files.conf'),
    [
      `ServerRoot ${dirs.conf}`,
      `RequestRoot ${dirs.spool}`,
      `TempDir ${join(dirs.spool, 'tmp')}`,
      `CacheDir ${dirs.cache}`,
      `StateDir ${dirs.state}`,
      `AccessLog ${join(dirs.log, 'access_log')}`,
      `ErrorLog ${join(dirs.log, 'error_log')}`,
      `PageLog ${join(dirs.log, 'page_log')}`,
      'SystemGroup root',
      'Sandboxing Relaxed',
      'FileDevice Yes',
      '',
    ].join('\n'),
  );

  const instance = `signet-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const pdfConfig = join(CUPS_PDF_CONFIG_DIR, `cups-pdf-${instance}.conf`);
  await writeFile(pdfConfig, [`Out ${dirs.output}`, `AnonDirName ${dirs.output}`, `Spool ${dirs.pdfSpool}`, `Log ${dirs.log}`, 'Grp root', ''].join('\n'));

  let output = '';
  const cupsd = spawn(CUPSD, ['-f', '-c', join(dirs.conf, 'cupsd.conf'), '-s', join(dirs.conf, 'cups-files.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  cupsd.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  cupsd.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => cupsd.once('exit', () => resolve()));

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (cupsd.exitCode === null) {
      cupsd.kill('SIGTERM');
      const timer = setTimeout(() => cupsd.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(pdfConfig, { force: true });
    await rm(root, { recursive: true, force: true });
  };

  const command = async (name: string, ...args: string[]) => (await run(name, ['-h', host, ...args], { timeout: 15_000 })).stdout;
  try {
    await waitForPort(port, cupsd, () => output);
    // The pdftocairo renderer keeps the text of the letters' subset fonts extractable (Debian's advice for cups-pdf queues).
    await command('lpadmin', '-p', QUEUE, '-E', '-v', `cups-pdf:/${instance}`, '-P', CUPS_PDF_PPD, '-o', 'pdftops-renderer-default=pdftocairo');
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    printerUrl: `ipp://${host}/printers/${QUEUE}`,
    host,
    outputDir: dirs.output,
    async outputFor(jobId) {
      const name = (await readdir(dirs.output)).find((file) => file.endsWith(`job_${jobId}.pdf`));
      return name === undefined ? undefined : join(dirs.output, name);
    },
    command,
    stop,
  };
}
