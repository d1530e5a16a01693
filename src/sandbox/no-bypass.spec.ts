// No engine call may bypass the sandbox launcher: engines get exactly one way to start a process, the run's sandbox
// (EngineContext.sandbox), and none of them may reach for another. This reads every engine module for the ways Node
// (and the Pulumi Automation API) start processes.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../toolchain/paths.ts";

const ENGINES = join(repoRoot, "src", "engines");

/** Ways to start a process other than ctx.sandbox.run. */
const FORBIDDEN: readonly [RegExp, string][] = [
  [/from\s+["']node:child_process["']|require\(["'](node:)?child_process["']\)/, "node:child_process"],
  [/from\s+["']execa["']/, "execa"],
  [/\brunTool\s*\(/, "runTool (core/process.ts) outside the sandbox"],
  [/toolchain\/exec\.ts/, "toolchain/exec.ts"],
  [/PulumiCommand\.(get|install)\s*\(/, "PulumiCommand.get/install (the Automation API would start the CLI itself)"],
  [/\bprocess\.binding\s*\(|\bprocess\.dlopen\s*\(/, "native process bindings"],
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".spec.ts") ? [path] : [];
  });
}

describe("engines start processes only through the run's sandbox", () => {
  it("finds the engine modules", () => {
    expect(sources(ENGINES).length).toBeGreaterThan(20);
  });

  it.each(sources(ENGINES).map((file) => [relative(repoRoot, file), file]))("%s starts no process itself", (_name, file) => {
    const text = readFileSync(file, "utf8");
    const found = FORBIDDEN.filter(([pattern]) => pattern.test(text)).map(([, what]) => what);
    expect(found).toEqual([]);
  });

  it("the check itself would notice a bypass", () => {
    const sample = 'import { spawn } from "node:child_process";\nawait runTool(bin, args, options);\nawait PulumiCommand.get({ root });';
    expect(FORBIDDEN.filter(([pattern]) => pattern.test(sample)).map(([, what]) => what)).toHaveLength(3);
  });
});
