// The shared API journeys (api-journeys.ts) against the real Node server
// process, `signet serve` as `npm start` runs it, mailing to a real SMTP
// server on 127.0.0.1.

import { startServerWithSmtp } from '../helpers/server-process.js';
import { expect } from 'vitest';
import { defineApiJourneys, type JourneyRuntime } from './api-journeys.js';

const adminToken = 'journeys-admin-token-0123456789abcdef';
const publicUrl = 'http://signet.example';

defineApiJourneys('node', async (): Promise<JourneyRuntime> => {
  // A new installation: the journey sets the organisation itself.
  const running = await startServerWithSmtp('journeys', adminToken, { PUBLIC_URL: publicUrl }, { organisation: 'example' });
  // The runtime answers before any journey starts (a broken start fails here, not in journey a).
  expect(await (await fetch(`${running.server.url}/healthz`)).json()).toEqual({ status: 'ok' });
  return {
    url: running.server.url,
    publicUrl,
    adminToken,
    smtp: running.smtp,
    // The Node process has its own timers (the mailing runner polls every second, the
    // outbox sender wakes on new mail, counts are live): a short pause between looks.
    tick: () => new Promise((resolve) => setTimeout(resolve, 100)),
    stop: running.stop,
  };
});
