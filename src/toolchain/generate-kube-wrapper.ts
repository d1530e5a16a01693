#!/usr/bin/env node
// Regenerates the kube-apiserver wrapper module from the Kubernetes release pinned in toolchain/versions.json:
//
//   node src/toolchain/generate-kube-wrapper.ts [dir]     (Node >= 22; dir defaults to tools/kube-apiserver)
//
// Downloads k8s.io/kubernetes at that version from the Go module proxy, derives go.mod's replaces from its
// go.mod (see kube-wrapper.ts), writes go.mod and tools.go into dir and runs `go mod tidy` there (go.sum).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";
import { ProvisionError } from "./errors.ts";
import { goCommand } from "./go.ts";
import { goModJsonSchema, KUBERNETES_MODULE, WrapperModuleError, wrapperGoMod, wrapperToolsGo } from "./kube-wrapper.ts";
import { repoRoot } from "./paths.ts";
import { streamProgress } from "./progress.ts";
import { loadPinnedVersions } from "./versions.ts";

const TOOL = "kube-apiserver";
const downloadSchema = z.object({ GoMod: z.string().min(1) });

function parseJson<T>(schema: z.ZodType<T>, text: string, what: string): T {
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new WrapperModuleError(`unexpected ${what}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

async function generate(argv: readonly string[]): Promise<void> {
  const progress = streamProgress();
  const pin = loadPinnedVersions().kubeApiserver;
  const dir = resolve(argv[0] ?? join(repoRoot, pin.goModule));
  const version = `v${pin.version}`;
  const download = await progress.timed(`downloading ${KUBERNETES_MODULE}@${version} from the Go module proxy`, () =>
    // Outside any module, so nothing but the proxy decides what is fetched.
    goCommand(TOOL, ["mod", "download", "-json", `${KUBERNETES_MODULE}@${version}`], { cwd: tmpdir() }),
  );
  const { GoMod } = parseJson(downloadSchema, download, "output of go mod download -json");
  const kubernetes = parseJson(goModJsonSchema, await goCommand(TOOL, ["mod", "edit", "-json", GoMod], { cwd: tmpdir() }), `go mod edit -json ${GoMod}`);

  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "go.mod"), wrapperGoMod({ module: `driftwatch.local/${pin.goModule}`, kubernetesVersion: version, kubernetes }));
  writeFileSync(join(dir, "tools.go"), wrapperToolsGo(pin.package));
  // go.sum is rebuilt from nothing, so it holds exactly what this go.mod needs.
  rmSync(join(dir, "go.sum"), { force: true });
  await progress.timed(`go mod tidy in ${dir}`, () => goCommand(TOOL, ["mod", "tidy"], { cwd: dir }));
  progress.info(`wrote ${join(dir, "go.mod")}, go.sum and tools.go for kube-apiserver ${version}`);
}

generate(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    const message = error instanceof ProvisionError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`[provision] error: ${message}\n`);
    process.exit(1);
  },
);
