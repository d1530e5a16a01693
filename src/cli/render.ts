// What `check`, `converge`, `history` and `audit` print: a table for people, one JSON document for machines.
import { formatChanger, formatValue as value, shortAddress } from "../core/present.ts";
import { ignoreRulesYaml, suggestedIgnoreRules } from "../core/flapping.ts";
import type { FlappingResource, ResourceChange, StackResult } from "../core/types.ts";
import type { ApprovalRecord, AuditEntry, RunSummary } from "../store/api.ts";

/** Rows as aligned columns (the last one not padded), one line each. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join("  ").trimEnd()).join("\n");
}

export function shortCommit(commit: string | undefined): string {
  return commit ? commit.slice(0, 12) : "-";
}


export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Resources that keep drifting again, and the ignore rule that would stop them. */
function flappingLines(stack: string, flapping: readonly FlappingResource[]): string[] {
  const lines = flapping.map((f) => `${stack}: flapping: ${shortAddress(f.address)} started drifting ${f.times} times since ${f.since}`);
  const rules = suggestedIgnoreRules(flapping);
  if (rules.length === 0) return lines;
  return [...lines, `${stack}: if something besides Git owns it, an ignore rule in the stack's config ends the churn:`, ...ignoreRulesYaml(rules).split("\n").map((l) => `    ${l}`)];
}

/** What a converge applied, one line per resource, before the table of the check that followed it. */
function appliedLines(results: readonly StackResult[]): string[] {
  return results.flatMap((r) => {
    if (!r.applied) return [];
    if (r.applied.length === 0) return [`${r.stack}: converge applied nothing (already as Git declares)`, ""];
    return [`${r.stack}: converge applied:`, ...r.applied.map((c) => `  ${c.action.padEnd(7)} ${shortAddress(c.address)}`), ""];
  });
}

export function renderResults(results: readonly StackResult[]): string {
  const rows = [["STACK", "VERDICT", "DRIFT", "PENDING", "COMMIT", "TIME"]];
  for (const r of results) {
    const drift = r.changes.filter((c) => c.kind === "drift").length;
    const pending = r.changes.filter((c) => c.kind === "pending").length;
    rows.push([r.stack, r.staleSource ? `${r.verdict} (stale source)` : r.verdict, String(drift), String(pending), shortCommit(r.commit), seconds(r.durationMs)]);
  }
  const lines = [...appliedLines(results), table(rows)];
  for (const r of results) {
    if (r.error) lines.push("", `${r.stack}: ${r.error.kind}: ${r.error.message}`);
    if (r.staleSource) lines.push("", `${r.stack}: stale source (remote unreachable): ${r.staleSource.error}`);
    if (r.sandbox === "off") lines.push("", `${r.stack}: ran unconfined (sandbox: off): its repository code could read whatever Driftwatch can`);
    if (r.remediation) lines.push("", `${r.stack}: remediation ${r.remediation.decision}: ${r.remediation.reason} (audit #${r.remediation.auditId})`);
    if (r.flapping?.length) lines.push("", ...flappingLines(r.stack, r.flapping));
    for (const note of r.notes ?? []) lines.push("", `${r.stack}: note: ${note}`);
    if (r.unchecked?.length) lines.push("", `${r.stack}: not checked for drift (the engine cannot): ${r.unchecked.map((u) => `${u.address} (${u.type})`).join(", ")}`);
    if (r.changes.length === 0) continue;
    lines.push("", `${r.stack}:`, ...changeLines(r.changes));
  }
  return `${lines.join("\n")}\n`;
}

/** A stack's resource changes and their property diffs, as the table prints them under `<stack>:`. */
export function changeLines(changes: readonly ResourceChange[]): string[] {
  return changes.flatMap((change) => {
    const moved = change.previousAddress ? ` (was ${shortAddress(change.previousAddress)})` : "";
    return [
      `  ${change.kind.padEnd(7)} ${change.action.padEnd(7)} ${shortAddress(change.address)}${moved}`,
      ...change.properties.map((p) => `      ${p.path}: ${value(p.desired)} -> ${value(p.actual)}${p.changedBy ? `   (changed by ${formatChanger(p.changedBy)})` : ""}`),
    ];
  });
}

export function renderHistory(runs: readonly RunSummary[]): string {
  if (runs.length === 0) return "no runs recorded yet\n";
  const rows = [["STARTED", "STACK", "VERDICT", "DRIFT", "PENDING", "COMMIT", "TIME", "TRIGGER", "RUN"]];
  for (const r of runs) {
    rows.push([r.startedAt, r.stack, r.error ? `error (${r.error.kind})` : r.verdict, String(r.driftCount), String(r.pendingCount), shortCommit(r.commit), seconds(r.durationMs), r.trigger ?? "-", r.runId]);
  }
  return `${table(rows)}\n`;
}

export function renderAudit(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return "no remediation decisions recorded yet\n";
  const rows = [["#", "AT", "STACK", "DECISION", "BY", "COMMIT", "PLAN", "OUTCOME", "REASON"]];
  for (const e of entries) {
    rows.push([
      String(e.id ?? ""),
      e.at,
      e.stack,
      e.decision,
      `${e.actor} (${e.triggeredBy})`,
      shortCommit(e.commit),
      e.planChanges === undefined ? "-" : `${e.planChanges} @ ${e.planFingerprint!.slice(0, 12)}`,
      e.outcome ?? "-",
      e.reason ?? "",
    ]);
  }
  return `${table(rows)}\n`;
}

export function renderApprovals(approvals: readonly ApprovalRecord[]): string {
  if (approvals.length === 0) return "no remediation approvals yet\n";
  const rows = [["ID", "STACK", "STATE", "REQUESTED", "EXPIRES", "COMMIT", "PLAN", "DECIDED BY", "REASON"]];
  for (const a of approvals) {
    rows.push([a.id, a.stack, a.state, a.requestedAt, a.expiresAt, shortCommit(a.commit), `${a.plan.length} @ ${a.planFingerprint.slice(0, 12)}`, a.decidedBy ?? "-", a.reason ?? ""]);
  }
  return `${table(rows)}\n`;
}

/** Exit code for a set of results: 1 any error (wins), 2 any drift or pending, 0 all in sync. */
export function exitCodeFor(results: readonly StackResult[]): number {
  if (results.some((r) => r.verdict === "error")) return 1;
  if (results.some((r) => r.verdict !== "in-sync")) return 2;
  return 0;
}
