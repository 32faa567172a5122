/**
 * Line breaking for the card's title: between any two CJK characters (Japanese, Chinese and
 * Korean titles have no spaces to break at, or need none), at spaces elsewhere, and inside a
 * word only when the word alone is wider than the line. Closing punctuation never starts a line
 * and opening punctuation never ends one (a small kinsoku rule).
 */

const cjk = /[\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]|[\u{20000}-\u{323af}]/u;
const noLineStart = new Set([...'、。，．,.・：；？！:;?!ー）」』】〕〉》］｝)]}ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々〜…']);
const noLineEnd = new Set([...'（「『【〔〈《［｛([{']);

/** Pieces between which a line may break; each keeps its trailing spaces. */
export function breakUnits(text: string): string[] {
  const units: string[] = [];
  let current = '';
  let previous = '';
  for (const char of text.replace(/\s+/g, ' ').trim()) {
    const breakBefore =
      current !== '' &&
      !noLineStart.has(char) &&
      !noLineEnd.has(previous) &&
      (previous === ' ' ? char !== ' ' : cjk.test(char) || cjk.test(previous) || noLineEnd.has(char));
    if (breakBefore) {
      units.push(current);
      current = '';
    }
    current += char;
    previous = char;
  }
  if (current) units.push(current);
  return units;
}

const ELLIPSIS = '…';

/**
 * Fills at most `maxLines` lines of `maxWidth` greedily; what does not fit ends the last line
 * with an ellipsis. `fits` tells whether a line (without trailing spaces) fits.
 */
export function wrapLines(text: string, maxLines: number, fits: (line: string) => boolean): { lines: string[]; truncated: boolean } {
  const lines: string[] = [];
  let line = '';
  const pending = breakUnits(text);
  while (pending.length > 0) {
    const unit = pending.shift()!;
    if (fits((line + unit).trimEnd())) {
      line += unit;
      continue;
    }
    if (line === '') {
      // A word wider than the whole line: split it where it overflows.
      const chars = [...unit];
      let head = '';
      while (chars.length > 0 && fits(head + chars[0])) head += chars.shift();
      if (head === '') head = chars.shift() ?? '';
      lines.push(head.trimEnd());
      if (chars.length > 0) pending.unshift(chars.join(''));
    } else {
      lines.push(line.trimEnd());
      line = '';
      pending.unshift(unit);
    }
    if (lines.length === maxLines) {
      if (line === '' && pending.length === 0) return { lines, truncated: false };
      return { lines: withEllipsis(lines, fits), truncated: true };
    }
  }
  if (line) lines.push(line.trimEnd());
  return { lines, truncated: false };
}

/** Shortens the last line until the ellipsis fits: by whole words where there are spaces, else by characters. */
function withEllipsis(lines: string[], fits: (line: string) => boolean): string[] {
  let last = lines[lines.length - 1]!;
  while (!fits(last + ELLIPSIS) && last.includes(' ')) last = last.slice(0, last.lastIndexOf(' ')).trimEnd();
  const chars = [...last];
  while (chars.length > 0 && !fits(chars.join('').trimEnd() + ELLIPSIS)) chars.pop();
  return [...lines.slice(0, -1), chars.join('').trimEnd() + ELLIPSIS];
}
