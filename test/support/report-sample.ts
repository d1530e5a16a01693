// Fleet reports for the renderers' tests, built by hand the way compute.ts would build them from a database: a
// small one with a stack name made to break markup (`<script>` and `|`), and a synthetic fleet of any size. The
// series are derived from the timelines, so the plots' numbers agree with one another as real ones do.
import { ignoreRulesYaml } from "../../src/core/flapping.ts";
import type { Verdict } from "../../src/core/types.ts";
import { POSTURE_VERDICTS, REPORT_SCHEMA_VERSION, type FleetReport, type HistogramBin, type TimelineStrip, type VerdictPoint } from "../../src/reports/model.ts";
import type { PostureVerdict } from "../../src/core/report-digest.ts";

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const FROM = Date.parse("2026-03-01T00:00:00Z");
export const TO = FROM + 7 * DAY;
export const HOSTILE_STACK = "net-<script>alert(1)</script>|core";

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function counts(): Record<PostureVerdict, number> {
  return { "in-sync": 0, drifted: 0, pending: 0, "drifted+pending": 0, error: 0, "never-checked": 0 };
}

/** A stack's spans from verdict changes at offsets from FROM (the first at 0), the last one ending at TO. */
export function strip(stack: string, changes: readonly [offsetMs: number, verdict: PostureVerdict][], from = FROM, to = TO): TimelineStrip {
  return {
    stack,
    spans: changes.map(([offset, verdict], i) => ({ from: iso(from + offset), to: iso(i + 1 < changes.length ? from + changes[i + 1]![0] : to), verdict })),
  };
}

/** The fleet's verdicts every `stepMs` from `from` to `to` inclusive, as the timelines say. */
export function verdictPoints(timelines: readonly TimelineStrip[], stepMs: number, from = FROM, to = TO): VerdictPoint[] {
  const points: VerdictPoint[] = [];
  for (let at = from; at <= to; at += stepMs) {
    const byVerdict = counts();
    for (const t of timelines) {
      const span = t.spans.find((s) => Date.parse(s.from) <= at && at < Date.parse(s.to)) ?? t.spans[t.spans.length - 1];
      if (span) byVerdict[span.verdict] += 1;
    }
    points.push({ at: iso(at), byVerdict });
  }
  return points;
}

const BIN_EDGES: readonly [number, number | undefined, string][] = [
  [0, HOUR, "<1h"],
  [HOUR, 6 * HOUR, "1–6h"],
  [6 * HOUR, DAY, "6–24h"],
  [DAY, 3 * DAY, "1–3d"],
  [3 * DAY, 7 * DAY, "3–7d"],
  [7 * DAY, 28 * DAY, "1–4w"],
  [28 * DAY, undefined, "≥4w"],
];

export function histogram(durations: readonly number[]): HistogramBin[] {
  return BIN_EDGES.map(([fromMs, toMs, label]) => {
    const count = durations.filter((d) => d >= fromMs && (toMs === undefined || d < toMs)).length;
    return toMs === undefined ? { fromMs, label, count } : { fromMs, toMs, label, count };
  });
}

/** Verdicts that the verdict plot draws an area for: non-zero at some sample. */
export function presentVerdicts(points: readonly VerdictPoint[]): PostureVerdict[] {
  return POSTURE_VERDICTS.filter((v) => points.some((p) => p.byVerdict[v] > 0));
}

export function spanCount(timelines: readonly TimelineStrip[]): number {
  return timelines.reduce((sum, t) => sum + t.spans.length, 0);
}

const byRun = (v: Partial<Record<Verdict, number>>): Record<Verdict, number> => ({ "in-sync": 0, drifted: 0, pending: 0, "drifted+pending": 0, error: 0, ...v });

