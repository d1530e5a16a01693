// Remediation after a check, for stacks whose policy says `mode: auto` or `mode: approve`:
//
//   lease (one remediation per stack, across processes) → the commit the check saw → its signature (if required)
//   → the engine plans convergence → every guard on that plan
//   → auto: apply exactly that plan | approve: ask for an approval of it (applied later by `approveRemediation`)
//   → re-check after an apply (recorded as a run of its own) → one append-only audit entry with all of it.
//
// Nothing here knows engine details; a refusal or failure is a result, never an exception.
import { randomBytes, randomUUID } from "node:crypto";
import type { StackConfig } from "../config/types.ts";
import { ApprovalError, errorMessage } from "../core/errors.ts";
import type { RemediationSummary, StackResult } from "../core/types.ts";
import type { RemediationPlan } from "../engines/api.ts";
import { evaluateGuards, refusals, type GuardFacts, type GuardResult } from "../remediation/guards.ts";
import { newLeaseHolder, takeLease } from "../remediation/lease.ts";
import type { ApprovalRecord, AuditEntry, RemediationBackoff } from "../store/api.ts";
import { alertableChanges, subjectOf } from "./alert-plan.ts";
import { asRunError, engineContext, maskedFor, runStack, type RunDependencies, type RunStackOptions } from "./stack-run.ts";

/** What the check found, by kind. */
function found(result: StackResult): GuardFacts["found"] {
  return { drift: result.changes.some((c) => c.kind === "drift"), pending: result.changes.some((c) => c.kind === "pending") };
}

/** Whether the policy asks for remediation of what this check found (a failed check is never remediated). */
export function remediationWanted(stack: StackConfig, result: StackResult): boolean {
  const policy = stack.remediation;
  if (policy.mode === "off" || result.error || !result.commit) return false;
  const { drift, pending } = found(result);
  return (policy.on !== "pending" && drift) || (policy.on !== "drift" && pending);
}

/** The lease a stack's remediations (and the checks that ask for an approval) hold while they decide. */
export const leaseName = (stack: Pick<StackConfig, "name">) => `remediate:${stack.name}`;

/** How long a remediation may hold its stack's lease: the run's timeout and some margin; a crashed holder's lease expires. */
function leaseMs(stack: StackConfig): number {
  return stack.timeoutSeconds * 1000 + 60_000;
}

/** What one remediation attempt is about. */
interface Attempt {
  /** The check whose divergence prompted it. */
  check: StackResult;
  /** What started that check (schedule, git, webhook, api, slack, check), or the approval's origin (approve, api, slack). */
  trigger: string;
  /** Who decided: "driftwatch", or the approver. */
  actor: string;
  /** Set when a person approved a plan: only that plan may be applied. */
  approval?: ApprovalRecord;
}

