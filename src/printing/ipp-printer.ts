import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import { printJobStateName, PrinterError, type PrintDocument, type PrintJob, type Printer, type PrintJobState } from './printer.js';

// The package is CommonJS whose exports Node cannot list for an ES import, so it is required.
const ipp = createRequire(import.meta.url)('ipp') as typeof import('ipp') & { parse: { handleUnknownTag: unknown } };
// The parser prints to stdout for value tags it does not decode (no-value, out-of-band); none of them matter here.
ipp.parse.handleUnknownTag = (_tag: number, _name: string, length: number, read: (length: number) => string) =>
  length ? read(length) : undefined;

export type IppPrinterOptions = {
  /** `ipp://host[:port]/printers/NAME` (CUPS) or `ipps://…`; the port defaults to 631. */
  url: string;
  /** Sent as requesting-user-name: the job's owner on the printer. */
  userName?: string;
  /** How long the printer may stay silent before the request is abandoned. */
  timeoutMs?: number;
};

type Attributes = Record<string, unknown>;
type IppResponse = { status: number; statusName: string; operation: Attributes; job: Attributes };

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
 * the PDF, Get-Job-Attributes for the state. Messages are encoded and decoded
 * with the `ipp` package; the HTTP exchange is done here so it has a timeout
 * and every failure becomes a `PrinterError`.
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
      {
        'requesting-user-name': this.userName,
        'job-name': ippName(document.jobName),
        'document-format': 'application/pdf',
      },
      { job: document.copies !== undefined && document.copies !== 1 ? { copies: document.copies } : undefined, data: pdf },
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
    const response = await this.call('Get-Job-Attributes', {
      'job-uri': jobUri,
      'requesting-user-name': this.userName,
      'requested-attributes': ['job-state'],
    });
    const state = printJobStateName(response.job['job-state']);
    if (!state) throw new PrinterError('PRINTER_BAD_RESPONSE', `The printer at ${this.printerUri} did not say the state of ${jobUri}.`, { retryable: true });
    return state;
  }

  private async call(operation: string, attributes: Attributes, extra: { job?: Attributes | undefined; data?: Buffer } = {}): Promise<IppResponse> {
    const message = {
      version: '1.1',
      operation,
      id: (this.requestId = (this.requestId % 0x7fffffff) + 1),
      // charset, language and the target come first, in this order (RFC 8011 §4.1.4).
      'operation-attributes-tag': {
        'attributes-charset': 'utf-8',
        'attributes-natural-language': 'en',
        ...('job-uri' in attributes ? {} : { 'printer-uri': this.printerUri }),
        ...attributes,
      },
      ...(extra.job ? { 'job-attributes-tag': extra.job } : {}),
      ...(extra.data ? { data: extra.data } : {}),
    };
    const body = ipp.serialize(message);
    const raw = await this.post(body, operation);
    if (raw.length < 8) throw this.badResponse(operation, 'an answer too short for IPP');
    let parsed: Record<string, unknown>;
    try {
      parsed = ipp.parse(raw) as unknown as Record<string, unknown>;
    } catch (error) {
      throw this.badResponse(operation, 'an answer that is not IPP', error);
    }
    const status = raw.readUInt16BE(2);
    const statusName = typeof parsed.statusCode === 'string' ? parsed.statusCode : `0x${status.toString(16).padStart(4, '0')}`;
    const operationGroup = firstGroup(parsed['operation-attributes-tag']);
    if (status >= 0x0100) {
      const said = operationGroup['status-message'];
      const detail = typeof said === 'string' && said.trim() ? ` (${said.trim()})` : '';
      if (statusName === 'client-error-not-found' && operation === 'Get-Job-Attributes') {
        throw new PrinterError('PRINT_JOB_NOT_FOUND', `The printer at ${this.printerUri} no longer knows ${String(attributes['job-uri'])}${detail}.`, {
          retryable: false,
          ippStatus: statusName,
        });
      }
      throw new PrinterError('PRINTER_REFUSED', `The printer at ${this.printerUri} refused ${operation}: ${statusName}${detail}.`, {
        retryable: !documentRefusals.has(statusName),
        ippStatus: statusName,
      });
    }
    return { status, statusName, operation: operationGroup, job: firstGroup(parsed['job-attributes-tag']) };
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

/** A group the parser read more than once comes back as an array; the first is the one wanted here. */
function firstGroup(group: unknown): Attributes {
  const first = Array.isArray(group) ? (group[0] as unknown) : group;
  return first && typeof first === 'object' ? (first as Attributes) : {};
}
