import { create as createFontkitFont } from 'fontkit';
import { hanFaceForLanguage, splitRuns, type FaceScript, type HanFace } from '../../letters/pdf/font-runs.js';
import type { FaceName } from '../../letters/pdf/font-faces.js';
import type { OgFontSource } from './og-image-port.js';

type PathCommand = { command: 'moveTo' | 'lineTo' | 'quadraticCurveTo' | 'bezierCurveTo' | 'closePath'; args: number[] };
type FontkitGlyph = { path: { commands: PathCommand[] } };
type GlyphPosition = { xAdvance: number; xOffset: number; yOffset: number };
type FontkitFont = {
  unitsPerEm: number;
  hasGlyphForCodePoint(codePoint: number): boolean;
  layout(text: string): { glyphs: FontkitGlyph[]; positions: GlyphPosition[] };
};

const createFont = createFontkitFont as (buffer: Uint8Array) => FontkitFont;

const hangul = /[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af]/;
const kana = /[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]/;
const han = /[\u2e80-\u2fdf\u3005-\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[\u{20000}-\u{323af}]/u;

/** The Han face for text written in `language` (a campaign may be written in a language the pages do not offer). */
export function hanFaceFor(language: string): HanFace {
  return language === 'ja' || language === 'ko' || language === 'zh' || language === 'en' ? hanFaceForLanguage(language) : 'jp';
}

/**
 * The faces a card's texts need: Latin always, the Han face of the title's language when there
 * is Han, and the Korean or Japanese face for Hangul or kana. Other faces are never loaded (a
 * Chinese face is 10 MB), so fallback stays within these.
 */
export function facesNeeded(texts: string[], hanFace: HanFace): FaceScript[] {
  const all = texts.join('');
  const faces = new Set<FaceScript>(['latin']);
  if (han.test(all) || /[\u3000-\u303f\uff00-\uff65]/.test(all)) faces.add(hanFace);
  if (hangul.test(all)) faces.add('kr');
  if (kana.test(all)) faces.add('jp');
  return [...faces];
}

/** Text drawn as outlines, so the rasteriser needs no fonts of its own: one SVG path per line. */
export interface TextShaper {
  /** Advance width of `text` at `size` px. */
  width(text: string, size: number): number;
  /** The outline of `text` as SVG path data, its pen starting at (x, baseline). */
  outline(text: string, size: number, x: number, baseline: number): string;
}

const round = (value: number) => Math.round(value * 10) / 10;

/**
 * The bold Noto faces of one font source, each parsed once and kept (per process on Node, per
 * isolate on Workers). A face that failed to load is forgotten, so the next card tries again.
 */
export class OgFonts {
  private readonly faces = new Map<FaceName, Promise<FontkitFont>>();

  constructor(private readonly source: OgFontSource) {}

  private face(script: FaceScript): Promise<FontkitFont> {
    const name: FaceName = `${script}-bold`;
    let face = this.faces.get(name);
    if (!face) {
      face = this.source.load(name).then((bytes) => createFont(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)));
      this.faces.set(name, face);
      face.catch(() => this.faces.delete(name));
    }
    return face;
  }

  /** A shaper over the given faces; text any of them lacks is drawn with the fallback order of the letters (font-runs.ts). */
  async shaper(scripts: FaceScript[], hanFace: HanFace): Promise<TextShaper> {
    const loaded = new Map<FaceScript, FontkitFont>(await Promise.all(scripts.map(async (script) => [script, await this.face(script)] as const)));
    const covers = (script: FaceScript, codePoint: number) => loaded.get(script)?.hasGlyphForCodePoint(codePoint) ?? false;
    const runsOf = (text: string) => splitRuns(text, hanFace, covers, '?').runs;
    const eachGlyph = (text: string, size: number, visit: (glyph: FontkitGlyph, penX: number, position: GlyphPosition, scale: number) => void) => {
      let penX = 0;
      for (const run of runsOf(text)) {
        const font = loaded.get(run.face) ?? loaded.get('latin')!;
        const scale = size / font.unitsPerEm;
        const laidOut = font.layout(run.text);
        laidOut.glyphs.forEach((glyph, index) => {
          const position = laidOut.positions[index]!;
          visit(glyph, penX, position, scale);
          penX += position.xAdvance * scale;
        });
      }
      return penX;
    };
    return {
      width: (text, size) => eachGlyph(text, size, () => {}),
      outline: (text, size, x, baseline) => {
        const parts: string[] = [];
        eachGlyph(text, size, (glyph, penX, position, scale) => {
          const originX = x + penX + position.xOffset * scale;
          const originY = baseline - position.yOffset * scale;
          const point = (px: number, py: number) => `${round(originX + px * scale)} ${round(originY - py * scale)}`;
          for (const { command, args } of glyph.path.commands) {
            if (command === 'moveTo') parts.push(`M${point(args[0]!, args[1]!)}`);
            else if (command === 'lineTo') parts.push(`L${point(args[0]!, args[1]!)}`);
            else if (command === 'quadraticCurveTo') parts.push(`Q${point(args[0]!, args[1]!)} ${point(args[2]!, args[3]!)}`);
            else if (command === 'bezierCurveTo') parts.push(`C${point(args[0]!, args[1]!)} ${point(args[2]!, args[3]!)} ${point(args[4]!, args[5]!)}`);
            else parts.push('Z');
          }
        });
        return parts.join('');
      },
    };
  }
}
