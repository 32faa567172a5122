import type { OutboxMessage, StoredOutboxMessage } from '../db/schema.js';
import type { Locale } from '../lib/locales.js';
import type { MailLinks } from './mail-links.js';
import { composeActionEmail, formatLinkExpiry } from './action-email.js';
import { type AccountEmailInput, renderAccountEmail } from './account-email.js';
import { composeLetterDeliveryEmail, type LetterDeliveryEmailInput } from './letter-email.js';
import { type PrivacyEmailInput, renderPrivacyEmail } from './privacy-email.js';
import { composeUpdateEmail, type UpdateEmailInput } from './update-email.js';


/**
 * What the outbox stores for a confirmation email: no token and no name.
 * The token is derived from `nonce` when the email is sent (MailLinks), so
 * the outbox, its WAL and free pages never hold a working link; and nothing
 * the submitter typed goes out in the organisation's name before the
 * address is confirmed (PRODUCT.md §8), so the greeting is generic.
 */
export type ConfirmationEmailInput = {
  locale: Locale;
  /** The signature submission's id, from which the confirmation token is derived. */
  nonce: string;
  campaignTitle: string;
  /** When the link stops working, in ms since the epoch (UTC). */
  expiresAt: number;
  /** IANA zone the expiry is shown in (the campaign's); UTC when omitted. */
  timeZone?: string;
  /** The request's one reminder (src/services/reminders.ts): the same link, said as a reminder that will not be repeated. */
  reminder?: true;
};

/** Rows queued by versions before 0.2 carry the link itself (and a name, no longer used). */
type LegacyConfirmationEmailInput = Omit<ConfirmationEmailInput, 'nonce'> & { confirmUrl: string; email?: string };


type ConfirmationCopy = {
  /** BCP 47 tag for date formatting: regional, so the output does not drift with the runtime's defaults. */
  dateLocale: string;
  subject(title: string): string;
  greeting: string;
  thanks(title: string): string;
  instruction: string;
  button: string;
  fallback: string;
  expiry(date: string): string;
  ignore: string;
  footer(title: string): string;
};

const confirmationCopy: Record<Locale, ConfirmationCopy> = {
  en: {
    dateLocale: 'en-GB',
    subject: (title) => `Please confirm your signature: ${title}`,
    greeting: 'Hello,',
    thanks: (title) => `Thank you for signing “${title}”.`,
    instruction:
      'Your signature only counts once you have confirmed it. Please open the link below and confirm your signature on the page it shows.',
    button: 'Confirm my signature',
    fallback: 'If the button does not work, copy this address into your browser:',
    expiry: (date) => `This link expires on ${date}.`,
    ignore:
      'If you did not sign this petition, you can simply ignore this email: nothing will happen, and no signature will be counted in your name.',
    footer: (title) => `You are receiving this email because this address was used to sign “${title}”.`,
  },
  ja: {
    dateLocale: 'ja-JP',
    subject: (title) => `署名のご確認のお願い：${title}`,
    greeting: 'こんにちは。',
    thanks: (title) => `「${title}」にご署名いただき、誠にありがとうございます。`,
    instruction: 'ご署名は、ご本人による確認をもって有効となります。下のリンクを開き、表示されるページで署名を確定してください。',
    button: '署名を確定する',
    fallback: 'ボタンが機能しない場合は、次のアドレスをブラウザに貼り付けてください。',
    expiry: (date) => `このリンクの有効期限は ${date} です。`,
    ignore:
      'このメールにお心当たりがない場合は、何もせずに破棄していただいて構いません。署名が確定されることはなく、ほかに何も起こりません。',
    footer: (title) => `このメールは、「${title}」への署名にこのメールアドレスが使用されたため、お送りしています。`,
  },
  ko: {
    dateLocale: 'ko-KR',
    subject: (title) => `서명 확인 요청: ${title}`,
    greeting: '안녕하세요.',
    thanks: (title) => `“${title}”에 서명해 주셔서 감사합니다.`,
    instruction: '서명은 본인 확인을 마친 후에 집계됩니다. 아래 링크를 열어 표시되는 페이지에서 서명을 확인해 주세요.',
    button: '서명 확인하기',
    fallback: '버튼이 작동하지 않으면 아래 주소를 복사하여 브라우저에 붙여 넣어 주세요.',
    expiry: (date) => `이 링크는 ${date}에 만료됩니다.`,
    ignore: '서명하신 적이 없다면 이 이메일은 무시하셔도 됩니다. 서명은 확인되지 않으며, 아무 일도 일어나지 않습니다.',
    footer: (title) => `이 이메일 주소로 “${title}”에 서명이 접수되어 이 메일을 보내 드립니다.`,
  },
  zh: {
    dateLocale: 'zh-CN',
    subject: (title) => `请确认您的签名：${title}`,
    greeting: '您好：',
    thanks: (title) => `感谢您签署“${title}”。`,
    instruction: '您的签名需经确认后才会被计入。请打开下方链接，并在打开的页面上确认您的签名。',
    button: '确认我的签名',
    fallback: '如果按钮无法使用，请将以下地址复制到浏览器中打开：',
    expiry: (date) => `此链接将于 ${date} 失效。`,
    ignore: '如果您并未签署此请愿，请直接忽略这封邮件：不会发生任何事情，也不会以您的名义计入任何签名。',
    footer: (title) => `您收到这封邮件，是因为有人使用此邮箱地址签署了“${title}”。`,
  },
};

