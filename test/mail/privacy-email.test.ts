import { describe, expect, it } from 'vitest';
import { renderStoredMessage } from '../../src/mail/messages.js';
import { composePrivacyEmail } from '../../src/mail/privacy-email.js';
import { newNonce } from '../../src/lib/keyring.js';
import { testKeys, testLinks } from '../helpers/keys.js';

const expiresAt = Date.UTC(2027, 8, 2, 9, 30);

describe('the privacy email', () => {
  it('is rendered from the stored nonce at send time, in each language, with the link, its expiry and no name', async () => {
    const nonce = newNonce();
    const token = await testKeys.privacyTokens.token(nonce);
    const subjects = new Set<string>();
    for (const locale of ['en', 'ja', 'ko', 'zh'] as const) {
      const message = await renderStoredMessage({ compose: 'privacy', input: { locale, nonce, kind: 'erase', expiresAt } }, 'someone@example.org', testLinks);
      const url = `http://localhost:3000/privacy/${token}?lang=${locale}`;
      expect(message.to).toEqual({ address: 'someone@example.org' });
      expect(message.text).toContain(url);
      expect(message.html).toContain(`href="${url}"`);
      expect(message.html).toContain(`lang="${locale}"`);
      expect(message.text).toMatch(/2027/);
      expect(message.headers).toEqual({ 'Auto-Submitted': 'auto-generated' });
      subjects.add(message.subject);
    }
    expect(subjects.size).toBe(4);
    expect(await testKeys.privacyTokens.verify(token)).toBe(nonce);
  });

  it('says what was asked for: each kind has its own subject and button', () => {
    const kinds = ['export', 'erase', 'manage'] as const;
    const messages = kinds.map((kind) => composePrivacyEmail({ locale: 'en', kind, expiresAt }, { url: 'https://signet.example/privacy/x', to: 'a@example.org' }));
    expect(new Set(messages.map((m) => m.subject)).size).toBe(3);
    expect(messages[1]!.html).toContain('>Delete my data</a>');
    expect(messages[1]!.text).toContain('This link works once and expires on 2 September 2027 at 09:30 UTC.');
  });

  it('refuses a link that is not http(s), and needs its recipient', async () => {
    expect(() => composePrivacyEmail({ locale: 'en', kind: 'export', expiresAt }, { url: 'javascript:alert(1)', to: 'a@example.org' })).toThrow(/http/);
    await expect(renderStoredMessage({ compose: 'privacy', input: { locale: 'en', nonce: newNonce(), kind: 'export', expiresAt } }, undefined, testLinks)).rejects.toThrow(/recipient/);
  });
});