/** Three stacks over a week: a flapping Pulumi stack, a Terraform stack with a hostile name, a quiet Kubernetes one. */
export function sampleReport(): FleetReport {
  const timelines = [
    strip("k8s-apps", [
      [0, "in-sync"],
      [2 * DAY, "drifted+pending"],
      [2 * DAY + 6 * HOUR, "in-sync"],
    ]),
    strip(HOSTILE_STACK, [
      [0, "never-checked"],
      [3 * HOUR, "pending"],
      [4 * DAY, "in-sync"],
      [6 * DAY + 12 * HOUR, "error"],
    ]),
    strip("web-files", [
      [0, "in-sync"],
      [DAY + 2 * HOUR, "drifted"],
      [2 * DAY + 5 * HOUR, "in-sync"],
      [5 * DAY, "drifted"],
    ]),
  ];
  const flapYaml = ignoreRulesYaml([{ type: "local:index/file:File", paths: ["content"] }]);
  const at = iso(TO);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    name: "weekly <ops> & \"platform\"",
    generatedAt: iso(TO + 5 * 60_000),
    period: { from: iso(FROM), to: at, durationMs: TO - FROM },
    selection: [],
    posture: {
      at,
      stacks: 3,
      byVerdict: { ...counts(), "in-sync": 1, drifted: 1, error: 1 },
      inSyncShare: 1 / 3,
      resourcesDrifted: 2,
      resourcesPending: 0,
      stale: [HOSTILE_STACK],
      openEpisodes: 1,
      oldestOpenEpisode: { stack: "web-files", episodeId: 14, openedAt: iso(FROM + 5 * DAY), ageMs: 2 * DAY },
      awaitingApproval: 1,
      needsAttention: [HOSTILE_STACK],
      perStack: [
        { stack: "k8s-apps", engine: "kubernetes", verdict: "in-sync", lastRunId: "run-k8s-96", lastCheckedAt: iso(TO - 10 * 60_000), driftCount: 0, pendingCount: 0, stale: false, schedule: "*/15 * * * *" },
        { stack: HOSTILE_STACK, engine: "terraform", verdict: "error", lastRunId: "run-net-40", lastCheckedAt: iso(TO - 11 * HOUR), driftCount: 0, pendingCount: 0, errorKind: "engine-timeout", stale: true, schedule: "0 * * * *" },
        { stack: "web-files", engine: "pulumi", verdict: "drifted", lastRunId: "run-web-77", lastCheckedAt: iso(TO - 20 * 60_000), driftCount: 2, pendingCount: 0, stale: false, schedule: "*/30 * * * *", openEpisodeSince: iso(FROM + 5 * DAY) },
      ],
    },
    episodes: {
      opened: 4,
      resolved: 3,
      stillOpen: 1,
      timeInDrift: { count: 3, medianMs: 27 * HOUR, p90Ms: 93 * HOUR, maxMs: 93 * HOUR },
      longestResolved: { stack: HOSTILE_STACK, episodeId: 12, durationMs: 93 * HOUR },
      timeToDetect: { count: 3, medianMs: 30 * 60_000, p90Ms: 45 * 60_000, maxMs: 45 * 60_000 },
      timeToDetectUnknown: 1,
      list: [
        { id: 12, stack: HOSTILE_STACK, openedAt: iso(FROM + 3 * HOUR), closedAt: iso(FROM + 4 * DAY), durationMs: 93 * HOUR, open: false, driftCount: 0, pendingCount: 3, resourceTypes: ["aws_security_group", "aws_vpc"] },
        { id: 11, stack: "web-files", openedAt: iso(FROM + DAY + 2 * HOUR), closedAt: iso(FROM + 2 * DAY + 5 * HOUR), durationMs: 27 * HOUR, open: false, timeToDetectMs: 15 * 60_000, driftCount: 2, pendingCount: 0, resourceTypes: ["local:index/file:File"] },
        { id: 13, stack: "k8s-apps", openedAt: iso(FROM + 2 * DAY), closedAt: iso(FROM + 2 * DAY + 6 * HOUR), durationMs: 6 * HOUR, open: false, timeToDetectMs: 30 * 60_000, driftCount: 1, pendingCount: 1, resourceTypes: ["apps/v1/Deployment"] },
        { id: 14, stack: "web-files", openedAt: iso(FROM + 5 * DAY), durationMs: 2 * DAY, open: true, timeToDetectMs: 45 * 60_000, driftCount: 2, pendingCount: 0, resourceTypes: ["local:index/file:File"] },
      ],
    },
    checks: {
      runs: 96,
      byVerdict: byRun({ "in-sync": 70, drifted: 12, pending: 8, "drifted+pending": 2, error: 4 }),
      byEngine: [
        { engine: "kubernetes", runs: 28, errors: 0, durations: { count: 28, medianMs: 2_100, p95Ms: 3_900, maxMs: 4_100 } },
        { engine: "pulumi", runs: 34, errors: 0, durations: { count: 34, medianMs: 14_000, p95Ms: 31_000, maxMs: 47_000 } },
        { engine: "terraform", runs: 34, errors: 4, durations: { count: 34, medianMs: 9_500, p95Ms: 600_000, maxMs: 900_000 } },
      ],
    },
    errors: {
      byKind: [
        { kind: "engine-timeout", runs: 3, stacks: 1 },
        { kind: "source-unreachable", runs: 1, stacks: 1 },
      ],
      stacks: [{ stack: HOSTILE_STACK, runs: 4, kinds: ["engine-timeout", "source-unreachable"], lastAt: iso(TO - 11 * HOUR) }],
    },
    drift: {
      topResourceTypes: [
        { type: "local:index/file:File", episodes: 2, resources: 2 },
        { type: "aws_security_group", episodes: 1, resources: 2 },
        { type: "apps/v1/Deployment", episodes: 1, resources: 1 },
      ],
      topPropertyPaths: [
        { type: "local:index/file:File", path: "content", episodes: 2 },
        { type: "aws_security_group", path: 'tags["team|owner"]', episodes: 1 },
        { type: "apps/v1/Deployment", path: "metadata.annotations.`kubectl`", episodes: 1 },
      ],
      flapping: [{ stack: "web-files", address: "urn:pulumi:dev::app::local:index/file:File::motd", type: "local:index/file:File", times: 3, since: iso(FROM + DAY), paths: ["content"] }],
      suggestedIgnore: [{ stack: "web-files", yaml: flapYaml }],
      stacksByTimeInDrift: [
        { stack: HOSTILE_STACK, engine: "terraform", episodes: 1, timeInDriftMs: 93 * HOUR, shareOfPeriod: 93 / 168 },
        { stack: "web-files", engine: "pulumi", episodes: 2, timeInDriftMs: 75 * HOUR, shareOfPeriod: 75 / 168 },
        { stack: "k8s-apps", engine: "kubernetes", episodes: 1, timeInDriftMs: 6 * HOUR, shareOfPeriod: 6 / 168 },
      ],
    },
    remediation: {
      decisions: 5,
      byDecision: { applied: 2, refused: 1, "approval-requested": 1, noop: 1 },
      refusedBy: [{ guard: "deletes", count: 1 }],
      approvals: { requested: 1, pending: 1, applied: 0, refused: 0, rejected: 0, failed: 0, void: 0, expired: 0 },
      entries: [
        { auditId: 105, at: iso(TO - 2 * HOUR), stack: "web-files", decision: "approval-requested", actor: "driftwatch", failedGuards: [], reason: "mode approve: waiting for a person" },
        { auditId: 104, at: iso(FROM + 4 * DAY + HOUR), stack: HOSTILE_STACK, decision: "refused", actor: "driftwatch", failedGuards: ["deletes"], reason: "plan deletes 1 resource:\naws_vpc.main | <b>not allowed</b>" },
        { auditId: 103, at: iso(FROM + 2 * DAY + 6 * HOUR), stack: "k8s-apps", decision: "applied", actor: "alice@example.com", failedGuards: [], reason: "applied 2 changes", outcome: "in-sync" },
        { auditId: 102, at: iso(FROM + 2 * DAY + 5 * HOUR), stack: "web-files", decision: "applied", actor: "driftwatch", failedGuards: [], reason: "applied 1 change", outcome: "in-sync" },
        { auditId: 101, at: iso(FROM + 2 * DAY + 4 * HOUR), stack: "web-files", decision: "noop", actor: "driftwatch", failedGuards: [], reason: "the plan was empty by then" },
      ],
    },
    series: { stepMs: 6 * HOUR, verdicts: verdictPoints(timelines, 6 * HOUR), timeInDrift: histogram([93 * HOUR, 27 * HOUR, 6 * HOUR]), timelines },
  };
}

