// The store's database seam on PostgreSQL, through node-postgres (pg): a bounded pool of connections per process.
// Statements are written with `?` placeholders (as for SQLite) and numbered here; transactions hold one pooled
// connection from BEGIN to COMMIT; lock() is a transaction-scoped advisory lock.
import pg from "pg";
import type { PoolClient, QueryResultRow } from "pg";
import type { Dialect, Param, Row, SqlDb, SqlExecutor } from "../sql/db.ts";

/** pg's type id of BIGINT (int8): read as a number (every value Driftwatch stores is well within 2^53). */
const INT8_OID = 20;
/** The advisory lock migrations are applied under. */
const MIGRATION_LOCK = "driftwatch:migrate";

export const POSTGRES_DIALECT: Dialect = {
  name: "postgres",
  recordOrder: "seq",
  nowMs: "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
  inList: (column, values) => ({ sql: `${column} = ANY(CAST(? AS TEXT[]))`, param: values }),
  listTable: (alias, values) => ({ sql: `unnest(CAST(? AS TEXT[])) AS ${alias}(value)`, param: values }),
};

/**
 * `?` placeholders as PostgreSQL's `$1, $2, …`, left alone inside quoted literals and identifiers, dollar-quoted
 * bodies and comments.
 */
export function numberPlaceholders(sql: string): string {
  let out = "";
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end === -1 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === "$" && sql[i + 1] === "$") {
      const end = sql.indexOf("$$", i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === "?") {
      out += `$${++n}`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

type Queryable = Pick<pg.Pool, "query"> | PoolClient;

function executor(on: Queryable, lock: (key: string) => Promise<void>): SqlExecutor {
  const query = async (sql: string, params: readonly Param[] = []) => on.query<QueryResultRow>(numberPlaceholders(sql), params as unknown[]);
  return {
    all: async (sql, params) => (await query(sql, params)).rows as Row[],
    get: async (sql, params) => (await query(sql, params)).rows[0] as Row | undefined,
    run: async (sql, params) => (await query(sql, params)).rowCount ?? 0,
    exec: async (sql) => {
      await on.query(sql);
    },
    lock,
  };
}

export interface PostgresDbOptions {
  /** The most connections this process holds at once. */
  poolSize: number;
  /** Shown instead of the URL (which may hold a password). */
  location: string;
  /** How long to wait for a connection before failing, in ms. */
  connectTimeoutMs?: number;
  /** A pooled connection failed while idle (the server restarted, the network dropped): it is replaced. */
  onIdleError?: (error: Error) => void;
}

export function openPostgresDb(url: string, options: PostgresDbOptions): SqlDb {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    application_name: "driftwatch",
    types: { getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as "text"))) as typeof pg.types.getTypeParser },
  });
  pool.on("error", (error) => options.onIdleError?.(error));
  /** Runs `fn` with a pooled connection of its own (a session advisory lock lives as long as it). */
  async function onOwnConnection<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }

  /** Runs `fn`, then lets go of the session advisory lock `key` the client holds. */
  async function thenUnlock<T>(client: PoolClient, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [key]);
    }
  }

  const outside = executor(pool, async () => {
    throw new Error("lock() is for transactions");
  });

  return {
    ...outside,
    dialect: POSTGRES_DIALECT,
    location: options.location,
    async transaction(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query("BEGIN");
        const tx = executor(client, async (key) => {
          await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [key]);
        });
        const result = await fn(tx);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw error;
      } finally {
        // A connection that could not even roll back is not given to the next caller.
        client.release(broken);
      }
    },
    exclusively: (fn) =>
      onOwnConnection(async (client) => {
        await client.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [MIGRATION_LOCK]);
        return thenUnlock(client, MIGRATION_LOCK, fn);
      }),
    ifNobodyElse: (key, fn) =>
      onOwnConnection(async (client) => {
        const { rows } = await client.query<{ taken: boolean }>("SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS taken", [key]);
        return rows[0]?.taken === true ? thenUnlock(client, key, fn) : undefined;
      }),
    async tableExists(name) {
      const row = await outside.get("SELECT 1 AS found FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?", [name]);
      return row !== undefined;
    },
    async close() {
      if (!pool.ended) await pool.end();
    },
  };
}
