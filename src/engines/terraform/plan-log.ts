// OpenTofu's machine-readable log of a plan (`plan -json-into=<file>`, the messages `-json` prints, written beside
// the human output): enough to know that a plan changes nothing, without `show -json` of the plan file.
//
// The log names each resource the refresh found changed outside OpenTofu (`resource_drift`, for every drift whose
// action is not a no-op) and each change the plan makes (`planned_change`, for every action but a no-op, and for
// a move or an import without other changes), then counts them (`change_summary`). A check reads drift from the
// plan's resource_drift (updates and deletes) and pending changes from its resource_changes (any action, moves and
// imports included): when the log has none of either, both are empty, which is the check's whole answer for a stack
// in sync. Anything else, or a log it does not recognise, takes the plan file's full JSON (`show -json`).

/** The message types a plan that changes nothing may log (the rest say it does change something, or are unknown here). */
const QUIET = new Set(["version", "log", "diagnostic", "refresh_start", "refresh_complete", "change_summary", "outputs"]);

/** The counters of a `change_summary` message. */
const COUNTS = ["add", "change", "import", "remove", "forget"] as const;

/**
 * Whether a plan's log says the plan found no drift and changes nothing: a plan `change_summary` of zeros, no
 * `resource_drift` or `planned_change`, no message of a type not in QUIET. False for anything it cannot read.
 */
export function planChangesNothing(log: string): boolean {
  let summaries = 0;
  for (const line of log.split("\n")) {
    if (line.trim() === "") continue;
    let message: { type?: unknown; changes?: Record<string, unknown> };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      return false;
    }
    if (typeof message.type !== "string" || !QUIET.has(message.type)) return false;
    if (message.type === "change_summary") {
      const changes = message.changes ?? {};
      if (changes.operation !== "plan" || COUNTS.some((count) => changes[count] !== 0)) return false;
      summaries++;
    }
  }
  return summaries === 1;
}
