import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { repoRoot } from "../../src/toolchain/paths.ts";

const identity = {
  GIT_AUTHOR_NAME: "Driftwatch Test",
  GIT_AUTHOR_EMAIL: "test@driftwatch.invalid",
  GIT_COMMITTER_NAME: "Driftwatch Test",
  GIT_COMMITTER_EMAIL: "test@driftwatch.invalid",
};

/** Runs git with an argument array in `cwd`; returns trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return gitWithEnv(cwd, {}, ...args);
}

/** `git` with more environment (e.g. GNUPGHOME for signing). */
export function gitWithEnv(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: { ...process.env, ...identity, ...env }, encoding: "utf8" }).trim();
}

/** A temporary repository on branch main, holding the demo Pulumi program at stacks/app. */
export function createProgramRepo(dir: string): string {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  const app = join(dir, "stacks", "app");
  cpSync(join(repoRoot, "stacks", "demo-files"), app, { recursive: true });
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "demo program");
  return dir;
}

/** Writes files (path → content, relative to the repo) and commits them; returns the new commit SHA. */
export function commitFiles(dir: string, files: Record<string, string>, message: string): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", message);
  return git(dir, "rev-parse", "HEAD");
}
