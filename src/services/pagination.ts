import { and, eq, lt, or, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import * as v from 'valibot';
import { ValidationFailed } from '../lib/service-errors.js';

/** `?limit=&cursor=` on every list. */
export const PageQuery = v.object({
  limit: v.optional(
    v.pipe(v.string(), v.regex(/^\d+$/, 'must be a whole number'), v.transform(Number), v.minValue(1), v.maxValue(500)),
    '50',
  ),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(200))),
});
export type PageQuery = v.InferOutput<typeof PageQuery>;

export type Page<T> = { items: T[]; nextCursor: string | null };

/** Position after the last item of a page, newest first: (createdAt, id). */
export type CursorPosition = { createdAt: number; id: string };

export function encodeCursor(position: CursorPosition): string {
  return btoa(`${position.createdAt}:${position.id}`).replace(/=+$/, '');
}

export function decodeCursor(cursor: string | undefined): CursorPosition | null {
  if (cursor === undefined) return null;
  try {
    const [createdAt, id] = atob(cursor).split(':');
    if (!createdAt || !id || !/^\d+$/.test(createdAt) || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new Error('bad cursor');
    return { createdAt: Number(createdAt), id };
  } catch {
    throw new ValidationFailed([{ path: 'cursor', message: 'is not a cursor returned by this list' }]);
  }
}

/**
 * The rows after a cursor in newest-first order: older, or as old with a
 * smaller id. Undefined without a cursor, so it drops out of an `and()`.
 */
export function afterCursor(createdAt: SQLiteColumn, id: SQLiteColumn, after: CursorPosition | null): SQL | undefined {
  if (!after) return undefined;
  return or(lt(createdAt, after.createdAt), and(eq(createdAt, after.createdAt), lt(id, after.id)));
}

/** Takes `limit + 1` rows and turns them into a page with the cursor of the last row shown. */
export function toPage<Row extends CursorPosition, Item>(rows: Row[], limit: number, view: (row: Row) => Item): Page<Item> {
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return {
    items: shown.map(view),
    nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
  };
}
