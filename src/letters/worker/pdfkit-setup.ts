import * as pdfkit from 'pdfkit';
import Helvetica from 'pdfkit/standard-fonts/Helvetica';

/**
 * On Workers `pdfkit` is its browser build (wrangler `[alias]`), which registers no standard
 * font; yet every document loads Helvetica as its default font when it is created (never drawn
 * with by a letter, so never embedded). Registering it here lets the renderer create its
 * documents the same way in both runtimes.
 */
const browserBuild = pdfkit as unknown as { registerStdFonts?: (...fonts: unknown[]) => void };
browserBuild.registerStdFonts?.(Helvetica);
