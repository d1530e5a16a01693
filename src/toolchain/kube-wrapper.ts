// The wrapper module kube-apiserver is built through (tools/kube-apiserver). k8s.io/kubernetes resolves its
// k8s.io/* staging modules with local `replace` directives (./staging/src/k8s.io/...), which only hold inside
// its own repository: a module that requires k8s.io/kubernetes must replace each of them itself, by the
// published staging release (v0.X.Y for Kubernetes v1.X.Y). This derives that go.mod from Kubernetes' own,
// so nobody types the list; src/toolchain/generate-kube-wrapper.ts is the command that applies it.
import { z } from "zod";
import { ProvisionError } from "./errors.ts";

/** What went wrong deriving the wrapper: Kubernetes' go.mod is not what this generator understands. */
export class WrapperModuleError extends ProvisionError {
  override name = "WrapperModuleError";
  constructor(message: string) {
    super("kube-apiserver", message);
  }
}

const moduleVersion = z.object({ Path: z.string().min(1), Version: z.string().optional() });

/** The part of `go mod edit -json` (Go's modfile JSON) the generator reads; other fields are ignored. */
export const goModJsonSchema = z.object({
  Module: z.object({ Path: z.string() }),
  Go: z.string().optional(),
  Replace: z.array(z.object({ Old: moduleVersion, New: moduleVersion })).nullish(),
});
export type GoModJson = z.infer<typeof goModJsonSchema>;

/** One replace directive: `old [oldVersion] => new newVersion`. */
export interface ModuleReplacement {
  old: string;
  oldVersion?: string;
  new: string;
  newVersion: string;
}

export const KUBERNETES_MODULE = "k8s.io/kubernetes";
const STAGING_PREFIX = "./staging/src/";

/** The release of the staging modules (k8s.io/api, ...) that ships with Kubernetes `version`: v1.36.3 → v0.36.3. */
export function stagingVersion(kubernetesVersion: string): string {
  const match = /^v1\.(\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/.exec(kubernetesVersion);
  if (!match) throw new WrapperModuleError(`'${kubernetesVersion}' is not a Kubernetes v1.x.y module version`);
  return `v0.${match[1]!}`;
}

/**
 * The replace directives the wrapper needs, in Kubernetes' order: each local staging replace becomes the
 * published staging release, and a replace by another module version is kept as it is (replaces in a dependency's
 * go.mod are ignored, so the wrapper has to repeat it). Any other local replace cannot be published: an error.
 */
export function wrapperReplacements(kubernetes: GoModJson, kubernetesVersion: string): ModuleReplacement[] {
  if (kubernetes.Module.Path !== KUBERNETES_MODULE) {
    throw new WrapperModuleError(`expected the go.mod of ${KUBERNETES_MODULE}, got the one of ${kubernetes.Module.Path}`);
  }
  const staging = stagingVersion(kubernetesVersion);
  return (kubernetes.Replace ?? []).map(({ Old, New }) => {
    const old = { old: Old.Path, ...(Old.Version ? { oldVersion: Old.Version } : {}) };
    if (New.Version) return { ...old, new: New.Path, newVersion: New.Version };
    if (New.Path === `${STAGING_PREFIX}${Old.Path}`) return { ...old, new: Old.Path, newVersion: staging };
    throw new WrapperModuleError(`${Old.Path} is replaced by the local directory ${New.Path}, which is not a published staging module`);
  });
}

function replaceLine(r: ModuleReplacement): string {
  return `${r.old}${r.oldVersion ? ` ${r.oldVersion}` : ""} => ${r.new} ${r.newVersion}`;
}

export interface WrapperGoModOptions {
  /** The wrapper's own module path (driftwatch.local/tools/kube-apiserver). */
  module: string;
  /** The Kubernetes release, as a module version (v1.36.3). */
  kubernetesVersion: string;
  /** `go mod edit -json` of that release's go.mod. */
  kubernetes: GoModJson;
}

/**
 * The wrapper's go.mod before `go mod tidy` (which adds the indirect requirements and go.sum): Kubernetes' Go
 * version, the one direct requirement, and the replaces. Its `godebug default=` line is left out: a main module's
 * go line already sets the same default.
 */
export function wrapperGoMod(options: WrapperGoModOptions): string {
  const replacements = wrapperReplacements(options.kubernetes, options.kubernetesVersion);
  const lines = [`module ${options.module}`, ""];
  if (options.kubernetes.Go) lines.push(`go ${options.kubernetes.Go}`, "");
  lines.push(`require ${KUBERNETES_MODULE} ${options.kubernetesVersion}`, "");
  if (replacements.length > 0) lines.push("replace (", ...replacements.map((r) => `\t${replaceLine(r)}`), ")", "");
  return lines.join("\n");
}

/** The wrapper's tools.go: imports the command's package so `go mod tidy` keeps what it needs. */
export function wrapperToolsGo(pkg: string): string {
  return `//go:build tools

// Package tools pins kube-apiserver so \`go build\` can produce it from the Go module proxy. go.mod's replace
// block is generated from Kubernetes' own go.mod, not typed: after changing kubeApiserver in
// toolchain/versions.json, run \`node src/toolchain/generate-kube-wrapper.ts\` (Node >= 22), which rewrites
// go.mod and this file and runs \`go mod tidy\`.
package tools

import (
	_ "${pkg}"
)
`;
}
