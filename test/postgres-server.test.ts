// The PostgreSQL server the store's tests and the benchmarks run against: the pinned release, reachable over
// loopback TCP with its password and with no other, with test settings, a database per test on demand, not running
// as root, and gone completely when stopped.
import { existsSync, readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPostgres, LocalPostgresError, startPostgres } from "./support/postgres.ts";
import { testToolchain } from "./support/toolchain.ts";
import { isRunning } from "./support/processes.ts";

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 30_000 });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}


/** The real uid a process runs as, from /proc. */
function uidOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("Uid:"));
  return Number(line?.split(/\s+/)[1]);
}

describe("the local PostgreSQL server", () => {
  let server: LocalPostgres;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(() => server?.stop());

  it("answers queries over loopback TCP as the pinned release, with the test settings", async () => {
    expect(server.url).toMatch(/^postgres:\/\/driftwatch:[^@]+@127\.0\.0\.1:\d+\/driftwatch$/);
    const [row] = await query<{ user: string; db: string; version: string; sum: number }>(
      server.url,
      "SELECT current_user AS user, current_database() AS db, current_setting('server_version') AS version, 20 + 22 AS sum",
    );
    expect(row).toEqual({ user: "driftwatch", db: "driftwatch", version: testToolchain().manifest.postgres?.version, sum: 42 });
    const settings = await query<{ name: string; setting: string }>(
      server.url,
      "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'listen_addresses', 'max_connections', 'unix_socket_directories', 'password_encryption')",
    );
    expect(Object.fromEntries(settings.map((s) => [s.name, s.setting]))).toEqual({
      fsync: "off",
      listen_addresses: "127.0.0.1",
      max_connections: "200",
      unix_socket_directories: "",
      password_encryption: "scram-sha-256",
    });
  });

  it("does not run as root", () => {
    expect(uidOf(server.pid)).not.toBe(0);
    if (process.getuid?.() !== 0) expect(uidOf(server.pid)).toBe(process.getuid?.());
  });

  it("creates a database of its own for a test", async () => {
    const url = await server.createDatabase("second_db");
    expect(url).toBe(server.urlFor("second_db"));
    await query(url, "CREATE TABLE runs (id int PRIMARY KEY, verdict text NOT NULL)");
    await query(url, "INSERT INTO runs VALUES (1, 'drifted'), (2, 'in-sync')");
    expect(await query(url, "SELECT verdict FROM runs ORDER BY id")).toEqual([{ verdict: "drifted" }, { verdict: "in-sync" }]);
    // The first database does not see it.
    expect(await query(server.url, "SELECT to_regclass('public.runs') AS runs")).toEqual([{ runs: null }]);
    await expect(server.createDatabase("second_db")).rejects.toThrow(/already exists/);
    await expect(server.createDatabase('x"; DROP DATABASE driftwatch; --')).rejects.toThrow(RangeError);
  });

  it("refuses a wrong password", async () => {
    const wrong = new URL(server.url);
    wrong.password = "not-the-password";
    const refused = await query(wrong.href, "SELECT 1").then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: "28P01" }); // invalid_password
    expect(String(refused)).toContain('password authentication failed for user "driftwatch"');
  });

  it("stops, ending open sessions, and removes its directory", async () => {
    const open = new pg.Client({ connectionString: server.url });
    const ended = new Promise<unknown>((resolve) => open.on("error", resolve));
    await open.connect();
    expect(existsSync(server.dataDir)).toBe(true);
    await server.stop();
    expect(isRunning(server.pid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
    // Fast shutdown ends the session that was still open rather than waiting for it.
    expect(await ended).toMatchObject({ code: "57P01" }); // admin_shutdown
    await expect(query(server.url, "SELECT 1")).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await open.end().catch(() => undefined);
  });
});

describe("a local PostgreSQL server that cannot start", () => {
  it("fails with a LocalPostgresError that quotes the server's log", async () => {
    const failed = await startPostgres({ settings: { shared_buffers: "plenty" } }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(LocalPostgresError);
    expect(String(failed)).toMatch(/postgres exited \(code 1, signal null\) before it accepted connections/);
    expect(String(failed)).toContain('invalid value for parameter "shared_buffers": "plenty"');
  });
});
