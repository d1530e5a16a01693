// The environment git runs in. Credentials reach git only through the environment (GIT_CONFIG_* →
// http.<url>.extraHeader), never through argv or a URL, and git itself sends them only to the hosts named.

export const TOKEN_VARIABLE = "DRIFTWATCH_GIT_TOKEN";

/**
 * The transports git may use, whatever a URL, the operator's git config or a repository's config says: never
 * `ext::` or `fd::` (which run commands), nor plain http. `file` covers local paths.
 */
export const ALLOWED_PROTOCOLS = "https:ssh:git:file";

/**
 * Never handed to git: variables that would make it act on another repository, index or work tree than the one
 * we name (set, for instance, when Driftwatch runs from a git hook), and interactive helpers that clone, fetch,
 * worktree and rev-parse never need. The rest of the environment is the operator's, trusted like their
 * ~/.gitconfig (GIT_SSH_COMMAND, proxies, GIT_CONFIG_* entries, …).
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

/** git's config URL for a token host (`github.com`, `git.example.com:8443`, `*.example.com`): every path on it. */
export function tokenUrl(host: string): string {
  return `https://${host}/`;
}

/**
 * The environment for one git invocation: the caller's, minus DROPPED, with GIT_TERMINAL_PROMPT=0, the protocol
 * allow-list, hooks off (a program run by an engine may have written one into a mirror), and, for each of
 * `tokenHosts` when DRIFTWATCH_GIT_TOKEN is set, the token as an extra http header scoped to that host with
 * redirects off (after a redirect git would send the header to the new host too). The entries go after any
 * GIT_CONFIG_* entries already present, so they win.
 */
export function gitEnvironment(base: NodeJS.ProcessEnv, tokenHosts: readonly string[] = []): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && !DROPPED.has(key.toUpperCase())) env[key] = value;
  }
  env.GIT_TERMINAL_PROMPT = "0";
  env.GIT_ALLOW_PROTOCOL = ALLOWED_PROTOCOLS;
  const entries: [string, string][] = [["core.hooksPath", "/dev/null"]];
  const token = base[TOKEN_VARIABLE];
  if (token) {
    for (const host of tokenHosts) {
      entries.push([`http.${tokenUrl(host)}.extraHeader`, authorizationHeader(token)], [`http.${tokenUrl(host)}.followRedirects`, "false"]);
    }
  }
  const existing = Number(env.GIT_CONFIG_COUNT ?? "0");
  let index = Number.isInteger(existing) && existing > 0 ? existing : 0;
  for (const [key, value] of entries) {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
    index += 1;
  }
  env.GIT_CONFIG_COUNT = String(index);
  return env;
}
