// The Kubernetes engine's tools: kustomize (always; the engine renders kustomizations with it at run time), and
// etcd with kube-apiserver, the local API server the tests and `npm run cluster` start (only when asked for).
// kustomize comes from engines.kustomize.path, DRIFTWATCH_KUSTOMIZE or PATH (installed-engines.ts), else `go install`;
// etcd and kube-apiserver from DRIFTWATCH_ETCD / DRIFTWATCH_KUBE_APISERVER, else built through the wrapper
// modules in tools/ (never taken from PATH: a distribution's etcd or kube-apiserver is often years older).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { cacheKey, ensureCacheEntry, fileKeyParts } from "./cache.ts";
import { BuildError, ProvisionError } from "./errors.ts";
import { exec } from "./exec.ts";
import { type EngineLookup, findInstalledEngine } from "./installed-engines.ts";
import { goBuild, goInstall } from "./go.ts";
import type { KubernetesTools, Tool } from "./manifest.ts";
import { repoRoot } from "./paths.ts";
import type { ToolSearch } from "./pulumi.ts";
import { atLeast, versionString } from "./semver.ts";
import type { GoBuiltTool, PinnedVersions } from "./versions.ts";

/** The version a tool prints (`kustomize version`, `etcd --version`, `kube-apiserver --version`), if it runs. */
async function reportedVersion(bin: string, args: readonly string[]): Promise<string | undefined> {
  const result = await exec(bin, args);
  return result.code === 0 ? versionString(result.stdout) : undefined;
}

function platformKey(): string {
  return `${process.platform}-${process.arch}`;
}

export const kustomizeLookup = (versions: PinnedVersions): EngineLookup => ({
  name: "kustomize",
  minimum: versions.kustomize.minimum,
  report: async (bin) => {
    const version = await reportedVersion(bin, ["version"]);
    return version ? { version } : { problem: "does not run 'kustomize version'" };
  },
});

/** kustomize: installed (installed-engines.ts), else built from the Go module proxy. */
export async function provisionKustomize(search: ToolSearch): Promise<Tool> {
  const pin = search.versions.kustomize;
  const installed = await findInstalledEngine(search, kustomizeLookup(search.versions));
  if (installed) {
    search.progress.info(`kustomize ${installed.version}: using ${installed.bin} (${installed.origin})`);
    return installed;
  }
  const root = join(search.tools, `kustomize-${pin.version}-${cacheKey([pin.version, pin.module, platformKey()])}`);
  const bin = join(root, "bin", "kustomize");
  const cached = await ensureCacheEntry(root, async (staging) => {
    const out = join(staging, "bin");
    await search.progress.timed(`building kustomize ${pin.version} from the Go module proxy`, () => goInstall("kustomize", `${pin.module}@v${pin.version}`, out));
    await checkVersion("kustomize", join(out, "kustomize"), ["version"], pin.version);
  });
  if (cached) search.progress.info(`kustomize ${pin.version}: cached in ${root}`);
  return { bin, version: pin.version, origin: "built" };
}

async function checkVersion(tool: string, bin: string, args: readonly string[], wanted: string): Promise<void> {
  const built = await reportedVersion(bin, args);
  if (built !== wanted) throw new BuildError(tool, "version check", `built binary reports '${built ?? ""}', expected ${wanted}`);
}

interface ServerBuild {
  tool: "etcd" | "kube-apiserver";
  pin: GoBuiltTool;
  /** The variable that names an installed binary instead. */
  variable: string;
  /** Wrapper module files besides go.mod and go.sum that change what is built. */
  sources: readonly string[];
  ldflags?: string;
}

/** A server binary named by its variable, else built once through its wrapper module into the cache. */
async function provisionServer(search: ToolSearch, build: ServerBuild): Promise<Tool> {
  const { tool, pin } = build;
  const named = search.env[build.variable];
  if (named) {
    const version = await reportedVersion(named, ["--version"]);
    if (!version) throw new ProvisionError(tool, `${build.variable}=${named} does not run '${named} --version'`);
    search.progress.info(`${tool} ${version}: using ${named} (env)`);
    return { bin: named, version, origin: "env" };
  }
  const moduleDir = join(repoRoot, pin.goModule);
  const files = ["go.mod", "go.sum", ...build.sources].map((file) => join(moduleDir, file));
  const key = cacheKey([pin.version, platformKey(), build.ldflags ?? "", ...fileKeyParts(files)]);
  const root = join(search.tools, `${tool}-${pin.version}-${key}`);
  const bin = join(root, "bin", tool);
  const cached = await ensureCacheEntry(root, async (staging) => {
    const out = join(staging, "bin", tool);
    await search.progress.timed(`building ${tool} ${pin.version} from the Go module proxy (minutes)`, () =>
      goBuild({ tool, moduleDir, pkg: pin.package, out, ldflags: build.ldflags }),
    );
    await checkVersion(tool, out, ["--version"], pin.version);
  });
  if (cached) search.progress.info(`${tool} ${pin.version}: cached in ${root}`);
  return { bin, version: pin.version, origin: "built" };
}

/** What `kube-apiserver --version` and the API's /version report is set at link time, as Kubernetes' own build does. */
export function kubeApiserverLdflags(version: string): string {
  const [major, minor] = version.split(".");
  const pkg = "k8s.io/component-base/version";
  return `-X ${pkg}.gitVersion=v${version} -X ${pkg}.gitMajor=${major ?? ""} -X ${pkg}.gitMinor=${minor ?? ""}`;
}

export type KubernetesServers = Pick<KubernetesTools, "etcd" | "kubeApiserver">;

export interface KubernetesProvisionOptions {
  /** Also etcd and kube-apiserver (the tests, `npm run cluster`); otherwise `kept` is passed on as it is. */
  servers: boolean;
  kept?: KubernetesServers;
}

/** kustomize, then (when asked for) etcd and kube-apiserver: one after another, as the Go builds compete for the CPU. */
export async function provisionKubernetes(search: ToolSearch, options: KubernetesProvisionOptions): Promise<KubernetesTools> {
  const kustomize = await provisionKustomize(search);
  if (!options.servers) return { kustomize, ...options.kept };
  const etcd = await provisionServer(search, { tool: "etcd", pin: search.versions.etcd, variable: "DRIFTWATCH_ETCD", sources: ["main.go"] });
  const pin = search.versions.kubeApiserver;
  const kubeApiserver = await provisionServer(search, {
    tool: "kube-apiserver",
    pin,
    variable: "DRIFTWATCH_KUBE_APISERVER",
    sources: [],
    ldflags: kubeApiserverLdflags(pin.version),
  });
  return { kustomize, etcd, kubeApiserver };
}

/**
 * etcd and kube-apiserver from an earlier manifest, so `npm start` keeps what `npm test` provisioned: those still
 * there, and when built by Driftwatch, still of the pinned version.
 */
export function keptKubernetesServers(previous: KubernetesTools | undefined, versions: PinnedVersions): KubernetesServers {
  const keep = (tool: Tool | undefined, pinned: string) =>
    tool && existsSync(tool.bin) && (tool.origin !== "built" || tool.version === pinned) ? tool : undefined;
  const etcd = keep(previous?.etcd, versions.etcd.version);
  const kubeApiserver = keep(previous?.kubeApiserver, versions.kubeApiserver.version);
  return { ...(etcd ? { etcd } : {}), ...(kubeApiserver ? { kubeApiserver } : {}) };
}
