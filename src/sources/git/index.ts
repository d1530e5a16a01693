// Public API of the Git source: fetch a stack's repository and check its ref out into a shared worktree.
export { GitSource, type AcquiredSource, type GitSourceOptions } from "./git-source.ts";
