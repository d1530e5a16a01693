import { CommandError, ConcurrentUpdateError } from "@pulumi/pulumi/automation/index.js";
import { DriftwatchError, EngineError, PlanViolationError, ProgramError, StackLockedError, TimeoutError } from "../../core/errors.ts";

/** The useful part of a Pulumi CLI failure: its diagnostics, without the command line and banner noise. */
function essence(error: CommandError): string {
  const text = error.message;
  const diagnostics = /(?:^|\n)Diagnostics:\n([\s\S]*?)(?:\n\n[A-Z][a-z]+:|$)/.exec(text)?.[1];
  const stderr = /\nstderr: ([\s\S]*?)(?:\nerr\?: |$)/.exec(text)?.[1];
  return (diagnostics ?? stderr ?? text).trim();
}

/**
 * Pulumi held an apply to the judged update plan and refused what went outside it. `refusals` (planRefusals) name
 * the resources; Pulumi's own text is never passed on, since it shows property values, secrets in plain text.
 */
export function planViolation(stack: string, refusals: readonly string[]): PlanViolationError {
  const which = refusals.length > 0 ? `:\n${refusals.map((r) => `  - ${r}`).join("\n")}` : " (which resources is not known)";
  return new PlanViolationError(
    `pulumi refused the apply of stack ${stack}: it went outside the judged plan (the program declared something else on up than in its preview, or the world changed since)${which}\n` +
      "nothing outside the plan was applied; operations of the plan that ran before the refusal stand, and the re-check shows where the stack is",
  );
}

/** Classifies whatever the Automation API threw into Driftwatch's typed errors. */
export function classifyPulumiError(error: unknown, options: { timedOut: boolean; timeoutSeconds: number; stack: string }): DriftwatchError {
  if (error instanceof DriftwatchError) return error;
  if (options.timedOut) {
    return new TimeoutError(`stack ${options.stack} did not finish within ${options.timeoutSeconds}s; the engine was stopped`);
  }
  if (error instanceof ConcurrentUpdateError) {
    return new StackLockedError(`stack ${options.stack} is locked by another operation:\n${essence(error)}`);
  }
  if (error instanceof CommandError) {
    const detail = essence(error);
    if (/error: Running program|program failed|Unhandled exception|TSError|Cannot find module/i.test(error.message)) {
      return new ProgramError(`the program of stack ${options.stack} failed:\n${detail}`);
    }
    return new EngineError(`pulumi failed for stack ${options.stack}:\n${detail}`);
  }
  return new EngineError(`pulumi failed for stack ${options.stack}: ${error instanceof Error ? error.message : String(error)}`);
}
