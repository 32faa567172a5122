const eastAsianLetter = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/** The first letter of the name is Han, kana or Hangul: written family name first, often without spaces. */
export function startsWithEastAsianLetter(name: string): boolean {
  const first = /\p{L}/u.exec(name.normalize('NFC'));
  return first !== null && eastAsianLetter.test(first[0]);
}

// Separators between the parts of a name: spaces (U+3000 included) and the middle dots that
// split foreign names written in kana ("ジョン・スミス").
const nameParts = /[\s\u00b7\u30fb\uff65\u2027=\uff1d]+/u;
const letters = /\p{L}/gu;
const mask = '○';

function latinInitial(part: string): string {
  return part
    .split('-')
    .map((piece) => {
      const letter = /\p{L}/u.exec(piece);
      return letter ? `${letter[0].toLocaleUpperCase()}.` : '';
    })
    .filter(Boolean)
    .join('-');
}

function eastAsianInitial(part: string): string {
  const [first = '', ...rest] = part.match(letters) ?? [];
  return first + mask.repeat(rest.length);
}

/**
 * A name reduced to initials for supporters who chose `nameOnLetter: 'initials'`, part by part
 * (parts are separated by spaces or a middle dot):
 *
 * - a part whose first letter is Latin (or any alphabet): that letter, upper-cased, with a full
 *   stop; hyphenated parts keep their hyphen ("Jean-Luc Picard" → "J.-L. P.", "jane doe" → "J. D.");
 * - a part whose first letter is Han, kana or Hangul: that character, each further letter masked
 *   with ○, as Japanese, Chinese and Korean readers are used to see a withheld name
 *   ("鈴木 一郎" → "鈴○ 一○", "김민수" → "김○○", "张伟" → "张○"). A name written without a space
 *   cannot be split into family and given name, so only its first character shows ("山田太郎" →
 *   "山○○○"), never a given-name character a reader could not tell apart from the family name.
 *
 * Only letters are kept or masked: digits, punctuation, emoji and invisible characters a supporter
 * typed are dropped, so the result is made of the name's own first letters and ○ alone.
 */
export function toInitials(name: string): string {
  return name
    .normalize('NFC')
    .split(nameParts)
    .map((part) => {
      const first = /\p{L}/u.exec(part);
      if (!first) return '';
      return eastAsianLetter.test(first[0]) ? eastAsianInitial(part) : latinInitial(part);
    })
    .filter(Boolean)
    .join(' ');
}

/** What the letter may show of a supporter's name under their consent; `''` for `none`. */
export function nameForLetter(signatory: { name: string; nameOnLetter: 'full' | 'initials' | 'none' }): string {
  if (signatory.nameOnLetter === 'full') return signatory.name.normalize('NFC').trim().replace(/\s+/g, ' ');
  if (signatory.nameOnLetter === 'initials') return toInitials(signatory.name);
  return '';
}

/**
 * The city a letter may print beside a supporter's name: only for `full`, whose consent reads
 * "name and city"; `initials` covers initials and country only, and initials with a small town
 * could name a person as surely as the full name.
 */
export function cityForLetter(signatory: { city?: string | undefined; nameOnLetter: 'full' | 'initials' | 'none' }): string {
  return signatory.nameOnLetter === 'full' ? (signatory.city ?? '') : '';
}
