/**
 * Where a rendered PDF goes, chunk by chunk: a file or an HTTP response on Node, R2 or a web
 * stream on Workers. The renderer writes whole pages, then waits for `ready()`, so a slow
 * destination slows rendering down instead of filling memory. Nothing is written before the
 * first page is complete, so a sink may open its file or upload lazily.
 */
export interface PdfSink {
  /** Takes one chunk; the renderer never touches it again, so the sink may keep it. */
  write(chunk: Uint8Array): void;
  /** Resolves once the destination can take more; rejects when it failed or went away. */
  ready(): Promise<void>;
  /** Ends the PDF (for a file, moves it into place) and reports its size and SHA-256 (hex). */
  finish(): Promise<{ bytes: number; sha256: string }>;
  /** Gives up: removes a partial file or upload, or errors a stream so its reader sees an aborted transfer. */
  abort(): Promise<void>;
}
