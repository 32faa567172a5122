import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fontFiles, type FaceName, type FaceWeight } from '../pdf/face-files.js';
import type { FontSource } from '../pdf/font-faces.js';
import type { FaceScript } from '../pdf/font-runs.js';

const require = createRequire(import.meta.url);

/**
 * Path of a face's TTF: in the compiled server, the copy `npm run build` put in dist/node/fonts/
 * (so a production install needs no @expo-google-fonts package, whose other weights weigh 200 MB);
 * from the sources, the file inside its @expo-google-fonts package in node_modules.
 */
export function fontFilePath(script: FaceScript, weight: FaceWeight): string {
  return builtOrInstalled(fontFiles[`${script}-${weight}`]);
}

/** The build's copy of a file of a package (by its name, in fonts/ beside the compiled code), else the package's file. */
export function builtOrInstalled(packageFile: string): string {
  const built = fileURLToPath(new URL(`./fonts/${basename(packageFile)}`, import.meta.url));
  return existsSync(built) ? built : require.resolve(packageFile);
}

/** The letter faces from node_modules, each file read when a letter first needs it. */
export const nodeFontSource: FontSource = {
  load(face: FaceName) {
    const [script, weight] = face.split('-') as [FaceScript, FaceWeight];
    return readFileSync(fontFilePath(script, weight));
  },
};
