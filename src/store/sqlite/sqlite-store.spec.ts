// What only the SQLite store has: its file (private, created with its folder), WAL, the read-only mode reports use
// on a worker thread, and leaving a newer database's file exactly as it was.
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/support/tempdir.ts";
import type { ResourceChange, StackResult } from "../../core/types.ts";
import { StoreError, StoreSchemaError, StoreWriteError } from "../errors.ts";
import { latestVersion } from "../sql/migrations.ts";
import { openSqliteStore } from "./index.ts";

const deletion: ResourceChange = { kind: "drift", address: "local_file.readme", type: "local_file", action: "delete", properties: [{ path: "content", desired: "hello", actual: null }] };

function result(runId: string, changes: ResourceChange[] = []): StackResult {
  return { runId, stack: "web", engine: "pulumi", verdict: changes.length ? "drifted" : "in-sync", changes, startedAt: "2026-05-01T10:00:00.000Z", finishedAt: "2026-05-01T10:00:05.250Z", durationMs: 5250 };
}

describe("openSqliteStore", () => {
  it("opens a database read-only beside a writer: reads what it wrote, writes nothing, migrates nothing", async () => {
    const file = join(tempDir("driftwatch-store-"), "history.db");
    const writer = await openSqliteStore(file);
    try {
      await writer.recordRun(result("r1", [deletion]));
      const reader = await openSqliteStore(file, { readOnly: true });
      try {
        expect((await reader.getRun("r1"))?.changes).toEqual([deletion]);
        await expect(reader.recordRun(result("r2"))).rejects.toThrow(StoreWriteError);
        await writer.recordRun(result("r3"));
        expect((await reader.listRuns()).map((r) => r.runId).sort()).toEqual(["r1", "r3"]);
      } finally {
        await reader.close();
      }
    } finally {
      await writer.close();
    }
    const older = join(tempDir("driftwatch-store-"), "older.db");
    await (await openSqliteStore(older)).close();
    const db = new DatabaseSync(older);
    db.exec("DELETE FROM schema_migrations WHERE version > 3"); // as a Driftwatch of three migrations left it
    db.close();
    await expect(openSqliteStore(older, { readOnly: true })).rejects.toThrow(/its schema is version 3, not \d+ \(open it for writing once to migrate it\)/);
  });

  it("creates the file privately with its parent directory, enables WAL, and indexes what it reads by", async () => {
    const file = join(tempDir("driftwatch-store-"), "nested", "deeper", "history.db");
    await (await openSqliteStore(file)).close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const db = new DatabaseSync(file);
    try {
      expect(db.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
      const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
      expect(indexes.map((r) => r.name)).toEqual(expect.arrayContaining(["runs_stack_started_at", "resource_changes_run_id", "audit_log_at"]));
    } finally {
      db.close();
    }
  });

  it("refuses a database from a newer Driftwatch and leaves the file byte for byte as it was", async () => {
    const file = join(tempDir("driftwatch-store-"), "history.db");
    const store = await openSqliteStore(file);
    await store.recordRun(result("run-1"));
    await store.close();
    const future = new DatabaseSync(file);
    future.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from the future', '2030-01-01T00:00:00.000Z')").run();
    future.close();
    const before = readFileSync(file);
    const mtimeBefore = statSync(file).mtimeMs;
    const error = await openSqliteStore(file).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(StoreSchemaError);
    expect((error as StoreSchemaError).message).toBe(`database at ${file} has schema version 999, this Driftwatch knows up to ${latestVersion()}`);
    expect((error as StoreSchemaError).file).toBe(file);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(statSync(file).mtimeMs).toBe(mtimeBefore);
  });

  it("refuses a newer database that is not in WAL mode without switching its journal mode", async () => {
    const file = join(tempDir("driftwatch-store-"), "history.db");
    const future = new DatabaseSync(file);
    future.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)");
    future.exec("INSERT INTO schema_migrations VALUES (999, 'from the future', '2030-01-01T00:00:00.000Z')");
    future.close();
    const before = readFileSync(file);
    await expect(openSqliteStore(file)).rejects.toThrow(StoreSchemaError);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it("reports a file that is not a database as a StoreError", async () => {
    const file = join(tempDir("driftwatch-store-"), "history.db");
    writeFileSync(file, "this is not a SQLite database, just text long enough to fill a header.....\n".repeat(10));
    await expect(openSqliteStore(file)).rejects.toThrow(StoreError);
  });
});
