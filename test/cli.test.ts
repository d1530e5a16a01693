// The CLI's contract without any engine work: bad input is a clear error, exit 1, and nothing runs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configJsonSchema } from "../src/config/json-schema.ts";
import { loadConfig } from "../src/config/load.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import { freeLoopbackPort } from "../src/toolchain/ports.ts";
import { driftwatch } from "./support/cli.ts";
import { startServeChild, stopServeChild } from "./support/serve-process.ts";
import { tempDir } from "./support/tempdir.ts";

describe("driftwatch CLI", () => {
  it("refuses a malformed config naming the file, key path and stack, and runs nothing", async () => {
    const dir = tempDir();
    const file = join(dir, "driftwatch.yaml");
    writeFileSync(
      file,
      [
        "dataDir: data",
        "stacks:",
        "  - name: web",
        "    engine: pulumi",
        "    source: { repo: ., ref: main, path: app }",
        "    pulumi: { stack: dev, colour: blue }",
        "  - name: db",
        "    engine: pulumi",
        "    source: { repo: ., path: db }",
        "    pulumi: { stack: dev }",
        "    env:",
        "      PULUMI_CONFIG_PASSPHRASE: ${env:DRIFTWATCH_TEST_UNSET_VARIABLE}",
        "",
      ].join("\n"),
    );
    const run = await driftwatch(["--config", file, "check"], { DRIFTWATCH_TEST_UNSET_VARIABLE: undefined });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(file);
    expect(run.stderr).toMatch(/stacks\[0\] \(web\)\.pulumi.*colour/);
    expect(run.stderr).toMatch(/stacks\[1\] \(db\)\.env\.PULUMI_CONFIG_PASSPHRASE.*DRIFTWATCH_TEST_UNSET_VARIABLE/);
    expect(existsSync(join(dir, "data"))).toBe(false);
  });

  it("says which file is missing, and how to make one", async () => {
    const dir = tempDir();
    const run = await driftwatch(["--config", join(dir, "nope.yaml"), "check"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(join(dir, "nope.yaml"));
    expect(run.stderr).toContain("driftwatch init");
  });

  it("refuses an unknown stack name before running anything", async () => {
    const dir = tempDir();
    const file = join(dir, "driftwatch.yaml");
    writeFileSync(file, "dataDir: data\nstacks: []\n");
    const run = await driftwatch(["--config", file, "check", "ghost"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("no stack named 'ghost'");
    expect(existsSync(join(dir, "data"))).toBe(false);
  });

  it.each(["check", "converge", "history", "audit", "approvals"])("%s: an unknown stack is a usage error naming the argument, exit 1", async (command) => {
    const dir = tempDir();
    const file = join(dir, "driftwatch.yaml");
    writeFileSync(file, ["dataDir: data", "stacks:", "  - name: web", "    engine: terraform", `    source: { repo: ${join(dir, "repo")} }`, ""].join("\n"));
    const run = await driftwatch(["--config", file, command, "ghost"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`driftwatch: ${command}: no stack named 'ghost' in ${file} (it has: web)`);
    expect(run.stderr).not.toContain("invalid configuration");
    expect(existsSync(join(dir, "data", "git"))).toBe(false);
  });

  it("lists the history of a stack skipped for want of its requiresEnv variables", async () => {
    const dir = tempDir();
    const file = join(dir, "driftwatch.yaml");
    writeFileSync(file, ["dataDir: data", "stacks:", "  - name: cfn", "    engine: terraform", "    requiresEnv: [DRIFTWATCH_TEST_UNSET_VARIABLE]", `    source: { repo: ${join(dir, "repo")} }`, ""].join("\n"));
    const run = await driftwatch(["--config", file, "history", "cfn", "--json"], { DRIFTWATCH_TEST_UNSET_VARIABLE: undefined });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ runs: [] });
    expect(run.stderr).toBe(""); // the skip is said by the commands that run stacks, not by every listing
  });

  it("suggests the command meant and --help for an unknown command", async () => {
    const run = await driftwatch(["chek"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("error: unknown command 'chek'");
    expect(run.stderr).toContain("(Did you mean check?)");
    expect(run.stderr).toContain("driftwatch --help");
  });

  it("prints its version and the engines' it runs", async () => {
    const run = await driftwatch(["--version"]);
    expect(run.code).toBe(0);
    const { version } = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toBe(`driftwatch ${version}`);
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^node \d+\.\d+\.\d+$/), expect.stringMatching(/^pulumi \d+\.\d+\.\d+$/), expect.stringMatching(/^tofu \d+\.\d+\.\d+$/), expect.stringMatching(/^kustomize \d+\.\d+\.\d+$/)]));
    const bare = await driftwatch(["--version"], { DRIFTWATCH_TOOLCHAIN: join(tempDir(), "none.json") });
    expect(bare.stdout).toBe(`driftwatch ${version}\nnode ${process.versions.node}\nengines: not provisioned yet (npm run provision)\n`);
  });

  it("init writes a starter configuration that loads as it is, and the schema beside it, and never overwrites", async () => {
    const dir = tempDir();
    const file = join(dir, "driftwatch.yaml");
    const run = await driftwatch(["--config", file, "init"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`wrote ${file} and ${join(dir, "driftwatch.schema.json")}`);
    const config = loadConfig(file, { env: {} });
    expect([...config.stacks, ...config.skipped].map((s) => s.name).sort()).toEqual(["network", "web-cfn", "web-k8s", "web-pulumi"]);
    expect(readFileSync(file, "utf8")).toMatch(/^# yaml-language-server: \$schema=\.\/driftwatch\.schema\.json\n/);
    expect(JSON.parse(readFileSync(join(dir, "driftwatch.schema.json"), "utf8"))).toEqual(configJsonSchema());
    // With the credentials there, every stack is watched and still valid.
    const all = loadConfig(file, { env: { PULUMI_CONFIG_PASSPHRASE: "p", AWS_PROFILE: "infra", KUBECONFIG: "/tmp/kubeconfig" } });
    expect(all.stacks.map((s) => s.engine).sort()).toEqual(["cloudformation", "kubernetes", "pulumi", "terraform"]);

    writeFileSync(file, "# mine\n");
    const again = await driftwatch(["--config", file, "init", "terraform"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`init: ${file} already exists; nothing was written`);
    expect(readFileSync(file, "utf8")).toBe("# mine\n");

    const other = join(dir, "other", "k8s.yaml");
    mkdirSync(join(dir, "other"));
    expect((await driftwatch(["--config", other, "init", "kubernetes"])).code).toBe(0);
    expect(loadConfig(other, { env: { KUBECONFIG: "/tmp/kubeconfig" } }).stacks.map((s) => s.name)).toEqual(["web-k8s"]);
    const wrong = await driftwatch(["--config", join(dir, "x.yaml"), "init", "helm"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("init: unknown engine 'helm'");
    expect(existsSync(join(dir, "x.yaml"))).toBe(false);
    // A folder it cannot write in (here a file where the folder should be; a read-only /etc says so the same way).
    const blocked = join(dir, "not-a-folder", "driftwatch.yaml");
    writeFileSync(join(dir, "not-a-folder"), "");
    const refused = await driftwatch(["--config", blocked, "init"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`driftwatch: init: cannot write ${blocked}: a file is in the way (it must be a folder) (or give --config a file in a writable folder)\n`);
  });

  it("says in one line, naming the setting, that serve's port is taken, and leaves the port's owner alone", async () => {
    const dir = tempDir();
    const file = join(dir, "driftwatch.yaml");
    writeFileSync(file, ["dataDir: data", "service: { runOnStart: false }", "stacks: []", ""].join("\n"));
    const owner = createServer();
    await new Promise<void>((resolve) => owner.listen(0, "127.0.0.1", resolve));
    try {
      const port = (owner.address() as AddressInfo).port;
      const run = await driftwatch(["--config", file, "serve", "--port", String(port)]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      const errors = run.stderr.split("\n").filter((line) => line.startsWith("driftwatch:"));
      expect(errors).toEqual([
        `driftwatch: cannot listen on 127.0.0.1:${port}: another process is using that port; stop it, or choose another port (service.http.host/port in ${file}, DRIFTWATCH_HTTP_HOST/PORT, or --host/--port; --port 0 takes any free one)`,
      ]);
      expect(run.stderr).not.toContain("internal error");
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(owner.listening).toBe(true);
    } finally {
      await new Promise((resolve) => owner.close(resolve));
    }
  });

  it("health asks serve at the address serve takes: DRIFTWATCH_HTTP_PORT over the configuration's port", async () => {
    const dir = tempDir();
    const file = join(dir, "driftwatch.yaml");
    writeFileSync(file, ["dataDir: data", "service: { runOnStart: false, http: { port: 1 } }", "stacks: []", ""].join("\n"));
    const port = await freeLoopbackPort();
    const env = { ...process.env, DRIFTWATCH_HTTP_PORT: String(port) };
    const nobody = await driftwatch(["--config", file, "health"], { DRIFTWATCH_HTTP_PORT: String(port) });
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toBe(`driftwatch: health: http://127.0.0.1:${port}/healthz did not answer (connect ECONNREFUSED 127.0.0.1:${port})\n`);
    const service = await startServeChild(file, env);
    try {
      expect(service.url).toBe(`http://127.0.0.1:${port}/`);
      const ok = await driftwatch(["--config", file, "health"], { DRIFTWATCH_HTTP_PORT: String(port) });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toBe(`ok: http://127.0.0.1:${port}/healthz\n`);
    } finally {
      await stopServeChild(service);
    }
    const wrong = await driftwatch(["--config", file, "health"], { DRIFTWATCH_HTTP_PORT: "http" });
    expect(wrong.stderr).toBe("driftwatch: DRIFTWATCH_HTTP_PORT=http: expected a port number 0-65535\n");
  });

  it("says in one line, naming dataDir, when the data directory cannot be made, and runs nothing", async () => {
    const dir = tempDir();
    const file = join(dir, "driftwatch.yaml");
    writeFileSync(join(dir, "blocked"), "a file where the data directory should go\n");
    writeFileSync(file, ["dataDir: blocked/data", "stacks:", "  - name: web", "    engine: terraform", `    source: { repo: ${join(dir, "no-repo")} }`, ""].join("\n"));
    for (const command of [["check"], ["serve", "--port", "0"]]) {
      const run = await driftwatch(["--config", file, ...command]);
      expect(run.code).toBe(1);
      expect(run.stderr.trim()).toBe(`driftwatch: cannot use the data directory ${join(dir, "blocked", "data")} (dataDir in ${file}): a file is in the way (it must be a folder)`);
    }
  });

  it("prints an empty table and exits 0 when there is nothing to check", async () => {
    const dir = tempDir();
    const file = join(dir, "driftwatch.yaml");
    writeFileSync(file, "dataDir: data\nstacks: []\n");
    const run = await driftwatch(["--config", file, "check", "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ results: [] });
  });

  it("starts no stack once asked to stop (Ctrl-C), reporting each as interrupted", async () => {
    const dir = tempDir();
    const file = join(dir, "driftwatch.yaml");
    writeFileSync(file, ["dataDir: data", "stacks:", "  - name: web", "    engine: terraform", `    source: { repo: ${join(dir, "no-repo")} }`, ""].join("\n"));
    const stop = new AbortController();
    stop.abort();
    const run = await driftwatch(["--config", file, "check", "--json"], {}, stop.signal);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ results: [{ stack: "web", verdict: "error", error: { kind: "InterruptedError", message: "Driftwatch stopped before stack web started" } }] });
    expect(existsSync(join(dir, "data", "git"))).toBe(false); // not even fetched
  });
});
