// Wall time of `driftwatch check` on the demo stack (warm: mirror fetched, dependencies cached) against the raw
// `pulumi refresh --preview-only` on the same stack, same worktree, same backend. Prints both and the ratio.
//
//   npm run bench            (provisions first; uses driftwatch.yaml at the repo root and its .driftwatch/)
//
// check does more than the raw refresh: a git fetch, a worktree, the refresh preview AND a preview of Git's
// pending changes, and a database write. The ratio says what that costs.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { loadConfig } from "../src/config/load.ts";
import { createLogger } from "../src/core/logger.ts";
import { worktreeFolder } from "../src/core/worktree-file.ts";
import { ensureDependencies } from "../src/engines/pulumi/dependencies.ts";
import { check } from "../src/run/check.ts";
import { GitSource } from "../src/sources/git/index.ts";
import { readToolchainManifest, toolchainEnv } from "../src/toolchain/manifest.ts";
import { repoRoot } from "../src/toolchain/paths.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const config = loadConfig(join(repoRoot, "driftwatch.yaml"));
const found = config.stacks.find((s) => s.name === "demo-files");
if (found?.engine !== "pulumi") throw new Error("driftwatch.yaml has no pulumi stack named demo-files");
const stack = found;
const toolchain = readToolchainManifest();
const logger = createLogger({ level: "warn" });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timeCheck(): Promise<number> {
  const started = performance.now();
  const [result] = await check({ config, toolchain, logger, only: ["demo-files"], concurrency: 1 });
  if (result!.verdict === "error") throw new Error(`check failed: ${result!.error!.message}`);
  return performance.now() - started;
}

// Warm-up: fetch, worktree, npm install into the cache, stack creation.
await timeCheck();

const checkTimes: number[] = [];
for (let i = 0; i < RUNS; i++) checkTimes.push(await timeCheck());

const source = new GitSource({ dataDir: config.dataDir, logger });
const acquired = await source.acquire(stack.source);
const env = { ...toolchainEnv(toolchain), ...stack.env, PULUMI_BACKEND_URL: stack.pulumi.backendUrl, PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
await ensureDependencies({ folder: worktreeFolder(acquired.dir, stack.source.path), stack: stack.name, cacheDir: config.cacheDir, env, logger });
function timeRaw(args: string[]): number[] {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const raw = spawnSync(toolchain.pulumi.bin, [...args, "--non-interactive", "--stack", stack.pulumi.stack, "--cwd", acquired.dir], { env, encoding: "utf8" });
    if (raw.status !== 0) throw new Error(`pulumi ${args.join(" ")} failed:\n${raw.stdout}${raw.stderr}`);
    times.push(performance.now() - started);
  }
  return times;
}
const refreshTimes = timeRaw(["refresh", "--preview-only"]);
const previewTimes = timeRaw(["preview"]);
await acquired.release();

const checkMs = median(checkTimes);
const refreshMs = median(refreshTimes);
const previewMs = median(previewTimes);
process.stdout.write(
  [
    `runs: ${RUNS} each (median)`,
    `driftwatch check demo-files (warm): ${(checkMs / 1000).toFixed(2)}s`,
    `pulumi refresh --preview-only:      ${(refreshMs / 1000).toFixed(2)}s`,
    `ratio check / raw refresh:          ${(checkMs / refreshMs).toFixed(2)}`,
    `for scale, pulumi preview:          ${(previewMs / 1000).toFixed(2)}s (check also answers this; refresh + preview = ${((refreshMs + previewMs) / 1000).toFixed(2)}s)`,
    "",
  ].join("\n"),
);
