// driftwatch check / converge / history end to end: real git repositories, the real Pulumi CLI on a file://
// backend, real npm, real SQLite. One repository holds several programs; each stack manages its own folder.
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultPulumiBackend } from "../src/config/load.ts";
import type { StackResult } from "../src/core/types.ts";
import { readToolchainManifest, toolchainEnv } from "../src/toolchain/manifest.ts";
import { manifestPath } from "../src/toolchain/paths.ts";
import { driftwatch as runDriftwatch } from "./support/cli.ts";
import { commitFiles, createProgramRepo, git } from "./support/git.ts";
import { pulumiStackYaml } from "./support/pulumi.ts";
import { engineTimeout } from "./support/timeouts.ts";

const PASSPHRASE = "check-test-passphrase";
const SECRET = "TOPSECRET-f00d-4d1e";
const root = mkdtempSync(join(tmpdir(), "driftwatch-check-"));
const repo = join(root, "repo");
const world = join(root, "world");
const dataDir = join(root, "data");
/** The secret stack's own file backend (each Pulumi stack has one). */
const backend = defaultPulumiBackend(dataDir, "secret");
const npmShim = join(root, "npm-shim.sh");
/** What the npm stand-in writes in its working folder: npm's step may write nothing but that staging folder. */
const NPM_RECORD = "npm-invocations.log";

const extraResource = (source: string) =>
  source.replace(
    /\nexport const settings/,
    '\nexport const extra = new LocalFile("extra", { path: path.join(dir, "extra.txt"), content: "added in Git\\n" }).path;\nexport const settings',
  );

function stackYaml(name: string, options: { path?: string; ref?: string; repo?: string } = {}): string {
  return pulumiStackYaml({
    name,
    repo: options.repo ?? repo,
    ref: options.ref ?? "main",
    path: options.path ?? "stacks/app",
    passphrase: "${env:TEST_PASSPHRASE}",
    world: join(world, name),
    // The npm stand-in is the test's own script: the sandbox lets npm's step run it, as an operator's DRIFTWATCH_NPM.
    readOnly: [npmShim],
  }).join("\n");
}

function writeConfig(file: string, stacks: string[]): string {
  writeFileSync(file, [`dataDir: ${dataDir}`, "stacks:", ...stacks, ""].join("\n"));
  return file;
}

const env = () => ({ TEST_PASSPHRASE: PASSPHRASE, DRIFTWATCH_NPM: npmShim });
const results = (stdout: string) => Object.fromEntries((JSON.parse(stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));
/** Every driftwatch run's log (JSON lines), in order. */
const logs: string[] = [];
async function driftwatch(...args: Parameters<typeof runDriftwatch>): ReturnType<typeof runDriftwatch> {
  const run = await runDriftwatch(...args);
  logs.push(run.stderr);
  return run;
}
/** How many times a run installed the programs' dependencies (started npm), as its log says. */
const npmRuns = () => logs.join("\n").split("\n").filter((line) => line.includes('"msg":"installing program dependencies"')).length;
/** The npm stand-in's records, in the dependency cache entries it installed (the staging folder becomes the entry). */
const npmRecords = () => {
  const entries = join(dataDir, "cache", "npm");
  if (!existsSync(entries)) return [];
  return readdirSync(entries).flatMap((entry) => (existsSync(join(entries, entry, NPM_RECORD)) ? readFileSync(join(entries, entry, NPM_RECORD), "utf8").trim().split("\n") : []));
};

/** The secret-bearing stack's config must be encrypted for its own stack in the backend: make it with Pulumi. */
async function commitSecretStackConfig(): Promise<void> {
  const manifest = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());
  const workDir = join(repo, "stacks", "secret");
  mkdirSync(backend, { recursive: true });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "secret", workDir },
    {
      pulumiCommand: await PulumiCommand.get({ root: dirname(manifest.pulumi.binDir) }),
      envVars: { ...(toolchainEnv(manifest) as Record<string, string>), PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: PASSPHRASE },
    },
  );
  await stack.setConfig("token", { value: SECRET, secret: true });
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "secret stack config");
}

