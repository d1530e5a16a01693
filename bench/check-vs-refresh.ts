// Wall time of `driftwatch check` on the deployed demo stacks (warm: mirror fetched, dependencies cached, stack
// created) against the one raw engine pass a user would run on the same worktree and state:
//   Pulumi    demo-files     `pulumi preview --refresh`
//   OpenTofu  demo-files-tf  `tofu plan` (refresh on; initialised once beforehand)
// Target: check ≤ 1.10× the raw pass. For scale, the two raw passes a check used to make: Pulumi `refresh
// --preview-only` + `preview`, OpenTofu `plan -refresh-only` + `plan -refresh=false`.
//
//   npm run bench -- check-vs-refresh    (BENCH_RUNS=5: medians of 5 runs each; uses driftwatch.yaml at the repo
//                                         root and its .driftwatch/, and converges both demo stacks first)
//
// check does more than the raw pass: a git fetch, a worktree, reading the engine's answer into drift and pending,
// and a database write. The median phases of its runs (git, install, engine, store) say where its time goes.
import { join } from "node:path";
import { loadConfig } from "../src/config/load.ts";
import type { StackConfig } from "../src/config/types.ts";
import { createLogger } from "../src/core/logger.ts";
import type { StackResult } from "../src/core/types.ts";
import { worktreeFolder } from "../src/core/worktree-file.ts";
import { ensureDependencies } from "../src/engines/pulumi/dependencies.ts";
import { localStateFile } from "../src/engines/terraform/index.ts";
import { check } from "../src/run/check.ts";
import { GitSource } from "../src/sources/git/index.ts";
import { sandboxFor } from "../test/support/sandbox.ts";
import { readToolchainManifest, terraformCli, toolchainEnv } from "../src/toolchain/manifest.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import { deploy, median, phaseLine, phaseStat, run, seconds, sum, wallTimes } from "./support.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const config = loadConfig(join(repoRoot, "driftwatch.yaml"));
const toolchain = readToolchainManifest();
const logger = createLogger({ level: "warn" });

function demoStack<E extends StackConfig["engine"]>(name: string, engine: E): Extract<StackConfig, { engine: E }> {
  const found = config.stacks.find((s) => s.name === name);
  if (found?.engine !== engine) throw new Error(`driftwatch.yaml has no ${engine} stack named ${name}`);
  return found as Extract<StackConfig, { engine: E }>;
}
const pulumiStack = demoStack("demo-files", "pulumi");
const tofuStack = demoStack("demo-files-tf", "terraform");

async function checkOnce(stack: StackConfig): Promise<StackResult> {
  const [result] = await check({ config, toolchain, logger, only: [stack.name], concurrency: 1 });
  if (result!.verdict !== "in-sync") throw new Error(`check ${stack.name} says ${result!.verdict}: ${result!.error?.message ?? JSON.stringify(result!.changes)}`);
  return result!;
}

/** RUNS warm checks of one stack (after one to warm up): their wall times and results. */
async function timeChecks(stack: StackConfig): Promise<{ times: number[]; results: StackResult[] }> {
  await checkOnce(stack);
  const results: StackResult[] = [];
  const times = await wallTimes(RUNS, async () => results.push(await checkOnce(stack)));
  return { times, results };
}

await deploy({ config, toolchain, logger, only: [pulumiStack.name, tofuStack.name], concurrency: 1 });
const pulumiChecks = await timeChecks(pulumiStack);
const tofuChecks = await timeChecks(tofuStack);

