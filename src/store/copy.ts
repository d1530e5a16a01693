// Moving up from SQLite to PostgreSQL: every row of a SQLite store copied into an empty PostgreSQL database at the
// same schema version, in one transaction (all of it or nothing), and counted on both sides afterwards.
import { existsSync } from "node:fs";
import { errorMessage } from "../core/errors.ts";
import { StoreError } from "./errors.ts";
import { openPostgresDb } from "./postgres/driver.ts";
import { redactDatabaseUrl } from "./postgres/url.ts";
import type { Param, SqlDb, SqlExecutor } from "./sql/db.ts";
import { migrate } from "./sql/migrate.ts";
import { MIGRATIONS } from "./sql/migrations.ts";
import { openSqliteDb } from "./sqlite/driver.ts";

/**
 * What is copied, parents before children (foreign keys), each in the order it was recorded. Leases are not: they
 * belong to processes of the old machine and expire within minutes anyway; nor are the signed requests already
 * taken (seen_requests), which only matter for the five minutes a signature is valid.
 */
const TABLES: readonly { name: string; identity?: string }[] = [
  { name: "runs" },
  { name: "resource_changes", identity: "id" },
  { name: "episodes", identity: "id" },
  { name: "alert_outbox", identity: "id" },
  { name: "failure_alerts" },
  { name: "audit_log", identity: "id" },
  { name: "approvals" },
  { name: "remediation_state" },
  { name: "remediation_applies" },
  { name: "engine_state" },
  { name: "reports" },
  { name: "report_schedules" },
];

/** PostgreSQL takes at most 65535 parameters per statement. */
const MAX_PARAMS = 30_000;
const READ_BATCH = 5_000;

export class StoreCopyError extends StoreError {
  override name = "StoreCopyError";
}

export interface CopyProgress {
  table: string;
  rows: number;
}

export interface CopyOptions {
  onTable?: (progress: CopyProgress) => void;
}

async function columnsOf(source: SqlDb, table: string): Promise<string[]> {
  return (await source.all(`SELECT name FROM pragma_table_info('${table}') ORDER BY cid`)).map((row) => String(row.name));
}

async function count(db: SqlExecutor, table: string): Promise<number> {
  return Number((await db.get(`SELECT COUNT(*) AS n FROM ${table}`))?.n ?? 0);
}

async function copyTable(source: SqlDb, target: SqlExecutor, table: (typeof TABLES)[number]): Promise<number> {
  const columns = await columnsOf(source, table.name);
  const rowsPerInsert = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
  let copied = 0;
  // Paged by the rowid (SQLite's recording order, and the id where a table has one), so a table of millions of rows
  // is never in memory at once, and PostgreSQL's seq columns number the rows in the same order.
  for (let after = -1; ; ) {
    const rows = await source.all(`SELECT rowid AS copy_rowid, ${columns.join(", ")} FROM ${table.name} WHERE rowid > ? ORDER BY rowid LIMIT ?`, [after, READ_BATCH]);
    if (rows.length > 0) after = Number(rows.at(-1)!.copy_rowid);
    for (let i = 0; i < rows.length; i += rowsPerInsert) {
      const chunk = rows.slice(i, i + rowsPerInsert);
      const values = chunk.map(() => `(${columns.map(() => "?").join(", ")})`).join(", ");
      const params = chunk.flatMap((row) => columns.map((c) => (row[c] ?? null) as Param));
      await target.run(`INSERT INTO ${table.name} (${columns.join(", ")}) VALUES ${values}`, params);
    }
    copied += rows.length;
    if (rows.length < READ_BATCH) break;
  }
  // Rows inserted with their ids leave the identity behind: the next id must come after the copied ones. The
  // functions are pg_catalog's, named so (an unqualified setval(text, …) of another role's would match better).
  if (table.identity) {
    await target.get(
      `SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence(CAST('${table.name}' AS pg_catalog.text), CAST('${table.identity}' AS pg_catalog.text)), ` +
        `COALESCE(pg_catalog.max(${table.identity}), 0) + 1, false) FROM ${table.name}`,
    );
  }
  return copied;
}

/**
 * Copies the SQLite store at `from` (migrated to the current schema first, as any Driftwatch command opening it
 * would) into the PostgreSQL database at `to` (migrated too), which must hold no rows yet. Nothing is written to
 * the target unless everything is. Returns the rows copied per table.
 */
export async function copySqliteToPostgres(from: string, to: string, options: CopyOptions = {}): Promise<CopyProgress[]> {
  const location = redactDatabaseUrl(to);
  if (!existsSync(from)) throw new StoreCopyError(from, `there is no SQLite database at ${from}`);
  const source = openSqliteDb(from);
  const target = openPostgresDb(to, { poolSize: 2, location });
  try {
    await migrate(source, MIGRATIONS);
    await migrate(target, MIGRATIONS);
    return await target.transaction(async (tx) => {
      // Two copies at once into one database: the second waits, then finds the first's rows and refuses.
      await tx.lock("driftwatch:db-copy");
      for (const table of TABLES) {
        const rows = await count(tx, table.name);
        if (rows > 0) throw new StoreCopyError(location, `the database at ${location} is not empty (${table.name} holds ${rows} rows): db copy fills an empty database only`);
      }
      const copied: CopyProgress[] = [];
      for (const table of TABLES) {
        const rows = await copyTable(source, tx, table);
        const landed = await count(tx, table.name);
        if (landed !== rows) throw new StoreCopyError(location, `${table.name}: ${rows} rows read, ${landed} written`);
        copied.push({ table: table.name, rows });
        options.onTable?.({ table: table.name, rows });
      }
      return copied;
    });
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreCopyError(location, `could not copy ${from} to ${location}: ${errorMessage(error)}`, { cause: error });
  } finally {
    await Promise.allSettled([source.close(), target.close()]);
  }
}
