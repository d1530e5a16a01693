// What the dashboard's fleet summary shows of a report: the posture's counts and the verdicts over time, none of its
// per-stack parts. The service keeps it between requests and computes it on a worker thread that sends back only
// this, so a large fleet's report (5 MB at 10,000 stacks, mostly per-stack posture and timelines) is neither kept
// nor copied across threads.
import type { FleetReport, Posture, ReportSeries } from "./model.ts";

export type FleetSummary = Pick<FleetReport, "generatedAt" | "period"> & { posture: Omit<Posture, "perStack">; series: Pick<ReportSeries, "verdicts"> };

/** The summary's part of a report: a new object, so the report itself can go. */
export function fleetSummaryOf(report: Pick<FleetReport, "generatedAt" | "period" | "posture" | "series">): FleetSummary {
  const { perStack: _perStack, ...posture } = report.posture;
  return { generatedAt: report.generatedAt, period: report.period, posture, series: { verdicts: report.series.verdicts } };
}
