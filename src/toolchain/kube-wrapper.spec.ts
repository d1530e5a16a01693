import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type GoModJson, goModJsonSchema, stagingVersion, WrapperModuleError, wrapperGoMod, wrapperReplacements, wrapperToolsGo } from "./kube-wrapper.ts";
import { repoRoot } from "./paths.ts";
import { loadPinnedVersions } from "./versions.ts";

/** The shape `go mod edit -json` gives for Kubernetes' go.mod, cut down to a few entries. */
const kubernetesGoMod: GoModJson = goModJsonSchema.parse({
  Module: { Path: "k8s.io/kubernetes" },
  Go: "1.26.0",
  GoDebug: [{ Key: "default", Value: "go1.26" }],
  Require: [{ Path: "github.com/blang/semver/v4", Version: "v4.0.0" }],
  Exclude: null,
  Replace: [
    { Old: { Path: "k8s.io/api" }, New: { Path: "./staging/src/k8s.io/api" } },
    { Old: { Path: "k8s.io/apimachinery" }, New: { Path: "./staging/src/k8s.io/apimachinery" } },
    { Old: { Path: "github.com/example/forked", Version: "v1.2.0" }, New: { Path: "github.com/example/fork", Version: "v1.2.1" } },
  ],
  Retract: null,
});

describe("stagingVersion", () => {
  it("maps a Kubernetes release to its staging modules' release", () => {
    expect(stagingVersion("v1.36.3")).toBe("v0.36.3");
    expect(stagingVersion("v1.37.0-rc.1")).toBe("v0.37.0-rc.1");
  });

  it("refuses what is not a v1.x.y module version", () => {
    expect(() => stagingVersion("1.36.3")).toThrow(WrapperModuleError);
    expect(() => stagingVersion("v2.0.0")).toThrow("'v2.0.0' is not a Kubernetes v1.x.y module version");
  });
});

describe("wrapperReplacements", () => {
  it("turns each local staging replace into the published staging release and keeps module replaces", () => {
    expect(wrapperReplacements(kubernetesGoMod, "v1.36.3")).toEqual([
      { old: "k8s.io/api", new: "k8s.io/api", newVersion: "v0.36.3" },
      { old: "k8s.io/apimachinery", new: "k8s.io/apimachinery", newVersion: "v0.36.3" },
      { old: "github.com/example/forked", oldVersion: "v1.2.0", new: "github.com/example/fork", newVersion: "v1.2.1" },
    ]);
  });

  it("refuses a local replace that is not a staging module, and another module's go.mod", () => {
    const odd = { ...kubernetesGoMod, Replace: [{ Old: { Path: "k8s.io/api" }, New: { Path: "../elsewhere/api" } }] };
    expect(() => wrapperReplacements(odd, "v1.36.3")).toThrow("k8s.io/api is replaced by the local directory ../elsewhere/api");
    expect(() => wrapperReplacements({ ...kubernetesGoMod, Module: { Path: "k8s.io/api" } }, "v1.36.3")).toThrow(WrapperModuleError);
  });

  it("has nothing to replace when Kubernetes replaces nothing", () => {
    expect(wrapperReplacements({ ...kubernetesGoMod, Replace: null }, "v1.36.3")).toEqual([]);
  });
});

describe("wrapperGoMod", () => {
  it("writes the module, Kubernetes' go version, the one requirement and the replace block", () => {
    expect(wrapperGoMod({ module: "driftwatch.local/tools/kube-apiserver", kubernetesVersion: "v1.36.3", kubernetes: kubernetesGoMod })).toBe(
      [
        "module driftwatch.local/tools/kube-apiserver",
        "",
        "go 1.26.0",
        "",
        "require k8s.io/kubernetes v1.36.3",
        "",
        "replace (",
        "\tk8s.io/api => k8s.io/api v0.36.3",
        "\tk8s.io/apimachinery => k8s.io/apimachinery v0.36.3",
        "\tgithub.com/example/forked v1.2.0 => github.com/example/fork v1.2.1",
        ")",
        "",
      ].join("\n"),
    );
  });
});

describe("the committed tools/kube-apiserver wrapper", () => {
  const pin = loadPinnedVersions().kubeApiserver;
  const read = (file: string) => readFileSync(join(repoRoot, pin.goModule, file), "utf8");

  it("has the tools.go the generator writes", () => {
    expect(read("tools.go")).toBe(wrapperToolsGo(pin.package));
  });

  it("replaces every staging module by the release that ships with the pinned Kubernetes", () => {
    const block = /^replace \(\n([^)]*)\)/m.exec(read("go.mod"))?.[1] ?? "";
    const lines = block.split("\n").filter((line) => line.trim() !== "");
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) expect(line).toMatch(new RegExp(`^\\t(k8s\\.io/[a-z0-9-]+) => \\1 ${stagingVersion(`v${pin.version}`).replaceAll(".", "\\.")}$`));
  });
});
