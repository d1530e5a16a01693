// Turning a configured ref (branch, tag, full or abbreviated SHA) into the commit it names in a mirror.
import { GitFailure } from "./git-command.ts";

const COMMIT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/; // SHA-1, or SHA-256 repositories
const ABBREVIATED_ID = /^[0-9a-f]{4,64}$/i;

/**
 * A name we are willing to look up: no revision syntax (`~`, `^`, `:`, `@{`, `..`), no globs, no whitespace or
 * control characters, no leading dash. Anything else cannot be a branch or tag name anyway.
 */
export function isPlainRefName(ref: string): boolean {
  return (
    ref.length > 0 &&
    !ref.startsWith("-") &&
    !ref.startsWith("/") &&
    !ref.includes("..") &&
    !ref.includes("@{") &&
    !/[\x00-\x20\x7f~^:?*[\\]/.test(ref)
  );
}

/** The candidates for `ref`, in order: branch, tag, a full ref name, a commit id. */
function candidates(ref: string): string[] {
  const names = [`refs/heads/${ref}`, `refs/tags/${ref}`];
  if (ref.startsWith("refs/")) names.push(ref);
  if (ABBREVIATED_ID.test(ref)) names.push(ref.toLowerCase());
  return names;
}

/**
 * The full commit id `ref` resolves to (tags peeled), or undefined; `git` runs a git command in the repository
 * and resolves with its stdout (it throws when git fails; a stop or timeout is rethrown).
 */
export async function resolveRef(git: (args: string[]) => Promise<string>, ref: string): Promise<string | undefined> {
  if (!isPlainRefName(ref)) return undefined;
  for (const name of candidates(ref)) {
    let out: string;
    try {
      out = (await git(["rev-parse", "--verify", "--quiet", `${name}^{commit}`])).trim();
    } catch (error) {
      if (error instanceof GitFailure) continue; // absent (exit 1), or ambiguous abbreviation
      throw error;
    }
    if (COMMIT_ID.test(out)) return out;
  }
  return undefined;
}
