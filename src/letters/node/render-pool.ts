import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { countListed, readBatches } from '../template/signatory-feed.js';
import { TemplateError, type TemplateErrorCode } from '../template/template-error.js';
import type { LetterInput, RenderOptions, RenderResult, Signatory } from '../template/types.js';
import type { PdfDestination } from './pdf-sink.js';
import type { FromWorker, SerializedError, ToWorker } from './render-protocol.js';

/** Renders letters on worker threads, so a 1,000,000-name appendix never blocks the HTTP server's event loop. */
export type LetterRenderPool = {
  /** Same contract as `renderLetter`; the signatories stay on this thread and are sent to the worker in batches. */
  render(input: LetterInput, output: string | PdfDestination, options?: RenderOptions): Promise<RenderResult>;
  /**
   * Starts the workers not started yet and resolves once every one has loaded the renderer.
   * Without it they start with the first letters, so an idle server holds no renderer in memory.
   */
  ready(): Promise<void>;
  /** Waits for running renders, then stops the workers. */
  close(): Promise<void>;
};

type Job = {
  id: number;
  input: LetterInput;
  output: string | PdfDestination;
  options: RenderOptions;
  resolve(result: RenderResult): void;
  reject(error: Error): void;
};

type Running = { job: Job; passes: Map<number, AsyncIterator<Signatory[]>>; ending: boolean };

type Slot = { worker: Worker; running: Running | null; ready: Promise<void>; failed(error: Error): void };

// From the sources this file registers tsx and loads render-worker.ts; in the compiled server
// (dist/node/, scripts/build.mjs) the compiled renderer itself has this name beside cli.js.
const bootstrap = new URL('./render-worker-bootstrap.mjs', import.meta.url);

const revive = (error: SerializedError): Error => {
  if (error.template) return new TemplateError(error.code as TemplateErrorCode, error.message, { variable: error.variable, line: error.line });
  const revived = new Error(error.message);
  revived.name = error.name;
  return revived;
};

/**
 * A fixed number of render workers (default: one fewer than the cores, at least one) taking
 * letters from a queue. Idle workers do not keep the process alive; a worker that fails is
 * replaced when the next letter needs it.
 */
