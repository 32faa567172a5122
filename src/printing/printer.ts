/** IPP job states (RFC 8011 §5.3.7), by their enum values 3 to 9. */
export const printJobStates = ['pending', 'pending-held', 'processing', 'processing-stopped', 'canceled', 'aborted', 'completed'] as const;
export type PrintJobState = (typeof printJobStates)[number];

/** States after which a job never changes again. */
export const finalPrintJobStates: readonly PrintJobState[] = ['canceled', 'aborted', 'completed'];

/** The IPP job-state enum (3..9) or keyword as a name; null for anything else. */
export function printJobStateName(value: unknown): PrintJobState | null {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 3 && value <= 9 ? printJobStates[value - 3]! : null;
  return (printJobStates as readonly unknown[]).includes(value) ? (value as PrintJobState) : null;
}

export type PrintDocument = {
  /** The PDF's bytes, or a file to read them from. */
  pdf: Uint8Array | { path: string };
  /** Shown in the printer's queue (and used by cups-pdf for the file name); cut to 255 bytes. */
  jobName: string;
  copies?: number;
};

export type PrintJob = { jobUri: string; state: PrintJobState };

export type PrinterErrorCode =
  /** No answer: connection refused or reset, unknown host, timeout. */
  | 'PRINTER_UNREACHABLE'
  /** The printer answered with an IPP error status (e.g. not accepting jobs). */
  | 'PRINTER_REFUSED'
  /** The answer was not IPP, or not what the operation returns. */
  | 'PRINTER_BAD_RESPONSE'
  /** The printer no longer knows the job (purged from its history). */
  | 'PRINT_JOB_NOT_FOUND';

/**
 * Every failure of a `Printer`. `retryable` is false only when the document
 * itself was refused (format, size), so sending it again cannot help.
 */
export class PrinterError extends Error {
  constructor(
    readonly code: PrinterErrorCode,
    message: string,
    readonly options: { retryable: boolean; ippStatus?: string; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PrinterError';
  }

  get retryable(): boolean {
    return this.options.retryable;
  }
}

/** A printer that takes PDF jobs and reports their state (on Node: src/printing/node/ipp-printer.ts). */
export interface Printer {
  /** Submits one PDF as a job; resolves once the printer has accepted it. Throws `PrinterError`. */
  printPdf(document: PrintDocument): Promise<PrintJob>;
  /** The job's current state. Throws `PrinterError` (`PRINT_JOB_NOT_FOUND` once the printer forgot it). */
  jobState(jobUri: string): Promise<PrintJobState>;
}