const ENGINES = ["kubernetes", "pulumi", "terraform"] as const;

/** A synthetic fleet of `stacks` stacks: every fifth drifts for a while, every seventh flaps, every 50th fails. */
export function fleetReport(stacks: number): FleetReport {
  const base = sampleReport();
  const names = Array.from({ length: stacks }, (_, i) => `team-${String(i % 40).padStart(2, "0")}/service-${String(i).padStart(4, "0")}-production-eu-west-1`);
  const timelines = names.map((name, i) => {
    if (i % 50 === 0) return strip(name, [[0, "in-sync"], [6 * DAY, "error"]]);
    if (i % 7 === 0) return strip(name, [[0, "in-sync"], [DAY, "drifted"], [DAY + 2 * HOUR, "in-sync"], [3 * DAY, "drifted"], [3 * DAY + HOUR, "in-sync"], [5 * DAY, "drifted"]]);
    if (i % 5 === 0) return strip(name, [[0, "in-sync"], [(i % 6) * DAY + HOUR, "pending"], [(i % 6) * DAY + 9 * HOUR, "in-sync"]]);
    return strip(name, [[0, "in-sync"]]);
  });
  const last = (t: TimelineStrip): PostureVerdict => t.spans[t.spans.length - 1]!.verdict;
  const byVerdict = counts();
  for (const t of timelines) byVerdict[last(t)] += 1;
  const drifting = timelines.filter((t) => t.spans.length > 1);
  const episodes = drifting.map((t, i) => ({
    id: 1000 + i,
    stack: t.stack,
    openedAt: t.spans[1]!.from,
    ...(t.spans.length > 2 ? { closedAt: t.spans[2]!.from } : {}),
    durationMs: Date.parse(t.spans[1]!.to) - Date.parse(t.spans[1]!.from),
    open: t.spans.length <= 2,
    timeToDetectMs: 20 * 60_000,
    driftCount: 1,
    pendingCount: 0,
    resourceTypes: ["aws_s3_bucket"],
  }));
  return {
    ...base,
    name: `fleet of ${stacks}`,
    posture: {
      ...base.posture,
      stacks,
      byVerdict,
      inSyncShare: stacks > 0 ? byVerdict["in-sync"] / stacks : 0,
      stale: names.filter((_, i) => i % 50 === 0),
      needsAttention: names.filter((_, i) => i % 70 === 0),
      perStack: timelines.map((t, i) => ({
        stack: t.stack,
        engine: ENGINES[i % 3]!,
        verdict: last(t),
        lastRunId: `run-${i}`,
        lastCheckedAt: iso(TO - 15 * 60_000),
        driftCount: last(t) === "drifted" ? 1 : 0,
        pendingCount: 0,
        stale: i % 50 === 0,
        schedule: "*/15 * * * *",
      })),
    },
    episodes: { ...base.episodes, list: episodes },
    errors: { ...base.errors, stacks: timelines.filter((t) => last(t) === "error").map((t) => ({ stack: t.stack, runs: 2, kinds: ["engine-timeout"], lastAt: iso(TO - HOUR) })) },
    drift: {
      ...base.drift,
      flapping: names.filter((_, i) => i % 7 === 0 && i % 50 !== 0).map((stack) => ({ stack, address: "aws_s3_bucket.logs", type: "aws_s3_bucket", times: 3, since: iso(FROM + DAY), paths: ["tags.updated"] })),
      suggestedIgnore: names.filter((_, i) => i % 7 === 0 && i % 50 !== 0).map((stack) => ({ stack, yaml: ignoreRulesYaml([{ type: "aws_s3_bucket", paths: ["tags.updated"] }]) })),
      stacksByTimeInDrift: drifting.map((t) => ({ stack: t.stack, engine: "terraform", episodes: 1, timeInDriftMs: 8 * HOUR, shareOfPeriod: 8 / 168 })),
    },
    remediation: {
      ...base.remediation,
      decisions: 450,
      entries: Array.from({ length: 200 }, (_, i) => ({ auditId: 5000 - i, at: iso(TO - i * HOUR), stack: names[i % Math.max(1, stacks)] ?? "none", decision: "applied" as const, actor: "driftwatch", failedGuards: [], reason: "applied 1 change", outcome: "in-sync" })),
    },
    series: { stepMs: 6 * HOUR, verdicts: verdictPoints(timelines, 6 * HOUR), timeInDrift: histogram(episodes.filter((e) => !e.open).map((e) => e.durationMs)), timelines },
  };
}
