// The Terraform/OpenTofu engine: the CLI's own plans, read through `show -json` (a check with OpenTofu 1.12 or later
// first reads the plan's own log, plan-log.ts, and needs no `show -json` when it shows no drift and no change).
//
// Per stack, under <dataDir>/terraform/<stack>/: data/ (TF_DATA_DIR: providers, backend settings), state/ (the
// state file when the module uses the implicit local backend: never in the per-commit worktree, where it would be
// lost at the next commit), and a private directory for plan files, which hold secrets and are deleted after use.
// Every CLI call runs in the run's sandbox (ctx.sandbox): see grantsFor for what each step may write.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { TerraformStackConfig } from "../../config/types.ts";
import { DriftwatchError, EngineError, errorMessage, OutputTooLargeError, ProgramError, StackLockedError, TimeoutError } from "../../core/errors.ts";
import type { Detection, ResourceChange } from "../../core/types.ts";
import { fingerprintChanges } from "../../core/fingerprint.ts";
import { timed } from "../../core/phase-timer.ts";
import { DEFAULT_MAX_OUTPUT_BYTES, type ToolRun } from "../../core/process.ts";
import { resolveWorktreeFile, worktreeFolder } from "../../core/worktree-file.ts";
import type { StepGrants } from "../../sandbox/run-sandbox.ts";
import type { Engine, EngineContext, EngineDependencies } from "../api.ts";
import { localStateWarning } from "../replica-local-state.ts";
import { terraformCli, terraformClis } from "../../toolchain/manifest.ts";
import { cleanOutput, formatValidateJson, isLockConflict } from "./diagnostics.ts";
import { withInitLock } from "./init-lock.ts";
import { initMemo, type InitMemo } from "./init-memo.ts";
import { detachProviders } from "./private-providers.ts";
import { providersStillVerified, verifyInstalledProviders } from "./provider-integrity.ts";
import { backendConfigFile } from "./hcl.ts";
import { operatorCliConfig, readCliConfig, type CliFlavor } from "./cli-config.ts";
import { driftFromPlan, pendingFromPlan, plannedChanges, type PlanJson } from "./plan.ts";
import { planChangesNothing } from "./plan-log.ts";

/** The files a root module's configuration is made of (OpenTofu also reads .tofu files). */
const CONFIG_FILE = /\.(tf|tf\.json|tofu|tofu\.json)$/;

/** The most of `show -json` a plan may print (other commands keep runTool's default). */
const SHOW_JSON_MAX_BYTES = 256 * 1024 * 1024;

/** The largest plan log (plan-log.ts) read; a larger one is left for `show -json`. */
const PLAN_LOG_MAX_BYTES = 64 * 1024 * 1024;

/** A CLI command that exited non-zero, with its output; turned into a user-facing error by explainFailure. */
class ToolFailure extends Error {
  readonly what: string;
  readonly output: string;
  constructor(what: string, output: string) {
    super(`${what} failed:\n${output}`);
    this.what = what;
    this.output = output;
  }
}

interface Session {
  ctx: EngineContext;
  stack: TerraformStackConfig;
  bin: string;
  env: NodeJS.ProcessEnv;
  /** `-state=<file>` when the module has no backend of its own; empty otherwise. */
  stateArgs: string[];
  /** TF_DATA_DIR: the stack's providers and backend settings. */
  dataDir: string;
  /** Where the implicit local backend's state lives (<dataDir>/terraform/<stack>/state). */
  stateDir: string;
  /** The provider cache every stack's init shares. */
  pluginCacheDir: string;
  /** `-var-file=<real path>` per var file, each checked to be a regular file inside the worktree. */
  varFileArgs: string[];
  planDir: string;
  /** The CLI writes a plan's machine-readable log beside its output (`-json-into`, OpenTofu 1.12 and later). */
  planLog: boolean;
  /** The operator's CLI configuration file and the mirror folders it names (cli-config.ts), for the sandbox. */
  cliConfigReadable: string[];
  /** Set when init was skipped because an earlier one ran with the same inputs (see init-memo.ts): runs it after all. */
  redoInit?: () => Promise<void>;
}