async function remediate(stack: StackConfig, attempt: Attempt, deps: RunDependencies, options: RunStackOptions): Promise<StackResult> {
  const { check, approval } = attempt;
  const policy = stack.remediation;
  const started = Date.now();
  const logger = deps.logger.child({ stack: stack.name, runId: check.runId, step: "remediation", actor: attempt.actor });
  const holder = newLeaseHolder();
  const lease = leaseName(stack);
  // The exact commit that was judged, not whatever the branch points at by now.
  const pinned: StackConfig = { ...stack, source: { ...stack.source, ref: approval?.commit ?? check.commit! } };

  let plan: RemediationPlan | undefined;
  let guards: GuardResult[] = [];
  let requested: { approval: ApprovalRecord; existing: boolean } | undefined;
  let planChanged = false;
  /** The person's rejection of this very plan, within the episode: it is not asked for again. */
  let rejected: ApprovalRecord | undefined;
  /** Set once the apply starts: its re-check run, noted as running (interrupted, should this process die). */
  let applyRunId: string | undefined;
  let decision: RemediationSummary["decision"];
  let reason: string;
  let leased = false;
  /** The approval as read again under the lease. */
  let current: ApprovalRecord | undefined;

  const entryOf = (decided: RemediationSummary["decision"], why: string, after?: StackResult): AuditEntry =>
    maskedFor<AuditEntry>(
      {
        at: new Date(started).toISOString(),
        stack: stack.name,
        runId: check.runId,
        triggeredBy: attempt.trigger,
        actor: attempt.actor,
        commit: pinned.source.ref,
        mode: policy.mode,
        ...(plan ? { planFingerprint: plan.fingerprint, planChanges: plan.changes.length } : {}),
        guards,
        decision: decided,
        reason: why,
        ...(after ? { outcome: after.verdict } : {}),
        durationMs: Date.now() - started,
      },
      deps,
    );

  // Automatic attempts respect the backoff of earlier failures; a person's approval does not wait for it.
  const backoff = approval ? undefined : await deps.store.remediationBackoff(stack.name);
  if (backoff?.needsAttention) {
    decision = "needs-attention";
    reason = `paused after ${backoff.failures} failed remediations in a row (the last at ${backoff.lastFailureAt}); it resumes once the stack is in sync again: fix the cause, or driftwatch converge ${stack.name}`;
  } else if (backoff && backoff.nextAttemptAt > new Date().toISOString()) {
    decision = "backoff";
    reason = `${backoff.failures} failed remediation(s) in a row; the next attempt waits until ${backoff.nextAttemptAt}`;
  } else if (!(leased = await takeLease(deps.store, lease, holder, leaseMs(stack)))) {
    decision = "busy";
    reason = approval
      ? `another remediation of this stack is in progress (perhaps this approval, given elsewhere); this request did not apply approval ${approval.id}: see what became of it with driftwatch approvals ${stack.name}`
      : "another remediation of this stack is in progress";
  } else if (approval && (current = await deps.store.getApproval(approval.id))?.state !== "pending") {
    // The approval was read before the lease was taken: another request (on any replica) decided it meanwhile. It
    // settled the approval before letting go of the lease, so the state read under the lease is final. Nothing is
    // planned or audited, as if this request had come after that one.
    await deps.store.releaseLease(lease, holder);
    throw notPendingError(current);
  } else if (await settleInterruptedApply(stack, deps, logger, { inSync: false })) {
    decision = "needs-attention";
    reason = `an earlier remediation's apply was interrupted, so what it changed is unknown; automatic remediation is paused until the stack is in sync again: look at the stack, then driftwatch converge ${stack.name}`;
  } else {
    try {
      const acquired = await deps.source.acquire(pinned.source, options.signal ? { signal: options.signal } : {});
      try {
        const signature =
          policy.requireSignedCommit && policy.trustedKeys ? await deps.source.verifyCommit(acquired.worktree, acquired.commit, policy.trustedKeys, options.signal) : undefined;
        const ctx = engineContext(stack, acquired, deps, logger, options.signal);
        logger.info({ commit: acquired.commit }, "planning remediation");
        const outcome = await deps.engineFor(stack).remediate(ctx, async (planned) => {
          plan = planned;
          if (planned.changes.length === 0) return false; // converged meanwhile (by someone else, or by hand)
          guards = evaluateGuards(policy, planned.changes, {
            now: new Date(),
            found: approval ? { drift: true, pending: true } : found(check),
            ...(signature ? { signature } : {}),
            ...(check.staleSource ? { staleSource: check.staleSource.error } : {}),
            ignore: stack.ignore,
          });
          if (approval) {
            const trigger: GuardResult = { guard: "trigger", passed: true, reason: `approval ${approval.id} by ${attempt.actor} of the plan check run ${approval.runId} found` };
            guards = guards.map((g) => (g.guard === "trigger" ? trigger : g));
          }
          planChanged = approval !== undefined && planned.fingerprint !== approval.planFingerprint;
          const allowed = guards.every((g) => g.passed);
          if (allowed && (planChanged || (policy.mode === "approve" && !approval))) {
            if ((rejected = await rejectionOf(stack.name, planned.fingerprint, deps))) return false;
            requested = await deps.store.requestApproval({
              id: randomBytes(6).toString("hex"),
              stack: stack.name,
              runId: check.runId,
              commit: acquired.commit,
              planFingerprint: planned.fingerprint,
              plan: maskedFor(planned.changes, deps),
              requestedAt: new Date().toISOString(),
              expiresAt: new Date(Date.now() + policy.approvalTtlMs).toISOString(),
            });
            return false;
          }
          if (!allowed || planChanged) return false;
          // From here until the audit entry, a dead process leaves this note behind: the apply is then
          // recorded as interrupted, and never resumed or retried without a new decision.
          applyRunId = randomUUID();
          await deps.store.beginApply({
            stack: stack.name,
            engine: stack.engine,
            holder,
            runId: applyRunId,
            startedAt: new Date().toISOString(),
            ...(approval ? { approvalId: approval.id } : {}),
            entry: entryOf("applied", `applying the plan: ${planned.changes.length} resource(s)`),
          });
          return true;
        });
        if (outcome.applied) {
          decision = "applied";
          reason = `applied the plan: ${outcome.plan.changes.length} resource(s)`;
        } else if (outcome.plan.changes.length === 0) {
          decision = "noop";
          reason = "nothing to apply: the plan is empty (the stack converged since the check)";
        } else if (planChanged) {
          decision = "refused";
          const next = requested
            ? `, and approval ${requested.approval.id} is requested for the new plan`
            : rejected
              ? `; the new plan is one ${rejected.decidedBy} rejected (approval ${rejected.id})`
              : `; the new plan is refused: ${refusals(guards).join("; ")}`;
          reason = `the plan changed since approval ${approval!.id} was given; that approval is void${next}`;
        } else if (rejected) {
          decision = "refused";
          reason = `the plan is the one ${rejected.decidedBy} rejected at ${rejected.decidedAt} (approval ${rejected.id}); it is not asked for again while the drift stays the same`;
        } else if (requested) {
          decision = "approval-requested";
          const verb = requested.existing ? "still waits" : "is requested";
          reason = `approval ${requested.approval.id} ${verb} until ${requested.approval.expiresAt}: driftwatch approve ${requested.approval.id}`;
        } else {
          decision = "refused";
          reason = refusals(guards).join("; ");
        }
      } finally {
        await acquired.release();
      }
    } catch (error) {
      const failure = asRunError(error);
      decision = "failed";
      reason = `${failure.kind}: ${failure.message}`;
    }
  }

  try {
    if (approval && decision !== "busy") {
      const state = decision === "applied" ? "applied" : decision === "failed" ? "failed" : decision === "noop" || planChanged ? "void" : "refused";
      await deps.store.settleApproval(approval.id, state, attempt.actor, reason);
    }
    // After an apply, successful or not, a check tells where the stack is now; it records the run noted as running.
    if (applyRunId) await deps.store.acquireLease(lease, holder, leaseMs(stack));
    const after = applyRunId ? await runStack(pinned, deps, "detect", { ...options, trigger: "remediation", runId: applyRunId }) : undefined;
    let pausedNow = decision === "needs-attention" && !backoff?.needsAttention;
    // Still divergent in the way the policy remediates (or the re-check failed): the apply did not do its job.
    if (decision === "failed" || (after && (after.verdict === "error" || remediationWanted(stack, after)))) {
      const outcome = await recordFailure(stack, deps, backoff ?? await deps.store.remediationBackoff(stack.name));
      reason = `${decision === "failed" ? reason : `applied, but the stack is still ${after!.verdict}`}; ${outcome.note}`;
      pausedNow = outcome.pausedNow;
    } else if (decision === "applied") {
      await deps.store.clearRemediationBackoff(stack.name);
    }
    const entry = entryOf(decision, reason, after);
    let auditId = 0;
    try {
      auditId = await deps.store.appendAudit(entry);
    } catch (error) {
      logger.error({ err: errorMessage(error) }, "could not write the audit log");
    }
    if (applyRunId) await deps.store.endApply(stack.name, holder);
    if (requested && !requested.existing) await notifyApprovalRequested(stack, check, requested.approval, deps);
    if (pausedNow) await notifyNeedsAttention(stack, check, deps);
    const level = decision === "applied" || decision === "approval-requested" ? "info" : decision === "failed" ? "error" : "warn";
    logger[level]({ decision, reason: entry.reason, auditId, ...(after ? { outcome: after.verdict } : {}) }, "remediation decided");
    const flapping = check.flapping ? { flapping: check.flapping } : {};
    return { ...(after ?? check), ...flapping, remediation: { decision, reason: entry.reason!, auditId, checkRunId: check.runId } };
  } finally {
    if (leased) await deps.store.releaseLease(lease, holder);
  }
}

