// The fleet report as ONE self-contained HTML file: inline style, inline SVG plots, no script, nothing to fetch,
// so it opens from a CI artifact, a mail attachment or a file share with no network. Its Content-Security-Policy
// forbids every load besides the inline style, so even a mistake here could not make it call home. The look is
// the dashboard's (its verdict badges, the same colours). Every string from the report is escaped.
import { badge, escapeHtml } from "../core/html.ts";
import { formatDuration } from "../core/durations.ts";
import type { FleetReport } from "./model.ts";
import { linkBase, linkHref, reportOutline, type Block, type Cell, type FactsBlock, type Inline, type Outline, type PlotName, type Section, type TableBlock } from "./outline.ts";
import { histogramSvg, MAX_TIMELINE_ROWS, timelineStripsSvg, verdictAreaSvg } from "./svg.ts";

export interface HtmlReportOptions {
  /** The dashboard's URL: stacks, runs and audit entries become links to it. */
  baseUrl?: string;
  /** Rows per per-stack list (default 200); the posture table lists every stack regardless. */
  limit?: number;
}

const h = escapeHtml;

/** No fetch of any kind; only the inline <style> (and data: images, should a plot ever need one). */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const STYLE = `
  :root { font-family: system-ui, sans-serif; color: #1b1f24; background: #fff; line-height: 1.45; }
  body { margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem 3rem; }
  h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
  h2 { font-size: 1.3rem; margin: 2.5rem 0 .75rem; padding-bottom: .3rem; border-bottom: 1px solid #d0d7de; }
  a { color: #0969da; }
  nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; padding: 0; margin: 1rem 0; }
  dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.25rem; margin: .5rem 0 1rem; }
  dl.facts div { display: contents; }
  dt { color: #57606a; }
  dd { margin: 0; }
  table { border-collapse: collapse; width: 100%; margin: 1.25rem 0; font-size: .95em; }
  table.compact { width: auto; min-width: 24rem; }
  caption { text-align: left; font-weight: 600; padding: .25rem 0 .4rem; }
  th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
  thead th { background: #f6f8fa; }
  .num { text-align: right; font-variant-numeric: tabular-nums; }
  code, pre { font-family: ui-monospace, monospace; font-size: .9em; }
  pre { background: #f6f8fa; padding: .6rem .8rem; white-space: pre-wrap; word-break: break-all; margin: .25rem 0 1rem; }
  .badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .85em; font-weight: 600; border: 1px solid; white-space: nowrap; }
  .in-sync { background: #dafbe1; color: #116329; border-color: #4ac26b; }
  .drifted, .drifted\\+pending { background: #ffebe9; color: #a40e26; border-color: #ff8182; }
  .pending { background: #fff8c5; color: #7d4e00; border-color: #d4a72c; }
  .error { background: #ffe2cc; color: #8a2f00; border-color: #fb8f44; }
  .unknown, .never-checked { background: #f6f8fa; color: #57606a; border-color: #d0d7de; }
  figure { margin: 1.5rem 0; }
  figcaption, .more, .empty, .note, footer { color: #57606a; font-size: .9em; }
  svg { max-width: 100%; height: auto; display: block; }
  footer { margin-top: 3rem; border-top: 1px solid #d0d7de; padding-top: .75rem; }
  @media print { nav { display: none; } h2 { break-after: avoid; } figure, tr { break-inside: avoid; } }
`;

interface Context {
  base?: string;
}

function inline(item: Inline, ctx: Context): string {
  let html = h(item.text);
  if (item.verdict) html = badge(item.verdict);
  else if (item.code) html = `<code>${html}</code>`;
  if (item.time) html = `<time datetime="${h(item.time)}">${html}</time>`;
  if (item.link && ctx.base !== undefined) html = `<a href="${h(linkHref(ctx.base, item.link))}">${html}</a>`;
  return html;
}

function cell(value: Cell, ctx: Context): string {
  return value.map((item) => inline(item, ctx)).join("");
}

function facts(block: FactsBlock, ctx: Context): string {
  return `<dl class="facts">${block.items.map((i) => `<div><dt>${h(i.label)}</dt><dd>${cell(i.value, ctx)}</dd></div>`).join("")}</dl>`;
}

