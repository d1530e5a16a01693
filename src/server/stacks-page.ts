// The home page: the fleet at a glance (stacks per verdict, stale ones, open episodes, plans waiting for approval,
// the last days' verdicts as a stacked area), then the stack table with its filter form and sortable columns.
// The summary and the table are the page's live parts: the refresh script swaps them and leaves the form alone.
import { formatDuration } from "../core/durations.ts";
import { plural } from "../core/present.ts";
import type { PostureVerdict } from "../core/report-digest.ts";
import type { FleetSummary } from "../reports/summary.ts";
import { POSTURE_VERDICTS } from "../reports/model.ts";
import { verdictAreaSvg } from "../reports/svg.ts";
import { age, ago, badge, escapeHtml as h, field, page, when, type StackRow } from "./dashboard.ts";
import {
  DEFAULT_QUERY,
  effectiveOrder,
  ENGINES,
  rowVerdict,
  selectRows,
  SORT_KEYS,
  sortHref,
  stacksHref,
  STATUS_FILTERS,
  type SortKey,
  type StackQuery,
  type StatusFilter,
} from "./stack-query.ts";
import type { SandboxReport } from "../sandbox/report.ts";
import { sandboxNotice } from "./sandbox-notice.ts";

/** What the summary shows of a fleet report (none of its per-stack parts). */
export type FleetSummaryInput = FleetSummary;

export interface StacksPageOptions {
  /** The fleet report of the last days; absent: the summary says it is unavailable. */
  fleet?: FleetSummaryInput;
  query?: StackQuery;
  now?: number;
  /** What the OS sandbox can enforce here (a notice when stacks will not run or run unconfined). */
  sandbox?: SandboxReport;
}

const LABELS: Record<StatusFilter, string> = {
  "in-sync": "in sync",
  drifted: "drifted",
  pending: "pending",
  "drifted+pending": "drifted + pending",
  error: "error",
  "never-checked": "never checked",
  stale: "stale",
};

/** "7 days" for whole days, "36h" otherwise. */
function periodText(ms: number): string {
  const days = ms / 86_400_000;
  return Number.isInteger(days) ? plural(days, "day", "days") : formatDuration(ms);
}

function tile(status: StatusFilter, count: number): string {
  const tone = status === "drifted+pending" ? "drifted" : status;
  return `<li><a class="${h(tone)}${count === 0 ? " zero" : ""}" href="${h(stacksHref({ ...DEFAULT_QUERY, verdict: status }))}" data-status="${h(status)}"><span class="count">${count}</span> ${h(LABELS[status])}</a></li>`;
}

/** The fleet at the report's end: counts per verdict, stale stacks, episodes, approvals, and the verdicts over time. */
export function fleetSummary(fleet: FleetSummaryInput | undefined): string {
  const open = `<section id="fleet-summary" data-live aria-labelledby="fleet-summary-title">`;
  if (!fleet) {
    return `${open}
<h2 id="fleet-summary-title">Fleet</h2>
<p class="note">The fleet summary is not available right now (the service's log says why); the table below is current.</p>
</section>`;
  }
  const p = fleet.posture;
  const tiles = [...POSTURE_VERDICTS.map((v: PostureVerdict) => tile(v, p.byVerdict[v] ?? 0)), tile("stale", p.stale.length)];
  const oldest = p.oldestOpenEpisode;
  const episodes =
    p.openEpisodes === 0
      ? "No drift episode is open."
      : `${plural(p.openEpisodes, "drift episode is", "drift episodes are")} open${
          oldest ? `; the oldest, of <a href="/stacks/${encodeURIComponent(oldest.stack)}">${h(oldest.stack)}</a>, for <strong>${h(formatDuration(oldest.ageMs))}</strong> (since ${when(oldest.openedAt)})` : ""
        }. <a href="${h(stacksHref({ ...DEFAULT_QUERY, sort: "age" }))}">Oldest first</a>`;
  const approvals =
    p.awaitingApproval === 0
      ? `No remediation waits for approval (<a href="/approvals">approvals</a>).`
      : `<a href="/approvals">${plural(p.awaitingApproval, "remediation waits", "remediations wait")} for approval</a>.`;
  const attention = p.needsAttention.length
    ? `\n<p>Automatic remediation is paused until someone looks: ${p.needsAttention.map((s) => `<a href="/stacks/${encodeURIComponent(s)}">${h(s)}</a>`).join(", ")}.</p>`
    : "";
  const span = periodText(fleet.period.durationMs);
  const plot = verdictAreaSvg(fleet.series.verdicts, { title: `Stacks per verdict over the last ${span}`, id: "fleet-verdicts", width: 720, height: 150 });
  return `${open}
<h2 id="fleet-summary-title">Fleet <small class="note">as of ${when(fleet.generatedAt)}</small></h2>
<ul class="tiles" aria-label="Stacks by verdict">${tiles.join("")}</ul>
<p class="note">${plural(p.stacks, "stack", "stacks")}; stale: not checked within twice its schedule. Each count filters the table.</p>
<p>${episodes}</p>
<p>${approvals}</p>${attention}
<figure>
${plot}
<figcaption>The fleet's verdicts over the last ${h(span)}: at each moment, how many stacks had each verdict.</figcaption>
</figure>
</section>`;
}

