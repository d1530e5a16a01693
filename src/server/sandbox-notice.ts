// What the dashboard says about the OS sandbox: stacks whose engines will not run because this kernel cannot
// enforce their sandbox level (and what to do), and stacks the operator runs unconfined. Silent when all is well.
import { escapeHtml as h } from "../core/html.ts";
import type { SandboxReport } from "../sandbox/report.ts";
import type { SandboxLevel } from "../sandbox/types.ts";
import { pill } from "./dashboard.ts";

export function sandboxNotice(report: SandboxReport | undefined): string {
  if (!report) return "";
  const refused = report.refused.map(
    (r) => `<p role="alert">${pill("sandbox unavailable", "error")} ${h(r.stacks.join(", "))} will not be checked: ${h(r.reason)} (<code>driftwatch doctor</code> says more)</p>`,
  );
  const unconfined = report.unconfined.length
    ? [`<p>${pill("unconfined", "error")} The repository code of ${h(report.unconfined.join(", "))} runs unconfined (<code>sandbox: off</code>): it can read whatever the service can.</p>`]
    : [];
  return [...refused, ...unconfined].join("\n");
}

/** How a run's (or a stack's) repository code was confined, as a short label. */
export function sandboxLabel(level: SandboxLevel | undefined): string {
  if (level === undefined) return "–";
  return level === "off" ? `${pill("unconfined", "error")} (sandbox: off)` : `${h(level)}`;
}
