// What `check --format junit|markdown` writes for CI: a JUnit XML report (one test case per stack) that GitHub
// test reporters, GitLab's `artifacts:reports:junit` and Jenkins read, and a Markdown summary for
// $GITHUB_STEP_SUMMARY. Both say only what the results say (secrets arrive masked), in the table's own words.
import { DriftwatchError, errorMessage, UsageError } from "../core/errors.ts";
import { ignoreRulesYaml, suggestedIgnoreRules } from "../core/flapping.ts";
import { shortAddress } from "../core/present.ts";
import { fencedBlock } from "../core/markdown.ts";
import { checkOutputFile, writeOutputFile } from "../core/output-file.ts";
import type { StackResult, Verdict } from "../core/types.ts";
import { changeLines, renderResults, seconds, shortCommit } from "./render.ts";

// ---------------------------------------------------------------------------------------------------------------
// The lines the text table prints, per stack

/** Everything else the table says about a stack besides its changes and its error: what a reader should know. */
function contextLines(r: StackResult): string[] {
  const lines: string[] = [];
  if (r.applied) {
    if (r.applied.length === 0) lines.push("converge applied nothing (already as Git declares)");
    else lines.push("converge applied:", ...r.applied.map((c) => `  ${c.action.padEnd(7)} ${shortAddress(c.address)}`));
  }
  if (r.staleSource) lines.push(`stale source (remote unreachable): ${r.staleSource.error}`);
  if (r.remediation) lines.push(`remediation ${r.remediation.decision}: ${r.remediation.reason} (audit #${r.remediation.auditId})`);
  if (r.flapping?.length) {
    lines.push(...r.flapping.map((f) => `flapping: ${shortAddress(f.address)} started drifting ${f.times} times since ${f.since}`));
    const rules = suggestedIgnoreRules(r.flapping);
    if (rules.length) lines.push("if something besides Git owns it, an ignore rule in the stack's config ends the churn:", ...ignoreRulesYaml(rules).split("\n").map((l) => `    ${l}`));
  }
  for (const note of r.notes ?? []) lines.push(`note: ${note}`);
  if (r.unchecked?.length) lines.push(`not checked for drift (the engine cannot): ${r.unchecked.map((u) => `${u.address} (${u.type})`).join(", ")}`);
  return lines;
}

function counts(r: StackResult): { drift: number; pending: number } {
  return { drift: r.changes.filter((c) => c.kind === "drift").length, pending: r.changes.filter((c) => c.kind === "pending").length };
}

function isError(r: StackResult): boolean {
  return r.verdict === "error" || r.error !== undefined;
}

function isDivergent(r: StackResult): boolean {
  return !isError(r) && r.verdict !== "in-sync";
}

function errorText(r: StackResult): string {
  return r.error ? `${r.error.kind}: ${r.error.message}` : "error";
}

// ---------------------------------------------------------------------------------------------------------------
// JUnit XML

/**
 * Characters XML 1.0 does not allow anywhere, even escaped: C0 controls other than tab, newline and carriage
 * return; surrogates not part of a pair; U+FFFE and U+FFFF.
 */
const ILLEGAL_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` without the characters XML 1.0 cannot carry. */
export function xmlLegal(text: string): string {
  return text.replace(ILLEGAL_XML, "");
}

/** Character data: `>` too, so that no `]]>` can appear; CR as a reference, or a parser would make it LF. */
function xmlText(text: string): string {
  return xmlLegal(text).replace(/[&<>\r]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;" })[ch]!);
}

/** An attribute value in double quotes: tab, LF and CR as references, or attribute normalisation makes them spaces. */
function xmlAttr(text: string): string {
  return xmlLegal(text).replace(
    /[&<>"'\t\n\r]/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;" })[ch]!,
  );
}

function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`)
    .join("");
}

function junitSeconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** Wall-clock time from the first start to the last finish (stacks run concurrently); else the sum of the runs. */
function elapsedMs(results: readonly StackResult[]): number {
  const starts = results.map((r) => Date.parse(r.startedAt));
  const ends = results.map((r) => Date.parse(r.finishedAt));
  if (results.length && [...starts, ...ends].every(Number.isFinite)) return Math.max(...ends) - Math.min(...starts);
  return results.reduce((sum, r) => sum + r.durationMs, 0);
}

