import { nameForLetter } from './signatory-names.js';
import type { Signatory, SignatorySource } from './types.js';

/**
 * How the renderer reads signatories: a count of the named ones first (so every page can print
 * "n / N"), then the rows in batches. In-process it wraps the caller's source; in a worker it
 * asks the main thread, which keeps the source.
 */
export type SignatoryFeed = {
  countListed(): Promise<number>;
  batches(): AsyncIterable<Signatory[]>;
};

/** Whether a signatory appears in the appendix: they chose `full` or `initials` and their name has a letter to show. */
export function isListed(signatory: Signatory): boolean {
  return nameForLetter(signatory) !== '';
}

function openSignatories(source: SignatorySource): Iterable<Signatory> | AsyncIterable<Signatory> {
  if (typeof source === 'function') return source();
  const syncIterator = Symbol.iterator in source ? source[Symbol.iterator]() : undefined;
  const asyncIterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : undefined;
  if ((syncIterator as unknown) === source || (asyncIterator as unknown) === source) {
    throw new TypeError(
      'signatures.signatories is read twice (to count pages, then to write them): pass an array or a function returning a fresh iterable, not a generator.',
    );
  }
  return source;
}

const batchSize = 1000;

/** Reads a source in batches, so a sync source costs no promise per row and an async one keeps its own pace. */
export async function* readBatches(source: SignatorySource): AsyncGenerator<Signatory[]> {
  const iterable = openSignatories(source);
  let batch: Signatory[] = [];
  if (Symbol.iterator in iterable) {
    for (const signatory of iterable as Iterable<Signatory>) {
      batch.push(signatory);
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
  } else {
    for await (const signatory of iterable as AsyncIterable<Signatory>) {
      batch.push(signatory);
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

export async function countListed(source: SignatorySource): Promise<number> {
  let listed = 0;
  for await (const batch of readBatches(source)) for (const signatory of batch) if (isListed(signatory)) listed++;
  return listed;
}

export function feedFrom(source: SignatorySource): SignatoryFeed {
  return { countListed: () => countListed(source), batches: () => readBatches(source) };
}
