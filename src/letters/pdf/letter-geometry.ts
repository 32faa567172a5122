import type { EnvelopeWindow, PageSize } from '../template/types.js';

/** Millimetres to PDF points. */
export const mm = (value: number): number => (value * 72) / 25.4;

/** A rectangle in millimetres from the sheet's top-left corner. */
export type BoxMm = { x: number; y: number; width: number; height: number };

/**
 * Where things go on page 1 of a letter, in millimetres from the top-left corner of the sheet.
 * docs/letters.md shows the same figures; change both together.
 */
export type LetterGeometry = {
  page: { width: number; height: number };
  margins: { left: number; right: number; top: number; bottom: number };
  /** The envelope window as it falls on the sheet once folded; nothing else is printed in it. */
  window: BoxMm | null;
  /** Where the recipient lines are set: the window less a safe inset, as the sheet can shift in the envelope. */
  address: BoxMm;
  /** The sender's address in small type above the recipient (DIN 5008 "Rücksendeangabe"), if the format has one; one or two lines. */
  returnAddress: BoxMm | null;
  /** Top of the letterhead block, set right-aligned against the right margin. */
  letterheadTop: number;
  /** The date, right-aligned against the right margin. */
  dateTop: number;
  /** Where the subject line starts. */
  bodyTop: number;
  /** Fold marks at the left edge (and the DIN punch mark), top offsets. */
  foldMarks: number[];
  punchMark: number | null;
  /** Baseline area of the "n / N" footer. */
  footerTop: number;
};

const a4 = { width: 210, height: 297 };
const letter = { width: 215.9, height: 279.4 };

const geometries: Record<Exclude<EnvelopeWindow, 'none'>, LetterGeometry> = {
  // DIN 5008 form B on A4 for DL / C6/5 window envelopes (DIN 680 window 90 × 45 mm at 20 mm from
  // the left): address field 85 × 45 mm at 20 mm from the left and 45 mm from the top, of which the
  // top 17.7 mm carry the return address and the lower 27.3 mm the recipient; fold marks at 105 and
  // 210 mm, punch mark at 148.5 mm, information block from 125 mm across and 50 mm down.
  'din5008-b': {
    page: a4,
    margins: { left: 25, right: 20, top: 20, bottom: 22 },
    window: { x: 20, y: 45, width: 85, height: 45 },
    returnAddress: { x: 25, y: 55, width: 80, height: 7 },
    address: { x: 25, y: 63.5, width: 80, height: 26 },
    letterheadTop: 12,
    dateTop: 50,
    bodyTop: 100,
    foldMarks: [105, 210],
    punchMark: 148.5,
    footerTop: 286,
  },
  // 長形3号 window envelope (120 × 235 mm) holding an A4 sheet folded in three (99 mm panels).
  // Window stock varies by maker; the common one is 90 × 45 mm whose corner falls about 20 mm from
  // the left and 15 mm from the top of the sheet. The recipient is inset 5 mm on each side so the
  // ±5 mm the folded sheet can slide still keeps every line visible. Date and sender sit top right,
  // as in a Japanese business letter.
  'jp-naga3': {
    page: a4,
    margins: { left: 25, right: 20, top: 20, bottom: 22 },
    window: { x: 20, y: 15, width: 90, height: 45 },
    returnAddress: null,
    address: { x: 25, y: 20, width: 80, height: 35 },
    letterheadTop: 24,
    dateTop: 15,
    bodyTop: 70,
    foldMarks: [99, 198],
    punchMark: null,
    footerTop: 286,
  },
  // US Letter folded in three (93.1 mm panels) in a No. 10 window envelope (window 4.5 × 1.125 in,
  // 0.875 in from the left and 0.5 in from the bottom): the area that stays visible however the
  // sheet slides is about 52–80 mm from the top.
  'us-10': {
    page: letter,
    margins: { left: 25.4, right: 25.4, top: 20, bottom: 22 },
    window: { x: 22, y: 52, width: 114, height: 28 },
    returnAddress: null,
    address: { x: 25.4, y: 54, width: 95, height: 24 },
    letterheadTop: 12,
    dateTop: 54,
    bodyTop: 90,
    foldMarks: [93.1, 186.3],
    punchMark: null,
    footerTop: 268.4,
  },
};

/** Page-1 geometry for a page size and envelope window. `none`: the address top left, no marks. */
export function letterGeometry(pageSize: PageSize, envelopeWindow: EnvelopeWindow): LetterGeometry {
  if (envelopeWindow !== 'none') return geometries[envelopeWindow];
  const page = pageSize === 'Letter' ? letter : a4;
  const side = pageSize === 'Letter' ? 25.4 : 25;
  return {
    page,
    margins: { left: side, right: pageSize === 'Letter' ? 25.4 : 20, top: 20, bottom: 22 },
    window: null,
    returnAddress: null,
    address: { x: side, y: 50, width: 90, height: 35 },
    letterheadTop: 12,
    dateTop: 50,
    bodyTop: 95,
    foldMarks: [],
    punchMark: null,
    footerTop: page.height - 11,
  };
}
