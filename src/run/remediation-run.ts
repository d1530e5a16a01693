// Automatic remediation after a check, for stacks whose policy says `mode: auto`:
//
//   lease (one remediation per stack, across processes) → the commit the check saw → its signature (if required)
//   → the engine plans convergence → every guard on that plan → apply exactly that plan, or refuse
//   → re-check (recorded as a run of its own) → one append-only audit entry with all of it.
//
// Nothing here knows engine details; a refusal or failure is a result, never an exception.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { StackConfig } from "../config/types.ts";
import type { RemediationSummary, StackResult } from "../core/types.ts";
import type { EngineContext, RemediationPlan } from "../engines/api.ts";
import { evaluateGuards, refusals, type GuardFacts, type GuardResult } from "../remediation/guards.ts";
import type { AuditEntry } from "../store/api.ts";
import { asRunError, maskedFor, runStack, type RunDependencies, type RunStackOptions } from "./stack-run.ts";

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

/** How long a remediation may hold its stack's lease: the run's timeout and some margin; a crashed holder's lease expires. */
function leaseMs(stack: StackConfig): number {
  return stack.timeoutSeconds * 1000 + 60_000;
}

/**
 * Remediates what `check` found, within the stack's policy. Returns the re-check's result after an apply, else
 * the check's own, either way with `remediation` saying what was decided.
 */
export async function remediateAfterCheck(stack: StackConfig, check: StackResult, deps: RunDependencies, options: RunStackOptions = {}): Promise<StackResult> {
  const policy = stack.remediation;
  const started = Date.now();
  const logger = deps.logger.child({ stack: stack.name, runId: check.runId, step: "remediation" });
  const holder = `${hostname()}:${process.pid}:${randomUUID()}`;
  const lease = `remediate:${stack.name}`;
  // The exact commit the check judged, not whatever the branch points at by now.
  const pinned: StackConfig = { ...stack, source: { ...stack.source, ref: check.commit! } };

  let plan: RemediationPlan | undefined;
  let guards: GuardResult[] = [];
  let decision: RemediationSummary["decision"];
  let reason: string;

  if (!deps.store.acquireLease(lease, holder, leaseMs(stack))) {
    decision = "busy";
    reason = "another remediation of this stack is in progress";
  } else {
    try {
      const acquired = await deps.source.acquire(pinned.source);
      try {
        const signature =
          policy.requireSignedCommit && policy.trustedKeys ? await deps.source.verifyCommit(acquired.worktree, acquired.commit, policy.trustedKeys) : undefined;
        const ctx: EngineContext = {
          stack,
          dir: acquired.dir,
          logger,
          signal: options.signal ? AbortSignal.any([AbortSignal.timeout(stack.timeoutSeconds * 1000), options.signal]) : AbortSignal.timeout(stack.timeoutSeconds * 1000),
          env: { ...deps.engineEnv, ...stack.env },
        };
        logger.info({ commit: acquired.commit }, "planning remediation");
        const outcome = await deps.engineFor(stack).remediate(ctx, async (planned) => {
          plan = planned;
          if (planned.changes.length === 0) return false; // converged meanwhile (by someone else, or by hand)
          guards = evaluateGuards(policy, planned.changes, {
            now: new Date(),
            found: found(check),
            ...(signature ? { signature } : {}),
            ...(check.staleSource ? { staleSource: check.staleSource.error } : {}),
          });
          return guards.every((g) => g.passed);
        });
        if (outcome.applied) {
          decision = "applied";
          reason = `applied the plan: ${outcome.plan.changes.length} resource(s)`;
        } else if (outcome.plan.changes.length === 0) {
          decision = "noop";
          reason = "nothing to apply: the plan is empty (the stack converged since the check)";
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
    } finally {
      deps.store.releaseLease(lease, holder);
    }
  }

  const after = decision === "applied" ? await runStack(pinned, deps, "detect", { ...options, trigger: "remediation" }) : undefined;
  const entry: AuditEntry = maskedFor<AuditEntry>(
    {
      at: new Date(started).toISOString(),
      stack: stack.name,
      runId: check.runId,
      triggeredBy: options.trigger ?? "cli",
      actor: "driftwatch",
      commit: check.commit!,
      mode: policy.mode,
      ...(plan ? { planFingerprint: plan.fingerprint, planChanges: plan.changes.length } : {}),
      guards,
      decision,
      reason,
      ...(after ? { outcome: after.verdict } : {}),
      durationMs: Date.now() - started,
    },
    stack,
  );
  let auditId = 0;
  try {
    auditId = deps.store.appendAudit(entry);
  } catch (error) {
    logger.error({ err: error instanceof Error ? error.message : String(error) }, "could not write the audit log");
  }
  const level = decision === "applied" ? "info" : decision === "refused" || decision === "busy" ? "warn" : "error";
  logger[level]({ decision, reason: entry.reason, auditId, ...(after ? { outcome: after.verdict } : {}) }, "remediation decided");
  return { ...(after ?? check), remediation: { decision, reason: entry.reason!, auditId, checkRunId: check.runId } };
}
