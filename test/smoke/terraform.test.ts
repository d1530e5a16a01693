// The Terraform/OpenTofu engine is real: the provisioned CLI initialises a configuration offline from the
// provider mirror, applies it, and `plan -refresh-only` reports a file changed behind its back.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { terraformClis } from "../../src/toolchain/manifest.ts";
import { exec } from "../../src/toolchain/exec.ts";
import { repoRoot } from "../../src/toolchain/paths.ts";
import { tempDir } from "../support/tempdir.ts";
import { testToolchain } from "../support/toolchain.ts";

interface PlanJson {
  resource_drift?: { address: string; change: { actions: string[] } }[];
  resource_changes?: { address: string; change: { actions: string[] } }[];
}

describe.each(terraformClis(testToolchain().manifest).map((cli) => [cli.flavor, cli] as const))("%s (real CLI, offline provider mirror)", (_flavor, cli) => {
  it("inits without any registry, applies, and reports out-of-band changes as resource_drift", async () => {
    const { env } = testToolchain();
    const dir = tempDir();
    cpSync(join(repoRoot, "test", "fixtures", "terraform-local-file"), dir, { recursive: true });
    // Any attempt to reach a registry would go through this proxy, which refuses: init must not need one.
    const offline = { ...env, HTTPS_PROXY: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9", NO_PROXY: "", TF_IN_AUTOMATION: "1" };
    const tf = async (...args: string[]) => {
      const result = await exec(cli.bin, args, { cwd: dir, env: offline });
      expect(result.code, `${cli.flavor} ${args.join(" ")}:\n${result.output}`).toBe(0);
      return result.stdout;
    };

    await tf("init", "-input=false", "-no-color");
    const lock = readFileSync(join(dir, ".terraform.lock.hcl"), "utf8");
    expect(lock).toMatch(/provider "registry\.(opentofu\.org|terraform\.io)\/hashicorp\/local"[\s\S]*version\s+= "2\.9\.0"/);
    expect(lock).toContain('provider "registry.terraform.io/hashicorp/random"');

    await tf("apply", "-auto-approve", "-input=false", "-no-color");
    const greeting = join(dir, "out", "greeting.txt");
    expect(readFileSync(greeting, "utf8")).toMatch(/^hello, \w+-\w+\n$/);

    await tf("plan", "-refresh-only", "-input=false", "-lock=false", "-no-color", "-out=clean.tfplan");
    const clean = JSON.parse(await tf("show", "-json", "clean.tfplan")) as PlanJson;
    expect(clean.resource_drift ?? []).toEqual([]);

    writeFileSync(greeting, "edited by hand\n");
    await tf("plan", "-refresh-only", "-input=false", "-lock=false", "-no-color", "-out=drift.tfplan");
    const drift = JSON.parse(await tf("show", "-json", "drift.tfplan")) as PlanJson;
    const drifted = (drift.resource_drift ?? []).map((r) => ({ address: r.address, actions: r.change.actions }));
    // hashicorp/local notices the changed checksum and forgets the file: the drift is its deletion.
    expect(drifted).toEqual([{ address: "local_file.greeting", actions: ["delete"] }]);
  });
});
