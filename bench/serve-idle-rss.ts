// Resident memory of an idle `driftwatch serve` watching 10,000 stacks (target: < 200 MB as users run it). The
// stacks are Terraform stacks of one repository; nothing runs (no start-up check, a yearly schedule), so what is
// measured is the service itself: config, scheduler, HTTP server, metrics, store. Each way it is started:
//
//   installed bin     dist/cli/bin.js on plain `node`, as the npm package's bin and the container image's
//                     entrypoint run it (it relaunches serve with the service's runtime settings)
//   npm start         src/cli/main.ts with those settings passed on the command line
//   Node defaults     the installed bin with the relaunch turned off (DRIFTWATCH_SERVICE_FLAGS=off)
//
// on SQLite and on PostgreSQL (the test toolchain's server; the FleetScheduler and the queue's connections).
//
//   npm run bench -- serve-idle-rss        STACKS=N to change the count; WAYS=bin,npm-start,defaults and
//                                          STORES=sqlite,postgres to measure only some (default: all)
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SERVICE_ENV, SERVICE_NODE_FLAGS } from "../src/service/runtime.ts";
import { startPostgres } from "../test/support/postgres.ts";
import { rssMiB, scratch, serve, type ServeHow, sleep } from "./support.ts";

const STACKS = Number(process.env.STACKS ?? 10_000);
const { root, repo } = scratch("rss");

function writeConfig(file: string, database?: string): void {
  const lines = [`dataDir: ${join(root, "data")}`, 'service: { runOnStart: false, gitPollSeconds: 60, schedule: "0 0 1 1 *" }', "alerts: { log: false }"];
  if (database) lines.push(`database: { url: "${database}" }`);
  lines.push("stacks:");
  for (let i = 0; i < STACKS; i += 1) {
    lines.push(`  - { name: stack-${i}, engine: terraform, source: { repo: ${repo}, path: files }, terraform: { vars: { dir: ${join(root, "world", String(i))} } } }`);
  }
  writeFileSync(file, `${lines.join("\n")}\n`);
}

async function measure(config: string, how: ServeHow): Promise<number> {
  const served = await serve(config, process.env, how);
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

const mb = (mib: number) => `${(mib * 1.048576).toFixed(1)} MB`;
const only = (list: string | undefined) => (name: string) => !list || list.split(",").includes(name);
const WAYS = ([
  ["bin", "installed bin (relaunched with the settings)"],
  ["npm-start", "npm start"],
  ["defaults", "Node defaults (DRIFTWATCH_SERVICE_FLAGS=off)"],
] satisfies [ServeHow, string][]).filter(([how]) => only(process.env.WAYS)(how));
const STORES = (["sqlite", "postgres"] as const).filter(only(process.env.STORES));

const postgres = STORES.includes("postgres") ? await startPostgres() : undefined;
try {
  const sqliteConfig = join(root, "driftwatch.yaml");
  writeConfig(sqliteConfig);
  const postgresConfig = join(root, "driftwatch-pg.yaml");
  if (postgres) writeConfig(postgresConfig, await postgres.createDatabase("bench_rss"));
  const settings = [...SERVICE_NODE_FLAGS, ...Object.entries(SERVICE_ENV).map(([k, v]) => `${k}=${v}`)].join(" ");
  console.log(`stacks configured: ${STACKS} (config ${(readFileSync(sqliteConfig).length / 1024).toFixed(0)} KiB); the service's settings: ${settings}`);
  console.log("idle RSS, max of 5 samples while /metrics, /api/stacks and / are read (target < 200 MB):");
  const configs = { sqlite: ["SQLite", sqliteConfig], postgres: ["PostgreSQL", postgresConfig] } as const;
  for (const [store, config] of STORES.map((key) => configs[key])) {
    for (const [how, label] of WAYS) console.log(`  ${store.padEnd(10)} ${label.padEnd(46)} ${mb(await measure(config, how))}`);
  }
} finally {
  await postgres?.stop();
  rmSync(root, { recursive: true, force: true });
}
