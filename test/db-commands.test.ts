// Moving up from SQLite to PostgreSQL with the real CLI and a real PostgreSQL server: `db copy` carries a populated
// store across whole (runs with their changes, episodes and their outbox, approvals, the audit log, backoff, applies
// in flight, engine state, reports) and refuses a database that is not empty; `db migrate` brings a database to the
// current schema; `database.url` is a secret like any other.
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResourceChange, StackResult } from "../src/core/types.ts";
import type { AlertEvent } from "../src/core/alerts.ts";
import type { Store } from "../src/store/api.ts";
import { openPostgresStore } from "../src/store/postgres/index.ts";
import { latestVersion } from "../src/store/sql/migrations.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";
import { driftwatch } from "./support/cli.ts";
import { type LocalPostgres, startPostgres } from "./support/postgres.ts";
import { tempDir } from "./support/tempdir.ts";

let server: LocalPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());

const change: ResourceChange = {
  kind: "drift",
  address: "local_file.motd",
  type: "local_file",
  action: "update",
  properties: [{ path: "content", desired: "hello", actual: { nested: ["x", 1, null] } }],
};

function run(runId: string, stack: string, startedAt: string, changes: ResourceChange[] = []): StackResult {
  return { runId, stack, engine: "terraform", verdict: changes.length ? "drifted" : "in-sync", commit: "a".repeat(40), trigger: "schedule", changes, startedAt, finishedAt: startedAt, durationMs: 1200 };
}

/** A store with something in every table db copy carries. */
async function populate(store: Store): Promise<void> {
  // Two runs in the same millisecond: the later-recorded one lists first, on both sides.
  await store.recordRun(run("r1", "net", "2026-11-20T10:00:00.000Z"));
  await store.recordRun(run("r2", "net", "2026-11-20T11:00:00.000Z", [change]));
  await store.recordRun(run("r3", "web", "2026-11-20T11:00:00.000Z", [change]));
  await store.startRun({ runId: "r4", stack: "web", engine: "terraform", startedAt: "2026-11-20T12:00:00.000Z" });
  await store.interruptRun("r4", "stopped");
  const subject = { stack: "net", engine: "terraform", runId: "r2", verdict: "drifted" as const, repo: "/r", path: ".", checkedAt: "2026-11-20T11:00:00.000Z" };
  const opened: AlertEvent = { type: "episode-opened", subject, episode: { id: 0, openedAt: subject.checkedAt, seenCount: 1, lastSeenAt: subject.checkedAt }, changes: [change] };
  const episode = { stack: "net", openedAt: subject.checkedAt, openedRunId: "r2", lastRunId: "r2", lastSeenAt: subject.checkedAt, seenCount: 1, fingerprint: "fp", changes: [change] };
  await store.applyAlertTransition({ stack: "net", episode: { op: "open", episode }, failure: { stack: "net", lastAlertAt: subject.checkedAt, lastKind: "TimeoutError", suppressed: 2 }, events: [opened], notifiers: ["log", "slack"] });
  const [logEntry] = await store.pendingAlerts("log");
  await store.markAlertDelivered(logEntry!.id, { thread: { channel: "C1", ts: "1.5" } });
  const guards = [{ guard: "deletes", passed: false, reason: "no deletes" }];
  for (const decision of ["refused", "applied"] as const) {
    await store.appendAudit({ at: "2026-11-20T11:05:00.000Z", stack: "net", runId: "r2", triggeredBy: "schedule", actor: "driftwatch", commit: "a".repeat(40), mode: "auto", guards, decision, durationMs: 10 });
  }
  await store.requestApproval({ id: "ap1", stack: "web", runId: "r3", commit: "a".repeat(40), planFingerprint: "f1", plan: [change], requestedAt: "2026-11-20T11:01:00.000Z", expiresAt: "2099-01-01T00:00:00.000Z" });
  await store.saveRemediationBackoff({ stack: "net", failures: 3, lastFailureAt: "2026-11-20T11:06:00.000Z", nextAttemptAt: "2026-11-20T12:00:00.000Z", needsAttention: true });
  await store.beginApply({ stack: "web", engine: "terraform", holder: "old-host:1:x", runId: "r5", startedAt: "2026-11-20T11:07:00.000Z", entry: { at: "2026-11-20T11:07:00.000Z", stack: "web", runId: "r3", triggeredBy: "schedule", actor: "driftwatch", mode: "auto", guards, decision: "applied", durationMs: 0 } });
  await store.saveEngineState({ stack: "k8s", engine: "kubernetes", commit: "b".repeat(40), value: '{"version":1,"objects":[]}', updatedAt: "2026-11-20T11:08:00.000Z" });
  const digest = { posture: { stacks: 2 } } as never;
  await store.recordReport({ id: "weekly-20261120T1200Z", name: "weekly", tickAt: "2026-11-20T12:00:00.000Z", periodFrom: "2026-11-13T12:00:00.000Z", periodTo: "2026-11-20T12:00:00.000Z", createdAt: "2026-11-20T12:00:01.000Z", digest });
  await store.armReportSchedule("weekly", "2026-11-01T00:00:00.000Z");
}

