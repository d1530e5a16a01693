// The engines an installed Driftwatch runs (`driftwatch check`, `serve`, `doctor` outside `npm start`): only those
// its configuration's stacks use, each taken from engines.<name>.path, its DRIFTWATCH_<NAME> variable or PATH, and
// built from source (which needs Go) only when none of those has it. Nothing here is written to toolchain.json,
// and no provider mirror is built: a user's stacks install their providers as their own CLI configuration says.
// `npm start` and the tests provision every engine instead (provision.ts).
import type { EnginePaths, StackConfig } from "../config/types.ts";
import type { EngineToolchain } from "./manifest.ts";
import { provisionKustomize } from "./kubernetes.ts";
import type { Progress } from "./progress.ts";
import { provisionPulumi } from "./pulumi.ts";
import { provisionSandbox } from "./sandbox.ts";
import { versionString } from "./semver.ts";
import { findInstalledCli, provisionTerraformClis, type TerraformNeeds } from "./terraform.ts";
import type { PinnedVersions } from "./versions.ts";

/** Which engines the stacks use. Every toolchain has the sandbox launcher: the stacks' code runs through it. */
export interface EngineNeeds {
  pulumi: boolean;
  terraform: TerraformNeeds;
  kustomize: boolean;
}

export function engineNeeds(stacks: readonly StackConfig[]): EngineNeeds {
  const needs: EngineNeeds = { pulumi: false, terraform: { tofu: false, terraform: false, either: false }, kustomize: false };
  for (const stack of stacks) {
    if (stack.engine === "pulumi") needs.pulumi = true;
    else if (stack.engine === "kubernetes") needs.kustomize ||= stack.kubernetes.render !== "plain";
    else if (stack.engine === "terraform") {
      const binary = stack.terraform.binary;
      if (binary === undefined) needs.terraform.either = true;
      else if (binary === "tofu" || binary === "terraform") needs.terraform[binary] = true;
      // a path: the stack runs that binary, nothing to find
    }
  }
  return needs;
}

export interface EngineToolchainOptions {
  stacks: readonly StackConfig[];
  paths: EnginePaths;
  versions: PinnedVersions;
  progress: Progress;
  tools: string;
  env: NodeJS.ProcessEnv;
}

export async function engineToolchain(options: EngineToolchainOptions): Promise<EngineToolchain> {
  const needs = engineNeeds(options.stacks);
  const sandbox = await provisionSandbox(options);
  const pulumi = needs.pulumi ? await provisionPulumi(options) : undefined;
  const wantsTerraform = needs.terraform.tofu || needs.terraform.terraform || needs.terraform.either;
  const clis = wantsTerraform ? await provisionTerraformClis(options, needs.terraform) : [];
  const kustomize = needs.kustomize ? await provisionKustomize(options) : undefined;
  return {
    node: { bin: process.execPath, version: versionString(process.version) ?? process.version, origin: "path" },
    sandbox,
    ...(pulumi ? { pulumi } : {}),
    terraform: { clis },
    ...(kustomize ? { kubernetes: { kustomize } } : {}),
  };
}

/**
 * A provisioned toolchain (`npm start`) with the engines the configuration names by engines.<name>.path in place of
 * the provisioned ones: the setting means the same whichever way Driftwatch was started.
 */
export async function withConfiguredEngines(toolchain: EngineToolchain, options: Omit<EngineToolchainOptions, "stacks">): Promise<EngineToolchain> {
  const { paths } = options;
  if (Object.keys(paths).length === 0) return toolchain;
  const pulumi = paths.pulumi ? await provisionPulumi(options) : toolchain.pulumi;
  let clis = toolchain.terraform.clis;
  for (const flavor of ["tofu", "terraform"] as const) {
    if (!paths[flavor]) continue;
    const cli = (await findInstalledCli(options, flavor))!;
    clis = [...clis.filter((c) => c.flavor !== flavor), cli].sort((a, b) => (a.flavor === "tofu" ? 0 : 1) - (b.flavor === "tofu" ? 0 : 1));
  }
  const kubernetes = paths.kustomize ? { kustomize: await provisionKustomize(options) } : toolchain.kubernetes;
  return { ...toolchain, ...(pulumi ? { pulumi } : {}), terraform: { ...toolchain.terraform, clis }, ...(kubernetes ? { kubernetes } : {}) };
}
