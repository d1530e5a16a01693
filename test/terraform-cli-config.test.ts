// Providers install the way this machine's OpenTofu or Terraform would install them: through the operator's own
// CLI configuration (TF_CLI_CONFIG_FILE, ~/.tofurc, ~/.terraformrc), never the provisioned mirror unless asked for.
// This machine reaches no provider registry, so the team's providers come from a filesystem mirror of its own, in a
// folder of its own, holding a provider the provisioned mirror does not have (example.com/acme/random).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { readToolchainManifest, terraformClis } from "../src/toolchain/manifest.ts";
import { manifestPath } from "../src/toolchain/paths.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { engineTimeout } from "./support/timeouts.ts";

const manifest = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());
const random = (manifest.terraform.providerPackages ?? []).find((p) => p.source === "registry.opentofu.org/hashicorp/random")!;

/** A module whose only provider is the team's own, at an address no public registry or provisioned mirror serves. */
const TEAM_MODULE = `terraform {
  required_providers {
    random = { source = "example.com/acme/random", version = "${random.version}" }
  }
}
resource "random_id" "build" {
  byte_length = 4
}
output "build" { value = random_id.build.hex }
`;

/** A module naming a registry provider (hashicorp/random, which the provisioned mirror does have). */
const REGISTRY_MODULE = `terraform {
  required_providers {
    random = { source = "hashicorp/random" }
  }
}
resource "random_id" "build" {
  byte_length = 4
}
`;

const cliConfig = (mirror: string) => `provider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(mirror)}\n    include = ["example.com/*/*"]\n  }\n}\n`;

