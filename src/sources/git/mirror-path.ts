// Where a repository's bare mirror lives: a readable slug of the URL (never its credentials) plus a short hash
// of the URL as written, so two URLs never share a mirror and a person can still tell which is which.
import { createHash } from "node:crypto";

const MAX_SLUG_LENGTH = 60;

/** The readable part of a repo URL: host and path for scheme URLs, the path for scp-like and local ones. */
function readablePart(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      const parsed = new URL(url);
      return `${parsed.host}${parsed.pathname}`;
    } catch {
      return ""; // unparseable: say nothing rather than risk copying credentials into a directory name
    }
  }
  return url.replace(/^[^/@:]*@/, ""); // git@host:org/repo.git → host:org/repo.git
}

/** `<slug>-<12 hex of sha256(url)>.git`, safe as a single path segment. */
export function mirrorDirName(url: string): string {
  const hash = createHash("sha256").update(url).digest("hex").slice(0, 12);
  let slug = readablePart(url)
    .replace(/\.git\/*$/i, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/-{2,}/g, "-");
  if (slug.length > MAX_SLUG_LENGTH) slug = slug.slice(-MAX_SLUG_LENGTH); // the repository name is at the end
  slug = slug.replace(/^[-.]+|[-.]+$/g, "");
  return `${slug || "repo"}-${hash}.git`;
}
