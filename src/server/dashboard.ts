// The dashboard: small server-rendered HTML pages (no build step), refreshed by a tiny script that re-fetches the
// page and swaps its <main> every few seconds. Values are the recorded ones, secrets already masked.
import { formatChanger, formatValue, shortAddress } from "../core/present.ts";
import { ignoreRulesYaml, suggestedIgnoreRules } from "../core/flapping.ts";
import type { FlappingResource, StackResult, Verdict } from "../core/types.ts";
import type { EpisodeRecord, RunSummary } from "../store/api.ts";

export interface StackRow {
  name: string;
  engine: string;
  phase: string;
  lastRun?: RunSummary;
  openEpisode?: Pick<EpisodeRecord, "openedAt" | "seenCount" | "flapping">;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const h = escapeHtml;

const STYLE = `
  :root { font-family: system-ui, sans-serif; color: #1b1f24; background: #fff; }
  body { margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem; }
  header a { color: inherit; text-decoration: none; font-weight: 700; }
  table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
  th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
  code, pre { font-family: ui-monospace, monospace; font-size: .9em; }
  pre { white-space: pre-wrap; word-break: break-all; margin: 0; }
  .badge { display: inline-block; padding: .1rem .5rem; border-radius: 1rem; font-size: .85em; font-weight: 600; border: 1px solid; }
  .in-sync { background: #dafbe1; color: #116329; border-color: #4ac26b; }
  .drifted, .drifted\\+pending { background: #ffebe9; color: #a40e26; border-color: #ff8182; }
  .pending { background: #fff8c5; color: #7d4e00; border-color: #d4a72c; }
  .error { background: #ffe2cc; color: #8a2f00; border-color: #fb8f44; }
  .unknown, .running { background: #f6f8fa; color: #57606a; border-color: #d0d7de; }
  svg { max-width: 100%; height: auto; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
`;

const REFRESH = `
  (function () {
    setInterval(async function () {
      try {
        const res = await fetch(location.href, { headers: { accept: "text/html" } });
        if (!res.ok) return;
        const doc = new DOMParser().parseFromString(await res.text(), "text/html");
        const next = doc.querySelector("main");
        if (next) document.querySelector("main").replaceWith(next);
      } catch (e) { /* offline for a moment: try again next time */ }
    }, 5000);
  })();
`;

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(title)} · Driftwatch</title>
<style>${STYLE}</style>
</head>
<body>
<header><a href="/">Driftwatch</a></header>
<main aria-live="polite">${body}</main>
<script>${REFRESH}</script>
</body>
</html>`;
}

export function badge(status: Verdict | "unknown" | "running"): string {
  return `<span class="badge ${h(status)}">${h(status)}</span>`;
}

function ago(iso: string | undefined, now: number): string {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const text = seconds < 90 ? `${seconds}s ago` : seconds < 5400 ? `${Math.round(seconds / 60)}m ago` : seconds < 172_800 ? `${Math.round(seconds / 3600)}h ago` : `${Math.round(seconds / 86_400)}d ago`;
  return `<time datetime="${h(iso)}" title="${h(iso)}">${text}</time>`;
}

function age(iso: string, now: number): string {
  const minutes = Math.max(0, Math.round((now - Date.parse(iso)) / 60_000));
  return minutes < 120 ? `${minutes}m` : minutes < 2880 ? `${Math.round(minutes / 60)}h` : `${Math.round(minutes / 1440)}d`;
}

export function stacksPage(rows: readonly StackRow[], now = Date.now()): string {
  const body = rows
    .map((r) => {
      const status = r.lastRun?.verdict ?? "unknown";
      return `<tr>
  <td><a href="/stacks/${encodeURIComponent(r.name)}">${h(r.name)}</a></td>
  <td>${badge(status)}${r.phase !== "idle" ? ` ${badge("running")}` : ""}</td>
  <td>${h(r.engine)}</td>
  <td>${ago(r.lastRun?.finishedAt, now)}</td>
  <td>${r.lastRun?.commit ? `<code>${h(r.lastRun.commit.slice(0, 12))}</code>` : "–"}</td>
  <td>${r.lastRun ? `${r.lastRun.driftCount} / ${r.lastRun.pendingCount}` : "–"}</td>
  <td>${r.openEpisode ? `${age(r.openEpisode.openedAt, now)} (seen ${r.openEpisode.seenCount}×)` : "–"}</td>
</tr>`;
    })
    .join("\n");
  return page(
    "Stacks",
    `<h1>Stacks</h1>
<table>
<caption class="visually-hidden">Every watched stack and its last check</caption>
<thead><tr><th scope="col">Stack</th><th scope="col">Status</th><th scope="col">Engine</th><th scope="col">Last check</th><th scope="col">Commit</th><th scope="col">Drift / pending</th><th scope="col">Open episode</th></tr></thead>
<tbody>
${body}
</tbody>
</table>`,
  );
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

export function stackPage(row: StackRow, runs: readonly RunSummary[], last: StackResult | undefined, now = Date.now()): string {
  const status = last?.verdict ?? "unknown";
  return page(
    row.name,
    `<h1>${h(row.name)} ${badge(status)}</h1>
<p>${h(row.engine)} · last check ${ago(last?.finishedAt, now)}${last?.commit ? ` · commit <code>${h(last.commit.slice(0, 12))}</code>` : ""}${row.openEpisode ? ` · drift episode open for ${age(row.openEpisode.openedAt, now)}` : ""}</p>
${flappingSection(row.openEpisode?.flapping)}
<h2>Timeline</h2>
${timeline(runs)}
<h2>Current differences</h2>
${last?.error ? `<p>${badge("error")} <strong>${h(last.error.kind)}</strong></p><pre>${h(last.error.message)}</pre>` : last ? changesTable(last) : "<p>Not checked yet.</p>"}
${last ? `<p><a href="/runs/${encodeURIComponent(last.runId)}">Run details</a></p>` : ""}`,
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
</dl>
${run.error ? `<h2>Error</h2><p><strong>${h(run.error.kind)}</strong></p><pre>${h(run.error.message)}</pre>` : `<h2>Changes</h2>${changesTable(run)}`}`,
  );
}
