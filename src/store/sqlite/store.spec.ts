import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/support/tempdir.ts";
import type { ResourceChange, StackResult } from "../../core/types.ts";
import type { Store } from "../api.ts";
import { StoreError, StoreSchemaError, StoreWriteError } from "../errors.ts";
import { processId } from "../../core/liveness.ts";
import { openSqliteStore } from "./index.ts";
import { latestVersion, MIGRATIONS } from "./migrations.ts";
import type { Migration } from "./migrations.ts";

function storeIn(dir: string, name = "history.db"): { file: string; store: Store } {
  const file = join(dir, name);
  return { file, store: openSqliteStore(file) };
}

/** Opens a store for the current test and closes it when the test ends (before the temp dir goes). */
function withStore<T>(file: string, fn: (store: Store) => T): T {
  const store = openSqliteStore(file);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

function result(overrides: Partial<StackResult> & Pick<StackResult, "runId">): StackResult {
  return {
    stack: "web",
    engine: "pulumi",
    verdict: "in-sync",
    commit: "0123456789abcdef0123456789abcdef01234567",
    changes: [],
    startedAt: "2026-05-01T10:00:00.000Z",
    finishedAt: "2026-05-01T10:00:05.250Z",
    durationMs: 5250,
    ...overrides,
  };
}

const driftChange: ResourceChange = {
  kind: "drift",
  address: "urn:pulumi:dev::web::aws:s3/bucket:Bucket::assets",
  type: "aws:s3/bucket:Bucket",
  action: "update",
  properties: [
    { path: "tags.env", desired: "prod", actual: "staging" },
    { path: "versioning", desired: { enabled: true, mfaDelete: null }, actual: null },
    { path: "rules", desired: [{ port: 443, cidrs: ["10.0.0.0/8"] }, { port: 80, cidrs: [] }], actual: [] },
    { path: "replicas", desired: 3, actual: 2.5 },
    { path: "public", desired: false, actual: true },
    { path: "content", desired: "[secret]", actual: "line 1\nline \"2\" ünïcödé" },
  ],
};

const pendingChange: ResourceChange = {
  kind: "pending",
  address: "urn:pulumi:dev::web::aws:s3/bucket:Bucket::logs",
  type: "aws:s3/bucket:Bucket",
  action: "create",
  properties: [],
};

const deletion: ResourceChange = {
  kind: "drift",
  address: "local_file.readme",
  type: "local_file",
  action: "delete",
  properties: [{ path: "content", desired: "hello", actual: null }],
};

describe("openSqliteStore", () => {
  it("opens a database read-only beside a writer: reads what it wrote, writes nothing, migrates nothing", () => {
    const file = join(tempDir("driftwatch-store-"), "history.db");
    const writer = openSqliteStore(file);
    try {
      writer.recordRun(result({ runId: "r1", changes: [deletion] }));
      const reader = openSqliteStore(file, { readOnly: true });
      try {
        expect(reader.getRun("r1")?.changes).toEqual([deletion]);
        expect(() => reader.recordRun(result({ runId: "r2" }))).toThrow(StoreWriteError);
        writer.recordRun(result({ runId: "r3" }));
        expect(reader.listRuns().map((r) => r.runId).sort()).toEqual(["r1", "r3"]);
      } finally {
        reader.close();
      }
    } finally {
      writer.close();
    }
    const older = join(tempDir("driftwatch-store-"), "older.db");
    openSqliteStore(older).close();
    const db = new DatabaseSync(older);
    db.exec("DELETE FROM schema_migrations WHERE version > 3"); // as a Driftwatch of three migrations left it
    db.close();
    expect(() => openSqliteStore(older, { readOnly: true })).toThrow(/its schema is version 3, not \d+ \(open it for writing once to migrate it\)/);
  });

  it("creates the parent directory, enables WAL and foreign keys, and applies every migration", () => {
    const file = join(tempDir("driftwatch-store-"), "nested", "deeper", "history.db");
    withStore(file, () => {
      expect(existsSync(file)).toBe(true);
    });
    const db = new DatabaseSync(file);
    try {
      expect(db.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
      const versions = db.prepare("SELECT version, name FROM schema_migrations ORDER BY version").all();
      expect(versions).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
      const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
      expect(indexes.map((r) => r.name)).toEqual(expect.arrayContaining(["runs_stack_started_at", "resource_changes_run_id"]));
    } finally {
      db.close();
    }
  });

  it("reopening an up-to-date database applies no migration twice and keeps the data", () => {
    const { file, store } = storeIn(tempDir("driftwatch-store-"));
    store.recordRun(result({ runId: "run-1", verdict: "drifted", changes: [driftChange] }));
    store.close();
    const appliedBefore = new DatabaseSync(file);
    const rowsBefore = appliedBefore.prepare("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").all();
    appliedBefore.close();

    withStore(file, (reopened) => {
      expect(reopened.getRun("run-1")?.changes).toEqual([driftChange]);
      expect(reopened.listRuns().map((r) => r.runId)).toEqual(["run-1"]);
    });
    withStore(file, () => undefined);

    const db = new DatabaseSync(file);
    try {
      const rowsAfter = db.prepare("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").all();
      expect(rowsAfter).toEqual(rowsBefore);
      expect(rowsAfter).toHaveLength(MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it("applies only the migrations a database lacks, in order", () => {
    const file = join(tempDir("driftwatch-store-"), "history.db");
    withStore(file, (store) => store.recordRun(result({ runId: "run-1" })));
    const next: Migration = { version: latestVersion() + 1, name: "notes", sql: "ALTER TABLE runs ADD COLUMN note TEXT" };
    const store = openSqliteStore(file, { migrations: [...MIGRATIONS, next] });
    store.close();
    const db = new DatabaseSync(file);
    try {
      expect(db.prepare("SELECT version FROM schema_migrations ORDER BY version").all().map((r) => r.version)).toEqual([
        ...MIGRATIONS.map((m) => m.version),
        next.version,
      ]);
      expect(db.prepare("SELECT run_id, note FROM runs").all()).toEqual([{ run_id: "run-1", note: null }]);
    } finally {
      db.close();
    }
  });

  it("rolls a failing migration back entirely and reports a StoreError", () => {
    const file = join(tempDir("driftwatch-store-"), "history.db");
    withStore(file, () => undefined);
    const broken: Migration = { version: latestVersion() + 1, name: "broken", sql: "CREATE TABLE half (x INTEGER); THIS IS NOT SQL" };
    expect(() => openSqliteStore(file, { migrations: [...MIGRATIONS, broken] })).toThrow(StoreError);
    const db = new DatabaseSync(file);
    try {
      expect(db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get()).toEqual({ v: latestVersion() });
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
    } finally {
      db.close();
    }
  });

  it("refuses a database from a newer Driftwatch with StoreSchemaError and leaves the file untouched", () => {
    const file = join(tempDir("driftwatch-store-"), "history.db");
    withStore(file, (store) => store.recordRun(result({ runId: "run-1" })));
    const future = new DatabaseSync(file);
    future.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from the future', '2030-01-01T00:00:00.000Z')").run();
    future.close();
    const before = readFileSync(file);
    const mtimeBefore = statSync(file).mtimeMs;

    let caught: unknown;
    try {
      openSqliteStore(file);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoreSchemaError);
    const error = caught as StoreSchemaError;
    expect(error.message).toBe(`database at ${file} has schema version 999, this Driftwatch knows up to ${latestVersion()}`);
    expect(error.databaseVersion).toBe(999);
    expect(error.knownVersion).toBe(latestVersion());
    expect(error.file).toBe(file);

    expect(readFileSync(file).equals(before)).toBe(true);
    expect(statSync(file).mtimeMs).toBe(mtimeBefore);
  });

  it("refuses a newer database that is not in WAL mode without switching its journal mode", () => {
    const file = join(tempDir("driftwatch-store-"), "history.db");
    const future = new DatabaseSync(file);
    future.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)");
    future.exec("INSERT INTO schema_migrations VALUES (999, 'from the future', '2030-01-01T00:00:00.000Z')");
    future.close();
    const before = readFileSync(file);

    expect(() => openSqliteStore(file)).toThrow(StoreSchemaError);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it("reports a file that is not a database as a StoreError", () => {
    const file = join(tempDir("driftwatch-store-"), "history.db");
    writeFileSync(file, "this is not a SQLite database, just text long enough to fill a header.....\n".repeat(10));
    expect(() => openSqliteStore(file)).toThrow(StoreError);
  });
});

describe("recordRun and getRun", () => {
  it("reads back a run with its changes deep-equal, nested property values included", () => {
    const { store } = storeIn(tempDir("driftwatch-store-"));
    try {
      const run = result({
        runId: "run-1",
        verdict: "drifted+pending",
        staleSource: { error: "fetch https://***@git.example.com/infra.git: connection refused" },
        changes: [driftChange, pendingChange, deletion],
      });
      store.recordRun(run);
      expect(store.getRun("run-1")).toStrictEqual(run);
    } finally {
      store.close();
    }
  });

  it("reads back an error run without commit or changes, with absent fields absent", () => {
    const { store } = storeIn(tempDir("driftwatch-store-"));
    try {
      const { commit: _commit, ...noCommit } = result({ runId: "run-err" });
      const run: StackResult = {
        ...noCommit,
        verdict: "error",
        error: { kind: "SourceUnreachableError", message: "could not fetch origin" },
      };
      store.recordRun(run);
      const back = store.getRun("run-err");
      expect(back).toStrictEqual(run);
      expect(back).not.toHaveProperty("commit");
      expect(back).not.toHaveProperty("staleSource");
    } finally {
      store.close();
    }
  });

  it("round-trips property values of every JSON type, and stores undefined desired/actual as null", () => {
    const { store } = storeIn(tempDir("driftwatch-store-"));
    try {
      const values: unknown[] = [null, "", "text", 0, -1.5, 1e300, true, false, [], {}, [null, [1, "a"]], { a: { b: [{ c: null }] }, "odd key": 1 }];
      const change: ResourceChange = {
        kind: "drift",
        address: "a",
        type: "t",
        action: "update",
        properties: values.map((v, i) => ({ path: `p${i}`, desired: v, actual: values[values.length - 1 - i] })),
      };
      const withUndefined: ResourceChange = {
        ...change,
        address: "b",
        properties: [
          { path: "gone", desired: "was here", actual: undefined },
          { path: "new", desired: undefined, actual: "appeared" },
        ],
      };
      store.recordRun(result({ runId: "run-1", verdict: "drifted", changes: [change, withUndefined] }));
      const back = store.getRun("run-1");
      expect(back?.changes[0]).toStrictEqual(change);
      expect(back?.changes[1]?.properties).toStrictEqual([
        { path: "gone", desired: "was here", actual: null },
        { path: "new", desired: null, actual: "appeared" },
      ]);
    } finally {
      store.close();
    }
  });

  it("stores values as given: no redaction in the store", () => {
    const { store } = storeIn(tempDir("driftwatch-store-"));
    try {
      const change: ResourceChange = { ...deletion, properties: [{ path: "password", desired: "hunter2-unmasked", actual: null }] };
      store.recordRun(result({ runId: "run-1", verdict: "drifted", changes: [change] }));
      expect(store.getRun("run-1")?.changes[0]?.properties[0]?.desired).toBe("hunter2-unmasked");
    } finally {
      store.close();
    }
  });

  it("returns undefined for an unknown run id", () => {
    const { store } = storeIn(tempDir("driftwatch-store-"));
    try {
      store.recordRun(result({ runId: "run-1" }));
      expect(store.getRun("no-such-run")).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it("is atomic: an unserializable property value (BigInt) leaves no half run behind", () => {
    const { file, store } = storeIn(tempDir("driftwatch-store-"));
    try {
      const bad: ResourceChange = { ...deletion, address: "bad", properties: [{ path: "size", desired: { bytes: 10n }, actual: 1 }] };
      // The bad change comes after a good one, so the run row and one change row were already inserted.
      const run = result({ runId: "run-half", verdict: "drifted", changes: [driftChange, bad] });
      expect(() => store.recordRun(run)).toThrow(StoreWriteError);
      expect(() => store.recordRun(run)).toThrow(/run-half.*bigint/);
      expect(store.getRun("run-half")).toBeUndefined();
      expect(store.listRuns()).toEqual([]);

      // The store is still usable afterwards.
      store.recordRun(result({ runId: "run-ok" }));
      expect(store.listRuns().map((r) => r.runId)).toEqual(["run-ok"]);
    } finally {
      store.close();
    }
    const db = new DatabaseSync(file);
    try {
      expect(db.prepare("SELECT COUNT(*) AS n FROM resource_changes").get()).toEqual({ n: 0 });
      expect(db.prepare("SELECT run_id FROM runs").all()).toEqual([{ run_id: "run-ok" }]);
    } finally {
      db.close();
    }
  });

  it("rejects a duplicate run id without touching the recorded run", () => {
    const { store } = storeIn(tempDir("driftwatch-store-"));
    try {
      const first = result({ runId: "run-1", verdict: "drifted", changes: [driftChange] });
      store.recordRun(first);
      expect(() => store.recordRun(result({ runId: "run-1", changes: [pendingChange] }))).toThrow(StoreWriteError);
      expect(store.getRun("run-1")).toStrictEqual(first);
    } finally {
      store.close();
    }
  });

  it("deletes a run's changes with the run (ON DELETE CASCADE, foreign keys on)", () => {
    const { file, store } = storeIn(tempDir("driftwatch-store-"));
    store.recordRun(result({ runId: "run-1", verdict: "drifted", changes: [driftChange, deletion] }));
    store.close();
    const db = new DatabaseSync(file);
    try {
      db.exec("PRAGMA foreign_keys = ON");
      db.exec("DELETE FROM runs WHERE run_id = 'run-1'");
      expect(db.prepare("SELECT COUNT(*) AS n FROM resource_changes").get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });
});

describe("engine state", () => {
  it("keeps one record per stack and engine, replaced by the next; runs read back their trigger and who changed a property", () => {
    const { store } = storeIn(tempDir("driftwatch-store-"));
    try {
      expect(store.engineState("web", "kubernetes")).toBeUndefined();
      store.saveEngineState({ stack: "web", engine: "kubernetes", commit: "c1", value: '{"version":1,"objects":[]}', updatedAt: "2026-11-27T10:00:00.000Z" });
      store.saveEngineState({ stack: "web", engine: "kubernetes", value: '{"version":1,"objects":[1]}', updatedAt: "2026-11-27T11:00:00.000Z" });
      expect(store.engineState("web", "kubernetes")).toEqual({ stack: "web", engine: "kubernetes", value: '{"version":1,"objects":[1]}', updatedAt: "2026-11-27T11:00:00.000Z" });
      expect(store.engineState("web", "terraform")).toBeUndefined();
      const changedBy = { manager: "kubectl-edit", operation: "Update", time: "2026-11-27T10:59:00Z" };
      store.recordRun(result({ runId: "k0", trigger: "webhook" }));
      expect(store.getRun("k0")!.trigger).toBe("webhook");
      expect(store.listRuns({ stack: store.getRun("k0")!.stack })[0]!.trigger).toBe("webhook");
      store.recordRun(result({ runId: "k1", changes: [{ kind: "drift", address: "ConfigMap/web/a", type: "ConfigMap", action: "update", properties: [{ path: "data.x", desired: "1", actual: "2", changedBy }] }] }));
      expect(store.getRun("k1")!.changes[0]!.properties).toEqual([{ path: "data.x", desired: "1", actual: "2", changedBy }]);
      const moved: ResourceChange = { kind: "pending", address: "aws_s3_bucket.logs", type: "aws_s3_bucket", action: "move", properties: [], previousAddress: "aws_s3_bucket.old" };
      const forgotten: ResourceChange = { kind: "pending", address: "aws_s3_bucket.kept", type: "aws_s3_bucket", action: "forget", properties: [] };
      store.recordRun(result({ runId: "k2", changes: [moved, forgotten] }));
      expect(store.getRun("k2")!.changes).toEqual([moved, forgotten]);
    } finally {
      store.close();
    }
  });
});

describe("listRuns", () => {
  function seed(store: Store): void {
    // Recorded out of order on purpose: the list is ordered by startedAt, not by insertion.
    store.recordRun(result({ runId: "web-2", stack: "web", startedAt: "2026-05-01T12:00:00.000Z", verdict: "drifted", changes: [driftChange, deletion] }));
    store.recordRun(result({ runId: "db-1", stack: "db", engine: "terraform", startedAt: "2026-05-01T11:00:00.000Z", verdict: "pending", changes: [pendingChange] }));
    store.recordRun(result({ runId: "web-1", stack: "web", startedAt: "2026-05-01T10:00:00.000Z" }));
    store.recordRun(result({ runId: "web-3", stack: "web", startedAt: "2026-05-01T13:00:00.000Z", verdict: "drifted+pending", changes: [driftChange, pendingChange] }));
    store.recordRun(result({ runId: "db-2", stack: "db", engine: "terraform", startedAt: "2026-05-01T14:00:00.000Z" }));
  }

  it("lists newest first with drift and pending counts", () => {
    const { store } = storeIn(tempDir("driftwatch-store-"));
    try {
      seed(store);
      const runs = store.listRuns();
      expect(runs.map((r) => r.runId)).toEqual(["db-2", "web-3", "web-2", "db-1", "web-1"]);
      expect(runs.find((r) => r.runId === "web-3")).toStrictEqual({
        runId: "web-3",
        stack: "web",
        engine: "pulumi",
        verdict: "drifted+pending",
        commit: "0123456789abcdef0123456789abcdef01234567",
        driftCount: 1,
        pendingCount: 1,
        startedAt: "2026-05-01T13:00:00.000Z",
        finishedAt: "2026-05-01T10:00:05.250Z",
        durationMs: 5250,
      });
      expect(runs.find((r) => r.runId === "web-2")).toMatchObject({ driftCount: 2, pendingCount: 0 });
    } finally {
      store.close();
    }
  });

  it("filters by stack and honours the limit", () => {
    const { store } = storeIn(tempDir("driftwatch-store-"));
    try {
      seed(store);
      expect(store.listRuns({ stack: "web" }).map((r) => r.runId)).toEqual(["web-3", "web-2", "web-1"]);
      expect(store.listRuns({ stack: "web", limit: 2 }).map((r) => r.runId)).toEqual(["web-3", "web-2"]);
      expect(store.listRuns({ limit: 1 }).map((r) => r.runId)).toEqual(["db-2"]);
      expect(store.listRuns({ limit: 0 })).toEqual([]);
      expect(store.listRuns({ stack: "nope" })).toEqual([]);
      expect(() => store.listRuns({ limit: -1 })).toThrow(RangeError);
      expect(() => store.listRuns({ limit: 1.5 })).toThrow(RangeError);
    } finally {
      store.close();
    }
  });

  it("returns at most 50 runs by default; runs started in the same instant list the later-recorded first", () => {
    const { store } = storeIn(tempDir("driftwatch-store-"));
    try {
      for (let i = 0; i < 60; i++) store.recordRun(result({ runId: `run-${i}` }));
      const runs = store.listRuns();
      expect(runs).toHaveLength(50);
      expect(runs[0]?.runId).toBe("run-59");
      expect(runs[49]?.runId).toBe("run-10");
    } finally {
      store.close();
    }
  });

  it("carries error and stale source in the summary", () => {
    const { store } = storeIn(tempDir("driftwatch-store-"));
    try {
      store.recordRun(result({ runId: "r", verdict: "error", error: { kind: "TimeoutError", message: "took longer than 600s" }, staleSource: { error: "unreachable" } }));
      expect(store.listRuns()[0]).toMatchObject({ verdict: "error", error: { kind: "TimeoutError", message: "took longer than 600s" }, staleSource: { error: "unreachable" } });
    } finally {
      store.close();
    }
  });

  it("close is idempotent", () => {
    const { store } = storeIn(tempDir("driftwatch-store-"));
    store.close();
    expect(() => store.close()).not.toThrow();
  });
});

describe("MIGRATIONS", () => {
  it("run 1, 2, 3, … in order with names", () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    for (const m of MIGRATIONS) expect(m.name).not.toBe("");
  });
});

describe("drift history", () => {
  it("lists which resources finished runs found drifting, oldest first, from the last run before `since`", () => {
    withStore(join(tempDir(), "history.db"), (store) => {
      const at = (minute: number) => `2026-05-01T10:${String(minute).padStart(2, "0")}:00.000Z`;
      store.recordRun(result({ runId: "old", startedAt: at(1), verdict: "drifted", changes: [deletion] }));
      store.recordRun(result({ runId: "before", startedAt: at(2), verdict: "drifted", changes: [driftChange, pendingChange] }));
      store.recordRun(result({ runId: "failed", startedAt: at(3), verdict: "error", error: { kind: "ProgramError", message: "boom" } }));
      store.recordRun(result({ runId: "clean", startedAt: at(4) }));
      store.recordRun(result({ runId: "again", startedAt: at(5), verdict: "drifted", changes: [deletion, driftChange] }));
      store.recordRun(result({ runId: "other-stack", stack: "db", startedAt: at(6), verdict: "drifted", changes: [deletion] }));
      store.startRun({ runId: "running", stack: "web", engine: "pulumi", startedAt: at(7) });
      const both = [deletion.address, driftChange.address];
      expect(store.driftHistory("web", at(3), both)).toEqual([
        { runId: "before", startedAt: at(2), addresses: [driftChange.address] },
        { runId: "clean", startedAt: at(4), addresses: [] },
        { runId: "again", startedAt: at(5), addresses: both },
      ]);
      // Only the resources asked about.
      expect(store.driftHistory("web", at(3), [deletion.address]).map((r) => r.addresses)).toEqual([[], [], [deletion.address]]);
      expect(store.driftHistory("web", at(9), both)).toEqual([{ runId: "again", startedAt: at(5), addresses: both }]);
      expect(store.driftHistory("nothing", at(0), both)).toEqual([]);
    });
  });
});

describe("runs left running", () => {
  it("are interrupted only when their process is gone, and a run taken for dead still records its result", () => {
    withStore(join(tempDir(), "history.db"), (store) => {
      store.startRun({ runId: "mine", stack: "web", engine: "pulumi", startedAt: "2026-05-01T10:00:00.000Z" });
      store.startRun({ runId: "theirs", stack: "db", engine: "terraform", startedAt: "2026-05-01T10:00:01.000Z" });
      const seen: string[] = [];
      expect(store.interruptRunningRuns("stopped", (process) => (seen.push(process), false))).toEqual([]);
      expect(seen).toEqual([processId(), processId()]); // noted with the process that runs them
      expect(store.interruptRunningRuns("stopped", () => true).map((r) => r.runId).sort()).toEqual(["mine", "theirs"]);
      expect(store.getRun("mine")).toMatchObject({ verdict: "error", error: { kind: "InterruptedError", message: "stopped" } });
      store.recordRun(result({ runId: "mine", verdict: "drifted", changes: [driftChange] }));
      expect(store.getRun("mine")).toMatchObject({ verdict: "drifted" });
      expect(store.listRuns().map((r) => r.runId).sort()).toEqual(["mine", "theirs"]);
    });
  });
});
