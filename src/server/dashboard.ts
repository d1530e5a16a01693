// The dashboard: small server-rendered HTML pages (no build step), refreshed by a tiny script that re-fetches the
// page every few seconds and swaps what changed. Values are the recorded ones, secrets already masked. This file
// holds the layout every page shares (navigation, styles, the refresh script) and the stack and run pages; the
// stack table (stacks-page.ts), the remediation pages (remediation-pages.ts) and the list of reports
// (reports-page.ts) each have their own file.
import { badge, escapeHtml } from "../core/html.ts";
import { formatChanger, formatValue, shortAddress } from "../core/present.ts";
import { ignoreRulesYaml, suggestedIgnoreRules } from "../core/flapping.ts";
import type { FlappingResource, StackResult, Verdict } from "../core/types.ts";
import { formatTime } from "../reports/format.ts";
import type { ApprovalRecord, EpisodeRecord, RunSummary } from "../store/api.ts";
import type { SandboxLevel } from "../sandbox/types.ts";
import { sandboxLabel } from "./sandbox-notice.ts";

export interface StackRow {
  name: string;
  engine: string;
  phase: string;
  lastRun?: RunSummary;
  openEpisode?: Pick<EpisodeRecord, "openedAt" | "seenCount" | "flapping" | "acknowledged" | "snooze">;
  /** Not checked within twice its schedule (from the fleet report; unknown counts as not stale). */
  stale?: boolean;
}

export { badge, escapeHtml } from "../core/html.ts";

const h = escapeHtml;

const STYLE = `
  :root { font-family: system-ui, sans-serif; color: #1b1f24; background: #fff; }
  body { margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem; }
  header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 1.5rem; border-bottom: 1px solid #d0d7de; padding-bottom: .5rem; }
  header > a { color: inherit; text-decoration: none; font-weight: 700; }
  nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
  nav a { color: #0969da; text-decoration: none; padding: .1rem 0; border-bottom: 2px solid transparent; }
  nav a:hover, nav a:focus-visible { border-bottom-color: #0969da; }
  nav a[aria-current] { color: #1b1f24; font-weight: 600; border-bottom-color: #fd8c73; }
  a { color: #0969da; }
  th a { color: inherit; }
  th[aria-sort] a::after { content: " ▲"; font-size: .75em; }
  th[aria-sort=descending] a::after { content: " ▼"; }
  form.filters { display: flex; flex-wrap: wrap; align-items: end; gap: .5rem 1rem; margin: 1rem 0 0; }
  form.filters .field { display: flex; flex-direction: column; gap: .15rem; }
  form.filters label { font-size: .85em; color: #57606a; }
  form.filters input, form.filters select, form.filters button { font: inherit; color: #1b1f24; padding: .25rem .4rem; }
  .tiles { display: flex; flex-wrap: wrap; gap: .5rem; list-style: none; margin: .5rem 0; padding: 0; }
  .tiles a { display: block; min-width: 6.5rem; padding: .4rem .7rem; border: 1px solid; border-radius: .4rem; text-decoration: none; }
  .tiles .count { display: block; font-size: 1.5rem; font-weight: 700; line-height: 1.2; }
  .tiles .zero { opacity: .55; }
  .note { color: #57606a; font-size: .9em; }
  tr.awaiting { background: #fff8c5; }
  tr:target { outline: 2px solid #0969da; outline-offset: -2px; background: #ddf4ff; }
  table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
  th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
  code, pre { font-family: ui-monospace, monospace; font-size: .9em; }
  pre { white-space: pre-wrap; word-break: break-all; margin: 0; }
  td ul { margin: 0; padding-left: 1.1rem; }
  .badge { white-space: nowrap; display: inline-block; padding: .1rem .5rem; border-radius: 1rem; font-size: .85em; font-weight: 600; border: 1px solid; }
  .in-sync { background: #dafbe1; color: #116329; border-color: #4ac26b; }
  .drifted, .drifted\\+pending { background: #ffebe9; color: #a40e26; border-color: #ff8182; }
  .pending { background: #fff8c5; color: #7d4e00; border-color: #d4a72c; }
  .error { background: #ffe2cc; color: #8a2f00; border-color: #fb8f44; }
  .unknown, .running, .never-checked, .neutral { background: #f6f8fa; color: #57606a; border-color: #d0d7de; }
  .stale { background: #fbefff; color: #6e40c9; border-color: #c297ff; }
  svg { max-width: 100%; height: auto; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
`;

