import { catalogue } from './texts.js';

/** The letter-language choice on the letters page and the mailing form, and target names per language. */
export const letterLanguageTexts = catalogue(
  {
    languages: 'Languages',
    languagesHint: 'The language of each letter; a translation follows the original in the same PDF, from a new page, and the list of signatories comes once, at the end.',
    targetsOwn: "Each target's own language",
    asTranslation: '{language} (translation)',
    joiner: ' + ',
    targetNames: 'Names per language',
    targetNamesHint: "For letters in another language than the target's: each blank field uses the target's own.",
    name: 'Name',
    title: 'Title',
    organisation: 'Organisation',
    salutation: 'Salutation',
    previewDraft: 'Preview a draft',
    previewHint: 'A draft of one target’s letter, in the languages and routing chosen above, with the signatures confirmed so far; nothing is stored.',
    previewTarget: 'Target',
    showPreview: 'Show the draft PDF',
  },
  {
    languages: '言語',
    languagesHint: '各書簡の言語です。翻訳は原文の後に同じ PDF の新しいページから続き、署名者一覧は最後に一度だけ付きます。',
    targetsOwn: '宛先ごとの言語',
    asTranslation: '{language}（翻訳）',
    joiner: '＋',
    targetNames: '言語ごとの名称',
    targetNamesHint: '宛先の言語以外で書く書簡に使います。空欄の項目には宛先自体の名称を使います。',
    name: '名称',
    title: '肩書',
    organisation: '組織',
    salutation: '宛名の敬称・書き出し',
    previewDraft: '下書きのプレビュー',
    previewHint: '上で選んだ言語と送付先の振り分けで、これまでに確認された署名による 1 つの宛先への書簡の下書きを表示します。何も保存されません。',
    previewTarget: '宛先',
    showPreview: '下書きの PDF を表示',
  },
);
