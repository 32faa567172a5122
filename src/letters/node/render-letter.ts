import { readFileSync } from 'node:fs';
import { renderLetterPdfFromFeed, type LetterRenderContext } from '../pdf/pdf-letter.js';
import { feedFrom, type SignatoryFeed } from '../template/signatory-feed.js';
import type { LetterDocument, LetterInput, RenderOptions, RenderResult } from '../template/types.js';
import { nodeFontFaces } from './node-font-faces.js';
import { NodePdfSink, type PdfDestination } from './pdf-sink.js';

/** Fonts from node_modules; the organisation's logo from its file (an absolute path once loaded). */
export const nodeRenderContext: LetterRenderContext = { fonts: nodeFontFaces, image: (path) => readFileSync(path) };

/**
 * Renders one letter in this thread to a file path (written under a temporary name, then moved
 * into place) or to a writable stream (an HTTP response, a PassThrough), waiting whenever the
 * destination is full. For many letters or long appendices, use the render pool.
 */
export async function renderLetter(input: LetterInput, output: string | PdfDestination, options: RenderOptions = {}): Promise<RenderResult> {
  return renderLetterFromFeed(input, feedFrom(input.signatures.signatories), output, options);
}

/** `renderLetter` with the signatories read through a feed (a render thread's link to the main thread). */
export async function renderLetterFromFeed(input: LetterDocument, feed: SignatoryFeed, output: string | PdfDestination, options: RenderOptions = {}): Promise<RenderResult> {
  const sink = typeof output === 'string' ? NodePdfSink.toFile(output) : NodePdfSink.toStream(output);
  return renderLetterPdfFromFeed(input, feed, sink, nodeRenderContext, options);
}
