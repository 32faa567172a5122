import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PRIVATE_FILE_MODE } from '../../lib/node/private-files.js';
import type { PdfSink } from '../pdf/pdf-sink.js';

/** The part of a Node writable stream that the renderer needs (a file stream, an HTTP response, a PassThrough). */
export type PdfDestination = {
  write(chunk: Uint8Array): boolean;
  end(callback?: () => void): unknown;
  on(event: 'error', listener: (...args: unknown[]) => void): unknown;
  once(event: 'drain' | 'error' | 'finish' | 'close', listener: (...args: unknown[]) => void): unknown;
  off(event: 'drain' | 'error' | 'finish' | 'close', listener: (...args: unknown[]) => void): unknown;
  readonly writableNeedDrain?: boolean;
  readonly destroyed?: boolean;
};

type Destroyable = PdfDestination & { destroy?(error?: Error): unknown };

const closedEarly = () => new Error('The destination closed before the letter was complete.');

/**
 * A PDF sink on a Node writable stream: counts and hashes the bytes on the way, and lets the
 * renderer wait while the destination is full, so a slow disk or client slows rendering down
 * instead of filling memory.
 */
export class NodePdfSink implements PdfSink {
  bytes = 0;
  private readonly hash = createHash('sha256');
  private failure: Error | null = null;
  private ending = false;
  private opened: Destroyable | null = null;

  private constructor(
    private readonly open: () => Destroyable,
    private readonly commit: () => Promise<void>,
    private readonly discard: () => Promise<void>,
  ) {}

  /** The destination, opened on first use (a render that fails before its first page leaves no file). */
  private get destination(): Destroyable {
    if (this.opened) return this.opened;
    const destination = this.open();
    this.opened = destination;
    // `on`, not `once`: a destroyed stream can report more than one error, and an unheard one would crash the process.
    destination.on('error', (error) => {
      this.failure ??= error instanceof Error ? error : new Error(String(error));
    });
    // A reader that goes away (an HTTP client disconnecting) closes the stream without an error;
    // writes to it then vanish and it never finishes, so the render must stop.
    destination.once('close', () => {
      if (!this.ending) this.failure ??= closedEarly();
    });
    return destination;
  }

  /**
   * A file sink writes next to `path` under a temporary name and renames it into place once
   * complete, so `path` never holds half a letter.
   */
  static toFile(path: string): NodePdfSink {
    const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`);
    let stream: ReturnType<typeof createWriteStream> | null = null;
    let closed = Promise.resolve();
    return new NodePdfSink(
      () => {
        // A letter names its signatories: never more than 0600 while written, exactly 0600 once in place.
        const opened = createWriteStream(temporary, { mode: PRIVATE_FILE_MODE });
        closed = new Promise<void>((resolve) => opened.once('close', () => resolve()));
        stream = opened;
        return opened;
      },
      async () => {
        await closed;
        await chmod(temporary, PRIVATE_FILE_MODE);
        await rename(temporary, path);
      },
      async () => {
        if (!stream) return;
        stream.destroy();
        await closed;
        await unlink(temporary).catch(() => undefined);
      },
    );
  }

  static toStream(destination: PdfDestination): NodePdfSink {
    const sink = new NodePdfSink(
      () => destination,
      async () => undefined,
      async () => {
        (destination as Destroyable).destroy?.(new Error('The letter could not be rendered.'));
      },
    );
    // Listen from the start: a client that goes away before the first page must stop the render too.
    void sink.destination;
    return sink;
  }

  write = (chunk: Uint8Array): void => {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    this.destination.write(chunk);
  };

  /**
   * The destination's failure, if any. A destroyed stream counts at once: its 'close' event comes
   * from process.nextTick, which does not run while the render goes on from one resolved promise
   * to the next.
   */
  private failed(): Error | null {
    if (!this.failure && this.opened?.destroyed && !this.ending) this.failure = closedEarly();
    return this.failure;
  }

  /** Resolves once the destination can take more (at once when it already can). */
  async ready(): Promise<void> {
    const failure = this.failed();
    if (failure) throw failure;
    const destination = this.opened;
    if (!destination?.writableNeedDrain) return;
    await new Promise<void>((resolve, reject) => {
      const settle = (outcome: () => void) => {
        destination.off('drain', onDrain);
        destination.off('error', onError);
        destination.off('close', onClose);
        outcome();
      };
      const onDrain = () => settle(resolve);
      const onError = (error: unknown) => settle(() => reject(error));
      const onClose = () => settle(() => reject(this.failure ?? closedEarly()));
      destination.once('drain', onDrain);
      destination.once('error', onError);
      destination.once('close', onClose);
    });
  }

  /** Ends the destination; for a file, moves it into place. */
  async finish(): Promise<{ bytes: number; sha256: string }> {
    const failure = this.failed();
    if (failure) throw failure;
    this.ending = true;
    const destination = this.destination;
    await new Promise<void>((resolve, reject) => {
      destination.once('error', reject);
      destination.end(() => resolve());
    });
    await this.commit();
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  /** Gives up: removes a partial file, or destroys a stream so its reader sees an aborted transfer. */
  async abort(): Promise<void> {
    await this.discard();
  }
}
