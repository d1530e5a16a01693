// The OS sandbox every process tree of repository code starts in (src/sandbox/, tools/sandbox/), driven as engines
// drive it: through a run's sandbox, with the real launcher on this kernel. Each `it` is one guarantee of the README's
// "Security model": files, capabilities, other processes, lifetime, network, limits, and failing closed.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackConfig } from "../src/config/types.ts";
import type { StackResult } from "../src/core/types.ts";
import { SandboxUnavailableError } from "../src/sandbox/errors.ts";
import type { RunSandbox } from "../src/sandbox/run-sandbox.ts";
import { probeSandbox } from "../src/sandbox/support.ts";
import type { SandboxSupport } from "../src/sandbox/types.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { processesWithMarker, until } from "./support/processes.ts";
import { defaultSandbox, sandboxFor } from "./support/sandbox.ts";
import { terraformStackConfig } from "./support/stack-config.ts";
import { tempDir } from "./support/tempdir.ts";
import { localFilesModule, terraformStackYaml } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";
import { testToolchain } from "./support/toolchain.ts";

const { manifest, env: toolchainEnv } = testToolchain();

/** A stack whose project folder is `<root>/repo/app`, with these sandbox settings. */
function stackOf(root: string, sandbox: Partial<StackConfig["sandbox"]> = {}, env: Record<string, string> = {}): StackConfig {
  return terraformStackConfig("probe", { repo: join(root, "repo"), ref: "main", path: "app" }, { env, timeoutSeconds: 120, sandbox: defaultSandbox(sandbox) });
}

interface Places {
  root: string;
  dir: string;
  dataDir: string;
  /** Another stack's state, beside this one's in the data directory. */
  neighbourState: string;
}

function places(): Places {
  const root = tempDir("driftwatch-sandbox-");
  const dir = join(root, "repo", "app");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(root, "repo", "shared.txt"), "shared by the worktree\n");
  const dataDir = join(root, "data");
  const neighbourState = join(dataDir, "terraform", "neighbour", "state", "terraform.tfstate");
  mkdirSync(join(neighbourState, ".."), { recursive: true });
  writeFileSync(neighbourState, '{"secret":"neighbour-db-password"}\n');
  return { root, dir, dataDir, neighbourState };
}

/** `sh -c script` in the sandbox; stdout and stderr together. */
async function sh(sandbox: RunSandbox, script: string, options: { cwd: string; signal?: AbortSignal; graceMs?: number; grants?: Parameters<RunSandbox["run"]>[2]["grants"] }) {
  const result = await sandbox.run("/bin/sh", ["-c", script], {
    cwd: options.cwd,
    env: { ...toolchainEnv, PATH: toolchainEnv.PATH ?? "/usr/bin:/bin" },
    signal: options.signal ?? AbortSignal.timeout(60_000),
    ...(options.graceMs ? { graceMs: options.graceMs } : {}),
    ...(options.grants ? { grants: options.grants } : {}),
  });
  return { ...result, output: `${result.stdout}${result.stderr}` };
}


/** A shell that runs until killed, in a session of its own, with `marker` on its command line. */
function linger(marker: string): string {
  return `setsid sh -c 'while :; do sleep 1; done' ${marker}`;
}

/** Waits until the file `name` (in the program's folder) exists. */
function waitFor(name: string): string {
  return `while [ ! -e ${name} ]; do sleep 0.05; done`;
}

let support: SandboxSupport;
beforeAll(async () => {
  support = await probeSandbox(manifest.sandbox.bin, process.env);
});

