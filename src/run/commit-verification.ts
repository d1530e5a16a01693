// `requireSignedCommit: { before: check }`: the checked-out commit's signature is verified before any engine runs
// its code (a Terraform plan and a Pulumi preview execute what the repository says, with the stack's
// credentials). An unverified commit is that run's error; no earlier, verified commit is used in its place.
import type { Logger } from "pino";
import type { StackConfig } from "../config/types.ts";
import { UnverifiedCommitError } from "../core/errors.ts";
import type { AcquiredSource, GitSource } from "../sources/git/index.ts";

/** Throws UnverifiedCommitError unless the stack's policy does not ask for it before a check or the commit verifies. */
export async function requireVerifiedCommit(
  stack: StackConfig,
  acquired: Pick<AcquiredSource, "worktree" | "commit">,
  source: Pick<GitSource, "verifyCommit">,
  signal: AbortSignal,
  logger: Logger,
): Promise<void> {
  const { requireSignedCommit, trustedKeys } = stack.remediation;
  if (!requireSignedCommit || requireSignedCommit.before !== "check") return;
  const refuse = (why: string) =>
    new UnverifiedCommitError(`stack ${stack.name}: commit ${acquired.commit} was not run, its signature is required before any engine runs it (remediation.requireSignedCommit.before: check): ${why}`);
  if (!trustedKeys) throw refuse("no trustedKeys to verify it with");
  const signature = await source.verifyCommit(acquired.worktree, acquired.commit, trustedKeys, signal);
  if (!signature.verified) throw refuse(signature.detail);
  logger.info({ commit: acquired.commit, signature: signature.detail }, "commit signature verified");
}
