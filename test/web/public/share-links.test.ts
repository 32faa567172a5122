import { afterEach, describe, expect, it } from 'vitest';
import { catalogs, pageLanguages } from '../../../src/web/i18n/index.js';
import { shareScript } from '../../../src/web/public/share-script.js';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';

let t: ReturnType<typeof createTestApp> | undefined;
afterEach(async () => t?.cleanup());

const titles = { en: 'Stop forced returns & free "them" now', ja: '強制送還をやめて', ko: '강제 송환을 멈춰 주세요', zh: '停止强制遣返' } as const;

async function campaignWithTranslations() {
  await openCampaign(t!, 'stop-returns', {
    title: titles.en,
    translations: { ja: { title: titles.ja }, ko: { title: titles.ko }, zh: { title: titles.zh } },
  });
}

/** The share section of a page, or throws. */
function shareSection(html: string): string {
  const match = /<section class="share"[\s\S]*?<\/section>/.exec(html);
  if (!match) throw new Error('no share links on the page');
  return match[0];
}

/** The decoded href of each link in a piece of HTML. */
const hrefs = (html: string) => [...html.matchAll(/<a href="([^"]+)"/g)].map((match) => match[1]!.replaceAll('&amp;', '&'));

describe('share links', () => {
  for (const path of ['/c/stop-returns', '/c/stop-returns/thanks']) {
    it(`are on ${path} in every language, carrying the campaign page in that language and its title`, async () => {
      t = createTestApp();
      await campaignWithTranslations();
      for (const language of pageLanguages) {
        const response = await t.app.request(`${path}?lang=${language}`);
        expect(response.status).toBe(200);
        const section = shareSection(await response.text());
        const messages = catalogs[language];
        const url = `http://localhost:3000/c/stop-returns?lang=${language}`;
        const title = titles[language];
        const q = encodeURIComponent;
        expect(hrefs(section)).toEqual([
          `https://social-plugins.line.me/lineit/share?url=${q(url)}`,
          `https://x.com/intent/post?text=${q(title)}&url=${q(url)}`,
          `https://www.facebook.com/sharer/sharer.php?u=${q(url)}`,
          `mailto:?subject=${q(title)}&body=${q(`${messages.shareInvite}\n${title}\n${url}`)}`,
        ]);
        for (const text of [messages.shareHeading, messages.shareOnLine, messages.shareOnX, messages.shareOnFacebook, messages.shareByEmail, messages.shareCopy, messages.shareLinkLabel]) {
          expect(section).toContain(text);
        }
        // The three services open in a new tab, which screen readers are told, with no opener and no Referer.
        expect(section.match(/target="_blank" rel="noopener noreferrer"/g)).toHaveLength(3);
        expect(section.match(new RegExp(`<span class="visually-hidden"> ${messages.shareNewTab.replace(/[()]/g, '\\$&')}</span>`, 'g'))).toHaveLength(3);
        // Without JavaScript: the link readable in a read-only field, the copy button hidden until the script shows it.
        expect(section).toContain(`<input type="text" id="share-url" value="${url}" readonly=""`);
        expect(section).toMatch(/<button type="button" data-copy="share-url"[^>]* hidden="">/);
      }
    });
  }

  it('carry no tracking parameters, and the only script is a file of this origin, allowed by the CSP', async () => {
    t = createTestApp();
    await campaignWithTranslations();
    const response = await t.app.request('/c/stop-returns?lang=en');
    const html = await response.text();
    for (const href of hrefs(shareSection(html)).map(decodeURIComponent)) expect(href).not.toMatch(/[?&](utm_[a-z]+|fbclid|ref|source)=/);
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((match) => match[1]!);
    expect(scripts).toEqual([` src="${shareScript.path}" defer=""`]);
    expect(shareScript.path).toMatch(/^\/assets\/share\.[0-9a-f]{14}\.js$/);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self';");

    const script = await t.app.request(shareScript.path);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await script.text()).toContain('navigator.clipboard.writeText');
  });

  it('are on the campaign page of a closed campaign too (a finished petition is still worth telling about)', async () => {
    t = createTestApp();
    await campaignWithTranslations();
    expect((await t.request('PATCH', '/api/v1/campaigns/stop-returns', { body: { status: 'closed' } })).status).toBe(200);
    const html = await (await t.app.request('/c/stop-returns?lang=ja')).text();
    expect(html).not.toContain('<form method="post"');
    expect(shareSection(html)).toContain(catalogs.ja.shareHeading);
  });

  it('escape the title in every link (it is the organiser’s text)', async () => {
    t = createTestApp();
    await openCampaign(t, 'xss', { title: '"><script>alert(1)</script>' });
    const section = shareSection(await (await t.app.request('/c/xss?lang=en')).text());
    expect(section).not.toContain('<script>alert');
    expect(section).toContain('text=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E&amp;url=');
  });
});
