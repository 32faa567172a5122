import BetterSqlite3 from 'better-sqlite3';
import type { SQL } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { makePrivateDirectorySync, preparePrivateFileSync, tightenFileSync } from '../../lib/node/private-files.js';
import { MAX_BOUND_PARAMETERS, toWriteStatement, type Database, type Db, type RawQuery, type WriteStatement } from '../database.js';
import * as schema from '../schema.js';

export type OpenSqliteOptions = {
  /** The database file (the writer thread opens it too, so not ':memory:'). */
  path: string;
  migrationsFolder: string;
  busyTimeoutMs?: number;
};


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

type Query = { sql: string; params: unknown[]; returning?: boolean };

type PendingWrite = {
  queries: Query[];
  /** The rows of the unit's `returning` query, if it has one. */
  resolve: (rows: unknown[][] | undefined) => void;
  reject: (error: unknown) => void;
};

type WriterReply = {
  id: number;
  results: ({ message: string; code?: string } | null)[];
  rows?: (unknown[][] | undefined)[];
  failed?: string;
  /** The answer to a checkpoint request: whether a reader kept the log from being truncated. */
  checkpointBusy?: boolean;
};

/** An error from the writer thread, carrying SQLite's message and code (e.g. SQLITE_CONSTRAINT_UNIQUE). */
export class SqliteWriteError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'SqliteError';
  }
}

/**
 * better-sqlite3 with group commit: writes that arrive while a commit is in
 * progress wait and then share one transaction and one fsync
 * (synchronous=FULL); each caller is answered only after its commit. The
 * transactions run on a writer thread with its own connection
 * (sqlite-writer.worker.mjs), so the main thread keeps serving requests
 * during the fsync; reads stay on the main connection and see every
 * answered write (WAL).
 */
export class SqliteDatabase implements Database {
  readonly db: Db;
  readonly sqlite: BetterSqlite3.Database;
  private queue: PendingWrite[] = [];
  private flushScheduled = false;
  private inFlight: Promise<void> | null = null;
  private readonly prepare: (source: string) => BetterSqlite3.Statement;
  private readonly writer: Worker;
  private nextGroupId = 1;
  private readonly replies = new Map<number, (reply: WriterReply) => void>();

  constructor(options: OpenSqliteOptions) {
    if (options.path === ':memory:') throw new Error('SqliteDatabase needs a file: its writer thread opens a second connection');
    makePrivateDirectorySync(dirname(options.path));
    // The file exists, 0600, before SQLite opens it: SQLite keeps its mode and gives it to the -wal
    // and -shm it makes; a log an earlier version left is set to 0600 below.
    preparePrivateFileSync(options.path, 'a');
    this.sqlite = new BetterSqlite3(options.path);
    this.sqlite.pragma('journal_mode = WAL');
    for (const log of [`${options.path}-wal`, `${options.path}-shm`]) tightenFileSync(log);
    this.sqlite.pragma('synchronous = FULL');
    this.sqlite.pragma('foreign_keys = ON');
    // Deleted and overwritten content is zeroed, so erased personal data does not linger in free pages.
    this.sqlite.pragma('secure_delete = ON');
    this.sqlite.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.prepare = createStatementCache(this.sqlite);
    const drizzleDb: BetterSQLite3Database<typeof schema> = drizzle(withStatementCache(this.sqlite, this.prepare), { schema });
    migrate(drizzleDb, { migrationsFolder: options.migrationsFolder });
    this.db = drizzleDb as unknown as Db;
    this.writer = new Worker(new URL('./sqlite-writer.worker.mjs', import.meta.url), {
      workerData: { path: options.path, busyTimeoutMs: options.busyTimeoutMs ?? 5000 },
    });
    this.writer.on('message', (reply: WriterReply) => {
      this.replies.get(reply.id)?.(reply);
      this.replies.delete(reply.id);
      // An idle writer must not keep the process alive; a busy one must.
      if (this.replies.size === 0) this.writer.unref();
    });
    this.writer.on('error', (error) => {
      for (const [id, settle] of this.replies) settle({ id, results: [], failed: `SQLite writer failed: ${error.message}` });
      this.replies.clear();
    });
    this.writer.unref();
  }

