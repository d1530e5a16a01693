// What the service and `doctor` say about the sandbox: which stacks' engines cannot run here (fail closed) and why,
// and which run unconfined because the operator said so.
import type { StackConfig } from "../config/types.ts";
import { errorMessage } from "../core/errors.ts";
import type { Sandboxes } from "./sandboxes.ts";
import { unmetRequirement } from "./support.ts";
import type { SandboxLevel, SandboxSupport } from "./types.ts";

/** Engines that run code or read content from the repository in a process of their own. */
export function runsRepositoryCode(stack: StackConfig): boolean {
  return stack.engine !== "cloudformation";
}

export interface SandboxReport {
  /** What the kernel offers; absent when the launcher could not be asked. */
  support?: SandboxSupport;
  /** Levels that cannot be enforced here: why, and the stacks that will not run because of it. */
  refused: { level: SandboxLevel; reason: string; stacks: string[] }[];
  /** Stacks whose repository code runs unconfined (`sandbox: off`). */
  unconfined: string[];
}

export async function sandboxReport(sandboxes: Sandboxes, stacks: readonly StackConfig[]): Promise<SandboxReport> {
  const confined = stacks.filter((stack) => runsRepositoryCode(stack) && stack.sandbox.level !== "off");
  const unconfined = stacks.filter((stack) => runsRepositoryCode(stack) && stack.sandbox.level === "off").map((stack) => stack.name);
  let support: SandboxSupport;
  try {
    support = await sandboxes.support();
  } catch (error) {
    // The launcher itself does not run: nothing can be confined.
    const reason = errorMessage(error);
    return { refused: confined.length ? [{ level: confined[0]!.sandbox.level, reason, stacks: confined.map((s) => s.name) }] : [], unconfined };
  }
  const refused: SandboxReport["refused"] = [];
  for (const level of new Set(confined.map((stack) => stack.sandbox.level))) {
    const reason = unmetRequirement(level, support);
    if (reason) refused.push({ level, reason, stacks: confined.filter((s) => s.sandbox.level === level).map((s) => s.name) });
  }
  return { support, refused, unconfined };
}

/** One line per problem, for logs and /readyz. */
export function reportProblems(report: SandboxReport): string[] {
  return report.refused.map((r) => `${r.stacks.length} stack(s) (${r.stacks.join(", ")}) will not run: ${r.reason}`);
}
