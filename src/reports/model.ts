// The fleet report: what `driftwatch report`, the scheduled reports of `serve` and the dashboard's summary show.
// One plain, JSON-ready object computed from the recorded runs, episodes, approvals and audit log (compute.ts);
// every format (text, markdown, HTML, JSON) renders this object and nothing else. It carries no property values
// at all, only counts, names, types and property paths, so no secret can reach a report through it.
//
// Times are ISO 8601 strings (UTC); durations are whole milliseconds. The JSON form is this object as it is:
// `schemaVersion` changes only when a field changes meaning or goes away (new fields may appear at any time).
import type { PostureVerdict } from "../core/report-digest.ts";
import type { RemediationSummary, Verdict } from "../core/types.ts";
import type { AuditDecision } from "../store/api.ts";

export const REPORT_SCHEMA_VERSION = 1;


/** In the order every table and plot shows them. */
export const POSTURE_VERDICTS: readonly PostureVerdict[] = ["in-sync", "drifted", "pending", "drifted+pending", "error", "never-checked"];

/** Summary statistics of a set of durations (ms); all undefined when the set is empty. */
export interface DurationStats {
  count: number;
  medianMs?: number;
  p90Ms?: number;
  /** p95 where a report gives it (check durations). */
  p95Ms?: number;
  maxMs?: number;
}

export interface StackPosture {
  stack: string;
  engine: string;
  verdict: PostureVerdict;
  /** The run the verdict comes from: the stack's last finished run started before the report's end. */
  lastRunId?: string;
  lastCheckedAt?: string;
  driftCount: number;
  pendingCount: number;
  /** For an error verdict: the error's kind (its message is not in reports). */
  errorKind?: string;
  /** Not checked within twice its schedule: the last check started before the second-latest scheduled tick. */
  stale: boolean;
  /** The stack's schedule (cron) and time zone. */
  schedule: string;
  /** When the stack's open episode (at the report's end) opened. */
  openEpisodeSince?: string;
}

export interface Posture {
  /** The moment the posture describes: the report's end. */
  at: string;
  stacks: number;
  byVerdict: Record<PostureVerdict, number>;
  /** In-sync stacks / all stacks in the report (0 when there are none). */
  inSyncShare: number;
  /** Resources drifted / pending in the stacks' last runs. */
  resourcesDrifted: number;
  resourcesPending: number;
  /** Stacks whose monitoring is behind: not checked within twice their schedule. */
  stale: string[];
  openEpisodes: number;
  oldestOpenEpisode?: { stack: string; episodeId: number; openedAt: string; ageMs: number };
  /** Remediation plans waiting for a person's approval now. */
  awaitingApproval: number;
  /** Stacks whose automatic remediation is paused until someone looks. */
  needsAttention: string[];
  /** Per stack, sorted by name. */
  perStack: StackPosture[];
}

/** One drift episode that overlaps the period. */
export interface EpisodeSummary {
  id: number;
  stack: string;
  openedAt: string;
  closedAt?: string;
  /** closedAt − openedAt; for an episode still open at the report's end, its age then. */
  durationMs: number;
  open: boolean;
  /** At most how long the divergence went unnoticed: from the last successful run before it to the run that saw it. */
  timeToDetectMs?: number;
  driftCount: number;
  pendingCount: number;
  /** The resource types of its changes (as last seen), sorted, distinct. */
  resourceTypes: string[];
}

export interface EpisodeStats {
  /** Opened within the period. */
  opened: number;
  /** Resolved (back in sync) within the period. */
  resolved: number;
  /** Still open at the period's end. */
  stillOpen: number;
  /** Time in drift of the episodes resolved within the period (complete durations only). */
  timeInDrift: DurationStats;
  /** The longest of those, and the oldest episode still open (which may be longer). */
  longestResolved?: { stack: string; episodeId: number; durationMs: number };
  /** Time to detect of the episodes opened within the period that had a successful run before them. */
  timeToDetect: DurationStats;
  /** Episodes opened within the period with no successful run before (the drift predates monitoring). */
  timeToDetectUnknown: number;
  /** Every episode overlapping the period, oldest first. */
  list: EpisodeSummary[];
}

