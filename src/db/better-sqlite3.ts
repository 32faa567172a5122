import BetterSqlite3 from 'better-sqlite3';
import type { SQL } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database, Db, RawQuery, WriteStatement } from './database.js';
import * as schema from './schema.js';

export type OpenSqliteOptions = {
  /** A file path, or ':memory:' for tests. */
  path: string;
  migrationsFolder: string;
  busyTimeoutMs?: number;
};

type PendingWrite = {
  statements: WriteStatement[];
  resolve: () => void;
  reject: (error: unknown) => void;
};

type RunnableStatement = { run(): unknown };

const STATEMENT_CACHE_SIZE = 500;

/**
 * drizzle prepares every query anew; on the hot paths that costs more than
 * running it. The same SQL text (values are bound separately) reuses one
 * prepared statement. Raw mode is reset because drizzle switches it on for
 * some reads and it sticks to the statement.
 */
function createStatementCache(sqlite: BetterSqlite3.Database) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  const prepare = (source: string) => {
    let statement = cache.get(source);
    if (statement) {
      cache.delete(source);
      if (statement.reader) statement.raw(false);
    } else {
      statement = sqlite.prepare(source);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    cache.set(source, statement);
    return statement;
  };
  return prepare;
}

function withStatementCache(sqlite: BetterSqlite3.Database, prepare: (source: string) => BetterSqlite3.Statement): BetterSqlite3.Database {
  return new Proxy(sqlite, {
    get(target, property, receiver) {
      if (property === 'prepare') return prepare;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * better-sqlite3 with group commit: writes that arrive in the same turn of
 * the event loop share one transaction and therefore one fsync
 * (synchronous=FULL), and each caller is answered only after that commit.
 * A failing unit is retried alone so it cannot take its neighbours down.
 */
export class SqliteDatabase implements Database {
  readonly db: Db;
  readonly sqlite: BetterSqlite3.Database;
  private queue: PendingWrite[] = [];
  private flushScheduled = false;
  private readonly prepare: (source: string) => BetterSqlite3.Statement;

  constructor(options: OpenSqliteOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.sqlite = new BetterSqlite3(options.path);
    this.sqlite.pragma('journal_mode = WAL');
    this.sqlite.pragma('synchronous = FULL');
    this.sqlite.pragma('foreign_keys = ON');
    this.sqlite.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.prepare = createStatementCache(this.sqlite);
    const drizzleDb: BetterSQLite3Database<typeof schema> = drizzle(withStatementCache(this.sqlite, this.prepare), { schema });
    migrate(drizzleDb, { migrationsFolder: options.migrationsFolder });
    this.db = drizzleDb as unknown as Db;
  }

  statement(query: SQL | RawQuery): WriteStatement {
    const runnable: RunnableStatement =
      'params' in query && typeof query.sql === 'string'
        ? { run: () => this.prepare(query.sql).run(...query.params) }
        : { run: () => (this.db as unknown as BetterSQLite3Database).run(query as SQL) };
    return runnable as unknown as WriteStatement;
  }

  atomic(statements: WriteStatement[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ statements, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const group = this.queue;
    this.queue = [];
    if (group.length === 0) return;
    try {
      this.runInTransaction(group.flatMap((write) => write.statements));
      for (const write of group) write.resolve();
      return;
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
    }
    for (const write of group) {
      try {
        this.runInTransaction(write.statements);
        write.resolve();
      } catch (error) {
        write.reject(error);
      }
    }
  }

  private runInTransaction(statements: WriteStatement[]): void {
    this.sqlite.exec('BEGIN IMMEDIATE');
    try {
      for (const statement of statements) (statement as unknown as RunnableStatement).run();
      this.sqlite.exec('COMMIT');
    } catch (error) {
      if (this.sqlite.inTransaction) this.sqlite.exec('ROLLBACK');
      throw error;
    }
  }

  async close(): Promise<void> {
    while (this.queue.length > 0 || this.flushScheduled) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.sqlite.open) this.sqlite.close();
  }
}
