import { decodeEncodedWords } from './mime.js';

/**
 * A parameter of an unfolded header (`filename`, `name`, `boundary`), decoded:
 * RFC 2231 (`name*=utf-8''…`, or in sections `name*0*=…; name*1*=…`), or a
 * quoted string that may hold RFC 2047 words.
 */
export function headerParameter(header: string, name: string): string | undefined {
  const sections: { index: number; value: string; encoded: boolean }[] = [];
  const pattern = /;\s*([^=;\s*]+)(\*(\d+))?(\*)?=("(?:[^"\\]|\\.)*"|[^;\s]*)/g;
  for (let match = pattern.exec(header); match; match = pattern.exec(header)) {
    if (match[1]!.toLowerCase() !== name.toLowerCase()) continue;
    const raw = match[5]!;
    const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    if (match[2] === undefined && match[4] === undefined) return decodeEncodedWords(value);
    sections.push({ index: match[3] === undefined ? 0 : Number(match[3]), value, encoded: match[4] !== undefined });
  }
  if (sections.length === 0) return undefined;
  sections.sort((a, b) => a.index - b.index);
  const bytes: number[] = [];
  sections.forEach((section, position) => {
    let value = section.value;
    if (position === 0 && section.encoded) {
      const [charset, , rest] = value.split("'");
      if (charset!.toLowerCase() !== 'utf-8') throw new Error(`unexpected charset ${charset}`);
      value = rest!;
    }
    for (let i = 0; i < value.length; i++) {
      if (section.encoded && value[i] === '%') {
        bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        bytes.push(value.charCodeAt(i));
      }
    }
  });
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
}