function earliestStart(results: readonly StackResult[]): string | undefined {
  return results.map((r) => r.startedAt).sort()[0];
}

export interface JunitOptions {
  /** The `<testsuite>`'s name (default "driftwatch check"). */
  suiteName?: string;
  /** The `<testsuite>`'s timestamp (default: when the first stack's run started). */
  timestamp?: string;
}

/**
 * A JUnit XML report: `<testsuites name="driftwatch">` with one `<testsuite>`, and one `<testcase>` per stack
 * (classname `driftwatch.<engine>`, name the stack). In sync passes; drifted and/or pending is a `<failure>`
 * listing every change and property diff; an error is an `<error>` of the error's kind.
 */
export function renderJunit(results: readonly StackResult[], options: JunitOptions = {}): string {
  const failures = results.filter(isDivergent).length;
  const errors = results.filter(isError).length;
  const time = junitSeconds(elapsedMs(results));
  const totals = { tests: results.length, failures, errors, skipped: 0, time };
  const out = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites${attrs({ name: "driftwatch", ...totals })}>`,
    `  <testsuite${attrs({ name: options.suiteName ?? "driftwatch check", ...totals, timestamp: options.timestamp ?? earliestStart(results) })}>`,
  ];
  for (const r of results) {
    out.push(`    <testcase${attrs({ classname: `driftwatch.${r.engine}`, name: r.stack, time: junitSeconds(r.durationMs) })}>`);
    const properties: [string, string | undefined][] = [
      ["engine", r.engine],
      ["verdict", r.verdict],
      ["commit", r.commit],
      ["runId", r.runId],
      ["trigger", r.trigger],
      ["startedAt", r.startedAt],
    ];
    out.push("      <properties>");
    for (const [name, value] of properties) if (value !== undefined) out.push(`        <property${attrs({ name, value })}/>`);
    out.push("      </properties>");
    if (isError(r)) {
      const text = errorText(r);
      out.push(`      <error${attrs({ message: text, type: r.error?.kind ?? "error" })}>${xmlText(text)}</error>`);
    } else if (isDivergent(r)) {
      const { drift, pending } = counts(r);
      const message = `${r.verdict}: ${drift} drifted, ${pending} pending`;
      const body = [`${r.stack}:`, ...changeLines(r.changes)].join("\n");
      out.push(`      <failure${attrs({ message, type: r.verdict })}>${xmlText(body)}</failure>`);
    }
    const context = contextLines(r);
    if (context.length) out.push(`      <system-out>${xmlText(context.map((l) => `${r.stack}: ${l}`).join("\n"))}</system-out>`);
    out.push("    </testcase>");
  }
  out.push("  </testsuite>", "</testsuites>");
  return `${out.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown

const VERDICT_EMOJI: Record<Verdict, string> = {
  "in-sync": "✅",
  drifted: "⚠️",
  pending: "🕓",
  "drifted+pending": "⚠️",
  error: "❌",
};

/** HTML text (also safe inside `<summary>` and Markdown table cells as far as `&`, `<` and `>` go). */
function htmlText(text: string): string {
  return text.replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]!);
}

/**
 * A table cell that reads as its text: HTML-escaped, Markdown punctuation that could start emphasis, a link or code
 * backslash-escaped, `|` escaped so it cannot end the cell, and line breaks as `<br>` so they cannot end the row.
 */
