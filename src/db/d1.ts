import type { D1Database, D1PreparedStatement } from '@cloudflare/workers-types';
import type { SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import type { Database, Db, RawQuery, WriteStatement } from './database.js';
import { MAX_BOUND_PARAMETERS, toWriteStatement } from './database.js';
import * as schema from './schema.js';

type Query = { sql: string; params: unknown[] };

/** A value D1 can bind: drizzle has already mapped booleans, dates and JSON to driver values. */
function bindable(value: unknown): unknown {
  return value === undefined ? null : value;
}

/**
 * The storage port on Cloudflare D1. Reads go through drizzle's D1 driver;
 * `atomic` is one `batch` (D1 runs a batch as a single transaction: all or
 * nothing, durable once it resolves). Statements are rendered to SQL text
 * first and bound as they are, as on better-sqlite3, so both drivers run the
 * same SQL and raise SQLite's own error messages (services match on
 * `UNIQUE constraint failed: …`).
 */
export class CloudflareD1Database implements Database {
  readonly db: Db;

  constructor(private readonly d1: D1Database) {
    this.db = drizzle(d1, { schema }) as unknown as Db;
  }

  statement(query: SQL | RawQuery): WriteStatement {
    return toWriteStatement(this.db, query);
  }

  async atomic(statements: WriteStatement[]): Promise<void> {
    if (statements.length === 0) return;
    await this.d1.batch(statements.map((statement) => this.prepare((statement as unknown as { toSQL(): Query }).toSQL())));
  }

  async writeReturning(query: RawQuery): Promise<unknown[][]> {
    return (await this.prepare(query).raw()) as unknown[][];
  }

  async close(): Promise<void> {
    // A D1 binding has no connection to close.
  }

  private prepare({ sql, params }: Query): D1PreparedStatement {
    // D1 refuses statements over its limit with a terse error; say which statement it was.
    if (params.length > MAX_BOUND_PARAMETERS) throw new Error(`A statement binds ${params.length} parameters; D1 allows ${MAX_BOUND_PARAMETERS}: ${sql.slice(0, 80)}`);
    return this.d1.prepare(sql).bind(...params.map(bindable));
  }
}
