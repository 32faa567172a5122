import type { OutboxMessage } from '../db/schema.js';
import { escapeHtml } from '../lib/html.js';
import { emailHtmlDocument } from './email-html.js';

/** The parts of an email that asks the reader to open one link (a confirmation, a privacy request). */
export type ActionEmail = {
  locale: string;
  subject: string;
  greeting: string;
  /** Why the email came, before the instruction. */
  lead: string;
  instruction: string;
  button: string;
  url: string;
  /** "If the button does not work, copy this address…" */
  fallback: string;
  expiry: string;
  /** What to do if the reader did not ask for it. */
  ignore: string;
  footer: string;
  to: string;
};

/**
 * One layout for the emails that carry a single link, text and HTML: a
 * generic greeting, the reason, a button and the link written out, when it
 * expires, and what to do if it was not you. Only http(s) links: anything
 * else in an href (javascript:, data:) would turn the button into a script.
 */
export function composeActionEmail(email: ActionEmail): OutboxMessage {
  if (!/^https?:\/\//i.test(email.url)) throw new TypeError('the link must be an http(s) URL');
  const { url } = email;
  const text = [email.greeting, '', email.lead, email.instruction, '', url, '', email.expiry, '', email.ignore, '', '-- ', email.footer, ''].join('\n');
  const paragraph = (content: string, style = 'margin:0 0 16px;') => `<p style="${style}">${escapeHtml(content)}</p>`;
  const href = escapeHtml(url);
  const html = emailHtmlDocument(email.locale, email.subject, `${paragraph(email.greeting)}
${paragraph(email.lead)}
${paragraph(email.instruction, 'margin:0 0 24px;')}
<p style="margin:0 0 24px;"><a href="${href}" style="display:inline-block;padding:12px 24px;background-color:#1d4ed8;color:#ffffff;font-weight:bold;text-decoration:none;border-radius:6px;">${escapeHtml(email.button)}</a></p>
${paragraph(email.fallback, 'margin:0 0 8px;font-size:14px;color:#52525b;')}
<p style="margin:0 0 24px;font-size:14px;word-break:break-all;"><a href="${href}" style="color:#1d4ed8;">${href}</a></p>
${paragraph(email.expiry)}
${paragraph(email.ignore)}
<hr style="border:none;border-top:1px solid #e4e4e7;margin:24px 0;">
${paragraph(email.footer, 'margin:0;font-size:13px;color:#71717a;')}`);
  return {
    // The address only: a display name would be text someone typed, sent before anything was confirmed.
    to: { address: email.to.trim() },
    subject: email.subject,
    text,
    html,
    // RFC 3834: tells vacation responders not to answer a no-reply sender.
    headers: { 'Auto-Submitted': 'auto-generated' },
    locale: email.locale,
  };
}

// Building an Intl.DateTimeFormat costs far more than using one, and this runs on every signature.
const expiryFormats = new Map<string, Intl.DateTimeFormat>();

/** When an emailed link expires, in the reader's language and a time zone (UTC when nothing says where the reader is). */
export function formatLinkExpiry(expiresAt: number, dateLocale: string, timeZone: string): string {
  const key = `${dateLocale}|${timeZone}`;
  let format = expiryFormats.get(key);
  if (!format) {
    format = createExpiryFormat(dateLocale, timeZone);
    if (expiryFormats.size > 500) expiryFormats.clear();
    expiryFormats.set(key, format);
  }
  return format.format(expiresAt);
}

function createExpiryFormat(dateLocale: string, timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat(dateLocale, {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone,
    timeZoneName: 'short',
  });
}
