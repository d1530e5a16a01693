// `driftwatch check` of real public Kubernetes manifests (bench/fixtures/kubernetes-public: one stack per folder,
// where each comes from in SOURCES.md) against `kubectl diff --server-side` of the same objects, on the local API
// server (the tests' etcd + kube-apiserver). Both warm and in sync.
//
//   npm run bench -- kubernetes-public      (BENCH_RUNS=5 by default; needs kubectl on PATH)
//
// The stacks are committed into a scratch Git repository, each gets a driftwatch.yaml entry (its folder, its
// namespace from stacks.json), the namespaces are created, and `driftwatch converge` records every stack's apply.
// Then, alternating after one warm-up of each side (medians of BENCH_RUNS):
//
// - driftwatch: `driftwatch --config <file> check --json` of all stacks as an installed user runs it: the compiled
//   CLI (dist/cli/bin.js, what `npm pack` ships) on plain `node`, a fresh process each time, with the user's
//   environment (no DRIFTWATCH_TOOLCHAIN: the installed CLI finds its provisioned toolchain itself), at its default
//   concurrency. Every stack must say in-sync and the process exit 0.
// - kubectl: `kubectl diff --server-side -n <namespace>` with `-k <folder>` for a kustomization and `-R -f <folder>`
//   otherwise, once per stack, one after another: the loop a user writes over their stacks, since the stacks have
//   their own namespaces and render modes and one `kubectl diff` cannot take them all. kubectl keeps its discovery
//   cache (~/.kube/cache) between runs, as a user's does. Every run must exit 0 (no difference). For scale, the same
//   loop two stacks at a time (the machine's cores, as Driftwatch's default) is printed too.
//
// check does more than kubectl diff: a git fetch and a worktree per stack, two comparisons told apart per object
// (drift: live against a dry run of the last apply; pending: Git against the last apply), Secret digests, and a
// database write per stack.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { loadConfig } from "../src/config/load.ts";
import { createLogger } from "../src/core/logger.ts";
import type { StackResult } from "../src/core/types.ts";
import { parseManifests } from "../src/engines/kubernetes/render.ts";
import { readToolchainManifest } from "../src/toolchain/manifest.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import { startLocalCluster } from "../src/toolchain/local-cluster.ts";
import { commitFiles, git } from "../test/support/git.ts";
import { compiledBin, deploy, median, phaseLine, phaseStat, seconds } from "./support.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET = 1.2;
const fixtures = join(repoRoot, "bench", "fixtures", "kubernetes-public");
const toolchain = readToolchainManifest();
const tools = toolchain.kubernetes;
if (!tools?.etcd || !tools.kubeApiserver) throw new Error("no etcd/kube-apiserver in the toolchain: run 'npm run provision'");
if (spawnSync("kubectl", ["version", "--client"]).status !== 0) throw new Error("kubectl is not on PATH: it is what check is compared with");

interface StackEntry {
  name: string;
  namespace: string;
  kustomize: boolean;
}

const listed = JSON.parse(readFileSync(join(fixtures, "stacks.json"), "utf8")) as Record<string, { namespace: string }>;
const folders = readdirSync(fixtures).filter((name) => statSync(join(fixtures, name)).isDirectory()).sort();
const unlisted = folders.filter((name) => !listed[name]);
if (unlisted.length) throw new Error(`stacks.json has no entry for ${unlisted.join(", ")}`);
const stacks: StackEntry[] = folders.map((name) => ({ name, namespace: listed[name]!.namespace, kustomize: existsSync(join(fixtures, name, "kustomization.yaml")) }));

/** Every manifest file below `dir` (plain stacks), as Driftwatch's plain render finds them. */
function manifestFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return manifestFiles(path);
    return /\.(ya?ml|json)$/i.test(entry.name) && !/^kustomization\.ya?ml$/i.test(entry.name) ? [path] : [];
  });
}

/** The objects of a stack (kind and name), rendered as the engine renders them: for counting what is compared. */
function objectsOf(stack: StackEntry): { kind: string; name: string }[] {
  const dir = join(fixtures, stack.name);
  const rendered = stack.kustomize
    ? parseManifests(spawnSync(tools!.kustomize.bin, ["build", dir], { encoding: "utf8" }).stdout, "kustomize build")
    : manifestFiles(dir).flatMap((file) => parseManifests(readFileSync(file, "utf8"), relative(dir, file).split(sep).join("/")));
  return rendered.map(({ object }) => ({ kind: object.kind, name: object.metadata.name }));
}

/** The environment of a user who installed the package: what this process has, without what `npm run bench` adds. */
function userEnv(): NodeJS.ProcessEnv {
  const { DRIFTWATCH_TOOLCHAIN: _toolchain, DRIFTWATCH_NODE: _node, ...env } = process.env;
  return env;
}

function runProcess(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr, ms: performance.now() - started }));
  });
}