describe("driftwatch check on real Pulumi stacks from git", () => {
  const config = join(root, "driftwatch.yaml");

  beforeAll(async () => {
    writeFileSync(npmShim, `#!/bin/sh\necho "$@" >> ${NPM_RECORD}\nexec npm "$@"\n`);
    chmodSync(npmShim, 0o755);
    createProgramRepo(repo);
    const app = readFileSync(join(repo, "stacks", "app", "index.ts"), "utf8");
    cpSync(join(repo, "stacks", "app"), join(repo, "stacks", "broken"), { recursive: true });
    cpSync(join(repo, "stacks", "app"), join(repo, "stacks", "secret"), { recursive: true });
    commitFiles(
      repo,
      {
        "stacks/broken/index.ts": 'throw new Error("boom: this program is broken on purpose");\n',
        "stacks/secret/index.ts": [
          'import * as pulumi from "@pulumi/pulumi";',
          'import * as path from "node:path";',
          'import { LocalFile } from "./localFile";',
          "const config = new pulumi.Config();",
          'const dir = process.env.DEMO_FILES_DIR!;',
          'export const credentials = new LocalFile("credentials", { path: path.join(dir, "credentials.txt"), content: pulumi.interpolate`token=${config.requireSecret("token")}\\n` }).path;',
          "",
        ].join("\n"),
      },
      "more programs",
    );
    await commitSecretStackConfig();
    git(repo, "branch", "next");
    writeConfig(config, [
      stackYaml("insync"),
      stackYaml("updated"),
      stackYaml("deleted"),
      stackYaml("pending", { ref: "next" }),
      stackYaml("both", { ref: "next" }),
      stackYaml("secret", { path: "stacks/secret" }),
    ]);
    // Deploy every stack at the same commit, then diverge them.
    for (const stack of ["insync", "updated", "deleted", "pending", "both", "secret"]) {
      const run = await driftwatch(["--config", config, "converge", stack, "--json"], env());
      expect(run.code, run.stdout + run.stderr).toBe(0);
    }
    expect(app).toContain("export const settings");
    git(repo, "checkout", "-q", "next");
    commitFiles(repo, { "stacks/app/index.ts": extraResource(app) }, "add a resource");
    git(repo, "checkout", "-q", "main");
    writeFileSync(join(world, "updated", "settings.ini"), "[service]\nreplicas = 7\n");
    rmSync(join(world, "deleted", "motd.txt"));
    rmSync(join(world, "both", "motd.txt"));
    writeFileSync(join(world, "secret", "credentials.txt"), "token=hand-edited\n");
  }, engineTimeout(38)); // six Pulumi stacks deployed one after the other, npm install included

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("tells drift from pending, per resource and property, and exits 2", async () => {
    const run = await driftwatch(["--config", config, "check", "--json", "insync", "updated", "deleted", "pending", "both"], env());
    expect(run.code, run.stderr).toBe(2);
    const r = results(run.stdout);
    expect(r.insync).toMatchObject({ verdict: "in-sync", changes: [] });
    // the program's dependencies (cached: linked and verified) are timed apart from the engine's own work
    expect(r.insync!.phases!.dependencies).toBeGreaterThan(0);
    expect(r.insync!.phases!.engine).toBeGreaterThan(0);
    expect(r.insync!.phases!.worktree).toBeGreaterThan(0);
    expect(r.insync!.commit).toBe(git(repo, "rev-parse", "main"));

    expect(r.updated!.verdict).toBe("drifted");
    expect(r.updated!.changes).toEqual([
      {
        kind: "drift",
        address: "urn:pulumi:updated::demo-files::pulumi-nodejs:dynamic:Resource::settings",
        type: "pulumi-nodejs:dynamic:Resource",
        action: "update",
        properties: [{ path: "content", desired: "[service]\nreplicas = 2\n", actual: "[service]\nreplicas = 7\n" }],
      },
    ]);

    expect(r.deleted!.verdict).toBe("drifted");
    expect(r.deleted!.changes.map((c) => [c.kind, c.action, c.address.split("::").pop()])).toEqual([["drift", "delete", "motd"]]);

    expect(r.pending!.verdict).toBe("pending");
    expect(r.pending!.commit).toBe(git(repo, "rev-parse", "next"));
    const added = r.pending!.changes;
    expect(added.map((c) => [c.kind, c.action, c.address.split("::").pop()])).toEqual([["pending", "create", "extra"]]);
    expect(added[0]!.properties).toContainEqual({ path: "content", desired: "added in Git\n", actual: null });

    expect(r.both!.verdict).toBe("drifted+pending");
    expect(r.both!.changes.map((c) => [c.kind, c.action, c.address.split("::").pop()])).toEqual([
      ["drift", "delete", "motd"],
      ["pending", "create", "extra"],
    ]);
    // Every program shares one package.json and lockfile: npm ran once, for the first converge, and never again.
    expect(npmRuns()).toBe(1);
    expect(npmRecords()).toEqual(["ci --no-audit --no-fund"]);
  });

  it("masks Pulumi secrets everywhere: output, logs and database", async () => {
    const json = await driftwatch(["--config", config, "check", "--json", "secret"], env());
    const table = await driftwatch(["--config", config, "check", "secret"], env());
    const history = await driftwatch(["--config", config, "history", "--json"], env());
    const secret = results(json.stdout).secret!;
    expect(secret.verdict).toBe("drifted");
    expect(secret.changes[0]).toMatchObject({ kind: "drift", action: "update", properties: [{ path: "content", desired: "[secret]", actual: "[secret]" }] });
    for (const text of [json.stdout, json.stderr, table.stdout, table.stderr, history.stdout]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain("hand-edited");
      expect(text).not.toContain(PASSPHRASE);
    }
    for (const file of readdirSync(dataDir).filter((f) => f.startsWith("driftwatch.db"))) {
      const bytes = readFileSync(join(dataDir, file));
      expect(bytes.includes(SECRET), file).toBe(false);
      expect(bytes.includes("hand-edited"), file).toBe(false);
      expect(bytes.includes(PASSPHRASE), file).toBe(false);
    }
  });

  it("keeps going when one program throws, and reports it as an error with exit 1", async () => {
    const broken = writeConfig(join(root, "broken.yaml"), [stackYaml("insync"), stackYaml("broken", { path: "stacks/broken" })]);
    const run = await driftwatch(["--config", broken, "check", "--json"], env());
    expect(run.code).toBe(1);
    const r = results(run.stdout);
    expect(r.insync!.verdict).toBe("in-sync");
    expect(r.broken!.verdict).toBe("error");
    expect(r.broken!.error!.kind).toBe("ProgramError");
    expect(r.broken!.error!.message).toContain("boom: this program is broken on purpose");
  });

  it("converges a drifted stack back to Git and says it is in sync", async () => {
    const run = await driftwatch(["--config", config, "converge", "updated", "--json"], env());
    expect(run.code, run.stderr).toBe(0);
    expect(results(run.stdout).updated!.verdict).toBe("in-sync");
    // What `up` did besides its refresh: the one file put back.
    expect(results(run.stdout).updated!.applied!.map((c) => [c.kind, c.action, c.address.split("::").at(-1)])).toEqual([["pending", "update", "settings"]]);
    expect(readFileSync(join(world, "updated", "settings.ini"), "utf8")).toBe("[service]\nreplicas = 2\n");
    const inSync = await driftwatch(["--config", config, "check", "updated"], env());
    expect(inSync.code).toBe(0);
    expect(inSync.stdout).toMatch(/^updated\s+in-sync\s+0\s+0\s+[0-9a-f]{12}\s/m);
  });

  it("records every run and lists them newest first", async () => {
    const run = await driftwatch(["--config", config, "history", "updated", "--json"], env());
    expect(run.code).toBe(0);
    const runs = (JSON.parse(run.stdout) as { runs: { stack: string; verdict: string }[] }).runs;
    expect(runs.every((x) => x.stack === "updated")).toBe(true);
    expect(runs.slice(0, 3).map((x) => x.verdict)).toEqual(["in-sync", "in-sync", "drifted"]);
    const table = await driftwatch(["--config", config, "history"], env());
    expect(table.stdout).toMatch(/^STARTED\s+STACK\s+VERDICT/);
  });

  it("runs on the last fetch when the remote is gone, marks the result stale, and errors without one", async () => {
    const movable = createProgramRepo(join(root, "movable"));
    const sources = writeConfig(join(root, "sources.yaml"), [
      stackYaml("movable", { repo: movable }),
      stackYaml("nowhere", { repo: join(root, "no-such-repo") }),
    ]);
    const first = await driftwatch(["--config", sources, "check", "--json", "movable"], env());
    expect(results(first.stdout).movable).toMatchObject({ verdict: "pending" });
    expect(results(first.stdout).movable!.staleSource).toBeUndefined();

    rmSync(movable, { recursive: true, force: true });
    const run = await driftwatch(["--config", sources, "check", "--json"], env());
    expect(run.code).toBe(1);
    const r = results(run.stdout);
    expect(r.movable!.verdict).toBe("pending");
    expect(r.movable!.commit).toBe(results(first.stdout).movable!.commit);
    expect(r.movable!.staleSource!.error).toMatch(/movable/);
    expect(r.nowhere!.verdict).toBe("error");
    expect(r.nowhere!.error!.kind).toBe("SourceUnreachableError");
    expect(r.nowhere!.error!.message).toContain("no-such-repo");

    const table = await driftwatch(["--config", sources, "check", "movable"], env());
    expect(table.code).toBe(2);
    expect(table.stdout).toMatch(/^movable\s+pending \(stale source\)/m);
  });
});
