// What flapping detection costs a check on a busy store: a stack checked every minute for a day (1,440 runs in
// the 24 h window), with 20 and then 500 resources drifting in every other run (each one flapping), 5 properties
// each. Prints the median and worst time of the history query plus the onset count, as a check does it.
//
//   npm run bench -- flapping-history
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flappingResources, windowStart } from "../src/core/flapping.ts";
import type { ResourceChange } from "../src/core/types.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";

const RUNS = 1_440;
const SAMPLES = Number(process.env.BENCH_RUNS ?? 20);
const policy = { threshold: 3, windowMs: 86_400_000 };
const start = Date.parse("2026-11-22T12:00:00.000Z");

async function measure(resources: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "driftwatch-bench-flapping-"));
  const store = await openSqliteStore(join(dir, "driftwatch.db"));
  try {
    const drift: ResourceChange[] = Array.from({ length: resources }, (_, i) => ({
      kind: "drift",
      address: `aws_instance.web[${i}]`,
      type: "aws_instance",
      action: "update",
      properties: Array.from({ length: 5 }, (_, p) => ({ path: `tags.k${p}`, desired: "x".repeat(40), actual: "y".repeat(40) })),
    }));
    for (let i = 0; i < RUNS; i += 1) {
      const at = new Date(start + i * 60_000).toISOString();
      const changes = i % 2 === 0 ? drift : [];
      await store.recordRun({ runId: `run-${i}`, stack: "web", engine: "terraform", verdict: changes.length ? "drifted" : "in-sync", changes, startedAt: at, finishedAt: at, durationMs: 1000 });
    }
    const now = new Date(start + RUNS * 60_000).toISOString();
    const times: number[] = [];
    let flagged = 0;
    for (let i = 0; i < SAMPLES; i += 1) {
      const began = performance.now();
      const history = await store.driftHistory("web", windowStart(now, policy), drift.map((c) => c.address));
      flagged = flappingResources(history, { startedAt: now, drift }, policy).length;
      times.push(performance.now() - began);
    }
    times.sort((a, b) => a - b);
    return `flapping detection, ${RUNS} runs in the window × ${resources} drifting resources: median ${times[Math.floor(times.length / 2)]!.toFixed(1)} ms, worst ${times.at(-1)!.toFixed(1)} ms over ${SAMPLES} checks (${flagged} flagged)\n`;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const resources of [20, 500]) process.stdout.write(await measure(resources));
