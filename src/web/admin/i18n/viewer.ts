import { catalogue } from './texts.js';

/** The note on a campaign's pages for someone who may only read it (PRODUCT.md §11). */
export const viewerTexts = catalogue(
  {
    viewerNote: 'You can view this campaign; your role is viewer.',
  },
  {
    viewerNote: 'このキャンペーンは閲覧のみできます（あなたの役割は閲覧者です）。',
  },
);
