import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { PdfDestination } from './types.js';

const closedEarly = () => new Error('The destination closed before the letter was complete.');

/**
 * Where the PDF bytes go: counts and hashes them on the way, and lets the renderer wait while the
 * destination is full, so a slow disk or client slows rendering down instead of filling memory.
 */
export class PdfSink {
  bytes = 0;
  private readonly hash = createHash('sha256');
  private failure: Error | null = null;
  private ending = false;

  private constructor(
    private readonly destination: PdfDestination & { destroy?(error?: Error): unknown },
    private readonly commit: () => Promise<void>,
    private readonly discard: () => Promise<void>,
  ) {
    // `on`, not `once`: a destroyed stream can report more than one error, and an unheard one would crash the process.
    destination.on('error', (error) => {
      this.failure ??= error instanceof Error ? error : new Error(String(error));
    });
    // A reader that goes away (an HTTP client disconnecting) closes the stream without an error;
    // writes to it then vanish and it never finishes, so the render must stop.
    destination.once('close', () => {
      if (!this.ending) this.failure ??= closedEarly();
    });
  }

  /**
   * A file sink writes next to `path` under a temporary name and renames it into place once
   * complete, so `path` never holds half a letter.
   */
  static toFile(path: string): PdfSink {
    const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`);
    const stream = createWriteStream(temporary);
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    return new PdfSink(
      stream,
      async () => {
        await closed;
        await rename(temporary, path);
      },
      async () => {
        stream.destroy();
        await closed;
        await unlink(temporary).catch(() => undefined);
      },
    );
  }

  static toStream(destination: PdfDestination): PdfSink {
    const ended = async () => undefined;
    return new PdfSink(destination, ended, async () => {
      (destination as { destroy?(error?: Error): unknown }).destroy?.(new Error('The letter could not be rendered.'));
    });
  }

  write = (chunk: Uint8Array): void => {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    this.destination.write(chunk);
  };

  /** Resolves once the destination can take more (at once when it already can). */
  async ready(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.destination.writableNeedDrain) return;
    await new Promise<void>((resolve, reject) => {
      const settle = (outcome: () => void) => {
        this.destination.off('drain', onDrain);
        this.destination.off('error', onError);
        this.destination.off('close', onClose);
        outcome();
      };
      const onDrain = () => settle(resolve);
      const onError = (error: unknown) => settle(() => reject(error));
      const onClose = () => settle(() => reject(this.failure ?? closedEarly()));
      this.destination.once('drain', onDrain);
      this.destination.once('error', onError);
      this.destination.once('close', onClose);
    });
  }

  /** Ends the destination; for a file, moves it into place. */
  async finish(): Promise<string> {
    if (this.failure) throw this.failure;
    this.ending = true;
    await new Promise<void>((resolve, reject) => {
      this.destination.once('error', reject);
      this.destination.end(() => resolve());
    });
    await this.commit();
    return this.hash.digest('hex');
  }

  /** Gives up: removes a partial file, or destroys a stream so its reader sees an aborted transfer. */
  async abort(): Promise<void> {
    await this.discard();
  }
}
