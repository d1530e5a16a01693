// Wall time of `driftwatch check` (warm: mirror fetched, dependencies cached, stack created) against the one raw
// engine pass a user would run on the same worktree and state, per engine, on two stacks each:
//   demo       the deployed demo stacks of driftwatch.yaml (2 and 3 resources; its .driftwatch/)
//              target: check ≤ the raw pass + 0.5 s (on a stack this small the fixed costs decide any ratio)
//   realistic  bench/fixtures/realistic-pulumi and realistic-tofu (52 resources each: two kinds, dependencies,
//              config, a secret; OpenTofu's with for_each, count, a module and outputs), committed to a scratch
//              repository and deployed there
//              target: check ≤ 1.10× the raw pass
//   Pulumi    `pulumi preview --refresh`
//   OpenTofu  `tofu plan` (refresh on; initialised once beforehand)
// Checks and raw passes alternate (check, raw, check, raw, …) after one warm-up of each, so that a change in the
// machine's load hits both alike. For scale, the two raw passes a check used to make: Pulumi `refresh
// --preview-only` + `preview`, OpenTofu `plan -refresh-only` + `plan -refresh=false`.
//
//   npm run bench -- check-vs-refresh    (BENCH_RUNS=5: medians of 5 runs each; BENCH_STACKS=demo or realistic
//                                         for one kind only)
//
// check does more than the raw pass: a git fetch, a worktree, the program's dependencies, reading the engine's
// answer into drift and pending, a database write. The median phases of its runs (git, worktree, dependencies,
// engine, parse, store) say where its time goes; "outside" is what the check took beyond them (opening and
// closing the store, tidying worktrees at the end).
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultPulumiBackend, loadConfig } from "../src/config/load.ts";
import type { DriftwatchConfig, StackConfig } from "../src/config/types.ts";
import { createLogger } from "../src/core/logger.ts";
import type { StackResult } from "../src/core/types.ts";
import { worktreeFolder } from "../src/core/worktree-file.ts";
import { ensureDependencies } from "../src/engines/pulumi/dependencies.ts";
import { localStateFile } from "../src/engines/terraform/index.ts";
import { check } from "../src/run/check.ts";
import { GitSource, type AcquiredSource } from "../src/sources/git/index.ts";
import { sandboxFor } from "../test/support/sandbox.ts";
import { readToolchainManifest, terraformCli, toolchainEnv } from "../src/toolchain/manifest.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import { commitFiles, git } from "../test/support/git.ts";
import { deploy, median, phaseLine, phaseStat, run, seconds, sum, wallTime, wallTimes } from "./support.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const KINDS = (process.env.BENCH_STACKS ?? "demo,realistic").split(",");
const toolchain = readToolchainManifest();
const tofuCli = terraformCli(toolchain, "tofu") ?? terraformCli(toolchain, "terraform")!;
const logger = createLogger({ level: "warn" });
const PASSPHRASE = "realistic-bench";

interface Case {
  title: string;
  kind: "demo" | "realistic";
  config: DriftwatchConfig;
  stack: StackConfig;
  /** Resources in the stack's state. */
  resources: number;
}

function stackOf<E extends StackConfig["engine"]>(config: DriftwatchConfig, name: string, engine: E): Extract<StackConfig, { engine: E }> {
  const found = config.stacks.find((s) => s.name === name);
  if (found?.engine !== engine) throw new Error(`${config.file} has no ${engine} stack named ${name}`);
  return found as Extract<StackConfig, { engine: E }>;
}

/**
 * The realistic stacks in a scratch repository (stacks/realistic-pulumi with the demo program's package.json and
 * lockfile, so the demo's dependency cache entry serves it; stacks/realistic-tofu), and a configuration watching
 * them with its own data directory and the demo's caches. The Pulumi stack's secret is encrypted for its own
 * backend by the Pulumi CLI before the commit, as its owner would.
 */
