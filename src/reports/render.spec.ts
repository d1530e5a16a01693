import { describe, expect, it } from "vitest";
import { DAY, FROM, fleetReport, HOSTILE_STACK, HOUR, iso, presentVerdicts, sampleReport, spanCount, strip, TO } from "../../test/support/report-sample.ts";
import { formatDuration } from "../core/durations.ts";
import { POSTURE_VERDICTS, type VerdictPoint } from "./model.ts";
import { renderReportHtml } from "./render-html.ts";
import { escapeMarkdown, renderReportMarkdown } from "./render-markdown.ts";
import { renderReportText } from "./render-text.ts";
import { histogramSvg, MAX_TIMELINE_ROWS, timelineRows, timelineStripsSvg, verdictAreaSvg } from "./svg.ts";

const PERIOD = { from: iso(FROM), to: iso(TO) };

function occurrences(text: string, pattern: RegExp): number {
  return text.match(new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`))?.length ?? 0;
}

const areas = (svg: string): number => occurrences(svg, /<path class="area"/);
const bars = (svg: string): number => occurrences(svg, /<rect class="bar"/);
const spans = (svg: string): number => occurrences(svg, /<rect class="span"/);

function expectFinite(markup: string): void {
  expect(markup).not.toMatch(/NaN|Infinity|undefined/);
}

/** The svg is an image named by its <title>, described by its <desc>. */
function expectAccessible(svg: string, id: string): void {
  expect(svg).toContain(`role="img"`);
  expect(svg).toContain(`aria-labelledby="${id}-title"`);
  expect(svg).toContain(`<title id="${id}-title">`);
  expect(svg).toContain(`<desc id="${id}-desc">`);
}

function point(at: number, byVerdict: Partial<VerdictPoint["byVerdict"]>): VerdictPoint {
  return { at: iso(at), byVerdict: { "in-sync": 0, drifted: 0, pending: 0, "drifted+pending": 0, error: 0, "never-checked": 0, ...byVerdict } };
}

describe("durations", () => {
  it("reads as people say them, two units at most", () => {
    expect([45_000, 12 * 60_000, 2 * HOUR + 15 * 60_000, 3 * DAY + 4 * HOUR, 2 * DAY, -5, Number.NaN].map(formatDuration)).toEqual(["45s", "12m", "2h 15m", "3d 4h", "2d", "0s", "0s"]);
  });
});

describe("verdictAreaSvg", () => {
  it("draws one stacked area per verdict present, in POSTURE_VERDICTS order, each with its title", () => {
    const report = sampleReport();
    const svg = verdictAreaSvg(report.series.verdicts, { id: "v", title: "Stacks per verdict" });
    const present = presentVerdicts(report.series.verdicts);
    expect(present).toEqual(POSTURE_VERDICTS); // the sample has every verdict at some sample
    expect(areas(svg)).toBe(present.length);
    expect([...svg.matchAll(/<path class="area" data-verdict="([^"]+)"/g)].map((m) => m[1])).toEqual(present);
    expect(svg).toContain("<title>drifted: up to 1 stack, 1 at the end</title>");
    expect(svg).toContain('fill="#a40e26"'); // drifted+pending, darker than drifted's #cf222e
    expect(svg).toMatch(/<desc id="v-desc">Stacks per verdict, 29 samples from 2026-03-01 00:00 UTC to 2026-03-08 00:00 UTC\. At the end: 1 in-sync, 1 drifted, 0 pending/);
    expect(svg).toContain(">2026-03-01<");
    expect(svg).toContain(">2026-03-08<");
    expectAccessible(svg, "v");
    expectFinite(svg);
  });

  it("leaves out verdicts that are zero everywhere", () => {
    const svg = verdictAreaSvg([point(FROM, { "in-sync": 2 }), point(FROM + HOUR, { "in-sync": 1, drifted: 1 })], { id: "v", title: "t" });
    expect([...svg.matchAll(/data-verdict="([^"]+)"/g)].map((m) => m[1])).toEqual(["in-sync", "drifted"]);
  });

  it("stretches a single sample across the plot", () => {
    const svg = verdictAreaSvg([point(FROM, { "in-sync": 3, pending: 1 })], { id: "one", title: "t" });
    expect(areas(svg)).toBe(2);
    expect(occurrences(svg, />2026-03-01 00:00</)).toBe(1); // one time label, not the same one twice
    expectFinite(svg);
  });

  it("says so when there is nothing to draw: no samples, or no stacks", () => {
    for (const points of [[], [point(FROM, {}), point(TO, {})]]) {
      const svg = verdictAreaSvg(points, { id: "empty", title: "t" });
      expect(areas(svg)).toBe(0);
      expect(svg).toContain("No stacks in this period");
      expectAccessible(svg, "empty");
      expectFinite(svg);
    }
  });

  it("survives times that are not times, and escapes what it shows", () => {
    const svg = verdictAreaSvg([{ ...point(0, { error: 1 }), at: "<soon>" }, { ...point(0, { error: 2 }), at: "later" }], { id: "a b\"c", title: "<b>t</b>" });
    expect(areas(svg)).toBe(1);
    expect(svg).toContain('id="a-b-c"');
    expect(svg).toContain("&lt;b&gt;t&lt;/b&gt;");
    expect(svg).not.toContain("<soon>");
    expectFinite(svg);
  });
});

describe("histogramSvg", () => {
  it("draws exactly one bar per bin, empty bins as a baseline, with count and label", () => {
    const bins = sampleReport().series.timeInDrift;
    const svg = histogramSvg(bins, { id: "h", title: "Time in drift" });
    expect(bars(svg)).toBe(bins.length);
    expect([...svg.matchAll(/data-count="(\d+)"/g)].map((m) => Number(m[1]))).toEqual(bins.map((b) => b.count));
    expect(svg).toMatch(/data-count="0"[^>]*height="1"/);
    expect(svg).toContain("<title>6–24h: 1 episode</title>");
    expect(svg).toContain(">&lt;1h<"); // the label "<1h" escaped
    expectAccessible(svg, "h");
    expectFinite(svg);
  });

  it("keeps every bar when every count is zero, and draws none without bins", () => {
    const zero = sampleReport().series.timeInDrift.map((b) => ({ ...b, count: 0 }));
    expect(bars(histogramSvg(zero, { id: "z", title: "t" }))).toBe(zero.length);
    expectFinite(histogramSvg(zero, { id: "z", title: "t" }));
    const none = histogramSvg([], { id: "n", title: "t" });
    expect(bars(none)).toBe(0);
    expectFinite(none);
  });
});

describe("timelineStripsSvg", () => {
  it("draws one rect per span, x proportional to time, titled with stack, verdict and times", () => {
    const { timelines } = sampleReport().series;
    const svg = timelineStripsSvg(timelines, PERIOD, { id: "tl", title: "Timelines", width: 720, labelWidth: 170 });
    expect(spans(svg)).toBe(spanCount(timelines));
    // web-files drifted from day 5 to the end: 5/7 of the 538px plot after the 170px of names.
    expect(svg).toMatch(/<rect class="span" data-verdict="drifted" x="554.3" y="[\d.]+" width="153.7"/);
    expect(svg).toContain("<title>web-files: drifted from 2026-03-06 00:00 UTC to 2026-03-08 00:00 UTC (2d)</title>");
    expect(svg).toContain("net-&lt;script&gt;alert(1)&lt;/script&gt;|core: pending from");
    expect(svg).not.toContain("<script");
    expectAccessible(svg, "tl");
    expectFinite(svg);
  });

  it("cuts long stack names with an ellipsis and keeps the full name as a tooltip", () => {
    const long = "platform-networking-transit-gateway-attachments-production-eu-west-1";
    const svg = timelineStripsSvg([strip(long, [[0, "in-sync"]])], PERIOD, { id: "tl", title: "t" });
    expect(svg).toMatch(/…<\/text>/);
    expect(svg).toContain(`<title>${long}</title>`);
  });

  it(`shows at most ${MAX_TIMELINE_ROWS} rows, keeps the stacks out of sync longest and counts the rest`, () => {
    const quiet = Array.from({ length: 240 }, (_, i) => strip(`a-${String(i).padStart(3, "0")}`, [[0, "in-sync"]]));
    const noisy = Array.from({ length: 10 }, (_, i) => strip(`z-${i}`, [[0, "in-sync"], [DAY, "drifted"]]));
    const all = [...quiet, ...noisy];
    const rows = timelineRows(all);
    expect(rows).toHaveLength(MAX_TIMELINE_ROWS);
    expect(rows.slice(-10).map((r) => r.stack)).toEqual(noisy.map((s) => s.stack));
    const svg = timelineStripsSvg(all, PERIOD, { id: "tl", title: "t" });
    expect(spans(svg)).toBe(spanCount(rows));
    expect(svg).toContain("…and 50 more stacks");
    expect(svg).toContain("50 more stacks not shown");
  });

  it("handles no stacks and a period of no length", () => {
    const empty = timelineStripsSvg([], PERIOD, { id: "e", title: "t" });
    expect(spans(empty)).toBe(0);
    expect(empty).toContain("No stacks");
    expectFinite(empty);
    const instant = timelineStripsSvg([strip("s", [[0, "drifted"]], FROM, FROM)], { from: iso(FROM), to: iso(FROM) }, { id: "i", title: "t" });
    expect(spans(instant)).toBe(1);
    expectFinite(instant);
  });
});

describe("renderReportText", () => {
  const text = renderReportText(sampleReport());
  const lines = text.split("\n");

  it("tells the posture: verdicts, share in sync, resources, stale, open episodes, approvals", () => {
    expect(text).toMatch(/^Driftwatch fleet report: weekly <ops> & "platform"\n/);
    expect(text).toContain("Period     2026-03-01 00:00 UTC to 2026-03-08 00:00 UTC (7d)");
    expect(text).toContain("In sync            33.3% (1 of 3)");
    expect(text).toContain("Resources          2 drifted, 0 pending");
    expect(text).toContain(`Stale stacks       ${HOSTILE_STACK}`);
    expect(text).toContain("Open episodes      1; the oldest: web-files #14, open 2d (since 2026-03-06 00:00 UTC)");
    expect(text).toContain("Awaiting approval  1 plan");
    expect(lines).toContain("    VERDICT          STACKS  SHARE");
    expect(lines).toContain("    drifted+pending       0     0%");
  });

  it("tells the period: episodes, time in drift and to detect, checks per engine, errors", () => {
    expect(text).toContain("4 opened, 3 resolved, 1 still open at the end");
    expect(text).toContain(`median 1d 3h, p90 3d 21h (3 resolved episodes); longest: ${HOSTILE_STACK} #12, 3d 21h`);
    expect(text).toContain("median 30m, p90 45m, max 45m (3 episodes); unknown for 1");
    expect(text).toContain("96 runs: 70 in-sync, 12 drifted, 8 pending, 2 drifted+pending, 4 error");
    expect(lines).toContain("    ENGINE      RUNS  ERRORS  MEDIAN    P95    MAX");
    expect(lines).toContain("    kubernetes    28       0    2.1s   3.9s   4.1s");
    expect(lines).toContain("    terraform     34       4    9.5s    10m    15m");
    expect(text).toMatch(/engine-timeout\s+3\s+1/);
  });

  it("tells what drifts, with the ignore rules that end the churn, and the remediation with audit ids", () => {
    expect(text).toMatch(/local:index\/file:File\s+content\s+2/);
    expect(text).toMatch(/web-files\s+local:index\/file:File::motd\s+local:index\/file:File\s+3/);
    expect(text).toContain('      - { type: "local:index/file:File", paths: ["content"] }');
    expect(text).toContain("5: applied 2, approval-requested 1, refused 1, noop 1");
    expect(text).toContain("1 requested: 1 pending");
    expect(text).toMatch(/deletes\s+1/);
    // The reason's line break does not break the row.
    expect(text).toMatch(/#104 .*refused .*deletes .*plan deletes 1 resource: aws_vpc\.main \| <b>not allowed<\/b>/);
  });

  it("aligns columns: every row of a table starts its columns where the header does", () => {
    const header = lines.findIndex((l) => l.startsWith("    STACK") && l.includes("ENGINE") && l.includes("VERDICT"));
    const start = lines[header]!.indexOf("ENGINE");
    for (const row of lines.slice(header + 1, header + 3)) expect(row.slice(start - 2, start)).toBe("  ");
  });

  it("never sends control characters to the terminal", () => {
    const report = sampleReport();
    report.posture.stale = ["evil\u001b[2J\u001b]0;owned\u0007\u202e"];
    const out = renderReportText(report);
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
    expect(out).toContain("evil\uFFFD[2J");
  });
});

