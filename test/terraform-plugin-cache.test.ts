// The shared provider plugin cache under load. Stacks without a committed dependency lock file make every init
// of a new commit install each provider into the cache again (OpenTofu and Terraform remove the cache entry and
// link or unpack it anew), so many stacks checked at once, commit after commit, have inits rewriting the cache
// while other stacks' plans start providers. None of those plans may fail: each stack runs its providers from
// its own data directory, never through the cache entry another init is replacing.
import { lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { readToolchainManifest, terraformClis } from "../src/toolchain/manifest.ts";
import { manifestPath } from "../src/toolchain/paths.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { tempDir } from "./support/tempdir.ts";
import { localFilesModule, terraformStackYaml } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";

const manifest = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());

const STACKS = 10;
const ROUNDS = 3;

/** Two providers per stack (local and random), so each plan starts several provider processes. */
const module = (round: number) =>
  localFilesModule(
    { a: `alpha, round ${round}\n` },
    `resource "random_pet" "name" {
  keepers = { round = "${round}" }
}
`,
  );

describe.each(terraformClis(manifest).map((cli) => [cli.flavor] as const))("the provider plugin cache with %s", (flavor) => {
  it("lets many stacks init and plan at once, commit after commit, without one engine error", async () => {
    const root = tempDir();
    const repo = join(root, "repo");
    mkdirSync(repo, { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    const names = Array.from({ length: STACKS }, (_, i) => `s${i}`);
    const commit = (round: number) =>
      commitFiles(repo, Object.fromEntries(names.map((name) => [`stacks/${name}/main.tf`, module(round)])), `round ${round}`);
    const lines = [`dataDir: ${join(root, "data")}`, "alerts: { log: false }", "stacks:"];
    for (const name of names) lines.push(...terraformStackYaml({ name, repo, path: `stacks/${name}`, dir: join(root, "world", name), binary: flavor }));
    const config = join(root, "driftwatch.yaml");
    writeFileSync(config, `${lines.join("\n")}\n`);

    for (let round = 1; round <= ROUNDS; round += 1) {
      commit(round); // a new commit: new worktrees without a lock file, so every init installs into the cache again
      const run = await driftwatch(["--config", config, "check", "--json", "--concurrency", String(STACKS)]);
      const results = (JSON.parse(run.stdout) as { results: StackResult[] }).results;
      const failed = results.filter((r) => r.verdict === "error").map((r) => `${r.stack}: ${r.error?.kind}: ${r.error?.message}`);
      expect(failed, `round ${round}`).toEqual([]);
      expect(results.map((r) => r.verdict)).toEqual(names.map(() => "pending"));
    }
    // What makes it so: every stack's provider packages are its own directories, not links into the cache.
    for (const name of names) {
      const providers = join(root, "data", "terraform", name, "data", "providers");
      const packages = readdirSync(providers, { recursive: true, encoding: "utf8" }).filter((p) => p.split("/").length === 5);
      expect(packages.map((p) => p.split("/").slice(2, 3)[0]).sort()).toEqual(["local", "random"]);
      for (const p of packages) expect(lstatSync(join(providers, p)).isDirectory(), p).toBe(true);
    }
  }, engineTimeout(18));
});
