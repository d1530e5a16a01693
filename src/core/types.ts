// Domain types shared by every part of Driftwatch. Engines produce them, the store records them, the CLI prints them.
import type { PhaseTimings } from "./phase-timer.ts";

/** drift: the real world changed behind the tool's back. pending: Git declares something not applied yet. */
export type ChangeKind = "drift" | "pending";

/**
 * create, update, delete, replace: what happens to the real object. move (a new address, nothing else), import
 * (an existing object taken under management) and forget (the tool stops managing it, the object stays): what
 * happens to the tool's record of it (Terraform's moved, import and removed blocks).
 */
export type ResourceAction = "create" | "update" | "delete" | "replace" | "move" | "import" | "forget";

export type Verdict = "in-sync" | "drifted" | "pending" | "drifted+pending" | "error";

/** One property that differs. `desired` is what the tool believes (state or Git); `actual` what is there now. */
export interface PropertyDiff {
  /** Dotted path with [index] for arrays, e.g. `tags.env` or `rules[0].port`. */
  path: string;
  desired: unknown;
  actual: unknown;
  /** Who set the actual value, where the engine knows (Kubernetes: the managedFields entry that owns the field now). */
  changedBy?: FieldChanger;
}

/** A tool (a field manager such as kubectl-edit or a controller), not a person, and when its entry was last written. */
export interface FieldChanger {
  manager: string;
  /** Apply or Update. */
  operation?: string;
  time?: string;
}

export interface ResourceChange {
  kind: ChangeKind;
  /** The engine's address for the resource: a URN for Pulumi, an address for Terraform. */
  address: string;
  type: string;
  action: ResourceAction;
  properties: PropertyDiff[];
  /** For `replace`: the properties whose change forces the replacement, when the engine says. */
  replacePaths?: string[];
  /** The resource's address before a move (Terraform `moved` blocks), when it changes address. */
  previousAddress?: string;
}

/** What an engine found for one stack: a result, never an exception. */
export interface Detection {
  drift: ResourceChange[];
  pending: ResourceChange[];
  /** Resources the engine could not check for drift (CloudFormation: NOT_CHECKED): not drift, not in sync. */
  unchecked?: UncheckedResource[];
  /** What a reader must know to read the result right (e.g. what drift was judged against). */
  notes?: string[];
}

export interface UncheckedResource {
  address: string;
  type: string;
}

/** A resource that started drifting `times` times within the stack's flapping window. */
export interface FlappingResource {
  address: string;
  type: string;
  times: number;
  /** When the first run of the window that saw it drifting started. */
  since: string;
  /** The properties drifting now: what an ignore rule would name. */
  paths: string[];
}

/** Which resources one recorded run found drifting: the history flapping is judged on. */
export interface RunDrift {
  runId: string;
  startedAt: string;
  addresses: string[];
}

/** The classification of a failed run, for people and for machines. */
export interface RunError {
  /** The error class name, e.g. ProgramError, SourceUnreachableError, StackLockedError, TimeoutError. */
  kind: string;
  message: string;
}

export interface StackResult {
  runId: string;
  stack: string;
  engine: string;
  verdict: Verdict;
  /** The Git commit the result is about (absent only when the source could not be read at all). */
  commit?: string;
  /** Set when the remote could not be fetched and an earlier fetch was used instead. */
  staleSource?: { error: string };
  /** What started the run: start, schedule, git, webhook, api, cli, approval, remediation. */
  trigger?: string;
  /**
   * How confined the stack's repository code ran (its sandbox level; see src/sandbox/): "off" means unconfined, and
   * every output says so. Absent on runs recorded before the sandbox existed.
   */
  sandbox?: "strict" | "files" | "off";
  changes: ResourceChange[];
  error?: RunError;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Resources the engine could not check for drift; absent when none. */
  unchecked?: UncheckedResource[];
  /** The engine's notes on how to read the result; absent when none. */
  notes?: string[];
  /** For a converge: what the engine applied before the check that this result is (absent for a check). */
  applied?: ResourceChange[];
  /** Drifted resources of this run that keep drifting again (see src/run/flapping.ts); absent when none. */
  flapping?: FlappingResource[];
  /** When the check was followed by automatic remediation: what was decided (the audit log has the rest). */
  remediation?: RemediationSummary;
  /**
   * Where this run's time went, in ms (see core/phase-timer.ts); `store` is mostly spent after `durationMs` ends.
   * Reported only (`check --json`), never recorded: a run read back from the store has none.
   */
  phases?: PhaseTimings;
}

export interface RemediationSummary {
  /**
   * applied | approval-requested (mode approve: the plan waits for a person) | refused (a guard said no, or the
   * approved plan changed) | noop (the plan was empty by then) | failed | busy (another remediation held the
   * stack) | backoff (waiting after failed attempts) | needs-attention (failed too often, or an apply was
   * interrupted: paused until in sync) | interrupted (audit only: the process died during the apply).
   */
  decision: "applied" | "approval-requested" | "refused" | "noop" | "failed" | "busy" | "backoff" | "needs-attention" | "interrupted";
  /** Why: the failed guards, the error, or what was applied. */
  reason: string;
  auditId: number;
  /** The check run that found the divergence (the result itself is the re-check after an apply). */
  checkRunId: string;
}

export function verdictOf(detection: Detection): Verdict {
  const drifted = detection.drift.length > 0;
  const pending = detection.pending.length > 0;
  if (drifted && pending) return "drifted+pending";
  if (drifted) return "drifted";
  if (pending) return "pending";
  return "in-sync";
}
