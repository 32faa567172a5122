import { catalogue } from './texts.js';

/** The dashboard's frame: title, navigation, session and language switch. */
export const layoutTexts = catalogue(
  {
    dashboardName: 'Signet dashboard',
    pageTitle: '{title} · Signet dashboard',
    skipToContent: 'Skip to content',
    navigation: 'Dashboard',
    campaigns: 'Campaigns',
    templates: 'Letter templates',
    deliveries: 'Deliveries',
    printQueue: 'Print queue',
    mailings: 'Mailings',
    privacy: 'Privacy',
    abuse: 'Abuse',
    audit: 'Audit log',
    signedInWith: 'Signed in with {name}',
    signOut: 'Sign out',
    languageSwitch: 'Language',
  },
  {
    dashboardName: 'Signet 管理画面',
    pageTitle: '{title} · Signet 管理画面',
    skipToContent: '本文へ移動',
    navigation: '管理画面',
    campaigns: 'キャンペーン',
    templates: '書簡テンプレート',
    deliveries: '送付',
    printQueue: '印刷待ち',
    mailings: 'メーリング',
    privacy: '個人情報',
    abuse: '不正対策',
    audit: '監査ログ',
    signedInWith: '{name} でサインイン中',
    signOut: 'サインアウト',
    languageSwitch: '表示言語',
  },
);
