// Driftwatch installed like a tool: `npm pack` (whose prepack compiles the TypeScript), the tarball installed
// globally into a temporary prefix, and its `driftwatch` run by a user's shell, not through this repository: no
// DRIFTWATCH_TOOLCHAIN, so it provisions the engines itself on first use, into its tool cache (here a cache whose
// entries are this machine's, linked, so nothing is built again and the shared manifest is not rewritten).
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import type { DoctorDocument } from "../src/cli/doctor.ts";
import { nodeVersionRefusal } from "../src/cli/node-version.ts";
import { readToolchainManifest, terraformCli } from "../src/toolchain/manifest.ts";
import { manifestPath, repoRoot } from "../src/toolchain/paths.ts";
import { loadPinnedVersions } from "../src/toolchain/versions.ts";
import { demoCopy } from "./support/demo.ts";
import { commitFiles, git } from "./support/git.ts";
import { until } from "./support/processes.ts";
import { localFilesModule } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";

describe("the npm package", () => {
  const root = mkdtempSync(join(tmpdir(), "driftwatch-package-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const run = (command: string, args: string[], env: NodeJS.ProcessEnv, cwd = root) => {
    const result = spawnSync(command, args, { cwd, env, encoding: "utf8", timeout: engineTimeout(60) });
    if (result.error) throw result.error;
    return result;
  };

  /** `npm pack`, then a global install of the tarball into a prefix of its own: once, for every test here. */
  let installing: Promise<string> | undefined;
  const installedBin = () =>
    (installing ??= (async () => {
      const packed = run("npm", ["pack", "--pack-destination", root], process.env, repoRoot);
      expect(packed.status, packed.stderr).toBe(0);
      const tarball = readdirSync(root).find((f) => f.endsWith(".tgz"))!;
      const prefix = join(root, "prefix");
      const installed = run("npm", ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", join(root, tarball)], process.env);
      expect(installed.status, installed.stderr).toBe(0);
      return join(prefix, "bin", "driftwatch");
    })());

  /** The test's environment without what ties a run to this repository's toolchain. */
  const { DRIFTWATCH_TOOLCHAIN: _toolchain, DRIFTWATCH_LOG_LEVEL: _level, ...userEnv } = process.env;

  it("installs globally from the packed tarball and checks a Terraform stack, provisioning on first use", async () => {
    const started = performance.now();
    const driftwatch = await installedBin();

    // A tool cache holding this machine's built entries (linked), and a user's PATH: Node >= 22 first (the bin's
    // `#!/usr/bin/env node`), the system's tools after it, none of the repository's toolchain (and not
    // /usr/local/bin, where this machine has a HashiCorp terraform that the stack would run instead of building tofu).
    const tools = join(root, "tools");
    mkdirSync(tools);
    const env = { ...userEnv, DRIFTWATCH_TOOLS_DIR: tools, PATH: [dirname(process.execPath), "/usr/bin", "/bin"].join(":") };

    // A mistyped stack is said before anything is provisioned (a first use may build for minutes).
    const config = join(root, "driftwatch.yaml");
    const repo = join(root, "repo");
    writeFileSync(config, [`dataDir: ${join(root, "data")}`, "stacks:", "  - name: files", "    engine: terraform", `    source: { repo: ${repo}, path: files }`, `    terraform: { vars: { dir: ${join(root, "world")} } }`, `    sandbox: { readWrite: [${join(root, "world")}] }`, ""].join("\n"));
    const typo = run(driftwatch, ["--config", config, "check", "flies"], env);
    expect(typo.status).toBe(1);
    expect(typo.stderr).toContain("check: no stack named 'flies'");
    expect(readdirSync(tools)).toEqual([]);
    const help = run(driftwatch, ["check", "--help"], env);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain("Usage: driftwatch check");

    // Under an older Node.js (the machine's own: this project's machines have Node 20 besides the provisioned
    // one), one line saying what to install, before anything is imported.
    const systemPath = "/usr/local/bin:/usr/bin:/bin";
    const systemNode = spawnSync("node", ["--version"], { env: { PATH: systemPath }, encoding: "utf8" }).stdout?.trim() ?? "";
    if (Number(/^v(\d+)\./.exec(systemNode)?.[1] ?? 99) < 22) {
      const refused = run(driftwatch, ["check", "--help"], { ...env, PATH: systemPath });
      expect(refused.status).toBe(1);
      expect(refused.stdout).toBe("");
      expect(refused.stderr).toBe(`${nodeVersionRefusal(systemNode.slice(1))}\n`);
    }

    const shared = dirname(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());
    for (const entry of readdirSync(shared)) if (!entry.endsWith(".json") && !entry.includes(".partial-") && entry !== "local-cluster") symlinkSync(join(shared, entry), join(tools, entry));

    const version = run(driftwatch, ["--version"], env);
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/^driftwatch \d+\.\d+\.\d+\nnode \d+\.\d+\.\d+\nengines: those the configuration's stacks use/);

    mkdirSync(repo);
    git(repo, "init", "-q", "-b", "main");
    commitFiles(repo, { "files/main.tf": localFilesModule({ a: "alpha\n" }) }, "module");
    const checked = run(driftwatch, ["--config", config, "check", "--json"], env);
    expect(checked.status, checked.stderr).toBe(2);
    const [result] = (JSON.parse(checked.stdout) as { results: StackResult[] }).results;
    expect(result!.changes.map((c) => [c.kind, c.action, c.address])).toEqual([["pending", "create", "local_file.a"]]);
    expect(checked.stderr).toBe(""); // everything was cached: nothing to say
    // Only what a Terraform stack needs: no Pulumi, no kustomize, no provider mirror.
    const doctor = JSON.parse(run(driftwatch, ["--config", config, "doctor", "--json"], env).stdout) as DoctorDocument;
    expect(doctor.engines.map((e) => [e.name, e.origin])).toEqual([["node", "path"], ["driftwatch-sandbox", "built"], ["tofu", "built"]]);
    // The figure for the README: pack + install + first check, with a warm tool cache.
    process.stderr.write(`npm pack + global install + first check: ${((performance.now() - started) / 1000).toFixed(1)}s\n`);

    // `serve` through the bin runs with the service's Node settings (src/service/runtime.ts), in the same process.
    const served = spawn(driftwatch, ["--config", config, "serve", "--port", "0"], { env, stdio: "ignore" });
    const exited = once(served, "exit");
    const procFile = (name: string) => {
      try {
        return readFileSync(`/proc/${served.pid}/${name}`, "utf8").split("\0");
      } catch {
        return [];
      }
    };
    try {
      await until(() => served.exitCode !== null || procFile("cmdline").includes("--optimize-for-size"), engineTimeout(30), "serve relaunched with the service's flags");
      expect(served.exitCode).toBeNull();
      expect(procFile("cmdline")).toEqual(expect.arrayContaining(["--max-semi-space-size=2", "--optimize-for-size", "serve", "--port", "0"]));
      expect(procFile("environ")).toEqual(expect.arrayContaining(["MALLOC_ARENA_MAX=2", "MALLOC_TRIM_THRESHOLD_=131072"]));
    } finally {
      served.kill("SIGTERM");
      await exited;
    }
  }, engineTimeout(120));
  it("runs the demo on a machine with tofu and pulumi on PATH and no Go, building nothing", async () => {
    const driftwatch = await installedBin();
    const manifest = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());
    // The user's own engines: a folder on PATH with tofu, pulumi and its language host (as Pulumi's installer lays them out).
    const engines = join(root, "user-engines");
    mkdirSync(engines);
    const tofu = terraformCli(manifest, "tofu")!;
    symlinkSync(tofu.bin, join(engines, "tofu"));
    symlinkSync(manifest.pulumi.bin, join(engines, "pulumi"));
    symlinkSync(manifest.pulumi.languageNodejs.bin, join(engines, "pulumi-language-nodejs"));
    const tools = join(root, "fresh-tools"); // an empty cache: nothing built before
    const dir = join(root, "demo");
    mkdirSync(dir);
    const config = demoCopy(dir);
    const env = { ...userEnv, AWS_PROFILE: undefined, AWS_ACCESS_KEY_ID: undefined, AWS_WEB_IDENTITY_TOKEN_FILE: undefined, KUBECONFIG: undefined, DRIFTWATCH_TOOLS_DIR: tools, PATH: [dirname(process.execPath), engines, "/usr/bin", "/bin"].join(":") };
    expect(spawnSync("sh", ["-c", "command -v go"], { env }).status).not.toBe(0);

    const checked = run(driftwatch, ["--config", config, "check", "--json"], env);
    expect(checked.status, checked.stderr).toBe(2);
    const results = (JSON.parse(checked.stdout) as { results: StackResult[] }).results;
    expect(results.map((r) => [r.stack, r.verdict])).toEqual([["demo-files", "pending"], ["demo-files-tf", "pending"]]);
    // Nothing was built: the launcher is the package's own, the engines are the user's (Pulumi's only linked, and
    // the versions they reported remembered).
    expect(readdirSync(tools).filter((entry) => !entry.startsWith("pulumi-linked-")).sort()).toEqual(["installed-engines.json"]);
    const doctor = JSON.parse(run(driftwatch, ["--config", config, "doctor", "--json"], env).stdout) as DoctorDocument;
    expect(doctor.engines.map((e) => [e.name, e.version, e.origin])).toEqual([
      ["node", process.versions.node, "path"],
      ["driftwatch-sandbox", manifest.sandbox.version, "installed"],
      ["pulumi", manifest.pulumi.version, "path"],
      ["tofu", tofu.version, "path"],
    ]);

    // engines.<name>.path below the supported floor: one line naming the setting, and no run.
    const old = join(root, "old-tofu");
    writeFileSync(old, "#!/bin/sh\necho 'OpenTofu v1.5.7'\n");
    chmodSync(old, 0o755);
    appendFileSync(config, `engines:\n  tofu:\n    path: ${old}\n`);
    const refused = run(driftwatch, ["--config", config, "check"], env);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toBe(`driftwatch: tofu: engines.tofu.path: ${old} is tofu 1.5.7; Driftwatch needs tofu >= ${loadPinnedVersions().tofu.minimum} (install a newer one, or remove the setting to use another)\n`);
  }, engineTimeout(240));
});
