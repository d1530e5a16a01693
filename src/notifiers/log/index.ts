// The log notifier: every alert as one structured log line, so alerts are visible without Slack (and next to it).
import type { Logger } from "pino";
import { shortSha } from "../commit-link.ts";
import { suggestedIgnoreRules } from "../../core/flapping.ts";
import type { Notifier } from "../api.ts";
import type { AlertEvent, DeliveryReceipt } from "../../core/alerts.ts";

const WHAT: Record<AlertEvent["type"], string> = {
  "episode-opened": "drift episode opened",
  "episode-unchanged": "drift episode unchanged",
  "episode-changed": "drift episode changed",
  "episode-resolved": "drift episode resolved",
  "episode-noted": "drift episode acknowledged or snoozed",
  "run-failed": "stack could not be checked",
  "approval-requested": "remediation waits for approval",
  "remediation-needs-attention": "remediation failed too often: paused, needs attention",
  "report-digest": "report produced",
};

/** The fields of the log line: what happened, where, and the changes (already masked and redacted). */
function fieldsOf(event: AlertEvent): Record<string, unknown> {
  if (event.type === "report-digest") return { alert: event.type, report: event.report.id, ...(event.report.url ? { url: event.report.url } : {}), digest: event.digest };
  const s = event.subject;
  const base = { alert: event.type, stack: s.stack, engine: s.engine, runId: s.runId, verdict: s.verdict, commit: s.commit ? shortSha(s.commit) : undefined };
  if (event.type === "run-failed") return { ...base, error: event.error, suppressed: event.suppressed };
  if (event.type === "remediation-needs-attention") return { ...base, failures: event.failures, reason: event.reason };
  if (event.type === "approval-requested") {
    return { ...base, approvalId: event.approval.id, expiresAt: event.approval.expiresAt, approveWith: `driftwatch approve ${event.approval.id}`, plan: event.changes.map((c) => ({ action: c.action, address: c.address })) };
  }
  const changes = event.changes.map((c) => ({ kind: c.kind, action: c.action, address: c.address, properties: c.properties }));
  const episode = { episodeId: event.episode.id, seenCount: event.episode.seenCount, openedAt: event.episode.openedAt, durationMs: event.episode.durationMs };
  const rules = event.flapping ? suggestedIgnoreRules(event.flapping) : [];
  const flapping = event.flapping?.length ? { flapping: event.flapping, ...(rules.length > 0 ? { suggestedIgnore: rules } : {}) } : {};
  if (event.type === "episode-changed") return { ...base, ...episode, added: event.added, removed: event.removed, modified: event.modified, changes, ...flapping };
  if (event.type === "episode-noted") return { ...base, ...episode, note: event.note, by: event.by, ...(event.episode.snooze ? { snoozedUntil: event.episode.snooze.until } : {}) };
  return { ...base, ...episode, changes, ...flapping };
}

export function createLogNotifier(logger: Logger): Notifier {
  const log = logger.child({ notifier: "log" });
  return {
    id: "log",
    deliver(event): Promise<DeliveryReceipt> {
      const level = event.type === "run-failed" || event.type === "remediation-needs-attention" ? "error" : event.type === "episode-unchanged" || event.type === "episode-resolved" || event.type === "episode-noted" ? "info" : "warn";
      log[level](fieldsOf(event), WHAT[event.type]);
      return Promise.resolve({});
    },
  };
}