// The raw commands run in a worktree of the same commit, against the same state, after the checks (a check's
// end tidies worktrees it does not know are in use).
const source = new GitSource({ dataDir: config.dataDir, logger });
const pulumiSource = await source.acquire(pulumiStack.source);
const tofuSource = await source.acquire(tofuStack.source);
try {
  const pulumiEnv = { ...toolchainEnv(toolchain), ...pulumiStack.env, PULUMI_BACKEND_URL: pulumiStack.pulumi.backendUrl, PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
  const sandbox = sandboxFor(pulumiStack, pulumiSource.dir, config.dataDir);
  await ensureDependencies({ folder: worktreeFolder(pulumiSource.dir, pulumiStack.source.path), stack: pulumiStack.name, cacheDir: config.cacheDir, env: pulumiEnv, logger, sandbox, signal: AbortSignal.timeout(600_000) });
  const pulumi = (args: string[]) => () => run(toolchain.pulumi.bin, [...args, "--non-interactive", "--stack", pulumiStack.pulumi.stack], { cwd: pulumiSource.dir, env: pulumiEnv });
  const pulumiOnePass = await wallTimes(RUNS, pulumi(["preview", "--refresh"]));
  const pulumiRefresh = await wallTimes(RUNS, pulumi(["refresh", "--preview-only"]));
  const pulumiPreview = await wallTimes(RUNS, pulumi(["preview"]));

  const cli = terraformCli(toolchain, "tofu") ?? terraformCli(toolchain, "terraform")!;
  const tofu = cli.bin;
  const vars = Object.fromEntries(Object.entries(tofuStack.terraform.vars).map(([name, value]) => [`TF_VAR_${name}`, value]));
  const tofuEnv = { ...toolchainEnv(toolchain), ...tofuStack.env, ...vars, TF_IN_AUTOMATION: "1" };
  await run(tofu, ["init", "-input=false", "-no-color"], { cwd: tofuSource.dir, env: tofuEnv });
  const plan = (args: string[]) => () => run(tofu, ["plan", ...args, "-input=false", "-no-color", `-state=${localStateFile(config.dataDir, tofuStack.name)}`], { cwd: tofuSource.dir, env: tofuEnv });
  const tofuOnePass = await wallTimes(RUNS, plan([]));
  const tofuRefreshOnly = await wallTimes(RUNS, plan(["-refresh-only"]));
  const tofuNoRefresh = await wallTimes(RUNS, plan(["-refresh=false"]));

  const section = (title: string, checks: typeof pulumiChecks, onePass: { label: string; times: number[] }, twoPasses: { label: string; times: number[] }[]) => {
    const checkMs = median(checks.times);
    const onePassMs = median(onePass.times);
    const twoPassMs = sum(twoPasses.map((pass) => median(pass.times)));
    const line = (label: string, value: string) => `  ${label.padEnd(32)}${value}`;
    return [
      title,
      line("driftwatch check (warm):", `${seconds(checkMs)}   (median phases: ${phaseLine(phaseStat(checks.results, median))})`),
      line(onePass.label, seconds(onePassMs)),
      line("ratio check / one pass:", `${(checkMs / onePassMs).toFixed(2)}   (target ≤ 1.10)`),
      line("for scale, two raw passes:", `${twoPasses.map((pass) => `${pass.label} ${seconds(median(pass.times))}`).join(" + ")} = ${seconds(twoPassMs)}; check / two passes ${(checkMs / twoPassMs).toFixed(2)}`),
    ];
  };
  process.stdout.write(
    [
      `runs: ${RUNS} each (median)`,
      ...section("pulumi, demo-files", pulumiChecks, { label: "pulumi preview --refresh:", times: pulumiOnePass }, [
        { label: "refresh --preview-only", times: pulumiRefresh },
        { label: "preview", times: pulumiPreview },
      ]),
      ...section(`${cli.flavor}, demo-files-tf`, tofuChecks, { label: `${cli.flavor} plan (refresh on):`, times: tofuOnePass }, [
        { label: "plan -refresh-only", times: tofuRefreshOnly },
        { label: "plan -refresh=false", times: tofuNoRefresh },
      ]),
      "",
    ].join("\n"),
  );
} finally {
  await pulumiSource.release();
  await tofuSource.release();
}
