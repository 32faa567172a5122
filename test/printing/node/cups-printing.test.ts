import { eq } from 'drizzle-orm';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteDatabase } from '../../../src/db/node/better-sqlite3.js';
import { deliveries } from '../../../src/db/schema.js';
import { createLetterFiles } from '../../../src/letters/node/letter-store.js';
import { IppPrinter } from '../../../src/printing/node/ipp-printer.js';
import type { Printer } from '../../../src/printing/printer.js';
import type { ServiceContext } from '../../../src/services/context.js';
import { runPrintJobs, type PrintPorts, type PrintRunResult } from '../../../src/services/print-jobs.js';
import { deliver, setupLetters, type Delivery, type Letter, type TestApp } from '../../services/deliveries/helpers.js';
import { migrationsFolder } from '../../helpers/db.js';
import { parsePdfBytes } from '../../letters/helpers.js';
import { cupsUnavailable, QUEUE, startCups, type CupsServer } from './cups-server.js';

const unavailable = cupsUnavailable();
if (unavailable && process.env.CI) throw new Error(`The CUPS printing tests must run in CI, but: ${unavailable}`);

type PrintDelivery = Delivery & { printJobState: string | null; lastError: string | null; attempts: number; printedAt: string | null };

/** A port nothing listens on: connections are refused at once. */
const closedPrinterUrl = `ipp://127.0.0.1:9/printers/${QUEUE}`;

