// What this machine's kernel lets the sandbox enforce, asked of the launcher once per process, and what that means
// for a sandbox level: the one place `check`, `serve` (/readyz, the dashboard) and `doctor` read it from.
import { z } from "zod";
import { runTool } from "../core/process.ts";
import { SandboxError } from "./errors.ts";
import type { SandboxLevel, SandboxSupport } from "./types.ts";

const supportSchema = z.object({
  landlockAbi: z.number().int(),
  kernelLandlockAbi: z.number().int(),
  landlockError: z.string().optional(),
  namespaces: z.boolean(),
  namespacesError: z.string().optional(),
  uid: z.number().int(),
});

/** The launcher's own settings in `env` (DRIFTWATCH_SANDBOX_*): the operator's, passed to every launch and probe. */
export function launcherSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[0].startsWith("DRIFTWATCH_SANDBOX_") && entry[1] !== undefined));
}

/** Runs `<launcher> probe`, with the launcher's own settings from `env`. */
export async function probeSandbox(launcher: string, env: NodeJS.ProcessEnv, signal: AbortSignal = AbortSignal.timeout(30_000)): Promise<SandboxSupport> {
  const result = await runTool(launcher, ["probe"], { cwd: "/", env: { PATH: env.PATH ?? "/usr/bin:/bin", ...launcherSettings(env) }, signal });
  if (result.code !== 0) throw new SandboxError(`the sandbox launcher ${launcher} does not run: ${(result.stderr || result.stdout).trim() || `exit code ${result.code}`}`);
  const parsed = supportSchema.safeParse(JSON.parse(result.stdout));
  if (!parsed.success) throw new SandboxError(`the sandbox launcher ${launcher} answered its probe with something unexpected: ${result.stdout.trim().slice(0, 200)}`);
  const { landlockError, namespacesError, ...rest } = parsed.data;
  return { ...rest, ...(landlockError ? { landlockError } : {}), ...(namespacesError ? { namespacesError } : {}) };
}

/** The lowest Landlock ABI a level needs (0: none). */
export function requiredAbi(level: SandboxLevel): number {
  return level === "strict" ? 4 : level === "files" ? 1 : 0;
}

const KERNEL_FOR_ABI: Record<number, string> = { 1: "5.13", 2: "5.19", 3: "6.2", 4: "6.7", 5: "6.10", 6: "6.12", 7: "6.15" };

/**
 * Why `level` cannot be enforced here, with what to do; undefined when it can. Fail closed: where this says
 * something, no engine runs for a stack at that level.
 */
export function unmetRequirement(level: SandboxLevel, support: SandboxSupport): string | undefined {
  const needed = requiredAbi(level);
  if (support.landlockAbi >= needed) return undefined;
  const offered =
    support.landlockAbi === 0
      ? `this kernel has no Landlock${support.landlockError ? ` (${support.landlockError})` : ""}; it must be built with CONFIG_SECURITY_LANDLOCK and have "landlock" in the lsm= boot parameter (see /sys/kernel/security/lsm)`
      : `this kernel offers Landlock ABI ${support.landlockAbi}${support.kernelLandlockAbi > support.landlockAbi ? ` (capped by DRIFTWATCH_SANDBOX_MAX_ABI; the kernel has ${support.kernelLandlockAbi})` : ""}`;
  const weaker =
    level === "strict" && support.landlockAbi >= 1
      ? "or set `sandbox: files` in driftwatch.yaml (files and processes confined, TCP not restricted)"
      : "or set `sandbox: off` in driftwatch.yaml (unconfined: a committer's code can read what the service can; every run says so)";
  return `sandbox level ${level} needs Landlock ABI ${needed} or later (Linux ${KERNEL_FOR_ABI[needed] ?? "newer"}); ${offered}. Run Driftwatch on a newer kernel, ${weaker}`;
}

/** What holds for a run at `level` on this machine, one line each (for `doctor` and the dashboard). */
export function protections(level: SandboxLevel, support: SandboxSupport): string[] {
  if (level === "off") return ["none: engines run unconfined, as the service's user (sandbox: off)"];
  if (unmetRequirement(level, support)) return [];
  const abi = support.landlockAbi;
  return [
    "files: only the stack's worktree, its private home, temp folder and state, the toolchain, the system paths engines need and what its `sandbox` settings grant (Landlock)",
    abi >= 4 ? "network: Terraform/OpenTofu, npm and kustomize connect over TCP only to allowed ports (Pulumi's plugins talk over loopback TCP, so Pulumi stacks are not limited)" : "network: not restricted (Landlock ABI 4 needed)",
    abi >= 6 ? "signals and abstract Unix sockets: scoped to the run's own processes (Landlock ABI 6)" : "signals: other processes of the service's user can be signalled (Landlock ABI 6 needed to scope them)",
    "processes: no ptrace, no reading another process's environ, memory or file descriptors outside the run (Landlock); no capability in any set; no_new_privs",
    support.namespaces ? "lifetime: a PID namespace per run; nothing outlives it (a network namespace for rendering)" : `lifetime: a child subreaper kills what is left when the program ends (no user namespaces here: ${support.namespacesError ?? "refused"})`,
    "limits: memory (RLIMIT_DATA) and CPU time (RLIMIT_CPU) per process",
  ];
}