  statement(query: SQL | RawQuery): WriteStatement {
    return toWriteStatement(this.db, query);
  }

  atomic(statements: WriteStatement[]): Promise<void> {
    // Rendered now, while the caller's values are current; drizzle has mapped them to driver values.
    const queries = statements.map((statement) => {
      const { sql, params } = (statement as unknown as { toSQL(): Query }).toSQL();
      return { sql, params };
    });
    // D1's limit, enforced here too so the Node suite finds a statement D1 would refuse.
    const oversized = queries.find((query) => query.params.length > MAX_BOUND_PARAMETERS);
    if (oversized) return Promise.reject(new Error(`A statement binds ${oversized.params.length} parameters; D1 allows ${MAX_BOUND_PARAMETERS}: ${oversized.sql.slice(0, 80)}`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ queries, resolve: () => resolve(), reject });
      this.scheduleFlush();
    });
  }

  /**
   * One write whose rows the caller needs (`UPDATE … RETURNING`), as arrays in
   * column order, once committed. It runs on the writer thread like `atomic`
   * and shares its group commit, so the main thread never waits for the
   * write lock: a synchronous write there blocks the event loop in SQLite's
   * busy handler for as long as another connection (this process's writer
   * thread, or another process) holds the lock.
   */
  writeReturning(query: RawQuery): Promise<unknown[][]> {
    return new Promise<unknown[][]>((resolve, reject) => {
      this.queue.push({ queries: [{ sql: query.sql, params: query.params, returning: true }], resolve: (rows) => resolve(rows ?? []), reject });
      this.scheduleFlush();
    });
  }

  /**
   * `PRAGMA wal_checkpoint(TRUNCATE)` on the writer thread: it runs between
   * two commits of this process, and the main thread never waits in the busy
   * handler for the readers to finish.
   */
  truncateLog(): Promise<boolean> {
    const id = this.nextGroupId++;
    return new Promise((resolve, reject) => {
      this.replies.set(id, (reply) => (reply.failed ? reject(new SqliteWriteError(reply.failed, undefined)) : resolve(reply.checkpointBusy !== true)));
      this.writer.ref();
      this.writer.postMessage({ id, checkpoint: true });
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.inFlight) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const group = this.queue;
      this.queue = [];
      if (group.length === 0) return;
      this.inFlight = this.commit(group).finally(() => {
        this.inFlight = null;
        if (this.queue.length > 0) this.scheduleFlush();
      });
    });
  }

  private async commit(group: PendingWrite[]): Promise<void> {
    const units = group.map((write) => write.queries);
    const { results, rows } = await this.commitOnWriter(units);
    results.forEach((failure, index) => {
      const write = group[index]!;
      if (failure) write.reject(new SqliteWriteError(failure.message, failure.code));
      else write.resolve(rows?.[index]);
    });
  }

  private commitOnWriter(units: Query[][]): Promise<Pick<WriterReply, 'results' | 'rows'>> {
    const id = this.nextGroupId++;
    return new Promise((resolve) => {
      this.replies.set(id, (reply) => resolve(reply.failed ? { results: units.map(() => ({ message: reply.failed! })) } : reply));
      this.writer.ref();
      this.writer.postMessage({ id, units });
    });
  }

  async close(): Promise<void> {
    while (this.queue.length > 0 || this.flushScheduled || this.inFlight) {
      await (this.inFlight ?? new Promise((resolve) => setImmediate(resolve)));
    }
    const closed = new Promise<void>((resolve) => this.writer.once('message', () => resolve()));
    this.writer.ref();
    this.writer.postMessage({ id: 'close' });
    await closed;
    await this.writer.terminate();
    if (this.sqlite.open) this.sqlite.close();
  }
}
