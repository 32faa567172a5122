import { eq } from 'drizzle-orm';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { afterEach, describe, expect, it } from 'vitest';
import { letters as letterRows } from '../../../src/db/schema.js';
import type { PrintQueueEntry } from '../../../src/letters/letter-ports.js';
import { nodeFontFaces } from '../../../src/letters/node/node-font-faces.js';
import { composePrintQueuePdf } from '../../../src/letters/pdf/print-queue-pdf.js';
import { createTestApp } from '../../helpers/app.js';
import { parsePdfBytes } from '../../letters/helpers.js';
import { deliver, EMBASSY_NAME, scopedToken, setupLetters, type TestApp } from './helpers.js';

let t: TestApp;
afterEach(async () => {
  await t?.cleanup();
  t = undefined as unknown as TestApp;
});

type QueueItem = { id: string; letterId: string; pages: number; target: { name: string; postalAddress: { postalCode: string; lines: string[]; city: string } } };

/** Text with every run of white space (line breaks in wrapped cells included) as one space. */
const flat = (text: string) => text.replace(/\s+/g, ' ');

const fetchPdf = async (path: string) => {
  const res = await t.request('GET', path);
  expect(res.status).toBe(200);
  return parsePdfBytes(Buffer.from(await res.arrayBuffer()));
};

/** Three print deliveries queued; an email delivery and an already printed one that must stay out. */
async function setupQueue() {
  const result = await setupLetters();
  t = result.t;
  const { letters } = result;
  await deliver(t, letters.nagoya.id, 'print');
  t.clock.advance(1000);
  await deliver(t, letters.embassy.id, 'print');
  t.clock.advance(1000);
  await deliver(t, letters.sapporo.id, 'print');
  const email = await deliver(t, letters.embassy.id, 'email');
  const printed = await deliver(t, letters.sapporo.id, 'print');
  expect((await t.request('PATCH', `/api/v1/deliveries/${printed.body.id}`, { body: { status: 'printed' } })).status).toBe(200);
  const queue = (await (await t.request('GET', '/api/v1/print-queue')).json()) as { items: QueueItem[] };
  expect(queue.items).toHaveLength(3);
  return { queue: queue.items, excluded: [email.body.id, printed.body.id] };
}

describe('GET /api/v1/print-queue.pdf', () => {
  it('is one PDF: a cover listing the queue in order, then every queued letter as stored', async () => {
    const { queue, excluded } = await setupQueue();
    const res = await t.request('GET', '/api/v1/print-queue.pdf');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    // The test clock stands at 1 September 2027 (UTC), a few minutes in: the name has the time to the second.
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="print-queue-2027-09-01-00\d{4}\.pdf"/);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    const pdf = await parsePdfBytes(bytes);

    const letterPages = queue.reduce((sum, item) => sum + item.pages, 0);
    expect(pdf.pages).toHaveLength(1 + letterPages);
    expect(pdf.info).toMatchObject({ Title: 'Print queue 2027-09-01' });

    const cover = flat(pdf.pages[0]!);
    expect(cover).toContain('Print queue');
    expect(cover).toContain('Generated 1 September 2027');
    expect(cover).toContain(`3 letters, ${letterPages} pages after this cover (${letterPages + 1} pages in this file)`);
    // One row per delivery, in the JSON queue's order: number, recipient, …, pages, the delivery id's last 8 characters.
    let from = 0;
    queue.forEach((item, index) => {
      const row = cover.indexOf(`${index + 1} ${item.target.name}`, from);
      expect(row, item.target.name).toBeGreaterThanOrEqual(from);
      const end = cover.indexOf(`${item.pages} ${item.id.slice(-8)}`, row);
      expect(end, item.id).toBeGreaterThan(row);
      expect(cover.slice(row, end)).toContain(item.target.postalAddress.city);
      from = end;
    });
    for (const id of excluded) expect(cover).not.toContain(id.slice(-8));
    // CJK comes back out of the cover intact (the embassy's Chinese name, Japanese place names).
    expect(cover).toContain(EMBASSY_NAME);
    expect(cover).toContain('札幌市中央区, JP');

    // Each letter follows with its own pages, unchanged: the first page after the cover is the
    // first letter's first page, with the address for the envelope window.
    let page = 1;
    for (const item of queue) {
      const letter = await fetchPdf(`/api/v1/letters/${item.letterId}.pdf`);
      expect(letter.pages).toHaveLength(item.pages);
      expect(pdf.pages.slice(page, page + item.pages)).toEqual(letter.pages);
      page += item.pages;
    }
    const first = pdf.pages[1]!;
    expect(first).toContain(`〒${queue[0]!.target.postalAddress.postalCode}`);
    for (const line of queue[0]!.target.postalAddress.lines) expect(first).toContain(line);
    expect(flat(first)).toContain(queue[0]!.target.name);
  });

  it('answers 401 without a token and 403 without the deliveries scope', async () => {
    t = createTestApp();
    const anonymous = await t.request('GET', '/api/v1/print-queue.pdf', { token: null });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    const lettersOnly = await scopedToken(t, ['letters']);
    const forbidden = await t.request('GET', '/api/v1/print-queue.pdf', { token: lettersOnly });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: { code: 'FORBIDDEN', details: { required: 'deliveries' } } });
  });

  it('refuses a deliveries token without letters: the PDF holds every queued letter and the names in it (#17)', async () => {
    await setupQueue();
    const deliveriesOnly = await scopedToken(t, ['deliveries']);
    const refused = await t.request('GET', '/api/v1/print-queue.pdf', { token: deliveriesOnly });
    expect(refused.status).toBe(403);
    const body = await refused.json();
    expect(body).toMatchObject({ error: { code: 'FORBIDDEN', details: { required: 'letters', granted: ['deliveries'] } } });
    expect(JSON.stringify(body)).not.toContain(EMBASSY_NAME);
    // The queue itself (addresses and page counts, no letter) stays a deliveries matter.
    expect((await t.request('GET', '/api/v1/print-queue', { token: deliveriesOnly })).status).toBe(200);

    const both = await t.request('GET', '/api/v1/print-queue.pdf', { token: await scopedToken(t, ['deliveries', 'letters']) });
    expect(both.status).toBe(200);
    expect(flat((await parsePdfBytes(Buffer.from(await both.arrayBuffer()))).pages.join(' '))).toContain(EMBASSY_NAME);

    // The document says so: both scopes, in the security requirement and the description.
    const document = (await (await t.request('GET', '/api/v1/openapi.json', { token: null })).json()) as {
      paths: Record<string, Record<string, { security: Record<string, string[]>[]; description: string }>>;
    };
    const operation = document.paths['/api/v1/print-queue.pdf']!.get!;
    expect(operation.security).toEqual([{ bearerAuth: ['deliveries', 'letters'] }]);
    expect(operation.description).toContain('`deliveries` and `letters` scopes');
    expect(document.paths['/api/v1/print-queue']!.get!.security).toEqual([{ bearerAuth: ['deliveries'] }]);
  });

  it('answers an empty queue with a one-page cover saying there is nothing to print', async () => {
    t = createTestApp();
    const pdf = await fetchPdf('/api/v1/print-queue.pdf');
    expect(pdf.pages).toHaveLength(1);
    const cover = flat(pdf.pages[0]!);
    expect(cover).toContain('Print queue');
    expect(cover).toContain('Nothing to print: the print queue is empty.');
    expect(cover).not.toContain('Recipient');
  });

  it('answers 410 LETTER_FILE_MISSING, naming the delivery, when a queued letter\'s file is gone', async () => {
    const { queue } = await setupQueue();
    const [stored] = await t.database.db.select({ path: letterRows.path }).from(letterRows).where(eq(letterRows.id, queue[1]!.letterId));
    await rm(join(t.dataDir, stored!.path));
    const res = await t.request('GET', '/api/v1/print-queue.pdf');
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({ error: { code: 'LETTER_FILE_MISSING', details: { deliveryId: queue[1]!.id, letterId: queue[1]!.letterId } } });
  });
});

