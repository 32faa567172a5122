import { REPLY_FILE_MAX_BYTES } from '../services/replies.js';
import { attachmentDisposition } from './content-disposition.js';

/** A reply with its scan is larger than the API's usual 1 MB body: the file, plus room for the other fields and the multipart framing. */
export const REPLY_UPLOAD_MAX_BODY_BYTES = REPLY_FILE_MAX_BYTES + 64 * 1024;

/**
 * A stored reply scan as a download, for the API and the dashboard alike.
 * Whatever its bytes, a browser must not run them as this site's page:
 * attachment, nosniff, and a sandbox CSP that leaves a document opened
 * anyway without script or same-origin rights.
 */
export function replyFileResponse(file: { body: ReadableStream<Uint8Array>; bytes: number; type: string; filename: string; uniquePart: string }): Response {
  return new Response(file.body, {
    headers: {
      'Content-Type': file.type,
      'Content-Length': String(file.bytes),
      'Content-Disposition': attachmentDisposition(file.filename, file.uniquePart),
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "sandbox; default-src 'none'",
      'Cache-Control': 'no-store',
    },
  });
}
