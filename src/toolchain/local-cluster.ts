// A local Kubernetes API server (etcd and kube-apiserver, no nodes: nothing runs pods) for the Kubernetes
// engine's tests and `npm run cluster`: loopback ports only, a serving certificate kube-apiserver makes for
// 127.0.0.1 in its --cert-dir, static tokens (an admin in system:masters, plus any users asked for) and RBAC.
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { z } from "zod";
import {
  ADMIN_GROUP,
  ADMIN_USER,
  apiRequest,
  type ApiEndpoint,
  certificateAuthority,
  type ClusterUser,
  ClusterUserError,
  kubeconfig,
  LocalClusterError,
  tokenAuthFile,
  type TokenUser,
  withTokens,
} from "./local-cluster-access.ts";
import { type ProcessExit, ServerProcess } from "./local-cluster-process.ts";
import { grantAccess } from "./local-cluster-rbac.ts";
import { freeLoopbackPorts, loopbackPortIsFree } from "./ports.ts";

export { ADMIN_USER, apiRequest, type ApiResponse, type ClusterUser, LocalClusterError, type PolicyRule, READ_ONLY_RULES } from "./local-cluster-access.ts";
export type { ProcessExit } from "./local-cluster-process.ts";

export interface LocalClusterOptions {
  etcd: string;
  kubeApiserver: string;
  /**
   * Where the cluster keeps its data, certificates, kubeconfigs and logs, kept by stop() so the next start finds
   * the same objects, CA and (when free) ports. Without it: a new temporary directory, removed by stop().
   */
  dir?: string;
  /**
   * Users besides the admin (driftwatch-admin, in system:masters), each with what RBAC grants it (a clusterRole,
   * rules). Tokens are read at start, so every user is named here.
   */
  users?: readonly ClusterUser[];
  /** The kubeconfig context (and cluster) name; "driftwatch-test" unless given. */
  context?: string;
  /** How long the API server may take to become ready: a bound for busy machines, not an expectation. */
  readyTimeoutMs?: number;
  /** How long each process gets to exit after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
}

export interface LocalCluster {
  /** https://127.0.0.1:<port> */
  server: string;
  /** The admin's bearer token. */
  token: string;
  /** PEM of the CA the server's certificate is signed by, and the file holding it. */
  ca: string;
  caFile: string;
  /** A kubeconfig file for the admin (context `context`). */
  kubeconfig: string;
  dir: string;
  pids: { etcd: number; kubeApiserver: number };
  logs: { etcd: string; kubeApiserver: string };
  /** The token of a user named in `users` (or the admin). */
  tokenOf(user: string): string;
  /** Writes a kubeconfig for a user named in `users` (default file: <dir>/kubeconfig-<user>) and returns its path. */
  writeKubeconfig(user: string, file?: string): string;
  /** Settles when the first of the two processes exits (on its own, or through stop()). */
  exited: Promise<ProcessExit>;
  /** Stops kube-apiserver and etcd (SIGTERM, SIGKILL after the grace period) and removes a temporary dir. */
  stop(): Promise<void>;
}

const portsSchema = z.object({ etcdClient: z.number().int(), etcdPeer: z.number().int(), apiServer: z.number().int() });
type Ports = z.infer<typeof portsSchema>;

const START_ATTEMPTS = 3;
const ADDRESS_IN_USE = /address already in use/i;

/** The ports of the previous start in a kept dir while they are all free (so kubeconfigs stay valid), else new ones. */
async function choosePorts(file: string): Promise<Ports> {
  if (existsSync(file)) {
    const previous = portsSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (previous.success && (await Promise.all(Object.values(previous.data).map(loopbackPortIsFree))).every(Boolean)) return previous.data;
  }
  const [etcdClient, etcdPeer, apiServer] = await freeLoopbackPorts(3);
  return { etcdClient: etcdClient!, etcdPeer: etcdPeer!, apiServer: apiServer! };
}

/** A service-account signing key pair, made once per dir. */
function serviceAccountKeys(dir: string): { key: string; pub: string } {
  const key = join(dir, "service-account.key");
  const pub = join(dir, "service-account.pub");
  if (!existsSync(key) || !existsSync(pub)) {
    const pair = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
    });
    writeFileSync(key, pair.privateKey, { mode: 0o600 });
    writeFileSync(pub, pair.publicKey);
  }
  return { key, pub };
}

