// `driftwatch serve` as an installed user runs it (the package's bin, the container image's entrypoint) gets the
// same V8 flags and malloc setting `npm start` and the systemd unit give the service (src/service/runtime.ts):
// without them, an idle service watching 10,000 stacks holds about three times the memory. Node reads those
// settings only at start, so the bin replaces its own process with one that has them (execve: same pid, so a
// supervisor's signals and exit status still reach it) before it does anything else.
import { SERVICE_NODE_FLAGS, serviceRuntimeEnv } from "../service/runtime.ts";

/** Options of the program itself that take a value (the value is not the subcommand). */
const VALUE_OPTIONS = new Set(["-c", "--config", "--log-level"]);

/** The subcommand of a driftwatch command line (arguments after the script): the first word not an option or its value. */
export function subcommandOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg === "--") return args[i + 1];
    if (VALUE_OPTIONS.has(arg)) i += 1;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

export interface Relaunch {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * The process `serve` should be run as, when this one lacks the service's settings; undefined when it has them, for
 * every other command, and when DRIFTWATCH_SERVICE_FLAGS=off asks for Node as started.
 */
export function serviceRelaunch(proc: { execPath: string; execArgv: readonly string[]; argv: readonly string[]; env: NodeJS.ProcessEnv }): Relaunch | undefined {
  if (proc.env.DRIFTWATCH_SERVICE_FLAGS === "off") return undefined;
  if (subcommandOf(proc.argv.slice(2)) !== "serve") return undefined;
  const missing = SERVICE_NODE_FLAGS.filter((flag) => !proc.execArgv.some((given) => given === flag || given.startsWith(`${flag.split("=")[0]}=`)));
  if (missing.length === 0) return undefined;
  return {
    file: proc.execPath,
    args: [proc.execPath, ...missing, ...proc.execArgv, ...proc.argv.slice(1)],
    env: serviceRuntimeEnv(proc.env),
  };
}
