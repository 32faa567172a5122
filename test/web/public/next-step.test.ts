// The next step after signing (issue #21, PRODUCT.md §13): organisers set per page language what
// the thanks and confirmed pages offer (a donation link, another open campaign, sharing). Through
// the API, the public pages (cached: a change shows at once) and the dashboard's campaign form.
import { afterEach, describe, expect, it } from 'vitest';
import { adminBrowser } from '../../helpers/admin-client.js';
import { createTestApp } from '../../helpers/app.js';
import { latestConfirmToken, openCampaign, signature } from '../../helpers/signing.js';

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

const ORIGIN = 'http://localhost:3000';

async function page(path: string, headers: Record<string, string> = {}) {
  const response = await t.app.request(path, { headers });
  return { status: response.status, html: await response.text() };
}

async function patch(slug: string, body: unknown) {
  const res = await t.request('PATCH', `/api/v1/campaigns/${slug}`, { body });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** The next-step section of a page, or '' without one. */
const section = (html: string) => /<section class="next-step"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
const hasShareLinks = (html: string) => html.includes('<section class="share"');

const everyLanguage = {
  en: { donation: { url: 'https://example.org/donate?lang=en&ref=thanks', label: 'Support <our> "work"' }, campaign: 'second-round' },
  ja: { donation: { url: 'https://example.org/donate?lang=ja', label: '活動を支援する' }, sharing: false },
  ko: { campaign: 'second-round' },
  zh: { donation: { url: 'https://example.org/donate?lang=zh', label: '支持我们的工作' }, campaign: 'second-round', sharing: true },
};

async function twoCampaigns() {
  t = createTestApp();
  const slug = await openCampaign(t, 'first-round');
  await openCampaign(t, 'second-round', { translations: { ja: { title: '第二回の請願' }, ko: { title: '두 번째 청원' }, zh: { title: '第二轮请愿' } }, title: 'The second round' });
  return slug;
}

describe('the next step through the API', () => {
  it('refuses a link that is not https, and a campaign that is not another open one, naming the field', async () => {
    const slug = await twoCampaigns();
    await t.request('POST', '/api/v1/campaigns', { body: { slug: 'still-draft', title: 'Draft', locale: 'en' } });
    for (const url of ['http://example.org/donate', 'javascript:alert(1)', 'https://user:secret@example.org/', 'ftp://example.org/', 'example.org/donate']) {
      const res = await patch(slug, { nextStep: { ja: { donation: { url, label: '寄付' } } } });
      expect(res.status, url).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details).toEqual([{ path: 'nextStep.ja.donation.url', message: 'must be an https:// link, e.g. https://example.org/donate' }]);
    }
    const emptyLabel = await patch(slug, { nextStep: { en: { donation: { url: 'https://example.org/', label: ' ' } } } });
    expect(emptyLabel.body.error.details).toEqual([{ path: 'nextStep.en.donation.label', message: 'must not be empty' }]);
    expect((await patch(slug, { nextStep: { fr: { sharing: false } } })).status).toBe(400);

    const wrongCampaigns = await patch(slug, { nextStep: { en: { campaign: 'no-such-campaign' }, ja: { campaign: 'still-draft' }, ko: { campaign: slug } } });
    expect(wrongCampaigns.status).toBe(400);
    expect(wrongCampaigns.body.error.details).toEqual([
      { path: 'nextStep.en.campaign', message: 'no open campaign has the slug no-such-campaign' },
      { path: 'nextStep.ja.campaign', message: 'no open campaign has the slug still-draft' },
      { path: 'nextStep.ko.campaign', message: 'must be another campaign than this one' },
    ]);
    expect((await t.request('GET', `/api/v1/campaigns/${slug}`)).status).toBe(200);
    expect((await (await t.request('GET', `/api/v1/campaigns/${slug}`)).json()).nextStep).toEqual({});
  });

  it('stores each language\'s next step, defaults filled in, and replaces the whole set', async () => {
    const slug = await twoCampaigns();
    const saved = await patch(slug, { nextStep: everyLanguage });
    expect(saved.status).toBe(200);
    expect(saved.body.nextStep).toEqual({
      en: { donation: everyLanguage.en.donation, campaign: 'second-round', sharing: true },
      ja: { donation: everyLanguage.ja.donation, campaign: null, sharing: false },
      ko: { donation: null, campaign: 'second-round', sharing: true },
      zh: { donation: everyLanguage.zh.donation, campaign: 'second-round', sharing: true },
    });
    const replaced = await patch(slug, { nextStep: { ja: { sharing: false } } });
    expect(replaced.body.nextStep).toEqual({ ja: { donation: null, campaign: null, sharing: false } });
  });
});