describe("the sandbox a run's engine processes start in", () => {
  it("lets the program read the worktree and the toolchain, write its folder and home, and nothing else", async () => {
    const p = places();
    const world = join(p.root, "world");
    // In /tmp itself (a temp folder the sandbox does not grant), named for this run alone.
    const escape = join(tmpdir(), `driftwatch-sandbox-escape-${process.pid}-${Date.now()}`);
    const sandbox = sandboxFor(stackOf(p.root, { readWrite: [world] }), p.dir, p.dataDir);
    const run = await sh(
      sandbox,
      [
        "cat ../shared.txt",
        "echo state > own.txt && echo wrote-project",
        "echo x > ../root-file 2>/dev/null || echo no-write-worktree-root",
        `echo made > ${world}/resource && echo wrote-world`,
        `cat ${p.neighbourState} 2>/dev/null || echo no-neighbour-state`,
        `ls ${p.dataDir} 2>/dev/null || echo no-data-dir`,
        "cat /etc/shadow 2>/dev/null || echo no-shadow",
        `ls ${join(p.root)} 2>/dev/null || echo no-tmp-root`,
        `echo x > ${escape} 2>/dev/null || echo no-tmp`,
        "node --version >/dev/null && echo node-runs",
      ].join("\n"),
      { cwd: p.dir },
    );
    expect(run.code, run.output).toBe(0);
    for (const line of ["shared by the worktree", "wrote-project", "no-write-worktree-root", "wrote-world", "no-neighbour-state", "no-data-dir", "no-shadow", "no-tmp-root", "no-tmp", "node-runs"]) {
      expect(run.output).toContain(line);
    }
    expect(run.output).not.toContain("neighbour-db-password");
    expect(readFileSync(join(world, "resource"), "utf8")).toBe("made\n");
    expect(existsSync(escape)).toBe(false);
  });

  it("holds no capability and sets no_new_privs, even when the service runs as root", async () => {
    const p = places();
    const run = await sh(sandboxFor(stackOf(p.root), p.dir, p.dataDir), "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status", { cwd: p.dir });
    const status = Object.fromEntries(run.stdout.trim().split("\n").map((line) => line.split(/:\s+/) as [string, string]));
    for (const set of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]) expect(status[set], set).toBe("0000000000000000");
    expect(status.NoNewPrivs).toBe("1");
  });

  it("cannot read the environment, memory or descriptors of processes outside the run, nor signal them", async () => {
    const p = places();
    const outside: ChildProcess = spawn("sleep", ["300"], { env: { ...process.env, OUTSIDE_SECRET: "outside-secret-9a1" }, stdio: "ignore" });
    try {
      const pid = outside.pid!;
      const run = await sh(
        sandboxFor(stackOf(p.root), p.dir, p.dataDir),
        [
          `cat /proc/${pid}/environ 2>/dev/null || echo no-environ`,
          `head -c 1 /proc/${pid}/mem 2>/dev/null || echo no-mem`,
          `readlink /proc/${pid}/fd/0 2>/dev/null || echo no-fd`,
          `cat /proc/${pid}/fd/0 2>/dev/null || echo no-fd-read`,
          `cat /proc/${process.pid}/environ 2>/dev/null || echo no-service-environ`,
          `kill -0 ${pid} 2>/dev/null && echo signalled || echo no-signal`,
        ].join("\n"),
        { cwd: p.dir },
      );
      expect(run.output).not.toContain("outside-secret-9a1");
      for (const line of ["no-environ", "no-mem", "no-fd", "no-fd-read", "no-service-environ"]) expect(run.output).toContain(line);
      // Landlock scopes signals from ABI 6 on; below it, a process of the same user can still be signalled.
      if (support.landlockAbi >= 6) expect(run.output).toContain("no-signal");
      expect(outside.exitCode).toBeNull();
    } finally {
      outside.kill("SIGKILL");
    }
  });

  it.each([
    ["a PID namespace", {}],
    ["the child-subreaper fallback", { DRIFTWATCH_SANDBOX_NAMESPACES: "off" }],
  ])("leaves nothing running after the program ends (%s)", async (_how, launcherEnv) => {
    const p = places();
    const marker = `driftwatch-linger-${process.pid}-${Date.now()}`;
    const sandbox = sandboxFor(stackOf(p.root), p.dir, p.dataDir, { ...process.env, ...launcherEnv });
    // A daemon in a session of its own, and an orphan: both still running when the program ends.
    const running = sh(sandbox, `${linger(marker)} & (${linger(marker)} &); touch started; ${waitFor("release")}; echo done`, { cwd: p.dir });
    await until(() => existsSync(join(p.dir, "started")) && processesWithMarker(marker).length >= 2, 60_000);
    writeFileSync(join(p.dir, "release"), "");
    expect((await running).output).toContain("done");
    expect(processesWithMarker(marker)).toEqual([]);
  }, engineTimeout(60));

  it("stops the whole tree when the run is cancelled", async () => {
    const p = places();
    const marker = `driftwatch-cancel-${process.pid}-${Date.now()}`;
    const stop = new AbortController();
    const running = sh(sandboxFor(stackOf(p.root), p.dir, p.dataDir), `${linger(marker)} & touch started; trap '' INT; ${waitFor("never")}`, {
      cwd: p.dir,
      signal: stop.signal,
      graceMs: 500, // it ignores the interrupt: killed after this
    });
    await until(() => existsSync(join(p.dir, "started")) && processesWithMarker(marker).length >= 2, 60_000);
    stop.abort();
    const run = await running;
    expect(run.aborted).toBe(true);
    expect(processesWithMarker(marker)).toEqual([]);
  }, engineTimeout(60));

  it("applies the stack's memory and CPU-time limits to each process", async () => {
    const p = places();
    const run = await sh(sandboxFor(stackOf(p.root, { memoryBytes: 512 * 1024 * 1024, cpuSeconds: 90 }), p.dir, p.dataDir), "ulimit -d; ulimit -t", { cwd: p.dir });
    expect(run.stdout.trim().split("\n")).toEqual([String(512 * 1024), "90"]);
  });
});

