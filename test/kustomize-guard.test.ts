// The kustomize guard against hostile kustomizations, end to end: renderManifests with the provisioned kustomize
// on git-free folders that each tried, on the guard before it read kustomizations the way kustomize does, to make
// kustomize fetch something: a local HTTP server stands in for a cloud metadata service (it records every request
// and must never be asked), a git repository for Driftwatch's mirror of another team's repository. Each must be
// refused by the guard, naming the file and the key, before kustomize runs. kustomize runs unconfined here (sandbox
// level "off"), so nothing but the guard stands between it and the server; the controls run the same kustomize on
// the same folders directly, to show that each fixture is a real attack and not one kustomize refuses by itself.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ManifestError } from "../src/engines/kubernetes/errors.ts";
import { renderManifests } from "../src/engines/kubernetes/render.ts";
import { RunSandbox } from "../src/sandbox/run-sandbox.ts";
import { git } from "./support/git.ts";
import { tempDir } from "./support/tempdir.ts";
import { engineTimeout } from "./support/timeouts.ts";
import { testToolchain } from "./support/toolchain.ts";

const METADATA = "role-credentials-4b1e7c";
const SECRET = "team-b-secret-91d3aa";

/** A local HTTP server that answers every request with METADATA and records it. */
class MetadataServer {
  readonly asked: string[] = [];
  readonly #server: Server = createServer((request: IncomingMessage, response) => {
    this.asked.push(request.url ?? "");
    response.end(request.url?.endsWith("/base") ? `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: fetched }\ndata: { token: ${METADATA} }\n` : METADATA);
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A git-free stack folder holding `files`; the folder is its own worktree root. */
function stackFolder(files: Record<string, string>): string {
  const dir = tempDir("driftwatch-kustomize-guard-");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const { manifest } = testToolchain();
const kustomize = manifest.kubernetes.kustomize.bin;
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

/** renderManifests as the engine calls it, kustomize unconfined; the error it ends with, or what it rendered. */
async function render(dir: string): Promise<unknown> {
  const logger = pino({ level: "silent" });
  const sandbox = new RunSandbox(
    { launcher: manifest.sandbox?.bin ?? "", launcherEnv: {}, toolchain: [], support: () => Promise.reject(new Error("the test's sandbox is off")) },
    {
      stack: "web",
      settings: { level: "off", readOnly: [], readWrite: [], connectPorts: [], memoryBytes: 0, cpuSeconds: 0 },
      places: { dir, root: dir, home: dir, tmp: dir },
      ports: [],
      namedFiles: [],
    },
  );
  const options = { stack: "web", settings: { render: "kustomize" as const }, kustomize, sandbox, env, signal: AbortSignal.timeout(120_000), logger };
  return renderManifests({ dir, root: dir }, options).catch((error: unknown) => error);
}

/** The control: the same kustomize on the same folder, directly (not blocking the event loop the server answers on). */
function kustomizeBuild(dir: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kustomize, ["build", dir], { encoding: "utf8", env, timeout: 120_000 }, (_error, stdout, stderr) => resolve({ stdout, stderr }));
  });
}

