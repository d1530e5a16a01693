// The alert events the pipeline records and the notifiers deliver, and what delivering one leaves: the types the
// store (outbox, episodes), the notifiers and the reports' digests share. Here, apart from each of them, so that
// none of those modules depends on another for its vocabulary.
import type { FlappingResource, ResourceAction, ResourceChange, RunError, Verdict } from "./types.ts";
import type { ReportDigest } from "./report-digest.ts";

/** What every alert is about: one stack, one run. */
export interface AlertSubject {
  stack: string;
  engine: string;
  runId: string;
  verdict: Verdict;
  /** The Git commit checked (absent when the source could not be read). */
  commit?: string;
  /** The stack's repository as configured (credentials never appear here). */
  repo: string;
  /** The project folder inside the repository. */
  path: string;
  /** When the run finished (ISO 8601). */
  checkedAt: string;
  /** Set when the run used an earlier fetch because the remote was unreachable. */
  staleSource?: string;
}

/** Someone who acted on an alert (from Slack): their user id and the name Slack gave for them. */
export interface Person {
  id: string;
  name: string;
}

/** Someone said they are on an episode. */
export interface EpisodeMark {
  by: Person;
  at: string;
}

/** Someone snoozed an episode: its updates are held back until `until`, or until its drift changes. */
export interface EpisodeSnooze extends EpisodeMark {
  until: string;
}

/** A drift episode: from the first divergent run of a stack to the run that finds it in sync again. */
export interface EpisodeInfo {
  id: number;
  openedAt: string;
  /** How many runs have seen this episode (1 when it opens). */
  seenCount: number;
  lastSeenAt: string;
  /** Set when the episode is resolved. */
  closedAt?: string;
  /** closedAt − openedAt, for resolved episodes. */
  durationMs?: number;
  /** Who said they are on it. */
  acknowledged?: EpisodeMark;
  /** Set while the episode is snoozed. */
  snooze?: EpisodeSnooze;
}

/** A resource in a change list, as named in "added to / removed from the drift". */
export interface ChangeRef {
  kind: ResourceChange["kind"];
  address: string;
  type: string;
  action: ResourceAction;
}

interface EpisodeEventBase {
  subject: AlertSubject;
  episode: EpisodeInfo;
  /** The episode's changes: the current ones; for `episode-resolved`, the last ones seen before it resolved. */
  changes: ResourceChange[];
  /** Resources of the episode that keep drifting again: the alert suggests an ignore rule. */
  flapping?: FlappingResource[];
}

export type AlertEvent =
  /** A stack went from in sync to divergent: a new root message (with the mention, if configured). */
  | (EpisodeEventBase & { type: "episode-opened" })
  /** Same fingerprint as before: the root message is updated in place ("still drifted, seen N times"). */
  | (EpisodeEventBase & { type: "episode-unchanged" })
  /** The fingerprint changed: a thread reply says what changed, and the root message is updated. */
  | (EpisodeEventBase & { type: "episode-changed"; added: ChangeRef[]; removed: ChangeRef[]; modified: ChangeRef[] })
  /** Back in sync: a thread reply says so, the root message turns resolved. */
  | (EpisodeEventBase & { type: "episode-resolved" })
  /** Someone acknowledged or snoozed the episode: the root message is updated to say so; nothing new is posted. */
  | (EpisodeEventBase & { type: "episode-noted"; note: "acknowledged" | "snoozed"; by: Person })
  /** A stack could not be checked (rate-limited by the pipeline: not every failed run produces one). */
  | { type: "run-failed"; subject: AlertSubject; error: RunError; /** failed runs not alerted since the last alert */ suppressed: number }
  /** A remediation plan waits for a person's approval: a reply in the episode's thread (or a message of its own). */
  | {
      type: "approval-requested";
      subject: AlertSubject;
      /** The stack's open episode, whose thread the request goes to. */
      episode?: EpisodeInfo;
      approval: { id: string; expiresAt: string };
      /** The plan to approve. */
      changes: ResourceChange[];
    }
  /** Remediation failed too often in a row: it is paused until the stack is in sync again. */
  | { type: "remediation-needs-attention"; subject: AlertSubject; episode?: EpisodeInfo; failures: number; reason: string }
  /** A scheduled report was produced: its digest, with a link to the full report. About the fleet, not one stack. */
  | ReportDigestEvent;

/** The digest of a scheduled report (the one alert with no stack as its subject). */
export interface ReportDigestEvent {
  type: "report-digest";
  report: {
    id: string;
    name: string;
    /** The full report in the dashboard, when alerts.dashboardUrl is set. */
    url?: string;
    /** The report's own Slack channel (default: alerts.slack.channel). */
    channel?: string;
  };
  digest: ReportDigest;
}

/** The alerts about one stack's run. */
export type StackAlertEvent = Exclude<AlertEvent, ReportDigestEvent>;

export type AlertEventType = AlertEvent["type"];

/** Where an episode's Slack thread lives, once its root message was posted. */
export interface SlackThread {
  channel: string;
  ts: string;
}

/** What delivering one event produced: for a posted root message, the thread the later events go to. */
export interface DeliveryReceipt {
  thread?: SlackThread;
}

/**
 * One attempt at delivering an outbox entry, and what earlier attempts left: how a notifier posts each alert once
 * although any attempt (in any process) may die between its post landing and the entry being marked delivered.
 * A notifier posts at most one new message per event; it tags the message with `key`, calls `beforePost` first
 * and `recordPost` as soon as the post is confirmed.
 */
export interface DeliveryAttempt {
  /** Names the outbox entry across attempts and processes (and installations sharing a channel). */
  key: string;
  /** The message an earlier attempt posted and recorded: not posted again. */
  recorded?: SlackThread;
  /** An earlier attempt started a post at this time and never confirmed it: look for it before posting. */
  unconfirmedSince?: string;
  beforePost(): Promise<void>;
  recordPost(message: SlackThread): Promise<void>;
}
