// Terraform/OpenTofu stacks that hang or are locked: a timeout stops the CLI and every provider it started (the
// process group gets SIGINT, then SIGKILL), nothing is left behind; a state lock held by another process makes
// `converge` report the stack as locked and apply nothing, while `check` (which takes no lock) still reports.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { localStateFile } from "../src/engines/terraform/index.ts";
import { readToolchainManifest, terraformClis } from "../src/toolchain/manifest.ts";
import { manifestPath } from "../src/toolchain/paths.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { beforeDeadline, holdLock, processesUnder, until } from "./support/processes.ts";
import { tempDir } from "./support/tempdir.ts";
import { terraformStackYaml } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";

const manifest = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());

const module = (body: string) => `terraform {
  required_providers {
    local = { source = "hashicorp/local" }
  }
}
variable "dir" { type = string }
${body}`;

/** Reading a FIFO nobody writes to blocks forever: the provider hangs in the middle of a plan. */
const HANGING = module(`data "local_file" "wait" {
  filename = "\${var.dir}/fifo"
}
`);

const FILE = module(`resource "local_file" "a" {
  filename = "\${var.dir}/a.txt"
  content  = "alpha\\n"
}
`);

/**
 * The hanging stack's timeout. From the start of the run to the plan's provider hanging (git, init, the plan's
 * start) took under 1 s on a 2-core machine running the suite beside two CPU hogs, so this leaves a wide margin;
 * the test checks that the plan hung before the timeout expired.
 */
const TIMEOUT_SECONDS = 8;

const results = (stdout: string) => Object.fromEntries((JSON.parse(stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));

describe.each(terraformClis(manifest).map((cli) => [cli.flavor] as const))("terraform engine with %s: timeouts and locks", (flavor) => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  function setup(files: Record<string, string>, stacks: { name: string; path: string; timeoutSeconds?: number }[]) {
    const root = tempDir();
    const repo = join(root, "repo");
    const world = join(root, "world");
    const dataDir = join(root, "data");
    mkdirSync(repo, { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    commitFiles(repo, files, "modules");
    const config = join(root, "driftwatch.yaml");
    const lines = [`dataDir: ${dataDir}`, "stacks:"];
    for (const s of stacks) {
      mkdirSync(join(world, s.name), { recursive: true });
      lines.push(...terraformStackYaml({ ...s, repo, dir: join(world, s.name), binary: flavor }));
    }
    writeFileSync(config, `${lines.join("\n")}\n`);
    return { root, world, dataDir, config };
  }

  it("stops a hanging plan at the timeout, with the CLI and its providers, and leaves nothing behind", async () => {
    const { world, dataDir, config } = setup({ "hang/main.tf": HANGING }, [{ name: "hang", path: "hang", timeoutSeconds: TIMEOUT_SECONDS }]);
    execFileSync("mkfifo", [join(world, "hang", "fifo")]);
    const worktrees = join(dataDir, "git", "worktrees");
    const started = Date.now();
    const running = driftwatch(["--config", config, "check", "--json"]);
    // The ordering under test: the plan's provider hangs (blocked opening the FIFO) before the timeout expires.
    await beforeDeadline(running, () => processesUnder(worktrees, /terraform-provider-local/).length > 0, started, TIMEOUT_SECONDS * 1000, "the plan's provider hung");

    // SIGINT first; a provider stuck in open() ignores it, so the group is killed after the grace period (else
    // this would never finish).
    const run = await running;
    expect(run.code).toBe(1);
    expect(results(run.stdout).hang).toMatchObject({ verdict: "error", error: { kind: "TimeoutError", message: expect.stringContaining(`did not finish within ${TIMEOUT_SECONDS}s; plan (drift and pending) was stopped`) } });
    await until(() => processesUnder(worktrees).length === 0, 60_000, "every process of the plan gone");
    const plans = readdirSync(join(dataDir, "terraform"), { recursive: true, encoding: "utf8" }).filter((f) => /plans-|\.tfplan$/.test(f));
    expect(plans).toEqual([]);
  }, engineTimeout(20));

  it("reports a stack whose state is locked by someone else as locked and applies nothing; check still reports", async () => {
    const { world, dataDir, config } = setup({ "files/main.tf": FILE }, [{ name: "files", path: "files" }]);
    const applied = await driftwatch(["--config", config, "converge", "files", "--json"]);
    expect(applied.code, applied.stderr).toBe(0);
    const file = join(world, "files", "a.txt");
    rmSync(file);

    cleanups.push(await holdLock(localStateFile(dataDir, "files")));
    const locked = await driftwatch(["--config", config, "converge", "files", "--json"]);
    expect(locked.code).toBe(1);
    expect(results(locked.stdout).files).toMatchObject({ verdict: "error", error: { kind: "StackLockedError", message: expect.stringContaining("stack files is locked") } });
    expect(existsSync(file)).toBe(false);

    // Detection reads without locking, as a read-only observer should: the drift is still reported.
    const checked = await driftwatch(["--config", config, "check", "--json"]);
    expect(results(checked.stdout).files!.changes.map((c) => [c.kind, c.action, c.address])).toEqual([["drift", "delete", "local_file.a"]]);
    expect(readFileSync(localStateFile(dataDir, "files"), "utf8")).toContain("local_file");
  }, engineTimeout(3));
});
