// The run history store on SQLite (node:sqlite, built into Node ≥ 22.5): one file, WAL, migrations applied on open.
import { chmodSync, closeSync, constants, openSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Store } from "../api.ts";
import { errorMessage } from "../../core/errors.ts";
import { fileSystemProblem, preparePrivateDir } from "../../core/private-dir.ts";
import { StoreError, StoreSchemaError } from "../errors.ts";
import type { SqlDb } from "../sql/db.ts";
import { migrate, schemaVersion } from "../sql/migrate.ts";
import { latestVersion, MIGRATIONS } from "../sql/migrations.ts";
import type { Migration } from "../sql/migrations.ts";
import { sqlStore } from "../sql/store.ts";
import { openSqliteDb } from "./driver.ts";

export { StoreError, StoreSchemaError, StoreWriteError } from "../errors.ts";
export { MIGRATIONS } from "../sql/migrations.ts";
export type { Migration } from "../sql/migrations.ts";

export interface SqliteStoreOptions {
  /** The schema to bring the database to; tests only. Default: MIGRATIONS. */
  migrations?: readonly Migration[];
  /**
   * Open an existing database for reading only (a report computed on a worker thread beside the service): nothing
   * is created, migrated or written, and its schema must be the one this code knows. Writes fail.
   */
  readOnly?: boolean;
}

/**
 * The database file and its folder, readable by the service's user only (0600, 0700): runs and alerts describe the
 * infrastructure. SQLite gives its -wal and -shm files the database file's mode. An existing file is tightened.
 */
function createPrivately(file: string): void {
  preparePrivateDir(dirname(resolve(file)));
  closeSync(openSync(file, constants.O_CREAT | constants.O_RDWR, 0o600));
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
}

/**
 * Opens (creating it and its parent directory if needed) the run history database at `file` and brings its schema up
 * to date. A database whose schema is newer than this code knows is refused with StoreSchemaError before anything
 * is written to it. Other failures to open are StoreError.
 */
export async function openSqliteStore(file: string, options: SqliteStoreOptions = {}): Promise<Store> {
  const migrations = options.migrations ?? MIGRATIONS;
  const readOnly = options.readOnly === true;
  let db: SqlDb;
  try {
    if (file !== ":memory:" && !readOnly) createPrivately(file);
    db = openSqliteDb(file, { readOnly });
  } catch (error) {
    throw new StoreError(file, `cannot open database at ${file}: ${fileSystemProblem(error)}`, { cause: error });
  }
  try {
    const current = await schemaVersion(db);
    const known = latestVersion(migrations);
    if (current > known) throw new StoreSchemaError(file, current, known);
    if (readOnly && current < known) {
      throw new StoreError(file, `cannot read database at ${file}: its schema is version ${current}, not ${known} (open it for writing once to migrate it)`);
    }
    if (!readOnly) {
      // After the version check: a newer database is left exactly as it was.
      await db.exec("PRAGMA journal_mode = WAL");
      await migrate(db, migrations);
    }
  } catch (error) {
    await db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreError(file, `cannot open database at ${file}: ${errorMessage(error)}`, { cause: error });
  }
  return sqlStore(db);
}
