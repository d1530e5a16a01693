// A stack's normalized configuration for specs and tests that hand one to the pipeline or an engine directly: what
// config/load.ts makes of a stack that says nothing beyond its name, source and engine settings.
import { DEFAULT_REMEDIATION } from "../../src/config/remediation.ts";
import type { PulumiStackConfig, StackConfig, TerraformStackConfig } from "../../src/config/types.ts";
import { defaultSandbox } from "./sandbox.ts";

type Common = Omit<StackConfig, "engine" | "terraform" | "pulumi" | "cloudformation" | "kubernetes">;

function common(name: string, source: StackConfig["source"]): Common {
  return {
    name,
    source,
    env: {},
    timeoutSeconds: 600,
    alerts: { pending: false, mute: false },
    schedule: { expression: "*/15 * * * *", timezone: "UTC" },
    remediation: DEFAULT_REMEDIATION,
    approvers: [],
    actions: { restrict: false },
    ignore: [],
    flapping: { threshold: 3, windowMs: 86_400_000 },
    sandbox: defaultSandbox(),
  };
}

export function terraformStackConfig(name: string, source: StackConfig["source"], overrides: Partial<TerraformStackConfig> = {}): TerraformStackConfig {
  return { ...common(name, source), engine: "terraform", terraform: { varFiles: [], vars: {}, backendConfig: {} }, ...overrides };
}

export function pulumiStackConfig(name: string, source: StackConfig["source"], pulumi: PulumiStackConfig["pulumi"], overrides: Partial<PulumiStackConfig> = {}): PulumiStackConfig {
  return { ...common(name, source), engine: "pulumi", pulumi, ...overrides };
}
