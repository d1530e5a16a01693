// Engines the machine already has, found in the order an operator would expect: the file the configuration names
// (engines.<name>.path), else the one an environment variable names (DRIFTWATCH_PULUMI, DRIFTWATCH_TOFU,
// DRIFTWATCH_TERRAFORM, DRIFTWATCH_KUSTOMIZE), else the one on PATH. Each is held to the oldest release Driftwatch
// runs (`minimum` in toolchain/versions.json): a named one below it is refused with the key to change, one on PATH is
// passed over (and built from source instead, where Driftwatch can).
import { readFileSync, realpathSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ProvisionError } from "./errors.ts";
import { which } from "./exec.ts";
import type { Progress } from "./progress.ts";
import { atLeast } from "./semver.ts";

export type InstalledEngineName = "pulumi" | "tofu" | "terraform" | "kustomize";

/** A named engine that does not run, is some other program, or is older than Driftwatch supports. */
export class EngineNotUsableError extends ProvisionError {
  override name = "EngineNotUsableError";
  /** engines.<name>.path or the environment variable that named it. */
  readonly setting: string;
  constructor(tool: string, setting: string, message: string) {
    super(tool, `${setting}: ${message}`);
    this.setting = setting;
  }
}

export interface InstalledEngine {
  bin: string;
  version: string;
  /** config: engines.<name>.path; env: DRIFTWATCH_<NAME>; path: found on PATH. */
  origin: "config" | "env" | "path";
}

/** What an engine says of itself: its version, or why it is not the engine asked for. */
export type EngineReport = { version: string } | { problem: string };

export interface EngineLookup {
  name: InstalledEngineName;
  minimum: string;
  /** Runs `<bin> version` (or the engine's equivalent); `problem` when it fails or is another program. */
  report(bin: string): Promise<EngineReport>;
}

export interface EngineSearchContext {
  env: NodeJS.ProcessEnv;
  progress: Progress;
  /** The tool cache: where the versions engines reported are remembered (installed-engines.json). */
  tools?: string;
  /** engines.<name>.path of the configuration, absolute. */
  paths?: Partial<Record<InstalledEngineName, string>>;
}

export function engineVariable(name: InstalledEngineName): string {
  return `DRIFTWATCH_${name.toUpperCase()}`;
}

/** A file's identity: any change to it (a new install, an edit, a replacement) changes one of these. */
function identity(bin: string): string | undefined {
  try {
    const real = realpathSync(bin);
    const st = statSync(real);
    return [real, st.dev, st.ino, st.size, st.mtimeMs, st.ctimeMs].join(":");
  } catch {
    return undefined;
  }
}

type Remembered = Record<string, string>;

function remembered(file: string): Remembered {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
    return typeof parsed === "object" && parsed !== null ? (parsed as Remembered) : {};
  } catch {
    return {};
  }
}

/**
 * What `bin` says of itself, asked once per version of the file: `pulumi version` took 1.0–1.7 s on a busy 2-core
 * machine, which every one-shot command would otherwise pay. Only versions are remembered, by engine and file
 * identity, in the tool cache; a problem is asked again next time.
 */
async function reportOf(search: EngineSearchContext, lookup: EngineLookup, bin: string): Promise<EngineReport> {
  const id = identity(bin);
  const file = search.tools === undefined ? undefined : join(search.tools, "installed-engines.json");
  const key = `${lookup.name} ${id ?? ""}`;
  if (file && id) {
    const version = remembered(file)[key];
    if (version) return { version };
  }
  const said = await lookup.report(bin);
  if (file && id && "version" in said) {
    try {
      const staging = `${file}.${process.pid}.tmp`;
      writeFileSync(staging, JSON.stringify({ ...remembered(file), [key]: said.version }));
      renameSync(staging, file);
    } catch {
      // an unwritable cache: asked again next time
    }
  }
  return said;
}

/** The installed engine to use, or undefined when there is none usable (then it may be built). */
export async function findInstalledEngine(search: EngineSearchContext, lookup: EngineLookup): Promise<InstalledEngine | undefined> {
  const configured = search.paths?.[lookup.name];
  const variable = engineVariable(lookup.name);
  const named = configured ?? search.env[variable];
  if (named) {
    const setting = configured ? `engines.${lookup.name}.path` : variable;
    const said = await reportOf(search, lookup, named);
    if ("problem" in said) throw new EngineNotUsableError(lookup.name, setting, `${named} ${said.problem}`);
    if (!atLeast(said.version, lookup.minimum)) {
      throw new EngineNotUsableError(lookup.name, setting, `${named} is ${lookup.name} ${said.version}; Driftwatch needs ${lookup.name} >= ${lookup.minimum} (install a newer one, or remove the setting to use another)`);
    }
    return { bin: named, version: said.version, origin: configured ? "config" : "env" };
  }
  if (search.env.DRIFTWATCH_IGNORE_PATH_TOOLS) return undefined;
  const bin = await which(lookup.name, search.env);
  if (!bin) return undefined;
  const said = await reportOf(search, lookup, bin);
  if ("version" in said && atLeast(said.version, lookup.minimum)) return { bin, version: said.version, origin: "path" };
  search.progress.info(`${lookup.name} on PATH (${bin}) ${"version" in said ? `is ${said.version}, need >= ${lookup.minimum}` : said.problem}: not used`);
  return undefined;
}
