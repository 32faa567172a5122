import type { OutboxMessage } from '../db/schema.js';
import { escapeHtml } from '../lib/html.js';
import type { Locale } from '../lib/locales.js';
import { emailHtmlDocument } from './email-html.js';
import { renderEmailMarkdown } from './markdown-email.js';

/**
 * What the outbox stores for one supporter's copy of an update mailing
 * (`{ compose: 'update', input }`). The address is not in it: it is the
 * outbox row's `recipient`, passed to the composer when the row is sent.
 */
export type UpdateEmailInput = {
  locale: Locale;
  supporterName: string;
  campaignTitle: string;
  subject: string;
  bodyMarkdown: string;
  /** The supporter's signature: the unsubscribe link is derived from it when the email is sent, so no token is stored. */
  signatureId?: string;
  /** Rows queued before 0.2: the link itself. */
  unsubscribeUrl?: string;
};

type UpdateCopy = {
  greeting(name: string): string;
  anonymousGreeting: string;
  why(title: string): string;
  unsubscribe: string;
};

const updateCopy: Record<UpdateEmailInput['locale'], UpdateCopy> = {
  en: {
    greeting: (name) => `Hello ${name},`,
    anonymousGreeting: 'Hello,',
    why: (title) => `You are receiving this email because you chose to receive updates when you signed “${title}”.`,
    unsubscribe: 'Unsubscribe from these updates',
  },
  ja: {
    greeting: (name) => `${name} 様`,
    anonymousGreeting: 'こんにちは。',
    why: (title) => `このメールは、「${title}」へのご署名の際に最新情報の受け取りを希望された方にお送りしています。`,
    unsubscribe: '今後の配信を停止する',
  },
  ko: {
    greeting: (name) => `${name}님, 안녕하세요.`,
    anonymousGreeting: '안녕하세요.',
    why: (title) => `이 메일은 “${title}”에 서명하실 때 소식 받기를 선택하셔서 보내 드립니다.`,
    unsubscribe: '소식 수신 거부하기',
  },
  zh: {
    greeting: (name) => `${name}，您好：`,
    anonymousGreeting: '您好：',
    why: (title) => `您收到这封邮件，是因为您在签署“${title}”时选择了接收最新动态。`,
    unsubscribe: '退订这些动态',
  },
};

/** Header fields and display names are one line; organiser-written text may not be. */
function singleLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}


/**
 * An organiser's update to one supporter who consented to updates: the
 * Markdown body rendered safely (src/mail/markdown-email.ts), a footer in the
 * supporter's language saying why it came, and the unsubscribe link in the
 * footer and in `List-Unsubscribe` with RFC 8058 one-click. Pure.
 *
 * `unsubscribeUrl` is derived when the email is sent (messages.ts) and
 * `recipientAddress` is the outbox row's recipient; the sender passes both.
 */
export function composeUpdateEmail(input: UpdateEmailInput, unsubscribeUrl: string, recipientAddress = ''): OutboxMessage {
  if (!/^https?:\/\//i.test(unsubscribeUrl) || /[\s<>"]/.test(unsubscribeUrl)) {
    // It goes into an href and between the angle brackets of a header.
    throw new TypeError('unsubscribeUrl must be an http(s) URL without spaces or angle brackets');
  }
  const copy = updateCopy[input.locale] ?? updateCopy.en;
  const name = singleLine(input.supporterName);
  const title = singleLine(input.campaignTitle);
  const subject = singleLine(input.subject) || title;
  const greeting = name === '' ? copy.anonymousGreeting : copy.greeting(name);
  const body = renderEmailMarkdown(input.bodyMarkdown);
  const url = unsubscribeUrl;
  const href = escapeHtml(url);

  const text = [greeting, '', body.text, '', '-- ', copy.why(title), `${copy.unsubscribe}: ${url}`, ''].join('\n');

  const html = emailHtmlDocument(input.locale, subject, `<p style="margin:0 0 16px;">${escapeHtml(greeting)}</p>
${body.html}
<hr style="border:none;border-top:1px solid #e4e4e7;margin:24px 0;">
<p style="margin:0 0 8px;font-size:13px;color:#71717a;">${escapeHtml(copy.why(title))}</p>
<p style="margin:0;font-size:13px;"><a href="${href}" style="color:#52525b;">${escapeHtml(copy.unsubscribe)}</a></p>`);

  return {
    to: { name, address: recipientAddress.trim() },
    subject,
    text,
    html,
    headers: {
      // RFC 8058: mail clients show an unsubscribe button that POSTs `List-Unsubscribe=One-Click` to this URL.
      'List-Unsubscribe': `<${url}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      // RFC 3834: bulk mail from a no-reply sender; vacation responders should stay quiet.
      'Auto-Submitted': 'auto-generated',
      Precedence: 'bulk',
    },
    locale: input.locale,
  };
}
