import type { OutboxMessage } from '../db/schema.js';
import { escapeHtml } from '../lib/html.js';
import { emailFontStack } from './email-html.js';
import type { Locale } from '../lib/locales.js';

/**
 * What the outbox stores for a letter sent by email: enough to write the
 * covering note and to find the PDF, and nothing about any supporter (the
 * letter itself carries the signatories who agreed to be named).
 */
export type LetterDeliveryEmailInput = {
  locale: Locale;
  /** The target's address and name, as kept in the target directory. */
  recipient: { name: string; address: string };
  /** The campaign title in `locale` (the campaign's own title when there is no translation). */
  campaignTitle: string;
  /** Signatures the petition counts: the total every letter of its batch states (a routed letter's own share is in its appendix). */
  signatureCount: number;
  /** The sending organisation in `locale`, from the organisation profile (src/services/organisation.ts). */
  organisation: {
    name: string;
    email?: string;
    website?: string;
    addressLines: string[];
    representative?: { name: string; title?: string };
  };
  /** The letter PDF: `storedPath` is relative to DATA_DIR (the transport resolves it), `filename` is what the recipient sees. */
  attachment: { storedPath: string; filename: string };
};

type LetterEmailCopy = {
  numberLocale: string;
  subject(title: string, organisation: string): string;
  salutation(name: string): string;
  body(title: string, count: string, organisation: string): string[];
  closing: string;
  onBehalf(organisation: string): string;
  replyTo(email: string): string;
};

const copyByLocale: Record<Locale, LetterEmailCopy> = {
  en: {
    numberLocale: 'en-GB',
    subject: (title, organisation) => `Letter from ${organisation}: ${title}`,
    salutation: (name) => `Dear ${name},`,
    body: (title, count, organisation) => [
      `On behalf of ${organisation}, please find attached a letter concerning our campaign “${title}”.`,
      `The petition is supported by ${count} signatories; the letter's appendix lists those it counts who agreed to be named.`,
      'We would be grateful for your kind consideration and would welcome your reply.',
    ],
    closing: 'Yours faithfully,',
    onBehalf: (organisation) => `On behalf of ${organisation}`,
    replyTo: (email) => `Replies may be sent to ${email}.`,
  },
  ja: {
    numberLocale: 'ja-JP',
    subject: (title, organisation) => `${organisation}よりの書簡：${title}`,
    salutation: (name) => `${name} 様`,
    body: (title, count, organisation) => [
      '拝啓　時下ますますご清祥のこととお慶び申し上げます。',
      `${organisation}を代表し、キャンペーン「${title}」に関する書簡を添付にてお送りいたします。`,
      `本要請には${count}名が賛同の署名を寄せております。書簡の別紙には、本書簡で数えた署名者のうち氏名の掲載に同意した方を記載しております。`,
      'ご高配を賜りますよう、また、ご返信をいただけますよう、謹んでお願い申し上げます。',
    ],
    closing: '敬具',
    onBehalf: (organisation) => `${organisation}を代表して`,
    replyTo: (email) => `ご返信は ${email} までお寄せください。`,
  },
  zh: {
    numberLocale: 'zh-CN',
    subject: (title, organisation) => `${organisation}致函：${title}`,
    salutation: (name) => `尊敬的${name}：`,
    body: (title, count, organisation) => [
      `谨代表${organisation}，随函附上有关“${title}”活动的信函，敬请查收。`,
      `本请愿共有${count}名联署人支持；信函附录列出本信计入的联署人中同意具名者。`,
      '恳请惠予考虑，并盼早日赐复。',
    ],
    closing: '此致\n敬礼',
    onBehalf: (organisation) => `${organisation}　谨上`,
    replyTo: (email) => `如需回复，请发送至 ${email}。`,
  },
  ko: {
    numberLocale: 'ko-KR',
    subject: (title, organisation) => `${organisation} 서한: ${title}`,
    salutation: (name) => `${name} 귀하`,
    body: (title, count, organisation) => [
      `${organisation}을(를) 대표하여 “${title}” 캠페인에 관한 서한을 첨부하여 보내 드립니다.`,
      `이 청원에는 ${count}명이 서명으로 뜻을 함께했으며, 이 서한에 집계된 서명자 중 이름 공개에 동의한 분은 서한의 부록에 기재되어 있습니다.`,
      '깊은 관심과 검토를 부탁드리며, 회신을 주시면 감사하겠습니다.',
    ],
    closing: '삼가 올림',
    onBehalf: (organisation) => `${organisation} 드림`,
    replyTo: (email) => `회신은 ${email}(으)로 보내 주시기 바랍니다.`,
  },
};

const mailbox = /^[^\s<>@"(),;:\\[\]]+@[^\s<>@"(),;:\\[\]]+$/;

function singleLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}


/**
 * The covering email of a letter sent to a target: short and formal, in the
 * target's language, sent on behalf of the organisation, with the letter PDF
 * attached. Replies go to the organisation's address when it has one.
 */
export function composeLetterDeliveryEmail(input: LetterDeliveryEmailInput): OutboxMessage {
  const copy = copyByLocale[input.locale] ?? copyByLocale.en;
  const title = singleLine(input.campaignTitle);
  const organisation = singleLine(input.organisation.name);
  const recipientName = singleLine(input.recipient.name);
  const count = new Intl.NumberFormat(copy.numberLocale).format(input.signatureCount);
  const replyAddress = input.organisation.email?.trim();
  const replyTo = replyAddress && mailbox.test(replyAddress) ? replyAddress : undefined;
  const subject = copy.subject(title, organisation);

  const signature = [
    ...(input.organisation.representative
      ? [singleLine([input.organisation.representative.name, input.organisation.representative.title].filter(Boolean).join(', '))]
      : []),
    copy.onBehalf(organisation),
    ...input.organisation.addressLines.map(singleLine),
    ...(input.organisation.website ? [singleLine(input.organisation.website)] : []),
  ];
  const paragraphs = copy.body(title, count, organisation);
  const text = [
    copy.salutation(recipientName),
    '',
    ...paragraphs.flatMap((paragraph) => [paragraph, '']),
    ...(replyTo ? [copy.replyTo(replyTo), ''] : []),
    copy.closing,
    '',
    ...signature,
    '',
  ].join('\n');

  const p = (content: string, style = 'margin:0 0 16px;') => `<p style="${style}">${escapeHtml(content).replace(/\n/g, '<br>')}</p>`;
  const html = `<!DOCTYPE html>
<html lang="${input.locale}" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(subject)}</title>
</head>
<body style="margin:0;padding:0;background-color:#ffffff;">
<div lang="${input.locale}" style="max-width:600px;margin:0 auto;padding:32px 24px;color:#18181b;font-family:${emailFontStack};font-size:16px;line-height:1.6;">
${p(copy.salutation(recipientName))}
${paragraphs.map((paragraph) => p(paragraph)).join('\n')}
${replyTo ? p(copy.replyTo(replyTo)) : ''}
${p(copy.closing)}
${p(signature.join('\n'), 'margin:0;color:#3f3f46;')}
</div>
</body>
</html>
`;

  return {
    to: { name: recipientName, address: input.recipient.address.trim() },
    subject,
    text,
    html,
    ...(replyTo ? { headers: { 'Reply-To': replyTo } } : {}),
    locale: input.locale,
    attachments: [{ filename: input.attachment.filename, contentType: 'application/pdf', storedPath: input.attachment.storedPath }],
  };
}
