// The run history store: every run Driftwatch makes, with the changes it found. Implementations live beside this
// file (sqlite/); the rest of Driftwatch depends on this interface only.
import type { FlappingResource, RemediationSummary, ResourceChange, RunDrift, StackResult, Verdict } from "../core/types.ts";
import type { AlertEvent, DeliveryReceipt, EpisodeMark, EpisodeSnooze, SlackThread } from "../core/alerts.ts";
import type { ReportDigest } from "../core/report-digest.ts";

/** One run as `history` lists it: the result without its changes, counted instead. */
export type RunSummary = Omit<StackResult, "changes"> & {
  driftCount: number;
  pendingCount: number;
  /** Set when an alert about this run could not be delivered and will not be retried (e.g. Slack invalid_auth). */
  alertError?: string;
};

/** A drift episode as stored: from the first divergent run of a stack until a run finds it in sync. */
export interface EpisodeRecord {
  id: number;
  stack: string;
  openedAt: string;
  openedRunId: string;
  lastRunId: string;
  lastSeenAt: string;
  seenCount: number;
  /** fingerprintChanges(changes). */
  fingerprint: string;
  /** The changes the episode is about (as last seen), masked like every recorded result. */
  changes: ResourceChange[];
  closedAt?: string;
  /** The Slack thread of the episode's root message, once posted. */
  slackThread?: SlackThread;
  /** Resources flagged as flapping while the episode was open (the latest count of each). */
  flapping?: FlappingResource[];
  /** Who said they are on it (the first to). */
  acknowledged?: EpisodeMark;
  /** The latest snooze, kept after it ended until the drift changes; in force while `until` is ahead. */
  snooze?: EpisodeSnooze;
}

/** Rate limiting of "stack could not be checked" alerts. */
export interface FailureAlertState {
  stack: string;
  /** When a failure of this stack was last alerted. */
  lastAlertAt: string;
  /** The error kind last alerted: a different kind is alerted at once. */
  lastKind: string;
  /** Failed runs not alerted since then. */
  suppressed: number;
}

/** The episode side of an alert transition. A new episode's id is assigned by the store and filled into the events. */
export type EpisodeChange =
  | { op: "open"; episode: Omit<EpisodeRecord, "id" | "slackThread" | "closedAt"> }
  /** endSnooze: the drift changed, so a snooze ends here (the rest of the record's snooze and acknowledgement is never written by an update). */
  | { op: "update"; episode: EpisodeRecord; endSnooze?: boolean }
  | { op: "close"; episode: EpisodeRecord & { closedAt: string } };

/** One step of a stack's alert state, written at once: episode, failure state and the outbox entries of its events. */
export interface AlertTransition {
  stack: string;
  episode?: EpisodeChange;
  failure?: FailureAlertState;
  events: AlertEvent[];
  /** One outbox entry per notifier and event, in this order. */
  notifiers: readonly string[];
}

/** An alert waiting in the outbox for one notifier. */
export interface OutboxEntry {
  id: number;
  notifier: string;
  event: AlertEvent;
  episodeId?: number;
  createdAt: string;
  attempts: number;
  lastError?: string;
  /** An earlier attempt started posting at this time: its message may have landed even though nothing confirmed it. */
  postStartedAt?: string;
  /** The message an earlier attempt posted and recorded, before the entry was marked delivered. */
  posted?: SlackThread;
}

/** What the stack lists and the fleet gauges show of an open episode. */
export type OpenEpisodeSummary = Pick<EpisodeRecord, "stack" | "openedAt" | "seenCount" | "flapping" | "acknowledged" | "snooze">;

