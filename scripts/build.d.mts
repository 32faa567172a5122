/** Compiles src/ into dist/node/ (scripts/build.mjs). */
export function build(options?: { quiet?: boolean }): Promise<void>;
export const outDir: string;
