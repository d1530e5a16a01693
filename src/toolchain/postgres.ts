// A real PostgreSQL server for the tests and benchmarks (test/support/postgres.ts): the provisioned binaries
// (src/toolchain/postgres-binaries.ts), a new cluster made by initdb in a new temporary directory, listening on a
// free loopback port and nowhere else (no Unix socket), one superuser with a random password that the server checks
// (scram-sha-256), settings for throwaway data on a busy machine (no fsync), and removed completely by stop().
// As root the server runs as the `postgres` user, since PostgreSQL refuses to run as root; the directory is then
// that user's (0700) in a temp dir it can traverse.
//
//   const server = await startLocalPostgres({ binDir, readyTimeoutMs: 120_000 });
//   const url = await server.createDatabase("runs_test"); // postgres://driftwatch:…@127.0.0.1:<port>/runs_test
//   await server.stop();
import { randomBytes } from "node:crypto";
import { chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import { type ProcessExit, ServerProcess } from "./local-cluster-process.ts";
import { freeLoopbackPort } from "./ports.ts";
import { execAs, lookUpUser, POSTGRES_USER, type RuntimeUser, runningAsRoot, tempDirReachableBy, traversableBy } from "./postgres-user.ts";

export type { ProcessExit } from "./local-cluster-process.ts";
export type { RuntimeUser } from "./postgres-user.ts";

export interface LocalPostgresOptions {
  /** The directory holding initdb and postgres: the toolchain manifest's postgres.binDir. */
  binDir: string;
  /** The PostgreSQL release expected ("18.4"); the server's own report is checked against it when given. */
  version?: string;
  /** Who runs the server when this process is root: the manifest's postgres.runAs, else the `postgres` user. */
  runAs?: RuntimeUser;
  /** The superuser the URLs log in as; "driftwatch" unless given. */
  user?: string;
  /** The database `url` names, made at start; "driftwatch" unless given. */
  database?: string;
  /** Server settings (`-c name=value`) on top of the ones for tests, which they override. */
  settings?: Readonly<Record<string, string | number>>;
  /** How long the server may take to accept connections: a bound for busy machines, not an expectation. */
  readyTimeoutMs?: number;
  /** How long the server gets to exit after the fast-shutdown signal (SIGINT) before SIGKILL. */
  stopGraceMs?: number;
}

export interface LocalPostgres {
  /** postgres://<user>:<password>@127.0.0.1:<port>/<database> */
  url: string;
  host: "127.0.0.1";
  port: number;
  user: string;
  password: string;
  database: string;
  /** What the server reports (SHOW server_version). */
  version: string;
  /** The server's directory (data/ and postgres.log), removed by stop(). */
  dir: string;
  dataDir: string;
  logFile: string;
  pid: number;
  /** The URL of another database of this server, by name (whether it exists or not). */
  urlFor(database: string): string;
  /** Makes a new, empty database (a copy of template1) and returns its URL: a fresh database per test file or test. */
  createDatabase(name: string): Promise<string>;
  /** Settles when the server exits (on its own, or through stop()). */
  exited: Promise<ProcessExit>;
  /** Fast shutdown (SIGINT: open sessions are ended), SIGKILL after the grace period, then the directory is removed. */
  stop(): Promise<void>;
}

/** The server did not start (initdb failed, it exited, or it did not accept connections in time). */
export class LocalPostgresError extends Error {
  override name = "LocalPostgresError";
}

const HOST = "127.0.0.1";
const READY_LINE = "database system is ready to accept connections";
const ADDRESS_IN_USE = /address already in use/i;
const START_ATTEMPTS = 3;
/** Lower case, as PostgreSQL folds unquoted names, and short enough not to be truncated. */
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** For tests: nothing survives a crash, and several replicas with connection pools share one server. */
const TEST_SETTINGS: Readonly<Record<string, string>> = {
  listen_addresses: HOST,
  unix_socket_directories: "",
  max_connections: "200",
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
  jit: "off",
  timezone: "UTC",
  lc_messages: "C",
};

/** What the server and initdb run with: a plain environment, none of the caller's tokens or PG* settings. */
function serverEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C", TZ: "UTC" };
}