/** Episodes and the alert outbox: what makes alerts exactly-once across runs and restarts. */
export interface AlertStore {
  /** The stack's open episode, if any. */
  openEpisode(stack: string): Promise<EpisodeRecord | undefined>;
  getEpisode(id: number): Promise<EpisodeRecord | undefined>;
  failureAlertState(stack: string): Promise<FailureAlertState | undefined>;
  /** Writes the transition in one transaction (all of it or nothing); returns the events as enqueued (ids filled). */
  applyAlertTransition(transition: AlertTransition): Promise<AlertEvent[]>;
  /**
   * Marks an open episode as acknowledged unless someone did already (then `already` says who; the mark stays).
   * Undefined when the episode is unknown or closed.
   */
  acknowledgeEpisode(id: number, mark: EpisodeMark): Promise<{ episode: EpisodeRecord; already?: EpisodeMark } | undefined>;
  /** Snoozes an open episode (a later snooze replaces an earlier one). Undefined when the episode is unknown or closed. */
  snoozeEpisode(id: number, snooze: EpisodeSnooze): Promise<EpisodeRecord | undefined>;
  /** A notifier's undelivered entries, oldest first. */
  pendingAlerts(notifier: string, limit?: number): Promise<OutboxEntry[]>;
  /** Delivered: the entry leaves the outbox; a receipt's thread is kept on the entry's episode. */
  markAlertDelivered(entryId: number, receipt: DeliveryReceipt): Promise<void>;
  /** A post for the entry is about to be sent: from now on it may have landed (kept durably, the earliest time). */
  markAlertPosting(entryId: number): Promise<void>;
  /** A post for the entry landed: its channel and ts are kept before anything else happens. */
  recordAlertPost(entryId: number, message: SlackThread): Promise<void>;
  /** A transient failure: counted, kept for the next occasion. */
  markAlertAttempt(entryId: number, error: string): Promise<void>;
  /** A permanent failure: the entry leaves the outbox with its reason (kept for inspection, never retried). */
  markAlertFailed(entryId: number, error: string): Promise<void>;
  /** Shows an alert delivery problem on a run's record. */
  noteRunAlertError(runId: string, message: string): Promise<void>;
  /**
   * Runs `deliver` while no other process sharing the store delivers the notifier's outbox (then resolves to
   * undefined at once): each entry is posted by one process, in order.
   */
  deliveringAlone<T>(notifier: string, deliver: () => Promise<T>): Promise<T | undefined>;
}

export interface ListRunsOptions {
  /** Only runs of this stack. */
  stack?: string;
  /** At most this many runs (a whole number ≥ 0); default 50. */
  limit?: number;
  /** Only runs started before this time (ISO 8601), for paging back through history. */
  before?: string;
}

/**
 * Records results as given: the store does not redact (the pipeline masks secrets before recording).
 * Property values round-trip as JSON: `desired`/`actual` of any JSON type, including null, come back deep-equal;
 * an `undefined` `desired` or `actual` is stored and read back as `null` (as `diffProperties` reports absence).
 */
/** What people did from Slack about an episode: in the audit log beside the remediation decisions, not counted as one. */
export const PERSON_ACTIONS = ["acknowledged", "snoozed", "recheck-requested"] as const;
export type PersonAction = (typeof PERSON_ACTIONS)[number];

/** A remediation decision (rejected: a person voided the approval request), or a person's action. */
export type AuditDecision = RemediationSummary["decision"] | "rejected" | PersonAction;

/** Whether an audit entry is a remediation decision (not a person acknowledging, snoozing or asking for a check). */
export function isRemediationDecision(decision: AuditDecision): boolean {
  return !(PERSON_ACTIONS as readonly string[]).includes(decision);
}

/** One remediation decision, or one person's action on an alert, as the audit log keeps it. */
export interface AuditEntry {
  id?: number;
  at: string;
  stack: string;
  /** The check run that prompted the decision. */
  runId: string;
  /** What started the run: schedule, git, webhook, api, cli. */
  triggeredBy: string;
  /** Who decided: "driftwatch" for automatic remediation, or the person (a Slack user as `name (Slack U…)`). */
  actor: string;
  commit?: string;
  /** The policy's mode at the time. */
  mode: string;
  planFingerprint?: string;
  /** Resources the plan touches. */
  planChanges?: number;
  /** Every guard evaluated, passed or not, with its reason. */
  guards: { guard: string; passed: boolean; reason: string }[];
  /**
   * applied: the plan was applied; refused: a guard said no; noop: the plan was empty by then; failed: planning or
   * applying failed; busy: another remediation held the stack; interrupted: the process died during the apply;
   * rejected: a person voided the approval request. Or a person's action (PERSON_ACTIONS).
   */
  decision: AuditDecision;
  reason?: string;
  /** After an apply: the verdict of the check that followed. */
  outcome?: string;
  durationMs: number;
}

export interface ListAuditOptions {
  stack?: string;
  limit?: number;
}

export interface AuditStore {
  /** Appends a decision; the log refuses changes to what it holds. Returns the entry's id. */
  appendAudit(entry: AuditEntry): Promise<number>;
  /** Newest first. */
  listAudit(options?: ListAuditOptions): Promise<AuditEntry[]>;
  /** Takes the named lease for `ttlMs` if it is free, expired, or already `holder`'s. Atomic across processes. */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
  /** Who holds the named lease (expired or not), if anyone. */
  leaseHolder(name: string): Promise<string | undefined>;
  /** Takes the lease over from `from` (known to be dead), only if it still holds it. Atomic across processes. */
  takeOverLease(name: string, from: string, to: string, ttlMs: number): Promise<boolean>;
}

