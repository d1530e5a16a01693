// What a fleet report's Slack digest and the list of stored reports show: a few numbers of a report
// (reports/digest.ts makes it from a FleetReport). Here, apart from the reports, because the store keeps it with
// each report and an alert event carries it to Slack.
import type { Verdict } from "./types.ts";

/** A stack's verdict at a moment: its last finished run's, or never checked. */
export type PostureVerdict = Verdict | "never-checked";

/** The few numbers a Slack digest and a list of reports show (digest.ts makes it from a FleetReport). */
export interface ReportDigest {
  name?: string;
  period: { from: string; to: string };
  /** The report's posture (reports/model.ts, Posture) in numbers: `stale` counts the stale stacks. */
  posture: {
    stacks: number;
    byVerdict: Record<PostureVerdict, number>;
    inSyncShare: number;
    openEpisodes: number;
    awaitingApproval: number;
    oldestOpenEpisode?: { stack: string; episodeId: number; openedAt: string; ageMs: number };
    stale: number;
  };
  episodes: { opened: number; resolved: number; stillOpen: number; medianTimeInDriftMs?: number; medianTimeToDetectMs?: number };
  checks: { runs: number; errors: number };
  remediation: { decisions: number; applied: number; refused: number };
  /** Stacks by time in drift within the period, at most five. */
  topOffenders: { stack: string; episodes: number; timeInDriftMs: number }[];
}
