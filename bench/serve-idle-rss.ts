// Resident memory of an idle `driftwatch serve` watching 1,000 stacks (target: < 150 MB). The stacks are
// Terraform stacks of one repository; nothing runs (no start-up check, a yearly schedule), so what is measured is
// the service itself: config, scheduler with 1,000 cron tasks, HTTP server, metrics, store.
//
//   npm run bench -- serve-idle-rss        STACKS=N to change the count
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SERVICE_ENV, SERVICE_NODE_FLAGS } from "../src/service/runtime.ts";
import { rssMiB, scratch, serve, sleep } from "./support.ts";

const STACKS = Number(process.env.STACKS ?? 1000);
const { root, repo } = scratch("rss");
const lines = [`dataDir: ${join(root, "data")}`, 'service: { runOnStart: false, gitPollSeconds: 60, schedule: "0 0 1 1 *" }', "alerts: { log: false }", "stacks:"];
for (let i = 0; i < STACKS; i += 1) {
  lines.push(`  - { name: stack-${i}, engine: terraform, source: { repo: ${repo}, path: files }, terraform: { vars: { dir: ${join(root, "world", String(i))} } } }`);
}
const config = join(root, "driftwatch.yaml");
writeFileSync(config, `${lines.join("\n")}\n`);

async function measure(tuned: boolean): Promise<number> {
  const served = await serve(config, process.env, tuned);
  try {
    await sleep(5000); // settle: the first git poll, lazy initialisation, a GC or two
    const samples: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      await fetch(new URL("/metrics", served.url)).then((r) => r.text());
      await fetch(new URL("/api/stacks", served.url)).then((r) => r.text());
      await fetch(served.url).then((r) => r.text());
      samples.push(rssMiB(served.child.pid!));
      await sleep(1000);
    }
    return Math.max(...samples);
  } finally {
    await served.stop();
  }
}

try {
  const plain = await measure(false);
  const tuned = await measure(true);
  const mb = (mib: number) => `${mib.toFixed(1)} MiB = ${(mib * 1.048576).toFixed(1)} MB`;
  console.log(`stacks configured: ${STACKS} (config ${(readFileSync(config).length / 1024).toFixed(0)} KiB)`);
  console.log(`idle RSS, max of 5 samples while /metrics, /api/stacks and / are read:`);
  const settings = [...SERVICE_NODE_FLAGS, ...Object.entries(SERVICE_ENV).map(([k, v]) => `${k}=${v}`)].join(" ");
  console.log(`  as npm start runs it (${settings}): ${mb(tuned)} (target < 150 MB)`);
  console.log(`  plain node defaults:                                          ${mb(plain)}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