/** A table with its caption; the first column heads its row (`scope="row"`), numbers are right-aligned. */
function table(block: TableBlock, ctx: Context): string {
  if (block.rows.length === 0) return `<p class="empty" id="${h(block.id)}"><strong>${h(block.caption)}:</strong> ${h(block.empty)}</p>`;
  const cls = (numeric: boolean | undefined): string => (numeric ? ' class="num"' : "");
  const head = block.columns.map((c) => `<th scope="col"${cls(c.numeric)}>${h(c.label)}</th>`).join("");
  const rows = block.rows.map(
    (row) =>
      `<tr>${row
        .map((c, i) => {
          const numeric = cls(block.columns[i]?.numeric);
          return i === 0 ? `<th scope="row"${numeric}>${cell(c, ctx)}</th>` : `<td${numeric}>${cell(c, ctx)}</td>`;
        })
        .join("")}</tr>`,
  );
  const more = block.more ? `\n<p class="more">${h(block.more)}</p>` : "";
  // A table of two or three columns reads better as wide as its content than stretched across the page.
  const compact = block.columns.length <= 3 ? ' class="compact"' : "";
  return `<table id="${h(block.id)}"${compact}>
<caption>${h(block.caption)}</caption>
<thead><tr>${head}</tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>${more}`;
}

function figure(id: string, svg: string, caption: string): string {
  return `<figure id="${id}">\n${svg}\n<figcaption>${h(caption)}</figcaption>\n</figure>`;
}

/** The three plots; their figure ids (plot-verdicts, plot-time-in-drift, plot-timelines) are stable anchors. */
function plot(name: PlotName, report: FleetReport): string {
  const { series, period } = report;
  switch (name) {
    case "verdicts":
      return figure(
        "plot-verdicts",
        verdictAreaSvg(series.verdicts, { id: "verdicts-chart", title: "Stacks per verdict over the period" }),
        `How many stacks had each verdict, sampled every ${formatDuration(series.stepMs)}; the bands stack up to the number of stacks.`,
      );
    case "time-in-drift": {
      const episodes = series.timeInDrift.reduce((sum, b) => sum + b.count, 0);
      return figure(
        "plot-time-in-drift",
        histogramSvg(series.timeInDrift, { id: "time-in-drift-chart", title: "Time in drift of the episodes resolved in the period" }),
        `How long the ${episodes} episodes resolved in the period stayed out of sync.`,
      );
    }
    case "timelines": {
      const hidden = Math.max(0, series.timelines.length - MAX_TIMELINE_ROWS);
      const note = hidden > 0 ? ` Only ${MAX_TIMELINE_ROWS} of ${series.timelines.length} stacks are drawn: the ${hidden} out of sync the least are left out.` : "";
      return figure(
        "plot-timelines",
        timelineStripsSvg(series.timelines, period, { id: "timelines-chart", title: "Each stack's verdict over the period" }),
        `Each stack's verdict from the start of the period to its end, one row per stack.${note}`,
      );
    }
  }
}

function block(b: Block, report: FleetReport, ctx: Context): string {
  switch (b.kind) {
    case "facts":
      return facts(b, ctx);
    case "table":
      return table(b, ctx);
    case "code":
      return `<div class="code"><p class="note">${h(b.caption)}:</p><pre><code class="language-${h(b.language)}">${h(b.text)}</code></pre></div>`;
    case "note":
      return `<p class="note">${cell(b.text, ctx)}</p>`;
    case "plot":
      return plot(b.plot, report);
  }
}

function section(s: Section, report: FleetReport, ctx: Context): string {
  return `<section id="${h(s.id)}" aria-labelledby="${h(s.id)}-title">
<h2 id="${h(s.id)}-title">${h(s.title)}</h2>
${s.blocks.map((b) => block(b, report, ctx)).join("\n")}
</section>`;
}

function nav(outline: Outline): string {
  return `<nav aria-label="Sections"><ul>${outline.sections.map((s) => `<li><a href="#${h(s.id)}">${h(s.title)}</a></li>`).join("")}</ul></nav>`;
}

/** The report as one self-contained HTML document. */
export function renderReportHtml(report: FleetReport, options: HtmlReportOptions = {}): string {
  const base = linkBase(options.baseUrl);
  const ctx: Context = base === undefined ? {} : { base };
  const outline = reportOutline(report, { limit: options.limit ?? 200, allStacks: true });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${h(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta name="generator" content="Driftwatch">
<title>${h(outline.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${h(outline.title)}</h1>
${facts(outline.header, ctx)}
${nav(outline)}
</header>
<main>
${outline.sections.map((s) => section(s, report, ctx)).join("\n")}
</main>
<footer>Driftwatch fleet report, schema version ${h(String(report.schemaVersion))}. Long lists are capped at ${options.limit ?? 200} rows; the JSON report has every entry.</footer>
</body>
</html>
`;
}
