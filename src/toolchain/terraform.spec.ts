// The CLI config and the fixture provider's cache entry: what decides where the CLIs find providers, and when
// the tests' provider is built again.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cliConfig, fixtureProviderEntry } from "./terraform.ts";

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
