import { catalogue } from './texts.js';

/** The campaign page's downloads of its signatures (src/services/signature-export.ts). */
export const exportTexts = catalogue(
  {
    heading: 'Download the signatures',
    signet: 'Every signature, every field (CSV)',
    actionNetwork: 'Upload file for Action Network',
    actionKit: 'Upload file for ActionKit',
    presetsNote: 'The upload files hold only the supporters who agreed to receive updates and can still be emailed: both tools email whoever is uploaded.',
  },
  {
    heading: '署名のダウンロード',
    signet: 'すべての署名・すべての項目（CSV）',
    actionNetwork: 'Action Network 取り込み用ファイル',
    actionKit: 'ActionKit 取り込み用ファイル',
    presetsNote: '取り込み用ファイルには、お知らせの受け取りに同意し、今もメールを送れる賛同者だけが入ります。どちらのツールも、取り込んだ人にメールを送るためです。',
  },
);
