// The store's tests run on both databases: SQLite (a file in a temporary directory) and PostgreSQL (a real server
// from the provisioned toolchain, one per test file, a fresh database per test).
//
//   const backends = storeBackends();            // in the describe.each of a spec
//   beforeAll(() => backends.start()); afterAll(() => backends.stop());
//   describe.each(backends.list)("on %s", (backend) => { it("...", async () => { const db = await backend.fresh(); ... }) });
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Store } from "../../src/store/api.ts";
import type { Migration } from "../../src/store/sql/migrations.ts";
import { openPostgresStore } from "../../src/store/postgres/index.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { type LocalPostgres, queryDatabase, startPostgres } from "./postgres.ts";
import { tempDir } from "./tempdir.ts";

/** One empty database of a backend. */
export interface FreshDatabase {
  /** Where it is: a file, or a URL (with the test server's password). */
  location: string;
  open(options?: { migrations?: readonly Migration[] }): Promise<Store>;
  /** A statement straight on the database, for looking underneath the store (or tampering with it). */
  query(sql: string): Promise<Record<string, unknown>[]>;
}

export interface StoreBackend {
  name: "sqlite" | "postgres";
  fresh(): Promise<FreshDatabase>;
}

function sqliteBackend(): StoreBackend {
  return {
    name: "sqlite",
    async fresh() {
      const file = join(tempDir("driftwatch-store-"), "history.db");
      return {
        location: file,
        open: (options = {}) => openSqliteStore(file, options),
        async query(sql) {
          const db = new DatabaseSync(file);
          try {
            db.exec("PRAGMA foreign_keys = ON");
            return /^\s*(select|with)\b/i.test(sql) ? (db.prepare(sql).all() as Record<string, unknown>[]) : (db.exec(sql), []);
          } finally {
            db.close();
          }
        },
      };
    },
  };
}

/** Both backends; PostgreSQL's server is started by start() and stopped by stop(). */
export function storeBackends(): { list: StoreBackend[]; start(): Promise<void>; stop(): Promise<void> } {
  let server: LocalPostgres | undefined;
  const postgres: StoreBackend = {
    name: "postgres",
    async fresh() {
      if (!server) throw new Error("storeBackends().start() was not called (in beforeAll)");
      const url = await server.createDatabase(`store_${randomBytes(6).toString("hex")}`);
      return {
        location: url,
        open: (options = {}) => openPostgresStore(url, { poolSize: 4, ...options }),
        query: (sql) => queryDatabase(url, sql),
      };
    },
  };
  return {
    list: [sqliteBackend(), postgres],
    async start() {
      server = await startPostgres();
    },
    async stop() {
      await server?.stop();
    },
  };
}