/** A remediation whose apply has started and whose audit entry is not written yet. */
export interface ApplyInFlight {
  stack: string;
  engine: string;
  /** The lease holder applying. */
  holder: string;
  /** The run that re-checks the stack after the apply: noted as running when the apply starts. */
  runId: string;
  startedAt: string;
  /** Set when a person's approval is being applied. */
  approvalId?: string;
  /** The decision as it was taken (masked), for the audit log should the apply never finish. */
  entry: AuditEntry;
}

export interface ApplyStore {
  /** Notes an apply about to start, and its re-check run as running, in one transaction. */
  beginApply(apply: ApplyInFlight): Promise<void>;
  /** The apply is over and audited (or recorded as interrupted). */
  endApply(stack: string, holder: string): Promise<void>;
  applyInFlight(stack: string): Promise<ApplyInFlight | undefined>;
  appliesInFlight(): Promise<ApplyInFlight[]>;
  /** A run left running by a process that died becomes an interrupted error; false when it is not running. */
  interruptRun(runId: string, message: string): Promise<boolean>;
}

/** rejected: a person said no (the same plan is not asked for again within the episode). */
export type ApprovalState = "pending" | "applied" | "refused" | "rejected" | "failed" | "void" | "expired";

/** A remediation plan waiting for (or past) a person's approval. */
export interface ApprovalRecord {
  id: string;
  stack: string;
  /** The check run whose plan this is. */
  runId: string;
  commit: string;
  planFingerprint: string;
  /** The plan's changes, masked like every recorded result. */
  plan: ResourceChange[];
  requestedAt: string;
  expiresAt: string;
  state: ApprovalState;
  decidedBy?: string;
  decidedAt?: string;
  reason?: string;
}

export interface ApprovalStore {
  /**
   * Asks for an approval of a plan. A pending request for the same stack and fingerprint is kept (and returned
   * with `existing: true`); one for another plan is voided first. Atomic.
   */
  requestApproval(request: Omit<ApprovalRecord, "state" | "decidedBy" | "decidedAt" | "reason">): Promise<{ approval: ApprovalRecord; existing: boolean }>;
  getApproval(id: string): Promise<ApprovalRecord | undefined>;
  /** Newest first. */
  listApprovals(options?: { stack?: string; state?: ApprovalState; limit?: number }): Promise<ApprovalRecord[]>;
  /** Moves a pending approval to its final state; false when it was not pending any more (someone else decided). */
  settleApproval(id: string, state: Exclude<ApprovalState, "pending">, by: string, reason: string): Promise<boolean>;
  /** Voids the stack's pending approval, if any (the stack converged, or its policy changed). */
  voidPendingApproval(stack: string, reason: string): Promise<void>;
}

/** Failed remediations in a row, and when the next may be tried. Absent: none failed since the last success. */
export interface RemediationBackoff {
  stack: string;
  failures: number;
  lastFailureAt: string;
  nextAttemptAt: string;
  /** Failed too often: no more automatic attempts until the stack is in sync again. */
  needsAttention: boolean;
}

export interface BackoffStore {
  remediationBackoff(stack: string): Promise<RemediationBackoff | undefined>;
  saveRemediationBackoff(state: RemediationBackoff): Promise<void>;
  /** The stack succeeded (or is in sync): the count starts again. */
  clearRemediationBackoff(stack: string): Promise<void>;
}

/** What an engine recorded after its last successful apply of a stack (the Kubernetes engine's applied object set). */
export interface EngineStateRecord {
  stack: string;
  engine: string;
  /** The commit that was applied. */
  commit?: string;
  /** The engine's own JSON; secrets never in it. */
  value: string;
  updatedAt: string;
}

export interface EngineStateStore {
  engineState(stack: string, engine: string): Promise<EngineStateRecord | undefined>;
  /** Replaces the stack's record for the engine. */
  saveEngineState(record: EngineStateRecord): Promise<void>;
}

/** The slim record of one finished run that reports are computed from. */
export interface RunPoint {
  runId: string;
  engine: string;
  verdict: Verdict;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  driftCount: number;
  pendingCount: number;
  errorKind?: string;
}

/** What reports read: ranges of the history, each served by an index. Runs still in progress are never included. */
export interface ReportSource {
  /** The stack's runs started in [from, to), oldest first (interrupted runs are errors). */
  runPoints(stack: string, from: string, to: string): Promise<RunPoint[]>;
  /** The stack's last run started before `before`; with `successful`, the last one that is not an error. */
  lastRunPoint(stack: string, before: string, options?: { successful?: boolean }): Promise<RunPoint | undefined>;
  /** Episodes open at some moment of [from, to): opened before `to` and not closed before `from`; oldest first. */
  episodesOverlapping(from: string, to: string): Promise<EpisodeRecord[]>;
  /** Remediation decisions made in [from, to), newest first. */
  auditBetween(from: string, to: string): Promise<AuditEntry[]>;
  /** Approval requests made in [from, to), newest first, in their state now. */
  approvalsRequestedBetween(from: string, to: string): Promise<ApprovalRecord[]>;
  /** Stacks whose automatic remediation is paused until they are in sync again. */
  stacksNeedingAttention(): Promise<string[]>;
}