describe("providers installed as the operator's OpenTofu/Terraform would install them", () => {
  const root = mkdtempSync(join(tmpdir(), "driftwatch-cli-config-"));
  const repo = join(root, "repo");
  const home = join(root, "home");
  const teamMirror = join(root, "team-mirror");
  const emptyMirror = join(root, "empty-mirror");
  const config = join(root, "driftwatch.yaml");
  const clis = terraformClis(manifest).map((cli) => cli.flavor);

  /** The service's environment: the operator's home, and no CLI configuration named (npm test names the mirror's). */
  const operator = (extra: NodeJS.ProcessEnv = {}) => ({ HOME: home, TF_CLI_CONFIG_FILE: undefined, ...extra });
  const results = (stdout: string) => Object.fromEntries((JSON.parse(stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));
  const stackYaml = (name: string, path: string, binary: string, env?: string) => [
    `  - name: ${name}`,
    "    engine: terraform",
    `    source: { repo: ${repo}, path: ${path} }`,
    `    terraform: { binary: ${binary} }`,
    ...(env ? [`    env: ${env}`] : []),
  ];

  beforeAll(() => {
    // The team's mirror: the random provider's executable, under the team's own address.
    const packageDir = join(teamMirror, "example.com", "acme", "random", random.version, random.platform);
    mkdirSync(packageDir, { recursive: true });
    copyFileSync(join(random.mirror, random.source, random.version, random.platform, `terraform-provider-random_v${random.version}`), join(packageDir, `terraform-provider-random_v${random.version}`));
    mkdirSync(emptyMirror, { recursive: true });
    mkdirSync(home, { recursive: true });
    mkdirSync(repo, { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    commitFiles(repo, { "stacks/team/main.tf": TEAM_MODULE, "stacks/registry/main.tf": REGISTRY_MODULE }, "modules");
    const lines = [`dataDir: ${join(root, "data")}`, "stacks:"];
    for (const cli of clis) {
      lines.push(...stackYaml(`team-${cli}`, "stacks/team", cli));
      lines.push(...stackYaml(`registry-${cli}`, "stacks/registry", cli));
      lines.push(...stackYaml(`opted-out-${cli}`, "stacks/team", cli, "{ TF_CLI_CONFIG_FILE: /dev/null }"));
    }
    writeFileSync(config, `${lines.join("\n")}\n`);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("reads ~/.tofurc (OpenTofu) or ~/.terraformrc, as each CLI does, and installs the team's provider from its mirror", async () => {
    // OpenTofu reads ~/.tofurc before ~/.terraformrc; Terraform reads only ~/.terraformrc. Only the file each CLI
    // reads points at the team's mirror.
    writeFileSync(join(home, ".tofurc"), cliConfig(teamMirror));
    writeFileSync(join(home, ".terraformrc"), cliConfig(emptyMirror));
    const tofu = await driftwatch(["--config", config, "converge", "team-tofu", "--json"], operator());
    expect(tofu.code, tofu.stderr).toBe(0);
    expect(results(tofu.stdout)["team-tofu"]).toMatchObject({ verdict: "in-sync" });
    const check = await driftwatch(["--config", config, "check", "team-tofu", "--json"], operator());
    expect(results(check.stdout)["team-tofu"], check.stderr).toMatchObject({ verdict: "in-sync", changes: [] });

    if (clis.includes("terraform")) {
      const terraform = await driftwatch(["--config", config, "check", "team-terraform", "--json"], operator());
      const result = results(terraform.stdout)["team-terraform"]!;
      expect(result.verdict, terraform.stderr).toBe("error");
      expect(result.error!.message).toContain("example.com/acme/random");

      writeFileSync(join(home, ".terraformrc"), cliConfig(teamMirror));
      const again = await driftwatch(["--config", config, "converge", "team-terraform", "--json"], operator());
      expect(results(again.stdout)["team-terraform"], again.stderr).toMatchObject({ verdict: "in-sync" });
    }
  }, engineTimeout(12));

  it("uses the CLI configuration the service's TF_CLI_CONFIG_FILE names, wherever it is, before the home's", async () => {
    writeFileSync(join(home, ".tofurc"), cliConfig(emptyMirror));
    writeFileSync(join(home, ".terraformrc"), cliConfig(emptyMirror));
    const named = join(root, "etc", "team.tfrc");
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(named, cliConfig(teamMirror));
    for (const cli of clis) {
      const run = await driftwatch(["--config", config, "converge", `team-${cli}`, "--json"], operator({ TF_CLI_CONFIG_FILE: named }));
      expect(results(run.stdout)[`team-${cli}`], run.stderr).toMatchObject({ verdict: "in-sync" });
    }
  }, engineTimeout(8));

  it("goes to the registries without a CLI configuration, never to the provisioned mirror, and a stack may opt out of the operator's", async () => {
    rmSync(join(home, ".tofurc"), { force: true });
    rmSync(join(home, ".terraformrc"), { force: true });
    const registryHost = { tofu: "registry.opentofu.org", terraform: "registry.terraform.io" } as const;
    for (const cli of clis) {
      // hashicorp/random is in the provisioned mirror; the CLI looks for it where it would without Driftwatch.
      const run = await driftwatch(["--config", config, "check", `registry-${cli}`, "--json"], operator());
      const result = results(run.stdout)[`registry-${cli}`]!;
      expect(result.verdict, run.stderr).toBe("error");
      expect(result.error!.message).toContain(registryHost[cli]);

      // A stack whose env sets TF_CLI_CONFIG_FILE gets that, not the operator's.
      writeFileSync(join(home, cli === "tofu" ? ".tofurc" : ".terraformrc"), cliConfig(teamMirror));
      const optedOut = await driftwatch(["--config", config, "check", `opted-out-${cli}`, "--json"], operator());
      const opted = results(optedOut.stdout)[`opted-out-${cli}`]!;
      expect(opted.verdict, optedOut.stderr).toBe("error");
      expect(opted.error!.message).toMatch(/example\.com/);
      rmSync(join(home, cli === "tofu" ? ".tofurc" : ".terraformrc"), { force: true });
    }
  }, engineTimeout(8));
});
