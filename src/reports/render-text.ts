// The fleet report for a terminal: facts as label/value lines, tables as aligned columns (numbers to the right),
// suggested ignore rules as indented YAML. Everything from the report passes through `oneLine`, so a stack name
// or a reason can neither break the columns nor send control sequences to the terminal.
import { oneLine } from "./format.ts";
import type { FleetReport } from "./model.ts";
import { plainText, reportOutline, type Block, type Cell, type Column, type FactsBlock, type Section } from "./outline.ts";

export interface TextReportOptions {
  /** Rows per per-stack list (default 50); the JSON report has them all. */
  limit?: number;
}

const INDENT = "  ";

function width(text: string): number {
  return Array.from(text).length;
}

function pad(text: string, to: number, right: boolean): string {
  const fill = " ".repeat(Math.max(0, to - width(text)));
  return right ? fill + text : text + fill;
}

/** Aligned columns, two spaces apart; numeric columns right-aligned, the last column never padded. */
export function textTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string[] {
  const all = [columns.map((c) => c.label.toUpperCase()), ...rows];
  const widths = columns.map((_, col) => Math.max(...all.map((row) => width(row[col] ?? ""))));
  return all.map((row) =>
    row
      .map((cell, col) => (col === row.length - 1 && !columns[col]?.numeric ? cell : pad(cell, widths[col]!, columns[col]?.numeric === true)))
      .join("  ")
      .trimEnd(),
  );
}

function cellText(cell: Cell): string {
  return oneLine(plainText(cell));
}

function facts(block: FactsBlock, indent: string): string[] {
  const labelWidth = Math.max(...block.items.map((i) => width(i.label)));
  return block.items.map((i) => `${indent}${pad(i.label, labelWidth, false)}  ${cellText(i.value)}`);
}

function blockLines(block: Block): string[] {
  switch (block.kind) {
    case "facts":
      return facts(block, INDENT);
    case "table": {
      const head = `${INDENT}${oneLine(block.caption)}`;
      if (block.rows.length === 0) return [head, `${INDENT}${INDENT}${block.empty}`];
      const lines = textTable(block.columns, block.rows.map((row) => row.map(cellText))).map((l) => `${INDENT}${INDENT}${l}`);
      return [head, ...lines, ...(block.more ? [`${INDENT}${INDENT}${block.more}`] : [])];
    }
    case "code":
      return [`${INDENT}${oneLine(block.caption)}:`, ...block.text.split("\n").map((l) => `${INDENT}${INDENT}${oneLine(l)}`)];
    case "note":
      return [`${INDENT}${cellText(block.text)}`];
    case "plot":
      // A terminal draws no plots; their numbers are in the tables next to them.
      return [];
  }
}

function section(s: Section): string[] {
  const title = oneLine(s.title);
  const blocks = s.blocks.map(blockLines).filter((lines) => lines.length > 0);
  return [title, "=".repeat(width(title)), ...blocks.flatMap((lines, i) => (i === 0 ? lines : ["", ...lines]))];
}

/** The report as plain text for a terminal, ending with a newline. */
export function renderReportText(report: FleetReport, options: TextReportOptions = {}): string {
  const outline = reportOutline(report, { limit: options.limit ?? 50, allStacks: false });
  const lines = [oneLine(outline.title), ...facts(outline.header, ""), ...outline.sections.flatMap((s) => ["", ...section(s)])];
  return `${lines.join("\n")}\n`;
}
