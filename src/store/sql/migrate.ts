// Bringing a database's schema up to date, and reading which version it is at, on any SqlDb.
import { StoreSchemaError } from "../errors.ts";
import type { SqlDb } from "./db.ts";
import { latestVersion, migrationSql } from "./migrations.ts";
import type { Migration } from "./migrations.ts";

const SCHEMA_TABLE = { sql: "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)" };

/** The highest applied schema version, read without writing anything (0 for a new database). */
export async function schemaVersion(db: SqlDb): Promise<number> {
  if (!(await db.tableExists("schema_migrations"))) return 0;
  const row = await db.get("SELECT MAX(version) AS version FROM schema_migrations");
  return row?.version === null || row?.version === undefined ? 0 : Number(row.version);
}

function checkMigrations(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration "${m.name}" has version ${m.version}, expected ${i + 1} (versions run 1, 2, 3, … in order)`);
  });
}

/**
 * Applies every migration the database lacks, each in its own transaction together with its schema_migrations row,
 * while no other process migrates the same database. A database newer than `migrations` is refused with
 * StoreSchemaError before anything is written to it. Returns the versions applied.
 */
export async function migrate(db: SqlDb, migrations: readonly Migration[]): Promise<number[]> {
  checkMigrations(migrations);
  return db.exclusively(async () => {
    const current = await schemaVersion(db);
    const known = latestVersion(migrations);
    if (current > known) throw new StoreSchemaError(db.location, current, known);
    // CREATE TABLE IF NOT EXISTS: written through the dialect like every migration.
    await db.exec(migrationSql(SCHEMA_TABLE, db.dialect));
    const applied: number[] = [];
    for (const migration of migrations) {
      await db.transaction(async (tx) => {
        // Checked inside the transaction: another process may have applied it since we looked.
        if (await tx.get("SELECT 1 AS found FROM schema_migrations WHERE version = ?", [migration.version])) return;
        const sql = migrationSql(migration, db.dialect);
        if (sql.trim() !== "") await tx.exec(sql);
        await tx.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [migration.version, migration.name, new Date().toISOString()]);
        applied.push(migration.version);
      });
    }
    return applied;
  });
}
