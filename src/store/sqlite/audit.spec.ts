// The remediation audit log and leases on a real SQLite file: entries read back whole and newest first, the log
// refuses to be edited, and a lease is held by one holder at a time across connections (processes).
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/support/tempdir.ts";
import type { AuditEntry } from "../api.ts";
import { openSqliteStore } from "./index.ts";

const entry = (stack: string, decision: AuditEntry["decision"]): AuditEntry => ({
  at: "2026-11-23T10:00:00.000Z",
  stack,
  runId: `run-${stack}`,
  triggeredBy: "schedule",
  actor: "driftwatch",
  commit: "a".repeat(40),
  mode: "auto",
  planFingerprint: "f".repeat(64),
  planChanges: 2,
  guards: [{ guard: "deletes", passed: decision === "applied", reason: "the plan would delete local_file.a; deletes are not allowed (allow.deletes: false)" }],
  decision,
  reason: "because",
  ...(decision === "applied" ? { outcome: "in-sync" } : {}),
  durationMs: 1234,
});

describe("sqlite audit store", () => {
  it("reads entries back whole, newest first, per stack", () => {
    const store = openSqliteStore(join(tempDir(), "db.sqlite"));
    const first = store.appendAudit(entry("net", "refused"));
    const second = store.appendAudit(entry("web", "applied"));
    expect(store.listAudit()).toEqual([
      { id: second, ...entry("web", "applied") },
      { id: first, ...entry("net", "refused") },
    ]);
    expect(store.listAudit({ stack: "net" }).map((e) => e.id)).toEqual([first]);
    store.close();
  });

  it("is append-only: the database itself refuses updates and deletes", () => {
    const file = join(tempDir(), "db.sqlite");
    const store = openSqliteStore(file);
    store.appendAudit(entry("net", "refused"));
    store.close();
    const db = new DatabaseSync(file);
    expect(() => db.exec("UPDATE audit_log SET decision = 'applied'")).toThrow(/append-only/);
    expect(() => db.exec("DELETE FROM audit_log")).toThrow(/append-only/);
    db.close();
    const again = openSqliteStore(file);
    expect(again.listAudit()).toMatchObject([{ decision: "refused" }]);
    again.close();
  });

  it("gives a lease to one holder at a time across connections, until it is released or expires", () => {
    const file = join(tempDir(), "db.sqlite");
    const one = openSqliteStore(file);
    const two = openSqliteStore(file);
    expect(one.acquireLease("remediate:net", "one", 60_000)).toBe(true);
    expect(two.acquireLease("remediate:net", "two", 60_000)).toBe(false);
    expect(one.acquireLease("remediate:net", "one", 60_000)).toBe(true); // renewal
    expect(two.acquireLease("remediate:web", "two", 60_000)).toBe(true); // another stack
    one.releaseLease("remediate:net", "one");
    expect(two.acquireLease("remediate:net", "two", -1)).toBe(true); // free now; this one is born expired
    expect(one.acquireLease("remediate:net", "one", 60_000)).toBe(true); // an expired lease is anybody's
    two.releaseLease("remediate:net", "two"); // not the holder any more: nothing happens
    expect(two.acquireLease("remediate:net", "two", 60_000)).toBe(false);
    one.close();
    two.close();
  });

  it("takes a lease over only from the holder it names", () => {
    const store = openSqliteStore(join(tempDir(), "db.sqlite"));
    expect(store.acquireLease("remediate:net", "dead", 60_000)).toBe(true);
    expect(store.leaseHolder("remediate:net")).toBe("dead");
    expect(store.takeOverLease("remediate:net", "someone-else", "me", 60_000)).toBe(false);
    expect(store.takeOverLease("remediate:net", "dead", "me", 60_000)).toBe(true);
    expect(store.leaseHolder("remediate:net")).toBe("me");
    expect(store.leaseHolder("remediate:web")).toBeUndefined();
    store.close();
  });

  it("notes an apply in flight with its re-check run, and marks that run interrupted when the apply never ends", () => {
    const store = openSqliteStore(join(tempDir(), "db.sqlite"));
    const apply = { stack: "net", engine: "terraform", holder: "host:1:x", runId: "recheck-1", startedAt: "2026-11-23T10:00:00.000Z", approvalId: "abc", entry: entry("net", "applied") };
    store.beginApply(apply);
    expect(store.applyInFlight("net")).toEqual(apply);
    expect(store.appliesInFlight()).toEqual([apply]);
    expect(() => store.beginApply({ ...apply, holder: "host:2:y" })).toThrow(); // one per stack
    expect(store.interruptRun("recheck-1", "stopped during the apply")).toBe(true);
    expect(store.interruptRun("recheck-1", "again")).toBe(false); // only a running run
    expect(store.getRun("recheck-1")).toMatchObject({ stack: "net", verdict: "error", error: { kind: "InterruptedError", message: "stopped during the apply" } });
    store.endApply("net", "host:2:y"); // not its holder: stays
    expect(store.applyInFlight("net")).toBeDefined();
    store.endApply("net", "host:1:x");
    expect(store.appliesInFlight()).toEqual([]);
    store.close();
  });
});
