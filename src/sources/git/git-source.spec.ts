import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { InterruptedError, SourceNotFoundError, SourceUnreachableError, TimeoutError } from "../../core/errors.ts";
import { gitEnvironment } from "./git-env.ts";
import { GitSource, type AcquiredSource } from "./index.ts";
import { canonicalConfig } from "./mirror-config.ts";
import { mirrorDirName } from "./mirror-path.ts";
import { commitFiles, git } from "../../../test/support/git.ts";
import { localSsh, loopbackCertificate, recordingHttpsServer, silentRemote, uploadPackAdvertisement } from "../../../test/support/git-remotes.ts";
import { exitedPid, processesUnder, until } from "../../../test/support/processes.ts";

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "driftwatch-git-"));
  temps.push(dir);
  return dir;
}

/** A remote on branch main with two projects, and a data dir. */
function setup(): { root: string; remote: string; dataDir: string; first: string } {
  const root = tempDir();
  const remote = join(root, "remote");
  mkdirSync(remote);
  git(remote, "init", "-q", "-b", "main");
  const first = commitFiles(remote, { "stacks/app/Pulumi.yaml": "name: app\n", "stacks/db/Pulumi.yaml": "name: db\n", "README.md": "hi\n" }, "first");
  return { root, remote, dataDir: join(root, "data"), first };
}

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

function captureLogs(): { logger: Logger; lines: LogLine[]; raw: string[] } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw.push(chunk.toString());
      callback();
    },
  });
  const logger = pino({ level: "debug" }, stream);
  return {
    logger,
    raw,
    get lines() {
      return raw.flatMap((text) => text.split("\n").filter(Boolean)).map((line) => JSON.parse(line) as LogLine);
    },
  };
}

function mirrorPath(dataDir: string, url: string): string {
  return join(dataDir, "git", "mirrors", mirrorDirName(url));
}

