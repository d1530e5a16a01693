// The report's plots as SVG strings, drawn on the server: no script, no dependency, nothing fetched, so a report
// file opens anywhere (a CI artifact, a mail attachment, a browser without network). Every piece of text from the
// report is escaped, and every number written into the markup goes through `n()`, so no NaN or Infinity ever
// reaches it whatever the data (a single sample, an empty fleet, a zero-length period).
//
// The marks are what tests and readers can count, one element per datum:
// - verdictAreaSvg:    one `path.area[data-verdict]` per verdict that is non-zero somewhere;
// - histogramSvg:      one `rect.bar[data-count]` per bin, zero counts included (a 1px baseline);
// - timelineStripsSvg: one `rect.span[data-verdict]` per span of each stack shown (at most MAX_TIMELINE_ROWS rows).
// Legend swatches and axes use other elements or classes, so they never count as marks.
import { formatDuration } from "../core/durations.ts";
import { escapeHtml } from "../core/html.ts";
import { formatAxisTime, formatTime, plural, truncate } from "./format.ts";
import { POSTURE_VERDICTS, type HistogramBin, type TimelineStrip, type VerdictPoint } from "./model.ts";
import type { PostureVerdict } from "../core/report-digest.ts";

/** The dashboard's colours; drifted+pending is a darker red than drifted so that the two stay apart. */
export const VERDICT_COLORS: Readonly<Record<PostureVerdict, string>> = {
  "in-sync": "#2da44e",
  drifted: "#cf222e",
  pending: "#bf8700",
  "drifted+pending": "#a40e26",
  error: "#bc4c00",
  "never-checked": "#8c959f",
};

/**
 * Rows a timeline plot shows at most. A fleet of 1,000 stacks would otherwise make a plot of 1,000 rows (and
 * megabytes of markup); beyond the cap the stacks that spent the least time out of sync are left out, and a note
 * inside the plot says how many.
 */
export const MAX_TIMELINE_ROWS = 200;

export interface PlotOptions {
  /** The plot's accessible name, its `<title>`. */
  title: string;
  /** The `<svg>` element's id; its title and description get `<id>-title` and `<id>-desc`. */
  id: string;
  width?: number;
  height?: number;
}

export interface TimelineOptions extends Omit<PlotOptions, "height"> {
  /** The height follows the rows: this much per stack. */
  rowHeight?: number;
  maxRows?: number;
  /** Room for the stack names at the left; longer names are cut with an ellipsis (the full name is their title). */
  labelWidth?: number;
}

interface Box {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

const h = escapeHtml;
const INK = "#57606a";
const RULE = "#d0d7de";
/** About how wide a character of the 11px system font is, for fitting labels without measuring them. */
const CHAR_WIDTH = 6.2;

/** A number for the markup: finite, at most one decimal. */
function n(value: number): string {
  if (!Number.isFinite(value)) return "0";
  const rounded = Math.round(value * 10) / 10;
  return Object.is(rounded, -0) ? "0" : String(rounded);
}

/** Ids end up in attribute values and in aria references: only characters that need no escaping anywhere. */
function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, "-") || "plot";
}

function frame(options: PlotOptions, width: number, height: number, desc: string, body: string): string {
  const id = safeId(options.id);
  return `<svg xmlns="http://www.w3.org/2000/svg" id="${id}" class="plot" role="img" aria-labelledby="${id}-title" aria-describedby="${id}-desc" viewBox="0 0 ${n(width)} ${n(height)}" width="${n(width)}" height="${n(height)}" font-family="system-ui, sans-serif" font-size="11">
<title id="${id}-title">${h(options.title)}</title>
<desc id="${id}-desc">${h(desc)}</desc>
${body}</svg>`;
}

/** A label; `title` (a tooltip) when the label shows less than the whole text. */
function text(x: number, y: number, content: string, attrs = "", title?: string): string {
  const tooltip = title === undefined ? "" : `<title>${h(title)}</title>`;
  return `<text x="${n(x)}" y="${n(y)}" fill="${INK}"${attrs ? ` ${attrs}` : ""}>${tooltip}${h(content)}</text>`;
}

