// A Worker deployed with a missing or bad setting: every request gets the one
// error shape (500 INTERNAL), and the log names the setting, never its value.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startWranglerDev, type WranglerDev } from '../helpers/wrangler-dev.js';

let worker: WranglerDev;
beforeAll(async () => {
  worker = await startWranglerDev({
    config: 'wrangler.toml',
    // SECRET_KEY too short and no way to send mail; the token is a value that must not be logged.
    vars: { PUBLIC_URL: 'http://signet.example', SECRET_KEY: 'short-secret-value', ADMIN_TOKEN: 'misconfigured-admin-token-0123456789' },
  });
}, 90_000);
afterAll(async () => {
  await worker?.stop();
});

it('answers 500 INTERNAL with a request id and logs which settings are wrong, without their values', async () => {
  const response = await fetch(`${worker.url}/healthz`);
  expect(response.status).toBe(500);
  const body = (await response.json()) as { error: { code: string; message: string; requestId: string } };
  expect(body.error).toMatchObject({ code: 'INTERNAL', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const log = worker.output();
  expect(log).toContain('the Worker cannot start');
  expect(log).toContain('SECRET_KEY');
  expect(log).toMatch(/SMTP_URL or MAIL_API_URL/);
  expect(log).not.toContain('short-secret-value');
  expect(log).not.toContain('misconfigured-admin-token-0123456789');
});
