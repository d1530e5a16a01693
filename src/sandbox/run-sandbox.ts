// One run's sandbox: every process tree an engine starts for that run goes through `run`, so it starts through the
// launcher with a policy built here, from the stack's settings and the run's places. See docs/security.md.
import { existsSync, mkdirSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { runTool, type ToolRun, type ToolRunOptions } from "../core/process.ts";
import { SandboxError, SandboxUnavailableError } from "./errors.ts";
import { unmetRequirement } from "./support.ts";
import { systemDevices, systemReadOnly } from "./system-paths.ts";
import type { LauncherPolicy, SandboxSupport, StackSandbox } from "./types.ts";

/** What the launcher says when it, not the program, failed (see tools/sandbox/main.go). */
const LAUNCHER_FAILED = 125;
const LAUNCHER_PREFIX = "driftwatch-sandbox: ";

/** The places of one run. */
export interface RunPlaces {
  /** The stack's project folder in the worktree: writable (Pulumi writes its stack settings, tofu its lock file). */
  dir: string;
  /** The worktree root: readable (modules and programs import files beside their folder). */
  root: string;
  /** The stack's private home and temp folder. */
  home: string;
  tmp: string;
}

/** What one step adds to, or takes from, the run's policy. */
export interface StepGrants {
  readOnly?: readonly string[];
  readWrite?: readonly string[];
  /**
   * stack: TCP to the stack's allowed ports (the default); any: unrestricted (Pulumi, whose CLI and plugins talk
   * over loopback TCP on ports chosen at run time); none: no network (rendering).
   */
  network?: "stack" | "any" | "none";
  /**
   * engine (default): the run's places, the stack's grants; render: only the worktree, read-only, and the
   * toolchain (no data directory at all); install: what the step grants (a staging folder) and the files the
   * stack's settings let it read, none of the run's places.
   */
  profile?: "engine" | "render" | "install";
}

export interface SandboxEnvironment {
  /** The launcher binary (the toolchain's driftwatch-sandbox). */
  launcher: string;
  /** The operator's settings for the launcher itself (DRIFTWATCH_SANDBOX_*), added to every launch's environment. */
  launcherEnv: Record<string, string>;
  /** The toolchain's folders engines run from. */
  toolchain: readonly string[];
  /** What the kernel offers, asked once. */
  support(): Promise<SandboxSupport>;
}

export interface RunSandboxOptions {
  stack: string;
  settings: StackSandbox;
  places: RunPlaces;
  /** TCP ports the stack may connect to (see ports.ts). */
  ports: readonly number[];
  /** Regular files the stack's settings name by absolute path (credential files, CA bundles): readable. */
  namedFiles: readonly string[];
}

export class RunSandbox {
  readonly #environment: SandboxEnvironment;
  readonly #options: RunSandboxOptions;

  constructor(environment: SandboxEnvironment, options: RunSandboxOptions) {
    this.#environment = environment;
    this.#options = options;
  }

  /** The level this run's processes are confined at ("off": unconfined). */
  get level(): StackSandbox["level"] {
    return this.#options.settings.level;
  }

  /** The policy a step runs under. */
  policy(grants: StepGrants = {}): LauncherPolicy {
    const { settings, places } = this.#options;
    const profile = grants.profile ?? "engine";
    const network = grants.network ?? (profile === "render" ? "none" : "stack");
    const readOnly = [...systemReadOnly(), ...this.#environment.toolchain];
    const readWrite = [...systemDevices()];
    if (profile === "engine") {
      readOnly.push(places.root, ...this.#options.namedFiles, ...settings.readOnly);
      readWrite.push(places.dir, places.home, places.tmp, ...settings.readWrite);
    } else if (profile === "install") {
      // CA bundles and the like the stack's env names, and what the operator lets it read (a local registry mirror).
      readOnly.push(...this.#options.namedFiles, ...settings.readOnly);
    } else {
      readOnly.push(places.root);
    }
    readOnly.push(...(grants.readOnly ?? []));
    readWrite.push(...(grants.readWrite ?? []));
    return {
      level: settings.level === "off" ? "strict" : settings.level,
      readOnly: unique(readOnly.filter((path) => !readWrite.includes(path))),
      readWrite: unique(readWrite),
      network: network === "stack" ? "ports" : network,
      connectPorts: network === "stack" ? [...this.#options.ports] : [],
      memoryBytes: settings.memoryBytes,
      cpuSeconds: settings.cpuSeconds,
    };
  }

  /**
   * The launcher's arguments that start `bin args` confined for this step; throws SandboxUnavailableError when the
   * stack's level cannot be enforced here (fail closed).
   */
  async #launchArgs(bin: string, args: readonly string[], grants: StepGrants = {}): Promise<string[]> {
    const support = await this.#environment.support();
    const unmet = unmetRequirement(this.level, support);
    if (unmet) throw new SandboxUnavailableError(`stack ${this.#options.stack}: ${unmet}`);
    const policy = this.policy(grants);
    // A writable place may not exist yet (the folder a stack's first apply creates its resources in).
    for (const path of policy.readWrite) if (!existsSync(path)) mkdirSync(path, { recursive: true, mode: 0o700 });
    const granted = { ...policy, readOnly: policy.readOnly.filter((path) => existsSync(path)) };
    return ["run", "--policy", JSON.stringify(granted), "--", bin, ...args];
  }

  /**
   * Runs `bin args` confined for this step (at level off: as it is); a failure of the launcher itself is a
   * SandboxError.
   */
  async run(bin: string, args: readonly string[], options: ToolRunOptions & { grants?: StepGrants }): Promise<ToolRun> {
    const { grants, ...runOptions } = options;
    if (this.level === "off") return runTool(bin, args, runOptions);
    const launchArgs = await this.#launchArgs(bin, args, grants);
    const result = await runTool(this.#environment.launcher, launchArgs, { ...runOptions, env: { ...runOptions.env, ...this.#environment.launcherEnv } });
    throwIfLauncherFailed(this.#options.stack, result);
    return result;
  }
}

/** A launcher failure (exit 125 and its own message) as a SandboxError; a program's own failure is left alone. */
function throwIfLauncherFailed(stack: string, result: { code: number | null; stderr: string }): void {
  if (result.code !== LAUNCHER_FAILED) return;
  const lines = result.stderr.split("\n").filter((line) => line.startsWith(LAUNCHER_PREFIX));
  if (lines.length === 0) return;
  throw new SandboxError(`stack ${stack}: the sandbox could not start the engine: ${lines.map((line) => line.slice(LAUNCHER_PREFIX.length)).join("; ")}`);
}

function unique(paths: readonly string[]): string[] {
  return [...new Set(paths)];
}

/** Regular files named by absolute path in `values` (a colon-separated list counts as several). */
export function namedFiles(values: Iterable<string>): string[] {
  const found: string[] = [];
  for (const value of values) {
    for (const part of value.split(":")) {
      if (!isAbsolute(part)) continue;
      try {
        if (statSync(part).isFile()) found.push(part);
      } catch {
        // not there: nothing to grant
      }
    }
  }
  return found;
}
