import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { letterFileName } from '../../../src/letters/letter-files.js';
import { createLetterFiles } from '../../../src/letters/node/letter-store.js';
import { withTempDir } from '../helpers.js';

const batchId = '0190f7a0-0000-7000-8000-000000000001';
const letterId = '0190f7a0-0000-7000-8000-000000000002';

describe('letter files on disk', () => {
  it('a download while the letter is rendered again over it gets one version whole, with that version\'s size', async () => {
    await withTempDir(async (dir) => {
      const files = createLetterFiles(dir);
      const stored = letterFileName(batchId, letterId);
      const path = join(dir, stored);
      await mkdir(join(dir, 'letters', batchId), { recursive: true });
      const versions = [Buffer.alloc(64 * 1024, 'a'), Buffer.alloc(48 * 1024, 'b')];
      await writeFile(path, versions[0]!);
      let swaps = 0;
      let stop = false;
      // What the redaction does: a new version written aside and renamed over the letter, again and again.
      const swapping = (async () => {
        while (!stop) {
          const partial = `${path}.${swaps}.partial`;
          await writeFile(partial, versions[++swaps % 2]!);
          await rename(partial, path);
        }
      })();
      const mismatches: string[] = [];
      for (let i = 0; i < 400; i++) {
        const opened = await files.openRead(stored);
        const body = Buffer.from(await new Response(opened!.body).arrayBuffer());
        if (body.length !== opened!.bytes || !versions.some((version) => version.equals(body))) mismatches.push(`${opened!.bytes} announced, ${body.length} read`);
      }
      stop = true;
      await swapping;
      expect(swaps).toBeGreaterThan(10);
      expect(mismatches).toEqual([]);
    });
  });
});
