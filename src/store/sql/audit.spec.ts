// The remediation audit log and leases on both databases: entries read back whole and newest first, the log
// refuses to be edited, and a lease is held by one holder at a time across connections (processes).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeBackends } from "../../../test/support/store-backends.ts";
import type { AuditEntry } from "../api.ts";

const backends = storeBackends();
beforeAll(() => backends.start());
afterAll(() => backends.stop());

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

describe.each(backends.list)("the audit store on $name", (backend) => {
  it("reads entries back whole, newest first, per stack", async () => {
    const store = await (await backend.fresh()).open();
    const first = await store.appendAudit(entry("net", "refused"));
    const second = await store.appendAudit(entry("web", "applied"));
    expect(await store.listAudit()).toEqual([
      { id: second, ...entry("web", "applied") },
      { id: first, ...entry("net", "refused") },
    ]);
    expect((await store.listAudit({ stack: "net" })).map((e) => e.id)).toEqual([first]);
    await store.close();
  });

  it("is append-only: the database itself refuses updates and deletes", async () => {
    const db = await backend.fresh();
    const store = await db.open();
    await store.appendAudit(entry("net", "refused"));
    await store.close();
    await expect(db.query("UPDATE audit_log SET decision = 'applied'")).rejects.toThrow(/append-only/);
    await expect(db.query("DELETE FROM audit_log")).rejects.toThrow(/append-only/);
    if (backend.name === "postgres") await expect(db.query("TRUNCATE audit_log")).rejects.toThrow(/append-only/);
    const again = await db.open();
    expect(await again.listAudit()).toMatchObject([{ decision: "refused" }]);
    await again.close();
  });

  it("gives a lease to one holder at a time across connections, until it is released or expires", async () => {
    const db = await backend.fresh();
    const one = await db.open();
    const two = await db.open();
    expect(await one.acquireLease("remediate:net", "one", 60_000)).toBe(true);
    expect(await two.acquireLease("remediate:net", "two", 60_000)).toBe(false);
    expect(await one.acquireLease("remediate:net", "one", 60_000)).toBe(true); // renewal
    expect(await two.acquireLease("remediate:web", "two", 60_000)).toBe(true); // another stack
    await one.releaseLease("remediate:net", "one");
    expect(await two.acquireLease("remediate:net", "two", -1)).toBe(true); // free now; this one is born expired
    expect(await one.acquireLease("remediate:net", "one", 60_000)).toBe(true); // an expired lease is anybody's
    await two.releaseLease("remediate:net", "two"); // not the holder any more: nothing happens
    expect(await two.acquireLease("remediate:net", "two", 60_000)).toBe(false);
    await one.close();
    await two.close();
  });

  it("takes a lease over only from the holder it names", async () => {
    const store = await (await backend.fresh()).open();
    expect(await store.acquireLease("remediate:net", "dead", 60_000)).toBe(true);
    expect(await store.leaseHolder("remediate:net")).toBe("dead");
    expect(await store.takeOverLease("remediate:net", "someone-else", "me", 60_000)).toBe(false);
    expect(await store.takeOverLease("remediate:net", "dead", "me", 60_000)).toBe(true);
    expect(await store.leaseHolder("remediate:net")).toBe("me");
    expect(await store.leaseHolder("remediate:web")).toBeUndefined();
    await store.close();
  });

  it("notes an apply in flight with its re-check run, and marks that run interrupted when the apply never ends", async () => {
    const store = await (await backend.fresh()).open();
    const apply = { stack: "net", engine: "terraform", holder: "host:1:x", runId: "recheck-1", startedAt: "2026-11-23T10:00:00.000Z", approvalId: "abc", entry: entry("net", "applied") };
    await store.beginApply(apply);
    expect(await store.applyInFlight("net")).toEqual(apply);
    expect(await store.appliesInFlight()).toEqual([apply]);
    await expect(store.beginApply({ ...apply, holder: "host:2:y" })).rejects.toThrow(); // one per stack
    expect(await store.interruptRun("recheck-1", "stopped during the apply")).toBe(true);
    expect(await store.interruptRun("recheck-1", "again")).toBe(false); // only a running run
    expect(await store.getRun("recheck-1")).toMatchObject({ stack: "net", verdict: "error", error: { kind: "InterruptedError", message: "stopped during the apply" } });
    await store.endApply("net", "host:2:y"); // not its holder: stays
    expect(await store.applyInFlight("net")).toBeDefined();
    await store.endApply("net", "host:1:x");
    expect(await store.appliesInFlight()).toEqual([]);
    await store.close();
  });
});
