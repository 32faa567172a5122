import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { decodeIppResponse, encodeIppRequest, type IppAttribute, type IppOperation, type IppValue } from './ipp-codec.js';
import { printJobStateName, PrinterError, type PrintDocument, type PrintJob, type Printer, type PrintJobState } from '../printer.js';

export type IppPrinterOptions = {
  /** `ipp://host[:port]/printers/NAME` (CUPS) or `ipps://…`; the port defaults to 631. */
  url: string;
  /** Sent as requesting-user-name: the job's owner on the printer. */
  userName?: string;
  /** How long the printer may stay silent before the request is abandoned. */
  timeoutMs?: number;
};

type Attributes = Record<string, IppValue | IppValue[]>;
type IppAnswer = { statusName: string; operation: Attributes; job: Attributes; printer: Attributes };

/** IPP status names that mean the document itself is refused: sending it again cannot help. */
const documentRefusals = new Set([
  'client-error-document-format-not-supported',
  'client-error-document-format-error',
  'client-error-document-unprintable-error',
  'client-error-request-entity-too-large',
  'client-error-compression-not-supported',
]);

const MAX_NAME_BYTES = 255;

/** Cuts a name to the 255 octets IPP allows, never inside a character. */
function ippName(name: string): string {
  let cut = name.replace(/[\r\n\t]+/g, ' ').trim() || 'signet';
  while (Buffer.byteLength(cut) > MAX_NAME_BYTES) cut = Array.from(cut).slice(0, -1).join('');
  return cut;
}

/**
 * A `Printer` speaking IPP/1.1 to one printer or CUPS queue: Print-Job with
 * the PDF, Get-Job-Attributes for the state (messages by ./ipp-codec.ts).
 * The HTTP exchange has a timeout, and every failure becomes a `PrinterError`.
 */
export class IppPrinter implements Printer {
  private readonly url: URL;
  private readonly printerUri: string;
  private readonly userName: string;
  private readonly timeoutMs: number;
  private requestId = 0;

