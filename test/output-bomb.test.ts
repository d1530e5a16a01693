// One commit must not be able to crash Driftwatch through a tool's output. A kustomization that includes the one
// before it twice, ten levels deep, multiplied a 0.6 MB ConfigMap 1,024 times: `kustomize build` printed 614 MB,
// more than a JavaScript string holds (536,870,888 characters). Buffered whole and decoded as one string, that
// ended the process (ERR_STRING_TOO_LONG thrown in a 'close' handler), losing every other stack's result. Now
// kustomize is killed at 64 MiB, that stack's result is an OutputTooLargeError, the stack beside it gets its
// normal verdict, and memory stays bounded. Nine levels (307 MB) are enough to show it: buffered whole and
// decoded, they would take this process more than 600 MB over its baseline, against the 400 MB the test allows,
// and no OutputTooLargeError would be reported; ten cost kustomize about a minute and 2.4 GiB more (it writes
// nothing before it has built everything).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { startKubeCluster, type LocalCluster } from "./support/kube-cluster.ts";
import { processesUnder } from "./support/processes.ts";
import { engineTimeout } from "./support/timeouts.ts";

const MiB = 1024 * 1024;
/** The ConfigMap's value: 2^LEVELS copies of it are what kustomize renders. */
const VALUE_BYTES = 600_000;
const LEVELS = 9;

/** The kustomization tree: level 0 holds the ConfigMap; level n includes level n-1 twice, under suffixes -a and -b. */
function bombFiles(base: string): Record<string, string> {
  const files: Record<string, string> = {
    [`${base}/l0/configmap.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: blob\ndata:\n  value: ${"x".repeat(VALUE_BYTES)}\n`,
    [`${base}/l0/kustomization.yaml`]: "resources:\n  - configmap.yaml\n",
  };
  for (let level = 1; level <= LEVELS; level++) {
    for (const half of ["a", "b"]) files[`${base}/l${level}/${half}/kustomization.yaml`] = `nameSuffix: -${half}\nresources:\n  - ../../l${level - 1}\n`;
    files[`${base}/l${level}/kustomization.yaml`] = "resources:\n  - a\n  - b\n";
  }
  return files;
}

const HEALTHY = [
  "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dw-healthy\n",
  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: dw-healthy\ndata:\n  greeting: hello\n",
].join("---\n");

const results = (stdout: string) => Object.fromEntries((JSON.parse(stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));

describe("a kustomization that renders hundreds of MB", () => {
  const root = mkdtempSync(join(tmpdir(), "driftwatch-bomb-"));
  const repo = join(root, "repo");
  const dataDir = join(root, "data");
  const config = join(root, "driftwatch.yaml");
  let cluster: LocalCluster;
  let env: NodeJS.ProcessEnv;

  const stack = (name: string, path: string) =>
    [
      `  - name: ${name}`,
      "    engine: kubernetes",
      `    source: { repo: ${repo}, ref: main, path: ${path} }`,
      // Far beyond kustomize's own time to render (about a minute alone): the run must end by the output limit.
      "    timeoutSeconds: 1800",
      "    kubernetes:",
      "      kubeconfig: ${env:TEST_KUBECONFIG}",
    ].join("\n");

  beforeAll(async () => {
    cluster = await startKubeCluster();
    env = { TEST_KUBECONFIG: cluster.kubeconfig };
    git(root, "init", "-q", "-b", "main", repo);
    commitFiles(repo, { "clusters/healthy/all.yaml": HEALTHY, ...bombFiles("clusters/bomb") }, "a healthy stack and a kustomization that doubles nine times");
    writeFileSync(config, [`dataDir: ${dataDir}`, "alerts: { log: false }", "stacks:", stack("healthy", "clusters/healthy"), stack("bomb", `clusters/bomb/l${LEVELS}`), ""].join("\n"));
    const converged = await driftwatch(["--config", config, "converge", "healthy", "--json"], env);
    expect(converged.code, converged.stdout + converged.stderr).toBe(0);
  }, engineTimeout(30));
  afterAll(async () => {
    await cluster?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it(
    "ends that stack's run with OutputTooLargeError; the other stack's verdict stands; memory stays bounded",
    async () => {
      // The peak of this process's resident memory while the check runs (the CLI runs in this process).
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      let kustomizeSeen = false;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
        kustomizeSeen ||= processesUnder(root, /kustomize build/).length > 0;
      }, 50);
      let run;
      try {
        run = await driftwatch(["--config", config, "check", "--json"], env);
      } finally {
        clearInterval(sampler);
      }

      expect(run.code, run.stderr.slice(-4000)).toBe(1);
      const byStack = results(run.stdout);
      expect(byStack.healthy, run.stdout).toMatchObject({ verdict: "in-sync", changes: [] });
      expect(byStack.healthy!.error).toBeUndefined();
      const bomb = byStack.bomb!;
      expect(bomb.verdict).toBe("error");
      expect(bomb.error?.kind, run.stdout).toBe("OutputTooLargeError");
      expect(bomb.error?.message).toBe("stack bomb: kustomize build wrote more than 64 MiB of output; it was stopped and its output was not used");
      // The run is recorded with that error, like any failed run.
      const history = await driftwatch(["--config", config, "history", "bomb", "--json"], env);
      expect(history.code, history.stderr).toBe(0);
      const [recorded] = (JSON.parse(history.stdout) as { runs: StackResult[] }).runs;
      expect(recorded).toMatchObject({ runId: bomb.runId, verdict: "error", error: bomb.error });

      // kustomize ran, and nothing of its process group is left.
      expect(kustomizeSeen).toBe(true);
      expect(processesUnder(root, /kustomize/)).toEqual([]);
      // At most the 64 MiB kept before the kill, and the rest of the run: nowhere near the 307 MB rendered.
      expect(peak - baseline, `peak ${Math.round(peak / MiB)} MiB, baseline ${Math.round(baseline / MiB)} MiB`).toBeLessThan(400 * MiB);
    },
    engineTimeout(90),
  );
});