/**
 * An apply left behind by a process that died during it (found while holding the stack's lease, so its holder is
 * gone). What it changed is unknown, so it is never resumed or retried on its own: its decision is audited as
 * interrupted, its re-check run is marked interrupted, an approval it was applying fails, and unless the stack is
 * in sync by now, automatic remediation pauses (needs attention) until it is. Returns whether there was one.
 */
async function settleInterruptedApply(stack: StackConfig, deps: RunDependencies, logger: RunDependencies["logger"], { inSync }: { inSync: boolean }): Promise<boolean> {
  const apply = await deps.store.applyInFlight(stack.name);
  if (!apply) return false;
  const reason = `the apply started at ${apply.startedAt} by ${apply.holder} was interrupted before it finished (the process stopped); what it changed is unknown`;
  await deps.store.interruptRun(apply.runId, "Driftwatch stopped during the remediation's apply");
  if (apply.approvalId) await deps.store.settleApproval(apply.approvalId, "failed", apply.entry.actor, reason);
  await deps.store.appendAudit({ ...apply.entry, decision: "interrupted", reason, durationMs: Date.now() - Date.parse(apply.entry.at) });
  const previous = await deps.store.remediationBackoff(stack.name);
  if (!inSync) {
    const now = new Date().toISOString();
    await deps.store.saveRemediationBackoff({ stack: stack.name, failures: (previous?.failures ?? 0) + 1, lastFailureAt: now, nextAttemptAt: now, needsAttention: true });
  }
  await deps.store.endApply(stack.name, apply.holder);
  logger.error({ stack: stack.name, applyRunId: apply.runId, holder: apply.holder }, "a remediation's apply was interrupted; automatic remediation of the stack is paused");
  return true;
}

