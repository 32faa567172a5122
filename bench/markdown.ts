/**
 * Markdown bodies (issue #17): the time to render an organiser's body of adversarial Markdown,
 * per construct and size, beside plain text of the same size measured in the same run.
 *
 *   npx tsx bench/markdown.ts [--sizes 10000,100000,1000000] [--runs 3] [--stop-ms 5000]
 *
 * In process. For each construct and size: the parser alone (links, blocks and emphasis), the
 * update email (HTML and text) and the campaign page body, each on a text of its own (the
 * renderers keep their output by text), then the campaign page body again on the same text (a
 * second page view). Times are CPU milliseconds of this process (the fastest of the runs), so
 * other load on the machine does not count. A construct that took longer than --stop-ms at one
 * size is not tried at the next: a quadratic parser would hold the process for minutes.
 */
import { parseArgs } from 'node:util';
import { renderEmailMarkdown } from '../src/mail/markdown-email.js';
import { extractMarkdownLinks } from '../src/markdown/markdown-links.js';
import { parseMarkdown } from '../src/markdown/markdown.js';
import { CampaignMarkdown } from '../src/web/public/markdown.js';

const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '10000,100000,1000000' }, runs: { type: 'string', default: '3' }, 'stop-ms': { type: 'string', default: '5000' } },
});
const sizes = values.sizes.split(',').map(Number);
const runs = Number(values.runs);
const stopMs = Number(values['stop-ms']);

const repeatTo = (unit: string, length: number) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

const constructs: [string, (length: number) => string][] = [
  ['plain text (baseline)', (n) => repeatTo('Letters reach the embassy on 22 September. ', n)],
  ['`*a` emphasis runs', (n) => repeatTo('*a', n)],
  ['`_a ` underscores', (n) => repeatTo('_a ', n)],
  ['`[[[[` open brackets', (n) => repeatTo('[', n)],
  ['`[[a](` nested labels', (n) => repeatTo('[[a](', n)],
  ['`[a](https://x.org/)` links', (n) => repeatTo('[a](https://x.org/) ', n)],
  ['`<http://a` angle links without end', (n) => repeatTo('<http://a', n)],
  ['backticks', (n) => repeatTo('`', n)],
  ['`# a      x` one heading of spaces', (n) => `# a${' '.repeat(n - 4)}x`],
  ['`- a` bullets', (n) => repeatTo('- a\n', n)],
  ['`a` lines', (n) => repeatTo('a\n', n)],
  ['`<a href="x">` HTML-looking text', (n) => repeatTo('<a href="javascript:x" onclick="y">', n)],
];

function cpuMs(work: () => unknown): number {
  const start = process.cpuUsage();
  work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function fastest(work: (run: number) => unknown): number {
  let best = Infinity;
  for (let run = 0; run < runs; run++) best = Math.min(best, cpuMs(() => work(run)));
  return best;
}

const renderPage = (source: string) => String(CampaignMarkdown({ source }));
// Blank lines print nothing, and make each run's text its own, so no run is answered from a cache.
const distinct = (source: string, run: number) => '\n'.repeat(run + 1) + source;

type Row = { construct: string; size: number; parse: number; email: number; page: number; pageAgain: number };
const rows: Row[] = [];
const baseline = new Map<number, Row>();

for (const [construct, build] of constructs) {
  for (const size of sizes) {
    const source = build(size);
    const parse = fastest(() => parseMarkdown(extractMarkdownLinks(source, 'http-and-mailto').prepared));
    const email = fastest((run) => renderEmailMarkdown(distinct(source, run)));
    const page = fastest((run) => renderPage(distinct(source, run + runs)));
    const pageAgain = fastest(() => renderPage(distinct(source, runs)));
    const row = { construct, size, parse, email, page, pageAgain };
    rows.push(row);
    if (!baseline.has(size)) baseline.set(size, row);
    console.error(`${construct} ${size}: parse ${parse.toFixed(1)} ms, email ${email.toFixed(1)} ms, page ${page.toFixed(1)} ms, page again ${pageAgain.toFixed(2)} ms`);
    if (Math.max(parse, email, page) > stopMs) {
      console.error(`${construct}: over ${stopMs} ms at ${size} characters, larger sizes not tried`);
      break;
    }
  }
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(0));
console.log(`Node ${process.version}, CPU ms, fastest of ${runs} runs; × = the page body against plain text of the same size\n`);
console.log('| construct | characters | parser | email | page body | × plain | page again |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const row of rows) {
  const plain = baseline.get(row.size)!;
  console.log(`| ${row.construct} | ${row.size.toLocaleString('en')} | ${ms(row.parse)} | ${ms(row.email)} | ${ms(row.page)} | ${(row.page / plain.page).toFixed(1)} | ${ms(row.pageAgain)} |`);
}