export function markdownCell(text: string): string {
  return htmlText(text)
    .replace(/[\\`*_[\]~|]/g, (ch) => `\\${ch}`)
    .replace(/\r\n|\r|\n/g, "<br>");
}

export { fencedBlock } from "../core/markdown.ts";

const VERDICT_ORDER: readonly Verdict[] = ["error", "drifted+pending", "drifted", "pending", "in-sync"];

export interface MarkdownOptions {
  /** The heading's first words (default "Driftwatch check"). */
  title?: string;
}

/**
 * A Markdown summary: a heading with the counts, a table of the stacks, then for each stack that diverges or failed
 * a collapsed `<details>` section with its changes (or its error) in a code block.
 */
export function renderResultsMarkdown(results: readonly StackResult[], options: MarkdownOptions = {}): string {
  const title = options.title ?? "Driftwatch check";
  const byVerdict = VERDICT_ORDER.map((v) => [v, results.filter((r) => (isError(r) ? "error" : r.verdict) === v).length] as const).filter(([, n]) => n > 0);
  const summary = byVerdict.map(([v, n]) => `${VERDICT_EMOJI[v]} ${n} ${v === "in-sync" ? "in sync" : v}`).join(", ");
  const out = [`## ${htmlText(title)}: ${results.length} ${results.length === 1 ? "stack" : "stacks"}${summary ? ` — ${summary}` : ""}`, ""];
  if (results.length === 0) return `${out.join("\n")}\nNo stacks were run.\n`;
  out.push("| Stack | Engine | Verdict | Drift | Pending | Commit | Time |", "| --- | --- | --- | ---: | ---: | --- | ---: |");
  for (const r of results) {
    const verdict = isError(r) ? "error" : r.verdict;
    const label = `${verdict}${r.staleSource ? " (stale source)" : ""}`;
    const { drift, pending } = counts(r);
    const commit = r.commit ? `<code>${markdownCell(shortCommit(r.commit))}</code>` : "-";
    out.push(`| ${[markdownCell(r.stack), markdownCell(r.engine), `${VERDICT_EMOJI[verdict]} ${markdownCell(label)}`, String(drift), String(pending), commit, seconds(r.durationMs)].join(" | ")} |`);
  }
  for (const r of results) {
    if (!isError(r) && !isDivergent(r)) continue;
    const { drift, pending } = counts(r);
    const what = isError(r) ? `error: ${r.error?.kind ?? "error"}` : `${r.verdict}: ${drift} drifted, ${pending} pending`;
    const lines = isError(r) ? [errorText(r)] : changeLines(r.changes);
    const context = contextLines(r);
    if (context.length) lines.push("", ...context);
    // One line: a blank line would end the HTML block, and what follows would be Markdown outside the summary.
    const inline = (text: string) => htmlText(text.replace(/\s*[\r\n]+\s*/g, " "));
    out.push("", `<details><summary><strong>${inline(r.stack)}</strong> (${inline(r.engine)}) — ${inline(what)}</summary>`, "", fencedBlock(lines.join("\n")), "", "</details>");
  }
  // Control characters (a NUL, an escape sequence) have no business in a page either.
  return xmlLegal(`${out.join("\n")}\n`);
}

// ---------------------------------------------------------------------------------------------------------------
// --format and --out of check and converge

export const RESULTS_FORMATS = ["text", "json", "junit", "markdown"] as const;
export type ResultsFormat = (typeof RESULTS_FORMATS)[number];

export interface ResultsOutputOptions {
  /** The older spelling of `--format json`. */
  json?: boolean;
  format?: ResultsFormat;
  out?: string;
}

/** The format asked for: --format, else json for --json, else text; --json with another --format is a UsageError. */
export function resultsFormat(options: ResultsOutputOptions, command: string): ResultsFormat {
  if (options.json && options.format !== undefined && options.format !== "json") {
    throw new UsageError(`${command}: --json means --format json; it cannot go with --format ${options.format}`);
  }
  return options.format ?? (options.json ? "json" : "text");
}

/** The results of `command` (check or converge) in `format`. */
export function renderResultsAs(format: ResultsFormat, results: readonly StackResult[], command: string): string {
  switch (format) {
    case "text":
      return renderResults(results);
    case "json":
      return `${JSON.stringify({ results }, null, 2)}\n`;
    case "junit":
      return renderJunit(results, { suiteName: `driftwatch ${command}` });
    case "markdown":
      return renderResultsMarkdown(results, { title: `Driftwatch ${command}` });
  }
}

/** Refuses an `--out` file that cannot be written before any engine runs (writeResultsFile writes it once the results are in). */
export function checkOutFile(file: string, command: string): void {
  checkOutputFile(file, `${command}: --out`);
}

/** Writes the document to the `--out` file, atomically; any failure (a read-only folder, a full disk) is a UsageError. */
export function writeResultsFile(file: string, text: string, command: string): void {
  try {
    writeOutputFile(file, text, `${command}: --out`);
  } catch (error) {
    if (error instanceof DriftwatchError) throw error;
    throw new UsageError(`${command}: --out ${file}: cannot write it: ${errorMessage(error)}`);
  }
}
