const eastAsianLetter = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/** The first letter of the name is Han, kana or Hangul: written family name first, often without spaces. */
export function startsWithEastAsianLetter(name: string): boolean {
  const first = /\p{L}/u.exec(name.normalize('NFC'));
  return first !== null && eastAsianLetter.test(first[0]);
}

/**
 * A name reduced to initials for supporters who chose `nameOnLetter: 'initials'`.
 *
 * - Names written with spaces between parts: the first letter of each part, upper-cased, with a
 *   full stop; hyphenated parts keep their hyphen ("Jean-Luc Picard" → "J.-L. P.", "jane doe" → "J. D.").
 * - Names whose first letter is Han, kana or Hangul: only the first character and a full stop
 *   ("山田太郎" → "山.", "김민준" → "김."). These names are written family name first and usually
 *   without spaces, and a single given-name character can already identify a person in a small town.
 */
export function toInitials(name: string): string {
  const trimmed = name.normalize('NFC').trim();
  const first = /\p{L}/u.exec(trimmed);
  if (!first) return '';
  if (eastAsianLetter.test(first[0])) return `${first[0]}.`;
  return trimmed
    .split(/\s+/)
    .map((part) =>
      part
        .split('-')
        .map((piece) => {
          const letter = /\p{L}/u.exec(piece);
          return letter ? `${letter[0].toLocaleUpperCase()}.` : '';
        })
        .filter(Boolean)
        .join('-'),
    )
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
