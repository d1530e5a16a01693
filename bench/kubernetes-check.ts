// Wall time of `driftwatch check` on the example Kubernetes stack (stacks/demo-k8s, its Kustomize overlay) against
// a local API server (the tests' etcd + kube-apiserver), next to `kubectl diff --server-side -k` of the same
// overlay, the comparison users run by hand. Both in sync, warm (mirror fetched, discovery answered once before).
//
//   npm run bench -- kubernetes-check        (BENCH_RUNS=5 by default; needs kubectl on PATH for the comparison)
//
// check does more than kubectl diff: a git fetch and worktree, dry runs of the last apply (drift) and of Git
// (pending) told apart, Secret digests, and a database write.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config/load.ts";
import { createLogger } from "../src/core/logger.ts";
import { check, converge } from "../src/run/check.ts";
import { readToolchainManifest } from "../src/toolchain/manifest.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import { startLocalCluster } from "../src/toolchain/local-cluster.ts";
import { commitFiles, git } from "../test/support/git.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const toolchain = readToolchainManifest();
const tools = toolchain.kubernetes;
if (!tools?.etcd || !tools.kubeApiserver) throw new Error("no etcd/kube-apiserver in the toolchain: run 'npm run provision'");

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const root = mkdtempSync(join(tmpdir(), "driftwatch-bench-k8s-"));
const cluster = await startLocalCluster({ etcd: tools.etcd.bin, kubeApiserver: tools.kubeApiserver.bin, users: [], readyTimeoutMs: 120_000 });
try {
  const repo = join(root, "repo");
  mkdirSync(repo);
  git(repo, "init", "-q", "-b", "main");
  cpSync(join(repoRoot, "stacks", "demo-k8s"), join(repo, "stacks", "demo-k8s"), { recursive: true });
  commitFiles(repo, {}, "the example");
  const file = join(root, "driftwatch.yaml");
  writeFileSync(
    file,
    [
      `dataDir: ${join(root, "data")}`,
      "alerts: { log: false }",
      "stacks:",
      "  - name: demo-k8s",
      "    engine: kubernetes",
      `    source: { repo: ${repo}, path: stacks/demo-k8s/overlays/local }`,
      `    kubernetes: { kubeconfig: ${cluster.kubeconfig}, namespace: demo }`,
      "",
    ].join("\n"),
  );
  const config = loadConfig(file);
  const logger = createLogger({ level: "warn" });
  const [applied] = await converge({ config, toolchain, logger, only: ["demo-k8s"], concurrency: 1 });
  if (applied!.verdict !== "in-sync") throw new Error(`converge left ${applied!.verdict}: ${applied!.error?.message ?? ""}`);

  const timeCheck = async () => {
    const started = performance.now();
    const [result] = await check({ config, toolchain, logger, only: ["demo-k8s"], concurrency: 1 });
    if (result!.verdict !== "in-sync") throw new Error(`check says ${result!.verdict}: ${result!.error?.message ?? JSON.stringify(result!.changes)}`);
    return performance.now() - started;
  };
  await timeCheck(); // warm-up
  const checkTimes: number[] = [];
  for (let i = 0; i < RUNS; i++) checkTimes.push(await timeCheck());

  const overlay = join(repo, "stacks", "demo-k8s", "overlays", "local");
  const kubectl = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
  const diffTimes: number[] = [];
  if (kubectl.status === 0) {
    const diff = () => spawnSync("kubectl", ["diff", "--server-side", "--force-conflicts", "--field-manager=driftwatch", "-k", overlay], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, encoding: "utf8" });
    diff(); // warm-up (kubectl's discovery cache)
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      const run = diff();
      diffTimes.push(performance.now() - started);
      if (run.status !== 0 && run.status !== 1) throw new Error(`kubectl diff failed (${run.status}): ${run.stderr}`);
    }
  }
  const checkMs = median(checkTimes);
  const lines = [`runs: ${RUNS} each (median)`, `driftwatch check demo-k8s (warm, in sync): ${(checkMs / 1000).toFixed(2)}s`];
  if (diffTimes.length) {
    const diffMs = median(diffTimes);
    lines.push(`kubectl diff --server-side -k:            ${(diffMs / 1000).toFixed(2)}s`, `ratio check / kubectl diff:               ${(checkMs / diffMs).toFixed(2)}`);
  } else {
    lines.push("kubectl is not on PATH: no comparison");
  }
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await cluster.stop();
  rmSync(root, { recursive: true, force: true });
}