describe.skipIf(unavailable !== null)('printing to a real CUPS (cups-pdf)', { timeout: 120_000 }, () => {
  let cups: CupsServer;
  let t: TestApp;
  let letters: { embassy: Letter; sapporo: Letter; nagoya: Letter };
  let printer: Printer;
  let ports: PrintPorts;

  beforeAll(async () => {
    cups = await startCups();
  }, 60_000);
  afterAll(async () => {
    await cups?.stop();
  });

  const setup = async () => {
    ({ t, letters } = await setupLetters());
    printer = new IppPrinter({ url: cups.printerUrl, timeoutMs: 10_000 });
    ports = { printer, files: createLetterFiles(t.dataDir) };
  };
  afterEach(async () => {
    await t?.cleanup();
    t = undefined as unknown as TestApp;
  });

  const view = async (id: string) => {
    const res = await t.request('GET', `/api/v1/deliveries/${id}`);
    expect(res.status).toBe(200);
    return (await res.json()) as PrintDelivery;
  };
  const printDelivery = async (letter: Letter) => {
    const { res, body } = await deliver(t, letter.id, 'print');
    expect(res.status).toBe(201);
    return body.id;
  };
  const jobId = (jobUri: string | null) => Number(/\/jobs\/(\d+)$/.exec(jobUri ?? '')?.[1]);
  const row = async (id: string) => (await t.database.db.select().from(deliveries).where(eq(deliveries.id, id)))[0]!;

  /** Runs the dispatcher (checking every job on each run) until `done`, or fails after 30 s. */
  async function printUntil(done: () => Promise<boolean>, dispatch: () => Promise<PrintRunResult[]>) {
    const results: PrintRunResult[] = [];
    const deadline = Date.now() + 30_000;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`not done after 30 s: ${JSON.stringify(results)}`);
      results.push(...(await dispatch()));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return results;
  }
  const once = (ctx: ServiceContext = t.ctx, withPorts: PrintPorts = ports) => runPrintJobs(ctx, withPorts, { checkIntervalMs: 0 });
  const allPrinted = (ids: string[]) => async () => (await Promise.all(ids.map(row))).every((delivery) => delivery.status === 'printed');

  it('prints queued deliveries: the PDFs come out of cups-pdf, the job state is recorded, the deliveries become printed', async () => {
    await setup();
    const ids = [await printDelivery(letters.embassy), await printDelivery(letters.sapporo)];
    const results = await printUntil(allPrinted(ids), async () => [await once()]);
    expect(results.reduce((sum, result) => sum + result.sent, 0)).toBe(2);
    expect(results.reduce((sum, result) => sum + result.printed, 0)).toBe(2);

    for (const [id, letter] of [
      [ids[0]!, letters.embassy],
      [ids[1]!, letters.sapporo],
    ] as const) {
      const delivery = await view(id);
      expect(delivery).toMatchObject({ channel: 'print', status: 'printed', printJobState: 'completed', printedAt: new Date(t.clock.now()).toISOString(), lastError: null, attempts: 1 });
      const stored = await row(id);
      expect(stored.printJobUri).toMatch(/^ipp:\/\/.+\/jobs\/\d+$/);
      const output = await cups.outputFor(jobId(stored.printJobUri));
      expect(output, `cups-pdf output for ${stored.printJobUri}`).toBeDefined();
      const pdf = await parsePdfBytes(await readFile(output!));
      expect(pdf.pages).toHaveLength(letter.pages);
      expect(pdf.pages.join('\n')).toContain('Aiko Tanaka');
    }
    // Printed deliveries leave the queue; nothing is sent again.
    expect((await once()).sent).toBe(0);
    expect((await (await t.request('GET', '/api/v1/print-queue')).json()) as { items: unknown[] }).toEqual({ items: [] });
  });

  it('records a refusing or unreachable printer on the delivery, retries after the backoff, and resends a canceled job on request', async () => {
    await setup();
    const id = await printDelivery(letters.nagoya);

    await cups.command('cupsreject', QUEUE);
    expect(await once()).toMatchObject({ sent: 0, retried: 1 });
    let delivery = await view(id);
    expect(delivery).toMatchObject({ status: 'queued', printJobState: null, attempts: 1 });
    expect(delivery.lastError).toMatch(/refused Print-Job: server-error-not-accepting-jobs \(.*not accepting jobs.*\)/);
    await cups.command('cupsaccept', QUEUE);

    // Within the backoff nothing is tried; then the printer is off the network.
    expect((await once()).retried).toBe(0);
    t.clock.advance(30_000);
    expect(await once(t.ctx, { ...ports, printer: new IppPrinter({ url: closedPrinterUrl }) })).toMatchObject({ sent: 0, retried: 1 });
    delivery = await view(id);
    expect(delivery).toMatchObject({ status: 'queued', printJobState: null, attempts: 2 });
    expect(delivery.lastError).toBe(`Cannot reach the printer at ${closedPrinterUrl} for Print-Job (ECONNREFUSED).`);

    // The second failure waits twice as long; then the printer is back.
    t.clock.advance(59_000);
    expect((await once()).sent).toBe(0);
    t.clock.advance(1_000);
    await printUntil(allPrinted([id]), async () => [await once()]);
    expect(await view(id)).toMatchObject({ status: 'printed', printJobState: 'completed', lastError: null, attempts: 3 });

    // A job canceled at the printer is recorded and left to the organiser, who resends it.
    const canceled = await printDelivery(letters.embassy);
    await cups.command('cupsdisable', QUEUE);
    expect(await once()).toMatchObject({ sent: 1 });
    expect(await view(canceled)).toMatchObject({ status: 'queued', printJobState: 'pending' });
    await cups.command('cancel', String(jobId((await row(canceled)).printJobUri)));
    await once();
    delivery = await view(canceled);
    expect(delivery).toMatchObject({ status: 'queued', printJobState: 'canceled' });
    expect(delivery.lastError).toMatch(/^Print job ipp:\/\/.+ was canceled; check the printer, then resend/);
    expect((await once()).sent).toBe(0);

    const resent = await t.request('POST', `/api/v1/deliveries/${canceled}/print`);
    expect(resent.status).toBe(202);
    expect(await resent.json()).toMatchObject({ id: canceled, status: 'queued', printJobState: null, lastError: null });
    await cups.command('cupsenable', QUEUE);
    await printUntil(allPrinted([canceled]), async () => [await once()]);
    expect(await view(canceled)).toMatchObject({ status: 'printed', printJobState: 'completed', attempts: 2 });

    const again = await t.request('POST', `/api/v1/deliveries/${canceled}/print`);
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: 'INVALID_TRANSITION', details: { status: 'printed' } } });
  });

  it('prints each delivery once when two dispatchers on two connections run at the same time', async () => {
    await setup();
    const ids = [await printDelivery(letters.embassy), await printDelivery(letters.sapporo), await printDelivery(letters.nagoya), await printDelivery(letters.embassy)];
    const second = new SqliteDatabase({ path: join(dirname(t.dataDir), 'signet.db'), migrationsFolder });
    try {
      const otherCtx: ServiceContext = { ...t.ctx, db: second };
      // A slow network: each dispatcher is mid-request while the other claims, so both take a share.
      const slow: PrintPorts = {
        ...ports,
        printer: { printPdf: async (document) => (await new Promise((resolve) => setTimeout(resolve, 100)), printer.printPdf(document)), jobState: (uri) => printer.jobState(uri) },
      };
      const before = new Set(await readdir(cups.outputDir));
      const sent = [0, 0];
      await printUntil(allPrinted(ids), async () => {
        const results = await Promise.all([once(t.ctx, slow), once(otherCtx, slow)]);
        results.forEach((result, i) => (sent[i]! += result.sent));
        return results;
      });
      expect(sent[0]! + sent[1]!).toBe(ids.length);
      expect(Math.min(...sent)).toBeGreaterThan(0);
      const jobUris = await Promise.all(ids.map(async (id) => (await row(id)).printJobUri));
      expect(new Set(jobUris).size).toBe(ids.length);
      const produced = (await readdir(cups.outputDir)).filter((file) => !before.has(file));
      expect(produced).toHaveLength(ids.length);
      expect((await Promise.all(ids.map(view))).map((delivery) => delivery.attempts)).toEqual(ids.map(() => 1));
    } finally {
      await second.close();
    }
  });
});

describe('POST /api/v1/deliveries/:id/print', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it('is 409 for an email delivery, 404 for an unknown one, and needs the deliveries scope', async () => {
    const setup = await setupLetters();
    t = setup.t;
    const email = await deliver(t, setup.letters.embassy.id, 'email');
    const res = await t.request('POST', `/api/v1/deliveries/${email.body.id}/print`);
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: { code: 'NOT_A_PRINT_DELIVERY' } });
    const unknown = await t.request('POST', '/api/v1/deliveries/0190f7a0-0000-7000-8000-000000000000/print');
    expect(unknown.status).toBe(404);
    expect((await t.request('POST', `/api/v1/deliveries/${email.body.id}/print`, { token: null })).status).toBe(401);
  });
});
