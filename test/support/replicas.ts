// Real `driftwatch serve` replicas for the fleet tests: a child process per replica (its own config file and
// dataDir, one shared database), started until it says where it serves, stopped gracefully or killed with -9
// together with every engine it started.
//
//   const replica = await startReplica({ name: "a", config: "/tmp/x/a.yaml", dataDir: "/tmp/x/a", env: { DATABASE_URL: url } });
//   await fetch(new URL("/api/stacks", replica.url));
//   await stopReplica(replica); // or killReplica(replica)
import type { ChildProcess } from "node:child_process";
import { manifestPath } from "../../src/toolchain/paths.ts";
import { killAll, processesUnder } from "./processes.ts";
import { startServeChild, stopServeChild } from "./serve-process.ts";
import { sharedCacheDir } from "./tempdir.ts";

export interface Replica {
  name: string;
  dataDir: string;
  child: ChildProcess;
  /** Where it serves, e.g. http://127.0.0.1:40123/ */
  url: string;
  exited: Promise<number | null>;
  /** Every stderr line so far (JSON log lines, at level info). */
  log: string[];
}

export interface ReplicaSpec {
  name: string;
  /** Its driftwatch.yaml. */
  config: string;
  /** The config's dataDir: where killReplica looks for the engines it left running. */
  dataDir: string;
  /** On top of this process's environment (DATABASE_URL, tokens). */
  env: NodeJS.ProcessEnv;
}

/**
 * The top of a replica's driftwatch.yaml: its own dataDir, the tests' shared cache, the database from
 * ${env:DATABASE_URL} with a 10 s heartbeat (a killed replica's check is taken over within about 20 s).
 */
export function replicaConfigHead(dataDir: string): string[] {
  return [`dataDir: ${dataDir}`, `cacheDir: ${sharedCacheDir}`, "database:", "  url: ${env:DATABASE_URL}", "  heartbeatSeconds: 10"];
}

/** Starts `driftwatch serve` and resolves once it serves; rejects if it exits first (with its last log lines). */
export async function startReplica(spec: ReplicaSpec): Promise<Replica> {
  const env = {
    ...process.env,
    DRIFTWATCH_TOOLCHAIN: process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath(),
    DRIFTWATCH_LOG_LEVEL: "info",
    ...spec.env,
  };
  const served = await startServeChild(spec.config, env, `replica ${spec.name}`);
  return { name: spec.name, dataDir: spec.dataDir, child: served.child, url: served.url, exited: served.exited, log: served.log };
}

/** SIGTERM, and waits for the graceful stop. */
export async function stopReplica(replica: Replica): Promise<void> {
  await stopServeChild(replica);
}

/** kill -9 of the replica and of every process it started (a machine going away takes them all). */
export async function killReplica(replica: Replica): Promise<void> {
  replica.child.kill("SIGKILL");
  await replica.exited;
  killAll(processesUnder(replica.dataDir));
}
