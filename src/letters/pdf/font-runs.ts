import type { LetterLanguage } from '../template/types.js';

/** The single-script faces a letter is set in: Noto Sans for Latin, Greek and Cyrillic, and one Noto Sans CJK face per region. */
export const faceScripts = ['latin', 'jp', 'sc', 'tc', 'kr'] as const;
export type FaceScript = (typeof faceScripts)[number];

/** Which regional face draws Han characters: the same character has different standard shapes in JP, SC, TC and KR. */
export type HanFace = Exclude<FaceScript, 'latin'>;

/** Answers whether a face has a glyph for a code point. */
export type GlyphCoverage = (face: FaceScript, codePoint: number) => boolean;

export type TextRun = { face: FaceScript; text: string };

export type SplitText = {
  runs: TextRun[];
  /** Code points no face has, in order met; each was printed as `replacement`. */
  missing: number[];
};

type CharClass = 'hangul' | 'kana' | 'han' | 'cjk-neutral' | 'neutral' | 'other';

const inRange = (cp: number, from: number, to: number) => cp >= from && cp <= to;

// Ranges rather than \p{Script=…} tests: this runs for every character of up to a million names.
const classify = (cp: number): CharClass => {
  if (cp < 0x80) return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) ? 'other' : 'neutral';
  if (cp < 0x1100) return cp === 0xa0 ? 'neutral' : 'other';
  if (inRange(cp, 0x1100, 0x11ff) || inRange(cp, 0x3130, 0x318f) || inRange(cp, 0xa960, 0xa97f) || inRange(cp, 0xac00, 0xd7ff)) return 'hangul';
  if (inRange(cp, 0x3040, 0x30ff) || inRange(cp, 0x31f0, 0x31ff) || inRange(cp, 0xff66, 0xff9f) || inRange(cp, 0x1b000, 0x1b16f)) return 'kana';
  if (
    inRange(cp, 0x2e80, 0x2fdf) ||
    inRange(cp, 0x3005, 0x3007) ||
    inRange(cp, 0x3021, 0x3029) ||
    inRange(cp, 0x3038, 0x303b) ||
    inRange(cp, 0x3400, 0x4dbf) ||
    inRange(cp, 0x4e00, 0x9fff) ||
    inRange(cp, 0xf900, 0xfaff) ||
    inRange(cp, 0x20000, 0x323af)
  ) {
    return 'han';
  }
  if (inRange(cp, 0x3000, 0x303f) || inRange(cp, 0xff00, 0xff65) || inRange(cp, 0xfe30, 0xfe4f)) return 'cjk-neutral';
  if (inRange(cp, 0x2000, 0x206f)) return 'neutral';
  return 'other';
};

// Invisible by definition (joiners, variation selectors, bidi marks, BOM); no face needs to draw them.
const defaultIgnorable = /\p{Default_Ignorable_Code_Point}/u;

const hanFirst = (han: HanFace): FaceScript[] => [han, ...(['jp', 'sc', 'tc', 'kr'] as const).filter((face) => face !== han), 'latin'];

/** Preference lists per class and Han face, built once. */
const orders = new Map<string, FaceScript[]>();
const orderFor = (charClass: CharClass, han: HanFace): FaceScript[] => {
  const key = `${charClass}:${han}`;
  let order = orders.get(key);
  if (!order) {
    if (charClass === 'hangul') order = ['kr', ...hanFirst(han).filter((f) => f !== 'kr')];
    else if (charClass === 'kana') order = ['jp', ...hanFirst(han).filter((f) => f !== 'jp')];
    else if (charClass === 'han' || charClass === 'cjk-neutral') order = hanFirst(han);
    else order = ['latin', ...hanFirst(han).filter((f) => f !== 'latin')];
    orders.set(key, order);
  }
  return order;
};

/**
 * Splits text into runs that each one face can draw (font fallback). Hangul goes to the Korean
 * face and kana to the Japanese one; Han characters to `han` first, so a name keeps one regional
 * style; everything else to the Latin face first. Spaces, digits and punctuation stay in the run
 * they are in when its face has them, so "山田 太郎" is one run and "José, 東京" switches only once.
 * A character no face has is reported in `missing` and printed as `replacement`.
 */
export function splitRuns(text: string, han: HanFace, covers: GlyphCoverage, replacement = '?'): SplitText {
  const runs: TextRun[] = [];
  const missing: number[] = [];
  let face: FaceScript | null = null;
  let current = '';
  const emit = (nextFace: FaceScript, chars: string) => {
    if (nextFace !== face && current) {
      runs.push({ face: face!, text: current });
      current = '';
    }
    face = nextFace;
    current += chars;
  };
  for (const char of text) {
    const cp = char.codePointAt(0)!;
    const charClass = classify(cp);
    if (cp > 0x7f && (charClass === 'other' || charClass === 'neutral') && defaultIgnorable.test(char)) continue;
    if ((charClass === 'neutral' || charClass === 'cjk-neutral') && face && covers(face, cp)) {
      emit(face, char);
      continue;
    }
    const chosen = orderFor(charClass, han).find((candidate) => covers(candidate, cp));
    if (chosen) {
      emit(chosen, char);
      continue;
    }
    missing.push(cp);
    emit(face && covers(face, replacement.codePointAt(0)!) ? face : 'latin', replacement);
  }
  if (current) runs.push({ face: face!, text: current });
  return { runs, missing };
}

const hanByLanguage: Record<LetterLanguage, HanFace> = { en: 'jp', ja: 'jp', ko: 'kr', zh: 'sc' };

/** The Han face for a letter's own text. English letters use JP: Signet's senders are Japan-based and most Han text they quote is Japanese. */
export function hanFaceForLanguage(language: LetterLanguage): HanFace {
  return hanByLanguage[language];
}

const traditionalRegions = new Set(['TW', 'HK', 'MO']);

/**
 * The Han face for a supporter's name: Traditional Chinese for zh-Hant, zh-TW/HK/MO locales or
 * (without a locale) a TW/HK/MO address; Simplified for other Chinese locales or a CN/SG address;
 * Japanese for a ja locale or a JP address; Korean for a ko locale; otherwise the letter's own face.
 */
export function hanFaceForSignatory(locale: string | undefined, country: string | undefined, fallback: HanFace): HanFace {
  if (locale) {
    const [language, ...subtags] = locale.replace(/_/g, '-').split('-').map((part) => part.toUpperCase());
    if (language === 'ZH') {
      if (subtags.includes('HANT') || subtags.some((tag) => traditionalRegions.has(tag))) return 'tc';
      if (subtags.includes('HANS') || subtags.length > 0) return 'sc';
      return country && traditionalRegions.has(country.toUpperCase()) ? 'tc' : 'sc';
    }
    if (language === 'JA') return 'jp';
    if (language === 'KO') return 'kr';
  }
  if (country) {
    const code = country.toUpperCase();
    if (traditionalRegions.has(code)) return 'tc';
    if (code === 'CN' || code === 'SG') return 'sc';
    if (code === 'JP') return 'jp';
  }
  return fallback;
}

export function formatCodePoint(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}
