// Each stack's state in a folder of its own (what its sandbox may write), taken over from where an earlier Driftwatch
// kept it: a Pulumi stack deployed into the shared `<dataDir>/pulumi-backend`, and a Terraform stack whose local
// state sat in `<dataDir>/terraform/<stack>/`, are in sync on their first check after the upgrade: nothing is
// deployed twice, nothing is lost. Real Pulumi and OpenTofu, real git.
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { localStateFile } from "../src/engines/terraform/index.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, createProgramRepo } from "./support/git.ts";
import { sharedCacheDir, tempDir } from "./support/tempdir.ts";
import { localFilesModule, terraformStackYaml } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";

const results = (stdout: string) => Object.fromEntries((JSON.parse(stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));

describe("state kept per stack", () => {
  it("takes over a Pulumi stack from the shared backend and a Terraform state from the stack's folder", async () => {
    const root = tempDir("driftwatch-state-layout-");
    const repo = join(root, "repo");
    createProgramRepo(repo);
    commitFiles(repo, { "tf/main.tf": localFilesModule({ a: "alpha\n" }) }, "a module");
    const dataDir = join(root, "data");
    const world = join(root, "world");
    mkdirSync(world, { recursive: true });
    const shared = join(dataDir, "pulumi-backend");
    const config = (name: string, backend: string[]) => {
      const file = join(root, name);
      writeFileSync(
        file,
        [
          `dataDir: ${dataDir}`,
          `cacheDir: ${sharedCacheDir}`,
          "stacks:",
          "  - name: app",
          "    engine: pulumi",
          `    source: { repo: ${repo}, path: stacks/app }`,
          "    pulumi:",
          "      stack: dev",
          ...backend,
          `    env: { PULUMI_CONFIG_PASSPHRASE: layout-test, DEMO_FILES_DIR: ${join(world, "app")} }`,
          `    sandbox: { readWrite: [${join(world, "app")}] }`,
          ...terraformStackYaml({ name: "files", repo, path: "tf", dir: join(world, "files") }),
          "",
        ].join("\n"),
      );
      return file;
    };
    // As an earlier Driftwatch deployed them: the Pulumi stack in the shared backend, the Terraform state in the
    // stack's own folder.
    const before = config("before.yaml", [`      backendUrl: file://${shared}`]);
    for (const stack of ["app", "files"]) {
      const converged = await driftwatch(["--config", before, "converge", stack, "--json"]);
      expect(results(converged.stdout)[stack]?.verdict, converged.stdout).toBe("in-sync");
    }
    renameSync(localStateFile(dataDir, "files"), join(dataDir, "terraform", "files", "terraform.tfstate"));

    const after = await driftwatch(["--config", config("after.yaml", []), "check", "--json"]);
    const checked = results(after.stdout);
    expect(checked.app?.verdict, JSON.stringify(checked.app)).toBe("in-sync");
    expect(checked.files?.verdict, JSON.stringify(checked.files)).toBe("in-sync");
    expect(existsSync(join(dataDir, "pulumi", "app", "backend", ".pulumi", "stacks", "demo-files", "dev.json"))).toBe(true);
    expect(existsSync(join(shared, ".pulumi", "stacks", "demo-files", "dev.json"))).toBe(false);
    expect(existsSync(localStateFile(dataDir, "files"))).toBe(true);
    expect(existsSync(join(dataDir, "terraform", "files", "terraform.tfstate"))).toBe(false);
  }, engineTimeout(240));
});
