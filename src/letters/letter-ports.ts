import type { ComposedPrintQueue, PrintQueueDocument } from './print-queue-pdf.js';
import type { TemplateSummary } from './template-files.js';
import type { LetterInput, LetterTemplate, Organisation, RenderOptions, RenderResult } from './types.js';
import type { UpdateTemplate } from './update-template.js';

/** Where letter PDFs are kept. Stored paths are relative to the data directory, so the directory can move. */
export interface LetterFiles {
  /** Where the renderer writes one letter: `stored` goes on the letter row, `output` to the renderer. */
  pathFor(batchId: string, letterId: string): Promise<{ stored: string; output: string }>;
  /** A stored letter's bytes, or null when the file is gone. */
  openRead(stored: string): Promise<{ body: ReadableStream<Uint8Array>; bytes: number } | null>;
  /** A stored letter read whole into memory (to merge it into another PDF), or null when the file is gone. */
  readBytes(stored: string): Promise<Uint8Array | null>;
  /** Deletes every file of a batch (after a failed run). */
  removeBatch(batchId: string): Promise<void>;
}

/** What the letter verbs need: the templates, the renderer and the file store. */
export interface LetterPorts {
  listTemplates(): Promise<TemplateSummary[]>;
  loadTemplate(name: string, language: string): Promise<LetterTemplate>;
  loadOrganisation(): Promise<Organisation>;
  /** One language of an update template (`letters/updates/<name>/<language>.md`); TEMPLATE_NOT_FOUND when it does not exist. */
  loadUpdateTemplate(name: string, language: string): Promise<UpdateTemplate>;
  /** Renders to a file (see `LetterFiles.pathFor`), on the worker pool when there is one. */
  renderToFile(input: LetterInput, output: string, options: RenderOptions): Promise<RenderResult>;
  /**
   * Renders to a stream, resolving once the first bytes are out (or the render ended), so a
   * template error still becomes an error response rather than a cut transfer.
   */
  renderToStream(input: LetterInput, options: RenderOptions): Promise<ReadableStream<Uint8Array>>;
  /** The print queue as one PDF: a cover sheet, then each letter's pages in the order given (held in memory). */
  composePrintQueue(document: PrintQueueDocument): Promise<ComposedPrintQueue>;
  files: LetterFiles;
}
