// The Pulumi CLI as the Automation API drives it, but started by Driftwatch: in the run's sandbox, with exactly the
// environment the stack gets, its output bounded, and its whole process tree stopped on a timeout.
//
// The Automation API would start the CLI itself through execa, which adds the calling process's whole environment
// (the service's tokens) and buffers output without limit. Its `PulumiCommand.run` is the one place every CLI call
// goes through, so Driftwatch hands it a command whose `run` does the launching: through the run's sandbox
// (ctx.sandbox), granting each call what its arguments name (the plan file's folder).
//
// Engine events come back the way the Automation API of this version takes them: over a gRPC server it listens on
// at a loopback port (the file it used before 3.206 was written by the CLI with events interleaving under load, and
// lines lost). Like the CLI's own plugin ports, that port is open to local processes; see docs/security.md.
// How much of them is kept is bounded by the engine (event-sink.ts).
import { createRequire } from "node:module";
import { delimiter, dirname } from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import * as cmdModule from "@pulumi/pulumi/automation/cmd.js";
import * as errorsModule from "@pulumi/pulumi/automation/errors.js";
import { OutputTooLargeError } from "../../core/errors.ts";
import { DEFAULT_MAX_OUTPUT_BYTES } from "../../core/process.ts";
import type { StepGrants } from "../../sandbox/run-sandbox.ts";
import type { EngineContext } from "../api.ts";

/** What the Automation API reads of a CLI call (its CommandResult, which its typings do not export). */
interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
  err?: Error;
}

type CommandResultClass = new (stdout: string, stderr: string, code: number, err?: Error) => CommandResult;
const { CommandResult } = cmdModule as unknown as { CommandResult: CommandResultClass };
const { createCommandError } = errorsModule as unknown as { createCommandError(result: CommandResult): Error };

function semverOf(version: string): PulumiCommand["version"] {
  // semver is the Automation API's own dependency; the version object must be one it can compare.
  const requireFromPulumi = createRequire(createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json"));
  const semver = requireFromPulumi("semver") as { parse(version: string): PulumiCommand["version"] };
  return semver.parse(version);
}

/** The value after `flag` in `args`, if any. */
function argument(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

export interface SandboxedCommandOptions {
  /** The toolchain's pulumi binary, and its version (the Automation API picks its ways by it). */
  bin: string;
  version: string;
  ctx: EngineContext;
  /** What every call of this run may read and write besides the run's places (backend folder, dependencies). */
  grants: { readOnly: readonly string[]; readWrite: readonly string[] };
}

/** A PulumiCommand whose every `run` starts the CLI in the run's sandbox (see above). */
export function sandboxedCommand(options: SandboxedCommandOptions): PulumiCommand {
  const command = Object.create(PulumiCommand.prototype) as PulumiCommand & { command: string; version: PulumiCommand["version"] };
  Object.defineProperty(command, "command", { value: options.bin });
  Object.defineProperty(command, "version", { value: semverOf(options.version) });
  Object.defineProperty(command, "run", {
    value: (args: string[], cwd: string, env: Record<string, string | undefined>, onOutput?: (data: string) => void, onError?: (data: string) => void, signal?: AbortSignal) =>
      runPulumi(options, [...args, ...(args.includes("--non-interactive") ? [] : ["--non-interactive"])], cwd, env, { onOutput, onError, signal }),
  });
  return command;
}

async function runPulumi(
  options: SandboxedCommandOptions,
  args: string[],
  cwd: string,
  given: Record<string, string | undefined>,
  io: { onOutput?: ((data: string) => void) | undefined; onError?: ((data: string) => void) | undefined; signal?: AbortSignal | undefined },
): Promise<CommandResult> {
  const { ctx, bin } = options;
  // Exactly the stack's environment (the Automation API passes it), the CLI's folder first on PATH as it would.
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) if (value !== undefined) env[name] = value;
  env.PATH = [dirname(bin), env.PATH ?? ""].join(delimiter);
  env.PULUMI_AUTOMATION_API = "true";
  const plan = argument(args, "--plan") ?? argument(args, "--save-plan");
  const grants: StepGrants = {
    // Pulumi's CLI, language host and plugins talk to each other over loopback TCP ports chosen at run time.
    network: "any",
    readOnly: options.grants.readOnly,
    readWrite: [...options.grants.readWrite, ...(plan ? [dirname(plan)] : [])],
  };
  const result = await ctx.sandbox.run(bin, args, { cwd, env, signal: io.signal ?? ctx.signal, grants });
  if (result.outputTooLarge) throw new OutputTooLargeError(`pulumi ${args[0] ?? ""}`.trim(), DEFAULT_MAX_OUTPUT_BYTES, { stack: ctx.stack.name });
  if (result.stdout && io.onOutput) io.onOutput(result.stdout);
  if (result.stderr && io.onError) io.onError(result.stderr);
  const code = result.code ?? -2;
  const commandResult = new CommandResult(result.stdout, result.stderr, code, result.aborted ? new Error("the command was stopped (timeout or shutdown)") : undefined);
  if (code !== 0) throw createCommandError(commandResult);
  return commandResult;
}
