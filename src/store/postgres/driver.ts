// The store's database seam on PostgreSQL, through node-postgres (pg): a bounded pool of connections per process.
// Statements are written with `?` placeholders (as for SQLite) and numbered here; transactions hold one pooled
// connection from BEGIN to COMMIT; lock() is a transaction-scoped advisory lock.
//
// Names are looked up in pg_catalog first, then in the schema Driftwatch's tables are in, and nowhere else (see
// search-path.ts). The SQL written here, and the dialect's fragments the shared statements use, name every built-in
// function (and an operator whose operands are not of exactly the types of a built-in one) in pg_catalog, with typed
// arguments: a function or operator of another role's that matched an unqualified call better than the built-in
// one would otherwise run with Driftwatch's privileges (PostgreSQL picks an exact match of argument types over a
// built-in that needs a cast, whichever schema comes first).
import pg from "pg";
import type { PoolClient, QueryResult, QueryResultRow } from "pg";
import { StoreError } from "../errors.ts";
import type { Dialect, Param, Row, SqlDb, SqlExecutor } from "../sql/db.ts";
import { pinSearchPath, quoteIdentifier } from "./search-path.ts";

/** pg's type id of BIGINT (int8): read as a number (every value Driftwatch stores is well within 2^53). */
const INT8_OID = 20;
/** The advisory lock migrations are applied under. */
const MIGRATION_LOCK = "driftwatch:migrate";
/** An advisory lock's key from its name ($1): a 64-bit hash. */
const LOCK_KEY = "pg_catalog.hashtextextended($1::pg_catalog.text, 0::bigint)";

export const POSTGRES_DIALECT: Dialect = {
  name: "postgres",
  recordOrder: "seq",
  // EXTRACT is the parser's own (pg_catalog.extract); its numeric times an integer has no operator of exactly those
  // types in pg_catalog, so the operator is named.
  nowMs: "CAST(EXTRACT(EPOCH FROM pg_catalog.clock_timestamp()) OPERATOR(pg_catalog.*) 1000 AS BIGINT)",
  inList: (column, values) => ({ sql: `${column} = ANY(CAST(? AS pg_catalog.text[]))`, param: values }),
  listTable: (alias, values) => ({ sql: `pg_catalog.unnest(CAST(? AS pg_catalog.text[])) AS ${alias}(value)`, param: values }),
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

type Query = (sql: string, params?: unknown[]) => Promise<QueryResult<QueryResultRow>>;

function executor(query: Query, exec: (sql: string) => Promise<void>, lock: (key: string) => Promise<void>): SqlExecutor {
  const run = (sql: string, params: readonly Param[] = []) => query(numberPlaceholders(sql), params as unknown[]);
  return {
    all: async (sql, params) => (await run(sql, params)).rows as Row[],
    get: async (sql, params) => (await run(sql, params)).rows[0] as Row | undefined,
    run: async (sql, params) => (await run(sql, params)).rowCount ?? 0,
    exec,
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

/**
 * The schema Driftwatch's tables are in: the one the database's own settings make a connection create tables in
 * (the role's or the database's search_path, else `"$user", public`), as every Driftwatch before this one did. Asked
 * once, on a connection of its own that runs nothing but this one qualified call.
 */
async function tablesSchema(url: string, options: PostgresDbOptions): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000, application_name: "driftwatch" });
  // A connection lost mid-query fails the query; the event must not be left unhandled.
  client.on("error", () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ schema: string | null }>("SELECT pg_catalog.current_schema() AS schema");
    const schema = rows[0]?.schema;
    if (!schema) {
      throw new StoreError(
        options.location,
        `no schema to keep Driftwatch's tables in at ${options.location}: none of the schemas on the role's search_path exists (create one the role owns, e.g. CREATE SCHEMA driftwatch AUTHORIZATION <role>, or set the role's search_path)`,
      );
    }
    return schema;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function openPostgresDb(url: string, options: PostgresDbOptions): SqlDb {
  /** The pool, made on first use once the schema is known: its connections search pg_catalog and that schema only. */
  let connecting: Promise<{ pool: pg.Pool; schema: string }> | undefined;
  let closed = false;

  async function connect(): Promise<{ pool: pg.Pool; schema: string }> {
    const schema = await tablesSchema(url, options);
    const pool = new pg.Pool({
      ...pinSearchPath(url, [schema]),
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      application_name: "driftwatch",
      types: { getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as "text"))) as typeof pg.types.getTypeParser },
    });
    pool.on("error", (error) => options.onIdleError?.(error));
    return { pool, schema };
  }

  function connected(): Promise<{ pool: pg.Pool; schema: string }> {
    if (closed) return Promise.reject(new StoreError(options.location, `the database at ${options.location} is closed`));
    connecting ??= connect().catch((error: unknown) => {
      // Asked again on the next use (the server may be back by then).
      connecting = undefined;
      throw error;
    });
    return connecting;
  }

  /** Runs `fn` with a pooled connection of its own (a session advisory lock lives as long as it). */
  async function onOwnConnection<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await (await connected()).pool.connect();
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
      await client.query(`SELECT pg_catalog.pg_advisory_unlock(${LOCK_KEY})`, [key]);
    }
  }

  async function transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const { pool, schema } = await connected();
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const tx = executor(
        (sql, params) => client.query<QueryResultRow>(sql, params),
        async (sql) => {
          // A migration's statements name no schema: what they create goes in the tables' schema, not in pg_catalog
          // (the first schema of the path). pg_catalog is still searched first, as PostgreSQL does for a path that
          // does not name it. Until the transaction ends.
          await client.query(`SET LOCAL search_path TO ${quoteIdentifier(schema)}`);
          await client.query(sql);
        },
        async (key) => {
          await client.query(`SELECT pg_catalog.pg_advisory_xact_lock(${LOCK_KEY})`, [key]);
        },
      );
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
  }

  const outside = executor(
    async (sql, params) => (await connected()).pool.query<QueryResultRow>(sql, params),
    (sql) => transaction((tx) => tx.exec(sql)),
    async () => {
      throw new Error("lock() is for transactions");
    },
  );

  return {
    ...outside,
    dialect: POSTGRES_DIALECT,
    location: options.location,
    transaction,
    exclusively: (fn) =>
      onOwnConnection(async (client) => {
        await client.query(`SELECT pg_catalog.pg_advisory_lock(${LOCK_KEY})`, [MIGRATION_LOCK]);
        return thenUnlock(client, MIGRATION_LOCK, fn);
      }),
    ifNobodyElse: (key, fn) =>
      onOwnConnection(async (client) => {
        const { rows } = await client.query<{ taken: boolean }>(`SELECT pg_catalog.pg_try_advisory_lock(${LOCK_KEY}) AS taken`, [key]);
        return rows[0]?.taken === true ? thenUnlock(client, key, fn) : undefined;
      }),
    async tableExists(name) {
      const { schema } = await connected();
      const row = await outside.get(
        "SELECT 1 AS found FROM pg_catalog.pg_tables WHERE schemaname OPERATOR(pg_catalog.=) CAST(? AS pg_catalog.name) AND tablename OPERATOR(pg_catalog.=) CAST(? AS pg_catalog.name)",
        [schema, name],
      );
      return row !== undefined;
    },
    async close() {
      closed = true;
      const pending = connecting;
      connecting = undefined;
      const opened = await pending?.catch(() => undefined);
      if (opened && !opened.pool.ended) await opened.pool.end();
    },
  };
}
