import { catalogue } from './texts.js';

/** The "next round" page: a campaign copied as a new draft (year to year). */
export const cloneTexts = catalogue(
  {
    button: 'Copy for the next round',
    title: 'Copy “{title}” for the next round',
    lead: 'The copy is a new draft with the same texts, translations, goal, time zone, letter template and targets. No supporter is copied: once the new round is open, its page offers to invite the earlier supporters who agreed to receive updates.',
    fieldSlug: 'Address of the new campaign (slug)',
    fieldSlugHint: 'Lower-case letters, digits and hyphens, e.g. nk-refugees-2028. The signing page will be /c/<slug>.',
    fieldTitle: 'Title of the new campaign',
    fieldTitleHint: 'Leave empty to keep the current title.',
    submit: 'Create the copy',
    cancel: 'Cancel',
  },
  {
    button: '次回用にコピー',
    title: '「{title}」を次回用にコピー',
    lead: 'コピーは新しい下書きになり、本文・翻訳・目標・タイムゾーン・書簡テンプレート・宛先を引き継ぎます。賛同者はコピーされません。新しいキャンペーンを公開すると、更新情報の受け取りに同意した前回の賛同者を招待できます。',
    fieldSlug: '新しいキャンペーンのアドレス（スラッグ）',
    fieldSlugHint: '半角の小文字・数字・ハイフン（例: nk-refugees-2028）。署名ページは /c/<スラッグ> になります。',
    fieldTitle: '新しいキャンペーンのタイトル',
    fieldTitleHint: '空欄のままにすると現在のタイトルを使います。',
    submit: 'コピーを作成',
    cancel: 'キャンセル',
  },
);
