import type { OutboxMessage } from '../db/schema.js';
import type { Keyring } from '../lib/keyring.js';
import { toBase64Url } from '../lib/secrets.js';
import { composeActionEmail, formatLinkExpiry } from './action-email.js';
import type { MailLinks } from './mail-links.js';

export type AccountEmailLocale = 'en' | 'ja';
export type MailedAccountLink = 'invitation' | 'sign_in' | 'password_reset';
export type AccountLinkPurpose = MailedAccountLink | 'owner_setup';

/**
 * What the outbox stores for an account email (`{ compose: 'account', input }`):
 * the link's id, never its secret. The secret is derived from the id with
 * the accounts key when the email is sent, so neither the outbox nor a
 * backup of it holds a working link.
 */
export type AccountEmailInput = {
  purpose: MailedAccountLink;
  linkId: string;
  /** The recipient's dashboard language. */
  locale: AccountEmailLocale;
  /** When the link stops working, in ms since the epoch (UTC). */
  expiresAt: number;
  /** For an invitation: who invited (their name, as the dashboard shows it). */
  invitedBy?: string;
};

/** Where each kind of link opens in the dashboard. */
const linkPaths: Record<AccountLinkPurpose, string> = {
  owner_setup: 'setup',
  invitation: 'invitation',
  sign_in: 'link',
  password_reset: 'reset',
};

/** The 256-bit secret of an account link, derived from its id (only its SHA-256 is stored). */
export async function accountLinkSecret(keys: Keyring, linkId: string): Promise<string> {
  return toBase64Url(await keys.accounts.digest(`account-link:${linkId}`));
}

/** `${publicUrl}/admin/<setup|invitation|link|reset>/<secret>` */
export async function accountLinkUrl(links: MailLinks, purpose: AccountLinkPurpose, linkId: string): Promise<string> {
  return `${links.publicUrl}/admin/${linkPaths[purpose]}/${await accountLinkSecret(links.keys, linkId)}`;
}

type AccountCopy = {
  dateLocale: string;
  subject: Record<MailedAccountLink, string>;
  greeting: string;
  lead: Record<MailedAccountLink, (invitedBy: string) => string>;
  instruction: Record<MailedAccountLink, string>;
  button: Record<MailedAccountLink, string>;
  fallback: string;
  expiry(date: string): string;
  ignore: Record<MailedAccountLink, string>;
  footer: string;
};

const copies: Record<AccountEmailLocale, AccountCopy> = {
  en: {
    dateLocale: 'en-GB',
    subject: {
      invitation: 'You are invited to the Signet dashboard',
      sign_in: 'Your sign-in link for the Signet dashboard',
      password_reset: 'Reset your Signet dashboard password',
    },
    greeting: 'Hello,',
    lead: {
      invitation: (invitedBy) => `${invitedBy} invited you to work on campaigns in the organisers' dashboard.`,
      sign_in: () => 'Someone asked for a link to sign in to the organisers\u2019 dashboard with this address.',
      password_reset: () => 'Someone asked to reset the password of the dashboard account with this address.',
    },
    instruction: {
      invitation: 'Open the link below and choose a password to accept the invitation.',
      sign_in: 'Open the link below and press the button on the page it shows to sign in.',
      password_reset: 'Open the link below and choose a new password. Every session of this account ends when you do.',
    },
    button: { invitation: 'Accept the invitation', sign_in: 'Sign in', password_reset: 'Choose a new password' },
    fallback: 'If the button does not work, copy this address into your browser:',
    expiry: (date) => `This link works once and expires on ${date}.`,
    ignore: {
      invitation: 'If you do not expect this invitation, you can ignore this email: no account is usable until the link is used.',
      sign_in: 'If you did not ask for it, you can ignore this email: nobody can sign in without the link.',
      password_reset: 'If you did not ask for it, you can ignore this email: your password stays as it is.',
    },
    footer: 'You are receiving this email because of an action on the organisers\u2019 dashboard of this Signet installation.',
  },
  ja: {
    dateLocale: 'ja-JP',
    subject: {
      invitation: 'Signet 管理画面への招待',
      sign_in: 'Signet 管理画面のサインイン用リンク',
      password_reset: 'Signet 管理画面のパスワード再設定',
    },
    greeting: 'こんにちは。',
    lead: {
      invitation: (invitedBy) => `${invitedBy} さんから、主催者用管理画面でキャンペーンを担当するよう招待されました。`,
      sign_in: () => 'このメールアドレスで主催者用管理画面にサインインするためのリンクが請求されました。',
      password_reset: () => 'このメールアドレスの管理画面アカウントについて、パスワードの再設定が請求されました。',
    },
    instruction: {
      invitation: '下のリンクを開き、パスワードを設定して招待を承諾してください。',
      sign_in: '下のリンクを開き、表示されるページのボタンを押してサインインしてください。',
      password_reset: '下のリンクを開き、新しいパスワードを設定してください。設定すると、このアカウントのすべてのセッションが終了します。',
    },
    button: { invitation: '招待を承諾する', sign_in: 'サインインする', password_reset: '新しいパスワードを設定する' },
    fallback: 'ボタンが機能しない場合は、次のアドレスをブラウザに貼り付けてください。',
    expiry: (date) => `このリンクは一度だけ使用でき、有効期限は ${date} です。`,
    ignore: {
      invitation: 'この招待にお心当たりがない場合は、このメールを破棄してください。リンクが使われるまで、アカウントは使用できません。',
      sign_in: 'お心当たりがない場合は、このメールを破棄してください。リンクがなければ誰もサインインできません。',
      password_reset: 'お心当たりがない場合は、このメールを破棄してください。パスワードは変更されません。',
    },
    footer: 'このメールは、この Signet の主催者用管理画面での操作によりお送りしています。',
  },
};


/**
 * Who invited, on one line whatever was stored: names are one line since #17, but a row written
 * before, or a token's name (an admin token signed in to the dashboard invites under it), must not
 * add lines of its own to the email either.
 */
const asOneLine = (text: string) => text.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').trim();

/** The account email for a link and an address (plain text and HTML). Pure. */
export function composeAccountEmail(input: Omit<AccountEmailInput, 'linkId'>, delivery: { url: string; to: string }): OutboxMessage {
  const copy = copies[input.locale];
  return composeActionEmail({
    locale: input.locale,
    subject: copy.subject[input.purpose],
    greeting: copy.greeting,
    lead: copy.lead[input.purpose](asOneLine(input.invitedBy ?? '')),
    instruction: copy.instruction[input.purpose],
    button: copy.button[input.purpose],
    url: delivery.url,
    fallback: copy.fallback,
    expiry: copy.expiry(formatLinkExpiry(input.expiresAt, copy.dateLocale, 'UTC')),
    ignore: copy.ignore[input.purpose],
    footer: copy.footer,
    to: delivery.to,
  });
}

/** Renders a stored account email: the link's secret is derived here, at send time. */
export async function renderAccountEmail(input: AccountEmailInput, recipient: string | undefined, links: MailLinks): Promise<OutboxMessage> {
  if (!recipient) throw new TypeError('an account email needs its recipient');
  return composeAccountEmail(input, { url: await accountLinkUrl(links, input.purpose, input.linkId), to: recipient });
}
