// From a folder in Git to the objects it declares: `kustomize build` for a kustomization, else every manifest file
// below the folder. Repository content is untrusted: files are read only through readWorktreeFile (regular files
// inside the worktree, bounded size), symlinked folders are not followed, and kustomize runs only on a
// kustomization tree that names nothing outside the worktree and nothing remote (kustomize-guard.ts), with the
// stack's allow-listed environment and its default load restrictions (no exec plugins, no Helm).
import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { Logger } from "pino";
import { LineCounter, parseAllDocuments, type ScalarTag } from "yaml";
import type { KubernetesSettings } from "../../config/types.ts";
import { OutputTooLargeError, TimeoutError } from "../../core/errors.ts";
import { DEFAULT_MAX_OUTPUT_BYTES } from "../../core/process.ts";
import { readWorktreeFile, type WorktreeFolder } from "../../core/worktree-file.ts";
import type { RunSandbox } from "../../sandbox/run-sandbox.ts";
import { ManifestError } from "./errors.ts";
import { checkKustomization, KUSTOMIZATION_FILES, kustomizationIn } from "./kustomize-guard.ts";
import { isPlainObject, type KubeObject } from "./objects.ts";

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** An object and where it came from (`deploy/web.yaml line 12`, or `kustomize build`). */
export interface RenderedObject {
  object: KubeObject;
  origin: string;
}

export interface RenderOptions {
  stack: string;
  settings: Pick<KubernetesSettings, "render">;
  /** The kustomize binary of the toolchain. */
  kustomize: string;
  /** The run's sandbox: kustomize runs in it with the worktree read-only, no data directory and no network. */
  sandbox: RunSandbox;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  logger: Logger;
}

/** Every manifest below `dir`, in path order; dot-folders (.git, .github) and symlinked folders are left out. */
async function manifestFiles(dir: string, logger: Logger): Promise<string[]> {
  const found: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    const entries: Dirent[] = (await readdir(folder, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!entry.name.startsWith(".")) await walk(path);
      } else if (entry.isSymbolicLink() || entry.isFile()) {
        if (MANIFEST_FILE.test(entry.name) && !KUSTOMIZATION_FILES.includes(entry.name)) found.push(path);
      }
    }
  };
  await walk(dir);
  logger.debug({ files: found.length }, "manifest files found");
  return found;
}

/**
 * A plain integer with a leading zero is octal, as kubectl and the API server read manifests (go-yaml's YAML 1.1
 * rule: `defaultMode: 0400` is 256); YAML 1.2's core schema, the parser's default, would read it as 400 and apply
 * other permissions than the ones Git declares. kustomize's output already has them as decimals.
 */
const LEGACY_OCTAL: ScalarTag = {
  identify: (value) => Number.isInteger(value),
  default: true,
  tag: "tag:yaml.org,2002:int",
  test: /^[-+]?0[0-7]+$/,
  resolve: (text) => Number.parseInt(text, 8),
};

/** The objects of one YAML/JSON text; `List` kinds are expanded. Errors name `where` and the line. */
export function parseManifests(text: string, where: string): RenderedObject[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, customTags: (tags) => [LEGACY_OCTAL, ...tags] });
  const found: RenderedObject[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const line = lines.linePos(doc.contents?.range?.[0] ?? doc.range[0]).line;
    const problem = doc.errors[0];
    if (problem) {
      const at = problem.linePos?.[0];
      throw new ManifestError(`${where}${at ? ` line ${at.line}, column ${at.col}` : ` line ${line}`}: ${problem.message.split("\n")[0]}`);
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue; // an empty document (a trailing ---, only comments)
    for (const object of objectsOf(value, `${where} line ${line}`)) found.push({ object, origin: `${where} line ${line}` });
  }
  return found;
}

function objectsOf(value: unknown, where: string): KubeObject[] {
  if (!isPlainObject(value)) throw new ManifestError(`${where}: a manifest must be a mapping (an object with apiVersion, kind and metadata)`);
  if (typeof value.apiVersion !== "string" || value.apiVersion === "") throw new ManifestError(`${where}: apiVersion is missing`);
  if (typeof value.kind !== "string" || value.kind === "") throw new ManifestError(`${where}: kind is missing`);
  if (value.kind.endsWith("List") && Array.isArray(value.items)) return value.items.flatMap((item: unknown) => objectsOf(item, where));
  const metadata = value.metadata;
  if (!isPlainObject(metadata) || typeof metadata.name !== "string" || metadata.name === "") {
    throw new ManifestError(`${where}: ${value.kind} has no metadata.name (generateName is not supported: Driftwatch must know each object by name)`);
  }
  if (metadata.namespace !== undefined && typeof metadata.namespace !== "string") throw new ManifestError(`${where}: metadata.namespace must be a string`);
  return [value as KubeObject];
}

async function renderPlain(folder: WorktreeFolder, options: RenderOptions): Promise<RenderedObject[]> {
  const objects: RenderedObject[] = [];
  for (const file of await manifestFiles(folder.dir, options.logger)) {
    const path = relative(folder.dir, file).split(sep).join("/");
    const text = await readWorktreeFile(folder, { stack: options.stack, key: "manifest", path });
    objects.push(...parseManifests(text, path));
  }
  return objects;
}

/**
 * kustomize gets none of the stack's settings: its PATH and locale, a home that does not exist, and, should anything
 * still reach for a remote base, a git allowed no protocol at all (the sandbox gives rendering no network either).
 */
function renderEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const kept = Object.entries(env).filter(([name, value]) => value !== undefined && (name === "PATH" || name === "LANG" || name === "TZ" || name.startsWith("LC_")));
  return {
    ...(Object.fromEntries(kept) as Record<string, string>),
    HOME: "/nonexistent",
    GIT_ALLOW_PROTOCOL: "",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
  };
}

async function renderKustomize(folder: WorktreeFolder, options: RenderOptions): Promise<RenderedObject[]> {
  await checkKustomization(folder, options.stack);
  const run = await options.sandbox.run(options.kustomize, ["build", "."], { cwd: folder.dir, env: renderEnv(options.env), signal: options.signal, grants: { profile: "render" } });
  if (run.aborted) throw new TimeoutError(`stack ${options.stack}: kustomize build was stopped (timeout or shutdown)`);
  // runTool's default limit (64 MiB) is the rendered output's: far above any real set of manifests.
  if (run.outputTooLarge) throw new OutputTooLargeError("kustomize build", DEFAULT_MAX_OUTPUT_BYTES, { stack: options.stack });
  if (run.code !== 0) {
    const message = run.stderr.trim().split("\n").slice(0, 5).join("\n");
    throw new ManifestError(`stack ${options.stack}: kustomize build failed: ${message || `exit code ${run.code}`}`);
  }
  return parseManifests(run.stdout, "kustomize build");
}

/** The objects the stack's folder declares, as Git has them at this commit. */
export async function renderManifests(folder: WorktreeFolder, options: RenderOptions): Promise<RenderedObject[]> {
  const mode = options.settings.render === "auto" ? ((await kustomizationIn(folder.dir)) ? "kustomize" : "plain") : options.settings.render;
  const objects = mode === "kustomize" ? await renderKustomize(folder, options) : await renderPlain(folder, options);
  options.logger.debug({ render: mode, objects: objects.length }, "manifests rendered");
  return objects;
}
