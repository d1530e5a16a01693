// The remediation pages: the audit log (every decision, newest first, each row an anchor `#audit-<id>` that
// reports link to) and the approvals (plans waiting for a person first, with how to approve them). Both take a
// `?stack=` filter; the form that sets it stays put while the refresh swaps the table.
import { shortAddress } from "../core/present.ts";
import type { AuditEntry, ApprovalRecord } from "../store/api.ts";
import { escapeHtml as h, field, page, pill, when } from "./dashboard.ts";

/** The longest stack filter taken (stack names are short; longer is not a name). */
export const MAX_STACK_FILTER = 200;

/** `?stack=`: absent or empty is every stack; a name of the audit log may be one no longer configured. */
export function parseStackFilter(query: Record<string, unknown>): { ok: true; stack?: string } | { ok: false; error: string } {
  const value = query.stack;
  if (value === undefined || value === "") return { ok: true };
  if (typeof value !== "string") return { ok: false, error: "stack may be given once" };
  if (value.length > MAX_STACK_FILTER) return { ok: false, error: `stack must be at most ${MAX_STACK_FILTER} characters` };
  return { ok: true, stack: value };
}

/** A GET form choosing the stack; the stack asked for stays a choice even when it is no longer configured. */
function stackForm(action: string, stacks: readonly string[], selected: string | undefined, label: string): string {
  const names = selected === undefined || stacks.includes(selected) ? stacks : [...stacks, selected];
  const choices = names.map((s) => `<option value="${h(s)}"${s === selected ? " selected" : ""}>${h(s)}</option>`).join("");
  return `<form method="get" action="${h(action)}" class="filters" aria-label="${h(label)}">
${field("filter-stack", "Stack", `<select id="filter-stack" name="stack"><option value=""${selected === undefined ? " selected" : ""}>every stack</option>${choices}</select>`)}
<button type="submit">Show</button>${selected === undefined ? "" : ` <a href="${h(action)}">Every stack</a>`}
</form>`;
}

function stackLink(stack: string): string {
  return `<a href="/stacks/${encodeURIComponent(stack)}">${h(stack)}</a>`;
}

const DECISION_TONE: Record<AuditEntry["decision"], "in-sync" | "pending" | "error" | "neutral"> = {
  applied: "in-sync",
  refused: "pending",
  failed: "error",
  interrupted: "error",
  noop: "neutral",
  busy: "neutral",
  "approval-requested": "pending",
  backoff: "neutral",
  "needs-attention": "error",
  rejected: "neutral",
  acknowledged: "neutral",
  snoozed: "neutral",
  "recheck-requested": "neutral",
};

function guards(entry: AuditEntry): string {
  const failed = entry.guards.filter((g) => !g.passed);
  if (entry.guards.length === 0) return "–";
  if (failed.length === 0) return `all ${entry.guards.length} passed`;
  return `<ul>${failed.map((g) => `<li><strong>${h(g.guard)}</strong>: ${h(g.reason)}</li>`).join("")}</ul>`;
}

function auditRow(entry: AuditEntry): string {
  const anchor = entry.id === undefined ? "" : ` id="audit-${h(String(entry.id))}"`;
  const outcome = [entry.reason ? h(entry.reason) : "", entry.outcome ? `then ${h(entry.outcome)}` : ""].filter(Boolean).join("<br>");
  return `<tr${anchor}>
  <td>${when(entry.at)}</td>
  <td>${stackLink(entry.stack)}</td>
  <td>${pill(entry.decision, DECISION_TONE[entry.decision] ?? "neutral")}</td>
  <td>${h(entry.actor)}<br><span class="note">${h(entry.mode)}, ${h(entry.triggeredBy)}</span></td>
  <td>${entry.planChanges === undefined ? "–" : String(entry.planChanges)}</td>
  <td>${guards(entry)}</td>
  <td>${outcome || "–"}</td>
  <td><a href="/runs/${encodeURIComponent(entry.runId)}">run</a>${entry.commit ? ` <code>${h(entry.commit.slice(0, 12))}</code>` : ""}</td>
</tr>`;
}

export interface AuditPageOptions {
  /** The configured stacks, for the filter. */
  stacks: readonly string[];
  stack?: string;
  /** How many entries the page asked for: when it got that many, older ones exist. */
  limit: number;
}

export function auditPage(entries: readonly AuditEntry[], options: AuditPageOptions): string {
  const { stack } = options;
  const rows = entries.length
    ? entries.map(auditRow).join("\n")
    : `<tr><td colspan="8">No remediation decision${stack === undefined ? "" : ` for ${h(stack)}`} yet.</td></tr>`;
  const more = entries.length >= options.limit ? `<p class="note">The newest ${options.limit} decisions; <code>GET /api/audit</code> serves the same log as JSON.</p>` : "";
  return page(
    stack === undefined ? "Audit log" : `Audit log of ${stack}`,
    `<h1>Audit log${stack === undefined ? "" : ` of ${stackLink(stack)}`}</h1>
<p>Every remediation decision, newest first: who or what decided, the guards that said no, and what happened.</p>
${stackForm("/audit", options.stacks, stack, "Show one stack's decisions")}
<section id="audit-log" data-live aria-label="Decisions">
<table>
<caption class="visually-hidden">Remediation decisions, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Stack</th><th scope="col">Decision</th><th scope="col">By</th><th scope="col">Plan changes</th><th scope="col">Failed guards</th><th scope="col">Reason / outcome</th><th scope="col">Run</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
${more}
</section>`,
    "audit",
  );
}

