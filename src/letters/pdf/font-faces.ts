import { create as createFontkitFont } from 'fontkit';
import type { FaceScript } from './font-runs.js';

export { fontFiles, type FaceName, type FaceWeight } from './face-files.js';
import type { FaceName, FaceWeight } from './face-files.js';

/**
 * Where the renderer gets its font files: the TTF bytes of one face (`fontFiles`). Asked once
 * per face, on first use, so a letter loads only the faces it draws with.
 */
export interface FontSource {
  load(face: FaceName): Uint8Array | ArrayBuffer;
}

/** The parts of a fontkit font (and glyph) that Signet reads. */
type FontkitGlyph = { id: number; advanceWidth: number };
type FontkitFont = {
  unitsPerEm: number;
  hasGlyphForCodePoint(codePoint: number): boolean;
  glyphForCodePoint(codePoint: number): FontkitGlyph;
  layout(text: string, features?: unknown): unknown;
};

// The same fontkit module as pdfkit's own (both import 'fontkit'), so the two always agree.
const createFont = createFontkitFont as (buffer: Uint8Array) => FontkitFont;

type LaidOutGlyph = { id: number; advanceWidth: number; codePoints: number[] };

/**
 * One face, loaded once per `FontFaces` (a process or render thread on Node, an isolate on
 * Workers) and shared by every letter rendered there.
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
    bytes: Uint8Array,
  ) {
    this.key = `${script}-${weight}`;
    this.font = createFont(bytes);
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

/** The faces of one font source, each loaded and parsed on first use, then shared. */
export class FontFaces {
  private readonly loaded = new Map<FaceName, FontFace>();

  constructor(private readonly source: FontSource) {}

  /** The shared face for a script and weight, loading its file on first use only. */
  get(script: FaceScript, weight: FaceWeight): FontFace {
    const name: FaceName = `${script}-${weight}`;
    let face = this.loaded.get(name);
    if (!face) {
      const bytes = this.source.load(name);
      face = new FontFace(script, weight, bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
      this.loaded.set(name, face);
    }
    return face;
  }

  /** The faces loaded so far (a letter in Latin script loads one or two). */
  loadedFaces(): FaceName[] {
    return [...this.loaded.keys()];
  }
}
