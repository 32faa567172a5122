import { catalogue } from './texts.js';

/** The campaign form's "after signing" section: what the thanks and confirmed pages offer, per page language. */
export const nextStepTexts = catalogue(
  {
    heading: 'After signing',
    hint: 'What the thanks page and the confirmation page offer supporters, for each language the pages are shown in. A language left as it is offers the share links only.',
    legend: 'Pages in {language}',
    donationUrl: 'Donation link ({language})',
    donationUrlHint: 'An https:// address, e.g. https://example.org/donate',
    donationLabel: 'Donation link text ({language})',
    donationLabelHint: 'e.g. Support our work',
    campaign: 'Another campaign to sign ({language})',
    noCampaign: 'None',
    sharing: 'Show the share links ({language})',
    donationNeedsBoth: 'needs both a link and its text',
  },
  {
    heading: '署名の後',
    hint: 'お礼のページと確認完了のページで支援者にご案内する内容です。ページの表示言語ごとに設定します。変更しない言語では、共有のリンクだけが表示されます。',
    legend: '{language}のページ',
    donationUrl: '寄付のリンク（{language}）',
    donationUrlHint: 'https:// で始まるアドレス（例：https://example.org/donate）',
    donationLabel: '寄付のリンクの文言（{language}）',
    donationLabelHint: '例：私たちの活動を支援する',
    campaign: 'ほかに署名をお願いするキャンペーン（{language}）',
    noCampaign: 'なし',
    sharing: '共有のリンクを表示する（{language}）',
    donationNeedsBoth: 'リンクと文言の両方が必要です',
  },
);
