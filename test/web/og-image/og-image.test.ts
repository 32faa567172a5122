import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nodeOgFontSource, nodeOgImageRenderer } from '../../../src/entry/og-image-node.js';
import { breakUnits, wrapLines } from '../../../src/web/og-image/og-card-lines.js';
import type { OgCard, OgImageRenderer } from '../../../src/web/og-image/og-image-port.js';
import { OgImages, ogImageVersion } from '../../../src/web/og-image/og-images.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { createTestApp } from '../../helpers/app.js';
import { SCREENSHOT_DIR } from '../../helpers/browser.js';
import { openCampaign } from '../../helpers/signing.js';

/** A decoded 8-bit RGBA PNG (what resvg writes): size and pixels, every filter undone. */
function decodePng(png: Uint8Array): { width: number; height: number; pixels: Uint8Array } {
  const bytes = Buffer.from(png);
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let offset = 8;
  let width = 0;
  let height = 0;
  const data: Buffer[] = [];
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      expect([body[8], body[9], body[12]]).toEqual([8, 6, 0]); // 8 bits, RGBA, not interlaced
    }
    if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * 4;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const left = x >= 4 ? pixels[y * stride + x - 4]! : 0;
      const up = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const upLeft = x >= 4 && y > 0 ? pixels[(y - 1) * stride + x - 4]! : 0;
      const paeth = () => {
        const p = left + up - upLeft;
        const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
        return pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      };
      const predictor = [0, left, up, (left + up) >> 1, filter === 4 ? paeth() : 0][filter]!;
      pixels[y * stride + x] = (line[x]! + predictor) & 0xff;
    }
  }
  return { width, height, pixels };
}

/** Pixels in a box that are not the white background (the ink of the text drawn there). */
function inkIn(image: ReturnType<typeof decodePng>, box: { x: number; y: number; width: number; height: number }): number {
  let ink = 0;
  for (let y = box.y; y < box.y + box.height; y++) {
    for (let x = box.x; x < box.x + box.width; x++) {
      const i = (y * image.width + x) * 4;
      if (image.pixels[i]! < 200 || image.pixels[i + 1]! < 200 || image.pixels[i + 2]! < 200) ink++;
    }
  }
  return ink;
}

function save(name: string, png: Uint8Array): void {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  writeFileSync(join(SCREENSHOT_DIR, `${name}.png`), png);
}

const TITLE_AREA = { x: 80, y: 150, width: 1040, height: 280 };

const japanese: OgCard = {
  language: 'ja',
  title: '北朝鮮難民の強制送還をやめてください',
  titleLanguage: 'ja',
  countText: '目標20,000人のうち12,345人が署名',
  progress: 12_345 / 20_000,
  organisation: '北朝鮮難民救援基金',
};

const english: OgCard = {
  language: 'en',
  title: 'Stop the forced repatriation of North Korean refugees from China',
  titleLanguage: 'en',
  countText: '12,345 signatures',
  progress: null,
  organisation: 'Life Funds for North Korean Refugees',
};

let renderer: OgImageRenderer;
beforeAll(() => {
  renderer = nodeOgImageRenderer();
});

