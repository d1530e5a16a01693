// A fleet of small stacks, Pulumi and OpenTofu mixed (half each), in 5 local Git repositories under
// stacks/<name>/, all deployed first. In one run it times:
//   (a) `driftwatch check` of all of them, through the real CLI (`check --json`, its default concurrency: one
//       stack per CPU core), warm: checked once before;
//   (b) the loop people write in cron today, one stack after the other: a fresh `git clone`, `npm ci` where there
//       is a package.json, then `pulumi refresh --preview-only`, or `tofu init` and `tofu plan -refresh-only`;
//   (c) the same loop with Driftwatch's parallelism (p-limit, one stack per CPU core).
// Targets: Driftwatch ≥ 5× faster than (b) and ahead of (c). Then Driftwatch's per-stack breakdown (git, install,
// engine, store), with sums and medians per phase, shows the next slowest step.
//
//   npm run bench -- fleet        FLEET_STACKS=50 (default) to change the stack count
//
// Both sides get the same CLIs, provider mirror and settings: the provisioned toolchain's environment, Pulumi's
// TypeScript transpile-only, the same state. The loop's `npm ci` uses the user's own npm cache (~/.npm), warmed by
// one pass of the loop over a stack of each engine before anything is timed.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import pLimit from "p-limit";
import { defaultPulumiBackend, loadConfig } from "../src/config/load.ts";
import { createLogger } from "../src/core/logger.ts";
import { PHASES } from "../src/core/phase-timer.ts";
import type { StackResult } from "../src/core/types.ts";
import { localStateFile } from "../src/engines/terraform/index.ts";
import { readToolchainManifest, terraformCli, toolchainEnv } from "../src/toolchain/manifest.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import { commitFiles, git } from "../test/support/git.ts";
import { pulumiStackYaml } from "../test/support/pulumi.ts";
import { localFilesModule, terraformStackYaml } from "../test/support/terraform-modules.ts";
import { deploy, median, phaseLine, phaseStat, run, seconds, sum, wallTime } from "./support.ts";

const STACKS = Number(process.env.FLEET_STACKS ?? 50);
const REPOSITORIES = 5;
const PASSPHRASE = "fleet-bench";
const parallelism = availableParallelism();
const toolchain = readToolchainManifest();
const tofu = terraformCli(toolchain, "tofu") ?? terraformCli(toolchain, "terraform")!;
const logger = createLogger({ level: "warn" });

interface FleetStack {
  name: string;
  engine: "pulumi" | "terraform";
  repo: string;
  /** The project folder in the repository. */
  path: string;
  /** Where the stack's files go: its world, which its sandbox may write. */
  world: string;
}

const root = mkdtempSync(join(tmpdir(), "driftwatch-bench-fleet-"));
const dataDir = join(root, "data");

/** Stack i goes to repository i mod 5; even ones are Pulumi, odd ones OpenTofu (so each repository has both). */
function planFleet(): FleetStack[] {
  return Array.from({ length: STACKS }, (_, i) => {
    const engine = i % 2 === 0 ? "pulumi" : "terraform";
    const name = `${engine}-${String(i + 1).padStart(2, "0")}`;
    return { name, engine, repo: join(root, "repos", `repo-${i % REPOSITORIES}`), path: `stacks/${name}`, world: join(root, "world", name) };
  });
}

/** The demo's Pulumi program (same package.json and lockfile, so one dependency cache entry serves all) as its own project. */
function pulumiProgram(stack: FleetStack): void {
  const dir = join(stack.repo, stack.path);
  for (const file of ["package.json", "package-lock.json", "index.ts", "localFile.ts", "tsconfig.json"]) cpSync(join(repoRoot, "stacks", "demo-files", file), join(dir, file));
  writeFileSync(join(dir, "Pulumi.yaml"), `name: ${stack.name}\nruntime: nodejs\n`);
}

