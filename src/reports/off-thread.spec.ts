// A report computed on a worker thread is the report computed in the process, read from the same database.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { recordSampleFleet, SAMPLE_FROM, SAMPLE_TO } from "../../test/support/sample-fleet.ts";
import { tempDir } from "../../test/support/tempdir.ts";
import { computeReport } from "./compute.ts";
import { computeFleetSummaryOffThread, computeReportOffThread, ReportComputeError } from "./off-thread.ts";
import { fleetSummaryOf } from "./summary.ts";

describe("computeReportOffThread", () => {
  it("computes on a worker thread, with its own read-only connection, what computeReport computes", async () => {
    const dir = tempDir();
    const { config, store } = await recordSampleFleet(dir);
    try {
      const input = { stacks: config.stacks, from: SAMPLE_FROM, to: SAMPLE_TO, selection: ["app", "w*"], name: "weekly", generatedAt: SAMPLE_TO };
      const offThread = await computeReportOffThread({ database: { kind: "sqlite", file: join(dir, "driftwatch.db") }, ...input });
      expect(offThread).toEqual(await computeReport({ store, ...input }));
      expect(offThread.posture.stacks).toBe(2);
      // The dashboard's: only the summary crosses back, none of the per-stack parts.
      const summary = await computeFleetSummaryOffThread({ database: { kind: "sqlite", file: join(dir, "driftwatch.db") }, ...input });
      expect(summary).toEqual(fleetSummaryOf(offThread));
      expect(summary.posture).not.toHaveProperty("perStack");
      expect(summary.series).not.toHaveProperty("timelines");
    } finally {
      await store.close();
    }
  });

  it("fails with what went wrong, and creates nothing, when the database cannot be read", async () => {
    const missing = join(tempDir(), "nowhere.db");
    const failed = computeReportOffThread({ database: { kind: "sqlite", file: missing }, stacks: [], from: SAMPLE_FROM, to: SAMPLE_TO });
    await expect(failed).rejects.toBeInstanceOf(ReportComputeError);
    await expect(failed).rejects.toThrow(/cannot open database at .*nowhere\.db/);
    expect(existsSync(missing)).toBe(false);
  });
});
