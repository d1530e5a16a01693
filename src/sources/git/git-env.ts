// The environment git runs in: an allow-list of the service's (never its tokens or the stacks' credentials), plus
// Driftwatch's own settings. Credentials reach git only through the environment (GIT_CONFIG_* →
// http.<url>.extraHeader), never through argv or a URL, and git itself sends them only to the hosts named.
import { LOCALE, pickEnv, PROXIES, type EnvAllowList } from "../../core/env-allow-list.ts";

export const TOKEN_VARIABLE = "DRIFTWATCH_GIT_TOKEN";

/**
 * The transports git may use, whatever a URL, the operator's git config or a repository's config says: never
 * `ext::` or `fd::` (which run commands), nor plain http. `file` covers local paths.
 */
export const ALLOWED_PROTOCOLS = "https:ssh:git:file";

/**
 * What git gets of the service's environment: what git and the programs it starts for a transport (ssh,
 * git-remote-https, the operator's credential helper) need, and nothing else. The service's own tokens
 * (DRIFTWATCH_API_TOKEN, SLACK_BOT_TOKEN, the webhook secret) and the stacks' `${env:…}` credentials are not in it,
 * so no command git runs ever holds them; DRIFTWATCH_GIT_TOKEN is there only as the header entry for its hosts,
 * in the commands that talk https (see gitEnvironment). Left out on purpose: GIT_DIR,
 * GIT_WORK_TREE, GIT_INDEX_FILE, GIT_COMMON_DIR, GIT_OBJECT_DIRECTORY and the like (set when Driftwatch runs from
 * a git hook: git must act on the repository we name), GIT_CONFIG_PARAMETERS (git's own channel for `git -c`),
 * editors, pagers and askpass programs (nobody answers a prompt; credentials come from the token, ssh's keys and
 * agent, or a credential helper in the operator's git config).
 */
const PASSED: readonly EnvAllowList[] = [
  // finding programs, the user's git and ssh configuration (~/.gitconfig, $XDG_CONFIG_HOME/git, ~/.ssh), temp files
  { names: ["PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "XDG_CONFIG_HOME", "GIT_EXEC_PATH"] },
  LOCALE,
  PROXIES,
  // TLS and http settings (CA bundles, client certificates, proxy authentication, user agent, speed limits)
  { names: ["SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE"], prefixes: ["GIT_SSL_", "GIT_PROXY_SSL_", "GIT_HTTP_"] },
  // ssh and git:// (the agent, the operator's ssh program, core.gitProxy's variable), Kerberos for both
  { names: ["SSH_AUTH_SOCK", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT", "GIT_PROXY_COMMAND", "KRB5CCNAME"] },
  // which configuration files git reads (the operator's GIT_CONFIG_COUNT entries: operatorConfig)
  { names: ["GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM"] },
  // debugging: traces go to stderr (redacted before it is shown) or to the file the operator names
  { names: ["GIT_CURL_VERBOSE", "GIT_REDACT_COOKIES"], prefixes: ["GIT_TRACE"] },
];

/**
 * Settings of Driftwatch's own that no configuration file can undo (command-line scope is read last): hooks off
 * (a program run by an engine may have written one into a mirror) and no fsmonitor command. Settings the
 * operator may legitimately have in their own config (core.sshCommand, credential.helper) cannot be pinned here
 * without overriding theirs; the mirror's own config is kept as Driftwatch wrote it instead (mirror-config.ts).
 */
const PINNED: readonly (readonly [string, string])[] = [
  ["core.hooksPath", "/dev/null"],
  ["core.fsmonitor", "false"],
  // A fetch starts no `git maintenance run --auto` (git >= 2.29): the Git source runs `git gc --auto` on a mirror
  // itself, at most once a day (git-source.ts).
  ["maintenance.auto", "false"],
];

/** The operator's GIT_CONFIG_COUNT / GIT_CONFIG_KEY_<n> / GIT_CONFIG_VALUE_<n> entries, as they are. */
function operatorConfig(base: NodeJS.ProcessEnv): { env: Record<string, string>; count: number } {
  const count = Number(base.GIT_CONFIG_COUNT ?? "0");
  if (!Number.isInteger(count) || count <= 0) return { env: {}, count: 0 };
  const env: Record<string, string> = {};
  for (let index = 0; index < count; index += 1) {
    for (const name of [`GIT_CONFIG_KEY_${index}`, `GIT_CONFIG_VALUE_${index}`]) {
      const value = base[name];
      if (value !== undefined) env[name] = value;
    }
  }
  return { env, count };
}

/** The header value git sends for the token: `Authorization: Basic base64("x-access-token:<token>")`. */
export function authorizationHeader(token: string): string {
  return `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
}

/** Every form in which the token could show up in git's output; for the masker. */
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
 * The environment for one git invocation: the allow-listed part of the caller's (PASSED, the operator's
 * GIT_CONFIG_* entries), GIT_TERMINAL_PROMPT=0, the protocol allow-list, replace refs ignored (a ref pushed under
 * refs/replace/ would otherwise change what any branch's checkout holds), PINNED, and, for each of `tokenHosts`
 * when DRIFTWATCH_GIT_TOKEN is set, the token as an extra http header scoped to that host with redirects off
 * (after a redirect git would send the header to the new host too). Driftwatch's entries go after the
 * operator's GIT_CONFIG_* entries, so they win.
 */
export function gitEnvironment(base: NodeJS.ProcessEnv, tokenHosts: readonly string[] = []): Record<string, string> {
  const operator = operatorConfig(base);
  const env: Record<string, string> = { ...pickEnv(base, ...PASSED), ...operator.env };
  env.GIT_TERMINAL_PROMPT = "0";
  env.GIT_ALLOW_PROTOCOL = ALLOWED_PROTOCOLS;
  env.GIT_NO_REPLACE_OBJECTS = "1";
  const entries: (readonly [string, string])[] = [...PINNED];
  const token = base[TOKEN_VARIABLE];
  if (token) {
    for (const host of tokenHosts) {
      entries.push([`http.${tokenUrl(host)}.extraHeader`, authorizationHeader(token)], [`http.${tokenUrl(host)}.followRedirects`, "false"]);
    }
  }
  let index = operator.count;
  for (const [key, value] of entries) {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
    index += 1;
  }
  env.GIT_CONFIG_COUNT = String(index);
  return env;
}