/** What a reminder says instead of a first email's subject, lead and closing line; the rest is the same. */
type ReminderCopy = Pick<ConfirmationCopy, 'subject' | 'thanks' | 'ignore'>;

const reminderCopy: Record<Locale, ReminderCopy> = {
  en: {
    subject: (title) => `Reminder: please confirm your signature: ${title}`,
    thanks: (title) => `This address was used to sign “${title}”, but the signature has not been confirmed yet, so it does not count.`,
    ignore:
      'If you did not sign this petition, you can simply ignore this email: nothing will happen. This is the only reminder we will send.',
  },
  ja: {
    subject: (title) => `【再度のお願い】署名のご確認：${title}`,
    thanks: (title) => `このメールアドレスで「${title}」への署名のお申し込みがありましたが、まだ確定されていないため、署名は数に含まれていません。`,
    ignore: 'このメールにお心当たりがない場合は、何もせずに破棄していただいて構いません。何も起こりません。このお知らせをお送りするのは今回限りです。',
  },
  ko: {
    subject: (title) => `[다시 알림] 서명 확인 요청: ${title}`,
    thanks: (title) => `이 이메일 주소로 “${title}”에 서명이 접수되었지만 아직 확인되지 않아 서명이 집계되지 않았습니다.`,
    ignore: '서명하신 적이 없다면 이 이메일은 무시하셔도 됩니다. 아무 일도 일어나지 않습니다. 이 알림은 한 번만 보내 드립니다.',
  },
  zh: {
    subject: (title) => `提醒：请确认您的签名：${title}`,
    thanks: (title) => `有人使用此邮箱地址签署了“${title}”，但签名尚未确认，因此尚未计入。`,
    ignore: '如果您并未签署此请愿，请直接忽略这封邮件：不会发生任何事情。这是我们唯一的一次提醒。',
  },
};

/** Header fields and display names are one line; organiser-written titles may not be. */
function singleLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/**
 * The "please confirm your signature" email in the supporter's language, as
 * an outbox message (plain text and HTML), for the link and address given;
 * or, for `reminder`, the one reminder of it.
 */
export function composeConfirmationEmail(
  input: Pick<ConfirmationEmailInput, 'locale' | 'campaignTitle' | 'expiresAt' | 'timeZone' | 'reminder'>,
  delivery: { confirmUrl: string; to: string },
): OutboxMessage {
  const copy = input.reminder ? { ...confirmationCopy[input.locale], ...reminderCopy[input.locale] } : confirmationCopy[input.locale];
  const title = singleLine(input.campaignTitle);
  return composeActionEmail({
    locale: input.locale,
    subject: copy.subject(title),
    greeting: copy.greeting,
    lead: copy.thanks(title),
    instruction: copy.instruction,
    button: copy.button,
    url: delivery.confirmUrl,
    fallback: copy.fallback,
    expiry: copy.expiry(formatLinkExpiry(input.expiresAt, copy.dateLocale, input.timeZone ?? 'UTC')),
    ignore: copy.ignore,
    footer: copy.footer(title),
    to: delivery.to,
  });
}

