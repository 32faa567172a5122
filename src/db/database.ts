import type { BatchItem } from 'drizzle-orm/batch';
import type { SQL } from 'drizzle-orm';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import type * as schema from './schema.js';

/**
 * The drizzle database as services see it: either driver (better-sqlite3 is
 * 'sync', D1 is 'async'), so every query must be awaited.
 */
export type Db = BaseSQLiteDatabase<'sync' | 'async', unknown, typeof schema>;

/** One write statement built with drizzle (insert, update, delete or sql). */
export type WriteStatement = BatchItem<'sqlite'>;

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
   * A raw SQL write as a statement for `atomic`. Needed because drizzle's
   * `db.run(sql)` executes at once on the sync driver instead of deferring.
   */
  statement(query: SQL): WriteStatement;
  close(): Promise<void>;
}