/** Settles an apply left by a dead process, taking the stack's lease for it; false when there was none to settle. */
async function settleUnderLease(stack: StackConfig, deps: RunDependencies, inSync: boolean): Promise<boolean> {
  if (!await deps.store.applyInFlight(stack.name)) return false;
  const holder = newLeaseHolder();
  // A live holder (another process applying right now) keeps its apply: nothing to settle.
  if (!await takeLease(deps.store, leaseName(stack), holder, leaseMs(stack))) return false;
  try {
    return await settleInterruptedApply(stack, deps, deps.logger, { inSync });
  } finally {
    await deps.store.releaseLease(leaseName(stack), holder);
  }
}

/**
 * Applies that a dead process left unfinished (at service start): each is settled as interrupted, under its
 * stack's lease, and alerted. An apply whose process is still alive (another service) is left alone.
 */
export async function settleInterruptedApplies(stacks: readonly StackConfig[], deps: RunDependencies): Promise<void> {
  for (const apply of await deps.store.appliesInFlight()) {
    const stack = stacks.find((s) => s.name === apply.stack);
    if (!stack || !(await settleUnderLease(stack, deps, false))) continue;
    const check = await deps.store.getRun(apply.entry.runId);
    if (check) await notifyNeedsAttention(stack, check, deps);
  }
}