/** The `/confirm/:token` link for a submission; the page behind it speaks the language the supporter signed in. */
export async function confirmationUrl(links: MailLinks, nonce: string, locale: Locale): Promise<string> {
  return `${links.publicUrl}/confirm/${await links.keys.confirmTokens.token(nonce)}?lang=${locale}`;
}

async function renderConfirmation(input: ConfirmationEmailInput | LegacyConfirmationEmailInput, recipient: string | undefined, links: MailLinks) {
  const to = recipient ?? ('email' in input ? input.email : undefined);
  if (!to) throw new TypeError('a confirmation email needs its recipient');
  const confirmUrl = 'nonce' in input ? await confirmationUrl(links, input.nonce, input.locale) : input.confirmUrl;
  return composeConfirmationEmail(input, { confirmUrl, to });
}

const messageIdLocalPart = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/;
const hostname = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

function senderDomain(mailFrom: string): string {
  const angle = /<([^<>]*)>\s*$/.exec(mailFrom);
  const address = (angle?.[1] ?? mailFrom).trim();
  const at = address.lastIndexOf('@');
  if (at < 0) return 'localhost';
  const domain = address.slice(at + 1).trim().toLowerCase();
  if (hostname.test(domain)) return domain;
  try {
    // The URL parser applies IDNA, turning an internationalised domain into its ASCII form.
    const ascii = new URL(`http://${domain}/`).hostname;
    return hostname.test(ascii) ? ascii : 'localhost';
  } catch {
    return 'localhost';
  }
}

/**
 * A Message-ID (`<id@domain>`) under the sender's domain, as RFC 5322 asks.
 * The caller stores it with the message so every retry carries the same one
 * and a receiver can recognise a duplicate.
 */
export function newMessageId(mailFrom: string, id: string): string {
  if (!messageIdLocalPart.test(id)) throw new TypeError('Message-ID id must be dot-atom text');
  return `<${id}@${senderDomain(mailFrom)}>`;
}

/**
 * Turns what the outbox stored into the message to send. `recipient` is the
 * outbox row's address (inputs do not repeat it: one copy of the personal
 * data per row); `links` derives the tokens of the links the message carries.
 */
export async function renderStoredMessage(stored: StoredOutboxMessage, recipient: string | undefined, links: MailLinks): Promise<OutboxMessage> {
  if ('compose' in stored) {
    if (stored.compose === 'confirmation') return renderConfirmation(stored.input as ConfirmationEmailInput, recipient, links);
    if (stored.compose === 'letter-delivery') return composeLetterDeliveryEmail(stored.input as LetterDeliveryEmailInput);
    if (stored.compose === 'update') return renderUpdateEmail(stored.input as UpdateEmailInput, recipient, links);
    if (stored.compose === 'privacy') return renderPrivacyEmail(stored.input as PrivacyEmailInput, recipient, links);
    if (stored.compose === 'account') return renderAccountEmail(stored.input as unknown as AccountEmailInput, recipient, links);
    // A webhook is no email: src/outbox/deliver.ts hands it to the webhook sender before rendering.
    if (stored.compose === 'webhook') throw new TypeError('a webhook event is not an email');
    throw new TypeError(`Unknown outbox composer: ${String((stored as { compose: unknown }).compose)}`);
  }
  return stored;
}

async function renderUpdateEmail(input: UpdateEmailInput, recipient: string | undefined, links: MailLinks): Promise<OutboxMessage> {
  // Rows queued before 0.2 carry the link itself.
  const unsubscribeUrl = input.signatureId ? `${links.publicUrl}/unsubscribe/${await links.keys.unsubscribeToken(input.signatureId)}` : input.unsubscribeUrl;
  if (!unsubscribeUrl) throw new TypeError('an update email needs its signature id');
  return composeUpdateEmail(input, unsubscribeUrl, recipient);
}