/** Signed requests already taken (Slack interactions), so a replay within the signature's lifetime does nothing. */
export interface RequestLog {
  /** Remembers `key` for `ttlMs`; false when it is remembered already (by any process sharing the store). */
  claimRequest(key: string, ttlMs: number): Promise<boolean>;
}

/** Push webhook deliveries already accepted, each by every key it is known by, so a replay of one starts nothing. */
export interface DeliveryLog {
  /**
   * Notes every one of `keys` for `ttlMs`, unless one of them is noted already (by any process sharing the store):
   * then nothing is noted and the answer is false. Of claims sharing a key made at the same time, exactly one is
   * true. Keys past their time, and all but about the newest `max`, are forgotten first. No keys: true (nothing to
   * know the delivery by).
   */
  claimDelivery(keys: readonly string[], limits: { ttlMs: number; max: number }): Promise<boolean>;
  /** Forgets `keys` (a claimed delivery that could not be handled), so its sender may send it again. */
  releaseDelivery(keys: readonly string[]): Promise<void>;
}

export interface Store extends AlertStore, RequestLog, DeliveryLog, AuditStore, ApplyStore, ApprovalStore, BackoffStore, EngineStateStore, ReportStore, ReportSource {
  /** Notes that a run started (it is not listed until recordRun gives its result). */
  startRun(run: { runId: string; stack: string; engine: string; startedAt: string }): Promise<void>;
  /**
   * Runs left "running" by a process that stopped without finishing them become interrupted errors; `isGone`
   * says which processes (`host:pid`, as noted at start) are gone. Runs noted before processes were, count as gone.
   */
  interruptRunningRuns(message: string, isGone: (process: string) => boolean, options?: { stack?: string }): Promise<{ runId: string; stack: string }[]>;
  /** Records a run and its resource changes in one transaction: all of it or nothing. Throws on failure. */
  recordRun(result: StackResult): Promise<void>;
  /** Newest first (by `startedAt`, then by recording order). */
  listRuns(options?: ListRunsOptions): Promise<RunSummary[]>;
  /**
   * The newest finished run of each of `stacks` (the one `listRuns({ stack, limit: 1 })` gives), in one query
   * whatever the number of stacks; a stack never run is left out. Ordered by stack.
   */
  latestRuns(stacks: readonly string[]): Promise<RunSummary[]>;
  /** Each open drift episode in brief (no changes), one per stack that has one, in one query. Ordered by stack. */
  openEpisodeSummaries(): Promise<OpenEpisodeSummary[]>;
  /**
   * Which of `addresses` the stack's successful runs found drifting, oldest first: the runs started at or after
   * `since`, and the last one before it.
   */
  driftHistory(stack: string, since: string, addresses: readonly string[]): Promise<RunDrift[]>;
  /** The run with its changes in recorded order, property values restored; undefined for an unknown id. */
  getRun(runId: string): Promise<StackResult | undefined>;
  /** Closes the database. Calling it again does nothing. */
  close(): Promise<void>;
}

/** A scheduled report as produced by `serve`: its HTML lives at <dataDir>/reports/<id>.html. */
export interface ReportRecord {
  /** `<name>-<tick as YYYYMMDDTHHMMZ>`: letters, digits, `-` and `_` only. */
  id: string;
  name: string;
  /** The schedule tick it was produced for. */
  tickAt: string;
  periodFrom: string;
  periodTo: string;
  createdAt: string;
  digest: ReportDigest;
}

export interface ReportStore {
  /**
   * Records a produced report and, when given, enqueues its digest (one outbox entry per notifier), in one
   * transaction. False when a report of that name and tick is recorded already: then nothing is written.
   */
  recordReport(record: ReportRecord, digest?: { event: AlertEvent; notifiers: readonly string[] }): Promise<boolean>;
  getReport(id: string): Promise<ReportRecord | undefined>;
  /** Newest tick first. */
  listReports(options?: { name?: string; limit?: number }): Promise<ReportRecord[]>;
  /** Forgets the reports of `name` beyond the newest `keep`; returns their ids (the caller removes their files). */
  pruneReports(name: string, keep: number): Promise<string[]>;
  /**
   * When the service first ran with the named report scheduled: recorded as `at` the first time, returned as
   * recorded after that. A tick before it was never due, so is never produced as missed.
   */
  armReportSchedule(name: string, at: string): Promise<string>;
}
