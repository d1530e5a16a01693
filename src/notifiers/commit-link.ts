// Links from an alert to the commit it is about, for repositories on the well-known forges. The repository forms
// are those `classifyRepo` (src/config/schema.ts) accepts; local paths and file:// URLs have no web page.

/** The commit as the CLI shows it: the first 12 characters. */
export function shortSha(commit: string): string {
  return commit.slice(0, 12);
}

type Forge = "github" | "gitlab" | "bitbucket" | "codeberg";

/** Where a repository lives: the web host (with a non-default https port) and its "org/…/repo" path. */
interface RepoLocation {
  host: string;
  path: string;
}

function forgeOf(hostname: string): Forge | undefined {
  if (hostname === "github.com" || hostname === "www.github.com") return "github";
  if (hostname === "gitlab.com" || hostname.startsWith("gitlab.")) return "gitlab";
  if (hostname === "bitbucket.org") return "bitbucket";
  if (hostname === "codeberg.org") return "codeberg";
  return undefined;
}

/** `git@host:org/repo.git` (Git's scp-like ssh syntax: no "/" before the first ":"). */
function scpLocation(repo: string): RepoLocation | undefined {
  const match = /^(?:[^@\s/:]+@)?([^@\s/:]+):(\S+)$/.exec(repo);
  return match ? { host: match[1]!, path: match[2]! } : undefined;
}

/** https:// and ssh:// URLs; userinfo is dropped. An ssh port is not the web port, an https port is. */
function urlLocation(repo: string): RepoLocation | undefined {
  if (!URL.canParse(repo)) return undefined;
  const url = new URL(repo);
  if (url.protocol === "https:") return { host: url.host, path: url.pathname };
  if (url.protocol === "ssh:") return { host: url.hostname, path: url.pathname };
  return undefined;
}

function locationOf(repo: string): RepoLocation | undefined {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) ? urlLocation(repo) : scpLocation(repo);
}

/** "/org/repo.git/" → "org/repo"; undefined unless it is plain segments (safe inside a Slack link). */
function projectPath(path: string, forge: Forge): string | undefined {
  const trimmed = path.replace(/^\/+|\/+$/g, "").replace(/\.git$/, "");
  const segments = trimmed.split("/");
  if (!segments.every((s) => /^[\w.~-]+$/.test(s) && s !== "." && s !== "..")) return undefined;
  // GitLab has nested groups (org/group/repo); the others are exactly owner/repo.
  const fits = forge === "gitlab" ? segments.length >= 2 : segments.length === 2;
  return fits ? trimmed : undefined;
}

const COMMIT_PATH: Record<Forge, string> = { github: "commit", codeberg: "commit", gitlab: "-/commit", bitbucket: "commits" };

/** A web link to `commit` when `repo` lives on GitHub, GitLab (gitlab.com or gitlab.*), Bitbucket or Codeberg; undefined otherwise. */
export function commitUrl(repo: string, commit: string): string | undefined {
  if (!/^[0-9a-f]{4,64}$/i.test(commit)) return undefined;
  const location = locationOf(repo.trim());
  if (!location) return undefined;
  const host = location.host.toLowerCase();
  const forge = forgeOf(host.replace(/:\d+$/, ""));
  if (!forge) return undefined;
  const path = projectPath(location.path, forge);
  return path ? `https://${host}/${path}/${COMMIT_PATH[forge]}/${commit}` : undefined;
}
