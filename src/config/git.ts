// The `git` section of driftwatch.yaml (how Driftwatch talks to the watched repositories' remotes), and the one
// repository URL form refused whatever the section says.
import { z } from "zod";
import type { GitConfig } from "./types.ts";

/**
 * git's `<transport>::<address>` form (`ext::<command>`, `fd::<n>`, any `<name>::`): git hands the address to a
 * remote helper, and `ext::` runs a command. Git's own rule: a scheme-like name followed by `::`.
 */
export function isRemoteHelperUrl(repo: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*::/.test(repo);
}

const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
/** `github.com`, `git.example.com:8443`, `*.example.com`, `[::1]:8443`: a host (and port) git's URL matching takes. */
const TOKEN_HOST_PATTERN = new RegExp(`^(?:(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*|\\[[0-9A-Fa-f:.]+\\])(?::\\d{1,5})?$`);

export const gitSchema = z
  .strictObject({
    tokenHosts: z
      .array(
        z.string().regex(TOKEN_HOST_PATTERN, {
          error: "must be a host name, optionally with a port (github.com, git.example.com:8443) or a leading *. for its subdomains; no scheme or path",
        }),
      )
      .optional()
      .describe(
        "The hosts DRIFTWATCH_GIT_TOKEN is sent to (over https only, as an Authorization header that git scopes to them; redirects from them are " +
          "not followed). Default: the hosts of the https repositories of the stacks. [] sends it nowhere.",
      ).meta({ examples: [["github.com"]] }),
    timeoutSeconds: z
      .number()
      .int({ error: "must be a positive whole number of seconds" })
      .positive({ error: "must be a positive whole number of seconds" })
      .max(86_400)
      .default(300)
      .describe("The most one git command may take (fetch, clone, ls-remote, checkout); a run's own timeout and Driftwatch stopping also end it."),
  })
  .describe("How Driftwatch runs git against the watched repositories.");

/** The section with its defaults: the token's hosts are those of the https repositories unless listed. */
export function gitConfig(raw: z.output<typeof gitSchema>, repos: readonly string[]): GitConfig {
  const derived = repos.filter((repo) => /^https:\/\//i.test(repo) && URL.canParse(repo)).map((repo) => new URL(repo).host);
  const hosts = (raw.tokenHosts ?? derived).map((host) => host.toLowerCase());
  return { tokenHosts: [...new Set(hosts)], timeoutMs: raw.timeoutSeconds * 1000 };
}