async function realisticConfig(root: string, demo: DriftwatchConfig): Promise<DriftwatchConfig> {
  const repo = join(root, "repo");
  const dataDir = join(root, "data");
  const world = (name: string) => join(root, "world", name);
  mkdirSync(repo, { recursive: true });
  git(repo, "init", "-q", "-b", "main");
  const pulumiDir = join(repo, "stacks", "realistic-pulumi");
  cpSync(join(repoRoot, "bench", "fixtures", "realistic-pulumi"), pulumiDir, { recursive: true });
  for (const file of ["package.json", "package-lock.json"]) cpSync(join(repoRoot, "stacks", "demo-files", file), join(pulumiDir, file));
  cpSync(join(repoRoot, "bench", "fixtures", "realistic-tofu"), join(repo, "stacks", "realistic-tofu"), { recursive: true });
  const backend = defaultPulumiBackend(dataDir, "realistic-pulumi");
  mkdirSync(backend, { recursive: true, mode: 0o700 });
  const pulumiEnv = { ...toolchainEnv(toolchain), PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: PASSPHRASE, PULUMI_HOME: join(root, "pulumi-home") };
  await run(toolchain.pulumi.bin, ["stack", "init", "dev", "--non-interactive"], { cwd: pulumiDir, env: pulumiEnv });
  await run(toolchain.pulumi.bin, ["config", "set", "--secret", "databasePassword", "correct-horse-battery-staple", "--non-interactive"], { cwd: pulumiDir, env: pulumiEnv });
  commitFiles(repo, {}, "the realistic stacks");
  const file = join(root, "driftwatch.yaml");
  writeFileSync(
    file,
    [
      `dataDir: ${dataDir}`,
      `cacheDir: ${demo.cacheDir}`,
      "alerts: { log: false }",
      "stacks:",
      "  - name: realistic-pulumi",
      "    engine: pulumi",
      `    source: { repo: ${repo}, ref: main, path: stacks/realistic-pulumi }`,
      "    pulumi: { stack: dev }",
      `    env: { PULUMI_CONFIG_PASSPHRASE: ${PASSPHRASE}, DEMO_FILES_DIR: ${world("pulumi")} }`,
      `    sandbox: { readWrite: [${world("pulumi")}] }`,
      "  - name: realistic-tofu",
      "    engine: terraform",
      `    source: { repo: ${repo}, ref: main, path: stacks/realistic-tofu }`,
      `    terraform: { vars: { dir: ${world("tofu")}, database_password: correct-horse-battery-staple } }`,
      `    sandbox: { readWrite: [${world("tofu")}] }`,
      "",
    ].join("\n"),
  );
  return loadConfig(file);
}

async function checkOnce(config: DriftwatchConfig, stack: StackConfig): Promise<StackResult> {
  const [result] = await check({ config, toolchain, logger, only: [stack.name], concurrency: 1 });
  if (result!.verdict !== "in-sync") throw new Error(`check ${stack.name} says ${result!.verdict}: ${result!.error?.message ?? JSON.stringify(result!.changes)}`);
  return result!;
}

interface RawPasses {
  label: string;
  onePass: () => Promise<unknown>;
  twoPasses: { label: string; pass: () => Promise<unknown> }[];
}

/** The raw commands of a stack, in a worktree of the commit its checks use, against the same state. */
async function rawPasses(c: Case, checkout: AcquiredSource): Promise<RawPasses> {
  const { stack, config } = c;
  if (stack.engine === "pulumi") {
    const env = { ...toolchainEnv(toolchain), ...stack.env, PULUMI_BACKEND_URL: stack.pulumi.backendUrl, PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
    const sandbox = sandboxFor(stack, checkout.dir, config.dataDir);
    await ensureDependencies({ folder: worktreeFolder(checkout.dir, stack.source.path), stack: stack.name, cacheDir: config.cacheDir, env, logger, sandbox, signal: AbortSignal.timeout(600_000) });
    const pulumi = (args: string[]) => () => run(toolchain.pulumi.bin, [...args, "--non-interactive", "--stack", stack.pulumi.stack], { cwd: checkout.dir, env });
    return {
      label: "pulumi preview --refresh",
      onePass: pulumi(["preview", "--refresh"]),
      twoPasses: [
        { label: "refresh --preview-only", pass: pulumi(["refresh", "--preview-only"]) },
        { label: "preview", pass: pulumi(["preview"]) },
      ],
    };
  }
  if (stack.engine !== "terraform") throw new Error(`no raw pass for ${stack.engine}`);
  const vars = Object.fromEntries(Object.entries(stack.terraform.vars).map(([name, value]) => [`TF_VAR_${name}`, value]));
  const env = { ...toolchainEnv(toolchain), ...stack.env, ...vars, TF_IN_AUTOMATION: "1" };
  await run(tofuCli.bin, ["init", "-input=false", "-no-color"], { cwd: checkout.dir, env });
  const plan = (args: string[]) => () => run(tofuCli.bin, ["plan", ...args, "-input=false", "-no-color", `-state=${localStateFile(config.dataDir, stack.name)}`], { cwd: checkout.dir, env });
  return {
    label: `${tofuCli.flavor} plan (refresh on)`,
    onePass: plan([]),
    twoPasses: [
      { label: "plan -refresh-only", pass: plan(["-refresh-only"]) },
      { label: "plan -refresh=false", pass: plan(["-refresh=false"]) },
    ],
  };
}

interface Measured {
  checks: number[];
  results: StackResult[];
  raw: number[];
  twoPasses: { label: string; times: number[] }[];
  rawLabel: string;
}

/** One warm-up of each, then RUNS rounds of check and raw pass alternating; then the two raw passes for scale. */
async function measure(c: Case): Promise<Measured> {
  const source = new GitSource({ dataDir: c.config.dataDir, logger });
  await checkOnce(c.config, c.stack);
  const checkout = await source.acquire(c.stack.source);
  try {
    const raw = await rawPasses(c, checkout);
    await raw.onePass();
    const checks: number[] = [];
    const results: StackResult[] = [];
    const rawTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      checks.push(await wallTime(async () => results.push(await checkOnce(c.config, c.stack))));
      rawTimes.push(await wallTime(raw.onePass));
    }
    const twoPasses = [];
    for (const pass of raw.twoPasses) twoPasses.push({ label: pass.label, times: await wallTimes(RUNS, pass.pass) });
    return { checks, results, raw: rawTimes, twoPasses, rawLabel: raw.label };
  } finally {
    await checkout.release();
  }
}