export function createLetterRenderPool(options: { size?: number } = {}): LetterRenderPool {
  const size = Math.max(1, options.size ?? availableParallelism() - 1);
  const slots: Slot[] = [];
  const queue: Job[] = [];
  let nextId = 1;
  let closing = false;
  let idle: (() => void) | null = null;

  const post = (slot: Slot, message: ToWorker) => slot.worker.postMessage(message);

  const finish = (slot: Slot, outcome: { result: RenderResult } | { error: Error }) => {
    const running = slot.running;
    if (!running) return;
    slot.running = null;
    for (const iterator of running.passes.values()) void iterator.return?.();
    if ('result' in outcome) running.job.resolve(outcome.result);
    else {
      // As in process: a stream that will not get a whole PDF is aborted, never ended short.
      if (typeof running.job.output !== 'string') (running.job.output as { destroy?(error?: Error): unknown }).destroy?.(outcome.error);
      running.job.reject(outcome.error);
    }
    slot.worker.unref();
    dispatch();
  };

  /** Takes a worker out of service before failing its job, so the queue never lands on it again. */
  const retire = (slot: Slot, error: Error) => {
    const index = slots.indexOf(slot);
    if (index >= 0) slots.splice(index, 1);
    slot.failed(error);
    finish(slot, { error });
    void slot.worker.terminate();
  };

  const spawn = (): Slot => {
    // execArgv: [] — from the sources the bootstrap registers tsx itself; inheriting the parent's
    // loader flags (tsx's or vitest's) would differ between development and the tests.
    const worker = new Worker(bootstrap, { execArgv: [] });
    let markReady = () => {};
    let markFailed: (error: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      markFailed = reject;
    });
    // Nobody may be waiting for this worker to start; its failure then only retires it.
    ready.catch(() => undefined);
    const slot: Slot = { worker, running: null, ready, failed: markFailed };
    worker.on('message', (message: FromWorker) => (message.type === 'ready' ? markReady() : void handle(slot, message)));
    worker.on('error', (error) => retire(slot, error));
    worker.on('exit', (code) => retire(slot, new Error(`The letter render worker stopped (exit code ${code}).`)));
    worker.unref();
    slots.push(slot);
    return slot;
  };

  const handle = async (slot: Slot, message: Exclude<FromWorker, { type: 'ready' }>) => {
    const running = slot.running;
    if (!running || message.job !== running.job.id) return;
    const { job, passes } = running;
    switch (message.type) {
      case 'pull': {
        let iterator = passes.get(message.pass);
        if (!iterator) {
          for (const previous of passes.values()) void previous.return?.();
          passes.clear();
          iterator = readBatches(job.input.signatures.signatories)[Symbol.asyncIterator]();
          passes.set(message.pass, iterator);
        }
        try {
          const next = await iterator.next();
          if (slot.running === running) post(slot, { type: 'batch', job: job.id, pass: message.pass, rows: next.done ? null : next.value });
        } catch (error) {
          // The worker is mid-render, waiting for rows that will not come.
          retire(slot, error instanceof Error ? error : new Error(String(error)));
        }
        return;
      }
      case 'chunk': {
        const destination = job.output as PdfDestination;
        if (destination.write(message.chunk)) post(slot, { type: 'ack', job: job.id });
        else destination.once('drain', () => post(slot, { type: 'ack', job: job.id }));
        return;
      }
      case 'end': {
        running.ending = true;
        (job.output as PdfDestination).end(() => post(slot, { type: 'ended', job: job.id }));
        return;
      }
      case 'done':
        finish(slot, { result: message.result });
        return;
      case 'failed':
        finish(slot, { error: revive(message.error) });
    }
  };

  /** A stream that fails or closes before the PDF is complete stops its render: its worker would wait for acknowledgements forever. */
  const watch = (slot: Slot, running: Running, destination: PdfDestination) => {
    const stop = (error: Error) => {
      if (slot.running === running && !running.ending) retire(slot, error);
    };
    destination.on('error', (error) => stop(error instanceof Error ? error : new Error(String(error))));
    destination.once('close', () => stop(new Error('The destination closed before the letter was complete.')));
  };

  const start = async (slot: Slot, job: Job) => {
    const running: Running = { job, passes: new Map(), ending: false };
    slot.running = running;
    slot.worker.ref();
    if (typeof job.output !== 'string') watch(slot, running, job.output);
    try {
      const { signatories, ...counts } = job.input.signatures;
      // Counting happens here, beside the source, so the rows cross to the worker only once.
      const listed = job.input.recipientSignature ? 0 : await countListed(signatories);
      post(slot, {
        type: 'render',
        job: job.id,
        input: { ...job.input, signatures: counts },
        listed,
        output: typeof job.output === 'string' ? { kind: 'file', path: job.output } : { kind: 'stream' },
        options: job.options,
      });
    } catch (error) {
      finish(slot, { error: error instanceof Error ? error : new Error(String(error)) });
    }
  };

  const dispatch = () => {
    while (queue.length > 0) {
      const slot = slots.find((candidate) => !candidate.running) ?? (slots.length < size ? spawn() : null);
      if (!slot) return;
      void start(slot, queue.shift()!);
    }
    if (closing && slots.every((slot) => !slot.running)) idle?.();
  };

  return {
    ready: async () => {
      while (slots.length < size) spawn();
      const starting = [...slots];
      // Idle workers are unreferenced; while someone waits for them they must keep the process up.
      for (const slot of starting) slot.worker.ref();
      await Promise.all(starting.map((slot) => slot.ready));
      for (const slot of starting) if (!slot.running) slot.worker.unref();
    },
    render(input, output, renderOptions = {}) {
      if (closing) return Promise.reject(new Error('The letter render pool is closed.'));
      return new Promise<RenderResult>((resolve, reject) => {
        queue.push({ id: nextId++, input, output, options: renderOptions, resolve, reject });
        dispatch();
      });
    },
    async close() {
      closing = true;
      if (queue.length > 0 || slots.some((slot) => slot.running)) await new Promise<void>((resolve) => (idle = resolve));
      await Promise.all(slots.splice(0).map((slot) => slot.worker.terminate()));
    },
  };
}

/** Renders one letter on a worker thread of its own (started for it, stopped after). For many letters, keep a pool. */
export async function renderLetterInWorker(input: LetterInput, output: string | PdfDestination, options: RenderOptions = {}): Promise<RenderResult> {
  const pool = createLetterRenderPool({ size: 1 });
  try {
    return await pool.render(input, output, options);
  } finally {
    await pool.close();
  }
}