/** The environment of the servers: this one without etcd's ETCD_* settings, which would override the flags. */
function serverEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ETCD_")));
}

function etcdArgs(dir: string, ports: Ports, durable: boolean): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    "--name=driftwatch",
    `--data-dir=${join(dir, "etcd-data")}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=driftwatch=${peer}`,
    "--log-level=warn",
    // A throwaway cluster need not survive a power cut; skipping fsync keeps it fast on a busy disk.
    ...(durable ? [] : ["--unsafe-no-fsync"]),
  ];
}

function apiServerArgs(dir: string, ports: Ports, keys: { key: string; pub: string }): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${ports.apiServer}`,
    // No certificate is given: kube-apiserver signs one for 127.0.0.1 with a CA of its own into cert-dir, and
    // reuses it on later starts.
    `--cert-dir=${join(dir, "certs")}`,
    `--token-auth-file=${join(dir, "tokens.csv")}`,
    `--service-account-key-file=${keys.pub}`,
    `--service-account-signing-key-file=${keys.key}`,
    "--service-account-issuer=https://kubernetes.default.svc",
    "--service-cluster-ip-range=10.0.0.0/24",
    "--authorization-mode=RBAC",
    // Without a controller manager nobody creates service accounts, which that plugin would insist on.
    "--disable-admission-plugins=ServiceAccount",
    // The "kubernetes" service would get 127.0.0.1 as endpoint, which Endpoints refuse; nothing here needs it.
    "--endpoint-reconciler-type=none",
  ];
}

interface Started {
  etcd: ServerProcess;
  apiServer: ServerProcess;
  endpoint: ApiEndpoint;
}

function describeFailure(what: string, processes: readonly ServerProcess[]): string {
  const tails = processes.map((p) => `--- ${p.name} (${p.logFile}), last output:\n${p.outputTail.trim() || "(none)"}`);
  return [what, ...tails].join("\n");
}

/** Stops the servers one after another, in the order given (kube-apiserver before the etcd it writes to). */
async function stopAll(servers: readonly ServerProcess[], graceMs: number): Promise<void> {
  for (const server of servers) await server.stop(graceMs);
}

/**
 * Polls /readyz with the admin token until it answers 200; fails as soon as either process exits, or when
 * `timeoutMs` has passed (with /readyz's last answer, which lists the checks that failed).
 */
async function waitUntilReady(dir: string, server: string, token: string, processes: readonly ServerProcess[], timeoutMs: number): Promise<ApiEndpoint> {
  const deadline = Date.now() + timeoutMs;
  const certFile = join(dir, "certs", "apiserver.crt");
  let last = "no answer yet";
  for (;;) {
    const gone = processes.find((p) => !p.running);
    if (gone) {
      const exit = await gone.exited;
      throw new LocalClusterError(describeFailure(`${gone.name} exited (code ${exit.code}, signal ${exit.signal}) before the API server was ready`, processes));
    }
    const ca = existsSync(certFile) ? certificateAuthority(readFileSync(certFile, "utf8")) : undefined;
    if (ca) {
      try {
        const answer = await apiRequest({ server, ca }, token, "GET", "/readyz?verbose", { timeoutMs: 10_000 });
        if (answer.status === 200) return { server, ca };
        last = `HTTP ${answer.status}: ${answer.body.slice(-2_000)}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
    }
    if (Date.now() > deadline) {
      throw new LocalClusterError(describeFailure(`the API server at ${server} was not ready within ${timeoutMs} ms; /readyz: ${last}`, processes));
    }
    await delay(250);
  }
}