describe("the sandbox's network", () => {
  let server: Server;
  let port: number;
  const asked: string[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      asked.push(request.url ?? "");
      response.end("reached");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const connect = (url: string) => `node -e 'fetch(process.argv[1]).then(r => r.text()).then(t => console.log(t), e => console.log("refused: " + (e.cause?.code ?? e.message)))' ${url}`;

  it("lets a Terraform-style run connect only to the ports its settings allow", async () => {
    const p = places();
    const closed = await sh(sandboxFor(stackOf(p.root), p.dir, p.dataDir), connect(`http://127.0.0.1:${port}/closed`), { cwd: p.dir });
    const allowed = await sh(sandboxFor(stackOf(p.root, { connectPorts: [port] }), p.dir, p.dataDir), connect(`http://127.0.0.1:${port}/allowed`), { cwd: p.dir });
    const named = await sh(sandboxFor(stackOf(p.root, {}, { MY_ENDPOINT: `http://127.0.0.1:${port}` }), p.dir, p.dataDir), connect(`http://127.0.0.1:${port}/named`), { cwd: p.dir });
    expect(closed.stdout).toContain("refused");
    expect(allowed.stdout).toContain("reached");
    expect(named.stdout).toContain("reached");
    expect(asked).not.toContain("/closed");
    expect(asked).toEqual(expect.arrayContaining(["/allowed", "/named"]));
  });

  it("gives rendering no network at all, and no data directory", async () => {
    const p = places();
    const sandbox = sandboxFor(stackOf(p.root, { connectPorts: [port] }), p.dir, p.dataDir);
    const run = await sh(sandbox, `${connect(`http://127.0.0.1:${port}/render`)}; ls ${p.dataDir} 2>/dev/null || echo no-data-dir; echo x > out 2>/dev/null || echo read-only`, {
      cwd: p.dir,
      grants: { profile: "render" },
    });
    expect(run.output).toContain("refused");
    expect(run.output).toContain("no-data-dir");
    expect(run.output).toContain("read-only");
    expect(asked).not.toContain("/render");
  });
});