// Every few seconds: fetch the page again (its URL keeps the filters) and swap in what is new. A page whose <main>
// marks parts `data-live` (each with an id) gets only those swapped, so its forms are never touched while someone
// types or picks; a part holding the keyboard focus waits for the next round. Other pages get <main> swapped,
// except while a form field in it has the focus.
const REFRESH = `
  (function () {
    var FIELDS = "input, select, textarea";
    setInterval(async function () {
      try {
        var res = await fetch(location.href, { headers: { accept: "text/html" } });
        if (!res.ok) return;
        var doc = new DOMParser().parseFromString(await res.text(), "text/html");
        var main = document.querySelector("main");
        var next = doc.querySelector("main");
        if (!main || !next) return;
        var focused = document.activeElement;
        var parts = main.querySelectorAll("[data-live][id]");
        if (parts.length === 0) {
          if (!(focused && main.contains(focused) && focused.matches(FIELDS))) main.replaceWith(next);
          return;
        }
        parts.forEach(function (part) {
          var fresh = doc.getElementById(part.id);
          if (fresh && !(focused && part.contains(focused))) part.replaceWith(fresh);
        });
      } catch (e) { /* offline for a moment: try again next time */ }
    }, 5000);
  })();
`;

/** The sections the navigation leads to. */
export type NavSection = "stacks" | "reports" | "audit" | "approvals";

const NAV: readonly { section: NavSection; href: string; label: string }[] = [
  { section: "stacks", href: "/", label: "Stacks" },
  { section: "reports", href: "/reports", label: "Reports" },
  { section: "audit", href: "/audit", label: "Audit log" },
  { section: "approvals", href: "/approvals", label: "Approvals" },
];

/**
 * Where a page sits: a section's own page (its link gets `aria-current="page"`), or a page within a section (a
 * stack's page is within Stacks: `aria-current="true"`, the section marked but not claimed as this page).
 */
export type NavPlace = NavSection | { within: NavSection };

function nav(place: NavPlace | undefined): string {
  const items = NAV.map(({ section, href, label }) => {
    const current = place === section ? ' aria-current="page"' : typeof place === "object" && place.within === section ? ' aria-current="true"' : "";
    return `<li><a href="${href}"${current}>${label}</a></li>`;
  });
  return `<nav aria-label="Main"><ul>${items.join("")}</ul></nav>`;
}

