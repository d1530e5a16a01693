// The CLI config and the fixture provider's cache entry: what decides where the CLIs find providers, and when
// the tests' provider is built again.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { toolchainManifestSchema } from "./manifest.ts";
import { manifestPath } from "./paths.ts";
import { silentProgress } from "./progress.ts";
import { mirrorPackages } from "./provider-packages.ts";
import { cliConfig, fixtureProviderEntry, mirrorChecksums, recordedProviderPackages } from "./terraform.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "driftwatch-terraform-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("cliConfig", () => {
  it("installs providers only from the mirrors it names, each in its own filesystem_mirror block, in order", () => {
    const config = cliConfig(["/cache/products mirror", "/cache/fixture"]);
    expect(config).toContain("disable_checkpoint = true");
    expect(config).toContain(
      'provider_installation {\n  filesystem_mirror {\n    path = "/cache/products mirror"\n  }\n  filesystem_mirror {\n    path = "/cache/fixture"\n  }\n}\n',
    );
    expect(config).not.toMatch(/\bdirect\b|network_mirror/);
  });
});

describe("fixtureProviderEntry", () => {
  const pin = (goModule: string) => ({ version: "0.1.0", goModule, package: "." });

  it("lays the provider out as driftwatch/fixture for registry.opentofu.org in its mirror", () => {
    const tools = tempDir();
    const { root, mirror, bin } = fixtureProviderEntry(tools, pin("tools/terraform-provider-fixture"));
    expect(root).toMatch(new RegExp(`^${tools}/terraform-provider-fixture-0\\.1\\.0-[0-9a-f]{12}$`));
    expect(bin.slice(mirror.length)).toMatch(/^\/registry\.opentofu\.org\/driftwatch\/fixture\/0\.1\.0\/[a-z]+_[a-z0-9]+\/terraform-provider-fixture_v0\.1\.0$/);
  });

  it("is a new entry when a Go source, go.mod or go.sum changes, or a Go file is added; other files do not count", () => {
    const module = tempDir();
    const files: Record<string, string> = { "go.mod": "module x\n", "go.sum": "", "main.go": "package main\n" };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(module, name), content);
    const root = () => fixtureProviderEntry("/tools", pin(module)).root;
    const first = root();
    writeFileSync(join(module, "README.md"), "notes\n");
    expect(root()).toBe(first);
    const seen = new Set([first]);
    for (const [name, content] of [["main.go", "package main\n// changed\n"], ["go.sum", "x v1 h1:\n"], ["go.mod", "module y\n"], ["resource.go", "package main\n"]]) {
      writeFileSync(join(module, name!), content!);
      seen.add(root());
    }
    expect(seen.size).toBe(5);
  });
});

describe("the provider checksums provisioning records", () => {
  function mirrorWith(root: string, content: string): string {
    const mirror = join(root, "terraform-providers-abc", "mirror");
    const dir = join(mirror, "registry.opentofu.org", "hashicorp", "local", "2.9.0", "linux_amd64");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "terraform-provider-local_v2.9.0"), content);
    return mirror;
  }
  const manifestWith = (tools: string, terraform: Record<string, unknown>) => writeFileSync(manifestPath(tools), JSON.stringify({ terraform }));

  it("are kept as recorded for a mirror that was not built again, even once the mirror changed: provisioning never blesses a change", async () => {
    const tools = tempDir();
    const mirror = mirrorWith(tools, "as built");
    manifestWith(tools, { providerPackages: await mirrorPackages(mirror) });
    mirrorWith(tools, "changed since");
    const recorded = recordedProviderPackages(tools);
    expect(await mirrorChecksums({ progress: silentProgress }, mirror, false, recorded)).toEqual(recorded);
    // Built again just now: what it holds now is what was built.
    expect(await mirrorChecksums({ progress: silentProgress }, mirror, true, recorded)).toEqual(await mirrorPackages(mirror));
  });

  it("are taken from the mirror when the manifest being replaced has none: an older one, one today's schema rejects, or none", async () => {
    const tools = tempDir();
    const mirror = mirrorWith(tools, "as built");
    expect(recordedProviderPackages(tools)).toEqual([]); // no manifest yet
    manifestWith(tools, { clis: [], providerMirror: mirror }); // older: no providerPackages
    expect(recordedProviderPackages(tools)).toEqual([]);
    writeFileSync(manifestPath(tools), "{ not json");
    expect(recordedProviderPackages(tools)).toEqual([]);
    // Records of another mirror are not this one's.
    manifestWith(tools, { providerPackages: (await mirrorPackages(mirror)).map((p) => ({ ...p, mirror: "/elsewhere" })) });
    expect(await mirrorChecksums({ progress: silentProgress }, mirror, false, recordedProviderPackages(tools))).toEqual(await mirrorPackages(mirror));
  });

  it("are optional in the manifest, so a manifest written before them still loads", () => {
    const terraform = { clis: [{ bin: "/t/tofu", version: "1.12.6", origin: "built", flavor: "tofu" }], cliConfigFile: "/t/cli.tfrc", providerMirror: "/t/mirror", providers: [] };
    expect(toolchainManifestSchema.shape.terraform.safeParse(terraform).success).toBe(true);
    const withRecords = { ...terraform, providerPackages: [{ source: "registry.opentofu.org/hashicorp/local", version: "2.9.0", platform: "linux_amd64", mirror: "/t/mirror", files: { x: "0".repeat(64) } }] };
    expect(toolchainManifestSchema.shape.terraform.safeParse(withRecords).success).toBe(true);
    expect(toolchainManifestSchema.shape.terraform.safeParse({ ...withRecords, providerPackages: [{ ...withRecords.providerPackages[0], files: { x: "not a digest" } }] }).success).toBe(false);
  });
});
