// Engines the machine already has, found in the order an operator would expect: the file the configuration names
// (engines.<name>.path), else the one an environment variable names (DRIFTWATCH_PULUMI, DRIFTWATCH_TOFU,
// DRIFTWATCH_TERRAFORM, DRIFTWATCH_KUSTOMIZE), else the one on PATH. Each is held to the oldest release Driftwatch
// runs (`minimum` in toolchain/versions.json): a named one below it is refused with the key to change, one on PATH is
// passed over (and built from source instead, where Driftwatch can).
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
  /** engines.<name>.path of the configuration, absolute. */
  paths?: Partial<Record<InstalledEngineName, string>>;
}

export function engineVariable(name: InstalledEngineName): string {
  return `DRIFTWATCH_${name.toUpperCase()}`;
}

/** The installed engine to use, or undefined when there is none usable (then it may be built). */
export async function findInstalledEngine(search: EngineSearchContext, lookup: EngineLookup): Promise<InstalledEngine | undefined> {
  const configured = search.paths?.[lookup.name];
  const variable = engineVariable(lookup.name);
  const named = configured ?? search.env[variable];
  if (named) {
    const setting = configured ? `engines.${lookup.name}.path` : variable;
    const said = await lookup.report(named);
    if ("problem" in said) throw new EngineNotUsableError(lookup.name, setting, `${named} ${said.problem}`);
    if (!atLeast(said.version, lookup.minimum)) {
      throw new EngineNotUsableError(lookup.name, setting, `${named} is ${lookup.name} ${said.version}; Driftwatch needs ${lookup.name} >= ${lookup.minimum} (install a newer one, or remove the setting to use another)`);
    }
    return { bin: named, version: said.version, origin: configured ? "config" : "env" };
  }
  if (search.env.DRIFTWATCH_IGNORE_PATH_TOOLS) return undefined;
  const bin = await which(lookup.name, search.env);
  if (!bin) return undefined;
  const said = await lookup.report(bin);
  if ("version" in said && atLeast(said.version, lookup.minimum)) return { bin, version: said.version, origin: "path" };
  search.progress.info(`${lookup.name} on PATH (${bin}) ${"version" in said ? `is ${said.version}, need >= ${lookup.minimum}` : said.problem}: not used`);
  return undefined;
}
