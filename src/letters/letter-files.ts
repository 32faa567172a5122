/**
 * The names of stored letter PDFs, the same on every store: `letters/<batchId>/<letterId>.pdf`,
 * relative to the data directory (Node) or the bucket (Workers). Only names of that exact shape
 * are built or opened, so a stored name can never reach outside the letters.
 */
const idPattern = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const idOnly = new RegExp(`^${idPattern}$`);
const storedPattern = new RegExp(`^letters/${idPattern}/${idPattern}\\.pdf$`);

/** Throws unless `id` is a letter or batch id (a lower-case UUID). */
export function checkLetterId(id: string): void {
  if (!idOnly.test(id)) throw new Error(`not a letter id: ${id}`);
}

/** The folder of one batch's letters, ending in `/`. */
export function letterBatchPrefix(batchId: string): string {
  checkLetterId(batchId);
  return `letters/${batchId}/`;
}

/** The stored name of one letter. */
export function letterFileName(batchId: string, letterId: string): string {
  checkLetterId(letterId);
  return `${letterBatchPrefix(batchId)}${letterId}.pdf`;
}

/** Whether `stored` is a letter's stored name (and nothing else). */
export function isLetterFileName(stored: string): boolean {
  return storedPattern.test(stored);
}
