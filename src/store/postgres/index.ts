// The run history store on PostgreSQL: shared by every replica of `serve`, migrations applied on open under an
// advisory lock (so replicas starting together migrate once), the same statements as on SQLite.
import type { Store } from "../api.ts";
import { errorMessage } from "../../core/errors.ts";
import { StoreError } from "../errors.ts";
import { migrate, schemaVersion } from "../sql/migrate.ts";
import { latestVersion, MIGRATIONS } from "../sql/migrations.ts";
import type { Migration } from "../sql/migrations.ts";
import { sqlStore } from "../sql/store.ts";
import { openPostgresDb } from "./driver.ts";
import { redactDatabaseUrl } from "./url.ts";

export interface PostgresStoreOptions {
  /** Connections this process holds at most (at least 2: one may hold the migration lock). Default 10. */
  poolSize?: number;
  /** The schema to bring the database to; tests only. Default: MIGRATIONS. */
  migrations?: readonly Migration[];
  /** false: only check that the schema is current (a deploy pipeline ran `driftwatch db migrate`). Default true. */
  migrate?: boolean;
  /** How long to wait for a connection, in ms. Default 10 s. */
  connectTimeoutMs?: number;
  onIdleError?: (error: Error) => void;
}

export const DEFAULT_POOL_SIZE = 10;

/**
 * Connects to the database at `url` and brings its schema up to date. A schema newer than this code knows is refused
 * with StoreSchemaError before anything is written; an unreachable server or a refused login is StoreError. The URL's
 * password never appears in an error.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const location = redactDatabaseUrl(url);
  const migrations = options.migrations ?? MIGRATIONS;
  const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isInteger(poolSize) || poolSize < 2) throw new RangeError(`poolSize must be a whole number >= 2, got ${poolSize}`);
  const db = openPostgresDb(url, {
    poolSize,
    location,
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
    ...(options.onIdleError ? { onIdleError: options.onIdleError } : {}),
  });
  try {
    if (options.migrate === false) {
      const current = await schemaVersion(db);
      const known = latestVersion(migrations);
      if (current !== known) {
        throw new StoreError(location, `the database at ${location} has schema version ${current}, this Driftwatch needs ${known}: run driftwatch db migrate`);
      }
    } else {
      await migrate(db, migrations);
    }
  } catch (error) {
    await db.close().catch(() => undefined);
    if (error instanceof StoreError) throw error;
    // pg's messages name the host and the user, never the password; the URL is shown redacted.
    throw new StoreError(location, `cannot open the database at ${location}: ${errorMessage(error)}`, { cause: error });
  }
  return sqlStore(db);
}