describe('the thanks and confirmed pages', () => {
  it('show each language\'s next step, escaped, and a change at once though the pages are cached', async () => {
    const slug = await twoCampaigns();
    // Built and cached before the organiser sets anything: share links only.
    const before = await page(`/c/${slug}/thanks?lang=en`);
    expect(section(before.html)).toBe('');
    expect(hasShareLinks(before.html)).toBe(true);

    expect((await patch(slug, { nextStep: everyLanguage })).status).toBe(200);
    const en = await page(`/c/${slug}/thanks?lang=en`);
    expect(section(en.html)).toContain('<h2 id="next-step-title">What you can do next</h2>');
    expect(section(en.html)).toContain('<a class="button" href="https://example.org/donate?lang=en&amp;ref=thanks" rel="noopener noreferrer">Support &lt;our&gt; &quot;work&quot;</a>');
    expect(section(en.html)).toContain('Sign another petition: <a href="/c/second-round?lang=en">The second round</a>');
    expect(hasShareLinks(en.html)).toBe(true);

    const ja = await page(`/c/${slug}/thanks?lang=ja`);
    expect(section(ja.html)).toContain('<h2 id="next-step-title">次にできること</h2>');
    expect(section(ja.html)).toContain('>活動を支援する</a>');
    expect(section(ja.html)).not.toContain('/c/second-round');
    expect(hasShareLinks(ja.html)).toBe(false);

    const ko = await page(`/c/${slug}/thanks?lang=ko`);
    expect(section(ko.html)).toContain('다른 청원에도 서명해 주세요: <a href="/c/second-round?lang=ko">두 번째 청원</a>');
    expect(section(ko.html)).not.toContain('class="button"');
    expect(hasShareLinks(ko.html)).toBe(true);

    const zh = await page(`/c/${slug}/thanks?lang=zh`);
    expect(section(zh.html)).toContain('>支持我们的工作</a>');
    expect(section(zh.html)).toContain('<a href="/c/second-round?lang=zh">第二轮请愿</a>');

    // The embed's thanks page opens them in a new tab rather than navigate the frame on the NGO's site.
    const embed = await page(`/c/${slug}/embed/thanks?lang=en`);
    expect(section(embed.html)).toContain('href="https://example.org/donate?lang=en&amp;ref=thanks" rel="noopener noreferrer" target="_blank">Support &lt;our&gt; &quot;work&quot;<span class="visually-hidden"> (opens in a new tab)</span></a>');

    // The campaign offered closes: it leaves every thanks page at once.
    expect((await patch('second-round', { status: 'closed' })).status).toBe(200);
    expect(section((await page(`/c/${slug}/thanks?lang=ko`)).html)).toBe('');
    expect(section((await page(`/c/${slug}/thanks?lang=en`)).html)).not.toContain('second-round');
  });

  it('leaves the campaign offered out from the moment it closes by its own closing time', async () => {
    const slug = await twoCampaigns();
    const closesAt = new Date(t.clock.now() + 2_000).toISOString();
    expect((await patch('second-round', { closesAt })).status).toBe(200);
    expect((await patch(slug, { nextStep: { ko: { campaign: 'second-round' } } })).status).toBe(200);
    const open = await t.app.request(`/c/${slug}/thanks?lang=ko`);
    expect(section(await open.text())).toContain('/c/second-round');
    // No cache may keep the page past the close, though a page is otherwise kept a few seconds.
    expect(open.headers.get('cache-control')).toBe('public, max-age=2, s-maxage=2, stale-while-revalidate=0');
    t.clock.advance(2_500);
    expect(section((await page(`/c/${slug}/thanks?lang=ko`)).html)).toBe('');
  });

  it('are shown on the page that confirms the signature, in its language', async () => {
    const slug = await twoCampaigns();
    expect((await patch(slug, { nextStep: everyLanguage })).status).toBe(200);
    expect((await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { token: null, body: signature('aiko@example.com') })).status).toBe(202);
    const token = await latestConfirmToken(t, 'aiko@example.com');
    const confirmPage = await page(`/confirm/${token}`, { 'accept-language': 'zh' });
    const formToken = /name="_token" value="([^"]+)"/.exec(confirmPage.html)![1]!;
    const confirmed = await t.app.request(`/confirm/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
      body: new URLSearchParams({ _token: formToken, lang: 'zh' }).toString(),
    });
    expect(confirmed.status).toBe(200);
    const html = await confirmed.text();
    expect(section(html)).toContain('>支持我们的工作</a>');
    expect(section(html)).toContain('<a href="/c/second-round?lang=zh">第二轮请愿</a>');
    expect(hasShareLinks(html)).toBe(true);
    // The link used again: the same page.
    expect(section((await page(`/confirm/${token}`, { 'accept-language': 'ja' })).html)).toContain('>活動を支援する</a>');
  });
});

describe('the campaign form in the dashboard', () => {
  it('sets the next step per language, shows a refused link beside its field, in English and Japanese', async () => {
    const slug = await twoCampaigns();
    const client = adminBrowser(t);
    await client.login();
    const form = await client.page(`/admin/campaigns/${slug}/edit?lang=ja`);
    expect(form.status).toBe(200);
    expect(form.html).toContain('<h2 id="next-step-h">署名の後</h2>');
    expect(form.html).toContain('<option value="second-round">The second round (second-round)</option>');
    expect(form.html).not.toContain(`<option value="${slug}">`);
    // Nothing set: sharing ticked in every language.
    expect(form.html.match(/<input type="checkbox" id="f-ns_\w\w_sharing" name="ns_\w\w_sharing" checked=""\/>/g)).toHaveLength(4);

    const fields = (extra: Record<string, string>): [string, string][] => [
      ['title', 'Save North Korean refugees'],
      ['locale', 'en'],
      ['timeZone', 'Asia/Tokyo'],
      ['ns_section', '1'],
      ['ns_en_sharing', 'on'],
      ['ns_ko_sharing', 'on'],
      ['ns_zh_sharing', 'on'],
      ...Object.entries(extra),
    ];
    const refused = await client.post(`/admin/campaigns/${slug}?lang=ja`, fields({ ns_ja_donationUrl: 'http://example.org/donate', ns_ja_donationLabel: '寄付する' }));
    expect(refused.status).toBe(422);
    const refusedHtml = await refused.text();
    expect(refusedHtml).toContain('寄付のリンク（日本語）');
    expect(refusedHtml).toMatch(/id="f-ns_ja_donationUrl"[^>]*value="http:\/\/example.org\/donate"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="f-ns_ja_donationUrl"|id="f-ns_ja_donationUrl"[^>]*aria-invalid="true"/);

    const halfDone = await client.post(`/admin/campaigns/${slug}`, fields({ ns_en_donationUrl: 'https://example.org/donate' }));
    expect(halfDone.status).toBe(422);
    expect(await halfDone.text()).toContain('needs both a link and its text');

    const saved = await client.post(`/admin/campaigns/${slug}`, fields({ ns_ja_donationUrl: 'https://example.org/donate', ns_ja_donationLabel: '寄付する', ns_ko_campaign: 'second-round' }));
    expect(saved.status).toBe(303);
    const stored = await (await t.request('GET', `/api/v1/campaigns/${slug}`)).json();
    expect(stored.nextStep).toEqual({
      ja: { donation: { url: 'https://example.org/donate', label: '寄付する' }, campaign: null, sharing: false },
      ko: { donation: null, campaign: 'second-round', sharing: true },
    });
    expect(section((await page(`/c/${slug}/thanks?lang=ja`)).html)).toContain('>寄付する</a>');
    const again = await client.page(`/admin/campaigns/${slug}/edit`);
    expect(again.html).toContain('<h2 id="next-step-h">After signing</h2>');
    expect(again.html).toContain('value="https://example.org/donate"');
    expect(again.html).toMatch(/<option value="second-round" selected="">/);
  });
});