describe("an engine in the sandbox", () => {
  it("cannot apply outside what the stack's settings grant: that stack's apply fails, in the engine's own words", async () => {
    const root = tempDir("driftwatch-sandbox-apply-");
    const repo = join(root, "repo");
    mkdirSync(repo, { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    commitFiles(repo, { "app/main.tf": localFilesModule({ a: "alpha\n" }) }, "module");
    const world = join(root, "world");
    const file = join(root, "driftwatch.yaml");
    // The stack's world is not granted: its files are somewhere its code may not write.
    const stack = terraformStackYaml({ name: "app", repo, path: "app", dir: world }).filter((line) => !line.includes("sandbox:"));
    writeFileSync(file, [`dataDir: ${join(root, "data")}`, "stacks:", ...stack].join("\n") + "\n");
    const converged = await driftwatch(["--config", file, "converge", "app", "--json"]);
    const [result] = (JSON.parse(converged.stdout) as { results: StackResult[] }).results;
    expect(result!.error?.kind).toBe("EngineError");
    expect(result!.error?.message).toMatch(/apply failed for stack app:[\s\S]*permission\s+denied/);
    expect(existsSync(join(world, "a.txt"))).toBe(false);
  }, engineTimeout(120));
});

describe("failing closed", () => {
  it("refuses to start anything at a level the kernel cannot enforce, and runs at the weaker level the operator chose", async () => {
    const p = places();
    const weak = { ...process.env, DRIFTWATCH_SANDBOX_MAX_ABI: "3" };
    const strict = sandboxFor(stackOf(p.root), p.dir, p.dataDir, weak);
    await expect(sh(strict, "echo ran > ran", { cwd: p.dir })).rejects.toThrow(SandboxUnavailableError);
    await expect(sh(strict, "true", { cwd: p.dir })).rejects.toThrow(/strict needs Landlock ABI 4 .*this kernel offers Landlock ABI 3.*sandbox: files/s);
    expect(existsSync(join(p.dir, "ran"))).toBe(false);
    const files = await sh(sandboxFor(stackOf(p.root, { level: "files" }), p.dir, p.dataDir, weak), `cat ${p.neighbourState} 2>/dev/null || echo no-neighbour-state`, { cwd: p.dir });
    expect(files.output).toContain("no-neighbour-state");
    const off = await sh(sandboxFor(stackOf(p.root, { level: "off" }), p.dir, p.dataDir, weak), `cat ${p.neighbourState}`, { cwd: p.dir });
    expect(off.output).toContain("neighbour-db-password");
  });

  it("check, doctor: a stack whose level cannot be enforced does not run and says why; `sandbox: off` runs and says it ran unconfined", async () => {
    const root = tempDir("driftwatch-sandbox-cli-");
    const repo = join(root, "repo");
    mkdirSync(repo, { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    commitFiles(repo, { "app/main.tf": localFilesModule({ a: "alpha\n" }) }, "module");
    const dataDir = join(root, "data");
    const config = (level?: string) => {
      const file = join(root, `driftwatch-${level ?? "default"}.yaml`);
      writeFileSync(file, [`dataDir: ${dataDir}`, ...(level ? [`sandbox: ${level}`] : []), "stacks:", ...terraformStackYaml({ name: "app", repo, path: "app", dir: join(root, "world") })].join("\n") + "\n");
      return file;
    };
    const weakKernel = { DRIFTWATCH_SANDBOX_MAX_ABI: "3" };

    const refused = await driftwatch(["--config", config(), "check", "--json"], weakKernel);
    expect(refused.code).toBe(1);
    const [result] = (JSON.parse(refused.stdout) as { results: StackResult[] }).results;
    expect(result!.error?.kind).toBe("SandboxUnavailableError");
    expect(result!.error?.message).toMatch(/stack app: sandbox level strict needs Landlock ABI 4/);
    expect(existsSync(join(dataDir, "terraform", "app", "data", "providers"))).toBe(false); // not even init ran

    const doctor = await driftwatch(["--config", config(), "doctor"], weakKernel);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/app\s+terraform\s+strict\s+NO/);
    expect(doctor.stdout).toContain("sandbox: files");
    expect((await driftwatch(["--config", config(), "doctor"])).code).toBe(0);

    const unconfined = await driftwatch(["--config", config("off"), "check"], weakKernel);
    expect(unconfined.code, unconfined.stderr).toBe(2);
    expect(unconfined.stdout).toContain("app: ran unconfined (sandbox: off)");
    const history = await driftwatch(["--config", config("off"), "history", "--json"]);
    expect((JSON.parse(history.stdout) as { runs: StackResult[] }).runs.map((r) => r.sandbox)).toEqual(["off", "strict"]);
  }, engineTimeout(120));
});
