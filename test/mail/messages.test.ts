import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../src/lib/html.js';
import { composeConfirmationEmail, newMessageId, type MailLocale } from '../../src/mail/messages.js';

const base = {
  supporterName: 'Aiko Tanaka',
  email: 'aiko@example.com',
  campaignTitle: 'Save the Tama River',
  confirmUrl: 'https://signet.example/confirm/abc123',
  expiresAt: Date.UTC(2026, 0, 2, 9, 5),
};

describe('composeConfirmationEmail', () => {
  const expectations: Record<MailLocale, { subject: string; text: string[]; date: string }> = {
    en: {
      subject: 'Please confirm your signature: Save the Tama River',
      text: ['Hello Aiko Tanaka,', 'Thank you for signing “Save the Tama River”.', 'you can simply ignore this email'],
      date: 'This link expires on 2 January 2026 at 09:05 UTC.',
    },
    ja: {
      subject: '署名のご確認のお願い：Save the Tama River',
      text: ['Aiko Tanaka 様', 'ご署名いただき', '何もせずに破棄していただいて構いません'],
      date: 'このリンクの有効期限は 2026年1月2日 9:05 UTC です。',
    },
    ko: {
      subject: '서명 확인 요청: Save the Tama River',
      text: ['Aiko Tanaka님, 안녕하세요.', '서명해 주셔서 감사합니다', '무시하셔도 됩니다'],
      date: '이 링크는 2026년 1월 2일 09:05 UTC에 만료됩니다.',
    },
    zh: {
      subject: '请确认您的签名：Save the Tama River',
      text: ['Aiko Tanaka，您好：', '感谢您签署“Save the Tama River”。', '请直接忽略这封邮件'],
      date: '此链接将于 2026年1月2日 UTC 09:05 失效。',
    },
  };

  for (const [locale, expected] of Object.entries(expectations) as [MailLocale, (typeof expectations)[MailLocale]][]) {
    it(`writes the ${locale} email in that language, text and HTML`, () => {
      const message = composeConfirmationEmail({ ...base, locale });
      expect(message.subject).toBe(expected.subject);
      expect(message.to).toEqual({ name: 'Aiko Tanaka', address: 'aiko@example.com' });
      expect(message.locale).toBe(locale);
      for (const fragment of [...expected.text, expected.date, base.confirmUrl]) {
        expect(message.text).toContain(fragment);
        expect(message.html).toContain(fragment);
      }
      expect(message.html).toContain(`<html lang="${locale}"`);
      expect(message.html).toContain(`<a href="${base.confirmUrl}"`);
    });
  }

  it('shows the expiry in the campaign time zone when given', () => {
    const message = composeConfirmationEmail({ ...base, locale: 'ja', timeZone: 'Asia/Tokyo' });
    expect(message.text).toContain('2026年1月2日 18:05 JST');
  });

  it('greets without a name when the name is blank', () => {
    const message = composeConfirmationEmail({ ...base, locale: 'en', supporterName: '   ' });
    expect(message.text.startsWith('Hello,\n')).toBe(true);
  });

  it('escapes every interpolated value in the HTML part', () => {
    const message = composeConfirmationEmail({
      ...base,
      locale: 'en',
      supporterName: '<script>alert(1)</script>',
      campaignTitle: 'Tom & "Jerry" <b>',
      confirmUrl: 'https://signet.example/confirm/a"b<c',
    });
    expect(message.html).not.toContain('<script>');
    expect(message.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(message.html).toContain('Tom &amp; &quot;Jerry&quot; &lt;b&gt;');
    expect(message.html).toContain('href="https://signet.example/confirm/a&quot;b&lt;c"');
    // The plain-text part is not HTML: it keeps the name as typed.
    expect(message.text).toContain('Hello <script>alert(1)</script>,');
  });

  it('keeps line breaks typed into a name or title out of the subject and the To name', () => {
    const message = composeConfirmationEmail({
      ...base,
      locale: 'en',
      supporterName: 'Eve\r\nBcc: evil@example.com',
      campaignTitle: 'Title\nBcc: evil@example.com',
    });
    expect(message.subject).not.toMatch(/[\r\n]/);
    expect(message.to.name).not.toMatch(/[\r\n]/);
  });

  it('refuses a link that is not http(s)', () => {
    expect(() => composeConfirmationEmail({ ...base, locale: 'en', confirmUrl: 'javascript:alert(1)' })).toThrow(TypeError);
  });
});

describe('newMessageId', () => {
  it('uses the domain of the sender', () => {
    expect(newMessageId('Signet <no-reply@Signet.Example>', 'abc')).toBe('<abc@signet.example>');
    expect(newMessageId('no-reply@mail.example.org', 'abc')).toBe('<abc@mail.example.org>');
    expect(newMessageId('"Team @ Home" <x@home.example>', 'abc')).toBe('<abc@home.example>');
  });

  it('turns an internationalised domain into its ASCII form', () => {
    expect(newMessageId('署名 <no-reply@例え.jp>', 'abc')).toBe('<abc@xn--r8jz45g.jp>');
  });

  it('falls back to localhost when there is no usable domain', () => {
    expect(newMessageId('Signet', 'abc')).toBe('<abc@localhost>');
    expect(newMessageId('Signet <no-reply@>', 'abc')).toBe('<abc@localhost>');
    expect(newMessageId('x@bad domain', 'abc')).toBe('<abc@localhost>');
  });

  it('refuses an id that cannot stand in a Message-ID', () => {
    expect(() => newMessageId('a@b.example', 'a b')).toThrow(TypeError);
  });
});

describe('escapeHtml', () => {
  it('escapes the five characters that matter in content and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});
