import type { BatchItem } from 'drizzle-orm/batch';
import { getTableColumns, type SQL, type Table } from 'drizzle-orm';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import type * as schema from './schema.js';

/**
 * The drizzle database as services see it: either driver (better-sqlite3 is
 * 'sync', D1 is 'async'), so every query must be awaited.
 */
export type Db = BaseSQLiteDatabase<'sync' | 'async', unknown, typeof schema>;

/** One write statement built with drizzle (insert, update, delete or sql). */
export type WriteStatement = BatchItem<'sqlite'>;

/**
 * Bound parameters one statement may carry on every driver: D1's limit
 * (SQLite's own is far higher). Multi-row inserts are cut to fit it.
 */
export const MAX_BOUND_PARAMETERS = 100;

/**
 * How many rows one INSERT into `table` may carry within MAX_BOUND_PARAMETERS.
 * Counted over every column, not the keys given: drizzle also binds columns
 * that have a default function.
 */
export function rowsPerInsert(table: Table): number {
  return Math.max(1, Math.floor(MAX_BOUND_PARAMETERS / Object.keys(getTableColumns(table)).length));
}

/** SQL text with `?` placeholders and its values (numbers, strings, null). */
export type RawQuery = { sql: string; params: (string | number | null)[] };

/** The storage port: queries through `db`, multi-statement writes through `atomic`. */
export interface Database {
  readonly db: Db;
  /**
   * Runs the statements in order as one all-or-nothing unit (a transaction on
   * better-sqlite3, a batch on D1) and resolves once they are durably
   * committed. Statements cannot see each other's results, so conditional
   * logic belongs in the SQL (`WHERE`, `ON CONFLICT`, `changes()`).
   */
  atomic(statements: WriteStatement[]): Promise<void>;
  /**
   * A raw SQL write as a statement for `atomic`: a drizzle `sql` template,
   * or SQL text with `?` parameters for hot paths where building the query
   * with drizzle on every call costs more than running it. Needed because
   * drizzle's `db.run(sql)` executes at once on the sync driver.
   */
  statement(query: SQL | RawQuery): WriteStatement;
  /**
   * One write whose rows the caller needs (`UPDATE … RETURNING`), as arrays
   * in column order, resolved once committed (on D1: `prepare().bind().raw()`).
   * On better-sqlite3 it runs on the writer thread, so the event loop never
   * waits in SQLite's busy handler for another connection's write lock.
   */
  writeReturning(query: RawQuery): Promise<unknown[][]>;
  /**
   * Copies the write-ahead log into the database file and truncates it, so
   * values just erased (PRAGMA secure_delete zeroes them in the file) do not
   * live on in old log frames. Resolves `false` when a reader kept the log
   * from being truncated this time. Absent where there is no local log (D1).
   */
  truncateLog?(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * A write for `atomic`, rendered to SQL text and values now (while the caller's values are
 * current): raw SQL as given, a drizzle `sql` template through the dialect. Both drivers use it.
 */
export function toWriteStatement(db: Db, query: SQL | RawQuery): WriteStatement {
  const raw =
    'params' in query && typeof query.sql === 'string'
      ? { sql: query.sql, params: query.params }
      : (db as unknown as { dialect: { sqlToQuery(sql: SQL): { sql: string; params: unknown[] } } }).dialect.sqlToQuery(query as SQL);
  return { toSQL: () => raw } as unknown as WriteStatement;
}
