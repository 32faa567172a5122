import type { FaceScript } from './font-runs.js';

// Apart from the faces (font-faces.ts), so what only needs a face's file name does not load fontkit.

export type FaceWeight = 'regular' | 'bold';

/** A face by script and weight, e.g. `jp-bold`. */
export type FaceName = `${FaceScript}-${FaceWeight}`;

/**
 * The file of each face in its @expo-google-fonts package: Noto Sans for Latin, Greek and
 * Cyrillic, and one Noto Sans CJK face per region, each a single-face TTF (never a .ttc:
 * subsetting one is about 3x slower). Node reads them from node_modules; the Worker reads the
 * same files from R2, put there by `npm run worker:fonts` (src/letters/worker/r2-fonts.ts).
 */
export const fontFiles: Record<FaceName, string> = {
  'latin-regular': '@expo-google-fonts/noto-sans/400Regular/NotoSans_400Regular.ttf',
  'latin-bold': '@expo-google-fonts/noto-sans/700Bold/NotoSans_700Bold.ttf',
  'jp-regular': '@expo-google-fonts/noto-sans-jp/400Regular/NotoSansJP_400Regular.ttf',
  'jp-bold': '@expo-google-fonts/noto-sans-jp/700Bold/NotoSansJP_700Bold.ttf',
  'sc-regular': '@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf',
  'sc-bold': '@expo-google-fonts/noto-sans-sc/700Bold/NotoSansSC_700Bold.ttf',
  'tc-regular': '@expo-google-fonts/noto-sans-tc/400Regular/NotoSansTC_400Regular.ttf',
  'tc-bold': '@expo-google-fonts/noto-sans-tc/700Bold/NotoSansTC_700Bold.ttf',
  'kr-regular': '@expo-google-fonts/noto-sans-kr/400Regular/NotoSansKR_400Regular.ttf',
  'kr-bold': '@expo-google-fonts/noto-sans-kr/700Bold/NotoSansKR_700Bold.ttf',
};
