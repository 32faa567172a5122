import { describe, expect, it } from 'vitest';
import { memoByContent } from '../../src/markdown/content-cache.js';

/** A rendering that counts its calls. */
function counted() {
  const calls: string[] = [];
  const render = (source: string) => {
    calls.push(source);
    return { html: source.toUpperCase() };
  };
  return { calls, render };
}

describe('memoByContent', () => {
  it('renders each distinct source once and answers repeats with the same result', () => {
    const { calls, render } = counted();
    const cached = memoByContent(render);
    const first = cached('*a*');
    expect(cached('*a*')).toBe(first);
    expect(cached(['*', 'a', '*'].join(''))).toBe(first);
    expect(cached('*b*')).toEqual({ html: '*B*' });
    expect(calls).toEqual(['*a*', '*b*']);
  });

  it('makes room by dropping the least recently used entry, by count and by characters', () => {
    const byCount = counted();
    const fewEntries = memoByContent(byCount.render, { maxEntries: 2, maxChars: 1_000 });
    fewEntries('a');
    fewEntries('b');
    fewEntries('a');
    fewEntries('c');
    fewEntries('a');
    fewEntries('b');
    expect(byCount.calls).toEqual(['a', 'b', 'c', 'b']);

    const byChars = counted();
    const fewChars = memoByContent(byChars.render, { maxEntries: 100, maxChars: 10 });
    fewChars('aaaa');
    fewChars('bbbb');
    fewChars('cccc');
    fewChars('bbbb');
    fewChars('aaaa');
    expect(byChars.calls).toEqual(['aaaa', 'bbbb', 'cccc', 'aaaa']);
  });

  it('renders a source larger than the whole budget every time, without pushing the others out', () => {
    const { calls, render } = counted();
    const cached = memoByContent(render, { maxEntries: 100, maxChars: 10 });
    cached('small');
    cached('x'.repeat(11));
    cached('x'.repeat(11));
    cached('small');
    expect(calls).toEqual(['small', 'x'.repeat(11), 'x'.repeat(11)]);
  });
});
