import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { campaigns } from '../../../src/db/schema.js';
import * as markdown from '../../../src/markdown/markdown.js';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';

// Issue #17: the campaign page parsed its Markdown body on every view, in quadratic time, so one
// editor's body of 50,000 characters of `*a` held the event loop (every campaign's page) for
// seconds per view.

let t: ReturnType<typeof createTestApp>;
afterEach(async () => {
  vi.restoreAllMocks();
  await t?.cleanup();
});

const SLUG = 'heavy-body';
const emphasisRun = (length: number, word = 'a') => `*${word}`.repeat(length / (word.length + 1));

async function view(language = 'en') {
  const response = await t.app.request(`/c/${SLUG}?lang=${language}`);
  return { status: response.status, html: await response.text() };
}

describe('the campaign body on the public page', () => {
  it('renders the longest body an editor may save, however adversarial, once per version and language', async () => {
    t = createTestApp();
    await openCampaign(t, SLUG);
    const body = emphasisRun(50_000);
    expect((await t.request('PATCH', `/api/v1/campaigns/${SLUG}`, { body: { body } })).status).toBe(200);

    const tooLong = await t.request('PATCH', `/api/v1/campaigns/${SLUG}`, { body: { body: `${body}*` } });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'body' }] } });

    const parse = vi.spyOn(markdown, 'parseMarkdown');
    const started = performance.now();
    for (let i = 0; i < 20; i++) {
      const page = await view();
      expect(page.status).toBe(200);
      expect(page.html.match(/<em>a<\/em>/g)).toHaveLength(12_500);
    }
    // Generous: the old parser took seconds per view of this body, and parsed it on each one.
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(parse).toHaveBeenCalledTimes(1);

    // A new version, and a translation, are rendered once each; the old version is not shown again.
    const edited = emphasisRun(50_000, 'b');
    expect((await t.request('PATCH', `/api/v1/campaigns/${SLUG}`, { body: { body: edited, translations: { ja: { title: '重い本文', body: emphasisRun(1_000, '日') } } } })).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const english = await view();
      expect(english.html).toContain('<em>b</em>b<em>b</em>');
      expect(english.html).not.toContain('<em>a</em>');
      expect((await view('ja')).html).toContain('<em>日</em>日<em>日</em>');
    }
    expect(parse).toHaveBeenCalledTimes(3);
  });

  it('renders a 1 MB adversarial body, however it reached the database, without stalling the page', async () => {
    t = createTestApp();
    await openCampaign(t, SLUG);
    const body = ['*a', '[[', '_a ', '<b onclick="x">', '# a    x\n', '- a\n', 'http://x.org/... '].map((unit) => unit.repeat(Math.ceil(150_000 / unit.length))).join('\n\n');
    expect(body.length).toBeGreaterThan(1_000_000);
    // The API refuses it (50,000 characters at most); an older database or a restore could still hold one.
    await t.database.db.update(campaigns).set({ body }).where(eq(campaigns.slug, SLUG));

    const parse = vi.spyOn(markdown, 'parseMarkdown');
    const started = performance.now();
    for (let i = 0; i < 3; i++) {
      const page = await view();
      expect(page.status).toBe(200);
      expect(page.html).toContain('<em>a</em>a<em>a</em>');
      expect(page.html).toContain('&lt;b onclick=&quot;x&quot;&gt;');
      expect(page.html).not.toContain('<b onclick');
    }
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(parse).toHaveBeenCalledTimes(1);
  });
});
