import { DriftwatchError } from "../core/errors.ts";

/**
 * The sandbox level a stack asks for cannot be enforced on this machine (no Landlock, or too old an ABI): its
 * engine does not run. The message says what is missing and what the operator can do.
 */
export class SandboxUnavailableError extends DriftwatchError {
  override name = "SandboxUnavailableError";
}

/** The launcher itself failed (a path it was to grant is gone, the kernel refused a rule): nothing ran. */
export class SandboxError extends DriftwatchError {
  override name = "SandboxError";
}
