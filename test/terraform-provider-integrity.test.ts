// A provider changed behind the engine's back is never run. Two stacks without lock files share the plugin cache;
// between runs a byte of a provider binary changes through that cache, as a previous run's code could have done
// (hashicorp/local's local_file writes wherever it is told). The next init of the other stack, and the next plan of
// the stack whose init is skipped, refuse with ProviderIntegrityError naming the provider and the file.
//
// With an unpacked mirror, OpenTofu makes each cache entry a link to the mirror's package folder and every stack's
// copy shares the mirror's files (private-providers.ts), so the byte changes the mirror itself: the run after that
// succeeds once the mirror is provisioned again (here: the file put back from the provisioned toolchain, as a
// rebuild would). The cache entry is removed on the refusal and installed again by that run's init.
//
// The test changes a copy of the provisioned mirror that it makes for itself (its own CLI config and manifest),
// never the toolchain's, which every other test runs.
import { closeSync, copyFileSync, cpSync, lstatSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { readToolchainManifest, terraformCli, writeToolchainManifest } from "../src/toolchain/manifest.ts";
import { manifestPath } from "../src/toolchain/paths.ts";
import { mirrorPackages } from "../src/toolchain/provider-packages.ts";
import { cliConfig } from "../src/toolchain/terraform.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { tempDir } from "./support/tempdir.ts";
import { localFilesModule, terraformStackYaml } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";

const shared = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());
const RANDOM = join("registry.opentofu.org", "hashicorp", "random", "3.9.0");
const PLATFORM = `${process.platform}_${process.arch === "x64" ? "amd64" : process.arch}`;
const BINARY = "terraform-provider-random_v3.9.0";

/** Both providers, so that a plan starts local and random. */
const module = (round: number) => localFilesModule({ a: `alpha, round ${round}\n` }, `resource "random_pet" "name" {\n  keepers = { round = "${round}" }\n}\n`);

/** The toolchain's manifest, but with a copy of its providers mirror (OpenTofu's registry) and a CLI config naming only that. */
async function privateToolchain(root: string): Promise<{ manifest: string; mirror: string; cliConfigFile: string }> {
  const mirror = join(root, "tools", "terraform-providers", "mirror");
  cpSync(join(shared.terraform.providerMirror, "registry.opentofu.org"), join(mirror, "registry.opentofu.org"), { recursive: true });
  const cliConfigFile = join(root, "tools", "cli.tfrc");
  writeFileSync(cliConfigFile, cliConfig([mirror]));
  const terraform = { ...shared.terraform };
  delete terraform.fixtureProvider;
  const manifest = join(root, "tools", "toolchain.json");
  // As provisioning records them once the mirror is built.
  writeToolchainManifest({ ...shared, terraform: { ...terraform, cliConfigFile, providerMirror: mirror, providerPackages: await mirrorPackages(mirror) } }, manifest);
  return { manifest, mirror, cliConfigFile };
}

/** Changes one byte in place, as a program writing to the file would: a letter of a dependency's path in the Go build info, so the provider still runs. */
function changeOneByte(file: string): void {
  const content = readFileSync(file);
  const at = content.indexOf("\ndep\t") + 5;
  expect(at).toBeGreaterThan(5);
  const fd = openSync(file, "r+");
  try {
    writeSync(fd, Buffer.from([content[at]! ^ 0x20]), 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!terraformCli(shared, "tofu"))("provider integrity with tofu", () => {
  it("refuses to plan with a provider changed through the shared plugin cache, and plans again once the mirror is rebuilt", async () => {
    const root = tempDir();
    const { manifest, mirror, cliConfigFile } = await privateToolchain(root);
    // The providers come from this test's mirror, as its CLI configuration says (npm test names the shared one's).
    const env = { DRIFTWATCH_TOOLCHAIN: manifest, TF_CLI_CONFIG_FILE: cliConfigFile };
    const repos = { a: join(root, "repo-a"), b: join(root, "repo-b") };
    const lines = [`dataDir: ${join(root, "data")}`, "alerts: { log: false }", "stacks:"];
    for (const [name, repo] of Object.entries(repos)) {
      mkdirSync(repo, { recursive: true });
      git(repo, "init", "-q", "-b", "main");
      commitFiles(repo, { "stack/main.tf": module(1) }, "round 1");
      lines.push(...terraformStackYaml({ name, repo, path: "stack", dir: join(root, "world", name), binary: "tofu" }));
    }
    const config = join(root, "driftwatch.yaml");
    writeFileSync(config, `${lines.join("\n")}\n`);
    const check = async () => {
      const run = await driftwatch(["--config", config, "check", "--json"], env);
      return Object.fromEntries((JSON.parse(run.stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));
    };

    const first = await check();
    expect([first.a?.verdict, first.b?.verdict], JSON.stringify(first)).toEqual(["pending", "pending"]);

    // A previous run's code changes a byte of the random provider in the plugin cache (this test's own mirror: see above).
    const cacheEntry = join(root, "data", "cache", "terraform-plugins", RANDOM, PLATFORM);
    const cached = join(cacheEntry, BINARY);
    expect(realpathSync(cached).startsWith(realpathSync(root))).toBe(true);
    changeOneByte(cached);

    // b's commit moves on (its init runs); a's does not (its init is skipped, its plan goes on the stack's own copy).
    commitFiles(repos.b, { "stack/main.tf": module(2) }, "round 2");
    const second = await check();
    for (const name of ["a", "b"]) {
      const result = second[name];
      expect(result?.verdict, `${name}: ${JSON.stringify(result)}`).toBe("error");
      expect(result?.error?.kind).toBe("ProviderIntegrityError");
      expect(result?.error?.message).toContain(`provider registry.opentofu.org/hashicorp/random 3.9.0 (${PLATFORM}) is not what provisioning built, so no plan ran with it: ${BINARY} has changed`);
      expect(result?.error?.message).toContain("The provisioned mirror's own copy");
      expect(result?.error?.message).toContain("Nothing in the stack's commit causes or fixes this.");
    }
    expect(lstatExists(cacheEntry)).toBe(false); // b's refused init removed the entry it came from

    // The operator provisions the mirror again: the file is what the build makes (a new file, put in place).
    const mirrored = join(mirror, RANDOM, PLATFORM, BINARY);
    copyFileSync(join(shared.terraform.providerMirror, RANDOM, PLATFORM, BINARY), `${mirrored}.rebuilt`);
    renameSync(`${mirrored}.rebuilt`, mirrored);

    const third = await check();
    expect([third.a?.verdict, third.b?.verdict], JSON.stringify(third)).toEqual(["pending", "pending"]);
    expect(lstatSync(cacheEntry).isSymbolicLink()).toBe(true); // installed again by init
  }, engineTimeout(30));
});

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