function line(x1: number, y1: number, x2: number, y2: number): string {
  return `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}" stroke="${RULE}"/>`;
}

/** What an empty plot says instead of marks, in the middle of its box. */
function emptyMessage(width: number, height: number, message: string): string {
  return text(width / 2, height / 2, message, 'text-anchor="middle" class="empty"');
}

/** Swatches and names of the verdicts shown, in one row from (x, y). */
function legend(verdicts: readonly PostureVerdict[], x: number, y: number): string {
  let at = x;
  const items = verdicts.map((v) => {
    const item = `<g class="legend-item"><rect class="swatch" x="${n(at)}" y="${n(y - 9)}" width="10" height="10" fill="${VERDICT_COLORS[v]}"/>${text(at + 14, y, v)}</g>`;
    at += 14 + v.length * CHAR_WIDTH + 14;
    return item;
  });
  return `<g class="legend">${items.join("")}</g>`;
}

function count(point: VerdictPoint, verdict: PostureVerdict): number {
  const value = point.byVerdict[verdict];
  return Number.isFinite(value) && value > 0 ? value : 0;
}

function total(point: VerdictPoint): number {
  return POSTURE_VERDICTS.reduce((sum, v) => sum + count(point, v), 0);
}

/**
 * Where each sample goes across the plot: by its time when the times are usable, by its index when they are not,
 * and a single sample stretched across the whole width (a flat band reads better than a vertical line).
 */
function sampleColumns(points: readonly VerdictPoint[], left: number, plotWidth: number): { x: number; point: VerdictPoint }[] {
  if (points.length === 1) return [{ x: left, point: points[0]! }, { x: left + plotWidth, point: points[0]! }];
  const times = points.map((p) => Date.parse(p.at));
  const first = times[0]!;
  const span = times[times.length - 1]! - first;
  const byTime = times.every(Number.isFinite) && span > 0;
  return points.map((point, i) => ({ x: left + (byTime ? (times[i]! - first) / span : i / (points.length - 1)) * plotWidth, point }));
}

/** The x-axis labels at `y`: the first and the last time, from `left` to `right` (one label when they are the same). */
function timeAxis(fromMs: number, toMs: number, left: number, right: number, y: number): string {
  const span = toMs - fromMs;
  const first = formatAxisTime(fromMs, span);
  const last = formatAxisTime(toMs, span);
  if (first === last) return text(left, y, first);
  return text(left, y, first) + text(right, y, last, 'text-anchor="end"');
}

/**
 * The fleet's verdicts over time, stacked: at each sample the areas' heights add up to the number of stacks
 * (y), in the order of POSTURE_VERDICTS from the bottom. One area per verdict that any sample has.
 */
export function verdictAreaSvg(points: readonly VerdictPoint[], options: PlotOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 240;
  const box: Box = { top: 28, right: 12, bottom: 26, left: 40 };
  const plotWidth = width - box.left - box.right;
  const plotHeight = height - box.top - box.bottom;
  const max = Math.max(0, ...points.map(total));
  if (points.length === 0 || max === 0) {
    return frame(options, width, height, "No stacks to show in this period.", emptyMessage(width, height, "No stacks in this period"));
  }

  const present = POSTURE_VERDICTS.filter((v) => points.some((p) => count(p, v) > 0));
  const columns = sampleColumns(points, box.left, plotWidth);
  const y = (value: number): number => box.top + plotHeight - (value / max) * plotHeight;
  // Running totals below each verdict, column by column: the areas sit on top of one another.
  const below = columns.map(() => 0);
  const areas = POSTURE_VERDICTS.map((verdict) => {
    const lower = [...below];
    columns.forEach((c, i) => (below[i]! += count(c.point, verdict)));
    if (!present.includes(verdict)) return "";
    const top = columns.map((c, i) => `${n(c.x)},${n(y(below[i]!))}`);
    const bottom = columns.map((c, i) => `${n(c.x)},${n(y(lower[i]!))}`).reverse();
    const peak = Math.max(...points.map((p) => count(p, verdict)));
    const last = count(points[points.length - 1]!, verdict);
    const label = `${verdict}: up to ${plural(peak, "stack")}, ${last} at the end`;
    return `<path class="area" data-verdict="${h(verdict)}" d="M${top.join(" L")} L${bottom.join(" L")} Z" fill="${VERDICT_COLORS[verdict]}" fill-opacity="0.85"><title>${h(label)}</title></path>`;
  })
    .filter((area) => area !== "")
    .join("\n");

  const times = points.map((p) => Date.parse(p.at));
  const axes = [
    line(box.left, box.top + plotHeight, width - box.right, box.top + plotHeight),
    line(box.left, box.top, box.left, box.top + plotHeight),
    text(box.left - 6, box.top + plotHeight, "0", 'text-anchor="end" dominant-baseline="middle"'),
    text(box.left - 6, box.top, String(max), 'text-anchor="end" dominant-baseline="middle"'),
    timeAxis(times[0]!, times[times.length - 1]!, box.left, width - box.right, box.top + plotHeight + 16),
    legend(present, box.left, 14),
  ].join("\n");
  return frame(options, width, height, verdictAreaDesc(points, present, max), `${areas}\n${axes}\n`);
}

