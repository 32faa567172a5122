import type { OutboxMessage } from '../db/schema.js';
import { composeActionEmail, formatLinkExpiry } from './action-email.js';
import type { Locale } from '../lib/locales.js';
import type { MailLinks } from './mail-links.js';

export type PrivacyRequestKind = 'export' | 'erase' | 'manage';

/**
 * What the outbox stores for a privacy email (`{ compose: 'privacy', input }`).
 * The address is only in the outbox row's recipient, and the link's token is
 * derived from `nonce` (the privacy request's id) when the email is sent, so
 * neither the outbox nor its log ever holds a working link. No name and no
 * campaign: the email says nothing about what the address signed, in case
 * someone other than its owner reads it.
 */
export type PrivacyEmailInput = {
  locale: Locale;
  nonce: string;
  kind: PrivacyRequestKind;
  /** When the link stops working, in ms since the epoch (UTC). */
  expiresAt: number;
};

type PrivacyCopy = {
  dateLocale: string;
  subject: Record<PrivacyRequestKind, string>;
  greeting: string;
  asked: Record<PrivacyRequestKind, string>;
  instruction: string;
  button: Record<PrivacyRequestKind, string>;
  fallback: string;
  expiry(date: string): string;
  ignore: string;
  footer: string;
};

const copies: Record<Locale, PrivacyCopy> = {
  en: {
    dateLocale: 'en-GB',
    subject: {
      export: 'Your request for a copy of your data',
      erase: 'Your request to delete your data',
      manage: 'Your request to change your choices',
    },
    greeting: 'Hello,',
    asked: {
      export: 'We received a request for a copy of the data we hold about this email address.',
      erase: 'We received a request to delete the data we hold about this email address.',
      manage: 'We received a request to change how the signatures made with this email address are used.',
    },
    instruction: 'Open the link below to continue. Nothing happens until you press the button on the page it shows.',
    button: { export: 'Get my data', erase: 'Delete my data', manage: 'Change my choices' },
    fallback: 'If the button does not work, copy this address into your browser:',
    expiry: (date) => `This link works once and expires on ${date}.`,
    ignore: 'If you did not make this request, you can ignore this email: nothing will change.',
    footer: 'You are receiving this email because a request about this address was made on our privacy page.',
  },
  ja: {
    dateLocale: 'ja-JP',
    subject: {
      export: '個人情報の開示請求について',
      erase: '個人情報の削除請求について',
      manage: '署名の設定変更のご請求について',
    },
    greeting: 'こんにちは。',
    asked: {
      export: 'このメールアドレスについて当団体が保有する個人情報の開示請求を受け付けました。',
      erase: 'このメールアドレスについて当団体が保有する個人情報の削除請求を受け付けました。',
      manage: 'このメールアドレスで行われた署名の取り扱いを変更するご請求を受け付けました。',
    },
    instruction: '下のリンクを開いて手続きを進めてください。表示されるページでボタンを押すまで、何も行われません。',
    button: { export: '個人情報を受け取る', erase: '個人情報を削除する', manage: '設定を変更する' },
    fallback: 'ボタンが機能しない場合は、次のアドレスをブラウザに貼り付けてください。',
    expiry: (date) => `このリンクは一度だけ使用でき、有効期限は ${date} です。`,
    ignore: 'このご請求にお心当たりがない場合は、このメールを破棄してください。何も変更されません。',
    footer: 'このメールは、当団体の個人情報ページでこのアドレスについてのご請求があったため、お送りしています。',
  },
  ko: {
    dateLocale: 'ko-KR',
    subject: {
      export: '개인정보 열람 요청 안내',
      erase: '개인정보 삭제 요청 안내',
      manage: '서명 설정 변경 요청 안내',
    },
    greeting: '안녕하세요.',
    asked: {
      export: '이 이메일 주소에 관해 보관 중인 개인정보의 사본 요청을 받았습니다.',
      erase: '이 이메일 주소에 관해 보관 중인 개인정보의 삭제 요청을 받았습니다.',
      manage: '이 이메일 주소로 한 서명의 이용 방식을 변경해 달라는 요청을 받았습니다.',
    },
    instruction: '아래 링크를 열어 계속 진행해 주세요. 표시되는 페이지에서 버튼을 누르기 전에는 아무 일도 일어나지 않습니다.',
    button: { export: '내 정보 받기', erase: '내 정보 삭제하기', manage: '설정 변경하기' },
    fallback: '버튼이 작동하지 않으면 아래 주소를 복사하여 브라우저에 붙여 넣어 주세요.',
    expiry: (date) => `이 링크는 한 번만 사용할 수 있으며 ${date}에 만료됩니다.`,
    ignore: '요청하신 적이 없다면 이 이메일은 무시하셔도 됩니다. 아무것도 변경되지 않습니다.',
    footer: '개인정보 페이지에서 이 주소에 관한 요청이 접수되어 이 메일을 보내 드립니다.',
  },
  zh: {
    dateLocale: 'zh-CN',
    subject: {
      export: '关于您查阅个人信息的请求',
      erase: '关于您删除个人信息的请求',
      manage: '关于您更改签名设置的请求',
    },
    greeting: '您好：',
    asked: {
      export: '我们收到了一项请求，要求获取我们所保存的与此邮箱地址有关的个人信息副本。',
      erase: '我们收到了一项请求，要求删除我们所保存的与此邮箱地址有关的个人信息。',
      manage: '我们收到了一项请求，要求更改使用此邮箱地址所做签名的使用方式。',
    },
    instruction: '请打开下方链接继续操作。在您按下所打开页面上的按钮之前，不会进行任何操作。',
    button: { export: '获取我的信息', erase: '删除我的信息', manage: '更改我的设置' },
    fallback: '如果按钮无法使用，请将以下地址复制到浏览器中打开：',
    expiry: (date) => `此链接只能使用一次，将于 ${date} 失效。`,
    ignore: '如果这不是您提出的请求，请忽略这封邮件：不会有任何更改。',
    footer: '您收到这封邮件，是因为有人在我们的个人信息页面上提交了与此地址有关的请求。',
  },
};


/** The `/privacy/:token` link of a request; the page behind it speaks the language the request was made in. */
export async function privacyRequestUrl(links: MailLinks, nonce: string, locale: Locale): Promise<string> {
  return `${links.publicUrl}/privacy/${await links.keys.privacyTokens.token(nonce)}?lang=${locale}`;
}

/** The privacy email for a link and an address (plain text and HTML). Pure. */
export function composePrivacyEmail(input: Pick<PrivacyEmailInput, 'locale' | 'kind' | 'expiresAt'>, delivery: { url: string; to: string }): OutboxMessage {
  const copy = copies[input.locale];
  return composeActionEmail({
    locale: input.locale,
    subject: copy.subject[input.kind],
    greeting: copy.greeting,
    lead: copy.asked[input.kind],
    instruction: copy.instruction,
    button: copy.button[input.kind],
    url: delivery.url,
    fallback: copy.fallback,
    expiry: copy.expiry(formatLinkExpiry(input.expiresAt, copy.dateLocale, 'UTC')),
    ignore: copy.ignore,
    footer: copy.footer,
    to: delivery.to,
  });
}

/** Renders a stored privacy email: the token is derived here, at send time. */
export async function renderPrivacyEmail(input: PrivacyEmailInput, recipient: string | undefined, links: MailLinks): Promise<OutboxMessage> {
  if (!recipient) throw new TypeError('a privacy email needs its recipient');
  return composePrivacyEmail(input, { url: await privacyRequestUrl(links, input.nonce, input.locale), to: recipient });
}
