import type { R2Bucket, R2MultipartUpload, R2UploadedPart } from '@cloudflare/workers-types';
import { createHash } from 'node:crypto';
import type { PdfSink } from '../pdf/pdf-sink.js';

/**
 * R2 wants every part of a multipart upload but the last to be the same size, at least 5 MiB.
 * 8 MiB keeps a 100,000-name letter to a handful of parts and the sink's memory to 16 MiB.
 */
export const defaultPartSize = 8 * 1024 * 1024;

/**
 * Uploads a PDF to R2 as it is rendered. A letter that fits in one part (nearly all) is stored
 * with a single `put` once complete; a longer one becomes a multipart upload, a part sent as each
 * fills, so neither is held in memory whole, let alone twice. The renderer waits (`ready`) while
 * a part is on its way. Nothing is stored under the key until the PDF is complete.
 */
export class R2PdfSink implements PdfSink {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private part: Uint8Array;
  private filled = 0;
  private upload: Promise<R2MultipartUpload> | null = null;
  private readonly parts: Promise<R2UploadedPart>[] = [];
  private sending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly bucket: R2Bucket,
    private readonly key: string,
    private readonly partSize = defaultPartSize,
  ) {
    this.part = new Uint8Array(partSize);
  }

  write(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    let offset = 0;
    while (offset < chunk.length) {
      const taken = Math.min(chunk.length - offset, this.partSize - this.filled);
      this.part.set(chunk.subarray(offset, offset + taken), this.filled);
      this.filled += taken;
      offset += taken;
      if (this.filled === this.partSize) this.sendPart(this.part);
    }
  }

  /** Starts uploading a full part; the next one fills a fresh buffer meanwhile. */
  private sendPart(bytes: Uint8Array): void {
    this.upload ??= this.bucket.createMultipartUpload(this.key, { httpMetadata: { contentType: 'application/pdf' } });
    const upload = this.upload;
    const partNumber = this.parts.length + 1;
    const sent = upload.then((started) => started.uploadPart(partNumber, bytes));
    // Observed by `ready` or `finish`; marked handled so a failure is not also reported as unhandled.
    sent.catch(() => undefined);
    this.parts.push(sent);
    this.sending = Promise.all(this.parts);
    this.part = new Uint8Array(this.partSize);
    this.filled = 0;
  }

  /** Waits for the parts on their way (one, normally), so memory holds at most one beside the one filling; rejects when one failed. */
  async ready(): Promise<void> {
    await this.sending;
  }

  async finish(): Promise<{ bytes: number; sha256: string }> {
    const sha256 = this.hash.digest('hex');
    const rest = this.part.subarray(0, this.filled);
    if (!this.upload) {
      await this.bucket.put(this.key, rest, { httpMetadata: { contentType: 'application/pdf' }, sha256 });
    } else {
      if (rest.length > 0) this.sendPart(rest);
      const parts = await Promise.all(this.parts);
      await (await this.upload).complete(parts);
    }
    return { bytes: this.bytes, sha256 };
  }

  /** Drops a multipart upload and the parts sent; a failure to abort leaves R2 to expire them. */
  async abort(): Promise<void> {
    if (!this.upload) return;
    await Promise.allSettled(this.parts);
    try {
      await (await this.upload).abort();
    } catch {
      // Nothing is stored under the key either way; an incomplete upload expires on its own.
    }
  }
}
