// The run history store on both databases (SQLite and a real PostgreSQL): the same behaviour from the same
// statements. What only one of them has (SQLite's file, WAL and read-only mode) is tested in sqlite/sqlite-store.spec.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeBackends, type FreshDatabase } from "../../../test/support/store-backends.ts";
import type { ResourceChange, StackResult } from "../../core/types.ts";
import type { Store } from "../api.ts";
import { StoreError, StoreSchemaError, StoreWriteError } from "../errors.ts";
import { processId } from "../../core/liveness.ts";
import { latestVersion, MIGRATIONS } from "./migrations.ts";
import type { Migration } from "./migrations.ts";


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

const backends = storeBackends();
beforeAll(() => backends.start());
afterAll(() => backends.stop());

/** Runs `fn` on a store over a fresh database and closes it, whatever happens. */
async function withStore<T>(db: FreshDatabase, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await db.open();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

describe.each(backends.list)("the store on $name", (backend) => {
  const fresh = () => backend.fresh();

  describe("migrations", () => {
    it("applies every migration once, in order, and reopening keeps the data and applies none again", async () => {
      const db = await fresh();
      await withStore(db, (store) => store.recordRun(result({ runId: "run-1", verdict: "drifted", changes: [driftChange] })));
      const before = await db.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
      expect(before.map((r) => ({ version: Number(r.version), name: r.name }))).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
      await withStore(db, async (reopened) => {
        expect((await reopened.getRun("run-1"))?.changes).toEqual([driftChange]);
        expect((await reopened.listRuns()).map((r) => r.runId)).toEqual(["run-1"]);
      });
      expect(await db.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")).toEqual(before);
    });

    it("applies only the migrations a database lacks", async () => {
      const db = await fresh();
      await withStore(db, (store) => store.recordRun(result({ runId: "run-1" })));
      const next: Migration = { version: latestVersion() + 1, name: "notes", sql: "ALTER TABLE runs ADD COLUMN note TEXT" };
      await (await db.open({ migrations: [...MIGRATIONS, next] })).close();
      expect((await db.query("SELECT version FROM schema_migrations ORDER BY version")).map((r) => Number(r.version))).toEqual([...MIGRATIONS.map((m) => m.version), next.version]);
      expect(await db.query("SELECT run_id, note FROM runs")).toEqual([{ run_id: "run-1", note: null }]);
    });

    it("rolls a failing migration back entirely and reports a StoreError", async () => {
      const db = await fresh();
      await (await db.open()).close();
      const broken: Migration = { version: latestVersion() + 1, name: "broken", sql: "CREATE TABLE half (x INTEGER); THIS IS NOT SQL" };
      await expect(db.open({ migrations: [...MIGRATIONS, broken] })).rejects.toThrow(StoreError);
      expect((await db.query("SELECT MAX(version) AS v FROM schema_migrations")).map((r) => Number(r.v))).toEqual([latestVersion()]);
      await expect(db.query("SELECT * FROM half")).rejects.toThrow(/half/);
    });

    it("refuses a database from a newer Driftwatch with StoreSchemaError, writing nothing", async () => {
      const db = await fresh();
      await withStore(db, (store) => store.recordRun(result({ runId: "run-1" })));
      await db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from the future', '2030-01-01T00:00:00.000Z')");
      const error = await db.open().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(StoreSchemaError);
      expect(error).toMatchObject({ databaseVersion: 999, knownVersion: latestVersion() });
      expect((error as StoreSchemaError).message).toMatch(/has schema version 999, this Driftwatch knows up to \d+$/);
      expect((await db.query("SELECT COUNT(*) AS n FROM schema_migrations")).map((r) => Number(r.n))).toEqual([MIGRATIONS.length + 1]);
    });

    it("migrates once when several processes open a new database at the same time", async () => {
      const db = await fresh();
      const stores = await Promise.all([db.open(), db.open(), db.open()]);
      await Promise.all(stores.map((s) => s.close()));
      expect((await db.query("SELECT version FROM schema_migrations ORDER BY version")).map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
    });
  });

  describe("recordRun and getRun", () => {
    it("reads back a run with its changes deep-equal, nested property values included", async () => {
      await withStore(await fresh(), async (store) => {
        const run = result({
          runId: "run-1",
          verdict: "drifted+pending",
          staleSource: { error: "fetch https://***@git.example.com/infra.git: connection refused" },
          changes: [driftChange, pendingChange, deletion],
        });
        await store.recordRun(run);
        expect(await store.getRun("run-1")).toStrictEqual(run);
      });
    });

    it("reads back an error run without commit or changes, with absent fields absent", async () => {
      await withStore(await fresh(), async (store) => {
        const { commit: _commit, ...noCommit } = result({ runId: "run-err" });
        const run: StackResult = { ...noCommit, verdict: "error", error: { kind: "SourceUnreachableError", message: "could not fetch origin" } };
        await store.recordRun(run);
        const back = await store.getRun("run-err");
        expect(back).toStrictEqual(run);
        expect(back).not.toHaveProperty("commit");
        expect(back).not.toHaveProperty("staleSource");
      });
    });

    it("round-trips property values of every JSON type, and stores undefined desired/actual as null", async () => {
      await withStore(await fresh(), async (store) => {
        const values: unknown[] = [null, "", "text", 0, -1.5, 1e300, true, false, [], {}, [null, [1, "a"]], { a: { b: [{ c: null }] }, "odd key": 1 }, "quote ' and ? and $1"];
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
        await store.recordRun(result({ runId: "run-1", verdict: "drifted", changes: [change, withUndefined] }));
        const back = await store.getRun("run-1");
        expect(back?.changes[0]).toStrictEqual(change);
        expect(back?.changes[1]?.properties).toStrictEqual([
          { path: "gone", desired: "was here", actual: null },
          { path: "new", desired: null, actual: "appeared" },
        ]);
      });
    });

    it("stores values as given (no redaction in the store) and returns undefined for an unknown run id", async () => {
      await withStore(await fresh(), async (store) => {
        const change: ResourceChange = { ...deletion, properties: [{ path: "password", desired: "hunter2-unmasked", actual: null }] };
        await store.recordRun(result({ runId: "run-1", verdict: "drifted", changes: [change] }));
        expect((await store.getRun("run-1"))?.changes[0]?.properties[0]?.desired).toBe("hunter2-unmasked");
        expect(await store.getRun("no-such-run")).toBeUndefined();
      });
    });

    it("is atomic: an unserializable property value (BigInt) leaves no half run behind", async () => {
      const db = await fresh();
      await withStore(db, async (store) => {
        const bad: ResourceChange = { ...deletion, address: "bad", properties: [{ path: "size", desired: { bytes: 10n }, actual: 1 }] };
        // The bad change comes after a good one, so the run row and one change row were already inserted.
        const run = result({ runId: "run-half", verdict: "drifted", changes: [driftChange, bad] });
        await expect(store.recordRun(run)).rejects.toThrow(StoreWriteError);
        await expect(store.recordRun(run)).rejects.toThrow(/run-half.*bigint/);
        expect(await store.getRun("run-half")).toBeUndefined();
        expect(await store.listRuns()).toEqual([]);
        // The store is still usable afterwards.
        await store.recordRun(result({ runId: "run-ok" }));
        expect((await store.listRuns()).map((r) => r.runId)).toEqual(["run-ok"]);
      });
      expect((await db.query("SELECT COUNT(*) AS n FROM resource_changes")).map((r) => Number(r.n))).toEqual([0]);
      expect(await db.query("SELECT run_id FROM runs")).toEqual([{ run_id: "run-ok" }]);
    });

    it("rejects a duplicate run id without touching the recorded run", async () => {
      await withStore(await fresh(), async (store) => {
        const first = result({ runId: "run-1", verdict: "drifted", changes: [driftChange] });
        await store.recordRun(first);
        await expect(store.recordRun(result({ runId: "run-1", changes: [pendingChange] }))).rejects.toThrow(StoreWriteError);
        expect(await store.getRun("run-1")).toStrictEqual(first);
      });
    });

    it("deletes a run's changes with the run (ON DELETE CASCADE)", async () => {
      const db = await fresh();
      await withStore(db, (store) => store.recordRun(result({ runId: "run-1", verdict: "drifted", changes: [driftChange, deletion] })));
      await db.query("DELETE FROM runs WHERE run_id = 'run-1'");
      expect((await db.query("SELECT COUNT(*) AS n FROM resource_changes")).map((r) => Number(r.n))).toEqual([0]);
    });
  });

  describe("engine state", () => {
    it("keeps one record per stack and engine, replaced by the next; runs read back their trigger and who changed a property", async () => {
      await withStore(await fresh(), async (store) => {
        expect(await store.engineState("web", "kubernetes")).toBeUndefined();
        await store.saveEngineState({ stack: "web", engine: "kubernetes", commit: "c1", value: '{"version":1,"objects":[]}', updatedAt: "2026-11-27T10:00:00.000Z" });
        await store.saveEngineState({ stack: "web", engine: "kubernetes", value: '{"version":1,"objects":[1]}', updatedAt: "2026-11-27T11:00:00.000Z" });
        expect(await store.engineState("web", "kubernetes")).toEqual({ stack: "web", engine: "kubernetes", value: '{"version":1,"objects":[1]}', updatedAt: "2026-11-27T11:00:00.000Z" });
        expect(await store.engineState("web", "terraform")).toBeUndefined();
        const changedBy = { manager: "kubectl-edit", operation: "Update", time: "2026-11-27T10:59:00Z" };
        await store.recordRun(result({ runId: "k0", trigger: "webhook" }));
        expect((await store.getRun("k0"))!.trigger).toBe("webhook");
        expect((await store.listRuns({ stack: "web" }))[0]!.trigger).toBe("webhook");
        await store.recordRun(
          result({ runId: "k1", changes: [{ kind: "drift", address: "ConfigMap/web/a", type: "ConfigMap", action: "update", properties: [{ path: "data.x", desired: "1", actual: "2", changedBy }] }] }),
        );
        expect((await store.getRun("k1"))!.changes[0]!.properties).toEqual([{ path: "data.x", desired: "1", actual: "2", changedBy }]);
        const moved: ResourceChange = { kind: "pending", address: "aws_s3_bucket.logs", type: "aws_s3_bucket", action: "move", properties: [], previousAddress: "aws_s3_bucket.old" };
        const forgotten: ResourceChange = { kind: "pending", address: "aws_s3_bucket.kept", type: "aws_s3_bucket", action: "forget", properties: [] };
        await store.recordRun(result({ runId: "k2", changes: [moved, forgotten] }));
        expect((await store.getRun("k2"))!.changes).toEqual([moved, forgotten]);
      });
    });
  });

  describe("listRuns", () => {
    async function seed(store: Store): Promise<void> {
      // Recorded out of order on purpose: the list is ordered by startedAt, not by insertion.
      await store.recordRun(result({ runId: "web-2", stack: "web", startedAt: "2026-05-01T12:00:00.000Z", verdict: "drifted", changes: [driftChange, deletion] }));
      await store.recordRun(result({ runId: "db-1", stack: "db", engine: "terraform", startedAt: "2026-05-01T11:00:00.000Z", verdict: "pending", changes: [pendingChange] }));
      await store.recordRun(result({ runId: "web-1", stack: "web", startedAt: "2026-05-01T10:00:00.000Z" }));
      await store.recordRun(result({ runId: "web-3", stack: "web", startedAt: "2026-05-01T13:00:00.000Z", verdict: "drifted+pending", changes: [driftChange, pendingChange] }));
      await store.recordRun(result({ runId: "db-2", stack: "db", engine: "terraform", startedAt: "2026-05-01T14:00:00.000Z" }));
    }

    it("lists newest first with drift and pending counts; filters by stack, time and limit", async () => {
      await withStore(await fresh(), async (store) => {
        await seed(store);
        const runs = await store.listRuns();
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
        expect((await store.listRuns({ stack: "web" })).map((r) => r.runId)).toEqual(["web-3", "web-2", "web-1"]);
        expect((await store.listRuns({ stack: "web", limit: 2 })).map((r) => r.runId)).toEqual(["web-3", "web-2"]);
        expect((await store.listRuns({ before: "2026-05-01T12:00:00.000Z" })).map((r) => r.runId)).toEqual(["db-1", "web-1"]);
        expect((await store.listRuns({ limit: 1 })).map((r) => r.runId)).toEqual(["db-2"]);
        expect(await store.listRuns({ limit: 0 })).toEqual([]);
        expect(await store.listRuns({ stack: "nope" })).toEqual([]);
        await expect(store.listRuns({ limit: -1 })).rejects.toThrow(RangeError);
        await expect(store.listRuns({ limit: 1.5 })).rejects.toThrow(RangeError);
      });
    });

    it("returns at most 50 runs by default; runs started in the same instant list the later-recorded first", async () => {
      await withStore(await fresh(), async (store) => {
        for (let i = 0; i < 60; i++) await store.recordRun(result({ runId: `run-${i}` }));
        const runs = await store.listRuns();
        expect(runs).toHaveLength(50);
        expect(runs[0]?.runId).toBe("run-59");
        expect(runs[49]?.runId).toBe("run-10");
      });
    });

    it("carries error and stale source in the summary", async () => {
      await withStore(await fresh(), async (store) => {
        await store.recordRun(result({ runId: "r", verdict: "error", error: { kind: "TimeoutError", message: "took longer than 600s" }, staleSource: { error: "unreachable" } }));
        expect((await store.listRuns())[0]).toMatchObject({ verdict: "error", error: { kind: "TimeoutError", message: "took longer than 600s" }, staleSource: { error: "unreachable" } });
      });
    });

    it("close is idempotent", async () => {
      const store = await (await fresh()).open();
      await store.close();
      await expect(store.close()).resolves.toBeUndefined();
    });

    describe("the state of many stacks at once (what /metrics reads)", () => {
      it("latestRuns gives each listed stack's newest finished run, as listRuns would, in one query", async () => {
        await withStore(await fresh(), async (store) => {
          await seed(store);
          // Same instant twice: the later-recorded wins, as in listRuns. A run in progress is not a result yet.
          await store.recordRun(result({ runId: "ops-1", stack: "ops", startedAt: "2026-05-01T09:00:00.000Z", verdict: "drifted", changes: [driftChange] }));
          await store.recordRun(result({ runId: "ops-2", stack: "ops", startedAt: "2026-05-01T09:00:00.000Z", verdict: "error", error: { kind: "TimeoutError", message: "slow" } }));
          await store.startRun({ runId: "web-running", stack: "web", engine: "pulumi", startedAt: "2026-05-01T15:00:00.000Z" });
          await store.startRun({ runId: "new-running", stack: "new", engine: "pulumi", startedAt: "2026-05-01T15:00:00.000Z" });

          const latest = await store.latestRuns(["web", "db", "ops", "new", "unknown", "web"]);
          expect(latest.map((r) => r.runId)).toEqual(["db-2", "ops-2", "web-3"]); // by stack; never finished: absent
          for (const stack of ["web", "db", "ops"]) {
            expect(latest.find((r) => r.stack === stack)).toStrictEqual((await store.listRuns({ stack, limit: 1 }))[0]);
          }
          expect(latest.find((r) => r.stack === "web")).toMatchObject({ verdict: "drifted+pending", driftCount: 1, pendingCount: 1 });
          expect((await store.latestRuns(["db"])).map((r) => r.runId)).toEqual(["db-2"]);
          expect(await store.latestRuns([])).toEqual([]);

          // Many stacks are one statement with one parameter, not one per stack.
          const many = Array.from({ length: 2500 }, (_, i) => `stack-${i}`);
          for (const i of [0, 1234, 2499]) await store.recordRun(result({ runId: `many-${i}`, stack: `stack-${i}` }));
          expect((await store.latestRuns(many)).map((r) => r.runId)).toEqual(["many-0", "many-1234", "many-2499"]);
        });
      });

      it("openEpisodeSummaries gives each open episode in brief, by stack; closed ones are left out", async () => {
        await withStore(await fresh(), async (store) => {
          expect(await store.openEpisodeSummaries()).toEqual([]);
          const open = (stack: string, openedAt: string) =>
            store.applyAlertTransition({
              stack,
              episode: { op: "open", episode: { stack, openedAt, openedRunId: `${stack}-1`, lastRunId: `${stack}-1`, lastSeenAt: openedAt, seenCount: 1, fingerprint: "fp", changes: [driftChange] } },
              events: [],
              notifiers: [],
            });
          await open("web", "2026-05-01T10:00:00.000Z");
          await open("db", "2026-05-01T11:00:00.000Z");
          await open("ops", "2026-05-01T12:00:00.000Z");
          const ops = (await store.openEpisode("ops"))!;
          await store.applyAlertTransition({ stack: "ops", episode: { op: "close", episode: { ...ops, closedAt: "2026-05-01T13:00:00.000Z" } }, events: [], notifiers: [] });
          expect(await store.openEpisodeSummaries()).toEqual([
            { stack: "db", openedAt: "2026-05-01T11:00:00.000Z", seenCount: 1 },
            { stack: "web", openedAt: "2026-05-01T10:00:00.000Z", seenCount: 1 },
          ]);
        });
      });
    });
  });

  describe("drift history", () => {
    it("lists which resources finished runs found drifting, oldest first, from the last run before `since`", async () => {
      await withStore(await fresh(), async (store) => {
        const at = (minute: number) => `2026-05-01T10:${String(minute).padStart(2, "0")}:00.000Z`;
        await store.recordRun(result({ runId: "old", startedAt: at(1), verdict: "drifted", changes: [deletion] }));
        await store.recordRun(result({ runId: "before", startedAt: at(2), verdict: "drifted", changes: [driftChange, pendingChange] }));
        await store.recordRun(result({ runId: "failed", startedAt: at(3), verdict: "error", error: { kind: "ProgramError", message: "boom" } }));
        await store.recordRun(result({ runId: "clean", startedAt: at(4) }));
        await store.recordRun(result({ runId: "again", startedAt: at(5), verdict: "drifted", changes: [deletion, driftChange] }));
        await store.recordRun(result({ runId: "other-stack", stack: "db", startedAt: at(6), verdict: "drifted", changes: [deletion] }));
        await store.startRun({ runId: "running", stack: "web", engine: "pulumi", startedAt: at(7) });
        const both = [deletion.address, driftChange.address];
        expect(await store.driftHistory("web", at(3), both)).toEqual([
          { runId: "before", startedAt: at(2), addresses: [driftChange.address] },
          { runId: "clean", startedAt: at(4), addresses: [] },
          { runId: "again", startedAt: at(5), addresses: both },
        ]);
        // Only the resources asked about.
        expect((await store.driftHistory("web", at(3), [deletion.address])).map((r) => r.addresses)).toEqual([[], [], [deletion.address]]);
        expect(await store.driftHistory("web", at(9), both)).toEqual([{ runId: "again", startedAt: at(5), addresses: both }]);
        expect(await store.driftHistory("nothing", at(0), both)).toEqual([]);
        expect(await store.driftHistory("web", at(3), [])).toHaveLength(3);
      });
    });
  });

  describe("runs left running", () => {
    it("are interrupted only when their process is gone, and a run taken for dead still records its result", async () => {
      await withStore(await fresh(), async (store) => {
        await store.startRun({ runId: "mine", stack: "web", engine: "pulumi", startedAt: "2026-05-01T10:00:00.000Z" });
        await store.startRun({ runId: "theirs", stack: "db", engine: "terraform", startedAt: "2026-05-01T10:00:01.000Z" });
        const seen: string[] = [];
        expect(await store.interruptRunningRuns("stopped", (process) => (seen.push(process), false))).toEqual([]);
        expect(seen).toEqual([processId(), processId()]); // noted with the process that runs them
        expect((await store.interruptRunningRuns("stopped", () => true)).map((r) => r.runId).sort()).toEqual(["mine", "theirs"]);
        const interrupted = await store.getRun("mine");
        expect(interrupted).toMatchObject({ verdict: "error", error: { kind: "InterruptedError", message: "stopped" } });
        expect(interrupted!.durationMs).toBeGreaterThan(0);
        expect(await store.interruptRun("mine", "again")).toBe(false);
        await store.recordRun(result({ runId: "mine", verdict: "drifted", changes: [driftChange] }));
        expect(await store.getRun("mine")).toMatchObject({ verdict: "drifted" });
        expect((await store.listRuns()).map((r) => r.runId).sort()).toEqual(["mine", "theirs"]);
      });
    });
  });
});

describe("MIGRATIONS", () => {
  it("run 1, 2, 3, … in order with names", () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    for (const m of MIGRATIONS) expect(m.name).not.toBe("");
  });
});
