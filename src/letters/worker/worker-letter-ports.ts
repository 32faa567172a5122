import './pdfkit-setup.js';
import type { R2Bucket } from '@cloudflare/workers-types';
import { isLetterFileName } from '../letter-files.js';
import type { LetterPorts } from '../letter-ports.js';
import type { FontFaces } from '../pdf/font-faces.js';
import { renderLetterPdf, type LetterRenderContext } from '../pdf/pdf-letter.js';
import { composePrintQueuePdf } from '../pdf/print-queue-pdf.js';
import { renderSignatureSheetPdf } from '../pdf/signature-sheet-pdf.js';
import { createBundledTemplates, type LettersBundle } from '../template/letters-bundle.js';
import { R2PdfSink } from './r2-pdf-sink.js';
import { createR2LetterFiles } from './r2-letter-files.js';
import { streamRender } from './stream-pdf-sink.js';

export type WorkerLetterPortsOptions = {
  /** Where the PDFs go, under `letters/<batchId>/<letterId>.pdf`. */
  bucket: R2Bucket;
  /** The `letters/` folder bundled at build time (`scripts/bundle-letters.ts`). */
  templates: LettersBundle;
  /**
   * The letter faces, shared by the isolate (`r2Fonts` in ./r2-fonts.ts: read from R2 on the first
   * letter). Awaited before each render, since layout asks them for coverage synchronously.
   */
  fonts: () => Promise<FontFaces>;
  /** Part size of the multipart upload of a letter larger than one part (default 8 MiB; R2 wants at least 5 MiB). */
  partSize?: number;
};

/**
 * Letters on Workers: templates and the organisation from the bundle (checked as on Node when
 * loaded), PDFs rendered in the isolate with the same layout as on Node and uploaded to R2 as
 * they are written. There is no render pool: each letter renders in the invocation that asks
 * for it, within its CPU limit.
 */
export function createWorkerLetterPorts(options: WorkerLetterPortsOptions): LetterPorts {
  const templates = createBundledTemplates(options.templates);
  const context = async (): Promise<LetterRenderContext> => ({ fonts: await options.fonts(), image: (path) => templates.image(path) });
  return {
    listTemplates: () => templates.listTemplates(),
    loadTemplate: (name, language) => templates.loadTemplate(name, language),
    loadTemplateSource: (name, language) => templates.loadTemplateSource(name, language),
    loadOrganisation: () => templates.loadOrganisation(),
    loadUpdateTemplate: (name, language) => templates.loadUpdateTemplate(name, language),
    listTargetDirectories: () => templates.listTargetDirectories(),
    loadTargetDirectory: (name) => templates.loadTargetDirectory(name),
    async renderToFile(input, output, renderOptions) {
      if (!isLetterFileName(output)) throw new Error(`not a letter file name: ${output}`);
      const ready = await context();
      return renderLetterPdf(input, new R2PdfSink(options.bucket, output, options.partSize), ready, renderOptions);
    },
    async renderToStream(input, renderOptions) {
      const ready = await context();
      return streamRender((sink) => renderLetterPdf(input, sink, ready, renderOptions));
    },
    composePrintQueue: async (document) => composePrintQueuePdf(document, await options.fonts()),
    renderSignatureSheet: async (document) => renderSignatureSheetPdf(document, await options.fonts()),
    files: createR2LetterFiles(options.bucket),
  };
}
