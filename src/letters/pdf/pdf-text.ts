import type PDFDocument from 'pdfkit';
import type { DocumentFace, FaceWeight, FontFaces } from './font-faces.js';
import { formatCodePoint, splitRuns, type FaceScript, type HanFace, type TextRun } from './font-runs.js';
import type { RenderWarning } from '../template/types.js';

type Doc = InstanceType<typeof PDFDocument>;

// Beyond this many distinct missing characters the list stops growing; counts of those already
// listed keep going up. A letter with thousands of distinct missing characters has one problem.
const maxDistinctWarnings = 200;

/** Missing glyphs met while rendering, one warning per character with how often and where first. */
export class GlyphWarnings {
  private readonly byCodePoint = new Map<number, RenderWarning>();

  add(missing: readonly number[], where: string): void {
    for (const cp of missing) {
      const known = this.byCodePoint.get(cp);
      if (known) known.occurrences++;
      else if (this.byCodePoint.size < maxDistinctWarnings) {
        this.byCodePoint.set(cp, { code: 'MISSING_GLYPH', codePoint: formatCodePoint(cp), char: String.fromCodePoint(cp), occurrences: 1, firstSeen: where });
      }
    }
  }

  list(): RenderWarning[] {
    return [...this.byCodePoint.values()];
  }
}

/** Text split into face runs, with its width at the size it was measured for. */
export type PreparedText = { runs: TextRun[]; width: number; missing: readonly number[] };

export type Style = { weight: FaceWeight; size: number; italic?: boolean };

const ellipsis = '…';

/** The parts of pdfkit's embedded font and page that `rowOperators` writes through. */
type PdfkitFont = { id: string; encode(text: string): [string[], unknown[]]; ref(): unknown };
type PdfkitInternals = { _font: PdfkitFont; page: { fonts: Record<string, unknown>; height: number } };

const ascii = new TextEncoder();

const pdfNumber = (value: number): string => String(Math.round(value * 100) / 100);

/**
 * Draws text in one pdfkit document through per-run font fallback. Faces are registered with the
 * document on first use only, so a letter embeds just the faces it needs.
 */
export class PdfText {
  private readonly faces = new Map<string, { document: DocumentFace; pdfkit?: PdfkitFont }>();
  private current = '';
  private direct = false;
  readonly warnings = new GlyphWarnings();

  constructor(
    private readonly doc: Doc,
    private readonly fonts: FontFaces,
  ) {}

  private face(script: FaceScript, weight: FaceWeight) {
    const key = `${script}-${weight}`;
    let entry = this.faces.get(key);
    if (!entry) {
      const document = this.fonts.get(script, weight).forDocument();
      document.direct = this.direct;
      // pdfkit takes any object with a fontkit-style layout() as a font source (PDFFontFactory.open).
      this.doc.registerFont(key, document as unknown as Uint8Array);
      entry = { document };
      this.faces.set(key, entry);
    }
    return entry;
  }

  private use(script: FaceScript, weight: FaceWeight, size: number): void {
    const key = `${script}-${weight}`;
    if (key !== this.current) {
      this.face(script, weight);
      this.doc.font(key);
      this.current = key;
    }
    this.doc.fontSize(size);
  }

  /**
   * Lays text out one glyph per character from here on (the appendix), where widths then come
   * from cached advances instead of a layout pass per string.
   */
  useDirectLayout(): void {
    this.direct = true;
    for (const { document } of this.faces.values()) document.direct = true;
  }

  covers = (script: FaceScript, codePoint: number): boolean => this.fonts.get(script, 'regular').has(codePoint);

  /** Splits `text` into runs for `han`, measured at `style`, reporting missing glyphs under `where`. */
  prepare(text: string, han: HanFace, style: Style, where: string): PreparedText {
    const { runs, missing } = splitRuns(text, han, this.covers, '\uFFFD');
    this.warnings.add(missing, where);
    return { runs, width: this.measure(runs, style), missing };
  }

  /** Text known to be in the Latin face (row numbers), without splitting. */
  latin(text: string, style: Style): PreparedText {
    const runs = [{ face: 'latin' as const, text }];
    return { runs, width: this.measure(runs, style), missing: [] };
  }

  measure(runs: readonly TextRun[], style: Style): number {
    let width = 0;
    for (const run of runs) {
      if (this.direct) width += this.fonts.get(run.face, style.weight).widthOf(run.text, style.size);
      else {
        this.use(run.face, style.weight, style.size);
        width += this.doc.widthOfString(run.text);
      }
    }
    return width;
  }

