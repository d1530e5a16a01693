// An approval read while still pending, then decided by another request before this one takes the stack's lease
// (the window between the two reads of two replicas): this request must not plan or apply again. The Git source
// and the engine are never reached; the store is a real one.
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../test/support/tempdir.ts";
import { secretMaskerFor } from "../config/secrets.ts";
import { parseConfig } from "../config/load.ts";
import { ApprovalError } from "../core/errors.ts";
import type { GitSource } from "../sources/git/index.ts";
import type { Store } from "../store/api.ts";
import { openSqliteStore } from "../store/sqlite/index.ts";
import { approveRemediation } from "./remediation-run.ts";
import type { RunDependencies } from "./stack-run.ts";
import type { Sandboxes } from "../sandbox/sandboxes.ts";

let store: Store | undefined;
afterEach(() => store?.close());

const unreachable = (what: string) => () => {
  throw new Error(`${what} must not be reached`);
};

describe("approveRemediation", () => {
  it("refuses an approval another request decided between its read and the lease, planning and auditing nothing", async () => {
    const dir = tempDir();
    const config = parseConfig(
      [`dataDir: ${dir}`, "stacks:", "  - { name: app, engine: terraform, source: { repo: /nowhere, path: app }, remediation: { mode: approve } }", ""].join("\n"),
      join(dir, "driftwatch.yaml"),
      { env: {} },
    );
    const stack = config.stacks[0]!;
    store = await openSqliteStore(join(dir, "driftwatch.db"));
    const at = new Date().toISOString();
    await store.recordRun({ runId: "check-1", stack: "app", engine: "terraform", verdict: "drifted", commit: "a".repeat(40), changes: [], startedAt: at, finishedAt: at, durationMs: 1 });
    const { approval } = await store.requestApproval({
      id: "0123456789ab",
      stack: "app",
      runId: "check-1",
      commit: "a".repeat(40),
      planFingerprint: "f".repeat(64),
      plan: [],
      requestedAt: at,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(approval.state).toBe("pending");
    // The other request applied it (and let go of the lease) after this one read it.
    expect(await store.settleApproval(approval.id, "applied", "alice", "applied the plan: 2 resource(s)")).toBe(true);

    const deps: RunDependencies = {
      source: { acquire: unreachable("the Git source"), verifyCommit: unreachable("the Git source") } as unknown as GitSource,
      engineFor: unreachable("the engine"),
      store,
      logger: pino({ level: "silent" }),
      engineEnv: {},
      dataDir: dir,
      masker: secretMaskerFor(config, {}),
      sandboxes: unreachable("the sandbox") as unknown as Sandboxes,
    };
    const refused = approveRemediation(stack, approval, "bob", deps, { trigger: "approval" });
    await expect(refused).rejects.toThrow(ApprovalError);
    await expect(refused).rejects.toThrow("approval 0123456789ab is applied: applied the plan: 2 resource(s)");
    expect(await store.listAudit({ stack: "app" })).toEqual([]);
    expect(await store.getApproval(approval.id)).toMatchObject({ state: "applied", decidedBy: "alice" });
    // The lease was let go.
    expect(await store.acquireLease("remediate:app", "someone", 60_000)).toBe(true);
  });
});