/** One more failed remediation: the next attempt waits longer, and after `attempts` failures they stop. */
async function recordFailure(stack: StackConfig, deps: RunDependencies, previous: RemediationBackoff | undefined): Promise<{ note: string; pausedNow: boolean }> {
  const { initialMs, maxMs, attempts } = stack.remediation.backoff;
  const failures = (previous?.failures ?? 0) + 1;
  const now = new Date();
  const next = new Date(now.getTime() + Math.min(maxMs, initialMs * 2 ** (failures - 1)));
  const needsAttention = failures >= attempts;
  await deps.store.saveRemediationBackoff({ stack: stack.name, failures, lastFailureAt: now.toISOString(), nextAttemptAt: next.toISOString(), needsAttention });
  if (needsAttention) return { note: `failure ${failures} of ${attempts}: automatic remediation is paused until the stack is in sync again`, pausedNow: !previous?.needsAttention };
  return { note: `failure ${failures} of ${attempts}: the next attempt waits until ${next.toISOString()}`, pausedNow: false };
}

async function notifyNeedsAttention(stack: StackConfig, check: StackResult, deps: RunDependencies): Promise<void> {
  const state = await deps.store.remediationBackoff(stack.name);
  const last = (await deps.store.listAudit({ stack: stack.name, limit: 1 }))[0];
  const open = await deps.store.openEpisode(stack.name);
  await deps.alerting?.notify(stack, {
    type: "remediation-needs-attention",
    subject: subjectOf(stack, check, alertableChanges(stack, check.changes)),
    ...(open ? { episode: { id: open.id, openedAt: open.openedAt, seenCount: open.seenCount, lastSeenAt: open.lastSeenAt } } : {}),
    failures: state?.failures ?? 0,
    reason: last?.reason ?? "remediation failed",
  });
}

async function notifyApprovalRequested(stack: StackConfig, check: StackResult, approval: ApprovalRecord, deps: RunDependencies): Promise<void> {
  const open = await deps.store.openEpisode(stack.name);
  await deps.alerting?.notify(stack, {
    type: "approval-requested",
    subject: subjectOf(stack, check, alertableChanges(stack, check.changes)),
    ...(open ? { episode: { id: open.id, openedAt: open.openedAt, seenCount: open.seenCount, lastSeenAt: open.lastSeenAt } } : {}),
    approval: { id: approval.id, expiresAt: approval.expiresAt },
    changes: approval.plan,
  });
}

/**
 * After a check: remediates what it found within the stack's policy (auto), or asks for an approval (approve).
 * Returns the re-check's result after an apply, else the check's own, either way with `remediation` set.
 */
export function remediateAfterCheck(stack: StackConfig, check: StackResult, deps: RunDependencies, options: RunStackOptions = {}): Promise<StackResult> {
  return remediate(stack, { check, trigger: options.trigger ?? "check", actor: "driftwatch" }, deps, options);
}

/**
 * A check that finds the stack in sync ends what remediation was waiting for: the pending approval is void (there
 * is nothing left to approve), the failure count starts again (a paused stack resumes), and an apply a dead
 * process left unfinished is audited as interrupted.
 */
export async function afterInSyncCheck(stack: StackConfig, check: StackResult, deps: RunDependencies): Promise<void> {
  if (check.verdict !== "in-sync") return;
  await settleUnderLease(stack, deps, true);
  if (stack.remediation.mode === "off") return;
  if (stack.remediation.mode === "approve") await deps.store.voidPendingApproval(stack.name, `the stack is in sync (run ${check.runId})`);
  await deps.store.clearRemediationBackoff(stack.name);
}

/**
 * The rejection of the plan with `fingerprint` by a person, if the stack's latest one is of that plan and was made
 * during the open episode: asking again for a plan someone said no to, at every check, would be noise. A changed
 * plan, or the drift coming back after the stack was in sync, is asked for again.
 */
async function rejectionOf(stack: string, fingerprint: string, deps: RunDependencies): Promise<ApprovalRecord | undefined> {
  const [latest] = await deps.store.listApprovals({ stack, state: "rejected", limit: 1 });
  if (!latest || latest.planFingerprint !== fingerprint || !latest.decidedAt) return undefined;
  const episode = await deps.store.openEpisode(stack);
  return episode && latest.decidedAt >= episode.openedAt ? latest : undefined;
}

