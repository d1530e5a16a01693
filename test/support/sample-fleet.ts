// A fleet's history with controlled timestamps, for the report's tests: recorded through the real store and the
// real alert planning (recordHistory), so its episodes are the pipeline's.
import { join } from "node:path";
import type { DriftwatchConfig } from "../../src/config/types.ts";
import type { Store } from "../../src/store/api.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { drift, pending, recordHistory } from "./history.ts";
import { nowhereConfig } from "./nowhere-stacks.ts";

/** The period the sample's numbers are about. */
export const SAMPLE_FROM = new Date("2026-11-01T00:00:00Z");
export const SAMPLE_TO = new Date("2026-11-08T00:00:00Z");

function fleet(dir: string) {
  return nowhereConfig(dir, [
    "{ name: app, engine: terraform, source: { repo: /nowhere, path: app } }",
    "{ name: web, engine: pulumi, source: { repo: /nowhere, path: web }, pulumi: { stack: dev } }",
    "{ name: cluster, engine: kubernetes, source: { repo: /nowhere, path: k8s } }",
    "{ name: net, engine: cloudformation, schedule: '0 */6 * * *', source: { repo: /nowhere, path: net }, cloudformation: { stackName: net, region: eu-west-1, template: net.yaml } }",
  ]);
}

export const FILE = "local_file";
export const BUCKET = "aws:s3/bucket:Bucket";
export const OBJECT = "aws:s3/bucketObject:BucketObject";
export const flap = { address: "local_file.x", type: FILE, times: 3, since: "2026-10-30T00:00:00.000Z", paths: ["content"] };

/**
 * Four stacks' history, recorded in a new store in `dir`, whose report for 2026-11-01 to 2026-11-08 (UTC) has known
 * numbers (src/reports/compute.spec.ts checks them): episodes before, within and across the period, an error, a
 * never-checked stack, flapping, remediation decisions and an approval.
 */
export async function recordSampleFleet(dir: string): Promise<{ config: DriftwatchConfig; store: Store }> {
  const config = fleet(dir);
  const store = await openSqliteStore(join(dir, "driftwatch.db"));
  const [app, web, , net] = config.stacks;
  await recordHistory(store, app!, [
    { startedAt: "2026-10-30T00:00:00Z", changes: [drift("local_file.x", FILE, "content")] }, // E0 opens before the period
    { startedAt: "2026-11-01T01:00:00Z" }, // E0 closes: 49h
    { startedAt: "2026-11-02T09:00:00Z" },
    { startedAt: "2026-11-02T10:00:00Z", changes: [drift("local_file.x", FILE, "content")] }, // E1 opens: detected within 1h
    { startedAt: "2026-11-02T11:00:00Z", changes: [drift("local_file.x", FILE, "content")], flapping: [flap] },
    { startedAt: "2026-11-02T12:00:00Z" }, // E1 closes: 2h
    { startedAt: "2026-11-07T23:00:00Z" },
  ]);
  await recordHistory(store, web!, [
    { startedAt: "2026-11-03T00:00:00Z", changes: [drift("urn:bucket", BUCKET, "tags.env"), pending("urn:object", OBJECT)] }, // E2: no run before
    { startedAt: "2026-11-03T01:00:00Z", durationMs: 5_000, error: { kind: "EngineError", message: "boom" } },
    { startedAt: "2026-11-05T00:00:00Z", changes: [drift("urn:bucket", BUCKET, "tags.env"), pending("urn:object", OBJECT)] },
  ]);
  await recordHistory(store, net!, [{ startedAt: "2026-11-07T18:00:00Z", error: { kind: "TimeoutError", message: "too slow" } }]);
  const guards = (failed: string) => [
    { guard: failed, passed: false, reason: "no" },
    { guard: "window", passed: true, reason: "open" },
  ];
  const audit = { runId: "r", triggeredBy: "schedule", actor: "driftwatch", mode: "auto", durationMs: 1000 };
  await store.appendAudit({ ...audit, at: "2026-10-31T12:00:00.000Z", stack: "app", guards: [], decision: "applied" }); // before the period
  await store.appendAudit({ ...audit, at: "2026-11-02T10:01:00.000Z", stack: "app", guards: [], decision: "applied", outcome: "in-sync" });
  await store.appendAudit({ ...audit, at: "2026-11-03T00:01:00.000Z", stack: "web", guards: guards("maxChanges"), decision: "refused", reason: "too many" });
  await store.requestApproval({
    id: "ap1",
    stack: "web",
    runId: "r",
    commit: "c",
    planFingerprint: "f",
    plan: [],
    requestedAt: "2026-11-05T00:01:00.000Z",
    expiresAt: "2026-11-20T00:00:00.000Z",
  });
  return { config, store };
}

