import { catalogue } from './texts.js';

/** The privacy page: requests handled, and the organisers' erase and export. */
export const privacyTexts = catalogue(
  {
    privacy: 'Privacy',
    privacyRequests: 'Privacy requests',
    intro:
      'Supporters ask for their data, its deletion or a change of their choices on the public page {link}, and act through the link emailed to them. A request received by post or in person is handled here: the address is used for the action and not kept in the record.',
    eraseAddress: 'Erase an address',
    eraseHelp:
      'Every signature of the address loses its name, email, city, postal code, comment and IP hash; the signatures stay counted. Pending signing requests, emails waiting to be sent, bounces and suppressions of the address are deleted. Letters already made are kept. This cannot be undone.',
    emailAddress: 'Email address',
    eraseThisAddress: 'Erase this address',
    exportAddress: 'Export an address',
    exportHelp: 'Downloads everything held about the address as a JSON file, to send to the person who asked.',
    downloadData: 'Download the data',
    requestsHandled: 'Requests handled',
    noRequests: 'No privacy requests yet.',
    received: 'Received',
    kind: 'Kind',
    origin: 'Origin',
    status: 'Status',
    signatures: 'Signatures',
    completed: 'Completed',
    handledBy: 'Handled by',
    bySupporter: 'the supporter, by email link',
    olderRequests: 'Older requests →',
  },
  {
    privacy: '個人情報',
    privacyRequests: '個人情報に関する請求',
    intro:
      '賛同者は公開ページ {link} から自分の情報の開示・削除や選択の変更を請求し、メールで届くリンクから手続きします。郵送や対面で受けた請求はここで処理します。入力したメールアドレスは処理にのみ使い、記録には残しません。',
    eraseAddress: 'メールアドレスの情報を消去',
    eraseHelp:
      'このメールアドレスによるすべての署名から、氏名・メールアドレス・市区町村・郵便番号・コメント・IP ハッシュを消去します。署名は引き続き数に含まれます。確認待ちの署名、送信待ちのメール、不達・配信停止の記録は削除します。作成済みの書簡はそのまま残ります。元に戻すことはできません。',
    emailAddress: 'メールアドレス',
    eraseThisAddress: 'このメールアドレスの情報を消去',
    exportAddress: 'メールアドレスの情報を書き出す',
    exportHelp: 'このメールアドレスについて保有しているすべての情報を JSON ファイルでダウンロードします。請求した本人に送付してください。',
    downloadData: '情報をダウンロード',
    requestsHandled: '処理した請求',
    noRequests: '個人情報に関する請求はまだありません。',
    received: '受付日時',
    kind: '種類',
    origin: '請求元',
    status: '状態',
    signatures: '署名数',
    completed: '完了日時',
    handledBy: '処理した人',
    bySupporter: '本人（メールのリンクから）',
    olderRequests: '以前の請求 →',
  },
);

/** What a privacy request asks for, and who made it. */
export const privacyRequestTexts = catalogue(
  { export: 'export', erase: 'erase', manage: 'manage', supporter: 'supporter', organiser: 'organiser' },
  { export: '開示', erase: '削除', manage: '選択の変更', supporter: '賛同者', organiser: '主催者' },
);
