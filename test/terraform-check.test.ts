// driftwatch check / converge on Terraform and OpenTofu stacks: real CLIs, real providers from the offline
// mirror, real git. The same scenarios run once per installed CLI (tofu always, terraform when present).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { localStateFile } from "../src/engines/terraform/index.ts";
import { readToolchainManifest, type TerraformCli, terraformClis, toolchainEnv } from "../src/toolchain/manifest.ts";
import { manifestPath } from "../src/toolchain/paths.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { localFilesModule } from "./support/terraform-modules.ts";

// Named so that nothing masks it by name ("note" is no credential-like word): only `sensitive = true` protects it.
const TOKEN = "TFSECRET-c0ffee-4242";

const MODULE = (extra = "") => localFilesModule({ a: "alpha\n", b: "bravo\n" }, extra);

const SECRET_MODULE = (suffix: string) => `terraform {
  required_providers {
    local = { source = "hashicorp/local" }
  }
}
variable "dir" { type = string }
variable "note" {
  type      = string
  sensitive = true
}
resource "local_file" "creds" {
  filename = "\${var.dir}/creds.txt"
  content  = "note=\${var.note}${suffix}\\n"
}
`;

/** A module with a backend of its own (local here, standing in for s3/gcs/...), completed by backendConfig. */
const OWN_BACKEND_MODULE = `terraform {
  backend "local" {}
}
variable "dir" { type = string }
resource "local_file" "ws" {
  filename = "\${var.dir}/workspace.txt"
  content  = "\${terraform.workspace}\\n"
}
`;

const BROKEN_MODULE = `variable "dir" { type = string }

resource "local_file" "oops" {
  filename = "\${var.dir}/oops.txt"
  content  = "never closed"
`;

const NEEDS_UNMIRRORED_PROVIDER = `terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
`;

const manifest = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());

/** A valid lock file for hashicorp/local only, made by the CLI itself (its hashes are of this machine's mirror). */
function lockFileForLocalOnly(cli: TerraformCli, dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "main.tf"), 'terraform {\n  required_providers {\n    local = { source = "hashicorp/local" }\n  }\n}\n');
  execFileSync(cli.bin, ["init", "-input=false", "-no-color"], { cwd: dir, env: { ...toolchainEnv(manifest), TF_DATA_DIR: join(dir, ".data") }, stdio: "pipe" });
  return readFileSync(join(dir, ".terraform.lock.hcl"), "utf8");
}

