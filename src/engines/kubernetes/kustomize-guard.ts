// A kustomization is repository content, and kustomize follows what it names: other folders (`../base`), files,
// and remote bases (git and HTTP URLs, fetched at build time). Before `kustomize build` runs, every path a
// kustomization of the stack names (and those of the folders it names, recursively) must be a file or folder inside
// the worktree, symlinks resolved: a committer cannot make Driftwatch read another stack's worktree or the service's
// files, nor fetch from the network. Remote bases are to be vendored into the repository.
import { realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { parse } from "yaml";
import { isInside, readWorktreeFile, type WorktreeFolder } from "../../core/worktree-file.ts";
import { ManifestError } from "./errors.ts";
import { isPlainObject } from "./objects.ts";

/** The names kustomize reads a kustomization from, in the order it looks for them. */
export const KUSTOMIZATION_FILES: readonly string[] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/** Fields whose values (strings, or lists of them) are files or folders. */
const PATH_LISTS = ["resources", "bases", "components", "crds", "configurations", "generators", "transformers", "validators", "patchesStrategicMerge"];

function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** Every path-like string a kustomization names, as written. */
export function namedPaths(kustomization: Record<string, unknown>): string[] {
  const found: string[] = [];
  for (const field of PATH_LISTS) found.push(...strings(kustomization[field]));
  for (const field of ["patches", "patchesJson6902", "replacements"]) {
    for (const entry of Array.isArray(kustomization[field]) ? kustomization[field] : []) if (isPlainObject(entry)) found.push(...strings(entry.path));
  }
  for (const field of ["configMapGenerator", "secretGenerator"]) {
    for (const entry of Array.isArray(kustomization[field]) ? kustomization[field] : []) {
      if (!isPlainObject(entry)) continue;
      found.push(...strings(entry.files).map((f) => (f.includes("=") ? f.slice(f.indexOf("=") + 1) : f)), ...strings(entry.envs), ...strings(entry.env));
    }
  }
  if (isPlainObject(kustomization.openapi)) found.push(...strings(kustomization.openapi.path));
  if (kustomization.helmCharts !== undefined || kustomization.helmChartInflationGenerator !== undefined) found.push("helm:charts-are-not-rendered");
  // An inline patch (a YAML document in the string) names no file.
  return found.filter((p) => !p.includes("\n"));
}

/** Refuses a kustomization tree that names anything outside the worktree (or remote). */
export async function checkKustomization(folder: WorktreeFolder, stack: string): Promise<void> {
  const root = await realpath(folder.root);
  const queue = [folder.dir];
  const visited = new Set<string>();
  while (queue.length > 0) {
    const dir = queue.shift()!;
    const real = await realpath(dir);
    if (visited.has(real)) continue;
    visited.add(real);
    const file = await kustomizationIn(real);
    if (!file) continue;
    const where = relative(root, file).split(sep).join("/");
    const text = await readWorktreeFile({ dir: root, root }, { stack, key: "kustomization", path: where });
    let parsed: unknown;
    try {
      parsed = parse(text);
    } catch (error) {
      throw new ManifestError(`stack ${stack}: ${where}: ${(error as Error).message.split("\n")[0]}`);
    }
    if (!isPlainObject(parsed)) throw new ManifestError(`stack ${stack}: ${where}: a kustomization must be a mapping`);
    for (const named of namedPaths(parsed)) {
      const refusal = `stack ${stack}: ${where} names '${named}', which is not a file or folder inside the repository`;
      if (isAbsolute(named)) throw new ManifestError(`${refusal} (absolute paths are refused)`);
      const target = await realpath(resolve(real, named)).catch(() => undefined);
      if (!target) throw new ManifestError(`${refusal} (remote bases and Helm charts are not fetched: vendor them into the repository)`);
      if (!isInside(root, target)) throw new ManifestError(`${refusal} (it leads out of the worktree)`);
      if ((await stat(target)).isDirectory()) queue.push(target);
    }
  }
}

/** The kustomization file of `dir`, if it has one. */
export async function kustomizationIn(dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) {
    const file = join(dir, name);
    const found = await stat(file).catch(() => undefined);
    if (found?.isFile()) return file;
  }
  return undefined;
}
