import { streamFromFirstChunk } from '../letter-stream.js';
import { type FileHandle, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { makePrivateDirectory, writePrivateFile } from '../../lib/node/private-files.js';
import { isReplyFileName, isStoredFileName, letterBatchPrefix, letterFileName } from '../letter-files.js';
import type { LetterFiles, LetterPorts } from '../letter-ports.js';
import type { LetterInput, RenderOptions, RenderResult } from '../template/types.js';
import type { LetterRenderPool } from './render-pool.js';
import { createTemplateFiles } from './template-files.js';

/**
 * Letter PDFs on the local disk: `<dataDir>/letters/<batchId>/<letterId>.pdf`. Only paths of
 * that exact shape are built or opened (src/letters/letter-files.ts), so a stored path can never
 * reach outside the directory.
 */
export function createLetterFiles(dataDir: string): LetterFiles {
  const root = resolve(dataDir);
  return {
    async pathFor(batchId, letterId) {
      const stored = letterFileName(batchId, letterId);
      await makePrivateDirectory(join(root, letterBatchPrefix(batchId)));
      return { stored, output: join(root, stored) };
    },
    async openRead(stored) {
      if (!isStoredFileName(stored)) return null;
      let handle: FileHandle;
      try {
        handle = await open(join(root, stored), 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
      // Size and bytes from the one open file: a letter rendered again meanwhile is renamed over
      // the name (src/services/letter-redaction.ts), and a reader must get one file or the other whole.
      try {
        const { size } = await handle.stat();
        return { body: Readable.toWeb(handle.createReadStream()) as ReadableStream<Uint8Array>, bytes: size };
      } catch (error) {
        await handle.close();
        throw error;
      }
    },
    async readBytes(stored) {
      if (!isStoredFileName(stored)) return null;
      try {
        return await readFile(join(root, stored));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async removeBatch(batchId) {
      await rm(join(root, letterBatchPrefix(batchId)), { recursive: true, force: true });
    },
    async writeFile(stored, bytes) {
      if (!isReplyFileName(stored)) throw new Error(`not a reply file name: ${stored}`);
      const path = join(root, stored);
      await makePrivateDirectory(dirname(path));
      // Written aside and renamed, so a reader never sees half a file.
      const partial = `${path}.partial`;
      try {
        await writePrivateFile(partial, bytes);
        await rename(partial, path);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
    },
    async removeFile(stored) {
      if (!isStoredFileName(stored)) return;
      await rm(join(root, stored), { force: true });
    },
  };
}

/**
 * Renders into a PassThrough and hands back a web stream once the first chunk is out: errors
 * found before any byte (the template, the organisation file) reject instead, so the caller can
 * still answer with an error status. A later failure errors the stream (never a short PDF).
 */
async function streamRender(render: (destination: PassThrough) => Promise<RenderResult>): Promise<ReadableStream<Uint8Array>> {
  const destination = new PassThrough();
  const reader = (Readable.toWeb(destination) as ReadableStream<Uint8Array>).getReader();
  const rendered = render(destination);
  // A render that fails before touching the stream (reading the signatories, say) must still end
  // it, or the first read below would wait forever; later failures reach the reader that way too.
  rendered.catch((error: unknown) => destination.destroy(error instanceof Error ? error : new Error(String(error))));
  return streamFromFirstChunk(reader, rendered);
}

export type LocalLetterPortsOptions = {
  /** The templates and `organisation.json` (the repository's `letters/`). */
  lettersDir: string;
  /** DATA_DIR: the PDFs go to its `letters/` folder. */
  dataDir: string;
  /** Renders on worker threads when given; in process otherwise. */
  pool?: LetterRenderPool | undefined;
};

/** Templates from a directory, PDFs on the local disk, rendering on the pool or in process. */
export function createLocalLetterPorts(options: LocalLetterPortsOptions): LetterPorts {
  // The PDF code (pdfkit, fontkit) loads with the first letter, sheet or print queue made in this
  // process: a server renders on the pool's threads and never needs it on its own thread.
  const render = async (input: LetterInput, output: string | PassThrough, renderOptions: RenderOptions) =>
    options.pool ? options.pool.render(input, output, renderOptions) : (await import('./render-letter.js')).renderLetter(input, output, renderOptions);
  const fonts = async () => (await import('./node-font-faces.js')).nodeFontFaces;
  return {
    ...createTemplateFiles(options.lettersDir),
    renderToFile: (input, output, renderOptions) => render(input, output, renderOptions),
    renderToStream: (input, renderOptions) => streamRender((destination) => render(input, destination, renderOptions)),
    composePrintQueue: async (document) => (await import('../pdf/print-queue-pdf.js')).composePrintQueuePdf(document, await fonts()),
    renderSignatureSheet: async (document) => (await import('../pdf/signature-sheet-pdf.js')).renderSignatureSheetPdf(document, await fonts()),
    files: createLetterFiles(options.dataDir),
  };
}
