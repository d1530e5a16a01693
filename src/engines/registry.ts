// The engine plug-in registry: a plain map from `engine:` in the config to its module (their interface is api.ts).
// No import-time work.
import type { StackConfig } from "../config/types.ts";
import type { Engine, EngineDependencies } from "./api.ts";

/** What an engine module exports: its engine, made from the run's dependencies. */
export type EngineFactory = (deps: EngineDependencies) => Engine;

/**
 * The engine plug-ins, loaded on first use: an engine's SDK can be large (the Pulumi Automation API alone is
 * ~90 MB resident), and a service watching only Terraform stacks should not carry it.
 */
export const engineModules = {
  pulumi: async (): Promise<EngineFactory> => (await import("./pulumi/index.ts")).createPulumiEngine,
  terraform: async (): Promise<EngineFactory> => (await import("./terraform/index.ts")).createTerraformEngine,
  cloudformation: async (): Promise<EngineFactory> => (await import("./cloudformation/index.ts")).createCloudFormationEngine,
  kubernetes: async (): Promise<EngineFactory> => (await import("./kubernetes/index.ts")).createKubernetesEngine,
} satisfies Record<StackConfig["engine"], () => Promise<EngineFactory>>;

export function createEngine(id: StackConfig["engine"], deps: EngineDependencies): Engine {
  let engine: Promise<Engine> | undefined;
  const load = () => (engine ??= engineModules[id]().then((factory) => factory(deps)));
  return {
    id,
    detect: async (ctx) => (await load()).detect(ctx),
    converge: async (ctx) => (await load()).converge(ctx),
    remediate: async (ctx, decide) => (await load()).remediate(ctx, decide),
  };
}
