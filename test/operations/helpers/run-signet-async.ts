import { spawn } from 'node:child_process';
import { projectRoot, signetCommand } from '../../helpers/cli.js';

/**
 * `signet …` as runSignet runs it, but without blocking this process: needed
 * when the command talks to a server that lives in the test process (an SMTP
 * server on 127.0.0.1), which spawnSync would keep from answering.
 */
export function runSignetAsync(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, signetCommand(args), { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
