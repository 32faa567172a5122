import { describe, expect, it } from 'vitest';
import type { StoredOutboxMessage } from '../../src/db/schema.js';
import { newNonce } from '../../src/lib/keyring.js';
import { escapeHtml } from '../../src/lib/html.js';
import { composeConfirmationEmail, newMessageId, renderStoredMessage, type ConfirmationEmailInput } from '../../src/mail/messages.js';
import type { Locale } from '../../src/lib/locales.js';
import { testKeys, testLinks } from '../helpers/keys.js';

const base = {
  campaignTitle: 'Save the Tama River',
  expiresAt: Date.UTC(2026, 0, 2, 9, 5),
};
const delivery = { confirmUrl: 'https://signet.example/confirm/abc123', to: 'aiko@example.com' };

describe('composeConfirmationEmail', () => {
  const expectations: Record<Locale, { subject: string; text: string[]; date: string }> = {
    en: {
      subject: 'Please confirm your signature: Save the Tama River',
      text: ['Hello,', 'Thank you for signing “Save the Tama River”.', 'you can simply ignore this email'],
      date: 'This link expires on 2 January 2026 at 09:05 UTC.',
    },
    ja: {
      subject: '署名のご確認のお願い：Save the Tama River',
      text: ['こんにちは。', 'ご署名いただき', '何もせずに破棄していただいて構いません'],
      date: 'このリンクの有効期限は 2026年1月2日 9:05 UTC です。',
    },
    ko: {
      subject: '서명 확인 요청: Save the Tama River',
      text: ['안녕하세요.', '서명해 주셔서 감사합니다', '무시하셔도 됩니다'],
      date: '이 링크는 2026년 1월 2일 09:05 UTC에 만료됩니다.',
    },
    zh: {
      subject: '请确认您的签名：Save the Tama River',
      text: ['您好：', '感谢您签署“Save the Tama River”。', '请直接忽略这封邮件'],
      date: '此链接将于 2026年1月2日 UTC 09:05 失效。',
    },
  };

  for (const [locale, expected] of Object.entries(expectations) as [Locale, (typeof expectations)[Locale]][]) {
    it(`writes the ${locale} email in that language, text and HTML, addressed without a name`, () => {
      const message = composeConfirmationEmail({ ...base, locale }, delivery);
      expect(message.subject).toBe(expected.subject);
      expect(message.to).toEqual({ address: 'aiko@example.com' });
      expect(message.locale).toBe(locale);
      for (const fragment of [...expected.text, expected.date, delivery.confirmUrl]) {
        expect(message.text).toContain(fragment);
        expect(message.html).toContain(fragment);
      }
      expect(message.html).toContain(`<html lang="${locale}"`);
      expect(message.html).toContain(`<a href="${delivery.confirmUrl}"`);
    });
  }

  it('shows the expiry in the campaign time zone when given', () => {
    const message = composeConfirmationEmail({ ...base, locale: 'ja', timeZone: 'Asia/Tokyo' }, delivery);
    expect(message.text).toContain('2026年1月2日 18:05 JST');
  });

  it('escapes every interpolated value in the HTML part', () => {
    const message = composeConfirmationEmail({ ...base, locale: 'en', campaignTitle: 'Tom & "Jerry" <b>' }, { ...delivery, confirmUrl: 'https://signet.example/confirm/a"b<c' });
    expect(message.html).toContain('Tom &amp; &quot;Jerry&quot; &lt;b&gt;');
    expect(message.html).toContain('href="https://signet.example/confirm/a&quot;b&lt;c"');
  });

  it('keeps line breaks typed into a title out of the subject', () => {
    const message = composeConfirmationEmail({ ...base, locale: 'en', campaignTitle: 'Title\nBcc: evil@example.com' }, delivery);
    expect(message.subject).not.toMatch(/[\r\n]/);
  });

  it('refuses a link that is not http(s)', () => {
    expect(() => composeConfirmationEmail({ ...base, locale: 'en' }, { ...delivery, confirmUrl: 'javascript:alert(1)' })).toThrow(TypeError);
  });
});

describe('stored confirmation emails', () => {
  it('hold a nonce, never the token: the link is derived with the key when the email is sent', async () => {
    const nonce = newNonce();
    const input: ConfirmationEmailInput = { ...base, locale: 'en', nonce };
    const stored: StoredOutboxMessage = { compose: 'confirmation', input };
    const token = await testKeys.confirmTokens.token(nonce);
    expect(JSON.stringify(stored)).not.toContain(token);
    const message = await renderStoredMessage(stored, 'aiko@example.com', testLinks);
    expect(message.text).toContain(`http://localhost:3000/confirm/${token}?lang=en`);
    expect(await testKeys.confirmTokens.verify(token)).toBe(nonce);
  });

  it('derive nothing usable without the key: a token made under another root secret does not verify', async () => {
    const { Keyring } = await import('../../src/lib/keyring.js');
    const otherKeys = await Keyring.create('another-root-secret-0123456789abcdefghij');
    const nonce = newNonce();
    expect(await testKeys.confirmTokens.verify(await otherKeys.confirmTokens.token(nonce))).toBeNull();
  });

  it('render rows queued before 0.2 (with their link) without the name they carried', async () => {
    const legacy = { compose: 'confirmation', input: { ...base, locale: 'en', supporterName: 'Dear Jane. Your account is locked', email: 'aiko@example.com', confirmUrl: delivery.confirmUrl } } as StoredOutboxMessage;
    const message = await renderStoredMessage(legacy, 'aiko@example.com', testLinks);
    expect(message.text).toContain(delivery.confirmUrl);
    expect(message.text).not.toContain('Jane');
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
