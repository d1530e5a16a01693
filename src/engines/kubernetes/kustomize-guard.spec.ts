import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/support/tempdir.ts";
import { repoRoot } from "../../toolchain/paths.ts";
import { ManifestError } from "./errors.ts";
import { checkKustomization, fetchedByKustomize, remoteShape } from "./kustomize-guard.ts";

function worktree(files: Record<string, string>): string {
  const root = tempDir("driftwatch-kustomize-");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const BASE = { "base/kustomization.yaml": "resources: [cm.yaml]\n", "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n" };

/** What the guard says about `overlay/` of a worktree with BASE and `files`. */
async function refusal(files: Record<string, string>): Promise<string> {
  const root = worktree({ ...BASE, ...files });
  const error = await checkKustomization({ dir: join(root, "overlay"), root }, "s").catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ManifestError);
  return (error as Error).message;
}

/** `field` of a kustomization holding `config` as one inline (block) entry. */
const inline = (field: string, config: string) => `${field}:\n  - |\n${config.replace(/^/gm, "    ")}`;

/** A builtin ConfigMapGenerator config reading `source`. */
const generator = (source: string, key = "files") => `apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: { name: g }\n${key}: [${JSON.stringify(source)}]\n`;

describe("checkKustomization", () => {
  it("accepts an overlay whose bases, patches, generators and transformer configs are all in the worktree, whatever the case of the keys", async () => {
    const root = worktree({
      ...BASE,
      "overlay/kustomization.yaml": [
        "Resources: [../base]",
        "patches:",
        "  - path: patch.yaml",
        "  - Patch: |-",
        "      - op: add",
        "configMapGenerator:",
        "  - name: g",
        "    Files: [conf=app.conf]",
        "    envs: [app.env]",
        "generators: [gen.yaml]",
        "transformers:",
        "  - |",
        "    apiVersion: builtin",
        "    kind: PatchTransformer",
        "    metadata: { name: p }",
        "    path: patch.yaml",
        "    target: { kind: ConfigMap }",
        "  - |",
        "    apiVersion: builtin",
        "    kind: LabelTransformer",
        "    metadata: { name: l }",
        "    labels: { team: a }",
        "    fieldSpecs: [{ path: metadata/labels, create: true }]",
        "replacements: [{ path: replacement.yaml }]",
        "",
      ].join("\n"),
      "overlay/patch.yaml": "{}\n",
      "overlay/app.conf": "x=1\n",
      "overlay/app.env": "Y=2\n",
      "overlay/replacement.yaml": "source: { kind: ConfigMap, name: a }\ntargets: []\n",
      "overlay/gen.yaml": `${generator("app.conf")}---\napiVersion: builtin\nkind: SecretGenerator\nmetadata: { name: s }\nenvs: [app.env]\ntype: Opaque\n`,
    });
    await expect(checkKustomization({ dir: join(root, "overlay"), root }, "s")).resolves.toBeUndefined();
  });

  it("accepts the repository's own kustomizations", async () => {
    for (const dir of ["stacks/demo-k8s/overlays/local", "deploy/kubernetes", "deploy/kubernetes/db-migrate"]) {
      await expect(checkKustomization({ dir: join(repoRoot, dir), root: repoRoot }, "s")).resolves.toBeUndefined();
    }
  });

  it.each([
    ["a remote base", "resources: [github.com/acme/secrets//base?ref=main]\n", /overlay\/kustomization.yaml: resources\[0\] names 'github.com\/acme\/secrets\/\/base\?ref=main'.*a GitHub repository, which kustomize would fetch/],
    ["an https resource", "resources: [https://example.com/all.yaml]\n", /resources\[0\] names 'https:\/\/example.com\/all.yaml'.*a URL, which kustomize would fetch/],
    ["an absolute path", "resources: [/etc/kubernetes]\n", /resources\[0\] names '\/etc\/kubernetes'.*absolute paths are refused/],
    ["a folder outside the worktree", "resources: [../../outside]\n", /resources\[0\] names '\.\.\/\.\.\/outside', which is not a file or folder inside the repository/],
    ["a generator reading a file outside", "secretGenerator:\n  - name: s\n    files: [key=../../outside/key]\n", /secretGenerator\[0\]\.files\[0\] names '\.\.\/\.\.\/outside\/key', which is not a file or folder inside the repository/],
    ["a Helm chart", "helmCharts:\n  - name: x\n", /overlay\/kustomization.yaml: helmCharts: Helm charts are not rendered/],
  ])("refuses %s", async (_what, kustomization, message) => {
    expect(await refusal({ "overlay/kustomization.yaml": kustomization })).toMatch(message);
  });

  // Each of these was let through by the guard before it read keys the way kustomize does.
  it.each([
    ["a capitalised Resources naming a URL", "Resources: [http://169.254.169.254/latest/user-data]\n", /^stack s: overlay\/kustomization.yaml: Resources\[0\] names 'http:\/\/169.254.169.254\/latest\/user-data'.*a URL/],
    ["a capitalised ConfigMapGenerator whose files name a URL", "ConfigMapGenerator:\n  - name: md\n    files: [http://169.254.169.254/latest/meta-data/iam]\n", /overlay\/kustomization.yaml: ConfigMapGenerator\[0\]\.files\[0\] names 'http:\/\/169.254.169.254\/latest\/meta-data\/iam'.*a URL/],
    ["a generator entry whose Files name an absolute path", "configMapGenerator:\n  - name: h\n    Files: [/etc/hostname]\n", /configMapGenerator\[0\]\.Files\[0\] names '\/etc\/hostname'.*absolute paths are refused/],
    ["a capitalised Helm chart", "HelmCharts:\n  - name: x\n    repo: https://charts.example.com\n", /overlay\/kustomization.yaml: HelmCharts: Helm charts are not rendered/],
    ["an unknown key", "resources: [../base]\nresourcez: [/etc]\n", /^stack s: overlay\/kustomization.yaml: unknown key 'resourcez': a kustomization \(kustomize v5\.8\.2's Kustomization\) has no such field/],
    ["a key Go folds onto resources", "reſources: [../../outside]\n", /unknown key 'reſources'/],
    ["two spellings of one field", "resources: [../base]\nRESOURCES: [../../outside]\n", /overlay\/kustomization.yaml: keys 'resources' and 'RESOURCES' are the same field 'resources' to kustomize/],
    ["a capitalised patch path", "patches:\n  - Path: /etc/passwd\n", /patches\[0\]\.Path names '\/etc\/passwd'.*absolute paths are refused/],
    ["a capitalised replacement path", "replacements:\n  - PATH: ../../outside.yaml\n", /replacements\[0\]\.PATH names '\.\.\/\.\.\/outside.yaml'/],
    ["an openapi path spelt otherwise", "openapi:\n  Path: /etc/passwd\n", /openapi\.Path: unknown key/],
    ["a date where a path goes", "resources: [2001-12-14]\n", /resources\[0\] is a date where kustomize expects a path/],
    ["a boolean where a path goes", "configMapGenerator:\n  - name: g\n    files: [on]\n", /configMapGenerator\[0\]\.files\[0\] is boolean where kustomize expects a path/],
    ["a second document", "resources: [../base]\n---\nresources: [/etc]\n", /overlay\/kustomization.yaml: a kustomization must be one YAML document/],
    ["merged keys", "<<: { resources: [/etc] }\n", /resources\[0\] names '\/etc'.*absolute paths are refused/],
  ])("refuses %s", async (_what, kustomization, message) => {
    expect(await refusal({ "overlay/kustomization.yaml": kustomization })).toMatch(message);
  });

  it.each([
    ["an inline generator config naming /etc/hostname", inline("generators", generator("/etc/hostname")), /overlay\/kustomization.yaml: generators\[0\] \(inline config\): files\[0\] names '\/etc\/hostname'.*absolute paths are refused/],
    ["a one-line inline generator config", 'generators: ["{apiVersion: builtin, kind: ConfigMapGenerator, metadata: {name: g}, files: [../../outside]}"]\n', /generators\[0\] \(inline config\): files\[0\] names '\.\.\/\.\.\/outside'/],
    ["an inline transformer config with a capitalised Path", inline("transformers", "apiVersion: builtin\nkind: PatchTransformer\nmetadata: { name: p }\nPath: /etc/shadow\n"), /transformers\[0\] \(inline config\): Path names '\/etc\/shadow'/],
    ["an inline validator config reading a URL", inline("validators", "apiVersion: builtin\nkind: ReplacementTransformer\nmetadata: { name: r }\nreplacements: [{ path: 'https://example.com/r.yaml' }]\n"), /validators\[0\] \(inline config\): replacements\[0\]\.path names 'https:\/\/example.com\/r.yaml'.*a URL/],
    ["an inline Helm generator", 'generators: ["{apiVersion: builtin, kind: HelmChartInflationGenerator, metadata: {name: h}, chartName: x}"]\n', /generators\[0\] \(inline config\): kind: Helm charts are not rendered/],
    ["a plugin (not a builtin)", inline("transformers", "apiVersion: example.com/v1\nkind: Exec\nmetadata: { name: x }\n"), /transformers\[0\] \(inline config\): apiVersion: "example.com\/v1" \(kind "Exec"\) is not a builtin kustomize plugin/],
    ["a builtin kind kustomize does not wire", 'transformers: ["{apiVersion: builtin, kind: SortOrderTransformer, metadata: {name: x}}"]\n', /kind: "SortOrderTransformer" is not a builtin kustomize plugin/],
    ["an unknown field of a builtin", inline("generators", "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: { name: g }\nfilez: [a]\n"), /generators\[0\] \(inline config\): unknown key 'filez': the builtin ConfigMapGenerator's config \(kustomize v5\.8\.2\) has no such field/],
    ["a config's kind spelt otherwise", 'generators: ["{apiVersion: builtin, Kind: ConfigMapGenerator, metadata: {name: g}}"]\n', /generators\[0\] \(inline config\): Kind must be written 'kind'/],
    ["inline YAML kustomize would clone if it did not take it for objects", 'generators: ["github.com/acme/x: y"]\n', /generators\[0\] \('github.com\/acme\/x: y'\) is what kustomize would fetch/],
    ["a folder of generator configs", "generators: [gens]\n", /generators\[0\] names 'gens'.*it is a folder/],
  ])("refuses %s", async (_what, kustomization, message) => {
    expect(await refusal({ "overlay/kustomization.yaml": kustomization, "overlay/gens/kustomization.yaml": "resources: [gen.yaml]\n", "overlay/gens/gen.yaml": generator("x") })).toMatch(message);
  });

  it.each([
    ["a ConfigMapGenerator reading a URL", generator("http://127.0.0.1:9/latest"), /^stack s: overlay\/gen.yaml \(generators\[0\] of overlay\/kustomization.yaml\): files\[0\] names 'http:\/\/127.0.0.1:9\/latest'.*a URL/],
    ["a SecretGenerator reading a file outside", generator("../../outside.env", "Envs").replace("ConfigMap", "Secret"), /overlay\/gen.yaml \(generators\[0\] of overlay\/kustomization.yaml\): Envs\[0\] names '\.\.\/\.\.\/outside.env'/],
    ["a second document reading /etc/hostname", `${generator("ok.txt")}---\n${generator("k=/etc/hostname")}`, /overlay\/gen.yaml \(generators\[0\] of overlay\/kustomization.yaml, document 2\): files\[0\] names '\/etc\/hostname'/],
    ["a PatchTransformer reading a file outside", "apiVersion: builtin\nkind: PatchTransformer\nmetadata: { name: p }\npath: ../../secret.yaml\n", /overlay\/gen.yaml \(generators\[0\] of overlay\/kustomization.yaml\): path names '\.\.\/\.\.\/secret.yaml'/],
    ["a PatchStrategicMergeTransformer reading a URL", "apiVersion: builtin\nkind: PatchStrategicMergeTransformer\nmetadata: { name: p }\npaths: [https://example.com/p.yaml]\n", /overlay\/gen.yaml \(generators\[0\] of overlay\/kustomization.yaml\): paths\[0\].*https:\/\/example.com\/p.yaml/],
    ["a ValueAddTransformer reading a file outside", "apiVersion: builtin\nkind: ValueAddTransformer\nmetadata: { name: v }\ntargetFilePath: /etc/passwd\n", /targetFilePath names '\/etc\/passwd'/],
    ["a date that kustomize would read as another path", generator("x").replace('["x"]', "[2001-12-14]"), /files\[0\] is a date where kustomize expects a path/],
    ["a quoted date, which kustomize's plugin YAML rewrites", "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: { name: g }\nfiles: ['2001-12-14']\n", /files\[0\] names '2001-12-14'.*would turn it into a date/],
    ["a non-builtin generator", "apiVersion: acme.example/v1\nkind: Fetcher\nmetadata: { name: f }\nurl: https://example.com\n", /overlay\/gen.yaml \(generators\[0\] of overlay\/kustomization.yaml\): apiVersion: "acme.example\/v1" \(kind "Fetcher"\) is not a builtin kustomize plugin/],
  ])("reads the generator config files it names, and refuses %s", async (_what, config, message) => {
    expect(await refusal({ "overlay/kustomization.yaml": "generators: [gen.yaml]\n", "overlay/gen.yaml": config, "overlay/ok.txt": "ok\n" })).toMatch(message);
  });

  it("refuses a URL even when a committed folder of that name makes it a local path too", async () => {
    const decoy = { "overlay/http:/127.0.0.1:9/base/kustomization.yaml": "resources: [cm.yaml]\n", "overlay/http:/127.0.0.1:9/base/cm.yaml": BASE["base/cm.yaml"] };
    expect(await refusal({ ...decoy, "overlay/kustomization.yaml": "resources: [http://127.0.0.1:9/base]\n" })).toMatch(/resources\[0\] names 'http:\/\/127.0.0.1:9\/base'.*a URL, which kustomize would fetch/);
    const mirror = { "overlay/file:/srv/mirrors/team-b.git/base/kustomization.yaml": "resources: []\n" };
    expect(await refusal({ ...mirror, "overlay/kustomization.yaml": "resources: [file:///srv/mirrors/team-b.git//base]\n" })).toMatch(/resources\[0\] names 'file:\/\/\/srv\/mirrors\/team-b.git\/\/base'.*a URL/);
  });

  it("refuses inline YAML when a file of that very name exists, which kustomize could read instead", async () => {
    const inline = "{apiVersion: builtin, kind: HashTransformer, metadata: {name: h}}";
    expect(await refusal({ "overlay/kustomization.yaml": `transformers: [${JSON.stringify(inline)}]\n`, [`overlay/${inline}`]: generator("/etc/hostname") })).toMatch(/transformers\[0\] is inline YAML, but a file of that very name exists/);
  });

  it("follows the bases it names, and refuses a symlink out of the worktree in one of them", async () => {
    const outside = worktree({ "kustomization.yaml": "resources: []\n" });
    const root = worktree({ ...BASE, "overlay/kustomization.yaml": "resources: [../base]\n" });
    writeFileSync(join(root, "base/kustomization.yaml"), "resources: [cm.yaml, linked]\n");
    symlinkSync(outside, join(root, "base/linked"));
    const error = await checkKustomization({ dir: join(root, "overlay"), root }, "s").catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/base\/kustomization.yaml: resources\[1\] names 'linked'.*leads out of the worktree/);
  });

  it("follows a symlink out of the worktree in a generator config file it reads", async () => {
    const outside = worktree({ "gen.yaml": generator("x") });
    const root = worktree({ ...BASE, "overlay/kustomization.yaml": "generators: [gen.yaml]\n" });
    symlinkSync(join(outside, "gen.yaml"), join(root, "overlay/gen.yaml"));
    const error = await checkKustomization({ dir: join(root, "overlay"), root }, "s").catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/generators\[0\] names 'gen.yaml'.*leads out of the worktree/);
  });
});

describe("remoteShape", () => {
  it.each([
    ["https://github.com/acme/x", "a URL"],
    ["HTTP://169.254.169.254/latest", "a URL"],
    ["http:/host/one-slash", "a URL"],
    ["file:///srv/mirror.git//base", "a URL"],
    ["git::https://example.com/x.git", "a URL"],
    ["ssh://git@example.com/x.git", "a URL"],
    ["github.com:acme/x", "a URL"],
    ["  https://example.com/x", "a URL"],
    ["//example.com/x", "a URL without a scheme"],
    ["git@gitlab.example.com:acme/x.git", "a git remote (user@host)"],
    ["deploy@host/x", "a git remote (user@host)"],
    ["GitHub.com/acme/x//base", "a GitHub repository"],
  ])("takes %s for %s", (path, shape) => {
    expect(remoteShape(path)).toBe(shape);
  });

  it.each(["../base", "./app.yaml", "overlays/prod", "base/v1@2/x.yaml", "config=app.conf"])("takes %s for a local path", (path) => {
    expect(remoteShape(path)).toBeUndefined();
  });

  it("tells which inline YAML kustomize would fetch if it took it for a path", () => {
    expect(fetchedByKustomize("apiVersion: builtin\nkind: ConfigMapGenerator\n")).toBe(false);
    expect(fetchedByKustomize("{apiVersion: builtin, kind: HashTransformer}")).toBe(false);
    expect(fetchedByKustomize("https://example.com/x: y")).toBe(true);
    expect(fetchedByKustomize("https://example.com/a/b: y\nkind: Z")).toBe(true); // no HTTP GET (url.Parse refuses the line break), but a git clone
    expect(fetchedByKustomize("github.com/acme/x: y\nkind: Z")).toBe(true); // a git clone needs no URL parse
    expect(fetchedByKustomize("Git::SSH://host/x: y")).toBe(true);
    expect(fetchedByKustomize("git@host:x: y")).toBe(true);
  });
});
