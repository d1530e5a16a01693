// What a rendered report says, decided once for every format: the sections, their facts and tables, in order.
// The text, markdown and HTML renderers only lay this outline out (aligned columns, pipe tables, <table>s), so the
// three cannot drift apart in content, and escaping is each renderer's single job. Cells carry raw text plus what
// a format may make of it: a link (a stack, a run, an audit entry), a verdict (a badge), a time (<time>).
import { formatDuration } from "../core/durations.ts";
import { shortAddress } from "../core/present.ts";
import { formatPercent, formatTime, plural } from "./format.ts";
import { POSTURE_VERDICTS, type AuditDecision, type DurationStats, type FleetReport, type StackPosture } from "./model.ts";
import type { PostureVerdict } from "../core/report-digest.ts";

export type Link = { kind: "stack"; stack: string } | { kind: "run"; runId: string } | { kind: "audit"; auditId: number };

/** A piece of inline content. */
export interface Inline {
  text: string;
  link?: Link;
  /** The text is this verdict (HTML shows a badge). */
  verdict?: PostureVerdict;
  /** The text shows this ISO time (HTML: a <time datetime>). */
  time?: string;
  /** Literal text: a resource type, an address, a property path (code in markdown and HTML). */
  code?: boolean;
}

export type Cell = Inline[];

export interface Column {
  label: string;
  numeric?: boolean;
}

export interface TableBlock {
  kind: "table";
  id: string;
  caption: string;
  columns: Column[];
  rows: Cell[][];
  /** What was left out ("…and 12 more stacks"), when the list was capped. */
  more?: string;
  /** What to say instead of an empty table. */
  empty: string;
}

export interface FactsBlock {
  kind: "facts";
  items: { label: string; value: Cell }[];
}

export interface CodeBlock {
  kind: "code";
  caption: string;
  language: string;
  text: string;
}

export interface NoteBlock {
  kind: "note";
  text: Cell;
}

export type PlotName = "verdicts" | "time-in-drift" | "timelines";

/** Where a plot goes; the formats that cannot draw skip it (its numbers are in the tables too). */
export interface PlotBlock {
  kind: "plot";
  plot: PlotName;
}

export type Block = TableBlock | FactsBlock | CodeBlock | NoteBlock | PlotBlock;

export interface Section {
  id: string;
  title: string;
  blocks: Block[];
}

export interface Outline {
  title: string;
  header: FactsBlock;
  sections: Section[];
}

export interface OutlineOptions {
  /** At most this many rows per per-stack list (stacks, episodes, flapping resources, audit entries). */
  limit: number;
  /** List every stack in the posture table (uncapped), not only those out of sync. */
  allStacks: boolean;
}

/** Suggested ignore rules are whole YAML documents: fewer of them fit than table rows. */
const MAX_IGNORE_SUGGESTIONS = 20;

/** The order decisions are listed in: what happened first, then why nothing did. */
const DECISION_ORDER: readonly AuditDecision[] = ["applied", "approval-requested", "refused", "rejected", "noop", "failed", "busy", "backoff", "needs-attention", "interrupted"];

// --- inline content -----------------------------------------------------------------------------------------------

function t(text: string): Inline {
  return { text };
}

function num(value: number): Cell {
  return [t(String(value))];
}

function code(text: string): Inline {
  return { text, code: true };
}

function at(iso: string, link?: Link): Inline {
  return link ? { text: formatTime(iso), time: iso, link } : { text: formatTime(iso), time: iso };
}

function stackRef(stack: string): Inline {
  return { text: stack, link: { kind: "stack", stack } };
}

function verdict(v: PostureVerdict): Inline {
  return { text: v, verdict: v };
}

function dur(ms: number | undefined): string {
  return ms === undefined ? "–" : formatDuration(ms);
}

/** A check's duration: tenths of a second below a minute, where "2s" and "2.9s" are worth telling apart. */
function checkDuration(ms: number | undefined): string {
  if (ms === undefined) return "–";
  return ms < 60_000 ? `${(Math.max(0, ms) / 1000).toFixed(1)}s` : formatDuration(ms);
}

