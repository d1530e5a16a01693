// The store's database seam on SQLite (node:sqlite, built into Node ≥ 22.5). node:sqlite is synchronous, so the
// statements of every connection this thread has to one file go through one queue, one at a time: a transaction
// holds the queue from BEGIN to COMMIT, so nothing else of this thread lands in the middle of it while it awaits,
// and a second connection of the thread never blocks on a lock the first holds (which it could not release while
// the thread waits). Other processes and threads are kept out by SQLite's own locks and the busy timeout.
import { resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { SQLInputValue, StatementSync } from "node:sqlite";
import pLimit from "p-limit";
import type { LimitFunction } from "p-limit";
import type { Dialect, Param, Row, SqlDb, SqlExecutor } from "../sql/db.ts";

const BUSY_TIMEOUT_MS = 5000;

export const SQLITE_DIALECT: Dialect = {
  name: "sqlite",
  recordOrder: "rowid",
  nowMs: "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
  inList: (column, values) => ({ sql: `${column} IN (SELECT value FROM json_each(?))`, param: JSON.stringify(values) }),
  listTable: (alias, values) => ({ sql: `json_each(?) AS ${alias}`, param: JSON.stringify(values) }),
};

/** The queue of each database file this thread has open, with how many connections share it. */
const queues = new Map<string, { queue: LimitFunction; users: number }>();
let memoryDatabases = 0;

function queueFor(file: string): { queue: LimitFunction; release: () => void } {
  // Each in-memory database is its own.
  const key = file === ":memory:" ? `:memory:${++memoryDatabases}` : resolve(file);
  let entry = queues.get(key);
  if (!entry) {
    entry = { queue: pLimit(1), users: 0 };
    queues.set(key, entry);
  }
  entry.users++;
  const shared = entry;
  return {
    queue: shared.queue,
    release: () => {
      if (--shared.users === 0) queues.delete(key);
    },
  };
}

function bind(params: readonly Param[]): SQLInputValue[] {
  return params.map((p) => {
    if (Array.isArray(p)) throw new TypeError("a list parameter is bound through Dialect.inList");
    return p as SQLInputValue;
  });
}

/** Opens the database file (created by the caller when wanted); `readOnly` refuses every write. */
export function openSqliteDb(file: string, options: { readOnly?: boolean } = {}): SqlDb {
  const db = new DatabaseSync(file, { readOnly: options.readOnly === true });
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec("PRAGMA foreign_keys = ON");
  } catch (error) {
    db.close();
    throw error;
  }
  const statements = new Map<string, StatementSync>();
  const prepared = (sql: string): StatementSync => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  // Direct, synchronous access: used inside a transaction (which holds the queue) and by the queued calls.
  const direct = {
    all: (sql: string, params: readonly Param[] = []) => prepared(sql).all(...bind(params)) as Row[],
    get: (sql: string, params: readonly Param[] = []) => prepared(sql).get(...bind(params)) as Row | undefined,
    run: (sql: string, params: readonly Param[] = []) => Number(prepared(sql).run(...bind(params)).changes),
    exec: (sql: string) => db.exec(sql),
  };
  const inTransaction: SqlExecutor = {
    all: async (sql, params) => direct.all(sql, params),
    get: async (sql, params) => direct.get(sql, params),
    run: async (sql, params) => direct.run(sql, params),
    exec: async (sql) => direct.exec(sql),
    // BEGIN IMMEDIATE took the database's one write lock: every writer is serialised already.
    lock: async () => {},
  };
  const { queue, release } = queueFor(file);
  let open = true;

  return {
    dialect: SQLITE_DIALECT,
    location: file,
    all: (sql, params) => queue(() => direct.all(sql, params)),
    get: (sql, params) => queue(() => direct.get(sql, params)),
    run: (sql, params) => queue(() => direct.run(sql, params)),
    exec: (sql) => queue(() => direct.exec(sql)),
    lock: async () => {
      throw new Error("lock() is for transactions");
    },
    transaction: (fn) =>
      queue(async () => {
        // Taken at once, so a writer in another process makes us wait on the busy timeout, not fail mid-way.
        db.exec("BEGIN IMMEDIATE");
        try {
          const result = await fn(inTransaction);
          db.exec("COMMIT");
          return result;
        } catch (error) {
          if (db.isTransaction) db.exec("ROLLBACK");
          throw error;
        }
      }),
    // One migration at a time is what BEGIN IMMEDIATE gives each of them already.
    exclusively: (fn) => fn(),
    ifNobodyElse: (_key, fn) => fn(),
    tableExists: async (name) => queue(() => direct.get("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?", [name]) !== undefined),
    close: () =>
      queue(() => {
        if (!open) return;
        open = false;
        db.close();
        release();
      }),
  };
}
