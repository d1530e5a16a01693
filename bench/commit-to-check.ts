// How long after a commit is pushed the service starts checking the stack it touches (target: ≤ 10 s at a 5 s
// poll). A real repository, a real `driftwatch serve` polling it every 5 s; the start of the check is seen on
// /api/stacks (state "running"). Prints every sample, the median and the worst.
//
//   npm run bench -- commit-to-check       SAMPLES=N to change the count
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commitFiles } from "../test/support/git.ts";
import { FILES_MODULE, median, scratch, serve, sleep } from "./support.ts";

const SAMPLES = Number(process.env.SAMPLES ?? 5);
const { root, repo } = scratch("commit");
const config = join(root, "driftwatch.yaml");
writeFileSync(
  config,
  [
    `dataDir: ${join(root, "data")}`,
    'service: { runOnStart: true, gitPollSeconds: 5, jitterSeconds: 0, schedule: "0 0 1 1 *" }',
    "alerts: { log: false }",
    "stacks:",
    `  - { name: files, engine: terraform, source: { repo: ${repo}, path: files }, terraform: { vars: { dir: ${join(root, "world")} } } }`,
    "",
  ].join("\n"),
);

const served = await serve(config);
const state = async () => ((await (await fetch(new URL("/api/stacks/files", served.url))).json()) as { state: string }).state;
try {
  while ((await state()) !== "idle") await sleep(200); // the start-up check
  await sleep(6000); // the watcher has seen the current commit
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    // Commit at a random point of the poll cycle.
    await sleep(Math.random() * 5000);
    const committed = performance.now();
    commitFiles(repo, { "files/main.tf": `${FILES_MODULE}# revision ${i}\n` }, `revision ${i}`);
    while ((await state()) !== "running") await sleep(50);
    samples.push((performance.now() - committed) / 1000);
    while ((await state()) !== "idle") await sleep(200);
  }
  console.log(`samples (s):  ${samples.map((s) => s.toFixed(2)).join(", ")}`);
  console.log(`commit → check started: median ${median(samples).toFixed(2)} s, worst ${Math.max(...samples).toFixed(2)} s (poll 5 s; target ≤ 10 s)`);
} finally {
  await served.stop();
  rmSync(root, { recursive: true, force: true });
}