/** Items separated by ", "; `none` when there are none. */
function list(items: readonly Inline[], none = "none"): Cell {
  if (items.length === 0) return [t(none)];
  return items.flatMap((item, i) => (i === 0 ? [item] : [t(", "), item]));
}

/** Stack names as links, at most `limit`, the rest counted. */
function stackList(stacks: readonly string[], limit: number): Cell {
  const shown = list(stacks.slice(0, limit).map(stackRef));
  return stacks.length > limit ? [...shown, t(` …and ${stacks.length - limit} more`)] : shown;
}

function capped<T>(items: readonly T[], limit: number, noun: string, nouns: string): { shown: readonly T[]; more?: string } {
  if (items.length <= limit) return { shown: items };
  return { shown: items.slice(0, limit), more: `…and ${plural(items.length - limit, noun, nouns)}` };
}

/** "median 2h 15m, p90 1d 2h, max 3d" from the statistics that are there. */
function stats(s: DurationStats, which: readonly ("medianMs" | "p90Ms" | "p95Ms" | "maxMs")[]): string {
  const names = { medianMs: "median", p90Ms: "p90", p95Ms: "p95", maxMs: "max" } as const;
  const parts = which.flatMap((k) => (s[k] === undefined ? [] : [`${names[k]} ${formatDuration(s[k])}`]));
  return parts.join(", ");
}

function table(id: string, caption: string, columns: Column[], rows: Cell[][], empty: string, more?: string): TableBlock {
  return more === undefined ? { kind: "table", id, caption, columns, rows, empty } : { kind: "table", id, caption, columns, rows, empty, more };
}

const numeric = (label: string): Column => ({ label, numeric: true });
const column = (label: string): Column => ({ label });

// --- sections -----------------------------------------------------------------------------------------------------

function header(report: FleetReport): FactsBlock {
  const { period } = report;
  return {
    kind: "facts",
    items: [
      { label: "Period", value: [at(period.from), t(" to "), at(period.to), t(` (${formatDuration(period.durationMs)})`)] },
      { label: "Generated", value: [at(report.generatedAt)] },
      { label: "Stacks", value: report.selection.length === 0 ? [t("all configured stacks")] : list(report.selection.map(code)) },
    ],
  };
}

/** Out-of-sync stacks grouped by verdict (in POSTURE_VERDICTS order), by name within a verdict. */
function outOfSync(stacks: readonly StackPosture[]): StackPosture[] {
  const rank = (s: StackPosture): number => POSTURE_VERDICTS.indexOf(s.verdict);
  return stacks.filter((s) => s.verdict !== "in-sync").sort((a, b) => rank(a) - rank(b));
}

function stackRow(s: StackPosture): Cell[] {
  const notes = [...(s.stale ? ["stale"] : []), ...(s.errorKind ? [`error: ${s.errorKind}`] : [])];
  const lastCheck = s.lastCheckedAt ? [at(s.lastCheckedAt, s.lastRunId ? { kind: "run", runId: s.lastRunId } : undefined)] : [t("never")];
  return [[stackRef(s.stack)], [t(s.engine)], [verdict(s.verdict)], num(s.driftCount), num(s.pendingCount), lastCheck, s.openEpisodeSince ? [at(s.openEpisodeSince)] : [t("–")], [t(notes.join("; ") || "–")]];
}