describe('the Open Graph card', () => {
  it('is a 1200×630 PNG that changes with the title and the count', { timeout: 60_000 }, async () => {
    const card = decodePng(await renderer.render(english));
    expect([card.width, card.height]).toEqual([1200, 630]);
    const otherTitle = await renderer.render({ ...english, title: 'Free the detained refugees' });
    const otherCount = await renderer.render({ ...english, countText: '12,346 signatures' });
    const same = await renderer.render(english);
    expect(Buffer.from(same).equals(Buffer.from(await renderer.render(english)))).toBe(true);
    expect(Buffer.from(otherTitle).equals(Buffer.from(same))).toBe(false);
    expect(Buffer.from(otherCount).equals(Buffer.from(same))).toBe(false);
    // Text drawn in the title area, and nothing but the count below it when there is no goal (no bar).
    expect(inkIn(card, TITLE_AREA)).toBeGreaterThan(20_000);
    expect(inkIn(card, { x: 80, y: 570, width: 1040, height: 40 })).toBe(0);
    save('og-card-en', same);
  });

  it('draws a Japanese title with the Japanese face: without it the same card comes out different, as replacement marks', { timeout: 60_000 }, async () => {
    const withJapanese = await renderer.render(japanese);
    save('og-card-ja', withJapanese);
    // The same card where the Japanese face is the Latin one: no kana or kanji to draw with.
    const withoutJapanese = await nodeOgImageRenderer({ load: (face) => nodeOgFontSource.load(face.startsWith('jp') ? 'latin-bold' : face) }).render(japanese);
    save('og-card-ja-without-font', withoutJapanese);
    const drawn = decodePng(withJapanese);
    const fallback = decodePng(withoutJapanese);
    expect(Buffer.from(withJapanese).equals(Buffer.from(withoutJapanese))).toBe(false);
    // 18 kanji and kana are dense; 18 question marks are not.
    expect(inkIn(drawn, TITLE_AREA)).toBeGreaterThan(2 * inkIn(fallback, TITLE_AREA));
    // The goal's bar: filled (accent) on the left, the track on the right.
    const at = (x: number, y: number) => [...drawn.pixels.subarray((y * 1200 + x) * 4, (y * 1200 + x) * 4 + 3)];
    expect(at(100, 544)).toEqual([0x1d, 0x4e, 0xd8]);
    expect(at(1100, 544)).toEqual([0xdb, 0xe3, 0xf8]);
  });

  it('breaks CJK titles between characters, keeps closing punctuation on its line, and ends a long title with an ellipsis', () => {
    expect(breakUnits('署名「お願い」します。')).toEqual(['署', '名', '「お', '願', 'い」', 'し', 'ま', 'す。']);
    expect(breakUnits('Stop  forced returns')).toEqual(['Stop ', 'forced ', 'returns']);
    const tenWide = (line: string) => [...line].length <= 10;
    expect(wrapLines('あいうえおかきくけこさしすせそ', 3, tenWide)).toEqual({ lines: ['あいうえおかきくけこ', 'さしすせそ'], truncated: false });
    const long = wrapLines('あ'.repeat(40), 3, tenWide);
    expect(long).toEqual({ lines: ['あ'.repeat(10), 'あ'.repeat(10), `${'あ'.repeat(9)}…`], truncated: true });
    expect(wrapLines('one two three four five six seven', 2, tenWide)).toEqual({ lines: ['one two', 'three…'], truncated: true });
    expect(wrapLines('Antidisestablishment', 3, tenWide).lines).toEqual(['Antidisest', 'ablishment']);
  });

  it('is rendered once for concurrent requests, reused for ten minutes despite new signatures, and again at once for a new title', async () => {
    const rendered: OgCard[] = [];
    const counting: OgImageRenderer = {
      render: async (card) => {
        rendered.push(card);
        return new Uint8Array([rendered.length]);
      },
    };
    const clock = new ManualClock();
    const images = new OgImages(counting, clock);
    const [first, second] = await Promise.all([images.image('refugees:en', english), images.image('refugees:en', english)]);
    expect(rendered).toHaveLength(1);
    expect(second).toBe(first);
    clock.advance(9 * 60_000);
    expect(await images.image('refugees:en', { ...english, countText: '12,400 signatures' })).toBe(first);
    expect(await images.image('refugees:ja', japanese)).not.toBe(first);
    expect(rendered).toHaveLength(2);
    const retitled = await images.image('refugees:en', { ...english, title: 'Free the refugees' });
    expect(retitled.etag).not.toBe(first.etag);
    clock.advance(10 * 60_000);
    const later = await images.image('refugees:en', { ...english, title: 'Free the refugees', countText: '13,000 signatures' });
    expect(rendered.map((card) => card.countText)).toEqual(['12,345 signatures', japanese.countText, '12,345 signatures', '13,000 signatures']);
    expect(later.etag).not.toBe(retitled.etag);
  });

  it('versions its URL by the count to two significant digits', () => {
    expect([0, 7, 99, 100, 123, 12_345, 1_999_999].map(ogImageVersion)).toEqual([0, 7, 99, 100, 120, 12_000, 1_900_000]);
  });
});

describe('GET /c/:slug/og.png', () => {
  let t: ReturnType<typeof createTestApp> | undefined;
  afterEach(async () => t?.cleanup());

  it('serves the card with an ETag and ten minutes of caching, answers 304 to a fresh copy, and names it on the campaign page', { timeout: 60_000 }, async () => {
    t = createTestApp({ ogImageRenderer: renderer });
    await openCampaign(t, 'refugees', { title: 'Save North Korean refugees', goal: 1000, translations: { ja: { title: '北朝鮮難民を救ってください' } } });
    const page = await (await t.app.request('/c/refugees?lang=ja')).text();
    const imageUrl = 'http://localhost:3000/c/refugees/og.png?lang=ja&amp;v=0';
    expect(page).toContain(`<meta property="og:image" content="${imageUrl}"/>`);
    expect(page).toContain('<meta property="og:image:width" content="1200"/><meta property="og:image:height" content="630"/>');
    expect(page).toContain('<meta property="og:image:alt" content="キャンペーンの画像：北朝鮮難民を救ってください、目標1,000人のうち0人が署名"/>');
    expect(page).toContain('<meta name="twitter:card" content="summary_large_image"/>');

    const response = await t.app.request('/c/refugees/og.png?lang=ja&v=0');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('cache-control')).toBe('public, max-age=600');
    expect(response.headers.get('set-cookie')).toBeNull();
    const etag = response.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{24}"$/);
    const png = new Uint8Array(await response.arrayBuffer());
    expect(decodePng(png)).toMatchObject({ width: 1200, height: 630 });
    save('og-route-ja', png);

    const again = await t.app.request('/c/refugees/og.png?lang=ja', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');

    // Another language is another card; the campaign's own language when none is asked for.
    const english = await t.app.request('/c/refugees/og.png?lang=en');
    expect(english.headers.get('etag')).not.toBe(etag);
    expect((await t.app.request('/c/refugees/og.png')).headers.get('etag')).toBe(english.headers.get('etag'));
  });

  it('answers 404 for a draft or unknown campaign, and when no renderer is wired', { timeout: 30_000 }, async () => {
    t = createTestApp({ ogImageRenderer: renderer });
    expect((await t.request('POST', '/api/v1/campaigns', { body: { slug: 'draft', title: 'Not yet', locale: 'en', timeZone: 'Asia/Tokyo' } })).status).toBe(201);
    expect((await t.app.request('/c/draft/og.png')).status).toBe(404);
    expect((await t.app.request('/c/nowhere/og.png')).status).toBe(404);
    await t.cleanup();

    t = createTestApp();
    await openCampaign(t, 'refugees');
    expect((await t.app.request('/c/refugees/og.png')).status).toBe(404);
    expect(await (await t.app.request('/c/refugees')).text()).not.toContain('og:image');
  });
});