function asTerraformStack(ctx: EngineContext): TerraformStackConfig {
  if (ctx.stack.engine !== "terraform") throw new EngineError(`stack ${ctx.stack.name} is not a terraform stack`);
  return ctx.stack;
}

export function createTerraformEngine(deps: EngineDependencies): Engine {
  const warnLocalState = localStateWarning(deps);

  /**
   * tofu, terraform or a path; by default tofu when the toolchain has it, else terraform. `planLog`: the CLI is the
   * toolchain's OpenTofu 1.12 or later, which writes a plan's log with `-json-into` (a path's version is unknown).
   */
  function binaryFor(stack: TerraformStackConfig): { bin: string; planLog: boolean; flavor: CliFlavor } {
    const wanted = stack.terraform.binary;
    if (wanted !== undefined && wanted !== "tofu" && wanted !== "terraform") return { bin: wanted, planLog: false, flavor: basename(wanted).includes("tofu") ? "tofu" : "terraform" };
    const cli = wanted ? terraformCli(deps.toolchain, wanted) : (terraformCli(deps.toolchain, "tofu") ?? terraformCli(deps.toolchain, "terraform"));
    if (!cli) {
      const have = terraformClis(deps.toolchain).map((c) => c.flavor).join(", ") || "none";
      throw new EngineError(`stack ${stack.name} asks for ${wanted ?? "tofu or terraform"}, but the toolchain has no such CLI (it has: ${have})`);
    }
    return { bin: cli.bin, planLog: cli.flavor === "tofu" && atLeast(cli.version, [1, 12]), flavor: cli.flavor };
  }

  /**
   * What a step may write in the sandbox besides the run's places. `init` installs providers: the stack's data dir
   * and the shared plugin cache (one init at a time, see init-lock.ts); it evaluates no repository code that can
   * write. Every other step runs the repository's code (expressions, data sources, providers), so it may write only
   * its plan files and the stack's state: its provider copies and the cache stay read-only, so nothing it does can
   * change what another stack's plan executes.
   */
  function grantsFor(session: Session, step: "init" | "plan"): StepGrants {
    return step === "init"
      ? { readOnly: session.cliConfigReadable, readWrite: [session.dataDir, session.pluginCacheDir, session.planDir] }
      : { readOnly: [session.dataDir, ...session.cliConfigReadable], readWrite: [session.planDir, session.stateDir] };
  }

  /** Runs the CLI in the run's sandbox; a failure throws with the tool's own output (colour codes stripped). */
  async function run(session: Session, args: string[], what: string, maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES): Promise<ToolRun> {
    const grants = grantsFor(session, args[0] === "init" ? "init" : "plan");
    const result = await session.ctx.sandbox.run(session.bin, args, { cwd: session.ctx.dir, env: session.env, signal: session.ctx.signal, maxOutputBytes, grants });
    if (result.aborted) {
      throw new TimeoutError(`stack ${session.stack.name} did not finish within ${session.stack.timeoutSeconds}s; ${what} was stopped`);
    }
    if (result.outputTooLarge) throw new OutputTooLargeError(`${basename(session.bin)} ${what}`, maxOutputBytes, { stack: session.stack.name });
    if (result.code !== 0) {
      const output = cleanOutput(`${result.stderr}\n${result.stdout}`);
      if (isLockConflict(output)) throw new StackLockedError(`stack ${session.stack.name} is locked:\n${output}`);
      throw new ToolFailure(what, output);
    }
    return result;
  }

  /**
   * A failed init or plan: when `validate -json` finds errors in the configuration's files, they say where (file,
   * line, column); otherwise the tool's own output (for init: why providers or the backend could not be set up).
   */
  async function explainFailure(session: Session, error: unknown): Promise<never> {
    if (!(error instanceof ToolFailure)) throw error;
    const validate = await session.ctx.sandbox.run(session.bin, ["validate", "-json", "-no-color"], { cwd: session.ctx.dir, env: session.env, signal: session.ctx.signal, grants: grantsFor(session, "plan") });
    // Output past the limit is not read (stdout is empty): the failure is explained by its own output instead.
    const located = validate.outputTooLarge ? undefined : formatValidateJson(validate.stdout, { locatedOnly: true, moduleDir: session.stack.source.path });
    if (located) throw new ProgramError(`the configuration of stack ${session.stack.name} is invalid:\n${located}`);
    throw new EngineError(`${error.what} failed for stack ${session.stack.name}:\n${error.output}`);
  }

  /**
   * Runs init (one at a time per plugin cache) and gives the stack its own copy of the providers it installed, then
   * remembers what it was run with, so the next check of the same commit and settings can skip it.
   */
  async function initialize(session: Session, initArgs: string[], memo: InitMemo): Promise<void> {
    const { ctx, stack } = session;
    memo.forget();
    ctx.logger.debug({ binary: session.bin }, "terraform init");
    // One init at a time per plugin cache, across processes: the cache is not safe for concurrent inits. Before the
    // lock is let go, the providers the init linked from the cache become the stack's own (see private-providers.ts),
    // so no later init can take them from under this stack's plans.
    try {
      await withInitLock(session.env.TF_PLUGIN_CACHE_DIR!, ctx.signal, async () => {
        await run(session, initArgs, "init");
        await detachProviders(join(memo.dataDir, "providers"), join(memo.home, "providers-staging")).catch((error: unknown) => {
          throw new EngineError(`stack ${stack.name}: could not give the stack its own copy of the providers init installed: ${errorMessage(error)}`);
        });
        // They are what provisioning built, or the run stops here (see provider-integrity.ts).
        await verifyInstalledProviders({ toolchain: deps.toolchain, stack: stack.name, providersDir: join(memo.dataDir, "providers"), pluginCacheDir: session.env.TF_PLUGIN_CACHE_DIR!, logger: ctx.logger });
      });
    } catch (error) {
      if (ctx.signal.aborted && !(error instanceof DriftwatchError)) {
        throw new TimeoutError(`stack ${stack.name} did not finish within ${stack.timeoutSeconds}s; it was waiting for another init of the provider cache`);
      }
      await explainFailure(session, error);
    }
    memo.remember(ctx.dir);
  }

  async function open(ctx: EngineContext, options: { reuseInit: boolean }): Promise<Session> {
    const stack = asTerraformStack(ctx);
    // init succeeds in a folder without configuration ("initialized in an empty directory"): say what is wrong.
    if (!readdirSync(ctx.dir).some((file) => CONFIG_FILE.test(file))) {
      throw new ProgramError(`stack ${stack.name}: no Terraform configuration (*.tf, *.tf.json, *.tofu) in ${stack.source.path}`);
    }
    // Terraform reads the var files itself: it gets the real paths, once they are known to be safe to read.
    const folder = worktreeFolder(ctx.dir, stack.source.path);
    const varFiles = await Promise.all(stack.terraform.varFiles.map((path, i) => resolveWorktreeFile(folder, { stack: stack.name, key: `terraform.varFiles[${i}]`, path })));
    const home = join(deps.dataDir, "terraform", stack.name);
    const dataDir = join(home, "data");
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const stateDir = stateFolder(home);
    // Private (0700), and removed whatever happens: it holds the backend settings file, which may carry credentials.
    const planDir = mkdtempSync(join(home, "plans-"));
    try {
      const pluginCacheDir = join(deps.cacheDir, "terraform-plugins");
      mkdirSync(pluginCacheDir, { recursive: true });
      const cli = binaryFor(stack);
      // Providers install as this machine's OpenTofu or Terraform would install them (cli-config.ts).
      const cliConfigFile = operatorCliConfig(ctx.env, deps.operatorHome, cli.flavor);
      const cliConfig = cliConfigFile ? readCliConfig(cliConfigFile) : { readable: [] };
      const env: NodeJS.ProcessEnv = {
        ...ctx.env,
        ...(cliConfigFile ? { TF_CLI_CONFIG_FILE: cliConfigFile } : {}),
        TF_DATA_DIR: dataDir,
        // One provider cache for every stack, so a provider is unpacked once, not once per stack and commit.
        TF_PLUGIN_CACHE_DIR: ctx.env.TF_PLUGIN_CACHE_DIR ?? pluginCacheDir,
        TF_IN_AUTOMATION: "1",
        TF_INPUT: "0",
        CHECKPOINT_DISABLE: "1",
        // Variables travel as TF_VAR_* in the environment, never on a command line others can read.
        ...Object.fromEntries(Object.entries(stack.terraform.vars).map(([name, value]) => [`TF_VAR_${name}`, value])),
        ...(stack.terraform.workspace ? { TF_WORKSPACE: stack.terraform.workspace } : {}),
      };
      const session: Session = {
        ctx,
        stack,
        bin: cli.bin,
        planLog: cli.planLog,
        env,
        stateArgs: [],
        dataDir,
        stateDir,
        pluginCacheDir: env.TF_PLUGIN_CACHE_DIR!,
        varFileArgs: varFiles.map((file) => `-var-file=${file}`),
        planDir,
        cliConfigReadable: cliConfig.readable,
      };
      // -reconfigure: the backend is whatever the commit declares now; Driftwatch never migrates anybody's state.
      const initArgs = ["init", "-input=false", "-no-color", "-reconfigure"];
      if (existsSync(join(ctx.dir, ".terraform.lock.hcl"))) initArgs.push("-lockfile=readonly");
      // Backend settings may be credentials: they go to init in a private file, not on its command line.
      if (Object.keys(stack.terraform.backendConfig).length > 0) {
        const file = join(planDir, "backend.tfbackend");
        writeFileSync(file, backendConfigFile(stack.terraform.backendConfig), { mode: 0o600 });
        initArgs.push(`-backend-config=${file}`);
      }
      // What init depends on: the commit's files, the CLI and its provider mirror (in env), the backend settings.
      const memo = initMemo(home, dataDir, {
        bin: session.bin,
        commit: ctx.commit,
        path: stack.source.path,
        backendConfig: stack.terraform.backendConfig,
        env,
        ...(cliConfig.text !== undefined ? { cliConfig: cliConfig.text } : {}),
      });
      // Init is skipped only while the stack's providers are still what was verified (see provider-integrity.ts).
      if (options.reuseInit && memo.matches() && (await providersStillVerified({ toolchain: deps.toolchain, stack: stack.name, providersDir: join(dataDir, "providers"), logger: ctx.logger }))) {
        ctx.logger.debug({ binary: session.bin }, "terraform init skipped: it ran before for this commit and these settings");
        memo.restore(ctx.dir);
        session.redoInit = () => initialize(session, initArgs, memo);
      } else {
        await initialize(session, initArgs, memo);
      }
      // A module without a backend block gets the implicit local backend: keep its state with the stack, not the commit.
      if (!existsSync(join(dataDir, "terraform.tfstate"))) {
        session.stateArgs = [`-state=${join(stateDir, "terraform.tfstate")}`];
        warnLocalState(stack.name, ctx.logger, "the module declares no backend; give it one every replica reaches (s3, gcs, remote, ...)");
      }
      return session;
    } catch (error) {
      rmSync(planDir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * A plan with refresh, saved. detect: `-lock=false`, since planning never writes the state and a check must not
   * hold up an apply; with its log (plan-log.ts) where the CLI writes one. converge: a locked plan, whose file is
   * then applied. Returns the plan file and the log's path, if any.
   */
  async function makePlan(session: Session, mode: "detect" | "converge"): Promise<{ file: string; log?: string }> {
    const file = join(session.planDir, `${mode}.tfplan`);
    const log = mode === "detect" && session.planLog ? join(session.planDir, `${mode}.log.json`) : undefined;
    const args = ["plan", ...(mode === "detect" ? ["-lock=false"] : []), "-input=false", "-no-color", `-out=${file}`, ...(log ? [`-json-into=${log}`] : []), ...session.stateArgs, ...session.varFileArgs];
    const what = mode === "detect" ? "plan (drift and pending)" : "plan (converge)";
    try {
      await run(session, args, what);
    } catch (error) {
      // With init skipped, a failed plan may only need it (a provider or module gone from the data dir): init, retry.
      if (!(error instanceof ToolFailure) || !session.redoInit) return explainFailure(session, error);
      session.ctx.logger.debug("plan failed after a skipped init; running init and planning again");
      const redo = session.redoInit;
      delete session.redoInit;
      await redo();
      await run(session, args, what).catch((again: unknown) => explainFailure(session, again));
    }
    return { file, ...(log ? { log } : {}) };
  }

  /** The plan file's full JSON (`show -json`). */
  async function showPlan(session: Session, file: string): Promise<PlanJson> {
    // A plan's JSON holds every resource's before and after: large for a large stack, so a generous limit.
    const shown = await run(session, ["show", "-json", "-no-color", file], "show -json", SHOW_JSON_MAX_BYTES);
    return timed(session.ctx.timings, "parse", async () => JSON.parse(shown.stdout) as PlanJson);
  }

  /** A plan with refresh, saved and read back through `show -json`. */
  async function plan(session: Session, mode: "detect" | "converge"): Promise<{ file: string; json: PlanJson }> {
    const { file } = await makePlan(session, mode);
    return { file, json: await showPlan(session, file) };
  }

  /** Whether the plan's log (if there is one, and not too large to read) says it found no drift and changes nothing. */
  function logChangesNothing(log: string | undefined): boolean {
    if (!log) return false;
    try {
      return statSync(log).size <= PLAN_LOG_MAX_BYTES && planChangesNothing(readFileSync(log, "utf8"));
    } catch {
      return false; // no log written: the plan file says
    }
  }

  function close(session: Session): void {
    rmSync(session.planDir, { recursive: true, force: true });
  }

  return {
    id: "terraform",

    async detect(ctx): Promise<Detection> {
      const session = await open(ctx, { reuseInit: true });
      try {
        // One pass: the plan's refresh gives the drift, its changes read against the state as recorded the pending.
        const { file, log } = await makePlan(session, "detect");
        // A plan whose log shows no drift and no change is the whole answer: nothing drifted, nothing pending.
        if (await timed(ctx.timings, "parse", async () => logChangesNothing(log))) {
          ctx.logger.debug("the plan's log shows no drift and no change: in sync without show -json");
          return { drift: [], pending: [] };
        }
        const json = await showPlan(session, file);
        return await timed(ctx.timings, "parse", async () => ({ drift: driftFromPlan(json), pending: pendingFromPlan(json) }));
      } finally {
        close(session);
      }
    },

    async remediate(ctx, decide) {
      const session = await open(ctx, { reuseInit: false });
      try {
        const { file, json } = await plan(session, "converge");
        const changes = plannedChanges(json);
        const planned = { changes, fingerprint: fingerprintChanges(changes) };
        if (!(await decide(planned))) return { plan: planned, applied: false };
        // The file that was planned, read and judged is the one applied: Terraform refuses it if the state moved.
        await run(session, ["apply", "-input=false", "-no-color", ...session.stateArgs, file], "apply").catch((error: unknown) => explainFailure(session, error));
        return { plan: planned, applied: true };
      } finally {
        close(session);
      }
    },

    async converge(ctx): Promise<ResourceChange[]> {
      const session = await open(ctx, { reuseInit: false });
      try {
        // Apply exactly the plan that was made and read, never a fresh `apply -auto-approve` that could differ.
        const { file, json } = await plan(session, "converge");
        await run(session, ["apply", "-input=false", "-no-color", ...session.stateArgs, file], "apply").catch((error: unknown) => explainFailure(session, error));
        return plannedChanges(json);
      } finally {
        close(session);
      }
    },
  };
}

/**
 * The folder of a stack's implicit local state, its own so that a run's sandbox can write it without writing the
 * stack's provider copies beside it. State an earlier Driftwatch kept in the stack's folder itself is moved in.
 */
function stateFolder(home: string): string {
  const dir = join(home, "state");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const file of ["terraform.tfstate", "terraform.tfstate.backup"]) {
    const old = join(home, file);
    if (existsSync(old) && !existsSync(join(dir, file))) renameSync(old, join(dir, file));
  }
  return dir;
}

/** Whether a version (`1.12.6`, `1.10.0-rc1`) is at least `major.minor`. */
function atLeast(version: string, [major, minor]: readonly [number, number]): boolean {
  const [a = 0, b = 0] = version.split(".").map((part) => Number.parseInt(part, 10));
  return a > major || (a === major && b >= minor);
}

/** For tests: the state file of a stack on the implicit local backend. */
export function localStateFile(dataDir: string, stackName: string): string {
  return join(dataDir, "terraform", stackName, "state", "terraform.tfstate");
}

