import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { SourceNotFoundError, SourceUnreachableError } from "../../core/errors.ts";
import { gitEnvironment } from "./git-env.ts";
import { GitSource, type AcquiredSource } from "./index.ts";
import { mirrorDirName } from "./mirror-path.ts";
import { commitFiles, git } from "../../../test/support/git.ts";

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
    expect(acquired.worktree).toBe(join(dataDir, "git", "worktrees", first));
    expect(acquired.dir).toBe(join(acquired.worktree, "stacks", "app"));
    expect(readFileSync(join(acquired.dir, "Pulumi.yaml"), "utf8")).toBe("name: app\n");
    expect(acquired.staleSource).toBeUndefined();
    expect(mirrorDirName(remote)).toMatch(/^[A-Za-z0-9._-]*remote-[0-9a-f]{12}\.git$/);
    expect(git(mirrorPath(dataDir, remote), "rev-parse", "--is-bare-repository")).toBe("true");
    expect(readdirSync(join(dataDir, "git", "mirrors"))).toEqual([mirrorDirName(remote)]);
    expect(logs.lines.filter((l) => l.msg === "cloning mirror")).toHaveLength(1);
    expect(logs.lines.find((l) => l.msg === "created worktree")).toMatchObject({ repo: remote, commit: first });
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
    expect(messages.filter((m) => m === "created worktree" || m === "reusing worktree")).toHaveLength(1);
    await Promise.all([app.release(), db.release(), later.release()]);
  });

  it("resolves tags (peeled) and full or abbreviated commit ids", async () => {
    const { remote, dataDir, first } = setup();
    git(remote, "tag", "-a", "v1", "-m", "release 1");
    git(remote, "tag", "light");
    const second = commitFiles(remote, { "stacks/app/Pulumi.yaml": "name: app\nv: 2\n" }, "second");
    const source = new GitSource({ dataDir });
    const results: Record<string, string> = {};
    for (const ref of ["v1", "light", first, first.slice(0, 10), "main"]) {
      const acquired = await source.acquire({ repo: remote, ref, path: "stacks/app" });
      results[ref] = acquired.commit;
      await acquired.release();
    }
    expect(results).toEqual({ v1: first, light: first, [first]: first, [first.slice(0, 10)]: first, main: second });
    expect(readFileSync(join(dataDir, "git", "worktrees", first, "stacks", "app", "Pulumi.yaml"), "utf8")).toBe("name: app\n");
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

  it("sends DRIFTWATCH_GIT_TOKEN as an http header to https remotes and never shows it", async () => {
    const { root, dataDir } = setup();
    const token = "tok-very-secret-4711";
    const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(root, "key.pem"), "-out", join(root, "cert.pem")], { stdio: "ignore" });
    const seen: (string | undefined)[] = [];
    const server = createServer({ key: readFileSync(join(root, "key.pem")), cert: readFileSync(join(root, "cert.pem")) }, (request, response) => {
      seen.push(request.headers.authorization);
      response.writeHead(403).end(`denied ${token}`);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const logs = captureLogs();
      const env = {
        ...process.env,
        DRIFTWATCH_GIT_TOKEN: token,
        GIT_SSL_CAINFO: join(root, "cert.pem"),
        // Make git print every header it sends, unredacted: the token must still not get through.
        GIT_TRACE_CURL: "1",
        GIT_TRACE_REDACT: "0",
      };
      const source = new GitSource({ dataDir, logger: logs.logger, env });
      const error = await source.acquire({ repo: `https://127.0.0.1:${port}/org/repo.git`, ref: "main", path: "." }).catch((e: unknown) => e);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen[0]).toBe(`Basic ${basic}`);
      expect(error).toBeInstanceOf(SourceUnreachableError);
      const message = (error as Error).message;
      expect(message).toContain("403");
      for (const secret of [token, basic]) {
        expect(message).not.toContain(secret);
        expect(logs.raw.join("")).not.toContain(secret);
      }
    } finally {
      server.close();
    }
  });

  it("builds git's environment: no prompts, the token only for https and only through GIT_CONFIG_*", () => {
    const base = { PATH: "/bin", DRIFTWATCH_GIT_TOKEN: "tok-1234", GIT_SSH_COMMAND: "ssh -i key", GIT_DIR: "/elsewhere", GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "http.proxy", GIT_CONFIG_VALUE_0: "http://proxy:3128" };
    const https = gitEnvironment(base, true);
    expect(https).toMatchObject({
      PATH: "/bin",
      GIT_TERMINAL_PROMPT: "0",
      GIT_SSH_COMMAND: "ssh -i key",
      GIT_CONFIG_COUNT: "2",
      GIT_CONFIG_KEY_0: "http.proxy",
      GIT_CONFIG_KEY_1: "http.extraHeader",
      GIT_CONFIG_VALUE_1: `Authorization: Basic ${Buffer.from("x-access-token:tok-1234").toString("base64")}`,
    });
    expect(https.DRIFTWATCH_GIT_TOKEN).toBeUndefined();
    expect(https.GIT_DIR).toBeUndefined();
    const local = gitEnvironment(base, false);
    expect(local.GIT_CONFIG_COUNT).toBe("1");
    expect(Object.values(local).join(" ")).not.toContain("tok-1234");
  });

  it("prune removes worktrees nobody held since the run began and keeps held ones", async () => {
    const { remote, dataDir, first } = setup();
    const second = commitFiles(remote, { "stacks/app/Pulumi.yaml": "name: app\nv: 2\n" }, "second");
    const earlier = new GitSource({ dataDir });
    for (const ref of [first, second]) await (await earlier.acquire({ repo: remote, ref, path: "stacks/app" })).release();
    const worktrees = join(dataDir, "git", "worktrees");
    expect(readdirSync(worktrees).sort()).toEqual([first, second].sort());
    await new Promise((resolve) => setTimeout(resolve, 20));

    const source = new GitSource({ dataDir });
    const held: AcquiredSource = await source.acquire({ repo: remote, ref: "main", path: "stacks/app" });
    expect(held.commit).toBe(second);
    await source.prune();
    expect(readdirSync(worktrees)).toEqual([second]);
    expect(git(mirrorPath(dataDir, remote), "worktree", "list")).not.toContain(first);

    // Held worktrees survive even a prune that considers everything unused.
    await source.prune(new Date(Date.now() + 60_000));
    expect(readdirSync(worktrees)).toEqual([second]);
    await held.release();
    await source.prune(new Date(Date.now() + 60_000));
    expect(readdirSync(worktrees)).toEqual([]);

    // And the next acquisition rebuilds what prune removed.
    const again = await source.acquire({ repo: remote, ref: first, path: "stacks/app" });
    expect(existsSync(join(again.dir, "Pulumi.yaml"))).toBe(true);
    await again.release();
  });
});
