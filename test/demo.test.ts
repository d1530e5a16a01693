// The embedded demo (driftwatch.yaml at the repository root): a Pulumi stack and a Terraform/OpenTofu stack in
// one configuration, one `check`, one verdict table, one exit code, one history. Run on a copy of the file whose
// data directory is a temporary one and whose source is this repository at its current commit.
import { appendFileSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import { driftwatch } from "./support/cli.ts";
import { demoCopy } from "./support/demo.ts";
import { git } from "./support/git.ts";
import { tempDir } from "./support/tempdir.ts";

/** The demo's offline stacks only: no AWS credentials (demo-cfn) and no cluster (demo-k8s), whatever this machine has. */
const NO_AWS = { AWS_PROFILE: undefined, AWS_ACCESS_KEY_ID: undefined, AWS_WEB_IDENTITY_TOKEN_FILE: undefined, KUBECONFIG: undefined };

const results = (stdout: string) => Object.fromEntries((JSON.parse(stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));

describe("the demo: Pulumi and Terraform stacks side by side", () => {
  it("gives both the same verdicts, table, exit codes and history", async () => {
    const dir = tempDir();
    const config = demoCopy(dir);
    // The folders the demo stacks manage: each stack's sandbox may write its own (driftwatch.yaml's sandbox.readWrite).
    const world = join(dir, "data", "world");

    const first = await driftwatch(["--config", config, "check", "--json"], NO_AWS);
    expect(first.code, first.stderr).toBe(2);
    const pending = results(first.stdout);
    // The CloudFormation example needs AWS credentials: without them it is left out, and the log says why.
    expect(Object.keys(pending).sort()).toEqual(["demo-files", "demo-files-tf"]);
    expect(first.stderr).toContain("stack demo-cfn is skipped: none of AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_WEB_IDENTITY_TOKEN_FILE is set (requiresEnv)");
    // Both ran confined, at the default level, and say so.
    expect(pending["demo-files"]).toMatchObject({ engine: "pulumi", verdict: "pending", sandbox: "strict" });
    expect(pending["demo-files-tf"]).toMatchObject({ engine: "terraform", verdict: "pending", sandbox: "strict" });
    expect(pending["demo-files-tf"]!.changes.map((c) => [c.action, c.address]).sort()).toEqual([
      ["create", "local_file.motd"],
      ["create", "local_file.settings"],
      ["create", "random_pet.host"],
    ]);

    for (const stack of ["demo-files", "demo-files-tf"]) {
      const converged = await driftwatch(["--config", config, "converge", stack, "--json"], NO_AWS);
      expect(converged.code, converged.stderr).toBe(0);
      expect(results(converged.stdout)[stack]!.verdict).toBe("in-sync");
    }

    appendFileSync(join(world, "demo-files", "motd.txt"), "edited by hand\n");
    rmSync(join(world, "demo-files-tf", "settings.ini"));
    const table = await driftwatch(["--config", config, "check"], NO_AWS);
    expect(table.code).toBe(2);
    expect(table.stdout).toMatch(/^demo-files\s+drifted\s+1\s+0\s/m);
    expect(table.stdout).toMatch(/^demo-files-tf\s+drifted\s+1\s+0\s/m);
    expect(table.stdout).toMatch(/^\s+drift\s+delete\s+local_file.settings$/m);

    // One stack that cannot be checked makes the exit code 1; the others are still checked and reported.
    const withBroken = demoCopy(join(dir), [
      { name: "missing-module", engine: "terraform", source: { repo: repoRoot, ref: git(repoRoot, "rev-parse", "HEAD"), path: "stacks/no-such-module" } },
    ]);
    const mixed = await driftwatch(["--config", withBroken, "check", "--json"], NO_AWS);
    expect(mixed.code).toBe(1);
    const verdicts = Object.fromEntries(Object.entries(results(mixed.stdout)).map(([name, r]) => [name, r.verdict]));
    expect(verdicts).toEqual({ "demo-files": "drifted", "demo-files-tf": "drifted", "missing-module": "error" });
    expect(results(mixed.stdout)["missing-module"]!.error).toMatchObject({ kind: "SourceNotFoundError", message: expect.stringContaining("stacks/no-such-module") });

    const history = await driftwatch(["--config", config, "history", "--json"], NO_AWS);
    const runs = JSON.parse(history.stdout) as { runs: { stack: string; engine: string }[] };
    expect(new Set(runs.runs.map((r) => `${r.stack}:${r.engine}`))).toEqual(
      new Set(["demo-files:pulumi", "demo-files-tf:terraform", "missing-module:terraform"]),
    );
  });
});
