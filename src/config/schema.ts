// The schema of driftwatch.yaml as written by people: what the file may contain, nothing about defaults that depend
// on where it lives. load.ts validates with it, then resolves paths, applies defaults and interpolates env values.
// The descriptions end up in driftwatch.schema.json (json-schema.ts), which editors use for completion and hints.
import { z } from "zod";

/** Stack names end up in file names, database rows and Slack messages. */
export const STACK_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

/** Names an engine process can receive as environment variables. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A folder inside the repository: relative, "/"-separated, never leaving the repository. Rejects absolute paths
 * (`/x`, `C:/x`), any `..` segment and backslashes; load.ts then drops `.` segments, doubled and trailing slashes.
 */
export const SOURCE_PATH_PATTERN = /^(?!\/)(?![A-Za-z]:)(?!(?:.*\/)?\.\.(?:\/|$))[^\\]+$/;

/** A branch, tag or commit: no whitespace or characters Git forbids in ref names, no `..`, not an option (`-x`). */
export const GIT_REF_PATTERN = /^(?!-)(?!.*\.\.)(?!.*@\{)[^\s~^:?*\[\\\x00-\x1f\x7f]+$/;

/** A Pulumi stack name, optionally fully qualified (`org/project/stack`); never an option (`-x`). */
export const PULUMI_STACK_PATTERN = /^(?!-)[A-Za-z0-9._/-]+$/;

/** Any URL-like backend: file://, s3://, azblob://, gs://, https://app.pulumi.com, ... */
const BACKEND_URL_PATTERN = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/.*$/;

/** The message for a value that is present but unacceptable; a missing value keeps the usual "Required". */
function unless(message: string) {
  return { error: (issue: { input?: unknown }) => (issue.input === undefined ? undefined : message) };
}

const timeoutSeconds = z
  .number()
  .int(unless("must be a whole number of seconds"))
  .positive(unless("must be a positive whole number of seconds"));

/** What kind of thing `source.repo` names; undefined when it is none of the accepted forms. */
export function classifyRepo(repo: string): "local" | "file-url" | "https" | "ssh" | "scp" | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(repo)?.[1]?.toLowerCase();
  if (scheme === "file") return "file-url";
  if (scheme === "https") return URL.canParse(repo) && new URL(repo).hostname !== "" ? "https" : undefined;
  if (scheme === "ssh") return URL.canParse(repo) && new URL(repo).hostname !== "" ? "ssh" : undefined;
  if (scheme !== undefined) return undefined;
  // Git's own rule: `host:path` (no "/" before the first ":") is scp-like ssh; `C:\x` is a Windows drive.
  const colon = repo.indexOf(":");
  const slash = repo.indexOf("/");
  if (colon > 1 && (slash === -1 || colon < slash)) return /^(?:[^@\s/:]+@)?[^@\s/:]+:\S+$/.test(repo) ? "scp" : undefined;
  return "local";
}

const sourceSchema = z
  .strictObject({
    repo: z
      .string()
      .min(1, unless("must not be empty"))
      .refine((repo) => classifyRepo(repo) !== undefined, {
        error:
          "must be a local path, a file:// or https:// URL, or an ssh URL (ssh://host/org/repo.git or git@host:org/repo.git)",
      })
      .describe(
        "The Git repository: a local path (relative to this file's folder), a file:// or https:// URL, or an ssh URL " +
          "(ssh://git@host/org/repo.git or scp-like git@host:org/repo.git). Put no credentials here.",
      ),
    ref: z
      .string()
      .regex(GIT_REF_PATTERN, unless("must be a branch, tag or commit (no spaces, '..', '~', '^', ':', '?', '*', '[', '\\', not starting with '-')"))
      .default("main")
      .describe("The branch, tag or full commit SHA to check."),
    path: z
      .string()
      .regex(SOURCE_PATH_PATTERN, unless("must be a relative path inside the repository (not absolute, no '..', '/' as separator)"))
      .default(".")
      .describe("The folder inside the repository holding the project (Pulumi.yaml), relative, e.g. stacks/app; '.' for the root."),
  })
  .describe("Where the stack's program comes from.");

const pulumiSchema = z
  .strictObject({
    stack: z
      .string()
      .regex(PULUMI_STACK_PATTERN, unless("must be a Pulumi stack name (letters, digits, '.', '_', '-', or org/project/stack)"))
      .describe("The Pulumi stack to check, e.g. dev (or org/project/stack)."),
    backendUrl: z
      .string()
      .regex(BACKEND_URL_PATTERN, unless("must be a backend URL such as file://./state, s3://bucket or https://api.pulumi.com"))
      .optional()
      .describe(
        "PULUMI_BACKEND_URL for this stack. Default: file://<dataDir>/pulumi-backend. A relative file:// path " +
          "(file://./state or file://state) is relative to this file's folder.",
      ),
  })
  .describe("Settings for engine: pulumi.");

export const stackSchema = z
  .strictObject({
    name: z
      .string()
      .regex(STACK_NAME_PATTERN, unless("must start with a lowercase letter or digit and contain only a-z, 0-9, '.', '_' and '-'"))
      .describe("A unique name for the stack: lowercase letters, digits, '.', '_' and '-'."),
    engine: z.literal("pulumi", unless('must be "pulumi" (the only engine supported for now)')).describe("The IaC engine: pulumi."),
    source: sourceSchema,
    pulumi: pulumiSchema,
    env: z
      .record(z.string().regex(ENV_NAME_PATTERN), z.string())
      .default({})
      .describe(
        "Environment variables for the engine process only (treated as secrets in all output). Values may use " +
          "${env:NAME}, ${env:NAME:-fallback} (when NAME is unset or empty) and ${dataDir}; write $${ for a literal ${.",
      ),
    timeoutSeconds: timeoutSeconds.optional().describe("This stack's run timeout in seconds; overrides defaults.timeoutSeconds."),
  })
  .describe("One stack to watch.");

/** The raw driftwatch.yaml. */
export const configFileSchema = z
  .strictObject({
    dataDir: z
      .string()
      .min(1, unless("must not be empty"))
      .default(".driftwatch")
      .describe("Where Driftwatch keeps its database, Git mirrors, worktrees and caches; relative to this file's folder."),
    defaults: z
      .strictObject({
        timeoutSeconds: timeoutSeconds.default(600).describe("The run timeout in seconds for stacks that set none."),
      })
      .default({ timeoutSeconds: 600 })
      .describe("Settings every stack inherits unless it sets its own."),
    stacks: z.array(stackSchema).default([]).describe("The stacks to watch."),
  })
  .describe("Driftwatch configuration (driftwatch.yaml): the stacks to watch for drift and where to keep state.");

/** The file as written (what an editor completes). */
export type ConfigFileInput = z.input<typeof configFileSchema>;
/** The file after validation, with the schema's static defaults applied. */
export type ConfigFile = z.output<typeof configFileSchema>;