function createRepositories(stacks: readonly FleetStack[]): void {
  for (const repo of new Set(stacks.map((s) => s.repo))) {
    mkdirSync(repo, { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    const mine = stacks.filter((s) => s.repo === repo);
    for (const stack of mine.filter((s) => s.engine === "pulumi")) {
      mkdirSync(join(repo, stack.path), { recursive: true });
      pulumiProgram(stack);
    }
    const modules = mine.filter((s) => s.engine === "terraform").map((s) => [`${s.path}/main.tf`, localFilesModule({ a: `${s.name} a\n`, b: `${s.name} b\n` })]);
    commitFiles(repo, Object.fromEntries(modules), "the stacks");
  }
}

function writeConfig(stacks: readonly FleetStack[]): string {
  const entry = (s: FleetStack) =>
    s.engine === "terraform"
      ? terraformStackYaml({ name: s.name, repo: s.repo, path: s.path, dir: s.world })
      : pulumiStackYaml({ name: s.name, repo: s.repo, path: s.path, stack: "dev", passphrase: PASSPHRASE, world: s.world });
  const file = join(root, "driftwatch.yaml");
  writeFileSync(file, [`dataDir: ${dataDir}`, "alerts: { log: false }", "stacks:", ...stacks.flatMap(entry), ""].join("\n"));
  return file;
}

/** `driftwatch check --json` of every stack, as a user runs it; all in sync, or an error. */
async function driftwatchCheck(config: string): Promise<StackResult[]> {
  const stdout = await run(process.execPath, [join(repoRoot, "src", "cli", "main.ts"), "--config", config, "check", "--json"], { keep: 200_000 });
  const { results } = JSON.parse(stdout) as { results: StackResult[] };
  const wrong = results.filter((r) => r.verdict !== "in-sync");
  if (wrong.length > 0) throw new Error(`check found ${wrong.map((r) => `${r.stack}: ${r.verdict} ${r.error?.message ?? ""}`).join("; ")}`);
  return results;
}

// The loop's environment: the user's (HOME, so ~/.npm), with the toolchain's CLIs, provider mirror and settings.
const userEnv = toolchainEnv(toolchain);
const pulumiHome = join(root, "pulumi-home");

/** One stack as the cron loop checks it: fresh clone, dependencies, the engine's refresh-only preview, clean up. */
async function cronCheck(stack: FleetStack, workDir: string): Promise<number> {
  const clone = mkdtempSync(join(workDir, `${stack.name}-`));
  return wallTime(async () => {
    await run("git", ["clone", "-q", stack.repo, clone], { env: userEnv });
    const cwd = join(clone, stack.path);
    if (stack.engine === "pulumi") {
      await run("npm", ["ci", "--no-audit", "--no-fund"], { cwd, env: userEnv });
      // The stack's own backend (Driftwatch keeps one per Pulumi stack), where the deploy put its state.
      const backendUrl = `file://${defaultPulumiBackend(dataDir, stack.name)}`;
      const env = { ...userEnv, PULUMI_HOME: pulumiHome, PULUMI_BACKEND_URL: backendUrl, PULUMI_CONFIG_PASSPHRASE: PASSPHRASE, PULUMI_NODEJS_TRANSPILE_ONLY: "true", DEMO_FILES_DIR: stack.world };
      await run(toolchain.pulumi.bin, ["refresh", "--preview-only", "--non-interactive", "--stack", "dev"], { cwd, env });
    } else {
      const env = { ...userEnv, TF_IN_AUTOMATION: "1", TF_VAR_dir: stack.world };
      await run(tofu.bin, ["init", "-input=false", "-no-color"], { cwd, env });
      await run(tofu.bin, ["plan", "-refresh-only", "-input=false", "-no-color", `-state=${localStateFile(dataDir, stack.name)}`], { cwd, env });
    }
    rmSync(clone, { recursive: true, force: true });
  });
}

/** The cron loop over every stack, `atOnce` at a time: its wall time and each stack's. */
async function cronLoop(stacks: readonly FleetStack[], atOnce: number, label: string): Promise<{ wall: number; perStack: Map<string, number> }> {
  const workDir = join(root, "cron", label);
  mkdirSync(workDir, { recursive: true });
  const limit = pLimit(atOnce);
  const perStack = new Map<string, number>();
  const wall = await wallTime(() => Promise.all(stacks.map((stack) => limit(async () => perStack.set(stack.name, await cronCheck(stack, workDir))))));
  return { wall, perStack };
}

function breakdown(results: readonly StackResult[]): string[] {
  const row = (cells: readonly (string | number)[]) => cells.map((cell, i) => (i < 2 ? String(cell).padEnd(i === 0 ? 14 : 10) : String(cell).padStart(8))).join(" ");
  const byEngine = (engine: string) => results.filter((r) => r.engine === engine);
  return [
    "driftwatch, per stack (ms; `run` is durationMs, which ends before the store phase's recording):",
    row(["stack", "engine", "run", ...PHASES]),
    ...results.map((r) => row([r.stack, r.engine, r.durationMs, ...PHASES.map((phase) => r.phases?.[phase] ?? "-")])),
    `sum over stacks:  ${phaseLine(phaseStat(results, sum))}`,
    `median, all:      ${phaseLine(phaseStat(results, median))}`,
    ...["pulumi", "terraform"].filter((e) => byEngine(e).length > 0).map((e) => `median, ${e.padEnd(10)} ${phaseLine(phaseStat(byEngine(e), median))}`),
  ];
}

try {
  const stacks = planFleet();
  createRepositories(stacks);
  const configFile = writeConfig(stacks);
  const config = loadConfig(configFile);
  process.stderr.write(`fleet: ${stacks.length} stacks in ${root}; deploying\n`);
  await deploy({ config, toolchain, logger, concurrency: parallelism });

  process.stderr.write("warming up: one driftwatch check of all, the cron loop over one stack of each engine\n");
  await driftwatchCheck(configFile);
  const warmUp = [stacks.find((s) => s.engine === "pulumi"), stacks.find((s) => s.engine === "terraform")].filter((s) => s !== undefined);
  await cronLoop(warmUp, 1, "warm-up");

  process.stderr.write("timing driftwatch check\n");
  let results: StackResult[] = [];
  const driftwatchMs = await wallTime(async () => (results = await driftwatchCheck(configFile)));
  process.stderr.write("timing the cron loop, sequential\n");
  const sequential = await cronLoop(stacks, 1, "sequential");
  process.stderr.write(`timing the cron loop, ${parallelism} at once\n`);
  const parallel = await cronLoop(stacks, parallelism, "parallel");

  const count = (engine: string) => stacks.filter((s) => s.engine === engine).length;
  const loopMedian = (loop: typeof sequential, engine: string) => seconds(median(stacks.filter((s) => s.engine === engine).map((s) => loop.perStack.get(s.name)!)));
  process.stdout.write(
    [
      `fleet: ${stacks.length} stacks (${count("pulumi")} pulumi, ${count("terraform")} ${tofu.flavor}) in ${new Set(stacks.map((s) => s.repo)).size} repositories; ${parallelism} at once (CPU cores)`,
      `driftwatch check (CLI, warm):        ${seconds(driftwatchMs)}`,
      `cron loop, sequential:               ${seconds(sequential.wall)}   driftwatch ${(sequential.wall / driftwatchMs).toFixed(1)}× faster (target ≥ 5×)`,
      `cron loop, ${parallelism} at once:                ${seconds(parallel.wall)}   driftwatch ${(parallel.wall / driftwatchMs).toFixed(1)}× faster (target > 1×)`,
      `cron loop per stack, median (sequential): pulumi ${loopMedian(sequential, "pulumi")}, ${tofu.flavor} ${loopMedian(sequential, "terraform")}`,
      "",
      ...breakdown(results),
      "",
    ].join("\n"),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
