import type { R2Bucket } from '@cloudflare/workers-types';
import { isReplyFileName, isStoredFileName, letterBatchPrefix, letterFileName } from '../letter-files.js';
import type { LetterFiles } from '../letter-ports.js';

/**
 * Letter PDFs in an R2 bucket, under the same names as on disk (`letters/<batchId>/<letterId>.pdf`),
 * so a stored name is the object key and also where the renderer uploads to.
 */
export function createR2LetterFiles(bucket: R2Bucket): LetterFiles {
  return {
    async pathFor(batchId, letterId) {
      const key = letterFileName(batchId, letterId);
      return { stored: key, output: key };
    },
    async openRead(stored) {
      if (!isStoredFileName(stored)) return null;
      const object = await bucket.get(stored);
      if (!object) return null;
      return { body: object.body as unknown as ReadableStream<Uint8Array>, bytes: object.size };
    },
    async readBytes(stored) {
      if (!isStoredFileName(stored)) return null;
      const object = await bucket.get(stored);
      return object ? new Uint8Array(await object.arrayBuffer()) : null;
    },
    async removeBatch(batchId) {
      const prefix = letterBatchPrefix(batchId);
      let cursor: string | undefined;
      do {
        // One page of keys at a time (at most 1,000, which is also what one delete takes).
        const page = await bucket.list({ prefix, cursor });
        if (page.objects.length > 0) await bucket.delete(page.objects.map((object) => object.key));
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
    },
    async writeFile(stored, bytes, contentType) {
      if (!isReplyFileName(stored)) throw new Error(`not a reply file name: ${stored}`);
      await bucket.put(stored, bytes, { httpMetadata: { contentType } });
    },
    async removeFile(stored) {
      if (isStoredFileName(stored)) await bucket.delete(stored);
    },
  };
}
