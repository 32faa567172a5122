import type { LetterDocument, RenderOptions, RenderResult, Signatory } from '../template/types.js';

/** Messages between a render pool (main thread) and its workers. One job runs per worker at a time. */
export type ToWorker =
  | { type: 'render'; job: number; input: LetterDocument; listed: number; output: { kind: 'file'; path: string } | { kind: 'stream' }; options: RenderOptions }
  /** The next batch of a pass over the signatories; `rows: null` ends the pass. */
  | { type: 'batch'; job: number; pass: number; rows: Signatory[] | null }
  /** The main thread wrote a chunk; the worker may send another. */
  | { type: 'ack'; job: number }
  /** The destination stream has finished. */
  | { type: 'ended'; job: number };

export type SerializedError = { template: boolean; name: string; message: string; code?: string; variable?: string; line?: number };

export type FromWorker =
  /** The worker has loaded the renderer and takes jobs. */
  | { type: 'ready' }
  | { type: 'pull'; job: number; pass: number }
  | { type: 'chunk'; job: number; chunk: Uint8Array }
  | { type: 'end'; job: number }
  | { type: 'done'; job: number; result: RenderResult }
  | { type: 'failed'; job: number; error: SerializedError };
