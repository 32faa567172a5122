/** Letters on Node: templates read from `letters/`, PDFs on the local disk, rendering in process or on worker threads. */
export { listTemplates, loadTemplate, loadTemplateSource, loadOrganisation, loadUpdateTemplate, resolveTemplatePath, createTemplateFiles } from './template-files.js';
export { renderLetter, renderLetterFromFeed, nodeRenderContext } from './render-letter.js';
export { createLetterRenderPool, renderLetterInWorker, type LetterRenderPool } from './render-pool.js';
export { createLetterFiles, createLocalLetterPorts, type LocalLetterPortsOptions } from './letter-store.js';
export { fontFilePath, nodeFontSource } from './font-files.js';
export { fontFace, nodeFontFaces } from './node-font-faces.js';
export { NodePdfSink, type PdfDestination } from './pdf-sink.js';
