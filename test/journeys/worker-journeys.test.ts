// The shared API journeys (api-journeys.ts) against the Cloudflare Worker in
// the real workerd runtime: `npm run worker:dev` as a user runs it
// (wrangler dev --local with Miniflare's D1, R2 and queues), mailing over
// `cloudflare:sockets` to a real SMTP server on 127.0.0.1. `tick` fires the
// cron trigger, as Cloudflare does every minute.

import { startWorkerDevProcess } from '../helpers/worker-dev-process.js';
import { startSmtpServer } from '../mail/helpers/smtp-server.js';
import { expect } from 'vitest';
import { defineApiJourneys, type JourneyRuntime } from './api-journeys.js';

const adminToken = 'journeys-admin-token-0123456789abcdef';
const publicUrl = 'http://signet.example';

defineApiJourneys('worker', async (): Promise<JourneyRuntime> => {
  const smtp = await startSmtpServer();
  const worker = await startWorkerDevProcess({ ADMIN_TOKEN: adminToken, SMTP_URL: smtp.url, PUBLIC_URL: publicUrl, MAIL_FROM: 'Signet <no-reply@signet.example>' }).catch(async (error: unknown) => {
    await smtp.close();
    throw error;
  });
  // The runtime answers before any journey starts (a broken start fails here, not in journey a).
  expect(await (await fetch(`${worker.url}/healthz`)).json()).toEqual({ status: 'ok' });
  return {
    url: worker.url,
    publicUrl,
    adminToken,
    smtp,
    tick: worker.tick,
    stop: async () => {
      await worker.stop();
      await smtp.close();
    },
  };
});
