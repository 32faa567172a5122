import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FaceScript } from './font-runs.js';

export type FaceWeight = 'regular' | 'bold';

const packages: Record<FaceScript, { name: string; file: string }> = {
  latin: { name: 'noto-sans', file: 'NotoSans' },
  jp: { name: 'noto-sans-jp', file: 'NotoSansJP' },
  sc: { name: 'noto-sans-sc', file: 'NotoSansSC' },
  tc: { name: 'noto-sans-tc', file: 'NotoSansTC' },
  kr: { name: 'noto-sans-kr', file: 'NotoSansKR' },
};

const weights: Record<FaceWeight, string> = { regular: '400Regular', bold: '700Bold' };

const require = createRequire(import.meta.url);

/** Path of a face's single-face TTF inside its @expo-google-fonts package (never a .ttc: subsetting one is about 3x slower). */
export function fontFilePath(script: FaceScript, weight: FaceWeight): string {
  const { name, file } = packages[script];
  return require.resolve(`@expo-google-fonts/${name}/${weights[weight]}/${file}_${weights[weight]}.ttf`);
}

/** The parts of a fontkit font (and glyph) that Signet reads. */
type FontkitGlyph = { id: number; advanceWidth: number };
type FontkitFont = {
  unitsPerEm: number;
  hasGlyphForCodePoint(codePoint: number): boolean;
  glyphForCodePoint(codePoint: number): FontkitGlyph;
  layout(text: string, features?: unknown): unknown;
};

// fontkit is what pdfkit embeds and subsets fonts with; it is resolved from pdfkit's own
// dependencies so both always agree on the version.
const fontkit = createRequire(require.resolve('pdfkit'))('fontkit') as { create(buffer: Uint8Array): FontkitFont };

type LaidOutGlyph = { id: number; advanceWidth: number; codePoints: number[] };

/**
 * One face, loaded once per process (or worker) and shared by every letter rendered there.
 * Coverage and glyph lookups are cached because fontkit's cmap lookups decode table entries on
 * every call, and the appendix asks them for every character of every name.
 */
export class FontFace {
  readonly key: string;
  private readonly font: FontkitFont;
  private readonly unitsPerEm: number;
  private readonly coverage = new Uint8Array(0x110000);
  private readonly glyphs = new Map<number, LaidOutGlyph>();

  constructor(
    readonly script: FaceScript,
    readonly weight: FaceWeight,
  ) {
    this.key = `${script}-${weight}`;
    this.font = fontkit.create(readFileSync(fontFilePath(script, weight)));
    this.unitsPerEm = this.font.unitsPerEm;
  }

  has(codePoint: number): boolean {
    let known = this.coverage[codePoint];
    if (known === 0) this.coverage[codePoint] = known = this.font.hasGlyphForCodePoint(codePoint) ? 1 : 2;
    return known === 1;
  }

  private glyph(codePoint: number): LaidOutGlyph {
    let glyph = this.glyphs.get(codePoint);
    if (!glyph) {
      const { id, advanceWidth } = this.font.glyphForCodePoint(codePoint);
      glyph = { id, advanceWidth, codePoints: [codePoint] };
      this.glyphs.set(codePoint, glyph);
    }
    return glyph;
  }

  /** Advance width of `text` at `size` points, one glyph per code point (the appendix's layout). */
  widthOf(text: string, size: number): number {
    let units = 0;
    for (const char of text) units += this.glyph(char.codePointAt(0)!).advanceWidth;
    return (units * size) / this.unitsPerEm;
  }

  /**
   * A font object for one pdfkit document. pdfkit accepts any object with a fontkit-like `layout`,
   * so this inherits everything from the shared fontkit font (subsetting included) and decides per
   * document how text is laid out: OpenType shaping (kerning, ligatures) for the letter itself, or
   * a direct one-glyph-per-character mapping for the appendix, where shaping a million names would
   * cost tens of seconds and changes nothing for CJK, Hangul and precomposed Latin.
   */
  forDocument(): DocumentFace {
    const face = Object.create(this.font) as DocumentFace;
    face.direct = false;
    const shared = this.font;
    face.layout = (text: string, features?: unknown) => (face.direct ? this.layoutDirect(text) : shared.layout(text, features));
    return face;
  }

  private layoutDirect(text: string) {
    const glyphs: LaidOutGlyph[] = [];
    const positions: { xAdvance: number; yAdvance: number; xOffset: number; yOffset: number }[] = [];
    let advanceWidth = 0;
    for (const char of text) {
      const glyph = this.glyph(char.codePointAt(0)!);
      glyphs.push(glyph);
      // pdfkit scales positions in place, so each call needs fresh objects.
      positions.push({ xAdvance: glyph.advanceWidth, yAdvance: 0, xOffset: 0, yOffset: 0 });
      advanceWidth += glyph.advanceWidth;
    }
    return { glyphs, positions, advanceWidth };
  }
}

/** A face as handed to one pdfkit document; `direct` switches it to one-glyph-per-character layout. */
export type DocumentFace = FontkitFont & { direct: boolean };

const loaded: Record<FaceWeight, Partial<Record<FaceScript, FontFace>>> = { regular: {}, bold: {} };

/** The shared face for a script and weight, loading its file on first use only. */
export function fontFace(script: FaceScript, weight: FaceWeight): FontFace {
  return (loaded[weight][script] ??= new FontFace(script, weight));
}
