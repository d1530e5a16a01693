// `driftwatch doctor`: what this machine lets Driftwatch enforce, and what that means for each configured stack.
import type { DriftwatchConfig } from "../config/types.ts";
import { runsRepositoryCode, type SandboxReport } from "../sandbox/report.ts";
import { protections } from "../sandbox/support.ts";
import type { SandboxLevel } from "../sandbox/types.ts";
import { engineVariable, type InstalledEngineName } from "../toolchain/installed-engines.ts";
import type { EngineToolchain, ToolOrigin } from "../toolchain/manifest.ts";
import { table } from "./render.ts";

export interface DoctorEngine {
  name: string;
  bin: string;
  version: string;
  /** How Driftwatch got it: config (engines.<name>.path), env (DRIFTWATCH_<NAME>), path, built (here, from source), installed. */
  origin: ToolOrigin;
}

export interface DoctorDocument {
  launcher: { bin: string; version: string };
  /** Node, the sandbox launcher and each engine the configuration's stacks use. */
  engines: DoctorEngine[];
  support: SandboxReport["support"] | null;
  level: SandboxLevel;
  stacks: { name: string; engine: string; sandbox: SandboxLevel | "n/a"; runs: boolean; reason?: string }[];
  /** What holds at each level in use, on this machine. */
  protections: Partial<Record<SandboxLevel, string[]>>;
}

/** What the toolchain holds, engine by engine. */
export function doctorEngines(toolchain: EngineToolchain): DoctorEngine[] {
  const entry = (name: string, tool: { bin: string; version: string; origin: ToolOrigin }) => ({ name, bin: tool.bin, version: tool.version, origin: tool.origin });
  return [
    entry("node", toolchain.node),
    entry("driftwatch-sandbox", toolchain.sandbox),
    ...(toolchain.pulumi ? [entry("pulumi", toolchain.pulumi)] : []),
    ...toolchain.terraform.clis.map((cli) => entry(cli.flavor, cli)),
    ...(toolchain.kubernetes ? [entry("kustomize", toolchain.kubernetes.kustomize)] : []),
  ];
}

const ORIGINS: Record<ToolOrigin, (name: string) => string> = {
  config: (name) => `engines.${name}.path`,
  // The launcher's variable is DRIFTWATCH_SANDBOX (toolchain/sandbox.ts); the engines' are installed-engines.ts's.
  env: (name) => (name === "driftwatch-sandbox" ? "DRIFTWATCH_SANDBOX" : engineVariable(name as InstalledEngineName)),
  path: () => "PATH",
  built: () => "built here from source",
  installed: () => "installed by Driftwatch",
};

export function doctorDocument(config: DriftwatchConfig, toolchain: EngineToolchain, report: SandboxReport): DoctorDocument {
  const launcher = { bin: toolchain.sandbox.bin, version: toolchain.sandbox.version };
  const levels = new Set<SandboxLevel>([config.sandbox.level]);
  const stacks = config.stacks.map((stack) => {
    if (!runsRepositoryCode(stack)) return { name: stack.name, engine: stack.engine, sandbox: "n/a" as const, runs: true };
    levels.add(stack.sandbox.level);
    const reason = report.refused.find((r) => r.stacks.includes(stack.name))?.reason;
    return { name: stack.name, engine: stack.engine, sandbox: stack.sandbox.level, runs: !reason, ...(reason ? { reason } : {}) };
  });
  const support = report.support;
  return {
    launcher,
    engines: doctorEngines(toolchain),
    support: support ?? null,
    level: config.sandbox.level,
    stacks,
    protections: support ? Object.fromEntries([...levels].map((level) => [level, protections(level, support)])) : {},
  };
}

export function renderDoctor(doc: DoctorDocument, refusedReasons: readonly string[]): string {
  const lines = [
    "engines:",
    table([["NAME", "VERSION", "FROM", "BINARY"], ...doc.engines.map((e) => [e.name, e.version, ORIGINS[e.origin](e.name), e.bin])]),
    "",
    `sandbox launcher: ${doc.launcher.bin} (${doc.launcher.version})`,
  ];
  const s = doc.support;
  if (!s) lines.push("kernel: unknown (the launcher did not answer)");
  else {
    lines.push(
      `kernel: Landlock ABI ${s.landlockAbi}${s.kernelLandlockAbi !== s.landlockAbi ? ` (capped from ${s.kernelLandlockAbi} by DRIFTWATCH_SANDBOX_MAX_ABI)` : ""}${s.landlockError ? ` (${s.landlockError})` : ""}`,
      `namespaces: ${s.namespaces ? "user, PID and network namespaces work" : `not available (${s.namespacesError ?? "refused"}): a child subreaper ends what a run leaves`}`,
      `running as uid ${s.uid}${s.uid === 0 ? " (root: every sandbox drops all capabilities and locks securebits)" : ""}`,
    );
  }
  lines.push(`sandbox level (default): ${doc.level}`, "", table([["STACK", "ENGINE", "SANDBOX", "RUNS HERE"], ...doc.stacks.map((st) => [st.name, st.engine, st.sandbox, st.runs ? "yes" : "NO"])]));
  for (const reason of refusedReasons) lines.push("", reason);
  for (const [level, held] of Object.entries(doc.protections)) {
    if (held.length === 0) continue;
    lines.push("", `at level ${level} on this machine:`, ...held.map((line) => `  - ${line}`));
  }
  return `${lines.join("\n")}\n`;
}