describe("GitSource", () => {
  it("clones on first use and checks out the branch head", async () => {
    const { remote, dataDir, first } = setup();
    const logs = captureLogs();
    const source = new GitSource({ dataDir, logger: logs.logger });
    const acquired = await source.acquire({ repo: remote, ref: "main", path: "stacks/app" });
    expect(acquired.commit).toBe(first);
    expect(acquired.worktree).toMatch(new RegExp(`^${join(dataDir, "git", "worktrees", first)}-\\d+-[0-9a-f]{8}$`));
    expect(acquired.dir).toBe(join(acquired.worktree, "stacks", "app"));
    expect(readFileSync(join(acquired.dir, "Pulumi.yaml"), "utf8")).toBe("name: app\n");
    expect(acquired.staleSource).toBeUndefined();
    expect(mirrorDirName(remote)).toMatch(/^[A-Za-z0-9._-]*remote-[0-9a-f]{12}\.git$/);
    expect(git(mirrorPath(dataDir, remote), "rev-parse", "--is-bare-repository")).toBe("true");
    expect(readdirSync(join(dataDir, "git", "mirrors"))).toEqual([mirrorDirName(remote)]);
    expect(logs.lines.filter((l) => l.msg === "cloning mirror")).toHaveLength(1);
    expect(logs.lines.find((l) => l.msg === "checked out commit")).toMatchObject({ repo: remote, commit: first });
    await acquired.release();

    const root = await source.acquire({ repo: remote, ref: "main", path: "." });
    expect(root.dir).toBe(root.worktree);
    await root.release();
  });

  it("fetches new commits into the existing mirror with the next GitSource", async () => {
    const { remote, dataDir, first } = setup();
    const url = pathToFileURL(remote).href;
    const one = await new GitSource({ dataDir }).acquire({ repo: url, ref: "main", path: "stacks/app" });
    expect(one.commit).toBe(first);
    await one.release();

    const mirror = mirrorPath(dataDir, url);
    const inode = statSync(mirror).ino;
    writeFileSync(join(mirror, "driftwatch-marker"), "still the same mirror");
    const second = commitFiles(remote, { "stacks/app/Pulumi.yaml": "name: app\ndescription: v2\n" }, "second");

    const logs = captureLogs();
    const two = await new GitSource({ dataDir, logger: logs.logger }).acquire({ repo: url, ref: "main", path: "stacks/app" });
    expect(two.commit).toBe(second);
    expect(readFileSync(join(two.dir, "Pulumi.yaml"), "utf8")).toContain("v2");
    expect(statSync(mirror).ino).toBe(inode);
    expect(readFileSync(join(mirror, "driftwatch-marker"), "utf8")).toBe("still the same mirror");
    expect(logs.lines.map((l) => l.msg)).toContain("fetched mirror");
    expect(logs.lines.map((l) => l.msg)).not.toContain("cloning mirror");
    await two.release();
  });

  it("fetches once for several stacks of the same repository and shares a worktree per commit", async () => {
    const { remote, dataDir, first } = setup();
    await (await new GitSource({ dataDir }).acquire({ repo: remote, ref: "main", path: "." })).release();

    const logs = captureLogs();
    const source = new GitSource({ dataDir, logger: logs.logger });
    const [app, db] = await Promise.all([
      source.acquire({ repo: remote, ref: "main", path: "stacks/app" }),
      source.acquire({ repo: remote, ref: "main", path: "stacks/db" }),
    ]);
    const later = await source.acquire({ repo: remote, ref: first, path: "stacks/app" });
    expect(app.worktree).toBe(db.worktree);
    expect(later.worktree).toBe(app.worktree);
    expect(readFileSync(join(db.dir, "Pulumi.yaml"), "utf8")).toBe("name: db\n");
    const messages = logs.lines.map((l) => l.msg);
    expect(messages.filter((m) => m === "fetching mirror")).toHaveLength(1);
    expect(messages.filter((m) => m === "cloning mirror")).toHaveLength(0);
    expect(messages.filter((m) => m === "checked out commit")).toHaveLength(1);
    await Promise.all([app.release(), db.release(), later.release()]);
  });

  it("resolves a ref once per fetch: the stacks of one pass get the commit it fetched, a later fetch the branch's new one", async () => {
    const { remote, dataDir, first } = setup();
    const pass = new GitSource({ dataDir });
    const service = new GitSource({ dataDir, fetchMaxAgeMs: 0 });
    await (await pass.acquire({ repo: remote, ref: "main", path: "stacks/app" })).release();
    await (await service.acquire({ repo: remote, ref: "main", path: "stacks/app" })).release();
    const second = commitFiles(remote, { "stacks/app/Pulumi.yaml": "name: app\ndescription: v2\n" }, "second");

    const again = await pass.acquire({ repo: remote, ref: "main", path: "stacks/db" });
    expect(again.commit).toBe(first);
    await again.release();
    const fetched = await service.acquire({ repo: remote, ref: "main", path: "stacks/db" });
    expect(fetched.commit).toBe(second);
    await fetched.release();
  });

  it("resolves tags (peeled) and full or abbreviated commit ids", async () => {
    const { remote, dataDir, first } = setup();
    git(remote, "tag", "-a", "v1", "-m", "release 1");
    git(remote, "tag", "light");
    const second = commitFiles(remote, { "stacks/app/Pulumi.yaml": "name: app\nv: 2\n" }, "second");
    const source = new GitSource({ dataDir });
    const results: Record<string, string> = {};
    const contents: Record<string, string> = {};
    for (const ref of ["v1", "light", first, first.slice(0, 10), "main"]) {
      const acquired = await source.acquire({ repo: remote, ref, path: "stacks/app" });
      results[ref] = acquired.commit;
      contents[ref] = readFileSync(join(acquired.dir, "Pulumi.yaml"), "utf8");
      await acquired.release();
    }
    expect(results).toEqual({ v1: first, light: first, [first]: first, [first.slice(0, 10)]: first, main: second });
    expect(contents.v1).toBe("name: app\n");
    expect(contents.main).toBe("name: app\nv: 2\n");
  });

  it("reports an unknown ref as SourceNotFoundError naming repo and ref", async () => {
    const { remote, dataDir } = setup();
    const source = new GitSource({ dataDir });
    for (const ref of ["no-such-branch", "main~1", "deadbeefdeadbeef"]) {
      const error = await source.acquire({ repo: remote, ref, path: "." }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceNotFoundError);
      expect((error as Error).message).toContain(ref);
      expect((error as Error).message).toContain(remote);
    }
  });

  it("reports a missing path as SourceNotFoundError naming path and commit", async () => {
    const { remote, dataDir, first } = setup();
    const source = new GitSource({ dataDir });
    for (const path of ["stacks/missing", "README.md", "../..", "/etc"]) {
      const error = await source.acquire({ repo: remote, ref: "main", path }).catch((e: unknown) => e);
      expect(error, path).toBeInstanceOf(SourceNotFoundError);
      expect((error as Error).message).toContain(path);
      expect((error as Error).message).toContain(first);
    }
  });

  it("falls back to the previous fetch when the remote went away", async () => {
    const { root, remote, dataDir, first } = setup();
    await (await new GitSource({ dataDir }).acquire({ repo: remote, ref: "main", path: "stacks/app" })).release();
    renameSync(remote, join(root, "moved"));

    const acquired = await new GitSource({ dataDir }).acquire({ repo: remote, ref: "main", path: "stacks/app" });
    expect(acquired.commit).toBe(first);
    expect(acquired.staleSource?.error).toMatch(/does not appear to be a git repository|not found|No such/i);
    expect(readFileSync(join(acquired.dir, "Pulumi.yaml"), "utf8")).toBe("name: app\n");
    await acquired.release();
  });

  it("throws SourceUnreachableError when the remote cannot be cloned, leaving no mirror behind", async () => {
    const { root, dataDir } = setup();
    const missing = join(root, "never-existed");
    const source = new GitSource({ dataDir });
    const error = await source.acquire({ repo: missing, ref: "main", path: "." }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceUnreachableError);
    expect((error as Error).message).toContain(missing);
    expect(readdirSync(join(dataDir, "git", "mirrors"))).toEqual([]);
    // The failure is shared by the run's other stacks of that repository (one attempt per run).
    await expect(source.acquire({ repo: missing, ref: "other", path: "." })).rejects.toBe(error);
  });

  it("never shows credentials written into the URL", async () => {
    const { dataDir } = setup();
    const logs = captureLogs();
    const url = "https://user:secret123@127.0.0.1:9/repo.git";
    const error = await new GitSource({ dataDir, logger: logs.logger }).acquire({ repo: url, ref: "main", path: "." }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceUnreachableError);
    expect((error as Error).message).toContain("127.0.0.1:9/repo.git");
    expect((error as Error).message).not.toContain("secret123");
    expect(logs.raw.join("")).not.toContain("secret123");
    expect(readdirSync(join(dataDir, "git", "mirrors")).join(" ")).not.toContain("secret123");
  });

  it("sends DRIFTWATCH_GIT_TOKEN as an http header to the token hosts only, and never shows it", async () => {
    const { dataDir } = setup();
    const token = "tok-very-secret-4711";
    const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
    const tls = loopbackCertificate();
    const listed = await recordingHttpsServer(tls, "127.0.0.1", () => ({ status: 403, body: `denied ${token}` }));
    const unlisted = await recordingHttpsServer(tls, "127.0.0.1", () => ({ status: 403 }));
    const logs = captureLogs();
    const env = {
      ...process.env,
      DRIFTWATCH_GIT_TOKEN: token,
      GIT_SSL_CAINFO: tls.caFile,
      // Make git print every header it sends, unredacted: the token must still not get through.
      GIT_TRACE_CURL: "1",
      GIT_TRACE_REDACT: "0",
    };
    const source = new GitSource({ dataDir, logger: logs.logger, env, tokenHosts: [new URL(listed.origin).host] });
    const error = await source.acquire({ repo: `${listed.origin}/org/repo.git`, ref: "main", path: "." }).catch((e: unknown) => e);
    expect(listed.requests.length).toBeGreaterThan(0);
    expect(listed.requests[0]?.authorization).toBe(`Basic ${basic}`);
    expect(error).toBeInstanceOf(SourceUnreachableError);
    const message = (error as Error).message;
    expect(message).toContain("403");
    for (const secret of [token, basic]) {
      expect(message).not.toContain(secret);
      expect(logs.raw.join("")).not.toContain(secret);
    }

    // Another host (here: another port of the same address) never gets it, whether cloned or polled.
    await source.acquire({ repo: `${unlisted.origin}/org/repo.git`, ref: "main", path: "." }).catch(() => undefined);
    await source.remoteCommit(`${unlisted.origin}/org/repo.git`, "main").catch(() => undefined);
    expect(unlisted.requests.length).toBeGreaterThanOrEqual(2);
    expect(unlisted.requests.filter((r) => r.authorization !== undefined)).toEqual([]);
  });

  it("follows no redirect from a token host, so the token never reaches the host it redirects to", async () => {
    const { dataDir } = setup();
    const token = "tok-very-secret-4711";
    const tls = loopbackCertificate();
    // The host redirected to answers like a git server, so git would go on and POST there, header and all.
    const elsewhere = await recordingHttpsServer(tls, "127.0.0.2", (request) => (request.method === "GET" ? uploadPackAdvertisement() : { status: 500 }));
    const listed = await recordingHttpsServer(tls, "127.0.0.1", (request) => ({ status: 301, headers: { location: `${elsewhere.origin}${request.url}` } }));
    const env = { ...process.env, DRIFTWATCH_GIT_TOKEN: token, GIT_SSL_CAINFO: tls.caFile };
    const source = new GitSource({ dataDir, env, tokenHosts: [new URL(listed.origin).host] });
    const error = await source.acquire({ repo: `${listed.origin}/org/repo.git`, ref: "main", path: "." }).catch((e: unknown) => e);
    expect(listed.requests[0]?.authorization).toBeDefined();
    expect(elsewhere.requests.filter((r) => r.authorization !== undefined)).toEqual([]);
    expect(error).toBeInstanceOf(SourceUnreachableError);
    expect((error as Error).message).toContain("301");
  });

  it("builds git's environment: an allow-list, no prompts, the protocol allow-list, no hooks, the token only for its hosts", () => {
    // What git needs, passed as it is.
    const passed = { PATH: "/bin", HOME: "/home/svc", LC_ALL: "C.UTF-8", https_proxy: "http://proxy:3128", GIT_SSL_CAINFO: "/etc/ca.pem", GIT_TRACE_PACKET: "1", GIT_SSH_COMMAND: "ssh -i key" };
    const base = {
      ...passed,
      DRIFTWATCH_GIT_TOKEN: "tok-1234",
      DRIFTWATCH_API_TOKEN: "api-5678",
      SLACK_BOT_TOKEN: "xoxb-1",
      AWS_SECRET_ACCESS_KEY: "aws-secret",
      GIT_DIR: "/elsewhere",
      GIT_CONFIG_PARAMETERS: "'core.pager'='evil'",
      GIT_ASKPASS: "/usr/bin/ask",
      GIT_ALLOW_PROTOCOL: "ext",
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.proxy",
      GIT_CONFIG_VALUE_0: "http://proxy:3128",
      GIT_CONFIG_KEY_7: "credential.helper",
      GIT_CONFIG_VALUE_7: "stale",
    };
    const remote = gitEnvironment(base, ["github.com", "git.example.com:8443"]);
    const basic = Buffer.from("x-access-token:tok-1234").toString("base64");
    expect(remote).toEqual({
      ...passed,
      GIT_TERMINAL_PROMPT: "0",
      GIT_ALLOW_PROTOCOL: "https:ssh:git:file",
      GIT_NO_REPLACE_OBJECTS: "1",
      GIT_CONFIG_COUNT: "8",
      GIT_CONFIG_KEY_0: "http.proxy",
      GIT_CONFIG_VALUE_0: "http://proxy:3128",
      GIT_CONFIG_KEY_1: "core.hooksPath",
      GIT_CONFIG_VALUE_1: "/dev/null",
      GIT_CONFIG_KEY_2: "core.fsmonitor",
      GIT_CONFIG_VALUE_2: "false",
      GIT_CONFIG_KEY_3: "maintenance.auto",
      GIT_CONFIG_VALUE_3: "false",
      GIT_CONFIG_KEY_4: "http.https://github.com/.extraHeader",
      GIT_CONFIG_VALUE_4: `Authorization: Basic ${basic}`,
      GIT_CONFIG_KEY_5: "http.https://github.com/.followRedirects",
      GIT_CONFIG_VALUE_5: "false",
      GIT_CONFIG_KEY_6: "http.https://git.example.com:8443/.extraHeader",
      GIT_CONFIG_VALUE_6: `Authorization: Basic ${basic}`,
      GIT_CONFIG_KEY_7: "http.https://git.example.com:8443/.followRedirects",
      GIT_CONFIG_VALUE_7: "false",
    });
    const local = gitEnvironment(base);
    expect(local.GIT_CONFIG_COUNT).toBe("4");
    expect(Object.values(local).join(" ")).not.toContain(basic);
  });

  it("never lets git run an ext:: or fd:: URL, even when the operator's git config allows every protocol", async () => {
    const { root, dataDir } = setup();
    const marker = join(root, "ext-ran");
    const env = { ...process.env, GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "protocol.allow", GIT_CONFIG_VALUE_0: "always" };
    const source = new GitSource({ dataDir, env });
    for (const repo of [`ext::sh -c touch% ${marker}`, "fd::0"]) {
      const error = await source.acquire({ repo, ref: "main", path: "." }).catch((e: unknown) => e);
      expect(error, repo).toBeInstanceOf(SourceUnreachableError);
      expect((error as Error).message).toMatch(/transport '(ext|fd)' not allowed/);
      await expect(source.remoteCommit(repo, "main")).rejects.toThrow(/transport '(ext|fd)' not allowed/);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it("ends a clone of a stalled remote at git's time limit, with its helpers, and asks again next time", async () => {
    const { remote, dataDir, first } = setup();
    const silent = await silentRemote();
    const stalledRepo = silent.url("org/repo.git");
    const source = new GitSource({ dataDir, timeoutMs: 5_000, fetchMaxAgeMs: 0 });
    const stalled = source.acquire({ repo: stalledRepo, ref: "main", path: "." }).catch((e: unknown) => e);
    await until(() => silent.connections() === 1, 60_000, "git connected to the stalled remote");
    // Another repository is not held up by it.
    const other = await source.acquire({ repo: remote, ref: "main", path: "." });
    expect(other.commit).toBe(first);
    await other.release();

    const error = await stalled;
    expect(error).toBeInstanceOf(SourceUnreachableError);
    expect((error as Error).message).toBe(`cannot clone ${stalledRepo}: git clone did not finish within 5 s (git.timeoutSeconds)`);
    expect(processesUnder(dataDir)).toEqual([]);
    // The failure is not kept: the next acquisition asks the remote again (and is bounded again).
    const again = await source.acquire({ repo: stalledRepo, ref: "main", path: "." }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(SourceUnreachableError);
    expect(silent.connections()).toBe(2);
    expect(processesUnder(dataDir)).toEqual([]);
  });

  it("stops waiting when a run's signal ends, and stops a shared fetch once its last waiter has gone", async () => {
    const { dataDir } = setup();
    const silent = await silentRemote();
    const repo = silent.url("org/repo.git");
    const source = new GitSource({ dataDir, timeoutMs: 600_000 });
    const stop = new AbortController();
    const timingOut = source.acquire({ repo, ref: "main", path: "." }, { signal: AbortSignal.timeout(1_000) }).catch((e: unknown) => e);
    const stopping = source.acquire({ repo, ref: "main", path: "." }, { signal: stop.signal }).catch((e: unknown) => e);

    const timedOut = await timingOut;
    expect(timedOut).toBeInstanceOf(TimeoutError);
    expect((timedOut as Error).message).toBe(`the run's timeout expired while fetching ${repo}`);
    // The other waiter still waits for the one shared clone, so it goes on...
    await until(() => silent.connections() === 1 && processesUnder(dataDir).length > 0, 60_000, "the shared clone under way");
    stop.abort();
    const stopped = await stopping;
    expect(stopped).toBeInstanceOf(InterruptedError);
    expect((stopped as Error).message).toBe(`Driftwatch stopped while fetching ${repo}`);
    // ...until nobody waits: then git and its helpers are stopped, and the next caller starts afresh.
    await until(() => processesUnder(dataDir).length === 0, 30_000, "the abandoned clone stopped");
    const next = source.acquire({ repo, ref: "main", path: "." }, { signal: AbortSignal.timeout(1_000) }).catch((e: unknown) => e);
    expect(await next).toBeInstanceOf(TimeoutError);
    await until(() => silent.connections() === 2, 30_000, "a new clone");
    await until(() => processesUnder(dataDir).length === 0, 30_000, "the second clone stopped");
  });

  it("gives each run a checkout of exactly the commit: what an earlier run wrote into its checkout is gone", async () => {
    const { remote, dataDir, first } = setup();
    const source = new GitSource({ dataDir });
    const earlier = await source.acquire({ repo: remote, ref: "main", path: "stacks/app" });
    // The checkout is the commit's files and nothing else: nothing in it leads to the mirror.
    expect(existsSync(join(earlier.worktree, ".git"))).toBe(false);
    expect(readdirSync(join(dataDir, "git", "worktrees"))).toEqual([basename(earlier.worktree)]);
    // A program changes a tracked file, adds a file where another stack of the commit would run it, links
    // node_modules elsewhere, and leaves a .git pointing at a repository of its own.
    writeFileSync(join(earlier.dir, "Pulumi.yaml"), "name: app\nruntime: evil\n");
    writeFileSync(join(earlier.worktree, "stacks", "db", "main.tf"), 'resource "null_resource" "x" {}\n');
    symlinkSync(tmpdir(), join(earlier.worktree, "stacks", "db", "node_modules"));
    writeFileSync(join(earlier.worktree, ".git"), `gitdir: ${remote}\n`);
    await earlier.release();
    expect(existsSync(earlier.worktree)).toBe(false);

    const later = await source.acquire({ repo: remote, ref: "main", path: "stacks/db" });
    expect(later.commit).toBe(first);
    expect(later.worktree).not.toBe(earlier.worktree);
    const files = readdirSync(later.worktree, { recursive: true, withFileTypes: true })
      .filter((entry) => !entry.isDirectory())
      .map((entry) => relative(later.worktree, join(entry.parentPath, entry.name)))
      .sort();
    expect(files).toEqual(git(remote, "ls-tree", "-r", "--name-only", first).split("\n").sort());
    expect(readFileSync(join(later.worktree, "stacks", "app", "Pulumi.yaml"), "utf8")).toBe("name: app\n");
    await later.release();
  });

  it("runs no hook a program may have written into a mirror", async () => {
    const { root, remote, dataDir } = setup();
    const source = new GitSource({ dataDir, fetchMaxAgeMs: 0 });
    await (await source.acquire({ repo: remote, ref: "main", path: "." })).release();
    const marker = join(root, "hook-ran");
    const hooks = join(mirrorPath(dataDir, remote), "hooks");
    mkdirSync(hooks, { recursive: true });
    for (const hook of ["post-checkout", "reference-transaction"]) writeFileSync(join(hooks, hook), `#!/bin/sh\necho ${hook} >> ${marker}\n`, { mode: 0o755 });
    commitFiles(remote, { "stacks/app/Pulumi.yaml": "name: app\nv: 2\n" }, "second"); // a fetch, then a checkout
    const again = await source.acquire({ repo: remote, ref: "main", path: "stacks/app" });
    expect(readFileSync(join(again.dir, "Pulumi.yaml"), "utf8")).toContain("v: 2");
    await again.release();
    expect(existsSync(marker) ? readFileSync(marker, "utf8") : "").toBe("");
  });

  it("gives git and whatever git starts none of the service's tokens or other stacks' credentials", async () => {
    const { root, remote, dataDir, first } = setup();
    const dump = join(root, "ssh-env");
    const secrets = {
      DRIFTWATCH_API_TOKEN: "api-token-5f1c9e0d7b",
      SLACK_BOT_TOKEN: "xoxb-git-env-test-0123456789",
      DRIFTWATCH_WEBHOOK_SECRET: "webhook-secret-9b7d5f3a1c",
      DRIFTWATCH_GIT_TOKEN: "git-token-a8d2c4e6f0",
      OTHER_STACK_SECRET: "other-stack-credential-77e1",
    };
    // The operator's ssh program (as GIT_SSH_COMMAND or core.sshCommand would name it) sees what git gives it.
    const env = { ...process.env, ...secrets, GIT_SSH: localSsh({ dumpEnvTo: dump }), GIT_SSH_VARIANT: "simple", SSH_AUTH_SOCK: join(root, "agent.sock") };
    const source = new GitSource({ dataDir, env, tokenHosts: ["localhost"] });
    const acquired = await source.acquire({ repo: `ssh://localhost${remote}`, ref: "main", path: "stacks/app" });
    expect(acquired.commit).toBe(first);
    await acquired.release();

    const seen = readFileSync(dump, "utf8");
    for (const [name, value] of Object.entries(secrets)) {
      expect(seen, name).not.toContain(value);
      expect(seen, name).not.toContain(`${name}=`);
    }
    expect(seen).not.toContain(Buffer.from(`x-access-token:${secrets.DRIFTWATCH_GIT_TOKEN}`).toString("base64"));
    // What git and ssh need is there.
    const path = seen.split("\n").find((line) => line.startsWith("PATH="));
    expect(path?.endsWith(process.env.PATH!), path).toBe(true); // git puts its own exec path first
    expect(seen).toContain(`SSH_AUTH_SOCK=${join(root, "agent.sock")}\n`);
    expect(seen).toContain("GIT_ALLOW_PROTOCOL=https:ssh:git:file\n");
  });

  it("runs no command a program wrote into a mirror's configuration and restores it before the next checkout", async () => {
    const { root, remote, dataDir, first } = setup();
    // The repository assigns a filter driver to its files; only the service's config could define one.
    const second = commitFiles(remote, { ".gitattributes": "*.yaml filter=evil\n" }, "attributes");
    const logs = captureLogs();
    const source = new GitSource({ dataDir, logger: logs.logger }); // fetches once, like one `check` pass
    const earlier = await source.acquire({ repo: remote, ref: "main", path: "stacks/app" });
    expect(earlier.commit).toBe(second);

    // The earlier run's program finds its mirror through the worktree's .git and makes it run its commands.
    const mirror = mirrorPath(dataDir, remote);
    const marker = join(root, "ran");
    const evil = join(root, "evil.sh");
    writeFileSync(evil, `#!/bin/sh\necho "$1" >> ${marker}\nexec cat\n`, { mode: 0o755 });
    appendFileSync(join(mirror, "config"), `[filter "evil"]\n\tsmudge = ${evil} smudge\n[filter "any"]\n\tsmudge = ${evil} any\n[core]\n\tfsmonitor = ${evil} fsmonitor\n`);
    writeFileSync(join(mirror, "info", "attributes"), "README.md filter=any\n");
    mkdirSync(join(root, "elsewhere"));
    writeFileSync(join(mirror, "objects", "info", "alternates"), `${join(root, "elsewhere")}\n`);
    writeFileSync(join(mirror, "config.worktree"), `[filter "evil"]\n\tsmudge = ${evil} worktree\n`);
    await earlier.release();

    // The next run at the same commit (no fetch in between) and one at another commit check out clean.
    for (const [ref, commit] of [["main", second], [first, first]] as const) {
      const later = await source.acquire({ repo: remote, ref, path: "stacks/app" });
      expect(later.commit).toBe(commit);
      expect(readFileSync(join(later.dir, "Pulumi.yaml"), "utf8")).toBe("name: app\n");
      await later.release();
    }
    expect(existsSync(marker) ? readFileSync(marker, "utf8") : "").toBe("");
    expect(readFileSync(join(mirror, "config"), "utf8")).toBe(canonicalConfig("sha1"));
    for (const path of ["info/attributes", "objects/info/alternates", "config.worktree"]) expect(existsSync(join(mirror, path)), path).toBe(false);
    const warnings = logs.lines.filter((l) => l.msg.startsWith("a mirror's repository configuration was not the one Driftwatch wrote"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, repo: remote, mirror, restored: ["config", "config.worktree", "info/attributes", "objects/info/alternates"] });
  });

  it("restores a mirror whose config names another ssh command before fetching, and fetches with the operator's", async () => {
    const { root, remote, dataDir, first } = setup();
    const env = { ...process.env, GIT_SSH: localSsh(), GIT_SSH_VARIANT: "simple" };
    const repo = `ssh://localhost${remote}`;
    const source = new GitSource({ dataDir, env, fetchMaxAgeMs: 0 });
    const earlier = await source.acquire({ repo, ref: "main", path: "stacks/app" });
    expect(earlier.commit).toBe(first);
    // The mirror's core.sshCommand would win over the operator's GIT_SSH.
    const marker = join(root, "ran");
    appendFileSync(join(mirrorPath(dataDir, repo), "config"), `[core]\n\tsshCommand = "echo ssh >> ${marker}; false"\n`);
    await earlier.release();

    const second = commitFiles(remote, { "stacks/app/Pulumi.yaml": "name: app\nv: 2\n" }, "second");
    const later = await source.acquire({ repo, ref: "main", path: "stacks/app" });
    expect(existsSync(marker) ? readFileSync(marker, "utf8") : "").toBe("");
    expect(later.staleSource).toBeUndefined();
    expect(later.commit).toBe(second);
    await later.release();
  });

  it("clones a mirror again when a link or a file took its place", async () => {
    const { root, remote, dataDir, first } = setup();
    await (await new GitSource({ dataDir }).acquire({ repo: remote, ref: "main", path: "." })).release();
    const mirror = mirrorPath(dataDir, remote);
    renameSync(mirror, join(root, "elsewhere.git"));
    symlinkSync(join(root, "elsewhere.git"), mirror);
    const logs = captureLogs();
    const acquired = await new GitSource({ dataDir, logger: logs.logger }).acquire({ repo: remote, ref: "main", path: "." });
    expect(acquired.commit).toBe(first);
    expect(lstatSync(mirror).isDirectory()).toBe(true);
    expect(logs.lines.map((l) => l.msg)).toContain("cloned mirror");
    await acquired.release();
  });

  it("checks out what the commit holds, whatever refs/replace/ the remote carries", async () => {
    const { remote, dataDir, first } = setup();
    // Anyone who can push any ref could push a replacement for a blob of a branch they cannot push to.
    const blob = git(remote, "rev-parse", `${first}:stacks/app/Pulumi.yaml`);
    const evil = execFileSync("git", ["hash-object", "-w", "--stdin"], { cwd: remote, input: "name: replaced\n", encoding: "utf8" }).trim();
    git(remote, "replace", blob, evil);
    const acquired = await new GitSource({ dataDir }).acquire({ repo: remote, ref: "main", path: "stacks/app" });
    expect(git(mirrorPath(dataDir, remote), "for-each-ref", "--format=%(refname)", "refs/replace/")).toBe(`refs/replace/${blob}`);
    expect(readFileSync(join(acquired.dir, "Pulumi.yaml"), "utf8")).toBe("name: app\n");
    await acquired.release();
  });

  it("verifies a commit's signature from the mirror, whatever a run did to its worktree's .git", async () => {
    const { root, remote, dataDir, first } = setup();
    const source = new GitSource({ dataDir });
    const acquired = await source.acquire({ repo: remote, ref: "main", path: "." });
    const keys = join(root, "allowed_signers");
    writeFileSync(keys, "");
    writeFileSync(join(acquired.worktree, ".git"), `gitdir: ${join(root, "nowhere")}\n`);
    const check = await source.verifyCommit(acquired.worktree, first, keys);
    expect(check).toEqual({ verified: false, detail: `commit ${first.slice(0, 12)} is not signed` });
    await acquired.release();
  });

  it("removes a worktree when its last holder releases it; prune removes only what dead processes left", async () => {
    const { remote, dataDir, first } = setup();
    const worktrees = join(dataDir, "git", "worktrees");
    const mirrors = join(dataDir, "git", "mirrors");
    const source = new GitSource({ dataDir });
    const app = await source.acquire({ repo: remote, ref: "main", path: "stacks/app" });
    const db = await source.acquire({ repo: remote, ref: "main", path: "stacks/db" });
    expect(db.worktree).toBe(app.worktree);
    await app.release();
    await source.prune();
    expect(existsSync(db.dir)).toBe(true); // still held
    await db.release();
    expect(readdirSync(worktrees)).toEqual([]);
    expect(git(mirrorPath(dataDir, remote), "worktree", "list")).not.toContain(worktrees);

    // Left by a process that is gone, and by an earlier version (named by commit alone): removed. A live
    // process's worktree and unfinished clone: kept.
    const dead = exitedPid();
    const live = process.ppid;
    for (const name of [first, `${first}-${live}-0123abcd`]) mkdirSync(join(worktrees, name));
    // The dead process's worktree is a real one: the mirror has a record of it, pruned once the folder is gone.
    git(mirrorPath(dataDir, remote), "worktree", "add", "--detach", "--quiet", join(worktrees, `${first}-${dead}-0123abcd`), first);
    for (const name of [`${mirrorDirName(remote)}.tmp-${dead}-0123abcd`, `${mirrorDirName(remote)}.tmp-${live}-0123abcd`]) mkdirSync(join(mirrors, name));
    await source.prune();
    expect(readdirSync(worktrees)).toEqual([`${first}-${live}-0123abcd`]);
    expect(git(mirrorPath(dataDir, remote), "worktree", "list")).not.toContain(worktrees);
    expect(readdirSync(mirrors).sort()).toEqual([mirrorDirName(remote), `${mirrorDirName(remote)}.tmp-${live}-0123abcd`].sort());

    // And the next acquisition checks out anew.
    const again = await source.acquire({ repo: remote, ref: first, path: "stacks/app" });
    expect(existsSync(join(again.dir, "Pulumi.yaml"))).toBe(true);
    await again.release();
  });

  it("starts no maintenance per fetch, and packs a mirror with git gc --auto at most once a day", async () => {
    const { remote, dataDir } = setup();
    // The operator's git settings make every fetch keep a pack of its own, and gc --auto act from two packs on.
    const env = { ...process.env, GIT_CONFIG_COUNT: "2", GIT_CONFIG_KEY_0: "fetch.unpackLimit", GIT_CONFIG_VALUE_0: "1", GIT_CONFIG_KEY_1: "gc.autoPackLimit", GIT_CONFIG_VALUE_1: "1" };
    const mirror = mirrorPath(dataDir, remote);
    const packs = () => readdirSync(join(mirror, "objects", "pack")).filter((name) => name.endsWith(".pack")).length;
    const fetchOnce = async (round: number) => {
      commitFiles(remote, { [`stacks/app/round-${round}`]: `${round}\n` }, `round ${round}`);
      const source = new GitSource({ dataDir, env });
      await (await source.acquire({ repo: remote, ref: "main", path: "stacks/app" })).release();
      await source.prune(); // waits for the maintenance it started
    };
    await (await new GitSource({ dataDir, env }).acquire({ repo: remote, ref: "main", path: "." })).release(); // the clone
    await fetchOnce(1);
    // The fetch kept a second pack; the day's first maintenance packed the two into one.
    expect(packs()).toBe(1);
    expect(existsSync(join(mirror, "driftwatch-maintained"))).toBe(true);
    await fetchOnce(2);
    expect(packs()).toBe(2); // the same day: no maintenance
  });

  it("checks out and removes worktrees of several commits of one mirror at once, without one run's cleanup breaking another's checkout", async () => {
    const { remote, dataDir } = setup();
    const refs = ["main"];
    for (let i = 0; i < 3; i++) {
      git(remote, "checkout", "-q", "-b", `b${i}`, "main");
      commitFiles(remote, { [`stacks/app/v${i}`]: `${i}\n` }, `v${i}`);
      refs.push(`b${i}`);
    }
    git(remote, "checkout", "-q", "main");
    const source = new GitSource({ dataDir });
    // Each round: every commit checked out and released concurrently, so removals overlap other commits' checkouts.
    for (let round = 0; round < 15; round++) {
      await Promise.all(
        refs.map(async (ref) => {
          const acquired = await source.acquire({ repo: remote, ref, path: "stacks/app" });
          await acquired.release();
        }),
      );
    }
    expect(readdirSync(join(dataDir, "git", "worktrees"))).toEqual([]);
    expect(git(mirrorPath(dataDir, remote), "worktree", "list").trim().split("\n")).toHaveLength(1);
  });
});