function verdictAreaDesc(points: readonly VerdictPoint[], present: readonly PostureVerdict[], max: number): string {
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const atEnd = present.map((v) => `${count(last, v)} ${v}`).join(", ");
  return `Stacks per verdict, ${plural(points.length, "sample")} from ${formatTime(first.at)} to ${formatTime(last.at)}. At the end: ${atEnd}. At most ${plural(max, "stack")} at once.`;
}

/** A histogram: one bar per bin, its height the bin's count, the bin's label under it and the count above. */
export function histogramSvg(bins: readonly HistogramBin[], options: PlotOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 200;
  const box: Box = { top: 20, right: 12, bottom: 26, left: 12 };
  if (bins.length === 0) return frame(options, width, height, "No bins to show.", emptyMessage(width, height, "No data"));

  const plotWidth = width - box.left - box.right;
  const plotHeight = height - box.top - box.bottom;
  const baseline = box.top + plotHeight;
  const counts = bins.map((b) => (Number.isFinite(b.count) && b.count > 0 ? b.count : 0));
  const max = Math.max(0, ...counts);
  const slot = plotWidth / bins.length;
  const barWidth = Math.max(1, slot * 0.7);
  const bars = bins.map((bin, i) => {
    const value = counts[i]!;
    // An empty bin is still a mark: a 1px baseline, so every bin has its bar and its place.
    const barHeight = value === 0 ? 1 : Math.max(1, (value / max) * plotHeight);
    const x = box.left + i * slot + (slot - barWidth) / 2;
    const center = box.left + i * slot + slot / 2;
    const fill = value === 0 ? RULE : VERDICT_COLORS.drifted;
    return [
      `<rect class="bar" data-count="${value}" x="${n(x)}" y="${n(baseline - barHeight)}" width="${n(barWidth)}" height="${n(barHeight)}" fill="${fill}"><title>${h(`${bin.label}: ${plural(value, "episode")}`)}</title></rect>`,
      text(center, baseline - barHeight - 4, String(value), 'text-anchor="middle"'),
      text(center, baseline + 16, bin.label, 'text-anchor="middle"'),
    ].join("");
  });
  const desc = `${plural(counts.reduce((a, b) => a + b, 0), "episode")} in all: ${bins.map((b, i) => `${b.label}: ${counts[i]}`).join(", ")}.`;
  return frame(options, width, height, desc, `${bars.join("\n")}\n${line(box.left, baseline, width - box.right, baseline)}\n`);
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

/** How long a strip spent in anything but in-sync: the cap keeps the stacks this is largest for. */
function timeOutOfSync(strip: TimelineStrip): number {
  return strip.spans.reduce((sum, s) => {
    const length = Date.parse(s.to) - Date.parse(s.from);
    return s.verdict === "in-sync" || !Number.isFinite(length) ? sum : sum + Math.max(0, length);
  }, 0);
}

/** At most `maxRows` strips, the ones out of sync longest, shown in their original order (by name). */
export function timelineRows(strips: readonly TimelineStrip[], maxRows = MAX_TIMELINE_ROWS): TimelineStrip[] {
  if (strips.length <= maxRows) return [...strips];
  const keep = new Set(
    strips
      .map((strip, index) => ({ index, outOfSync: timeOutOfSync(strip) }))
      .sort((a, b) => b.outOfSync - a.outOfSync || a.index - b.index)
      .slice(0, Math.max(0, maxRows))
      .map((r) => r.index),
  );
  return strips.filter((_, i) => keep.has(i));
}

/**
 * One row per stack, its verdict over the period as coloured spans, x proportional to time. Rows beyond
 * `maxRows` (MAX_TIMELINE_ROWS) are left out, and a note at the bottom of the plot says how many.
 */
export function timelineStripsSvg(strips: readonly TimelineStrip[], period: { from: string; to: string }, options: TimelineOptions): string {
  const width = options.width ?? 720;
  const rowHeight = options.rowHeight ?? 16;
  const labelWidth = options.labelWidth ?? 170;
  const rows = timelineRows(strips, options.maxRows ?? MAX_TIMELINE_ROWS);
  const omitted = strips.length - rows.length;
  const box: Box = { top: 28, right: 12, bottom: omitted > 0 ? 44 : 26, left: labelWidth };
  const height = box.top + Math.max(1, rows.length) * rowHeight + box.bottom;
  if (rows.length === 0) return frame(options, width, height, "No stacks to show.", emptyMessage(width, height, "No stacks"));

  const from = Date.parse(period.from);
  const to = Date.parse(period.to);
  const range = to - from;
  const plotWidth = width - box.left - box.right;
  const x = (iso: string): number => box.left + (range > 0 ? clamp01((Date.parse(iso) - from) / range) : 0) * plotWidth;
  const maxChars = Math.max(4, Math.floor((labelWidth - 10) / CHAR_WIDTH));

  const body = rows.map((strip, row) => {
    const top = box.top + row * rowHeight;
    const name = truncate(strip.stack, maxChars);
    const label = text(labelWidth - 6, top + rowHeight / 2, name, 'text-anchor="end" dominant-baseline="middle"', name === strip.stack ? undefined : strip.stack);
    const spans = strip.spans.map((s) => {
      const left = x(s.from);
      // A hairline at least: a span shorter than a pixel is still there to see and to hover.
      const spanWidth = Math.max(0.5, x(s.to) - left);
      const title = `${strip.stack}: ${s.verdict} from ${formatTime(s.from)} to ${formatTime(s.to)} (${formatDuration(Date.parse(s.to) - Date.parse(s.from))})`;
      return `<rect class="span" data-verdict="${h(s.verdict)}" x="${n(left)}" y="${n(top + 2)}" width="${n(spanWidth)}" height="${n(rowHeight - 4)}" fill="${VERDICT_COLORS[s.verdict] ?? VERDICT_COLORS["never-checked"]}"><title>${h(title)}</title></rect>`;
    });
    return `<g class="row">${label}${spans.join("")}</g>`;
  });

  const present = POSTURE_VERDICTS.filter((v) => rows.some((r) => r.spans.some((s) => s.verdict === v)));
  const plotBottom = box.top + rows.length * rowHeight;
  const parts = [
    ...body,
    line(box.left, plotBottom, width - box.right, plotBottom),
    timeAxis(from, to, box.left, width - box.right, plotBottom + 16),
    legend(present, box.left, 14),
  ];
  if (omitted > 0) parts.push(text(box.left, height - 8, `…and ${plural(omitted, "more stack", "more stacks")} (those out of sync the least are not shown)`, 'class="note"'));
  const spanCount = rows.reduce((sum, r) => sum + r.spans.length, 0);
  const desc = `${plural(rows.length, "stack")} from ${formatTime(period.from)} to ${formatTime(period.to)}, ${plural(spanCount, "span")}${omitted > 0 ? `; ${omitted} more stacks not shown` : ""}.`;
  return frame(options, width, height, desc, `${parts.join("\n")}\n`);
}
