// The environment git runs in, and the simple-git client that runs it. Credentials reach git only through
// the environment (GIT_CONFIG_* → http.extraHeader), never through argv or a URL.
import { simpleGit, type SimpleGit, type SimpleGitOptions } from "simple-git";

export const TOKEN_VARIABLE = "DRIFTWATCH_GIT_TOKEN";

/**
 * Never handed to git: variables that would make it act on another repository, index or work tree than the one
 * we name (set, for instance, when Driftwatch runs from a git hook), and interactive helpers that clone, fetch,
 * worktree and rev-parse never need.
 */
const DROPPED = new Set([
  TOKEN_VARIABLE,
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
  "GIT_EDITOR",
  "GIT_SEQUENCE_EDITOR",
  "GIT_PAGER",
  "GIT_EXTERNAL_DIFF",
  "EDITOR",
  "VISUAL",
  "PAGER",
]);

/**
 * simple-git refuses guarded variables (GIT_*, …) that the caller passes unless they are allowed, and refuses some
 * of them (GIT_CONFIG_COUNT, GIT_SSH_COMMAND, …) unless their category is unlocked. The environment is the
 * operator's, trusted like their ~/.gitconfig; these flags only concern it, because the argv Driftwatch builds
 * never carries `-c`, `--upload-pack` or similar, and user-supplied URLs follow `--`.
 */
const ENVIRONMENT_FLAGS: SimpleGitOptions["unsafe"] = {
  allowUnsafeConfigEnvCount: true,
  allowUnsafeSshCommand: true,
  allowUnsafeAskPass: true,
  allowUnsafeConfigPaths: true,
  allowUnsafeGitProxy: true,
  allowUnsafeExec: true,
  allowUnsafeTemplateDir: true,
  allowUnsafeCredentialHelper: true,
  allowUnsafeUrlRewrite: true,
  allowUnsafeProtocolOverride: true,
  allowUnsafeInclude: true,
};

export function isHttpsUrl(url: string): boolean {
  return /^https:\/\//i.test(url);
}

/** The header value git sends for the token: `Authorization: Basic base64("x-access-token:<token>")`. */
export function authorizationHeader(token: string): string {
  return `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
}

/** Every form in which the token could show up in git's output; for redactValues. */
export function tokenSecrets(env: NodeJS.ProcessEnv): string[] {
  const token = env[TOKEN_VARIABLE];
  if (!token) return [];
  const header = authorizationHeader(token);
  return [header, header.slice("Authorization: Basic ".length), token];
}

/**
 * The environment for one git invocation: the caller's, minus DROPPED, with GIT_TERMINAL_PROMPT=0 and, when
 * `authenticate` (an https remote) and DRIFTWATCH_GIT_TOKEN is set, the token as an extra http header appended
 * after any GIT_CONFIG_* entries already present.
 */
export function gitEnvironment(base: NodeJS.ProcessEnv, authenticate: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && !DROPPED.has(key.toUpperCase())) env[key] = value;
  }
  env.GIT_TERMINAL_PROMPT = "0";
  const token = base[TOKEN_VARIABLE];
  if (authenticate && token) {
    const existing = Number(env.GIT_CONFIG_COUNT ?? "0");
    const index = Number.isInteger(existing) && existing > 0 ? existing : 0;
    env[`GIT_CONFIG_KEY_${index}`] = "http.extraHeader";
    env[`GIT_CONFIG_VALUE_${index}`] = authorizationHeader(token);
    env.GIT_CONFIG_COUNT = String(index + 1);
  }
  return env;
}

/** A simple-git client in `baseDir` (which must exist) running with exactly `env`. */
export function gitClient(baseDir: string, env: Record<string, string>): SimpleGit {
  return simpleGit({ baseDir, allowEnvironment: Object.keys(env), unsafe: ENVIRONMENT_FLAGS }).env(env);
}
