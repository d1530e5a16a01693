// What the OS sandbox costs:
//   1. the launcher per process tree an engine starts: `driftwatch-sandbox run --policy … -- /bin/true` through a
//      run's sandbox (policy built, launcher, user + PID namespaces, Landlock, exec) against `/bin/true` started
//      directly. Goal: at most 50 ms per engine run.
//   2. `check` of the demo stacks (driftwatch.yaml at the repo root, converged first, warm) with the sandbox
//      (strict) and without it (off), medians of BENCH_RUNS runs each, alternating.
//
//   npm run bench -- sandbox        (BENCH_RUNS=5, BENCH_LAUNCHES=50)
import { join } from "node:path";
import { loadConfig } from "../src/config/load.ts";
import type { DriftwatchConfig, StackConfig } from "../src/config/types.ts";
import { createLogger } from "../src/core/logger.ts";
import { runTool } from "../src/core/process.ts";
import { check } from "../src/run/check.ts";
import { readToolchainManifest } from "../src/toolchain/manifest.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import { sandboxFor } from "../test/support/sandbox.ts";
import { deploy, median, phaseLine, phaseStat, seconds, wallTime } from "./support.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const LAUNCHES = Number(process.env.BENCH_LAUNCHES ?? 50);
const config = loadConfig(join(repoRoot, "driftwatch.yaml"));
const toolchain = readToolchainManifest();
const logger = createLogger({ level: "warn" });
const demo = config.stacks.filter((s) => s.engine === "pulumi" || s.engine === "terraform");

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

// 1. The launcher's own cost.
const stack = demo.find((s) => s.engine === "terraform")!;
const dir = join(repoRoot, stack.source.path);
const sandbox = sandboxFor(stack, dir, config.dataDir);
const options = { cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, signal: AbortSignal.timeout(60_000) };
const direct: number[] = [];
const confined: number[] = [];
for (let i = 0; i < LAUNCHES; i++) {
  direct.push(await wallTime(() => runTool("/bin/true", [], options)));
  confined.push(
    await wallTime(async () => {
      const result = await sandbox.run("/bin/true", [], options);
      if (result.code !== 0) throw new Error(`the sandboxed /bin/true failed: ${result.stderr}`);
    }),
  );
}
const cost = confined.map((t, i) => t - direct[i]!);
console.log(`launcher: /bin/true direct median ${ms(median(direct))}; in the sandbox median ${ms(median(confined))} (p95 ${ms(percentile(confined, 95))})`);
console.log(`launcher cost per engine run (process tree): median ${ms(median(cost))}, p95 ${ms(percentile(cost, 95))} over ${LAUNCHES} launches (goal: <= 50 ms)`);

// 2. The demo's check with and without the sandbox.
function at(level: StackConfig["sandbox"]["level"]): DriftwatchConfig {
  return { ...config, stacks: config.stacks.map((s) => ({ ...s, sandbox: { ...s.sandbox, level } })) };
}
const only = demo.map((s) => s.name);
await deploy({ config: at("strict"), toolchain, logger, only, concurrency: 1 });
const times: Record<"strict" | "off", number[]> = { strict: [], off: [] };
const results: Record<"strict" | "off", Awaited<ReturnType<typeof check>>> = { strict: [], off: [] };
for (let i = 0; i <= RUNS; i++) {
  for (const level of ["strict", "off"] as const) {
    let outcome: Awaited<ReturnType<typeof check>> = [];
    const time = await wallTime(async () => {
      outcome = await check({ config: at(level), toolchain, logger, only, concurrency: 1 });
    });
    const wrong = outcome.filter((r) => r.verdict !== "in-sync");
    if (wrong.length) throw new Error(`check (${level}) says ${wrong.map((r) => `${r.stack}: ${r.verdict} ${r.error?.message ?? ""}`).join("; ")}`);
    if (i === 0) continue; // warm-up
    times[level].push(time);
    results[level].push(...outcome);
  }
}
for (const level of ["strict", "off"] as const) {
  console.log(`check of the demo stacks (${only.join(", ")}), sandbox ${level}: median ${seconds(median(times[level]))} over ${RUNS} runs`);
  for (const name of only) {
    const mine = results[level].filter((r) => r.stack === name);
    console.log(`  ${name}: median ${seconds(median(mine.map((r) => r.durationMs)))}; phases (median) ${phaseLine(phaseStat(mine, median))}`);
  }
}
console.log(`with the sandbox / without: ${(median(times.strict) / median(times.off)).toFixed(3)}x`);