/** Pipes that split cells: not preceded by an odd number of backslashes. */
function cellPipes(row: string): number {
  return occurrences(row, /(?<!\\)(?:\\\\)*\|/);
}

function markdownTables(md: string): string[][] {
  const tables: string[][] = [];
  let current: string[] | undefined;
  for (const line of md.split("\n")) {
    if (line.startsWith("|")) (current ??= []).push(line);
    else if (current) {
      tables.push(current);
      current = undefined;
    }
  }
  return tables;
}

describe("renderReportMarkdown", () => {
  const md = renderReportMarkdown(sampleReport(), { baseUrl: "https://dw.example.com/" });

  it("makes well-formed pipe tables: every row has as many cells as its header", () => {
    const tables = markdownTables(md);
    expect(tables.length).toBeGreaterThanOrEqual(10);
    for (const rows of tables) {
      const expected = cellPipes(rows[0]!);
      expect(rows[1]).toMatch(/^\| (---:?|:?---)( \| (---:?))* \|$|^\|( ---:? \|)+$/);
      for (const row of rows) expect(cellPipes(row), row).toBe(expected);
    }
  });

  it("escapes what would be markup: HTML, pipes, backticks, emphasis", () => {
    expect(md).not.toMatch(/<script|<b>|<ops>/);
    expect(md).toContain("# Driftwatch fleet report: weekly &lt;ops&gt; &amp; \"platform\"");
    expect(md).toContain("[net-&lt;script&gt;alert(1)&lt;/script&gt;\\|core](https://dw.example.com/stacks/net-%3Cscript%3Ealert%281%29%3C%2Fscript%3E%7Ccore)");
    expect(md).toContain("plan deletes 1 resource: aws\\_vpc.main \\| &lt;b&gt;not allowed&lt;/b&gt;");
    expect(md).toContain("| `` metadata.annotations.`kubectl` `` |");
    expect(md).toContain('`tags["team\\|owner"]`');
    expect(escapeMarkdown("a*b_c`d[e](f)~g\\h")).toBe("a\\*b\\_c\\`d\\[e\\](f)\\~g\\\\h");
  });

  it("links stacks, runs and audit entries to the dashboard", () => {
    expect(md).toContain("[web-files](https://dw.example.com/stacks/web-files)");
    expect(md).toMatch(/\[2026-03-07 23:40 UTC\]\(https:\/\/dw\.example\.com\/runs\/run-web-77\)/);
    expect(md).toContain("[#104](https://dw.example.com/audit#audit-104)");
    const plain = renderReportMarkdown(sampleReport());
    expect(plain).not.toContain("](");
    expect(renderReportMarkdown(sampleReport(), { baseUrl: "javascript:alert(1)" })).not.toContain("javascript:");
  });

  it("lists only the stacks out of sync, and shows the ignore rules as YAML", () => {
    expect(md).toContain("### Stacks not in sync");
    expect(md).not.toMatch(/^\| \[k8s-apps\].*\| in-sync \|/m);
    expect(md).toContain('```yaml\nignore:\n  - { type: "local:index/file:File", paths: ["content"] }\n```');
  });

  it("stays well under GitHub's 1 MiB step summary for 1,000 stacks", () => {
    const big = renderReportMarkdown(fleetReport(1000), { baseUrl: "https://dw.example.com" });
    expect(Buffer.byteLength(big)).toBeLessThan(256 * 1024);
    expect(big).toMatch(/…and \d+ more stacks/);
    expect(big).toContain("…and 400 more decisions");
    for (const rows of markdownTables(big)) for (const row of rows) expect(cellPipes(row)).toBe(cellPipes(rows[0]!));
  });
});

