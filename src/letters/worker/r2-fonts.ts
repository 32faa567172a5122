import { fontFiles, FontFaces, type FaceName } from '../pdf/font-faces.js';

/**
 * The letter faces on Workers: the same TTF files as on Node (`fontFiles` in ../pdf/face-files.ts),
 * kept in the letters R2 bucket under `fonts/<face>.ttf` (`npm run worker:fonts` puts them there;
 * `npm run worker:dev` does it for the local bucket). They are not part of the Worker: as data
 * modules they took 63 MB of every isolate's 128 MB before anything rendered, signature-only
 * isolates included. Now an isolate reads them on its first letter, all ten at once (layout asks
 * for coverage synchronously, so every face a letter may fall back to must be there before it
 * starts), and keeps them for the letters after.
 */

/** Every face, in `fontFiles` order. */
export const fontFaceNames = Object.keys(fontFiles) as FaceName[];

/** The R2 key of a face's TTF in the letters bucket. */
export const fontObjectKey = (face: FaceName) => `fonts/${face}.ttf`;

/** The part of an R2 bucket the fonts are read through (an `R2Bucket` fits; tests pass a fake). */
export type FontBucket = {
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
};

/** A face's file is not in the bucket: the installation is incomplete, not the letter. */
export class LetterFontMissing extends Error {
  constructor(readonly face: FaceName) {
    super(
      `The letter font ${face} is not in the letters R2 bucket (object ${fontObjectKey(face)}), so no letter can be rendered. ` +
        'Upload the fonts with `npm run worker:fonts` (`-- --local` for the local bucket).',
    );
    this.name = 'LetterFontMissing';
  }
}

/** Reads every face from the bucket, in parallel; rejects with LetterFontMissing naming the first missing one. */
export async function loadR2Fonts(bucket: FontBucket): Promise<FontFaces> {
  const loaded = await Promise.all(
    fontFaceNames.map(async (face) => {
      const object = await bucket.get(fontObjectKey(face));
      if (!object) throw new LetterFontMissing(face);
      return [face, await object.arrayBuffer()] as const;
    }),
  );
  const files = new Map<FaceName, ArrayBuffer>(loaded);
  return new FontFaces({ load: (face) => files.get(face)! });
}

/**
 * The faces of `bucket`, read once: the first call starts the load, later calls share it. A load
 * that fails is forgotten, so the next call tries again (e.g. after `npm run worker:fonts`).
 */
export function cachedR2Fonts(bucket: FontBucket): () => Promise<FontFaces> {
  let faces: Promise<FontFaces> | undefined;
  return () => {
    if (!faces) {
      const loading = loadR2Fonts(bucket);
      faces = loading;
      loading.catch(() => {
        if (faces === loading) faces = undefined;
      });
    }
    return faces;
  };
}

let isolateFonts: (() => Promise<FontFaces>) | undefined;

/**
 * The faces of this isolate, shared by every letter it renders (the Worker's one letters bucket:
 * the bucket of the first call is the one read).
 */
export function r2Fonts(bucket: FontBucket): Promise<FontFaces> {
  isolateFonts ??= cachedR2Fonts(bucket);
  return isolateFonts();
}
