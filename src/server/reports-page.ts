// The scheduled reports `serve` produced: each a self-contained HTML file under <dataDir>/reports, served at
// /reports/<id>; this page lists them with a few numbers of their digest, and the schedules that make them.
import { formatDuration } from "../core/durations.ts";
import type { ReportConfig } from "../config/types.ts";
import { formatPercent } from "../reports/format.ts";
import type { ReportRecord } from "../store/api.ts";
import { escapeHtml as h, page, when } from "./dashboard.ts";

/** What a report's id may be: it names a file, so nothing else is ever looked up. */
export const REPORT_ID = /^[A-Za-z0-9_-]{1,200}$/;

function reportRow(r: ReportRecord): string {
  const d = r.digest;
  const id = encodeURIComponent(r.id);
  const oldest = d.posture.oldestOpenEpisode;
  return `<tr id="report-${h(r.id)}">
  <td><a href="/reports/${id}">${h(r.name)}</a><br><span class="note"><a href="/api/reports/${id}">JSON</a></span></td>
  <td>${when(r.periodFrom)} –<br>${when(r.periodTo)}</td>
  <td>${when(r.createdAt)}</td>
  <td>${d.posture.stacks}</td>
  <td>${h(formatPercent(d.posture.inSyncShare))}</td>
  <td>${d.posture.openEpisodes}${oldest ? `<br><span class="note">oldest ${h(formatDuration(oldest.ageMs))}</span>` : ""}</td>
  <td>${d.episodes.opened} / ${d.episodes.resolved}</td>
  <td>${d.checks.runs}${d.checks.errors ? ` (${d.checks.errors} ${d.checks.errors === 1 ? "error" : "errors"})` : ""}</td>
  <td>${d.remediation.applied} / ${d.remediation.refused}</td>
</tr>`;
}

function schedules(configured: readonly ReportConfig[]): string {
  if (configured.length === 0) {
    return `<p>No report is scheduled. A <code>reports:</code> entry in <code>driftwatch.yaml</code> (a name, a cron <code>schedule</code>,
the period it covers as <code>since</code>) makes <code>driftwatch serve</code> produce one; <code>driftwatch report</code> makes one now.</p>`;
  }
  const items = configured.map(
    (r) => `<li><strong>${h(r.name)}</strong>: <code>${h(r.schedule.expression)}</code> (${h(r.schedule.timezone)}), the last ${h(formatDuration(r.sinceMs))} of ${r.stacks.map((s) => `<code>${h(s)}</code>`).join(", ")}; the newest ${r.keep} kept</li>`,
  );
  return `<p>Scheduled:</p>\n<ul>${items.join("")}</ul>`;
}

export function reportsPage(reports: readonly ReportRecord[], configured: readonly ReportConfig[]): string {
  const rows = reports.length ? reports.map(reportRow).join("\n") : `<tr><td colspan="9">No report produced yet.</td></tr>`;
  return page(
    "Reports",
    `<h1>Reports</h1>
${schedules(configured)}
<section id="reports" data-live aria-label="Produced reports">
<table>
<caption class="visually-hidden">Reports produced, newest first</caption>
<thead><tr><th scope="col">Report</th><th scope="col">Period</th><th scope="col">Produced</th><th scope="col">Stacks</th><th scope="col">In sync</th><th scope="col">Open episodes</th><th scope="col">Episodes opened / resolved</th><th scope="col">Checks</th><th scope="col">Remediations applied / refused</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>`,
    "reports",
  );
}
