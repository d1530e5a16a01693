// Who runs the tests' PostgreSQL server, and where that user can reach. PostgreSQL refuses to run as root, so when
// Driftwatch runs as root (CI machines, containers) the server runs as the `postgres` system user, which
// provisioning creates on a machine that has none. That user has to traverse every directory above the binaries
// and the data directory: the tool cache and a clone under /root (0700) are out of its reach, the temp dirs are not.
import { spawn } from "node:child_process";
import { realpathSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname } from "node:path";
import { BuildError, ToolNotFoundError } from "./errors.ts";
import { exec, type ExecResult, which } from "./exec.ts";
import type { RuntimeUser } from "./manifest.ts";
import type { Progress } from "./progress.ts";

export type { RuntimeUser } from "./manifest.ts";

/** The system user the server runs as when this process is root. */
export const POSTGRES_USER = "postgres";

export function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The user `name` (uid and primary group) when the machine has one. */
export async function lookUpUser(name: string): Promise<RuntimeUser | undefined> {
  const [uid, gid] = await Promise.all([exec("id", ["-u", name]), exec("id", ["-g", name])]);
  if (uid.code !== 0 || gid.code !== 0) return undefined;
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The `postgres` system user, created (a system user with a group of its own and no home) when there is none. */
export async function ensurePostgresUser(progress: Progress, env: NodeJS.ProcessEnv = process.env): Promise<RuntimeUser> {
  const existing = await lookUpUser(POSTGRES_USER);
  if (existing) return existing;
  const useradd = (await which("useradd", env)) ?? (await which("useradd", { PATH: "/usr/sbin:/sbin" }));
  if (!useradd) {
    throw new ToolNotFoundError("postgres", "useradd", `PostgreSQL refuses to run as root and there is no '${POSTGRES_USER}' user to run it as: create one`);
  }
  const args = ["--system", "--no-create-home", "--user-group", POSTGRES_USER];
  const created = await exec(useradd, args, { env });
  if (created.code !== 0) throw new BuildError("postgres", `${useradd} ${args.join(" ")}`, created.output);
  const user = await lookUpUser(POSTGRES_USER);
  if (!user) throw new BuildError("postgres", `id ${POSTGRES_USER}`, `'${useradd} ${args.join(" ")}' succeeded but the user cannot be looked up`);
  progress.info(`created the system user '${POSTGRES_USER}' (uid ${user.uid}) to run PostgreSQL, which refuses to run as root (${useradd} ${args.join(" ")})`);
  return user;
}

/**
 * Whether `user` can traverse every directory from / down to `dir`, by the mode bits: as its uid and primary group
 * only, since a process spawned with uid/gid options has no supplementary groups.
 */
export function traversableBy(dir: string, user: Pick<RuntimeUser, "uid" | "gid">): boolean {
  let current: string;
  try {
    current = realpathSync(dir);
  } catch {
    return false;
  }
  for (;;) {
    const { mode, uid, gid } = statSync(current);
    const allowed = (mode & 0o001) !== 0 || (uid === user.uid && (mode & 0o100) !== 0) || (gid === user.gid && (mode & 0o010) !== 0);
    if (!allowed) return false;
    const parent = dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

/** The first temp dir (TMPDIR, /var/tmp, /tmp) that `user` can traverse, resolved; undefined when none is. */
export function tempDirReachableBy(user: Pick<RuntimeUser, "uid" | "gid">): string | undefined {
  for (const candidate of new Set([tmpdir(), "/var/tmp", "/tmp"])) {
    if (traversableBy(candidate, user)) return realpathSync(candidate);
  }
  return undefined;
}

/** exec() as `user` (uid and primary group, no supplementary groups) when one is given, else as this process. */
export function execAs(user: RuntimeUser | undefined, command: string, args: readonly string[], options: { cwd?: string; env: NodeJS.ProcessEnv }): Promise<ExecResult> {
  if (!user) return exec(command, args, options);
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, uid: user.uid, gid: user.gid, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      output += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.on("error", (error) => resolvePromise({ code: null, output: `${output}${error.message}`, stdout }));
    child.on("close", (code) => resolvePromise({ code, output: output.slice(-20_000), stdout }));
  });
}
