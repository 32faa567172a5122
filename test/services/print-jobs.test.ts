import { eq } from 'drizzle-orm';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings, SettingsError } from '../../src/config.js';
import { deliveries } from '../../src/db/schema.js';
import { createLetterFiles } from '../../src/letters/node/letter-store.js';
import { IppPrinter } from '../../src/printing/node/ipp-printer.js';
import { PrinterError, type PrintDocument, type Printer, type PrintJobState } from '../../src/printing/printer.js';
import { runPrintJobs } from '../../src/services/print-jobs.js';
import { deliver, setupLetters, type TestApp } from './deliveries/helpers.js';

describe('PRINTER_URL', () => {
  it('takes ipp:// and ipps:// URLs only', () => {
    expect(loadSettings({ PRINTER_URL: 'ipp://localhost:631/printers/Letters' }).PRINTER_URL).toBe('ipp://localhost:631/printers/Letters');
    expect(loadSettings({ PRINTER_URL: '' }).PRINTER_URL).toBeUndefined();
    expect(() => loadSettings({ PRINTER_URL: 'http://localhost:631/printers/Letters' })).toThrow(SettingsError);
  });

  it('refuses a user name or password over plain ipp://, naming PRINTER_URL; takes them over ipps://', () => {
    for (const url of ['ipp://office:secret@printer.lan:631/printers/Letters', 'ipp://office@printer.lan/printers/Letters', 'ipp://:secret@localhost/printers/Letters']) {
      const error = (() => {
        try {
          loadSettings({ PRINTER_URL: url });
        } catch (caught) {
          return caught;
        }
      })();
      expect(error, url).toBeInstanceOf(SettingsError);
      expect((error as SettingsError).problems).toEqual([{ setting: 'PRINTER_URL', message: expect.stringContaining('use ipps://') }]);
      expect((error as SettingsError).message).not.toContain('secret');
      expect(() => new IppPrinter({ url }), url).toThrow(/use ipps:\/\//);
    }
    const secure = 'ipps://office:secret@printer.lan:631/printers/Letters';
    expect(loadSettings({ PRINTER_URL: secure }).PRINTER_URL).toBe(secure);
    expect(() => new IppPrinter({ url: secure })).not.toThrow();
  });
});

describe('IppPrinter errors', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  const serve = async (handler: Parameters<typeof createServer>[1]) => {
    server = createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return `ipp://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/printers/Letters`;
  };
  const document: PrintDocument = { pdf: new Uint8Array(Buffer.from('%PDF-1.4\n%%EOF\n')), jobName: 'test' };
  const failure = async (printer: Printer) => {
    const error = await printer.printPdf(document).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(PrinterError);
    return error as PrinterError;
  };

  it('turns an HTTP error, an answer that is not IPP and silence into PrinterErrors with clear messages', async () => {
    let url = await serve((_req, res) => res.writeHead(401, 'Unauthorized').end());
    let error = await failure(new IppPrinter({ url }));
    expect(error).toMatchObject({ code: 'PRINTER_REFUSED', retryable: true, message: `The printer at ${url} answered Print-Job with HTTP 401 Unauthorized.` });
    server!.close();

    url = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'));
    error = await failure(new IppPrinter({ url }));
    expect(error).toMatchObject({ code: 'PRINTER_BAD_RESPONSE', message: `The printer at ${url} gave an answer too short for IPP to Print-Job.` });
    server!.close();

    url = await serve(() => undefined);
    error = await failure(new IppPrinter({ url, timeoutMs: 200 }));
    expect(error).toMatchObject({ code: 'PRINTER_UNREACHABLE', retryable: true, message: `Cannot reach the printer at ${url} for Print-Job (no answer within 200 ms).` });
  });

  it('never puts credentials from the URL into messages', async () => {
    const error = await failure(new IppPrinter({ url: 'ipps://office:secret@127.0.0.1:9/printers/Letters' }));
    expect(error.code).toBe('PRINTER_UNREACHABLE');
    expect(error.message).toBe('Cannot reach the printer at ipps://127.0.0.1:9/printers/Letters for Print-Job (ECONNREFUSED).');
  });
});

/** A printer that accepts every job and completes it at once, counting the jobs. */
class CountingPrinter implements Printer {
  jobs: string[] = [];
  async printPdf(document: PrintDocument) {
    this.jobs.push(document.jobName);
    return { jobUri: `ipp://printer.test/jobs/${this.jobs.length}`, state: 'completed' as PrintJobState };
  }
  async jobState() {
    return 'completed' as PrintJobState;
  }
}

describe('the print dispatcher', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it('never sends again by itself after a send was cut off; the organiser resends', async () => {
    const setup = await setupLetters();
    t = setup.t;
    const printer = new CountingPrinter();
    const ports = { printer, files: createLetterFiles(t.dataDir) };
    const { body } = await deliver(t, setup.letters.sapporo.id, 'print');
    // A dispatcher claimed it and died before the printer answered.
    await t.database.atomic([t.database.db.update(deliveries).set({ printJobState: 'sending', printJobCheckedAt: t.clock.now(), attempts: 1 }).where(eq(deliveries.id, body.id))]);
    expect(await runPrintJobs(t.ctx, ports)).toMatchObject({ sent: 0, interrupted: 0 });
    t.clock.advance(10 * 60_000);
    expect(await runPrintJobs(t.ctx, ports)).toMatchObject({ sent: 0, interrupted: 1 });
    const view = async () => (await (await t!.request('GET', `/api/v1/deliveries/${body.id}`)).json()) as { status: string; printJobState: string; lastError: string };
    expect(await view()).toMatchObject({ status: 'queued', printJobState: 'unknown', lastError: expect.stringMatching(/^Sending to the printer was cut off/) });
    expect(printer.jobs).toEqual([]);

    expect((await t.request('POST', `/api/v1/deliveries/${body.id}/print`)).status).toBe(202);
    expect(await runPrintJobs(t.ctx, ports)).toMatchObject({ sent: 1, printed: 1 });
    expect(await view()).toMatchObject({ status: 'printed', printJobState: 'completed', lastError: null });
    expect(printer.jobs).toEqual([expect.stringMatching(new RegExp(`^save-refugees-2027 .+ ${body.id.slice(-8)}$`))]);
  });

  it('records a letter whose file is gone as failed, without asking the printer', async () => {
    const setup = await setupLetters();
    t = setup.t;
    const printer = new CountingPrinter();
    const { body } = await deliver(t, setup.letters.nagoya.id, 'print');
    const files = { ...createLetterFiles(t.dataDir), readBytes: async () => null };
    expect(await runPrintJobs(t.ctx, { printer, files })).toMatchObject({ sent: 0, failed: 1 });
    const res = await t.request('GET', `/api/v1/deliveries/${body.id}`);
    expect(await res.json()).toMatchObject({ status: 'queued', printJobState: 'failed', lastError: expect.stringMatching(/PDF is no longer stored/) });
    expect(printer.jobs).toEqual([]);
  });
});
