// What verifying the shared npm dependency cache costs a Pulumi run: the demo program's entry (its
// @pulumi/pulumi tree) fingerprinted by content (the first use in a process) and by state (every later use).
//
//   npm run bench -- dependency-verification      (uses driftwatch.yaml at the repo root and its .driftwatch/)
import { readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../src/config/load.ts";
import { createLogger } from "../src/core/logger.ts";
import { worktreeFolder } from "../src/core/worktree-file.ts";
import { contentFingerprint, stateFingerprint } from "../src/engines/pulumi/dependency-integrity.ts";
import { ensureDependencies } from "../src/engines/pulumi/dependencies.ts";
import { GitSource } from "../src/sources/git/index.ts";
import { sandboxFor } from "../test/support/sandbox.ts";
import { readToolchainManifest, toolchainEnv } from "../src/toolchain/manifest.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import { median } from "./support.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const config = loadConfig(join(repoRoot, "driftwatch.yaml"));
const stack = config.stacks.find((s) => s.name === "demo-files");
if (!stack) throw new Error("driftwatch.yaml has no stack named demo-files");
const logger = createLogger({ level: "warn" });

const source = new GitSource({ dataDir: config.dataDir, logger });
const acquired = await source.acquire(stack.source);
const folder = worktreeFolder(acquired.dir, stack.source.path);
const env = { ...toolchainEnv(readToolchainManifest()), ...stack.env };
await ensureDependencies({ folder, stack: stack.name, cacheDir: config.cacheDir, env, logger, sandbox: sandboxFor(stack, acquired.dir, config.dataDir), signal: AbortSignal.timeout(600_000) });
const tree = readlinkSync(join(folder.dir, "node_modules")); // the cache entry the worktree links to
await acquired.release();

async function times(fingerprint: (root: string) => Promise<string>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await fingerprint(tree);
    out.push(performance.now() - started);
  }
  return out;
}

const files = readdirSync(tree, { recursive: true }).length;
const content = await times(contentFingerprint);
const state = await times(stateFingerprint);
const ms = (values: number[]) => `median ${Math.round(median(values))} ms (${values.map((v) => Math.round(v)).join(", ")})`;
process.stdout.write(`entry: ${tree} (${files} paths)\n`);
process.stdout.write(`content fingerprint (first use in a process): ${ms(content)}\n`);
process.stdout.write(`state fingerprint (every later use):          ${ms(state)}\n`);
