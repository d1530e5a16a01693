#!/usr/bin/env node
// Entry point behind `npm run provision`, `npm test`, `npm run test:stress`, `npm start`, `npm run bench`,
// `npm run cluster` and `npm run typecheck`
// (started by tools/bootstrap.mjs once Node >= 22 and node_modules are in place): provisions what the command
// needs, then runs it with the toolchain's environment.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { buildDist } from "./build-dist.ts";
import { runClusterCommand } from "./cluster-command.ts";
import { ProvisionError } from "./errors.ts";
import { LocalClusterError } from "./local-cluster.ts";
import { toolchainEnv } from "./manifest.ts";
import { manifestPath, repoRoot, toolsDir } from "./paths.ts";
import { streamProgress } from "./progress.ts";
import { prebuildSandbox } from "./prebuild-sandbox.ts";
import { provision } from "./provision.ts";
import { loadPinnedVersions } from "./versions.ts";
import { SERVICE_NODE_FLAGS, serviceRuntimeEnv } from "../service/runtime.ts";

interface NodeRun {
  /** The exit code (1 when a signal ended it). */
  done: Promise<number>;
  /** Sends `signal` to the run's process group (see startTestRun). */
  signalGroup(signal: NodeJS.Signals): void;
}

function startNode(script: string, args: readonly string[], env: NodeJS.ProcessEnv, nodeFlags: readonly string[] = [], ownGroup = false): NodeRun {
  const child = spawn(process.execPath, [...nodeFlags, script, ...args], { cwd: repoRoot, env, stdio: "inherit", detached: ownGroup });
  const done = new Promise<number>((resolvePromise, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolvePromise(code ?? (signal ? 1 : 0)));
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(ownGroup ? -child.pid : child.pid, signal);
    } catch {
      // already gone
    }
  };
  return { done, signalGroup };
}

function runNode(script: string, args: readonly string[], env: NodeJS.ProcessEnv, nodeFlags: readonly string[] = []): Promise<number> {
  return startNode(script, args, env, nodeFlags).done;
}

const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
/** The ESM project at the root, and the CommonJS Pulumi programs, which have their own compiler settings. */
const tsProjects = [repoRoot, join(repoRoot, "stacks", "demo-files"), join(repoRoot, "deploy")];
const vitest = join(repoRoot, "node_modules", "vitest", "vitest.mjs");
const cli = join(repoRoot, "src", "cli", "main.ts");
const benchDir = join(repoRoot, "bench");
const stress = join(repoRoot, "test", "stress.ts");

/** `npm run bench` runs every benchmark in bench/ in turn; `npm run bench -- <name>` only that one. */
async function runBenchmarks(names: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const all = readdirSync(benchDir).filter((f) => f.endsWith(".ts") && !f.startsWith("support")).sort();
  const chosen = names.length ? names.map((n) => (n.endsWith(".ts") ? n : `${n}.ts`)) : all;
  const unknown = chosen.filter((n) => !all.includes(n));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark ${unknown.join(", ")}: expected one of ${all.join(", ")}\n`);
    return 1;
  }
  for (const file of chosen) {
    process.stdout.write(`\n== ${file}\n`);
    const code = await runNode(join(benchDir, file), [], env);
    if (code !== 0) return code;
  }
  return 0;
}

/** The projects' type checks, at once: the first non-zero exit code, or 0. */
async function typecheck(env: NodeJS.ProcessEnv): Promise<number> {
  const codes = await Promise.all(tsProjects.map((project) => runNode(tsc, ["--noEmit", "-p", project], env)));
  return codes.find((code) => code !== 0) ?? 0;
}

/**
 * The type check and the tests side by side (the tests spend their first seconds starting engines and servers,
 * where the type check's 15 s of CPU fit): a type error stops the tests at once and is the run's failure, as when
 * the check ran first. Otherwise the tests' exit code.
 *
 * vitest runs in a process group of its own, with the servers its files start (a local cluster, PostgreSQL): a
 * type error stops all of them as Ctrl-C would, SIGINT to the group, so nothing outlives the run. Being in
 * another group, the tests no longer get a terminal's Ctrl-C themselves: the signals this process gets are
 * passed on to the group.
 */
async function typecheckAndTest(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const tests = startNode(vitest, ["run", ...args], env, [], true);
  let interrupted = false;
  const forward = (signal: NodeJS.Signals) => {
    interrupted = true;
    tests.signalGroup(signal);
  };
  const forwarded: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const signal of forwarded) process.on(signal, forward);
  try {
    const typechecked = await typecheck(env);
    if (typechecked !== 0) {
      tests.signalGroup("SIGINT");
      await tests.done;
      // A terminal's Ctrl-C stops the type check too: that is no type error.
      if (!interrupted) process.stderr.write("\nThe type check failed (above): the tests were stopped.\n");
      return typechecked;
    }
    return await tests.done;
  } finally {
    for (const signal of forwarded) process.off(signal, forward);
  }
}

/**
 * `npm pack`'s prepack: dist/ from src/ (build-dist.ts), and this platform's sandbox launcher in prebuilt/
 * (prebuild-sandbox.ts). Nothing else is provisioned.
 */
async function packFiles(): Promise<number> {
  const started = Date.now();
  const modules = buildDist(join(repoRoot, "src"), join(repoRoot, "dist"));
  const launcher = await prebuildSandbox();
  process.stderr.write(`[pack] dist/: ${modules} modules; prebuilt/: ${launcher}; ${Date.now() - started} ms\n`);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === "typecheck") return typecheck(process.env);
  if (command === "pack") return packFiles();
  if (command !== "provision" && command !== "test" && command !== "stress" && command !== "start" && command !== "bench" && command !== "cluster") {
    process.stderr.write(`unknown command '${command ?? ""}': expected provision, test, stress, start, bench, cluster, typecheck or pack\n`);
    return 1;
  }
  const withTestTools = command === "test" || command === "stress" || command === "provision";
  const manifest = await provision({
    versions: loadPinnedVersions(),
    progress: streamProgress(),
    withTestTools,
    withKubernetesServers: command === "cluster",
    // The benchmarks start PostgreSQL too (src/toolchain/postgres.ts).
    withPostgres: withTestTools || command === "bench",
  });
  const env = { ...toolchainEnv(manifest), DRIFTWATCH_TOOLCHAIN: manifestPath(toolsDir()) };
  if (command === "provision") return 0;
  if (command === "cluster") return runClusterCommand({ manifest, tools: toolsDir(), args });
  if (command === "start") {
    const cliArgs = args.length > 0 ? args : ["serve"];
    return cliArgs.includes("serve") ? runNode(cli, cliArgs, serviceRuntimeEnv(env), SERVICE_NODE_FLAGS) : runNode(cli, cliArgs, env);
  }
  if (command === "bench") return runBenchmarks(args, env);
  if (command === "stress") return runNode(stress, args, env);
  return typecheckAndTest(args, env);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ProvisionError) {
      process.stderr.write(`[provision] error: ${error.message}\n`);
    } else if (error instanceof LocalClusterError) {
      process.stderr.write(`[cluster] error: ${error.message}\n`);
    } else {
      process.stderr.write(`[provision] unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exit(1);
  },
);
