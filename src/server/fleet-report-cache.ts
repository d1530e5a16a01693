// The home page's fleet report, computed at most every few seconds however many browsers refresh it. Computing it
// reads every run of the last days (about 0.7 s for 100 stacks checked every 5 minutes, measured), synchronously,
// so a report is reused for a while, longer the more it cost: the event loop spends at most 1/COST_FACTOR of its
// time on it. The stack table is read fresh on every request; the summary says when its report was made.
import type { FleetReport } from "../reports/model.ts";

export interface FleetReportCacheOptions {
  /** A report younger than this is always reused. */
  minAgeMs?: number;
  /** A report is reused for at least COST_FACTOR times what it took to compute. */
  costFactor?: number;
  clock?: () => number;
}

export class FleetReportCache {
  private entry: { report: FleetReport; at: number; costMs: number } | undefined;
  private readonly minAgeMs: number;
  private readonly costFactor: number;
  private readonly clock: () => number;
  private readonly compute: (now: Date) => FleetReport;

  constructor(compute: (now: Date) => FleetReport, options: FleetReportCacheOptions = {}) {
    this.compute = compute;
    this.minAgeMs = options.minAgeMs ?? 4_000;
    this.costFactor = options.costFactor ?? 20;
    this.clock = options.clock ?? Date.now;
  }

  get(): FleetReport {
    const now = this.clock();
    if (this.entry && now - this.entry.at < Math.max(this.minAgeMs, this.entry.costMs * this.costFactor)) return this.entry.report;
    const started = performance.now();
    const report = this.compute(new Date(now));
    this.entry = { report, at: now, costMs: performance.now() - started };
    return report;
  }
}