/** Pending and not expired: a person can still approve it. */
export function awaiting(approval: Pick<ApprovalRecord, "state" | "expiresAt">, now: number): boolean {
  return approval.state === "pending" && Date.parse(approval.expiresAt) > now;
}

/** Those waiting for a person first (newest first among them), then the rest as listed (newest first). */
export function orderApprovals(approvals: readonly ApprovalRecord[], now: number): ApprovalRecord[] {
  return [...approvals.filter((a) => awaiting(a, now)), ...approvals.filter((a) => !awaiting(a, now))];
}

const STATE_TONE: Record<ApprovalRecord["state"], "in-sync" | "pending" | "error" | "neutral"> = {
  pending: "pending",
  applied: "in-sync",
  refused: "error",
  rejected: "neutral",
  failed: "error",
  void: "neutral",
  expired: "neutral",
};

const PLAN_SHOWN = 5;

function plan(changes: ApprovalRecord["plan"]): string {
  if (changes.length === 0) return "–";
  const items = changes.slice(0, PLAN_SHOWN).map((c) => `<li>${h(c.action)} <code>${h(shortAddress(c.address))}</code></li>`);
  const rest = changes.length > PLAN_SHOWN ? `<li>and ${changes.length - PLAN_SHOWN} more</li>` : "";
  return `<ul>${items.join("")}${rest}</ul>`;
}

function approvalRow(a: ApprovalRecord, now: number): string {
  const open = awaiting(a, now);
  const state = open ? pill("awaiting approval", "pending") : a.state === "pending" ? pill("expired", "neutral") : pill(a.state, STATE_TONE[a.state] ?? "neutral");
  const decision = open
    ? `<code>driftwatch approve ${h(a.id)}</code><br><span class="note">until ${when(a.expiresAt)}</span>`
    : a.decidedAt
      ? `${h(a.decidedBy ?? "")} ${when(a.decidedAt)}${a.reason ? `<br><span class="note">${h(a.reason)}</span>` : ""}`
      : a.state === "pending"
        ? `expired ${when(a.expiresAt)}`
        : "–";
  return `<tr${open ? ' class="awaiting"' : ""} id="approval-${h(a.id)}">
  <td><code>${h(a.id)}</code></td>
  <td>${stackLink(a.stack)}</td>
  <td>${state}</td>
  <td>${when(a.requestedAt)}</td>
  <td>${plan(a.plan)}</td>
  <td><a href="/runs/${encodeURIComponent(a.runId)}">run</a> <code>${h(a.commit.slice(0, 12))}</code></td>
  <td>${decision}</td>
</tr>`;
}

export interface ApprovalsPageOptions {
  stacks: readonly string[];
  stack?: string;
  now?: number;
}

export function approvalsPage(approvals: readonly ApprovalRecord[], options: ApprovalsPageOptions): string {
  const now = options.now ?? Date.now();
  const { stack } = options;
  const ordered = orderApprovals(approvals, now);
  const waiting = ordered.filter((a) => awaiting(a, now)).length;
  const rows = ordered.length
    ? ordered.map((a) => approvalRow(a, now)).join("\n")
    : `<tr><td colspan="7">No remediation approval${stack === undefined ? "" : ` for ${h(stack)}`} yet.</td></tr>`;
  return page(
    stack === undefined ? "Approvals" : `Approvals of ${stack}`,
    `<h1>Approvals${stack === undefined ? "" : ` of ${stackLink(stack)}`}</h1>
<p>Stacks with <code>remediation.mode: approve</code> wait here for a person before their plan is applied. To approve, where the
service's <code>driftwatch.yaml</code> is: <code>driftwatch approve &lt;id&gt; --as &lt;your name&gt;</code>; or with the API token:
<code>POST /api/approvals/&lt;id&gt;</code> (<code>Authorization: Bearer …</code>). Either applies the plan only if a fresh plan is
still the same.</p>
${stackForm("/approvals", options.stacks, stack, "Show one stack's approvals")}
<section id="approvals" data-live aria-label="Approvals">
<p class="note">${waiting === 0 ? "Nothing waits for approval." : `${waiting} waiting for approval, listed first.`}</p>
<table>
<caption class="visually-hidden">Remediation approvals, those waiting first</caption>
<thead><tr><th scope="col">Approval</th><th scope="col">Stack</th><th scope="col">State</th><th scope="col">Requested</th><th scope="col">Plan</th><th scope="col">Run</th><th scope="col">Approve / decided</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>`,
    "approvals",
  );
}
