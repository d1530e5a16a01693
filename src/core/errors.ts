// Typed errors, classified with instanceof. Every failure a user can meet has a class here or in its module.

/** Base class: a failure of one stack's run (the other stacks go on). */
export class DriftwatchError extends Error {
  override name = "DriftwatchError";
}

/** The configuration file is unusable. `issues` name the file, the key path and the stack for each problem. */
export class ConfigError extends DriftwatchError {
  override name = "ConfigError";
  readonly file: string;
  readonly issues: readonly string[];
  constructor(file: string, issues: readonly string[]) {
    super(`${file}: invalid configuration:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.file = file;
    this.issues = issues;
  }
}

/** The command line asks for something that is not there (a stack the configuration does not have): nothing ran. */
export class UsageError extends DriftwatchError {
  override name = "UsageError";
}

/** Driftwatch cannot start where it was told to: the service's address or port, the data directory. */
export class StartupError extends DriftwatchError {
  override name = "StartupError";
}

/** The Git remote could not be fetched (and no earlier fetch exists to fall back on). */
export class SourceUnreachableError extends DriftwatchError {
  override name = "SourceUnreachableError";
}

/** The ref does not exist in the repository, or the path does not exist at that commit. */
export class SourceNotFoundError extends DriftwatchError {
  override name = "SourceNotFoundError";
}

/** The commit has no good signature by a key the stack trusts (`requireSignedCommit: { before: check }`): no engine ran. */
export class UnverifiedCommitError extends DriftwatchError {
  override name = "UnverifiedCommitError";
}

/** The stack's program failed (threw, did not compile, or a dependency install failed). */
export class ProgramError extends DriftwatchError {
  override name = "ProgramError";
}

/** Another operation holds the stack's lock. */
export class StackLockedError extends DriftwatchError {
  override name = "StackLockedError";
}

/** The run took longer than the stack's timeout; the engine was stopped. */
export class TimeoutError extends DriftwatchError {
  override name = "TimeoutError";
}

/** Driftwatch stopped (or crashed) before the run finished; the engine was cancelled. */
export class InterruptedError extends DriftwatchError {
  override name = "InterruptedError";
}

/** Anything else the engine reported. */
export class EngineError extends DriftwatchError {
  override name = "EngineError";
}

/**
 * A tool wrote more output than Driftwatch keeps (a kustomization that multiplies itself, a runaway program): it was
 * killed at the limit and nothing of its output was used. Names the stack (when known), the tool and the limit.
 */
export class OutputTooLargeError extends DriftwatchError {
  override name = "OutputTooLargeError";
  /** The stack whose run it was, when the caller knows (git commands do not). */
  readonly stackName: string | undefined;
  /** What produced the output, e.g. `kustomize build` or `terraform show -json`. */
  readonly producer: string;
  readonly limitBytes: number;
  constructor(producer: string, limitBytes: number, options: { stack?: string } = {}) {
    const limit = limitBytes % 1_048_576 === 0 ? `${limitBytes / 1_048_576} MiB` : `${limitBytes} bytes`;
    super(`${options.stack ? `stack ${options.stack}: ` : ""}${producer} wrote more than ${limit} of output; it was stopped and its output was not used`);
    this.stackName = options.stack;
    this.producer = producer;
    this.limitBytes = limitBytes;
  }
}

/** The engine cannot remediate this stack (e.g. CloudFormation cannot revert drift of some resource type): nothing applied. */
export class RemediationUnavailableError extends DriftwatchError {
  override name = "RemediationUnavailableError";
}

/**
 * Something the judged plan was made against moved before the apply reached it (Kubernetes: an object's
 * resourceVersion changed): that object and everything after it were not applied; what was applied before stands.
 */
export class PlanChangedError extends DriftwatchError {
  override name = "PlanChangedError";
}

/**
 * The engine refused to go outside the judged plan during the apply (a Pulumi update plan: the program declared
 * something else on `up` than in the judged preview, or the world moved since). No operation outside the plan ran;
 * operations of the plan that ran before the refusal stand.
 */
export class PlanViolationError extends DriftwatchError {
  override name = "PlanViolationError";
}

/** A remediation approval that cannot be used: unknown, decided already, expired, or its stack no longer asks for approvals. */
export class ApprovalError extends DriftwatchError {
  override name = "ApprovalError";
}

/** What an error says, whatever was thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
