// Computes the fleet report (model.ts) from the store: per stack, its runs in the period and the run before it;
// the episodes, audit entries and approvals of the period. Definitions (docs/reports.md says the same):
//
// - A stack's verdict at a moment is its last run's started before that moment (never checked without one).
// - Time in drift of an episode: from the run that opened it to the run that found the stack in sync again (the
//   times Driftwatch recorded them), for episodes resolved within the period.
// - Time to detect: from the end of the last successful run before an episode to the end of the run that opened it,
//   an upper bound of how long the divergence went unnoticed (the schedule bounds it). Unknown when the stack had no
//   successful run before (the divergence predates its monitoring).
// - Percentiles are nearest-rank: the median of 1, 2, 3, 4 is 2.
// - Stale: the stack's last check started before the second-latest tick of its schedule (two ticks missed).
import type { StackConfig } from "../config/types.ts";
import { ignoreRulesYaml, suggestedIgnoreRules } from "../core/flapping.ts";
import type { Verdict } from "../core/types.ts";
import { type ApprovalStore, type EpisodeRecord, isRemediationDecision, type ReportSource, type RunPoint } from "../store/api.ts";
import { POSTURE_VERDICTS, REPORT_SCHEMA_VERSION, type AuditDecision, type CheckStats, type DriftStats, type DurationStats, type EpisodeStats, type EpisodeSummary, type ErrorStats, type FleetReport, type HistogramBin, type Posture, type RemediationStats, type ReportSeries, type StackPosture, type TimelineStrip } from "./model.ts";
import type { PostureVerdict } from "../core/report-digest.ts";
import { ticksAtOrBefore } from "./schedule.ts";
import { stacksMatching } from "./selection.ts";

/** What a report needs to know of a stack (plain data: it crosses to a worker thread as is). */
export type ReportStack = Pick<StackConfig, "name" | "engine" | "schedule">;

