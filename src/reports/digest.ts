// The few numbers of a report that a Slack digest and the list of reports show.
import type { FleetReport } from "./model.ts";
import type { ReportDigest } from "../core/report-digest.ts";

const TOP_OFFENDERS = 5;

export function digestOf(report: FleetReport): ReportDigest {
  const { posture: p, episodes: e, checks, remediation: r } = report;
  return {
    ...(report.name ? { name: report.name } : {}),
    period: { from: report.period.from, to: report.period.to },
    posture: {
      stacks: p.stacks,
      byVerdict: p.byVerdict,
      inSyncShare: p.inSyncShare,
      openEpisodes: p.openEpisodes,
      awaitingApproval: p.awaitingApproval,
      ...(p.oldestOpenEpisode ? { oldestOpenEpisode: p.oldestOpenEpisode } : {}),
      stale: p.stale.length,
    },
    episodes: {
      opened: e.opened,
      resolved: e.resolved,
      stillOpen: e.stillOpen,
      ...(e.timeInDrift.medianMs === undefined ? {} : { medianTimeInDriftMs: e.timeInDrift.medianMs }),
      ...(e.timeToDetect.medianMs === undefined ? {} : { medianTimeToDetectMs: e.timeToDetect.medianMs }),
    },
    checks: { runs: checks.runs, errors: checks.byVerdict.error },
    remediation: { decisions: r.decisions, applied: r.byDecision.applied ?? 0, refused: r.byDecision.refused ?? 0 },
    topOffenders: report.drift.stacksByTimeInDrift.slice(0, TOP_OFFENDERS).map((s) => ({ stack: s.stack, episodes: s.episodes, timeInDriftMs: s.timeInDriftMs })),
  };
}
