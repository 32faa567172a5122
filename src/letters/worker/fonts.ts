import latinBold from '../../../node_modules/@expo-google-fonts/noto-sans/700Bold/NotoSans_700Bold.ttf';
import latinRegular from '../../../node_modules/@expo-google-fonts/noto-sans/400Regular/NotoSans_400Regular.ttf';
import jpBold from '../../../node_modules/@expo-google-fonts/noto-sans-jp/700Bold/NotoSansJP_700Bold.ttf';
import jpRegular from '../../../node_modules/@expo-google-fonts/noto-sans-jp/400Regular/NotoSansJP_400Regular.ttf';
import krBold from '../../../node_modules/@expo-google-fonts/noto-sans-kr/700Bold/NotoSansKR_700Bold.ttf';
import krRegular from '../../../node_modules/@expo-google-fonts/noto-sans-kr/400Regular/NotoSansKR_400Regular.ttf';
import scBold from '../../../node_modules/@expo-google-fonts/noto-sans-sc/700Bold/NotoSansSC_700Bold.ttf';
import scRegular from '../../../node_modules/@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf';
import tcBold from '../../../node_modules/@expo-google-fonts/noto-sans-tc/700Bold/NotoSansTC_700Bold.ttf';
import tcRegular from '../../../node_modules/@expo-google-fonts/noto-sans-tc/400Regular/NotoSansTC_400Regular.ttf';
import { FontFaces, type FaceName, type FontSource } from '../pdf/font-faces.js';

/**
 * The letter faces as the Worker's data modules (wrangler `[[rules]] type = "Data"` for `*.ttf`):
 * the same files as on Node (`fontFiles` in src/letters/pdf/font-faces.ts), 60 MB uncompressed
 * for the ten. They are part of the uploaded Worker; only the faces a letter draws with are
 * parsed and embedded.
 */
const files: Record<FaceName, ArrayBuffer> = {
  'latin-regular': latinRegular,
  'latin-bold': latinBold,
  'jp-regular': jpRegular,
  'jp-bold': jpBold,
  'sc-regular': scRegular,
  'sc-bold': scBold,
  'tc-regular': tcRegular,
  'tc-bold': tcBold,
  'kr-regular': krRegular,
  'kr-bold': krBold,
};

export const workerFontSource: FontSource = { load: (face) => files[face] };

/** The faces of this isolate, shared by every letter it renders. */
export const workerFonts = new FontFaces(workerFontSource);