/** Everything a store answers about its contents, for comparing two stores. */
async function contents(store: Store) {
  const runs = await store.listRuns({ limit: 100 });
  return {
    runs,
    details: await Promise.all(runs.map((r) => store.getRun(r.runId))),
    episodes: await store.episodesOverlapping("2000-01-01T00:00:00.000Z", "2100-01-01T00:00:00.000Z"),
    failure: await store.failureAlertState("net"),
    outbox: await store.pendingAlerts("slack"),
    audit: await store.listAudit(),
    approvals: await store.listApprovals(),
    backoff: await store.remediationBackoff("net"),
    applies: await store.appliesInFlight(),
    engineState: await store.engineState("k8s", "kubernetes"),
    reports: await store.listReports(),
    armed: await store.armReportSchedule("weekly", "2030-01-01T00:00:00.000Z"),
  };
}

function configIn(dir: string, extra = ""): string {
  const file = join(dir, "driftwatch.yaml");
  writeFileSync(file, `dataDir: ./data\n${extra}stacks: []\n`);
  return file;
}

describe("driftwatch db", () => {
  it("copies a populated SQLite store into an empty PostgreSQL database, whole, once", async () => {
    const dir = tempDir("driftwatch-db-");
    const config = configIn(dir);
    const sqlite = await openSqliteStore(join(dir, "data", "driftwatch.db"));
    await populate(sqlite);
    const before = await contents(sqlite);
    await sqlite.close();
    expect(before.runs.map((r) => r.runId)).toEqual(["r4", "r3", "r2", "r1"]);

    const url = await server.createDatabase("copy_target");
    const password = new URL(url).password;
    const copied = await driftwatch(["-c", config, "db", "copy", "--to", url]);
    expect(copied.stderr).toBe("");
    expect(copied.code).toBe(0);
    expect(copied.stdout).toMatch(/^copied \d+ rows from .*driftwatch\.db to postgres:\/\/[^@]*\*\*\*@127\.0\.0\.1:\d+\/copy_target\n/);
    // The re-check run of the apply in flight too, still running: it is what marks the apply interrupted later.
    expect(copied.stdout).toMatch(/ runs +5\n/);
    expect(copied.stdout).toMatch(/ audit_log +2\n/);
    expect(copied.stdout + copied.stderr).not.toContain(password);

    const postgres = await openPostgresStore(url);
    try {
      expect(await contents(postgres)).toEqual(before);
      // New rows are numbered after the copied ones.
      const next = await postgres.appendAudit({ ...before.audit[0]!, id: undefined, at: "2026-11-21T00:00:00.000Z" });
      expect(next).toBeGreaterThan(Math.max(...before.audit.map((e) => e.id!)));
    } finally {
      await postgres.close();
    }

    // A second copy finds the database in use: refused, nothing changed.
    const again = await driftwatch(["-c", config, "db", "copy", "--to", url]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is not empty \(runs holds 5 rows\): db copy fills an empty database only/);
    expect(again.stderr).not.toContain(password);
    const after = await openPostgresStore(url);
    try {
      expect((await after.listRuns({ limit: 100 })).map((r) => r.runId)).toEqual(["r4", "r3", "r2", "r1"]);
      expect(await after.listAudit()).toHaveLength(3);
    } finally {
      await after.close();
    }
  });

  it("copies nothing when the source is missing or the target unreachable, and says so without the password", async () => {
    const dir = tempDir("driftwatch-db-");
    const config = configIn(dir);
    const url = await server.createDatabase("copy_missing");
    const missing = await driftwatch(["-c", config, "db", "copy", "--from", join(dir, "nope.db"), "--to", url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`there is no SQLite database at ${join(dir, "nope.db")}`);

    await (await openSqliteStore(join(dir, "data", "driftwatch.db"))).close();
    const unreachable = "postgres://someone:s3cret-pass@127.0.0.1:1/nothing";
    const refused = await driftwatch(["-c", config, "db", "copy", "--to", unreachable]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/could not copy .* to postgres:\/\/someone:\*\*\*@127\.0\.0\.1:1\/nothing: .*ECONNREFUSED/);
    expect(refused.stderr).not.toContain("s3cret-pass");

    const notPostgres = await driftwatch(["-c", config, "db", "copy", "--to", "mysql://x@y/z"]);
    expect(notPostgres.code).toBe(1);
    expect(notPostgres.stderr).toContain("--to must be a PostgreSQL URL");
  });

  it("db migrate brings the configured PostgreSQL database to the current schema, once", async () => {
    const dir = tempDir("driftwatch-db-");
    const url = await server.createDatabase("migrate_target");
    const config = configIn(dir, "database:\n  url: ${env:DATABASE_URL}\n  poolSize: 3\n");
    const first = await driftwatch(["-c", config, "db", "migrate"], { DATABASE_URL: url });
    expect(first.stderr).toBe("");
    expect(first.stdout).toMatch(new RegExp(`^postgres://[^@]*\\*\\*\\*@127\\.0\\.0\\.1:\\d+/migrate_target: schema version 0 → ${latestVersion()}\\n$`));
    const second = await driftwatch(["-c", config, "db", "migrate"], { DATABASE_URL: url });
    expect(second.stdout).toMatch(new RegExp(`: schema version ${latestVersion()}, up to date\\n$`));
    // The history commands read the same database.
    const history = await driftwatch(["-c", config, "history", "--json"], { DATABASE_URL: url });
    expect(JSON.parse(history.stdout)).toEqual({ runs: [] });
  });

  it("db migrate makes the default SQLite database (privately) when there is none, and says so", async () => {
    const dir = tempDir("driftwatch-db-");
    const config = configIn(dir);
    const file = join(dir, "data", "driftwatch.db");
    const first = await driftwatch(["-c", config, "db", "migrate"]);
    expect(first.stdout).toBe(`${file}: schema version 0 → ${latestVersion()}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await driftwatch(["-c", config, "db", "migrate"])).stdout).toBe(`${file}: schema version ${latestVersion()}, up to date\n`);
  });

  it("refuses a database.url that is not PostgreSQL, naming the key and not the value", async () => {
    const dir = tempDir("driftwatch-db-");
    const config = configIn(dir, "database:\n  url: ${env:DATABASE_URL}\n");
    const wrong = await driftwatch(["-c", config, "db", "migrate"], { DATABASE_URL: "mysql://root:hunter2-secret@db/x" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("database.url: must be a PostgreSQL URL");
    expect(wrong.stderr).not.toContain("hunter2-secret");
    const empty = await driftwatch(["-c", config, "db", "migrate"], { DATABASE_URL: "" });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("database.url: is empty: set the variable it names, or leave database out for SQLite");
    const unset = await driftwatch(["-c", config, "db", "migrate"]);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain("database.url: environment variable DATABASE_URL is not set");
  });
});
