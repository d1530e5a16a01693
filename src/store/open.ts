// Opening the store the configuration names: SQLite under dataDir, or the PostgreSQL database replicas share.
// The PostgreSQL client is loaded only for a PostgreSQL database: a SQLite service does not carry it (~11 MB).
import { existsSync } from "node:fs";
import type { DatabaseConfig } from "../config/types.ts";
import { errorMessage } from "../core/errors.ts";
import type { Store } from "./api.ts";
import { StoreError } from "./errors.ts";
import { schemaVersion } from "./sql/migrate.ts";
import { latestVersion } from "./sql/migrations.ts";
import { openSqliteDb } from "./sqlite/driver.ts";
import { openSqliteStore } from "./sqlite/index.ts";

export interface OpenStoreOptions {
  /** Reading only (a report on a worker thread): nothing is migrated; SQLite also refuses every write. */
  readOnly?: boolean;
  /** Connections at most, instead of the configured pool size (PostgreSQL). */
  poolSize?: number;
  /** A pooled PostgreSQL connection failed while idle; it is replaced. */
  onIdleError?: (error: Error) => void;
}

export async function openStore(database: DatabaseConfig, options: OpenStoreOptions = {}): Promise<Store> {
  if (database.kind === "sqlite") return openSqliteStore(database.file, options.readOnly ? { readOnly: true } : {});
  const { openPostgresStore } = await import("./postgres/index.ts");
  return openPostgresStore(database.url, {
    poolSize: options.poolSize ?? database.poolSize,
    ...(options.readOnly ? { migrate: false } : {}),
    ...(options.onIdleError ? { onIdleError: options.onIdleError } : {}),
  });
}

/** Where the store is, fit to show. */
export function databaseLocation(database: DatabaseConfig): string {
  return database.kind === "sqlite" ? database.file : database.location;
}

/** The database's schema version now (0 for a new one), read without writing anything. */
export async function databaseVersion(database: DatabaseConfig): Promise<number> {
  // A SQLite file that is not there yet is version 0 (and is not created by looking).
  if (database.kind === "sqlite" && !existsSync(database.file)) return 0;
  const db =
    database.kind === "sqlite"
      ? openSqliteDb(database.file, { readOnly: true })
      : (await import("./postgres/driver.ts")).openPostgresDb(database.url, { poolSize: 2, location: database.location });
  try {
    return await schemaVersion(db);
  } catch (error) {
    throw new StoreError(databaseLocation(database), `cannot read the schema version of ${databaseLocation(database)}: ${errorMessage(error)}`, { cause: error });
  } finally {
    await db.close();
  }
}

/** `driftwatch db migrate`: brings the database to this Driftwatch's schema; says from which version to which. */
export async function migrateDatabase(database: DatabaseConfig): Promise<{ location: string; from: number; to: number }> {
  const from = await databaseVersion(database);
  await (await openStore(database, { poolSize: 2 })).close();
  return { location: databaseLocation(database), from, to: latestVersion() };
}
