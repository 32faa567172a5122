import { EventEmitter } from 'node:events';
import { parentPort } from 'node:worker_threads';
import type { SignatoryFeed } from '../template/signatory-feed.js';
import { TemplateError } from '../template/template-error.js';
import type { Signatory } from '../template/types.js';
import type { PdfDestination } from './pdf-sink.js';
import { renderLetterFromFeed } from './render-letter.js';
import type { FromWorker, SerializedError, ToWorker } from './render-protocol.js';

if (!parentPort) throw new Error('render-worker.ts runs only as a worker thread (see render-pool.ts).');
const port = parentPort;
const send = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

// Chunks the main thread may hold unwritten before the renderer waits: bounds memory when the
// destination (an HTTP client, say) is slower than rendering.
const chunksInFlight = 16;

/** The PDF destination as seen from the worker: chunks go to the main thread, which acknowledges each once written. */
class PortDestination extends EventEmitter implements PdfDestination {
  private inFlight = 0;
  private onEnded: (() => void) | null = null;

  constructor(private readonly job: number) {
    super();
  }

  get writableNeedDrain(): boolean {
    return this.inFlight >= chunksInFlight;
  }

  write(chunk: Uint8Array): boolean {
    // pdfkit's chunks may be views into a shared pool, so each is copied before being transferred.
    const copy = new Uint8Array(chunk);
    this.inFlight++;
    send({ type: 'chunk', job: this.job, chunk: copy }, [copy.buffer]);
    return !this.writableNeedDrain;
  }

  end(callback?: () => void): void {
    this.onEnded = callback ?? null;
    send({ type: 'end', job: this.job });
  }

  acknowledged(): void {
    this.inFlight--;
    if (this.inFlight === chunksInFlight - 1) this.emit('drain');
  }

  ended(): void {
    this.emit('finish');
    this.onEnded?.();
  }
}

/** Reads signatories from the main thread, asking for the next batch while the current one renders. */
class PortFeed implements SignatoryFeed {
  private pass = 0;
  private readonly waiting = new Map<number, ((rows: Signatory[] | null) => void)[]>();
  private readonly arrived = new Map<number, (Signatory[] | null)[]>();

  constructor(
    private readonly job: number,
    private readonly listed: number,
  ) {}

  async countListed(): Promise<number> {
    return this.listed;
  }

  receive(pass: number, rows: Signatory[] | null): void {
    const waiter = this.waiting.get(pass)?.shift();
    if (waiter) waiter(rows);
    else this.arrived.set(pass, [...(this.arrived.get(pass) ?? []), rows]);
  }

  private next(pass: number): Promise<Signatory[] | null> {
    const ready = this.arrived.get(pass)?.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => this.waiting.set(pass, [...(this.waiting.get(pass) ?? []), resolve]));
  }

  async *batches(): AsyncGenerator<Signatory[]> {
    const pass = ++this.pass;
    send({ type: 'pull', job: this.job, pass });
    for (;;) {
      const rows = await this.next(pass);
      if (rows === null) return;
      send({ type: 'pull', job: this.job, pass });
      yield rows;
    }
  }
}

const serialize = (error: unknown): SerializedError => {
  if (error instanceof TemplateError) {
    return { template: true, name: error.name, message: error.message, code: error.code, variable: error.variable, line: error.line };
  }
  const plain = error instanceof Error ? error : new Error(String(error));
  return { template: false, name: plain.name, message: plain.message };
};

const jobs = new Map<number, { feed: PortFeed; destination: PortDestination | null }>();

port.on('message', (message: ToWorker) => {
  if (message.type === 'render') {
    const { job, input, listed, output, options } = message;
    const feed = new PortFeed(job, listed);
    const destination = output.kind === 'stream' ? new PortDestination(job) : null;
    jobs.set(job, { feed, destination });
    renderLetterFromFeed(input, feed, output.kind === 'file' ? output.path : destination!, options)
      .then((result) => send({ type: 'done', job, result }))
      .catch((error: unknown) => send({ type: 'failed', job, error: serialize(error) }))
      .finally(() => jobs.delete(job));
    return;
  }
  const current = jobs.get(message.job);
  if (!current) return;
  if (message.type === 'batch') current.feed.receive(message.pass, message.rows);
  else if (message.type === 'ack') current.destination?.acknowledged();
  else current.destination?.ended();
});

send({ type: 'ready' });