describe.each(terraformClis(manifest).map((cli) => [cli.flavor, cli] as const))("terraform engine with %s", (flavor, cli) => {
  const root = mkdtempSync(join(tmpdir(), `driftwatch-${flavor}-`));
  const repo = join(root, "repo");
  const world = join(root, "world");
  const dataDir = join(root, "data");
  const config = join(root, "driftwatch.yaml");
  const env = { TF_TEST_NOTE: TOKEN };

  /** The stack `name`; its world (`dir`) and `readWrite` are what its sandbox may write; terraform: comes last. */
  const stackYaml = (name: string, path: string, ref = "main", vars: Record<string, string> = {}, readWrite: string[] = []) =>
    [
      `  - name: ${name}`,
      "    engine: terraform",
      `    source: { repo: ${repo}, ref: ${ref}, path: ${path} }`,
      `    sandbox: { readWrite: [${[join(world, name), ...readWrite].join(", ")}] }`,
      "    terraform:",
      `      binary: ${flavor}`,
      "      vars:",
      `        dir: ${join(world, name)}`,
      ...Object.entries(vars).map(([k, v]) => `        ${k}: ${v}`),
    ].join("\n");
  const writeConfig = (file: string, stacks: string[]) => writeFileSync(file, [`dataDir: ${dataDir}`, "stacks:", ...stacks, ""].join("\n"));
  const results = (stdout: string) => Object.fromEntries((JSON.parse(stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));
  const summary = (r: StackResult | undefined) => r!.changes.map((c) => [c.kind, c.action, c.address]);

  beforeAll(async () => {
    mkdirSync(repo, { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    commitFiles(
      repo,
      {
        "stacks/tf/main.tf": MODULE(),
        "stacks/tf-secret/main.tf": SECRET_MODULE(""),
        "stacks/broken/main.tf": BROKEN_MODULE,
        "stacks/own-backend/main.tf": OWN_BACKEND_MODULE,
        "stacks/unmirrored/main.tf": NEEDS_UNMIRRORED_PROVIDER,
        "stacks/not-a-module/README.md": "Terraform files were meant to go here.\n",
        // A committed lock file that does not cover the module's providers: init must not rewrite it.
        "stacks/stale-lock/main.tf": MODULE('resource "random_pet" "p" {}\n'),
        "stacks/stale-lock/.terraform.lock.hcl": lockFileForLocalOnly(cli, join(root, "lock-maker")),
      },
      "terraform modules",
    );
    git(repo, "branch", "next");
    writeConfig(config, [
      stackYaml("insync", "stacks/tf"),
      stackYaml("modified", "stacks/tf"),
      stackYaml("deleted", "stacks/tf"),
      stackYaml("pending", "stacks/tf", "next"),
      stackYaml("secret", "stacks/tf-secret", "next", { note: "${env:TF_TEST_NOTE}" }),
    ]);
    for (const stack of ["insync", "modified", "deleted", "pending", "secret"]) {
      const run = await driftwatch(["--config", config, "converge", stack, "--json"], env);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(results(run.stdout)[stack]!.verdict).toBe("in-sync");
    }
    git(repo, "checkout", "-q", "next");
    commitFiles(
      repo,
      {
        "stacks/tf/main.tf": MODULE('resource "local_file" "c" {\n  filename = "${var.dir}/c.txt"\n  content  = "charlie\\n"\n}\n'),
        "stacks/tf-secret/main.tf": SECRET_MODULE(" (rotated)"),
      },
      "a new resource, a changed secret template",
    );
    git(repo, "checkout", "-q", "main");
    writeFileSync(join(world, "modified", "a.txt"), "edited by hand\n");
    rmSync(join(world, "deleted", "b.txt"));
    writeFileSync(join(world, "secret", "creds.txt"), `note=${TOKEN}-tampered\n`);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("reports drift and pending changes per resource, from state kept outside the worktree", async () => {
    const run = await driftwatch(["--config", config, "check", "--json", "insync", "modified", "deleted", "pending"], env);
    expect(run.code, run.stderr).toBe(2);
    const r = results(run.stdout);
    expect(r.insync).toMatchObject({ verdict: "in-sync", changes: [], engine: "terraform" });
    // hashicorp/local forgets a file whose content changed or that vanished: both are drift as deletion.
    expect(summary(r.modified)).toEqual([["drift", "delete", "local_file.a"]]);
    expect(summary(r.deleted)).toEqual([["drift", "delete", "local_file.b"]]);
    // The state survived the new commit on `next`: only the resource it adds is pending.
    expect(r.pending!.commit).toBe(git(repo, "rev-parse", "next"));
    expect(summary(r.pending)).toEqual([["pending", "create", "local_file.c"]]);
    expect(r.pending!.changes[0]!.properties).toContainEqual({ path: "content", desired: "charlie\n", actual: null });
    expect(existsSync(localStateFile(dataDir, "pending"))).toBe(true);
    expect(readdirSync(join(repo, "stacks", "tf")).filter((f) => f.includes("tfstate"))).toEqual([]);
  });

  it("skips init when it ran before for the same commit, and recovers when the data dir lost what init put there", async () => {
    const debug = { ...env, DRIFTWATCH_LOG_LEVEL: "debug" };
    const inits = (stderr: string) => stderr.split("\n").filter((line) => line.includes('"msg":"terraform init"')).length;
    const first = await driftwatch(["--config", config, "check", "--json", "insync"], debug);
    expect(results(first.stdout).insync!.verdict, first.stderr).toBe("in-sync");
    const again = await driftwatch(["--config", config, "check", "--json", "insync"], debug);
    expect(results(again.stdout).insync!.verdict, again.stderr).toBe("in-sync");
    expect(inits(again.stderr)).toBe(0);
    expect(again.stderr).toContain("terraform init skipped");
    // The providers' files vanish from the stack's data dir (the folder stays): the plan fails, init runs, the check holds.
    const providers = join(dataDir, "terraform", "insync", "data", "providers");
    for (const entry of readdirSync(providers)) rmSync(join(providers, entry), { recursive: true, force: true });
    const repaired = await driftwatch(["--config", config, "check", "--json", "insync"], debug);
    expect(results(repaired.stdout).insync!.verdict, repaired.stderr).toBe("in-sync");
    expect(inits(repaired.stderr)).toBe(1);
  });

  it("masks sensitive values everywhere: output, logs, database", async () => {
    const json = await driftwatch(["--config", config, "check", "--json", "secret"], env);
    const table = await driftwatch(["--config", config, "check", "secret"], env);
    const history = await driftwatch(["--config", config, "history", "--json"], env);
    const secret = results(json.stdout).secret!;
    expect(secret.verdict).toBe("drifted+pending");
    const pending = secret.changes.find((c) => c.kind === "pending")!;
    expect(pending.action).toBe("replace");
    expect(pending.properties).toContainEqual({ path: "content", desired: "[secret]", actual: "[secret]" });
    for (const text of [json.stdout, json.stderr, table.stdout, table.stderr, history.stdout]) expect(text).not.toContain(TOKEN);
    for (const file of readdirSync(dataDir).filter((f) => f.startsWith("driftwatch.db"))) {
      expect(readFileSync(join(dataDir, file)).includes(TOKEN), file).toBe(false);
    }
    // Plan files hold secrets in clear: none may be left behind.
    const leftovers = readdirSync(join(dataDir, "terraform"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".tfplan"));
    expect(leftovers).toEqual([]);
  });

  it("converges a drifted stack by applying the plan it made, then reports it in sync", async () => {
    const run = await driftwatch(["--config", config, "converge", "modified", "--json"], env);
    expect(run.code, run.stderr).toBe(0);
    expect(results(run.stdout).modified!.verdict).toBe("in-sync");
    expect(readFileSync(join(world, "modified", "a.txt"), "utf8")).toBe("alpha\n");
  });

  it("leaves a backend the module declares to the module, with backendConfig and the workspace applied", async () => {
    const own = join(root, "own-backend.yaml");
    const stateDir = join(root, "their-state");
    writeConfig(own, [
      // The backend's folder (a bucket's stand-in) is the stack's to write, as its world is.
      [stackYaml("own", "stacks/own-backend", "main", {}, [stateDir]), "      workspace: blue", "      backendConfig:", `        workspace_dir: ${stateDir}`].join("\n"),
    ]);
    const applied = await driftwatch(["--config", own, "converge", "own", "--json"], env);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(readFileSync(join(world, "own", "workspace.txt"), "utf8")).toBe("blue\n");
    // The state is where the backend keeps it, not in Driftwatch's per-stack file.
    expect(existsSync(join(stateDir, "blue", "terraform.tfstate"))).toBe(true);
    expect(existsSync(localStateFile(dataDir, "own"))).toBe(false);
    rmSync(join(world, "own", "workspace.txt"));
    const checked = await driftwatch(["--config", own, "check", "--json"], env);
    expect(summary(results(checked.stdout).own)).toEqual([["drift", "delete", "local_file.ws"]]);
  });

  it("points at file and line for broken HCL, explains a failed init, and keeps other stacks going", async () => {
    const broken = join(root, "broken.yaml");
    writeConfig(broken, [
      stackYaml("insync", "stacks/tf"),
      stackYaml("broken", "stacks/broken"),
      stackYaml("unmirrored", "stacks/unmirrored"),
      stackYaml("empty", "stacks/not-a-module"),
      stackYaml("stale-lock", "stacks/stale-lock"),
    ]);
    const run = await driftwatch(["--config", broken, "check", "--json"], env);
    expect(run.code).toBe(1);
    const r = results(run.stdout);
    expect(r.insync!.verdict).toBe("in-sync");
    expect(r.broken).toMatchObject({ verdict: "error", error: { kind: "ProgramError" } });
    expect(r.broken!.error!.message).toMatch(/stacks\/broken\/main\.tf:\d+:\d+: Unclosed configuration block/);
    expect(r["stale-lock"]).toMatchObject({ verdict: "error", error: { kind: "EngineError" } });
    expect(r["stale-lock"]!.error!.message).toMatch(/^init failed for stack stale-lock:\nError: Provider dependency changes detected[\s\S]*lock\s+file is read-only/);
    expect(r.empty!.error).toEqual({ kind: "ProgramError", message: "stack empty: no Terraform configuration (*.tf, *.tf.json, *.tofu) in stacks/not-a-module" });
    // init's own words say what is missing and where it looked.
    expect(r.unmirrored).toMatchObject({ verdict: "error", error: { kind: "EngineError" } });
    expect(r.unmirrored!.error!.message).toMatch(/^init failed for stack unmirrored:[\s\S]*hashicorp\/aws[\s\S]*not found/);
    // A failed init leaves no private plan folder behind (it would hold the backend settings file).
    for (const stack of ["unmirrored", "stale-lock"]) expect(readdirSync(join(dataDir, "terraform", stack)).filter((f) => f.startsWith("plans-")), stack).toEqual([]);
  });
});
