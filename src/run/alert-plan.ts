// The alert state machine of one stack, as a pure function of its open episode, its failure-alert state and the
// run that just finished. The store writes what it returns in one transaction (src/store/api.ts AlertTransition).
//
//   in sync ──divergent──> episode opened ──same fingerprint──> unchanged (root updated, no new post)
//                              │  └──────other fingerprint──> changed (thread reply + root updated)
//                              └──────in sync────────────────> resolved (reply, root turns resolved, closed)
//   error: the episode stays as it is (nothing is known); a failure alert at most every `failureRepeatMs` per
//   stack, or at once when the kind of error changes.
import type { StackConfig } from "../config/types.ts";
import { changeFingerprint, changeKey, fingerprintChanges } from "../core/fingerprint.ts";
import { redactUrls } from "../core/redact.ts";
import type { FlappingResource, ResourceChange, StackResult } from "../core/types.ts";
import { verdictOf } from "../core/types.ts";
import type { AlertEvent, AlertSubject, ChangeRef, EpisodeInfo } from "../core/alerts.ts";
import type { AlertTransition, EpisodeRecord, FailureAlertState } from "../store/api.ts";

export interface AlertPlanInput {
  stack: StackConfig;
  result: StackResult;
  /** The stack's open episode before this run. */
  open: EpisodeRecord | undefined;
  failure: FailureAlertState | undefined;
  failureRepeatMs: number;
}

/** The changes an episode is about: drift always, pending only when the stack asks for pending alerts. */
export function alertableChanges(stack: StackConfig, changes: readonly ResourceChange[]): ResourceChange[] {
  return changes.filter((c) => c.kind === "drift" || (stack.alerts.pending && c.kind === "pending"));
}

/** What an alert says about the stack and the run it is about. */
export function subjectOf(stack: StackConfig, result: StackResult, changes: readonly ResourceChange[]): AlertSubject {
  const verdict =
    result.verdict === "error"
      ? "error"
      : verdictOf({ drift: changes.filter((c) => c.kind === "drift"), pending: changes.filter((c) => c.kind === "pending") });
  return {
    stack: stack.name,
    engine: stack.engine,
    runId: result.runId,
    verdict,
    ...(result.commit ? { commit: result.commit } : {}),
    repo: redactUrls(stack.source.repo),
    path: stack.source.path,
    checkedAt: result.finishedAt,
    ...(result.staleSource ? { staleSource: result.staleSource.error } : {}),
  };
}

/** Whether a snooze holds the episode's updates back at `now`. */
export function snoozedAt(episode: Pick<EpisodeRecord, "snooze">, now: string): boolean {
  return episode.snooze !== undefined && episode.snooze.until > now;
}

/** What alerts say about an episode; its snooze only while it holds `at` (default: the episode's last sighting). */
export function infoOf(episode: Pick<EpisodeRecord, "openedAt" | "seenCount" | "lastSeenAt" | "acknowledged" | "snooze"> & { id?: number; closedAt?: string }, at = episode.lastSeenAt): EpisodeInfo {
  return {
    ...(episode.acknowledged ? { acknowledged: episode.acknowledged } : {}),
    ...(episode.snooze && !episode.closedAt && snoozedAt(episode, at) ? { snooze: episode.snooze } : {}),
    id: episode.id ?? 0,
    openedAt: episode.openedAt,
    seenCount: episode.seenCount,
    lastSeenAt: episode.lastSeenAt,
    ...(episode.closedAt
      ? { closedAt: episode.closedAt, durationMs: new Date(episode.closedAt).getTime() - new Date(episode.openedAt).getTime() }
      : {}),
  };
}

const refOf = (c: ResourceChange): ChangeRef => ({ kind: c.kind, address: c.address, type: c.type, action: c.action });

/** Which resources joined, left, or changed within the divergence between two runs. */
export function changeDelta(before: readonly ResourceChange[], after: readonly ResourceChange[]): { added: ChangeRef[]; removed: ChangeRef[]; modified: ChangeRef[] } {
  const old = new Map(before.map((c) => [changeKey(c), c]));
  const now = new Map(after.map((c) => [changeKey(c), c]));
  return {
    added: after.filter((c) => !old.has(changeKey(c))).map(refOf),
    removed: before.filter((c) => !now.has(changeKey(c))).map(refOf),
    modified: after.filter((c) => old.has(changeKey(c)) && changeFingerprint(old.get(changeKey(c))!) !== changeFingerprint(c)).map(refOf),
  };
}