  constructor(options: IppPrinterOptions) {
    this.url = new URL(options.url);
    if (this.url.protocol !== 'ipp:' && this.url.protocol !== 'ipps:') throw new RangeError('The printer URL must start with ipp:// or ipps://');
    // Basic authentication over plain HTTP would hand the password to anyone on the way.
    if (this.url.protocol === 'ipp:' && (this.url.username || this.url.password)) {
      throw new RangeError('The printer URL carries a user name or password: use ipps://, never plain ipp://');
    }
    // Credentials never travel as the printer-uri attribute, nor into error messages.
    const uri = new URL(options.url);
    uri.username = '';
    uri.password = '';
    this.printerUri = uri.toString();
    this.userName = options.userName ?? 'signet';
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async printPdf(document: PrintDocument): Promise<PrintJob> {
    const pdf = 'path' in document.pdf ? await readFile(document.pdf.path) : Buffer.from(document.pdf.buffer, document.pdf.byteOffset, document.pdf.byteLength);
    const response = await this.call(
      'Print-Job',
      this.printerTarget(),
      [
        { name: 'requesting-user-name', tag: 'nameWithoutLanguage', values: [this.userName] },
        { name: 'job-name', tag: 'nameWithoutLanguage', values: [ippName(document.jobName)] },
        { name: 'document-format', tag: 'mimeMediaType', values: ['application/pdf'] },
      ],
      { job: document.copies !== undefined && document.copies !== 1 ? [{ name: 'copies', tag: 'integer', values: [document.copies] }] : undefined, data: pdf },
    );
    const jobUri = response.job['job-uri'];
    const state = printJobStateName(response.job['job-state']);
    if (typeof jobUri !== 'string' || !state) {
      throw new PrinterError('PRINTER_BAD_RESPONSE', `The printer at ${this.printerUri} accepted the job but did not say its job-uri and job-state.`, {
        retryable: false,
      });
    }
    return { jobUri, state };
  }

  async jobState(jobUri: string): Promise<PrintJobState> {
    const response = await this.call('Get-Job-Attributes', { name: 'job-uri', tag: 'uri', values: [jobUri] }, [
      { name: 'requesting-user-name', tag: 'nameWithoutLanguage', values: [this.userName] },
      { name: 'requested-attributes', tag: 'keyword', values: ['job-state'] },
    ]);
    const state = printJobStateName(response.job['job-state']);
    if (!state) throw new PrinterError('PRINTER_BAD_RESPONSE', `The printer at ${this.printerUri} did not say the state of ${jobUri}.`, { retryable: true });
    return state;
  }

  /**
   * The printer's state and whether it takes jobs (Get-Printer-Attributes), for `signet doctor`.
   * Throws `PrinterError` like the other operations.
   */
  async status(): Promise<{ state: 'idle' | 'processing' | 'stopped' | 'unknown'; acceptingJobs: boolean | null; stateMessage: string | null }> {
    const response = await this.call('Get-Printer-Attributes', this.printerTarget(), [
      { name: 'requesting-user-name', tag: 'nameWithoutLanguage', values: [this.userName] },
      { name: 'requested-attributes', tag: 'keyword', values: ['printer-state', 'printer-is-accepting-jobs', 'printer-state-message'] },
    ]);
    const printer = response.printer;
    const states = { 3: 'idle', 4: 'processing', 5: 'stopped' } as const;
    const state = states[printer['printer-state'] as keyof typeof states] ?? 'unknown';
    const accepting = printer['printer-is-accepting-jobs'];
    const message = printer['printer-state-message'];
    return { state, acceptingJobs: typeof accepting === 'boolean' ? accepting : null, stateMessage: typeof message === 'string' && message.trim() ? message.trim() : null };
  }

  private printerTarget(): IppAttribute {
    return { name: 'printer-uri', tag: 'uri', values: [this.printerUri] };
  }

  private async call(operation: IppOperation, target: IppAttribute, attributes: IppAttribute[], extra: { job?: IppAttribute[] | undefined; data?: Buffer } = {}): Promise<IppAnswer> {
    const body = encodeIppRequest({
      operation,
      requestId: (this.requestId = (this.requestId % 0x7fffffff) + 1),
      // charset, language and the target come first, in this order (RFC 8011 §4.1.4).
      operationAttributes: [
        { name: 'attributes-charset', tag: 'charset', values: ['utf-8'] },
        { name: 'attributes-natural-language', tag: 'naturalLanguage', values: ['en'] },
        target,
        ...attributes,
      ],
      jobAttributes: extra.job,
      document: extra.data,
    });
    const raw = await this.post(body, operation);
    if (raw.length < 9) throw this.badResponse(operation, 'an answer too short for IPP');
    let parsed;
    try {
      parsed = decodeIppResponse(raw);
    } catch (error) {
      throw this.badResponse(operation, 'an answer that is not IPP', error);
    }
    const { statusCode: status, statusName } = parsed;
    const operationGroup = parsed.groups.operation ?? {};
    if (status >= 0x0100) {
      const said = operationGroup['status-message'];
      const detail = typeof said === 'string' && said.trim() ? ` (${said.trim()})` : '';
      if (statusName === 'client-error-not-found' && operation === 'Get-Job-Attributes') {
        throw new PrinterError('PRINT_JOB_NOT_FOUND', `The printer at ${this.printerUri} no longer knows ${String(target.values[0])}${detail}.`, {
          retryable: false,
          ippStatus: statusName,
        });
      }
      throw new PrinterError('PRINTER_REFUSED', `The printer at ${this.printerUri} refused ${operation}: ${statusName}${detail}.`, {
        retryable: !documentRefusals.has(statusName),
        ippStatus: statusName,
      });
    }
    return { statusName, operation: operationGroup, job: parsed.groups.job ?? {}, printer: parsed.groups.printer ?? {} };
  }

  private post(body: Buffer, operation: string): Promise<Buffer> {
    const secure = this.url.protocol === 'ipps:';
    const send = secure ? httpsRequest : httpRequest;
    return new Promise<Buffer>((resolve, reject) => {
      const unreachable = (reason: string, cause?: unknown) =>
        new PrinterError('PRINTER_UNREACHABLE', `Cannot reach the printer at ${this.printerUri} for ${operation} (${reason}).`, { retryable: true, cause });
      const request = send(
        {
          protocol: secure ? 'https:' : 'http:',
          hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
          port: this.url.port || 631,
          path: `${this.url.pathname}${this.url.search}` || '/',
          method: 'POST',
          headers: {
            'content-type': 'application/ipp',
            'content-length': body.length,
            ...(this.url.username ? { authorization: `Basic ${Buffer.from(`${decodeURIComponent(this.url.username)}:${decodeURIComponent(this.url.password)}`).toString('base64')}` } : {}),
          },
          timeout: this.timeoutMs,
        },
        (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => reject(unreachable(error.message, error)));
          response.on('end', () => {
            if (response.statusCode !== 200) {
              reject(
                new PrinterError('PRINTER_REFUSED', `The printer at ${this.printerUri} answered ${operation} with HTTP ${response.statusCode} ${response.statusMessage ?? ''}`.trimEnd() + '.', {
                  retryable: true,
                }),
              );
            } else resolve(Buffer.concat(chunks));
          });
        },
      );
      request.on('timeout', () => request.destroy(unreachable(`no answer within ${this.timeoutMs} ms`)));
      request.on('error', (error: NodeJS.ErrnoException) => reject(error instanceof PrinterError ? error : unreachable(error.code ?? error.message, error)));
      request.end(body);
    });
  }

  private badResponse(operation: string, what: string, cause?: unknown) {
    return new PrinterError('PRINTER_BAD_RESPONSE', `The printer at ${this.printerUri} gave ${what} to ${operation}.`, { retryable: true, cause });
  }
}