export interface ReportInput {
  store: ReportSource & Pick<ApprovalStore, "listApprovals">;
  stacks: readonly ReportStack[];
  from: Date;
  to: Date;
  /** Stack names or globs; empty or absent: every stack. */
  selection?: readonly string[];
  /** A scheduled report's name. */
  name?: string;
  /** When the report is made; default now. Approvals waiting and remediation paused are as of this moment. */
  generatedAt?: Date;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The most points the verdicts series has: the smallest of these steps that stays within it. */
const MAX_POINTS = 60;
const STEPS = [5 * 60_000, 15 * 60_000, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 7 * DAY, 28 * DAY];
const TOP = 10;
const MAX_ENTRIES = 200;

const HISTOGRAM: { fromMs: number; toMs?: number; label: string }[] = [
  { fromMs: 0, toMs: HOUR, label: "< 1h" },
  { fromMs: HOUR, toMs: 6 * HOUR, label: "1–6h" },
  { fromMs: 6 * HOUR, toMs: DAY, label: "6–24h" },
  { fromMs: DAY, toMs: 3 * DAY, label: "1–3d" },
  { fromMs: 3 * DAY, toMs: 7 * DAY, label: "3–7d" },
  { fromMs: 7 * DAY, toMs: 28 * DAY, label: "1–4w" },
  { fromMs: 28 * DAY, label: "≥ 4w" },
];

const ms = (iso: string) => Date.parse(iso);

function emptyVerdicts(): Record<PostureVerdict, number> {
  return Object.fromEntries(POSTURE_VERDICTS.map((v) => [v, 0])) as Record<PostureVerdict, number>;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function durationStats(values: readonly number[], withP95 = false): DurationStats {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return { count: 0 };
  return {
    count: sorted.length,
    medianMs: percentile(sorted, 50)!,
    p90Ms: percentile(sorted, 90)!,
    ...(withP95 ? { p95Ms: percentile(sorted, 95)! } : {}),
    maxMs: sorted[sorted.length - 1]!,
  };
}

/** Most frequent first, then by key. */
function byCount<T>(entries: Iterable<[string, T]>, count: (value: T) => number): [string, T][] {
  return [...entries].sort((a, b) => count(b[1]) - count(a[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** What the report keeps of one stack's runs once they are folded into the fleet's numbers. */
interface StackHistory {
  stack: ReportStack;
  /** The last run started before the period's end. */
  last?: RunPoint;
}

/** The fleet's runs in the period, folded stack by stack: one stack's runs are in memory at a time. */
interface FoldedRuns {
  histories: StackHistory[];
  checks: CheckStats;
  errors: ErrorStats;
  verdicts: ReportSeries["verdicts"];
  timelines: TimelineStrip[];
}

function stackPosture(h: StackHistory, to: Date, openSince: string | undefined, secondLatestTickOf: (schedule: ReportStack["schedule"]) => Date | undefined): StackPosture {
  const last = h.last;
  const { expression } = h.stack.schedule;
  const secondLatestTick = secondLatestTickOf(h.stack.schedule);
  const stale = last !== undefined && secondLatestTick !== undefined && ms(last.startedAt) < secondLatestTick.getTime();
  return {
    stack: h.stack.name,
    engine: h.stack.engine,
    verdict: last?.verdict ?? "never-checked",
    ...(last ? { lastRunId: last.runId, lastCheckedAt: last.finishedAt } : {}),
    driftCount: last?.driftCount ?? 0,
    pendingCount: last?.pendingCount ?? 0,
    ...(last?.verdict === "error" ? { errorKind: last.errorKind ?? "Error" } : {}),
    stale,
    schedule: expression,
    ...(openSince ? { openEpisodeSince: openSince } : {}),
  };
}

async function posture(input: ReportInput, histories: readonly StackHistory[], open: readonly EpisodeRecord[], to: Date, generatedAt: Date): Promise<Posture> {
  const openSince = new Map(open.map((e) => [e.stack, e.openedAt]));
  // A fleet shares a few schedules: each one's ticks are worked out once.
  const ticks = new Map<string, Date | undefined>();
  const secondLatestTickOf = ({ expression, timezone }: ReportStack["schedule"]) => {
    const key = `${timezone} ${expression}`;
    if (!ticks.has(key)) ticks.set(key, ticksAtOrBefore(expression, timezone, to, 2)[1]);
    return ticks.get(key);
  };
  const perStack = histories.map((h) => stackPosture(h, to, openSince.get(h.stack.name), secondLatestTickOf)).sort((a, b) => (a.stack < b.stack ? -1 : a.stack > b.stack ? 1 : 0));
  const byVerdict = emptyVerdicts();
  for (const s of perStack) byVerdict[s.verdict]++;
  const names = new Set(histories.map((h) => h.stack.name));
  const oldest = [...open].sort((a, b) => ms(a.openedAt) - ms(b.openedAt) || a.id - b.id)[0];
  const now = generatedAt.toISOString();
  const awaiting = (await input.store.listApprovals({ state: "pending", limit: Number.MAX_SAFE_INTEGER })).filter((a) => names.has(a.stack) && a.expiresAt > now);
  return {
    at: to.toISOString(),
    stacks: perStack.length,
    byVerdict,
    inSyncShare: perStack.length === 0 ? 0 : byVerdict["in-sync"] / perStack.length,
    resourcesDrifted: perStack.reduce((n, s) => n + s.driftCount, 0),
    resourcesPending: perStack.reduce((n, s) => n + s.pendingCount, 0),
    stale: perStack.filter((s) => s.stale).map((s) => s.stack),
    openEpisodes: open.length,
    ...(oldest ? { oldestOpenEpisode: { stack: oldest.stack, episodeId: oldest.id, openedAt: oldest.openedAt, ageMs: to.getTime() - ms(oldest.openedAt) } } : {}),
    awaitingApproval: awaiting.length,
    needsAttention: (await input.store.stacksNeedingAttention()).filter((s) => names.has(s)),
    perStack,
  };
}

/** From the end of the last successful run before the episode to the end of the run that opened it. */
async function timeToDetect(input: ReportInput, episode: EpisodeRecord): Promise<number | undefined> {
  let previous = await input.store.lastRunPoint(episode.stack, episode.openedAt, { successful: true });
  // The run that opened the episode started before it ended (openedAt): step over it.
  if (previous?.runId === episode.openedRunId) previous = await input.store.lastRunPoint(episode.stack, previous.startedAt, { successful: true });
  return previous ? ms(episode.openedAt) - ms(previous.finishedAt) : undefined;
}

async function episodeSummary(input: ReportInput, e: EpisodeRecord, from: number, to: number): Promise<EpisodeSummary> {
  const open = e.closedAt === undefined || ms(e.closedAt) >= to;
  const openedInPeriod = ms(e.openedAt) >= from;
  const ttd = openedInPeriod ? await timeToDetect(input, e) : undefined;
  return {
    id: e.id,
    stack: e.stack,
    openedAt: e.openedAt,
    ...(open ? {} : { closedAt: e.closedAt! }),
    durationMs: (open ? to : ms(e.closedAt!)) - ms(e.openedAt),
    open,
    ...(ttd === undefined ? {} : { timeToDetectMs: ttd }),
    driftCount: e.changes.filter((c) => c.kind === "drift").length,
    pendingCount: e.changes.filter((c) => c.kind === "pending").length,
    resourceTypes: [...new Set(e.changes.map((c) => c.type))].sort(),
  };
}

function episodeStats(list: readonly EpisodeSummary[], from: number, to: number): EpisodeStats {
  const inPeriod = (iso: string | undefined) => iso !== undefined && ms(iso) >= from && ms(iso) < to;
  const resolved = list.filter((e) => inPeriod(e.closedAt));
  const opened = list.filter((e) => inPeriod(e.openedAt));
  const longest = [...resolved].sort((a, b) => b.durationMs - a.durationMs || a.id - b.id)[0];
  return {
    opened: opened.length,
    resolved: resolved.length,
    stillOpen: list.filter((e) => e.open).length,
    timeInDrift: durationStats(resolved.map((e) => e.durationMs)),
    ...(longest ? { longestResolved: { stack: longest.stack, episodeId: longest.id, durationMs: longest.durationMs } } : {}),
    timeToDetect: durationStats(opened.flatMap((e) => (e.timeToDetectMs === undefined ? [] : [e.timeToDetectMs]))),
    timeToDetectUnknown: opened.filter((e) => e.timeToDetectMs === undefined).length,
    list: [...list],
  };
}

/** Sorted by engine; durations as DurationStats with p95. */
function engineChecks(engines: ReadonlyMap<string, { runs: number; errors: number; durations: number[] }>): CheckStats["byEngine"] {
  return [...engines]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([engine, e]) => ({ engine, runs: e.runs, errors: e.errors, durations: durationStats(e.durations, true) }));
}

/** One stack's verdict as spans from the period's start to its end. */
function timelineOf(stack: string, before: RunPoint | undefined, runs: readonly RunPoint[], from: number, to: number): TimelineStrip {
  const spans: TimelineStrip["spans"] = [];
  let verdict: PostureVerdict = before?.verdict ?? "never-checked";
  let since = from;
  for (const run of runs) {
    if (run.verdict === verdict) continue;
    const at = Math.max(from, ms(run.startedAt));
    if (at > since) spans.push({ from: new Date(since).toISOString(), to: new Date(at).toISOString(), verdict });
    verdict = run.verdict;
    since = at;
  }
  spans.push({ from: new Date(since).toISOString(), to: new Date(to).toISOString(), verdict });
  return { stack, spans };
}

async function foldRuns(input: ReportInput, stacks: readonly ReportStack[], from: number, to: number): Promise<FoldedRuns> {
  const fromIso = new Date(from).toISOString();
  const toIso = new Date(to).toISOString();
  const stepMs = seriesStep(to - from);
  const moments: number[] = [];
  for (let t = from; t < to; t += stepMs) moments.push(t);
  moments.push(to);
  const verdicts = moments.map((t) => ({ at: new Date(t).toISOString(), byVerdict: emptyVerdicts() }));
  const byVerdict = Object.fromEntries(POSTURE_VERDICTS.filter((v) => v !== "never-checked").map((v) => [v, 0])) as Record<Verdict, number>;
  const engines = new Map<string, { runs: number; errors: number; durations: number[] }>();
  const kinds = new Map<string, { runs: number; stacks: Set<string> }>();
  const errorStacks: ErrorStats["stacks"] = [];
  const histories: StackHistory[] = [];
  const timelines: TimelineStrip[] = [];
  let total = 0;
  for (const stack of stacks) {
    const [before, runs] = await Promise.all([input.store.lastRunPoint(stack.name, fromIso), input.store.runPoints(stack.name, fromIso, toIso)]);
    total += runs.length;
    const ownKinds = new Set<string>();
    let errors = 0;
    let lastErrorAt = "";
    for (const run of runs) {
      byVerdict[run.verdict]++;
      const engine = engines.get(run.engine) ?? { runs: 0, errors: 0, durations: [] };
      engine.runs++;
      engine.durations.push(run.durationMs);
      engines.set(run.engine, engine);
      if (run.verdict !== "error") continue;
      engine.errors++;
      errors++;
      lastErrorAt = run.startedAt;
      const kind = run.errorKind ?? "Error";
      ownKinds.add(kind);
      const k = kinds.get(kind) ?? { runs: 0, stacks: new Set<string>() };
      k.runs++;
      k.stacks.add(stack.name);
      kinds.set(kind, k);
    }
    if (errors > 0) errorStacks.push({ stack: stack.name, runs: errors, kinds: [...ownKinds].sort(), lastAt: lastErrorAt });
    // The verdicts series: the runs walked once, moment by moment ("started before the moment").
    let i = 0;
    let current: PostureVerdict = before?.verdict ?? "never-checked";
    moments.forEach((t, k) => {
      while (i < runs.length && ms(runs[i]!.startedAt) < t) current = runs[i++]!.verdict;
      verdicts[k]!.byVerdict[current]++;
    });
    timelines.push(timelineOf(stack.name, before, runs, from, to));
    const last = runs.at(-1) ?? before;
    histories.push({ stack, ...(last ? { last } : {}) });
  }
  return {
    histories,
    checks: { runs: total, byVerdict, byEngine: engineChecks(engines) },
    errors: {
      byKind: byCount(kinds, (k) => k.runs).map(([kind, k]) => ({ kind, runs: k.runs, stacks: k.stacks.size })),
      stacks: errorStacks.sort((a, b) => b.runs - a.runs || (a.stack < b.stack ? -1 : 1)),
    },
    verdicts,
    timelines: timelines.sort((a, b) => (a.stack < b.stack ? -1 : a.stack > b.stack ? 1 : 0)),
  };
}

function driftStats(episodes: readonly EpisodeRecord[], stacks: readonly ReportStack[], from: number, to: number): DriftStats {
  const types = new Map<string, { episodes: number; resources: number }>();
  const paths = new Map<string, { type: string; path: string; episodes: number }>();
  const flapping = new Map<string, DriftStats["flapping"][number]>();
  const perStack = new Map<string, { episodes: number; timeInDriftMs: number }>();
  for (const e of episodes) {
    const seenTypes = new Set<string>();
    const seenPaths = new Set<string>();
    for (const change of e.changes) {
      const t = types.get(change.type) ?? { episodes: 0, resources: 0 };
      t.resources++;
      if (!seenTypes.has(change.type)) t.episodes++;
      seenTypes.add(change.type);
      types.set(change.type, t);
      if (change.kind !== "drift") continue;
      for (const p of change.properties) {
        const key = JSON.stringify([change.type, p.path]);
        if (seenPaths.has(key)) continue;
        seenPaths.add(key);
        const entry = paths.get(key) ?? { type: change.type, path: p.path, episodes: 0 };
        entry.episodes++;
        paths.set(key, entry);
      }
    }
    for (const f of e.flapping ?? []) {
      const key = JSON.stringify([e.stack, f.address]);
      const known = flapping.get(key);
      if (!known || f.times >= known.times) flapping.set(key, { stack: e.stack, ...f });
    }
    const start = Math.max(from, ms(e.openedAt));
    const end = Math.min(to, e.closedAt === undefined ? to : ms(e.closedAt));
    const s = perStack.get(e.stack) ?? { episodes: 0, timeInDriftMs: 0 };
    s.episodes++;
    s.timeInDriftMs += Math.max(0, end - start);
    perStack.set(e.stack, s);
  }
  const flaps = [...flapping.values()].sort((a, b) => (a.stack < b.stack ? -1 : a.stack > b.stack ? 1 : b.times - a.times || (a.address < b.address ? -1 : 1)));
  const flappingStacks = [...new Set(flaps.map((f) => f.stack))];
  const engines = new Map(stacks.map((s) => [s.name, s.engine]));
  const period = to - from;
  return {
    topResourceTypes: byCount(types, (t) => t.episodes * 1e6 + t.resources)
      .slice(0, TOP)
      .map(([type, t]) => ({ type, ...t })),
    topPropertyPaths: byCount(paths, (p) => p.episodes)
      .slice(0, TOP)
      .map(([, p]) => p),
    flapping: flaps,
    suggestedIgnore: flappingStacks.flatMap((stack) => {
      const rules = suggestedIgnoreRules(flaps.filter((f) => f.stack === stack));
      return rules.length === 0 ? [] : [{ stack, yaml: ignoreRulesYaml(rules) }];
    }),
    stacksByTimeInDrift: byCount(perStack, (s) => s.timeInDriftMs)
      .filter(([, s]) => s.timeInDriftMs > 0)
      .map(([stack, s]) => ({ stack, engine: engines.get(stack) ?? "", episodes: s.episodes, timeInDriftMs: s.timeInDriftMs, shareOfPeriod: period > 0 ? s.timeInDriftMs / period : 0 })),
  };
}

async function remediationStats(input: ReportInput, names: ReadonlySet<string>, from: string, to: string): Promise<RemediationStats> {
  // People acknowledging, snoozing or asking for a check are in the audit log, but are not remediation decisions.
  const audit = (await input.store.auditBetween(from, to)).filter((e) => names.has(e.stack) && isRemediationDecision(e.decision));
  const byDecision: Partial<Record<AuditDecision, number>> = {};
  const refused = new Map<string, number>();
  for (const entry of audit) {
    byDecision[entry.decision] = (byDecision[entry.decision] ?? 0) + 1;
    if (entry.decision !== "refused") continue;
    const guard = entry.guards.find((g) => !g.passed)?.guard ?? "plan-changed";
    refused.set(guard, (refused.get(guard) ?? 0) + 1);
  }
  const approvals = { requested: 0, pending: 0, applied: 0, refused: 0, rejected: 0, failed: 0, void: 0, expired: 0 };
  for (const a of await input.store.approvalsRequestedBetween(from, to)) {
    if (!names.has(a.stack)) continue;
    approvals.requested++;
    approvals[a.state]++;
  }
  return {
    decisions: audit.length,
    byDecision,
    refusedBy: byCount(refused, (n) => n).map(([guard, count]) => ({ guard, count })),
    approvals,
    entries: audit.slice(0, MAX_ENTRIES).map((e) => ({
      auditId: e.id ?? 0,
      at: e.at,
      stack: e.stack,
      decision: e.decision,
      actor: e.actor,
      failedGuards: e.guards.filter((g) => !g.passed).map((g) => g.guard),
      ...(e.reason === undefined ? {} : { reason: e.reason }),
      ...(e.outcome === undefined ? {} : { outcome: e.outcome }),
    })),
  };
}

/** The spacing of the verdicts series: the smallest step that keeps it within MAX_POINTS. */
export function seriesStep(periodMs: number): number {
  return STEPS.find((step) => periodMs / step <= MAX_POINTS) ?? Math.ceil(periodMs / MAX_POINTS);
}

function histogram(resolvedDurations: readonly number[]): HistogramBin[] {
  return HISTOGRAM.map((bin) => ({
    ...bin,
    count: resolvedDurations.filter((d) => d >= bin.fromMs && (bin.toMs === undefined || d < bin.toMs)).length,
  }));
}

/** The fleet report of the selected stacks over [from, to). */
export async function computeReport(input: ReportInput): Promise<FleetReport> {
  const { from, to } = input;
  if (!(from.getTime() < to.getTime())) throw new RangeError(`the report's period must end after it starts (from ${from.toISOString()}, to ${to.toISOString()})`);
  const generatedAt = input.generatedAt ?? new Date();
  const fromIso = from.toISOString();
  const toIso = to.toISOString();
  const stacks = stacksMatching(input.stacks, input.selection);
  const names = new Set(stacks.map((s) => s.name));
  const folded = await foldRuns(input, stacks, from.getTime(), to.getTime());
  const episodes = (await input.store.episodesOverlapping(fromIso, toIso)).filter((e) => names.has(e.stack));
  const list: EpisodeSummary[] = [];
  for (const e of episodes) list.push(await episodeSummary(input, e, from.getTime(), to.getTime()));
  const openAtEnd = episodes.filter((_, i) => list[i]!.open);
  const episodeData = episodeStats(list, from.getTime(), to.getTime());
  const resolvedDurations = list.filter((e) => e.closedAt !== undefined && ms(e.closedAt) >= from.getTime()).map((e) => e.durationMs);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    ...(input.name ? { name: input.name } : {}),
    generatedAt: generatedAt.toISOString(),
    period: { from: fromIso, to: toIso, durationMs: to.getTime() - from.getTime() },
    selection: [...(input.selection ?? [])],
    posture: await posture(input, folded.histories, openAtEnd, to, generatedAt),
    episodes: episodeData,
    checks: folded.checks,
    errors: folded.errors,
    drift: driftStats(episodes, stacks, from.getTime(), to.getTime()),
    remediation: await remediationStats(input, names, fromIso, toIso),
    series: { stepMs: seriesStep(to.getTime() - from.getTime()), verdicts: folded.verdicts, timeInDrift: histogram(resolvedDurations), timelines: folded.timelines },
  };
}