function options<T extends string>(values: readonly T[], selected: T | undefined, label: (v: T) => string, any?: string): string {
  const none = any === undefined ? "" : `<option value=""${selected === undefined ? " selected" : ""}>${h(any)}</option>`;
  return none + values.map((v) => `<option value="${h(v)}"${v === selected ? " selected" : ""}>${h(label(v))}</option>`).join("");
}

/** The filter form: plain GET, so it works without script; the refresh never replaces it. */
function filterForm(query: StackQuery, engines: readonly string[]): string {
  const engineChoices = ENGINES.filter((e) => engines.includes(e) || e === query.engine);
  return `<form method="get" action="/" class="filters" aria-label="Filter and sort stacks">
${field("filter-verdict", "Verdict", `<select id="filter-verdict" name="verdict">${options(STATUS_FILTERS, query.verdict, (v) => LABELS[v], "any")}</select>`)}
${field("filter-engine", "Engine", `<select id="filter-engine" name="engine">${options(engineChoices, query.engine, (e) => e, "any")}</select>`)}
${field("filter-q", "Name contains", `<input id="filter-q" type="search" name="q" value="${h(query.q ?? "")}" maxlength="200" autocomplete="off">`)}
${field("filter-sort", "Sort by", `<select id="filter-sort" name="sort">${options(Object.keys(SORT_KEYS) as SortKey[], query.sort, (k) => SORT_KEYS[k].label)}</select>`)}
${field("filter-order", "Order", `<select id="filter-order" name="order">${options(["asc", "desc"] as const, query.order, (o) => (o === "asc" ? "ascending" : "descending"), "default")}</select>`)}
<button type="submit">Apply</button>
<a href="/">Clear</a>
</form>`;
}

function header(label: string, query: StackQuery, key?: SortKey): string {
  if (!key) return `<th scope="col">${h(label)}</th>`;
  const sorted = query.sort === key ? ` aria-sort="${effectiveOrder(query) === "asc" ? "ascending" : "descending"}"` : "";
  return `<th scope="col"${sorted}><a href="${h(sortHref(query, key))}">${h(label)}</a></th>`;
}

/** Who is on an open episode, and whether it is snoozed: short, the stack's page says more. */
function episodeMarks(episode: NonNullable<StackRow["openEpisode"]>): string {
  const ack = episode.acknowledged ? `<br><span class="note">on it: ${h(episode.acknowledged.by.name)}</span>` : "";
  const snooze = episode.snooze ? `<br><span class="note">snoozed</span>` : "";
  return `${ack}${snooze}`;
}

function stackRow(r: StackRow, now: number): string {
  return `<tr data-stack="${h(r.name)}">
  <td><a href="/stacks/${encodeURIComponent(r.name)}">${h(r.name)}</a></td>
  <td>${badge(rowVerdict(r))}${r.stale ? ` ${badge("stale")}` : ""}${r.phase !== "idle" ? ` ${badge("running")}` : ""}</td>
  <td>${h(r.engine)}</td>
  <td>${ago(r.lastRun?.finishedAt, now)}</td>
  <td>${r.lastRun?.commit ? `<code>${h(r.lastRun.commit.slice(0, 12))}</code>` : "–"}</td>
  <td>${r.lastRun ? `${r.lastRun.driftCount} / ${r.lastRun.pendingCount}` : "–"}</td>
  <td>${r.openEpisode ? `${age(r.openEpisode.openedAt, now)} (seen ${r.openEpisode.seenCount}×)${episodeMarks(r.openEpisode)}` : "–"}</td>
</tr>`;
}

function describeQuery(query: StackQuery): string {
  const parts = [
    ...(query.verdict ? [LABELS[query.verdict]] : []),
    ...(query.engine ? [`engine ${query.engine}`] : []),
    ...(query.q ? [`name contains “${query.q}”`] : []),
  ];
  return parts.join(", ");
}

export function stacksPage(rows: readonly StackRow[], options: StacksPageOptions = {}): string {
  const now = options.now ?? Date.now();
  const query = options.query ?? DEFAULT_QUERY;
  const shown = selectRows(rows, query);
  const filtered = describeQuery(query);
  const body = shown.length
    ? shown.map((r) => stackRow(r, now)).join("\n")
    : `<tr><td colspan="7">${rows.length ? `No stack matches these filters. <a href="/">Show every stack</a>` : "No stacks are configured."}</td></tr>`;
  const engines = [...new Set(rows.map((r) => r.engine))];
  const order = effectiveOrder(query) === "asc" ? "ascending" : "descending";
  return page(
    "Stacks",
    `<h1>Stacks</h1>
${sandboxNotice(options.sandbox)}
${fleetSummary(options.fleet)}
<h2 id="stack-table-title">Stack table</h2>
${filterForm(query, engines)}
<section id="stack-table" data-live aria-labelledby="stack-table-title">
<p class="note" id="stack-count">${filtered ? `${shown.length} of ${plural(rows.length, "stack", "stacks")}: ${h(filtered)}` : plural(rows.length, "stack", "stacks")}; sorted by ${h(SORT_KEYS[query.sort].label)}, ${order}.</p>
<table>
<caption class="visually-hidden">Every watched stack and its last check</caption>
<thead><tr>${header("Stack", query, "name")}${header("Status", query, "verdict")}${header("Engine", query, "engine")}${header("Last check", query, "checked")}${header("Commit", query)}${header("Drift / pending", query)}${header("Open episode", query, "age")}</tr></thead>
<tbody>
${body}
</tbody>
</table>
</section>`,
    "stacks",
  );
}