/** The markup of the <figure id=...>. */
function figure(html: string, id: string): string {
  const match = new RegExp(`<figure id="${id}">([\\s\\S]*?)</figure>`).exec(html);
  expect(match, id).not.toBeNull();
  return match![1]!;
}

describe("renderReportHtml", () => {
  const report = sampleReport();
  const html = renderReportHtml(report, { baseUrl: "https://dw.example.com" });

  it("is one self-contained document: CSP, no script, nothing to fetch", () => {
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:`);
    expect(html).toContain('<meta name="color-scheme" content="light">');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|url\(|@import|\bsrc=/i);
    expectFinite(html);
  });

  it("escapes everything from the report", () => {
    expect(html).toContain("<title>Driftwatch fleet report: weekly &lt;ops&gt; &amp; &quot;platform&quot;</title>");
    expect(html).toContain("net-&lt;script&gt;alert(1)&lt;/script&gt;|core");
    expect(html).toContain("plan deletes 1 resource:\naws_vpc.main | &lt;b&gt;not allowed&lt;/b&gt;");
  });

  it("draws the three plots, each mark a datum", () => {
    expect(areas(figure(html, "plot-verdicts"))).toBe(presentVerdicts(report.series.verdicts).length);
    expect(bars(figure(html, "plot-time-in-drift"))).toBe(report.series.timeInDrift.length);
    expect(spans(figure(html, "plot-timelines"))).toBe(spanCount(report.series.timelines));
    for (const id of ["plot-verdicts", "plot-time-in-drift", "plot-timelines"]) expect(figure(html, id)).toMatch(/<figcaption>[^<]+<\/figcaption>/);
  });

  it("has tables with captions and scoped headers, every stack with its badge, and links", () => {
    expect(occurrences(html, /<table /)).toBe(occurrences(html, /<caption>/));
    expect(occurrences(html, /<th(?![^>]*scope="(col|row)")[ >]/)).toBe(0);
    expect(html).toContain('<span class="badge drifted">drifted</span>');
    expect(html).toContain('<span class="badge never-checked">never-checked</span>');
    expect(html).toContain('<a href="https://dw.example.com/stacks/net-%3Cscript%3Ealert(1)%3C%2Fscript%3E%7Ccore">');
    expect(html).toContain('<a href="https://dw.example.com/runs/run-web-77"><time datetime="2026-03-07T23:40:00.000Z">');
    expect(html).toContain('<a href="https://dw.example.com/audit#audit-104">#104</a>');
    expect(renderReportHtml(report)).not.toContain("<a href=\"http");
    expect(html).toMatch(/<th scope="row"><a href="[^"]+\/stacks\/k8s-apps">k8s-apps<\/a><\/th><td>kubernetes<\/td><td><span class="badge in-sync">/);
  });

  it("stays a reasonable size for 1,000 stacks, with the timelines capped", () => {
    const fleet = fleetReport(1000);
    const big = renderReportHtml(fleet, { baseUrl: "https://dw.example.com" });
    expect(Buffer.byteLength(big)).toBeLessThan(2 * 1024 * 1024);
    expect(spans(figure(big, "plot-timelines"))).toBe(spanCount(timelineRows(fleet.series.timelines)));
    expect(figure(big, "plot-timelines")).toContain("…and 800 more stacks");
    expect(occurrences(big, /<tr><th scope="row"><a href="[^"]+\/stacks\//)).toBeGreaterThanOrEqual(1000);
    expectFinite(big);
  });
});
