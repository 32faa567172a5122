// The write side of SqliteDatabase, on its own thread and connection, so the
// fsync of every commit (synchronous=FULL) happens while the main thread goes
// on parsing requests. Plain JavaScript: it loads without tsx or vitest.
import { parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';

const BetterSqlite3 = createRequire(import.meta.url)('better-sqlite3');
const db = new BetterSqlite3(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('foreign_keys = ON');
// secure_delete is per connection: this one does the writes, so it is the one that must zero what they free.
db.pragma('secure_delete = ON');
db.pragma(`busy_timeout = ${workerData.busyTimeoutMs}`);

const statements = new Map();
function prepare(source) {
  let statement = statements.get(source);
  if (!statement) {
    if (statements.size >= 500) statements.delete(statements.keys().next().value);
    statement = db.prepare(source);
    statements.set(source, statement);
  }
  return statement;
}

// A query marked `returning` (an UPDATE … RETURNING) hands back its rows, as
// arrays in column order. Runs the units in one transaction; returns, per
// unit, the rows of its returning query (or undefined when it has none).
function runInTransaction(units) {
  db.exec('BEGIN IMMEDIATE');
  try {
    const rows = units.map((unit) => {
      let returned;
      for (const query of unit) {
        const statement = prepare(query.sql);
        if (query.returning) returned = statement.raw(true).all(...query.params);
        else statement.run(...query.params);
      }
      return returned;
    });
    db.exec('COMMIT');
    return rows;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

function describe(error) {
  return { message: error instanceof Error ? error.message : String(error), code: error?.code };
}

// A group is a list of units; all share one transaction, and if that fails
// each unit is retried alone so one bad unit cannot take its neighbours down.
parentPort.on('message', ({ id, units, checkpoint }) => {
  if (id === 'close') {
    db.close();
    parentPort.postMessage({ id: 'closed' });
    return;
  }
  if (checkpoint) {
    // Between commits: the log is copied into the file and truncated unless a reader still needs it.
    try {
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)');
      parentPort.postMessage({ id, results: [], checkpointBusy: result?.busy === 1 });
    } catch (error) {
      parentPort.postMessage({ id, results: [], failed: describe(error).message });
    }
    return;
  }
  try {
    const rows = runInTransaction(units);
    parentPort.postMessage({ id, results: units.map(() => null), rows });
    return;
  } catch (error) {
    if (units.length === 1) {
      parentPort.postMessage({ id, results: [describe(error)] });
      return;
    }
  }
  const rows = [];
  const results = units.map((unit) => {
    try {
      rows.push(runInTransaction([unit])[0]);
      return null;
    } catch (error) {
      rows.push(undefined);
      return describe(error);
    }
  });
  parentPort.postMessage({ id, results, rows });
});
