import { afterEach, describe, expect, it } from 'vitest';
import { createLocalLetterPorts } from '../../../src/letters/node/letter-store.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { runDueMailings, type MailingPassDeps } from '../../../src/services/mailings/pass.js';
import { createTestApp, repoLettersDir } from '../../helpers/app.js';
import { eligibleEmail, mailingRows, readMailing, scheduleUpdate, seedSupporters, SEND_AT, type TestApp } from './runner-helpers.js';

let t: TestApp;
afterEach(async () => {
  await t?.cleanup();
});

function passDeps(): MailingPassDeps {
  return {
    ctx: t.ctx,
    letters: createLocalLetterPorts({ lettersDir: repoLettersDir, dataDir: t.dataDir }),
    logger: silentLogger,
    leaseMs: 60_000,
    batchSize: 10,
  };
}

describe('runDueMailings: one bounded pass, as a Cron Trigger runs it', () => {
  it('queues at most maxBatches batches per call, hands its lease back, and the next call (another owner) resumes without queueing anyone twice', async () => {
    t = createTestApp();
    const eligible = 45;
    await seedSupporters(t, eligible);
    const { id } = await scheduleUpdate(t, { ratePerMinute: 60 });
    t.clock.set(SEND_AT);

    expect(await runDueMailings(passDeps(), { owner: 'cron-1', maxBatches: 2 })).toEqual({ claimed: 1, queued: 20, finished: 0 });
    expect(await readMailing(t, id)).toMatchObject({ status: 'running', lockedBy: null, lockedUntil: null, startedAt: SEND_AT });
    expect(await mailingRows(t, id)).toHaveLength(20);

    t.clock.advance(60_000);
    expect(await runDueMailings(passDeps(), { owner: 'cron-2', maxBatches: 2 })).toEqual({ claimed: 1, queued: 20, finished: 0 });
    expect(await runDueMailings(passDeps(), { owner: 'cron-3', maxBatches: 2 })).toEqual({ claimed: 1, queued: 5, finished: 0 });
    const rows = await mailingRows(t, id);
    expect(rows.map((row) => row.recipient).sort()).toEqual(Array.from({ length: eligible }, (_, i) => eligibleEmail(i)).sort());
    expect(new Set(rows.map((row) => row.recipientKey)).size).toBe(eligible);
    // Paced across passes as in one: the n-th recipient queued is due n seconds after the start.
    expect(rows.map((row) => row.nextAttemptAt).sort((a, b) => a - b)).toEqual(Array.from({ length: eligible }, (_, i) => SEND_AT + i * 1000));
    expect(await readMailing(t, id)).toMatchObject({ status: 'running', total: eligible, lockedBy: null });

    // Nothing left to queue: a further pass only writes the figures.
    expect(await runDueMailings(passDeps(), { owner: 'cron-4', maxBatches: 2 })).toEqual({ claimed: 1, queued: 0, finished: 0 });
    expect(await mailingRows(t, id)).toHaveLength(eligible);
  });

  it('starts no queue write once its deadline has passed', async () => {
    t = createTestApp();
    await seedSupporters(t, 5);
    const { id } = await scheduleUpdate(t);
    t.clock.set(SEND_AT);

    expect(await runDueMailings(passDeps(), { owner: 'cron-1', deadline: Date.now() - 1 })).toEqual({ claimed: 1, queued: 0, finished: 0 });
    expect(await mailingRows(t, id)).toHaveLength(0);
    expect(await readMailing(t, id)).toMatchObject({ status: 'running', lockedBy: null });

    expect(await runDueMailings(passDeps(), { owner: 'cron-2', deadline: Date.now() + 20_000 })).toEqual({ claimed: 1, queued: 5, finished: 0 });
    expect(await mailingRows(t, id)).toHaveLength(5);
  });
});
