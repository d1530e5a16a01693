// The environment an engine process gets. Engines run code from the watched repository (a Pulumi program, a
// Terraform expression reading files or the environment), so they get an allow-list, never the service's whole
// environment: the toolchain's PATH and settings, locale, proxies and CA bundles, a private HOME and TMPDIR per
// stack, and then the stack's own `env`. The service's tokens and other stacks' credentials are not in it.
import { join } from "node:path";
import type { StackConfig } from "../config/types.ts";
import { allows, LOCALE, pickEnv, PROXIES, type EnvAllowList } from "../core/env-allow-list.ts";
import { preparePrivateDir } from "../core/private-dir.ts";
import { toolchainPathEnv, type EngineToolchain } from "../toolchain/manifest.ts";

/**
 * The operator's OpenTofu/Terraform settings, for Terraform stacks only: the CLI configuration file they name
 * (provider installation, registry credentials) and the registries' tokens (`TF_TOKEN_<host>`).
 */
const TERRAFORM_ONLY: EnvAllowList = { names: ["TF_CLI_CONFIG_FILE"], prefixes: ["TF_TOKEN_"] };

/** What an engine gets of the service's environment (PATH as the toolchain extends it, the rest as they are). */
const PASSED: readonly EnvAllowList[] = [
  LOCALE,
  PROXIES,
  // the CA bundles that go with the proxies
  { names: ["SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS"] },
  // Driftwatch's own toolchain settings for program dependencies
  { names: ["DRIFTWATCH_NPM", "DRIFTWATCH_NODE_VERSION"] },
  // the toolchain's own settings: what toolchainPathEnv adds on top of the service's environment
  { names: ["PATH", "CHECKPOINT_DISABLE", "PULUMI_SKIP_UPDATE_CHECK"] },
  TERRAFORM_ONLY,
];

/** The allow-listed environment every engine process starts from; HOME, TMPDIR and the stack's env come on top. */
export function baseEngineEnv(toolchain: EngineToolchain, serviceEnv: NodeJS.ProcessEnv): Record<string, string> {
  return pickEnv(toolchainPathEnv(toolchain, serviceEnv), ...PASSED);
}

export interface PrivateDirs {
  home: string;
  tmp: string;
}

/** `<dataDir>/stacks/<stack>/{home,tmp}`, private (0700). */
export function privateDirs(dataDir: string, stack: string): PrivateDirs {
  const root = join(dataDir, "stacks", stack);
  const dirs = { home: join(root, "home"), tmp: join(root, "tmp") };
  for (const dir of [root, dirs.home, dirs.tmp]) preparePrivateDir(dir);
  return dirs;
}

/**
 * One stack's engine environment: the base (without the operator's Terraform settings unless it is a Terraform
 * stack), its private HOME and TMPDIR, Node's compile cache in that home, then its own `env` (which may override
 * them).
 *
 * The compile cache (Node >= 22.1; older ones ignore it) keeps V8's compiled code of the modules a Node process loads:
 * a Pulumi program, its dynamic providers and npm load the same large modules (@pulumi/pulumi, TypeScript) on every
 * run, and compiling them is much of their start. It is the stack's own: a cache entry is code that runs, so a
 * program that could write another stack's cache could run code in that stack's next run.
 */
export function stackEngineEnv(base: Record<string, string>, dirs: PrivateDirs, stack: StackConfig): Record<string, string> {
  const tmp = { TMPDIR: dirs.tmp, TMP: dirs.tmp, TEMP: dirs.tmp };
  const own = stack.engine === "terraform" ? base : Object.fromEntries(Object.entries(base).filter(([name]) => !allows(TERRAFORM_ONLY, name)));
  return { ...own, HOME: dirs.home, ...tmp, NODE_COMPILE_CACHE: join(dirs.home, ".cache", "node-compile-cache"), ...stack.env };
}
