// A kustomization is repository content, and kustomize follows what it names: other folders (`../base`), files,
// remote bases and files (git and HTTP URLs, fetched at build time), and the configs of its builtin generators and
// transformers, inline or in files, which name files of their own. Before `kustomize build` runs, the guard reads
// every kustomization of the stack (and those of the folders it names, recursively) the way kustomize reads it —
// keys matched case-insensitively to the fields kustomize knows (kustomize-fields.ts), unknown keys refused — and
// every path anything in it names must be a file or folder inside the worktree, symlinks resolved: a committer
// cannot make Driftwatch read another stack's worktree or the service's files, nor fetch from the network. Remote
// bases are to be vendored into the repository; Helm charts and non-builtin plugins are not run.
import { lstat, realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { parseAllDocuments } from "yaml";
import { isInside, readWorktreeFile } from "../../core/worktree-file.ts";
import type { WorktreeFolder } from "../../core/worktree-file.ts";
import { ManifestError } from "./errors.ts";
import {
  BUILTIN_API_VERSION,
  BUILTIN_PLUGIN_FIELDS,
  type FieldValue,
  fieldsOf,
  GENERATOR_ARGS_FIELDS,
  HELM_FIELDS,
  HELM_PLUGIN,
  KUSTOMIZATION_FIELDS,
  mappingFields,
  OBJECT_FIELDS,
  OPENAPI_KEYS,
  PATCH_FIELDS,
  REPLACEMENT_FIELDS,
  SECRET_ARGS_FIELDS,
} from "./kustomize-fields.ts";
import { isPlainObject } from "./objects.ts";

/** The names kustomize reads a kustomization from, in the order it looks for them. */
export const KUSTOMIZATION_FILES: readonly string[] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

const HELM_REFUSAL = "Helm charts are not rendered: Driftwatch runs kustomize without Helm; render the chart into the repository (helm template) and name the output in resources";
const NO_PLUGINS = "Driftwatch runs kustomize without plugins, so only its builtin generators and transformers (apiVersion: builtin) are accepted";

/**
 * Why kustomize would take `path` as something to fetch, or undefined when it is a local path.
 *
 * What kustomize v5.8.2 (sigs.k8s.io/kustomize/api v0.21.2) treats as remote:
 * - internal/loader/fileloader.go `IsRemoteFile`, for every file it loads (resources, generator files and env
 *   files, patches, replacements, configs): Go's `url.Parse` finds the scheme `http` or `https` (any case) → HTTP GET;
 * - internal/git/repospec.go `NewRepoSpecFromURL`, for every folder it loads (resources, components, generator
 *   folders): after an optional `git::` prefix (any case), a scheme `ssh://`, `https://`, `http://` or `file://`
 *   (any case), or no scheme but a user (`^[a-zA-Z][a-zA-Z0-9-]*@`, as in scp-style `git@host:org/repo`), or a host
 *   `github.com/` or `github.com:` (any case) → `git clone`.
 * Refused here, wider than that and whatever exists on disk (a committed folder `http:/host/base` must not make a
 * URL pass for a local path): anything that starts with a URL scheme (`^[A-Za-z][A-Za-z0-9+.-]*:`, which covers
 * `git::`, `file:`, `http:/host` with one slash and `github.com:`), a `//` prefix, an `@` before the first `/`, and
 * `github.com/` in any case; leading whitespace is ignored first.
 */
export function remoteShape(path: string): string | undefined {
  const trimmed = path.trimStart();
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(trimmed)) return "a URL";
  if (trimmed.startsWith("//")) return "a URL without a scheme";
  if (/^[^/]*@/.test(trimmed)) return "a git remote (user@host)";
  if (/^github\.com\//i.test(trimmed)) return "a GitHub repository";
  return undefined;
}

/**
 * Whether kustomize would fetch `text` (the two rules above, exactly) if it took an inline entry for a path. Inline
 * YAML starts with a key and a colon, so the wide rule of remoteShape cannot apply to it: `apiVersion: builtin` is
 * no URL to Go (`url.Parse` refuses text with a line break; no `//` follows the colon), but `github.com/x: y` would
 * be cloned.
 */
export function fetchedByKustomize(text: string): boolean {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if ((scheme === "http" || scheme === "https") && !/[\x00-\x1f\x7f]/.test(text)) return true;
  const rest = text.replace(/^git::/i, "");
  return /^(ssh|https?|file):\/\//i.test(rest) || /^[a-zA-Z][a-zA-Z0-9-]*@/.test(rest) || /^github\.com[/:]/i.test(rest);
}

/**
 * A string the YAML reader of kustomize's plugin configs (sigs.k8s.io/yaml, YAML 1.1) would hand on changed: a
 * plain `2001-12-14` reaches the plugin as `2001-12-14T00:00:00Z`. The guard would check one path and kustomize
 * load another, so such a path is refused (the guard's own YAML 1.1 reading already refuses what is not a string).
 */
function rewrittenByGoYaml(path: string): boolean {
  return /^\s*[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/.test(path);
}

/**
 * A `generators:`/`transformers:`/`validators:`/`patchesStrategicMerge:` entry read as a path: no whitespace and no
 * YAML indicator, so it cannot also be YAML that kustomize would take for inline objects.
 */
const PLAIN_PATH = /^[A-Za-z0-9._/~+=][A-Za-z0-9._/~+=-]*$/;

/** A key below another: `patches[0]` and `path` make `patches[0].path`. */
function below(key: string, sub: string): string {
  return key === "" ? sub : `${key}.${sub}`;
}

/** One kustomization being checked. */
interface Scope {
  /** The kustomization's folder, real path: kustomize resolves every path it names (in configs too) from there. */
  dir: string;
  /** The kustomization file, relative to the worktree root (`overlay/kustomization.yaml`). */
  file: string;
}

class KustomizationGuard {
  readonly #stack: string;
  readonly #root: string;
  readonly #queue: string[] = [];

  constructor(stack: string, root: string) {
    this.#stack = stack;
    this.#root = root;
  }

  /** Checks the kustomization of `start` and of every folder it names, recursively. */
  async run(start: string): Promise<void> {
    this.#queue.push(start);
    const visited = new Set<string>();
    while (this.#queue.length > 0) {
      const real = await realpath(this.#queue.shift()!);
      if (visited.has(real)) continue;
      visited.add(real);
      const file = await kustomizationIn(real);
      if (file) await this.#kustomization({ dir: real, file: this.#relative(file) });
    }
  }

  #relative(path: string): string {
    return relative(this.#root, path).split(sep).join("/");
  }

  /** `at` names the file and the key (`overlay/kustomization.yaml: resources[0]`), `message` what is wrong there. */
  #refuse(at: string, message: string): never {
    throw new ManifestError(`stack ${this.#stack}: ${at}: ${message}`);
  }

  /** `#refuse` for a sentence whose subject is the key: `… resources[0] names '/etc', which …`. */
  #refuseKey(at: string, predicate: string): never {
    throw new ManifestError(`stack ${this.#stack}: ${at} ${predicate}`);
  }

  #fields(value: unknown, fields: readonly string[], at: string, what: string): Map<string, FieldValue> {
    return mappingFields(value, fields, `stack ${this.#stack}: ${at}`, what);
  }

  /** The documents of a YAML text as kustomize's YAML 1.1 reader sees them (`<<` merges, `on` is true, dates are dates). */
  #documents(text: string, at: string): unknown[] {
    const docs = parseAllDocuments(text, { version: "1.1", uniqueKeys: true });
    const list = Array.isArray(docs) ? docs : [docs];
    for (const doc of list) {
      const problem = doc.errors[0] ?? doc.warnings[0];
      if (problem) this.#refuse(at, problem.message.split("\n")[0]!.replace(/:$/, ""));
    }
    return list.map((doc) => doc.toJS({ maxAliasCount: 100 }) as unknown);
  }

  /** The entries of a list field: null and absent are empty, a lone value is a list of one. */
  #list(set: FieldValue | undefined): { value: unknown; key: string }[] {
    if (!set || set.value === null || set.value === undefined) return [];
    if (!Array.isArray(set.value)) return [{ value: set.value, key: set.key }];
    return set.value.map((value: unknown, i) => ({ value, key: `${set.key}[${i}]` }));
  }

  async #kustomization(scope: Scope): Promise<void> {
    const text = await readWorktreeFile({ dir: this.#root, root: this.#root }, { stack: this.#stack, key: "kustomization", path: scope.file });
    const [first, ...rest] = this.#documents(text, scope.file);
    // kustomize reads the first document only: whatever follows would be checked by no one, so it is refused.
    if (rest.some((doc) => doc !== null)) this.#refuse(scope.file, "a kustomization must be one YAML document (kustomize ignores the documents after the first)");
    const fields = this.#fields(first, KUSTOMIZATION_FIELDS, scope.file, "a kustomization (kustomize v5.8.2's Kustomization)");
    const at = (key: string) => `${scope.file}: ${key}`;
    for (const helm of HELM_FIELDS) {
      const set = fields.get(helm);
      if (set) this.#refuse(at(set.key), HELM_REFUSAL);
    }
    for (const name of ["resources", "bases", "components", "crds", "configurations"]) {
      for (const { value, key } of this.#list(fields.get(name))) await this.#path(scope, value, at(key));
    }
    for (const { value, key } of this.#list(fields.get("patchesStrategicMerge"))) await this.#inlineOrPath(scope, value, at(key), "patch");
    for (const name of ["patches", "patchesJson6902"]) {
      for (const { value, key } of this.#list(fields.get(name))) {
        const path = this.#fields(value, PATCH_FIELDS, at(key), "a patch (kustomize's Patch)").get("path");
        if (path) await this.#path(scope, path.value, at(below(key, path.key)));
      }
    }
    await this.#replacements(scope, fields.get("replacements"), scope.file);
    for (const [name, argsFields] of [
      ["configMapGenerator", GENERATOR_ARGS_FIELDS],
      ["secretGenerator", SECRET_ARGS_FIELDS],
    ] as const) {
      for (const { value, key } of this.#list(fields.get(name))) {
        const entry = this.#fields(value, argsFields, at(key), `a ${name} entry (kustomize's ${name === "secretGenerator" ? "SecretArgs" : "ConfigMapArgs"})`);
        await this.#generatorSources(scope, entry, scope.file, key);
      }
    }
    const openapi = fields.get("openapi");
    if (openapi && openapi.value !== null) {
      if (!isPlainObject(openapi.value)) this.#refuse(at(openapi.key), "must be a mapping");
      for (const key of Object.keys(openapi.value)) {
        if (!OPENAPI_KEYS.includes(key)) this.#refuse(at(below(openapi.key, key)), `unknown key: kustomize reads only ${OPENAPI_KEYS.map((k) => `'${k}'`).join(" and ")} there, exactly so spelt`);
      }
      if (openapi.value.path !== undefined) await this.#path(scope, openapi.value.path, at(below(openapi.key, "path")));
    }
    for (const name of ["generators", "transformers", "validators"]) {
      for (const { value, key } of this.#list(fields.get(name))) await this.#pluginConfigs(scope, value, key);
    }
  }

  /** `replacements` of a kustomization or a ReplacementTransformer config (in `file`): each a `path` or inline. */
  async #replacements(scope: Scope, set: FieldValue | undefined, file: string): Promise<void> {
    for (const { value, key } of this.#list(set)) {
      const path = this.#fields(value, REPLACEMENT_FIELDS, `${file}: ${key}`, "a replacement (kustomize's ReplacementField)").get("path");
      if (path) await this.#path(scope, path.value, `${file}: ${below(key, path.key)}`);
    }
  }

  /** The files a configMapGenerator/secretGenerator entry, or a ConfigMapGenerator/SecretGenerator config, reads. */
  async #generatorSources(scope: Scope, entry: Map<string, FieldValue>, file: string, key: string): Promise<void> {
    for (const { value, key: sub } of this.#list(entry.get("files"))) {
      const at = `${file}: ${below(key, sub)}`;
      // api/internal/generators/utils.go ParseFileSource: `path` or `key=path`; more than one `=` is an error.
      if (typeof value === "string" && value.split("=").length > 2) this.#refuseKey(at, `('${value}') has more than one '=' (a file source is 'path' or 'key=path')`);
      await this.#path(scope, typeof value === "string" && value.includes("=") ? value.slice(value.indexOf("=") + 1) : value, at);
    }
    for (const name of ["envs", "env"]) {
      for (const { value, key: sub } of this.#list(entry.get(name))) await this.#path(scope, value, `${file}: ${below(key, sub)}`);
    }
  }

  /**
   * One path named at `at` (file and key): a string, not shaped like anything remote, not absolute, resolving
   * (symlinks too) inside the worktree, from the kustomization's folder. A folder is queued for its own
   * kustomization, or refused where kustomize would take its build output for generator/transformer configs.
   */
  async #path(scope: Scope, named: unknown, at: string, folders: "follow" | "refuse" = "follow"): Promise<string | undefined> {
    if (named === undefined || named === null) return undefined;
    if (typeof named !== "string") {
      this.#refuseKey(at, `is ${named instanceof Date ? "a date" : typeof named} where kustomize expects a path (that is how YAML reads ${JSON.stringify(named)}: write it in quotes)`);
    }
    const refusal: (why: string) => never = (why) => this.#refuseKey(at, `names '${named}', which is not a file or folder inside the repository (${why})`);
    if (named.trim() === "") refusal("it is empty");
    const remote = remoteShape(named);
    if (remote) refusal(`it is ${remote}, which kustomize would fetch; nothing is fetched from the network: vendor it into the repository`);
    if (rewrittenByGoYaml(named)) refusal("kustomize's YAML reader would turn it into a date and load another path: rename it");
    if (isAbsolute(named)) refusal("absolute paths are refused");
    const target = await realpath(resolve(scope.dir, named)).catch(() => undefined);
    if (!target) refusal("it does not exist at this commit");
    if (!isInside(this.#root, target)) refusal("it leads out of the worktree");
    if ((await stat(target)).isDirectory()) {
      if (folders === "refuse") refusal("it is a folder: kustomize would take what it builds for generator or transformer configs, which Driftwatch cannot check; name the config files");
      this.#queue.push(target);
    }
    return target;
  }

  /**
   * An entry kustomize reads as inline YAML objects when it parses as such, and as a path otherwise
   * (`patchesStrategicMerge` and a PatchStrategicMergeTransformer's `paths`; `generators`, `transformers` and
   * `validators`): a plain path is checked as a path; YAML objects are inline, provided no file of that name exists
   * (kustomize would read it where it does not accept the objects); anything else is refused.
   */
  async #inlineOrPath(scope: Scope, value: unknown, at: string, what: "patch" | "config"): Promise<{ path: string } | { docs: unknown[] }> {
    if (typeof value !== "string") this.#refuseKey(at, `is ${typeof value} where kustomize expects a path or an inline ${what}`);
    if (PLAIN_PATH.test(value) && value !== "...") return { path: (await this.#path(scope, value, at, what === "config" ? "refuse" : "follow"))! };
    const refusal = `is neither a plain relative path nor inline YAML objects (kustomize would read it as one or the other): '${value.split("\n")[0]}'`;
    if (fetchedByKustomize(value)) this.#refuseKey(at, `('${value.split("\n")[0]}') is what kustomize would fetch if it did not read it as inline YAML; nothing is fetched from the network`);
    const docs = this.#documents(value, `${at} (inline ${what})`).filter((doc) => doc !== null);
    if (docs.length === 0 || !docs.every((doc) => isPlainObject(doc))) this.#refuseKey(at, refusal);
    if (await lstat(resolve(scope.dir, value)).then(() => true, () => false)) this.#refuseKey(at, `is inline YAML, but a file of that very name exists, which kustomize could read instead: rename the file`);
    return { docs };
  }

  /** A `generators:`/`transformers:`/`validators:` entry: an inline config, or a file of configs. */
  async #pluginConfigs(scope: Scope, value: unknown, key: string): Promise<void> {
    const entry = await this.#inlineOrPath(scope, value, `${scope.file}: ${key}`, "config");
    if ("docs" in entry) {
      for (const [n, doc] of entry.docs.entries()) await this.#pluginConfig(scope, doc, `${scope.file}: ${key} (inline config${entry.docs.length > 1 ? ` ${n + 1}` : ""})`);
      return;
    }
    const file = this.#relative(entry.path);
    const text = await readWorktreeFile({ dir: this.#root, root: this.#root }, { stack: this.#stack, key: `${scope.file} ${key}`, path: file });
    const docs = this.#documents(text, `${file} (${key} of ${scope.file})`).filter((doc) => doc !== null);
    for (const [n, doc] of docs.entries()) await this.#pluginConfig(scope, doc, `${file} (${key} of ${scope.file}${docs.length > 1 ? `, document ${n + 1}` : ""})`);
  }

  /**
   * One generator/transformer/validator config, `file` saying where it is: a builtin plugin's, with only the
   * fields that plugin reads, and the files it names checked like the kustomization's own (from the
   * kustomization's folder, where kustomize resolves them).
   */
  async #pluginConfig(scope: Scope, config: unknown, file: string): Promise<void> {
    if (!isPlainObject(config)) this.#refuse(file, "a generator or transformer config must be a mapping");
    for (const key of Object.keys(config)) {
      const exact = OBJECT_FIELDS.find((field) => field.toLowerCase() === key.toLowerCase());
      if (exact && exact !== key) this.#refuseKey(`${file}: ${key}`, `must be written '${exact}' (kustomize reads a config's ${exact} exactly so spelt)`);
    }
    const { apiVersion, kind } = config;
    if (kind === HELM_PLUGIN) this.#refuse(`${file}: kind`, HELM_REFUSAL);
    if (apiVersion !== BUILTIN_API_VERSION) this.#refuse(`${file}: apiVersion`, `${JSON.stringify(apiVersion)} (kind ${JSON.stringify(kind)}) is not a builtin kustomize plugin: ${NO_PLUGINS}`);
    const pluginFields = typeof kind === "string" ? BUILTIN_PLUGIN_FIELDS.get(kind) : undefined;
    if (!pluginFields) this.#refuse(`${file}: kind`, `${JSON.stringify(kind)} is not a builtin kustomize plugin: ${NO_PLUGINS}`);
    const fields = this.#fields(config, [...new Set([...OBJECT_FIELDS, ...pluginFields])], file, `the builtin ${kind as string}'s config (kustomize v5.8.2)`);
    const at = (set: FieldValue) => `${file}: ${set.key}`;
    switch (kind) {
      case "ConfigMapGenerator":
      case "SecretGenerator":
        return this.#generatorSources(scope, fields, file, "");
      case "PatchTransformer":
      case "PatchJson6902Transformer":
      case "ValueAddTransformer": {
        const set = fields.get(kind === "ValueAddTransformer" ? "targetFilePath" : "path");
        if (set) await this.#path(scope, set.value, at(set));
        return;
      }
      case "PatchStrategicMergeTransformer":
        for (const { value, key } of this.#list(fields.get("paths"))) await this.#inlineOrPath(scope, value, `${file}: ${key}`, "patch");
        return;
      case "ReplacementTransformer":
        return this.#replacements(scope, fields.get("replacements"), file);
      default:
        return; // the other builtins name no file
    }
  }
}

/** Refuses a kustomization tree that names anything outside the worktree, anything remote, or what kustomize reads unchecked. */
export async function checkKustomization(folder: WorktreeFolder, stack: string): Promise<void> {
  await new KustomizationGuard(stack, await realpath(folder.root)).run(folder.dir);
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