export interface EngineChecks {
  engine: string;
  runs: number;
  errors: number;
  durations: DurationStats;
}

export interface CheckStats {
  /** Finished runs started within the period. */
  runs: number;
  byVerdict: Record<Verdict, number>;
  /** Sorted by engine. */
  byEngine: EngineChecks[];
}

export interface ErrorStats {
  /** Error runs by kind, most frequent first. */
  byKind: { kind: string; runs: number; stacks: number }[];
  /** Stacks with error runs in the period, most error runs first. */
  stacks: { stack: string; runs: number; kinds: string[]; lastAt: string }[];
}

export interface FlappingSummary {
  stack: string;
  address: string;
  type: string;
  times: number;
  since: string;
  paths: string[];
}

export interface DriftStats {
  /** Resource types by the number of episodes whose changes include them, top 10. */
  topResourceTypes: { type: string; episodes: number; resources: number }[];
  /** Drifted property paths (per resource type) by episodes, top 10. */
  topPropertyPaths: { type: string; path: string; episodes: number }[];
  flapping: FlappingSummary[];
  /** Per stack with flapping resources: the ignore rules (YAML) that would end the churn. */
  suggestedIgnore: { stack: string; yaml: string }[];
  /** Stacks by time spent in an episode within the period, longest first (stacks with none left out). */
  stacksByTimeInDrift: { stack: string; engine: string; episodes: number; timeInDriftMs: number; shareOfPeriod: number }[];
}

export type { AuditDecision };

export interface RemediationStats {
  /** Audit entries within the period. */
  decisions: number;
  byDecision: Partial<Record<AuditDecision, number>>;
  /** Refusals by the first guard that said no, most frequent first. */
  refusedBy: { guard: string; count: number }[];
  /** Approval requests made within the period, by their state now. */
  approvals: { requested: number; pending: number; applied: number; refused: number; rejected: number; failed: number; void: number; expired: number };
  /** The entries, newest first (at most 200; `decisions` counts them all). */
  entries: { auditId: number; at: string; stack: string; decision: AuditDecision; actor: string; failedGuards: string[]; reason?: string; outcome?: string }[];
}

/** The fleet at one moment of the period: stacks per verdict (as their last finished run before it said). */
export interface VerdictPoint {
  at: string;
  byVerdict: Record<PostureVerdict, number>;
}

/** One stack's verdict over the period as consecutive spans (no gaps, from the period's start to its end). */
export interface TimelineStrip {
  stack: string;
  spans: { from: string; to: string; verdict: PostureVerdict }[];
}

export interface HistogramBin {
  /** Lower bound (inclusive), ms. */
  fromMs: number;
  /** Upper bound (exclusive), ms; absent for the last, open-ended bin. */
  toMs?: number;
  label: string;
  count: number;
}

export interface ReportSeries {
  /** The spacing of `verdicts`. */
  stepMs: number;
  /** From the period's start to its end inclusive, every stepMs (the last point is the end). */
  verdicts: VerdictPoint[];
  /** Time in drift of the episodes resolved within the period, in fixed bins (<1h, 1–6h, 6–24h, 1–3d, 3–7d, 1–4w, ≥4w). */
  timeInDrift: HistogramBin[];
  /** Per stack, sorted by name. */
  timelines: TimelineStrip[];
}

export interface FleetReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  /** A scheduled report's name; absent for `driftwatch report`. */
  name?: string;
  generatedAt: string;
  period: { from: string; to: string; durationMs: number };
  /** The stack names or globs asked for; empty: every configured stack. */
  selection: string[];
  posture: Posture;
  episodes: EpisodeStats;
  checks: CheckStats;
  errors: ErrorStats;
  drift: DriftStats;
  remediation: RemediationStats;
  series: ReportSeries;
}

