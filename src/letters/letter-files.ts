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

/**
 * Scans of replies from targets (src/services/replies.ts) live in the same store as the letters,
 * under `replies/<campaignId>/<replyId>.<ext>`; the same rule holds: only names of that shape.
 */
const replyPattern = new RegExp(`^replies/${idPattern}/${idPattern}\\.(pdf|png|jpg|webp)$`);

/** The stored name of a reply's file; `extension` is one the replies accept. */
export function replyFileName(campaignId: string, replyId: string, extension: 'pdf' | 'png' | 'jpg' | 'webp'): string {
  checkLetterId(campaignId);
  checkLetterId(replyId);
  return `replies/${campaignId}/${replyId}.${extension}`;
}

/** Whether `stored` is a reply file's stored name (and nothing else). */
export function isReplyFileName(stored: string): boolean {
  return replyPattern.test(stored);
}

/** Whether `stored` names any file the store keeps: a letter or a reply's file. */
export function isStoredFileName(stored: string): boolean {
  return isLetterFileName(stored) || isReplyFileName(stored);
}