const bin = compiledBin();
const root = mkdtempSync(join(tmpdir(), "driftwatch-bench-k8s-public-"));
const cluster = await startLocalCluster({ etcd: tools.etcd.bin, kubeApiserver: tools.kubeApiserver.bin, users: [], readyTimeoutMs: 120_000 });
try {
  const kubeEnv = { ...process.env, KUBECONFIG: cluster.kubeconfig };
  const kubectl = (...args: string[]) => spawnSync("kubectl", args, { env: kubeEnv, encoding: "utf8" });

  const repo = join(root, "repo");
  mkdirSync(repo);
  git(repo, "init", "-q", "-b", "main");
  for (const stack of stacks) cpSync(join(fixtures, stack.name), join(repo, "stacks", stack.name), { recursive: true });
  commitFiles(repo, {}, "public manifests");

  // The namespaces the stacks live in, as a cluster has them before anything is applied (a stack that declares its
  // Namespace object, e.g. ingress-nginx, then applies over it).
  for (const namespace of new Set(stacks.map((s) => s.namespace))) {
    if (kubectl("get", "namespace", namespace).status !== 0) {
      const made = kubectl("create", "namespace", namespace);
      if (made.status !== 0) throw new Error(`kubectl create namespace ${namespace}: ${made.stderr}`);
    }
  }

  const file = join(root, "driftwatch.yaml");
  writeFileSync(
    file,
    [
      `dataDir: ${join(root, "data")}`,
      "alerts: { log: false }",
      "stacks:",
      ...stacks.flatMap((s) => [
        `  - name: ${s.name}`,
        "    engine: kubernetes",
        `    source: { repo: ${repo}, path: stacks/${s.name} }`,
        `    kubernetes: { kubeconfig: ${cluster.kubeconfig}, namespace: ${s.namespace} }`,
      ]),
      "",
    ].join("\n"),
  );
  const config = loadConfig(file);
  const convergeStarted = performance.now();
  await deploy({ config, toolchain, logger: createLogger({ level: "warn" }), concurrency: 2 });
  const convergeMs = performance.now() - convergeStarted;

  const census = stacks.map((s) => ({ stack: s, objects: objectsOf(s) }));
  const objects = census.reduce((n, c) => n + c.objects.length, 0);
  const kinds = new Map<string, number>();
  for (const { objects: list } of census) for (const o of list) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);

  const check = async () => {
    const run = await runProcess(process.execPath, [bin, "--config", file, "check", "--json"], userEnv());
    let results: StackResult[];
    try {
      results = (JSON.parse(run.stdout) as { results: StackResult[] }).results;
    } catch {
      throw new Error(`check did not print JSON (exit ${run.code}): ${run.stderr.slice(0, 2000)}`);
    }
    const off = results.filter((r) => r.verdict !== "in-sync");
    if (off.length || results.length !== stacks.length || run.code !== 0) {
      throw new Error(`check (exit ${run.code}) of ${results.length} stacks: ${off.map((r) => `${r.stack} ${r.verdict} ${r.error?.message ?? JSON.stringify(r.changes).slice(0, 500)}`).join("; ")}`);
    }
    return { ms: run.ms, results };
  };

  const diffArgs = (s: StackEntry) => ["diff", "--server-side", "--force-conflicts", "-n", s.namespace, ...(s.kustomize ? ["-k", join(repo, "stacks", s.name)] : ["-R", "-f", join(repo, "stacks", s.name)])];
  const diffLoop = async (atOnce: number) => {
    const started = performance.now();
    const queue = [...stacks];
    const failed: string[] = [];
    await Promise.all(
      Array.from({ length: atOnce }, async () => {
        for (let s = queue.shift(); s; s = queue.shift()) {
          const run = await runProcess("kubectl", diffArgs(s), kubeEnv);
          if (run.code !== 0) failed.push(`kubectl ${diffArgs(s).join(" ")} exited ${run.code} (1: differences, >1: failed):\n${run.stdout.slice(0, 3000)}${run.stderr.slice(0, 2000)}`);
        }
      }),
    );
    if (failed.length) throw new Error(failed.join("\n"));
    return performance.now() - started;
  };

  // Warm-up: Driftwatch's mirror and worktrees, kubectl's discovery cache.
  await check();
  await diffLoop(1);
  const checkTimes: number[] = [];
  const diffTimes: number[] = [];
  const parallelTimes: number[] = [];
  const checkResults: StackResult[] = [];
  for (let i = 0; i < RUNS; i++) {
    const { ms, results } = await check();
    checkTimes.push(ms);
    checkResults.push(...results);
    diffTimes.push(await diffLoop(1));
    parallelTimes.push(await diffLoop(2));
  }

  const checkMs = median(checkTimes);
  const diffMs = median(diffTimes);
  const parallelMs = median(parallelTimes);
  const ratio = checkMs / diffMs;
  const lines = [
    `stacks ${stacks.length} (${stacks.filter((s) => s.kustomize).length} kustomize, ${stacks.filter((s) => !s.kustomize).length} plain), objects ${objects}, kinds ${kinds.size}`,
    `  ${[...kinds].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([kind, n]) => `${kind} ${n}`).join(", ")}`,
    `converge of all (library, 2 at once): ${seconds(convergeMs)}`,
    `runs: ${RUNS} each (median), alternating`,
    `driftwatch check (installed CLI, warm, in sync):   ${seconds(checkMs)}   [${checkTimes.map(seconds).join(", ")}]`,
    `kubectl diff --server-side, one stack at a time:   ${seconds(diffMs)}   [${diffTimes.map(seconds).join(", ")}]`,
    `ratio check / kubectl diff:                        ${ratio.toFixed(2)} (target <= ${TARGET.toFixed(2)}: ${ratio <= TARGET ? "met" : "NOT met"})`,
    `for scale, kubectl diff two stacks at a time:      ${seconds(parallelMs)}   (check / that ${(checkMs / parallelMs).toFixed(2)})`,
    `check phases per stack, median: ${phaseLine(phaseStat(checkResults, median))}`,
    `check per stack (median of durationMs): ${Math.round(median(checkResults.map((r) => r.durationMs)))} ms`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await cluster.stop();
  rmSync(root, { recursive: true, force: true });
}