export function page(title: string, body: string, place?: NavPlace): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(title)} · Driftwatch</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header><a href="/">Driftwatch</a>${nav(place)}</header>
<main aria-live="polite">${body}</main>
<script>${REFRESH}</script>
</body>
</html>`;
}

/** A badge with its own text, coloured like `tone` (a verdict's class, or neutral). */
export function pill(text: string, tone: Verdict | "neutral" | "stale"): string {
  return `<span class="badge ${h(tone)}">${h(text)}</span>`;
}

/** A form field with its label (a label of its own: one wrapping a select would take in the options' text). */
export function field(id: string, label: string, control: string): string {
  return `<span class="field"><label for="${h(id)}">${h(label)}</label>${control}</span>`;
}

/** "2026-03-01 14:05 UTC" as a <time>, its exact value in the tooltip. */
export function when(iso: string): string {
  return `<time datetime="${h(iso)}" title="${h(iso)}">${h(formatTime(iso))}</time>`;
}

/** The page for an unknown stack, run or report: the same layout, so the navigation still leads somewhere. */
export function notFoundPage(what: string, place?: NavPlace): string {
  return page("Not found", `<h1>Not found</h1>\n<p>${h(what)}</p>`, place);
}

/** The page for a query the page cannot answer (an unknown filter value): what was wrong and the way back. */
export function badRequestPage(problem: string, back: string, place?: NavPlace): string {
  return page("Bad request", `<h1>Bad request</h1>\n<p>${h(problem)}</p>\n<p><a href="${h(back)}">Start over</a></p>`, place);
}

export function ago(iso: string | undefined, now: number): string {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const text = seconds < 90 ? `${seconds}s ago` : seconds < 5400 ? `${Math.round(seconds / 60)}m ago` : seconds < 172_800 ? `${Math.round(seconds / 3600)}h ago` : `${Math.round(seconds / 86_400)}d ago`;
  return `<time datetime="${h(iso)}" title="${h(iso)}">${text}</time>`;
}

export function age(iso: string, now: number): string {
  const minutes = Math.max(0, Math.round((now - Date.parse(iso)) / 60_000));
  return minutes < 120 ? `${minutes}m` : minutes < 2880 ? `${Math.round(minutes / 60)}h` : `${Math.round(minutes / 1440)}d`;
}

const VERDICT_COLOR: Record<string, string> = { "in-sync": "#2da44e", drifted: "#cf222e", pending: "#bf8700", "drifted+pending": "#cf222e", error: "#bc4c00" };

/** Runs over time: one bar per run, its height the number of changes, its colour the verdict. */
export function timeline(runs: readonly RunSummary[]): string {
  const ordered = [...runs].reverse();
  if (ordered.length === 0) return "<p>No runs yet.</p>";
  const width = 720;
  const height = 120;
  const max = Math.max(1, ...ordered.map((r) => r.driftCount + r.pendingCount));
  // Room for at least 30 bars, so a young stack's few runs are bars, not slabs.
  const step = width / Math.max(ordered.length, 30);
  const bars = ordered
    .map((r, i) => {
      const value = r.driftCount + r.pendingCount;
      const barHeight = r.verdict === "error" ? height : Math.max(4, (value / max) * (height - 10));
      const label = `${r.startedAt}: ${r.verdict}, ${r.driftCount} drifted, ${r.pendingCount} pending`;
      return `<a href="/runs/${encodeURIComponent(r.runId)}"><rect x="${(i * step + 1).toFixed(1)}" y="${(height - barHeight).toFixed(1)}" width="${Math.max(1, step - 2).toFixed(1)}" height="${barHeight.toFixed(1)}" fill="${VERDICT_COLOR[r.verdict] ?? "#8c959f"}"${r.verdict === "error" ? ' fill-opacity="0.35"' : ""}><title>${h(label)}</title></rect></a>`;
    })
    .join("");
  return `<figure>
<svg role="img" aria-labelledby="timeline-title" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">
<title id="timeline-title">Drift timeline: the last ${ordered.length} runs, oldest first</title>
${bars}
</svg>
<figcaption>Last ${ordered.length} runs, oldest on the left; bar height = changed resources; green in sync, red drifted, yellow pending, pale orange error.</figcaption>
</figure>`;
}

function changesTable(result: StackResult): string {
  if (result.changes.length === 0) return "<p>No drift or pending changes.</p>";
  const rows = result.changes
    .map((c) => {
      const props = c.properties.length
        ? c.properties
            .map(
              (p) =>
                `<tr><td><code>${h(p.path)}</code></td><td><pre>${h(formatValue(p.desired, 2000))}</pre></td><td><pre>${h(formatValue(p.actual, 2000))}</pre></td><td>${p.changedBy ? h(formatChanger(p.changedBy)) : ""}</td></tr>`,
            )
            .join("")
        : `<tr><td colspan="4">${c.action === "delete" ? "the resource is gone" : c.action === "forget" ? "no longer managed; the object stays" : "no property details"}</td></tr>`;
      return `<section>
<h3>${badge(c.kind === "drift" ? "drifted" : "pending")} ${h(c.action)} <code>${h(shortAddress(c.address))}</code>${c.previousAddress ? ` (moved from <code>${h(shortAddress(c.previousAddress))}</code>)` : ""}</h3>
<table><thead><tr><th scope="col">Property</th><th scope="col">Desired</th><th scope="col">Actual</th><th scope="col">Changed by</th></tr></thead><tbody>${props}</tbody></table>
</section>`;
    })
    .join("\n");
  return rows;
}

/** The open episode's resources that keep drifting again, and the ignore rule that would end it. */
function flappingSection(flapping: readonly FlappingResource[] | undefined): string {
  if (!flapping?.length) return "";
  const items = flapping.map((f) => `<li><code>${h(shortAddress(f.address))}</code> started drifting ${f.times} times since <time datetime="${h(f.since)}">${h(f.since)}</time></li>`);
  const rules = suggestedIgnoreRules(flapping);
  const suggestion = rules.length === 0 ? "" : `<p>If so, an ignore rule in the stack's config ends the churn:</p><pre>${h(ignoreRulesYaml(rules))}</pre>`;
  return `<h2>Flapping</h2>
<p>These resources keep drifting again after being put right; something besides Git may own them.</p>
<ul>${items.join("")}</ul>${suggestion}`;
}

export interface StackPageOptions {
  now?: number;
  /** The stack's remediation plan waiting for a person's approval now, if any. */
  awaitingApproval?: Pick<ApprovalRecord, "id" | "expiresAt">;
  /** How the stack's repository code is confined (its sandbox level), and why it cannot run here if it cannot. */
  sandbox?: { level: SandboxLevel; refused?: string };
}