async function startOnce(dir: string, ports: Ports, users: readonly TokenUser[], options: LocalClusterOptions, durable: boolean): Promise<Started> {
  const env = serverEnv();
  const etcd = new ServerProcess("etcd", options.etcd, etcdArgs(dir, ports, durable), { logFile: join(dir, "etcd.log"), env, cwd: dir });
  const apiServer = new ServerProcess("kube-apiserver", options.kubeApiserver, apiServerArgs(dir, ports, serviceAccountKeys(dir)), {
    logFile: join(dir, "kube-apiserver.log"),
    env,
    cwd: dir,
  });
  const server = `https://127.0.0.1:${ports.apiServer}`;
  try {
    const admin = users.find((u) => u.name === ADMIN_USER)!;
    const timeoutMs = options.readyTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    const endpoint = await waitUntilReady(dir, server, admin.token, [etcd, apiServer], timeoutMs);
    await grantAccess(endpoint, admin.token, users, deadline);
    return { etcd, apiServer, endpoint };
  } catch (error) {
    await stopAll([apiServer, etcd], options.stopGraceMs ?? 10_000);
    throw error;
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A kept dir is used by one cluster at a time: etcd would wait on the other one's lock of its data. */
function claimDir(dir: string): string {
  const pidFile = join(dir, "cluster.pid");
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    // This very process counts too: a cluster it started there and has not stopped.
    if (Number.isInteger(pid) && processIsAlive(pid)) {
      throw new LocalClusterError(`a local cluster already runs in ${dir} (process ${pid}); its kubeconfig is ${join(dir, "kubeconfig")}`);
    }
  }
  writeFileSync(pidFile, `${process.pid}\n`);
  return pidFile;
}

/**
 * Starts etcd and kube-apiserver on free loopback ports and waits until the API server is ready. Ports are
 * picked, released and then bound by the servers, so another process can take one in between: a start that
 * fails on "address already in use" is retried with new ports.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const temporary = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "driftwatch-cluster-"));
  mkdirSync(dir, { recursive: true });
  const pidFile = temporary ? undefined : claimDir(dir);
  const cleanUp = () => (temporary ? rmSync(dir, { recursive: true, force: true }) : rmSync(pidFile!, { force: true }));
  const context = options.context ?? "driftwatch-test";
  const graceMs = options.stopGraceMs ?? 10_000;

  let users: TokenUser[];
  let started: Started | undefined;
  try {
    users = withTokens([{ name: ADMIN_USER, groups: [ADMIN_GROUP] }, ...(options.users ?? [])]);
    writeFileSync(join(dir, "tokens.csv"), tokenAuthFile(users), { mode: 0o600 });
    for (let attempt = 1; !started; attempt++) {
      const ports = await choosePorts(join(dir, "ports.json"));
      try {
        started = await startOnce(dir, ports, users, options, !temporary);
        writeFileSync(join(dir, "ports.json"), `${JSON.stringify(ports)}\n`);
      } catch (error) {
        const portTaken = error instanceof LocalClusterError && ADDRESS_IN_USE.test(error.message);
        if (!portTaken || attempt >= START_ATTEMPTS) throw error;
        rmSync(join(dir, "ports.json"), { force: true });
      }
    }
  } catch (error) {
    cleanUp();
    throw error;
  }

  const { etcd, apiServer, endpoint } = started;
  const caFile = join(dir, "ca.crt");
  writeFileSync(caFile, endpoint.ca);
  const userNamed = (name: string): TokenUser => {
    const user = users.find((u) => u.name === name);
    if (!user) throw new ClusterUserError(`no user '${name}' in this cluster; name it in the users option when starting it`);
    return user;
  };
  const writeKubeconfig = (name: string, file = join(dir, name === ADMIN_USER ? "kubeconfig" : `kubeconfig-${name}`)): string => {
    writeFileSync(file, kubeconfig({ server: endpoint.server, ca: endpoint.ca, user: name, token: userNamed(name).token, context }), { mode: 0o600 });
    return file;
  };
  let stopping: Promise<void> | undefined;
  return {
    server: endpoint.server,
    token: userNamed(ADMIN_USER).token,
    ca: endpoint.ca,
    caFile,
    kubeconfig: writeKubeconfig(ADMIN_USER),
    dir,
    pids: { etcd: etcd.pid!, kubeApiserver: apiServer.pid! },
    logs: { etcd: etcd.logFile, kubeApiserver: apiServer.logFile },
    tokenOf: (name) => userNamed(name).token,
    writeKubeconfig,
    exited: Promise.race([etcd.exited, apiServer.exited]),
    stop: () => {
      stopping ??= stopAll([apiServer, etcd], graceMs).then(cleanUp);
      return stopping;
    },
  };
}
