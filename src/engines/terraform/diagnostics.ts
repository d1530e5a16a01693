// Readable errors from Terraform/OpenTofu: file and line from `validate -json`, lock conflicts, init output.
import { posix } from "node:path";

interface Diagnostic {
  severity?: string;
  summary?: string;
  detail?: string;
  range?: { filename?: string; start?: { line?: number; column?: number } };
}

/**
 * `file:line:column: summary: detail` for each error in `validate -json` output (with `locatedOnly`, only those
 * that name a file; file names relative to the repository when `moduleDir` says where the module is); undefined
 * when there is none.
 */
export function formatValidateJson(stdout: string, options: { locatedOnly?: boolean; moduleDir?: string } = {}): string | undefined {
  let parsed: { diagnostics?: Diagnostic[] };
  try {
    parsed = JSON.parse(stdout) as { diagnostics?: Diagnostic[] };
  } catch {
    return undefined;
  }
  const errors = (parsed.diagnostics ?? []).filter((d) => d.severity === "error" && (!options.locatedOnly || d.range?.filename));
  if (errors.length === 0) return undefined;
  return errors
    .map((d) => {
      const name = d.range?.filename;
      const file = name && options.moduleDir && options.moduleDir !== "." ? posix.join(options.moduleDir, name) : name;
      const where = file ? `${file}:${d.range?.start?.line ?? "?"}:${d.range?.start?.column ?? "?"}: ` : "";
      return `${where}${d.summary ?? "error"}${d.detail ? `: ${d.detail}` : ""}`;
    })
    .join("\n");
}

export function isLockConflict(output: string): boolean {
  return /Error acquiring the state lock|state lock|ConditionalCheckFailed|resource temporarily unavailable/i.test(output) && /lock/i.test(output);
}

/** The tool's own error text without colour codes and blank padding. */
export function cleanOutput(output: string): string {
  // eslint-disable-next-line no-control-regex
  return output.replace(/\u001b\[[0-9;]*m/g, "").replace(/\n{3,}/g, "\n\n").trim();
}
