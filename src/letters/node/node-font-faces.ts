import type { FaceWeight } from '../pdf/face-files.js';
import { FontFaces, type FontFace } from '../pdf/font-faces.js';
import type { FaceScript } from '../pdf/font-runs.js';
import { nodeFontSource } from './font-files.js';

// Apart from the file paths (font-files.ts): the faces load fontkit, which the server's start
// leaves out until a letter, a card or a sheet needs it.

/** The faces of this process (or render thread), shared by every letter rendered in it. */
export const nodeFontFaces = new FontFaces(nodeFontSource);

/** The shared face for a script and weight, loading its file on first use only. */
export function fontFace(script: FaceScript, weight: FaceWeight): FontFace {
  return nodeFontFaces.get(script, weight);
}