describe('composePrintQueuePdf', () => {
  it('runs the cover over several pages with the table header on each, sized like the letters', async () => {
    // A one-page US Letter "letter" stands in for stored letters: only the page count and size matter here.
    const blank = await PDFDocument.create();
    blank.addPage([612, 792]);
    const letter = await blank.save();
    const entries: PrintQueueEntry[] = Array.from({ length: 70 }, (_, i) => ({
      deliveryId: `0190f7a0-0000-7000-8000-0000000${String(i).padStart(5, '0')}`,
      recipient: i % 2 === 0 ? `Recipient ${i + 1} with a name long enough to wrap onto a second line of its cell` : `김민준 ${i + 1}`,
      organisation: i % 3 === 0 ? null : '中華人民共和国駐日本国大使館',
      city: i % 2 === 0 ? 'Springfield' : '서울',
      country: i % 2 === 0 ? 'US' : 'KR',
      pdf: letter,
    }));
    const composed = await composePrintQueuePdf({ generatedAt: Date.UTC(2027, 8, 22, 9, 30), entries }, nodeFontFaces);
    expect(composed.coverPages).toBeGreaterThan(1);
    expect(composed.letterPages).toBe(70);

    const merged = await PDFDocument.load(composed.pdf);
    expect(merged.getPageCount()).toBe(composed.coverPages + 70);
    for (const page of merged.getPages()) expect(page.getSize()).toEqual({ width: 612, height: 792 });

    const pdf = await parsePdfBytes(Buffer.from(composed.pdf));
    const covers = pdf.pages.slice(0, composed.coverPages).map(flat);
    covers.forEach((cover, index) => {
      expect(cover).toContain('# Recipient Organisation City / country Pages Delivery');
      expect(cover).toContain(`Cover ${index + 1} / ${composed.coverPages}`);
    });
    expect(covers[0]).toContain('70 letters, 70 pages after this cover');
    expect(covers[1]).toContain('Print queue (continued)');
    const all = covers.join(' ');
    for (let i = 0; i < 70; i++) expect(all).toContain(entries[i]!.deliveryId.slice(-8));
    expect(all).toContain('김민준 70');
    expect(all).toContain('中華人民共和国駐日本国大使館');
    expect(all).toContain('서울, KR');
    // Every row is on exactly one cover page, in order.
    const firstOn = (text: string) => covers.findIndex((cover) => cover.includes(text));
    expect(firstOn(entries[0]!.deliveryId.slice(-8))).toBe(0);
    expect(firstOn(entries[69]!.deliveryId.slice(-8))).toBe(composed.coverPages - 1);
  });
});