function postureSection(report: FleetReport, options: OutlineOptions): Section {
  const p = report.posture;
  const oldest = p.oldestOpenEpisode;
  const facts: FactsBlock = {
    kind: "facts",
    items: [
      { label: "Stacks", value: num(p.stacks) },
      { label: "In sync", value: [t(`${formatPercent(p.inSyncShare)} (${p.byVerdict["in-sync"]} of ${p.stacks})`)] },
      { label: "Resources", value: [t(`${p.resourcesDrifted} drifted, ${p.resourcesPending} pending`)] },
      { label: "Stale stacks", value: stackList(p.stale, options.limit) },
      {
        label: "Open episodes",
        value: oldest
          ? [t(`${p.openEpisodes}; the oldest: `), stackRef(oldest.stack), t(` #${oldest.episodeId}, open ${formatDuration(oldest.ageMs)} (since `), at(oldest.openedAt), t(")")]
          : num(p.openEpisodes),
      },
      { label: "Awaiting approval", value: [t(plural(p.awaitingApproval, "plan"))] },
      { label: "Needs attention", value: stackList(p.needsAttention, options.limit) },
    ],
  };
  const byVerdict = POSTURE_VERDICTS.map((v) => [[verdict(v)], num(p.byVerdict[v] ?? 0), [t(formatPercent(p.stacks > 0 ? (p.byVerdict[v] ?? 0) / p.stacks : 0))]]);
  const listed = options.allStacks ? p.perStack : outOfSync(p.perStack);
  // The HTML report lists every stack (one searchable page); the others only those out of sync, capped.
  const stacks = options.allStacks ? { shown: listed } : capped(listed, options.limit, "more stack", "more stacks");
  const columns = [column("Stack"), column("Engine"), column("Verdict"), numeric("Drifted"), numeric("Pending"), column("Last check"), column("Open episode since"), column("Notes")];
  return {
    id: "posture",
    title: `Posture at ${formatTime(p.at)}`,
    blocks: [
      facts,
      table("posture-verdicts", "Stacks by verdict", [column("Verdict"), numeric("Stacks"), numeric("Share")], byVerdict, "No stacks."),
      { kind: "plot", plot: "verdicts" },
      table("posture-stacks", options.allStacks ? "Stacks" : "Stacks not in sync", columns, stacks.shown.map(stackRow), options.allStacks ? "No stacks." : "Every stack is in sync.", stacks.more),
    ],
  };
}

function episodesSection(report: FleetReport, options: OutlineOptions): Section {
  const e = report.episodes;
  const longest = e.longestResolved;
  const timeInDrift: Cell =
    e.timeInDrift.count === 0
      ? [t("no episode resolved in the period")]
      : [
          t(`${stats(e.timeInDrift, ["medianMs", "p90Ms"])} (${plural(e.timeInDrift.count, "resolved episode")})`),
          ...(longest ? [t("; longest: "), stackRef(longest.stack), t(` #${longest.episodeId}, ${formatDuration(longest.durationMs)}`)] : []),
        ];
  const unknown = e.timeToDetectUnknown > 0 ? `; unknown for ${e.timeToDetectUnknown} (no successful check before them: the drift predates monitoring)` : "";
  const timeToDetect = e.timeToDetect.count === 0 ? `no measurement${unknown}` : `${stats(e.timeToDetect, ["medianMs", "p90Ms", "maxMs"])} (${plural(e.timeToDetect.count, "episode")})${unknown}`;
  const bins = report.series.timeInDrift.map((b) => [[t(b.label)], num(b.count)]);
  const episodes = capped(e.list, options.limit, "more episode", "more episodes");
  const rows = episodes.shown.map((ep) => [
    [t(`#${ep.id}`)],
    [stackRef(ep.stack)],
    [at(ep.openedAt)],
    ep.closedAt && !ep.open ? [at(ep.closedAt)] : [t("still open")],
    [t(formatDuration(ep.durationMs))],
    [t(dur(ep.timeToDetectMs))],
    num(ep.driftCount),
    num(ep.pendingCount),
    list(ep.resourceTypes.map(code), "–"),
  ]);
  const columns = [column("Episode"), column("Stack"), column("Opened"), column("Resolved"), column("Time in drift"), column("Time to detect"), numeric("Drifted"), numeric("Pending"), column("Resource types")];
  return {
    id: "episodes",
    title: "Drift episodes",
    blocks: [
      {
        kind: "facts",
        items: [
          { label: "Episodes", value: [t(`${e.opened} opened, ${e.resolved} resolved, ${e.stillOpen} still open at the end`)] },
          { label: "Time in drift", value: timeInDrift },
          { label: "Time to detect", value: [t(timeToDetect)] },
        ],
      },
      table("episodes-time-in-drift", "Resolved episodes by time in drift", [column("Time in drift"), numeric("Episodes")], bins, "No episode resolved in the period."),
      { kind: "plot", plot: "time-in-drift" },
      { kind: "plot", plot: "timelines" },
      table("episodes-list", "Episodes in the period", columns, rows, "No drift episode in the period.", episodes.more),
    ],
  };
}

