// The fleet report as GitHub/GitLab flavoured markdown, for a CI job summary or a wiki page. Tables are pipe
// tables; every piece of report text is escaped for where it lands (a pipe would split a cell, `<` would open
// HTML, a newline would end the table). Per-stack lists are capped (50 rows by default) so that a report of
// 1,000 stacks stays far below the 1 MiB a GitHub step summary may hold; the JSON report has everything.
import { fencedBlock } from "../core/markdown.ts";
import { oneLine } from "./format.ts";
import type { FleetReport } from "./model.ts";
import { linkBase, linkHref, reportOutline, type Block, type Cell, type FactsBlock, type Inline, type TableBlock } from "./outline.ts";

export interface MarkdownReportOptions {
  /** The dashboard's URL: stacks, runs and audit entries become links to it. */
  baseUrl?: string;
  /** Rows per per-stack list (default 50). */
  limit?: number;
}

interface Context {
  base?: string;
  /** In a table cell a pipe must be escaped even inside a code span (GFM removes the backslash there). */
  inTable: boolean;
}

/**
 * Text that shows as itself in markdown, table cells included: one line, HTML's specials as entities, and a
 * backslash before every character that could start emphasis, code, a link, strikethrough or a cell.
 */
export function escapeMarkdown(text: string): string {
  return oneLine(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/[\\`*_[\]|~]/g, "\\$&");
}

/** A code span whose fence is longer than any run of backticks inside it, so the content cannot close it. */
function codeSpan(text: string, inTable: boolean): string {
  const content = oneLine(text);
  if (content === "") return "";
  const longest = Math.max(0, ...(content.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  // A space on each side keeps a leading or trailing backtick from joining the fence (CommonMark strips them).
  const padded = /^[` ]|[` ]$/.test(content) ? ` ${content} ` : content;
  return `${fence}${inTable ? padded.replace(/\|/g, "\\|") : padded}${fence}`;
}

/** A URL as a link destination: what would end it or split a cell, percent-encoded. */
function destination(url: string): string {
  return url.replace(/[\s<>()|\\`"'[\]]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}

function inline(item: Inline, ctx: Context): string {
  const text = item.code ? codeSpan(item.text, ctx.inTable) : escapeMarkdown(item.text);
  if (!item.link || ctx.base === undefined || text === "") return text;
  return `[${text}](${destination(linkHref(ctx.base, item.link))})`;
}

function cell(value: Cell, ctx: Context): string {
  return value.map((item) => inline(item, ctx)).join("");
}

function facts(block: FactsBlock, ctx: Context): string {
  return block.items.map((i) => `- **${escapeMarkdown(i.label)}:** ${cell(i.value, ctx)}`).join("\n");
}

function table(block: TableBlock, ctx: Context): string {
  const caption = `### ${escapeMarkdown(block.caption)}`;
  if (block.rows.length === 0) return `${caption}\n\n${escapeMarkdown(block.empty)}`;
  const inTable = { ...ctx, inTable: true };
  const row = (cells: readonly string[]): string => `| ${cells.map((c) => c || " ").join(" | ")} |`;
  const lines = [
    row(block.columns.map((c) => escapeMarkdown(c.label))),
    row(block.columns.map((c) => (c.numeric ? "---:" : "---"))),
    ...block.rows.map((r) => row(r.map((c) => cell(c, inTable)))),
  ];
  return [caption, "", ...lines, ...(block.more ? ["", escapeMarkdown(block.more)] : [])].join("\n");
}

/** A fenced block: the fence longer than any backtick run in the text, so the text cannot end it. */
function codeBlock(text: string, language: string): string {
  return fencedBlock(text.split("\n").map(oneLine).join("\n"), language.replace(/[^A-Za-z0-9_-]/g, ""));
}

function block(b: Block, ctx: Context): string | undefined {
  switch (b.kind) {
    case "facts":
      return facts(b, ctx);
    case "table":
      return table(b, ctx);
    case "code":
      return `**${escapeMarkdown(b.caption)}**\n\n${codeBlock(b.text, b.language)}`;
    case "note":
      return cell(b.text, ctx);
    case "plot":
      // Markdown has no plots (a job summary shows no inline SVG); the HTML report draws them.
      return undefined;
  }
}

/** The report as markdown, ending with a newline. */
export function renderReportMarkdown(report: FleetReport, options: MarkdownReportOptions = {}): string {
  const base = linkBase(options.baseUrl);
  const ctx: Context = base === undefined ? { inTable: false } : { base, inTable: false };
  const outline = reportOutline(report, { limit: options.limit ?? 50, allStacks: false });
  const parts = [`# ${escapeMarkdown(outline.title)}`, facts(outline.header, ctx)];
  for (const section of outline.sections) {
    parts.push(`## ${escapeMarkdown(section.title)}`);
    for (const b of section.blocks) {
      const rendered = block(b, ctx);
      if (rendered !== undefined) parts.push(rendered);
    }
  }
  parts.push(`_Driftwatch report schema ${report.schemaVersion}. Lists are capped; the JSON report has every entry, the HTML report draws the plots._`);
  return `${parts.join("\n\n")}\n`;
}
