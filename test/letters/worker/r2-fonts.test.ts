import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fontFilePath } from '../../../src/letters/node/font-files.js';
import { cachedR2Fonts, fontFaceNames, LetterFontMissing, loadR2Fonts } from '../../../src/letters/worker/r2-fonts.js';

// The Worker's fonts from R2 against an in-memory bucket; the real R2 API in workerd is exercised
// by test/worker/letters-probe.test.ts.

function fontBucket(missing: string[] = []) {
  const gets: string[] = [];
  const absent = new Set(missing);
  const bytes = new Map<string, ArrayBuffer>();
  const bucket = {
    gets,
    absent,
    async get(key: string) {
      gets.push(key);
      if (absent.has(key)) return null;
      return {
        async arrayBuffer() {
          let file = bytes.get(key);
          if (!file) {
            const [script, weight] = key.slice('fonts/'.length, -'.ttf'.length).split('-') as ['latin', 'regular'];
            const read = readFileSync(fontFilePath(script, weight));
            file = read.buffer.slice(read.byteOffset, read.byteOffset + read.byteLength) as ArrayBuffer;
            bytes.set(key, file);
          }
          return file;
        },
      };
    },
  };
  return bucket;
}

describe('letter fonts from R2', () => {
  it('reads all ten faces under fonts/ and parses each only when a letter asks for it', async () => {
    const bucket = fontBucket();
    const faces = await loadR2Fonts(bucket);
    expect(bucket.gets.sort()).toEqual(fontFaceNames.map((face) => `fonts/${face}.ttf`).sort());
    expect(faces.loadedFaces()).toEqual([]);
    expect(faces.get('jp', 'regular').has('あ'.codePointAt(0)!)).toBe(true);
    expect(faces.get('latin', 'regular').has('あ'.codePointAt(0)!)).toBe(false);
    expect(faces.loadedFaces()).toEqual(['jp-regular', 'latin-regular']);
  });

  it('names the missing face, its object and the command that uploads the fonts', async () => {
    const error = await loadR2Fonts(fontBucket(['fonts/kr-bold.ttf'])).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LetterFontMissing);
    expect(error).toMatchObject({ name: 'LetterFontMissing', face: 'kr-bold' });
    expect((error as Error).message).toBe(
      'The letter font kr-bold is not in the letters R2 bucket (object fonts/kr-bold.ttf), so no letter can be rendered. Upload the fonts with `npm run worker:fonts` (`-- --local` for the local bucket).',
    );
  });

  it('loads once per isolate, and tries again after a failed load', async () => {
    const bucket = fontBucket(['fonts/latin-bold.ttf']);
    const fonts = cachedR2Fonts(bucket);
    await expect(fonts()).rejects.toThrow(LetterFontMissing);
    bucket.absent.clear();
    const [first, second] = await Promise.all([fonts(), fonts()]);
    expect(second).toBe(first);
    expect(await fonts()).toBe(first);
    expect(bucket.gets).toHaveLength(2 * fontFaceNames.length);
  });
});