function checksSection(report: FleetReport): Section {
  const c = report.checks;
  const verdicts = POSTURE_VERDICTS.flatMap((v) => (v === "never-checked" ? [] : [`${c.byVerdict[v] ?? 0} ${v}`])).join(", ");
  const rows = c.byEngine.map((e) => [[t(e.engine)], num(e.runs), num(e.errors), [t(checkDuration(e.durations.medianMs))], [t(checkDuration(e.durations.p95Ms))], [t(checkDuration(e.durations.maxMs))]]);
  return {
    id: "checks",
    title: "Checks",
    blocks: [
      { kind: "facts", items: [{ label: "Checks", value: [t(c.runs === 0 ? "no check finished in the period" : `${plural(c.runs, "run")}: ${verdicts}`)] }] },
      table("checks-engines", "Checks per engine (duration percentiles)", [column("Engine"), numeric("Runs"), numeric("Errors"), numeric("Median"), numeric("p95"), numeric("Max")], rows, "No checks."),
    ],
  };
}

function errorsSection(report: FleetReport, options: OutlineOptions): Section {
  const e = report.errors;
  const stacks = capped(e.stacks, options.limit, "more stack", "more stacks");
  return {
    id: "errors",
    title: "Errors",
    blocks: [
      table("errors-kinds", "Failed checks by kind", [column("Kind"), numeric("Runs"), numeric("Stacks")], e.byKind.map((k) => [[code(k.kind)], num(k.runs), num(k.stacks)]), "No check failed in the period."),
      table(
        "errors-stacks",
        "Stacks with failed checks",
        [column("Stack"), numeric("Failed runs"), column("Kinds"), column("Last failure")],
        stacks.shown.map((s) => [[stackRef(s.stack)], num(s.runs), list(s.kinds.map(code)), [at(s.lastAt)]]),
        "No stack failed a check in the period.",
        stacks.more,
      ),
    ],
  };
}

function driftSection(report: FleetReport, options: OutlineOptions): Section {
  const d = report.drift;
  const flapping = capped(d.flapping, options.limit, "more flapping resource", "more flapping resources");
  const offenders = capped(d.stacksByTimeInDrift, options.limit, "more stack", "more stacks");
  const suggestions = capped(d.suggestedIgnore, MAX_IGNORE_SUGGESTIONS, "more stack", "more stacks");
  const ignoreBlocks: Block[] = suggestions.shown.map((s) => ({ kind: "code", caption: `Suggested ignore rules for ${s.stack}`, language: "yaml", text: s.yaml }));
  if (ignoreBlocks.length > 0) {
    ignoreBlocks.unshift({ kind: "note", text: [t("Resources that keep drifting back are usually owned by something besides Git (an autoscaler, a controller, a person's routine). If so, these ignore rules in the stack's configuration end the churn:")] });
  }
  if (suggestions.more) ignoreBlocks.push({ kind: "note", text: [t(`${suggestions.more} with suggested ignore rules`)] });
  return {
    id: "drift",
    title: "What drifts",
    blocks: [
      table("drift-types", "Resource types by episodes", [column("Resource type"), numeric("Episodes"), numeric("Resources")], d.topResourceTypes.map((r) => [[code(r.type)], num(r.episodes), num(r.resources)]), "No drift in the period."),
      table("drift-paths", "Drifted properties by episodes", [column("Resource type"), column("Property path"), numeric("Episodes")], d.topPropertyPaths.map((r) => [[code(r.type)], [code(r.path)], num(r.episodes)]), "No drifted property recorded."),
      table(
        "drift-flapping",
        "Flapping resources (drifting again and again)",
        [column("Stack"), column("Resource"), column("Type"), numeric("Times"), column("Since"), column("Paths")],
        flapping.shown.map((f) => [[stackRef(f.stack)], [code(shortAddress(f.address))], [code(f.type)], num(f.times), [at(f.since)], list(f.paths.map(code), "–")]),
        "No resource flapped.",
        flapping.more,
      ),
      ...ignoreBlocks,
      table(
        "drift-stacks",
        "Stacks by time in drift",
        [column("Stack"), column("Engine"), numeric("Episodes"), numeric("Time in drift"), numeric("Share of period")],
        offenders.shown.map((s) => [[stackRef(s.stack)], [t(s.engine)], num(s.episodes), [t(formatDuration(s.timeInDriftMs))], [t(formatPercent(s.shareOfPeriod))]]),
        "No stack drifted in the period.",
        offenders.more,
      ),
    ],
  };
}

