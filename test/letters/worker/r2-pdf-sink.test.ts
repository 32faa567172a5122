import { createHash } from 'node:crypto';
import type { R2Bucket } from '@cloudflare/workers-types';
import { describe, expect, it } from 'vitest';
import { R2PdfSink } from '../../../src/letters/worker/r2-pdf-sink.js';

// The R2 sink's upload protocol against an in-memory bucket that keeps R2's rules for multipart
// uploads (every part but the last of one size, at least the minimum); the real R2 API in workerd
// is exercised by test/worker/letters-probe.test.ts.

type Upload = { parts: Map<number, Uint8Array>; aborted: boolean; completed: boolean };

function memoryBucket(minimumPart: number) {
  const objects = new Map<string, Uint8Array>();
  const uploads: Upload[] = [];
  const bytesOf = (value: unknown) => new Uint8Array(value as Uint8Array);
  const bucket = {
    async put(key: string, value: unknown) {
      objects.set(key, bytesOf(value));
      return {};
    },
    async createMultipartUpload(key: string) {
      const upload: Upload = { parts: new Map(), aborted: false, completed: false };
      uploads.push(upload);
      return {
        key,
        uploadId: String(uploads.length),
        async uploadPart(partNumber: number, value: unknown) {
          upload.parts.set(partNumber, bytesOf(value));
          return { partNumber, etag: `etag-${partNumber}` };
        },
        async abort() {
          upload.aborted = true;
        },
        async complete(parts: { partNumber: number; etag: string }[]) {
          const sizes = parts.map((part) => upload.parts.get(part.partNumber)!.length);
          if (sizes.slice(0, -1).some((size) => size < minimumPart || size !== sizes[0])) throw new Error(`parts of uneven or small sizes: ${sizes.join(', ')}`);
          const whole = new Uint8Array(sizes.reduce((sum, size) => sum + size, 0));
          let offset = 0;
          for (const part of parts) {
            whole.set(upload.parts.get(part.partNumber)!, offset);
            offset += upload.parts.get(part.partNumber)!.length;
          }
          objects.set(key, whole);
          upload.completed = true;
          return {};
        },
      };
    },
  };
  return { bucket: bucket as unknown as R2Bucket, objects, uploads };
}

const bytes = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) % 256);

async function write(sink: R2PdfSink, chunks: Uint8Array[]) {
  for (const chunk of chunks) {
    sink.write(chunk);
    await sink.ready();
  }
  return sink.finish();
}

describe('the R2 PDF sink', () => {
  it('stores a letter smaller than a part with one put, once complete', async () => {
    const { bucket, objects, uploads } = memoryBucket(100);
    const chunks = [bytes(30, 1), bytes(50, 2)];
    const sink = new R2PdfSink(bucket, 'letters/a.pdf', 100);
    sink.write(chunks[0]!);
    await sink.ready();
    expect(objects.size).toBe(0);
    sink.write(chunks[1]!);
    const result = await sink.finish();
    const expected = Buffer.concat(chunks);
    expect(Buffer.from(objects.get('letters/a.pdf')!)).toEqual(expected);
    expect(result).toEqual({ bytes: 80, sha256: createHash('sha256').update(expected).digest('hex') });
    expect(uploads).toEqual([]);
  });

  it('uploads a larger letter in parts of one size as they fill, chunks split across parts', async () => {
    const { bucket, objects, uploads } = memoryBucket(100);
    const chunks = [bytes(70, 1), bytes(250, 2), bytes(5, 3), bytes(100, 4), bytes(26, 5)];
    const result = await write(new R2PdfSink(bucket, 'letters/b.pdf', 100), chunks);
    const expected = Buffer.concat(chunks);
    expect(Buffer.from(objects.get('letters/b.pdf')!)).toEqual(expected);
    expect([...uploads[0]!.parts.values()].map((part) => part.length)).toEqual([100, 100, 100, 100, 51]);
    expect(result).toEqual({ bytes: 451, sha256: createHash('sha256').update(expected).digest('hex') });
  });

  it('ends on a full part without an empty last one', async () => {
    const { bucket, objects, uploads } = memoryBucket(100);
    await write(new R2PdfSink(bucket, 'letters/c.pdf', 100), [bytes(200, 1)]);
    expect([...uploads[0]!.parts.keys()]).toEqual([1, 2]);
    expect(objects.get('letters/c.pdf')).toHaveLength(200);
  });

  it('drops the upload when the render fails, storing nothing', async () => {
    const { bucket, objects, uploads } = memoryBucket(100);
    const sink = new R2PdfSink(bucket, 'letters/d.pdf', 100);
    sink.write(bytes(150, 1));
    await sink.ready();
    await sink.abort();
    expect(uploads[0]).toMatchObject({ aborted: true, completed: false });
    expect(objects.size).toBe(0);
  });
});