/** Why an approval read again cannot be used: decided meanwhile (its state and reason), or gone. */
function notPendingError(approval: ApprovalRecord | undefined): ApprovalError {
  if (!approval) return new ApprovalError("no such approval");
  return new ApprovalError(`approval ${approval.id} is ${approval.state}${approval.reason ? `: ${approval.reason}` : ""}`);
}

/**
 * A person approves a waiting plan: the stack is planned again at the approved commit, and only a plan with the
 * approved fingerprint is applied (guards, windows and freezes are evaluated again, now). A changed plan voids the
 * approval and requests a new one. Throws ApprovalError when the approval cannot be used at all.
 */
export async function approveRemediation(stack: StackConfig | undefined, approval: ApprovalRecord | undefined, approver: string, deps: RunDependencies, options: RunStackOptions = {}): Promise<StackResult> {
  if (!approval) throw new ApprovalError("no such approval");
  if (approval.state !== "pending") throw notPendingError(approval);
  if (approval.expiresAt <= new Date().toISOString()) {
    await deps.store.settleApproval(approval.id, "expired", approver, `expired at ${approval.expiresAt}`);
    throw new ApprovalError(`approval ${approval.id} expired at ${approval.expiresAt}; the next check requests a new one`);
  }
  if (!stack || stack.remediation.mode !== "approve") {
    await deps.store.settleApproval(approval.id, "void", approver, "the stack no longer asks for approvals");
    throw new ApprovalError(`stack ${approval.stack} is not configured with remediation mode approve any more; approval ${approval.id} is void`);
  }
  const check = await deps.store.getRun(approval.runId);
  if (!check) throw new ApprovalError(`approval ${approval.id} refers to run ${approval.runId}, which is not recorded`);
  return remediate(stack, { check, trigger: options.trigger ?? "approval", actor: approver, approval }, deps, options);
}

/**
 * A person rejects a waiting plan: the approval is void for good (state `rejected`, with who), the audit log says so,
 * and the same plan is not asked for again while the episode lasts (remediate). Taken under
 * the stack's remediation lease, so a rejection never lands while the same approval is being applied. Throws
 * ApprovalError when the approval cannot be rejected (decided already, or being applied right now).
 */
export async function rejectRemediation(stack: StackConfig | undefined, approval: ApprovalRecord | undefined, by: string, trigger: string, deps: RunDependencies): Promise<ApprovalRecord> {
  if (!approval) throw new ApprovalError("no such approval");
  if (approval.state !== "pending") throw notPendingError(approval);
  const started = Date.now();
  const holder = newLeaseHolder();
  const lease = leaseName({ name: approval.stack });
  if (!(await takeLease(deps.store, lease, holder, stack ? leaseMs(stack) : 60_000))) {
    throw new ApprovalError(`approval ${approval.id} cannot be rejected now: a remediation of stack ${approval.stack} is in progress (perhaps this approval, being applied)`);
  }
  try {
    const current = await deps.store.getApproval(approval.id);
    if (current?.state !== "pending") throw notPendingError(current);
    const reason = `rejected by ${by}`;
    if (!(await deps.store.settleApproval(approval.id, "rejected", by, reason))) {
      throw notPendingError(await deps.store.getApproval(approval.id));
    }
    await deps.store.appendAudit(
      maskedFor<AuditEntry>(
        {
          at: new Date(started).toISOString(),
          stack: approval.stack,
          runId: approval.runId,
          triggeredBy: trigger,
          actor: by,
          commit: approval.commit,
          mode: stack?.remediation.mode ?? "approve",
          planFingerprint: approval.planFingerprint,
          planChanges: approval.plan.length,
          guards: [],
          decision: "rejected",
          reason: `approval ${approval.id} ${reason}; the plan is not applied, nor asked for again while the drift stays the same`,
          durationMs: Date.now() - started,
        },
        deps,
      ),
    );
    deps.logger.info({ stack: approval.stack, approvalId: approval.id, by }, "remediation approval rejected");
    return (await deps.store.getApproval(approval.id)) ?? current;
  } finally {
    await deps.store.releaseLease(lease, holder);
  }
}
