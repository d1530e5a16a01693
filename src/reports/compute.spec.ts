// The report's numbers, exactly, from a history recorded with controlled timestamps through the real store and the
// real alert planning (episodes open and close as the pipeline would have them).
import { afterEach, describe, expect, it } from "vitest";
import type { Store } from "../store/api.ts";
import { BUCKET, FILE, flap, recordSampleFleet, SAMPLE_FROM, SAMPLE_TO } from "../../test/support/sample-fleet.ts";
import { tempDir } from "../../test/support/tempdir.ts";
import { computeReport, durationStats, seriesStep } from "./compute.ts";
import { digestOf } from "./digest.ts";

const H = 3_600_000;
const S = 1000;

const from = SAMPLE_FROM;
const to = SAMPLE_TO;

let store: Store | undefined;
afterEach(() => store?.close());

/** The sample fleet in a new store; the store is closed after the test. */
async function recordFleet(dir: string) {
  const recorded = await recordSampleFleet(dir);
  store = recorded.store;
  return recorded.config;
}

describe("the fleet report's numbers", () => {
  it("counts the posture, the episodes, time in drift and time to detect exactly", async () => {
    const dir = tempDir();
    const config = await recordFleet(dir);
    const report = await computeReport({ store: store!, stacks: config.stacks, from, to, generatedAt: to });

    expect(report.posture).toMatchObject({
      stacks: 4,
      byVerdict: { "in-sync": 1, drifted: 0, pending: 0, "drifted+pending": 1, error: 1, "never-checked": 1 },
      inSyncShare: 0.25,
      resourcesDrifted: 1,
      resourcesPending: 1,
      stale: ["web"], // hourly, last checked on the 5th; net's 6-hourly schedule was kept
      openEpisodes: 1,
      oldestOpenEpisode: { stack: "web", openedAt: "2026-11-03T00:00:30.000Z", ageMs: to.getTime() - Date.parse("2026-11-03T00:00:30Z") },
      awaitingApproval: 1,
      needsAttention: [],
    });
    expect(report.posture.perStack.map((s) => [s.stack, s.verdict, s.stale])).toEqual([
      ["app", "in-sync", false],
      ["cluster", "never-checked", false],
      ["net", "error", false],
      ["web", "drifted+pending", true],
    ]);
    expect(report.posture.perStack.find((s) => s.stack === "net")?.errorKind).toBe("TimeoutError");

    const e = report.episodes;
    expect([e.opened, e.resolved, e.stillOpen]).toEqual([2, 2, 1]);
    expect(e.timeInDrift).toEqual({ count: 2, medianMs: 2 * H, p90Ms: 49 * H, maxMs: 49 * H });
    expect(e.longestResolved).toMatchObject({ stack: "app", durationMs: 49 * H });
    expect(e.timeToDetect).toEqual({ count: 1, medianMs: 1 * H, p90Ms: 1 * H, maxMs: 1 * H });
    expect(e.timeToDetectUnknown).toBe(1);
    expect(e.list.map((x) => [x.stack, x.open, x.durationMs, x.timeToDetectMs])).toEqual([
      ["app", false, 49 * H, undefined],
      ["app", false, 2 * H, 1 * H],
      ["web", true, to.getTime() - Date.parse("2026-11-03T00:00:30Z"), undefined],
    ]);
  });

  it("counts checks per engine and verdict, errors by kind, what drifts and remediation", async () => {
    const dir = tempDir();
    const config = await recordFleet(dir);
    const report = await computeReport({ store: store!, stacks: config.stacks, from, to, generatedAt: to });

    expect(report.checks.runs).toBe(10);
    expect(report.checks.byVerdict).toEqual({ "in-sync": 4, drifted: 2, pending: 0, "drifted+pending": 2, error: 2 });
    expect(report.checks.byEngine).toEqual([
      { engine: "cloudformation", runs: 1, errors: 1, durations: { count: 1, medianMs: 30 * S, p90Ms: 30 * S, p95Ms: 30 * S, maxMs: 30 * S } },
      { engine: "pulumi", runs: 3, errors: 1, durations: { count: 3, medianMs: 30 * S, p90Ms: 30 * S, p95Ms: 30 * S, maxMs: 30 * S } },
      { engine: "terraform", runs: 6, errors: 0, durations: { count: 6, medianMs: 30 * S, p90Ms: 30 * S, p95Ms: 30 * S, maxMs: 30 * S } },
    ]);
    expect(report.errors.byKind).toEqual([
      { kind: "EngineError", runs: 1, stacks: 1 },
      { kind: "TimeoutError", runs: 1, stacks: 1 },
    ]);
    expect(report.errors.stacks.map((s) => [s.stack, s.runs, s.kinds])).toEqual([
      ["net", 1, ["TimeoutError"]],
      ["web", 1, ["EngineError"]],
    ]);

    expect(report.drift.topResourceTypes).toEqual([
      { type: FILE, episodes: 2, resources: 2 },
      { type: BUCKET, episodes: 1, resources: 1 }, // pending changes are in episodes only with alerts.pending
    ]);
    expect(report.drift.topPropertyPaths).toEqual([
      { type: FILE, path: "content", episodes: 2 },
      { type: BUCKET, path: "tags.env", episodes: 1 },
    ]);
    expect(report.drift.flapping).toEqual([{ stack: "app", ...flap }]);
    expect(report.drift.suggestedIgnore).toEqual([{ stack: "app", yaml: 'ignore:\n  - { type: "local_file", paths: ["content"] }' }]);
    const webInDrift = to.getTime() - Date.parse("2026-11-03T00:00:30Z");
    expect(report.drift.stacksByTimeInDrift).toEqual([
      { stack: "web", engine: "pulumi", episodes: 1, timeInDriftMs: webInDrift, shareOfPeriod: webInDrift / (168 * H) },
      { stack: "app", engine: "terraform", episodes: 2, timeInDriftMs: 3 * H + 30 * S, shareOfPeriod: (3 * H + 30 * S) / (168 * H) },
    ]);

    expect(report.remediation).toMatchObject({
      decisions: 2,
      byDecision: { applied: 1, refused: 1 },
      refusedBy: [{ guard: "maxChanges", count: 1 }],
      approvals: { requested: 1, pending: 1, applied: 0, refused: 0, rejected: 0, failed: 0, void: 0, expired: 0 },
    });
    expect(report.remediation.entries.map((x) => [x.stack, x.decision, x.failedGuards])).toEqual([
      ["web", "refused", ["maxChanges"]],
      ["app", "applied", []],
    ]);
  });

  it("plots the fleet's verdicts every step, and each stack's verdict as spans over the period", async () => {
    const dir = tempDir();
    const config = await recordFleet(dir);
    const report = await computeReport({ store: store!, stacks: config.stacks, from, to, generatedAt: to });
    const s = report.series;
    expect(s.stepMs).toBe(3 * H);
    expect(s.verdicts).toHaveLength(57); // 56 steps of 3h in 7 days, and the end
    expect(s.verdicts[0]).toEqual({ at: from.toISOString(), byVerdict: { "in-sync": 0, drifted: 1, pending: 0, "drifted+pending": 0, error: 0, "never-checked": 3 } });
    // 2026-11-02T12:00: app's run of 12:00 has not started before it; its 11:00 run was drifted.
    expect(s.verdicts.find((p) => p.at === "2026-11-02T12:00:00.000Z")?.byVerdict.drifted).toBe(1);
    expect(s.verdicts.at(-1)).toEqual({ at: to.toISOString(), byVerdict: { "in-sync": 1, drifted: 0, pending: 0, "drifted+pending": 1, error: 1, "never-checked": 1 } });
    for (const point of s.verdicts) expect(Object.values(point.byVerdict).reduce((a, b) => a + b, 0)).toBe(4);

    expect(s.timelines.find((t) => t.stack === "app")?.spans).toEqual([
      { from: "2026-11-01T00:00:00.000Z", to: "2026-11-01T01:00:00.000Z", verdict: "drifted" },
      { from: "2026-11-01T01:00:00.000Z", to: "2026-11-02T10:00:00.000Z", verdict: "in-sync" },
      { from: "2026-11-02T10:00:00.000Z", to: "2026-11-02T12:00:00.000Z", verdict: "drifted" },
      { from: "2026-11-02T12:00:00.000Z", to: to.toISOString(), verdict: "in-sync" },
    ]);
    expect(s.timelines.find((t) => t.stack === "cluster")?.spans).toEqual([{ from: from.toISOString(), to: to.toISOString(), verdict: "never-checked" }]);
    expect(s.timelines.find((t) => t.stack === "web")?.spans.map((x) => x.verdict)).toEqual(["never-checked", "drifted+pending", "error", "drifted+pending"]);
    // 2h and 49h: one in 1–6h, one in 1–3d.
    expect(s.timeInDrift.map((b) => b.count)).toEqual([0, 1, 0, 1, 0, 0, 0]);
  });

  it("covers only the selected stacks (names and globs), and digests the report", async () => {
    const dir = tempDir();
    const config = await recordFleet(dir);
    const report = await computeReport({ store: store!, stacks: config.stacks, from, to, selection: ["w*"], generatedAt: to, name: "weekly" });
    expect(report.posture.perStack.map((s) => s.stack)).toEqual(["web"]);
    expect(report.episodes.list.map((x) => x.stack)).toEqual(["web"]);
    expect(report.remediation.decisions).toBe(1);
    expect(digestOf(report)).toMatchObject({
      name: "weekly",
      posture: { stacks: 1, stale: 1, openEpisodes: 1, awaitingApproval: 1 },
      episodes: { opened: 1, resolved: 0, stillOpen: 1 },
      checks: { runs: 3, errors: 1 },
      remediation: { decisions: 1, applied: 0, refused: 1 },
      topOffenders: [{ stack: "web", episodes: 1 }],
    });
  });

  it("a period that ends before an episode closed counts it as open, aged at the period's end", async () => {
    const dir = tempDir();
    const config = await recordFleet(dir);
    const end = new Date("2026-11-02T11:30:00Z");
    const report = await computeReport({ store: store!, stacks: config.stacks, from, to: end, generatedAt: end });
    expect(report.episodes.list.at(-1)).toMatchObject({ stack: "app", open: true, durationMs: end.getTime() - Date.parse("2026-11-02T10:00:30Z") });
    expect(report.posture.byVerdict.drifted).toBe(1);
  });
});

describe("statistics", () => {
  it("uses nearest-rank percentiles", () => {
    expect(durationStats([4, 1, 3, 2], true)).toEqual({ count: 4, medianMs: 2, p90Ms: 4, p95Ms: 4, maxMs: 4 });
    expect(durationStats(Array.from({ length: 100 }, (_, i) => i + 1), true)).toMatchObject({ medianMs: 50, p90Ms: 90, p95Ms: 95, maxMs: 100 });
    expect(durationStats([])).toEqual({ count: 0 });
  });

  it("keeps the verdict series within 60 points", () => {
    expect(seriesStep(7 * 24 * H)).toBe(3 * H);
    expect(seriesStep(30 * 24 * H)).toBe(12 * H);
    expect(seriesStep(24 * H)).toBe(H);
    expect(seriesStep(365 * 24 * H)).toBe(7 * 24 * H);
  });
});