function remediationSection(report: FleetReport, options: OutlineOptions): Section {
  const r = report.remediation;
  const known = DECISION_ORDER.filter((d) => (r.byDecision[d] ?? 0) > 0);
  const others = (Object.keys(r.byDecision) as AuditDecision[]).filter((d) => !DECISION_ORDER.includes(d) && (r.byDecision[d] ?? 0) > 0);
  const decisions = [...known, ...others].map((d) => `${d} ${r.byDecision[d]}`).join(", ");
  const a = r.approvals;
  const approvalStates = (["pending", "applied", "refused", "rejected", "failed", "void", "expired"] as const).flatMap((k) => (a[k] > 0 ? [`${a[k]} ${k}`] : []));
  // `entries` holds at most 200 of the period's decisions; `decisions` counts them all.
  const shown = r.entries.slice(0, options.limit);
  const unlisted = r.decisions - shown.length;
  const rows = shown.map((e) => [
    [{ text: `#${e.auditId}`, link: { kind: "audit", auditId: e.auditId } } satisfies Inline],
    [at(e.at)],
    [stackRef(e.stack)],
    [t(e.decision)],
    [t(e.actor)],
    list(e.failedGuards.map(code), "–"),
    [t(e.outcome ?? "–")],
    [t(e.reason ?? "–")],
  ]);
  return {
    id: "remediation",
    title: "Remediation",
    blocks: [
      {
        kind: "facts",
        items: [
          { label: "Decisions", value: [t(r.decisions === 0 ? "none in the period" : `${r.decisions}: ${decisions}`)] },
          { label: "Approvals", value: [t(a.requested === 0 ? "none requested in the period" : `${a.requested} requested${approvalStates.length ? `: ${approvalStates.join(", ")}` : ""}`)] },
        ],
      },
      table("remediation-guards", "Refusals by the first guard that said no", [column("Guard"), numeric("Refusals")], r.refusedBy.map((g) => [[code(g.guard)], num(g.count)]), "No refusals."),
      table(
        "remediation-entries",
        "Decisions, newest first",
        [column("Audit entry"), column("At"), column("Stack"), column("Decision"), column("By"), column("Failed guards"), column("Outcome"), column("Reason")],
        rows,
        "No remediation decision in the period.",
        unlisted > 0 ? `…and ${plural(unlisted, "more decision", "more decisions")}` : undefined,
      ),
    ],
  };
}

/** The report as sections of facts, tables, plots and code, in the order every format shows them. */
export function reportOutline(report: FleetReport, options: OutlineOptions): Outline {
  return {
    title: report.name ? `Driftwatch fleet report: ${report.name}` : "Driftwatch fleet report",
    header: header(report),
    sections: [postureSection(report, options), episodesSection(report, options), checksSection(report), errorsSection(report, options), driftSection(report, options), remediationSection(report, options)],
  };
}

// --- links --------------------------------------------------------------------------------------------------------

/**
 * The dashboard's URL links point to, without a trailing slash; only http(s) URLs and absolute paths, so that a
 * misconfigured base can never become a `javascript:` link. Undefined: no links.
 */
export function linkBase(baseUrl: string | undefined): string | undefined {
  if (baseUrl === undefined) return undefined;
  const trimmed = baseUrl.trim().replace(/\/+$/, "");
  if (/^https?:\/\/[^\s]+$/i.test(trimmed) || /^\/(?!\/)\S*$/.test(trimmed) || trimmed === "") return trimmed;
  return undefined;
}

/** Where a link goes on the dashboard under `base`. */
export function linkHref(base: string, link: Link): string {
  switch (link.kind) {
    case "stack":
      return `${base}/stacks/${encodeURIComponent(link.stack)}`;
    case "run":
      return `${base}/runs/${encodeURIComponent(link.runId)}`;
    case "audit":
      return `${base}/audit#audit-${link.auditId}`;
  }
}

/** A cell's text as one plain string (for widths, and the formats without links or badges). */
export function plainText(cell: Cell): string {
  return cell.map((i) => i.text).join("");
}
