import type { LetterInput, LetterLanguage, LetterTemplate, Organisation, RenderOptions, RenderResult } from './template/types.js';
import type { UpdateTemplate } from './template/update-template.js';

/** One language version of a template, or why it cannot be used. */
export type TemplateVariant =
  | { language: LetterLanguage; subject: string; pageSize: string; envelopeWindow: string; variables: string[] }
  | { language: LetterLanguage; error: { code: string; message: string; variable?: string; line?: number } };

export type TemplateSummary = {
  name: string;
  languages: LetterLanguage[];
  /** Union of the variables named by the usable variants. */
  variables: string[];
  variants: TemplateVariant[];
};

/** One queued print delivery: what its cover-sheet row says, and its stored letter. */
export type PrintQueueEntry = {
  deliveryId: string;
  recipient: string;
  organisation: string | null;
  city: string | null;
  /** ISO 3166-1 alpha-2; also picks the regional face for Han characters in the row. */
  country: string;
  /** The stored letter PDF, as rendered. */
  pdf: Uint8Array;
};

export type PrintQueueDocument = {
  /** When the queue was read (epoch ms); printed on the cover (UTC) and used as the PDF's dates. */
  generatedAt: number;
  /** In print order. */
  entries: PrintQueueEntry[];
};

export type ComposedPrintQueue = {
  pdf: Uint8Array<ArrayBuffer>;
  coverPages: number;
  /** Pages of the letters, after the cover (each letter as stored, counted from its PDF). */
  letterPages: number;
};

/** One language's printed signature sheet (PRODUCT.md §13): every text already in that language. */
export type SignatureSheetPart = {
  language: LetterLanguage;
  title: string;
  summary: string;
  /** Who holds the data and what it is used for, as the signing form's privacy notice says it. */
  privacy: string[];
  /** The signing form's own words, so the boxes on paper ask exactly what the form asks. */
  form: {
    name: string;
    email: string;
    optional: string;
    region: string;
    city: string;
    consentNameLegend: string;
    consentNameFull: string;
    consentNameInitials: string;
    consentNameNone: string;
    consentPublicLegend: string;
    consentPublicYes: string;
    consentUpdatesLegend: string;
    consentUpdatesYes: string;
  };
  /** The sheet's own words (column and QR captions, how to fill it in). */
  sheet: { number: string; signature: string; instructions: string; scanToSign: string; page: string };
};

export type SignatureSheetDocument = {
  /** The signing page the QR code leads to. */
  signingUrl: string;
  generatedAt: number;
  /** One page per language, in this order. */
  parts: SignatureSheetPart[];
};

/**
 * Where letter PDFs are kept. Stored paths are relative to the store (the data directory on Node,
 * the bucket on Workers), so the store can move.
 */
export interface LetterFiles {
  /** Where the renderer writes one letter: `stored` goes on the letter row, `output` to the renderer. */
  pathFor(batchId: string, letterId: string): Promise<{ stored: string; output: string }>;
  /** A stored letter's (or reply file's) bytes, or null when the file is gone. */
  openRead(stored: string): Promise<{ body: ReadableStream<Uint8Array>; bytes: number } | null>;
  /** A stored letter read whole into memory (to merge it into another PDF), or null when the file is gone. */
  readBytes(stored: string): Promise<Uint8Array | null>;
  /** Deletes every file of a batch (after a failed run). */
  removeBatch(batchId: string): Promise<void>;
  /** Stores an uploaded file (a reply's scan) under a name from `replyFileName` (letter-files.ts); other names are refused. */
  writeFile(stored: string, bytes: Uint8Array, contentType: string): Promise<void>;
  /** Deletes one stored file; a file already gone is not an error. */
  removeFile(stored: string): Promise<void>;
}

/** The templates and the organisation, read from `letters/` (Node) or a bundle of it (Workers). */
export type LetterTemplateStore = Pick<
  LetterPorts,
  'listTemplates' | 'loadTemplate' | 'loadTemplateSource' | 'loadOrganisation' | 'loadUpdateTemplate' | 'listTargetDirectories' | 'loadTargetDirectory'
>;

/** What the letter verbs need: the templates, the renderer and the file store. */
export interface LetterPorts {
  listTemplates(): Promise<TemplateSummary[]>;
  /** The shipped file of one template variant, parsed and checked (what version 0 of a template is). */
  loadTemplate(name: string, language: string): Promise<LetterTemplate>;
  /** The shipped file of one template variant as written (front matter and body); TEMPLATE_NOT_FOUND when it does not exist. */
  loadTemplateSource(name: string, language: string): Promise<string>;
  /**
   * `letters/organisation.json`: what seeds the organisation profile the first time it is read
   * (src/services/organisation.ts, which letters use), and the logo (`logo`, resolved).
   */
  loadOrganisation(): Promise<Organisation>;
  /** One language of an update template (`letters/updates/<name>/<language>.md`); TEMPLATE_NOT_FOUND when it does not exist. */
  loadUpdateTemplate(name: string, language: string): Promise<UpdateTemplate>;
  /**
   * The target directories shipped in `letters/targets/<name>.json` (e.g. `china-missions-japan`),
   * by name, sorted: what an organiser can import from the dashboard without a file of their own.
   */
  listTargetDirectories(): Promise<string[]>;
  /** The text of one shipped directory, for the target import; TEMPLATE_NOT_FOUND for a name not shipped. */
  loadTargetDirectory(name: string): Promise<string>;
  /** Renders to the place `LetterFiles.pathFor` gave as `output` (on Node, on the worker pool when there is one). */
  renderToFile(input: LetterInput, output: string, options: RenderOptions): Promise<RenderResult>;
  /**
   * Renders to a stream, resolving once the first bytes are out (or the render ended), so a
   * template error still becomes an error response rather than a cut transfer.
   */
  renderToStream(input: LetterInput, options: RenderOptions): Promise<ReadableStream<Uint8Array>>;
  /** The print queue as one PDF: a cover sheet, then each letter's pages in the order given (held in memory). */
  composePrintQueue(document: PrintQueueDocument): Promise<ComposedPrintQueue>;
  /** A printable A4 signature sheet with a QR code to the signing page (held in memory: a few pages). */
  renderSignatureSheet(document: SignatureSheetDocument): Promise<Uint8Array<ArrayBuffer>>;
  files: LetterFiles;
}
