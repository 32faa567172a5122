import type { OutboxMessage } from '../db/schema.js';
import { escapeHtml } from '../lib/html.js';
import { emailHtmlDocument } from './email-html.js';

export type WebhookDisabledEmail = {
  locale: 'en' | 'ja';
  to: string;
  /** Where the hook posted (an organiser typed it: it goes in the email as text, never as a link). */
  hookUrl: string;
  /** Failed attempts in a row that disabled it. */
  failures: number;
  /** The hook's page in the dashboard. */
  pageUrl: string;
};

const copies = {
  en: {
    subject: 'A webhook was disabled',
    lead: (failures: number) => `Signet stopped sending events to this webhook after ${failures} failed attempts in a row:`,
    instruction: 'Events that happen while it is disabled are not sent. Check the receiver, then enable the webhook again on its page, where the delivery log shows what the receiver answered:',
    footer: 'You receive this email because you own this Signet organisation.',
  },
  ja: {
    subject: 'Webhook が無効になりました',
    lead: (failures: number) => `次の Webhook への送信が ${failures} 回続けて失敗したため、Signet は送信を止めました。`,
    instruction: '無効の間に起きたイベントは送信されません。受信側を確認してから、Webhook のページで再び有効にしてください。ページの配信ログで受信側の応答を確認できます。',
    footer: 'このメールは、この Signet の組織のオーナーであるあなたにお送りしています。',
  },
} as const;

/** The email telling an owner that a webhook was disabled after repeated failures (text and HTML). Pure. */
export function composeWebhookDisabledEmail(email: WebhookDisabledEmail): OutboxMessage {
  const copy = copies[email.locale];
  const text = [copy.lead(email.failures), '', email.hookUrl, '', copy.instruction, '', email.pageUrl, '', '-- ', copy.footer, ''].join('\n');
  const paragraph = (content: string) => `<p style="margin:0 0 16px;">${escapeHtml(content)}</p>`;
  const html = emailHtmlDocument(
    email.locale,
    copy.subject,
    `${paragraph(copy.lead(email.failures))}
<p style="margin:0 0 16px;font-family:monospace;word-break:break-all;">${escapeHtml(email.hookUrl)}</p>
${paragraph(copy.instruction)}
<p style="margin:0 0 24px;word-break:break-all;"><a href="${escapeHtml(email.pageUrl)}" style="color:#1d4ed8;">${escapeHtml(email.pageUrl)}</a></p>
<hr style="border:none;border-top:1px solid #e4e4e7;margin:24px 0;">
<p style="margin:0;font-size:13px;color:#71717a;">${escapeHtml(copy.footer)}</p>`,
  );
  return { to: { address: email.to.trim() }, subject: copy.subject, text, html, headers: { 'Auto-Submitted': 'auto-generated' }, locale: email.locale };
}
