import { catalogue } from './texts.js';

/** Year to year: inviting the earlier round's supporters (a card on the campaign page, and its own page). */
export const inviteTexts = catalogue(
  {
    heading: 'Invite the supporters of “{title}”',
    pageTitle: 'Invite last round’s supporters: {title}',
    recipients: '{count} supporters of the earlier round agreed to receive updates and can be invited.',
    recipientsNone: 'No supporter of the earlier round agreed to receive updates, so there is nobody to invite.',
    notOpen: 'Open this campaign first: the invitation links to its page.',
    explain:
      'They get an update email from the earlier campaign, with a link to this one. Change the text if you like, but keep the link in it. Only supporters who agreed to updates and have not unsubscribed receive it.',
    fieldSubject: 'Subject',
    fieldBody: 'Text (Markdown)',
    fieldSendAt: 'Send at (optional)',
    sendAtHint: 'Local time in {zone}. Leave empty to send as soon as possible (and not before the campaign opens).',
    submit: 'Schedule the invitation',
    needsDeliveries: 'Scheduling the invitation needs a token with the “deliveries” scope.',
    pending: 'An invitation is scheduled and has not gone out yet. Follow it on its page; to write another, cancel it there first.',
    madeHeading: 'Invitations made',
    madeItem: 'Invitation for {date}',
  },
  {
    heading: '「{title}」の賛同者を招待する',
    pageTitle: '前回の賛同者を招待：{title}',
    recipients: '前回の賛同者のうち {count} 人が最新情報の受け取りに同意しており、招待できます。',
    recipientsNone: '前回の賛同者に最新情報の受け取りに同意した人がいないため、招待できる人はいません。',
    notOpen: '先にこのキャンペーンを公開してください。招待メールはこのキャンペーンのページにリンクします。',
    explain:
      '前回のキャンペーンから、このキャンペーンへのリンクを載せた最新情報メールが届きます。文面は自由に変更できますが、リンクは残してください。受け取りに同意し、配信を停止していない人にだけ送られます。',
    fieldSubject: '件名',
    fieldBody: '本文（Markdown）',
    fieldSendAt: '送信日時（任意）',
    sendAtHint: '{zone} の現地時刻。空欄にすると、できるだけ早く（ただしキャンペーンの開始前には送らずに）送信します。',
    submit: '招待メールを予約する',
    needsDeliveries: '招待メールの予約には「deliveries」スコープを持つトークンが必要です。',
    pending: '招待メールは予約済みで、まだ送信されていません。進行状況はそのページで確認できます。別の招待を作るには、先にそのページで取り消してください。',
    madeHeading: '作成済みの招待',
    madeItem: '{date} 送信予定の招待',
  },
);
