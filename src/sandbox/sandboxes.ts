// What a process (check, serve) knows of the sandbox once: the launcher and the toolchain's folders, what the kernel
// offers (asked once, lazily), and how to make one run's sandbox from a stack's settings.
import type { Logger } from "pino";
import type { StackConfig } from "../config/types.ts";
import { isInside } from "../core/worktree-file.ts";
import type { EngineToolchain } from "../toolchain/manifest.ts";
import { allowedPorts } from "./ports.ts";
import { namedFiles, RunSandbox, type RunPlaces, type SandboxEnvironment } from "./run-sandbox.ts";
import { launcherSettings, probeSandbox } from "./support.ts";
import { toolchainReadOnly } from "./toolchain-paths.ts";
import type { SandboxSupport } from "./types.ts";

export interface SandboxesOptions {
  toolchain: EngineToolchain;
  /** The engines' allow-listed base environment: its proxies are endpoints too. */
  engineEnv: Record<string, string>;
  /** The service's environment (the launcher's own DRIFTWATCH_SANDBOX_* settings are read from it). */
  serviceEnv: NodeJS.ProcessEnv;
  dataDir: string;
  /** Files never granted through a stack's env (the configuration, the SQLite database). */
  protectedFiles: readonly string[];
}

export class Sandboxes {
  readonly #options: SandboxesOptions;
  readonly #environment: SandboxEnvironment;
  #support: Promise<SandboxSupport> | undefined;
  readonly #warned = new Set<string>();

  constructor(options: SandboxesOptions) {
    this.#options = options;
    this.#environment = {
      launcher: options.toolchain.sandbox.bin,
      launcherEnv: launcherSettings(options.serviceEnv),
      toolchain: toolchainReadOnly(options.toolchain),
      support: () => this.support(),
    };
  }

  /** What this kernel offers (asked of the launcher the first time, then remembered). */
  support(): Promise<SandboxSupport> {
    this.#support ??= probeSandbox(this.#options.toolchain.sandbox.bin, this.#options.serviceEnv);
    return this.#support;
  }

  /** One run's sandbox for `stack`, at its places. */
  forRun(stack: StackConfig, places: RunPlaces, logger: Logger): RunSandbox {
    this.#warnAboutGrants(stack, logger);
    const endpoints = [...Object.values(stack.env), ...Object.values(this.#options.engineEnv).filter((value) => /:\/\//.test(value))];
    if (stack.engine === "terraform") endpoints.push(...Object.values(stack.terraform.vars), ...Object.values(stack.terraform.backendConfig));
    return new RunSandbox(this.#environment, {
      stack: stack.name,
      settings: stack.sandbox,
      places,
      ports: allowedPorts(endpoints, stack.sandbox.connectPorts),
      namedFiles: namedFiles(Object.values(stack.env)).filter((file) => !this.#options.protectedFiles.some((known) => file === known || file.startsWith(`${known}-`))),
    });
  }

  /** Says once per stack when its grants open the data directory, the configuration or the database to its code. */
  #warnAboutGrants(stack: StackConfig, logger: Logger): void {
    if (this.#warned.has(stack.name)) return;
    this.#warned.add(stack.name);
    for (const path of [...stack.sandbox.readOnly, ...stack.sandbox.readWrite]) {
      if ([this.#options.dataDir, ...this.#options.protectedFiles].some((kept) => isInside(path, kept))) {
        logger.warn({ path }, "the stack's sandbox settings grant a path holding Driftwatch's data directory, configuration or database: its code can read other stacks' state");
      }
    }
  }
}
