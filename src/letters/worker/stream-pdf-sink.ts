import { createHash } from 'node:crypto';
import { streamFromFirstChunk } from '../letter-stream.js';
import type { PdfSink } from '../pdf/pdf-sink.js';

/** Chunks the stream may hold unread before the renderer waits (pdfkit writes a page in a few chunks). */
const chunksAhead = 16;

const readerGone = () => new Error('The reader went away before the letter was complete.');

/**
 * A PDF sink that is the source of a web ReadableStream (an HTTP response body). The renderer
 * waits while the reader is `chunksAhead` chunks behind, so a slow client slows rendering down;
 * a reader that cancels stops the render; a failed render errors the stream, so the reader sees
 * an aborted transfer, never a short PDF.
 */
export function createStreamPdfSink(): { sink: PdfSink; stream: ReadableStream<Uint8Array>; fail(error: unknown): void } {
  const hash = createHash('sha256');
  let bytes = 0;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let pulled: (() => void) | null = null;
  let cancelled: Error | null = null;
  let settled = false;
  const wake = () => {
    pulled?.();
    pulled = null;
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(started) {
        controller = started;
      },
      pull: wake,
      cancel() {
        cancelled = readerGone();
        wake();
      },
    },
    { highWaterMark: chunksAhead },
  );
  const fail = (error: unknown) => {
    if (settled || cancelled) return;
    settled = true;
    controller.error(error instanceof Error ? error : new Error(String(error)));
    wake();
  };
  const sink: PdfSink = {
    write(chunk) {
      if (cancelled || settled) return;
      bytes += chunk.length;
      hash.update(chunk);
      controller.enqueue(chunk);
    },
    async ready() {
      while (!cancelled && !settled && (controller.desiredSize ?? 0) <= 0) await new Promise<void>((resolve) => (pulled = resolve));
      if (cancelled) throw cancelled;
    },
    async finish() {
      if (cancelled) throw cancelled;
      settled = true;
      controller.close();
      return { bytes, sha256: hash.digest('hex') };
    },
    async abort() {
      fail(new Error('The letter could not be rendered.'));
    },
  };
  return { sink, stream, fail };
}

/**
 * Starts a render into a stream and hands the stream back once its first chunk is out (or the
 * render ended): an error found before any byte (the template, the organisation file) rejects
 * instead, so the caller can still answer with an error status.
 */
export async function streamRender(render: (sink: PdfSink) => Promise<unknown>): Promise<ReadableStream<Uint8Array>> {
  const { sink, stream, fail } = createStreamPdfSink();
  const reader = stream.getReader();
  const rendered = render(sink);
  // A render that fails before touching the sink must still end the stream; later failures reach the reader that way.
  rendered.catch(fail);
  return streamFromFirstChunk(reader, rendered);
}