function connectionUrl(user: string, password: string, port: number, database: string): string {
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${HOST}:${port}/${encodeURIComponent(database)}`;
}

/** Runs `work` with a connected client, closed afterwards. */
async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => {}); // a server going away under an idle client; the query in flight reports it
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function withLogTail(what: string, server: ServerProcess): string {
  return `${what}\n--- postgres, last output:\n${server.outputTail.trim().slice(-4_000) || "(none)"}`;
}

/** The server's new directory: this process's, or (as root) `user`'s in a temp dir that user can traverse. */
function serverDir(user: RuntimeUser | undefined): string {
  const parent = user ? tempDirReachableBy(user) : tmpdir();
  if (!parent) throw new LocalPostgresError(`the '${user!.name}' user can traverse none of TMPDIR, /var/tmp and /tmp: set TMPDIR to a directory it can`);
  const dir = mkdtempSync(join(parent, "driftwatch-postgres-")); // 0700
  if (user) chownSync(dir, user.uid, user.gid);
  return dir;
}

/** The user the server runs as: none (this process) unless root. */
async function serverUser(options: LocalPostgresOptions): Promise<RuntimeUser | undefined> {
  if (!runningAsRoot()) return undefined;
  const user = options.runAs ?? (await lookUpUser(POSTGRES_USER));
  if (!user) throw new LocalPostgresError(`PostgreSQL refuses to run as root and there is no '${POSTGRES_USER}' user: 'npm run provision' creates it`);
  if (user.uid === 0) throw new LocalPostgresError(`PostgreSQL refuses to run as root: runAs names '${user.name}' (uid 0)`);
  if (!traversableBy(options.binDir, user)) {
    throw new LocalPostgresError(`the '${user.name}' user the server runs as cannot reach ${options.binDir}: 'npm run provision' stages the binaries where it can`);
  }
  return user;
}

/** A new cluster in <dir>/data whose superuser `user` logs in with `password`, checked with scram-sha-256. */
async function initCluster(binDir: string, dir: string, user: string, password: string, runAs: RuntimeUser | undefined): Promise<string> {
  const dataDir = join(dir, "data");
  const passwordFile = join(dir, "password");
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs) chownSync(passwordFile, runAs.uid, runAs.gid);
  const args = [
    `--pgdata=${dataDir}`,
    `--username=${user}`,
    `--pwfile=${passwordFile}`,
    "--auth=scram-sha-256",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
    "--no-instructions",
  ];
  const result = await execAs(runAs, join(binDir, "initdb"), args, { cwd: dir, env: serverEnv() });
  rmSync(passwordFile, { force: true });
  if (result.code !== 0) throw new LocalPostgresError(`initdb failed (exit code ${result.code}):\n${result.output.trim().slice(-4_000)}`);
  return dataDir;
}

function serverArgs(dataDir: string, port: number, settings: LocalPostgresOptions["settings"]): string[] {
  const all = { ...TEST_SETTINGS, ...settings, port: String(port) };
  return ["-D", dataDir, ...Object.entries(all).flatMap(([name, value]) => ["-c", `${name}=${value}`])];
}

/**
 * Waits for the server's "ready to accept connections", then for a query over TCP with the password to answer
 * (its server_version); fails as soon as the server exits, or when `timeoutMs` has passed.
 */
async function waitUntilReady(server: ServerProcess, url: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let said = false;
  let last = "it has not said it is ready";
  for (;;) {
    if (!server.running) {
      const exit = await server.exited;
      throw new LocalPostgresError(withLogTail(`postgres exited (code ${exit.code}, signal ${exit.signal}) before it accepted connections`, server));
    }
    said ||= server.outputTail.includes(READY_LINE);
    if (said) {
      try {
        return await withClient(url, async (client) => (await client.query<{ server_version: string }>("SHOW server_version")).rows[0]!.server_version);
      } catch (error) {
        last = `a query failed: ${error instanceof Error ? error.message : String(error)}`;
        // Class 28, invalid authorization: waiting would not change the answer.
        if (String((error as { code?: unknown }).code).startsWith("28")) throw new LocalPostgresError(withLogTail(`postgres refused its superuser: ${last}`, server));
      }
    }
    if (Date.now() > deadline) throw new LocalPostgresError(withLogTail(`postgres did not accept connections within ${timeoutMs} ms (${last})`, server));
    await delay(50);
  }
}

/**
 * Makes a cluster with initdb and starts PostgreSQL on it, on a free loopback port, once it answers queries. A port
 * is picked, released and then bound by the server, so another process can take it in between: a start that fails
 * on "address already in use" is retried with a new one.
 */
export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const runAs = await serverUser(options);
  const user = options.user ?? "driftwatch";
  const database = options.database ?? "driftwatch";
  if (!DATABASE_NAME.test(database)) throw new RangeError(`database name '${database}': use lower-case letters, digits and _ (at most 63)`);
  const password = randomBytes(18).toString("base64url");
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const graceMs = options.stopGraceMs ?? 10_000;
  const dir = serverDir(runAs);
  const logFile = join(dir, "postgres.log");

  let server: ServerProcess | undefined;
  let port = 0;
  let version: string;
  try {
    const dataDir = await initCluster(options.binDir, dir, user, password, runAs);
    for (let attempt = 1; ; attempt++) {
      port = await freeLoopbackPort();
      server = new ServerProcess("postgres", join(options.binDir, "postgres"), serverArgs(dataDir, port, options.settings), {
        logFile,
        env: serverEnv(),
        cwd: dir,
        ...(runAs ? { user: runAs } : {}),
      });
      try {
        version = await waitUntilReady(server, connectionUrl(user, password, port, "postgres"), readyTimeoutMs);
        break;
      } catch (error) {
        await server.stop(graceMs, "SIGINT");
        if (attempt >= START_ATTEMPTS || !ADDRESS_IN_USE.test(server.outputTail)) throw error;
      }
    }
    if (options.version !== undefined && version.split(" ")[0] !== options.version) {
      throw new LocalPostgresError(`${options.binDir}/postgres is PostgreSQL ${version}, expected ${options.version}`);
    }
    if (database !== "postgres") await withClient(connectionUrl(user, password, port, "postgres"), (client) => client.query(`CREATE DATABASE "${database}"`));
  } catch (error) {
    await server?.stop(graceMs, "SIGINT");
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    throw error;
  }

  const started = server!;
  const urlFor = (name: string) => connectionUrl(user, password, port, name);
  let stopping: Promise<void> | undefined;
  return {
    url: urlFor(database),
    host: HOST,
    port,
    user,
    password,
    database,
    version,
    dir,
    dataDir: join(dir, "data"),
    logFile,
    pid: started.pid!,
    urlFor,
    async createDatabase(name) {
      if (!DATABASE_NAME.test(name)) throw new RangeError(`database name '${name}': use lower-case letters, digits and _ (at most 63)`);
      await withClient(urlFor("postgres"), (client) => client.query(`CREATE DATABASE "${name}"`));
      return urlFor(name);
    },
    exited: started.exited,
    stop: () => {
      stopping ??= started.stop(graceMs, "SIGINT").then(() => rmSync(dir, { recursive: true, force: true, maxRetries: 3 }));
      return stopping;
    },
  };
}
