import { describe, expect, it } from 'vitest';
import { renderEmailMarkdown } from '../../src/mail/markdown-email.js';
import { extractMarkdownLinks } from '../../src/markdown/markdown-links.js';
import { parseMarkdown } from '../../src/markdown/markdown.js';
import { CampaignMarkdown } from '../../src/web/public/markdown.js';

// Issue #17: an organiser's body was parsed in quadratic (a heading of spaces: cubic) time, so
// 50,000 characters of `*a` held the event loop for seconds on every page view and per recipient.

const SMALL = 100_000;
const LARGE = 1_000_000;

const repeatTo = (unit: string, length: number) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

/** Each construct the parser treats specially, made as long as asked. */
const adversarial: [string, (length: number) => string][] = [
  ['emphasis runs `*a`', (n) => repeatTo('*a', n)],
  ['bold runs `**a`', (n) => repeatTo('**a', n)],
  ['underscores `_a `', (n) => repeatTo('_a ', n)],
  ['double underscores `__a `', (n) => repeatTo('__a ', n)],
  ['unclosed emphasis `a*`', (n) => `*${repeatTo('a_b*', n - 1)}`],
  ['open brackets `[[[[`', (n) => repeatTo('[', n)],
  ['nested labels `[[a](`', (n) => repeatTo('[[a](', n)],
  ['labels without a destination `[a]`', (n) => repeatTo('[a] ', n)],
  ['an unclosed destination `[a](   `', (n) => `[a](${' '.repeat(n - 5)}x`],
  ['links `[a](http://x.org)`', (n) => repeatTo('[a](https://x.org/) ', n)],
  ['angle links without their end `<http://a`', (n) => repeatTo('<http://a', n)],
  ['a bare URL of dots', (n) => `http://${'.'.repeat(n - 8)}a`],
  ['backticks', (n) => repeatTo('`', n)],
  ['a heading of spaces', (n) => `# a${' '.repeat(n - 4)}x`],
  ['a heading of closing hashes', (n) => `# a ${'#'.repeat(n - 5)}x`],
  ['a line of heading markers', (n) => repeatTo('#######', n)],
  ['headings', (n) => repeatTo('## a ##\n', n)],
  ['bullets', (n) => repeatTo('- a\n', n)],
  ['numbered items', (n) => repeatTo('1. a\n', n)],
  ['a list item of spaces', (n) => `- ${' '.repeat(n - 4)}\u2028x`],
  ['a long line with trailing spaces', (n) => `a${' '.repeat(n - 2)}x`],
  ['lines', (n) => repeatTo('a\n', n)],
  ['East Asian lines', (n) => repeatTo('日本\n', n)],
  ['hard breaks', (n) => repeatTo('a  \nb\\\n', n)],
  ['escapes', (n) => repeatTo('\\*\\[', n)],
  ['HTML-looking text', (n) => repeatTo('<a href="javascript:x" onclick="y">', n)],
];

/** CPU time of `work` in ms: unlike the wall clock, it does not grow while other processes have the machine. */
function cpuTime(work: () => unknown): number {
  const start = process.cpuUsage();
  work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/**
 * Runs 100 KB and 1 MB alternately and keeps the fastest of each (load only ever adds time).
 * Linear work on ten times the input takes about ten times as long, quadratic a hundred: 30×
 * leaves room for the garbage collector and caches, and the floor for inputs so fast that
 * timer noise dominates. The cap is only a guard against a stall.
 */
function expectLinear(small: (run: number) => unknown, large: (run: number) => unknown) {
  let fastestSmall = Infinity;
  let fastestLarge = Infinity;
  for (let run = 0; run < 3; run++) {
    fastestSmall = Math.min(fastestSmall, cpuTime(() => small(run)));
    fastestLarge = Math.min(fastestLarge, cpuTime(() => large(run)));
  }
  expect(fastestLarge, `100 KB took ${fastestSmall.toFixed(1)} ms, 1 MB ${fastestLarge.toFixed(1)} ms`).toBeLessThan(Math.max(30 * fastestSmall, 300));
  expect(fastestLarge).toBeLessThan(10_000);
}

const parse = (source: string) => parseMarkdown(extractMarkdownLinks(source, 'http-and-mailto').prepared);

describe('the Markdown dialect in linear time', () => {
  it.each(adversarial)('%s: 1 MB parses in about ten times the time of 100 KB', (_, build) => {
    const small = build(SMALL);
    const large = build(LARGE);
    expect(large).toHaveLength(LARGE);
    expectLinear(
      () => parse(small),
      () => parse(large),
    );
  });

  // The renderers are remembered by content, so each run gets a body of its own (blank lines first, which print nothing).
  const everything = adversarial.map(([, build]) => build(2_000)).join('\n\n');
  const body = (length: number, run: number) => '\n'.repeat(run + 1) + repeatTo(everything, length);

  it('renders 1 MB of every construct at once as email HTML and text in linear time, escaped', () => {
    expectLinear(
      (run) => renderEmailMarkdown(body(SMALL, run)),
      (run) => renderEmailMarkdown(body(LARGE, run)),
    );
    const { html, text } = renderEmailMarkdown(body(LARGE, 0));
    expect(html).not.toMatch(/<(?!\/?(p|h[234]|ul|ol|li|em|strong|br|a)[ >])/);
    expect(html).not.toMatch(/href="(?!https?:|mailto:)|onclick="/);
    expect(html).toContain('&lt;a href=&quot;javascript:x&quot; onclick=&quot;y&quot;&gt;');
    expect(text).toContain('a (https://x.org/)');
  });

  it('renders 1 MB of every construct at once as the campaign page body in linear time, escaped', () => {
    const render = (source: string) => CampaignMarkdown({ source }).toString();
    expectLinear(
      (run) => render(body(SMALL, run)),
      (run) => render(body(LARGE, run)),
    );
    const html = render(body(LARGE, 0));
    expect(html).not.toMatch(/<(?!\/?(p|h[234]|ul|ol|li|em|strong|br|a)[ >/])/);
    expect(html).not.toMatch(/href="(?!https?:|mailto:)|onclick="/);
    expect(html).toContain('&lt;a href=&quot;javascript:x&quot; onclick=&quot;y&quot;&gt;');
  });

  it('keeps what each construct means at 1 MB', () => {
    const emphasis = renderEmailMarkdown(repeatTo('*a', LARGE)).html;
    expect(emphasis.match(/<em>a<\/em>/g)).toHaveLength(LARGE / 4);
    const [list, ...rest] = parse(repeatTo('- a\n', LARGE));
    expect(rest).toEqual([]);
    expect(list).toMatchObject({ kind: 'list', ordered: false, start: 1 });
    expect(list?.kind === 'list' && list.items.every((item) => item.length === 1 && item[0]!.text === 'a' && !item[0]!.bold && !item[0]!.italic)).toBe(true);
    expect(list?.kind === 'list' && list.items.length).toBe(LARGE / 4);
    expect(parse(`# a${' '.repeat(LARGE - 4)}x`)).toEqual([{ kind: 'heading', level: 1, spans: [{ text: `a${' '.repeat(LARGE - 4)}x`, bold: false, italic: false }] }]);
    expect(parse(repeatTo('[', LARGE))).toEqual([{ kind: 'paragraph', spans: [{ text: repeatTo('[', LARGE), bold: false, italic: false }] }]);
    expect(extractMarkdownLinks(repeatTo('[a](https://x.org/) ', LARGE), 'http').links).toHaveLength(LARGE / 20);
  });
});