  /** Cuts prepared text to `maxWidth`, ending it with "…", so every appendix row stays one line high. */
  truncate(text: PreparedText, maxWidth: number, style: Style): PreparedText {
    if (text.width <= maxWidth) return text;
    const runs: TextRun[] = [];
    let width = 0;
    for (const run of text.runs) {
      const face = this.fonts.get(run.face, style.weight);
      let kept = '';
      for (const char of run.text) {
        const charWidth = face.widthOf(char, style.size);
        const ellipsisWidth = face.widthOf(ellipsis, style.size);
        if (width + charWidth + ellipsisWidth > maxWidth) {
          const end = face.has(ellipsis.codePointAt(0)!) ? run.face : 'latin';
          runs.push({ face: run.face, text: kept }, { face: end, text: ellipsis });
          return { runs: runs.filter((r) => r.text), width: width + this.fonts.get(end, style.weight).widthOf(ellipsis, style.size), missing: text.missing };
        }
        kept += char;
        width += charWidth;
      }
      runs.push({ face: run.face, text: kept });
    }
    return { runs, width, missing: text.missing };
  }

  /**
   * Draws prepared text on one line with its baseline at `baseline`. Runs in different faces share
   * the baseline (faces differ in ascent, so top-aligned runs would sit at different heights).
   */
  drawLine(text: PreparedText, x: number, baseline: number, style: Style, align: 'left' | 'right' = 'left'): void {
    let cursor = align === 'right' ? x - text.width : x;
    const many = text.runs.length > 1;
    for (const run of text.runs) {
      this.use(run.face, style.weight, style.size);
      const width = this.direct ? this.fonts.get(run.face, style.weight).widthOf(run.text, style.size) : many || align === 'right' ? this.doc.widthOfString(run.text) : undefined;
      this.doc.text(run.text, cursor, baseline, {
        lineBreak: false,
        baseline: 'alphabetic',
        oblique: style.italic ? 12 : undefined,
        ...(width === undefined ? {} : { textWidth: width, wordCount: 1 }),
      } as PDFKit.Mixins.TextOptions);
      if (width !== undefined) cursor += width;
    }
  }

  /**
   * Draws several one-line texts (an appendix row) with one content write. pdfkit's text() costs
   * a dozen content writes and option objects per call; for a million rows that garbage dominates
   * the render, so rows are encoded here through the same embedded fonts (subsetting and
   * ToUnicode still come from pdfkit). Direct layout only.
   */
  drawRow(cells: readonly { text: PreparedText; x: number; align: 'left' | 'right' }[], baseline: number, style: Style): void {
    // Bytes, not a string: pdfkit would otherwise convert the string one character at a time. The
    // operators are ASCII (numbers, names and hex glyph codes), so UTF-8 is their latin1 too; both
    // pdfkit builds take a Uint8Array as page content.
    this.doc.addContent(ascii.encode(`${this.rowOperators(cells, baseline, style)}\n`) as unknown as string);
  }

  private rowOperators(cells: readonly { text: PreparedText; x: number; align: 'left' | 'right' }[], baseline: number, style: Style): string {
    const doc = this.doc as unknown as PdfkitInternals;
    const y = pdfNumber(doc.page.height - baseline);
    const size = pdfNumber(style.size);
    let ops = `q 1 0 0 -1 0 ${pdfNumber(doc.page.height)} cm BT`;
    let currentFont = '';
    for (const { text, x, align } of cells) {
      let cursor = align === 'right' ? x - text.width : x;
      for (const run of text.runs) {
        const font = this.pdfkitFont(run.face, style.weight);
        if (doc.page.fonts[font.id] === undefined) doc.page.fonts[font.id] = font.ref();
        if (font.id !== currentFont) {
          ops += ` /${font.id} ${size} Tf`;
          currentFont = font.id;
        }
        ops += ` 1 0 0 1 ${pdfNumber(cursor)} ${y} Tm <${font.encode(run.text)[0].join('')}> Tj`;
        cursor += this.fonts.get(run.face, style.weight).widthOf(run.text, style.size);
      }
    }
    return `${ops} ET Q`;
  }

  private pdfkitFont(script: FaceScript, weight: FaceWeight): PdfkitFont {
    const entry = this.face(script, weight);
    if (!entry.pdfkit) {
      const key = `${script}-${weight}`;
      this.doc.font(key);
      this.current = key;
      entry.pdfkit = (this.doc as unknown as PdfkitInternals)._font;
      if (typeof entry.pdfkit?.encode !== 'function' || typeof entry.pdfkit.id !== 'string') {
        throw new Error('This pdfkit version does not expose the embedded-font API the appendix writer relies on (font.encode, font.id).');
      }
    }
    return entry.pdfkit;
  }

  /**
   * Flows styled text as one wrapping paragraph from (x, y) in `width`, switching faces within
   * lines; pdfkit breaks lines (UAX #14, so CJK text breaks between characters) and adds pages.
   */
  drawFlow(pieces: { text: PreparedText; style: Style }[], x: number, y: number, width: number, lineGap: number): void {
    const runs = pieces.flatMap(({ text, style }) => text.runs.map((run) => ({ run, style })));
    runs.forEach(({ run, style }, index) => {
      this.use(run.face, style.weight, style.size);
      const textOptions: PDFKit.Mixins.TextOptions = { continued: index < runs.length - 1, lineGap, oblique: style.italic ? 12 : false };
      if (index === 0) this.doc.text(run.text, x, y, { ...textOptions, width });
      else this.doc.text(run.text, textOptions);
    });
  }
}