/** Who said they are on the open episode (from Slack), and until when its alerts are snoozed. */
export function peopleLine(episode: StackRow["openEpisode"]): string {
  const parts = [
    ...(episode?.acknowledged ? [`Acknowledged by <strong>${h(episode.acknowledged.by.name)}</strong> (Slack ${h(episode.acknowledged.by.id)}) ${when(episode.acknowledged.at)}`] : []),
    ...(episode?.snooze ? [`alerts snoozed by ${h(episode.snooze.by.name)} until ${when(episode.snooze.until)} (or until the drift changes)`] : []),
  ];
  return parts.length > 0 ? `<p class="people">${parts.join(" · ")}</p>\n` : "";
}

/** Where the stack's remediation history is, and the plan waiting for approval. */
function remediationLinks(name: string, awaiting: StackPageOptions["awaitingApproval"]): string {
  const q = encodeURIComponent(name);
  const waiting = awaiting
    ? `<p>${pill("awaiting approval", "pending")} A remediation plan waits for approval until ${when(awaiting.expiresAt)}: <code>driftwatch approve ${h(awaiting.id)}</code></p>\n`
    : "";
  return `${waiting}<p>Remediation: <a href="/audit?stack=${q}">audit log entries</a> · <a href="/approvals?stack=${q}">approvals</a></p>`;
}

/** The stack's sandbox level, and a refusal when this machine cannot enforce it. */
function sandboxLine(sandbox: StackPageOptions["sandbox"]): string {
  if (!sandbox) return "";
  const refused = sandbox.refused ? ` ${pill("will not run", "error")} ${h(sandbox.refused)}` : "";
  return `<p>Sandbox: ${sandboxLabel(sandbox.level)}${refused}</p>
`;
}

export function stackPage(row: StackRow, runs: readonly RunSummary[], last: StackResult | undefined, options: StackPageOptions = {}): string {
  const now = options.now ?? Date.now();
  const status = last?.verdict ?? "never-checked";
  return page(
    row.name,
    `<h1>${h(row.name)} ${badge(status)}</h1>
<p>${h(row.engine)} · last check ${ago(last?.finishedAt, now)}${last?.commit ? ` · commit <code>${h(last.commit.slice(0, 12))}</code>` : ""}${row.openEpisode ? ` · drift episode open for ${age(row.openEpisode.openedAt, now)}` : ""}</p>
${sandboxLine(options.sandbox)}${peopleLine(row.openEpisode)}${remediationLinks(row.name, options.awaitingApproval)}
${flappingSection(row.openEpisode?.flapping)}
<h2>Timeline</h2>
${timeline(runs)}
<h2>Current differences</h2>
${last?.error ? `<p>${badge("error")} <strong>${h(last.error.kind)}</strong></p><pre>${h(last.error.message)}</pre>` : last ? changesTable(last) : "<p>Not checked yet.</p>"}
${last ? `<p><a href="/runs/${encodeURIComponent(last.runId)}">Run details</a></p>` : ""}`,
    { within: "stacks" },
  );
}

export function runPage(run: StackResult): string {
  return page(
    `Run ${run.runId}`,
    `<h1>Run of <a href="/stacks/${encodeURIComponent(run.stack)}">${h(run.stack)}</a> ${badge(run.verdict)}</h1>
<dl>
<dt>Run</dt><dd><code>${h(run.runId)}</code></dd>
<dt>Engine</dt><dd>${h(run.engine)}</dd>
<dt>Commit</dt><dd>${run.commit ? `<code>${h(run.commit)}</code>` : "–"}${run.staleSource ? ` (stale source: ${h(run.staleSource.error)})` : ""}</dd>
<dt>Started</dt><dd><time datetime="${h(run.startedAt)}">${h(run.startedAt)}</time>${run.trigger ? ` by ${h(run.trigger)}` : ""}</dd>
<dt>Took</dt><dd>${(run.durationMs / 1000).toFixed(1)} s</dd>
<dt>Sandbox</dt><dd>${sandboxLabel(run.sandbox)}</dd>
</dl>
${run.error ? `<h2>Error</h2><p><strong>${h(run.error.kind)}</strong></p><pre>${h(run.error.message)}</pre>` : `<h2>Changes</h2>${changesTable(run)}`}`,
    { within: "stacks" },
  );
}
