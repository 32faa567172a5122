import { describe, expect, it } from 'vitest';
import { loadSettings, loadWorkerSettings, SettingsError } from '../../src/config.js';

const base = { PUBLIC_URL: 'https://sign.example.org', SECRET_KEY: 'k'.repeat(43), SMTP_URL: 'smtps://user:pass@mail.example.org:465' };

function problems(env: Record<string, unknown>) {
  try {
    loadWorkerSettings(env);
  } catch (error) {
    if (error instanceof SettingsError) return error.problems;
    throw error;
  }
  return [];
}

describe('the Worker settings', () => {
  it('validates with the same rules and defaults as Node', () => {
    const worker = loadWorkerSettings({ ...base, SIGN_RATE_LIMIT: '7/60s', CONFIRM_EMAIL_LIMIT: '2/600s', RETENTION_DAYS: '90', AUDIT_RETENTION_DAYS: '400' });
    const node = loadSettings({ ...base, SIGN_RATE_LIMIT: '7/60s', CONFIRM_EMAIL_LIMIT: '2/600s', RETENTION_DAYS: '90', AUDIT_RETENTION_DAYS: '400' });
    expect(worker.AUDIT_RETENTION_DAYS).toBe(400);
    for (const key of ['SIGN_RATE_LIMIT', 'CONFIRM_EMAIL_LIMIT', 'RETENTION_DAYS', 'AUDIT_RETENTION_DAYS', 'PENDING_TTL_DAYS', 'PUBLIC_REGION_MIN', 'CONFIRM_EMAILS_PER_MINUTE', 'MAIL_FROM', 'CONFIRM_TOKEN_TTL_HOURS'] as const) {
      expect(worker[key]).toEqual(node[key]);
    }
    expect(problems({ ...base, SIGN_RATE_LIMIT: 'lots' })).toEqual([{ setting: 'SIGN_RATE_LIMIT', message: expect.stringContaining('N/Ss') }]);
    expect(problems({ ...base, SMTP_URL: 'smtp://mail.example.org:587?tls=maybe' })[0]?.setting).toBe('SMTP_URL');
  });

  it('ignores the Node-only settings (a port, files, a printer) rather than misreading them', () => {
    const settings = loadWorkerSettings({ ...base, PORT: 'not-a-port', DATABASE_PATH: '/x', PRINTER_URL: 'bogus', MAIL_SENDER: 'sometimes' }) as Record<string, unknown>;
    for (const key of ['PORT', 'DATABASE_PATH', 'PRINTER_URL', 'MAIL_SENDER', 'DATA_DIR', 'SECRET_KEY_FILE', 'TRUST_PROXY']) expect(settings).not.toHaveProperty(key);
  });

  it('needs a PUBLIC_URL, a SECRET_KEY and one way to send mail', () => {
    expect(problems({ SECRET_KEY: base.SECRET_KEY, SMTP_URL: base.SMTP_URL }).map((p) => p.setting)).toEqual(['PUBLIC_URL']);
    expect(problems({ PUBLIC_URL: base.PUBLIC_URL, SMTP_URL: base.SMTP_URL }).map((p) => p.setting)).toEqual(['SECRET_KEY']);
    expect(problems({ ...base, SECRET_KEY: 'short' }).map((p) => p.setting)).toEqual(['SECRET_KEY']);
    expect(problems({ PUBLIC_URL: base.PUBLIC_URL, SECRET_KEY: base.SECRET_KEY })[0]?.message).toMatch(/SMTP_URL or MAIL_API_URL/);
    expect(problems({ ...base, MAIL_API_URL: 'https://api.mailgun.net/v3/mg.example.org/messages.mime', MAIL_API_TOKEN: 'key' })[0]?.message).toMatch(/not both/);
  });

  it('sends the mail API key over https only, and never with credentials in the URL', () => {
    const api = { PUBLIC_URL: base.PUBLIC_URL, SECRET_KEY: base.SECRET_KEY, MAIL_API_TOKEN: 'key-123' };
    expect(loadWorkerSettings({ ...api, MAIL_API_URL: 'https://api.mailgun.net/v3/mg.example.org/messages.mime' }).MAIL_API_URL).toBe('https://api.mailgun.net/v3/mg.example.org/messages.mime');
    expect(problems({ ...api, MAIL_API_URL: 'http://api.mailgun.net/v3/mg.example.org/messages.mime' })[0]).toEqual({ setting: 'MAIL_API_URL', message: expect.stringContaining('https://') });
    expect(problems({ ...api, MAIL_API_URL: 'https://api:secret@api.mailgun.net/v3/x/messages.mime' })[0]?.setting).toBe('MAIL_API_URL');
    expect(problems({ ...api, MAIL_API_TOKEN: undefined, MAIL_API_URL: 'https://api.mailgun.net/v3/x/messages.mime' })[0]?.message).toMatch(/MAIL_API_TOKEN/);
  });
});
