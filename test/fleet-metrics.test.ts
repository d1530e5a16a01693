// /metrics of `driftwatch serve` as replicas of a fleet (two services in this process, one real PostgreSQL): each
// replica labels its own series with the name its runs record (host:pid), the replica holding the lead exports the
// stacks' gauges read from the database (runs another replica recorded included), the other one none of them, and
// when the leader stops the lead and the gauges move to the other.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.ts";
import type { DriftwatchConfig } from "../src/config/types.ts";
import { processId } from "../src/core/liveness.ts";
import { startService, type Service } from "../src/service/serve.ts";
import { openPostgresStore } from "../src/store/postgres/index.ts";
import { readToolchainManifest } from "../src/toolchain/manifest.ts";
import { manifestPath } from "../src/toolchain/paths.ts";
import { commitFiles, git } from "./support/git.ts";
import { recordHistory } from "./support/history.ts";
import { type LocalPostgres, startPostgres } from "./support/postgres.ts";
import { until } from "./support/processes.ts";
import { tempDir } from "./support/tempdir.ts";
import { localFilesModule, terraformStackYaml } from "./support/terraform-modules.ts";

const toolchain = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());

let server: LocalPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());
const services: Service[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
});

async function replica(root: string, name: string, databaseUrl: string, repo: string): Promise<{ service: Service; config: DriftwatchConfig }> {
  const file = join(root, `${name}.yaml`);
  const lines = [
    `dataDir: ${join(root, name)}`,
    "database:",
    "  url: ${env:DATABASE_URL}",
    "service:",
    '  schedule: "0 0 1 1 *"', // once a year, and nothing at start: the runs are the ones the test records
    "  runOnStart: false",
    "  jitterSeconds: 0",
    "  gitPollSeconds: 1", // also how often a follower tries to take the lead
    "  stopGraceSeconds: 1",
    "  http: { port: 0 }",
    "stacks:",
  ];
  for (const stack of ["app", "web"]) lines.push(...terraformStackYaml({ name: stack, repo, path: "files", dir: join(root, "world", stack) }));
  writeFileSync(file, `${lines.join("\n")}\n`);
  const env = { ...process.env, DATABASE_URL: databaseUrl };
  const config = loadConfig(file, { env });
  const service = await startService({ config, toolchain, logger: pino({ level: "warn" }), env });
  services.push(service);
  return { service, config };
}

const metricsOf = async (service: Service) => (await fetch(new URL("/metrics", service.url))).text();

describe("/metrics of serve replicas", () => {
  it("labels each replica's own series; the leader alone exports the stacks' gauges, and they move with the lead", async () => {
    const root = tempDir();
    const repo = join(root, "repo");
    mkdirSync(repo, { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    commitFiles(repo, { "files/main.tf": localFilesModule({ a: "alpha\n" }) }, "module");
    const databaseUrl = await server.createDatabase("fleet_metrics");

    const { service: first, config } = await replica(root, "first", databaseUrl, repo); // starts first: takes the lead
    const { service: second } = await replica(root, "second", databaseUrl, repo);
    const store = await openPostgresStore(databaseUrl, { poolSize: 2 });
    try {
      const [app] = config.stacks;
      await recordHistory(store, app!, [{ startedAt: new Date(Date.now() - 60_000).toISOString(), changes: [{ kind: "drift", address: "local_file.a", type: "local_file", action: "delete", properties: [] }] }]);
    } finally {
      await store.close();
    }

    const self = `replica="${processId()}"`;
    const leader = await metricsOf(first);
    const follower = await metricsOf(second);
    expect(leader).toContain(`driftwatch_leader{${self}} 1`);
    expect(follower).toContain(`driftwatch_leader{${self}} 0`);
    expect(leader).toContain('driftwatch_stack_status{stack="app",engine="terraform",status="drifted"} 1');
    expect(leader).toContain('driftwatch_stack_status{stack="web",engine="terraform",status="unknown"} 1');
    expect(leader).toContain('driftwatch_drifted_resources{stack="app"} 1');
    expect(leader).toMatch(/^driftwatch_drift_episode_open_seconds\{stack="app"\} [1-9]\d*(\.\d+)?$/m);
    expect(follower).not.toMatch(/^driftwatch_(stack_status|drifted_resources|last_check_timestamp_seconds|drift_episode_open_seconds)\{/m);
    for (const text of [leader, follower]) {
      expect(text).toContain(`driftwatch_scheduler_skipped_total{${self}} 0`);
      expect(text).toContain(`driftwatch_check_duration_seconds_count{${self}} 0`);
      expect(text).toMatch(new RegExp(`^process_resident_memory_bytes\\{${self}\\} \\d+$`, "m"));
    }

    await first.stop();
    await until(async () => (await metricsOf(second)).includes(`driftwatch_leader{${self}} 1`), 30_000, "the second replica takes the lead");
    const now = await metricsOf(second);
    expect(now).toContain('driftwatch_stack_status{stack="app",engine="terraform",status="drifted"} 1');
    expect(now).toContain('driftwatch_drifted_resources{stack="app"} 1');
  });
});