function failurePlan(input: AlertPlanInput, subject: AlertSubject): Omit<AlertTransition, "notifiers"> {
  const { result, failure } = input;
  const kind = result.error?.kind ?? "Error";
  const now = result.finishedAt;
  const due = !failure || failure.lastKind !== kind || Date.parse(now) - Date.parse(failure.lastAlertAt) >= input.failureRepeatMs;
  if (!due) return { stack: subject.stack, failure: { ...failure, suppressed: failure.suppressed + 1 }, events: [] };
  const event: AlertEvent = {
    type: "run-failed",
    subject,
    error: result.error ?? { kind, message: "the run failed" },
    suppressed: failure?.suppressed ?? 0,
  };
  return { stack: subject.stack, failure: { stack: subject.stack, lastAlertAt: now, lastKind: kind, suppressed: 0 }, events: [event] };
}

/** What this run changes in the stack's alert state, or undefined when nothing (muted, or in sync without an episode). */
export function planAlerts(input: AlertPlanInput): Omit<AlertTransition, "notifiers"> | undefined {
  const { stack, result, open } = input;
  if (stack.alerts.mute) return undefined;
  const changes = alertableChanges(stack, result.changes);
  const subject = subjectOf(stack, result, changes);
  // A run cut short by Driftwatch stopping says nothing about the stack.
  if (result.error?.kind === "InterruptedError") return undefined;
  if (result.verdict === "error") return failurePlan(input, subject);

  const now = result.finishedAt;
  if (changes.length === 0) {
    if (!open) return undefined;
    const closed = { ...open, lastRunId: result.runId, lastSeenAt: now, closedAt: now };
    return {
      stack: stack.name,
      episode: { op: "close", episode: closed },
      events: [{ type: "episode-resolved", subject, episode: infoOf(closed), changes: open.changes, ...(open.flapping ? { flapping: open.flapping } : {}) }],
    };
  }

  const fingerprint = fingerprintChanges(changes);
  const flapping = flappingOfEpisode(open?.flapping, result.flapping);
  const flagged = flapping.length > 0 ? { flapping } : {};
  if (!open) {
    const opened = { stack: stack.name, openedAt: now, openedRunId: result.runId, lastRunId: result.runId, lastSeenAt: now, seenCount: 1, fingerprint, changes, ...flagged };
    return { stack: stack.name, episode: { op: "open", episode: opened }, events: [{ type: "episode-opened", subject, episode: infoOf(opened), changes, ...flagged }] };
  }
  const seen = { ...open, lastRunId: result.runId, lastSeenAt: now, seenCount: open.seenCount + 1, fingerprint, changes, ...flagged };
  if (open.fingerprint === fingerprint) {
    // Snoozed: the episode is recorded as seen, and its root is not touched until the snooze ends.
    const events: AlertEvent[] = snoozedAt(open, now) ? [] : [{ type: "episode-unchanged", subject, episode: infoOf(seen), changes, ...flagged }];
    return { stack: stack.name, episode: { op: "update", episode: seen }, events };
  }
  // The drift changed: that ends a snooze, and people hear of it.
  const { snooze: _ended, ...unsnoozed } = seen;
  const endSnooze = open.snooze ? { endSnooze: true } : {};
  return {
    stack: stack.name,
    episode: { op: "update", episode: unsnoozed, ...endSnooze },
    events: [{ type: "episode-changed", subject, episode: infoOf(unsnoozed), changes, ...changeDelta(open.changes, changes), ...flagged }],
  };
}

/** The episode's flapping resources: what it flagged before, updated with this run's counts. */
function flappingOfEpisode(before: readonly FlappingResource[] = [], now: readonly FlappingResource[] = []): FlappingResource[] {
  const byAddress = new Map(before.map((f) => [f.address, f]));
  for (const f of now) byAddress.set(f.address, f);
  return [...byAddress.values()];
}
