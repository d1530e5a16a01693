// How long from an out-of-band change to the alert, on a one-minute schedule: a file managed by a Terraform
// stack is deleted behind its back, and the time until the local Slack stand-in receives the episode's message
// is measured. Expect up to a minute (where in the cron minute the change falls) plus the jitter and the check.
//
//   npm run bench -- drift-to-alert        SAMPLES=N to change the count (each takes up to ~1 minute)
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SlackServer } from "../test/support/slack-server.ts";
import { median, scratch, serve, sleep } from "./support.ts";

const SAMPLES = Number(process.env.SAMPLES ?? 2);
const TOKEN = "xoxb-bench";
const slack = await SlackServer.start(TOKEN);
const { root, repo } = scratch("alert");
const world = join(root, "world");
const config = join(root, "driftwatch.yaml");
writeFileSync(
  config,
  [
    `dataDir: ${join(root, "data")}`,
    'service: { runOnStart: true, gitPollSeconds: 0, jitterSeconds: 5, schedule: "* * * * *" }',
    `alerts: { log: false, slack: { channel: "#bench", apiUrl: "${slack.url}" } }`,
    "stacks:",
    `  - { name: files, engine: terraform, source: { repo: ${repo}, path: files }, terraform: { vars: { dir: ${world} } }, sandbox: { readWrite: [${world}] } }`,
    "",
  ].join("\n"),
);

const served = await serve(config, { ...process.env, SLACK_BOT_TOKEN: TOKEN });
const posts = () => slack.calls("chat.postMessage").length + slack.calls("chat.update").length;
try {
  // Bring the stack in sync once, outside the service, with the same data directory.
  const { spawnSync } = await import("node:child_process");
  const converge = spawnSync(process.execPath, [join(import.meta.dirname, "..", "src", "cli", "main.ts"), "--config", config, "--log-level", "error", "converge", "files"], {
    encoding: "utf8",
    env: { ...process.env, SLACK_BOT_TOKEN: TOKEN },
  });
  if (converge.status !== 0) throw new Error(`converge failed: ${converge.stdout}${converge.stderr}`);
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    await sleep(Math.random() * 10_000);
    const before = slack.calls("chat.postMessage").filter((c) => !c.body.thread_ts).length;
    const changed = performance.now();
    rmSync(join(world, "a.txt"));
    while (slack.calls("chat.postMessage").filter((c) => !c.body.thread_ts).length === before) await sleep(100);
    samples.push((performance.now() - changed) / 1000);
    const settled = posts();
    // Back in sync for the next sample: converge, then wait for the resolution to be posted.
    spawnSync(process.execPath, [join(import.meta.dirname, "..", "src", "cli", "main.ts"), "--config", config, "--log-level", "error", "converge", "files"], {
      env: { ...process.env, SLACK_BOT_TOKEN: TOKEN },
    });
    while (posts() === settled) await sleep(200);
  }
  console.log(`samples (s): ${samples.map((s) => s.toFixed(1)).join(", ")}`);
  console.log(`out-of-band change → Slack alert: median ${median(samples).toFixed(1)} s, worst ${Math.max(...samples).toFixed(1)} s (schedule every minute, jitter ≤ 5 s)`);
} finally {
  await served.stop();
  await slack.close();
  rmSync(root, { recursive: true, force: true });
}