describe("the kustomize guard, with the provisioned kustomize", () => {
  const server = new MetadataServer();
  let host: string;

  beforeAll(async () => {
    host = await server.start();
  });
  afterAll(() => server.stop());
  beforeEach(() => {
    server.asked.length = 0;
  });

  it("refuses a ConfigMapGenerator spelt with a capital C whose files name a URL, and the server is never asked", async () => {
    const url = `http://${host}/latest/meta-data/iam/security-credentials/node`;
    const dir = stackFolder({ "kustomization.yaml": `ConfigMapGenerator:\n  - name: metadata\n    files: [${url}]\n` });
    const error = await render(dir);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as Error).message).toBe(
      `stack web: kustomization.yaml: ConfigMapGenerator[0].files[0] names '${url}', which is not a file or folder inside the repository (it is a URL, which kustomize would fetch; nothing is fetched from the network: vendor it into the repository)`,
    );
    expect(server.asked).toEqual([]);
    const control = await kustomizeBuild(dir);
    expect(control.stdout).toContain(METADATA);
    expect(server.asked).toEqual(["/latest/meta-data/iam/security-credentials/node"]);
  }, engineTimeout(5));

  it("refuses a URL that a committed folder of the same name makes look local, and the server is never asked", async () => {
    const url = `http://${host}/base`;
    const decoy = `http:/${host}/base`;
    const dir = stackFolder({
      "kustomization.yaml": `resources: [${url}]\n`,
      [`${decoy}/kustomization.yaml`]: "resources: [cm.yaml]\n",
      [`${decoy}/cm.yaml`]: "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: harmless }\n",
    });
    const error = await render(dir);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as Error).message).toMatch(new RegExp(`^stack web: kustomization\\.yaml: resources\\[0\\] names '${url.replace(/[.]/g, "\\.")}', which is not a file or folder inside the repository \\(it is a URL, which kustomize would fetch`));
    expect(server.asked).toEqual([]);
    const control = await kustomizeBuild(dir);
    expect(control.stdout).toContain(METADATA);
    expect(server.asked).toEqual(["/base"]);
  }, engineTimeout(5));

  it("refuses an inline generator config naming /etc/hostname", async () => {
    const config = "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: { name: host }\nfiles: [/etc/hostname]\n";
    const dir = stackFolder({ "kustomization.yaml": `resources: [cm.yaml]\ngenerators:\n  - |\n${config.replace(/^/gm, "    ")}`, "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n" });
    const error = await render(dir);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as Error).message).toBe(
      "stack web: kustomization.yaml: generators[0] (inline config): files[0] names '/etc/hostname', which is not a file or folder inside the repository (absolute paths are refused)",
    );
    // kustomize's own load restrictor stops this one too, after it ran: the guard's refusal comes first and says where.
    expect((await kustomizeBuild(dir)).stderr).toMatch(/security; file '\/etc\/hostname' is not in or below/);
  }, engineTimeout(5));

  it("refuses a file:// remote base pointing at another repository's git mirror", async () => {
    const mirror = join(tempDir("driftwatch-mirror-"), "team-b.git");
    mkdirSync(join(mirror, "base"), { recursive: true });
    writeFileSync(join(mirror, "base", "kustomization.yaml"), "resources: [secret.yaml]\n");
    writeFileSync(join(mirror, "base", "secret.yaml"), `apiVersion: v1\nkind: Secret\nmetadata: { name: team-b }\nstringData: { password: ${SECRET} }\n`);
    git(mirror, "init", "-q", "-b", "main");
    git(mirror, "add", "-A");
    git(mirror, "-c", "user.name=Team B", "-c", "user.email=b@driftwatch.invalid", "commit", "-q", "-m", "team b");
    const base = `file://${mirror}//base`;
    // The decoy folder `file:<mirror>/base` is where the old guard resolved that string to.
    const dir = stackFolder({ "kustomization.yaml": `resources: ["${base}"]\n`, [`file:${mirror}/base/kustomization.yaml`]: "resources: []\n" });
    const error = await render(dir);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as Error).message).toBe(
      `stack web: kustomization.yaml: resources[0] names '${base}', which is not a file or folder inside the repository (it is a URL, which kustomize would fetch; nothing is fetched from the network: vendor it into the repository)`,
    );
    const control = await kustomizeBuild(dir);
    expect(control.stdout).toContain("name: team-b");
  }, engineTimeout(10));

  it("renders a kustomization whose keys kustomize matches case-insensitively when all it names is inside", async () => {
    const dir = stackFolder({
      "kustomization.yaml": "Resources: [cm.yaml]\nConfigMapGenerator:\n  - name: settings\n    Files: [app.conf]\ngenerators: [gen.yaml]\n",
      "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n",
      "app.conf": "level=debug\n",
      "gen.yaml": "apiVersion: builtin\nkind: SecretGenerator\nmetadata: { name: s }\nliterals: [k=v]\n",
    });
    const rendered = (await render(dir)) as { object: { kind: string; metadata: { name: string } } }[];
    expect(rendered.map((r) => `${r.object.kind}/${r.object.metadata.name.replace(/-[a-z0-9]{10}$/, "")}`).sort()).toEqual(["ConfigMap/a", "ConfigMap/settings", "Secret/s"]);
    expect(server.asked).toEqual([]);
  }, engineTimeout(5));
});