function report(c: Case, m: Measured): string[] {
  const checkMs = median(m.checks);
  const rawMs = median(m.raw);
  const twoPassMs = sum(m.twoPasses.map((pass) => median(pass.times)));
  const outside = median(m.results.map((r, i) => m.checks[i]! - sum(Object.values(r.phases ?? {}))));
  const line = (label: string, value: string) => `  ${label.padEnd(30)}${value}`;
  const ratio = checkMs / rawMs;
  const difference = (checkMs - rawMs) / 1000;
  const verdict = (ok: boolean) => (ok ? "met" : "NOT met");
  return [
    `${c.stack.engine === "pulumi" ? "pulumi" : tofuCli.flavor}, ${c.title} (${c.kind}, ${c.resources} resources)`,
    line("driftwatch check (warm):", `${seconds(checkMs)}   (each: ${m.checks.map(seconds).join(" ")})`),
    line(`${m.rawLabel}:`, `${seconds(rawMs)}   (each: ${m.raw.map(seconds).join(" ")})`),
    c.kind === "realistic"
      ? line("ratio check / raw:", `${ratio.toFixed(2)}   target ≤ 1.10: ${verdict(ratio <= 1.1)}   (difference ${difference >= 0 ? "+" : ""}${difference.toFixed(2)} s)`)
      : line("difference check − raw:", `${difference >= 0 ? "+" : ""}${difference.toFixed(2)} s   target ≤ +0.5 s: ${verdict(difference <= 0.5)}   (ratio ${ratio.toFixed(2)})`),
    line("phases (median):", `${phaseLine(phaseStat(m.results, median))}; outside ${Math.round(outside)} ms`),
    line("for scale, two raw passes:", `${m.twoPasses.map((pass) => `${pass.label} ${seconds(median(pass.times))}`).join(" + ")} = ${seconds(twoPassMs)}; check / two passes ${(checkMs / twoPassMs).toFixed(2)}`),
  ];
}

const demoConfig = loadConfig(join(repoRoot, "driftwatch.yaml"));
const scratchRoot = mkdtempSync(join(tmpdir(), "driftwatch-bench-check-vs-refresh-"));
const cases: Case[] = [];
try {
  if (KINDS.includes("demo")) {
    const pulumi = stackOf(demoConfig, "demo-files", "pulumi");
    const tofu = stackOf(demoConfig, "demo-files-tf", "terraform");
    await deploy({ config: demoConfig, toolchain, logger, only: [pulumi.name, tofu.name], concurrency: 1 });
    cases.push({ title: pulumi.name, kind: "demo", config: demoConfig, stack: pulumi, resources: 2 }, { title: tofu.name, kind: "demo", config: demoConfig, stack: tofu, resources: 3 });
  }
  if (KINDS.includes("realistic")) {
    const config = await realisticConfig(scratchRoot, demoConfig);
    const pulumi = stackOf(config, "realistic-pulumi", "pulumi");
    const tofu = stackOf(config, "realistic-tofu", "terraform");
    await deploy({ config, toolchain, logger, only: [pulumi.name, tofu.name], concurrency: 1 });
    cases.push({ title: pulumi.name, kind: "realistic", config, stack: pulumi, resources: 52 }, { title: tofu.name, kind: "realistic", config, stack: tofu, resources: 52 });
  }
  // Each stack's figures as soon as they are there: the whole run takes minutes.
  process.stdout.write(`runs: ${RUNS} each (median), check and raw pass alternating\n`);
  for (const c of cases) process.stdout.write(`${report(c, await measure(c)).join("\n")}\n`);
} finally {
  rmSync(scratchRoot, { recursive: true, force: true });
}
