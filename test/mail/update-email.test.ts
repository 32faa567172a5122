import { describe, expect, it } from 'vitest';
import type { StoredOutboxMessage } from '../../src/db/schema.js';
import { renderEmailMarkdown } from '../../src/mail/markdown-email.js';
import { renderStoredMessage } from '../../src/mail/messages.js';
import { composeUpdateEmail, type UpdateEmailInput } from '../../src/mail/update-email.js';
import { testKeys, testLinks } from '../helpers/keys.js';

const unsubscribeUrl = 'https://signet.example/unsubscribe/01a2212b-d384-7c41-a300-4ef26b334fe5.0123456789abcdef0123456789abcdef';

const base: Omit<UpdateEmailInput, 'locale'> = {
  supporterName: 'Aiko Tanaka',
  campaignTitle: 'Save the Tama River',
  subject: 'We delivered your letters',
  bodyMarkdown: '# Delivered\n\nThe letters reached **12 embassies** today. Read [the report](https://ngo.example/report).\n\n- Tokyo\n- Seoul',
};

describe('composeUpdateEmail', () => {
  const expectations: Record<UpdateEmailInput['locale'], { greeting: string; why: string; unsubscribe: string }> = {
    en: {
      greeting: 'Hello Aiko Tanaka,',
      why: 'You are receiving this email because you chose to receive updates when you signed “Save the Tama River”.',
      unsubscribe: 'Unsubscribe from these updates',
    },
    ja: { greeting: 'Aiko Tanaka 様', why: '「Save the Tama River」へのご署名の際に最新情報の受け取りを希望された', unsubscribe: '今後の配信を停止する' },
    ko: { greeting: 'Aiko Tanaka님, 안녕하세요.', why: '“Save the Tama River”에 서명하실 때 소식 받기를 선택하셔서', unsubscribe: '소식 수신 거부하기' },
    zh: { greeting: 'Aiko Tanaka，您好：', why: '您在签署“Save the Tama River”时选择了接收最新动态', unsubscribe: '退订这些动态' },
  };

  for (const [locale, expected] of Object.entries(expectations) as [UpdateEmailInput['locale'], (typeof expectations)['en']][]) {
    it(`writes the ${locale} email: footer in that language, unsubscribe link and RFC 8058 headers`, () => {
      const message = composeUpdateEmail({ ...base, locale }, unsubscribeUrl, ' aiko@example.com ');
      expect(message.to).toEqual({ name: 'Aiko Tanaka', address: 'aiko@example.com' });
      expect(message.subject).toBe('We delivered your letters');
      expect(message.locale).toBe(locale);
      expect(message.headers).toMatchObject({
        'List-Unsubscribe': `<${unsubscribeUrl}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      });

      expect(message.text.startsWith(`${expected.greeting}\n`)).toBe(true);
      expect(message.text).toContain(expected.why);
      expect(message.text).toContain(`${expected.unsubscribe}: ${unsubscribeUrl}`);
      expect(message.text).toContain('The letters reached 12 embassies today. Read the report (https://ngo.example/report).');
      expect(message.text).toContain('- Tokyo\n- Seoul');

      expect(message.html).toContain(`<html lang="${locale}"`);
      expect(message.html).toContain(expected.why);
      expect(message.html).toContain(`<a href="${unsubscribeUrl}" style="color:#52525b;">${expected.unsubscribe}</a>`);
      expect(message.html).toContain('<h2 style="margin:24px 0 12px;font-size:22px;line-height:1.3;">Delivered</h2>');
      expect(message.html).toContain('<strong>12 embassies</strong>');
      expect(message.html).toContain('<a href="https://ngo.example/report" style="color:#1d4ed8;">the report</a>');
      expect(message.html).toMatch(/<ul [^>]*><li [^>]*>Tokyo<\/li><li [^>]*>Seoul<\/li><\/ul>/);
    });
  }

  it('keeps the subject and the display name on one line, and falls back to the title for an empty subject', () => {
    const message = composeUpdateEmail({ ...base, locale: 'en', subject: 'Big\r\nnews\nBcc: victim@example.com', supporterName: 'Eve\r\nBcc: x@example.com' }, unsubscribeUrl, 'eve@example.com');
    expect(message.subject).toBe('Big news Bcc: victim@example.com');
    expect(message.to.name).toBe('Eve Bcc: x@example.com');
    expect(composeUpdateEmail({ ...base, locale: 'en', subject: ' \n ' }, unsubscribeUrl).subject).toBe('Save the Tama River');
  });

  it('greets without a name when the supporter gave none', () => {
    expect(composeUpdateEmail({ ...base, locale: 'en', supporterName: '  ' }, unsubscribeUrl).text.startsWith('Hello,\n')).toBe(true);
  });

  it('refuses an unsubscribe URL that is not http(s) or could break the header', () => {
    expect(() => composeUpdateEmail({ ...base, locale: 'en' }, 'javascript:alert(1)')).toThrow(TypeError);
    expect(() => composeUpdateEmail({ ...base, locale: 'en' }, 'https://x.example/a>b')).toThrow(TypeError);
  });

  it('is what renderStoredMessage builds from a stored update row: the unsubscribe link derived from the signature id, never stored', async () => {
    const signatureId = '01a2212b-d384-7c41-a300-4ef26b334fe5';
    const stored: StoredOutboxMessage = { compose: 'update', input: { ...base, locale: 'ko', signatureId } };
    const derived = `http://localhost:3000/unsubscribe/${await testKeys.unsubscribeToken(signatureId)}`;
    expect(JSON.stringify(stored)).not.toContain(derived.split('/').pop()!);
    expect(await renderStoredMessage(stored, 'aiko@example.com', testLinks)).toEqual(composeUpdateEmail({ ...base, locale: 'ko' }, derived, 'aiko@example.com'));
  });

  it('renders rows queued before 0.2 with the link they carry', async () => {
    const stored: StoredOutboxMessage = { compose: 'update', input: { ...base, locale: 'en', unsubscribeUrl } };
    expect((await renderStoredMessage(stored, 'aiko@example.com', testLinks)).headers?.['List-Unsubscribe']).toBe(`<${unsubscribeUrl}>`);
  });
});

describe('renderEmailMarkdown: nothing the organiser writes becomes markup or a script', () => {
  it('escapes raw HTML, script tags and attributes', () => {
    const { html, text } = renderEmailMarkdown('Hi <script>alert("x")</script> <img src=x onerror=alert(1)> & <b>bold</b>');
    expect(html).not.toMatch(/<script|<img|<b>/);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(text).toContain('<script>alert("x")</script>'); // plain text is not HTML
  });

  it('links only http(s) URLs; javascript:, data: and relative links keep their label as text', () => {
    const { html, text } = renderEmailMarkdown(
      '[click](javascript:alert(1)) [js](JavaScript:alert%281%29) [data](data:text/html;base64,PHNjcmlwdD4=) [rel](/admin) [ok](http://ngo.example/a_b_c*d)',
    );
    expect(html).not.toMatch(/href="(?!http:\/\/ngo\.example)/i);
    expect(html).toContain('<a href="http://ngo.example/a_b_c*d" style="color:#1d4ed8;">ok</a>');
    expect(html).toContain('js data rel');
    expect(text).toContain('js data rel ok (http://ngo.example/a_b_c*d)');
  });

  it('escapes quotes in link URLs and labels, so an href cannot be broken out of', () => {
    const { html } = renderEmailMarkdown('[<b>x</b>](https://ngo.example/?q="onmouseover=alert(1))');
    expect(html).not.toContain('"onmouseover');
    expect(html).not.toContain('<b>');
  });

  it('links bare and angle-bracket URLs, leaving sentence punctuation outside', () => {
    const { html, text } = renderEmailMarkdown('See https://ngo.example/news_2027. Or <https://ngo.example/x>');
    expect(html).toContain('See <a href="https://ngo.example/news_2027" style="color:#1d4ed8;">https://ngo.example/news_2027</a>.');
    expect(html).toContain('Or <a href="https://ngo.example/x" style="color:#1d4ed8;">https://ngo.example/x</a>');
    expect(text).toBe('See https://ngo.example/news_2027. Or https://ngo.example/x');
  });

  it('ends a bare URL at the first non-ASCII character and outside the emphasis around it', () => {
    const { html } = renderEmailMarkdown('詳しくはhttps://ngo.example/jaをご覧ください。**https://ngo.example/b**');
    expect(html).toBe(
      '<p style="margin:0 0 16px;">詳しくは<a href="https://ngo.example/ja" style="color:#1d4ed8;">https://ngo.example/ja</a>をご覧ください。<strong><a href="https://ngo.example/b" style="color:#1d4ed8;">https://ngo.example/b</a></strong></p>',
    );
  });

  it('renders headings, emphasis, numbered lists and line breaks', () => {
    const { html, text } = renderEmailMarkdown('## Next steps\n\n3. *Write* to your MP  \n   today\n4. Share\n\nEnd');
    expect(html).toContain('<h3 style="margin:20px 0 10px;font-size:19px;line-height:1.3;">Next steps</h3>');
    expect(html).toContain('<ol start="3"');
    expect(html).toContain('<em>Write</em> to your MP<br>today');
    expect(text).toBe('Next steps\n\n3. Write to your MP\ntoday\n4. Share\n\nEnd');
  });

  it('ignores private-use characters it uses for its own placeholders', () => {
    const { html } = renderEmailMarkdown('a\uE0000\uE001b [x](https://ngo.example)');
    expect(html).toBe('<p style="margin:0 0 16px;">a0b <a href="https://ngo.example/" style="color:#1d4ed8;">x</a></p>');
  });
});
