import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/support/tempdir.ts";
import { ManifestError } from "./errors.ts";
import { checkKustomization, namedPaths } from "./kustomize-guard.ts";

function worktree(files: Record<string, string>): string {
  const root = tempDir("driftwatch-kustomize-");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const BASE = { "base/kustomization.yaml": "resources: [cm.yaml]\n", "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n" };

describe("checkKustomization", () => {
  it("accepts an overlay whose bases, patches and generator files are all in the worktree", async () => {
    const root = worktree({
      ...BASE,
      "overlay/kustomization.yaml": "resources: [../base]\npatches:\n  - path: patch.yaml\n  - patch: |-\n      - op: add\nconfigMapGenerator:\n  - name: g\n    files: [conf=app.conf]\n",
      "overlay/patch.yaml": "{}\n",
      "overlay/app.conf": "x=1\n",
    });
    await expect(checkKustomization({ dir: join(root, "overlay"), root }, "s")).resolves.toBeUndefined();
  });

  it.each([
    ["a remote base", "resources: [github.com/acme/secrets//base?ref=main]\n", /names 'github.com\/acme\/secrets\/\/base\?ref=main'.*remote bases and Helm charts are not fetched/],
    ["an https resource", "resources: [https://example.com/all.yaml]\n", /not fetched/],
    ["an absolute path", "resources: [/etc/kubernetes]\n", /absolute paths are refused/],
    ["a folder outside the worktree", "resources: [../../outside]\n", /not a file or folder inside the repository/],
    ["a generator reading a file outside", "secretGenerator:\n  - name: s\n    files: [key=../../outside/key]\n", /not a file or folder inside the repository/],
    ["a Helm chart", "helmCharts:\n  - name: x\n", /Helm charts are not fetched/],
  ])("refuses %s", async (_what, kustomization, message) => {
    const root = worktree({ ...BASE, "overlay/kustomization.yaml": kustomization });
    const error = await checkKustomization({ dir: join(root, "overlay"), root }, "s").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as Error).message).toMatch(message);
  });

  it("follows the bases it names, and refuses a symlink out of the worktree in one of them", async () => {
    const outside = worktree({ "kustomization.yaml": "resources: []\n" });
    const root = worktree({ ...BASE, "overlay/kustomization.yaml": "resources: [../base]\n" });
    writeFileSync(join(root, "base/kustomization.yaml"), "resources: [cm.yaml, linked]\n");
    symlinkSync(outside, join(root, "base/linked"));
    const error = await checkKustomization({ dir: join(root, "overlay"), root }, "s").catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/base\/kustomization.yaml names 'linked'.*leads out of the worktree/);
  });

  it("lists the paths a kustomization names, but not inline patches", () => {
    expect(namedPaths({ resources: ["a.yaml"], patchesStrategicMerge: ["p.yaml", "kind: X\nmetadata: {}\n"], openapi: { path: "schema.json" } })).toEqual(["a.yaml", "p.yaml", "schema.json"]);
  });
});
